"""The SP gateway's core (:class:`smsgw.sp.gateway.Gateway`) on a MemoryStore, a Clock and fakes.

Every channel here is a :class:`FakeChannel`: a fake
:class:`~smsgw.sp.interfaces.IChannel`, all the gateway sees of a channel,
that records each ``submit_segment`` call, whose SUBMIT_RESP the test gives (or withholds)
itself.  Reports and MOs go in through the channel's ``on_event``, as a real
channel hands them over (flows 1-4).

The helpers (:class:`FakeChannel`, :class:`GatewayHarness`, :func:`request`)
are shared with :mod:`tests.web.test_api` and :mod:`tests.sp.test_callbacks`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import attrs
from twisted.application.service import Service
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from smsgw.config import parse_upstream_url
from smsgw.metrics import Metrics
from smsgw.protocols.cmpp import pdus as cp
from smsgw.protocols.cmpp.codec import encode_report
from smsgw.sp.callbacks import CallbackSender
from smsgw.sp.channel import Channel, SubmitFailed
from smsgw.sp.clients import Event, MoEvent, ReportEvent
from smsgw.sp.gateway import Accepted, Gateway, Item, RequestError, SendRequest
from smsgw.sp.interfaces import Balance, IChannel, Link, SegmentResult
from smsgw.sp.routing import Router, RouteSpec
from smsgw.store.memory import MemoryStore
from smsgw.store.model import (
    Inbound,
    InboundKind,
    Message,
    MessageStatus,
    Mode,
    MoGroup,
    MoPart,
    Recipient,
    Segment,
    SegmentKey,
    SegmentState,
)
from smsgw.text import MsgFmt, choose_fmt, concat_info, split_text
from smsgw.text.longsms import Part, PartLike
from tests.clock import BoundedClock

#: Clock start: 2025-06-15, so ISO-8601 times and Done_time look real.
START = 1_750_000_000.0
MOBILE = "13800138000"
UNICOM = "13000130000"
TELECOM = "13300133000"
#: 400 ASCII characters: three segments of at most 153.
LONG_TEXT = "".join(chr(ord("a") + i % 26) for i in range(400))


def upstream_url(scheme: str, account: str, *, window: int = 4, sessions: int = 1) -> str:
    """An upstream URL for a fake channel."""
    return f"{scheme}://{account}:secret@127.0.0.1:7890?window={window}&sessions={sessions}"


@attrs.define
class SubmitCall:
    """One ``submit_segment`` call a :class:`FakeChannel` received."""

    dests: tuple[str, ...]
    segment: PartLike
    report: bool
    src_ext: str
    deferred: Deferred[SegmentResult]
    msg_id: str | None = None


@implementer(IChannel)
class FakeChannel(Service):
    """A channel whose every SUBMIT the test answers (or fails) by hand.

    It splits text as a carrier channel of its scheme does (GBK with
    ``charset=gbk``), takes up to 99 numbers a SUBMIT without a report, and
    is ready while :attr:`sessions` (fake links) is not empty.

    :ivar calls: every ``submit_segment`` call, in order.
    :ivar most_pending: the most segments ever submitted and not answered.
    """

    def __init__(
        self, name: str, scheme: str = "cmpp", *, window: int = 4, sessions: int = 1
    ) -> None:
        self.setName(name)
        self.config = parse_upstream_url(
            upstream_url(scheme, name, window=window, sessions=sessions)
        )
        self.sessions: list[object] = [object()] * sessions
        self.on_event: Callable[[Event], Any] = lambda event: None
        self.calls: list[SubmitCall] = []
        self.most_pending = 0
        self._ids = itertools.count(1)
        self._reference = itertools.count(1)

    def segments(self, text: str) -> list[Part]:
        fmt = choose_fmt(text, prefer_gb=self.config.extra.prefer_gb)
        return split_text(text, fmt, next(self._reference) & 0xFF)

    def max_dests(self, report: bool) -> int:
        return 1 if report else 99

    def capacity(self) -> int:
        return self.config.sessions * self.config.window * 2

    def ready(self) -> bool:
        return bool(self.sessions)

    def links(self) -> list[Link]:
        return [Link(f"127.0.0.1:{7890 + i}") for i in range(len(self.sessions))]

    def balance(self) -> Deferred[Balance]:
        scheme = self.config.scheme
        return succeed(Balance(scheme, None, f"{scheme} has no balance query"))

    def submit_segment(
        self,
        dests: tuple[str, ...],
        segment: PartLike,
        *,
        report: bool = True,
        src_ext: str = "",
    ) -> Deferred[SegmentResult]:
        call = SubmitCall(tuple(dests), segment, report, src_ext, Deferred())
        self.calls.append(call)
        self.most_pending = max(self.most_pending, len(self.pending()))
        return call.deferred

    def pending(self) -> list[SubmitCall]:
        """The calls not answered yet."""
        return [c for c in self.calls if not c.deferred.called]

    def answer(self, call: SubmitCall, msg_id: str | None = None, result: int = 0) -> str:
        """Fire *call* with a SUBMIT_RESP carrying *msg_id* (a fresh one by default)."""
        call.msg_id = msg_id or f"{self.name}-{next(self._ids)}"
        call.deferred.callback(
            SegmentResult(
                call.dests, call.segment.pk_number, call.segment.pk_total, call.msg_id, result
            )
        )
        return call.msg_id

    def answer_all(self) -> list[str]:
        """Answer every pending call (and those they let in), in order; their msg ids."""
        ids = []
        while self.pending():
            ids.append(self.answer(self.pending()[0]))
        return ids

    def report(
        self,
        msg_id: str,
        stat: str = "DELIVRD",
        dest: str = "",
        *,
        final: bool = True,
        done_at: float | None = None,
    ) -> Deferred[Any]:
        """Hand the gateway a status report, as a channel does after a DELIVER."""
        event = ReportEvent(
            self.name, msg_id, stat, dest, delivered=stat == "DELIVRD", final=final, done_at=done_at
        )
        d: Deferred[Any] = self.on_event(event)
        return d

    def mo(
        self,
        content: bytes,
        *,
        sender: str = MOBILE,
        to: str = "1065901234",
        msg_fmt: int = 0,
        tp_udhi: int = 0,
        msg_id: str = "",
    ) -> Deferred[Any]:
        """Hand the gateway an MO segment."""
        event = MoEvent(self.name, sender, to, content, msg_fmt, tp_udhi, msg_id)
        d: Deferred[Any] = self.on_event(event)
        return d


def three_channels() -> list[FakeChannel]:
    """One fake channel per carrier: CMPP (Mobile), SGIP (Unicom), SMGP (Telecom)."""
    return [
        FakeChannel("mobile", "cmpp"),
        FakeChannel("unicom", "sgip"),
        FakeChannel("telecom", "smgp"),
    ]


def request(to: str | Sequence[str], content: str | None = "hello", **kwargs: Any) -> SendRequest:
    """A send request to *to* (one number or several)."""
    numbers = [to] if isinstance(to, str) else list(to)
    return SendRequest(items=tuple(Item(n) for n in numbers), content=content, **kwargs)


class GatewayHarness:
    """A :class:`Gateway` over a :class:`MemoryStore`, a :class:`Clock` and fake channels.

    Started (and stopped on cleanup) unless ``start=False``.
    """

    def __init__(
        self,
        case: SynchronousTestCase,
        channels: list[FakeChannel] | None = None,
        *,
        store: Any = None,
        start: bool = True,
        **kwargs: Any,
    ) -> None:
        self.case = case
        self.clock = BoundedClock()
        self.clock.advance(START)
        self.store = store if store is not None else MemoryStore()
        self.channels = channels if channels is not None else three_channels()
        self.channel = {c.name: c for c in self.channels}
        router = Router([RouteSpec(c.name, c.config.scheme) for c in self.channels])
        self.gateway = Gateway(self.store, self.channel, router, self.clock, **kwargs)
        if start:
            self.gateway.startService()
            case.addCleanup(self.stop)

    def stop(self) -> None:
        if self.gateway.running:
            self.case.successResultOf(self.gateway.stopService())

    def accept(self, send: SendRequest) -> Deferred[Accepted]:
        """Start :meth:`Gateway.accept`; the Deferred may not have fired yet."""
        return Deferred.fromCoroutine(self.gateway.accept(send))

    def send(self, send: SendRequest) -> Accepted:
        """:meth:`Gateway.accept`, which must be done at once."""
        return self.case.successResultOf(self.accept(send))

    def message(self, message_id: str) -> Message:
        found = self.case.successResultOf(self.store.get_message(message_id))
        assert found is not None
        return found

    def status(self, message_id: str) -> MessageStatus:
        return self.message(message_id).status

    def states(self, message_id: str) -> list[SegmentState]:
        return [s.state for r in self.message(message_id).recipients for s in r.segments]

    def inbound(self) -> list[Inbound]:
        """Every inbound item not fetched yet (and marks them fetched)."""
        return self.case.successResultOf(self.store.fetch_inbound(1000))

    def settle(self) -> None:
        """Run what the gateway scheduled for "now" (a coalesced pump pass)."""
        for _ in range(5):
            self.clock.advance(0)


class RoutingTests(SynchronousTestCase):
    """Each number goes to its carrier's channel (SP gateway)."""

    def test_by_number_segment(self) -> None:
        """1380… goes to the CMPP channel, 1300… to SGIP, 1330… to SMGP."""
        h = GatewayHarness(self)
        accepted = h.send(request([MOBILE, UNICOM, TELECOM]))
        self.assertEqual(
            [r.channel for r in accepted.message.recipients], ["mobile", "unicom", "telecom"]
        )
        self.assertEqual([c.dests for c in h.channel["mobile"].calls], [(MOBILE,)])
        self.assertEqual([c.dests for c in h.channel["unicom"].calls], [(UNICOM,)])
        self.assertEqual([c.dests for c in h.channel["telecom"].calls], [(TELECOM,)])

    def test_numbers_are_normalised(self) -> None:
        """+86 and separators are dropped before routing and sending."""
        h = GatewayHarness(self)
        accepted = h.send(request("+86 138-0013-8000"))
        self.assertEqual(accepted.message.recipients[0].to, MOBILE)
        self.assertEqual(h.channel["mobile"].calls[0].dests, (MOBILE,))

    def test_explicit_channel(self) -> None:
        """A channel named in the request wins over the number segment."""
        h = GatewayHarness(self)
        h.send(request(MOBILE, channel="telecom"))
        self.assertEqual(h.channel["mobile"].calls, [])
        self.assertEqual([c.dests for c in h.channel["telecom"].calls], [(MOBILE,)])

    def test_no_channel_for_carrier_is_rejected(self) -> None:
        """A number whose carrier has no channel is refused, the others sent."""
        h = GatewayHarness(self, [FakeChannel("mobile"), FakeChannel("unicom", "sgip")])
        accepted = h.send(request([MOBILE, TELECOM]))
        self.assertEqual([r.to for r in accepted.message.recipients], [MOBILE])
        self.assertEqual([to for to, _ in accepted.rejected], [TELECOM])


