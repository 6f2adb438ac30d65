"""The SQLite :class:`~smsgw.store.interface.IMessageStore` (DESIGN.md §2 store, STYLE.md §5).

One database file (default ``smsgw.sqlite3``) in WAL mode, with exactly one
connection that does every read and write, in call order, so there is no
lock contention inside the gateway and no ``database is locked`` between
our own calls.  That connection lives either

* on a database thread (``twisted.enterprise.adbapi``, a pool of one; the
  default of :meth:`SqliteStore.open`), or
* in a database process of its own (``process=True``, :mod:`smsgw.store.writer`;
  the SP role's default), which the jobs reach pickled through a pipe.  It
  costs the pickling; in exchange the reactor and SQLite stop sharing one
  GIL (a database thread gives it up around every statement and must win
  it back from the reactor thread) and can each use a core.  Measured on
  two shared cores: 4-8 % more messages a second (docs/benchmarks.md,
  issue 4).

**Durability.**  ``PRAGMA synchronous=FULL``: in WAL mode every COMMIT
fsyncs the WAL, so a transaction that committed survives a power cut or an
OS crash, not only a process kill.  ``NORMAL`` would only guarantee the
latter; since "accepted means written" (DESIGN.md §2) is the product's
promise and the Deferred of :meth:`~SqliteStore.add_message` is what the
HTTP API waits for before it answers, we pay one fsync per commit and win
it back by batching.

**Batching (group commit).**  Every call becomes a job on one queue.  Jobs
made within :attr:`~SqliteStore.batch_window_s` of the first one (or while
the previous batch is committing) run together in ONE transaction, as if
each had its own (see :func:`_run_batch`), so one job's error undoes only
that job; then
the batch commits (one fsync) and only then do the jobs' Deferreds fire.
``add_messages`` and ``segment_submitted_many`` are single jobs, hence all
or nothing.  Reads go through the same queue, so they see every earlier
call's effect.  The database thread or process goes from one batch straight
to the next (the calls handed to it meanwhile) without waiting for the
reactor thread, which only fires the results.

**Message status.**  ``messages.status`` is :func:`~smsgw.store.model.derive_status`
of the message's segments, kept in step by every write.  Within a batch the
segments' per-state counts of each touched message are read once (one
``GROUP BY``) and then updated as segments change state, so a report or a
SUBMIT_RESP costs a few single-row statements whatever the message's size.

Times are stored as REAL POSIX seconds, enums as their text, message
content as BLOB, inbound fields and callback payloads as JSON text.
"""

from __future__ import annotations

import functools
import json
import os
import pickle
import sqlite3
import sys
import threading
from collections import Counter, deque
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import attrs
from twisted.enterprise import adbapi
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.endpoints import ProcessEndpoint, StandardErrorBehavior
from twisted.internet.interfaces import IDelayedCall, IProcessTransport
from twisted.internet.protocol import Factory, connectionDone
from twisted.logger import Logger
from twisted.protocols.basic import Int32StringReceiver
from twisted.python.failure import Failure
from zope.interface import implementer

from smsgw.store.interface import (
    DuplicateMessage,
    IMessageStore,
    InvalidTransition,
    StoreClosed,
    StoreError,
    TemplateExists,
    UnknownCallback,
    UnknownSegment,
)
from smsgw.store.matching import match_report
from smsgw.store.migrations import migrate
from smsgw.store.model import (
    DELIVERED_STAT,
    CallbackAttempt,
    CallbackState,
    Inbound,
    InboundKind,
    Message,
    MessageStatus,
    Mode,
    Recipient,
    ReportMatch,
    ReportOutcome,
    Segment,
    SegmentKey,
    SegmentState,
    SegmentWork,
    StatusReport,
    SubmitRecord,
    Template,
    TemplateEngine,
    derive_status,
    validate_message,
)
from smsgw.store.payload import report_payload

__all__ = ["DEFAULT_PATH", "SqliteStore"]

#: DESIGN.md §4.1: ``smsgw.sqlite3`` in the working directory.
DEFAULT_PATH = "smsgw.sqlite3"

_T = TypeVar("_T")
_Conn = Any  # an adbapi Connection wrapping sqlite3.Connection (isolation_level=None)
_Job = tuple[Callable[..., Any], tuple[Any, ...]]

#: ``OFF`` is not offered: it would break "accepted means written" on any OS crash.
_SYNCHRONOUS = ("NORMAL", "FULL", "EXTRA")

_SEGMENT_COLUMNS = (
    "recipient, pk_number, pk_total, content, msg_fmt, tp_udhi, state, result, msg_id,"
    " stat, error, attempts, submitted_at, done_at, reported_at"
)


# -- connection set-up (database thread) --------------------------------------


def _open_connection(conn: sqlite3.Connection, synchronous: str, busy_timeout_ms: int) -> None:
    """``cp_openfun``: the pragmas every connection needs."""
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        SqliteStore.log.warn("SQLite journal_mode is {mode}, not wal", mode=mode)
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    conn.execute("PRAGMA foreign_keys=ON")


class _Tx:
    """One batch's transaction: the connection, plus each touched message's segment counts.

    ``counts[seq]`` maps a segment state to how many of message *seq*'s
    segments are in it, as this transaction sees them; the write paths keep
    it in step (:func:`_moved`), so a message's status is derived without
    reading its segments again; ``status[seq]`` is the status its row holds,
    so an unchanged status is not written again.  ``held`` says whether
    ``held_reports`` may have a row (None: not looked yet), so that recording
    a SUBMIT_RESP does not look for a held report when there is none.  All of
    it lives for one batch only (the batch holds the write lock, so no other
    connection changes those rows meanwhile), and a job rolled back to its
    SAVEPOINT drops what it touched.
    """

    __slots__ = ("conn", "counts", "execute", "executemany", "held", "hot", "status", "touched")

    def __init__(self, conn: _Conn, hot: _Hot) -> None:
        self.conn = conn
        self.hot = hot
        self.execute = conn.execute
        self.executemany = conn.executemany
        self.counts: dict[int, Counter[str]] = {}
        self.status: dict[int, MessageStatus] = {}
        self.held: bool | None = None
        self.touched: set[int] = set()

    def forget_touched(self) -> None:
        """The job was rolled back: what it counted may be wrong now."""
        for seq in self.touched:
            self.counts.pop(seq, None)
            self.status.pop(seq, None)
        self.touched.clear()


