"""``smsgw bench --nodes N``: several sp nodes on real Redis and PostgreSQL, one simulator.

:class:`Cluster` starts it all on loopback, in a temporary folder: a Redis and
a PostgreSQL server of their own (:mod:`smsgw.servers`), one ``ismg-sim`` and
N ``sp`` processes sharing the store (``--store postgresql://…``) and the
Redis (``--redis``), each with the same upstream account.  The bench posts
messages to the nodes in turn and waits until every report is stored; it
prints how fast, and how the SUBMITs (the account's TPS) were spread across
the nodes.  The several-nodes tests (``tests/cluster``) use the same class.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from twisted.python import usage

from smsgw import servers
from smsgw.bench.http import BenchError, JsonHttp, SimProcess, SpProcess, number

__all__ = ["Cluster", "links", "main", "run"]

CONTENT = "smsgw bench nodes"

_SUBMITTED = re.compile(r'^smsgw_submitted_segments_total\{channel="sim",result="0"\} ([0-9.e+]+)$')


class Cluster:
    """Redis, PostgreSQL, one ``ismg-sim`` and *nodes* ``sp`` processes on loopback.

    :param tps: the account's SUBMITs a second, shared by every node (``None``: no limit).
    :param sessions: the channel's sessions; with Redis the nodes hold this
        many between them, never more (the carrier's cap, also set on the simulator).
    :param visibility_s: ``[cluster] visibility_timeout_s`` of every node.
    :param report_url: ``[callbacks] report_url`` of every node (default: none; reports are pulled).
    """

    def __init__(
        self,
        workdir: str,
        nodes: int = 2,
        *,
        tps: float | None = None,
        sessions: int = 1,
        window: int = 16,
        visibility_s: float = 10.0,
        report_url: str | None = None,
    ) -> None:
        self.workdir = workdir
        self.sessions = sessions
        self.redis = servers.RedisServer()
        self.postgres = servers.PostgresServer()
        self.sim = SimProcess(workdir, max_sessions=sessions)
        settings: dict[str, Any] = {"window": window, "sessions": sessions}
        if tps:
            settings["tps"] = tps
        upstream = self.sim.upstream_url(**settings)
        self.nodes: list[SpProcess] = []
        for i in range(nodes):
            where = os.path.join(workdir, f"node-{i}")
            os.makedirs(where, exist_ok=True)
            self.nodes.append(
                SpProcess(
                    where,
                    upstream,
                    store=self.postgres.url,
                    args=(f"--redis={self.redis.url}", f"--node=node-{i}"),
                )
            )
            # The SpProcess writes sp.toml; the cluster table goes in the same file.
            with open(os.path.join(where, "sp.toml"), "a") as f:
                f.write(f"\n[cluster]\nvisibility_timeout_s = {visibility_s}\n")
                if report_url:
                    f.write(f'\n[callbacks]\nreport_url = "{report_url}"\n')

    def start(self, deadline_s: float = 60.0) -> None:
        """Start the servers, the simulator and every node; wait until the sessions are up."""
        self.redis.start()
        self.postgres.start()
        self.sim.start_ready(deadline_s)
        for node in self.nodes:
            node.start_ready(deadline_s, linked=False)
        self.sim.wait_until(
            lambda: self.sim_sessions() >= self.sessions, "the nodes' sessions", deadline_s
        )

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.sim.stop()
        self.redis.stop()
        self.postgres.stop()

    def sim_sessions(self) -> int:
        """Sessions the simulator has bound for the account now."""
        return int(self.sim.stats().get("sessions", 0))

    def post(
        self, count: int, *, nodes: list[SpProcess] | None = None, concurrency: int = 8
    ) -> dict[str, list[str]]:
        """Queue *count* distinct numbers, 100 a request, to the nodes in turn; id → numbers."""
        targets = nodes or self.nodes
        accepted: dict[str, list[str]] = {}
        lock = threading.Lock()
        local = threading.local()

        def post(k: int) -> None:
            node = targets[k % len(targets)]
            if getattr(local, "apis", None) is None:
                local.apis = {n.url: JsonHttp(n.url) for n in targets}
            api: JsonHttp = local.apis[node.url]
            start = k * 100
            numbers = [number(i) for i in range(start, min(start + 100, count))]
            status, body = api.call(
                "POST", "/v1/sms", {"to": numbers, "content": CONTENT, "mode": "queue"}
            )
            if status != 202:
                raise BenchError(f"POST /v1/sms to {node.url} answered {status}: {body}")
            with lock:
                accepted[body["id"]] = [r["to"] for r in body["recipients"]]

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(post, range((count + 99) // 100)))
        return accepted

    def wait_reports(
        self, ids: set[str], expected: int, deadline_s: float, node: SpProcess | None = None
    ) -> Counter[str]:
        """Fetch reports from one node (the inbound items are shared) until *expected* came.

        :returns: how many reports each message got.
        """
        api = JsonHttp((node or self.nodes[0]).url)
        got: Counter[str] = Counter()
        end = time.monotonic() + deadline_s
        while sum(got.values()) < expected:
            if time.monotonic() > end:
                raise BenchError(f"{sum(got.values())} of {expected} reports in {deadline_s:.0f} s")
            status, body = api.call("GET", "/v1/inbound?limit=1000")
            if status != 200:
                raise BenchError(f"GET /v1/inbound answered {status}: {body}")
            for item in body["items"]:
                if item.get("type") == "report" and item.get("message_id") in ids:
                    got[item["message_id"]] += 1
            if not body["items"]:
                time.sleep(0.05)
        api.close()
        return got

    def node_submits(self) -> list[int]:
        """Segments each running node has had accepted by the simulator (its /metrics)."""
        out = []
        for node in self.nodes:
            if not node.running():
                out.append(0)
                continue
            with urllib.request.urlopen(f"{node.url}/metrics", timeout=10) as resp:
                text = resp.read().decode("utf-8")
            match = next(filter(None, map(_SUBMITTED.match, text.splitlines())), None)
            out.append(int(float(match.group(1))) if match else 0)
        return out

    def node_links(self) -> list[int]:
        """Logged-in links of each node now (see :func:`links`)."""
        return [links(node) for node in self.nodes]

    def submit_times(self) -> list[float]:
        """When the simulator received each SUBMIT (POSIX seconds), in order."""
        return sorted(datetime.fromisoformat(s["time"]).timestamp() for s in self.sim.submits())

    def submit_rate(self, skip_s: float = 1.0) -> float:
        """The simulator's SUBMITs a second: the median of the whole seconds after *skip_s*.

        Each second from the first SUBMIT + *skip_s* to the last whole one is
        counted, and the median taken: a limit's burst (the bucket starts full,
        and fills again while the senders stall) lands in one or two seconds
        and does not move it.  0 when the run had no whole second after *skip_s*.
        """
        times = self.submit_times()
        if not times:
            return 0.0
        start = times[0] + skip_s
        seconds = int(times[-1] - start)
        if seconds < 1:
            return 0.0
        counts = Counter(int(t - start) for t in times if t >= start)
        return float(statistics.median(counts.get(i, 0) for i in range(seconds)))


def links(node: SpProcess) -> int:
    """*node*'s logged-in links now (0 when it is not running or not answering)."""
    if not node.running():
        return 0
    try:
        status, body = node.api.call("GET", "/healthz")
    except OSError:
        return 0
    return int(body["links"].get(node.channel, 0)) if status == 200 else 0


