"""What only :class:`~smsgw.store.sqlite.SqliteStore` has: schema versions, WAL,
durability across reopen and kill, batched commits and query plans.

Real reactor and real files (the one place that needs them).
"""

from __future__ import annotations

import os
import pickle
import signal
import sqlite3
import sys
import textwrap
from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import CancelledError, Deferred, DeferredList, fail, gatherResults
from twisted.internet.task import Clock, deferLater
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial.unittest import SynchronousTestCase, TestCase

from smsgw.config import DEFAULT_STORE
from smsgw.store.interface import (
    DuplicateMessage,
    SchemaTooNew,
    StoreClosed,
    StoreError,
    UnknownSegment,
)
from smsgw.store.migrations import MIGRATIONS, current_version, latest_version, migrate
from smsgw.store.model import (
    Inbound,
    InboundKind,
    MessageStatus,
    MoGroup,
    MoPart,
    SegmentState,
    StatusReport,
    SubmitRecord,
    Template,
    TemplateEngine,
)
from smsgw.store.sqlite import DEFAULT_PATH, SqliteStore
from smsgw.store.sqlite import runners as runners_module
from smsgw.store.sqlite.batch import COUNTS_QUERY, Hot, Job, in_list, run_batch
from smsgw.store.sqlite.inbound import _query
from smsgw.store.sqlite.reports import _record_report, report_query
from smsgw.store.sqlite.runners import _ProcessRunner
from smsgw.store.sqlite.segments import (
    IDS_QUERY,
    _add_message,
    _claim_due,
    _submitted_many,
    claim_query,
)
from smsgw.store.sqlite.store import PROCESS_BUSY_WINDOW_S, SqlStore
from smsgw.store.writer import _Frames, _picklable
from tests.store.test_contract import NOW, key, make_message

#: The checkout, so that a child process can import ``tests`` (never installed).
_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


async def _gone(pid: int, timeout: float = 10.0) -> None:
    """Wait until process *pid* has exited (its zombie reaped or not), or fail."""
    for _ in range(int(timeout / 0.05)):
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return
        except FileNotFoundError:
            return
        await deferLater(reactor, 0.05)
    raise AssertionError(f"process {pid} still runs")


def _raw(path: str) -> sqlite3.Connection:
    """A second, plain connection to the database file (autocommit)."""
    conn = sqlite3.connect(path, isolation_level=None)
    return conn


class MigrationTests(SynchronousTestCase):
    """:mod:`smsgw.store.migrations` on plain sqlite3 connections."""

    def setUp(self) -> None:
        self.conn = sqlite3.connect(self.mktemp(), isolation_level=None)
        self.addCleanup(self.conn.close)

    def test_fresh(self) -> None:
        """An empty database gets every migration and one schema_version row each."""
        self.assertEqual(current_version(self.conn), 0)
        self.assertEqual(migrate(self.conn, NOW), (0, latest_version()))
        rows = self.conn.execute("SELECT version, applied_at FROM schema_version").fetchall()
        self.assertEqual(rows, [(v, NOW) for v, _ in MIGRATIONS])
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master")}
        for table in ("messages", "recipients", "segments", "held_reports", "inbound",
                      "templates", "callbacks", "schema_version"):  # fmt: skip
            self.assertIn(table, tables)

    def test_idempotent(self) -> None:
        """Migrating an up-to-date database does nothing."""
        migrate(self.conn, NOW)
        self.assertEqual(migrate(self.conn, NOW + 1), (latest_version(), latest_version()))
        self.assertEqual(
            self.conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0],
            len(MIGRATIONS),
        )

    def test_step_by_step(self) -> None:
        """A database at version 1 gets only the newer migrations."""
        steps = [(1, "CREATE TABLE a (x);"), (2, "CREATE TABLE b (y);\nINSERT INTO b VALUES (1);")]
        self.assertEqual(migrate(self.conn, NOW, steps[:1]), (0, 1))
        self.assertEqual(migrate(self.conn, NOW, steps), (1, 2))
        self.assertEqual(self.conn.execute("SELECT y FROM b").fetchall(), [(1,)])

    def test_failure_rolls_back(self) -> None:
        """A migration that fails half-way leaves the previous version whole."""
        steps = [
            (1, "CREATE TABLE a (x);"),
            (2, "CREATE TABLE b (y);\nINSERT INTO nowhere VALUES (1);"),
        ]
        self.assertRaises(sqlite3.OperationalError, migrate, self.conn, NOW, steps)
        self.assertEqual(current_version(self.conn), 1)
        self.assertFalse(self.conn.in_transaction)
        names = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master")}
        self.assertIn("a", names)
        self.assertNotIn("b", names)

    def test_too_new(self) -> None:
        """A database newer than the code is refused, untouched."""
        migrate(self.conn, NOW, [(1, "CREATE TABLE a (x);"), (2, "CREATE TABLE b (y);")])
        error = self.assertRaises(
            SchemaTooNew, migrate, self.conn, NOW, [(1, "CREATE TABLE a (x);")]
        )
        self.assertIn("version 2", str(error))
        self.assertEqual(current_version(self.conn), 2)

    def test_versions_checked(self) -> None:
        """Migration versions must run 1..N without gaps."""
        for steps in ([(2, "")], [(1, ""), (3, "")], [(1, ""), (1, "")]):
            self.assertRaises(ValueError, migrate, self.conn, NOW, steps)

    def test_default_path(self) -> None:
        """The store's default file is the one the README and the config name."""
        self.assertEqual(DEFAULT_PATH, "smsgw.sqlite3")
        self.assertEqual(DEFAULT_STORE, DEFAULT_PATH)


