"""Status reports: matching (by :func:`~smsgw.store.matching.match_report`), held reports, expiry.

A matched report's inbound item and push are written by the same job
(:func:`~smsgw.store.sqlite.inbound._put_inbound`), from
:func:`~smsgw.store.payload.report_payload`.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from smsgw.store.matching import match_report
from smsgw.store.model import (
    DELIVERED_STAT,
    Inbound,
    InboundKind,
    MessageStatus,
    ReportMatch,
    ReportOutcome,
    SegmentState,
    StatusReport,
    SubmitRecord,
)
from smsgw.store.payload import report_payload
from smsgw.store.sqlite.batch import Tx, moved, refresh_status, save_status
from smsgw.store.sqlite.connection import Conn
from smsgw.store.sqlite.inbound import put_inbound
from smsgw.store.sqlite.rows import SEGMENT_ROW, SegmentRow, segment_row


def report_query(by_dest: bool) -> str:
    """The SELECT matching a report to segments (parameters: channel, msg_id, [to]).

    Uses the ``segments_msg_id`` index; public for the query-plan test.
    """
    dest = " AND r.dest = ?" if by_dest else ""
    return (
        f"{SEGMENT_ROW} WHERE s.channel = ? AND s.msg_id = ? AND s.state != 'failed'{dest}"
        " ORDER BY s.id"
    )


def _apply_report(
    conn: Tx,
    rows: Sequence[SegmentRow],
    report: StatusReport,
    now: float,
    callback_url: str | None,
    *,
    updated: bool = False,
) -> ReportOutcome:
    """Set *report* on *rows* (one message); one inbound ``report`` item (and push) each.

    Reads nothing of the message beyond *rows*: its status comes from the
    transaction's segment counts (:func:`moved`).  *updated*: the caller
    has already written the report into the rows.
    """
    state = SegmentState.DELIVERED if report.delivered else SegmentState.UNDELIVERED
    if not updated:
        conn.executemany(
            "UPDATE segments SET state = ?, stat = ?, done_at = ?, reported_at = ? WHERE id = ?",
            [(str(state), report.stat, report.done_at, report.received_at, row.id) for row in rows],
        )
    seq = rows[0].message_seq
    moved(conn, seq, [(row.state, state) for row in rows])
    status = save_status(conn, seq)
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
        put_inbound(conn, Inbound(InboundKind.REPORT, report.channel, fields, now), callback_url)
    return ReportOutcome(
        ReportMatch.MATCHED,
        report.channel,
        report.msg_id,
        report.stat,
        rows[0].key.message_id,
        [row.key for row in rows],
        status,
    )


def held_for(
    conn: Tx, row: SegmentRow, record: SubmitRecord, callback_url: str | None
) -> list[ReportOutcome]:
    """Apply the report that overtook this SUBMIT_RESP (Result 0, a msg_id), if one is held."""
    assert record.msg_id is not None
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


def _record_report(conn: Tx, report: StatusReport, callback_url: str | None) -> ReportOutcome:
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
    rows = [segment_row(r) for r in conn.execute(report_query(to is not None), params)]
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


def _drop_held_reports(conn: Conn, older_than: float) -> int:
    return int(
        conn.execute("DELETE FROM held_reports WHERE received_at < ?", (older_than,)).rowcount
    )


def _expire_reports(conn: Tx, older_than: float) -> int:
    rows = conn.execute(
        "SELECT s.id, s.message_seq FROM segments s JOIN messages m ON m.seq = s.message_seq"
        " WHERE s.state = 'submitted' AND s.stat IS NULL AND s.submitted_at < ?"
        " AND m.report = 1",
        (older_than,),
    ).fetchall()
    conn.executemany(
        "UPDATE segments SET state = 'expired' WHERE id = ?", [(sid,) for sid, _ in rows]
    )
    refresh_status(conn, {seq for _, seq in rows})
    return len(rows)
