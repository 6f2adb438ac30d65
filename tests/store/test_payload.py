"""The report and MO payloads every store writes (:mod:`smsgw.store.payload`)."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from smsgw.store.payload import mo_payload, report_payload


class PayloadTests(SynchronousTestCase):
    """One dictionary per item: the pull item's fields and the push body."""

    def test_report(self) -> None:
        """A report names the segment's state and the message's apart, with the carrier's words."""
        fields = report_payload(
            channel="cm", message_id="m1", external_id=None, to="138", msg_id="42",
            pk_number=1, pk_total=2, stat="DELIVRD", err="000", segment_status="delivered",
            message_status="submitting", done_at=1.0, received_at=2.0,
        )  # fmt: skip
        self.assertEqual(
            (fields["type"], fields["segment_status"], fields["message_status"]),
            ("report", "delivered", "submitting"),
        )
        self.assertNotIn("status", fields)

    def test_mo(self) -> None:
        """An MO has from/to/text; no carrier id is None; missing parts only when some are."""
        fields = mo_payload(channel="cm", sender="138", to="1065", text="TD", received_at=3.0)
        self.assertEqual(
            fields,
            {"type": "mo", "channel": "cm", "msg_id": None, "from": "138", "to": "1065",
             "text": "TD", "received_at": 3.0},
        )  # fmt: skip
        incomplete = mo_payload(
            channel="cm", sender="138", to="1065", text="T", received_at=3.0, msg_id="9",
            missing_parts=(2, 3),
        )  # fmt: skip
        self.assertEqual((incomplete["msg_id"], incomplete["missing_parts"]), ("9", [2, 3]))
