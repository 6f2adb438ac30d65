"""What the application is told about a report or an MO: one builder for pull and push.

The store writes an inbound item (``GET /v1/inbound``) and, when a callback
URL is configured, a callback row whose body is the same JSON, in the same
transaction, from the dictionaries built here.  Every store calls these
functions, so the item and the push never differ, and a report says both
its segment's state (``segment_status``) and its message's
(``message_status``): a ``DELIVRD`` report for one segment of a long
message may leave the message ``submitting``.

Pure functions of plain values; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["mo_payload", "report_payload"]


def report_payload(
    *,
    channel: str,
    message_id: str,
    external_id: str | None,
    to: str,
    msg_id: str,
    pk_number: int,
    pk_total: int,
    stat: str,
    err: str,
    segment_status: str,
    message_status: str,
    done_at: float,
    received_at: float,
) -> dict[str, Any]:
    """The fields of a matched status report, for one segment.

    :param stat: the carrier's own state word (``DELIVRD``, ``UNDELIV``…).
    :param err: the carrier's error code as text (``""`` when it gave none).
    :param segment_status: the segment's state after the report.
    :param message_status: the message's status after the report.
    :param done_at: when the carrier says the state was reached.
    :param received_at: when the report reached the gateway.
    """
    return {
        "type": "report",
        "channel": channel,
        "message_id": message_id,
        "external_id": external_id,
        "to": to,
        "msg_id": msg_id,
        "pk_number": pk_number,
        "pk_total": pk_total,
        "stat": stat,
        "err": err,
        "segment_status": segment_status,
        "message_status": message_status,
        "done_at": done_at,
        "received_at": received_at,
    }


def mo_payload(
    *,
    channel: str,
    sender: str,
    to: str,
    text: str,
    received_at: float,
    msg_id: str | None = None,
    missing_parts: Sequence[int] = (),
) -> dict[str, Any]:
    """The fields of an MO (a handset's message, long ones reassembled).

    :param sender: the handset's number (``from``).
    :param to: our number it was sent to.
    :param msg_id: the carrier's id of the DELIVER, when it has one.
    :param missing_parts: segment numbers that never came (the MO timed out
        incomplete); the key is there only when some are missing.
    """
    fields: dict[str, Any] = {
        "type": "mo",
        "channel": channel,
        "msg_id": msg_id or None,
        "from": sender,
        "to": to,
        "text": text,
        "received_at": received_at,
    }
    if missing_parts:
        fields["missing_parts"] = list(missing_parts)
    return fields
