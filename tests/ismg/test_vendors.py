"""The ismg-sim playing every HTTP vendor (:mod:`smsgw.ismg.vendors`): the submit
log, the report policy, the faults, MO injection through the control API,
balances, and the site over real loopback sockets."""

from __future__ import annotations

import json
import random
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from treq.client import HTTPClient
from treq.testing import StubTreq
from twisted.internet import reactor
from twisted.internet.defer import Deferred, DeferredQueue, succeed
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.resource import Resource
from twisted.web.server import Site
from zope.interface.verify import verifyObject

from smsgw.config import AccountConfig
from smsgw.config.policy import Policy
from smsgw.ismg.control import control_resource
from smsgw.ismg.simulator import Account, Simulator
from smsgw.ismg.vendors import SimulatorHooks, VendorHub, vendor_account, vendor_site
from smsgw.vendor.answers import MoRecord, ReportRecord, parse_mo, parse_report
from smsgw.vendor.catalogue import load_vendors
from smsgw.vendor.client import BatchResult, VendorClient
from smsgw.vendor.description import Description
from smsgw.vendor.loader import load_string
from smsgw.vendor.sim import IVendorHooks, VendorSimulator
from tests.clock import BoundedClock
from tests.vendor.test_loopback import FIFTH

A = "13800138000"
B = "13900139000"
START = 1_700_000_000.0
TIMEOUT_S = 8.0

_VENDORS: dict[str, Description] | None = None


def vendors() -> dict[str, Description]:
    """Every vendor file (shipped, the checkout's plugins/) and the test's fifth vendor."""
    global _VENDORS
    if _VENDORS is None:
        _VENDORS = {**load_vendors(), "fifth": load_string(FIFTH.encode("utf-8"), "fifth.xml")}
    return _VENDORS