class _Hot:
    """What the database thread remembers of segments between batches, to skip a SELECT.

    ``claimed`` maps a claimed segment's key to its row (from the claim's
    own SELECT) and whether it wants a report, until its SUBMIT_RESP is
    recorded; ``awaiting`` maps
    ``(channel, msg_id)`` to the row of a segment that was submitted alone
    under that Msg_Id and wants a report, until the report comes.  Both are
    hints, never the truth: every write made from them is an UPDATE whose
    WHERE clause re-checks the row's identity and state, and when it matches
    no row the full path (SELECT, checks, errors) runs instead.  So a hint
    left stale by a rolled-back job, a requeue or an expiry costs one
    statement and changes nothing.  Each map keeps at most :attr:`limit`
    entries (the oldest go first): segments whose report never comes must
    not grow it for ever.
    """

    __slots__ = ("awaiting", "claimed", "limit")

    def __init__(self, limit: int = 65536) -> None:
        self.limit = limit
        self.claimed: dict[SegmentKey, tuple[_SegmentRow, bool]] = {}
        self.awaiting: dict[tuple[str, str], _SegmentRow] = {}

    @staticmethod
    def put(table: dict[Any, Any], key: Any, row: Any, limit: int) -> None:
        if len(table) >= limit:
            del table[next(iter(table))]
        table[key] = row

    def submitted(self, row: _SegmentRow, msg_id: str, alone: bool) -> None:
        """*row* was submitted under *msg_id*: remember it if a report will be its alone.

        The report path gives a Msg_Id to all of the newest message's segments
        under it (see :func:`_record_report`).  So the hint is the row only
        while it is the one such segment: a second segment of the same
        message under that id drops the hint, an older message's never
        replaces a newer one's.
        """
        key = (row.channel, msg_id)
        old = self.awaiting.get(key)
        if old is not None and old.message_seq > row.message_seq:
            return
        if not alone or (old is not None and old.message_seq == row.message_seq):
            self.awaiting.pop(key, None)
            return
        self.put(
            self.awaiting, key, attrs.evolve(row, state=SegmentState.SUBMITTED, msg_id=msg_id),
            self.limit,
        )  # fmt: skip


def _run_batch(conn: _Conn, jobs: list[_Job], hot: _Hot) -> list[tuple[bool, Any]]:
    """Run *jobs* in one transaction; ``(ok, value or exception)`` each, as if each had its own.

    First all of them together with no SAVEPOINT: each statement costs the
    database thread a round trip through the GIL (which the reactor thread
    holds much of the time), and two per job were a third of a report's.
    Only when a job raises is that transaction rolled back and the batch run
    again with every job in a SAVEPOINT, so that the failing job's changes
    alone are undone.  A job is a function of the database and its
    arguments (the :class:`_Hot` hints change its path, never its result),
    so the second run gives what one run with SAVEPOINTs would have.
    """
    results = _run_jobs(conn, jobs, hot, savepoints=False)
    if results is None:
        results = _run_jobs(conn, jobs, hot, savepoints=True)
        assert results is not None  # with SAVEPOINTs a failing job fails alone
    return results


def _run_jobs(
    conn: _Conn, jobs: list[_Job], hot: _Hot, *, savepoints: bool
) -> list[tuple[bool, Any]] | None:
    """One transaction over *jobs*, committed unless a call fails.

    Without *savepoints* a failing job rolls the transaction back: its
    result is the answer when it was the only job, else ``None`` (run again
    with *savepoints*, where a failing job is rolled back to its own).
    """
    tx = _Tx(conn, hot)
    execute = conn.execute
    results: list[tuple[bool, Any]] = []
    execute("BEGIN IMMEDIATE")
    try:
        for fn, args in jobs:
            if savepoints:
                execute("SAVEPOINT job")
                tx.touched.clear()
            try:
                value = fn(tx, *args)
            except Exception as e:
                if not savepoints:
                    execute("ROLLBACK")
                    return [(False, e)] if len(jobs) == 1 else None
                execute("ROLLBACK TO job")
                execute("RELEASE job")
                tx.forget_touched()
                results.append((False, e))
                continue
            if savepoints:
                execute("RELEASE job")
            results.append((True, value))
        execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            execute("ROLLBACK")
        raise
    return results


# -- reading rows (database thread) -------------------------------------------


def _segment(row: sqlite3.Row | tuple[Any, ...]) -> Segment:
    (_, pk_number, pk_total, content, msg_fmt, tp_udhi, state, result, msg_id, stat, error,
     attempts, submitted_at, done_at, reported_at) = row  # fmt: skip
    return Segment(
        pk_number=pk_number,
        pk_total=pk_total,
        content=bytes(content),
        msg_fmt=msg_fmt,
        tp_udhi=bool(tp_udhi),
        state=SegmentState(state),
        result=result,
        msg_id=msg_id,
        stat=stat,
        error=error,
        attempts=attempts,
        submitted_at=submitted_at,
        done_at=done_at,
        reported_at=reported_at,
    )


def _load_message(conn: _Conn, where: str, *params: Any) -> Message | None:
    row = conn.execute(
        "SELECT seq, id, created_at, send_at, mode, channel, report, src_ext, external_id"
        f" FROM messages WHERE {where}",
        params,
    ).fetchone()
    if row is None:
        return None
    seq, message_id, created_at, send_at, mode, channel, report, src_ext, external_id = row
    segments: dict[int, list[Segment]] = {}
    for srow in conn.execute(
        f"SELECT {_SEGMENT_COLUMNS} FROM segments WHERE message_seq = ?"
        " ORDER BY recipient, pk_number",
        (seq,),
    ):
        segments.setdefault(srow[0], []).append(_segment(srow))
    recipients = [
        Recipient(dest, channel_, tuple(segments.get(idx, ())))
        for idx, dest, channel_ in conn.execute(
            "SELECT idx, dest, channel FROM recipients WHERE message_seq = ? ORDER BY idx", (seq,)
        )
    ]
    return Message(
        id=message_id,
        created_at=created_at,
        recipients=tuple(recipients),
        mode=Mode(mode),
        send_at=send_at,
        channel=channel,
        report=bool(report),
        src_ext=src_ext,
        external_id=external_id,
    )


def _counts(tx: _Tx, seq: int) -> Counter[str]:
    """Message *seq*'s segments per state, as the transaction sees them now."""
    counts = tx.counts.get(seq)
    if counts is None:
        counts = tx.counts[seq] = Counter(
            dict(
                tx.execute(
                    "SELECT state, COUNT(*) FROM segments WHERE message_seq = ? GROUP BY state",
                    (seq,),
                ).fetchall()
            )
        )
    tx.touched.add(seq)
    return counts


def _moved(tx: _Tx, seq: int, moves: Sequence[tuple[str, str]]) -> None:
    """Segments of message *seq* went ``(old, new)`` state each (already written)."""
    counts = tx.counts.get(seq)
    if counts is None:
        _counts(tx, seq)  # read after the UPDATE: already counts the moves
        return
    tx.touched.add(seq)
    for old, new in moves:
        counts[old] -= 1
        counts[new] += 1


@functools.lru_cache(maxsize=4096)
def _status_for(counts: tuple[tuple[str, int], ...]) -> MessageStatus:
    """:func:`derive_status` of segments counted per state (cached: it runs for every change)."""
    return derive_status(SegmentState(state) for state, n in counts for _ in range(n))


def _save_status(tx: _Tx, seq: int) -> MessageStatus:
    """Write ``messages.status`` = :func:`derive_status` of the segments (if it changed)."""
    counts = _counts(tx, seq)
    status = _status_for(tuple(sorted((state, n) for state, n in counts.items() if n)))
    if tx.status.get(seq) is not status:
        tx.execute(
            "UPDATE messages SET status = ? WHERE seq = ? AND status != ?",
            (str(status), seq, str(status)),
        )
        tx.status[seq] = status
    return status


def _refresh_status(tx: _Tx, seqs: set[int] | list[int]) -> None:
    """Recount and save the status of messages changed by a bulk UPDATE."""
    for seq in seqs:
        tx.counts.pop(seq, None)
        tx.status.pop(seq, None)
        _save_status(tx, seq)


