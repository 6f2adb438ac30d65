"""The HTTP API's JSON of messages and inbound items (:mod:`smsgw.web.views`)."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from smsgw.store.model import (
    Inbound,
    InboundKind,
    Message,
    Recipient,
    Segment,
    SegmentState,
)
from smsgw.web.views import inbound_view, message_view

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