class MassSendTests(SynchronousTestCase):
    """One request to many numbers (flow 4)."""

    def test_without_reports_groups_99(self) -> None:
        """Without reports, up to 99 numbers share one SUBMIT."""
        mobile = FakeChannel("mobile", window=128)
        h = GatewayHarness(self, [mobile])
        numbers = [f"138{i:08d}" for i in range(150)]
        accepted = h.send(request(numbers, report=False))
        self.assertEqual([len(c.dests) for c in mobile.calls], [99, 51])
        self.assertEqual([d for c in mobile.calls for d in c.dests], numbers)
        self.assertEqual({c.report for c in mobile.calls}, {False})
        first, second = mobile.answer_all()
        message = h.message(accepted.message.id)
        ids = [r.segments[0].msg_id for r in message.recipients]
        self.assertEqual(ids, [first] * 99 + [second] * 51)
        self.assertEqual(message.status, MessageStatus.SUBMITTED)

    def test_with_reports_one_number_per_submit(self) -> None:
        """With reports wanted, each number gets its own SUBMIT."""
        mobile = FakeChannel("mobile", window=128)
        h = GatewayHarness(self, [mobile])
        numbers = [f"138{i:08d}" for i in range(5)]
        h.send(request(numbers, report=True))
        self.assertEqual([c.dests for c in mobile.calls], [(n,) for n in numbers])
        self.assertEqual({c.report for c in mobile.calls}, {True})

    def test_per_number_content(self) -> None:
        """Items with their own content are sent their own text."""
        h = GatewayHarness(self)
        h.send(SendRequest(items=(Item(MOBILE, "for mobile"), Item(UNICOM, "for unicom"))))
        self.assertEqual(h.channel["mobile"].calls[0].segment.content, b"for mobile")
        self.assertEqual(h.channel["unicom"].calls[0].segment.content, b"for unicom")

    def test_src_ext_and_report_flag_are_passed(self) -> None:
        """src_ext and the report flag reach every SUBMIT."""
        h = GatewayHarness(self)
        h.send(request(MOBILE, src_ext="01", report=False))
        [call] = h.channel["mobile"].calls
        self.assertEqual((call.src_ext, call.report), ("01", False))


