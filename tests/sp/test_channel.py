"""The SP side's CMPP channel against the fake ISMG over loopback TCP (:mod:`smsgw.sp.channel`).

:class:`~smsgw.sp.channel.CmppChannel` runs its links under
``ClientService``, so these tests use the real reactor and a
:class:`~smsgw.ismg.simulator.Simulator` listening on ``127.0.0.1`` (an
ephemeral port).  Every wait is bounded, and every port, link and timer is
gone when a test ends.

The helpers here (:class:`LiveSimulator`, :func:`start_channel`,
:func:`within`, :func:`wait_until`) are shared with
:mod:`tests.ismg.test_live`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from automat import NoTransition
from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import Service
from twisted.internet import reactor
from twisted.internet.defer import Deferred, DeferredList, DeferredQueue
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import deferLater
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from smsgw.config import UpstreamConfig, parse_upstream_url
from smsgw.config.policy import FaultPolicy, Policy, ReportPolicy
from smsgw.ismg.simulator import Account, Simulator
from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.codec import decode_report
from smsgw.protocols.cmpp.constants import Result
from smsgw.protocols.cmpp.face import cmpp_factory
from smsgw.protocols.cmpp.msgid import unpack_msg_id
from smsgw.protocols.dispatch import SessionClosed
from smsgw.protocols.session import Session, SessionConfig, State
from smsgw.sp import channel as channel_module
from smsgw.sp import clients
from smsgw.sp.channel import Channel, CmppChannel, SegmentResult, SubmitFailed
from smsgw.sp.clients import MoEvent, ReportEvent
from smsgw.sp.interfaces import Balance, IChannel
from smsgw.text import MsgFmt, decode_text, split_text

T = TypeVar("T")

SP_ID = "901234"
SECRET = "s3cret"
SRC = "1065901234"
DEST = "13800138000"
GATEWAY = 1001
#: The longest any single wait in these tests may take, in seconds.
TIMEOUT_S = 8.0


def within(d: Deferred[T], seconds: float = TIMEOUT_S) -> Deferred[T]:
    """*d*, failed with ``TimeoutError`` (and cancelled) after *seconds*."""
    return d.addTimeout(seconds, reactor)


def run(coro: Coroutine[Any, Any, T], seconds: float = TIMEOUT_S) -> Deferred[T]:
    """A coroutine as a Deferred bounded by *seconds*."""
    return within(Deferred.fromCoroutine(coro), seconds)


def peek(d: Deferred[T]) -> Deferred[T]:
    """A new Deferred with *d*'s result, leaving *d*'s own result in place."""
    out: Deferred[T] = Deferred()

    def copy(result: Any) -> Any:
        out.callback(result)
        return result

    d.addCallback(copy)
    return out


async def wait_until(
    predicate: Callable[[], object], what: str, timeout_s: float = 5.0, step_s: float = 0.01
) -> None:
    """Poll *predicate* on the reactor until it is true; fail after *timeout_s*."""
    deadline = reactor.seconds() + timeout_s
    while not predicate():
        if reactor.seconds() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await deferLater(reactor, step_s, lambda: None)


def submit_pdu(dest: str = DEST, *, report: bool = False, text: str = "hello") -> p.Submit:
    """A one-segment ASCII SUBMIT; Src_Id, Service_Id and Msg_src come from the channel."""
    return p.Submit(
        registered_delivery=1 if report else 0,
        msg_fmt=0,
        dest_terminal_ids=(dest.encode(),),
        msg_content=text.encode(),
    )


async def closed_port() -> int:
    """A loopback port number that nothing listens on (bound, then closed)."""
    port = reactor.listenTCP(0, Factory(), interface="127.0.0.1")
    number: int = port.getHost().port
    await port.stopListening()
    return number


class LiveSimulator:
    """A :class:`Simulator` listening on an ephemeral loopback port for one test.

    On cleanup it stops listening, drops the server side of every link still
    open and cancels the reports not yet due, so the reactor is left clean.
    """

    def __init__(
        self,
        testcase: TestCase,
        *accounts: Account,
        policy: Policy | None = None,
        config: SessionConfig | None = None,
    ) -> None:
        self.sim = Simulator(
            reactor, accounts or [Account(SP_ID, SECRET.encode())], gateway_code=GATEWAY,
            policy=policy,
        )  # fmt: skip
        factory = cmpp_factory(
            self.sim, config or SessionConfig(response_timeout_s=2.0, keepalive_s=None)
        )
        #: Every server-side session, logged in or not.
        self.sessions: list[Session] = []
        build = factory.buildProtocol

        def build_and_track(addr: Any) -> Session:
            session = build(addr)
            self.sessions.append(session)
            return session

        factory.buildProtocol = build_and_track  # type: ignore[method-assign]
        self.port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.port_number: int = self.port.getHost().port
        testcase.addCleanup(self.close)

    def drop_links(self) -> None:
        """Abort the server side of every open link."""
        for session in self.sessions:
            if session.state is not State.CLOSED and session.transport is not None:
                session.transport.abortConnection()  # type: ignore[attr-defined]

    async def close(self) -> None:
        self.sim.pending_reports.clear()
        await self.port.stopListening()
        self.drop_links()
        await within(DeferredList([s.when_closed() for s in self.sessions]))


def start_channel(
    testcase: TestCase,
    port: int,
    on_deliver: Callable[[p.Deliver, Session], Any] | None = None,
    *,
    on_event: Callable[[Any], Any] | None = None,
    query: str = "",
    account: str = SP_ID,
    secret: str = SECRET,
) -> CmppChannel:
    """A started channel to the simulator on *port*; stopped (bounded) on cleanup."""
    url = parse_upstream_url(
        f"cmpp://{account}:{secret}@127.0.0.1:{port}"
        f"?src_id={SRC}&service_id=TEST&response_timeout_s=2&keepalive_s=30{query}"
    )
    channel = CmppChannel(url, reactor, on_deliver, on_event=on_event)
    channel.startService()

    async def stop() -> None:
        if channel.running:
            await within(channel.stopService())

    testcase.addCleanup(stop)
    return channel


class _LiveTestCase(TestCase):
    """Real reactor, loopback only; no test may run longer than 10 s."""

    timeout = 10

    def setUp(self) -> None:
        self.delivers: DeferredQueue[p.Deliver] = DeferredQueue()
        #: The normalised events (reports and MOs) given to ``on_event``.
        self.events: list[Any] = []

    def on_deliver(self, pdu: p.Deliver, session: Session) -> None:
        self.delivers.put(pdu)

    def on_event(self, event: Any) -> None:
        self.events.append(event)

    async def next_deliver(self) -> p.Deliver:
        """The next DELIVER the channel took, within the time limit."""
        deliver: p.Deliver = await within(self.delivers.get())
        return deliver


class ChannelTests(_LiveTestCase):
    """Login, SUBMIT, long text and reports."""

    def setUp(self) -> None:
        super().setUp()
        self.live = LiveSimulator(self, policy=Policy(reports=ReportPolicy(delay_s=(0.05, 0.2))))
        self.channel = start_channel(
            self, self.live.port_number, self.on_deliver, on_event=self.on_event
        )

    async def test_login_and_submit(self) -> None:
        """The channel logs in and a SUBMIT returns Result 0 with a spec Msg_Id."""
        session = await within(self.channel.session())
        self.assertTrue(session.bound)
        resp = await run(self.channel.submit(submit_pdu()))
        self.assertEqual(resp.result, Result.OK)
        self.assertEqual(unpack_msg_id(resp.msg_id).gateway, GATEWAY)
        self.assertEqual(self.live.sim.stats()["sessions"], 1)
        [rec] = self.live.sim.submits()
        self.assertEqual(rec["msg_id"], str(resp.msg_id))
        self.assertEqual((rec["src"], rec["service_id"]), (SRC, "TEST"))

    async def test_submit_before_login(self) -> None:
        """A SUBMIT made before the link is up waits for the login."""
        resp = await run(self.channel.submit(submit_pdu()))
        self.assertEqual(resp.result, Result.OK)

    async def test_report_reaches_on_deliver(self) -> None:
        """A registered SUBMIT's report reaches on_deliver with its Msg_Id."""
        resp = await run(self.channel.submit(submit_pdu(report=True)))
        deliver = await self.next_deliver()
        self.assertEqual(deliver.registered_delivery, 1)
        report = decode_report(deliver.msg_content)
        self.assertEqual((report.msg_id, report.stat), (resp.msg_id, b"DELIVRD"))
        await wait_until(lambda: self.live.sim.stats().get("delivered") == 1, "DELIVER_RESP")

    async def test_submit_text_long_chinese(self) -> None:
        """A 200-character Chinese text to 2 numbers: every segment answered and reported."""
        text = ("短信网关测试" * 34)[:200]
        dests = ["13800138001", "13800138002"]
        results: list[SegmentResult] = await within(
            self.channel.submit_text(dests, text, report=True)
        )
        self.assertEqual(len(results), 6)
        self.assertEqual({r.pk_total for r in results}, {3})
        self.assertEqual(
            sorted((r.dest, r.pk_number) for r in results),
            [((d,), n) for d in dests for n in (1, 2, 3)],
        )
        self.assertEqual({r.result for r in results}, {0})
        # Message ids are normalised to text (CMPP's in decimal).
        ids = {r.msg_id for r in results}
        self.assertEqual(len(ids), 6)
        reports = [decode_report((await self.next_deliver()).msg_content) for _ in range(6)]
        self.assertEqual({str(r.msg_id) for r in reports}, ids)
        by_id = {r.msg_id: r for r in results}
        for report in reports:
            self.assertEqual(report.dest_terminal_id.decode(), by_id[str(report.msg_id)].dest[0])
        # on_event runs just after on_deliver, which resumed this coroutine.
        await wait_until(lambda: len(self.events) == 6, "six report events")
        events = sorted(self.events, key=lambda e: e.msg_id)
        self.assertEqual([e.msg_id for e in events], sorted(ids))
        self.assertEqual({type(e) for e in events}, {ReportEvent})
        self.assertEqual({e.stat for e in events}, {"DELIVRD"})
        submits = self.live.sim.submits(dest=dests[0])
        self.assertEqual("".join(s["text"] for s in submits), text)
        self.assertEqual(len({s["udh_reference"] for s in submits}), 1)

    async def test_submit_text_group_without_report(self) -> None:
        """Without reports, one SUBMIT carries every number."""
        dests = [f"1380013{i:04d}" for i in range(5)]
        results = await within(self.channel.submit_text(dests, "hi", report=False))
        [result] = results
        self.assertEqual((result.dest, result.result), (tuple(dests), 0))
        [rec] = self.live.sim.submits()
        self.assertEqual(rec["dest"], dests)

    async def test_mo_reaches_on_deliver(self) -> None:
        """An MO injected on the simulator reaches on_deliver."""
        await within(self.channel.session())
        await self.live.sim.inject_mo(SP_ID, DEST, SRC, "退订")
        deliver = await self.next_deliver()
        self.assertEqual(deliver.registered_delivery, 0)
        self.assertEqual(decode_text(deliver.msg_content, deliver.msg_fmt), "退订")
        self.assertEqual(deliver.src_terminal_id, DEST.encode())
        await wait_until(lambda: self.events, "the MO event")
        [event] = self.events
        self.assertIsInstance(event, MoEvent)
        self.assertEqual((event.sender, event.to, event.msg_id), (DEST, SRC, str(deliver.msg_id)))

    async def test_stop_service(self) -> None:
        """stopService terminates every link and the simulator sees them go."""
        await run(self.channel.submit(submit_pdu()))
        [session] = self.channel.sessions
        await within(self.channel.stopService())
        self.assertIs(session.state, State.CLOSED)
        self.assertFalse(self.channel.running)
        await wait_until(lambda: self.live.sim.stats()["sessions"] == 0, "the server side to close")

    async def test_stop_during_login(self) -> None:
        """Stopped while a login waits for its answer: the channel stops cleanly."""
        accepted: list[Protocol] = []

        class Silent(Protocol):
            def connectionMade(self) -> None:
                accepted.append(self)

        port = reactor.listenTCP(0, Factory.forProtocol(Silent), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        channel = start_channel(self, port.getHost().port)
        await wait_until(lambda: accepted, "the connection")
        await deferLater(reactor, 0.05, lambda: None)  # the CONNECT is out, unanswered
        await within(channel.stopService())
        self.assertEqual(channel.sessions, [])
        for proto in accepted:
            proto.transport.loseConnection()

    async def test_stop_fails_waiting_submits(self) -> None:
        """A SUBMIT waiting for a link when the channel stops fails instead of hanging."""
        channel = start_channel(self, await closed_port())
        d = Deferred.fromCoroutine(channel.submit(submit_pdu()))
        await deferLater(reactor, 0.2, lambda: None)
        self.assertNoResult(d)
        await within(channel.stopService())
        with self.assertRaises(SessionClosed):
            await within(d)

    async def test_refused_login_retried(self) -> None:
        """A refused login leaves the channel without links, is tried again, and logs no error.

        ClientService cannot handle a connection that closes after its
        ``prepareConnection`` failed (it logs ``automat.NoTransition``), so
        ``Channel._login`` never fails: a refused login closes its own link,
        and the channel counts the refusals to back off.  This test pins that
        no ``NoTransition`` is logged on refused logins or on stopping.
        """
        live = LiveSimulator(self, Account(SP_ID, b"another secret"))
        channel = start_channel(self, live.port_number)
        await wait_until(lambda: len(live.sessions) >= 2, "a second attempt")
        self.assertEqual(channel.sessions, [])
        self.assertEqual(live.sim.totals.get("logins", 0), 0)
        self.assertGreaterEqual(channel.login_failures, 1)
        await within(channel.stopService())
        await wait_until(
            lambda: all(s.state is State.CLOSED for s in live.sessions), "the links to close"
        )
        await deferLater(reactor, 0.1, lambda: None)
        self.assertEqual(self.flushLoggedErrors(NoTransition), [])


class LinkListTests(_LiveTestCase):
    """``Channel.sessions`` holds the logged-in sessions themselves, and only those."""

    async def test_lost_links_leave_the_list(self) -> None:
        live = LiveSimulator(self)
        channel = start_channel(self, live.port_number, query="&sessions=2")
        await wait_until(lambda: len(channel.sessions) == 2, "two links")
        first = list(channel.sessions)
        # The sessions, not ClientService's proxies (every proxied attribute costs a call).
        self.assertEqual({type(s) for s in first}, {Session})
        live.drop_links()
        await wait_until(lambda: not set(channel.sessions) & set(first), "the old links to go")
        await wait_until(lambda: len(channel.sessions) == 2, "two new links")
        self.assertTrue(all(s.bound for s in channel.sessions))
        self.assertEqual(len(channel._connecting), 0)

    async def test_submits_take_turns(self) -> None:
        """Equally idle links share the SUBMITs."""
        live = LiveSimulator(self)
        channel = start_channel(self, live.port_number, query="&sessions=2")
        await wait_until(lambda: len(channel.sessions) == 2, "two links")
        used = set()
        for _ in range(4):
            session = await within(channel.session())
            used.add(id(session))
        self.assertEqual(len(used), 2)


class FlowControlTests(_LiveTestCase):
    """Result 8 and link loss: back off, retry, never hang."""

    async def test_throttle_backoff(self) -> None:
        """A burst of 20 against throttle_tps 5 is throttled, backs off, and all pass."""
        live = LiveSimulator(self, policy=Policy(faults=FaultPolicy(throttle_tps=5)))
        channel = start_channel(self, live.port_number)
        channel.throttle_backoff_s = (0.05, 0.25, 2.0)
        channel.max_attempts = 40
        await within(channel.session())
        jobs = [Deferred.fromCoroutine(channel.submit(submit_pdu())) for _ in range(20)]
        results = await within(DeferredList(jobs, fireOnOneErrback=True, consumeErrors=True))
        self.assertEqual([resp.result for _, resp in results], [0] * 20)
        stats = live.sim.stats()
        self.assertGreater(stats["throttled"], 0)
        self.assertEqual(stats["submits"], 20)
        self.assertEqual(len({resp.msg_id for _, resp in results}), 20)

    async def test_throttle_gives_up(self) -> None:
        """Throttled on every attempt, a SUBMIT fails with SubmitFailed."""
        live = LiveSimulator(self, policy=Policy(faults=FaultPolicy(submit_result=8)))
        channel = start_channel(self, live.port_number)
        channel.throttle_backoff_s = (0.01, 0.02, 2.0)
        channel.max_attempts = 3
        with self.assertRaises(SubmitFailed):
            await run(channel.submit(submit_pdu()))
        self.assertEqual(live.sim.submits(), [])
        self.assertEqual(live.sim.stats()["accounts"][SP_ID].get("submits", 0), 0)
        self.assertEqual(live.sim.totals["submits_refused"], 3)

    async def test_segments_throttled_back_off(self) -> None:
        """submit_segment (the gateway's path) backs off on Result 8 as submit does."""
        live = LiveSimulator(self, policy=Policy(faults=FaultPolicy(throttle_tps=5)))
        channel = start_channel(self, live.port_number)
        channel.throttle_backoff_s = (0.05, 0.25, 2.0)
        channel.max_attempts = 40
        await within(channel.session())
        [segment] = split_text("hello", 0, 1)
        jobs = [channel.submit_segment((f"1380000{i:04d}",), segment) for i in range(20)]
        results = await within(DeferredList(jobs, fireOnOneErrback=True, consumeErrors=True))
        self.assertEqual([r.result for _, r in results], [0] * 20)
        self.assertGreater(live.sim.stats()["throttled"], 0)
        self.assertEqual(live.sim.stats()["submits"], 20)

    async def test_segment_throttled_gives_up(self) -> None:
        """Throttled on every attempt, submit_segment fails with SubmitFailed after N tries."""
        live = LiveSimulator(self, policy=Policy(faults=FaultPolicy(submit_result=8)))
        channel = start_channel(self, live.port_number)
        channel.throttle_backoff_s = (0.01, 0.02, 2.0)
        channel.max_attempts = 3
        await within(channel.session())
        [segment] = split_text("hello", 0, 1)
        error = await self.assertFailure(within(channel.submit_segment((DEST,), segment)),
                                         SubmitFailed)  # fmt: skip
        self.assertIn("after 3 attempts: flow control (result 8)", str(error))
        # N tries in all: the first one (made without the coroutine) counts.
        self.assertEqual(live.sim.totals["submits_refused"], 3)

    async def test_segment_link_lost_gives_up(self) -> None:
        """A SUBMIT whose link is lost on every try is sent max_attempts times, no more."""
        # The second frame on a link (the first after CONNECT) drops it unanswered.
        live = LiveSimulator(self, policy=Policy(faults=FaultPolicy(disconnect_after_pdus=2)))
        channel = start_channel(self, live.port_number)
        channel.max_attempts = 2
        await within(channel.session())
        [segment] = split_text("hello", MsgFmt.ASCII, 1)
        error = await self.assertFailure(within(channel.submit_segment((DEST,), segment)),
                                         SubmitFailed)  # fmt: skip
        self.assertIn("after 2 attempts", str(error))
        # Every link's frames after its CONNECT were SUBMITs of this one segment.
        sent = sum(max(s.frames_received - 1, 0) for s in live.sessions)
        self.assertEqual(sent, 2)

    async def _submit_all(self, channel: CmppChannel, count: int) -> list[Any]:
        """Submit *count* at once; each outcome is a SubmitResp or a SubmitFailed."""
        jobs = [
            Deferred.fromCoroutine(channel.submit(submit_pdu(f"1380000{i:04d}")))
            for i in range(count)
        ]
        outcomes = await within(DeferredList(jobs, consumeErrors=True))
        return [value if ok else value.value for ok, value in outcomes]

    async def test_disconnect_mid_window_retries(self) -> None:
        """Links dropped mid-window: the channel reconnects and every SUBMIT is answered."""
        live = LiveSimulator(self, policy=Policy(faults=FaultPolicy(disconnect_after_pdus=5)))
        channel = start_channel(self, live.port_number)
        await within(channel.session())
        outcomes = await self._submit_all(channel, 6)
        self.assertEqual([type(o) for o in outcomes], [p.SubmitResp] * 6)
        self.assertEqual({o.result for o in outcomes}, {0})
        self.assertGreaterEqual(live.sim.totals["logins"], 2)
        self.assertEqual(live.sim.stats()["submits"], 6)

    async def test_disconnect_without_retries(self) -> None:
        """With max_attempts 1 the SUBMITs lost with the link fail with SubmitFailed."""
        live = LiveSimulator(self, policy=Policy(faults=FaultPolicy(disconnect_after_pdus=5)))
        channel = start_channel(self, live.port_number)
        channel.max_attempts = 1
        await within(channel.session())
        outcomes = await self._submit_all(channel, 6)
        answered = [o for o in outcomes if isinstance(o, p.SubmitResp)]
        failed = [o for o in outcomes if isinstance(o, SubmitFailed)]
        self.assertEqual((len(answered), len(failed)), (3, 3))
        self.assertEqual({o.result for o in answered}, {0})

    async def test_server_drops_links(self) -> None:
        """Server-side transports closed under load: every SUBMIT ends, none hangs."""
        live = LiveSimulator(self, policy=Policy(faults=FaultPolicy(response_delay_s=0.3)))
        channel = start_channel(self, live.port_number)
        channel.max_attempts = 3
        await within(channel.session())
        jobs = [Deferred.fromCoroutine(channel.submit(submit_pdu())) for _ in range(8)]
        await deferLater(reactor, 0.1, lambda: None)
        self.assertEqual(live.sim.stats()["submits"], 8)
        live.drop_links()
        await wait_until(lambda: live.sim.stats()["sessions"] == 0, "the links to drop")
        live.sim.set_policy(Policy())
        outcomes = await within(DeferredList(jobs, consumeErrors=True))
        for ok, value in outcomes:
            if ok:
                self.assertEqual(value.result, 0)
            else:
                value.trap(SubmitFailed)
        self.assertTrue(all(ok for ok, _ in outcomes), outcomes)
        self.assertGreaterEqual(live.sim.totals["logins"], 2)


class ChannelInterfaceTests(SynchronousTestCase):
    """:class:`~smsgw.sp.channel.Channel` as an :class:`~smsgw.sp.interfaces.IChannel`."""

    def channel(self, url: str, **kwargs: Any) -> Channel:
        return Channel(parse_upstream_url(url), MemoryReactorClock(), **kwargs)

    def test_provides_ichannel(self) -> None:
        """Channel provides IChannel, for every protocol."""
        for scheme in ("cmpp", "cmpp3", "sgip", "smgp", "smpp"):
            with self.subTest(scheme=scheme):
                url = f"{scheme}://{SP_ID}:{SECRET}@127.0.0.1:7890"
                self.assertTrue(verifyObject(IChannel, self.channel(url)))

    def test_segments_in_the_channels_charset(self) -> None:
        """segments() splits long Chinese text with a UDH, in GBK with charset=gbk, else UCS2."""
        text = "短信" * 50
        for query, fmt in (("", MsgFmt.UCS2), ("?charset=gbk", MsgFmt.GB)):
            with self.subTest(query=query):
                channel = self.channel(f"cmpp://{SP_ID}:{SECRET}@127.0.0.1:7890{query}")
                segments = channel.segments(text)
                self.assertEqual({s.msg_fmt for s in segments}, {fmt})
                self.assertEqual({s.tp_udhi for s in segments}, {1})
                self.assertEqual([s.pk_number for s in segments], list(range(1, len(segments) + 1)))

    def test_pause_releases_first_come_first(self) -> None:
        """Flow control: SUBMITs waiting for a pause go on in the order they began to wait.

        The later pause extends the first; one timer then releases both, the
        first waiter first, even though their waits end at the same moment.
        """
        clock = MemoryReactorClock()
        channel = Channel(parse_upstream_url(f"cmpp://{SP_ID}:{SECRET}@127.0.0.1:7890"), clock)
        released: list[str] = []
        channel._pause(1.0)
        channel._gate_opens().addCallback(lambda _: released.append("first"))
        clock.advance(0.5)
        channel._pause(1.0)
        channel._gate_opens().addCallback(lambda _: released.append("second"))
        clock.advance(0.9)
        self.assertEqual(released, [])
        clock.advance(0.1)
        self.assertEqual(released, ["first", "second"])
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_sizes(self) -> None:
        """One number a SUBMIT with a report, else 99; two windows per session in flight."""
        channel = self.channel(f"cmpp://{SP_ID}:{SECRET}@127.0.0.1:7890?sessions=3&window=5")
        self.assertEqual((channel.max_dests(True), channel.max_dests(False)), (1, 99))
        self.assertEqual(channel.capacity(), 30)

    def test_not_ready_before_login(self) -> None:
        """A channel with no logged-in link is not ready and has no links."""
        channel = self.channel(f"cmpp://{SP_ID}:{SECRET}@127.0.0.1:7890")
        self.assertFalse(channel.ready())
        self.assertEqual(channel.links(), [])

    def test_no_balance_in_these_protocols(self) -> None:
        """balance() fires with no balance and the reason, naming the protocol."""
        channel = self.channel(f"smgp://{SP_ID}:{SECRET}@127.0.0.1:7890")
        self.assertEqual(
            self.successResultOf(channel.balance()),
            Balance("smgp", None, "smgp has no balance query"),
        )

    def test_sgip_server_is_a_client_service(self) -> None:
        """SGIP's listen= adds the SP's own server through the client hook, and only then."""
        url = f"sgip://{SP_ID}:{SECRET}@127.0.0.1:8801?listen=tcp:0"
        with_server = self.channel(url)
        servers = [s for s in with_server if isinstance(s, StreamServerEndpointService)]
        self.assertEqual(len(servers), 1)
        without = self.channel(url.split("?")[0])
        self.assertFalse([s for s in without if isinstance(s, StreamServerEndpointService)])

    def test_client_hook_services_run_under_the_channel(self) -> None:
        """Whatever services a client returns from services() become the channel's children."""
        extra = Service()
        seen: list[Channel] = []

        def client_for(config: UpstreamConfig) -> Any:
            client = clients.client_for(config)

            def services(channel: Channel) -> list[Service]:
                seen.append(channel)
                return [extra]

            client.services = services  # type: ignore[attr-defined]
            return client

        self.patch(channel_module, "client_for", client_for)
        channel = self.channel(f"cmpp://{SP_ID}:{SECRET}@127.0.0.1:7890")
        self.assertEqual(seen, [channel])
        self.assertIs(extra.parent, channel)
