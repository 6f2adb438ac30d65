"""Where the transactions run: a database thread or a database process.

Both take lists of jobs (:data:`~smsgw.store.sqlite.batch.Job`) from the
:class:`~smsgw.store.sqlite.SqliteStore`, run them as transactions with
:func:`~smsgw.store.sqlite.batch.run_batch` (the process in
:mod:`smsgw.store.writer`) and report each transaction's results back on
the reactor thread through ``finished`` (or a lost runner through ``lost``).
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol

from twisted.enterprise import adbapi
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import ProcessEndpoint, StandardErrorBehavior
from twisted.internet.interfaces import IProcessTransport
from twisted.internet.protocol import Factory, connectionDone
from twisted.logger import Logger
from twisted.protocols.basic import Int32StringReceiver
from twisted.python.failure import Failure

from smsgw.store.interface import (
    StoreError,
)
from smsgw.store.sqlite.batch import Hot, Job, run_batch
from smsgw.store.sqlite.connection import Conn

#: How a database thread runs one transaction of jobs: :func:`run_batch`'s signature.
Batch = Callable[[Conn, list[Job], Hot], list[tuple[bool, Any]]]


class _Pool(Protocol):
    """What :class:`_ThreadRunner` needs of its pool: an adbapi pool of one connection or alike."""

    def runWithConnection(self, func: Callable[[Conn], None]) -> Deferred[None]: ...

    def close(self) -> None: ...


class _ThreadRunner:
    """Runs batches on one database thread: an adbapi pool of one connection.

    The thread runs :meth:`_db_loop`: it takes the jobs handed to it (at
    most max_batch), runs them as one transaction (*batch*, by default
    :func:`run_batch`), posts the results to the reactor thread and goes
    straight on with the jobs handed over meanwhile, without waiting for
    the reactor thread to come round.  PostgreSQL's store uses it with a
    pool and a *batch* of its own (:mod:`smsgw.store.postgres.link`).
    """

    def __init__(
        self, pool: _Pool | adbapi.ConnectionPool, reactor: Any, max_batch: int,
        batch: Batch = run_batch, hot: Hot | None = None,
    ) -> None:  # fmt: skip
        self._pool = pool
        self._reactor = reactor
        self._max_batch = max_batch
        self._batch = batch
        self.finished: Callable[[list[tuple[bool, Any]] | Failure, int], None] = _unset
        self.lost: Callable[[Failure], None] = _unset
        # Shared with the database thread, under the lock: the jobs it is to
        # run next, whether it is busy, and whether it should stop once idle.
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._handoff: list[Job] = []
        self._busy = False
        self._stop = False
        self._loop: Deferred[None] | None = None
        self._shutdown: Any = None
        self._stopped: list[Deferred[None]] = []
        #: The database thread's segment hints (see :class:`Hot`).
        self._hot = Hot() if hot is None else hot

    def busy(self) -> bool:
        return self._busy

    def hand(self, jobs: list[Job]) -> None:
        with self._lock:
            self._handoff.extend(jobs)
            self._busy = True
            self._wake.notify()
        if self._loop is None:
            self._stop = False
            # Before the pool's own shutdown trigger joins its thread, which
            # would otherwise wait for work forever.
            self._shutdown = self._reactor.addSystemEventTrigger(
                "before", "shutdown", self._stop_loop
            )
            self._loop = self._pool.runWithConnection(self._db_loop)
            self._loop.addBoth(self._loop_ended)

    def close(self) -> Deferred[None]:
        """Once every job handed over is answered: stop the thread, close the pool."""
        d: Deferred[None] = Deferred()
        if self._loop is None:
            self._pool.close()
            d.callback(None)
        else:
            self._stopped.append(d)
            self._stop_loop()
        return d

    def _stop_loop(self) -> None:
        """Let the database thread end once it has run what it was handed."""
        with self._lock:
            self._stop = True
            self._wake.notify()

    def _db_loop(self, conn: Conn) -> None:
        """The database thread: run handed-over jobs, batch after batch, until stopped."""
        while True:
            with self._lock:
                while not self._handoff:
                    self._busy = False
                    if self._stop:
                        return
                    self._wake.wait()
                jobs = self._handoff[: self._max_batch]
                del self._handoff[: self._max_batch]
            results: list[tuple[bool, Any]] | Failure
            try:
                results = self._batch(conn, jobs, self._hot)
            except Exception:
                results = Failure()
            self._reactor.callFromThread(self.finished, results, len(jobs))

    def _loop_ended(self, result: Failure | None) -> None:
        # Stopped, or it could not run at all (e.g. the database is gone):
        # whatever was handed over and not answered fails with it.
        self._loop = None
        if self._shutdown is not None:
            self._reactor.removeSystemEventTrigger(self._shutdown)
            self._shutdown = None
        with self._lock:
            self._handoff.clear()
            self._busy = False
        if isinstance(result, Failure):
            self.lost(result)
        stopped, self._stopped = self._stopped, []
        if stopped:
            self._pool.close()
        for d in stopped:
            d.callback(None)


class _WriterLink(Int32StringReceiver):
    """The parent's end of the pipes to a database process."""

    MAX_LENGTH = 1 << 30

    def __init__(self, runner: _ProcessRunner) -> None:
        self.runner = runner

    def stringReceived(self, string: bytes) -> None:
        self.runner.received(pickle.loads(string))

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.runner.link_lost(self, reason)