class LongTextTests(SynchronousTestCase):
    """A long text is N segments, each its own SUBMIT and report (flow 3)."""

    def setUp(self) -> None:
        self.h = GatewayHarness(self)
        self.mobile = self.h.channel["mobile"]
        self.message_id = self.h.send(request(MOBILE, LONG_TEXT)).message.id
        self.ids = self.mobile.answer_all()

    def test_one_submit_per_segment(self) -> None:
        """Three segments, three SUBMITs numbered 1/3 to 3/3 with a UDH."""
        calls = self.mobile.calls
        self.assertEqual(
            [(c.segment.pk_number, c.segment.pk_total) for c in calls], [(1, 3), (2, 3), (3, 3)]
        )
        self.assertEqual({c.segment.tp_udhi for c in calls}, {1})
        self.assertEqual({c.segment.content[:3] for c in calls}, {b"\x05\x00\x03"})
        self.assertEqual(b"".join(c.segment.content[6:] for c in calls), LONG_TEXT.encode())
        self.assertEqual(len(set(self.ids)), 3)

    def test_delivered_only_when_every_segment_is(self) -> None:
        """The message stays submitted until the last segment's DELIVRD."""
        for msg_id in self.ids[:2]:
            self.mobile.report(msg_id, "DELIVRD", MOBILE)
        self.assertEqual(self.h.status(self.message_id), MessageStatus.SUBMITTED)
        self.mobile.report(self.ids[2], "DELIVRD", MOBILE)
        self.assertEqual(self.h.status(self.message_id), MessageStatus.DELIVERED)

    def test_mixed_reports_are_partially_delivered(self) -> None:
        """Some DELIVRD, some not: partially_delivered."""
        for msg_id, stat in zip(self.ids, ["DELIVRD", "UNDELIV", "DELIVRD"], strict=True):
            self.mobile.report(msg_id, stat, MOBILE)
        self.assertEqual(self.h.status(self.message_id), MessageStatus.PARTIALLY_DELIVERED)

    def test_all_failed_reports_are_undelivered(self) -> None:
        """No segment delivered: undelivered."""
        for msg_id, stat in zip(self.ids, ["UNDELIV", "EXPIRED", "REJECTD"], strict=True):
            self.mobile.report(msg_id, stat, MOBILE)
        self.assertEqual(self.h.status(self.message_id), MessageStatus.UNDELIVERED)

    def test_references_differ_per_recipient(self) -> None:
        """Two numbers, one long text: each recipient's segments carry their own reference."""
        self.mobile.calls.clear()
        self.h.send(request([MOBILE, "13900139000"], LONG_TEXT))
        self.mobile.answer_all()
        refs: dict[tuple[str, ...], set[int]] = {}
        for c in self.mobile.calls:
            refs.setdefault(c.dests, set()).add(c.segment.content[3])  # RR of 05 00 03 RR TT SS
        self.assertEqual(len(refs), 2)
        (a,), (b,) = refs.values()
        self.assertNotEqual(a, b)

    def test_too_long_is_refused(self) -> None:
        """More than 10 segments is a RequestError naming content."""
        d = self.h.accept(request(MOBILE, "x" * (153 * 10 + 1)))
        failure = self.failureResultOf(d, RequestError)
        self.assertEqual((failure.value.code, failure.value.field), ("too_long", "content"))


