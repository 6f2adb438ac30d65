"""Tests for :mod:`smsgw.ismg.control`."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, fail, succeed
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from smsgw.config.policy import Policy
from smsgw.interfaces import ISimulatorControl
from smsgw.ismg.control import control_resource
from tests.web import StubJsonClient, StubResponse

SUBMIT = {
    "account": "901234",
    "protocol": "cmpp",
    "msg_id": "1234567890123456789",
    "src": "1065901234",
    "dest": ["13800138000"],
    "text": "验证码 1234",
    "msg_fmt": 15,
    "pk_total": 1,
    "pk_number": 1,
    "registered_delivery": 1,
    "time": "2024-05-01T12:00:00+08:00",
}

MO = {"account": "901234", "from": "+8613800138000", "to": "1065901234", "content": "TD"}


@implementer(ISimulatorControl)
class FakeSimulator:
    """Records the control calls; answers MOs through a replaceable function."""

    def __init__(self) -> None:
        self.submit_calls: list[tuple[str | None, str | None, int]] = []
        self.mo_calls: list[tuple[str | None, str, str, str]] = []
        self.protocols: list[str] = []
        self.longs: list[str] = []
        self.policy = Policy()
        self.policies: list[Policy] = []
        self.answer_mo: Callable[[], Any] = lambda: succeed({"segments": 1, "msg_ids": ["42"]})
        self.counters: dict[str, Any] = {"sessions": 1, "submits": 3}

    def submits(self, account: str | None, dest: str | None, limit: int) -> list[dict[str, Any]]:
        self.submit_calls.append((account, dest, limit))
        return [SUBMIT]

    def inject_mo(
        self,
        account: str | None,
        sender: str,
        to: str,
        content: str,
        protocol: str | None = None,
        long: str | None = None,
    ) -> Any:
        self.mo_calls.append((account, sender, to, content))
        if protocol is not None:
            self.protocols.append(protocol)
        if long is not None:
            self.longs.append(long)
        return self.answer_mo()

    def forwarding(self) -> dict[str, Any]:
        return {"enabled": False}

    def get_policy(self) -> dict[str, Any]:
        return self.policy.to_json()

    def set_policy(self, policy: Any) -> None:
        self.policies.append(policy)
        self.policy = policy

    def stats(self) -> dict[str, Any]:
        return self.counters

    def vendors_info(self) -> dict[str, Any]:
        return {"vendors": {"batchsm": {"requests": 2}}}


class _ControlTestCase(SynchronousTestCase):
    """A control API over a fake simulator."""

    def setUp(self) -> None:
        self.sim = FakeSimulator()
        self.client = StubJsonClient(self, control_resource(self.sim))

    def assert_error(
        self, response: StubResponse, status: int, code: str, field: str | None
    ) -> None:
        """*response* is the JSON error *code* with *status* naming *field*."""
        self.assertEqual(response.status, status, response.body)
        body = response.json()
        self.assertEqual((body["error"], body["field"]), (code, field))
        self.assertIsInstance(body["message"], str)


class FakeSimulatorTests(SynchronousTestCase):
    """The fake used here provides the interface the real simulator does."""

    def test_interface(self) -> None:
        """FakeSimulator provides ISimulatorControl."""
        self.assertTrue(verifyObject(ISimulatorControl, FakeSimulator()))


class HealthTests(_ControlTestCase):
    """GET /healthz."""

    def test_ok(self) -> None:
        """/healthz answers {"ok": true}."""
        response = self.client.request("GET", "/healthz")
        self.assertEqual((response.status, response.json()), (200, {"ok": True}))

    def test_not_found(self) -> None:
        """Unknown paths, the root and /v1 itself are JSON 404s."""
        for path in ("/", "/v1", "/v1/", "/v2/stats", "/v1/submits/1"):
            self.assert_error(self.client.request("GET", path), 404, "not_found", None)


class SubmitsTests(_ControlTestCase):
    """GET /v1/submits."""

    def test_all(self) -> None:
        """Without arguments: no filters and the default limit."""
        response = self.client.request("GET", "/v1/submits")
        self.assertEqual((response.status, response.json()), (200, {"submits": [SUBMIT]}))
        self.assertEqual(self.sim.submit_calls, [(None, None, 1000)])

    def test_mask(self) -> None:
        """mask=1 masks the destination numbers and nothing else; mask=0 leaves them."""
        masked = self.client.request("GET", "/v1/submits?mask=1").json()["submits"]
        self.assertEqual(masked, [{**SUBMIT, "dest": ["138****8000"]}])
        plain = self.client.request("GET", "/v1/submits?mask=0").json()["submits"]
        self.assertEqual(plain, [SUBMIT])

    def test_bad_mask(self) -> None:
        """A mask other than 0 or 1 is a 400 naming the field."""
        response = self.client.request("GET", "/v1/submits?mask=yes")
        self.assertEqual((response.status, response.json()["field"]), (400, "mask"))

    def test_filters(self) -> None:
        """account, dest and limit are passed on."""
        self.client.request("GET", "/v1/submits?account=901234&dest=%2B8613800138000&limit=5")
        self.assertEqual(self.sim.submit_calls, [("901234", "+8613800138000", 5)])

    def test_empty_filters(self) -> None:
        """Empty arguments mean no filter and the default limit."""
        self.client.request("GET", "/v1/submits?account=&dest=&limit=")
        self.assertEqual(self.sim.submit_calls, [(None, None, 1000)])

    def test_limit_bounds(self) -> None:
        """limit may be 1 to 100000."""
        self.client.request("GET", "/v1/submits?limit=1")
        self.client.request("GET", "/v1/submits?limit=100000")
        self.assertEqual([call[2] for call in self.sim.submit_calls], [1, 100000])

    def test_bad_limit(self) -> None:
        """A limit that is not an integer in range is a 400 naming limit."""
        for limit in ("0", "100001", "-1", "abc", "1e3", "2.5"):
            response = self.client.request("GET", "/v1/submits?limit=" + limit)
            self.assert_error(response, 400, "bad_field", "limit")
        self.assertEqual(self.sim.submit_calls, [])

    def test_repeated_argument(self) -> None:
        """An argument given twice is a 400 naming it."""
        response = self.client.request("GET", "/v1/submits?account=a&account=b")
        self.assert_error(response, 400, "bad_field", "account")

    def test_method(self) -> None:
        """Only GET (and HEAD) are allowed."""
        response = self.client.request("POST", "/v1/submits", json={})
        self.assert_error(response, 405, "method_not_allowed", None)
        self.assertEqual(response.header("allow"), "GET, HEAD")


class MoTests(_ControlTestCase):
    """POST /v1/mo."""

    def post(self, body: Any) -> StubResponse:
        """POST *body* as JSON to /v1/mo."""
        return self.client.request("POST", "/v1/mo", json=body)

    def test_accepted(self) -> None:
        """A good MO is passed on and answered 202 with the simulator's result."""
        response = self.post(MO)
        self.assertEqual(response.status, 202)
        self.assertEqual(response.json(), {"segments": 1, "msg_ids": ["42"]})
        self.assertEqual(self.sim.mo_calls, [("901234", "+8613800138000", "1065901234", "TD")])

    def test_waits_for_simulator(self) -> None:
        """The answer waits until the simulator has queued the DELIVERs."""
        queued: Deferred[Any] = Deferred()
        self.sim.answer_mo = lambda: queued
        started = self.client.start("POST", "/v1/mo", json=MO)
        self.assertNoResult(started)
        queued.callback({"segments": 2, "msg_ids": ["1", "2"]})
        response = self.client.finish(started)
        self.assertEqual((response.status, response.json()["segments"]), (202, 2))

    def test_unknown_account(self) -> None:
        """A KeyError from the simulator is a 404 naming account."""
        self.sim.answer_mo = lambda: fail(KeyError("nobody"))
        self.assert_error(self.post(MO), 404, "unknown_account", "account")

    def test_no_account_for_service_code(self) -> None:
        """Without an account, no SP for the service code is a 404 naming "to"."""
        self.sim.answer_mo = lambda: fail(KeyError("1065901234"))
        mo = {key: value for key, value in MO.items() if key != "account"}
        response = self.post(mo)
        self.assert_error(response, 404, "unknown_account", "to")
        self.assertIn("'1065901234'", response.json()["message"])

    def test_unknown_account_raised(self) -> None:
        """A KeyError raised at once is a 404 too."""

        def answer() -> Any:
            raise KeyError("nobody")

        self.sim.answer_mo = answer
        self.assert_error(self.post(MO), 404, "unknown_account", "account")

    def test_refused(self) -> None:
        """A ValueError from the simulator is a 400 with its message."""
        self.sim.answer_mo = lambda: fail(ValueError("content too long: 300 segments"))
        response = self.post(MO)
        self.assert_error(response, 400, "bad_mo", None)
        self.assertEqual(response.json()["message"], "content too long: 300 segments")

    def test_missing_fields(self) -> None:
        """Each missing required field is a 400 naming it."""
        for name in ("from", "to", "content"):
            body = {key: value for key, value in MO.items() if key != name}
            self.assert_error(self.post(body), 400, "bad_field", name)
        self.assertEqual(self.sim.mo_calls, [])

    def test_without_account(self) -> None:
        """Without an account the simulator finds the SP by service code (or forwards)."""
        body = {key: value for key, value in MO.items() if key != "account"}
        self.assertEqual(self.post(body).status, 202)
        self.assertEqual(self.sim.mo_calls[0][0], None)

    def test_protocol(self) -> None:
        """An optional protocol picks the listener the MO goes out on."""
        self.assertEqual(self.post({**MO, "protocol": "smgp"}).status, 202)
        self.assertEqual(self.sim.protocols, ["smgp"])
        self.assert_error(self.post({**MO, "protocol": 8}), 400, "bad_field", "protocol")

    def test_long_form(self) -> None:
        """An optional long form (SMPP's udh, sar, payload) is passed on; not a string is a 400."""
        body = {**MO, "protocol": "smpp", "long": "sar"}
        self.assertEqual(self.post(body).status, 202)
        self.assertEqual(self.sim.longs, ["sar"])
        self.assert_error(self.post({**MO, "long": 1}), 400, "bad_field", "long")

    def test_wrong_types(self) -> None:
        """Each field that is not a string is a 400 naming it."""
        for name in MO:
            values = (
                (13800138000, ["x"], True)
                if name == "account"
                else (13800138000, None, ["x"], True)
            )
            for value in values:
                self.assert_error(self.post({**MO, name: value}), 400, "bad_field", name)
        self.assertEqual(self.sim.mo_calls, [])

    def test_numbers(self) -> None:
        """from and to are digits with an optional leading +."""
        for name in ("from", "to"):
            for value in ("", "+", "138-0013", "1380013800a", "++86138", "１３８", " 138"):
                self.assert_error(self.post({**MO, name: value}), 400, "bad_field", name)
        self.assertEqual(self.post({**MO, "from": "13800138000", "to": "+1065"}).status, 202)

    def test_empty_content(self) -> None:
        """Empty content is a 400 naming content."""
        self.assert_error(self.post({**MO, "content": ""}), 400, "bad_field", "content")

    def test_unknown_field(self) -> None:
        """An unknown field is a 400 naming it."""
        self.assert_error(self.post({**MO, "sender": "1"}), 400, "unknown_field", "sender")

    def test_not_object(self) -> None:
        """A body that is not an object is a 400."""
        self.assert_error(self.post([MO]), 400, "bad_json", None)

    def test_bad_json(self) -> None:
        """A body that is not JSON is a 400."""
        response = self.client.request("POST", "/v1/mo", data=b"account=1")
        self.assert_error(response, 400, "bad_json", None)

    def test_media_type(self) -> None:
        """A body declared as something else than JSON is a 415."""
        response = self.client.request(
            "POST", "/v1/mo", data=b"{}", headers={"content-type": "text/plain"}
        )
        self.assert_error(response, 415, "unsupported_media_type", None)

    def test_method(self) -> None:
        """Only POST is allowed."""
        self.assert_error(self.client.request("GET", "/v1/mo"), 405, "method_not_allowed", None)


