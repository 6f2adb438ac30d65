"""Inbound items (MOs and reports for the application), templates and callback pushes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from smsgw.store.interface import (
    InvalidTransition,
    TemplateExists,
    UnknownCallback,
)
from smsgw.store.model import (
    CallbackAttempt,
    CallbackState,
    Inbound,
    InboundKind,
    MoGroup,
    MoPart,
    Template,
    TemplateEngine,
)
from smsgw.store.sqlite.connection import Conn

if TYPE_CHECKING:
    from smsgw.store.sqlite.batch import Tx


def put_inbound(conn: Conn, item: Inbound, callback_url: str | None = None) -> int | None:
    """Insert *item* (unless a repeat) and, with *callback_url*, its push of the same JSON."""
    conn.dialect.adding_inbound(conn)
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


def put_inbound_many(conn: Conn, items: list[tuple[Inbound, str | None]]) -> None:
    """:func:`put_inbound` of each ``(item, callback_url)`` in order, one INSERT per table.

    For items without a ``dedup_key`` (reports): nothing is looked up first.
    """
    rows = [
        (item, json.dumps(dict(item.fields), ensure_ascii=False, separators=(",", ":")), url)
        for item, url in items
    ]
    if not rows:
        return
    conn.dialect.adding_inbound(conn)
    conn.executemany(
        "INSERT INTO inbound (kind, channel, fields, created_at, dedup_key) VALUES (?, ?, ?, ?, ?)",
        [
            (str(item.kind), item.channel, fields, item.created_at, item.dedup_key)
            for item, fields, _ in rows
        ],
    )
    pushes = [
        (str(item.kind), url, fields, str(CallbackState.PENDING), item.created_at)
        for item, fields, url in rows
        if url is not None
    ]
    if pushes:
        conn.executemany(
            "INSERT INTO callbacks (kind, url, payload, state, next_at) VALUES (?, ?, ?, ?, ?)",
            pushes,
        )


def put_inbound_of_parts(
    conn: Conn, item: Inbound, callback_url: str | None, parts: MoGroup
) -> int | None:
    """Delete the held parts of the long MO *parts* and, if there were any, :func:`put_inbound`.

    The parts are the item's ticket: on PostgreSQL a second node deleting the
    same rows waits for the first one's row locks and, once it committed,
    finds nothing (READ COMMITTED re-reads the rows), so adds nothing.
    """
    # The inbound lock before the rows' locks, as every adding transaction takes them:
    # a reader queued for the inbound lock then never closes a cycle with us.
    conn.dialect.adding_inbound(conn)
    deleted = conn.execute(
        f"DELETE FROM mo_parts WHERE {_GROUP}",
        (parts.channel, parts.sender, parts.to, parts.reference, parts.total),
    ).rowcount
    if not deleted:
        return None
    return put_inbound(conn, item, callback_url)


def add_mo_part(conn: Conn, part: MoPart) -> bool:
    """Hold *part* unless that number of its group is held already."""
    group = part.group
    cursor = conn.execute(
        "INSERT OR IGNORE INTO mo_parts (channel, sender, dest, reference, total, number,"
        " content, tp_udhi, msg_fmt, msg_id, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (group.channel, group.sender, group.to, group.reference, group.total, part.number,
         part.content, part.tp_udhi, part.msg_fmt, part.msg_id, part.received_at),
    )  # fmt: skip
    return bool(cursor.rowcount == 1)


_GROUP = "channel = ? AND sender = ? AND dest = ? AND reference = ? AND total = ?"
_PARTS = (
    "SELECT channel, sender, dest, reference, total, number, content, tp_udhi, msg_fmt,"
    " msg_id, received_at FROM mo_parts"
)


def mo_parts(conn: Conn) -> list[MoPart]:
    """Every held part, in the order received."""
    return _mo_parts(conn.execute(f"{_PARTS} ORDER BY received_at, rowid").fetchall())


def mo_group_parts(conn: Conn, group: MoGroup) -> list[MoPart]:
    """The held parts of *group*, in the order received."""
    rows = conn.execute(
        f"{_PARTS} WHERE {_GROUP} ORDER BY received_at, rowid",
        (group.channel, group.sender, group.to, group.reference, group.total),
    ).fetchall()
    return _mo_parts(rows)


def _mo_parts(rows: list[Any]) -> list[MoPart]:
    return [
        MoPart(MoGroup(channel, sender, dest, reference, total), number, bytes(content), tp_udhi,
               msg_fmt, received_at, msg_id)
        for (channel, sender, dest, reference, total, number, content, tp_udhi, msg_fmt, msg_id,
             received_at) in rows
    ]  # fmt: skip


def _fetch_inbound(conn: Tx, limit: int) -> list[Inbound]:
    dialect = conn.dialect
    rows = conn.execute(
        "SELECT id, kind, channel, fields, created_at, dedup_key FROM inbound"
        " WHERE fetched = 0 ORDER BY id LIMIT ?" + dialect.lock("inbound", skip=True),
        (max(limit, 0),),
    ).fetchall()
    if rows and dialect.concurrent:
        # A peer may be taking the rows we skipped, or commit an item with a smaller
        # id later: mark exactly ours.
        conn.executemany("UPDATE inbound SET fetched = 1 WHERE id = ?", [(r[0],) for r in rows])
    elif rows:
        # The rows are the first unfetched ones by id, read in this transaction: one range
        # UPDATE marks exactly them.
        conn.execute("UPDATE inbound SET fetched = 1 WHERE fetched = 0 AND id <= ?", (rows[-1][0],))
    return [
        Inbound(InboundKind(kind), channel, json.loads(fields), created_at, dedup_key, item_id)
        for item_id, kind, channel, fields, created_at, dedup_key in rows
    ]


def _list_inbound(conn: Tx, after: int, limit: int) -> list[Inbound]:
    conn.dialect.reading_inbound(conn)
    rows = conn.execute(
        "SELECT id, kind, channel, fields, created_at, dedup_key FROM inbound"
        " WHERE id > ? ORDER BY id LIMIT ?",
        (after, max(limit, 0)),
    ).fetchall()
    return [
        Inbound(InboundKind(kind), channel, json.loads(fields), created_at, dedup_key, item_id)
        for item_id, kind, channel, fields, created_at, dedup_key in rows
    ]


def _ack_inbound(conn: Tx, through: int) -> int:
    conn.dialect.reading_inbound(conn)
    cursor = conn.execute(
        "UPDATE inbound SET fetched = 1 WHERE fetched = 0 AND id <= ?", (through,)
    )
    return int(cursor.rowcount)


def _template(row: tuple[Any, ...]) -> Template:
    name, engine, body, created_at, updated_at = row
    return Template(name, TemplateEngine(engine), body, created_at, updated_at)


_TEMPLATE = "SELECT name, engine, body, created_at, updated_at FROM templates"


def _put_template(conn: Conn, template: Template, replace: bool) -> bool:
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


def _get_template(conn: Conn, name: str) -> Template | None:
    row = conn.execute(f"{_TEMPLATE} WHERE name = ?", (name,)).fetchone()
    return None if row is None else _template(row)


def _list_templates(conn: Conn) -> list[Template]:
    return [_template(row) for row in conn.execute(f"{_TEMPLATE} ORDER BY name")]


def _delete_template(conn: Conn, name: str) -> bool:
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


def _add_callback(conn: Conn, kind: InboundKind, url: str, payload: str, next_at: float) -> int:
    cursor = conn.execute(
        "INSERT INTO callbacks (kind, url, payload, state, next_at) VALUES (?, ?, ?, ?, ?)",
        (str(kind), url, payload, str(CallbackState.PENDING), next_at),
    )
    return int(cursor.lastrowid)


def _get_callback(conn: Conn, callback_id: int) -> CallbackAttempt | None:
    row = conn.execute(f"{_CALLBACK} WHERE id = ?", (callback_id,)).fetchone()
    return None if row is None else _callback(row)


def _due_callbacks(conn: Conn, now: float, limit: int) -> list[CallbackAttempt]:
    return [
        _callback(row)
        for row in conn.execute(
            f"{_CALLBACK} WHERE state = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?",
            (now, max(limit, 0)),
        )
    ]


def _pending_callback(conn: Conn, callback_id: int) -> CallbackAttempt:
    callback = _get_callback(conn, callback_id)
    if callback is None:
        raise UnknownCallback(callback_id)
    if callback.state is not CallbackState.PENDING:
        raise InvalidTransition(f"callback {callback_id} is {callback.state}")
    return callback


def _callback_done(conn: Conn, callback_id: int, now: float) -> None:
    _pending_callback(conn, callback_id)
    conn.execute(
        "UPDATE callbacks SET state = 'done', attempts = attempts + 1, next_at = NULL,"
        " done_at = ? WHERE id = ?",
        (now, callback_id),
    )


def _callback_failed(conn: Conn, callback_id: int, error: str, next_at: float | None) -> None:
    _pending_callback(conn, callback_id)
    state = CallbackState.PENDING if next_at is not None else CallbackState.FAILED
    conn.execute(
        "UPDATE callbacks SET state = ?, attempts = attempts + 1, next_at = ?, last_error = ?"
        " WHERE id = ?",
        (str(state), next_at, error, callback_id),
    )


def _query(conn: Conn, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Every row of one statement (for diagnostics and tests: a job that pickles)."""
    return [tuple(row) for row in conn.execute(sql, params).fetchall()]
