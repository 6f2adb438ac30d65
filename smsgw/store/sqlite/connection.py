"""The SQLite store's connection: where the file is, and the pragmas every connection gets.

:func:`open_connection` is the set-up the database thread (``cp_openfun``) and
the database process (:mod:`smsgw.store.writer`) both run before
:func:`~smsgw.store.migrations.migrate`.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from twisted.logger import Logger

__all__ = ["DEFAULT_PATH", "SYNCHRONOUS", "Conn", "open_connection"]

_log = Logger()

#: The database file when none is configured: ``smsgw.sqlite3`` in the working directory.
DEFAULT_PATH = "smsgw.sqlite3"


#: The connection the jobs get: an adbapi Connection wrapping sqlite3.Connection
#: (``isolation_level=None``), or the sqlite3.Connection itself in the database process.
Conn = Any


#: ``OFF`` is not offered: it would break "accepted means written" on any OS crash.
SYNCHRONOUS = ("NORMAL", "FULL", "EXTRA")


def open_connection(conn: sqlite3.Connection, synchronous: str, busy_timeout_ms: int) -> None:
    """``cp_openfun``: the pragmas every connection needs."""
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        _log.warn("SQLite journal_mode is {mode}, not wal", mode=mode)
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    conn.execute("PRAGMA foreign_keys=ON")
