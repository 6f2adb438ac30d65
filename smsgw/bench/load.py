"""``smsgw bench``: push N SUBMITs through a CMPP channel and measure.

By default it starts ``ismg-sim`` in a separate process on free loopback
ports and stops it at the end; ``--target cmpp://ID:SECRET@127.0.0.1:PORT``
uses a running simulator instead (loopback only: this is a load test).
The last line of output is one JSON object: ``submits_per_s``,
``reports_per_s``, ``p50_ms``, ``p99_ms``, ``errors`` (by result code or
exception name).  ``smsgw bench --http …`` measures the SP HTTP API end to
end instead (:mod:`smsgw.bench.http`).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import attrs
from twisted.python import usage

if TYPE_CHECKING:
    from twisted.python.failure import Failure

    from smsgw.protocols.codec import Header

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
#: ``--protocol`` values: the simulator's listener and the channel's URL scheme.
PROTOCOLS = ("cmpp", "cmpp3", "sgip", "smgp", "smpp")
#: The bench SP's SGIP node id (sgip12.md §3.1), the first part of its message ids.
_SGIP_NODE_ID = 3075500001


class Options(usage.Options):
    synopsis = (
        "usage: smsgw bench [--protocol cmpp|cmpp3|sgip|smgp|smpp] [--count N] [--window W]"
        " [--sessions S] [--reports] [--target URL]\n\n"
        "SUBMITs through a channel to an ismg-sim process it starts (or --target), then one"
        " JSON line.\nThe other benchmarks: smsgw bench --http --help, smsgw bench --durability"
        " --help,\nsmsgw bench codec --help."
    )
    optParameters = [
        ["protocol", "p", "cmpp", "cmpp, cmpp3, sgip, smgp or smpp (with --target: its scheme)"],
        ["count", "n", 100_000, "messages to send", int],
        ["window", "w", 16, "window per session (SGIP: at most 32)", int],
        ["sessions", "s", 1, "sessions", int],
        ["target", None, None, "SCHEME://ID:SECRET@127.0.0.1:PORT of a running simulator"],
        ["timeout", None, 600.0, "give up after this many seconds", float],
        ["hold", None, 0, "CMPP only: hold this many logged-in sessions open, send nothing", int],
        ["hold-s", None, 60.0, "with --hold: seconds to hold them", float],
        ["keepalive-s", None, 5.0, "with --hold: ACTIVE_TEST interval of each session", float],
    ]
    optFlags = [["reports", "r", "ask for status reports and wait for every one"],
                ["quiet", "q", "no progress bar"]]  # fmt: skip

    def postOptions(self) -> None:
        if self["protocol"] not in PROTOCOLS:
            raise usage.UsageError(f"--protocol must be one of {', '.join(PROTOCOLS)}")
        if self["hold"] and self["protocol"] != "cmpp":
            raise usage.UsageError("--hold is CMPP-only")
        if not 1 <= self["count"] <= 10_000_000:
            raise usage.UsageError("--count must be 1..10000000")
        if not 1 <= self["sessions"] <= 64 or not 1 <= self["window"] <= 1024:
            raise usage.UsageError("--sessions must be 1..64 and --window 1..1024")


def _free_port() -> int:
    from smsgw.bench.http import free_port

    return free_port()


def _wait_port(port: int, proc: subprocess.Popen[bytes], deadline_s: float = 30.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"smsgw bench: the simulator exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("smsgw bench: the simulator did not start listening")


def start_simulator(
    config_dir: str, protocol: str = "cmpp", policy: str = ""
) -> tuple[subprocess.Popen[bytes], str]:
    """Run ``twist smsgw --role=ismg-sim`` serving *protocol* on free loopback ports.

    :param policy: TOML tables added to the configuration (``[simulator.policy.faults]``…).

    :returns: the process and the upstream URL of its bench account.  For
        SGIP the account's ``sgip_callback`` is a free port that the URL's
        ``listen`` key makes the bench's channel serve (Deliver and Report
        come that way, sgip12.md §2).
    """
    port, control = _free_port(), _free_port()
    # Every bench link comes from 127.0.0.1, and --hold logs 100 in at a time: the caps on
    # links not logged in yet (32 per address by default) would refuse most of them.
    account = (
        "[simulator]\nmax_unauthenticated = 100000\nmax_unauthenticated_per_ip = 100000\n"
        '[[simulator.account]]\nid = "900001"\nsecret = "bench"\nmax_sessions = 100000\n'
    )
    query = ""
    if protocol == "sgip":
        callback = _free_port()
        account += f'sgip_callback = "tcp:host=127.0.0.1:port={callback}"\n'
        query = f"?listen=tcp:{callback}:interface=127.0.0.1&node_id={_SGIP_NODE_ID}"
    config = os.path.join(config_dir, "bench-sim.toml")
    with open(config, "w") as f:
        f.write(account + policy)
    cmd = [
        sys.executable, "-m", "twisted", "smsgw", "--role=ismg-sim", f"--config={config}",
        f"--{protocol}=tcp:{port}:interface=127.0.0.1",
        f"--control=tcp:{control}:interface=127.0.0.1",
    ]  # fmt: skip
    if protocol != "cmpp":
        # Otherwise the CMPP 2.0 listener takes its default port, 7890.
        cmd.append(f"--cmpp=tcp:{_free_port()}:interface=127.0.0.1")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_port(port, proc)
    return proc, f"{protocol}://900001:bench@127.0.0.1:{port}{query}"


def _bar(done: int, total: int, reports: int, started: float) -> None:
    width = 30
    fill = int(width * done / total)
    rate = done / max(time.monotonic() - started, 1e-9)
    sys.stderr.write(
        f"\r[{'#' * fill}{'.' * (width - fill)}] {done}/{total} submits, "
        f"{reports} reports, {rate:,.0f}/s "
    )
    sys.stderr.flush()


def run(opts: Options, target: str) -> dict[str, Any]:
    """Drive the reactor until every submit (and report) is in; return the summary.

    The channel is the SP side's own :class:`~smsgw.sp.channel.Channel` for
    the target's scheme; each message is one ``submit_segment`` and reports
    are counted from its ``on_event`` :class:`~smsgw.sp.clients.ReportEvent`.
    """
    from twisted.internet import reactor, task
    from twisted.internet.defer import Deferred

    from smsgw.config import parse_upstream_url
    from smsgw.sp.channel import Channel, SegmentResult
    from smsgw.sp.clients import ReportEvent
    from smsgw.text.longsms import Part

    url = parse_upstream_url(target)
    url = attrs.evolve(
        url,
        window=opts["window"],
        sessions=opts["sessions"],
        src_id=url.src_id or "10650001",
        service_id=url.service_id or "BENCH",
    )
    if url.host not in _LOOPBACK:
        raise SystemExit("smsgw bench: --target must be a loopback address")
    count = opts["count"]
    want_reports = opts["reports"]
    state: dict[str, Any] = {"sent": 0, "done": 0, "reports": 0, "lat": [], "errors": Counter()}
    finished: Deferred[None] = Deferred()

    def on_event(event: object) -> None:
        if isinstance(event, ReportEvent):
            state["reports"] += 1
            if state["reports"] == count and not finished.called:
                state["t_reports"] = time.perf_counter()
                finished.callback(None)

    channel = Channel(url, reactor, on_event=on_event, name=f"bench-{url.scheme}")
    content = "smsgw bench load test message".encode("ascii")
    segment = Part(pk_total=1, pk_number=1, tp_udhi=False, content=content, msg_fmt=0)
    dests = ("13800138000",)
    inflight_cap = opts["sessions"] * opts["window"] * 2

    def one_done(result: SegmentResult, t0: float) -> None:
        state["lat"].append(time.perf_counter() - t0)
        if result.result != 0:
            state["errors"][str(result.result)] += 1
        _next()

    def one_failed(f: Failure) -> None:
        state["errors"][type(f.value).__name__] += 1
        _next()

    def _next() -> None:
        state["done"] += 1
        if state["sent"] < count:
            _send()
        if state["done"] == count:
            state["t_submits"] = time.perf_counter()
            if not want_reports and not finished.called:
                finished.callback(None)

    def _send() -> None:
        state["sent"] += 1
        t0 = time.perf_counter()
        d = channel.submit_segment(dests, segment, report=want_reports)
        d.addCallbacks(one_done, one_failed, callbackArgs=(t0,))

    def start(_: object) -> None:
        state["t0"] = time.perf_counter()
        for _ in range(min(inflight_cap, count)):
            _send()

    progress = None
    if not opts["quiet"] and sys.stderr.isatty():
        progress = task.LoopingCall(
            lambda: _bar(state["done"], count, state["reports"], state.get("t0", time.monotonic()))
        )
        progress.start(0.5)
    channel.startService()
    channel.session().addCallback(start)
    timeout = reactor.callLater(opts["timeout"], lambda: finished.errback(
        TimeoutError(f"gave up after {opts['timeout']} s")))  # fmt: skip
    result: dict[str, Any] = {}

    def done(outcome: object) -> None:
        if timeout.active():
            timeout.cancel()
        if progress is not None and progress.running:
            progress.stop()
            sys.stderr.write("\n")
        result["outcome"] = outcome
        d = channel.stopService()
        d.addBoth(lambda _: reactor.stop())
        return None

    finished.addBoth(done)
    reactor.run()
    lat = sorted(state["lat"])
    t0 = state.get("t0", 0.0)
    t_sub = state.get("t_submits", time.perf_counter())

    def pct(q: float) -> float:
        return round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 3) if lat else 0.0

    summary = {
        "protocol": url.scheme,
        "count": count,
        "sessions": opts["sessions"],
        "window": opts["window"],
        "reports": want_reports,
        "submits_per_s": round(state["done"] / max(t_sub - t0, 1e-9), 1),
        "reports_per_s": round(state["reports"] / max(state.get("t_reports", t_sub) - t0, 1e-9), 1)
        if want_reports else 0.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "errors": dict(state["errors"]),
    }  # fmt: skip
    if isinstance(result.get("outcome"), Exception) or hasattr(result.get("outcome"), "value"):
        summary["errors"]["timeout"] = 1
    return summary


def _rss_kb(pid: int) -> int:
    """Resident memory of *pid* in KiB (Linux), or -1."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def hold(opts: Options, target: str, sim_pid: int | None) -> dict[str, Any]:
    """Open ``--hold`` sessions, keep them alive with ACTIVE_TEST, count what fails."""
    from twisted.internet import reactor
    from twisted.internet.defer import Deferred, DeferredSemaphore, gatherResults
    from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
    from twisted.internet.task import deferLater

    from smsgw.config import parse_upstream_url
    from smsgw.protocols.cmpp.session import CmppAdapter, login
    from smsgw.protocols.session import Session, SessionConfig

    url = parse_upstream_url(target)
    if url.host not in _LOOPBACK:
        raise SystemExit("smsgw bench: --target must be a loopback address")
    n = opts["hold"]
    config = SessionConfig(keepalive_s=opts["keepalive-s"])
    state: dict[str, Any] = {"logged_in": 0, "lost": 0, "errors": Counter()}
    sessions: list[Session] = []

    class Handler:
        def session_started(self, session: Session) -> None:
            pass

        def handle_request(self, session: Session, header: Header, pdu: object) -> None:
            return None

        def session_ended(self, session: Session, reason: Failure) -> None:
            if not state.get("closing"):
                state["lost"] += 1

    handler = Handler()
    ep = TCP4ClientEndpoint(reactor, url.host, url.port)
    limit = DeferredSemaphore(100)
    rss_before = _rss_kb(sim_pid) if sim_pid else -1

    async def open_one() -> None:
        session = Session(CmppAdapter(), handler, config, reactor)
        try:
            await connectProtocol(ep, session)
            await login(session, url.account.encode(), url.secret.encode())
        except Exception as e:
            state["errors"][type(e).__name__] += 1
            return
        sessions.append(session)
        state["logged_in"] += 1

    async def main_flow() -> None:
        t0 = time.perf_counter()
        await gatherResults(
            [limit.run(lambda: Deferred.fromCoroutine(open_one())) for _ in range(n)]
        )
        state["connect_s"] = round(time.perf_counter() - t0, 2)
        state["rss_after_kb"] = _rss_kb(sim_pid) if sim_pid else -1
        await deferLater(reactor, opts["hold-s"], lambda: None)
        state["keepalives"] = sum(s.frames_received for s in sessions)
        state["still_bound"] = sum(1 for s in sessions if s.bound)
        state["closing"] = True
        for s in sessions:
            if s.transport is not None:
                s.transport.loseConnection()

    def failed(f: Failure) -> None:
        state["errors"][type(f.value).__name__] += 1

    d = Deferred.fromCoroutine(main_flow())
    d.addErrback(failed)
    d.addBoth(lambda _: reactor.callLater(0.5, reactor.stop))
    reactor.run()
    after = state.get("rss_after_kb", -1)
    per = round((after - rss_before) / max(state["logged_in"], 1), 1) if after > 0 else None
    return {
        "hold": n,
        "logged_in": state["logged_in"],
        "still_bound": state.get("still_bound", 0),
        "lost": state["lost"],
        "hold_s": opts["hold-s"],
        "keepalive_s": opts["keepalive-s"],
        "frames_received": state.get("keepalives", 0),
        "connect_s": state.get("connect_s"),
        "sim_rss_before_kb": rss_before,
        "sim_rss_after_kb": after,
        "sim_kb_per_session": per,
        "errors": dict(state["errors"]),
    }