@attrs.frozen
class _SegmentRow:
    """What the write paths need to know about one segment."""

    id: int
    message_seq: int
    key: SegmentKey
    state: SegmentState
    result: int | None
    msg_id: str | None
    stat: str | None
    channel: str
    to: str
    pk_total: int
    external_id: str | None


_SEGMENT_ROW = (
    "SELECT s.id, s.message_seq, m.id, s.recipient, s.pk_number, s.state, s.result, s.msg_id,"
    " s.stat, s.channel, r.dest, s.pk_total, m.external_id"
    " FROM segments s JOIN messages m ON m.seq = s.message_seq"
    " JOIN recipients r ON r.message_seq = s.message_seq AND r.idx = s.recipient"
)


def _segment_row(row: tuple[Any, ...]) -> _SegmentRow:
    (sid, seq, message_id, recipient, pk_number, state, result, msg_id, stat, channel, to,
     pk_total, external_id) = row  # fmt: skip
    return _SegmentRow(
        sid,
        seq,
        SegmentKey(message_id, recipient, pk_number),
        SegmentState(state),
        result,
        msg_id,
        stat,
        channel,
        to,
        pk_total,
        external_id,
    )


def _find_segment(conn: _Conn, key: SegmentKey) -> _SegmentRow:
    row = conn.execute(
        f"{_SEGMENT_ROW} WHERE m.id = ? AND s.recipient = ? AND s.pk_number = ?",
        (key.message_id, key.recipient, key.pk_number),
    ).fetchone()
    if row is None:
        raise UnknownSegment(key)
    return _segment_row(row)


# -- the operations (database thread) ----------------------------------------


def _segment_values(s: Segment) -> tuple[Any, ...]:
    """A segment's values for ``_SEGMENT_COLUMNS`` after ``recipient``."""
    return (
        s.pk_number,
        s.pk_total,
        s.content,
        s.msg_fmt,
        int(s.tp_udhi),
        str(s.state),
        s.result,
        s.msg_id,
        s.stat,
        s.error,
        s.attempts,
        s.submitted_at,
        s.done_at,
        s.reported_at,
    )


def _add_message(conn: _Conn, message: Message) -> None:
    if conn.execute("SELECT 1 FROM messages WHERE id = ?", (message.id,)).fetchone():
        raise DuplicateMessage(message.id)
    cursor = conn.execute(
        "INSERT INTO messages (id, created_at, send_at, mode, channel, report, src_ext,"
        " external_id, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            message.id,
            message.created_at,
            message.send_at,
            str(message.mode),
            message.channel,
            int(message.report),
            message.src_ext,
            message.external_id,
            str(message.status),
        ),
    )
    seq = cursor.lastrowid
    conn.executemany(
        "INSERT INTO recipients (message_seq, idx, dest, channel) VALUES (?, ?, ?, ?)",
        [(seq, i, r.to, r.channel) for i, r in enumerate(message.recipients)],
    )
    due_at = message.due_at
    conn.executemany(
        "INSERT INTO segments (message_seq, channel, due_at, "
        + _SEGMENT_COLUMNS
        + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (seq, r.channel, due_at, i, *_segment_values(s))
            for i, r in enumerate(message.recipients)
            for s in r.segments
        ],
    )


def _add_messages(conn: _Conn, messages: Sequence[Message]) -> None:
    for message in messages:
        _add_message(conn, message)


def _find_by_external_id(conn: _Conn, external_id: str, since: float) -> Message | None:
    return _load_message(
        conn,
        "external_id = ? AND created_at >= ? ORDER BY created_at DESC, seq DESC LIMIT 1",
        external_id,
        since,
    )


def _work(row: tuple[Any, ...]) -> SegmentWork:
    (_, _, message_id, recipient, pk_number, pk_total, content, msg_fmt, tp_udhi, attempts, to,
     channel, report, src_ext, _) = row  # fmt: skip
    return SegmentWork(
        key=SegmentKey(message_id, recipient, pk_number),
        to=to,
        channel=channel,
        pk_number=pk_number,
        pk_total=pk_total,
        content=bytes(content),
        msg_fmt=msg_fmt,
        tp_udhi=bool(tp_udhi),
        report=bool(report),
        src_ext=src_ext,
        attempts=attempts + 1,
    )


def claim_query(by_channel: bool) -> str:
    """The SELECT of :meth:`SqliteStore.claim_due` (parameters: now, [channel], limit).

    Walks the ``segments_queue`` index; public for the query-plan test.
    """
    channel = " AND s.channel = ?" if by_channel else ""
    return (
        "SELECT s.id, s.message_seq, m.id, s.recipient, s.pk_number, s.pk_total, s.content,"
        " s.msg_fmt, s.tp_udhi, s.attempts, r.dest, s.channel, m.report, m.src_ext, m.external_id"
        " FROM segments s JOIN messages m ON m.seq = s.message_seq"
        " JOIN recipients r ON r.message_seq = s.message_seq AND r.idx = s.recipient"
        f" WHERE s.state = 'queued' AND s.due_at <= ?{channel} ORDER BY s.due_at, s.id LIMIT ?"
    )


def report_query(by_dest: bool) -> str:
    """The SELECT matching a report to segments (parameters: channel, msg_id, [to]).

    Uses the ``segments_msg_id`` index; public for the query-plan test.
    """
    dest = " AND r.dest = ?" if by_dest else ""
    return (
        f"{_SEGMENT_ROW} WHERE s.channel = ? AND s.msg_id = ? AND s.state != 'failed'{dest}"
        " ORDER BY s.id"
    )


def _claim_due(conn: _Tx, now: float, limit: int, channel: str | None) -> list[SegmentWork]:
    params = (now, max(limit, 0)) if channel is None else (now, channel, max(limit, 0))
    rows = conn.execute(claim_query(channel is not None), params).fetchall()
    conn.executemany(
        "UPDATE segments SET state = 'submitting', attempts = attempts + 1 WHERE id = ?",
        [(row[0],) for row in rows],
    )
    claimed = Counter(row[1] for row in rows)
    for seq, n in claimed.items():
        _moved(conn, seq, [(SegmentState.QUEUED, SegmentState.SUBMITTING)] * n)
        _save_status(conn, seq)
    works = [_work(row) for row in rows]
    hot = conn.hot
    table, put, limit = hot.claimed, hot.put, hot.limit
    for w, row in zip(works, rows, strict=True):
        put(table, w.key, (_SegmentRow(row[0], row[1], w.key, SegmentState.SUBMITTING, None, None,
                                       None, w.channel, w.to, w.pk_total, row[14]), w.report),
            limit)  # fmt: skip
    return works