class _ProcessRunner:
    """Runs batches in a database process of its own (:mod:`smsgw.store.writer`).

    Jobs are pickled to the process's stdin as they are handed over; it
    makes its transactions of whatever has arrived, and answers each with
    one frame.  If the process ends unexpectedly, the calls it had not
    answered fail (whether their transaction committed is unknown, as with
    a failed COMMIT) and the next call starts a new one.
    """

    log = Logger()

    def __init__(self, reactor: Any, argv: list[str]) -> None:
        self._reactor = reactor
        self._argv = argv
        self.finished: Callable[[list[tuple[bool, Any]] | Failure, int], None] = _unset
        self.lost: Callable[[Failure], None] = _unset
        #: What the reactor's shutdown waits for (the store's close, once there is a store).
        self.at_shutdown: Callable[[], Deferred[None]] = self.close
        self._link: _WriterLink | None = None
        self._ready: Deferred[tuple[int, int]] | None = None
        #: Jobs handed over and not answered yet.
        self._in_flight = 0
        self._closed: list[Deferred[None]] = []
        self._shutdown: Any = None

    def start(self) -> Deferred[tuple[int, int]]:
        """Start the process; fires with its migration's ``(before, after)`` versions."""
        ready: Deferred[tuple[int, int]] = Deferred()
        self._ready = ready
        link = _WriterLink(self)
        self._link = link
        argv = [*self._argv, str(os.getpid())]
        endpoint = ProcessEndpoint(
            self._reactor, sys.executable, argv, env=os.environ,
            errFlag=StandardErrorBehavior.LOG,
        )  # fmt: skip
        endpoint.connect(Factory.forProtocol(lambda: link)).addErrback(
            lambda f: self.link_lost(link, f)
        )
        if self._shutdown is None:
            self._shutdown = self._reactor.addSystemEventTrigger(
                "before", "shutdown", self._stop_at_shutdown
            )
        return ready

    def busy(self) -> bool:
        return self._in_flight > 0

    def hand(self, jobs: list[Job]) -> None:
        if self._link is None:
            self.start().addErrback(lambda f: None)  # link_lost fails the calls
        self._in_flight += len(jobs)
        if self._link is None:  # it could not even be spawned
            self._fail(Failure(StoreError("the database process could not be started")))
            return
        self._link.sendString(pickle.dumps(jobs, pickle.HIGHEST_PROTOCOL))

    def received(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "done":
            results = message[1]
            self._in_flight -= len(results)
            self.finished(results, len(results))
        elif kind == "failed":
            _, error, count = message
            self._in_flight -= count
            self.finished(Failure(error), count)
        elif kind == "ready":
            ready, self._ready = self._ready, None
            if ready is not None:
                ready.callback(message[1])
        else:  # "error": it could not open the database, and ends
            ready, self._ready = self._ready, None
            if ready is not None:
                ready.errback(Failure(message[1]))
            elif self._in_flight:
                self._fail(Failure(message[1]))

    def link_lost(self, link: _WriterLink, reason: Failure) -> None:
        if link is not self._link:
            return
        self._link = None
        ready, self._ready = self._ready, None
        if ready is not None:
            ready.errback(StoreError(f"the database process did not start: {reason.value}"))
        if self._in_flight:
            self._fail(Failure(StoreError(f"the database process ended: {reason.value}")))
        if self._closed:
            self._ended()

    def _fail(self, failure: Failure) -> None:
        self._in_flight = 0
        self.log.failure("store: the database process failed", failure)
        self.lost(failure)

    def close(self) -> Deferred[None]:
        """Once every job handed over is answered: end the process (EOF on its stdin)."""
        d: Deferred[None] = Deferred()
        self._closed.append(d)
        if self._link is None:
            self._ended()
        else:
            # Only stdin: its answers to what it has been sent still come back.
            IProcessTransport(self._link.transport).closeStdin()
        return d

    def _ended(self) -> None:
        """Closed, and the process is gone: no shutdown trigger left, close() fires."""
        if self._shutdown is not None:
            self._reactor.removeSystemEventTrigger(self._shutdown)
            self._shutdown = None
        closed, self._closed = self._closed, []
        for d in closed:
            d.callback(None)

    def _stop_at_shutdown(self) -> Deferred[None] | None:
        # The reactor is stopping without the store being closed: close it
        # (every call made is run and answered, then the process ends), and
        # let the reactor wait for that.
        self._shutdown = None
        return self.at_shutdown()


def _unset(*args: Any) -> None:  # pragma: no cover - replaced by the store
    raise AssertionError("runner used before its store was made")
