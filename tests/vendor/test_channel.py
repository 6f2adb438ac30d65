"""The HTTP vendor channel (:mod:`smsgw.vendor.channel`), without sockets: its HTTP
client is a fake that hands each request to a :class:`VendorSimulator` (or to a
scripted answer), and time is a ``Clock``."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.server import NOT_DONE_YET
from twisted.web.test.requesthelper import DummyRequest
from zope.interface.verify import verifyObject

from smsgw.config import parse_upstream_url
from smsgw.sp.clients import MoEvent, ReportEvent
from smsgw.sp.interfaces import IChannel, SegmentResult
from smsgw.vendor.catalogue import load_vendors
from smsgw.vendor.channel import (
    UnknownVendor,
    VendorChannel,
    VendorRefused,
    resolve_vendor,
)
from smsgw.vendor.description import Situation
from smsgw.vendor.sim import DefaultHooks, ReportChoice, VendorAccount, VendorSimulator
from tests.vendor import shipped

NUMBERS = ("13800138000", "13900139000", "13700137000")
BASE = "http://vendor.test:80"


class _Response:
    def __init__(self, code: int, body: bytes) -> None:
        self.code = code
        self._body = body

    def content(self) -> Deferred[bytes]:
        return succeed(self._body)


class FakeHttp:
    """A treq-like client: every request goes to *answer(method, path, query, body)*."""

    def __init__(self, answer: Callable[[str, str, bytes, bytes], Any]) -> None:
        self.answer = answer
        self.requests: list[tuple[str, str]] = []

    def request(self, method: str, url: str, data: Any = None, headers: Any = None) -> Any:
        parts = urlsplit(url)
        self.requests.append((method, parts.path))
        body = data if isinstance(data, bytes) else (data or b"")
        got = self.answer(method, parts.path, parts.query.encode(), body)
        if isinstance(got, Deferred):
            return got
        status, answer = got
        return succeed(_Response(status, answer))


class Undelivered(DefaultHooks):
    """Every message undelivered, reported at once."""

    def report_for(self, vendor: str, account: str, number: str) -> ReportChoice:
        return ReportChoice(False, "UNDELIV", 0.0)


class ChannelCase(SynchronousTestCase):
    """A channel for one shipped vendor talking to a simulator of it."""

    def make(self, vendor: str, query: str = "", *, hooks: Any = None, **account: Any) -> None:
        self.desc = shipped(vendor)
        self.clock = Clock()
        self.clock.advance(1_700_000_000)
        self.hooks = hooks or DefaultHooks(delay_s=1.0)
        self.sim = VendorSimulator(
            self.desc, [VendorAccount("acct", "secret", **account)], self.clock, None, self.hooks
        )
        self.http = FakeHttp(self._to_sim)
        url = f"http://acct:secret@vendor.test:80?vendor={vendor}" + (f"&{query}" if query else "")
        self.config = parse_upstream_url(url)
        self.channel = VendorChannel(
            self.config, self.clock, self.desc, BASE, name="v", http=self.http
        )
        self.events: list[Any] = []
        self.channel.on_event = self.events.append
        self.channel.startService()
        self.addCleanup(self.channel.stopService)

    def _to_sim(self, method: str, path: str, query: bytes, body: bytes) -> tuple[int, bytes]:
        status, answer, _ = self.sim.handle(method, path, query, body)
        return status, answer

    def submit(self, dests: tuple[str, ...], text: str = "hello", **kw: Any) -> Deferred[Any]:
        (segment,) = self.channel.segments(text)
        return self.channel.submit_segment(dests, segment, report=True, **kw)


class SendTests(ChannelCase):
    """Segments, batches, ids, rate limits, retries and refusals."""

    def test_interface(self) -> None:
        """The channel provides IChannel."""
        self.make("batchsm")
        self.assertTrue(verifyObject(IChannel, self.channel))

    def test_one_segment_whole_text(self) -> None:
        """Long text is one segment: the vendor splits it; any text survives (UCS2)."""
        self.make("batchsm")
        text = "您好😀" * 100
        (segment,) = self.channel.segments(text)
        self.assertEqual((segment.pk_total, segment.msg_fmt), (1, 8))
        self.assertEqual(segment.content.decode("utf-16-be"), text)

    def test_batch_limits(self) -> None:
        """max_dests is the vendor's max-numbers, or the upstream's smaller batch."""
        self.make("batchsm")
        self.assertEqual(self.channel.max_dests(True), 50_000)
        self.assertLessEqual(self.channel.capacity(), 10_000)
        self.make("batchsm", "batch=200&concurrency=2")
        self.assertEqual((self.channel.max_dests(False), self.channel.capacity()), (200, 400))

    def test_batch_in_one_request(self) -> None:
        """Three numbers go in one request and share the vendor's id."""
        self.make("batchsm")
        result = self.successResultOf(self.submit(NUMBERS))
        self.assertEqual(result.dest, NUMBERS)
        self.assertEqual(result.result, 0)
        self.assertTrue(result.msg_id)
        self.assertEqual(len(self.http.requests), 1)
        self.assertEqual([s[3] for s in self.hooks.submits], list(NUMBERS))

    def test_consecutive_ids(self) -> None:
        """consecutive_ids=1: each number gets id, id+1, … (seed 001's account option)."""
        self.make("somp", "consecutive_ids=1")
        result = self.successResultOf(self.submit(NUMBERS))
        first = int(result.msg_id)
        self.assertEqual(result.msg_ids, tuple(str(first + i) for i in range(3)))
        self.assertEqual([result.outcome(i)[0] for i in range(3)], list(result.msg_ids))

    def test_permanent_refusal_not_retried(self) -> None:
        """A bad password fails the segment with the vendor's code and text, at once."""
        self.make("batchsm")
        self.channel.client._secret = "wrong"
        failure = self.failureResultOf(self.submit(NUMBERS), VendorRefused)
        code = self.desc.code_for_situation(self.desc.operations[0], Situation.BAD_PASSWORD)
        assert code is not None
        self.assertIn(f"vendor code {code.value}", str(failure.value))
        self.assertIn(code.text, str(failure.value))
        self.assertEqual(len(self.http.requests), 1)

    def test_too_fast_retried_with_backoff(self) -> None:
        """The vendor's "too fast" answer is retried after a back-off, then accepted."""
        self.make("batchsm")
        op = self.desc.operations[0]
        too_fast = self.desc.code_for_situation(op, Situation.TOO_FAST)
        assert too_fast is not None
        answers = [f"20240101120000,{too_fast.value}\n".encode()]

        def scripted(method: str, path: str, query: bytes, body: bytes) -> tuple[int, bytes]:
            if answers:
                return 200, answers.pop()
            return self._to_sim(method, path, query, body)

        self.http.answer = scripted
        d = self.submit(NUMBERS[:1])
        self.assertNoResult(d)
        self.clock.advance(self.channel.throttle_backoff_s[0])
        self.assertEqual(self.successResultOf(d).result, 0)
        self.assertEqual(len(self.http.requests), 2)

    def test_transport_failure_retried_then_refused(self) -> None:
        """A refused connection is retried max_attempts times, then the segment fails."""
        self.make("batchsm")
        self.http.answer = lambda *a: fail(ConnectionRefusedError())
        d = self.submit(NUMBERS[:1])
        self.clock.pump([30.0] * self.channel.max_attempts)
        failure = self.failureResultOf(d, VendorRefused)
        self.assertIn("cannot connect", str(failure.value))
        self.assertEqual(len(self.http.requests), self.channel.max_attempts)

    def test_rate_limit_in_parts(self) -> None:
        """1680's rule: numbers × parts against the per-second budget, requests cut to fit."""
        self.make("kx1680", "tps=2")
        text = "x" * 71  # two parts of 70
        d = self.submit(NUMBERS, text)
        # Burst 2 = one number of two parts a request; 2 parts/s after that.
        self.assertEqual(len(self.http.requests), 1)
        self.clock.advance(1.0)
        self.assertEqual(len(self.http.requests), 2)
        self.clock.advance(1.0)
        result = self.successResultOf(d)
        self.assertEqual(len(self.http.requests), 3)
        self.assertEqual(result.results, ())
        self.assertEqual(len(set(result.msg_ids)), 3)

    def test_mixed_outcomes(self) -> None:
        """Requests of one segment answered differently: each number keeps its own result."""
        self.make("kx1680", "tps=1")
        self.sim.accounts["acct"].products = {"": 1}  # one part of balance
        d = self.submit(NUMBERS[:2], "hi")
        # One number a second; the second is out of balance, retried (a top-up may
        # come), then given up.
        self.clock.pump([1.0] + [30.0] * self.channel.max_attempts)
        result = self.successResultOf(d)
        self.assertIsInstance(result, SegmentResult)
        self.assertEqual(result.outcome(0)[1], 0)
        self.assertNotEqual(result.outcome(1)[1], 0)
        self.assertEqual(result.outcome(1)[0], "")


