"""Issue 4: kill -9 the sp, or the simulator, mid-send; no accepted message is lost.

Runs :func:`smsgw.bench.durability.run_scenario` (what ``scripts/durability.py``
runs) with 1,000 messages: real ``sp`` and ``ismg-sim`` processes on
loopback ports, SIGKILL, restart, then every accepted number must have
reached the simulator, and only numbers in flight at the kill may have
reached it twice.  Each scenario is bounded (:data:`DEADLINE_S`); the whole
module takes well under two minutes.  Skipped where subprocesses cannot be
started.
"""

from __future__ import annotations

import subprocess
import sys

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from smsgw.bench.durability import Outcome, run_scenario

COUNT = 1000
#: Seconds one scenario may take, processes' start-up included.
DEADLINE_S = 55.0


def _can_spawn() -> str | None:
    """None when ``python -m twisted smsgw`` can run here, else why not."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", "import twisted.plugins.smsgw_plugin, smsgw.tap"],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as e:
        return f"cannot start a subprocess here: {e}"
    if done.returncode != 0:
        return (
            "the smsgw twistd plugin cannot be imported in a subprocess: "
            + done.stderr.decode("utf-8", "replace").strip().splitlines()[-1]
        )
    return None


class DurabilityTests(SynchronousTestCase):
    """Both kill scenarios with 1,000 queued messages."""

    def setUp(self) -> None:
        why = _can_spawn()
        if why is not None:
            raise SkipTest(why)

    def check(self, outcome: Outcome) -> None:
        detail = repr(outcome.to_json())
        self.assertEqual(outcome.problems, [], detail)
        self.assertEqual((outcome.accepted, outcome.submitted), (COUNT, COUNT), detail)
        self.assertEqual((outcome.lost, outcome.failed, outcome.unknown), (0, 0, 0), detail)
        self.assertLess(outcome.sent_before_kill, COUNT, "the kill came after the last SUBMIT")
        self.assertGreater(outcome.in_flight_at_kill, 0, detail)
        self.assertLessEqual(outcome.duplicates, outcome.bound, detail)
        self.assertEqual(outcome.unexpected_duplicates, 0, detail)

    def test_kill_sp(self) -> None:
        """kill -9 of the sp mid-send: all sent after a restart; only in-flight ones twice."""
        outcome = run_scenario("sp", COUNT, deadline_s=DEADLINE_S)
        self.check(outcome)
        self.assertEqual(outcome.bound, 32)

    def test_kill_simulator(self) -> None:
        """kill -9 of the simulator mid-send: unanswered SUBMITs are sent again, none is lost."""
        outcome = run_scenario("sim", COUNT, deadline_s=DEADLINE_S)
        self.check(outcome)
        self.assertEqual(outcome.bound, 16)
        # The first simulator received a full window it never answered: those come again.
        self.assertEqual(outcome.duplicates, 16)
