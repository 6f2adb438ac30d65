"""Transactions of many jobs (group commit): the public API of the database thread and process.

A *job* is ``(function, args)``: a module-level function of this package,
called as ``function(tx, *args)`` with the batch's :class:`Tx`.  The
:class:`~smsgw.store.sqlite.SqliteStore` hands jobs to a runner
(:mod:`smsgw.store.sqlite.runners`); the runner's thread, or the database
process (:mod:`smsgw.store.writer`), calls :func:`run_batch` over them.
The per-message segment counts that keep ``messages.status`` in step live
here too (:func:`save_status`).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from smsgw.store.model import (
    MessageStatus,
    SegmentKey,
    SegmentState,
    derive_status,
)
from smsgw.store.sqlite.connection import Conn
from smsgw.store.sqlite.dialect import SQLITE, Dialect
from smsgw.store.sqlite.rows import SegmentRow

__all__ = ["Hot", "Job", "Tx", "run_batch", "runs_together"]

#: One call of the store: a module-level function of this package (pickled by
#: name for the database process) and its arguments after the :class:`Tx`.
Job = tuple[Callable[..., Any], tuple[Any, ...]]

#: How a run of consecutive jobs is done at once: ``run(tx, jobs)`` gives each
#: job's value, the values running them one by one in that order would give.
Run = Callable[["Tx", list[Job]], list[Any]]

#: Job functions whose consecutive calls share statements: function -> its :data:`Run`.
_RUNS: dict[Callable[..., Any], Run] = {}


def runs_together(run: Run, *functions: Callable[..., Any]) -> None:
    """Let consecutive jobs of any of *functions* run as one call of *run* (:func:`run_batch`)."""
    for function in functions:
        _RUNS[function] = run


class Tx:
    """One batch's transaction: the connection, plus each touched message's segment counts.

    ``counts[seq]`` maps a segment state to how many of message *seq*'s
    segments are in it, as this transaction sees them; the write paths keep
    it in step (:func:`moved`), so a message's status is derived without
    reading its segments again; ``status[seq]`` is the status its row holds,
    so an unchanged status is not written again.  ``held`` says whether
    ``held_reports`` may have a row (None: not looked yet), so that recording
    a SUBMIT_RESP does not look for a held report when there is none.  All of
    it lives for one batch only (the batch holds the write lock, so no other
    connection changes those rows meanwhile), and a job rolled back to its
    SAVEPOINT drops what it touched.  ``dialect`` says what differs between
    databases (:mod:`~smsgw.store.sqlite.dialect`).
    """

    __slots__ = (
        "conn", "counts", "dialect", "dirty", "execute", "executemany", "held", "hot", "status",
        "touched",
    )  # fmt: skip

    def __init__(self, conn: Conn, hot: Hot, dialect: Dialect = SQLITE) -> None:
        self.conn = conn
        self.hot = hot
        self.dialect = dialect
        self.execute = conn.execute
        self.executemany = conn.executemany
        self.counts: dict[int, Counter[str]] = {}
        self.status: dict[int, MessageStatus] = {}
        self.dirty: dict[int, MessageStatus] = {}
        self.held: bool | None = None
        self.touched: set[int] = set()

    def forget_touched(self) -> None:
        """The job was rolled back: what it counted may be wrong now."""
        for seq in self.touched:
            self.counts.pop(seq, None)
            self.status.pop(seq, None)
        self.touched.clear()
        self.dirty.clear()


class Hot:
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
        self.claimed: dict[SegmentKey, tuple[SegmentRow, bool]] = {}
        self.awaiting: dict[tuple[str, str], SegmentRow] = {}

    @staticmethod
    def put(table: dict[Any, Any], key: Any, row: Any, limit: int) -> None:
        """Keep *row* under *key*, dropping the oldest entry when *table* holds *limit*."""
        if len(table) >= limit:
            del table[next(iter(table))]
        table[key] = row

    def submitted(self, row: SegmentRow, msg_id: str, alone: bool) -> None:
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


def run_batch(
    conn: Conn, jobs: list[Job], hot: Hot, dialect: Dialect = SQLITE
) -> list[tuple[bool, Any]]:
    """Run *jobs* in one transaction; ``(ok, value or exception)`` each, as if each had its own.

    First all of them together with no SAVEPOINT, and each run of
    consecutive jobs registered with :func:`runs_together` as one call
    sharing its statements (one ``executemany`` for a run of reports rather
    than a few statements each): each statement costs a round trip through
    the sqlite3 module (and, on a database thread, through the GIL).  Only
    when a job raises is that transaction rolled back and the batch run
    again with every job alone in a SAVEPOINT, so that the failing job's
    changes alone are undone.  A job is a function of the database and its
    arguments (the :class:`Hot` hints change its path, never its result,
    and a run gives what its jobs one by one would), so the second run gives
    what one run with SAVEPOINTs would have.

    An error the *dialect* says :meth:`~Dialect.escapes` (PostgreSQL: a
    deadlock, a lost connection) is no job's own: the transaction is rolled
    back and it is raised, for the caller to run the batch again or fail it.
    """
    results = _run_jobs(conn, jobs, hot, dialect, savepoints=False)
    if results is None:
        results = _run_jobs(conn, jobs, hot, dialect, savepoints=True)
        assert results is not None  # with SAVEPOINTs a failing job fails alone
    return results


def _run_jobs(
    conn: Conn, jobs: list[Job], hot: Hot, dialect: Dialect, *, savepoints: bool
) -> list[tuple[bool, Any]] | None:
    """One transaction over *jobs*, committed unless a call fails.

    Without *savepoints* a failing job (or run) rolls the transaction back:
    its result is the answer when it was the only job, else ``None`` (run
    again with *savepoints*, where a failing job is rolled back to its own).
    """
    tx = Tx(conn, hot, dialect)
    escapes = dialect.escapes
    execute = conn.execute
    results: list[tuple[bool, Any]] = []
    execute("BEGIN IMMEDIATE")
    try:
        if savepoints:
            for fn, args in jobs:
                execute("SAVEPOINT job")
                tx.touched.clear()
                try:
                    value = fn(tx, *args)
                    flush_status(tx)
                except Exception as e:
                    if escapes(e):
                        raise
                    execute("ROLLBACK TO job")
                    execute("RELEASE job")
                    tx.forget_touched()
                    results.append((False, e))
                    continue
                execute("RELEASE job")
                results.append((True, value))
        else:
            try:
                for run, some in _runs(jobs):
                    if run is None:
                        fn, args = some[0]
                        results.append((True, fn(tx, *args)))
                    else:
                        results.extend((True, value) for value in run(tx, some))
                    flush_status(tx)
            except Exception as e:
                if escapes(e):
                    raise
                execute("ROLLBACK")
                return [(False, e)] if len(jobs) == 1 else None
        execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            execute("ROLLBACK")
        raise
    return results


def _runs(jobs: list[Job]) -> list[tuple[Run | None, list[Job]]]:
    """*jobs* cut into runs: consecutive jobs of one :data:`Run`, each other job alone."""
    runs: list[tuple[Run | None, list[Job]]] = []
    for job in jobs:
        run = _RUNS.get(job[0])
        if run is not None and runs and runs[-1][0] is run:
            runs[-1][1].append(job)
        else:
            runs.append((run, [job]))
    return runs


def update_each(tx: Tx, sql: str, params: list[tuple[Any, ...]]) -> bool:
    """Run UPDATE *sql* (which changes at most one row) once per *params*, as one statement.

    True when every one changed its row; otherwise none of them has
    changed anything (they are undone together) and the caller takes the
    long way for each.
    """
    if len(params) == 1:
        return bool(tx.execute(sql, params[0]).rowcount == 1)
    tx.execute("SAVEPOINT each")
    if tx.executemany(sql, params).rowcount == len(params):
        tx.execute("RELEASE each")
        return True
    tx.execute("ROLLBACK TO each")
    tx.execute("RELEASE each")
    return False


def in_list(values: Sequence[Any]) -> tuple[str, list[Any]]:
    """``(?, ?, …)`` for *values* padded to a power of two (few distinct statements to cache)."""
    size = 1 << max(len(values) - 1, 0).bit_length()
    padded = [*values, *[values[-1]] * (size - len(values))]
    return "(" + ", ".join("?" * size) + ")", padded


#: :func:`load_counts`'s statement; ``{marks}`` is an :func:`in_list` (public for the
#: query-plan test).
COUNTS_QUERY = (
    "SELECT message_seq, state, COUNT(*) FROM segments"
    " WHERE message_seq IN {marks} GROUP BY message_seq, state"
)

#: Messages whose segments are counted by one statement at most (its IN list).
_COUNT_CHUNK = 256


def load_counts(tx: Tx, seqs: Sequence[int]) -> None:
    """Count the segments of the messages *seqs* not counted yet, for all of them at once.

    As :func:`segment_counts` would one by one: the counts are the
    database's now, so call it before the writes it is to count (or after
    them, in place of :func:`moved`).  The dialect locks their message rows
    first (PostgreSQL: see :meth:`~smsgw.store.sqlite.dialect.Dialect.lock_messages`).
    """
    todo = [seq for seq in dict.fromkeys(seqs) if seq not in tx.counts]
    if todo:
        tx.dialect.lock_messages(tx, todo)
    for start in range(0, len(todo), _COUNT_CHUNK):
        chunk = todo[start : start + _COUNT_CHUNK]
        for seq in chunk:
            tx.counts[seq] = Counter()
        marks, params = in_list(chunk)
        for seq, state, n in tx.execute(COUNTS_QUERY.format(marks=marks), params):
            tx.counts[seq][state] = n
    tx.touched.update(todo)


def segment_counts(tx: Tx, seq: int) -> Counter[str]:
    """Message *seq*'s segments per state, as the transaction sees them now."""
    counts = tx.counts.get(seq)
    if counts is None:
        tx.dialect.lock_messages(tx, [seq])
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


