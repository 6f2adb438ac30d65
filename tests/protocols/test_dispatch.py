"""Tests for :mod:`smsgw.protocols.dispatch`: window, timeouts, matching, closing.

The dispatcher is driven directly: ``write`` records what would go on the
wire, sequence numbers come from a plain counter, time from a ``Clock``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.error import ConnectionLost
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.dispatch import Dispatcher, ResponseTimeout, SessionClosed
from tests.clock import BoundedClock


class _Wire:
    """What the dispatcher wrote: ``(time, pdu, sequence)`` per transmission."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.writes: list[tuple[float, object, Hashable]] = []

    def __call__(self, pdu: object, sequence: Hashable) -> None:
        self.writes.append((self.clock.seconds(), pdu, sequence))

    @property
    def sequences(self) -> list[Hashable]:
        return [seq for _, _, seq in self.writes]

    def sequence_of(self, pdu: object) -> Hashable:
        """The sequence number *pdu* was (last) sent with."""
        return [seq for _, sent, seq in self.writes if sent == pdu][-1]


def _dispatcher(
    *,
    window: int = 4,
    timeout_s: float = 10.0,
    attempts: int = 3,
    sequences: Iterable[Hashable] | None = None,
) -> tuple[Dispatcher, _Wire, Clock]:
    clock = BoundedClock()
    wire = _Wire(clock)
    counter: Callable[[], Hashable] = iter(
        itertools.count(1) if sequences is None else sequences
    ).__next__
    d = Dispatcher(clock, wire, counter, window=window, timeout_s=timeout_s, attempts=attempts)
    return d, wire, clock


def _run_clock(clock: Clock, seconds: int) -> None:
    """Advance *clock* one second at a time, so timers set by timers also run."""
    clock.pump([1] * seconds)


def _count_results(d: Deferred[Any]) -> list[object]:
    """Record every result *d* fires with (to check it fires exactly once)."""
    results: list[object] = []

    def record(result: object) -> None:
        results.append(result)

    d.addBoth(record)
    return results


class WindowTests(SynchronousTestCase):
    """At most W requests are on the wire without a response."""

    def test_window_never_exceeded(self) -> None:
        """Sending 3W requests writes only W of them."""
        d, wire, _ = _dispatcher(window=4)
        for i in range(12):
            d.send(i)
        self.assertEqual(len(wire.writes), 4)
        self.assertEqual((d.in_flight, d.queued), (4, 8))

    def test_answer_releases_one(self) -> None:
        """Answering one request writes exactly one queued request, the oldest."""
        d, wire, _ = _dispatcher(window=4)
        for i in range(12):
            d.send(i)
        self.assertTrue(d.response(wire.sequences[0], "ok"))
        self.assertEqual(len(wire.writes), 5)
        self.assertEqual(wire.writes[-1][1], 4)
        self.assertEqual((d.in_flight, d.queued), (4, 7))

    def test_send_fifo_behind_queue(self) -> None:
        """A new request waits behind queued ones even if the window has room."""
        d, wire, _ = _dispatcher(window=1)
        d.send("a")
        d.send("b")
        d.send("c")
        d.response(wire.sequence_of("a"), "ok")
        self.assertEqual([pdu for _, pdu, _ in wire.writes], ["a", "b"])

    @given(
        window=st.integers(1, 5),
        actions=st.lists(
            st.one_of(st.just(None), st.integers(0, 1000)),
            max_size=80,
        ),
    )
    def test_window_property(self, window: int, actions: list[int | None]) -> None:
        """Any interleaving of sends (None) and answers keeps in_flight ≤ W; each fires once."""
        d, wire, _ = _dispatcher(window=window)
        results: list[list[object]] = []
        unanswered: dict[Hashable, object] = {}
        written = 0

        def check() -> None:
            nonlocal written
            for _, pdu, seq in wire.writes[written:]:
                self.assertNotIn(seq, unanswered)
                unanswered[seq] = pdu
            written = len(wire.writes)
            self.assertLessEqual(d.in_flight, window)
            self.assertEqual(d.in_flight, len(unanswered))
            # Work-conserving: nothing waits while the window has room.
            if d.queued:
                self.assertEqual(d.in_flight, window)

        def answer(seq: Hashable) -> None:
            pdu = unanswered.pop(seq)
            self.assertTrue(d.response(seq, ("resp", pdu)))
            self.assertFalse(d.response(seq, ("resp", pdu)))

        for action in actions:
            if action is None:
                results.append(_count_results(d.send(len(results))))
            elif unanswered:
                answer(sorted(unanswered, key=repr)[action % len(unanswered)])
            check()
        while unanswered:
            answer(next(iter(unanswered)))
            check()

        self.assertEqual((d.in_flight, d.queued), (0, 0))
        self.assertEqual(results, [[("resp", i)] for i in range(len(results))])
        # Requests go on the wire in the order they were sent.
        self.assertEqual([pdu for _, pdu, _ in wire.writes], list(range(len(results))))