class SqliteTests(TestCase):
    """The SQLite store's own behaviour, with a database thread."""

    #: Run the transactions in a database process (see :class:`SqliteProcessTests`).
    process = False

    async def open(self, path: str | None = None, **kwargs: Any) -> SqliteStore:
        self.path = path or getattr(self, "path", None) or self.mktemp()
        store = await SqliteStore.open(self.path, reactor=reactor, process=self.process, **kwargs)
        self.addCleanup(store.close)
        return store

    async def pragma(self, store: SqliteStore, name: str) -> Any:
        """A pragma's value on the store's own connection."""
        return (await store._submit(_query, f"PRAGMA {name}"))[0][0]

    # -- set-up ------------------------------------------------------------

    async def test_busy_window(self) -> None:
        """A database process's store gathers calls made while it commits; a thread's does not."""
        store = await self.open()
        self.assertEqual(store.busy_window_s, PROCESS_BUSY_WINDOW_S if self.process else 0.0)
        self.assertGreater(PROCESS_BUSY_WINDOW_S, 0.0)

    async def test_wal_and_pragmas(self) -> None:
        """The database is in WAL mode, synchronous FULL, with a busy timeout and foreign keys."""
        store = await self.open()
        self.assertEqual(str(await self.pragma(store, "journal_mode")).lower(), "wal")
        self.assertEqual(await self.pragma(store, "synchronous"), 2)  # FULL
        self.assertEqual(await self.pragma(store, "busy_timeout"), 5000)
        self.assertEqual(await self.pragma(store, "foreign_keys"), 1)
        await store.add_message(make_message())
        self.assertTrue(os.path.exists(self.path + "-wal"))
        conn = _raw(self.path)
        self.addCleanup(conn.close)
        self.assertEqual(conn.execute("PRAGMA journal_mode").fetchone()[0], "wal")

    async def test_synchronous_normal(self) -> None:
        """synchronous=NORMAL can be chosen; OFF and nonsense cannot."""
        store = await self.open(synchronous="normal", busy_timeout_ms=250)
        self.assertEqual(await self.pragma(store, "synchronous"), 1)
        self.assertEqual(await self.pragma(store, "busy_timeout"), 250)
        self.assertRaises(ValueError, SqliteStore.open, self.mktemp(), synchronous="sometimes")
        self.assertRaises(ValueError, SqliteStore.open, self.mktemp(), synchronous="OFF")
        self.assertRaises(ValueError, SqliteStore.open, self.mktemp(), max_batch=0)

    async def test_open_migrates(self) -> None:
        """Opening a new file creates the schema at the latest version."""
        store = await self.open()
        await store.close()
        conn = _raw(self.path)
        self.addCleanup(conn.close)
        self.assertEqual(current_version(conn), latest_version())

    async def test_open_too_new(self) -> None:
        """Opening a database from a newer smsgw fails with SchemaTooNew."""
        await (await self.open()).close()
        conn = _raw(self.path)
        conn.execute("INSERT INTO schema_version VALUES (?, ?)", (latest_version() + 7, NOW))
        conn.close()
        try:
            await SqliteStore.open(self.path, reactor=reactor, process=self.process)
        except SchemaTooNew as e:
            self.assertIn(f"version {latest_version() + 7}", str(e))
        else:
            self.fail("opened a database from the future")

    # -- durability --------------------------------------------------------

    async def test_reopen_keeps_data(self) -> None:
        """Everything stored is there after close and reopen."""
        store = await self.open()
        message = make_message(to=("13800138000", "13900139000"), segments=2, external_id="e")
        await store.add_message(message)
        await store.claim_due(NOW, 10)
        await store.segment_submitted(key(), 0, "1", NOW + 1)
        await store.record_report("cm", "1", "DELIVRD", NOW + 2)
        await store.record_report("cm", "2", "DELIVRD", NOW + 2)  # held
        await store.add_inbound(Inbound(InboundKind.MO, "cm", {"content": "ok"}, NOW, "mo1"))
        template = Template("t", TemplateEngine.SIMPLE, "{A}", NOW, NOW)
        await store.put_template(template)
        callback = await store.add_callback(InboundKind.MO, "http://a", "{}", NOW)
        part = MoPart(MoGroup("cm", "13800138000", "10690", 9, 2), 1, b"\x05\x00\x03\x09\x02\x01a",
                      1, 0, NOW, "p1")  # fmt: skip
        await store.add_mo_part(part)
        before = await store.get_message("m1")
        await store.close()

        store = await self.open()
        self.assertEqual(await store.get_message("m1"), before)
        self.assertEqual((await store.find_by_external_id("e", 0)).id, "m1")
        self.assertEqual(await store.get_template("t"), template)
        self.assertEqual((await store.get_callback(callback)).url, "http://a")
        self.assertEqual(len(await store.fetch_inbound(10)), 2)  # the report and the MO
        self.assertIsNone(await store.add_inbound(Inbound(InboundKind.MO, "cm", {}, NOW, "mo1")))
        self.assertEqual(await store.mo_parts(), [part])
        # The held report survived too.
        outcomes = await store.segment_submitted(key(pk_number=2), 0, "2", NOW + 3)
        self.assertEqual([o.message_status for o in outcomes], [MessageStatus.SUBMITTING])

    async def test_restart_requeues(self) -> None:
        """Segments claimed when the process stopped are sent again after requeue_submitting."""
        store = await self.open()
        await store.add_message(make_message(segments=2))
        await store.claim_due(NOW, 10)
        await store.segment_submitted(key(), 0, "1", NOW)
        await store.close()

        store = await self.open()
        self.assertEqual(await store.requeue_submitting(), 1)
        work = await store.claim_due(NOW, 10)
        self.assertEqual([(w.key, w.attempts) for w in work], [(key(pk_number=2), 2)])

    async def test_survives_kill(self) -> None:
        """A message whose add_message fired survives the process being killed right after."""
        path = os.path.abspath(self.mktemp())
        script = textwrap.dedent(
            f"""
            import os, sys
            from twisted.internet import reactor
            from smsgw.store.sqlite import SqliteStore
            from tests.store.test_contract import make_message

            def opened(store):
                def added(_):
                    link = getattr(store._runner, "_link", None)
                    pid = link.transport.pid if link is not None else 0
                    sys.stdout.write(f"acknowledged {{pid}}\\n")
                    sys.stdout.flush()
                    os._exit(9)  # no close, no clean shutdown
                return store.add_message(make_message("killed")).addCallback(added)

            opening = SqliteStore.open({path!r}, reactor=reactor, process={self.process!r})
            opening.addCallback(opened)
            reactor.run()
            """
        )
        out, err, code = await getProcessOutputAndValue(
            sys.executable, ["-c", script], env=os.environ, path=_REPO
        )
        self.assertEqual((out.split()[0], code), (b"acknowledged", 9), err)
        store = await self.open(path)
        self.assertEqual(await store.get_message("killed"), make_message("killed"))
        writer = int(out.split()[1])
        if self.process:  # the database process went with it
            self.assertTrue(writer)
            await _gone(writer)

    async def test_close_finishes_pending(self) -> None:
        """Calls made just before close are committed before it fires."""
        store = await self.open()
        added = store.add_message(make_message())
        closed = store.close()
        self.assertIsNone(await added)
        await closed
        store = await self.open()
        self.assertIsNotNone(await store.get_message("m1"))

    async def test_status_column(self) -> None:
        """messages.status always equals the status derived from the segments."""
        store = await self.open()
        await store.add_message(make_message("m1", segments=3))
        await store.add_message(make_message("m2", to=("13800138000", "13900139000")))
        await store.add_message(make_message("m3"))
        await store.claim_due(NOW, 10)
        await store.segment_submitted(key("m1", 0, 1), 0, "a", NOW)
        await store.segment_submitted(key("m1", 0, 2), 0, "b", NOW)
        await store.segment_failed(key("m1", 0, 3), "x", NOW)
        await store.record_report("cm", "a", "DELIVRD", NOW)
        await store.segment_submitted(key("m2", 0), 0, "c", NOW)
        await store.segment_submitted(key("m2", 1), 0, "d", NOW)
        await store.expire_reports(NOW + 1)
        await store.record_report("cm", "d", "DELIVRD", NOW)
        derived = {m: (await store.get_message(m)).status for m in ("m1", "m2", "m3")}
        stored = dict(await store._submit(_query, "SELECT id, status FROM messages"))
        self.assertEqual(stored, {m: str(s) for m, s in derived.items()})
        self.assertEqual(
            derived,
            {
                "m1": MessageStatus.PARTIALLY_DELIVERED,
                "m2": MessageStatus.PARTIALLY_DELIVERED,
                "m3": MessageStatus.SUBMITTING,
            },
        )

    # -- batching ----------------------------------------------------------

    async def test_batched_commit(self) -> None:
        """Calls made in the same reactor turn are committed in one transaction."""
        store = await self.open()
        batches = store.batches
        await gatherResults([store.add_message(make_message(f"m{i}")) for i in range(100)])
        self.assertEqual(store.batches - batches, 1)
        self.assertEqual(await store.queue_depth(), 100)

    async def test_max_batch(self) -> None:
        """max_batch bounds a transaction; max_batch=1 commits every call on its own."""
        for max_batch, expected in ((10, 10), (1, 100)):
            store = await self.open(self.mktemp(), max_batch=max_batch)
            batches = store.batches
            await gatherResults([store.add_message(make_message(f"m{i}")) for i in range(100)])
            self.assertEqual(store.batches - batches, expected)
            self.assertEqual(await store.queue_depth(), 100)

    async def test_batch_isolates_errors(self) -> None:
        """A failing call in a batch fails alone; the others in its transaction commit."""
        store = await self.open()
        batches = store.batches
        results: list[Any] = []
        calls = [
            store.add_message(make_message("m1")),
            store.add_message(make_message("m1", to=("13900139000",))),
            store.segment_failed(key("m9"), "x", NOW),
            store.add_message(make_message("m2")),
        ]
        for d in calls:
            d.addBoth(results.append)
        await gatherResults(calls, consumeErrors=True).addErrback(lambda f: None)
        self.assertEqual(store.batches - batches, 1)
        self.assertIsNone(results[0])
        results[1].trap(DuplicateMessage)
        results[2].trap(UnknownSegment)
        self.assertIsNone(results[3])
        self.assertEqual((await store.get_message("m1")).recipients[0].to, "13800138000")
        self.assertIsNotNone(await store.get_message("m2"))

    async def test_failed_call_leaves_no_write(self) -> None:
        """A call that fails half-way is undone whole, alone in its batch or with others."""
        store = await self.open()
        await store.add_message(make_message("m1"))
        alone = store.add_messages([make_message("m2"), make_message("m1")])
        await self.assertFailure(alone, DuplicateMessage)
        self.assertIsNone(await store.get_message("m2"))
        batches = store.batches
        calls = [
            store.add_message(make_message("m3")),
            store.add_messages([make_message("m4"), make_message("m1")]),
            store.add_message(make_message("m5")),
        ]
        results = await DeferredList(calls, consumeErrors=True)
        self.assertEqual(store.batches - batches, 1)
        self.assertEqual([ok for ok, _ in results], [True, False, True])
        results[1][1].trap(DuplicateMessage)
        self.assertIsNone(await store.get_message("m4"))
        self.assertIsNotNone(await store.get_message("m3"))
        self.assertIsNotNone(await store.get_message("m5"))

    async def test_calls_during_commit_join_next_batch(self) -> None:
        """Calls made while a batch commits (e.g. from its callbacks) share the next one."""
        store = await self.open()
        batches = store.batches
        more: list[Deferred[None]] = []

        def then(_: None) -> None:
            more.extend(store.add_message(make_message(f"n{i}")) for i in range(20))

        await store.add_message(make_message("m1")).addCallback(then)
        await gatherResults(more)
        self.assertEqual(store.batches - batches, 2)

    async def test_commit_failure(self) -> None:
        """When the transaction itself fails, every call of the batch fails with it.

        Here another connection holds the write lock past the busy timeout.
        """
        store = await self.open(busy_timeout_ms=50)
        conn = _raw(self.path)
        self.addCleanup(conn.close)
        conn.execute("BEGIN IMMEDIATE")
        calls = [store.add_message(make_message(f"m{i}")) for i in range(3)]
        for d in calls:
            try:
                await d
            except sqlite3.OperationalError as e:
                self.assertIn("locked", str(e))
            else:
                self.fail("a failed transaction acknowledged a call")
        self.flushLoggedErrors(sqlite3.OperationalError)
        conn.execute("ROLLBACK")
        self.assertIsNone(await store.get_message("m0"))
        await store.add_message(make_message("m0"))

    async def test_cancelled_call(self) -> None:
        """Cancelling a call's Deferred does not jam the queue (the change is still made)."""
        store = await self.open()
        d = store.add_message(make_message())
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.assertIsNotNone(await store.get_message("m1"))
        await store.add_message(make_message("m2"))

    # -- indices -----------------------------------------------------------

    async def test_query_plans(self) -> None:
        """The hot lookups use their indices rather than scanning a table."""
        await (await self.open()).close()
        conn = _raw(self.path)
        self.addCleanup(conn.close)

        def plan(sql: str, params: tuple[Any, ...]) -> str:
            rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
            return " | ".join(str(r[-1]) for r in rows)

        self.assertIn("segments_queue", plan(claim_query(False), (NOW, 10)))
        self.assertIn("segments_queue", plan(claim_query(True), (NOW, "cm", 10)))
        self.assertIn("segments_msg_id", plan(report_query(False), ("cm", "1")))
        self.assertIn("segments_msg_id", plan(report_query(True), ("cm", "1", "138")))
        self.assertIn(
            "held_reports_msg_id",
            plan("SELECT 1 FROM held_reports WHERE channel = ? AND msg_id = ?", ("cm", "1")),
        )
        self.assertIn(
            "inbound_unfetched",
            plan("SELECT id FROM inbound WHERE fetched = 0 ORDER BY id LIMIT 5", ()),
        )
        self.assertIn(
            "messages_external_id",
            plan(
                "SELECT seq FROM messages WHERE external_id = ? AND created_at >= ?"
                " ORDER BY created_at DESC, seq DESC LIMIT 1",
                ("e", NOW),
            ),
        )
        self.assertIn(
            "inbound_dedup",
            plan(
                "SELECT 1 FROM inbound WHERE kind = ? AND channel = ? AND dedup_key = ?",
                ("mo", "cm", "1"),
            ),
        )
        self.assertIn("callbacks_due", plan(
            "SELECT id FROM callbacks WHERE state = 'pending' AND next_at <= ?"
            " ORDER BY next_at, id LIMIT 5", (NOW,)))  # fmt: skip
        for sql in (claim_query(False), report_query(False)):
            self.assertNotIn("SCAN s", plan(sql, (NOW, 10) if "due_at" in sql else ("cm", "1")))
        # What runs of jobs look up together: segment counts, and ids of added messages.
        marks = in_list([1, 2])[0]
        self.assertIn("sqlite_autoindex_segments_1", plan(COUNTS_QUERY.format(marks=marks), (1, 2)))
        self.assertIn("COVERING INDEX", plan(IDS_QUERY.format(marks=marks), ("a", "b")))

    async def test_segment_state_values(self) -> None:
        """States are stored as their API text, readable with the sqlite3 shell."""
        store = await self.open()
        await store.add_message(make_message())
        rows = await store._submit(_query, "SELECT state FROM segments")
        self.assertEqual(rows, [(SegmentState.QUEUED.value,)])


