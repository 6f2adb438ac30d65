"""The SQLite store's schema, as numbered migrations (store).

:data:`MIGRATIONS` is a list of ``(version, SQL)``.  :func:`migrate` applies
the ones a database has not seen, in order, each in its own transaction
together with its row in ``schema_version``, so a crash mid-way leaves the
previous version intact.  A database whose version is newer than the last
one here (written by a newer smsgw) is refused with
:class:`~smsgw.store.interface.SchemaTooNew` rather than used.

Never edit a released migration: add the next one.

Runs in the store's database thread on a connection opened with
``isolation_level=None`` (transactions are explicit).
"""

from __future__ import annotations

import sqlite3

from smsgw.store.interface import SchemaTooNew

__all__ = ["MIGRATIONS", "check_versions", "current_version", "latest_version", "migrate"]

_V1 = """
CREATE TABLE messages (
    seq         INTEGER PRIMARY KEY,        -- insertion order
    id          TEXT NOT NULL UNIQUE,
    created_at  REAL NOT NULL,
    send_at     REAL,
    mode        TEXT NOT NULL,
    channel     TEXT,
    report      INTEGER NOT NULL,
    src_ext     TEXT NOT NULL,
    external_id TEXT,
    status      TEXT NOT NULL               -- derive_status() of its segments, kept in step
);
CREATE INDEX messages_external_id ON messages (external_id, created_at)
    WHERE external_id IS NOT NULL;
CREATE INDEX messages_status ON messages (status, send_at);

CREATE TABLE recipients (
    message_seq INTEGER NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,           -- 0-based position in the request
    dest        TEXT NOT NULL,
    channel     TEXT NOT NULL,
    PRIMARY KEY (message_seq, idx)
) WITHOUT ROWID;

CREATE TABLE segments (
    id           INTEGER PRIMARY KEY,
    message_seq  INTEGER NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
    recipient    INTEGER NOT NULL,
    pk_number    INTEGER NOT NULL,
    pk_total     INTEGER NOT NULL,
    content      BLOB NOT NULL,             -- Msg_Content as sent, UDH included
    msg_fmt      INTEGER NOT NULL,
    tp_udhi      INTEGER NOT NULL,
    state        TEXT NOT NULL,
    due_at       REAL NOT NULL,             -- send_at, else created_at
    channel      TEXT NOT NULL,             -- copied from the recipient for the indices
    result       INTEGER,
    msg_id       TEXT,
    stat         TEXT,
    error        TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    submitted_at REAL,
    done_at      REAL,
    reported_at  REAL,
    UNIQUE (message_seq, recipient, pk_number)
);
CREATE INDEX segments_msg_id ON segments (channel, msg_id) WHERE msg_id IS NOT NULL;
CREATE INDEX segments_queue ON segments (state, due_at);

CREATE TABLE held_reports (
    id          INTEGER PRIMARY KEY,
    channel     TEXT NOT NULL,
    msg_id      TEXT NOT NULL,
    dest        TEXT,
    stat        TEXT NOT NULL,
    done_at     REAL NOT NULL,
    raw         BLOB NOT NULL,
    received_at REAL NOT NULL
);
CREATE INDEX held_reports_msg_id ON held_reports (channel, msg_id);
CREATE INDEX held_reports_received ON held_reports (received_at);

CREATE TABLE inbound (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    channel    TEXT NOT NULL,
    fields     TEXT NOT NULL,               -- JSON
    created_at REAL NOT NULL,
    dedup_key  TEXT,
    fetched    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX inbound_unfetched ON inbound (fetched, id);
CREATE UNIQUE INDEX inbound_dedup ON inbound (kind, channel, dedup_key)
    WHERE dedup_key IS NOT NULL;

CREATE TABLE templates (
    name       TEXT PRIMARY KEY,
    engine     TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
) WITHOUT ROWID;

CREATE TABLE callbacks (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    url        TEXT NOT NULL,
    payload    TEXT NOT NULL,               -- JSON
    state      TEXT NOT NULL,
    next_at    REAL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    done_at    REAL
);
CREATE INDEX callbacks_due ON callbacks (state, next_at);
"""

