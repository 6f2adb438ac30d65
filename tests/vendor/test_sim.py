"""The vendor simulator (:mod:`smsgw.vendor.sim`): each vendor's own error code for
each bad input, balances per message part, ids, reports held for pull, pushes."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from smsgw.vendor.answers import (
    Answer,
    MoRecord,
    ReportRecord,
    parse_answer,
    parse_balance,
    parse_mo,
    parse_pull,
    parse_report,
)
from smsgw.vendor.codec import SendValues, build_request, parse_query
from smsgw.vendor.description import Kind, Outcome
from smsgw.vendor.sim import (
    DefaultHooks,
    IVendorHooks,
    ReportChoice,
    VendorAccount,
    VendorSimulator,
    render_template,
)
from tests.vendor import shipped

NUMBER = "13800138000"


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


class SimCase(SynchronousTestCase):
    """A simulator for one shipped vendor and a way to send it requests."""

    def make(self, vendor: str, **account: Any) -> VendorSimulator:
        self.desc = shipped(vendor)
        self.clock = Clock()
        self.clock.advance(1_700_000_000)
        self.http = FakeHttp()
        self.hooks = DefaultHooks(delay_s=2.0)
        account.setdefault("products", {"p1": 100, "p2": 5})
        self.sim = VendorSimulator(
            self.desc,
            [VendorAccount("acct", "secret", **account)],
            self.clock,
            self.http,
            self.hooks,
        )
        return self.sim

    def call(
        self, kind: Kind, values: SendValues, *, secret: str = "secret", account: str = "acct"
    ) -> Answer:
        op = self.desc.operation(kind)
        assert op is not None
        req = build_request(self.desc, op, "", account, secret, values, self.clock.seconds())
        parts = urlsplit(req.url)
        status, body, _ = self.sim.handle(
            req.method, parts.path, parts.query.encode(), req.body or b""
        )
        self.assertEqual(status, 200)
        if kind is Kind.BALANCE:
            return parse_balance(self.desc, op, status, body).answer
        return parse_answer(self.desc, op, status, body)

    def send(self, numbers: tuple[str, ...] = (NUMBER,), text: str = "hi", **kw: Any) -> Answer:
        kw.setdefault("product", "p1")
        secret = kw.pop("secret", "secret")
        account = kw.pop("account", "acct")
        return self.call(
            Kind.SEND, SendValues(numbers=numbers, text=text, **kw), secret=secret, account=account
        )


class SituationTests(SimCase):
    """Each bad input gets the vendor's own code."""

    def test_hooks_interface(self) -> None:
        """DefaultHooks provides IVendorHooks."""
        self.assertTrue(verifyObject(IVendorHooks, DefaultHooks()))

    def test_accepted(self) -> None:
        """Every vendor accepts a good send with a message id."""
        for vendor in ("somp", "batchsm", "kx1680", "generic"):
            self.make(vendor)
            got = self.send()
            self.assertEqual((vendor, got.outcome), (vendor, Outcome.ACCEPTED))
            self.assertIsNotNone(got.msg_id)

    def test_bad_password(self) -> None:
        """A wrong password: 9101, 102, -1, error:APIKEY or password error."""
        expect = {"somp": "9101", "batchsm": "102", "kx1680": "-1", "generic": "error"}
        for vendor, code in expect.items():
            self.make(vendor)
            got = self.send(secret="wrong")
            self.assertEqual((vendor, got.code, got.outcome), (vendor, code, Outcome.AUTH))

    def test_unknown_account(self) -> None:
        """An unknown account: seed 002's 101."""
        self.make("batchsm")
        self.assertEqual(self.send(account="nobody").code, "101")

    def test_unknown_product(self) -> None:
        """An unknown product: 112 (seed 002), 11 (1680)."""
        for vendor, code in (("batchsm", "112"), ("kx1680", "11")):
            self.make(vendor)
            self.assertEqual(self.send(product="p9").code, code)

    def test_too_many_numbers(self) -> None:
        """More numbers than the vendor takes: 9030, 10."""
        for vendor, code in (("somp", "9030"), ("kx1680", "10")):
            self.make(vendor)
            numbers = tuple(f"138{i:08d}" for i in range(1001))
            self.assertEqual(self.send(numbers=numbers).code, code)

    def test_missing_parameter(self) -> None:
        """A request without a required parameter: seed 000's error:Missing recipient."""
        sim = self.make("generic")
        status, body, _ = sim.handle("POST", "/sms/send", b"", b"username=acct&content=x")
        self.assertEqual((status, body), (200, b"error:Missing recipient"))

    def test_too_fast(self) -> None:
        """1680 §4.3: numbers × ceil(len/70) over the per-second budget is code 5."""
        self.make("kx1680", tps=10)
        numbers = tuple(f"138{i:08d}" for i in range(5))
        self.assertEqual(self.send(numbers=numbers, text="x" * 71).outcome, Outcome.ACCEPTED)
        got = self.send(numbers=numbers[:1], text="x")
        self.assertEqual((got.code, got.outcome), ("5", Outcome.THROTTLED))
        self.clock.advance(1.0)
        self.assertEqual(self.send(numbers=numbers[:1], text="x").outcome, Outcome.ACCEPTED)

    def test_out_of_balance(self) -> None:
        """The balance goes down per part; past it, 109 (seed 002)."""
        sim = self.make("batchsm", products={"p1": 3})
        self.assertEqual(self.send(text="x" * 71).outcome, Outcome.ACCEPTED)  # 2 parts
        self.assertEqual(sim.balance("acct", "p1"), 1)
        got = self.send(numbers=(NUMBER, "13900139000"))
        self.assertEqual((got.code, got.outcome), ("109", Outcome.BALANCE))
        self.assertEqual(sim.balance("acct", "p1"), 1)

    def test_balance_query(self) -> None:
        """Seed 002 QueryBalance lists every product."""
        self.make("batchsm")
        op = self.desc.operation(Kind.BALANCE)
        assert op is not None
        req = build_request(self.desc, op, "", "acct", "secret", SendValues(), 0)
        parts = urlsplit(req.url)
        status, body, _ = self.sim.handle("GET", parts.path, parts.query.encode(), b"")
        self.assertEqual(parse_balance(self.desc, op, status, body).amounts, {"p1": 100, "p2": 5})

    def test_access_log_without_query(self) -> None:
        """The simulator's access log line leaves out the query (it holds the password)."""
        from twisted.web.test.requesthelper import DummyRequest

        from smsgw.vendor.sim import path_only_log_formatter

        request = DummyRequest([b"mt"])
        request.uri = b"/mt?un=acct&pw=Sup3rS3cret"
        request.method = b"GET"
        request.clientproto = b"HTTP/1.1"
        request.code = 200
        request.sentLength = 2
        line = path_only_log_formatter("[t]", request)
        self.assertIn("/mt?...", line)
        self.assertNotIn("Sup3rS3cret", line)
        self.assertEqual(request.uri, b"/mt?un=acct&pw=Sup3rS3cret")

    def test_get_on_post_only(self) -> None:
        """A GET to a POST-only endpoint is 405."""
        sim = self.make("kx1680")
        self.assertEqual(sim.handle("GET", "/sendXSms.do", b"", b"")[0], 405)

    def test_unknown_path(self) -> None:
        """A path the vendor does not serve is 404."""
        self.assertEqual(self.make("somp").handle("GET", "/nope", b"", b"")[0], 404)

    def test_template(self) -> None:
        """1680 sendDIYSms renders {PHONE} and {A}… per number."""
        self.make("kx1680")
        values = SendValues(
            numbers=(NUMBER,), text="{A}你好，手机号{PHONE}", values=(("李先生",),), product="p1"
        )
        self.assertEqual(self.call(Kind.SEND_TEMPLATE, values).outcome, Outcome.ACCEPTED)
        self.assertEqual(self.hooks.submits[0][3:], (NUMBER, "李先生你好，手机号13800138000"))
        self.assertEqual(render_template("{B}{A}", "1", ["a", "b"]), "ba")