class SqliteProcessTests(SqliteTests):
    """The same, with the transactions in a database process (``process=True``)."""

    process = True

    def writer(self, store: SqliteStore) -> int:
        link = store._runner._link  # type: ignore[union-attr]
        assert link is not None
        return int(link.transport.pid)

    async def test_close_ends_writer(self) -> None:
        """close() fires once the database process has finished and exited."""
        store = await self.open()
        pid = self.writer(store)
        added = store.add_message(make_message())
        self.assertIsNotNone(store._runner._shutdown)  # type: ignore[union-attr]
        await store.close()
        self.assertIsNone(await added)
        await _gone(pid, timeout=0.5)
        # No shutdown trigger is left behind to close it again.
        self.assertIsNone(store._runner._shutdown)  # type: ignore[union-attr]

    async def test_reactor_shutdown(self) -> None:
        """At reactor shutdown the store closes: calls made are answered, then the process ends."""
        store = await self.open()
        pid = self.writer(store)
        added = [store.add_message(make_message(f"m{i}")) for i in range(5)]
        await store._runner._stop_at_shutdown()  # type: ignore[union-attr]
        self.assertEqual(await gatherResults(added), [None] * 5)
        await _gone(pid, timeout=0.5)
        await self.assertFailure(store.get_message("m1"), StoreClosed)

    async def test_writer_dies(self) -> None:
        """Calls the database process had not answered fail when it dies; the next starts anew."""
        store = await self.open()
        await store.add_message(make_message("m1"))
        pid = self.writer(store)
        os.kill(pid, signal.SIGSTOP)
        lost = store.add_message(make_message("m2"))
        await deferLater(reactor, 0.01)  # handed over, not answered
        os.kill(pid, signal.SIGKILL)
        error = await self.assertFailure(lost, StoreError)
        self.assertIn("database process ended", str(error))
        self.flushLoggedErrors(StoreError)
        self.assertIsNotNone(await store.get_message("m1"))
        self.assertNotEqual(self.writer(store), pid)
        self.assertIsNone(await store.get_message("m2"))

    async def test_cannot_open(self) -> None:
        """A database the process cannot open fails open() with SQLite's own error."""
        path = os.path.join(self.mktemp(), "missing-dir", "db.sqlite3")
        error = await self.assertFailure(
            SqliteStore.open(path, reactor=reactor, process=True), sqlite3.OperationalError
        )
        self.assertIn("unable to open database file", str(error))

    async def test_cannot_spawn(self) -> None:
        """When a new database process cannot even be spawned, calls fail, at once."""
        store = await self.open()
        await store.add_message(make_message("m1"))
        pid = self.writer(store)
        runner = store._runner
        assert isinstance(runner, _ProcessRunner)

        class Unspawnable:
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                pass

            def connect(self, factory: Any) -> Deferred[Any]:
                return fail(OSError("fork: no memory"))

        os.kill(pid, signal.SIGKILL)
        await _gone(pid)
        while runner._link is not None:
            await deferLater(reactor, 0.01)
        self.patch(runners_module, "ProcessEndpoint", Unspawnable)
        error = await self.assertFailure(store.get_message("m1"), StoreError)
        self.assertIn("could not be started", str(error))
        self.flushLoggedErrors(StoreError)

    async def test_exec_fails(self) -> None:
        """When a new database process dies at once, calls fail rather than hang."""
        store = await self.open()
        await store.add_message(make_message("m1"))
        pid = self.writer(store)
        runner = store._runner
        assert isinstance(runner, _ProcessRunner)
        self.patch(runner, "_argv", ["/nonexistent/python"])
        self.patch(sys, "executable", "/nonexistent/python")
        os.kill(pid, signal.SIGKILL)
        await _gone(pid)
        while runner._link is not None:
            await deferLater(reactor, 0.01)
        await self.assertFailure(store.get_message("m1"), StoreError)
        self.flushLoggedErrors(StoreError)


