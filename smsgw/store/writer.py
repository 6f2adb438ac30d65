"""The SQLite store's database process: ``python -m smsgw.store.writer PATH ...``.

:class:`~smsgw.store.sqlite.SqliteStore` opened with ``process=True``
runs its transactions here instead of on a thread of the reactor's process.
The work is the same (:func:`~smsgw.store.sqlite.batch.run_batch` over the same
jobs); what changes is the GIL.  A database thread gives the GIL up around
every SQLite statement and must win it back from the reactor thread each
time, and the two threads together can use one core at most; a process of
its own has its own GIL and can run on another core.

**Frames.**  Both ways, a 4-byte big-endian length and a pickle (the
parent is the only peer: the pipes are this process's stdin and stdout).

* parent → child: a list of jobs ``(function, args)``, each function one of
  one of the :mod:`smsgw.store.sqlite` package's, pickled by name;
* child → parent: first ``("ready", (version_before, version_after))`` or
  ``("error", exception)``; then for every transaction
  ``("done", [(ok, value or exception), ...])`` or
  ``("failed", exception, number_of_jobs)`` when the transaction itself failed.

**Batching.**  When a transaction ends, the jobs of every frame that has
arrived meanwhile (up to ``max_batch``) make the next one: the group commit
happens here, while the parent keeps sending.

**Lifetime.**  The process ends at end of file on stdin (the parent closed
it after its last call was answered).  On Linux the kernel also kills it
when the parent dies (``PR_SET_PDEATHSIG``), and everywhere it checks
before each transaction that its parent is still the one that started it,
so a killed gateway's writer never commits work after a restarted gateway
has opened the database (e.g. a claim after the new one's requeue).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import sqlite3
import struct
import sys
import time
from collections import deque
from typing import Any, BinaryIO

from smsgw.runtime import tune_gc
from smsgw.store.interface import StoreError
from smsgw.store.migrations import migrate
from smsgw.store.sqlite.batch import Hot, Job, run_batch
from smsgw.store.sqlite.connection import open_connection

_LENGTH = struct.Struct(">I")
_CHUNK = 1 << 16


def _die_with_parent(parent: int) -> bool:
    """Ask Linux to SIGKILL us when *parent* dies; False if it has already."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        try:
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl in this libc
            pass
    return os.getppid() == parent


class _Frames:
    """Length-prefixed frames read from a file descriptor."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()
        self.jobs: deque[Job] = deque()
        self.eof = False

    def _read(self) -> None:
        chunk = os.read(self.fd, _CHUNK)
        if not chunk:
            self.eof = True
            return
        self.buffer += chunk
        buffer = self.buffer
        start = 0
        while len(buffer) - start >= 4:
            (length,) = _LENGTH.unpack_from(buffer, start)
            if len(buffer) - start - 4 < length:
                break
            self.jobs.extend(pickle.loads(buffer[start + 4 : start + 4 + length]))
            start += 4 + length
        del buffer[:start]

    def take(self, limit: int) -> list[Job] | None:
        """Up to *limit* jobs: wait for one, then take whatever else has arrived; None at EOF."""
        while not self.jobs:
            if self.eof:
                return None
            self._read()
        while not self.eof and select.select([self.fd], [], [], 0)[0]:
            self._read()
        jobs = self.jobs
        return [jobs.popleft() for _ in range(min(limit, len(jobs)))]


def _send(out: BinaryIO, message: Any) -> None:
    try:
        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    except Exception:
        data = pickle.dumps(_picklable(message), pickle.HIGHEST_PROTOCOL)
    out.write(_LENGTH.pack(len(data)))
    out.write(data)
    out.flush()


def _picklable(message: Any) -> Any:
    """*message* with every exception that does not pickle replaced by a StoreError."""

    def plain(e: BaseException) -> BaseException:
        try:
            pickle.dumps(e)
        except Exception:
            return StoreError(f"{type(e).__name__}: {e}")
        return e

    kind, *rest = message
    if kind == "done":
        return ("done", [(ok, v if ok else plain(v)) for ok, v in rest[0]])
    return (kind, plain(rest[0]), *rest[1:])


def main(argv: list[str] | None = None) -> int:
    """Run the database process: read jobs on stdin, answer on stdout, until stdin closes."""
    path, synchronous, busy_timeout_ms, max_batch, parent = (argv or sys.argv)[1:6]
    if not _die_with_parent(int(parent)):
        return 1
    tune_gc()
    # Frames go to the parent on the original stdout; anything printed goes to stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        open_connection(conn, synchronous, int(busy_timeout_ms))
        versions = migrate(conn, time.time())
    except Exception as e:
        _send(out, ("error", e))
        if conn is not None:
            conn.close()
        return 1
    _send(out, ("ready", versions))
    hot = Hot()
    frames = _Frames(0)
    limit = int(max_batch)
    try:
        while (jobs := frames.take(limit)) is not None and os.getppid() == int(parent):
            try:
                result: tuple[Any, ...] = ("done", run_batch(conn, jobs, hot))
            except Exception as e:
                result = ("failed", e, len(jobs))
            _send(out, result)
    except BrokenPipeError:
        pass  # the parent is gone; what committed stays committed
    finally:
        conn.close()
        with contextlib.suppress(OSError):  # a frame the gone parent will not read
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