def _apply_report(
    conn: _Tx,
    rows: Sequence[_SegmentRow],
    report: StatusReport,
    now: float,
    callback_url: str | None,
    *,
    updated: bool = False,
) -> ReportOutcome:
    """Set *report* on *rows* (one message); one inbound ``report`` item (and push) each.

    Reads nothing of the message beyond *rows*: its status comes from the
    transaction's segment counts (:func:`_moved`).  *updated*: the caller
    has already written the report into the rows.
    """
    state = SegmentState.DELIVERED if report.delivered else SegmentState.UNDELIVERED
    if not updated:
        conn.executemany(
            "UPDATE segments SET state = ?, stat = ?, done_at = ?, reported_at = ? WHERE id = ?",
            [(str(state), report.stat, report.done_at, report.received_at, row.id) for row in rows],
        )
    seq = rows[0].message_seq
    _moved(conn, seq, [(row.state, state) for row in rows])
    status = _save_status(conn, seq)
    for row in rows:
        fields = report_payload(
            channel=report.channel,
            message_id=row.key.message_id,
            external_id=row.external_id,
            to=row.to,
            msg_id=report.msg_id,
            pk_number=row.key.pk_number,
            pk_total=row.pk_total,
            stat=report.stat,
            err=report.err,
            segment_status=str(state),
            message_status=str(status),
            done_at=report.done_at,
            received_at=report.received_at,
        )
        _put_inbound(conn, Inbound(InboundKind.REPORT, report.channel, fields, now), callback_url)
    return ReportOutcome(
        ReportMatch.MATCHED,
        report.channel,
        report.msg_id,
        report.stat,
        rows[0].key.message_id,
        [row.key for row in rows],
        status,
    )


def _submitted(
    conn: _Tx, record: SubmitRecord, alone: bool = True, callback_url: str | None = None
) -> list[ReportOutcome]:
    """Record one SUBMIT_RESP; *alone*: no other segment of this job shares its Msg_Id.

    A held report it matches is pushed to *callback_url* (if given).
    """
    hot = conn.hot
    hint = hot.claimed.pop(record.key, None)
    row, report = hint if hint is not None else (None, False)
    if (
        row is not None
        and record.result == 0
        and record.msg_id is not None
        and not conn.held
        and conn.execute(
            "UPDATE segments SET state = 'submitted', result = 0, msg_id = ?, submitted_at = ?"
            " WHERE id = ? AND message_seq = ? AND state = 'submitting'",
            (record.msg_id, record.now, row.id, row.message_seq),
        ).rowcount
        == 1
    ):
        # The claim's row, still submitting: what the full path below would do, minus its SELECT.
        _moved(conn, row.message_seq, [(SegmentState.SUBMITTING, SegmentState.SUBMITTED)])
        _save_status(conn, row.message_seq)
        if conn.held is None:
            conn.held = bool(
                conn.execute("SELECT EXISTS (SELECT 1 FROM held_reports)").fetchone()[0]
            )
        if conn.held:
            hot.awaiting.pop((row.channel, record.msg_id), None)
            return _held_for(conn, row, record, callback_url)
        # A segment that wants no report is never looked up by Msg_Id: not remembered.
        hot.submitted(row, record.msg_id, alone and report)
        return []
    row = _find_segment(conn, record.key)
    if record.msg_id is not None:
        hot.awaiting.pop((row.channel, record.msg_id), None)
    if row.state not in (SegmentState.QUEUED, SegmentState.SUBMITTING):
        if (row.result, row.msg_id) == (record.result, record.msg_id):
            return []
        raise InvalidTransition(f"{record.key}: SUBMIT_RESP for a {row.state} segment")
    if record.result != 0:
        conn.execute(
            "UPDATE segments SET state = 'failed', result = ?, msg_id = ?, error = ?,"
            " submitted_at = ? WHERE id = ?",
            (record.result, record.msg_id, f"result {record.result}", record.now, row.id),
        )
        _moved(conn, row.message_seq, [(row.state, SegmentState.FAILED)])
        _save_status(conn, row.message_seq)
        return []
    if record.msg_id is None:
        raise ValueError(f"{record.key}: Result 0 without a msg_id")
    conn.execute(
        "UPDATE segments SET state = 'submitted', result = 0, msg_id = ?, submitted_at = ?"
        " WHERE id = ?",
        (record.msg_id, record.now, row.id),
    )
    _moved(conn, row.message_seq, [(row.state, SegmentState.SUBMITTED)])
    _save_status(conn, row.message_seq)
    if conn.held is None:
        conn.held = bool(conn.execute("SELECT EXISTS (SELECT 1 FROM held_reports)").fetchone()[0])
    if not conn.held:
        return []
    return _held_for(conn, row, record, callback_url)


def _held_for(
    conn: _Tx, row: _SegmentRow, record: SubmitRecord, callback_url: str | None
) -> list[ReportOutcome]:
    """Apply the report that overtook this SUBMIT_RESP, if one is held."""
    held = conn.execute(
        "SELECT id, stat, done_at, received_at, delivered, err, raw FROM held_reports"
        " WHERE channel = ? AND msg_id = ? AND (dest IS NULL OR dest = ?) ORDER BY id LIMIT 1",
        (row.channel, record.msg_id, row.to),
    ).fetchone()
    if held is None:
        return []
    held_id, stat, done_at, received_at, delivered, err, raw = held
    # The report that overtook its SUBMIT_RESP, and any copy of it for this number.
    conn.execute(
        "DELETE FROM held_reports WHERE id = ? OR (channel = ? AND msg_id = ? AND dest = ?)",
        (held_id, row.channel, record.msg_id, row.to),
    )
    report = StatusReport(
        row.channel,
        record.msg_id,
        stat,
        # Held by a version before 2 (no column): decided by its Stat, as then.
        _delivered(stat) if delivered is None else bool(delivered),
        done_at,
        received_at,
        row.to,
        err,
        bytes(raw),
    )
    return [
        _apply_report(
            conn,
            [attrs.evolve(row, state=SegmentState.SUBMITTED, msg_id=record.msg_id)],
            report,
            record.now,
            callback_url,
        )
    ]


def _delivered(stat: str) -> bool:
    """Whether *stat* says delivered (for callers that do not say it themselves)."""
    return stat == DELIVERED_STAT


def _submitted_many(
    conn: _Tx, records: Sequence[SubmitRecord], callback_url: str | None = None
) -> list[ReportOutcome]:
    # A Msg_Id shared by several segments (one SUBMIT to many numbers) is not remembered.
    shared = Counter(r.msg_id for r in records) if len(records) > 1 else None
    return [
        outcome
        for record in records
        for outcome in _submitted(
            conn, record, shared is None or shared[record.msg_id] == 1, callback_url
        )
    ]


def _segment_failed(conn: _Tx, key: SegmentKey, reason: str, now: float) -> None:
    row = _find_segment(conn, key)
    if row.state is SegmentState.FAILED:
        return
    if row.state not in (SegmentState.QUEUED, SegmentState.SUBMITTING):
        raise InvalidTransition(f"{key}: cannot fail a {row.state} segment")
    conn.execute(
        "UPDATE segments SET state = 'failed', error = ?, submitted_at = ? WHERE id = ?",
        (reason, now, row.id),
    )
    _moved(conn, row.message_seq, [(row.state, SegmentState.FAILED)])
    _save_status(conn, row.message_seq)


def _requeue_submitting(conn: _Tx) -> int:
    seqs = {
        seq
        for (seq,) in conn.execute(
            "SELECT DISTINCT message_seq FROM segments WHERE state = 'submitting'"
        )
    }
    count = conn.execute("UPDATE segments SET state = 'queued' WHERE state = 'submitting'").rowcount
    _refresh_status(conn, seqs)
    return int(count)