class WriterTests(SynchronousTestCase):
    """The database process's side of the pipes."""

    def test_unpicklable_error(self) -> None:
        """An error that does not pickle reaches the caller as a StoreError naming it."""

        class Odd(Exception):
            pass

        message = _picklable(("done", [(True, 1), (False, Odd("why"))]))
        self.assertEqual(message[1][0], (True, 1))
        self.assertIsInstance(message[1][1][1], StoreError)
        self.assertEqual(str(message[1][1][1]), "Odd: why")
        failed = _picklable(("failed", Odd("how"), 3))
        self.assertEqual((str(failed[1]), failed[2]), ("Odd: how", 3))

    def test_split_and_merged(self) -> None:
        """It reads its jobs as frames, however the pipe splits them."""
        read, write = os.pipe()
        self.addCleanup(os.close, read)
        frames = _Frames(read)
        frame = [
            len(p).to_bytes(4, "big") + p
            for p in (pickle.dumps([(print, (i,)) for i in range(n)]) for n in (2, 3, 1))
        ]
        data = b"".join(frame)
        cut = len(frame[0]) + 5  # the first frame whole, the second begun
        os.write(write, data[:7])
        os.write(write, data[7:cut])
        self.assertEqual(frames.take(10), [(print, (0,)), (print, (1,))])
        os.write(write, data[cut:])
        self.assertEqual(frames.take(3), [(print, (0,)), (print, (1,)), (print, (2,))])
        self.assertEqual(frames.take(3), [(print, (0,))])
        os.close(write)
        self.assertIsNone(frames.take(3))