class InboundTests(ChannelCase):
    """Reports and MOs, pushed or pulled, become the gateway's events."""

    def push(self, kind: str, args: dict[bytes, bytes]) -> DummyRequest:
        resource = self.channel.push_resource()
        assert resource is not None
        request = DummyRequest([kind.encode()])
        request.content = io.BytesIO(b"")
        request.args = {k: [v] for k, v in args.items()}
        request.uri = (
            b"/push/v/" + kind.encode() + b"?" + b"&".join(k + b"=" + v for k, v in args.items())
        )
        child = resource.getChildWithDefault(kind.encode(), request)
        request.postpath = []
        result = child.render(request)
        if result != NOT_DONE_YET:
            request.write(result)
            request.finish()
        return request

    def test_pushed_report(self) -> None:
        """A pushed 1680 report (msgid&mobile&status) is a ReportEvent for that number."""
        self.make("kx1680")
        result = self.successResultOf(self.submit(NUMBERS[:1]))
        self.push("report", {b"msgid": result.msg_id.encode(), b"mobile": NUMBERS[0].encode(),
                             b"status": b"0"})  # fmt: skip
        (event,) = self.events
        self.assertIsInstance(event, ReportEvent)
        self.assertEqual(
            (event.msg_id, event.dest, event.delivered), (result.msg_id, NUMBERS[0], True)
        )

    def test_push_answered_once_stored(self) -> None:
        """The vendor hears "ok" only once the gateway stored the record; 500 when it failed."""
        self.make("kx1680")
        stored: Deferred[None] = Deferred()
        self.channel.on_event = lambda event: stored
        request = self.push(
            "report", {b"msgid": b"1", b"mobile": NUMBERS[0].encode(), b"status": b"0"}
        )
        self.assertEqual(request.finished, 0)
        stored.callback(None)
        self.assertEqual(request.finished, 1)
        self.channel.on_event = lambda event: fail(RuntimeError("disk full"))
        request = self.push(
            "report", {b"msgid": b"2", b"mobile": NUMBERS[0].encode(), b"status": b"0"}
        )
        self.assertEqual(request.responseCode, 500)
        self.flushLoggedErrors(RuntimeError)

    def test_pushed_mo(self) -> None:
        """A pushed MO is an MoEvent from the number to src_id + extension, in UCS2."""
        self.make("kx1680")
        self.push("mo", {b"mobile": NUMBERS[1].encode(), b"content": b"%E4%BD%A0%E5%A5%BD",
                         b"xh": b"01"})  # fmt: skip
        (event,) = self.events
        self.assertIsInstance(event, MoEvent)
        self.assertEqual((event.sender, event.to), (NUMBERS[1], "01"))
        self.assertEqual(event.content.decode("utf-16-be"), "你好")

    def test_push_token(self) -> None:
        """With push_token, the pushes live under /push/CHANNEL/TOKEN/."""
        self.make("kx1680", "push_token=s3cr3t")
        resource = self.channel.push_resource()
        assert resource is not None
        self.assertIn(b"s3cr3t", resource.children)
        self.assertNotIn(b"report", resource.children)

    def test_pull(self) -> None:
        """A pulled vendor (seed 001 /mo): reports and MOs held there become events."""
        self.make("somp", hooks=Undelivered())
        result = self.successResultOf(self.submit(NUMBERS[:2]))
        self.sim.inject_mo("acct", NUMBERS[2], "回复", "88")
        self.clock.advance(0)
        self.successResultOf(Deferred.fromCoroutine(self.channel.pull_once()))
        reports = [e for e in self.events if isinstance(e, ReportEvent)]
        mos = [e for e in self.events if isinstance(e, MoEvent)]
        self.assertEqual(sorted(e.dest for e in reports), sorted(NUMBERS[:2]))
        self.assertEqual({e.msg_id for e in reports}, {result.msg_id})
        self.assertFalse(any(e.delivered for e in reports))
        self.assertEqual(mos[0].content.decode("utf-16-be"), "回复")
        self.assertEqual(self.sim.pending.get("acct"), type(self.sim.pending.get("acct"))())

    def test_pull_timer(self) -> None:
        """The channel pulls every ``pull`` seconds while it runs."""
        self.make("somp", "pull=7")
        before = len(self.http.requests)
        self.clock.advance(7)
        self.assertEqual(len(self.http.requests), before + 1)
        self.assertEqual(self.http.requests[-1][1], "/mo")

    def test_no_pull_for_push_vendor(self) -> None:
        """A vendor without pull is never polled."""
        self.make("batchsm")
        self.clock.advance(60)
        self.assertEqual(self.http.requests, [])


