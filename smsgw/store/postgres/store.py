"""The :class:`PostgresStore` (reactor thread): SQLite's batcher and jobs on a PostgreSQL link."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from zope.interface import implementer

from smsgw.store.interface import IClusterStore
from smsgw.store.model import CallbackAttempt
from smsgw.store.postgres.link import ClusterHot, Link, PostgresDialect, run_pg_batch
from smsgw.store.postgres.schema import migrate
from smsgw.store.sqlite.batch import Tx
from smsgw.store.sqlite.inbound import _CALLBACK, _callback
from smsgw.store.sqlite.runners import _ThreadRunner
from smsgw.store.sqlite.segments import _reclaim_stale
from smsgw.store.sqlite.store import SqlStore

__all__ = ["PostgresStore"]


def _lease_callbacks(tx: Tx, now: float, limit: int, until: float) -> list[CallbackAttempt]:
    """The pushes due at *now*, each leased to this node until *until* (``next_at`` moved there).

    Rows a peer is leasing are passed over (``SKIP LOCKED``), so two nodes
    never push the same callback at once; one whose node dies mid-push is
    due again at *until* (at least once).  They are returned as they were
    (their ``next_at`` before the lease).
    """
    rows = tx.execute(
        f"{_CALLBACK} WHERE state = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?"
        + tx.dialect.lock("callbacks", skip=True),
        (now, max(limit, 0)),
    ).fetchall()
    tx.executemany("UPDATE callbacks SET next_at = ? WHERE id = ?", [(until, r[0]) for r in rows])
    return [_callback(row) for row in rows]


@implementer(IClusterStore)
class PostgresStore(SqlStore):
    """:class:`~smsgw.store.interface.IMessageStore` on a PostgreSQL database several nodes share.

    Create it with :meth:`open`.  Every call is a job of the SQLite store's
    (:mod:`smsgw.store.sqlite`), batched as there and run on one connection
    in a database thread; :mod:`smsgw.store.postgres.link` says how the
    same statements stay right with several nodes writing.

    :ivar node: this process's node name, recorded with its claims.
    :ivar callback_lease_s: how long a callback handed out by
        :meth:`due_callbacks` is kept from the other nodes (longer than a
        push takes, timeout included).
    """

    callback_lease_s = 60.0

    def __init__(self, runner: _ThreadRunner, reactor: Any, *, node: str, **kwargs: Any) -> None:
        super().__init__(runner, reactor, **kwargs)
        self.node = node

    @classmethod
    def open(
        cls,
        url: str,
        reactor: Any = None,
        *,
        node: str,
        batch_window_s: float = 0.002,
        max_batch: int = 512,
    ) -> Deferred[PostgresStore]:
        """Connect to the database at *url* (``postgresql://user@host:port/db``) and migrate it.

        Fires once the schema is current; fails with
        :class:`~smsgw.store.interface.SchemaTooNew` for a database written
        by a newer smsgw, :class:`~smsgw.store.interface.StoreUnavailable`
        when PostgreSQL cannot be reached.

        :param node: this process's node name, the same after a restart
            (:meth:`requeue_submitting` takes back that node's claims).
        """
        if not node:
            raise ValueError("a PostgreSQL store needs a node name")
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if reactor is None:
            from twisted.internet import reactor as global_reactor

            reactor = global_reactor
        link = Link(url, reactor, PostgresDialect(node))
        runner = _ThreadRunner(link, reactor, max_batch, run_pg_batch, ClusterHot())
        now = reactor.seconds()

        def migrated(versions: tuple[int, int]) -> PostgresStore:
            before, after = versions
            if before != after:
                cls.log.info("store postgresql: schema {old} -> {new}", old=before, new=after)
            return cls(
                runner, reactor, node=node, batch_window_s=batch_window_s, max_batch=max_batch
            )

        def failed(failure: Failure) -> Failure:
            link.close()
            return failure

        d: Deferred[tuple[int, int]] = link.runWithConnection(
            lambda link: migrate(link.connection().raw, now)
        )
        return d.addCallbacks(migrated, failed)

    def due_callbacks(self, now: float, limit: int) -> Deferred[list[CallbackAttempt]]:
        """Pending pushes due at *now*, each leased to this node for :attr:`callback_lease_s`."""
        return self._submit(_lease_callbacks, now, limit, now + self.callback_lease_s)

    def reclaim_stale(self, older_than: float) -> Deferred[int]:
        """Every node's claims made before *older_than* back to the queue; how many."""
        return self._submit(_reclaim_stale, older_than)