class _Counting(sqlite3.Connection):
    """A connection that counts the statements it is asked to run (``executemany`` as one)."""

    calls = 0

    def execute(self, *args: Any) -> sqlite3.Cursor:
        self.calls += 1
        return super().execute(*args)

    def executemany(self, *args: Any) -> sqlite3.Cursor:
        self.calls += 1
        return super().executemany(*args)


class SharedStatementsTests(SynchronousTestCase):
    """Consecutive jobs of a kind share their statements: the count does not grow with them."""

    def setUp(self) -> None:
        self.conn = sqlite3.connect(self.mktemp(), isolation_level=None, factory=_Counting)
        self.addCleanup(self.conn.close)
        migrate(self.conn, NOW)
        self.hot = Hot()

    def batch(self, jobs: list[Job]) -> tuple[int, list[Any]]:
        """Run *jobs* as one batch: the statements it took and the values (all must succeed)."""
        before = self.conn.calls
        results = run_batch(self.conn, jobs, self.hot)
        for ok, value in results:
            self.assertTrue(ok, value)
        return self.conn.calls - before, [value for _, value in results]

    def cycle(self, n: int, first: int) -> list[int]:
        """Statements to add, claim, record and report *n* one-number messages, per batch."""
        ids = [f"m{first + i}" for i in range(n)]
        added, _ = self.batch([(_add_message, (make_message(i),)) for i in ids])
        claimed, [works] = self.batch([(_claim_due, (NOW, n, None))])
        self.assertEqual(len(works), n)
        records = [SubmitRecord(w.key, 0, f"x{w.key.message_id}", NOW) for w in works]
        submitted, _ = self.batch([(_submitted_many, ([r],)) for r in records])
        reported, outcomes = self.batch(
            [
                (_record_report, (StatusReport.of("cm", r.msg_id, "DELIVRD", NOW), "http://a/r"))
                for r in records
            ]
        )
        self.assertEqual({o.message_status for o in outcomes}, {MessageStatus.DELIVERED})
        return [added, claimed, submitted, reported]

    def test_cycle(self) -> None:
        """Adding, claiming, recording and reporting 40 messages takes what 4 take."""
        few = self.cycle(4, 100)
        self.assertEqual(self.cycle(40, 200), few)
        # Each: BEGIN, COMMIT.  Adding: the ids looked up, the next seq, three INSERTs.
        # Claiming: SELECT, UPDATE, the messages' segment counts, their statuses.
        # SUBMIT_RESPs: whether a report is held, the counts, the UPDATE (in a
        # SAVEPOINT), the statuses.  Reports: the counts, the UPDATE (in a
        # SAVEPOINT), the statuses, the items, the pushes.
        self.assertEqual(few, [2 + 5, 2 + 4, 2 + 1 + 1 + 3 + 1, 2 + 1 + 3 + 1 + 2])
        rows = self.conn.execute("SELECT COUNT(*) FROM inbound").fetchone()[0]
        pushes = self.conn.execute("SELECT COUNT(*) FROM callbacks").fetchone()[0]
        self.assertEqual((rows, pushes), (44, 44))


