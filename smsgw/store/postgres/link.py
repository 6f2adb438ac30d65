"""The PostgreSQL store's connection: the job functions' SQL on psycopg, locks, retries.

The job functions of :mod:`smsgw.store.sqlite` are written for a
``sqlite3`` connection.  :class:`PgConnection` gives them one on psycopg 3:
``execute`` and ``executemany`` with the statements translated
(:func:`translate`: ``?`` marks, ``INSERT OR IGNORE``, ``IS ?``, and a
``RETURNING`` clause where a job reads ``lastrowid``).  What differs in
behaviour between one writer (SQLite) and several nodes is
:class:`PostgresDialect`'s.

:class:`Link` is the pool of one connection the store's database thread
(:class:`~smsgw.store.sqlite.runners._ThreadRunner`) runs on: a thread of
its own, a connection opened on first use and again after it was lost.
:func:`run_pg_batch` runs a batch there, again when PostgreSQL gave it up
for a deadlock, a serialization failure or a race on a unique key.
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import pq
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from smsgw.store.interface import StoreUnavailable
from smsgw.store.matching import match_report
from smsgw.store.model import ReportMatch, SegmentState
from smsgw.store.sqlite.batch import Hot, Job, in_list, load_counts, run_batch
from smsgw.store.sqlite.dialect import Dialect
from smsgw.store.sqlite.rows import SEGMENT_ROW, SegmentRow, segment_row

if TYPE_CHECKING:
    from smsgw.store.sqlite.batch import Tx

__all__ = ["ClusterHot", "Link", "PgConnection", "PostgresDialect", "run_pg_batch", "translate"]

#: The key column a job reads as ``lastrowid`` after an INSERT into each table.
_RETURNING = {"messages": "seq", "inbound": "id", "callbacks": "id", "held_reports": "id"}

#: Statements of the job functions that PostgreSQL says differently, as a whole.
_REWRITES = {
    "BEGIN IMMEDIATE": "BEGIN",
    # mo_parts' insertion order: SQLite's implicit rowid, our identity column.
    "ORDER BY received_at, rowid": "ORDER BY received_at, id",
}

_IGNORE = "INSERT OR IGNORE INTO "


@functools.lru_cache(maxsize=1024)
def translate(sql: str, many: bool = False) -> tuple[str, bool]:
    """A job function's SQLite statement for psycopg; and whether it returns the new key.

    *many*: for ``executemany`` (no ``RETURNING`` is added).
    """
    out = sql.replace("%", "%%")
    for old, new in _REWRITES.items():
        out = out.replace(old, new)
    out = out.replace(" IS ?", " IS NOT DISTINCT FROM ?")
    if out.startswith(_IGNORE):
        out = f"INSERT INTO {out[len(_IGNORE) :]} ON CONFLICT DO NOTHING"
    returning = False
    if not many and out.startswith("INSERT INTO "):
        column = _RETURNING.get(out.split()[2])
        if column is not None:
            out = f"{out} RETURNING {column}"
            returning = True
    return out.replace("?", "%s"), returning


class _Cursor(psycopg.Cursor[Any]):
    """A psycopg cursor with ``sqlite3``'s ``lastrowid`` (set after an INSERT ... RETURNING)."""

    lastrowid: int | None = None


_OPEN = (pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR, pq.TransactionStatus.ACTIVE)