def _queue_depth(conn: _Conn) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM segments WHERE state = 'queued'").fetchone()[0])


def _record_report(conn: _Tx, report: StatusReport, callback_url: str | None) -> ReportOutcome:
    channel, msg_id, to = report.channel, report.msg_id, report.to
    hot = conn.hot
    row = hot.awaiting.pop((channel, msg_id), None)
    if row is not None and (to is None or to == row.to):
        # The hint: the one segment under this id, of its newest message, awaiting a
        # report (what match_report would pick), if the UPDATE still finds it so.
        state = SegmentState.DELIVERED if report.delivered else SegmentState.UNDELIVERED
        if (
            conn.execute(
                "UPDATE segments SET state = ?, stat = ?, done_at = ?, reported_at = ?"
                " WHERE id = ? AND message_seq = ? AND channel = ? AND msg_id = ?"
                " AND state = 'submitted' AND stat IS NULL",
                (str(state), report.stat, report.done_at, report.received_at, row.id,
                 row.message_seq, channel, msg_id),
            ).rowcount
            == 1
        ):  # fmt: skip
            return _apply_report(
                conn, [row], report, report.received_at, callback_url, updated=True
            )
    params = (channel, msg_id) if to is None else (channel, msg_id, to)
    rows = [_segment_row(r) for r in conn.execute(report_query(to is not None), params)]
    decision = match_report(
        rows,
        lambda: bool(
            conn.execute(
                "SELECT 1 FROM held_reports WHERE channel = ? AND msg_id = ? AND dest IS ?",
                (channel, msg_id, to),
            ).fetchone()
        ),
    )
    if decision.match is ReportMatch.HELD:
        conn.held = True
        conn.execute(
            "INSERT INTO held_reports (channel, msg_id, dest, stat, done_at, raw, received_at,"
            " delivered, err) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (channel, msg_id, to, report.stat, report.done_at, report.raw, report.received_at,
             int(report.delivered), report.err),
        )  # fmt: skip
    if not decision.owner:
        return ReportOutcome(decision.match, channel, msg_id, report.stat)
    if decision.match is ReportMatch.DUPLICATE:
        seq = decision.owner[0].message_seq
        (status,) = conn.execute("SELECT status FROM messages WHERE seq = ?", (seq,)).fetchone()
        return ReportOutcome(
            ReportMatch.DUPLICATE,
            channel,
            msg_id,
            report.stat,
            decision.owner[0].key.message_id,
            [row.key for row in decision.owner],
            MessageStatus(status),
        )
    return _apply_report(conn, decision.apply, report, report.received_at, callback_url)


def _drop_held_reports(conn: _Conn, older_than: float) -> int:
    return int(
        conn.execute("DELETE FROM held_reports WHERE received_at < ?", (older_than,)).rowcount
    )


def _expire_reports(conn: _Tx, older_than: float) -> int:
    rows = conn.execute(
        "SELECT s.id, s.message_seq FROM segments s JOIN messages m ON m.seq = s.message_seq"
        " WHERE s.state = 'submitted' AND s.stat IS NULL AND s.submitted_at < ?"
        " AND m.report = 1",
        (older_than,),
    ).fetchall()
    conn.executemany(
        "UPDATE segments SET state = 'expired' WHERE id = ?", [(sid,) for sid, _ in rows]
    )
    _refresh_status(conn, {seq for _, seq in rows})
    return len(rows)


def _put_inbound(conn: _Conn, item: Inbound, callback_url: str | None = None) -> int | None:
    """Insert *item* (unless a repeat) and, with *callback_url*, its push of the same JSON."""
    if (
        item.dedup_key is not None
        and conn.execute(
            "SELECT 1 FROM inbound WHERE kind = ? AND channel = ? AND dedup_key = ?",
            (str(item.kind), item.channel, item.dedup_key),
        ).fetchone()
    ):
        return None
    fields = json.dumps(dict(item.fields), ensure_ascii=False, separators=(",", ":"))
    cursor = conn.execute(
        "INSERT INTO inbound (kind, channel, fields, created_at, dedup_key) VALUES (?, ?, ?, ?, ?)",
        (str(item.kind), item.channel, fields, item.created_at, item.dedup_key),
    )
    if callback_url is not None:
        _add_callback(conn, InboundKind(item.kind), callback_url, fields, item.created_at)
    return int(cursor.lastrowid)


def _fetch_inbound(conn: _Conn, limit: int) -> list[Inbound]:
    rows = conn.execute(
        "SELECT id, kind, channel, fields, created_at, dedup_key FROM inbound"
        " WHERE fetched = 0 ORDER BY id LIMIT ?",
        (max(limit, 0),),
    ).fetchall()
    if rows:
        # The rows are the first unfetched ones by id, read in this transaction: one range
        # UPDATE marks exactly them.
        conn.execute("UPDATE inbound SET fetched = 1 WHERE fetched = 0 AND id <= ?", (rows[-1][0],))
    return [
        Inbound(InboundKind(kind), channel, json.loads(fields), created_at, dedup_key, item_id)
        for item_id, kind, channel, fields, created_at, dedup_key in rows
    ]


def _template(row: tuple[Any, ...]) -> Template:
    name, engine, body, created_at, updated_at = row
    return Template(name, TemplateEngine(engine), body, created_at, updated_at)


_TEMPLATE = "SELECT name, engine, body, created_at, updated_at FROM templates"


def _put_template(conn: _Conn, template: Template, replace: bool) -> bool:
    exists = conn.execute("SELECT 1 FROM templates WHERE name = ?", (template.name,)).fetchone()
    if exists and not replace:
        raise TemplateExists(template.name)
    if exists:
        conn.execute(
            "UPDATE templates SET engine = ?, body = ?, updated_at = ? WHERE name = ?",
            (str(template.engine), template.body, template.updated_at, template.name),
        )
        return False
    conn.execute(
        "INSERT INTO templates (name, engine, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        (
            template.name,
            str(template.engine),
            template.body,
            template.created_at,
            template.updated_at,
        ),
    )
    return True


def _get_template(conn: _Conn, name: str) -> Template | None:
    row = conn.execute(f"{_TEMPLATE} WHERE name = ?", (name,)).fetchone()
    return None if row is None else _template(row)


def _list_templates(conn: _Conn) -> list[Template]:
    return [_template(row) for row in conn.execute(f"{_TEMPLATE} ORDER BY name")]


def _delete_template(conn: _Conn, name: str) -> bool:
    return bool(conn.execute("DELETE FROM templates WHERE name = ?", (name,)).rowcount)


_CALLBACK = (
    "SELECT id, kind, url, payload, state, next_at, attempts, last_error, done_at FROM callbacks"
)


def _callback(row: tuple[Any, ...]) -> CallbackAttempt:
    callback_id, kind, url, payload, state, next_at, attempts, last_error, done_at = row
    return CallbackAttempt(
        callback_id,
        InboundKind(kind),
        url,
        payload,
        CallbackState(state),
        next_at,
        attempts,
        last_error,
        done_at,
    )


