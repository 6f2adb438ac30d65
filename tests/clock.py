"""Fake-clock helpers that fail instead of hanging.

``Clock.advance`` runs every call due "now", including the ones those calls
schedule for "now": a timer that re-arms itself at zero delay (a bug the
suite must catch) makes it loop forever, and trial's ``timeout`` does not
apply to a :class:`~twisted.trial.unittest.SynchronousTestCase`.
:class:`BoundedClock` fails the test instead, and :func:`flush_pumps` does
the same for a set of ``iosim`` pumps that never go quiet.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from twisted.internet.task import Clock

__all__ = ["BoundedClock", "RunawayTimer", "flush_pumps"]


class RunawayTimer(AssertionError):
    """One ``advance`` ran more calls than any test needs: a timer keeps re-arming for now."""


class BoundedClock(Clock):
    """A :class:`~twisted.internet.task.Clock` whose :meth:`advance` runs at most
    :attr:`max_calls` calls, then raises :class:`RunawayTimer`.

    The calls are run exactly as ``Clock.advance`` runs them: in time order,
    each removed before it runs, the list re-sorted after each.
    """

    #: The most calls one advance may run; no test here schedules nearly so many.
    max_calls = 10_000

    def advance(self, amount: float) -> None:
        self.rightNow += amount
        self._sortCalls()
        ran = 0
        while self.calls and self.calls[0].getTime() <= self.seconds():
            if ran == self.max_calls:
                call = self.calls[0]
                raise RunawayTimer(
                    f"advance({amount}) ran {ran} calls and {call.func!r} is due again:"
                    " a timer re-arms at zero delay"
                )
            ran += 1
            call = self.calls.pop(0)
            call.called = 1
            call.func(*call.args, **call.kw)
            self._sortCalls()


class _Pump(Protocol):
    def flush(self) -> bool: ...


def flush_pumps(pumps: Collection[_Pump], max_rounds: int = 1000) -> None:
    """Flush every pump in turn until none moves a byte; fail after *max_rounds* rounds.

    :param pumps: ``twisted.test.iosim.IOPump`` objects, in a collection that
        is read again each round (a list that grows while flushing is fine).
    :raises AssertionError: the links still move bytes after *max_rounds*
        rounds (two peers answering each other for ever).
    """
    for _ in range(max_rounds):
        moved = False
        for pump in list(pumps):
            moved = pump.flush() or moved
        if not moved:
            return
    raise AssertionError(f"the links still move bytes after {max_rounds} rounds")
