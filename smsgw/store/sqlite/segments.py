"""Messages, segments and claims: adding messages, the send queue, SUBMIT_RESPs."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from typing import Any

from smsgw.store.interface import (
    DuplicateMessage,
    InvalidTransition,
)
from smsgw.store.model import (
    Message,
    ReportOutcome,
    SegmentKey,
    SegmentState,
    SegmentWork,
    SubmitRecord,
)
from smsgw.store.sqlite.batch import (
    Job,
    Tx,
    in_list,
    load_counts,
    moved,
    refresh_status,
    runs_together,
    save_status,
    update_each,
)
from smsgw.store.sqlite.connection import Conn
from smsgw.store.sqlite.reports import held_for
from smsgw.store.sqlite.rows import (
    SEGMENT_COLUMNS,
    SegmentRow,
    find_segment,
    load_message,
    segment_values,
)


def _add_message(conn: Conn, message: Message) -> None:
    if conn.execute("SELECT 1 FROM messages WHERE id = ?", (message.id,)).fetchone():
        raise DuplicateMessage(message.id)
    cursor = conn.execute(
        "INSERT INTO messages (id, created_at, send_at, mode, channel, report, src_ext,"
        " external_id, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        _message_values(message),
    )
    _insert_parts(conn, [(cursor.lastrowid, message)])


def _message_values(message: Message) -> tuple[Any, ...]:
    return (
        message.id,
        message.created_at,
        message.send_at,
        str(message.mode),
        message.channel,
        int(message.report),
        message.src_ext,
        message.external_id,
        str(message.status),
    )


def _insert_parts(conn: Conn, messages: list[tuple[int, Message]]) -> None:
    """The recipients and segments of *messages* (each with its ``seq``), one INSERT each."""
    conn.executemany(
        "INSERT INTO recipients (message_seq, idx, dest, channel) VALUES (?, ?, ?, ?)",
        [(seq, i, r.to, r.channel) for seq, m in messages for i, r in enumerate(m.recipients)],
    )
    conn.executemany(
        "INSERT INTO segments (message_seq, channel, due_at, "
        + SEGMENT_COLUMNS
        + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (seq, r.channel, m.due_at, i, *segment_values(s))
            for seq, m in messages
            for i, r in enumerate(m.recipients)
            for s in r.segments
        ],
    )


def _add_messages(conn: Conn, messages: Sequence[Message]) -> None:
    for message in messages:
        _add_message(conn, message)


#: :func:`_add_run`'s lookup of ids; ``{marks}`` is an :func:`in_list` (public for the
#: query-plan test).
IDS_QUERY = "SELECT id FROM messages WHERE id IN {marks}"

#: Message ids looked up by one statement at most (its IN list).
_ID_CHUNK = 256


def _add_run(tx: Tx, jobs: list[Job]) -> list[None]:
    """Consecutive :func:`_add_message` and :func:`_add_messages` jobs, statements shared.

    One lookup of their ids, then one INSERT per table for all of them,
    each message with the ``seq`` the database would have given it
    (:meth:`~smsgw.store.sqlite.dialect.Dialect.next_seqs`).  A repeated id
    raises :class:`DuplicateMessage` for the first one in order, as one by
    one would (in a batch of several jobs, :func:`run_batch` then runs them
    one by one, and only that job fails).
    """
    messages = [m for fn, args in jobs for m in ([args[0]] if fn is _add_message else args[0])]
    ids = [m.id for m in messages]
    taken: set[str] = set()
    for start in range(0, len(ids), _ID_CHUNK):
        marks, params = in_list(ids[start : start + _ID_CHUNK])
        taken.update(i for (i,) in tx.execute(IDS_QUERY.format(marks=marks), params))
    for message_id in ids:
        if message_id in taken:
            raise DuplicateMessage(message_id)
        taken.add(message_id)
    seqs = tx.dialect.next_seqs(tx, len(messages))
    tx.executemany(
        "INSERT INTO messages (seq, id, created_at, send_at, mode, channel, report, src_ext,"
        " external_id, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(seq, *_message_values(m)) for seq, m in zip(seqs, messages, strict=True)],
    )
    _insert_parts(tx, list(zip(seqs, messages, strict=True)))
    return [None] * len(jobs)


runs_together(_add_run, _add_message, _add_messages)


def _find_by_external_id(conn: Conn, external_id: str, since: float) -> Message | None:
    return load_message(
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


@functools.cache
def claim_query(by_channel: bool, lock: str = "") -> str:
    """The SELECT of :meth:`SqliteStore.claim_due` (parameters: now, [channel], limit).

    Walks the ``segments_queue`` index; public for the query-plan test.
    *lock* ends it (PostgreSQL: ``FOR UPDATE OF s SKIP LOCKED``, so two
    nodes never take the same segment).
    """
    channel = " AND s.channel = ?" if by_channel else ""
    return (
        "SELECT s.id, s.message_seq, m.id, s.recipient, s.pk_number, s.pk_total, s.content,"
        " s.msg_fmt, s.tp_udhi, s.attempts, r.dest, s.channel, m.report, m.src_ext, m.external_id"
        " FROM segments s JOIN messages m ON m.seq = s.message_seq"
        " JOIN recipients r ON r.message_seq = s.message_seq AND r.idx = s.recipient"
        f" WHERE s.state = 'queued' AND s.due_at <= ?{channel} ORDER BY s.due_at, s.id LIMIT ?"
        f"{lock}"
    )


def _claim_due(conn: Tx, now: float, limit: int, channel: str | None) -> list[SegmentWork]:
    params = (now, max(limit, 0)) if channel is None else (now, channel, max(limit, 0))
    query = claim_query(channel is not None, conn.dialect.lock("s", skip=True))
    rows = conn.execute(query, params).fetchall()
    # Who claimed it and when: requeue_submitting takes back its own node's claims only,
    # reclaim_stale anyone's claims older than the visibility timeout.
    node = conn.dialect.node
    conn.executemany(
        "UPDATE segments SET state = 'submitting', attempts = attempts + 1, claimed_by = ?,"
        " claimed_at = ? WHERE id = ?",
        [(node, now, row[0]) for row in rows],
    )
    claimed = Counter(row[1] for row in rows)
    # Counted after the UPDATE (one statement for all): those already count the claim.
    fresh = [seq for seq in claimed if seq not in conn.counts]
    load_counts(conn, fresh)
    for seq, n in claimed.items():
        if seq not in fresh:
            moved(conn, seq, [(SegmentState.QUEUED, SegmentState.SUBMITTING)] * n)
        save_status(conn, seq)
    works = [_work(row) for row in rows]
    hot = conn.hot
    table, put, limit = hot.claimed, hot.put, hot.limit
    for w, row in zip(works, rows, strict=True):
        put(table, w.key, (SegmentRow(row[0], row[1], w.key, SegmentState.SUBMITTING, None, None,
                                       None, w.channel, w.to, w.pk_total, row[14]), w.report),
            limit)  # fmt: skip
    return works


#: The UPDATE of a SUBMIT_RESP's segment found by the hint (:attr:`Hot.claimed`): it
#: checks that the row is still the claimed one and still submitting.
_HINTED_UPDATE = (
    "UPDATE segments SET state = 'submitted', result = 0, msg_id = ?, submitted_at = ?"
    " WHERE id = ? AND message_seq = ? AND state = 'submitting'"
)


def _submitted(
    conn: Tx, record: SubmitRecord, alone: bool = True, callback_url: str | None = None
) -> list[ReportOutcome]:
    """Record one SUBMIT_RESP; *alone*: no other segment of this job shares its Msg_Id.

    A held report it matches is pushed to *callback_url* (if given).
    """
    conn.dialect.lock_msg_ids(conn, [record.msg_id] if record.result == 0 else [])
    hint = _hint(conn, record)
    if hint is not None and conn.execute(_HINTED_UPDATE, _hinted_params(hint[0], record)).rowcount:
        return _hinted_done(conn, record, *hint, alone, callback_url)
    return _unhinted(conn, record, callback_url)


def _hint(conn: Tx, record: SubmitRecord) -> tuple[SegmentRow, bool] | None:
    """The claim's row of *record*'s segment and whether it wants a report, if the hint may do.

    The hint is used up either way.  Only a Result 0 with a Msg_Id, and
    only while no report is held (or the transaction has not looked yet),
    takes the short way.
    """
    hint = conn.hot.claimed.pop(record.key, None)
    if hint is None or record.result != 0 or record.msg_id is None or conn.held:
        return None
    return hint


def _hinted_params(row: SegmentRow, record: SubmitRecord) -> tuple[Any, ...]:
    return (record.msg_id, record.now, row.id, row.message_seq)


def _hinted_done(
    conn: Tx,
    record: SubmitRecord,
    row: SegmentRow,
    report: bool,
    alone: bool,
    callback_url: str | None,
) -> list[ReportOutcome]:
    """The hinted UPDATE of *row* (still submitting) is made: what the long way does after its."""
    assert record.msg_id is not None
    moved(conn, row.message_seq, [(SegmentState.SUBMITTING, SegmentState.SUBMITTED)])
    save_status(conn, row.message_seq)
    if conn.held is None:
        conn.held = bool(conn.execute("SELECT EXISTS (SELECT 1 FROM held_reports)").fetchone()[0])
    if conn.held:
        conn.hot.awaiting.pop((row.channel, record.msg_id), None)
        return held_for(conn, row, record, callback_url)
    # A segment that wants no report is never looked up by Msg_Id: not remembered.
    conn.hot.submitted(row, record.msg_id, alone and report)
    return []


def _unhinted(conn: Tx, record: SubmitRecord, callback_url: str | None) -> list[ReportOutcome]:
    """The long way: find the segment, check its state, record the result."""
    row = find_segment(conn, record.key)
    if record.msg_id is not None:
        conn.hot.awaiting.pop((row.channel, record.msg_id), None)
    if row.state not in (SegmentState.QUEUED, SegmentState.SUBMITTING):
        if (row.result, row.msg_id) == (record.result, record.msg_id):
            return []
        raise InvalidTransition(f"{record.key}: SUBMIT_RESP for a {row.state} segment")
    if record.result != 0:
        error = record.error or f"result {record.result}"
        conn.execute(
            "UPDATE segments SET state = 'failed', result = ?, msg_id = ?, error = ?,"
            " submitted_at = ? WHERE id = ?",
            (record.result, record.msg_id, error, record.now, row.id),
        )
        moved(conn, row.message_seq, [(row.state, SegmentState.FAILED)])
        save_status(conn, row.message_seq)
        return []
    if record.msg_id is None:
        raise ValueError(f"{record.key}: Result 0 without a msg_id")
    conn.execute(
        "UPDATE segments SET state = 'submitted', result = 0, msg_id = ?, submitted_at = ?"
        " WHERE id = ?",
        (record.msg_id, record.now, row.id),
    )
    moved(conn, row.message_seq, [(row.state, SegmentState.SUBMITTED)])
    save_status(conn, row.message_seq)
    if conn.held is None:
        conn.held = bool(conn.execute("SELECT EXISTS (SELECT 1 FROM held_reports)").fetchone()[0])
    if not conn.held:
        return []
    return held_for(conn, row, record, callback_url)


def _alone(records: Sequence[SubmitRecord]) -> list[bool]:
    """Per record, whether no other of *records* has its Msg_Id (a shared one is not remembered)."""
    if len(records) == 1:
        return [True]
    shared = Counter(r.msg_id for r in records)
    return [shared[r.msg_id] == 1 for r in records]


def _submitted_many(
    conn: Tx, records: Sequence[SubmitRecord], callback_url: str | None = None
) -> list[ReportOutcome]:
    return [
        outcome
        for record, alone in zip(records, _alone(records), strict=True)
        for outcome in _submitted(conn, record, alone, callback_url)
    ]


def _submitted_run(tx: Tx, jobs: list[Job]) -> list[list[ReportOutcome]]:
    """Consecutive :func:`_submitted` and :func:`_submitted_many` jobs, statements shared.

    The records whose hint holds get one UPDATE together and their messages
    one count of segments (read before the UPDATE, then moved record by
    record in order); the others take the long way in their place in the
    order; if any hint is stale, all do.  Whether a report is held is looked
    up once, first, so every record of the run sees the same answer.
    """
    calls: list[tuple[list[tuple[SubmitRecord, bool]], str | None]] = []
    for fn, args in jobs:
        if fn is _submitted_many:
            many: list[SubmitRecord] = list(args[0])
            calls.append((list(zip(many, _alone(many), strict=True)), _arg(args, 1)))
        else:
            calls.append(([(args[0], bool(_arg(args, 1, True)))], _arg(args, 2)))
    tx.dialect.lock_msg_ids(
        tx, [record.msg_id for pairs, _ in calls for record, _ in pairs if record.result == 0]
    )
    if tx.held is None:
        tx.held = bool(tx.execute("SELECT EXISTS (SELECT 1 FROM held_reports)").fetchone()[0])
    hints: list[list[tuple[SegmentRow, bool] | None]] = [
        [_hint(tx, record) for record, _ in pairs] for pairs, _ in calls
    ]
    hinted = [
        _hinted_params(hint[0], record)
        for (pairs, _), call_hints in zip(calls, hints, strict=True)
        for (record, _), hint in zip(pairs, call_hints, strict=True)
        if hint is not None
    ]
    if hinted:
        load_counts(tx, [seq for _, _, _, seq in hinted])
        if not update_each(tx, _HINTED_UPDATE, hinted):
            hints = [[None] * len(pairs) for pairs, _ in calls]
    results = []
    for (pairs, callback_url), call_hints in zip(calls, hints, strict=True):
        outcomes: list[ReportOutcome] = []
        for (record, alone), hint in zip(pairs, call_hints, strict=True):
            if hint is not None:
                outcomes += _hinted_done(tx, record, *hint, alone, callback_url)
            else:
                outcomes += _unhinted(tx, record, callback_url)
        results.append(outcomes)
    return results


def _arg(args: tuple[Any, ...], i: int, default: Any = None) -> Any:
    return args[i] if len(args) > i else default


runs_together(_submitted_run, _submitted, _submitted_many)


def _segment_failed(conn: Tx, key: SegmentKey, reason: str, now: float) -> None:
    row = find_segment(conn, key)
    if row.state is SegmentState.FAILED:
        return
    if row.state not in (SegmentState.QUEUED, SegmentState.SUBMITTING):
        raise InvalidTransition(f"{key}: cannot fail a {row.state} segment")
    conn.execute(
        "UPDATE segments SET state = 'failed', error = ?, submitted_at = ? WHERE id = ?",
        (reason, now, row.id),
    )
    moved(conn, row.message_seq, [(row.state, SegmentState.FAILED)])
    save_status(conn, row.message_seq)


def _requeue_submitting(conn: Tx) -> int:
    """This node's claims back to the queue (SQLite: every claim, there is one node)."""
    return _requeue(conn, "s.claimed_by IS ?", conn.dialect.node)


def _reclaim_stale(conn: Tx, older_than: float) -> int:
    """Every node's claims made before *older_than* back to the queue (the visibility timeout)."""
    return _requeue(conn, "s.claimed_at < ?", older_than)


def _requeue(conn: Tx, where: str, param: Any) -> int:
    """The ``submitting`` segments *where* selects back to ``queued``; how many."""
    sql = f"FROM segments s WHERE s.state = 'submitting' AND {where}"
    lock = conn.dialect.lock("s")
    rows = conn.execute(f"SELECT s.id, s.message_seq {sql}{lock}", (param,))
    seqs = {seq for _, seq in rows}
    count = conn.execute(f"UPDATE segments SET state = 'queued' WHERE id IN (SELECT id {sql})",
                         (param,)).rowcount  # fmt: skip
    refresh_status(conn, seqs)
    return int(count)


def _queue_depth(conn: Conn) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM segments WHERE state = 'queued'").fetchone()[0])
