"""``smsgw bench --http`` (:mod:`smsgw.bench.http`): options, the counting, one real run.

Functional tests only: they check what the benchmark counts and reports,
never how fast anything is.  :class:`RunTests` drive :func:`~smsgw.bench.http.run`
against a small stand-in gateway (stdlib ``http.server`` on a loopback
port); :class:`EndToEndTests` start the real ``ismg-sim`` and ``sp``
processes for a few messages.
"""

from __future__ import annotations

import io
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from twisted.python import usage
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from smsgw.bench import http as bench_http
from smsgw.bench import load
from smsgw.cli import main as cli_main


class OptionsTests(SynchronousTestCase):
    """Bad ``--http`` command lines are usage errors, before anything starts."""

    def parse(self, *argv: str) -> bench_http.Options:
        opts = bench_http.Options()
        opts.parseOptions(list(argv))
        return opts

    def test_defaults(self) -> None:
        """10,000 messages, 100 a request, 8 connections."""
        opts = self.parse()
        self.assertEqual((opts["count"], opts["batch"], opts["concurrency"]), (10_000, 100, 8))

    def test_bad_values(self) -> None:
        """--batch, --count, --concurrency out of range and a non-loopback target are refused."""
        for argv, message in [
            (("--batch", "0"), "--batch"),
            (("--batch", "101"), "--batch"),
            (("--count", "0"), "--count"),
            (("--concurrency", "65"), "--concurrency"),
            (("--target-http", "http://10.0.0.1:8080"), "loopback"),
        ]:
            e = self.assertRaises(usage.UsageError, self.parse, *argv)
            self.assertIn(message, str(e))

    def test_dispatch(self) -> None:
        """``smsgw bench --http`` reaches this benchmark (its own usage error, exit 2)."""
        stderr = io.StringIO()
        self.patch(sys, "stderr", stderr)
        self.assertEqual(cli_main(["bench", "--http", "--batch", "0"]), 2)
        self.assertIn("smsgw bench --http: --batch must be 1..100", stderr.getvalue())

    def test_dispatch_argument_order(self) -> None:
        """--http may come anywhere; the other options go to the HTTP benchmark."""
        seen: list[list[str]] = []
        self.patch(bench_http, "main", lambda argv: seen.append(argv) or 0)
        self.assertEqual(load.main(["--count", "5", "--http", "--batch", "1"]), 0)
        self.assertEqual(seen, [["--count", "5", "--batch", "1"]])


class _StandIn:
    """A stand-in SP API: POST /v1/sms accepts, GET /v1/inbound hands out one report each."""

    def __init__(self, fail_posts: int = 0, drop_reports: int = 0) -> None:
        self.lock = threading.Lock()
        self.reports: list[dict[str, Any]] = []
        self.posts = 0
        self.fail_posts = fail_posts
        self.drop_reports = drop_reports
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                to = body["to"] if isinstance(body["to"], list) else [body["to"]]
                with stand_in.lock:
                    stand_in.posts += 1
                    n = stand_in.posts
                    if n <= stand_in.fail_posts:
                        self.answer(503, {"error": "busy"})
                        return
                    for t in to:
                        if stand_in.drop_reports:
                            stand_in.drop_reports -= 1
                            continue
                        stand_in.reports.append(
                            {
                                "type": "report",
                                "message_id": f"m{n}",
                                "to": t,
                                "created_at": time.time(),
                            }
                        )
                stand_in.reports.append({"type": "mo", "created_at": time.time()})
                self.answer(202, {"id": f"m{n}", "recipients": [{"to": t} for t in to]})

            def do_GET(self) -> None:
                with stand_in.lock:
                    items, stand_in.reports = stand_in.reports[:1000], stand_in.reports[1000:]
                self.answer(200, {"items": items})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RunTests(SynchronousTestCase):
    """:func:`~smsgw.bench.http.run` counts requests, acceptances, reports and errors."""

    def run_against(self, stand_in: _StandIn, *argv: str) -> dict[str, Any]:
        self.addCleanup(stand_in.close)
        opts = bench_http.Options()
        opts.parseOptions(["-q", *argv])
        return bench_http.run(opts, stand_in.url)

    def test_batches(self) -> None:
        """250 messages 100 a request: 3 requests, every number accepted and reported."""
        stand_in = _StandIn()
        summary = self.run_against(stand_in, "--count", "250", "--batch", "100")
        self.assertEqual(
            {k: summary[k] for k in ("accepted", "reports", "requests", "errors")},
            {"accepted": 250, "reports": 250, "requests": 3, "errors": {}},
        )
        self.assertGreater(summary["msgs_per_s"], 0)
        self.assertGreater(summary["accept_per_s"], 0)

    def test_one_a_request(self) -> None:
        """--batch 1 posts one number (as a string) per request."""
        summary = self.run_against(_StandIn(), "--count", "20", "--batch", "1", "-c", "3")
        self.assertEqual((summary["requests"], summary["reports"], summary["errors"]), (20, 20, {}))

    def test_errors(self) -> None:
        """Failed requests count by status; reports that never come count as missing."""
        stand_in = _StandIn(fail_posts=1, drop_reports=2)
        summary = self.run_against(
            stand_in, "--count", "30", "--batch", "10", "-c", "1", "--timeout", "1"
        )
        self.assertEqual(summary["errors"], {"503": 1, "missing_reports": 2})
        self.assertEqual((summary["accepted"], summary["reports"]), (20, 18))


class EndToEndTests(SynchronousTestCase):
    """The real thing, small: ``ismg-sim`` and ``sp`` processes, 30 messages."""

    def test_small_run(self) -> None:
        """30 messages, 10 a request: all accepted, all reported, no errors, exit 0."""
        from tests.test_durability import _can_spawn

        why = _can_spawn()
        if why is not None:
            raise SkipTest(why)
        stdout = io.StringIO()
        self.patch(sys, "stdout", stdout)
        code = bench_http.main(["--count", "30", "--batch", "10", "-q", "--timeout", "60"])
        summary = json.loads(stdout.getvalue().splitlines()[-1])
        self.assertEqual(code, 0, summary)
        self.assertEqual(
            {k: summary[k] for k in ("accepted", "reports", "requests", "errors")},
            {"accepted": 30, "reports": 30, "requests": 3, "errors": {}},
        )

    def test_small_vendor_runs(self) -> None:
        """--vendor: 30 messages through an HTTP channel, pulled (somp) and pushed (batchsm)."""
        from tests.test_durability import _can_spawn

        why = _can_spawn()
        if why is not None:
            raise SkipTest(why)
        for vendor in ("somp", "batchsm"):
            stdout = io.StringIO()
            self.patch(sys, "stdout", stdout)
            code = load.main(
                ["--vendor", vendor, "--count", "30", "--batch", "10", "-q", "--timeout", "60"]
            )
            summary = json.loads(stdout.getvalue().splitlines()[-1])
            self.assertEqual(code, 0, summary)
            self.assertEqual(
                {k: summary[k] for k in ("accepted", "reports", "errors", "vendor")},
                {"accepted": 30, "reports": 30, "errors": {}, "vendor": vendor},
            )

    def test_unknown_vendor(self) -> None:
        """An unknown --vendor is refused before anything starts, naming the known ones."""
        stderr = io.StringIO()
        self.patch(sys, "stderr", stderr)
        self.assertEqual(load.main(["--vendor", "nosuch", "--count", "1"]), 1)
        self.assertIn("somp", stderr.getvalue())