class TimeoutTests(SynchronousTestCase):
    """Unanswered requests are resent with the same sequence, then fail."""

    def test_retransmits_then_fails(self) -> None:
        """N attempts at 0, T, 2T… with one sequence number, then ResponseTimeout."""
        d, wire, clock = _dispatcher(timeout_s=10, attempts=3)
        result = d.send("a")
        clock.advance(9.9)
        self.assertEqual(len(wire.writes), 1)
        clock.advance(0.1)
        clock.advance(10)
        self.assertNoResult(result)
        self.assertEqual(wire.writes, [(0, "a", 1), (10, "a", 1), (20, "a", 1)])
        clock.advance(9.9)
        self.assertNoResult(result)
        clock.advance(0.1)
        failure = self.failureResultOf(result, ResponseTimeout)
        self.assertEqual(failure.value.attempts, 3)
        self.assertEqual(failure.value.pdu, "a")
        self.assertEqual(len(wire.writes), 3)
        self.assertEqual(d.in_flight, 0)
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_single_attempt(self) -> None:
        """With N = 1 a request is never resent."""
        d, wire, clock = _dispatcher(timeout_s=5, attempts=1)
        result = d.send("a")
        clock.advance(5)
        self.assertEqual(self.failureResultOf(result, ResponseTimeout).value.attempts, 1)
        self.assertEqual(len(wire.writes), 1)

    def test_answer_after_retransmit(self) -> None:
        """A response to a resent request fires it and stops the retransmissions."""
        d, wire, clock = _dispatcher(timeout_s=10, attempts=3)
        result = d.send("a")
        clock.advance(10)
        self.assertTrue(d.response(1, "ok"))
        self.assertEqual(self.successResultOf(result), "ok")
        _run_clock(clock, 100)
        self.assertEqual(len(wire.writes), 2)

    def test_late_response_ignored(self) -> None:
        """A second response to an answered request returns False and changes nothing."""
        d, _, _ = _dispatcher()
        result = d.send("a")
        self.assertTrue(d.response(1, "first"))
        self.assertFalse(d.response(1, "second"))
        self.assertEqual(self.successResultOf(result), "first")

    def test_response_after_timeout_ignored(self) -> None:
        """A response after the request timed out returns False."""
        d, _, clock = _dispatcher(timeout_s=10, attempts=2)
        result = d.send("a")
        _run_clock(clock, 20)
        self.failureResultOf(result, ResponseTimeout)
        self.assertFalse(d.response(1, "late"))

    def test_staggered_deadlines(self) -> None:
        """Requests sent at different times are each resent T after their own last send."""
        d, wire, clock = _dispatcher(timeout_s=10, attempts=3)
        a = d.send("a")
        clock.advance(4)
        b = d.send("b")
        clock.advance(3)
        c = d.send("c")
        d.response(wire.sequence_of("b"), "ok")
        _run_clock(clock, 100)
        self.assertEqual(
            wire.writes,
            [
                (0, "a", 1),
                (4, "b", 2),
                (7, "c", 3),
                (10, "a", 1),
                (17, "c", 3),
                (20, "a", 1),
                (27, "c", 3),
            ],
        )
        self.assertEqual(self.successResultOf(b), "ok")
        self.failureResultOf(a, ResponseTimeout)
        self.failureResultOf(c, ResponseTimeout)

    def test_timeout_frees_window(self) -> None:
        """A request that times out gives its place to a queued one."""
        d, wire, clock = _dispatcher(window=1, timeout_s=10, attempts=1)
        a = d.send("a")
        b = d.send("b")
        clock.advance(10)
        self.failureResultOf(a, ResponseTimeout)
        self.assertEqual(wire.writes[-1], (10, "b", 2))
        self.assertEqual(d.in_flight, 1)
        d.response(2, "ok")
        self.assertEqual(self.successResultOf(b), "ok")


