"""The PostgreSQL :class:`~smsgw.store.interface.IMessageStore`, for several SP nodes.

Several ``--role=sp`` processes (nodes) share one database: any node
accepts a message, any node with a carrier session claims and sends it, a
report arriving on any node finds its segment, and a node killed with
``kill -9`` leaves nothing its peers cannot finish (its claims go back to
the queue after the visibility timeout, :meth:`PostgresStore.reclaim_stale`).

**The same jobs as SQLite.**  Every call is the job function the SQLite
store runs (:mod:`smsgw.store.sqlite`: segments, reports, inbound items,
rows), batched the same way (several calls in one transaction, each in its
own SAVEPOINT only when one fails).  :mod:`~smsgw.store.postgres.link`
translates their statements for psycopg 3 and gives them
:class:`~smsgw.store.postgres.link.PostgresDialect`, whose locks keep them
right with several writers at once (READ COMMITTED): claims ``FOR UPDATE
SKIP LOCKED`` recording the node and the time, the rows a job writes
locked as it reads them, a message row locked (in ``seq`` order) while its
status is counted, one advisory lock per Msg_Id shared by SUBMIT_RESPs
and reports.  A deadlock or a serialization failure runs the batch again.

**A database thread.**  One connection on a thread of its own, in
autocommit mode with the jobs' own BEGIN/COMMIT (``synchronous_commit``
on: a Deferred fires after a durable COMMIT), results fired on the reactor
thread.  psycopg's blocking API on one thread keeps the batching and the
job functions exactly SQLite's; an asynchronous driver would need a second
copy of every job.  A lost connection fails the calls in flight with
:class:`~smsgw.store.interface.StoreUnavailable`; the next call connects
again.

**Modules.**  :mod:`~smsgw.store.postgres.schema` (the migrations, SQLite's
version numbers), :mod:`~smsgw.store.postgres.link` (the connection, the
dialect, the thread, retries) and :mod:`~smsgw.store.postgres.store`
(:class:`PostgresStore`: opening, callback leases, reclaiming).
"""

from __future__ import annotations

from smsgw.store.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