class BalanceTests(ChannelCase):
    """The vendor's balance, asked through its file and cached."""

    def test_balance_cached(self) -> None:
        """A second ask within balance_cache is answered from the cache."""
        self.make("kx1680", "balance_cache=30", products={"": 1234})
        first = self.successResultOf(self.channel.balance())
        self.assertEqual((first.protocol, first.balance), ("http:kx1680", 1234.0))
        self.successResultOf(self.submit(NUMBERS[:1]))
        again = self.successResultOf(self.channel.balance())
        self.assertEqual(again.balance, 1234.0)
        self.clock.advance(31)
        later = self.successResultOf(self.channel.balance())
        self.assertEqual(later.balance, 1233.0)
        self.assertEqual([p for _, p in self.http.requests].count("/balance.do"), 2)

    def test_balance_per_product(self) -> None:
        """Seed 002's per-product lines: the configured product's amount, all kept."""
        self.make("batchsm", "product=p2", products={"p1": 10, "p2": 20})
        balance = self.successResultOf(self.channel.balance())
        self.assertEqual(balance.balance, 20.0)
        self.assertEqual(balance.products, {"p1": 10.0, "p2": 20.0})

    def test_balance_refused_not_cached(self) -> None:
        """A refused query says why (the vendor's code) and is asked again next time."""
        self.make("kx1680")
        self.channel.client._secret = "wrong"
        balance = self.successResultOf(self.channel.balance())
        self.assertIsNone(balance.balance)
        self.assertIn("vendor code", balance.reason or "")
        self.successResultOf(self.channel.balance())
        self.assertEqual(len(self.http.requests), 2)

    def test_unexpected_error_releases_waiters(self) -> None:
        """An unexpected failure reaches every waiter, and the next ask asks again."""
        self.make("kx1680")
        pending: Deferred[Any] = Deferred()
        self.channel.client.balance = lambda: pending  # type: ignore[method-assign]
        first, second = self.channel.balance(), self.channel.balance()
        pending.errback(RuntimeError("bug"))
        self.failureResultOf(first, RuntimeError)
        self.failureResultOf(second, RuntimeError)
        self.channel.client.balance = lambda: Deferred()  # type: ignore[method-assign]
        self.assertNoResult(self.channel.balance())

    def test_one_query_at_a_time(self) -> None:
        """Asks while a query is out wait for its answer."""
        self.make("kx1680")
        pending: Deferred[Any] = Deferred()
        self.http.answer = lambda *a: pending
        first, second = self.channel.balance(), self.channel.balance()
        pending.callback(_Response(200, b"77"))
        self.assertEqual(self.successResultOf(first).balance, 77.0)
        self.assertEqual(self.successResultOf(second).balance, 77.0)
        self.assertEqual(len(self.http.requests), 1)