class MatchingTests(SynchronousTestCase):
    """Responses find their requests by sequence number."""

    def test_out_of_order(self) -> None:
        """Responses in any order fire the right Deferreds."""
        d, wire, _ = _dispatcher(window=8)
        results = {pdu: d.send(pdu) for pdu in "abcde"}
        for pdu in "dbeac":
            self.assertTrue(d.response(wire.sequence_of(pdu), pdu.upper()))
        for pdu, result in results.items():
            self.assertEqual(self.successResultOf(result), pdu.upper())

    def test_unknown_sequence(self) -> None:
        """A response with a sequence nobody waits for returns False."""
        d, _, _ = _dispatcher()
        result = d.send("a")
        self.assertFalse(d.response(99, "x"))
        self.assertNoResult(result)
        self.assertEqual(d.in_flight, 1)

    def test_fail_one(self) -> None:
        """fail() errbacks only the request with that sequence."""
        d, _, _ = _dispatcher()
        a = d.send("a")
        b = d.send("b")
        self.assertTrue(d.fail(1, ValueError("bad response")))
        self.assertFalse(d.fail(1, ValueError("again")))
        self.failureResultOf(a, ValueError)
        self.assertNoResult(b)

    def test_on_sent(self) -> None:
        """on_sent gets the sequence once, when a request is first written, not on resends."""
        d, _, clock = _dispatcher(window=1, timeout_s=10, attempts=3)
        sent: list[tuple[str, Hashable]] = []
        d.send("a", lambda seq: sent.append(("a", seq)))
        d.send("b", lambda seq: sent.append(("b", seq)))
        self.assertEqual(sent, [("a", 1)])
        _run_clock(clock, 15)
        self.assertEqual(sent, [("a", 1)])
        d.response(1, "ok")
        self.assertEqual(sent, [("a", 1), ("b", 2)])

    def test_sequence_collision_skipped(self) -> None:
        """When the counter wraps onto a sequence still pending, it is skipped."""
        d, wire, _ = _dispatcher(window=2, sequences=itertools.cycle([1, 2, 3]))
        a = d.send("a")  # 1, stays pending
        d.send("b")  # 2
        d.response(2, "ok")
        d.send("c")  # 3
        d.response(3, "ok")
        last = d.send("d")  # the counter gives 1 (pending) then 2
        self.assertEqual(wire.sequences, [1, 2, 3, 2])
        d.response(2, "D")
        self.assertEqual(self.successResultOf(last), "D")
        self.assertNoResult(a)
        d.response(1, "A")
        self.assertEqual(self.successResultOf(a), "A")


class CloseTests(SynchronousTestCase):
    """close() and drained()."""

    def test_close_fails_everything(self) -> None:
        """close() fails in-flight and queued requests with the reason, and later sends."""
        d, wire, clock = _dispatcher(window=2)
        results = [d.send(i) for i in range(5)]
        d.close(ConnectionLost("reset"))
        for result in results:
            self.assertEqual(self.failureResultOf(result, ConnectionLost).value.args, ("reset",))
        later = d.send("late")
        self.failureResultOf(later, ConnectionLost)
        self.assertEqual(len(wire.writes), 2)
        self.assertEqual((d.in_flight, d.queued), (0, 0))
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_close_with_failure(self) -> None:
        """close() also takes a Failure."""
        d, _, _ = _dispatcher()
        result = d.send("a")
        d.close(Failure(SessionClosed("bye")))
        self.failureResultOf(result, SessionClosed)

    def test_response_after_close(self) -> None:
        """A response after close() is ignored."""
        d, _, _ = _dispatcher()
        result = d.send("a")
        d.close(ConnectionLost())
        self.assertFalse(d.response(1, "late"))
        self.failureResultOf(result, ConnectionLost)

    def test_drained_when_idle(self) -> None:
        """drained() fires at once when nothing is pending."""
        d, _, _ = _dispatcher()
        self.successResultOf(d.drained())

    def test_drained_after_answers(self) -> None:
        """drained() fires only once every in-flight and queued request is answered."""
        d, wire, _ = _dispatcher(window=1)
        d.send("a")
        d.send("b")
        drained = d.drained()
        d.response(wire.sequence_of("a"), "ok")
        self.assertNoResult(drained)
        d.response(wire.sequence_of("b"), "ok")
        self.successResultOf(drained)

    def test_drained_after_timeout(self) -> None:
        """drained() also fires when the last request times out."""
        d, _, clock = _dispatcher(timeout_s=10, attempts=1)
        result = d.send("a")
        drained = d.drained()
        clock.advance(10)
        self.failureResultOf(result, ResponseTimeout)
        self.successResultOf(drained)

    def test_drained_on_close(self) -> None:
        """close() releases drained() waiters."""
        d, _, _ = _dispatcher()
        result = d.send("a")
        drained = d.drained()
        d.close(ConnectionLost())
        self.successResultOf(drained)
        self.failureResultOf(result, ConnectionLost)