class FakeHttp:
    """Records pushed URLs; answers each with an empty 200."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def get(self, url: str) -> Deferred[Any]:
        self.urls.append(url)

        class Response:
            code = 200

            def content(self) -> Deferred[bytes]:
                return succeed(b"ok")

        return succeed(Response())

    def pushed(self, path: str) -> list[dict[str, str]]:
        """The query of each push whose URL path is *path*."""
        return [dict(parse_qsl(urlsplit(u).query)) for u in self.urls if urlsplit(u).path == path]


def simulator(clock: Any, *ids: str) -> Simulator:
    """A simulator with accounts *ids* (secret ``s3cret``) and a fixed random source."""
    return Simulator(clock, [Account(i, b"s3cret") for i in ids], rng=random.Random(7))


PUSHING = AccountConfig(
    "acct",
    "s3cret",
    report_url="http://sp.test/push/{vendor}/report",
    mo_url="http://sp.test/push/{vendor}/mo?x=1",
)
PULLING = AccountConfig("puller", "s3cret", balance=3)


class HubCase(SynchronousTestCase):
    """A simulator playing every vendor, a stub HTTP client, and a vendor client."""

    def setUp(self) -> None:
        self.clock = BoundedClock()
        self.clock.advance(START)
        self.sim = simulator(self.clock, "acct", "puller")
        self.http = FakeHttp()
        self.site = vendor_site(self.sim, vendors(), [PUSHING, PULLING], self.clock, self.http)
        self.stub = StubTreq(self.site.resource)
        self.control = StubTreq(control_resource(self.sim))

    def client(self, vendor: str, account: str = "acct", **kw: Any) -> VendorClient:
        """A vendor client for *account* through the stub."""
        return VendorClient(
            vendors()[vendor],
            account,
            kw.pop("secret", "s3cret"),
            f"http://sim.test/{vendor}",
            self.stub,
            self.clock,
            **kw,
        )

    def send(self, client: VendorClient, numbers: tuple[str, ...] = (A,), **kw: Any) -> BatchResult:
        """One send request's result, the stub flushed."""
        d = client.send(numbers, kw.pop("text", "验证码 1234"), **kw)
        self.stub.flush()
        [result] = self.successResultOf(d)
        return result

    def set_policy(self, document: dict[str, Any]) -> None:
        """Merge *document* into the simulator's policy."""
        self.sim.set_policy(Policy.from_json(self.sim.get_policy()).merged(document))

    def control_json(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """A control API call: (status, JSON body)."""
        kw: dict[str, Any] = {}
        if body is not None:
            kw["data"] = json.dumps(body).encode()
            kw["headers"] = {b"content-type": [b"application/json"]}
        d = self.control.request(method, f"http://ctl.test{path}", **kw)
        self.control.flush()
        response = self.successResultOf(d)
        content = self.successResultOf(response.content())
        self.control.flush()
        return response.code, json.loads(content)

    def vendor(self, name: str) -> VendorSimulator:
        """The simulator's vendor *name*."""
        hub: VendorHub = self.sim.vendors
        return hub.vendors[name]


class HooksTests(HubCase):
    """Accepted messages reach the simulator's submit log and counters."""

    def test_interface(self) -> None:
        """SimulatorHooks provides IVendorHooks."""
        self.assertTrue(verifyObject(IVendorHooks, SimulatorHooks(self.sim)))

    def test_every_vendor_served(self) -> None:
        """Each loaded vendor is under /NAME/; the stats list them."""
        self.assertEqual(
            self.sim.stats()["vendors"],
            ["batchsm", "example", "fifth", "generic", "kx1680", "somp"],
        )

    def test_submit_log(self) -> None:
        """Each accepted number is a submit with protocol http:NAME, account, id, dest, text."""
        result = self.send(self.client("batchsm"), (A, B))
        self.assertTrue(result.accepted, result.reason)
        first, second = self.sim.submits(None, None, 10)
        self.assertEqual(
            (first["protocol"], first["account"], first["msg_id"], first["dest"], first["text"]),
            ("http:batchsm", "acct", result.msg_ids[0], [A], "验证码 1234"),
        )
        self.assertEqual((second["dest"], second["registered_delivery"]), ([B], 1))
        self.assertEqual(self.sim.submits("acct", B, 10), [second])
        stats = self.sim.stats()
        self.assertEqual((stats["submits"], stats["accounts"]["acct"]["submits"]), (2, 2))
        protocols = stats["accounts"]["acct"]["protocols"]
        self.assertEqual(protocols["http:batchsm"]["submits"], 2)

    def test_control_api_submits(self) -> None:
        """GET /v1/submits shows vendor traffic."""
        self.send(self.client("kx1680"), report=False)
        status, body = self.control_json("GET", "/v1/submits?account=acct")
        self.assertEqual(status, 200)
        [submit] = body["submits"]
        self.assertEqual((submit["protocol"], submit["dest"]), ("http:kx1680", [A]))

    def test_vendor_accounts(self) -> None:
        """{vendor} in the URLs becomes the vendor's name; products open on first use."""
        acct = vendor_account(PUSHING, "kx1680")
        self.assertEqual(
            (acct.report_url, acct.mo_url, acct.products, acct.open_balance),
            (
                "http://sp.test/push/kx1680/report",
                "http://sp.test/push/kx1680/mo?x=1",
                {"": 1_000_000},
                1_000_000,
            ),
        )
        fixed = vendor_account(AccountConfig("a", "b", balance=5, products=("1", "2")), "x")
        self.assertEqual((fixed.products, fixed.open_balance), ({"1": 5, "2": 5}, None))

    def test_simulator_accounts_by_default(self) -> None:
        """Without account configuration the simulator's accounts are the vendors'."""
        sim = simulator(self.clock, "901234")
        hub = VendorHub(sim, vendors(), (), self.clock, None)
        acct = hub.vendors["somp"].accounts["901234"]
        self.assertEqual((acct.secret, acct.report_url), ("s3cret", None))


class ReportPolicyTests(HubCase):
    """Report outcomes and delays come from the simulator's policy."""

    def test_delay_and_failure_words(self) -> None:
        """UNDELIV after 5 s: each vendor's failure word, our stat kept as its error."""
        self.set_policy({"reports": {"states": {"UNDELIV": 1.0}, "delay_s": [5, 5]}})
        for vendor in ("generic", "batchsm", "kx1680", "somp"):
            self.send(self.client(vendor))
        self.clock.advance(4.9)
        self.assertEqual(self.http.urls, [])
        self.assertEqual(self.vendor("generic").reports_waiting, 1)
        self.assertNotIn("reports", self.sim.stats()["accounts"]["acct"])
        self.clock.advance(0.1)
        self.assertEqual(self.vendor("generic").reports_waiting, 0)
        [generic] = self.http.pushed("/push/generic/report")
        self.assertEqual((generic["state"], generic["err_code"]), ("2", "UNDELIV"))
        [batchsm] = self.http.pushed("/push/batchsm/report")
        self.assertEqual(batchsm["status"], "UNDELIV")
        [kx] = self.http.pushed("/push/kx1680/report")
        self.assertEqual(kx["status"], "UNDELIV")
        [somp] = self.http.pushed("/push/somp/report")
        self.assertEqual((somp["su"], somp["rp"]), ("UNDELIV", "UNDELIV"))
        record = parse_report(vendors()["generic"], {k: v.encode() for k, v in generic.items()})
        self.assertFalse(record.delivered)
        self.assertEqual(self.sim.stats()["accounts"]["acct"]["reports"], 4)

    def test_delivered_words_and_rules(self) -> None:
        """DELIVRD is the vendor's delivered word; a prefix rule decides per number."""
        self.set_policy({"reports": {"rules": [{"prefix": "139", "stat": "EXPIRED"}]}})
        self.send(self.client("kx1680"), (A, B))
        self.clock.advance(0)
        got = {p["mobile"]: p["status"] for p in self.http.pushed("/push/kx1680/report")}
        self.assertEqual(got, {A: "0", B: "EXPIRED"})

    def test_receiver_and_pswd(self) -> None:
        """Seed 002's push carries receiver and pswd, filled from the account."""
        self.send(self.client("batchsm"))
        self.clock.advance(0)
        [push] = self.http.pushed("/push/batchsm/report")
        self.assertEqual((push["receiver"], push["pswd"]), ("acct", "s3cret"))

    def test_held_for_pull(self) -> None:
        """Without a URL, somp's reports wait for /mo and the vendors API counts them."""
        client = self.client("somp", "puller")
        result = self.send(client)
        self.clock.advance(0)
        status, body = self.control_json("GET", "/v1/vendors")
        self.assertEqual(status, 200)
        self.assertEqual(
            body["vendors"]["somp"]["accounts"]["puller"],
            {"balance": {"": 2}, "pending_reports": 1, "pending_mos": 0},
        )
        d = client.pull()
        self.stub.flush()
        [report] = self.successResultOf(d)
        assert isinstance(report, ReportRecord)
        self.assertEqual((report.msg_id, report.delivered), (result.msg_ids[0], True))

    def test_undeliverable_logged_once(self) -> None:
        """No URL and no pull: one warning per account and kind, without numbers."""
        events: list[dict[str, Any]] = []
        vendor = self.vendor("kx1680")
        vendor.log = type(vendor.log)(observer=events.append)
        client = self.client("kx1680", "puller")
        self.send(client)
        self.send(client, (B,))
        self.clock.advance(0)
        [event] = events
        self.assertEqual((event["account"], event["kind"]), ("puller", "report"))
        self.assertNotIn(A, repr(event))
        self.assertEqual(self.http.urls, [])


class FaultTests(HubCase):
    """The policy's faults apply to vendor requests."""

    def test_throttle(self) -> None:
        """throttle_tps: the vendor's own too-fast code, counted as throttled."""
        expect = {"batchsm": "103", "kx1680": "5", "somp": "9032", "generic": "error"}
        for vendor, code in expect.items():
            self.set_policy({"faults": {"throttle_tps": 1}})
            client = self.client(vendor)
            self.assertTrue(self.send(client).accepted)
            refused = self.send(client)
            self.assertEqual((vendor, refused.code, refused.retry), (vendor, code, True))
            if vendor == "generic":
                self.assertIn("Throughput Rate Exceeded", refused.reason)
        self.assertEqual(self.sim.stats()["accounts"]["acct"]["throttled"], 4)

    def test_submit_result(self) -> None:
        """submit_result: the vendor's code of that value, else its first retry code."""
        self.set_policy({"faults": {"submit_result": 104}})
        refused = self.send(self.client("batchsm"))
        self.assertEqual((refused.accepted, refused.code, refused.retry), (False, "104", True))
        refused = self.send(self.client("somp"))
        self.assertEqual((refused.code, refused.reason), ("9015", "路由错误"))
        self.assertEqual(self.sim.submits(None, None, 10), [])
        self.assertEqual(self.vendor("batchsm").balance("acct"), 1_000_000)

    def test_response_delay(self) -> None:
        """response_delay_s: a send's answer comes that many seconds later, on the clock."""
        self.set_policy({"faults": {"response_delay_s": 3}})
        client = self.client("batchsm", timeout_s=60.0)
        d = client.send((A,), "x")
        self.stub.flush()
        self.assertNoResult(d)
        self.assertEqual(len(self.sim.submits(None, None, 10)), 1)
        self.clock.advance(3)
        self.stub.flush()
        [result] = self.successResultOf(d)
        self.assertTrue(result.accepted)

    def test_response_delay_only_sends(self) -> None:
        """A balance query is answered at once."""
        self.set_policy({"faults": {"response_delay_s": 3}})
        d = self.client("batchsm").balance()
        self.stub.flush()
        self.assertTrue(self.successResultOf(d).ok)

    def test_delayed_request_gone(self) -> None:
        """A client that goes away before a delayed answer cancels it."""
        self.set_policy({"faults": {"response_delay_s": 3}})
        d = self.client("batchsm", timeout_s=1.0).send((A,), "x")
        self.stub.flush()
        self.clock.advance(1)
        self.stub.flush()
        [result] = self.successResultOf(d)
        self.assertEqual((result.accepted, result.retry), (False, True))
        self.clock.advance(5)
        self.stub.flush()
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_drop_response(self) -> None:
        """drop_response_ratio 1: the connection closes unanswered; the message was taken."""
        self.set_policy({"faults": {"drop_response_ratio": 1}})
        result = self.send(self.client("batchsm"))
        self.assertEqual((result.accepted, result.retry), (False, True))
        self.assertIn("connection", result.reason)
        self.assertEqual(len(self.sim.submits(None, None, 10)), 1)
        self.assertEqual(self.sim.stats()["accounts"]["acct"]["responses_dropped"], 1)

    def test_disconnect_first_request(self) -> None:
        """disconnect_after_pdus 1: every connection closes at its first request, unanswered."""
        self.set_policy({"faults": {"disconnect_after_pdus": 1}})
        result = self.send(self.client("kx1680"))
        self.assertEqual((result.accepted, result.retry), (False, True))
        self.assertEqual(self.sim.submits(None, None, 10), [])


class BalanceTests(HubCase):
    """Balances per vendor and product go down per part."""

    def test_parts_and_refusal(self) -> None:
        """3 parts: a 2-number send leaves 1; the next 2-number send is out of balance."""
        client = self.client("batchsm", "puller")
        self.assertTrue(self.send(client, (A, B)).accepted)
        refused = self.send(client, (A, B))
        self.assertEqual((refused.code, refused.accepted), ("109", False))
        _, body = self.control_json("GET", "/v1/vendors")
        self.assertEqual(body["vendors"]["batchsm"]["accounts"]["puller"]["balance"], {"": 1})
        # Another vendor keeps its own balance.
        self.assertEqual(self.vendor("generic").balance("puller"), 3)

    def test_products(self) -> None:
        """An account with products refuses any other; one without opens it."""
        sim = simulator(self.clock, "acct")
        config = AccountConfig("acct", "s3cret", balance=10, products=("7",))
        site = vendor_site(sim, vendors(), [config], self.clock, None)
        self.stub = StubTreq(site.resource)
        refused = self.send(self.client("batchsm", product="8"))
        self.assertEqual(refused.code, "112")
        self.assertTrue(self.send(self.client("batchsm", product="7")).accepted)
        self.assertEqual(sim.vendors.vendors["batchsm"].accounts["acct"].products, {"7": 9})

    def test_open_product(self) -> None:
        """Without products, a product the SP names is opened with the balance."""
        self.assertTrue(self.send(self.client("kx1680", product="42")).accepted)
        acct = self.vendor("kx1680").accounts["acct"]
        self.assertEqual(acct.products, {"": 1_000_000, "42": 999_999})


class MoInjectionTests(HubCase):
    """POST /v1/mo with a vendor's name as the protocol."""

    def test_push_vendor(self) -> None:
        """kx1680: pushed to the account's MO URL, "to" as the xh extension."""
        status, body = self.control_json(
            "POST",
            "/v1/mo",
            {"account": "acct", "from": A, "to": "1065", "content": "退订", "protocol": "kx1680"},
        )
        self.assertEqual((status, body["protocol"], body["delivery"]), (202, "http:kx1680", "push"))
        [push] = self.http.pushed("/push/kx1680/mo")
        self.assertEqual(push["x"], "1")
        mo = parse_mo(vendors()["kx1680"], {k: v.encode() for k, v in push.items()})
        self.assertEqual((mo.number, mo.text, mo.extension), (A, "退订", "1065"))
        self.assertEqual(self.sim.stats()["accounts"]["acct"]["mos"], 1)

    def test_pull_vendor(self) -> None:
        """somp without a URL: held for /mo, visible in /v1/vendors, then pulled."""
        status, body = self.control_json(
            "POST",
            "/v1/mo",
            {
                "account": "puller",
                "from": A,
                "to": "88",
                "content": "您好",
                "protocol": "http:somp",
            },
        )
        self.assertEqual((status, body["delivery"]), (202, "pull"))
        _, info = self.control_json("GET", "/v1/vendors")
        self.assertEqual(info["vendors"]["somp"]["accounts"]["puller"]["pending_mos"], 1)
        d = self.client("somp", "puller").pull()
        self.stub.flush()
        [mo] = self.successResultOf(d)
        assert isinstance(mo, MoRecord)
        self.assertEqual((mo.number, mo.text, mo.extension), (A, "您好", "88"))

    def test_vendor_without_mos(self) -> None:
        """batchsm has no MOs: 400."""
        status, body = self.control_json(
            "POST",
            "/v1/mo",
            {"account": "acct", "from": A, "to": "1", "content": "x", "protocol": "batchsm"},
        )
        self.assertEqual((status, body["error"]), (400, "bad_mo"))

    def test_unknown_protocol(self) -> None:
        """A name that is neither a listener nor a vendor: 400."""
        status, body = self.control_json(
            "POST",
            "/v1/mo",
            {"account": "acct", "from": A, "to": "1", "content": "x", "protocol": "nosuch"},
        )
        self.assertEqual((status, body["error"]), (400, "bad_mo"))


class ConstantParamTests(HubCase):
    """A request changing a constant parameter (seed 001 rf) is logged once."""

    def test_rf_logged_once(self) -> None:
        """rf=2 is answered in the rf=0 form, with one warning."""
        events: list[dict[str, Any]] = []
        vendor = self.vendor("somp")
        vendor.log = type(vendor.log)(observer=events.append)
        for _ in range(2):
            status, body, _ = vendor.handle("GET", "/mt", b"un=acct&pw=x&ts=1&da=1&sm=61&rf=2", b"")
            self.assertEqual((status, body), (200, b"r=9101"))
        [event] = events
        self.assertEqual((event["param"], event["value"], event["expected"]), ("rf", "2", "0"))


class LoopbackTests(TestCase):
    """The site over real loopback sockets, with treq (through the vendor client)
    as the client and a push receiver of the vendor client's own."""

    def setUp(self) -> None:
        self.clock = BoundedClock()
        self.clock.advance(START)
        self.sim = simulator(self.clock, "acct", "puller")
        # Not persistent: no connection outlives a test.
        pool = HTTPConnectionPool(reactor, persistent=False)
        self.http = HTTPClient(Agent(reactor, pool=pool))
        self.events: DeferredQueue[tuple[str, ReportRecord | MoRecord]] = DeferredQueue()
        self.receiver = Resource()
        port = reactor.listenTCP(0, Site(self.receiver), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        push = f"http://127.0.0.1:{port.getHost().port}/{{vendor}}"
        pushing = AccountConfig("acct", "s3cret", report_url=push + "/report", mo_url=push + "/mo")
        site = vendor_site(self.sim, vendors(), [pushing, PULLING], self.clock, self.http)
        listener = reactor.listenTCP(0, site, interface="127.0.0.1")
        self.addCleanup(listener.stopListening)
        self.base = f"http://127.0.0.1:{listener.getHost().port}"

    def client(self, vendor: str, account: str = "acct", http: Any = None) -> VendorClient:
        """A vendor client at http://127.0.0.1:PORT/NAME, its push receiver at /NAME/."""
        client = VendorClient(
            vendors()[vendor],
            account,
            "s3cret",
            f"{self.base}/{vendor}",
            http or self.http,
            reactor,
        )
        folder = Resource()
        for kind in ("report", "mo"):
            folder.putChild(
                kind.encode(), client.push_resource(kind, lambda r: self.events.put((vendor, r)))
            )
        self.receiver.putChild(vendor.encode(), folder)
        return client

    async def round_trip(self, vendor: str) -> None:
        """Send to two numbers, both reports pushed back to the vendor's receiver."""
        [batch] = await client_send(self.client(vendor), (A, B))
        self.assertTrue(batch.accepted, f"{vendor}: {batch.reason}")
        self.clock.advance(0)
        got = [await self.events.get().addTimeout(TIMEOUT_S, reactor) for _ in (A, B)]
        self.assertEqual({(v, r.number) for v, r in got}, {(vendor, A), (vendor, B)})
        for _, rec in got:
            assert isinstance(rec, ReportRecord)
            self.assertTrue(rec.delivered)
        mine = [s for s in self.sim.submits(None, None, 100) if s["protocol"] == f"http:{vendor}"]
        self.assertEqual(sorted(s["dest"][0] for s in mine), [A, B])

    async def test_kv(self) -> None:
        """somp (kv answers): send, reports pushed."""
        await self.round_trip("somp")

    async def test_lines(self) -> None:
        """batchsm (lines answers): send, reports pushed, per-product balance."""
        await self.round_trip("batchsm")
        balance = await self.client("batchsm").balance().addTimeout(TIMEOUT_S, reactor)
        self.assertEqual((balance.ok, balance.amounts), (True, {"": 999_998}))

    async def test_delimited_and_number(self) -> None:
        """kx1680 (1,msgid answers; a number for balance) and generic (success:id)."""
        await self.round_trip("kx1680")
        balance = await self.client("kx1680").balance().addTimeout(TIMEOUT_S, reactor)
        self.assertEqual((balance.ok, sum(balance.amounts.values())), (True, 999_998))
        await self.round_trip("generic")

    async def test_json_and_xml(self) -> None:
        """The test's fifth file: JSON send answers, an XML balance answer."""
        await self.round_trip("fifth")
        balance = await self.client("fifth").balance().addTimeout(TIMEOUT_S, reactor)
        self.assertEqual((balance.ok, sum(balance.amounts.values())), (True, 999_998))

    async def test_pull(self) -> None:
        """somp's lines-kv /mo answer: a report and an injected MO pulled."""
        client = self.client("somp", "puller")
        [batch] = await client_send(client, (A,))
        self.clock.advance(0)
        self.sim.inject_mo("puller", B, "01", "退订", "somp")
        records = await client.pull().addTimeout(TIMEOUT_S, reactor)
        report, mo = records
        assert isinstance(report, ReportRecord) and isinstance(mo, MoRecord)
        self.assertEqual((report.msg_id, mo.number, mo.text), (batch.msg_ids[0], B, "退订"))

    async def test_mo_pushed(self) -> None:
        """An MO injected for a push vendor reaches the receiver."""
        self.client("generic")
        await self.sim.inject_mo("acct", A, "1065", "TD", "generic")
        vendor, mo = await self.events.get().addTimeout(TIMEOUT_S, reactor)
        assert isinstance(mo, MoRecord)
        self.assertEqual((vendor, mo.number, mo.text, mo.extension), ("generic", A, "TD", "1065"))

    async def test_disconnect_after_requests(self) -> None:
        """disconnect_after_pdus 2: the second request on a connection closes it unanswered."""
        self.sim.set_policy(Policy.from_json({"faults": {"disconnect_after_pdus": 2}}))
        pool = HTTPConnectionPool(reactor)
        pool.maxPersistentPerHost = 1
        self.addCleanup(pool.closeCachedConnections)
        client = self.client("batchsm", http=HTTPClient(Agent(reactor, pool=pool)))
        got = []
        # Two connections, each closed by the server at its second request.
        for number in (A, B, A, B):
            [result] = await client_send(client, (number,), report=False)
            got.append((result.accepted, result.retry))
        self.assertEqual(got, [(True, False), (False, True)] * 2)
        self.assertEqual(len(self.sim.submits(None, None, 10)), 2)


def client_send(client: VendorClient, numbers: tuple[str, ...], **kw: Any) -> Deferred[Any]:
    """*client*'s send, failed after :data:`TIMEOUT_S` of real time."""
    return client.send(numbers, "验证码 1234", **kw).addTimeout(TIMEOUT_S, reactor)