class PgConnection:
    """What the job functions call a connection, on one psycopg connection (autocommit).

    The jobs' own ``BEGIN``/``COMMIT``/``SAVEPOINT`` statements make the
    transactions, as on SQLite with ``isolation_level=None``.
    """

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw
        raw.cursor_factory = _Cursor
        #: Statements executed on it (a batch that failed before its first one may run again).
        self.statements = 0

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Cursor:
        """One statement; its cursor (with ``lastrowid`` after an INSERT of a keyed row)."""
        query, returning = translate(sql)
        cursor = self.raw.cursor()
        assert isinstance(cursor, _Cursor)
        cursor.execute(query, params)
        self.statements += 1
        if returning:
            row = cursor.fetchone()
            assert row is not None
            cursor.lastrowid = int(row[0])
        return cursor

    def executemany(self, sql: str, params: Iterable[Sequence[Any]]) -> _Cursor:
        """One statement for each of *params* (pipelined); ``rowcount`` is their total."""
        query, _ = translate(sql, True)
        cursor = self.raw.cursor()
        assert isinstance(cursor, _Cursor)
        rows = list(params)
        if rows:
            cursor.executemany(query, rows)
            self.statements += 1
        return cursor

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open (``sqlite3.Connection.in_transaction``)."""
        return self.raw.info.transaction_status in _OPEN


def _lock_key(msg_id: str) -> int:
    """A signed 64-bit advisory lock key for *msg_id*."""
    digest = hashlib.blake2b(msg_id.encode(), digest_size=8, person=b"smsgw-msgid").digest()
    return int.from_bytes(digest, "big", signed=True)


#: Unique keys two nodes can race for; the batch runs again and then sees the peer's row
#: (a repeated message id, inbound item or template name).
_RACES = frozenset({"messages_id_key", "inbound_dedup", "templates_pkey"})

#: Segments ``s`` under any of the ``(channel, msg_id)`` given as two arrays.
_BY_IDS = (
    "JOIN unnest(?::text[], ?::text[]) AS k (channel, msg_id)"
    " ON s.channel = k.channel AND s.msg_id = k.msg_id"
)

#: The advisory lock between adding inbound items and reading them by id (a constant of ours).
INBOUND_LOCK = 0x736D_7367_7700_0002


class PostgresDialect(Dialect):
    """Several nodes on one database (READ COMMITTED): the locks that keep the jobs right.

    * Rows a job reads and then writes are locked (``FOR UPDATE OF``);
      claims pass over the rows a peer is taking (``SKIP LOCKED``).
    * ``messages.status`` is counted from the segments while the message
      row is locked (in ``seq`` order), and every write of segments counts
      again under that lock before it commits, so the last transaction to
      commit counts every change: the column stays right when two nodes
      change segments of one message at once.
    * Recording a SUBMIT_RESP and recording a report of the same Msg_Id
      take one advisory lock: a report arriving on one node while the
      SUBMIT_RESP commits on another is matched or held, never missed.
    * ``messages.seq`` comes from the identity's sequence.
    * Reading inbound items by id waits for the items being added (an
      advisory lock, shared by the adding transactions), so a cursor never
      passes over an item that commits later with a smaller id.
    """

    concurrent = True

    def __init__(self, node: str) -> None:
        self.node = node

    def lock(self, table: str, skip: bool = False) -> str:
        """``FOR UPDATE OF table``, with *skip* ``SKIP LOCKED``."""
        return f" FOR UPDATE OF {table} SKIP LOCKED" if skip else f" FOR UPDATE OF {table}"

    def lock_messages(self, tx: Tx, seqs: Sequence[int]) -> None:
        """``SELECT ... FOR UPDATE`` of the message rows, in ``seq`` order."""
        marks, params = in_list(sorted(seqs))
        tx.execute(f"SELECT seq FROM messages WHERE seq IN {marks} ORDER BY seq FOR UPDATE", params)

    def lock_msg_ids(self, tx: Tx, msg_ids: Iterable[str | None]) -> None:
        """One transaction-long advisory lock per Msg_Id, in key order."""
        keys = sorted({_lock_key(m) for m in msg_ids if m is not None})
        if not keys:
            return
        # unnest keeps the array's order: the locks are taken in key order.
        tx.execute("SELECT pg_advisory_xact_lock(k) FROM unnest(?::bigint[]) AS k", (keys,))
        # Looked up again after the lock: a peer may have held a report meanwhile.
        tx.held = None

    def lock_reported(self, tx: Tx, ids: Sequence[tuple[str, str]]) -> None:
        """The messages submitted under these ids, locked and counted at once, in ``seq`` order.

        Reports then lock segments only under their messages' locks, so two
        nodes' runs of reports do not take the same messages in two orders
        (a deadlock, which PostgreSQL breaks after a second).  Their segments
        are then read and locked by one statement, and where
        :func:`~smsgw.store.matching.match_report` gives a report exactly one
        ``submitted`` segment, that row is its hint for this batch
        (:attr:`Hot.awaiting`): the run's reports are written by one UPDATE
        rather than a SELECT and an UPDATE each.
        """
        awaiting = tx.hot.awaiting
        for key in ids:  # a hint left by a rolled-back try of this batch
            awaiting.pop(key, None)
        params = ([channel for channel, _ in ids], [msg_id for _, msg_id in ids])
        rows = tx.execute(f"SELECT DISTINCT s.message_seq FROM segments s {_BY_IDS}", params)
        seqs = sorted(seq for (seq,) in rows)
        if not seqs:
            return
        load_counts(tx, seqs)
        found: dict[tuple[str, str | None], list[SegmentRow]] = {}
        for row in tx.execute(
            f"{SEGMENT_ROW} {_BY_IDS} WHERE s.state != 'failed' ORDER BY s.id{self.lock('s')}",
            params,
        ):
            segment = segment_row(row)
            found.setdefault((segment.channel, segment.msg_id), []).append(segment)
        for (channel, msg_id), candidates in found.items():
            decision = match_report(candidates, lambda: False)
            if (
                msg_id is not None
                and decision.match is ReportMatch.MATCHED
                and len(decision.apply) == 1
                and decision.apply[0].state is SegmentState.SUBMITTED
            ):
                awaiting[channel, msg_id] = decision.apply[0]

    def adding_inbound(self, tx: Tx) -> None:
        """The inbound lock, shared: adding nodes do not wait for each other."""
        tx.execute(f"SELECT pg_advisory_xact_lock_shared({INBOUND_LOCK})")

    def reading_inbound(self, tx: Tx) -> None:
        """The inbound lock, exclusive: waits for the transactions adding items to commit.

        Their ids come from a sequence when they insert, so without it a
        reader could see id 6 committed while id 5 is still to commit.
        """
        tx.execute(f"SELECT pg_advisory_xact_lock({INBOUND_LOCK})")

    def next_seqs(self, tx: Tx, n: int) -> list[int]:
        """From the identity's sequence: a peer adding messages at once takes others."""
        rows = tx.execute(
            "SELECT nextval(pg_get_serial_sequence('messages', 'seq')) FROM generate_series(1, ?)",
            (n,),
        )
        return sorted(int(seq) for (seq,) in rows)

    def escapes(self, error: Exception) -> bool:
        """Lost connections, deadlocks, serialization failures and unique-key races."""
        return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError) or _race(error)