class ReportTests(SimCase):
    """Reports and MOs, pushed and held."""

    def test_push(self) -> None:
        """A report is pushed to the account's URL after the hooks' delay."""
        self.make("batchsm", report_url="http://sp.invalid/report?k=1")
        got = self.send()
        self.assertEqual(self.http.urls, [])
        self.clock.advance(2.0)
        [url] = self.http.urls
        self.assertTrue(url.startswith("http://sp.invalid/report?k=1&"))
        args = {k.decode(): v for k, v in parse_query(urlsplit(url).query.encode())}
        rec = parse_report(self.desc, args)
        self.assertEqual((rec.msg_id, rec.number, rec.delivered), (got.msg_id, NUMBER, True))
        self.assertEqual(self.sim.pushed, 1)

    def test_pushes_bounded(self) -> None:
        """A burst of reports is pushed push_concurrency at a time; the rest wait their turn."""
        self.make("batchsm", report_url="http://sp.invalid/report")
        pending: list[Deferred[Any]] = []

        def get(url: str) -> Deferred[Any]:
            pending.append(Deferred())
            return pending[-1]

        self.http.get = get  # type: ignore[method-assign]
        numbers = tuple(f"1380013{i:04d}" for i in range(self.sim.push_concurrency + 4))
        self.send(numbers=numbers)
        self.clock.advance(2.0)
        self.assertEqual(len(pending), self.sim.push_concurrency)
        pending[0].callback(FakeHttp().get("x").result)
        self.assertEqual(len(pending), self.sim.push_concurrency + 1)
        self.assertEqual(self.sim.pushed, 1)

    def test_push_retried_then_held(self) -> None:
        """A failing push is tried push_attempts times with back-off, then held for pull."""
        self.make("somp", report_url="http://sp.invalid/report")
        calls: list[str] = []

        def get(url: str) -> Deferred[Any]:
            calls.append(url)
            return fail(ConnectionRefusedError())

        self.http.get = get  # type: ignore[method-assign]
        self.send()
        self.clock.advance(2.0)
        self.assertEqual(len(calls), 1)
        self.clock.pump([1.0, 2.0])
        self.assertEqual(len(calls), self.sim.push_attempts)
        self.assertEqual(self.sim.push_failures, 1)
        self.assertEqual(len(self.sim.pending["acct"]), 1)

    def test_failed_report(self) -> None:
        """A failed message's report carries the vendor's failure word."""

        class Undeliv(DefaultHooks):
            def report_for(self, vendor: str, account: str, number: str) -> ReportChoice:
                return ReportChoice(False, "UNDELIV", 0.5)

        self.make("generic", report_url="http://sp.invalid/r")
        self.sim.hooks = Undeliv()
        self.send()
        self.clock.advance(1)
        args = {k.decode(): v for k, v in parse_query(urlsplit(self.http.urls[0]).query.encode())}
        rec = parse_report(self.desc, args)
        self.assertEqual((rec.stat, rec.delivered, rec.error), ("2", False, "UNDELIV"))

    def test_held_for_pull(self) -> None:
        """Without a report URL seed 001 holds reports and MOs for /mo."""
        sim = self.make("somp")
        got = self.send(numbers=(NUMBER, "13900139000"))
        self.clock.advance(2.0)
        sim.inject_mo("acct", NUMBER, "查询", "8888")
        op = self.desc.operation(Kind.PULL)
        assert op is not None
        req = build_request(self.desc, op, "", "acct", "secret", SendValues(fetch_size=2), 0)
        parts = urlsplit(req.url)
        body = sim.handle("GET", parts.path, parts.query.encode(), b"")[1]
        first = parse_pull(self.desc, op, 200, body).records
        self.assertEqual([r.number for r in first], [NUMBER, "13900139000"])
        self.assertTrue(all(isinstance(r, ReportRecord) and r.msg_id == got.msg_id for r in first))
        body = sim.handle("GET", parts.path, parts.query.encode(), b"")[1]
        [mo] = parse_pull(self.desc, op, 200, body).records
        self.assertEqual(mo, MoRecord(NUMBER, "查询", "8888", mo.received_at))

    def test_mo_push(self) -> None:
        """1680 pushes an MO as mobile&content&xh."""
        sim = self.make("kx1680", mo_url="http://sp.invalid/mo")
        sim.inject_mo("acct", NUMBER, "退订", "11")
        args = {k.decode(): v for k, v in parse_query(urlsplit(self.http.urls[0]).query.encode())}
        self.assertEqual(parse_mo(self.desc, args), MoRecord(NUMBER, "退订", "11"))

    def test_rd_absent_means_no_report(self) -> None:
        """Seed 001 §9: an absent integer parameter is 0, so no rd means no report."""
        sim = self.make("somp", report_url="http://sp.invalid/r")
        op = self.desc.operation(Kind.SEND)
        assert op is not None
        req = build_request(
            self.desc, op, "", "acct", "secret", SendValues(numbers=(NUMBER,), text="x"), 0
        )
        query = urlsplit(req.url).query.replace("&rd=1", "")
        self.assertEqual(sim.handle("GET", "/mt", query.encode(), b"")[0], 200)
        self.clock.advance(10)
        self.assertEqual((len(self.hooks.submits), self.http.urls), (1, []))

    def test_no_report_requested(self) -> None:
        """needstatus=false: no report is scheduled."""
        self.make("batchsm", report_url="http://sp.invalid/r")
        self.send(need_report=False)
        self.clock.advance(10)
        self.assertEqual(self.http.urls, [])
