"""The fake-clock helpers of :mod:`tests.clock`: they fail a runaway test instead of hanging it."""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from tests.clock import BoundedClock, RunawayTimer, flush_pumps


class _Pump:
    """A stand-in for ``iosim.IOPump`` that moves bytes *busy* more times."""

    def __init__(self, busy: int) -> None:
        self.busy = busy
        self.flushes = 0

    def flush(self) -> bool:
        self.flushes += 1
        if self.busy > 0:
            self.busy -= 1
            return True
        return False


def _append_then_later(clock: Clock, ran: list[str], now: str, later: str) -> None:
    """Append *now*, and schedule *later* for zero seconds from now."""
    ran.append(now)
    clock.callLater(0, ran.append, later)


class BoundedClockTests(SynchronousTestCase):
    """:class:`BoundedClock` runs calls as ``Clock`` does, but not for ever."""

    def test_runs_due_calls_in_order(self) -> None:
        """Calls due by the new time run in time order, those they schedule for now too."""
        for clock in (Clock(), BoundedClock()):
            ran: list[str] = []
            clock.callLater(2, ran.append, "b")
            clock.callLater(1, _append_then_later, clock, ran, "a", "a2")
            clock.callLater(3, ran.append, "c")
            clock.advance(2)
            # "a" runs at time 2 (the clock has moved), so "a2" is due at 2, after "b".
            self.assertEqual(ran, ["a", "b", "a2"], type(clock))
            self.assertEqual([c.getTime() for c in clock.getDelayedCalls()], [3])

    def test_same_as_clock(self) -> None:
        """A cancelled or reset call behaves as on Twisted's Clock."""
        for clock in (Clock(), BoundedClock()):
            ran: list[int] = []
            clock.callLater(1, ran.append, 1).cancel()
            later = clock.callLater(1, ran.append, 2)
            later.reset(5)
            clock.advance(1)
            self.assertEqual(ran, [], type(clock))
            clock.advance(4)
            self.assertEqual(ran, [2], type(clock))

    def test_zero_delay_rearm_fails(self) -> None:
        """A timer that re-arms at zero delay raises RunawayTimer instead of hanging."""
        clock = BoundedClock()
        clock.max_calls = 50
        count = [0]

        def again() -> None:
            count[0] += 1
            clock.callLater(0, again)

        clock.callLater(1, again)
        e = self.assertRaises(RunawayTimer, clock.advance, 1)
        self.assertIn("re-arms at zero delay", str(e))
        self.assertEqual(count[0], 50)

    def test_many_calls_within_limit(self) -> None:
        """Exactly max_calls due calls still run."""
        clock = BoundedClock()
        clock.max_calls = 20
        ran: list[int] = []
        for i in range(20):
            clock.callLater(0, ran.append, i)
        clock.advance(0)
        self.assertEqual(ran, list(range(20)))


class FlushPumpsTests(SynchronousTestCase):
    """:func:`flush_pumps` flushes until quiet, within a bound."""

    def test_until_quiet(self) -> None:
        """Every pump is flushed until a round moves nothing."""
        pumps = [_Pump(3), _Pump(0)]
        flush_pumps(pumps)
        self.assertEqual([p.busy for p in pumps], [0, 0])
        self.assertEqual([p.flushes for p in pumps], [4, 4])

    def test_never_quiet_fails(self) -> None:
        """Links that never stop moving bytes fail after max_rounds."""
        pump = _Pump(10**9)
        e = self.assertRaises(AssertionError, flush_pumps, [pump], 7)
        self.assertIn("after 7 rounds", str(e))
        self.assertEqual(pump.flushes, 7)
