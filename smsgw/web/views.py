"""The HTTP API's JSON of the store's objects: messages and inbound items.

The gateway and the store hand out model objects
(:class:`~smsgw.store.model.Message`, :class:`~smsgw.store.model.Inbound`);
this module alone decides how ``POST /v1/sms``, ``GET /v1/sms/{id}`` and
``GET /v1/inbound`` show them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from smsgw.store.model import Inbound, Message, Segment, derive_status

__all__ = ["inbound_view", "message_json", "message_view"]

#: As :func:`smsgw.web.jsonapi.write_json` encodes (text, no NaN).
_dumps = functools.partial(json.dumps, ensure_ascii=False, allow_nan=False)
#: A str as JSON, as ``json.dumps(..., ensure_ascii=False)`` writes it (the same C function).
_string = json.encoder.encode_basestring


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
    body = _head(message)
    body["recipients"] = recipients
    if rejected:
        body["rejected"] = [{"to": to, "error": why} for to, why in rejected]
    return body


def _head(message: Message) -> dict[str, Any]:
    """The fields of a message's view before its recipients."""
    return {
        "id": message.id,
        "status": str(message.status),
        "created_at": message.created_at,
        "mode": str(message.mode),
        "send_at": message.send_at,
        "external_id": message.external_id,
    }


def message_json(
    message: Message, rejected: Sequence[tuple[str, str]] = (), *, repeated: bool = False
) -> bytes:
    """:func:`message_view` as UTF-8 JSON, for the ``POST /v1/sms`` answer.

    The bytes are those of ``json.dumps(view, ensure_ascii=False)`` (with
    ``"repeated": true`` last when *repeated*), but a segment list that
    recipients share is encoded once, not once per recipient: most of a
    100-number answer.
    """
    shown: dict[int, str] = {}
    parts = []
    for r in message.recipients:
        tail = shown.get(id(r.segments))
        if tail is None:
            status, segments = _segments_view(r.segments)
            tail = shown[id(r.segments)] = (
                f', "status": {_string(status)}, "segments": {_dumps(segments)}}}'
            )
        parts.append(f'{{"to": {_string(r.to)}, "channel": {_string(r.channel)}{tail}')
    head = _dumps(_head(message))
    text = f'{head[:-1]}, "recipients": [{", ".join(parts)}]'
    if rejected:
        text += ', "rejected": ' + _dumps([{"to": to, "error": why} for to, why in rejected])
    if repeated:
        text += ', "repeated": true'
    return (text + "}").encode("utf-8")


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
