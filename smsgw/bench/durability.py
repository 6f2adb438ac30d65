"""Issue 4's durability scenario: kill -9 the sp (or the simulator) mid-send, lose nothing.

Everything runs on 127.0.0.1, on free ports, in a temporary directory: an
``ismg-sim`` process and an ``sp`` process (:mod:`smsgw.bench.http`), the
sp's one CMPP channel paced by its ``tps`` so that sending takes seconds.

``sp`` scenario
    Queue ``count`` distinct numbers (100 per ``POST /v1/sms``, queue mode,
    a report wanted, hence one number per SUBMIT), wait until the simulator
    has received a share of them (``kill_at``), SIGKILL the sp, note which
    segments the database had claimed (``submitting``) at that moment,
    start the sp again on the same database and wait until every segment
    has its SUBMIT_RESP.  The simulator's ``GET /v1/submits`` then must
    hold every accepted number at least once; a number it holds twice must
    be one of those claimed at the kill.

``sim`` scenario
    The same queue, then the simulator is made to stop answering SUBMITs
    (a response delay), so that the kill lands with a full window of
    SUBMITs it received but never answered; the log it has is taken, it is
    SIGKILLed and started again on the same ports.  The sp reconnects and
    sends the unanswered SUBMITs again.  The first simulator's log plus the
    second one's must hold every accepted number; a number held twice must
    be one the sp had in flight.

What "may be sent once more" means, exactly: a segment is sent again only
if it was claimed for sending (state ``submitting`` in the store) and its
SUBMIT_RESP was not yet committed when the process died (sp scenario), or
its SUBMIT was on a link that broke before the answer came (sim scenario).
Each such segment is sent at most once more per crash.  Their number is
bounded by what the gateway lets a channel have in flight: ``sessions x
window x 2`` claimed segments (sp), ``sessions x window`` unanswered SUBMITs
(sim).  Every other segment is sent exactly once.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from smsgw.bench.http import BenchError, SimProcess, SpProcess, number

SCENARIOS = ("sp", "sim")
#: The gateway's segment states that still wait for a SUBMIT_RESP.
_PENDING = frozenset({"queued", "submitting"})
#: Sent as the content of every message.
CONTENT = "smsgw durability check"


@attrs.define
class Outcome:
    """What one scenario found (:meth:`to_json` is its report).

    :ivar accepted: numbers the gateway accepted (202).
    :ivar submitted: accepted numbers the simulator(s) received at least once.
    :ivar lost: accepted numbers no simulator received, plus segments the
        sp marked ``failed``; must be 0.
    :ivar duplicates: extra copies of SUBMITs the simulator(s) received.
    :ivar in_flight_at_kill: segments the sp had claimed (``submitting``) at the kill.
    :ivar bound: the most duplicates one crash may cause (see the module docstring).
    :ivar unexpected_duplicates: numbers received twice that were not in
        flight at the kill; must be 0.
    :ivar sent_before_kill: SUBMITs the simulator had received before the kill.
    """

    scenario: str
    count: int
    accepted: int = 0
    submitted: int = 0
    lost: int = 0
    failed: int = 0
    duplicates: int = 0
    in_flight_at_kill: int = 0
    bound: int = 0
    unexpected_duplicates: int = 0
    unknown: int = 0
    sent_before_kill: int = 0
    elapsed_s: float = 0.0
    problems: list[str] = attrs.field(factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "ok": self.ok}


def submitting_numbers(db: str) -> set[str]:
    """The numbers whose segments are claimed (``submitting``) in the sp's SQLite file.

    Reads the file directly (the store's schema, :mod:`smsgw.store.migrations`);
    safe while the sp runs (WAL readers do not block the writer) and after a kill.
    """
    conn = sqlite3.connect(db, timeout=10)
    try:
        rows = conn.execute(
            "SELECT r.dest FROM segments s JOIN recipients r"
            " ON r.message_seq = s.message_seq AND r.idx = s.recipient"
            " WHERE s.state = 'submitting'"
        ).fetchall()
    finally:
        conn.close()
    return {dest for (dest,) in rows}


class _Clock:
    """One overall deadline for a scenario."""

    def __init__(self, deadline_s: float) -> None:
        self.end = time.monotonic() + deadline_s
        self.deadline_s = deadline_s

    def left(self) -> float:
        return self.end - time.monotonic()

    def wait(self, what: str, check: Callable[[], Any], step_s: float = 0.1) -> Any:
        while True:
            value = check()
            if value:
                return value
            if self.left() <= 0:
                raise BenchError(f"gave up after {self.deadline_s:.0f} s: {what}")
            time.sleep(step_s)


def _queue(sp: SpProcess, count: int) -> dict[str, list[str]]:
    """Queue *count* distinct numbers, 100 a request; message id → its accepted numbers."""
    accepted: dict[str, list[str]] = {}
    for start in range(0, count, 100):
        numbers = [number(i) for i in range(start, min(start + 100, count))]
        status, body = sp.api.call(
            "POST", "/v1/sms", {"to": numbers, "content": CONTENT, "mode": "queue"}
        )
        if status != 202:
            raise BenchError(f"POST /v1/sms answered {status}: {body}")
        accepted[body["id"]] = [r["to"] for r in body["recipients"]]
    return accepted


def _pending_segments(sp: SpProcess, ids: Iterable[str]) -> tuple[int, int]:
    """``(segments still waiting for a SUBMIT_RESP, segments failed)`` over *ids*."""
    pending = failed = 0
    for message_id in ids:
        status, body = sp.api.call("GET", f"/v1/sms/{message_id}")
        if status != 200:
            raise BenchError(f"GET /v1/sms/{message_id} answered {status}: {body}")
        for r in body["recipients"]:
            for s in r["segments"]:
                pending += s["state"] in _PENDING
                failed += s["state"] == "failed"
    return pending, failed


def _submits_so_far(sim: SimProcess) -> int:
    return int(sim.stats().get("submits", 0))


def _stable_submits(sim: SimProcess, clock: _Clock) -> int:
    """Wait until the simulator's SUBMIT count stops moving (its window is full)."""
    last, same = -1, 0
    while same < 4:
        now = _submits_so_far(sim)
        same = same + 1 if now == last else 0
        last = now
        if clock.left() <= 0:
            raise BenchError("the simulator's SUBMIT count did not settle")
        time.sleep(0.1)
    return last


#: The channel protocols a scenario can run over (SGIP needs its second link set up).
PROTOCOLS = ("cmpp", "smpp")


def run_scenario(
    scenario: str,
    count: int = 10_000,
    *,
    tps: float | None = None,
    window: int = 16,
    sessions: int = 1,
    kill_at: float = 0.3,
    deadline_s: float = 600.0,
    workdir: str | None = None,
    say: Callable[[str], None] = lambda text: None,
    protocol: str = "cmpp",
) -> Outcome:
    """Run one scenario (``sp`` or ``sim``) with its own processes; what it found.

    :param tps: the channel's SUBMITs per second (default ``count / 5``, at
        least 50), so that sending lasts long enough for the kill to land in it.
    :param kill_at: kill once the simulator has this share of the messages.
    :param deadline_s: for the whole scenario.
    :param protocol: the channel's protocol (``cmpp`` or ``smpp``, …), served by the simulator.
    :raises BenchError: when a process does not start or a wait runs out.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {SCENARIOS}, not {scenario!r}")
    started = time.monotonic()
    clock = _Clock(deadline_s)
    outcome = Outcome(scenario, count)
    rate = tps or max(50.0, count / 5)
    with tempfile.TemporaryDirectory(prefix=f"smsgw-durability-{scenario}-") as tmp:
        where = workdir or tmp
        os.makedirs(where, exist_ok=True)
        sim = SimProcess(where, protocol=protocol)
        sp = SpProcess(where, sim.upstream_url(window=window, sessions=sessions, tps=rate))
        try:
            sim.start_ready(min(30.0, clock.left()))
            sp.start_ready(min(30.0, clock.left()))
            say(f"[{scenario}] queueing {count} messages (channel: {rate:g} SUBMITs/s)")
            accepted = _queue(sp, count)
            numbers = {n for ns in accepted.values() for n in ns}
            outcome.accepted = sum(len(ns) for ns in accepted.values())
            target = max(1, int(outcome.accepted * kill_at))

            def reached() -> int:
                n = _submits_so_far(sim)
                return n if n >= target else 0

            seen = clock.wait(f"waiting for {target} SUBMITs", reached)
            if seen >= outcome.accepted:
                outcome.problems.append(
                    f"every message was sent before the kill ({seen}); give a lower --tps"
                )
            earlier: list[dict[str, Any]] = []
            if scenario == "sp":
                sp.kill()
                outcome.sent_before_kill = _submits_so_far(sim)
                in_flight = submitting_numbers(sp.db)
                outcome.bound = 2 * window * sessions
                say(
                    f"[sp] killed the sp after {outcome.sent_before_kill} SUBMITs, "
                    f"{len(in_flight)} segments claimed; starting it again"
                )
                sp.start_ready(min(30.0, clock.left()))
            else:
                sim.set_policy({"faults": {"response_delay_s": 600}})
                _stable_submits(sim, clock)
                in_flight = submitting_numbers(sp.db)
                earlier = sim.submits()
                outcome.sent_before_kill = len(earlier)
                sim.kill()
                outcome.bound = window * sessions
                say(
                    f"[sim] killed the simulator after {outcome.sent_before_kill} SUBMITs, "
                    f"{len(in_flight)} segments claimed; starting it again"
                )
                sim.start_ready(min(30.0, clock.left()))
            outcome.in_flight_at_kill = len(in_flight)

            def finished() -> bool:
                sp.check_alive()
                pending, outcome.failed = _pending_segments(sp, accepted)
                return pending == 0

            clock.wait("waiting for every SUBMIT_RESP", finished, step_s=0.5)
            received = Counter(
                dest for submit in [*earlier, *sim.submits()] for dest in submit["dest"]
            )
        finally:
            sp.stop()
            sim.stop()
    got = set(received)
    outcome.submitted = len(numbers & got)
    outcome.lost = len(numbers - got) + outcome.failed
    outcome.unknown = len(got - numbers)
    outcome.duplicates = sum(n - 1 for n in received.values() if n > 1)
    twice = {dest for dest, n in received.items() if n > 1}
    outcome.unexpected_duplicates = len(twice - in_flight)
    outcome.elapsed_s = round(time.monotonic() - started, 2)
    if outcome.lost:
        outcome.problems.append(f"{outcome.lost} accepted messages were lost")
    if outcome.unexpected_duplicates:
        outcome.problems.append(
            f"{outcome.unexpected_duplicates} numbers were sent twice but not in flight at the kill"
        )
    if outcome.duplicates > outcome.bound:
        outcome.problems.append(f"{outcome.duplicates} duplicates > the bound {outcome.bound}")
    if outcome.unknown:
        outcome.problems.append(f"{outcome.unknown} numbers were sent that nobody asked for")
    return outcome


def format_report(outcome: Outcome) -> str:
    """A few human lines for one scenario."""
    what = {"sp": "kill -9 the sp", "sim": "kill -9 the simulator"}[outcome.scenario]
    lines = [
        f"{what}: {'OK' if outcome.ok else 'FAILED'} in {outcome.elapsed_s} s",
        f"  accepted {outcome.accepted}, submitted {outcome.submitted}, lost {outcome.lost}"
        f" (failed {outcome.failed})",
        f"  killed after {outcome.sent_before_kill} SUBMITs with {outcome.in_flight_at_kill}"
        f" segments in flight; duplicates {outcome.duplicates} (bound {outcome.bound},"
        f" outside the in-flight set {outcome.unexpected_duplicates})",
    ]
    lines += [f"  problem: {p}" for p in outcome.problems]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """``smsgw bench --durability [--count N] [--scenario sp|sim|both] …``."""
    p = argparse.ArgumentParser(
        prog="smsgw bench --durability",
        description="Queue N messages, kill -9 the sp (and/or the simulator) while it sends, "
        "start it again, and check that no accepted message was lost.",
    )
    p.add_argument("--count", type=int, default=10_000, help="messages [default: 10000]")
    p.add_argument("--scenario", choices=("sp", "sim", "both"), default="both")
    p.add_argument("--protocol", choices=PROTOCOLS, default="cmpp", help="[default: cmpp]")
    p.add_argument("--tps", type=float, help="the channel's SUBMITs/s [default: count/5]")
    p.add_argument("--window", type=int, default=16)
    p.add_argument("--sessions", type=int, default=1)
    p.add_argument(
        "--kill-at",
        type=float,
        default=0.3,
        help="kill when this share has been sent [default: 0.3]",
    )
    p.add_argument("--deadline", type=float, default=600.0, help="seconds per scenario")
    p.add_argument("--workdir", help="keep the databases and logs here")
    p.add_argument("--json", action="store_true", help="print one JSON line per scenario")
    args = p.parse_args(argv)
    # The simulator keeps its last 100,000 SUBMITs (SUBMIT_LOG_SIZE); leave room for repeats.
    if not 1 <= args.count <= 50_000 or not 0 < args.kill_at < 1:
        p.error("--count must be 1..50000 and --kill-at between 0 and 1")
    scenarios = SCENARIOS if args.scenario == "both" else (args.scenario,)
    failed = False
    for scenario in scenarios:
        workdir = os.path.join(args.workdir, scenario) if args.workdir else None
        try:
            outcome = run_scenario(
                scenario,
                args.count,
                tps=args.tps,
                window=args.window,
                sessions=args.sessions,
                kill_at=args.kill_at,
                deadline_s=args.deadline,
                workdir=workdir,
                protocol=args.protocol,
                say=(lambda text: None) if args.json else (lambda text: print(text, flush=True)),
            )
        except BenchError as e:
            print(f"{scenario}: could not run: {e}", file=sys.stderr)
            failed = True
            continue
        print(json.dumps(outcome.to_json()) if args.json else format_report(outcome), flush=True)
        failed |= not outcome.ok
    return 1 if failed else 0