class ReportTests(SynchronousTestCase):
    """Status reports are matched to their segments (flow 1)."""

    def setUp(self) -> None:
        self.h = GatewayHarness(self, report_wait_s=30.0)
        self.mobile = self.h.channel["mobile"]
        self.message_id = self.h.send(request(MOBILE)).message.id

    def test_report_matched(self) -> None:
        """A DELIVRD report delivers the message and leaves one inbound report."""
        msg_id = self.mobile.answer(self.mobile.calls[0])
        self.assertEqual(self.h.status(self.message_id), MessageStatus.SUBMITTED)
        self.mobile.report(msg_id, "DELIVRD", MOBILE)
        message = self.h.message(self.message_id)
        self.assertEqual(message.status, MessageStatus.DELIVERED)
        self.assertEqual(message.recipients[0].segments[0].stat, "DELIVRD")
        [item] = self.h.inbound()
        self.assertEqual(item.kind, InboundKind.REPORT)
        self.assertEqual(
            (item.fields["message_id"], item.fields["msg_id"]), (self.message_id, msg_id)
        )

    def test_report_before_submit_resp_is_held(self) -> None:
        """A report that overtakes its SUBMIT_RESP is kept and matched when the id arrives."""
        self.successResultOf(self.mobile.report("early-1", "DELIVRD", MOBILE))
        self.assertEqual(self.h.status(self.message_id), MessageStatus.SUBMITTING)
        self.assertEqual(self.h.inbound(), [])
        self.mobile.answer(self.mobile.calls[0], "early-1")
        self.assertEqual(self.h.status(self.message_id), MessageStatus.DELIVERED)
        [item] = self.h.inbound()
        self.assertEqual(item.fields["msg_id"], "early-1")

    def test_repeated_report_is_ignored(self) -> None:
        """A second report for the same id changes nothing and adds no inbound item."""
        msg_id = self.mobile.answer(self.mobile.calls[0])
        self.mobile.report(msg_id, "DELIVRD", MOBILE)
        self.mobile.report(msg_id, "DELIVRD", MOBILE)
        self.mobile.report(msg_id, "UNDELIV", MOBILE)
        self.assertEqual(self.h.status(self.message_id), MessageStatus.DELIVERED)
        self.assertEqual(len(self.h.inbound()), 1)

    def test_intermediate_report_is_not_recorded(self) -> None:
        """A report that is not final leaves the segment waiting; the final one after it counts."""
        msg_id = self.mobile.answer(self.mobile.calls[0])
        self.mobile.report(msg_id, "ACCEPTD", MOBILE, final=False)
        segment = self.h.message(self.message_id).recipients[0].segments[0]
        self.assertEqual((segment.state, segment.stat), (SegmentState.SUBMITTED, None))
        self.assertEqual(self.h.inbound(), [])
        self.mobile.report(msg_id, "DELIVRD", MOBILE)
        self.assertEqual(self.h.status(self.message_id), MessageStatus.DELIVERED)

    def test_report_time_is_the_events(self) -> None:
        """The event's done_at is the segment's; a report without one is done when it came."""
        msg_id = self.mobile.answer(self.mobile.calls[0])
        self.mobile.report(msg_id, "DELIVRD", MOBILE, done_at=12345.0)
        segment = self.h.message(self.message_id).recipients[0].segments[0]
        self.assertEqual(segment.done_at, 12345.0)
        second = self.h.send(request(MOBILE)).message.id
        self.h.clock.advance(7)
        msg_id = self.mobile.answer(self.mobile.calls[1])
        self.mobile.report(msg_id, "UNDELIV", MOBILE)
        segment = self.h.message(second).recipients[0].segments[0]
        self.assertEqual(segment.done_at, self.h.clock.seconds())

    def test_expires_after_report_wait(self) -> None:
        """No report within report_wait_s: the message expires at the next expiry pass."""
        self.mobile.answer(self.mobile.calls[0])
        self.h.clock.advance(59)
        self.assertEqual(self.h.status(self.message_id), MessageStatus.SUBMITTED)
        self.h.clock.advance(1)
        self.assertEqual(self.h.status(self.message_id), MessageStatus.EXPIRED)

    def test_late_report_after_expiry_still_counts(self) -> None:
        """A report arriving after expiry is still applied."""
        msg_id = self.mobile.answer(self.mobile.calls[0])
        self.h.clock.advance(60)
        self.assertEqual(self.h.status(self.message_id), MessageStatus.EXPIRED)
        self.mobile.report(msg_id, "DELIVRD", MOBILE)
        self.assertEqual(self.h.status(self.message_id), MessageStatus.DELIVERED)