def raise_fd_limit(wanted: int) -> tuple[int, int]:
    """Raise this process's soft open-file limit to *wanted* (at most the hard limit).

    :returns: the soft limit before and after.
    """
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return soft, target
    return soft, soft


def main(argv: list[str]) -> int:
    if "--http" in argv or any(a == "--vendor" or a.startswith("--vendor=") for a in argv):
        from smsgw.bench import http

        return http.main([a for a in argv if a != "--http"])
    opts = Options()
    try:
        opts.parseOptions(argv)
    except usage.UsageError as e:
        print(f"smsgw bench: {e}\n{opts}", file=sys.stderr)
        return 2
    proc = None
    target = opts["target"]
    if opts["hold"]:
        # Each held session is a descriptor here and one in the simulator, which inherits
        # this process's limit: raise the soft limit as far as the hard one allows.
        limits = raise_fd_limit(opts["hold"] + 256)
        print(f"smsgw bench: open-file limit {limits[0]} -> {limits[1]}", file=sys.stderr)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if target is None:
                proc, target = start_simulator(tmp, opts["protocol"])
            if opts["hold"]:
                summary = hold(opts, target, proc.pid if proc else None)
            else:
                summary = run(opts, target)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(json.dumps(summary))
    failed = summary["errors"] or summary.get("lost")
    return 1 if failed else 0