#: Version 2: a held report keeps what the SP client said of it (delivered or not,
#: and the carrier's error), which the report's item and push show once it matches.
#: Rows held by version 1 have NULL there and are read by their Stat, as before.
_V2 = """
ALTER TABLE held_reports ADD COLUMN delivered INTEGER;
ALTER TABLE held_reports ADD COLUMN err TEXT NOT NULL DEFAULT '';
"""

#: Version 3: the parts of a long MO received so far, held until the message is
#: whole (then deleted in the transaction that adds its inbound item), so that a
#: restart loses no part whose DELIVER was answered.
_V3 = """
CREATE TABLE mo_parts (
    channel     TEXT NOT NULL,
    sender      TEXT NOT NULL,
    dest        TEXT NOT NULL,
    reference   INTEGER NOT NULL,
    total       INTEGER NOT NULL,
    number      INTEGER NOT NULL,
    content     BLOB NOT NULL,              -- Msg_Content as received, UDH included
    tp_udhi     INTEGER NOT NULL,
    msg_fmt     INTEGER NOT NULL,
    msg_id      TEXT NOT NULL,
    received_at REAL NOT NULL,
    PRIMARY KEY (channel, sender, dest, reference, total, number)
);
"""

#: Version 4: who claimed a ``submitting`` segment and when.  Several nodes share
#: a PostgreSQL store: a node starting again takes back its own claims only, and
#: claims older than the visibility timeout go back to the queue whoever made them
#: (``IClusterStore.reclaim_stale``).  A SQLite store has one node: ``claimed_by``
#: stays NULL.
_V4 = """
ALTER TABLE segments ADD COLUMN claimed_by TEXT;
ALTER TABLE segments ADD COLUMN claimed_at REAL;
"""

#: ``(version, SQL)`` in order; versions start at 1 and have no gaps.  The PostgreSQL
#: schema (:mod:`smsgw.store.postgres.schema`) has the same versions, meaning the same.
MIGRATIONS: list[tuple[int, str]] = [
    (1, _V1),
    (2, _V2),
    (3, _V3),
    (4, _V4),
]


def latest_version(migrations: list[tuple[int, str]] = MIGRATIONS) -> int:
    """The version a database has after every migration in *migrations*."""
    return migrations[-1][0] if migrations else 0


def check_versions(migrations: list[tuple[int, str]], before: int) -> int:
    """The last version of *migrations* (checked to be 1..N), refusing a newer database.

    :param before: the database's version now.
    :raises SchemaTooNew: *before* is newer than *migrations* know.
    """
    versions = [v for v, _ in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migration versions must be 1..N in order, not {versions}")
    latest = latest_version(migrations)
    if before > latest:
        raise SchemaTooNew(
            f"database schema version {before} is newer than this smsgw knows ({latest});"
            " use the smsgw release that wrote it, or restore a backup"
        )
    return latest


def current_version(conn: sqlite3.Connection) -> int:
    """The database's schema version; 0 for a new (empty) database."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if not exists:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def _statements(script: str) -> list[str]:
    """Split a script into whole statements (``sqlite3.complete_statement``)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement: {pending.strip()[:60]!r}")
    return statements


def migrate(
    conn: sqlite3.Connection,
    now: float,
    migrations: list[tuple[int, str]] = MIGRATIONS,
) -> tuple[int, int]:
    """Bring the database up to date; ``(version before, version after)``.

    :param conn: opened with ``isolation_level=None``.
    :param now: recorded as ``applied_at`` (POSIX seconds).
    :raises SchemaTooNew: the database is newer than *migrations* know.
    """
    check_versions(migrations, 0)
    # BEGIN IMMEDIATE: a second process starting at the same time waits, then sees our work.
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
        )
        before = current_version(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    check_versions(migrations, before)
    version = before
    for version, script in migrations[before:]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if current_version(conn) >= version:  # another process got there first
                conn.execute("COMMIT")
                continue
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (version, now)
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return before, max(version, before)
