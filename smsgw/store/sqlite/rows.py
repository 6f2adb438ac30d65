"""Reading and writing the store's rows: segments, whole messages, the write paths' segment row."""

from __future__ import annotations

import sqlite3
from typing import Any

import attrs

from smsgw.store.interface import (
    UnknownSegment,
)
from smsgw.store.model import (
    Message,
    Mode,
    Recipient,
    Segment,
    SegmentKey,
    SegmentState,
)
from smsgw.store.sqlite.connection import Conn

SEGMENT_COLUMNS = (
    "recipient, pk_number, pk_total, content, msg_fmt, tp_udhi, state, result, msg_id,"
    " stat, error, attempts, submitted_at, done_at, reported_at"
)


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


def load_message(conn: Conn, where: str, *params: Any) -> Message | None:
    """The message the SQL condition *where* selects, with its recipients and segments."""
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
        f"SELECT {SEGMENT_COLUMNS} FROM segments WHERE message_seq = ?"
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


@attrs.frozen
class SegmentRow:
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


SEGMENT_ROW = (
    "SELECT s.id, s.message_seq, m.id, s.recipient, s.pk_number, s.state, s.result, s.msg_id,"
    " s.stat, s.channel, r.dest, s.pk_total, m.external_id"
    " FROM segments s JOIN messages m ON m.seq = s.message_seq"
    " JOIN recipients r ON r.message_seq = s.message_seq AND r.idx = s.recipient"
)


def segment_row(row: tuple[Any, ...]) -> SegmentRow:
    """A :class:`SegmentRow` from a row of ``SEGMENT_ROW``."""
    (sid, seq, message_id, recipient, pk_number, state, result, msg_id, stat, channel, to,
     pk_total, external_id) = row  # fmt: skip
    return SegmentRow(
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


def find_segment(conn: Conn, key: SegmentKey) -> SegmentRow:
    """The segment *key* names; raises :class:`UnknownSegment` when there is none.

    *conn* is a :class:`~smsgw.store.sqlite.batch.Tx`: the row is locked as its
    dialect says (the caller writes it next).
    """
    row = conn.execute(
        f"{SEGMENT_ROW} WHERE m.id = ? AND s.recipient = ? AND s.pk_number = ?"
        + conn.dialect.lock("s"),
        (key.message_id, key.recipient, key.pk_number),
    ).fetchone()
    if row is None:
        raise UnknownSegment(key)
    return segment_row(row)


def segment_values(s: Segment) -> tuple[Any, ...]:
    """A segment's values for ``SEGMENT_COLUMNS`` after ``recipient``."""
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
