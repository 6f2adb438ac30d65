"""The HTTP API's JSON of messages and inbound items (:mod:`smsgw.web.views`)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.store.model import (
    Inbound,
    InboundKind,
    Message,
    Mode,
    Recipient,
    Segment,
    SegmentState,
)
from smsgw.web.views import inbound_view, message_json, message_view

NOW = 1_750_000_000.0


class MessageViewTests(SynchronousTestCase):
    """A message, its recipients and segments, as ``GET /v1/sms/{id}`` shows them."""

    def test_message(self) -> None:
        """Statuses are derived per recipient; a failed segment shows its error; refusals listed."""
        failed = Segment(1, 1, b"x", state=SegmentState.FAILED, result=8, error="result 8")
        sent = Segment(1, 1, b"x", state=SegmentState.SUBMITTED, result=0, msg_id="42")
        message = Message(
            "m1",
            NOW,
            [Recipient("13800138000", "cm", [sent]), Recipient("13000130000", "cu", [failed])],
        )
        body = message_view(message, [("123", "not a number")])
        self.assertEqual((body["id"], body["status"], body["mode"]), ("m1", "submitted", "queue"))
        first, second = body["recipients"]
        self.assertEqual((first["status"], second["status"]), ("submitted", "failed"))
        self.assertEqual(
            first["segments"],
            [{"pk_number": 1, "pk_total": 1, "msg_id": "42", "result": 0, "stat": None,
              "state": "submitted"}],
        )  # fmt: skip
        self.assertEqual(second["segments"][0]["error"], "result 8")
        self.assertEqual(body["rejected"], [{"to": "123", "error": "not a number"}])
        self.assertNotIn("rejected", message_view(message))

    def test_shared_segments(self) -> None:
        """Recipients sharing one segments tuple show it alike; another recipient its own."""
        sent = (Segment(1, 1, b"x", state=SegmentState.SUBMITTED, result=0, msg_id="42"),)
        failed = (Segment(1, 1, b"x", state=SegmentState.FAILED, result=8, error="result 8"),)
        message = Message(
            "m1",
            NOW,
            [Recipient("138", "cm", sent), Recipient("139", "cm", failed),
             Recipient("137", "cm", sent)],
        )  # fmt: skip
        body = message_view(message)
        self.assertEqual([r["to"] for r in body["recipients"]], ["138", "139", "137"])
        self.assertEqual(
            [(r["status"], r["segments"][0]["state"]) for r in body["recipients"]],
            [("submitted", "submitted"), ("failed", "failed"), ("submitted", "submitted")],
        )
        self.assertEqual(body["recipients"][1]["segments"][0]["error"], "result 8")
        self.assertNotIn("error", body["recipients"][2]["segments"][0])


#: Text with quotes, backslashes, control characters and non-ASCII (what JSON escapes or keeps).
_texts = st.text(alphabet=st.sampled_from('a"\\\n\x00\x1f中é😀 -+0'), max_size=6)


@st.composite
def _segments(draw: st.DrawFn) -> tuple[Segment, ...]:
    n = draw(st.integers(1, 3))
    return tuple(
        Segment(
            i + 1,
            n,
            b"x",
            state=draw(st.sampled_from(list(SegmentState))),
            result=draw(st.none() | st.integers(0, 300)),
            msg_id=draw(st.none() | _texts),
            stat=draw(st.none() | _texts),
            error=draw(st.none() | _texts),
        )
        for i in range(n)
    )


@st.composite
def _messages(draw: st.DrawFn) -> Message:
    shared = draw(st.lists(_segments(), min_size=1, max_size=3))
    recipients = [
        Recipient(draw(_texts), draw(_texts), draw(st.sampled_from(shared)))
        for _ in range(draw(st.integers(1, 6)))
    ]
    return Message(
        draw(_texts),
        draw(st.floats(0, 2e9)),
        recipients,
        mode=draw(st.sampled_from(list(Mode))),
        send_at=draw(st.none() | st.floats(0, 2e9)),
        external_id=draw(st.none() | _texts),
    )


class MessageJsonTests(SynchronousTestCase):
    """``POST /v1/sms``'s answer: message_json is message_view's JSON, byte for byte."""

    @given(_messages(), st.lists(st.tuples(_texts, _texts), max_size=2), st.booleans())
    def test_same_bytes(
        self, message: Message, rejected: list[tuple[str, str]], repeated: bool
    ) -> None:
        """The bytes are json.dumps of the view (non-ASCII kept), "repeated" last when set."""
        view = message_view(message, rejected)
        if repeated:
            view["repeated"] = True
        expected = json.dumps(view, ensure_ascii=False, allow_nan=False).encode("utf-8")
        self.assertEqual(message_json(message, rejected, repeated=repeated), expected)


class InboundViewTests(SynchronousTestCase):
    """An inbound item: id, type, channel and time, then the stored payload."""

    def test_item(self) -> None:
        """The payload's keys follow the item's own; an old item without type still has one."""
        item = Inbound(InboundKind.MO, "cm", {"from": "138", "text": "TD"}, NOW, id=7)
        self.assertEqual(
            inbound_view(item),
            {"id": 7, "type": "mo", "channel": "cm", "created_at": NOW, "from": "138",
             "text": "TD"},
        )  # fmt: skip
