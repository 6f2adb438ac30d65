"""Several real ``sp`` processes on one PostgreSQL store and one Redis, one ``ismg-sim``.

Everything runs as it would in production, on loopback: the servers from
Debian's packages (:mod:`smsgw.servers`), the nodes and the simulator as
``python -m twisted smsgw`` subprocesses (:class:`smsgw.bench.nodes.Cluster`,
what ``smsgw bench --nodes`` runs).  No mock of Redis or PostgreSQL.  Each
test is bounded by :data:`DEADLINE_S` and stops its processes itself.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from smsgw import servers
from smsgw.bench.http import free_port
from smsgw.bench.nodes import Cluster, links
from tests.test_durability import _can_spawn, _Receiver, _wait

_MISSING = servers.missing()
_SKIP = f"missing: {', '.join(_MISSING)}" if _MISSING else _can_spawn()

#: Seconds a test's sending may take, after its processes started.
DEADLINE_S = 120.0


def _until(what: str, check: Callable[[], Any], deadline_s: float = DEADLINE_S) -> Any:
    """*check*'s first true answer, asked every 50 ms; AssertionError after *deadline_s*."""
    return _wait(what, check, time.monotonic() + deadline_s)


class NodesTests(SynchronousTestCase):
    skip = _SKIP

    def cluster(self, nodes: int, **settings: Any) -> Cluster:
        cluster = Cluster(tempfile.mkdtemp(prefix="smsgw-nodes-test-"), nodes, **settings)
        self.addCleanup(cluster.stop)
        cluster.start()
        return cluster

    def receiver(self) -> tuple[str, list[dict[str, Any]]]:
        """The application's report URL, and the bodies pushed to it."""
        port = free_port()
        receiver = _Receiver(port)
        self.addCleanup(receiver.close)
        return f"http://127.0.0.1:{port}/reports", receiver.bodies

    def test_report_reaches_the_node_that_did_not_send(self) -> None:
        """One session between two nodes: messages posted to the node without it are sent by
        the other; every report is stored once, readable on both, and pushed once."""
        url, pushed = self.receiver()
        cluster = self.cluster(2, sessions=1, report_url=url)
        self.assertEqual(cluster.sim_sessions(), 1)
        sending = _until("a node links", lambda: [n for n in cluster.nodes if _linked(n)])
        idle = [n for n in cluster.nodes if n not in sending]
        self.assertEqual(len(idle), 1, "the session cap of 1 let both nodes link")
        accepted = cluster.post(300, nodes=idle)
        got = cluster.wait_reports(set(accepted), 300, DEADLINE_S, node=idle[0])
        self.assertEqual(set(got.values()), {100})  # a report for each of a request's 100
        self.assertEqual(cluster.node_submits(), [
            300 if n in sending else 0 for n in cluster.nodes
        ])  # fmt: skip
        _until("300 pushes", lambda: len(pushed) >= 300)
        time.sleep(1.0)  # a second push of any report would come within the pusher's poll
        ids = Counter(body["message_id"] for body in pushed)
        self.assertEqual(len(pushed), 300, "a report was pushed twice or not at all")
        self.assertEqual(set(ids), set(accepted))

    def test_session_cap_held_across_nodes(self) -> None:
        """Three nodes, an account of two sessions: two links in all, never a refused login;
        when a node holding one dies, another node takes the slot."""
        cluster = self.cluster(3, sessions=2)
        _until("the slots spread over two nodes", lambda: sum(map(_linked, cluster.nodes)) == 2)
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            self.assertLessEqual(cluster.sim_sessions(), 2)
            time.sleep(0.2)
        self.assertEqual(cluster.sim_sessions(), 2)
        self.assertNotIn("logins_refused", cluster.sim.stats())
        holders = [n for n in cluster.nodes if _linked(n)]
        self.assertEqual(len(holders), 2, "links per node: one each, or two on one")
        holders[0].kill()
        alive = [n for n in cluster.nodes if n is not holders[0]]
        _until(
            "the freed slot is taken",
            lambda: cluster.sim_sessions() == 2 and sum(links(n) for n in alive) == 2,
        )
        self.assertNotIn("logins_refused", cluster.sim.stats())

    def test_shared_tps_limit(self) -> None:
        """Two nodes, one session each, an account limit of 200 SUBMITs/s: together they
        stay within 5 % of it, and both send."""
        cluster = self.cluster(2, sessions=2, tps=200)
        _until("both nodes link", lambda: all(_linked(n) for n in cluster.nodes))
        accepted = cluster.post(1500)
        cluster.wait_reports(set(accepted), 1500, DEADLINE_S)
        # A second at a time after the first 2 s (the bucket starts full: a burst of one
        # second's worth), the median: a burst after a stall of the loaded machine lands in
        # one second and does not count.
        rate = cluster.submit_rate(skip_s=2.0)
        self.assertLessEqual(rate, 200 * 1.05, f"combined {rate:.1f}/s over the limit")
        self.assertGreater(rate, 200 * 0.8, f"combined {rate:.1f}/s: the limit starved them")
        # And the hard bound over the whole run: rate·t + burst, plus a 50 ms chunk a node.
        times = cluster.submit_times()
        self.assertLessEqual(len(times), 200 * (times[-1] - times[0]) + 200 + 2 * 10 + 1)
        per_node = cluster.node_submits()
        self.assertEqual(sum(per_node), 1500)
        self.assertTrue(all(n > 300 for n in per_node), per_node)

    def test_kill_one_node_mid_run(self) -> None:
        """10,000 messages over two nodes, one killed with kill -9 a third of the way: the
        other finishes its work; nothing accepted is lost, duplicates only from its window."""
        cluster = self.cluster(2, sessions=2, tps=1000, window=16, visibility_s=5.0)
        _until("both nodes link", lambda: all(_linked(n) for n in cluster.nodes))
        accepted = cluster.post(10_000)
        numbers = {n for ns in accepted.values() for n in ns}
        self.assertEqual(len(numbers), 10_000)
        _until("a third sent", lambda: cluster.sim.stats().get("submits", 0) >= 3300)
        victim, survivor = cluster.nodes
        victim.kill()
        got = cluster.wait_reports(set(accepted), 10_000, DEADLINE_S, node=survivor)
        self.assertEqual(sum(got.values()), 10_000)
        dests = Counter(d for s in cluster.sim.submits() for d in s["dest"])
        self.assertEqual(set(dests), numbers, "a number never reached the carrier")
        twice = sum(n - 1 for n in dests.values())
        # What the victim had claimed: at most its capacity (2 × sessions × window).
        self.assertLessEqual(twice, 2 * 1 * 16 * 2)

    def test_redis_restarted_mid_run(self) -> None:
        """Redis restarted while two nodes send: they pause, then finish; nothing lost."""
        cluster = self.cluster(2, sessions=2, tps=500)
        _until("both nodes link", lambda: all(_linked(n) for n in cluster.nodes))
        accepted = cluster.post(3000)
        _until("some sent", lambda: cluster.sim.stats().get("submits", 0) >= 500)
        cluster.redis.restart(down_s=1.0)
        got = cluster.wait_reports(set(accepted), 3000, DEADLINE_S)
        self.assertEqual(sum(got.values()), 3000)
        dests = {d for s in cluster.sim.submits() for d in s["dest"]}
        self.assertEqual(len(dests), 3000)
        self.assertLessEqual(cluster.sim_sessions(), 2)
        for node in cluster.nodes:
            self.assertTrue(node.running(), node.log_tail())


def _linked(node: Any) -> bool:
    return links(node) > 0
