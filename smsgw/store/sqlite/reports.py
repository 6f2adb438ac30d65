"""Status reports: matching (by :func:`~smsgw.store.matching.match_report`), held reports, expiry.

A matched report's inbound item and push are written by the same job
(:func:`~smsgw.store.sqlite.inbound.put_inbound`), from
:func:`~smsgw.store.payload.report_payload`.  Consecutive reports in a
batch run together (:func:`_record_reports`): one UPDATE of their segments,
one INSERT of their items and one of their pushes.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

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
from smsgw.store.sqlite.batch import (
    Job,
    Tx,
    flush_status,
    load_counts,
    moved,
    refresh_status,
    runs_together,
    save_status,
    update_each,
)
from smsgw.store.sqlite.connection import Conn
from smsgw.store.sqlite.inbound import put_inbound, put_inbound_many
from smsgw.store.sqlite.rows import SEGMENT_ROW, SegmentRow, segment_row


@functools.cache
def report_query(by_dest: bool, lock: str = "") -> str:
    """The SELECT matching a report to segments (parameters: channel, msg_id, [to]).

    Uses the ``segments_msg_id`` index; public for the query-plan test.
    *lock* ends it (the dialect's :meth:`~smsgw.store.sqlite.dialect.Dialect.lock`).
    """
    dest = " AND r.dest = ?" if by_dest else ""
    return (
        f"{SEGMENT_ROW} WHERE s.channel = ? AND s.msg_id = ? AND s.state != 'failed'{dest}"
        f" ORDER BY s.id{lock}"
    )


def _apply_report(
    conn: Tx,
    rows: Sequence[SegmentRow],
    report: StatusReport,
    now: float,
    callback_url: str | None,
    *,
    updated: bool = False,
    items: list[tuple[Inbound, str | None]] | None = None,
) -> ReportOutcome:
    """Set *report* on *rows* (one message); one inbound ``report`` item (and push) each.

    Reads nothing of the message beyond *rows*: its status comes from the
    transaction's segment counts (:func:`moved`).  *updated*: the caller
    has already written the report into the rows.  *items*: where to put
    the items and their push URLs for the caller to insert, instead of
    inserting them here.
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
        item = Inbound(InboundKind.REPORT, report.channel, fields, now)
        if items is None:
            put_inbound(conn, item, callback_url)
        else:
            items.append((item, callback_url))
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


#: The UPDATE of a report's segment found by the hint (:attr:`Hot.awaiting`): it checks
#: that the row is still the one submitted under that Msg_Id and not reported yet.
_HINTED_UPDATE = (
    "UPDATE segments SET state = ?, stat = ?, done_at = ?, reported_at = ?"
    " WHERE id = ? AND message_seq = ? AND channel = ? AND msg_id = ?"
    " AND state = 'submitted' AND stat IS NULL"
)


def _hinted(tx: Tx, report: StatusReport) -> SegmentRow | None:
    """The segment the hint says *report* is for (the hint is used up), or None."""
    row = tx.hot.awaiting.pop((report.channel, report.msg_id), None)
    if row is not None and (report.to is None or report.to == row.to):
        return row
    return None


def _hinted_params(row: SegmentRow, report: StatusReport) -> tuple[Any, ...]:
    state = SegmentState.DELIVERED if report.delivered else SegmentState.UNDELIVERED
    return (str(state), report.stat, report.done_at, report.received_at, row.id,
            row.message_seq, row.channel, report.msg_id)  # fmt: skip


def _record_report(conn: Tx, report: StatusReport, callback_url: str | None) -> ReportOutcome:
    conn.dialect.lock_msg_ids(conn, [report.msg_id])
    conn.dialect.lock_reported(conn, [(report.channel, report.msg_id)])
    row = _hinted(conn, report)
    # The hint: the one segment under this id, of its newest message, awaiting a
    # report (what match_report would pick), if the UPDATE still finds it so.
    if row is not None and conn.execute(_HINTED_UPDATE, _hinted_params(row, report)).rowcount == 1:
        return _apply_report(conn, [row], report, report.received_at, callback_url, updated=True)
    return _matched_report(conn, report, callback_url)


def _record_reports(tx: Tx, jobs: list[Job]) -> list[ReportOutcome]:
    """Consecutive :func:`_record_report` jobs, with their statements shared.

    The reports whose hint holds get one UPDATE together, their messages
    one count of segments, and all the items and pushes one INSERT each (in
    the reports' order, so the items' ids are what one by one gives).  A
    report with no hint (or if any hint is stale) takes the long way, in its
    place in the order.  The segment counts are read before the UPDATE and
    moved report by report, so each outcome's message status is the one
    the reports one by one give.
    """
    reports: list[tuple[StatusReport, str | None]] = [
        (args[0], args[1] if len(args) > 1 else None) for _, args in jobs
    ]
    tx.dialect.lock_msg_ids(tx, [report.msg_id for report, _ in reports])
    tx.dialect.lock_reported(tx, [(report.channel, report.msg_id) for report, _ in reports])
    rows = [_hinted(tx, report) for report, _ in reports]
    hinted = [(row, report) for row, (report, _) in zip(rows, reports, strict=True) if row]
    if hinted:
        load_counts(tx, [row.message_seq for row, _ in hinted])
        if not update_each(tx, _HINTED_UPDATE, [_hinted_params(r, rep) for r, rep in hinted]):
            rows = [None] * len(rows)
    items: list[tuple[Inbound, str | None]] = []
    outcomes = []
    for row, (report, callback_url) in zip(rows, reports, strict=True):
        if row is not None:
            outcomes.append(
                _apply_report(
                    tx, [row], report, report.received_at, callback_url, updated=True, items=items
                )
            )
        else:
            outcomes.append(_matched_report(tx, report, callback_url, items))
    put_inbound_many(tx, items)
    return outcomes


def _matched_report(
    conn: Tx,
    report: StatusReport,
    callback_url: str | None,
    items: list[tuple[Inbound, str | None]] | None = None,
) -> ReportOutcome:
    """The long way: find the report's segments (:func:`match_report`), apply, hold or ignore."""
    channel, msg_id, to = report.channel, report.msg_id, report.to
    params = (channel, msg_id) if to is None else (channel, msg_id, to)
    query = report_query(to is not None, conn.dialect.lock("s"))
    rows = [segment_row(r) for r in conn.execute(query, params)]
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
        flush_status(conn)  # the column is read: what this batch set must be in it
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
    return _apply_report(
        conn, decision.apply, report, report.received_at, callback_url, items=items
    )


runs_together(_record_reports, _record_report)


def _drop_held_reports(conn: Conn, older_than: float) -> int:
    return int(
        conn.execute("DELETE FROM held_reports WHERE received_at < ?", (older_than,)).rowcount
    )


def _expire_reports(conn: Tx, older_than: float) -> int:
    rows = conn.execute(
        "SELECT s.id, s.message_seq FROM segments s JOIN messages m ON m.seq = s.message_seq"
        " WHERE s.state = 'submitted' AND s.stat IS NULL AND s.submitted_at < ?"
        " AND m.report = 1" + conn.dialect.lock("s"),
        (older_than,),
    ).fetchall()
    conn.executemany(
        "UPDATE segments SET state = 'expired' WHERE id = ?", [(sid,) for sid, _ in rows]
    )
    refresh_status(conn, {seq for _, seq in rows})
    return len(rows)