class PolicyTests(_ControlTestCase):
    """GET and PUT /v1/policy."""

    def put(self, body: Any) -> StubResponse:
        """PUT *body* as JSON to /v1/policy."""
        return self.client.request("PUT", "/v1/policy", json=body)

    def test_get(self) -> None:
        """GET answers the simulator's policy."""
        response = self.client.request("GET", "/v1/policy")
        self.assertEqual((response.status, response.json()), (200, Policy().to_json()))

    def test_put_full(self) -> None:
        """A full document is installed and answered."""
        doc = {
            "reports": {
                "states": {"DELIVRD": 0.9, "UNDELIV": 0.1},
                "delay_s": [0.5, 2.0],
                "rules": [{"prefix": "1390000", "stat": "UNDELIV"}],
            },
            "faults": {
                "response_delay_s": 1.5,
                "drop_response_ratio": 0.1,
                "throttle_tps": 100.0,
                "disconnect_after_pdus": 50,
                "submit_result": 0,
            },
            "triggers": [
                {"match": "*0002", "stat": "UNDELIV", "report_delay_s": 5.0},
                {"match": "1380000*", "account": "901234", "result": 8},
            ],
        }
        response = self.put(doc)
        self.assertEqual((response.status, response.json()), (200, doc))
        self.assertEqual(self.sim.policies, [Policy.from_json(doc)])
        self.assertEqual(self.client.request("GET", "/v1/policy").json(), doc)

    def test_put_merges(self) -> None:
        """A partial document changes only the keys given."""
        self.put({"reports": {"delay_s": [1, 2]}, "faults": {"throttle_tps": 10}})
        response = self.put({"faults": {"submit_result": 8}})
        self.assertEqual(response.status, 200)
        policy = self.sim.policy
        self.assertEqual(policy.reports.delay_s, (1.0, 2.0))
        self.assertEqual(policy.faults.throttle_tps, 10.0)
        self.assertEqual(policy.faults.submit_result, 8)
        self.assertEqual(response.json(), policy.to_json())

    def test_put_empty(self) -> None:
        """An empty document reinstalls the current policy unchanged."""
        self.sim.policy = Policy.from_json({"faults": {"throttle_tps": 3}})
        response = self.put({})
        self.assertEqual(response.json()["faults"]["throttle_tps"], 3.0)

    def test_invalid(self) -> None:
        """An invalid value is a 400 naming its field; nothing is installed."""
        self.sim.counters["accounts"] = {"901234": {}}
        cases = [
            ({"reports": {"states": {"DELIV": 1}}}, "reports.states.DELIV"),
            ({"reports": {"delay_s": [3, 1]}}, "reports.delay_s"),
            (
                {"reports": {"rules": [{"prefix": "x", "stat": "UNDELIV"}]}},
                "reports.rules[0].prefix",
            ),
            ({"faults": {"drop_response_ratio": 2}}, "faults.drop_response_ratio"),
            ({"faults": {"throttle_tps": "fast"}}, "faults.throttle_tps"),
            ({"faults": {"submit_result": 1.5}}, "faults.submit_result"),
            ({"faults": None}, "faults"),
            ({"triggers": [{"match": "13*8"}]}, "triggers[0].match"),
            ({"triggers": [{"match": "*1", "stat": "OK"}]}, "triggers[0].stat"),
            (
                {"triggers": [{"match": "*1"}, {"match": "*2", "result": 8, "stat": "UNDELIV"}]},
                "triggers[1].stat",
            ),
            ({"triggers": [{"stat": "UNDELIV"}]}, "triggers[0].match"),
            ({"triggers": [{"match": "*1", "delay": 5}]}, "triggers[0].delay"),
            ({"triggers": {"match": "*1"}}, "triggers"),
            ({"triggers": [{"match": "*1", "account": "999999"}]}, "triggers[0].account"),
        ]
        for body, field in cases:
            response = self.put(body)
            self.assert_error(response, 400, "bad_policy", field)
            self.assertIn(field, response.json()["message"])
        self.assertEqual(self.sim.policies, [])

    def test_unknown_keys(self) -> None:
        """Unknown keys are a 400 naming them."""
        self.assert_error(self.put({"fault": {}}), 400, "bad_policy", "fault")
        self.assert_error(
            self.put({"faults": {"throttle": 1}}), 400, "bad_policy", "faults.throttle"
        )
        self.assertEqual(self.sim.policies, [])

    def test_not_object(self) -> None:
        """A document that is not an object is a 400 bad_json, as for every JSON body."""
        self.assert_error(self.put([1]), 400, "bad_json", None)

    def test_bad_json(self) -> None:
        """A body that is not JSON is a 400 bad_json."""
        response = self.client.request("PUT", "/v1/policy", data=b"{reports}")
        self.assert_error(response, 400, "bad_json", None)
        self.assertEqual(self.sim.policies, [])

    def test_method(self) -> None:
        """DELETE and POST are not allowed."""
        for method in ("DELETE", "POST"):
            response = self.client.request(method, "/v1/policy", json={})
            self.assert_error(response, 405, "method_not_allowed", None)
            self.assertEqual(response.header("allow"), "GET, HEAD, PUT")


