"""The ``smsgw`` console script (:mod:`smsgw.cli`): usage errors only, no benchmark runs."""

from __future__ import annotations

import io
import sys

from twisted.trial.unittest import SynchronousTestCase

from smsgw.cli import main


class MainTests(SynchronousTestCase):
    """Exit codes and messages of ``smsgw`` for bad command lines."""

    def setUp(self) -> None:
        self.stderr = io.StringIO()
        self.stdout = io.StringIO()
        self.patch(sys, "stderr", self.stderr)
        self.patch(sys, "stdout", self.stdout)

    def test_no_arguments(self) -> None:
        """No command: exit code 2 and the usage on stderr."""
        self.assertEqual(main([]), 2)
        self.assertIn("usage: smsgw bench", self.stderr.getvalue())

    def test_help(self) -> None:
        """--help prints the usage and exits 0."""
        self.assertEqual(main(["--help"]), 0)
        self.assertIn("usage:", self.stderr.getvalue())

    def test_unknown_command(self) -> None:
        """An unknown command: exit code 2 naming it."""
        self.assertEqual(main(["nope"]), 2)
        self.assertIn("unknown command 'nope'", self.stderr.getvalue())

    def test_bench_count_zero(self) -> None:
        """bench --count 0 is a usage error (exit code 2), before anything starts."""
        self.assertEqual(main(["bench", "--count", "0"]), 2)
        self.assertIn("--count must be 1..10000000", self.stderr.getvalue())
        self.assertEqual(self.stdout.getvalue(), "")

    def test_bench_bad_sessions(self) -> None:
        """bench --sessions 0 is a usage error."""
        self.assertEqual(main(["bench", "--sessions", "0"]), 2)
        self.assertIn("--sessions", self.stderr.getvalue())

    def test_bench_unknown_option(self) -> None:
        """bench with an unknown option is a usage error."""
        self.assertEqual(main(["bench", "--colour", "red"]), 2)
        self.assertIn("colour", self.stderr.getvalue())
