"""The :class:`SqliteStore` (reactor thread): the batcher in front of a runner, and the API."""

from __future__ import annotations

import functools
import json
import sys
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import attrs
from twisted.enterprise import adbapi
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from smsgw.store.interface import (
    IMessageStore,
    StoreClosed,
)
from smsgw.store.migrations import migrate
from smsgw.store.model import (
    CallbackAttempt,
    Inbound,
    InboundKind,
    Message,
    MoGroup,
    MoPart,
    ReportOutcome,
    SegmentKey,
    SegmentWork,
    StatusReport,
    SubmitRecord,
    Template,
    validate_message,
)
from smsgw.store.sqlite.connection import DEFAULT_PATH, SYNCHRONOUS, open_connection
from smsgw.store.sqlite.inbound import (
    _ack_inbound,
    _add_callback,
    _callback_done,
    _callback_failed,
    _delete_template,
    _due_callbacks,
    _fetch_inbound,
    _get_callback,
    _get_template,
    _list_inbound,
    _list_templates,
    _put_template,
    add_mo_part,
    mo_group_parts,
    mo_parts,
    put_inbound,
    put_inbound_of_parts,
)
from smsgw.store.sqlite.reports import (
    _drop_held_reports,
    _expire_reports,
    _record_report,
)
from smsgw.store.sqlite.rows import load_message
from smsgw.store.sqlite.runners import _ProcessRunner, _ThreadRunner
from smsgw.store.sqlite.segments import (
    _add_message,
    _add_messages,
    _claim_due,
    _find_by_external_id,
    _queue_depth,
    _requeue_submitting,
    _segment_failed,
    _submitted,
    _submitted_many,
)

__all__ = ["SqlStore", "SqliteStore"]

_T = TypeVar("_T")

#: :attr:`SqlStore.busy_window_s` with a database process.
PROCESS_BUSY_WINDOW_S = 0.001


@attrs.define
class _Pending:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    deferred: Deferred[Any]


