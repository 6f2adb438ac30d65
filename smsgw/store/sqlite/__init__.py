"""The SQLite :class:`~smsgw.store.interface.IMessageStore`, the gateway's default store.

One database file (default ``smsgw.sqlite3``) in WAL mode, with exactly one
connection that does every read and write, in call order, so there is no
lock contention inside the gateway and no ``database is locked`` between
our own calls.  That connection lives either

* on a database thread (``twisted.enterprise.adbapi``, a pool of one; the
  default of :meth:`SqliteStore.open`), or
* in a database process of its own (``process=True``, :mod:`smsgw.store.writer`;
  the SP role's default), which the jobs reach pickled through a pipe.  It
  costs the pickling; in exchange the reactor and SQLite stop sharing one
  GIL (a database thread gives it up around every statement and must win
  it back from the reactor thread) and can each use a core.  Measured on
  two shared cores: 4-8 % more messages a second (docs/benchmarks.md,
  issue 4).

**Durability.**  ``PRAGMA synchronous=FULL``: in WAL mode every COMMIT
fsyncs the WAL, so a transaction that committed survives a power cut or an
OS crash, not only a process kill.  ``NORMAL`` would only guarantee the
latter; since "accepted means written" (README, Durability) is the product's
promise and the Deferred of :meth:`~SqliteStore.add_message` is what the
HTTP API waits for before it answers, we pay one fsync per commit and win
it back by batching.

**Batching (group commit).**  Every call becomes a job on one queue.  Jobs
made within :attr:`~SqliteStore.batch_window_s` of the first one (or while
the previous batch is committing) run together in ONE transaction, as if
each had its own (see :func:`~smsgw.store.sqlite.batch.run_batch`), so one
job's error undoes only that job; then the batch commits (one fsync) and
only then do the jobs' Deferreds fire.
``add_messages`` and ``segment_submitted_many`` are single jobs, hence all
or nothing.  Reads go through the same queue, so they see every earlier
call's effect.  Consecutive jobs of one kind (adding messages, recording
SUBMIT_RESPs, recording reports) run as one call that shares their
statements: one ``executemany`` UPDATE for a run of reports, one INSERT of
their inbound items and one of their pushes, rather than a few statements
each (:func:`~smsgw.store.sqlite.batch.runs_together`); they give what the
jobs one by one would, and when one of them fails the batch runs again one
job at a time.  The database thread or process goes from one batch straight
to the next (the calls handed to it meanwhile) without waiting for the
reactor thread, which only fires the results.

**Message status.**  ``messages.status`` is :func:`~smsgw.store.model.derive_status`
of the message's segments, kept in step by every write.  Within a batch the
segments' per-state counts of each touched message are read once (one
``GROUP BY``, for all of a run's messages together) and then updated as
segments change state, and a job's new statuses are written by one
``executemany`` when it ends, so a report or a SUBMIT_RESP costs the same
whatever the message's size.

Times are stored as REAL POSIX seconds, enums as their text, message
content as BLOB, inbound fields and callback payloads as JSON text.

**Modules.**  :mod:`~smsgw.store.sqlite.connection` (the file and its
pragmas; the schema is :mod:`smsgw.store.migrations`),
:mod:`~smsgw.store.sqlite.batch` (transactions of many jobs, the segment
counts behind ``messages.status``, the hints; the API the database process
uses), :mod:`~smsgw.store.sqlite.rows` (reading and writing rows),
:mod:`~smsgw.store.sqlite.segments` (messages, claims, SUBMIT_RESPs),
:mod:`~smsgw.store.sqlite.reports` (report matching, held reports, expiry),
:mod:`~smsgw.store.sqlite.inbound` (inbound items, templates, callback
pushes), :mod:`~smsgw.store.sqlite.runners` (the database thread and
process), :mod:`~smsgw.store.sqlite.dialect` (what the jobs ask of the
database they run on: SQLite's answers) and :mod:`~smsgw.store.sqlite.store`
(``SqlStore``: the batcher and the API; :class:`SqliteStore` opens the
file).  Job functions are module-level, so the database process gets them
pickled by name.

The job functions, the batching and the database thread are also
:class:`~smsgw.store.postgres.PostgresStore`'s: it runs them on PostgreSQL
through a translating connection and a dialect of its own.
"""

from __future__ import annotations

from smsgw.store.sqlite.connection import DEFAULT_PATH
from smsgw.store.sqlite.store import SqliteStore

__all__ = ["DEFAULT_PATH", "SqliteStore"]
