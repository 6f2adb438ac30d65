"""Triggers (deterministic behaviour by destination number) on the HTTP vendors.

Every behaviour is checked on each shipped vendor the simulator plays
(``--vendor-http``), through its own client over ``StubTreq``; one ``Clock``
runs every delay.
"""

from __future__ import annotations

from typing import Any

from smsgw.vendor.answers import parse_mo
from tests.ismg.test_vendors import A, B, HubCase, vendors

VENDORS = ("generic", "batchsm", "kx1680", "somp")
#: Each vendor's too-fast code (as FaultTests.test_throttle has them).
TOO_FAST = {"batchsm": "103", "kx1680": "5", "somp": "9032", "generic": "error"}
#: Each vendor's report push: the field telling the outcome, and its delivered value.
REPORT_FIELDS = {
    "generic": ("state", "1"),
    "batchsm": ("status", "DELIVRD"),
    "kx1680": ("status", "0"),
    "somp": ("su", "DELIVRD"),
}


class VendorTriggerTests(HubCase):
    """Each trigger behaviour, on each vendor."""

    def triggers(self, *triggers: dict[str, Any]) -> None:
        """Install *triggers* as the policy's."""
        self.set_policy({"triggers": list(triggers)})

    def test_result(self) -> None:
        """``result``: the vendor's code of that value, as ``faults.submit_result`` gives it."""
        for vendor in VENDORS:
            self.set_policy({"faults": {"submit_result": 104}, "triggers": []})
            expected = self.send(self.client(vendor))
            self.triggers({"match": "*8000", "result": 104})
            self.set_policy({"faults": {"submit_result": 0}})
            refused = self.send(self.client(vendor))
            self.assertEqual(
                (vendor, refused.accepted, refused.code), (vendor, False, expected.code)
            )
            self.assertTrue(self.send(self.client(vendor), (B,)).accepted)
        self.assertEqual(self.send(self.client("batchsm")).code, "104")
        self.assertEqual(len(self.sim.submits(None, None, 100)), len(VENDORS))

    def test_throttle(self) -> None:
        """``throttle``: the vendor's own too-fast code, counted as throttled."""
        self.triggers({"match": A, "throttle": True})
        for vendor, code in TOO_FAST.items():
            refused = self.send(self.client(vendor))
            self.assertEqual((vendor, refused.code, refused.retry), (vendor, code, True))
        self.assertEqual(self.sim.stats()["accounts"]["acct"]["throttled"], len(TOO_FAST))

    def test_first_matching_number_decides(self) -> None:
        """In a send to several numbers, the first one that matches a trigger decides."""
        self.triggers({"match": "*9000", "throttle": True}, {"match": "*8000", "result": 104})
        refused = self.send(self.client("batchsm"), (B, A))
        self.assertEqual(refused.code, "103")

    def test_response_delay(self) -> None:
        """``response_delay_s``: the answer comes that many seconds later."""
        self.triggers({"match": "*8000", "response_delay_s": 3})
        for vendor in VENDORS:
            d = self.client(vendor, timeout_s=60.0).send((A,), "x")
            self.stub.flush()
            self.clock.advance(2.9)
            self.stub.flush()
            self.assertNoResult(d)
            self.clock.advance(0.1)
            self.stub.flush()
            [result] = self.successResultOf(d)
            self.assertTrue(result.accepted, vendor)
            self.assertTrue(self.send(self.client(vendor), (B,)).accepted)

    def test_no_response(self) -> None:
        """``no_response``: never answered (the client times out); the message was taken."""
        self.triggers({"match": "*8000", "no_response": True})
        for vendor in VENDORS:
            d = self.client(vendor, timeout_s=30.0).send((A,), "x")
            self.stub.flush()
            self.clock.advance(29)
            self.stub.flush()
            self.assertNoResult(d)
            self.clock.advance(1)
            self.stub.flush()
            [result] = self.successResultOf(d)
            self.assertEqual((vendor, result.accepted, result.retry), (vendor, False, True))
        self.assertEqual(len(self.sim.submits(None, None, 100)), len(VENDORS))
        self.assertEqual(self.sim.stats()["accounts"]["acct"]["responses_dropped"], len(VENDORS))

    def test_close(self) -> None:
        """``close``: the connection closes unanswered; the message was taken."""
        self.triggers({"match": "*8000", "close": True})
        for vendor in VENDORS:
            result = self.send(self.client(vendor))
            self.assertEqual((vendor, result.accepted, result.retry), (vendor, False, True))
            self.assertIn("connection", result.reason)
        self.assertEqual(len(self.sim.submits(None, None, 100)), len(VENDORS))
        self.assertEqual(self.sim.stats()["accounts"]["acct"]["links_closed"], len(VENDORS))

    def test_terminate_and_nack_close(self) -> None:
        """HTTP has no terminate request nor generic nack: both close like ``close``."""
        for key in ("terminate", "nack"):
            self.triggers({"match": "*8000", key: True})
            result = self.send(self.client(VENDORS[0]))
            self.assertEqual((key, result.accepted, result.retry), (key, False, True))
        self.assertEqual(self.sim.stats()["accounts"]["acct"]["links_closed"], 2)

    def test_stat_and_delay(self) -> None:
        """``stat`` and ``report_delay_s`` decide each number's report."""
        self.triggers(
            {"match": "*8000", "stat": "DELIVRD", "report_delay_s": 1},
            {"match": "*9000", "stat": "UNDELIV", "report_delay_s": 5},
        )
        for vendor in VENDORS:
            self.send(self.client(vendor), (A, B))
        self.clock.advance(4.9)
        for vendor, (field, delivered) in REPORT_FIELDS.items():
            [early] = self.http.pushed(f"/push/{vendor}/report")
            self.assertEqual((vendor, early[field]), (vendor, delivered))
        self.clock.advance(0.1)
        for vendor, (field, delivered) in REPORT_FIELDS.items():
            late = self.http.pushed(f"/push/{vendor}/report")[1]
            self.assertNotEqual((vendor, late[field]), (vendor, delivered))
        [generic] = self.http.pushed("/push/generic/report")[1:]
        self.assertEqual(generic["err_code"], "UNDELIV")

    def test_no_report(self) -> None:
        """``no_report``: the send is answered, no report ever comes."""
        self.triggers({"match": "*8000", "no_report": True})
        for vendor in VENDORS:
            self.assertTrue(self.send(self.client(vendor), (A, B)).accepted)
        self.clock.advance(3600)
        for vendor in VENDORS:
            self.assertEqual(len(self.http.pushed(f"/push/{vendor}/report")), 1, vendor)
            self.assertEqual(self.vendor(vendor).reports_waiting, 0)
        self.assertEqual(self.sim.stats()["accounts"]["acct"]["reports_withheld"], len(VENDORS))

    def test_mo_reply(self) -> None:
        """``mo_reply``: an MO from the number, the vendor's way, after ``mo_delay_s``."""
        self.triggers({"match": "*8000", "mo_reply": "退订", "mo_delay_s": 2})
        with_mos = [name for name in VENDORS if vendors()[name].mos is not None]
        self.assertIn("kx1680", with_mos)
        for vendor in VENDORS:
            self.send(self.client(vendor), (A, B))
        self.clock.advance(1.9)
        self.assertEqual(self.http.pushed("/push/kx1680/mo"), [])
        self.clock.advance(0.1)
        [push] = self.http.pushed("/push/kx1680/mo")
        mo = parse_mo(vendors()["kx1680"], {k: v.encode() for k, v in push.items()})
        self.assertEqual((mo.number, mo.text), (A, "退订"))
        self.assertEqual(self.sim.stats()["accounts"]["acct"]["mos"], len(with_mos))

    def test_account_trigger_first(self) -> None:
        """An account's trigger comes before the others; other accounts skip it."""
        self.triggers(
            {"match": "*", "result": 104},
            {"match": "*8000", "account": "acct", "throttle": True},
        )
        self.assertEqual(self.send(self.client("batchsm")).code, "103")
        self.assertEqual(self.send(self.client("batchsm"), (B,)).code, "104")
        self.assertEqual(self.send(self.client("batchsm", "puller")).code, "104")