@implementer(IMessageStore)
class SqlStore:
    """:class:`IMessageStore` by jobs on a runner: the batcher and the API of the SQL stores.

    :class:`SqliteStore` and :class:`~smsgw.store.postgres.PostgresStore`
    differ in how they open their database and in their runner's
    connection; the calls, their jobs and the batching are these.

    :ivar batch_window_s: how long the first call of a batch waits for
        company before the batch runs (calls made while a batch commits
        join the next one anyway).
    :ivar busy_window_s: the same for a call made while a batch commits:
        the runner takes it only once that commit is over, so it may as
        well wait for the calls of the next turns and go over as one frame
        (a database process: a pickle and a pipe write less per turn).
    :ivar max_batch: calls per transaction at most; 1 turns batching off.
    """

    log = Logger()

    def __init__(
        self,
        runner: _ThreadRunner | _ProcessRunner,
        reactor: Any,
        *,
        batch_window_s: float = 0.002,
        busy_window_s: float = 0.0,
        max_batch: int = 512,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._runner = runner
        runner.finished = self._finished
        runner.lost = self._lost
        if isinstance(runner, _ProcessRunner):
            runner.at_shutdown = self.close
        self._reactor = reactor
        self.batch_window_s = batch_window_s
        self.busy_window_s = busy_window_s
        self.max_batch = max_batch
        #: Calls waiting for the batch window (reactor thread only).
        self._pending: list[_Pending] = []
        #: Calls handed to the runner and not answered yet, in order.
        self._sent: deque[_Pending] = deque()
        self._timer: IDelayedCall | None = None
        self._closing = False
        self._closed = False
        self._close_waiters: list[Deferred[None]] = []
        #: How many transactions ran, and how many calls they held (for tests and metrics).
        self.batches = 0
        self.batched_calls = 0

    # -- the batcher -------------------------------------------------------
    #
    # A call made while the runner is idle waits batch_window_s for company;
    # one made while it is busy waits busy_window_s (none: the end of this
    # reactor turn), with the other calls made meanwhile, and joins the
    # next transaction.

    def _submit(self, fn: Callable[..., _T], *args: Any) -> Deferred[_T]:
        if self._closing:
            return fail(StoreClosed("the store is closed"))
        d: Deferred[_T] = Deferred()
        self._pending.append(_Pending(fn, args, d))
        if len(self._pending) >= self.max_batch:
            self._flush()
        elif self._timer is None:
            delay = self.busy_window_s if self._runner.busy() else self.batch_window_s
            self._timer = self._reactor.callLater(delay, self._flush)
        return d

    def _flush(self) -> None:
        if self._timer is not None:
            if self._timer.active():
                self._timer.cancel()
            self._timer = None
        if not self._pending:
            self._idle()
            return
        jobs, self._pending = self._pending, []
        self._sent.extend(jobs)
        self._runner.hand([(job.fn, job.args) for job in jobs])

    def _lost(self, failure: Failure) -> None:
        """The runner failed: every call handed to it and not answered fails."""
        sent, self._sent = self._sent, deque()
        for job in sent:
            job.deferred.errback(failure)
        self._idle()

    def _finished(self, results: list[tuple[bool, Any]] | Failure, count: int) -> None:
        # (A caller that cancelled its Deferred is ignored by Twisted here;
        # its change was made all the same.)
        batch = [self._sent.popleft() for _ in range(count)]
        self.batches += 1
        self.batched_calls += count
        try:
            if isinstance(results, Failure):
                # The transaction itself failed (e.g. COMMIT on a full disk): nothing was kept.
                self.log.failure("store: a batch of {n} calls failed", results, n=count)
                for job in batch:
                    job.deferred.errback(results)
            else:
                for job, (ok, value) in zip(batch, results, strict=True):
                    if ok:
                        job.deferred.callback(value)
                    else:
                        job.deferred.errback(Failure(value, type(value), value.__traceback__))
        finally:
            self._idle()

    def _idle(self) -> None:
        if not self._closing or self._pending or self._sent or self._closed:
            return
        self._closed = True
        self._runner.close().addCallback(self._runner_closed)

    def _runner_closed(self, _: None) -> None:
        waiters, self._close_waiters = self._close_waiters, []
        for waiter in waiters:
            waiter.callback(None)

    # -- messages ----------------------------------------------------------

    def add_message(self, message: Message) -> Deferred[None]:
        try:
            validate_message(message)
        except ValueError:
            return fail()
        return self._submit(_add_message, message)

    def add_messages(self, messages: Sequence[Message]) -> Deferred[None]:
        try:
            for message in messages:
                validate_message(message)
        except ValueError:
            return fail()
        return self._submit(_add_messages, list(messages))

    def get_message(self, message_id: str) -> Deferred[Message | None]:
        return self._submit(load_message, "id = ?", message_id)

    def find_by_external_id(self, external_id: str, since: float) -> Deferred[Message | None]:
        return self._submit(_find_by_external_id, external_id, since)

    # -- the send queue ----------------------------------------------------

    def claim_due(
        self, now: float, limit: int, channel: str | None = None
    ) -> Deferred[list[SegmentWork]]:
        return self._submit(_claim_due, now, limit, channel)

    def segment_submitted(
        self,
        key: SegmentKey,
        result: int,
        msg_id: str | None,
        now: float,
        *,
        callback_url: str | None = None,
    ) -> Deferred[list[ReportOutcome]]:
        return self._submit(_submitted, SubmitRecord(key, result, msg_id, now), True, callback_url)

    def segment_submitted_many(
        self, records: Sequence[SubmitRecord], *, callback_url: str | None = None
    ) -> Deferred[list[ReportOutcome]]:
        return self._submit(_submitted_many, list(records), callback_url)

    def segment_failed(self, key: SegmentKey, reason: str, now: float) -> Deferred[None]:
        return self._submit(_segment_failed, key, reason, now)

    def requeue_submitting(self) -> Deferred[int]:
        return self._submit(_requeue_submitting)

    def queue_depth(self) -> Deferred[int]:
        return self._submit(_queue_depth)

    # -- status reports ----------------------------------------------------

    def record_report(
        self,
        channel: str,
        msg_id: str,
        stat: str,
        done_at: float,
        raw: bytes = b"",
        *,
        to: str | None = None,
        now: float | None = None,
        delivered: bool | None = None,
        err: str = "",
        callback_url: str | None = None,
    ) -> Deferred[ReportOutcome]:
        report = StatusReport.of(
            channel, msg_id, stat, done_at, raw, to=to, now=now, delivered=delivered, err=err
        )
        return self._submit(_record_report, report, callback_url)

    def drop_held_reports(self, older_than: float) -> Deferred[int]:
        return self._submit(_drop_held_reports, older_than)

    def expire_reports(self, older_than: float) -> Deferred[int]:
        return self._submit(_expire_reports, older_than)

    # -- inbound items -----------------------------------------------------

    def add_inbound(
        self, item: Inbound, *, callback_url: str | None = None, parts: MoGroup | None = None
    ) -> Deferred[int | None]:
        try:
            json.dumps(dict(item.fields))
        except (TypeError, ValueError):
            return fail()
        if parts is not None:
            return self._submit(put_inbound_of_parts, item, callback_url, parts)
        return self._submit(put_inbound, item, callback_url)

    def add_mo_part(self, part: MoPart) -> Deferred[bool]:
        return self._submit(add_mo_part, part)

    def mo_parts(self) -> Deferred[list[MoPart]]:
        return self._submit(mo_parts)

    def mo_group_parts(self, group: MoGroup) -> Deferred[list[MoPart]]:
        return self._submit(mo_group_parts, group)

    def fetch_inbound(self, limit: int) -> Deferred[list[Inbound]]:
        return self._submit(_fetch_inbound, limit)

    def list_inbound(self, after: int, limit: int) -> Deferred[list[Inbound]]:
        return self._submit(_list_inbound, after, limit)

    def ack_inbound(self, through: int) -> Deferred[int]:
        return self._submit(_ack_inbound, through)

    # -- templates ---------------------------------------------------------

    def put_template(self, template: Template, replace: bool = True) -> Deferred[bool]:
        return self._submit(_put_template, template, replace)

    def get_template(self, name: str) -> Deferred[Template | None]:
        return self._submit(_get_template, name)

    def list_templates(self) -> Deferred[list[Template]]:
        return self._submit(_list_templates)

    def delete_template(self, name: str) -> Deferred[bool]:
        return self._submit(_delete_template, name)

    # -- callback attempts -------------------------------------------------

    def add_callback(
        self, kind: InboundKind, url: str, payload: str, next_at: float
    ) -> Deferred[int]:
        try:
            json.loads(payload)
        except ValueError:
            return fail()
        return self._submit(_add_callback, InboundKind(kind), url, payload, next_at)

    def get_callback(self, callback_id: int) -> Deferred[CallbackAttempt | None]:
        return self._submit(_get_callback, callback_id)

    def due_callbacks(self, now: float, limit: int) -> Deferred[list[CallbackAttempt]]:
        return self._submit(_due_callbacks, now, limit)

    def callback_done(self, callback_id: int, now: float) -> Deferred[None]:
        return self._submit(_callback_done, callback_id, now)

    def callback_failed(
        self, callback_id: int, error: str, next_at: float | None
    ) -> Deferred[None]:
        return self._submit(_callback_failed, callback_id, error, next_at)

    # -- life --------------------------------------------------------------

    def close(self) -> Deferred[None]:
        """Run the calls already made, commit, then close the connection."""
        if self._closed and not self._close_waiters:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._close_waiters.append(d)
        if not self._closing:
            self._closing = True
            if self._timer is not None:
                self._flush()
            else:
                self._idle()
        return d


class SqliteStore(SqlStore):
    """:class:`IMessageStore` on one SQLite file; create it with :meth:`open`."""

    @classmethod
    def open(
        cls,
        path: str = DEFAULT_PATH,
        *,
        reactor: Any = None,
        synchronous: str = "FULL",
        busy_timeout_ms: int = 5000,
        batch_window_s: float | None = None,
        max_batch: int = 512,
        process: bool = False,
    ) -> Deferred[SqliteStore]:
        """Open (creating if needed) and migrate the database at *path*.

        Fires once the schema is current; fails with
        :class:`~smsgw.store.interface.SchemaTooNew` for a database written
        by a newer smsgw.

        :param synchronous: ``FULL`` (default, see the module docstring) or
            ``NORMAL`` (survives a process crash but maybe not a power cut).
        :param batch_window_s: how long a call made while the database is
            idle waits for company.  By default 2 ms with a database thread
            (each transaction costs this process GIL round trips) and none
            with a database process: an idle one may as well commit at once,
            and calls made meanwhile make the next transaction anyway.
        :param process: run the transactions in a database process of its
            own (:mod:`smsgw.store.writer`) instead of a thread of this one.
            Same results; it lets the reactor and SQLite each use a core.
            Calls made while it commits are sent to it once a millisecond
            (:attr:`busy_window_s`): it takes them only once the commit is
            over, which takes milliseconds (an fsync) anyway.
        """
        if batch_window_s is None:
            batch_window_s = 0.0 if process else 0.002
        if synchronous.upper() not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS}, not {synchronous!r}")
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if reactor is None:
            from twisted.internet import reactor as global_reactor

            reactor = global_reactor
        runner: _ThreadRunner | _ProcessRunner
        d: Deferred[tuple[int, int]]
        if process:
            argv = [
                sys.executable, "-m", "smsgw.store.writer",
                path, synchronous.upper(), str(int(busy_timeout_ms)), str(max_batch),
            ]  # fmt: skip
            runner = _ProcessRunner(reactor, argv)
            d = runner.start()
        else:
            pool = adbapi.ConnectionPool(
                "sqlite3",
                path,
                check_same_thread=False,
                isolation_level=None,
                cp_min=1,
                cp_max=1,
                cp_reactor=reactor,
                cp_openfun=functools.partial(
                    open_connection,
                    synchronous=synchronous.upper(),
                    busy_timeout_ms=busy_timeout_ms,
                ),
            )
            runner = _ThreadRunner(pool, reactor, max_batch)
            now = reactor.seconds()
            d = pool.runWithConnection(lambda conn: migrate(conn, now))

        def migrated(versions: tuple[int, int]) -> SqliteStore:
            before, after = versions
            if before != after:
                cls.log.info(
                    "store {path}: schema {old} -> {new}", path=path, old=before, new=after
                )
            return cls(
                runner,
                reactor,
                batch_window_s=batch_window_s,
                busy_window_s=PROCESS_BUSY_WINDOW_S if process else 0.0,
                max_batch=max_batch,
            )

        def failed(failure: Failure) -> Deferred[SqliteStore]:
            return runner.close().addCallback(lambda _: failure)

        return d.addCallbacks(migrated, failed)
