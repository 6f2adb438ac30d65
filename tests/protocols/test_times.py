"""Report times of the carrier protocols (:mod:`smsgw.protocols.times`)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.cmpp.auth import BEIJING
from smsgw.protocols.times import report_minute


class ReportMinuteTests(SynchronousTestCase):
    """``YYMMDDHHMM`` in Beijing time to POSIX seconds."""

    def test_beijing_time(self) -> None:
        """2025-11-22 10:46 in Beijing is 02:46 UTC; bytes and text read alike."""
        expected = datetime(2025, 11, 22, 2, 46, tzinfo=UTC).timestamp()
        self.assertEqual(report_minute(b"2511221046"), expected)
        self.assertEqual(report_minute("2511221046"), expected)

    def test_seconds_after_the_minute_are_ignored(self) -> None:
        """Only the first 10 digits count (some carriers append seconds)."""
        self.assertEqual(report_minute(b"251122104659"), report_minute(b"2511221046"))

    def test_not_a_time(self) -> None:
        """Empty, short, non-digit or impossible dates are no time (None), never an error."""
        for text in (b"", b"25112210", b"25112210xx", b"2513221046", b"2511221260", b"\\xff" * 10):
            self.assertIsNone(report_minute(text), text)

    @given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2068, 12, 31)))
    def test_round_trip(self, when: datetime) -> None:
        """Any minute of 2000-2068 (two-digit years) in Beijing time reads back as that minute."""
        when = when.replace(second=0, microsecond=0, tzinfo=BEIJING)
        self.assertEqual(report_minute(when.strftime("%y%m%d%H%M")), when.timestamp())
