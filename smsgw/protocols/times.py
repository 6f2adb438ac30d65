"""Times as the Chinese carrier protocols write them in status reports.

CMPP's Done_time (CMPP 2.0 §8.4.5.1) and SMGP's ``done date:`` (SMGP 3.0
§8.1) are ``YYMMDDHHMM`` in Beijing time (UTC+8, no daylight saving).  The
SP clients turn them into POSIX seconds here, so that nothing above the
protocol layer reads a protocol's time format.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone

__all__ = ["BEIJING", "report_minute"]

#: Beijing time, which every carrier protocol's timestamps are in (UTC+8, no daylight saving).
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def report_minute(text: bytes | str) -> float | None:
    """A report's ``YYMMDDHHMM`` (Beijing time) as POSIX seconds; None when it is not one.

    Only the first 10 characters count (some carriers append seconds).
    """
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    return _parse(text[:10])


@functools.lru_cache(maxsize=256)
def _parse(text: str) -> float | None:
    # Cached: the reports of one minute share their time, and strptime is slow.
    if len(text) != 10 or not text.isdigit():
        return None
    try:
        return datetime.strptime(text, "%y%m%d%H%M").replace(tzinfo=BEIJING).timestamp()
    except ValueError:
        return None