class CancelTests(SynchronousTestCase):
    """Cancelling a request's Deferred."""

    def test_cancel_queued(self) -> None:
        """A cancelled queued request is never written and fires once with CancelledError."""
        d, wire, _ = _dispatcher(window=1)
        d.send("a")
        b = d.send("b")
        c = d.send("c")
        seen = _count_results(b)
        b.cancel()
        self.assertEqual(d.queued, 1)
        d.response(wire.sequence_of("a"), "ok")
        self.assertEqual([pdu for _, pdu, _ in wire.writes], ["a", "c"])
        self.assertEqual(len(seen), 1)
        self.assertIsInstance(seen[0], Failure)
        self.assertTrue(seen[0].check(CancelledError))  # type: ignore[union-attr]
        d.response(wire.sequence_of("c"), "ok")
        self.successResultOf(c)

    def test_cancel_in_flight(self) -> None:
        """A cancelled in-flight request frees its place; its late response is ignored."""
        d, wire, clock = _dispatcher(window=1, timeout_s=10)
        a = d.send("a")
        b = d.send("b")
        seen = _count_results(a)
        a.cancel()
        self.assertEqual([pdu for _, pdu, _ in wire.writes], ["a", "b"])
        self.assertEqual((d.in_flight, d.queued), (1, 0))
        self.assertFalse(d.response(1, "late"))
        _run_clock(clock, 100)  # no retransmission of "a", no second firing
        self.assertEqual([pdu for _, pdu, _ in wire.writes].count("a"), 1)
        self.assertEqual(len(seen), 1)
        self.assertTrue(seen[0].check(CancelledError))  # type: ignore[union-attr]
        self.failureResultOf(b, ResponseTimeout)

    def test_cancel_after_answer(self) -> None:
        """Cancelling an answered request changes nothing."""
        d, _, _ = _dispatcher()
        a = d.send("a")
        seen = _count_results(a)
        d.response(1, "ok")
        a.cancel()
        self.assertEqual(seen, ["ok"])
        self.assertEqual(d.in_flight, 0)

    def test_cancel_releases_drained(self) -> None:
        """Cancelling the last pending request fires drained()."""
        d, _, _ = _dispatcher()
        a = d.send("a")
        drained = d.drained()
        a.cancel()
        self.successResultOf(drained)
        self.failureResultOf(a, CancelledError)

    def test_close_after_cancel(self) -> None:
        """close() does not fire a cancelled request a second time."""
        d, _, _ = _dispatcher(window=1)
        a = d.send("a")
        b = d.send("b")
        seen_a, seen_b = _count_results(a), _count_results(b)
        a.cancel()
        b.cancel()
        d.close(ConnectionLost())
        self.assertEqual((len(seen_a), len(seen_b)), (1, 1))


class ArgumentTests(SynchronousTestCase):
    """Constructor validation."""

    def test_bad_arguments(self) -> None:
        """A zero window or attempts, or a non-positive timeout, is refused."""
        clock = BoundedClock()
        for kwargs in ({"window": 0}, {"attempts": 0}, {"timeout_s": 0}):
            with self.assertRaises(ValueError):
                Dispatcher(clock, lambda pdu, seq: None, lambda: 1, **kwargs)  # type: ignore[arg-type]