class ResolveTests(SynchronousTestCase):
    """Which vendor an http:// upstream is, and its base URL."""

    def setUp(self) -> None:
        self.vendors = load_vendors()

    def resolve(self, url: str) -> tuple[str, str]:
        desc, base = resolve_vendor(parse_upstream_url(url), self.vendors)
        return desc.name, base

    def test_named(self) -> None:
        """vendor=NAME picks the file; the URL's path is the base."""
        self.assertEqual(
            self.resolve("http://a:b@127.0.0.1:8088/batchsm?vendor=batchsm"),
            ("batchsm", "http://127.0.0.1:8088/batchsm"),
        )

    def test_recognised(self) -> None:
        """Without vendor=, the files' <match> recognise the URL; the matched path is dropped."""
        self.assertEqual(
            self.resolve("https://a:b@api.1680.me/sendXSms.do"),
            ("kx1680", "https://api.1680.me:443"),
        )
        self.assertEqual(
            self.resolve("http://a:b@127.0.0.1:8088/somp/mt"),
            ("somp", "http://127.0.0.1:8088/somp"),
        )

    def test_unknown(self) -> None:
        """An unknown name, or a URL nothing recognises, is refused naming the known vendors."""
        for url in ("http://a:b@h/x?vendor=nosuch", "http://a:b@h/x"):
            error = self.assertRaises(UnknownVendor, self.resolve, url)
            self.assertIn("somp", str(error))