class SubmitTests(SynchronousTestCase):
    """SUBMITs in flight, failures, restarts."""

    def test_capacity_per_channel(self) -> None:
        """Never more than sessions × window × 2 segments in flight on a channel."""
        for sessions, window in ((1, 2), (3, 2)):
            mobile = FakeChannel("mobile", window=window, sessions=sessions)
            h = GatewayHarness(self, [mobile])
            capacity = sessions * window * 2
            self.assertEqual(h.gateway.capacity(mobile), capacity)  # type: ignore[arg-type]
            numbers = [f"138{i:08d}" for i in range(capacity * 3)]
            h.send(request(numbers))
            self.assertEqual(len(mobile.pending()), capacity)
            mobile.answer_all()
            h.settle()
            self.assertEqual(len(mobile.calls), len(numbers))
            self.assertEqual(mobile.most_pending, capacity)
            self.assertEqual(h.gateway.in_flight["mobile"], 0)

    def test_capacity_counts_segments_of_a_group(self) -> None:
        """A 99-number SUBMIT counts as 99 segments in flight."""
        mobile = FakeChannel("mobile", window=4)
        h = GatewayHarness(self, [mobile])
        h.send(request([f"138{i:08d}" for i in range(20)], report=False))
        self.assertEqual([len(c.dests) for c in mobile.calls], [8])
        mobile.answer_all()
        h.settle()
        self.assertEqual([len(c.dests) for c in mobile.calls], [8, 8, 4])

    def test_no_session_no_submit(self) -> None:
        """A channel with no logged-in link gets nothing until one comes up."""
        mobile = FakeChannel("mobile")
        mobile.sessions = []
        h = GatewayHarness(self, [mobile])
        h.send(request(MOBILE))
        self.assertEqual(mobile.calls, [])
        mobile.sessions = [object()]
        h.clock.advance(h.gateway.pump_interval_s)
        self.assertEqual(len(mobile.calls), 1)

    def test_submit_failed(self) -> None:
        """A SubmitFailed fails the segment with the reason, and frees its slot."""
        h = GatewayHarness(self)
        mobile = h.channel["mobile"]
        message_id = h.send(request(MOBILE)).message.id
        mobile.calls[0].deferred.errback(SubmitFailed("SUBMIT failed after 8 attempts"))
        message = h.message(message_id)
        self.assertEqual(message.status, MessageStatus.FAILED)
        self.assertIn("after 8 attempts", message.recipients[0].segments[0].error or "")
        self.assertEqual(h.gateway.in_flight["mobile"], 0)

    def test_refused_result_fails_segment(self) -> None:
        """A SUBMIT_RESP with Result ≠ 0 fails the segment and records the result."""
        h = GatewayHarness(self)
        mobile = h.channel["mobile"]
        message_id = h.send(request(MOBILE)).message.id
        mobile.answer(mobile.calls[0], "0", result=10)
        segment = h.message(message_id).recipients[0].segments[0]
        self.assertEqual((segment.state, segment.result), (SegmentState.FAILED, 10))
        self.assertEqual(h.status(message_id), MessageStatus.FAILED)

    def test_restart_requeues_submitting(self) -> None:
        """Segments left submitting at a stop are sent once more after the restart."""
        store = MemoryStore()
        first = GatewayHarness(self, [FakeChannel("mobile")], store=store)
        message_id = first.send(request(MOBILE)).message.id
        self.assertEqual(len(first.channel["mobile"].calls), 1)
        first.stop()
        self.assertEqual(first.states(message_id), [SegmentState.SUBMITTING])
        second = GatewayHarness(self, [FakeChannel("mobile")], store=store)
        mobile = second.channel["mobile"]
        self.assertEqual([c.dests for c in mobile.calls], [(MOBILE,)])
        mobile.answer(mobile.calls[0])
        second.clock.advance(10)
        self.assertEqual(len(mobile.calls), 1)
        segment = second.message(message_id).recipients[0].segments[0]
        self.assertEqual((segment.state, segment.attempts), (SegmentState.SUBMITTED, 2))

    def test_stopped_before_requeue_answers(self) -> None:
        """A gateway stopped before requeue_submitting answers starts no loops."""
        store = MemoryStore()
        answer: Deferred[int] = Deferred()
        store.requeue_submitting = lambda: answer  # type: ignore[method-assign]
        h = GatewayHarness(self, store=store)
        h.stop()
        answer.callback(0)
        self.assertEqual(h.clock.getDelayedCalls(), [])

    def test_send_at_holds_until_due(self) -> None:
        """A message scheduled in the future is not sent before its time."""
        h = GatewayHarness(self)
        mobile = h.channel["mobile"]
        h.send(request(MOBILE, send_at=START + 60))
        h.clock.advance(59.5)
        self.assertEqual(mobile.calls, [])
        h.clock.advance(0.5)
        self.assertEqual(len(mobile.calls), 1)

    def test_sync_waits_for_every_submit_resp(self) -> None:
        """sync: accept fires after the last SUBMIT_RESP, with the msg ids."""
        h = GatewayHarness(self)
        d = h.accept(request([MOBILE, UNICOM], mode=Mode.SYNC))
        self.assertNoResult(d)
        h.channel["mobile"].answer_all()
        self.assertNoResult(d)
        h.channel["unicom"].answer_all()
        accepted = self.successResultOf(d)
        self.assertTrue(accepted.complete)
        self.assertEqual(accepted.message.status, MessageStatus.SUBMITTED)

    def test_sync_times_out(self) -> None:
        """sync: after sync_timeout_s accept fires with complete=False."""
        h = GatewayHarness(self, sync_timeout_s=5.0)
        d = h.accept(request([MOBILE, UNICOM], mode=Mode.SYNC))
        h.channel["mobile"].answer_all()
        h.clock.advance(5)
        accepted = self.successResultOf(d)
        self.assertFalse(accepted.complete)
        self.assertEqual(accepted.message.status, MessageStatus.SUBMITTING)