def _add_callback(conn: _Conn, kind: InboundKind, url: str, payload: str, next_at: float) -> int:
    cursor = conn.execute(
        "INSERT INTO callbacks (kind, url, payload, state, next_at) VALUES (?, ?, ?, ?, ?)",
        (str(kind), url, payload, str(CallbackState.PENDING), next_at),
    )
    return int(cursor.lastrowid)


def _get_callback(conn: _Conn, callback_id: int) -> CallbackAttempt | None:
    row = conn.execute(f"{_CALLBACK} WHERE id = ?", (callback_id,)).fetchone()
    return None if row is None else _callback(row)


def _due_callbacks(conn: _Conn, now: float, limit: int) -> list[CallbackAttempt]:
    return [
        _callback(row)
        for row in conn.execute(
            f"{_CALLBACK} WHERE state = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?",
            (now, max(limit, 0)),
        )
    ]


def _pending_callback(conn: _Conn, callback_id: int) -> CallbackAttempt:
    callback = _get_callback(conn, callback_id)
    if callback is None:
        raise UnknownCallback(callback_id)
    if callback.state is not CallbackState.PENDING:
        raise InvalidTransition(f"callback {callback_id} is {callback.state}")
    return callback


def _callback_done(conn: _Conn, callback_id: int, now: float) -> None:
    _pending_callback(conn, callback_id)
    conn.execute(
        "UPDATE callbacks SET state = 'done', attempts = attempts + 1, next_at = NULL,"
        " done_at = ? WHERE id = ?",
        (now, callback_id),
    )


def _callback_failed(conn: _Conn, callback_id: int, error: str, next_at: float | None) -> None:
    _pending_callback(conn, callback_id)
    state = CallbackState.PENDING if next_at is not None else CallbackState.FAILED
    conn.execute(
        "UPDATE callbacks SET state = ?, attempts = attempts + 1, next_at = ?, last_error = ?"
        " WHERE id = ?",
        (str(state), next_at, error, callback_id),
    )


