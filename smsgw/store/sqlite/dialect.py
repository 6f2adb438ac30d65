"""Where the job functions' SQL depends on the database: SQLite's answers (the default).

The job functions of this package (segments, reports, inbound items, rows)
run on SQLite and, through :mod:`smsgw.store.postgres`, on PostgreSQL.
The statements are written once, in SQLite's dialect (the PostgreSQL
connection translates ``?`` and a few forms); what differs in *behaviour*
is asked of the transaction's :class:`Dialect`.

SQLite has one writer at a time (``BEGIN IMMEDIATE`` takes the database's
write lock), so none of the locks PostgreSQL needs between several nodes
is needed here: every hook is a no-op and every suffix empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smsgw.store.sqlite.batch import Tx

__all__ = ["SQLITE", "Dialect"]


class Dialect:
    """SQLite's behaviour; :class:`smsgw.store.postgres.dialect.PostgresDialect` overrides it.

    :ivar node: the process's node name, recorded with each claim
        (``segments.claimed_by``); None for a store of one process.
    :ivar concurrent: other processes write the same database at the same time.
    """

    node: str | None = None
    concurrent = False

    def lock(self, table: str, skip: bool = False) -> str:
        """What ends a SELECT whose rows of *table* (a name or alias) the job writes next.

        PostgreSQL: ``FOR UPDATE OF table`` (a peer's change cannot slip in
        between), with *skip* ``SKIP LOCKED`` (a claim passes over the rows
        a peer is taking rather than waiting for them).
        """
        return ""

    def lock_messages(self, tx: Tx, seqs: Sequence[int]) -> None:
        """Lock the message rows *seqs* (in ``seq`` order) before their segments are counted."""

    def lock_msg_ids(self, tx: Tx, msg_ids: Iterable[str | None]) -> None:
        """Serialise this transaction with others recording a report or SUBMIT_RESP of *msg_ids*."""

    def lock_reported(self, tx: Tx, ids: Sequence[tuple[str, str]]) -> None:
        """Before reports of these ``(channel, msg_id)`` are matched: lock their messages."""

    def adding_inbound(self, tx: Tx) -> None:
        """Before inserting inbound items: no reader of them by id may be reading now."""

    def reading_inbound(self, tx: Tx) -> None:
        """Before reading or acknowledging inbound items by id: every item being added is in.

        So a cursor (``list_inbound(after=)``, ``ack_inbound(through=)``)
        never passes over an item whose smaller id commits later.
        """

    def next_seqs(self, tx: Tx, n: int) -> list[int]:
        """*n* new ``messages.seq`` values, ascending (SQLite: after the largest)."""
        (last,) = tx.execute("SELECT MAX(seq) FROM messages").fetchone()
        first = (last or 0) + 1
        return list(range(first, first + n))

    def escapes(self, error: Exception) -> bool:
        """Whether *error* ends the whole batch (it is retried or fails every call in it)."""
        return False


#: The dialect of :class:`~smsgw.store.sqlite.SqliteStore` and of the database process.
SQLITE = Dialect()