class RecordSubmitTests(SynchronousTestCase):
    """A SUBMIT_RESP's record: counted once stored; a failed one logged, its waiters told."""

    def harness(self, store: MemoryStore) -> tuple[GatewayHarness, Metrics]:
        metrics = Metrics()
        return GatewayHarness(self, [FakeChannel("mobile")], store=store, metrics=metrics), metrics

    def submitted(self, metrics: Metrics) -> float | None:
        return metrics.registry.get_sample_value(
            "smsgw_submitted_segments_total", {"channel": "mobile", "result": "0"}
        )

    def test_recorded_and_counted(self) -> None:
        """A stored SUBMIT_RESP is counted, frees its slot and ends a sync request's wait."""
        h, metrics = self.harness(MemoryStore())
        d = h.accept(request(MOBILE, mode=Mode.SYNC))
        h.channel["mobile"].answer_all()
        self.assertTrue(self.successResultOf(d).complete)
        self.assertEqual(self.submitted(metrics), 1.0)
        self.assertEqual(h.gateway.in_flight["mobile"], 0)

    def test_record_failed(self) -> None:
        """A record that fails is logged and not counted; the slot is free, the wait ends."""
        store = MemoryStore()
        store.segment_submitted_many = (  # type: ignore[method-assign]
            lambda *args, **kwargs: fail(RuntimeError("disk full"))
        )
        h, metrics = self.harness(store)
        d = h.accept(request(MOBILE, mode=Mode.SYNC))
        h.channel["mobile"].answer_all()
        self.assertTrue(self.successResultOf(d).complete)
        self.assertIsNone(self.submitted(metrics))
        self.assertEqual(h.gateway.in_flight["mobile"], 0)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)


class MoTests(SynchronousTestCase):
    """MOs become inbound items (flows 2 and 3)."""

    def setUp(self) -> None:
        self.h = GatewayHarness(self)
        self.mobile = self.h.channel["mobile"]

    def test_mo_stored(self) -> None:
        """An MO is stored with its sender, destination and text."""
        self.successResultOf(self.mobile.mo(b"TD", msg_id="mo-1"))
        [item] = self.h.inbound()
        self.assertEqual((item.kind, item.channel), (InboundKind.MO, "mobile"))
        self.assertEqual(
            (item.fields["from"], item.fields["to"], item.fields["text"]),
            (MOBILE, "1065901234", "TD"),
        )

    def test_repeated_mo_stored_once(self) -> None:
        """The same DELIVER sent twice (lost DELIVER_RESP) is one inbound item."""
        self.mobile.mo(b"TD", msg_id="mo-1")
        self.mobile.mo(b"TD", msg_id="mo-1")
        self.assertEqual(len(self.h.inbound()), 1)

    def test_long_mo_out_of_order(self) -> None:
        """A three-part MO arriving 3, 1, 2 is stored once, whole."""
        text = "长短信测试" * 30
        parts = split_text(text, MsgFmt.UCS2, 0x42)
        self.assertEqual(len(parts), 3)
        for n, i in enumerate((2, 0, 1)):
            part = parts[i]
            self.mobile.mo(part.content, msg_fmt=8, tp_udhi=1, msg_id=f"mo-{i}")
            if n < 2:
                self.assertEqual(self.h.inbound(), [])
        [item] = self.h.inbound()
        self.assertEqual(item.fields["text"], text)


class MoPartsTests(SynchronousTestCase):
    """Parts of a long MO are held in the store, so a restart loses none (issue 14)."""

    def setUp(self) -> None:
        self.store = MemoryStore()
        self.parts = split_text("长短信测试" * 30, MsgFmt.UCS2, 0x42)

    def deliver(self, h: GatewayHarness, index: int) -> None:
        part = self.parts[index]
        d = h.channel["mobile"].mo(part.content, msg_fmt=8, tp_udhi=1, msg_id=f"mo-{index}")
        self.successResultOf(d)

    def test_parts_survive_a_restart(self) -> None:
        """Two parts before a restart and the third after it make one whole MO."""
        h = GatewayHarness(self, store=self.store)
        self.deliver(h, 0)
        self.deliver(h, 2)
        self.assertEqual(len(self.successResultOf(self.store.mo_parts())), 2)
        h.stop()

        again = GatewayHarness(self, store=self.store)
        self.assertEqual(again.inbound(), [])
        self.deliver(again, 1)
        [item] = again.inbound()
        self.assertEqual(item.fields["text"], "长短信测试" * 30)
        self.assertEqual(self.successResultOf(self.store.mo_parts()), [])

    def test_whole_group_found_at_start(self) -> None:
        """Every part held but no item stored (a crash between the commits): stored at start."""
        h = GatewayHarness(self, store=self.store)
        for index in range(3):
            part = self.parts[index]
            info = concat_info(part.content, 1)
            assert info is not None
            group = MoGroup("mobile", MOBILE, "1065901234", info.reference, info.total)
            mo_part = MoPart(group, info.number, part.content, 1, 8, START, f"mo-{index}")
            self.successResultOf(self.store.add_mo_part(mo_part))
        h.stop()
        again = GatewayHarness(self, store=self.store)
        [item] = again.inbound()
        self.assertEqual(item.fields["text"], "长短信测试" * 30)
        self.assertEqual(self.successResultOf(self.store.mo_parts()), [])

    def test_expired_parts_dropped_from_store(self) -> None:
        """A long MO given up on is stored with its missing parts, and its parts are deleted."""
        h = GatewayHarness(self, store=self.store)
        self.deliver(h, 1)
        h.clock.advance(601)
        [item] = h.inbound()
        self.assertEqual(item.fields["missing_parts"], [1, 3])
        self.assertEqual(self.successResultOf(self.store.mo_parts()), [])

    def test_single_part_not_held(self) -> None:
        """A short MO is stored at once, with nothing held."""
        h = GatewayHarness(self, store=self.store)
        self.successResultOf(h.channel["mobile"].mo(b"TD", msg_id="x"))
        self.assertEqual(len(h.inbound()), 1)
        self.assertEqual(self.successResultOf(self.store.mo_parts()), [])

    def test_malformed_udh_kept_as_is(self) -> None:
        """An MO whose UDH is malformed is stored as it came, not lost."""
        h = GatewayHarness(self, store=self.store)
        self.successResultOf(h.channel["mobile"].mo(b"\x05\x00\x03", msg_fmt=0, tp_udhi=1))
        [item] = h.inbound()
        self.assertEqual(item.kind, InboundKind.MO)


