"""Many calls due at chosen times, on one timer: the simulator's pending reports.

A simulator under load holds tens of thousands of reports waiting for their
delay.  One ``DelayedCall`` each costs an object of a dozen attributes, a
closure and a place in the reactor's own heap; here each is one small list
in a heap of our own, and one ``DelayedCall`` armed for the earliest serves
them all.  Calls due at the same moment (a delay of 0, or one tick) run
together in one timer run.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Hashable, Iterator
from typing import Any

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

__all__ = ["DueCalls"]

_log = Logger()


class DueCalls:
    """Keyed calls, each run once when its delay is over, unless cancelled first.

    :param clock: the reactor, or a ``Clock`` in tests.
    :param after_run: called after each timer run, once the calls due have run.
    """

    def __init__(self, clock: IReactorTime, after_run: Callable[[], object] | None = None) -> None:
        self.clock = clock
        self._after_run = after_run
        #: True while the calls due are running.
        self.running = False
        #: ``[due, order, key, function, args]``; a cancelled entry has no function.
        self._heap: list[list[Any]] = []
        self._entries: dict[Hashable, list[Any]] = {}
        self._order = itertools.count()
        self._timer: IDelayedCall | None = None
        self._timer_at = 0.0
        #: Calls that will run (the heap also holds cancelled ones until they come up).
        self._live = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._entries)

    def call_later(self, delay: float, key: Hashable, function: Callable[..., object],
                   *args: object) -> None:  # fmt: skip
        """Run ``function(*args)`` after *delay* seconds, under *key*.

        A call already waiting under *key* still runs; *key* then names the
        newest one (the one :meth:`cancel` cancels).  The faces' report keys
        are unique per report except where a protocol gives every
        destination of one SUBMIT the same id.
        """
        due = self.clock.seconds() + max(0.0, delay)
        entry = [due, next(self._order), key, function, args]
        self._entries[key] = entry
        self._live += 1
        heapq.heappush(self._heap, entry)
        timer = self._timer
        if timer is None:
            self._arm(due)
        elif due < self._timer_at:
            timer.reset(max(0.0, due - self.clock.seconds()))
            self._timer_at = due

    def cancel(self, key: Hashable) -> bool:
        """Forget *key*'s (newest) call: False when none waits."""
        entry = self._entries.pop(key, None)
        if entry is None:
            return False
        entry[3] = None
        self._live -= 1
        if not self._live:
            self.clear()
        return True

    def clear(self) -> None:
        """Cancel every call (and the timer: nothing is left in the reactor)."""
        for entry in self._heap:
            entry[3] = None
        self._heap.clear()
        self._entries.clear()
        self._live = 0
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _arm(self, due: float) -> None:
        self._timer_at = due
        self._timer = self.clock.callLater(max(0.0, due - self.clock.seconds()), self._run)

    def _run(self) -> None:
        self._timer = None
        heap, entries = self._heap, self._entries
        now = self.clock.seconds()
        self.running = True
        try:
            self._run_due(heap, entries, now)
        finally:
            self.running = False
            if self._after_run is not None:
                self._after_run()
        while heap and heap[0][3] is None:
            heapq.heappop(heap)
        if heap and self._timer is None:
            self._arm(heap[0][0])

    def _run_due(self, heap: list[list[Any]], entries: dict[Hashable, list[Any]],
                 now: float) -> None:  # fmt: skip
        while heap and heap[0][0] <= now:
            entry = heapq.heappop(heap)
            function = entry[3]
            if function is None:
                continue
            key = entry[2]
            if entries.get(key) is entry:
                del entries[key]
            entry[3] = None
            self._live -= 1
            try:
                function(*entry[4])
            except Exception:
                # As the reactor would log a failing DelayedCall: the others still run.
                _log.failure("due call {key} failed", key=key)
