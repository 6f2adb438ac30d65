"""The HTTP API's JSON of the store's objects: messages and inbound items.

The gateway and the store hand out model objects
(:class:`~smsgw.store.model.Message`, :class:`~smsgw.store.model.Inbound`);
this module alone decides how ``POST /v1/sms``, ``GET /v1/sms/{id}`` and
``GET /v1/inbound`` show them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from smsgw.store.model import Inbound, Message, Segment, derive_status

__all__ = ["inbound_view", "message_view"]


def message_view(message: Message, rejected: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """A message as ``POST /v1/sms`` and ``GET /v1/sms/{id}`` show it.

    Recipients that share their segments (a request's one-segment text, split
    once: see :meth:`~smsgw.sp.gateway.Gateway.accept`) share their status and
    segment list in the answer too: built once, not once per recipient.

    :param rejected: ``(to, why)`` of the request's recipients that were refused.
    """
    shown: dict[int, tuple[str, list[dict[str, Any]]]] = {}
    recipients = []
    for r in message.recipients:
        seen = shown.get(id(r.segments))
        if seen is None:
            seen = shown[id(r.segments)] = _segments_view(r.segments)
        status, segments = seen
        recipients.append(
            {"to": r.to, "channel": r.channel, "status": status, "segments": segments}
        )
    body: dict[str, Any] = {
        "id": message.id,
        "status": str(message.status),
        "created_at": message.created_at,
        "mode": str(message.mode),
        "send_at": message.send_at,
        "external_id": message.external_id,
        "recipients": recipients,
    }
    if rejected:
        body["rejected"] = [{"to": to, "error": why} for to, why in rejected]
    return body


def _segments_view(segments: Sequence[Segment]) -> tuple[str, list[dict[str, Any]]]:
    """One recipient's status and segments, as :func:`message_view` shows them."""
    return str(derive_status(s.state for s in segments)), [
        {
            "pk_number": s.pk_number,
            "pk_total": s.pk_total,
            "msg_id": s.msg_id,
            "result": s.result,
            "stat": s.stat,
            "state": str(s.state),
            **({"error": s.error} if s.error else {}),
        }
        for s in segments
    ]


def inbound_view(item: Inbound) -> dict[str, Any]:
    """An MO or report as ``GET /v1/inbound`` lists it: its id and time, then its fields.

    The fields are the payload the store built (the same JSON as the
    item's push); ``type`` and ``channel`` come from the item itself, so
    items stored before the payload carried them read the same.
    """
    return {
        "id": item.id,
        "type": str(item.kind),
        "channel": item.channel,
        "created_at": item.created_at,
        **item.fields,
    }
