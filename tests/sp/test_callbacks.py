"""Pushing reports and MOs to the application (:class:`smsgw.sp.callbacks.CallbackSender`).

The retry tests POST with treq to a real :class:`~twisted.web.server.Site`
on ``127.0.0.1`` (an ephemeral port) whose answers the test scripts; the
rest check, on a Clock, what the gateway stores for the sender to push.
"""

from __future__ import annotations

import json
from typing import Any

from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.protocol import Protocol
from twisted.internet.task import Clock, deferLater
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from smsgw.sp.callbacks import CallbackSender
from smsgw.store.memory import MemoryStore
from smsgw.store.model import CallbackAttempt, CallbackState, InboundKind
from tests.sp.test_channel import closed_port, wait_until, within
from tests.sp.test_gateway import MOBILE, GatewayHarness, request

REPORT_URL = "http://app.invalid/report"
MO_URL = "http://app.invalid/mo"


def callbacks(case: SynchronousTestCase | TestCase, store: MemoryStore) -> list[CallbackAttempt]:
    """Every callback the store holds, by id."""
    found = []
    for callback_id in range(1, 100):
        attempt = case.successResultOf(store.get_callback(callback_id))
        if attempt is None:
            break
        found.append(attempt)
    return found


class _App(Resource):
    """The application's callback URL: answers the scripted statuses, then 200."""

    isLeaf = True

    def __init__(self, statuses: list[int]) -> None:
        super().__init__()
        self.statuses = list(statuses)
        #: (reactor time, body) of every POST received.
        self.hits: list[tuple[float, bytes]] = []

    def render_POST(self, request: Request) -> bytes:
        assert request.content is not None
        self.hits.append((reactor.seconds(), request.content.read()))
        request.setResponseCode(self.statuses.pop(0) if self.statuses else 200)
        return b"ok"


class _TrackingSite(Site):
    """A Site that knows its open connections, so a test can wait for them to close."""

    def __init__(self, resource: Resource) -> None:
        super().__init__(resource)
        self.noisy = False
        self.open: set[Protocol] = set()

    def buildProtocol(self, addr: Any) -> Any:
        protocol = super().buildProtocol(addr)
        self.open.add(protocol)
        lost = protocol.connectionLost

        def connection_lost(reason: Any) -> None:
            self.open.discard(protocol)
            lost(reason)

        protocol.connectionLost = connection_lost
        return protocol