def moved(tx: Tx, seq: int, moves: Sequence[tuple[str, str]]) -> None:
    """Segments of message *seq* went ``(old, new)`` state each (already written)."""
    counts = tx.counts.get(seq)
    if counts is None:
        segment_counts(tx, seq)  # read after the UPDATE: already counts the moves
        return
    tx.touched.add(seq)
    for old, new in moves:
        counts[old] -= 1
        counts[new] += 1


@functools.lru_cache(maxsize=4096)
def _status_for(counts: tuple[tuple[str, int], ...]) -> MessageStatus:
    """:func:`derive_status` of segments counted per state (cached: it runs for every change)."""
    return derive_status(SegmentState(state) for state, n in counts for _ in range(n))


def save_status(tx: Tx, seq: int) -> MessageStatus:
    """Set ``messages.status`` = :func:`derive_status` of the segments (if it changed).

    Written when the job ends (:func:`flush_status`), with the job's other
    messages' statuses; a job that reads the column first calls that.
    """
    counts = segment_counts(tx, seq)
    status = _status_for(tuple(sorted((state, n) for state, n in counts.items() if n)))
    if tx.status.get(seq) is not status:
        tx.dirty[seq] = status
        tx.status[seq] = status
    return status


def flush_status(tx: Tx) -> None:
    """Write the statuses :func:`save_status` has set since the last time, in one statement."""
    if tx.dirty:
        tx.executemany(
            "UPDATE messages SET status = ? WHERE seq = ? AND status != ?",
            [(str(status), seq, str(status)) for seq, status in tx.dirty.items()],
        )
        tx.dirty.clear()


def refresh_status(tx: Tx, seqs: set[int] | list[int]) -> None:
    """Recount and save the status of messages changed by a bulk UPDATE."""
    ordered = sorted(seqs)
    for seq in ordered:
        tx.counts.pop(seq, None)
        tx.status.pop(seq, None)
    load_counts(tx, ordered)
    for seq in ordered:
        save_status(tx, seq)
