"""``smsgw bench --soak SECONDS``: a long run at a steady rate, with faults, watching memory.

It starts the ismg-sim in a process of its own with two faults on (by default
1 % of SUBMIT_RESPs never sent, and the link dropped every 50,000 PDUs),
measures the maximum rate a channel reaches against it for ``--calibrate-s``
seconds, then sends at ``--share`` (70 %) of that rate for SECONDS, with a
report asked for every message.  Once a minute it prints a line: what was
sent, answered and reported, and the resident memory of both processes.  At
the end it waits ``--grace-s`` for the last reports and prints one JSON
object:

* ``lost``: SUBMITs the simulator accepted (result 0) whose report never came;
* ``failed``: SUBMITs that got no accepting answer after every retry;
* ``orphan_reports``: reports for an id the bench never saw accepted: the
  first copy of a SUBMIT whose response the simulator dropped (the channel
  sent it again, and the simulator reported both), so about
  ``responses_dropped``; they bound the duplicates a fault makes;
* ``rss_growth_pct``: per process, the largest resident size after the
  warm-up (the first minute, or the first tenth of a shorter run) against
  the size at the end of the warm-up.

Loopback only, bounded in time, and it stops by itself.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter
from typing import Any

import attrs
from twisted.python import usage

from smsgw.bench.load import PROTOCOLS, _rss_kb, start_simulator

__all__ = ["main"]


class Options(usage.Options):
    synopsis = (
        "usage: smsgw bench --soak SECONDS [--protocol P] [--share 0.7] [--drop 0.01]"
        " [--disconnect-every 50000]\n\n"
        "A steady run with reports and faults against an ismg-sim process; a line a minute,"
        " then one JSON line."
    )
    optParameters = [
        ["seconds", None, 600.0, "how long to send (smsgw bench --soak SECONDS)", float],
        ["protocol", "p", "cmpp", "cmpp, cmpp3, sgip or smgp"],
        ["window", "w", 64, "window per session", int],
        ["share", None, 0.7, "the share of the calibrated maximum to send at", float],
        [
            "rate",
            None,
            None,
            "send at this rate instead of calibrating (SUBMITs per second)",
            float,
        ],
        ["calibrate-s", None, 10.0, "seconds of the full-speed run that finds the maximum", float],
        ["drop", None, 0.01, "share of SUBMIT_RESPs the simulator never sends", float],
        ["disconnect-every", None, 50_000, "the simulator drops a link after this many PDUs", int],
        ["response-timeout-s", None, 1.0, "the channel's wait for a SUBMIT_RESP", float],
        ["grace-s", None, 30.0, "seconds to wait for the last reports", float],
        ["every-s", None, 60.0, "seconds between progress lines", float],
    ]

    def postOptions(self) -> None:
        if self["protocol"] not in PROTOCOLS:
            raise usage.UsageError(f"--protocol must be one of {', '.join(PROTOCOLS)}")
        if not 1 <= self["seconds"] <= 86_400:
            raise usage.UsageError("SECONDS must be 1..86400")
        if not 0 < self["share"] <= 1 or not 0 <= self["drop"] < 1:
            raise usage.UsageError("--share must be in (0, 1] and --drop in [0, 1)")
        if not 1 <= self["window"] <= 1024:
            raise usage.UsageError("--window must be 1..1024")


@attrs.define
class _Tally:
    """What the bench saw, and the resident sizes it sampled."""

    sent: int = 0
    accepted: int = 0
    failed: int = 0
    reports: int = 0
    matched: int = 0
    #: Accepted ids waiting for their report.
    awaiting: set[str] = attrs.Factory(set)
    #: Reports whose id was not (yet) known accepted.
    orphans: set[str] = attrs.Factory(set)
    errors: Counter[str] = attrs.Factory(Counter)
    rss: dict[str, list[int]] = attrs.Factory(lambda: {"bench": [], "simulator": []})

    def accept(self, msg_id: str) -> None:
        self.accepted += 1
        if msg_id in self.orphans:  # its report came before its response
            self.orphans.discard(msg_id)
            self.matched += 1
        else:
            self.awaiting.add(msg_id)

    def report(self, msg_id: str) -> None:
        self.reports += 1
        if msg_id in self.awaiting:
            self.awaiting.discard(msg_id)
            self.matched += 1
        else:
            self.orphans.add(msg_id)


def _growth(samples: list[int], warm: int) -> float | None:
    """The largest sample after the first *warm* against the last warm-up one, in percent."""
    if len(samples) <= warm or warm < 1 or samples[warm - 1] <= 0:
        return None
    base = samples[warm - 1]
    return round(100.0 * (max(samples[warm:]) - base) / base, 1)


def run(opts: Options, target: str, sim_pid: int) -> dict[str, Any]:
    """Calibrate, soak, wait for the last reports; the summary."""
    from twisted.internet import reactor, task
    from twisted.internet.defer import Deferred

    from smsgw.config import parse_upstream_url
    from smsgw.ratelimit import TokenBucket
    from smsgw.sp.channel import Channel
    from smsgw.sp.clients import ReportEvent
    from smsgw.sp.interfaces import SegmentResult
    from smsgw.text.longsms import Part

    url = attrs.evolve(
        parse_upstream_url(target),
        window=opts["window"],
        src_id="10650001",
        service_id="BENCH",
        response_timeout_s=opts["response-timeout-s"],
    )
    tally = _Tally()
    phase = {"name": "calibrate", "stop_sending": False}

    def on_event(event: object) -> None:
        if isinstance(event, ReportEvent) and phase["name"] != "calibrate":
            tally.report(event.msg_id)

    channel = Channel(url, reactor, on_event=on_event, name="soak")
    segment = Part(pk_total=1, pk_number=1, tp_udhi=False, content=b"smsgw soak message",
                   msg_fmt=0)  # fmt: skip
    dests = ("13800138000",)
    inflight_cap = opts["window"] * 2
    counted = {"calibrate": 0}

    def done(result: SegmentResult) -> None:
        if phase["name"] == "calibrate":
            counted["calibrate"] += 1
        elif result.result == 0:
            tally.accept(result.msg_id)
        else:
            tally.failed += 1
            tally.errors[str(result.result)] += 1
        send()

    def failed(failure: Any) -> None:
        if phase["name"] != "calibrate":
            tally.failed += 1
            tally.errors[type(failure.value).__name__] += 1
        send()

    def send() -> None:
        if phase["stop_sending"]:
            return
        if phase["name"] != "calibrate":
            tally.sent += 1
        d = channel.submit_segment(dests, segment, report=phase["name"] != "calibrate")
        d.addCallbacks(done, failed)

    started = time.monotonic()

    def sample() -> None:
        tally.rss["bench"].append(_rss_kb(os.getpid()))
        tally.rss["simulator"].append(_rss_kb(sim_pid))

    def line() -> None:
        sample()
        elapsed = time.monotonic() - started
        print(
            f"soak {elapsed:6.0f} s: sent {tally.sent:,}, accepted {tally.accepted:,}, "
            f"failed {tally.failed:,}, reports {tally.reports:,} "
            f"({len(tally.awaiting):,} awaited), "
            f"rss bench {tally.rss['bench'][-1] // 1024} MiB, "
            f"simulator {tally.rss['simulator'][-1] // 1024} MiB",
            file=sys.stderr,
            flush=True,
        )

    result: dict[str, Any] = {}

    async def flow() -> None:
        from twisted.internet.task import deferLater

        await channel.session()
        rate = opts["rate"]
        if rate is None:
            t0 = time.monotonic()
            for _ in range(inflight_cap):
                send()
            await deferLater(reactor, opts["calibrate-s"], lambda: None)
            rate = counted["calibrate"] / (time.monotonic() - t0) * opts["share"]
            phase["stop_sending"] = True
            await deferLater(reactor, 2 * opts["response-timeout-s"] + 1, lambda: None)
        result["rate"] = round(rate, 1)
        print(f"soak: sending at {rate:,.0f}/s for {opts['seconds']:.0f} s", file=sys.stderr)
        channel.bucket = TokenBucket(rate, clock=reactor.seconds)
        phase.update(name="soak", stop_sending=False)
        nonlocal started
        started = time.monotonic()
        sample()
        ticker = task.LoopingCall(line)
        ticker.start(opts["every-s"], now=False)
        for _ in range(inflight_cap):
            send()
        await deferLater(reactor, opts["seconds"], lambda: None)
        phase["stop_sending"] = True
        ticker.stop()
        line()
        deadline = time.monotonic() + opts["grace-s"]
        while (tally.awaiting or tally.sent > tally.accepted + tally.failed) and (
            time.monotonic() < deadline
        ):
            await deferLater(reactor, 0.5, lambda: None)
        await channel.stopService()

    def finish(outcome: object) -> None:
        if hasattr(outcome, "value"):
            result["error"] = repr(outcome.value)
        reactor.stop()

    channel.startService()
    d = Deferred.fromCoroutine(flow())
    d.addBoth(finish)
    reactor.run()
    warm = max(1, min(int(60 / opts["every-s"]), len(tally.rss["bench"]) // 10)) + 1
    return {
        "protocol": url.scheme,
        "seconds": opts["seconds"],
        "rate": result.get("rate"),
        "drop": opts["drop"],
        "disconnect_every": opts["disconnect-every"],
        "sent": tally.sent,
        "accepted": tally.accepted,
        "failed": tally.failed,
        "reports": tally.reports,
        "matched": tally.matched,
        "lost": len(tally.awaiting),
        "unanswered": tally.sent - tally.accepted - tally.failed,
        "orphan_reports": len(tally.orphans),
        "rss_kb": {name: samples[-1] if samples else -1 for name, samples in tally.rss.items()},
        "rss_growth_pct": {name: _growth(s, warm) for name, s in tally.rss.items()},
        "errors": dict(tally.errors),
        **({"error": result["error"]} if "error" in result else {}),
    }


def main(argv: list[str]) -> int:
    """``smsgw bench --soak SECONDS …``; the exit code (1 when a message was lost)."""
    opts = Options()
    if argv and not argv[0].startswith("-"):  # SECONDS, right after --soak
        argv = ["--seconds", argv[0], *argv[1:]]
    try:
        opts.parseOptions(argv)
    except usage.UsageError as e:
        print(f"smsgw bench --soak: {e}\n{opts}", file=sys.stderr)
        return 2
    faults = (
        "[simulator.policy.reports]\ndelay_s = [0.05, 0.5]\n"
        f"[simulator.policy.faults]\ndrop_response_ratio = {opts['drop']}\n"
    )
    if opts["disconnect-every"] > 0:
        faults += f"disconnect_after_pdus = {opts['disconnect-every']}\n"
    with tempfile.TemporaryDirectory() as tmp:
        proc, target = start_simulator(tmp, opts["protocol"], policy=faults)
        try:
            summary = run(opts, target, proc.pid)
        finally:
            proc.terminate()
            proc.wait(10)
    print(json.dumps(summary))
    return 1 if summary["lost"] or summary["unanswered"] or summary.get("error") else 0