class _HeldStore(MemoryStore):
    """A MemoryStore whose report and inbound writes are answered only on :meth:`commit`.

    It stands for a store whose transaction has not committed yet: the
    change is made, but the caller is not told until the test says so.
    """

    def __init__(self) -> None:
        super().__init__()
        self.waiting: list[tuple[Deferred[Any], Deferred[Any]]] = []

    def _held(self, d: Deferred[Any]) -> Deferred[Any]:
        answer: Deferred[Any] = Deferred()
        self.waiting.append((d, answer))
        return answer

    def record_report(self, *args: Any, **kwargs: Any) -> Deferred[Any]:
        return self._held(super().record_report(*args, **kwargs))

    def add_inbound(self, *args: Any, **kwargs: Any) -> Deferred[Any]:
        return self._held(super().add_inbound(*args, **kwargs))

    def commit(self) -> None:
        waiting, self.waiting = self.waiting, []
        for d, answer in waiting:
            d.chainDeferred(answer)


class DeliverRespTests(SynchronousTestCase):
    """A real CMPP channel answers a DELIVER only after the gateway's write has committed."""

    def setUp(self) -> None:
        self.store = _HeldStore()
        reactor = MemoryReactorClock()
        self.channel = Channel(parse_upstream_url(upstream_url("cmpp", "mobile")), reactor)
        router = Router([RouteSpec("mobile", "cmpp")])
        urls = {InboundKind.REPORT: "http://app/r", InboundKind.MO: "http://app/mo"}
        callbacks = CallbackSender(self.store, reactor, urls, http=None)
        Gateway(self.store, {"mobile": self.channel}, router, reactor, callbacks=callbacks)

    def deliver(self, pdu: Any) -> Deferred[Any]:
        """What the channel answers *pdu* with (a Deferred until the write commits)."""
        d: Deferred[Any] = self.channel.inbound(None, pdu)  # type: ignore[arg-type]
        return d

    def pushes(self) -> list[Any]:
        return self.successResultOf(self.store.due_callbacks(float("inf"), 10))  # type: ignore[no-any-return]

    def test_report_answered_after_commit(self) -> None:
        """No DELIVER_RESP for a report until its item and push are committed."""
        content = encode_report(
            cp.Report(msg_id=42, stat=b"DELIVRD", done_time=b"2506151200",
                      dest_terminal_id=MOBILE.encode())
        )  # fmt: skip
        d = self.deliver(cp.Deliver(msg_id=7, registered_delivery=1, msg_content=content))
        self.assertNoResult(d)
        self.assertEqual(len(self.store.waiting), 1)
        self.store.commit()
        self.assertEqual(self.successResultOf(d), cp.DeliverResp(7, 0))

    def test_matched_report_answered_after_commit(self) -> None:
        """A report that matches a segment: its push is in the commit the answer waits for."""
        message = Message("m1", START, [Recipient(MOBILE, "mobile", [Segment(1, 1, b"x")])])
        self.successResultOf(self.store.add_message(message))
        self.successResultOf(self.store.claim_due(START, 10))
        self.successResultOf(self.store.segment_submitted(SegmentKey("m1", 0, 1), 0, "42", START))
        content = encode_report(
            cp.Report(msg_id=42, stat=b"UNDELIV", dest_terminal_id=MOBILE.encode())
        )
        d = self.deliver(cp.Deliver(msg_id=8, registered_delivery=1, msg_content=content))
        self.assertNoResult(d)
        self.store.commit()
        self.assertEqual(self.successResultOf(d), cp.DeliverResp(8, 0))
        [push] = self.pushes()
        self.assertEqual((push.kind, push.url), (InboundKind.REPORT, "http://app/r"))

    def test_mo_answered_after_commit(self) -> None:
        """No DELIVER_RESP for an MO until its item and push are committed."""
        pdu = cp.Deliver(msg_id=9, dest_id=b"1065901234", src_terminal_id=MOBILE.encode(),
                         msg_content=b"TD")  # fmt: skip
        d = self.deliver(pdu)
        self.assertNoResult(d)
        self.store.commit()
        self.assertEqual(self.successResultOf(d), cp.DeliverResp(9, 0))
        [push] = self.pushes()
        self.assertEqual((push.kind, push.url), (InboundKind.MO, "http://app/mo"))

    def test_failed_write_is_refused(self) -> None:
        """A write that fails is answered "not stored" (Result 9), for the carrier to resend."""
        pdu = cp.Deliver(msg_id=10, src_terminal_id=MOBILE.encode(), msg_content=b"TD")
        d = self.deliver(pdu)
        [(_, answer)] = self.store.waiting
        self.store.waiting.clear()
        answer.errback(RuntimeError("disk full"))
        self.assertEqual(self.successResultOf(d), cp.DeliverResp(10, 9))
        self.flushLoggedErrors(RuntimeError)


