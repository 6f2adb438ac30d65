"""``smsgw bench``: push N SUBMITs through a CMPP channel and measure.

By default it starts ``ismg-sim`` in a separate process on free loopback
ports and stops it at the end; ``--target cmpp://ID:SECRET@127.0.0.1:PORT``
uses a running simulator instead (loopback only: this is a load test).
The last line of output is one JSON object: ``submits_per_s``,
``reports_per_s``, ``p50_ms``, ``p99_ms``, ``errors`` (by result code or
exception name).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections import Counter
from typing import Any

from twisted.python import usage

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class Options(usage.Options):
    synopsis = "[--count N] [--window W] [--sessions S] [--reports] [--target URL]"
    optParameters = [
        ["count", "n", 100_000, "messages to send", int],
        ["window", "w", 16, "window per session", int],
        ["sessions", "s", 1, "sessions", int],
        ["target", None, None, "cmpp://ID:SECRET@127.0.0.1:PORT of a running simulator"],
        ["timeout", None, 600.0, "give up after this many seconds", float],
    ]
    optFlags = [["reports", "r", "ask for status reports and wait for every one"],
                ["quiet", "q", "no progress bar"]]  # fmt: skip

    def postOptions(self) -> None:
        if not 1 <= self["count"] <= 10_000_000:
            raise usage.UsageError("--count must be 1..10000000")
        if not 1 <= self["sessions"] <= 64 or not 1 <= self["window"] <= 1024:
            raise usage.UsageError("--sessions must be 1..64 and --window 1..1024")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def start_simulator() -> tuple[subprocess.Popen[bytes], str]:
    """Run ``twist smsgw --role=ismg-sim`` on free loopback ports."""
    port, control = _free_port(), _free_port()
    cmd = [
        sys.executable, "-m", "twisted", "smsgw", "--role=ismg-sim",
        f"--cmpp=tcp:{port}:interface=127.0.0.1",
        f"--control=tcp:{control}:interface=127.0.0.1",
        "--account=900001:bench",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_port(port, proc)
    return proc, f"cmpp://900001:bench@127.0.0.1:{port}"


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
    """Drive the reactor until every submit (and report) is in; return the summary."""
    from twisted.internet import reactor, task
    from twisted.internet.defer import Deferred

    from smsgw.config import parse_upstream_url
    from smsgw.protocols.cmpp import pdus as p
    from smsgw.sp.channel import CmppChannel

    url = parse_upstream_url(
        f"{target}{'&' if '?' in target else '?'}window={opts['window']}"
        f"&sessions={opts['sessions']}&src_id=10650001"
    )
    if url.host not in _LOOPBACK:
        raise SystemExit("smsgw bench: --target must be a loopback address")
    count = opts["count"]
    want_reports = opts["reports"]
    state: dict[str, Any] = {"sent": 0, "done": 0, "reports": 0, "lat": [], "errors": Counter()}
    finished: Deferred[None] = Deferred()

    def on_deliver(pdu: Any, session: Any) -> None:
        if pdu.registered_delivery == 1:
            state["reports"] += 1
            if state["reports"] == count and not finished.called:
                state["t_reports"] = time.perf_counter()
                finished.callback(None)

    channel = CmppChannel(url, reactor, on_deliver)
    content = "smsgw bench load test message".encode("ascii")
    pdu = p.Submit(
        registered_delivery=1 if want_reports else 0,
        service_id=b"BENCH",
        msg_src=url.account.encode("ascii"),
        src_id=b"10650001",
        msg_fmt=0,
        dest_terminal_ids=(b"13800138000",),
        msg_content=content,
    )
    inflight_cap = opts["sessions"] * opts["window"] * 2

    def one_done(resp: Any, t0: float) -> None:
        state["lat"].append(time.perf_counter() - t0)
        if resp.result != 0:
            state["errors"][str(resp.result)] += 1
        _next()

    def one_failed(f: Any) -> None:
        state["errors"][f.type.__name__] += 1
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
        d = Deferred.fromCoroutine(channel.submit(pdu))
        d.addCallbacks(one_done, one_failed, callbackArgs=(t0,))

    def start(_: Any) -> None:
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

    def done(outcome: Any) -> Any:
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


def main(argv: list[str]) -> int:
    opts = Options()
    try:
        opts.parseOptions(argv)
    except usage.UsageError as e:
        print(f"smsgw bench: {e}\n{opts}", file=sys.stderr)
        return 2
    proc = None
    target = opts["target"]
    try:
        if target is None:
            proc, target = start_simulator()
        summary = run(opts, target)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(json.dumps(summary))
    return 0 if not summary["errors"] else 1