@contextmanager
def started(workdir: str | None = None, **settings: Any) -> Iterator[Cluster]:
    """A started :class:`Cluster` in *workdir* (or a temporary folder), stopped on exit."""
    lacks = servers.missing()
    if lacks:
        raise BenchError(f"missing: {', '.join(lacks)} (./dev test installs them as root)")
    with tempfile.TemporaryDirectory(prefix="smsgw-nodes-") as tmp:
        cluster = Cluster(workdir or tmp, **settings)
        try:
            cluster.start()
            yield cluster
        finally:
            cluster.stop()


def run(
    count: int,
    nodes: int,
    *,
    tps: float | None = None,
    sessions: int | None = None,
    window: int = 16,
    deadline_s: float = 600.0,
    say: Callable[[str], None] = lambda text: None,
) -> dict[str, Any]:
    """One run: post *count* messages across *nodes* nodes, wait for every report.

    :param sessions: the account's sessions (default: one a node).
    """
    sessions = sessions or nodes
    with started(nodes=nodes, tps=tps, sessions=sessions, window=window) as cluster:
        # Each node holds its share of the sessions once the slots have spread.
        deadline = time.monotonic() + 30
        while min(sessions, nodes) > sum(1 for n in cluster.node_links() if n) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.2)
        say(f"{nodes} nodes up, {cluster.sim_sessions()} sessions; posting {count} messages")
        t0 = time.monotonic()
        accepted = cluster.post(count)
        posted = time.monotonic() - t0
        total = sum(len(v) for v in accepted.values())
        cluster.wait_reports(set(accepted), total, deadline_s)
        elapsed = time.monotonic() - t0
        per_node = cluster.node_submits()
        rate = cluster.submit_rate()
    shares = [n / max(1, sum(per_node)) for n in per_node]
    return {
        "nodes": nodes,
        "count": count,
        "accepted": total,
        "sessions": sessions,
        "window": window,
        "accept_s": round(posted, 2),
        "elapsed_s": round(elapsed, 2),
        "msg_per_s": round(total / elapsed, 1),
        "submits_per_node": per_node,
        "share_per_node": [round(s, 3) for s in shares],
        "submits_per_s_per_node": [round(n / elapsed, 1) for n in per_node],
        "submit_rate": round(rate, 1),
        "tps_limit": tps,
        "rate_over_limit": round(rate / tps, 3) if tps else None,
    }