class VendorChannel(FakeChannel):
    """A fake HTTP-vendor-like channel: whole texts, batches of three numbers."""

    def segments(self, text: str) -> list[Part]:
        return [Part(1, 1, 0, text.encode("utf-16-be"), MsgFmt.UCS2)]

    def max_dests(self, report: bool) -> int:
        return 3


class ChannelInterfaceTests(SynchronousTestCase):
    """The gateway sees a channel only through :class:`~smsgw.sp.interfaces.IChannel`."""

    def test_fake_channel_provides_ichannel(self) -> None:
        """The fake channel of these tests provides IChannel."""
        self.assertTrue(verifyObject(IChannel, FakeChannel("mobile")))
        self.assertTrue(verifyObject(IChannel, VendorChannel("vendor")))

    def test_channel_cuts_the_text(self) -> None:
        """The channel's segments() decides the segments: one for a vendor that splits itself."""
        vendor = VendorChannel("mobile")
        h = GatewayHarness(self, [vendor])
        accepted = h.send(request(MOBILE, LONG_TEXT))
        [recipient] = accepted.message.recipients
        self.assertEqual([(s.pk_number, s.pk_total) for s in recipient.segments], [(1, 1)])
        [call] = vendor.calls
        self.assertEqual(call.segment.content.decode("utf-16-be"), LONG_TEXT)

    def test_channel_batch_size(self) -> None:
        """The channel's max_dests() sizes the groups, with or without a report."""
        for report in (True, False):
            with self.subTest(report=report):
                vendor = VendorChannel("mobile", window=128)
                h = GatewayHarness(self, [vendor])
                numbers = [f"138{i:08d}" for i in range(7)]
                h.send(request(numbers, report=report))
                self.assertEqual([len(c.dests) for c in vendor.calls], [3, 3, 1])
                self.assertEqual([d for c in vendor.calls for d in c.dests], numbers)
                h.stop()

    def test_per_destination_outcomes(self) -> None:
        """A result with an id and a result per destination is recorded per recipient."""
        vendor = VendorChannel("mobile", window=128)
        h = GatewayHarness(self, [vendor])
        numbers = [f"138{i:08d}" for i in range(3)]
        accepted = h.send(request(numbers))
        [call] = vendor.calls
        call.deferred.callback(
            SegmentResult(call.dests, 1, 1, "7", 5, msg_ids=("7", "8", ""), results=(0, 0, 5))
        )
        h.settle()
        self.assertEqual(
            h.states(accepted.message.id),
            [SegmentState.SUBMITTED, SegmentState.SUBMITTED, SegmentState.FAILED],
        )
        ids = [s.msg_id for r in h.message(accepted.message.id).recipients for s in r.segments]
        self.assertEqual(ids[:2], ["7", "8"])
        self.successResultOf(vendor.report("8", dest=numbers[1]))
        self.assertEqual(h.states(accepted.message.id)[1], SegmentState.DELIVERED)
        h.stop()

    def test_not_ready_claims_nothing(self) -> None:
        """A channel that is not ready() gets no SUBMIT until it is."""
        mobile = FakeChannel("mobile")
        mobile.sessions = []
        h = GatewayHarness(self, [mobile])
        h.send(request(MOBILE))
        h.settle()
        self.assertEqual(mobile.calls, [])
        mobile.sessions = [object()]
        h.clock.advance(h.gateway.pump_interval_s)
        self.assertEqual(len(mobile.calls), 1)


class _SlowExpiryStore(MemoryStore):
    """A MemoryStore whose ``expire_reports`` answers only when the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.expiring: list[Deferred[int]] = []

    def expire_reports(self, older_than: float) -> Deferred[int]:
        d: Deferred[int] = Deferred()
        self.expiring.append(d)
        return d


class StopTests(SynchronousTestCase):
    """Stopping the gateway while one of its loops is using the store."""

    def test_stop_waits_for_expiry_run(self) -> None:
        """stopService fires only after an expiry run in progress is over; the store closes next."""
        store = _SlowExpiryStore()
        harness = GatewayHarness(self, store=store)
        self.assertEqual(len(store.expiring), 1)  # the loop ran at start and waits for the store
        stopped = harness.gateway.stopService()
        self.assertNoResult(stopped)
        store.expiring.pop().callback(0)
        self.successResultOf(stopped)
        self.assertEqual(store.expiring, [])  # and no new run was started
