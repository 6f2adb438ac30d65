"""Settings a long-running smsgw process makes once, for the whole process."""

from __future__ import annotations

import gc

__all__ = ["GC_THRESHOLDS", "tune_gc"]

#: :func:`gc.set_threshold` for smsgw's processes; CPython's default is ``(700, 10, 10)``.
GC_THRESHOLDS = (20_000, 20, 20)


def tune_gc(thresholds: tuple[int, int, int] = GC_THRESHOLDS) -> tuple[int, int, int]:
    """Run CPython's cyclic garbage collector less often; returns the thresholds before.

    A gateway allocates several container objects per message and frees
    nearly all of them by reference counting; the collector only has to
    find the rare cycle (a Failure's traceback, say).  At the default
    thresholds a young collection ran every 700 allocations, and a full one
    each time the long-lived heap had grown by a quarter.  Measured at about
    4,000 msg/s (docs/benchmarks.md, issue 4): the sp spent 1.6 s of an 11 s
    run collecting, 0.8 s of it in 20 full collections of about 40 ms each,
    and the simulator 0.9 s, in full collections of about 100 ms; each one
    stalls every message in flight.  With these thresholds the collector
    took under 0.3 s in each process and the same run went about 40 %
    faster.  Memory held by uncollected cycles stays small: a young
    collection still runs every 20,000 allocations.
    """
    before = gc.get_threshold()
    gc.set_threshold(*thresholds)
    return before
