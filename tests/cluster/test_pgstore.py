"""Several :class:`~smsgw.store.postgres.PostgresStore` nodes on one real PostgreSQL database.

Each test opens two or three stores (nodes) on an empty database of the
process's server (:mod:`tests.cluster.shared`); their calls run at once on
their own connections, so the races are PostgreSQL's own.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from smsgw.store.interface import (
    DuplicateMessage,
    IClusterStore,
    IMessageStore,
    SchemaTooNew,
    StoreUnavailable,
)
from smsgw.store.model import (
    Inbound,
    InboundKind,
    MessageStatus,
    MoGroup,
    MoPart,
    ReportMatch,
    SegmentKey,
    SegmentState,
    SubmitRecord,
    derive_status,
)
from smsgw.store.postgres import PostgresStore
from smsgw.store.postgres.link import (
    INBOUND_LOCK,
    LOCK_TIMEOUT_MS,
    ClusterHot,
    Link,
    PostgresDialect,
    run_pg_batch,
    translate,
)
from smsgw.store.postgres.schema import MIGRATIONS
from tests.cluster import shared
from tests.store.test_contract import NOW, make_message

#: The checkout (the child process imports smsgw and tests from it).
_ROOT = str(Path(__file__).resolve().parents[2])

#: How many more times :func:`_flaky` fails.
_FAILURES = [0]


def _flaky(tx: Any, name: str) -> str:
    """A job that writes a row, then fails as PostgreSQL fails a transaction it gives up."""
    import psycopg

    tx.execute("INSERT INTO templates VALUES (?, 'plain', '', 0, 0)", (name,))
    if _FAILURES[0]:
        _FAILURES[0] -= 1
        raise psycopg.errors.DeadlockDetected("deadlock detected (test)")
    return name


class _Nodes(TestCase):
    """Opens stores on an empty database; closes them at the end."""

    skip = shared.SKIP

    async def setUp(self) -> None:
        self.server = shared.postgres()

    async def node(self, name: str) -> PostgresStore:
        store = await PostgresStore.open(self.server.url, reactor, node=name)
        self.addCleanup(store.close)
        return store

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of *query* on a connection of the test's own."""
        import psycopg

        with psycopg.connect(self.server.url, autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    async def add(self, store: PostgresStore, count: int, **kwargs: Any) -> list[SegmentKey]:
        """*count* messages of one segment each; their keys."""
        messages = [make_message(f"m{i}", **kwargs) for i in range(count)]
        await store.add_messages(messages)
        return [SegmentKey(m.id, 0, 1) for m in messages]


class ClaimTests(_Nodes):
    async def test_interfaces(self) -> None:
        """A PostgresStore provides IMessageStore and IClusterStore, with its node name."""
        store = await self.node("a")
        verifyObject(IMessageStore, store)
        verifyObject(IClusterStore, store)
        self.assertEqual(store.node, "a")

    async def test_no_double_claims(self) -> None:
        """Two nodes claiming at once never get the same segment, and together get them all."""
        a, b = await self.node("a"), await self.node("b")
        keys = await self.add(a, 300)
        got: dict[str, list[SegmentKey]] = {"a": [], "b": []}
        while True:
            works = await gatherResults(
                [a.claim_due(NOW, 7), b.claim_due(NOW, 7), a.claim_due(NOW, 5)]
            )
            if not any(works):
                break
            got["a"] += [w.key for w in works[0] + works[2]]
            got["b"] += [w.key for w in works[1]]
        both = got["a"] + got["b"]
        self.assertEqual(len(both), len(set(both)))
        self.assertEqual(set(both), set(keys))
        self.assertTrue(got["a"] and got["b"])
        claimed = dict(self.sql("SELECT claimed_by, COUNT(*) FROM segments GROUP BY claimed_by"))
        self.assertEqual(claimed, {"a": len(got["a"]), "b": len(got["b"])})

    async def test_requeue_own_node_only(self) -> None:
        """requeue_submitting at a node's start takes back its own claims, not a live peer's."""
        a, b = await self.node("a"), await self.node("b")
        await self.add(a, 6)
        mine = await a.claim_due(NOW, 2)
        theirs = await b.claim_due(NOW, 3)
        await a.close()
        again = await self.node("a")  # the same node, started again
        self.assertEqual(await again.requeue_submitting(), 2)
        for work in mine:
            message = await b.get_message(work.key.message_id)
            self.assertEqual(message.recipients[0].segments[0].state, SegmentState.QUEUED)
        for work in theirs:
            message = await b.get_message(work.key.message_id)
            self.assertEqual(message.recipients[0].segments[0].state, SegmentState.SUBMITTING)
            self.assertEqual(message.status, MessageStatus.SUBMITTING)
        self.assertEqual(await b.queue_depth(), 3)

    async def test_reclaim_stale(self) -> None:
        """reclaim_stale puts back any node's claims made before the time, and only those."""
        a, b = await self.node("a"), await self.node("b")
        await self.add(a, 5)
        await a.claim_due(NOW, 2)
        await b.claim_due(NOW + 30, 2)
        self.assertEqual(await b.reclaim_stale(NOW), 0)
        self.assertEqual(await b.reclaim_stale(NOW + 10), 2)
        self.assertEqual(await a.queue_depth(), 3)
        works = await b.claim_due(NOW + 40, 10)
        self.assertEqual(len(works), 3)
        self.assertEqual({w.attempts for w in works}, {1, 2})
        rows = self.sql("SELECT status FROM messages WHERE status != 'submitting'")
        self.assertEqual(rows, [])

    async def test_duplicate_id_on_two_nodes(self) -> None:
        """The same message id added on two nodes at once is stored once; the other is refused."""
        a, b = await self.node("a"), await self.node("b")
        for i in range(10):
            message = make_message(f"x{i}")
            results = await gatherResults(
                [a.add_message(message).addErrback(lambda f: f.value),
                 b.add_message(message).addErrback(lambda f: f.value)]
            )  # fmt: skip
            self.assertEqual(sorted(type(r).__name__ for r in results),
                             ["DuplicateMessage", "NoneType"])  # fmt: skip
            self.assertIsInstance(next(r for r in results if r), DuplicateMessage)


#: A node in a process of its own: adds messages, claims some, says so, then waits to be killed.
_NODE = """
import sys
from twisted.internet import defer, task
from smsgw.store.postgres import PostgresStore
from tests.store.test_contract import NOW, make_message

async def main(reactor):
    store = await PostgresStore.open(sys.argv[1], reactor, node="killed")
    await store.add_messages([make_message(f"k{i}") for i in range(20)])
    works = await store.claim_due(NOW, 8)
    print(len(works), flush=True)
    await defer.Deferred()

task.react(lambda reactor: defer.Deferred.fromCoroutine(main(reactor)))
"""


class KillTests(_Nodes):
    async def test_killed_node_loses_nothing(self) -> None:
        """A node killed with kill -9 leaves its messages; its claims come back after a while."""
        peer = await self.node("peer")
        child = subprocess.Popen(
            [sys.executable, "-c", _NODE, self.server.url],
            stdout=subprocess.PIPE, cwd=os.getcwd(), env={**os.environ, "PYTHONPATH": _ROOT},
        )  # fmt: skip
        self.addCleanup(child.wait)
        self.addCleanup(child.kill)
        assert child.stdout is not None
        claimed = int(await deferToThread(child.stdout.readline))
        os.kill(child.pid, signal.SIGKILL)
        self.assertEqual(claimed, 8)
        self.assertEqual(await peer.queue_depth(), 12)
        self.assertEqual(await peer.requeue_submitting(), 0)  # not the peer's claims
        self.assertEqual(await peer.reclaim_stale(NOW - 60), 0)  # claimed at NOW: not stale yet
        self.assertEqual(await peer.reclaim_stale(NOW + 60), 8)
        works = await peer.claim_due(NOW + 60, 100)
        self.assertEqual(sorted(w.key.message_id for w in works),
                         sorted(f"k{i}" for i in range(20)))  # fmt: skip


class ReportTests(_Nodes):
    async def test_report_on_the_other_node(self) -> None:
        """A report recorded on node B matches the segment node A submitted."""
        a, b = await self.node("a"), await self.node("b")
        [k] = await self.add(a, 1)
        await a.claim_due(NOW, 1)
        await a.segment_submitted(k, 0, "42", NOW + 1)
        outcome = await b.record_report("cm", "42", "DELIVRD", NOW + 2, callback_url="http://app")
        self.assertEqual((outcome.match, outcome.keys), (ReportMatch.MATCHED, (k,)))
        message = await a.get_message(k.message_id)
        self.assertEqual(message.status, MessageStatus.DELIVERED)
        [item] = await a.fetch_inbound(10)
        self.assertEqual(item.fields["msg_id"], "42")

    async def test_reused_msg_id_newest_owns(self) -> None:
        """A Msg_Id a peer reused for a newer message: the report goes to the newer one."""
        a, b = await self.node("a"), await self.node("b")
        await a.add_message(make_message("old"))
        await b.add_message(make_message("new"))
        [old] = await a.claim_due(NOW, 1)
        [new] = await b.claim_due(NOW, 1)
        self.assertEqual((old.key.message_id, new.key.message_id), ("old", "new"))
        await a.segment_submitted(old.key, 0, "X", NOW + 1)
        await b.segment_submitted(new.key, 0, "X", NOW + 2)
        outcome = await a.record_report("cm", "X", "DELIVRD", NOW + 3)
        self.assertEqual(outcome.message_id, "new")
        self.assertEqual((await a.get_message("old")).status, MessageStatus.SUBMITTED)

    async def test_held_report_across_nodes(self) -> None:
        """A report that overtakes its SUBMIT_RESP on another node is held, then applied."""
        a, b = await self.node("a"), await self.node("b")
        [k] = await self.add(a, 1)
        await a.claim_due(NOW, 1)
        held = await b.record_report("cm", "42", "DELIVRD", NOW + 1)
        self.assertEqual(held.match, ReportMatch.HELD)
        [outcome] = await a.segment_submitted(k, 0, "42", NOW + 2)
        self.assertEqual(outcome.match, ReportMatch.MATCHED)
        self.assertEqual((await b.get_message(k.message_id)).status, MessageStatus.DELIVERED)

    async def test_report_racing_submit_resp(self) -> None:
        """A report and its SUBMIT_RESP recorded at once on two nodes always meet: none is lost."""
        a, b = await self.node("a"), await self.node("b")
        keys = await self.add(a, 60)
        await a.claim_due(NOW, 100)
        outcomes = await gatherResults(
            [d for i, k in enumerate(keys)
             for d in (a.segment_submitted(k, 0, f"id{i}", NOW + 1),
                       b.record_report("cm", f"id{i}", "DELIVRD", NOW + 1))]
        )  # fmt: skip
        # Each pair matched once: by the report, or by the SUBMIT_RESP that found it held.
        flat = [o for x in outcomes for o in (x if isinstance(x, list) else [x])]
        matched = [o for o in flat if o.match is ReportMatch.MATCHED]
        self.assertEqual(len(matched), len(keys))
        self.assertEqual({o.keys[0] for o in matched}, set(keys))
        self.assertEqual(self.sql("SELECT COUNT(*) FROM held_reports"), [(0,)])
        self.assertEqual(self.sql("SELECT DISTINCT state FROM segments"), [("delivered",)])
        self.assertEqual(len(await b.fetch_inbound(1000)), len(keys))

    async def test_reports_on_two_nodes_do_not_deadlock(self) -> None:
        """Runs of reports on two nodes touching the same messages take them in one order."""
        a, b = await self.node("a"), await self.node("b")
        to = tuple(f"1380013{n:04d}" for n in range(5))
        await a.add_messages([make_message(f"m{i}", to=to) for i in range(60)])
        works = await a.claim_due(NOW, 1000)
        ids = [f"{w.key.message_id}.{w.key.recipient}" for w in works]
        await a.segment_submitted_many(
            [SubmitRecord(w.key, 0, i, NOW) for w, i in zip(works, ids, strict=True)]
        )
        before = self.deadlocks()
        random.Random(3).shuffle(ids)
        calls = [(a, b)[n % 2].record_report("cm", i, "DELIVRD", NOW) for n, i in enumerate(ids)]
        outcomes = await gatherResults(calls)
        self.assertEqual({o.match for o in outcomes}, {ReportMatch.MATCHED})
        self.assertEqual(self.deadlocks(), before)
        self.assertEqual(self.sql("SELECT DISTINCT status FROM messages"), [("delivered",)])

    def deadlocks(self) -> int:
        """How many deadlocks the server has broken so far (from its log)."""
        with open(self.server.log_path, encoding="utf-8", errors="replace") as log:
            return log.read().count("deadlock detected")

    async def test_status_under_concurrency(self) -> None:
        """messages.status stays derive_status of the segments while two nodes change them."""
        a, b = await self.node("a"), await self.node("b")
        messages = [make_message(f"m{i}", to=tuple(f"1380013{n:04d}" for n in range(12)),
                                 segments=2) for i in range(4)]  # fmt: skip
        await a.add_messages(messages)
        rnd = random.Random(7)
        claimed = await gatherResults([a.claim_due(NOW, 50), b.claim_due(NOW, 50)])
        ids: dict[SegmentKey, str] = {}
        calls: list[Deferred[Any]] = []
        for store, works in zip((a, b), claimed, strict=True):
            for w in works:
                ids[w.key] = f"{w.key.message_id}-{w.key.recipient}-{w.key.pk_number}"
                if rnd.random() < 0.1:
                    calls.append(store.segment_failed(w.key, "x", NOW + 1))
                else:
                    calls.append(store.segment_submitted_many(
                        [SubmitRecord(w.key, 0, ids[w.key], NOW + 1)]))  # fmt: skip
        await gatherResults(calls)
        # Reports arrive on either node, in any order.
        reports = list(ids.items())
        rnd.shuffle(reports)
        await gatherResults(
            [rnd.choice((a, b)).record_report(
                "cm", msg_id, rnd.choice(("DELIVRD", "UNDELIV")), NOW + 2)
             for _, msg_id in reports[: len(reports) * 3 // 4]]
        )  # fmt: skip
        for message in messages:
            got = await a.get_message(message.id)
            [(column,)] = self.sql("SELECT status FROM messages WHERE id = %s", message.id)
            states = [s.state for r in got.recipients for s in r.segments]
            self.assertEqual(column, str(derive_status(states)), message.id)


class CallbackTests(_Nodes):
    async def test_callbacks_claimed_once(self) -> None:
        """Two nodes polling at once get each due push once; one not done is due after its lease."""
        a, b = await self.node("a"), await self.node("b")
        ids = [await a.add_callback(InboundKind.MO, "http://app", "{}", NOW) for _ in range(40)]
        got: list[int] = []
        for _ in range(10):
            batches = await gatherResults([a.due_callbacks(NOW, 3), b.due_callbacks(NOW, 4)])
            got += [c.id for batch in batches for c in batch]
        self.assertEqual(sorted(got), ids)
        self.assertEqual(await b.due_callbacks(NOW + a.callback_lease_s - 1, 100), [])
        for callback_id in ids[:30]:
            await a.callback_done(callback_id, NOW + 1)
        again = await b.due_callbacks(NOW + a.callback_lease_s, 100)
        self.assertEqual([c.id for c in again], ids[30:])

    async def test_fetch_inbound_once(self) -> None:
        """Two nodes fetching inbound items at once never get the same item, and get them all."""
        a, b = await self.node("a"), await self.node("b")
        for i in range(60):
            await (a if i % 2 else b).add_inbound(Inbound(InboundKind.MO, "cm", {"n": i}, NOW))
        got: list[int] = []
        while True:
            batches = await gatherResults([a.fetch_inbound(4), b.fetch_inbound(3)])
            if not any(batches):
                break
            got += [item.id for batch in batches for item in batch]
        self.assertEqual(len(got), len(set(got)))
        self.assertEqual(len(got), 60)

    async def test_cursor_waits_for_items_being_added(self) -> None:
        """list_inbound waits for an item still being added, so a cursor never passes over it."""
        import psycopg

        a = await self.node("a")
        await a.add_inbound(Inbound(InboundKind.MO, "cm", {"n": 1}, NOW))
        # A peer's transaction adding an item, not committed yet (as PostgresDialect does).
        peer = psycopg.connect(self.server.url, autocommit=True)
        self.addCleanup(peer.close)
        peer.execute("BEGIN")
        peer.execute(f"SELECT pg_advisory_xact_lock_shared({INBOUND_LOCK})")
        peer.execute("INSERT INTO inbound (kind, channel, fields, created_at)"
                     " VALUES ('mo', 'cm', '{}', %s)", (NOW,))  # fmt: skip
        await a.add_inbound(Inbound(InboundKind.MO, "cm", {"n": 3}, NOW))  # adding does not wait
        listed = a.list_inbound(0, 10)
        await self.waiting_for_lock(listed)
        self.assertNoResult(listed)
        peer.execute("COMMIT")
        self.assertEqual([item.id for item in await listed], [1, 2, 3])

    async def waiting_for_lock(self, d: Deferred[Any]) -> None:
        """Until a session waits for an advisory lock (or *d* has fired)."""
        while not d.called and not self.sql(
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ):
            await deferLater(reactor, 0.01)


class LongMoTests(_Nodes):
    """A long MO's held parts are the ticket of its item: one node stores it (docs/scale-out.md)."""

    async def hold(self, a: PostgresStore, group: MoGroup) -> None:
        for number in range(1, group.total + 1):
            await a.add_mo_part(MoPart(group, number, b"p", 1, 0, NOW, f"m{number}"))

    def item(self, node: str) -> Inbound:
        return Inbound(InboundKind.MO, "cm", {"text": "whole"}, NOW, dedup_key=node)

    async def test_one_item_when_both_delete_at_once(self) -> None:
        """Both nodes' deletes wait on the parts' rows; once free, one adds its item and the
        other, its DELETE re-reading the deleted rows (READ COMMITTED), adds nothing."""
        import psycopg

        a, b = await self.node("a"), await self.node("b")
        group = MoGroup("cm", "13800138000", "10690", 7, 2)
        await self.hold(a, group)
        holder = psycopg.connect(self.server.url)
        self.addCleanup(holder.close)
        holder.execute("SELECT id FROM mo_parts FOR UPDATE")
        both = gatherResults(
            [a.add_inbound(self.item("a"), parts=group), b.add_inbound(self.item("b"), parts=group)]
        )
        while not both.called and len(self.sql(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        )) < 2:  # fmt: skip
            await deferLater(reactor, 0.005)
        holder.commit()
        results = await both
        self.assertEqual(sum(r is not None for r in results), 1)
        self.assertEqual(len(self.sql("SELECT id FROM inbound")), 1)
        self.assertEqual(self.sql("SELECT id FROM mo_parts"), [])

    async def test_one_item_a_group_under_a_race(self) -> None:
        """Groups whose item both nodes add at once: one item each."""
        a, b = await self.node("a"), await self.node("b")
        groups = [MoGroup("cm", "13800138000", "10690", reference, 3) for reference in range(20)]
        for group in groups:
            await self.hold(a, group)
        results = await gatherResults(
            [store.add_inbound(self.item(f"{store.node}{g.reference}"), parts=g)
             for g in groups for store in (a, b)]
        )  # fmt: skip
        self.assertEqual(sum(r is not None for r in results), len(groups))
        self.assertEqual(len(self.sql("SELECT id FROM inbound")), len(groups))
        self.assertEqual(self.sql("SELECT id FROM mo_parts"), [])


class SchemaTests(_Nodes):
    async def test_versions_match_sqlite(self) -> None:
        """The schema has SQLite's versions, each recorded once; opening again is a no-op."""
        from smsgw.store import migrations

        self.assertEqual([v for v, _ in MIGRATIONS], [v for v, _ in migrations.MIGRATIONS])
        # At once, on an empty database.
        await gatherResults([Deferred.fromCoroutine(self.node(name)) for name in "ab"])
        versions = [v for (v,) in self.sql("SELECT version FROM schema_version ORDER BY 1")]
        self.assertEqual(versions, [v for v, _ in MIGRATIONS])
        await self.node("c")
        self.assertEqual(len(self.sql("SELECT version FROM schema_version")), len(MIGRATIONS))

    async def test_migration_waits_for_a_peers(self) -> None:
        """A node starting while a peer migrates waits for it, longer than the lock timeout."""
        import psycopg

        from smsgw.store.postgres.schema import _MIGRATION_LOCK

        peer = psycopg.connect(self.server.url, autocommit=True)
        self.addCleanup(peer.close)
        peer.execute("BEGIN")
        peer.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        opened = Deferred.fromCoroutine(self.node("a"))
        while not opened.called and not self.sql(
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ):
            await deferLater(reactor, 0.01)
        await deferLater(reactor, 3 * LOCK_TIMEOUT_MS / 1000)
        self.assertNoResult(opened)
        peer.execute("COMMIT")
        self.assertEqual((await opened).node, "a")

    async def test_schema_too_new(self) -> None:
        """A database written by a newer smsgw is refused with SchemaTooNew."""
        await (await self.node("a")).close()
        self.sql("INSERT INTO schema_version VALUES (%s, %s) RETURNING version", 99, NOW)
        try:
            await PostgresStore.open(self.server.url, reactor, node="a")
        except SchemaTooNew as e:
            self.assertIn("version 99", str(e))
        else:
            self.fail("opened a newer database")

    def test_translate(self) -> None:
        """The job functions' SQLite statements read as PostgreSQL's."""
        self.assertEqual(
            translate("SELECT 1 FROM t WHERE a = ? AND b IS ? AND c LIKE '%x'"),
            ("SELECT 1 FROM t WHERE a = %s AND b IS NOT DISTINCT FROM %s AND c LIKE '%%x'",
             False),
        )  # fmt: skip
        self.assertEqual(
            translate("INSERT OR IGNORE INTO mo_parts (a) VALUES (?)"),
            ("INSERT INTO mo_parts (a) VALUES (%s) ON CONFLICT DO NOTHING", False),
        )
        self.assertEqual(
            translate("INSERT INTO inbound (a) VALUES (?)"),
            ("INSERT INTO inbound (a) VALUES (%s) RETURNING id", True),
        )
        self.assertEqual(translate("INSERT INTO inbound (a) VALUES (?)", True)[1], False)


class ConnectionTests(_Nodes):
    async def test_reconnects(self) -> None:
        """A connection the server closed while idle is opened again; the call does not notice."""
        a = await self.node("a")
        await self.add(a, 1)
        self.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                 " WHERE application_name = 'smsgw a'")  # fmt: skip
        self.assertEqual(await a.queue_depth(), 1)

    async def test_deadlock_retried(self) -> None:
        """A batch PostgreSQL gives up (deadlock) runs again from the start; nothing doubles."""
        link = Link(self.server.url, reactor, PostgresDialect("t"))
        self.addCleanup(link.close)
        await (await self.node("a")).close()  # the schema
        _FAILURES[0] = 2
        results = await link.runWithConnection(
            lambda link: run_pg_batch(link, [(_flaky, ("x",)), (_flaky, ("y",))], ClusterHot())
        )
        self.assertEqual(results, [(True, "x"), (True, "y")])
        self.assertEqual(self.sql("SELECT name FROM templates ORDER BY name"), [("x",), ("y",)])
        _FAILURES[0] = Link.attempts
        results = await link.runWithConnection(
            lambda link: run_pg_batch(link, [(_flaky, ("z",))], ClusterHot())
        ).addErrback(lambda f: f.value)
        self.assertEqual(type(results).__name__, "DeadlockDetected")
        self.assertEqual(len(self.sql("SELECT name FROM templates")), 2)

    async def test_lock_wait_given_up_and_retried(self) -> None:
        """A message row locked by another transaction for longer than LOCK_TIMEOUT_MS: the
        batch gives up its wait, runs again, and succeeds once the row is free."""
        import psycopg

        a = await self.node("a")
        [key] = await self.add(a, 1)
        self.assertEqual(len(await a.claim_due(NOW + 1, 10)), 1)
        holder = psycopg.connect(self.server.url)
        self.addCleanup(holder.close)
        holder.execute("SELECT seq FROM messages FOR UPDATE")
        d = a.segment_failed(key, "test", NOW + 2)
        await deferLater(reactor, 3 * LOCK_TIMEOUT_MS / 1000, lambda: None)
        self.assertNoResult(d)
        holder.commit()
        await d
        self.assertEqual(self.sql("SELECT state FROM segments"), [("failed",)])
        with open(self.server.log_path, encoding="utf-8") as log:
            self.assertIn("lock timeout", log.read())

    async def test_server_down(self) -> None:
        """With the server down a call fails with StoreUnavailable; once it is back, calls work."""
        a = await self.node("a")
        await self.add(a, 1)
        self.server.stop(remove=False)
        try:
            try:
                await a.queue_depth()
            except StoreUnavailable as e:
                self.assertIn("PostgreSQL", str(e))
                self.flushLoggedErrors(StoreUnavailable)
            else:
                self.fail("a call succeeded with the server down")
        finally:
            self.server.start()
        self.assertEqual(await a.queue_depth(), 1)
