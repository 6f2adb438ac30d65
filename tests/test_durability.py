"""Issue 4: kill -9 the sp, or the simulator, mid-send; no accepted message is lost.

Runs :func:`smsgw.bench.durability.run_scenario` (what ``smsgw bench
--durability`` runs) with 1,000 messages: real ``sp`` and ``ismg-sim`` processes on
loopback ports, SIGKILL, restart, then every accepted number must have
reached the simulator, and only numbers in flight at the kill may have
reached it twice.  Each scenario is bounded (:data:`DEADLINE_S`); the whole
module takes well under two minutes.  Skipped where subprocesses cannot be
started.

Then issue 17's push window: the sp killed right after a report's commit
still pushes that report after a restart (its push row was in that commit).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from smsgw.bench.durability import Outcome, run_scenario
from smsgw.bench.http import SimProcess, SpProcess, free_port, number

COUNT = 1000
#: Seconds one scenario may take, processes' start-up included.
DEADLINE_S = 55.0


def _can_spawn() -> str | None:
    """None when ``python -m twisted smsgw`` can run here, else why not."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", "import twisted.plugins.smsgw_plugin, smsgw.tap"],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as e:
        return f"cannot start a subprocess here: {e}"
    if done.returncode != 0:
        return (
            "the smsgw twistd plugin cannot be imported in a subprocess: "
            + done.stderr.decode("utf-8", "replace").strip().splitlines()[-1]
        )
    return None


class DurabilityTests(SynchronousTestCase):
    """Both kill scenarios with 1,000 queued messages."""

    def setUp(self) -> None:
        why = _can_spawn()
        if why is not None:
            raise SkipTest(why)

    def check(self, outcome: Outcome) -> None:
        detail = repr(outcome.to_json())
        self.assertEqual(outcome.problems, [], detail)
        self.assertEqual((outcome.accepted, outcome.submitted), (COUNT, COUNT), detail)
        self.assertEqual((outcome.lost, outcome.failed, outcome.unknown), (0, 0, 0), detail)
        self.assertLess(outcome.sent_before_kill, COUNT, "the kill came after the last SUBMIT")
        self.assertGreater(outcome.in_flight_at_kill, 0, detail)
        self.assertLessEqual(outcome.duplicates, outcome.bound, detail)
        self.assertEqual(outcome.unexpected_duplicates, 0, detail)

    def test_kill_sp(self) -> None:
        """kill -9 of the sp mid-send: all sent after a restart; only in-flight ones twice."""
        outcome = run_scenario("sp", COUNT, deadline_s=DEADLINE_S)
        self.check(outcome)
        self.assertEqual(outcome.bound, 32)

    def test_kill_simulator(self) -> None:
        """kill -9 of the simulator mid-send: unanswered SUBMITs are sent again, none is lost."""
        outcome = run_scenario("sim", COUNT, deadline_s=DEADLINE_S)
        self.check(outcome)
        self.assertEqual(outcome.bound, 16)
        # The first simulator received a full window it never answered: those come again.
        self.assertEqual(outcome.duplicates, 16)


class SmppDurabilityTests(DurabilityTests):
    """The same over an smpp channel to the simulator's SMSC face."""

    def test_kill_sp(self) -> None:
        """kill -9 of the sp mid-send over SMPP: all sent after a restart; only in-flight twice."""
        outcome = run_scenario("sp", COUNT, deadline_s=DEADLINE_S, protocol="smpp")
        self.check(outcome)
        self.assertEqual(outcome.bound, 32)

    def test_kill_simulator(self) -> None:
        """kill -9 of the SMSC mid-send: unanswered submit_sm are sent again, none is lost."""
        outcome = run_scenario("sim", COUNT, deadline_s=DEADLINE_S, protocol="smpp")
        self.check(outcome)
        self.assertEqual(outcome.duplicates, 16)


class _Receiver:
    """The application's report URL: an HTTP server (on a thread) keeping every JSON body."""

    def __init__(self, port: int) -> None:
        bodies: list[dict[str, Any]] = []
        self.bodies = bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


def _rows(db: str, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db, timeout=10)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _wait(what: str, check: Any, deadline: float) -> Any:
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {what}")
        time.sleep(0.05)


class PushDurabilityTests(SynchronousTestCase):
    """kill -9 right after a report's commit: its push is delivered after a restart."""

    def setUp(self) -> None:
        why = _can_spawn()
        if why is not None:
            raise SkipTest(why)

    def test_push_survives_kill_after_report_commit(self) -> None:
        """The report's item and push commit together; the push goes out after the restart."""
        deadline = time.monotonic() + DEADLINE_S
        with tempfile.TemporaryDirectory(prefix="smsgw-push-") as where:
            # Nothing listens on the report URL until the sp has been killed: the
            # push cannot have been delivered before the kill.
            port = free_port()
            sim = SimProcess(where)
            sp = SpProcess(where, sim.upstream_url())
            with open(os.path.join(where, "sp.toml"), "a") as f:
                f.write(f'\n[callbacks]\nreport_url = "http://127.0.0.1:{port}/r"\n')
            receiver = None
            try:
                sim.start_ready()
                sp.start_ready()
                status, body = sp.api.call(
                    "POST", "/v1/sms", {"to": [number(0)], "content": "push", "mode": "queue"}
                )
                self.assertEqual(status, 202, body)
                message_id = body["id"]
                _wait(
                    "the report's commit",
                    lambda: _rows(sp.db, "SELECT 1 FROM inbound WHERE kind = 'report'"),
                    deadline,
                )
                sp.kill()
                # Committed together: the report's item has its push row, still pending.
                pushes = _rows(sp.db, "SELECT kind, state, payload FROM callbacks")
                self.assertEqual(len(pushes), 1, pushes)
                [(kind, state, payload)] = pushes
                self.assertEqual((kind, state), ("report", "pending"))
                self.assertEqual(json.loads(payload)["message_id"], message_id)
                receiver = _Receiver(port)
                sp.start_ready()
                bodies = receiver.bodies
                _wait("the push after the restart", lambda: bodies, deadline)
                self.assertEqual(
                    (bodies[0]["type"], bodies[0]["message_id"], bodies[0]["segment_status"]),
                    ("report", message_id, "delivered"),
                )
            finally:
                sp.stop()
                sim.stop()
                if receiver is not None:
                    receiver.close()