class _FakeRunner:
    """A runner that records what it is handed and answers only when told."""

    def __init__(self) -> None:
        self.handed: list[list[Job]] = []
        self.is_busy = False
        self.finished: Any = None
        self.lost: Any = None

    def busy(self) -> bool:
        return self.is_busy

    def hand(self, jobs: list[Job]) -> None:
        self.handed.append(jobs)
        self.is_busy = True

    def answer(self, n: int) -> None:
        """The oldest *n* jobs handed over are done, each answering its own position."""
        self.is_busy = False
        self.finished([(True, i) for i in range(n)], n)


class BatcherTests(SynchronousTestCase):
    """How SqlStore groups calls into what it hands to its runner (batch and busy windows)."""

    def store(self, busy_window_s: float) -> tuple[SqlStore, _FakeRunner, Clock]:
        runner, clock = _FakeRunner(), Clock()
        store = SqlStore(
            runner,  # type: ignore[arg-type]
            clock,
            batch_window_s=0.002,
            busy_window_s=busy_window_s,
        )
        return store, runner, clock

    def test_idle_runner_waits_batch_window(self) -> None:
        """Calls made while the runner is idle go over together after batch_window_s."""
        store, runner, clock = self.store(0.001)
        first, second = store.queue_depth(), store.queue_depth()
        clock.advance(0.0019)
        self.assertEqual(runner.handed, [])
        clock.advance(0.0001)
        self.assertEqual([len(jobs) for jobs in runner.handed], [2])
        runner.answer(2)
        self.assertEqual((self.successResultOf(first), self.successResultOf(second)), (0, 1))

    def test_busy_runner_waits_busy_window(self) -> None:
        """Calls made while the runner is busy gather for busy_window_s, then go as one hand."""
        store, runner, clock = self.store(0.001)
        store.queue_depth()
        clock.advance(0.002)
        later = [store.queue_depth()]
        clock.advance(0.0005)
        later.append(store.queue_depth())
        self.assertEqual(len(runner.handed), 1)
        clock.advance(0.0005)
        self.assertEqual([len(jobs) for jobs in runner.handed], [1, 2])
        runner.answer(1)
        self.assertNoResult(later[0])
        runner.answer(2)
        self.assertEqual([self.successResultOf(d) for d in later], [0, 1])

    def test_no_busy_window(self) -> None:
        """With busy_window_s 0 (a database thread) a busy runner is handed each turn's calls."""
        store, runner, clock = self.store(0.0)
        store.queue_depth()
        clock.advance(0.002)
        store.queue_depth()
        clock.advance(0)
        store.queue_depth()
        clock.advance(0)
        self.assertEqual([len(jobs) for jobs in runner.handed], [1, 1, 1])
