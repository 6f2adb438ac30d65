"""``smsgw bench`` helpers (:mod:`smsgw.bench.load`)."""

from __future__ import annotations

import resource

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