class ClusterHot(Hot):
    """A node's hints when several share the database.

    A claim's hint is checked by the segment's key and state, whoever
    changed it since, and is kept.  A report's hint (:attr:`Hot.awaiting`)
    from a SUBMIT_RESP would name the segment this node submitted under a
    Msg_Id, while a peer may since have submitted a newer one under the
    same id, which :func:`~smsgw.store.matching.match_report` picks: none
    is kept.  Report hints are made for one batch only, under its locks
    (:meth:`PostgresDialect.lock_reported`), and dropped when it ends.
    """

    def submitted(self, row: SegmentRow, msg_id: str, alone: bool) -> None:
        """Remember nothing (and forget what was)."""
        self.awaiting.pop((row.channel, msg_id), None)


def _race(error: BaseException) -> bool:
    return (
        isinstance(error, psycopg.errors.UniqueViolation) and error.diag.constraint_name in _RACES
    )


#: How long a statement waits for a row lock before its batch is given up and run again.
LOCK_TIMEOUT_MS = 200


def _retryable(error: BaseException) -> bool:
    """Whether PostgreSQL gave the batch up, so that running it again may succeed.

    A deadlock, a serialization failure (SQLSTATE class 40), a lock not granted
    within :data:`LOCK_TIMEOUT_MS` (55P03) or a unique-key race.
    """
    sqlstate = getattr(error, "sqlstate", None) or ""
    return sqlstate.startswith("40") or sqlstate == "55P03" or _race(error)