def _query(conn: _Conn, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Every row of one statement (for diagnostics and tests: a job that pickles)."""
    return [tuple(row) for row in conn.execute(sql, params).fetchall()]


# -- the store (reactor thread) ----------------------------------------------


@attrs.define
class _Pending:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    deferred: Deferred[Any]


class _ThreadRunner:
    """Runs batches on one database thread: an adbapi pool of one connection.

    The thread runs :meth:`_db_loop`: it takes the jobs handed to it (at
    most max_batch), runs them as one transaction, posts the results to the
    reactor thread and goes straight on with the jobs handed over meanwhile,
    without waiting for the reactor thread to come round.
    """

    def __init__(self, pool: adbapi.ConnectionPool, reactor: Any, max_batch: int) -> None:
        self._pool = pool
        self._reactor = reactor
        self._max_batch = max_batch
        self.finished: Callable[[list[tuple[bool, Any]] | Failure, int], None] = _unset
        self.lost: Callable[[Failure], None] = _unset
        # Shared with the database thread, under the lock: the jobs it is to
        # run next, whether it is busy, and whether it should stop once idle.
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._handoff: list[_Job] = []
        self._busy = False
        self._stop = False
        self._loop: Deferred[None] | None = None
        self._shutdown: Any = None
        self._stopped: list[Deferred[None]] = []
        #: The database thread's segment hints (see :class:`_Hot`).
        self._hot = _Hot()

    def busy(self) -> bool:
        return self._busy

    def hand(self, jobs: list[_Job]) -> None:
        with self._lock:
            self._handoff.extend(jobs)
            self._busy = True
            self._wake.notify()
        if self._loop is None:
            self._stop = False
            # Before the pool's own shutdown trigger joins its thread, which
            # would otherwise wait for work forever.
            self._shutdown = self._reactor.addSystemEventTrigger(
                "before", "shutdown", self._stop_loop
            )
            self._loop = self._pool.runWithConnection(self._db_loop)
            self._loop.addBoth(self._loop_ended)

    def close(self) -> Deferred[None]:
        """Once every job handed over is answered: stop the thread, close the pool."""
        d: Deferred[None] = Deferred()
        if self._loop is None:
            self._pool.close()
            d.callback(None)
        else:
            self._stopped.append(d)
            self._stop_loop()
        return d

    def _stop_loop(self) -> None:
        """Let the database thread end once it has run what it was handed."""
        with self._lock:
            self._stop = True
            self._wake.notify()

    def _db_loop(self, conn: _Conn) -> None:
        """The database thread: run handed-over jobs, batch after batch, until stopped."""
        while True:
            with self._lock:
                while not self._handoff:
                    self._busy = False
                    if self._stop:
                        return
                    self._wake.wait()
                jobs = self._handoff[: self._max_batch]
                del self._handoff[: self._max_batch]
            results: list[tuple[bool, Any]] | Failure
            try:
                results = _run_batch(conn, jobs, self._hot)
            except Exception:
                results = Failure()
            self._reactor.callFromThread(self.finished, results, len(jobs))

    def _loop_ended(self, result: Failure | None) -> None:
        # Stopped, or it could not run at all (e.g. the database is gone):
        # whatever was handed over and not answered fails with it.
        self._loop = None
        if self._shutdown is not None:
            self._reactor.removeSystemEventTrigger(self._shutdown)
            self._shutdown = None
        with self._lock:
            self._handoff.clear()
            self._busy = False
        if isinstance(result, Failure):
            self.lost(result)
        stopped, self._stopped = self._stopped, []
        if stopped:
            self._pool.close()
        for d in stopped:
            d.callback(None)


class _WriterLink(Int32StringReceiver):
    """The parent's end of the pipes to a database process."""

    MAX_LENGTH = 1 << 30

    def __init__(self, runner: _ProcessRunner) -> None:
        self.runner = runner

    def stringReceived(self, string: bytes) -> None:
        self.runner.received(pickle.loads(string))

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.runner.link_lost(self, reason)


class _ProcessRunner:
    """Runs batches in a database process of its own (:mod:`smsgw.store.writer`).

    Jobs are pickled to the process's stdin as they are handed over; it
    makes its transactions of whatever has arrived, and answers each with
    one frame.  If the process ends unexpectedly, the calls it had not
    answered fail (whether their transaction committed is unknown, as with
    a failed COMMIT) and the next call starts a new one.
    """

    log = Logger()

    def __init__(self, reactor: Any, argv: list[str]) -> None:
        self._reactor = reactor
        self._argv = argv
        self.finished: Callable[[list[tuple[bool, Any]] | Failure, int], None] = _unset
        self.lost: Callable[[Failure], None] = _unset
        #: What the reactor's shutdown waits for (the store's close, once there is a store).
        self.at_shutdown: Callable[[], Deferred[None]] = self.close
        self._link: _WriterLink | None = None
        self._ready: Deferred[tuple[int, int]] | None = None
        #: Jobs handed over and not answered yet.
        self._in_flight = 0
        self._closed: list[Deferred[None]] = []
        self._shutdown: Any = None

    def start(self) -> Deferred[tuple[int, int]]:
        """Start the process; fires with its migration's ``(before, after)`` versions."""
        ready: Deferred[tuple[int, int]] = Deferred()
        self._ready = ready
        link = _WriterLink(self)
        self._link = link
        argv = [*self._argv, str(os.getpid())]
        endpoint = ProcessEndpoint(
            self._reactor, sys.executable, argv, env=os.environ,
            errFlag=StandardErrorBehavior.LOG,
        )  # fmt: skip
        endpoint.connect(Factory.forProtocol(lambda: link)).addErrback(
            lambda f: self.link_lost(link, f)
        )
        if self._shutdown is None:
            self._shutdown = self._reactor.addSystemEventTrigger(
                "before", "shutdown", self._stop_at_shutdown
            )
        return ready

    def busy(self) -> bool:
        return self._in_flight > 0

    def hand(self, jobs: list[_Job]) -> None:
        if self._link is None:
            self.start().addErrback(lambda f: None)  # link_lost fails the calls
        self._in_flight += len(jobs)
        if self._link is None:  # it could not even be spawned
            self._fail(Failure(StoreError("the database process could not be started")))
            return
        self._link.sendString(pickle.dumps(jobs, pickle.HIGHEST_PROTOCOL))

    def received(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "done":
            results = message[1]
            self._in_flight -= len(results)
            self.finished(results, len(results))
        elif kind == "failed":
            _, error, count = message
            self._in_flight -= count
            self.finished(Failure(error), count)
        elif kind == "ready":
            ready, self._ready = self._ready, None
            if ready is not None:
                ready.callback(message[1])
        else:  # "error": it could not open the database, and ends
            ready, self._ready = self._ready, None
            if ready is not None:
                ready.errback(Failure(message[1]))
            elif self._in_flight:
                self._fail(Failure(message[1]))

    def link_lost(self, link: _WriterLink, reason: Failure) -> None:
        if link is not self._link:
            return
        self._link = None
        ready, self._ready = self._ready, None
        if ready is not None:
            ready.errback(StoreError(f"the database process did not start: {reason.value}"))
        if self._in_flight:
            self._fail(Failure(StoreError(f"the database process ended: {reason.value}")))
        if self._closed:
            self._ended()

    def _fail(self, failure: Failure) -> None:
        self._in_flight = 0
        self.log.failure("store: the database process failed", failure)
        self.lost(failure)

    def close(self) -> Deferred[None]:
        """Once every job handed over is answered: end the process (EOF on its stdin)."""
        d: Deferred[None] = Deferred()
        self._closed.append(d)
        if self._link is None:
            self._ended()
        else:
            # Only stdin: its answers to what it has been sent still come back.
            IProcessTransport(self._link.transport).closeStdin()
        return d

    def _ended(self) -> None:
        """Closed, and the process is gone: no shutdown trigger left, close() fires."""
        if self._shutdown is not None:
            self._reactor.removeSystemEventTrigger(self._shutdown)
            self._shutdown = None
        closed, self._closed = self._closed, []
        for d in closed:
            d.callback(None)

    def _stop_at_shutdown(self) -> Deferred[None] | None:
        # The reactor is stopping without the store being closed: close it
        # (every call made is run and answered, then the process ends), and
        # let the reactor wait for that.
        self._shutdown = None
        return self.at_shutdown()


def _unset(*args: Any) -> None:  # pragma: no cover - replaced by the store
    raise AssertionError("runner used before its store was made")


@implementer(IMessageStore)
class SqliteStore:
    """:class:`IMessageStore` on one SQLite file; create it with :meth:`open`.

    :ivar batch_window_s: how long the first call of a batch waits for
        company before the batch runs (calls made while a batch commits
        join the next one anyway).
    :ivar max_batch: calls per transaction at most; 1 turns batching off.
    """

    log = Logger()

    def __init__(
        self,
        runner: _ThreadRunner | _ProcessRunner,
        reactor: Any,
        *,
        batch_window_s: float = 0.002,
        max_batch: int = 512,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._runner = runner
        runner.finished = self._finished
        runner.lost = self._lost
        if isinstance(runner, _ProcessRunner):
            runner.at_shutdown = self.close
        self._reactor = reactor
        self.batch_window_s = batch_window_s
        self.max_batch = max_batch
        #: Calls waiting for the batch window (reactor thread only).
        self._pending: list[_Pending] = []
        #: Calls handed to the runner and not answered yet, in order.
        self._sent: deque[_Pending] = deque()
        self._timer: IDelayedCall | None = None
        self._closing = False
        self._closed = False
        self._close_waiters: list[Deferred[None]] = []
        #: How many transactions ran, and how many calls they held (for tests and metrics).
        self.batches = 0
        self.batched_calls = 0

    @classmethod
    def open(
        cls,
        path: str = DEFAULT_PATH,
        *,
        reactor: Any = None,
        synchronous: str = "FULL",
        busy_timeout_ms: int = 5000,
        batch_window_s: float | None = None,
        max_batch: int = 512,
        process: bool = False,
    ) -> Deferred[SqliteStore]:
        """Open (creating if needed) and migrate the database at *path*.

        Fires once the schema is current; fails with
        :class:`~smsgw.store.interface.SchemaTooNew` for a database written
        by a newer smsgw.

        :param synchronous: ``FULL`` (default, see the module docstring) or
            ``NORMAL`` (survives a process crash but maybe not a power cut).
        :param batch_window_s: how long a call made while the database is
            idle waits for company.  By default 2 ms with a database thread
            (each transaction costs this process GIL round trips) and none
            with a database process: an idle one may as well commit at once,
            and calls made meanwhile make the next transaction anyway.
        :param process: run the transactions in a database process of its
            own (:mod:`smsgw.store.writer`) instead of a thread of this one.
            Same results; it lets the reactor and SQLite each use a core.
        """
        if batch_window_s is None:
            batch_window_s = 0.0 if process else 0.002
        if synchronous.upper() not in _SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {_SYNCHRONOUS}, not {synchronous!r}")
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if reactor is None:
            from twisted.internet import reactor as global_reactor

            reactor = global_reactor
        runner: _ThreadRunner | _ProcessRunner
        d: Deferred[tuple[int, int]]
        if process:
            argv = [
                sys.executable, "-m", "smsgw.store.writer",
                path, synchronous.upper(), str(int(busy_timeout_ms)), str(max_batch),
            ]  # fmt: skip
            runner = _ProcessRunner(reactor, argv)
            d = runner.start()
        else:
            pool = adbapi.ConnectionPool(
                "sqlite3",
                path,
                check_same_thread=False,
                isolation_level=None,
                cp_min=1,
                cp_max=1,
                cp_reactor=reactor,
                cp_openfun=functools.partial(
                    _open_connection,
                    synchronous=synchronous.upper(),
                    busy_timeout_ms=busy_timeout_ms,
                ),
            )
            runner = _ThreadRunner(pool, reactor, max_batch)
            now = reactor.seconds()
            d = pool.runWithConnection(lambda conn: migrate(conn, now))

        def migrated(versions: tuple[int, int]) -> SqliteStore:
            before, after = versions
            if before != after:
                cls.log.info(
                    "store {path}: schema {old} -> {new}", path=path, old=before, new=after
                )
            return cls(runner, reactor, batch_window_s=batch_window_s, max_batch=max_batch)

        def failed(failure: Failure) -> Deferred[SqliteStore]:
            return runner.close().addCallback(lambda _: failure)

        return d.addCallbacks(migrated, failed)

    # -- the batcher -------------------------------------------------------
    #
    # A call made while the runner is idle waits batch_window_s for company;
    # one made while it is busy is handed over at the end of this reactor
    # turn, with the turn's other calls, and joins the next transaction.

    def _submit(self, fn: Callable[..., _T], *args: Any) -> Deferred[_T]:
        if self._closing:
            return fail(StoreClosed("the store is closed"))
        d: Deferred[_T] = Deferred()
        self._pending.append(_Pending(fn, args, d))
        if len(self._pending) >= self.max_batch:
            self._flush()
        elif self._timer is None:
            delay = 0.0 if self._runner.busy() else self.batch_window_s
            self._timer = self._reactor.callLater(delay, self._flush)
        return d

    def _flush(self) -> None:
        if self._timer is not None:
            if self._timer.active():
                self._timer.cancel()
            self._timer = None
        if not self._pending:
            self._idle()
            return
        jobs, self._pending = self._pending, []
        self._sent.extend(jobs)
        self._runner.hand([(job.fn, job.args) for job in jobs])

    def _lost(self, failure: Failure) -> None:
        """The runner failed: every call handed to it and not answered fails."""
        sent, self._sent = self._sent, deque()
        for job in sent:
            job.deferred.errback(failure)
        self._idle()

    def _finished(self, results: list[tuple[bool, Any]] | Failure, count: int) -> None:
        # (A caller that cancelled its Deferred is ignored by Twisted here;
        # its change was made all the same.)
        batch = [self._sent.popleft() for _ in range(count)]
        self.batches += 1
        self.batched_calls += count
        try:
            if isinstance(results, Failure):
                # The transaction itself failed (e.g. COMMIT on a full disk): nothing was kept.
                self.log.failure("store: a batch of {n} calls failed", results, n=count)
                for job in batch:
                    job.deferred.errback(results)
            else:
                for job, (ok, value) in zip(batch, results, strict=True):
                    if ok:
                        job.deferred.callback(value)
                    else:
                        job.deferred.errback(Failure(value, type(value), value.__traceback__))
        finally:
            self._idle()

    def _idle(self) -> None:
        if not self._closing or self._pending or self._sent or self._closed:
            return
        self._closed = True
        self._runner.close().addCallback(self._runner_closed)

    def _runner_closed(self, _: None) -> None:
        waiters, self._close_waiters = self._close_waiters, []
        for waiter in waiters:
            waiter.callback(None)

    # -- messages ----------------------------------------------------------

    def add_message(self, message: Message) -> Deferred[None]:
        try:
            validate_message(message)
        except ValueError:
            return fail()
        return self._submit(_add_message, message)

    def add_messages(self, messages: Sequence[Message]) -> Deferred[None]:
        try:
            for message in messages:
                validate_message(message)
        except ValueError:
            return fail()
        return self._submit(_add_messages, list(messages))

    def get_message(self, message_id: str) -> Deferred[Message | None]:
        return self._submit(_load_message, "id = ?", message_id)

    def find_by_external_id(self, external_id: str, since: float) -> Deferred[Message | None]:
        return self._submit(_find_by_external_id, external_id, since)

    # -- the send queue ----------------------------------------------------

    def claim_due(
        self, now: float, limit: int, channel: str | None = None
    ) -> Deferred[list[SegmentWork]]:
        return self._submit(_claim_due, now, limit, channel)

    def segment_submitted(
        self,
        key: SegmentKey,
        result: int,
        msg_id: str | None,
        now: float,
        *,
        callback_url: str | None = None,
    ) -> Deferred[list[ReportOutcome]]:
        return self._submit(_submitted, SubmitRecord(key, result, msg_id, now), True, callback_url)

    def segment_submitted_many(
        self, records: Sequence[SubmitRecord], *, callback_url: str | None = None
    ) -> Deferred[list[ReportOutcome]]:
        return self._submit(_submitted_many, list(records), callback_url)

    def segment_failed(self, key: SegmentKey, reason: str, now: float) -> Deferred[None]:
        return self._submit(_segment_failed, key, reason, now)

    def requeue_submitting(self) -> Deferred[int]:
        return self._submit(_requeue_submitting)

    def queue_depth(self) -> Deferred[int]:
        return self._submit(_queue_depth)

    # -- status reports ----------------------------------------------------

    def record_report(
        self,
        channel: str,
        msg_id: str,
        stat: str,
        done_at: float,
        raw: bytes = b"",
        *,
        to: str | None = None,
        now: float | None = None,
        delivered: bool | None = None,
        err: str = "",
        callback_url: str | None = None,
    ) -> Deferred[ReportOutcome]:
        report = StatusReport(
            channel,
            msg_id,
            stat,
            _delivered(stat) if delivered is None else delivered,
            done_at,
            done_at if now is None else now,
            to,
            err,
            bytes(raw),
        )
        return self._submit(_record_report, report, callback_url)

    def drop_held_reports(self, older_than: float) -> Deferred[int]:
        return self._submit(_drop_held_reports, older_than)

    def expire_reports(self, older_than: float) -> Deferred[int]:
        return self._submit(_expire_reports, older_than)

    # -- inbound items -----------------------------------------------------

    def add_inbound(
        self, item: Inbound, *, callback_url: str | None = None
    ) -> Deferred[int | None]:
        try:
            json.dumps(dict(item.fields))
        except (TypeError, ValueError):
            return fail()
        return self._submit(_put_inbound, item, callback_url)

    def fetch_inbound(self, limit: int) -> Deferred[list[Inbound]]:
        return self._submit(_fetch_inbound, limit)

    # -- templates ---------------------------------------------------------

    def put_template(self, template: Template, replace: bool = True) -> Deferred[bool]:
        return self._submit(_put_template, template, replace)

    def get_template(self, name: str) -> Deferred[Template | None]:
        return self._submit(_get_template, name)

    def list_templates(self) -> Deferred[list[Template]]:
        return self._submit(_list_templates)

    def delete_template(self, name: str) -> Deferred[bool]:
        return self._submit(_delete_template, name)

    # -- callback attempts -------------------------------------------------

    def add_callback(
        self, kind: InboundKind, url: str, payload: str, next_at: float
    ) -> Deferred[int]:
        try:
            json.loads(payload)
        except ValueError:
            return fail()
        return self._submit(_add_callback, InboundKind(kind), url, payload, next_at)

    def get_callback(self, callback_id: int) -> Deferred[CallbackAttempt | None]:
        return self._submit(_get_callback, callback_id)

    def due_callbacks(self, now: float, limit: int) -> Deferred[list[CallbackAttempt]]:
        return self._submit(_due_callbacks, now, limit)

    def callback_done(self, callback_id: int, now: float) -> Deferred[None]:
        return self._submit(_callback_done, callback_id, now)

    def callback_failed(
        self, callback_id: int, error: str, next_at: float | None
    ) -> Deferred[None]:
        return self._submit(_callback_failed, callback_id, error, next_at)

    # -- life --------------------------------------------------------------

    def close(self) -> Deferred[None]:
        """Run the calls already made, commit, then close the connection."""
        if self._closed and not self._close_waiters:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._close_waiters.append(d)
        if not self._closing:
            self._closing = True
            if self._timer is not None:
                self._flush()
            else:
                self._idle()
        return d