class Options(usage.Options):
    synopsis = (
        "usage: smsgw bench --nodes N [--count N] [--tps T] [--sessions S] [--window W]\n\n"
        "N sp nodes sharing a PostgreSQL store and a Redis (both started here, on loopback,\n"
        "in a temporary folder) and one ismg-sim: messages posted to the nodes in turn until\n"
        "every report is stored; then msg/s and the SUBMITs of each node, as one JSON line."
    )
    optParameters = [
        ["nodes", None, 3, "sp nodes", int],
        ["count", "n", 10_000, "messages", int],
        ["tps", None, None, "the account's SUBMITs a second, shared by the nodes", float],
        [
            "sessions",
            "s",
            None,
            "the account's sessions, shared by the nodes [default: one a node]",
            int,
        ],
        ["window", "w", 16, "window per session", int],
        ["timeout", None, 600.0, "give up after this many seconds", float],
    ]

    def postOptions(self) -> None:
        if not 1 <= self["nodes"] <= 8:
            raise usage.UsageError("--nodes must be 1..8")
        if not 1 <= self["count"] <= 1_000_000:
            raise usage.UsageError("--count must be 1..1000000")
        if not 1 <= (self["sessions"] or 1) <= 64 or not 1 <= self["window"] <= 1024:
            raise usage.UsageError("--sessions must be 1..64 and --window 1..1024")


def main(argv: list[str]) -> int:
    opts = Options()
    try:
        opts.parseOptions(argv)
    except usage.UsageError as e:
        print(f"{e}\n{opts}", file=sys.stderr)
        return 2
    try:
        result = run(
            opts["count"],
            opts["nodes"],
            tps=opts["tps"],
            sessions=opts["sessions"],
            window=opts["window"],
            deadline_s=opts["timeout"],
            say=lambda text: print(text, file=sys.stderr),
        )
    except BenchError as e:
        print(f"bench --nodes: {e}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0