class LiveCallbackTests(TestCase):
    """Retries against a real local HTTP server; every wait bounded."""

    timeout = 10

    def setUp(self) -> None:
        self.store = MemoryStore()
        pool = HTTPConnectionPool(reactor, persistent=False)
        self.http = HTTPClient(Agent(reactor, pool=pool))
        self.addCleanup(pool.closeCachedConnections)

    def serve(self, statuses: list[int]) -> tuple[_App, str]:
        """A local app answering *statuses* then 200; its URL."""
        app = _App(statuses)
        site = _TrackingSite(app)
        port = reactor.listenTCP(0, site, interface="127.0.0.1")

        async def close() -> None:
            await port.stopListening()
            await wait_until(lambda: not site.open, "the app's connections to close")

        self.addCleanup(close)
        return app, f"http://127.0.0.1:{port.getHost().port}/cb"

    def sender(self, url: str, **settings: Any) -> CallbackSender:
        """A started sender pushing reports to *url*, fast back-off; stopped on cleanup."""
        sender = CallbackSender(self.store, reactor, {InboundKind.REPORT: url}, self.http)
        sender.backoff_s = (0.1, 1.0)
        sender.poll_s = 0.02
        for name, value in settings.items():
            setattr(sender, name, value)
        sender.start()
        self.addCleanup(sender.stop)
        return sender

    async def enqueue(self, sender: CallbackSender, payload: dict[str, Any]) -> int:
        callback_id: int = await sender.enqueue(InboundKind.REPORT, payload)
        return callback_id

    def state(self, callback_id: int) -> CallbackAttempt:
        """The callback as stored now (the MemoryStore answers at once)."""
        attempt = self.successResultOf(self.store.get_callback(callback_id))
        assert attempt is not None
        return attempt

    async def until(self, callback_id: int, state: CallbackState) -> CallbackAttempt:
        """The callback once it is in *state* (bounded wait)."""
        await wait_until(lambda: self.state(callback_id).state is state, f"callback {state}")
        return self.state(callback_id)

    async def test_retried_with_backoff_until_done(self) -> None:
        """Two 500s, then 200: three POSTs spaced by the back-off, then done."""
        app, url = self.serve([500, 500])
        sender = self.sender(url)
        payload = {"type": "report", "msg_id": "1", "stat": "DELIVRD", "text": "你好"}
        callback_id = await self.enqueue(sender, payload)
        attempt = await self.until(callback_id, CallbackState.DONE)
        self.assertEqual(attempt.attempts, 3)
        self.assertEqual([json.loads(body) for _, body in app.hits], [payload] * 3)
        (t1, _), (t2, _), (t3, _) = app.hits
        self.assertGreaterEqual(t2 - t1, 0.1 - 1e-3)
        self.assertGreaterEqual(t3 - t2, 0.2 - 1e-3)

    async def test_gives_up_after_max_attempts(self) -> None:
        """After max_attempts failures the callback is recorded as failed, not tried again."""
        app, url = self.serve([500] * 10)
        sender = self.sender(url, max_attempts=3)
        callback_id = await self.enqueue(sender, {"type": "report"})
        attempt = await self.until(callback_id, CallbackState.FAILED)
        self.assertEqual((attempt.attempts, attempt.next_at), (3, None))
        self.assertIn("500", attempt.last_error or "")
        # Given up means given up: a while later there was no fourth POST.
        await within(deferLater(reactor, 0.5, lambda: None))
        self.assertEqual(len(app.hits), 3)

    async def test_unreachable_url(self) -> None:
        """A refused connection is a failed attempt too, with its reason recorded."""
        port = await closed_port()
        sender = self.sender(f"http://127.0.0.1:{port}/cb", max_attempts=2)
        callback_id = await self.enqueue(sender, {"type": "report"})
        attempt = await self.until(callback_id, CallbackState.FAILED)
        self.assertEqual(attempt.attempts, 2)
        self.assertTrue(attempt.last_error)


class _NoHttp:
    """An http client that must not be used."""

    def post(self, *args: Any, **kwargs: Any) -> Deferred[Any]:
        raise AssertionError("no POST expected")


