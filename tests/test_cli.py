"""The ``smsgw`` console script (:mod:`smsgw.cli`): usage errors only, no benchmark runs."""

from __future__ import annotations

import io
import sys

from twisted.trial.unittest import SynchronousTestCase

from smsgw import __version__
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
        self.assertIn("usage: smsgw send", self.stderr.getvalue())

    def test_help(self) -> None:
        """--help prints the usage of every command on stdout and exits 0."""
        for flag in ("--help", "-h"):
            self.stdout.truncate(0)
            self.assertEqual(main([flag]), 0)
            usage = self.stdout.getvalue()
            for command in (
                "smsgw send",
                "smsgw bench [",
                "smsgw bench --http",
                "smsgw bench --durability",
                "smsgw bench codec",
                "smsgw --version",
            ):
                self.assertIn(command, usage)
        self.assertEqual(self.stderr.getvalue(), "")

    def test_version(self) -> None:
        """--version prints the package version on stdout and exits 0."""
        for flag in ("--version", "-V"):
            self.stdout.truncate(0)
            self.stdout.seek(0)
            self.assertEqual(main([flag]), 0)
            self.assertEqual(self.stdout.getvalue(), f"smsgw {__version__}\n")

    def test_command_help(self) -> None:
        """Every command's --help prints a usage line naming it on stdout and exits 0."""
        for argv, usage in [
            (["send", "--help"], "usage: smsgw send "),
            (["bench", "--help"], "usage: smsgw bench [--protocol"),
            (["bench", "--http", "--help"], "usage: smsgw bench --http "),
            (["bench", "--durability", "--help"], "usage: smsgw bench --durability "),
            (["bench", "codec", "--help"], "usage: smsgw bench codec "),
        ]:
            with self.subTest(argv=argv):
                self.stdout.truncate(0)
                self.stdout.seek(0)
                self.assertEqual(main(argv), 0)
                self.assertTrue(self.stdout.getvalue().startswith(usage), self.stdout.getvalue())
                self.assertEqual(self.stderr.getvalue(), "")

    def test_durability_usage_error(self) -> None:
        """bench --durability with a bad count is a usage error (exit code 2), nothing started."""
        self.assertEqual(main(["bench", "--durability", "--count", "0"]), 2)
        self.assertIn("--count must be 1..50000", self.stderr.getvalue())

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