class Link:
    """A pool of one PostgreSQL connection on a thread of its own (``runWithConnection``).

    The connection is opened on first use in that thread, and again after
    it was lost; the session asks for ``synchronous_commit = on`` (a COMMIT
    returns once it is durable).
    """

    #: How many times a batch runs at most when PostgreSQL keeps giving it up.
    attempts = 8

    def __init__(self, url: str, reactor: Any, dialect: PostgresDialect) -> None:
        self.url = url
        self.dialect = dialect
        self._reactor = reactor
        self._conn: PgConnection | None = None
        self._threads = ThreadPool(1, 1, name="smsgw-postgres")
        self._threads.start()
        self._shutdown: Any = reactor.addSystemEventTrigger("during", "shutdown", self.close)

    def runWithConnection(self, func: Callable[[Link], Any]) -> Deferred[Any]:
        """Run ``func(link)`` on the database thread; its result on the reactor thread."""
        return deferToThreadPool(self._reactor, self._threads, func, self)

    def connection(self) -> PgConnection:
        """The open connection, connecting first if there is none (database thread)."""
        conn = self._conn
        if conn is not None and not conn.raw.closed and not conn.raw.broken:
            return conn
        self.drop()
        try:
            # TCP keepalives and a user timeout: a database host gone from the network
            # fails the calls in flight within about 30 s instead of hanging them.
            raw = psycopg.connect(
                self.url, autocommit=True, connect_timeout=10,
                application_name=f"smsgw {self.dialect.node}"[:63],
                keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3,
                tcp_user_timeout=30_000,
            )  # fmt: skip
        except psycopg.Error as e:
            raise StoreUnavailable(f"cannot connect to PostgreSQL: {_safe(e)}") from e
        raw.execute("SET synchronous_commit = on")
        # One batch is many jobs, each locking its own messages in seq order, so two
        # nodes' batches can still wait for each other (one locks 3 then 5, the other 5
        # then 3). PostgreSQL finds such a deadlock only after deadlock_timeout (1 s, and
        # only a superuser may lower it): two nodes sending to one account stalled about
        # once a second. A lock not granted within LOCK_TIMEOUT_MS gives the batch up
        # instead, and it runs again (_retryable); a peer's batch commits well within it.
        raw.execute(f"SET lock_timeout = {LOCK_TIMEOUT_MS}")
        self._conn = PgConnection(raw)
        return self._conn

    def drop(self) -> None:
        """Forget the connection (closing it); the next call connects again."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.raw.close()
            except psycopg.Error:
                pass

    def close(self) -> None:
        """Stop the thread and close the connection (reactor thread; blocks briefly)."""
        if self._shutdown is not None:
            self._reactor.removeSystemEventTrigger(self._shutdown)
            self._shutdown = None
        self._threads.stop()
        self.drop()


def _safe(error: BaseException) -> str:
    """*error*'s first line, without a password a connection string may carry."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    text = re.sub(r"(password=)\S+", r"\1***", text)
    return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)


def run_pg_batch(link: Link, jobs: list[Job], hot: Hot) -> list[tuple[bool, Any]]:
    """:func:`run_batch` on *link*'s connection, again while PostgreSQL gives it up.

    A connection found lost at the batch's first statement (closed by the
    server while idle: a restart, a fail-over) is opened again and the batch
    run on it, once; lost later, it fails the batch with
    :class:`StoreUnavailable` (whether a COMMIT in flight was kept is not
    known) and the next batch connects again.  A deadlock, a serialization
    failure or a race for a unique key runs the batch again (a few times, a
    little later each).
    """
    fresh = False
    for attempt in range(1, link.attempts + 1):
        conn = link.connection()
        before = conn.statements
        try:
            return run_batch(conn, jobs, hot, link.dialect)
        except psycopg.Error as e:
            if conn.raw.closed or conn.raw.broken:
                link.drop()
                if conn.statements == before and not fresh:
                    fresh = True
                    continue
                raise StoreUnavailable(f"lost the PostgreSQL connection: {_safe(e)}") from e
            if not _retryable(e) or attempt == link.attempts:
                raise
            time.sleep(0.005 * attempt)
        finally:
            hot.awaiting.clear()  # report hints live for one batch (ClusterHot)
    raise AssertionError("not reached")
