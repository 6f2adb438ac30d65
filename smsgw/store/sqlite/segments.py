"""Messages, segments and claims: adding messages, the send queue, SUBMIT_RESPs."""

from __future__ import annotations

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
from smsgw.store.sqlite.batch import Tx, moved, refresh_status, save_status
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
        + SEGMENT_COLUMNS
        + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (seq, r.channel, due_at, i, *segment_values(s))
            for i, r in enumerate(message.recipients)
            for s in r.segments
        ],
    )


def _add_messages(conn: Conn, messages: Sequence[Message]) -> None:
    for message in messages:
        _add_message(conn, message)


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


def _claim_due(conn: Tx, now: float, limit: int, channel: str | None) -> list[SegmentWork]:
    params = (now, max(limit, 0)) if channel is None else (now, channel, max(limit, 0))
    rows = conn.execute(claim_query(channel is not None), params).fetchall()
    conn.executemany(
        "UPDATE segments SET state = 'submitting', attempts = attempts + 1 WHERE id = ?",
        [(row[0],) for row in rows],
    )
    claimed = Counter(row[1] for row in rows)
    for seq, n in claimed.items():
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


def _submitted(
    conn: Tx, record: SubmitRecord, alone: bool = True, callback_url: str | None = None
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
        moved(conn, row.message_seq, [(SegmentState.SUBMITTING, SegmentState.SUBMITTED)])
        save_status(conn, row.message_seq)
        if conn.held is None:
            conn.held = bool(
                conn.execute("SELECT EXISTS (SELECT 1 FROM held_reports)").fetchone()[0]
            )
        if conn.held:
            hot.awaiting.pop((row.channel, record.msg_id), None)
            return held_for(conn, row, record, callback_url)
        # A segment that wants no report is never looked up by Msg_Id: not remembered.
        hot.submitted(row, record.msg_id, alone and report)
        return []
    row = find_segment(conn, record.key)
    if record.msg_id is not None:
        hot.awaiting.pop((row.channel, record.msg_id), None)
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


def _submitted_many(
    conn: Tx, records: Sequence[SubmitRecord], callback_url: str | None = None
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
    seqs = {
        seq
        for (seq,) in conn.execute(
            "SELECT DISTINCT message_seq FROM segments WHERE state = 'submitting'"
        )
    }
    count = conn.execute("UPDATE segments SET state = 'queued' WHERE state = 'submitting'").rowcount
    refresh_status(conn, seqs)
    return int(count)


def _queue_depth(conn: Conn) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM segments WHERE state = 'queued'").fetchone()[0])