class GatewayCallbackTests(SynchronousTestCase):
    """What the gateway asks the sender to push."""

    def harness(self, urls: dict[InboundKind, str]) -> GatewayHarness:
        store = MemoryStore()
        harness = GatewayHarness(self, store=store, start=False)
        sender = CallbackSender(store, harness.clock, urls, _NoHttp())
        harness.gateway.callbacks = sender
        harness.gateway.startService()
        self.addCleanup(harness.stop)
        return harness

    def test_report_enqueues_report_callback(self) -> None:
        """A matched report stores a report callback with the JSON payload."""
        h = self.harness({InboundKind.REPORT: REPORT_URL, InboundKind.MO: MO_URL})
        mobile = h.channel["mobile"]
        message_id = h.send(request(MOBILE)).message.id
        [msg_id] = mobile.answer_all()
        self.assertEqual(callbacks(self, h.store), [])
        mobile.report(msg_id, "DELIVRD", MOBILE)
        [attempt] = callbacks(self, h.store)
        self.assertEqual(
            (attempt.kind, attempt.url, attempt.state),
            (InboundKind.REPORT, REPORT_URL, CallbackState.PENDING),
        )
        now = h.clock.seconds()
        self.assertEqual(attempt.next_at, now)
        payload = json.loads(attempt.payload)
        self.assertEqual(
            payload,
            {
                "type": "report",
                "channel": "mobile",
                "message_id": message_id,
                "external_id": None,
                "to": MOBILE,
                "msg_id": msg_id,
                "pk_number": 1,
                "pk_total": 1,
                "stat": "DELIVRD",
                "err": "",
                "segment_status": "delivered",
                "message_status": "delivered",
                "done_at": now,
                "received_at": now,
            },
        )
        # The pull item is the same payload.
        [item] = h.inbound()
        self.assertEqual(dict(item.fields), payload)

    def test_held_report_enqueues_when_matched(self) -> None:
        """A report that overtook its SUBMIT_RESP is pushed once it is matched."""
        h = self.harness({InboundKind.REPORT: REPORT_URL})
        mobile = h.channel["mobile"]
        h.send(request(MOBILE))
        mobile.report("early", "UNDELIV", MOBILE)
        self.assertEqual(callbacks(self, h.store), [])
        mobile.answer(mobile.calls[0], "early")
        [attempt] = callbacks(self, h.store)
        payload = json.loads(attempt.payload)
        self.assertEqual(
            (payload["msg_id"], payload["segment_status"], payload["message_status"]),
            ("early", "undelivered", "undelivered"),
        )

    def test_repeated_report_pushed_once(self) -> None:
        """A repeated report is not pushed again."""
        h = self.harness({InboundKind.REPORT: REPORT_URL})
        mobile = h.channel["mobile"]
        h.send(request(MOBILE))
        [msg_id] = mobile.answer_all()
        mobile.report(msg_id, "DELIVRD", MOBILE)
        mobile.report(msg_id, "DELIVRD", MOBILE)
        self.assertEqual(len(callbacks(self, h.store)), 1)

    def test_mo_enqueues_mo_callback(self) -> None:
        """An MO stores an mo callback to the MO URL."""
        h = self.harness({InboundKind.REPORT: REPORT_URL, InboundKind.MO: MO_URL})
        self.successResultOf(h.channel["mobile"].mo(b"TD", msg_id="mo-1"))
        [attempt] = callbacks(self, h.store)
        self.assertEqual((attempt.kind, attempt.url), (InboundKind.MO, MO_URL))
        payload = json.loads(attempt.payload)
        self.assertEqual(
            (payload["type"], payload["channel"], payload["from"], payload["text"]),
            ("mo", "mobile", MOBILE, "TD"),
        )
        self.assertEqual(payload["msg_id"], "mo-1")
        [item] = h.inbound()
        self.assertEqual(dict(item.fields), payload)

    def test_repeated_mo_pushed_once(self) -> None:
        """The same MO delivered twice is pushed once."""
        h = self.harness({InboundKind.MO: MO_URL})
        h.channel["mobile"].mo(b"TD", msg_id="mo-1")
        h.channel["mobile"].mo(b"TD", msg_id="mo-1")
        self.assertEqual(len(callbacks(self, h.store)), 1)

    def test_no_url_nothing_stored(self) -> None:
        """With no URL for a kind, nothing is stored for it."""
        h = self.harness({InboundKind.REPORT: REPORT_URL})
        h.channel["mobile"].mo(b"TD", msg_id="mo-1")
        self.assertEqual(callbacks(self, h.store), [])
        h = self.harness({})
        mobile = h.channel["mobile"]
        h.send(request(MOBILE))
        [msg_id] = mobile.answer_all()
        mobile.report(msg_id, "DELIVRD", MOBILE)
        self.assertEqual(callbacks(self, h.store), [])
        sender = CallbackSender(h.store, h.clock, {}, _NoHttp())
        self.assertIsNone(self.successResultOf(sender.enqueue(InboundKind.REPORT, {"a": 1})))
        self.assertEqual(callbacks(self, h.store), [])

    def test_poll_sends_due_callbacks(self) -> None:
        """poll() POSTs a due callback's JSON with a timeout and records the answer."""
        store = MemoryStore()
        posts: list[tuple[str, dict[str, Any]]] = []
        answers: list[Deferred[Any]] = []

        class Http:
            def post(self, url: str, **kwargs: Any) -> Deferred[Any]:
                posts.append((url, kwargs))
                answers.append(Deferred())
                return answers[-1]

        class Response:
            code = 204

        clock = Clock()
        sender = CallbackSender(store, clock, {InboundKind.REPORT: REPORT_URL}, Http())
        callback_id = self.successResultOf(sender.enqueue(InboundKind.REPORT, {"a": 1}))
        sender.poll()
        sender.poll()  # a callback being sent is not sent twice
        [(url, kwargs)] = posts
        self.assertEqual((url, json.loads(kwargs["data"])), (REPORT_URL, {"a": 1}))
        self.assertEqual(kwargs["timeout"], sender.timeout_s)
        answers[0].callback(Response())
        attempt = self.successResultOf(store.get_callback(callback_id))
        assert attempt is not None
        self.assertEqual((attempt.state, attempt.attempts), (CallbackState.DONE, 1))
