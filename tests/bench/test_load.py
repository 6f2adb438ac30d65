"""``smsgw bench`` helpers (:mod:`smsgw.bench.load`)."""

from __future__ import annotations

import json
import resource
import subprocess
import sys

from twisted.trial.unittest import SynchronousTestCase

from smsgw.bench.load import raise_fd_limit


class FdLimitTests(SynchronousTestCase):
    """``--hold`` raises the open-file limit it needs, up to the hard limit."""

    def setUp(self) -> None:
        self.before = resource.getrlimit(resource.RLIMIT_NOFILE)
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, self.before)

    def test_raised_to_wanted(self) -> None:
        """A soft limit below the need is raised to it; one above is left alone."""
        hard = self.before[1]
        if hard != resource.RLIM_INFINITY and hard < 512:
            self.skipTest(f"the hard open-file limit is only {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        self.assertEqual(raise_fd_limit(400), (256, 400))
        self.assertEqual(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 400)
        self.assertEqual(raise_fd_limit(300), (400, 400))

    def test_capped_by_hard_limit(self) -> None:
        """Past the hard limit the soft one stops at it."""
        hard = self.before[1]
        if hard == resource.RLIM_INFINITY:
            self.skipTest("no hard open-file limit")
        self.assertEqual(raise_fd_limit(hard + 1000)[1], hard)


class FreePortTests(SynchronousTestCase):
    """The bench's free ports are never handed out twice in one process."""

    def test_distinct(self) -> None:
        """Two hundred ports asked for in a row are all different."""
        from smsgw.bench.http import free_port

        ports = [free_port() for _ in range(200)]
        self.assertEqual(len(set(ports)), 200)


class SmppRunTests(SynchronousTestCase):
    """``smsgw bench --protocol smpp``: an smpp channel against the simulator's SMSC face."""

    def test_short_run_with_receipts(self) -> None:
        """200 submit_sm with receipts through an ismg-sim process: all answered and reported."""
        out = subprocess.run(
            [sys.executable, "-m", "smsgw.cli", "bench", "--protocol", "smpp", "--count", "200",
             "--reports", "--quiet", "--timeout", "60"],
            capture_output=True, timeout=120, check=True,
        )  # fmt: skip
        summary = json.loads(out.stdout.decode().strip().splitlines()[-1])
        self.assertEqual(
            (summary["protocol"], summary["count"], summary["errors"]), ("smpp", 200, {})
        )
        self.assertGreater(summary["reports_per_s"], 0)
