"""Process-wide settings: the GC thresholds every smsgw process runs with."""

from __future__ import annotations

import gc

from twisted.trial.unittest import SynchronousTestCase

from smsgw.runtime import GC_THRESHOLDS, tune_gc
from smsgw.tap import makeService
from tests.test_tap import _parse


class TuneGcTests(SynchronousTestCase):
    """:func:`tune_gc` and who calls it."""

    def setUp(self) -> None:
        before = gc.get_threshold()
        self.addCleanup(gc.set_threshold, *before)
        gc.set_threshold(700, 10, 10)

    def test_sets_and_returns(self) -> None:
        """It sets the thresholds and gives back the ones before."""
        self.assertEqual(tune_gc((1000, 5, 6)), (700, 10, 10))
        self.assertEqual(gc.get_threshold(), (1000, 5, 6))
        self.assertEqual(tune_gc(), (1000, 5, 6))
        self.assertEqual(gc.get_threshold(), GC_THRESHOLDS)

    def test_make_service(self) -> None:
        """Building any role's service tree (what twistd does) tunes the process."""
        from twisted.internet.testing import MemoryReactorClock

        for role in ("sp", "ismg-sim", "gns-sim"):
            gc.set_threshold(700, 10, 10)
            makeService(_parse(f"--role={role}"), reactor=MemoryReactorClock())
            self.assertEqual(gc.get_threshold(), GC_THRESHOLDS, role)

    def test_load_bench(self) -> None:
        """``smsgw bench`` (the load generator) runs with the same thresholds as what it drives."""
        from smsgw.bench import load
        from smsgw.cli import main

        self.patch(load, "main", lambda argv: 0)
        self.assertEqual(main(["bench", "--count", "1"]), 0)
        self.assertEqual(gc.get_threshold(), GC_THRESHOLDS)