class StatsTests(_ControlTestCase):
    """GET /v1/stats."""

    def test_stats(self) -> None:
        """The simulator's counters are answered as they are."""
        response = self.client.request("GET", "/v1/stats")
        self.assertEqual((response.status, response.json()), (200, {"sessions": 1, "submits": 3}))

    def test_vendors(self) -> None:
        """GET /v1/vendors answers the simulator's vendors as they are."""
        response = self.client.request("GET", "/v1/vendors")
        self.assertEqual(
            (response.status, response.json()), (200, {"vendors": {"batchsm": {"requests": 2}}})
        )

    def test_failure(self) -> None:
        """A simulator error is a logged 500 without details."""

        def broken() -> dict[str, Any]:
            raise RuntimeError("database password is hunter2")

        self.sim.stats = broken  # type: ignore[method-assign]
        response = self.client.request("GET", "/v1/stats")
        self.assert_error(response, 500, "internal", None)
        self.assertNotIn(b"hunter2", response.body)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_method(self) -> None:
        """Only GET (and HEAD) are allowed."""
        response = self.client.request("PUT", "/v1/stats", json={})
        self.assert_error(response, 405, "method_not_allowed", None)


class ControlTokenTests(SynchronousTestCase):
    """The control API beyond loopback needs a token; with one, every call but /healthz does."""

    def test_refused_beyond_loopback_without_token(self) -> None:
        """An endpoint beyond loopback without control_token stops the start, never echoing one."""
        from twisted.python import usage

        from smsgw.tap import Options

        self.patch(os, "environ", {k: v for k, v in os.environ.items()
                                   if k != "SMSGW_CONTROL_TOKEN"})  # fmt: skip
        options = Options()
        error = self.assertRaises(
            usage.UsageError,
            options.parseOptions,
            ["--role=ismg-sim", "--account", "1:s", "--control", "tcp:8081:interface=0.0.0.0"],
        )
        self.assertIn("control_token", str(error))
        self.patch(os, "environ", {"SMSGW_CONTROL_TOKEN": "t0ken"})
        options = Options()
        options.parseOptions(
            ["--role=ismg-sim", "--account", "1:s", "--control", "tcp:8081:interface=0.0.0.0"]
        )

    def test_bearer_required(self) -> None:
        """With a token, /v1/* answers 401 without it and 200 with it; /healthz stays open."""
        from twisted.internet.testing import MemoryReactorClock

        from smsgw.config import parse_config
        from smsgw.tap import makeService

        self.patch(os, "environ", {})
        config = parse_config('[simulator]\ncontrol_token = "t0ken"\n')
        top = makeService({"role": "ismg-sim", "loaded": config}, MemoryReactorClock())
        site = top.getServiceNamed("control").factory.wrappedFactory
        client = StubJsonClient(self, site.resource)
        self.assertEqual(client.request("GET", "/v1/stats").status, 401)
        self.assertEqual(client.request("GET", "/healthz").status, 200)
        auth = {"Authorization": "Bearer t0ken"}
        self.assertEqual(client.request("GET", "/v1/stats", headers=auth).status, 200)
        wrong = {"Authorization": "Bearer nope"}
        self.assertEqual(client.request("GET", "/v1/stats", headers=wrong).status, 401)
