"""``smsgw bench --soak`` (:mod:`smsgw.bench.soak`)."""

from __future__ import annotations

import json
import subprocess
import sys

from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from smsgw.bench.soak import Options, _growth, _Tally


class TallyTests(SynchronousTestCase):
    """Reports are matched to accepted ids in either order; the rest are orphans."""

    def test_matching(self) -> None:
        """A report after its response, one before it, and one for an id never accepted."""
        tally = _Tally()
        tally.accept("1")
        tally.report("1")
        tally.report("2")  # before its response
        tally.accept("2")
        tally.report("3")  # a dropped response's first copy
        tally.accept("4")  # still waiting
        self.assertEqual((tally.matched, tally.orphans, tally.awaiting), (2, {"3"}, {"4"}))

    def test_growth(self) -> None:
        """Growth compares the peak after the warm-up with the warm-up's last sample."""
        self.assertEqual(_growth([50, 100, 105, 102], 2), 5.0)
        self.assertEqual(_growth([50, 100, 90], 2), -10.0)
        self.assertIsNone(_growth([100], 1))

    def test_options(self) -> None:
        """Bad values are usage errors."""
        for argv in (["--share", "0"], ["--drop", "1"], ["--seconds", "0"], ["-p", "x"]):
            self.assertRaises(usage.UsageError, Options().parseOptions, argv)


class RunTests(SynchronousTestCase):
    """A short soak against a real simulator process, with both faults on."""

    def test_short_soak(self) -> None:
        """3 s at 300/s, 5 % of responses dropped, a link drop every 500 PDUs: nothing lost."""
        argv = ["bench", "--soak", "3", "--rate", "300", "--drop", "0.05",
                "--disconnect-every", "500", "--every-s", "1", "--grace-s", "30"]  # fmt: skip
        code = "import sys; from smsgw.cli import main; sys.exit(main(sys.argv[1:]))"
        done = subprocess.run(
            [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120
        )
        self.assertEqual(done.returncode, 0, done.stderr[-2000:])
        summary = json.loads(done.stdout.strip().splitlines()[-1])
        self.assertEqual((summary["lost"], summary["unanswered"], summary["failed"]), (0, 0, 0))
        self.assertEqual(summary["matched"], summary["accepted"])
        self.assertGreater(summary["accepted"], 0)
        self.assertIn("soak ", done.stderr)  # the progress lines
