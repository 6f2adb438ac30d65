"""``smsgw send`` (:mod:`smsgw.sendcli`): request bodies, numbers files, bulk summaries, errors.

Most tests give :func:`~smsgw.sendcli.main` a fake poster that records the
requests; :class:`LiveTests` run the command (in a thread, as it blocks)
against the real SP HTTP API served on a loopback port by the reactor.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Callable
from typing import Any
from unittest import mock

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.server import Site

from smsgw import sendcli
from smsgw.bench.http import free_port
from smsgw.sendcli import Answer, FileError, Row, SendError, read_numbers, send_bulk

NUMBER = "13800138000"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


class FakeGateway:
    """Records ``POST /v1/sms`` bodies and answers like the gateway (or as told)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, Any]] = []
        self.answers: list[Answer | Exception] = []
        self.args: tuple[str, str | None, float] | None = None

    def poster(self, url: str, api_key: str | None, timeout_s: float) -> sendcli.Poster:
        self.args = (url, api_key, timeout_s)
        return self.post

    def post(self, path: str, body: Any) -> Answer:
        self.requests.append((path, body))
        if self.answers:
            answer = self.answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        to = body.get("to") or [i["to"] for i in body["items"]]
        to = [to] if isinstance(to, str) else to
        good = [t for t in to if t.startswith("1")]
        bad = [
            {"to": t, "error": f"invalid mobile number {t!r}: no digits"}
            for t in to
            if not t.startswith("1")
        ]
        answer_body: dict[str, Any] = {
            "id": f"m{len(self.requests)}",
            "status": "queued",
            "recipients": [{"to": t} for t in good],
        }
        if bad:
            answer_body["rejected"] = bad
        return Answer(202, answer_body)


class CommandTests(SynchronousTestCase):
    """The command line of one send and its output."""

    def setUp(self) -> None:
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()
        self.patch(sys, "stdout", self.stdout)
        self.patch(sys, "stderr", self.stderr)
        self.gateway = FakeGateway()

    def send(self, *argv: str, stdin: str | None = None) -> int:
        return sendcli.main(
            list(argv),
            poster=self.gateway.poster,
            stdin=io.StringIO(stdin) if stdin is not None else None,
        )

    def test_one_number(self) -> None:
        """One --to: ``to`` is a string, queue mode by default, the answer printed as JSON."""
        self.assertEqual(self.send("--to", NUMBER, "--content", "hello"), 0)
        self.assertEqual(
            self.gateway.requests,
            [("/v1/sms", {"to": NUMBER, "content": "hello", "mode": "queue"})],
        )
        self.assertEqual(json.loads(self.stdout.getvalue())["id"], "m1")
        self.assertEqual(self.gateway.args, (sendcli.DEFAULT_URL, None, 60.0))

    def test_environment_defaults(self) -> None:
        """$SMSGW_URL and $SMSGW_API_KEY are the defaults of --url and --api-key."""
        env = {"SMSGW_URL": "http://127.0.0.1:18080", "SMSGW_API_KEY": "k-env"}
        with mock.patch.dict(os.environ, env):
            self.assertEqual(self.send("--to", NUMBER, "--content", "hello"), 0)
            self.assertEqual(self.gateway.args, ("http://127.0.0.1:18080", "k-env", 60.0))
            self.send("--url", "http://127.0.0.1:1", "--api-key", "k", "--to", NUMBER,
                      "--content", "x")  # fmt: skip
            self.assertEqual(self.gateway.args, ("http://127.0.0.1:1", "k", 60.0))

    def test_every_option(self) -> None:
        """Several --to, a template with params, mode, no report, channel, ids and the key."""
        code = self.send(
            "--url",
            "http://127.0.0.1:9",
            "--api-key",
            "k",
            "--to",
            NUMBER,
            "--to",
            "13900139000",
            "--template",
            "code",
            "--param",
            "code=1234",
            "--param",
            "name=a=b",
            "--mode",
            "sync",
            "--no-report",
            "--channel",
            "cm",
            "--external-id",
            "x1",
            "--src-ext",
            "01",
        )
        self.assertEqual(code, 0)
        self.assertEqual(
            self.gateway.requests[0][1],
            {
                "to": [NUMBER, "13900139000"],
                "template": "code",
                "params": {"code": "1234", "name": "a=b"},
                "mode": "sync",
                "report": False,
                "channel": "cm",
                "src_ext": "01",
                "external_id": "x1",
            },
        )
        self.assertEqual(self.gateway.args, ("http://127.0.0.1:9", "k", 60.0))

    def test_refused(self) -> None:
        """A 4xx answer: its JSON on stdout, a line naming code and field on stderr, exit 1."""
        error = {"error": "unknown_template", "message": "no template 'x'", "field": "template"}
        self.gateway.answers.append(Answer(404, error))
        self.assertEqual(self.send("--to", NUMBER, "--template", "x"), 1)
        self.assertEqual(json.loads(self.stdout.getvalue()), error)
        self.assertIn(
            "404 unknown_template (field template): no template 'x'", self.stderr.getvalue()
        )

    def test_sync_timeout(self) -> None:
        """sync mode's 504: exit 1 and a line saying the message stays queued."""
        self.gateway.answers.append(Answer(504, {"id": "m9", "status": "submitting"}))
        self.assertEqual(self.send("--to", NUMBER, "--content", "x", "--mode", "sync"), 1)
        self.assertIn("message m9 is submitting and stays queued", self.stderr.getvalue())

    def test_unreachable(self) -> None:
        """A gateway that cannot be reached: its message on stderr, exit 1, nothing on stdout."""
        self.gateway.answers.append(SendError("cannot reach the gateway at X: refused"))
        self.assertEqual(self.send("--to", NUMBER, "--content", "x"), 1)
        self.assertEqual(self.stdout.getvalue(), "")
        self.assertIn("smsgw send: cannot reach the gateway at X", self.stderr.getvalue())

    def test_usage_errors(self) -> None:
        """Bad command lines exit 2 before any request, naming the problem."""
        cases = [
            ((), "--to NUMBER"),
            (("--to", NUMBER), "--content TEXT or --template"),
            (("--to", NUMBER, "--file", "f", "--content", "x"), "not both"),
            (("--to", NUMBER, "--content", "x", "--param", "a=1"), "--param needs --template"),
            (("--to", NUMBER, "--content", "x", "--template", "t"), "not allowed with"),
            (("--to", NUMBER, "--template", "t", "--param", "novalue"), "KEY=VALUE"),
            (("--file", "f", "--content", "x", "--batch", "101"), "--batch must be 1..100"),
            (("--to", NUMBER, "--content", "x", "--mode", "later"), "invalid choice"),
        ]
        for argv, message in cases:
            self.stderr.truncate(0)
            self.assertEqual(self.send(*argv), 2, argv)
            self.assertIn(message, self.stderr.getvalue(), argv)
        self.assertEqual(self.gateway.requests, [])

    def test_bulk_from_stdin(self) -> None:
        """--file -: the numbers from stdin, one summary line on stdout, exit 0."""
        numbers = "\n".join(f"138{i:08d}" for i in range(150))
        self.assertEqual(self.send("--file", "-", "--content", "x", stdin=numbers), 0)
        self.assertEqual([len(b["to"]) for _, b in self.gateway.requests], [100, 50])
        summary = json.loads(self.stdout.getvalue().splitlines()[-1])
        self.assertEqual((summary["requests"], summary["accepted"]), (2, 150))

    def test_bulk_file_errors(self) -> None:
        """A bad numbers file exits 2 naming the file and line; nothing is sent."""
        path = self.mktemp()
        with open(path, "w") as f:
            f.write(f"{NUMBER}\nnot-a-number\n")
        self.assertEqual(self.send("--file", path, "--content", "x"), 2)
        self.assertIn(
            f"{path}: line 2: 'not-a-number' is not a phone number", self.stderr.getvalue()
        )
        self.assertEqual(self.send("--file", path + ".missing", "--content", "x"), 2)
        self.assertIn("No such file", self.stderr.getvalue())
        with open(path, "wb") as f:
            f.write(b"13800138000\n1380013\xff8001\n")
        self.assertEqual(self.send("--file", path, "--content", "x"), 2)
        self.assertIn("line 2: not UTF-8", self.stderr.getvalue())
        self.assertEqual(self.gateway.requests, [])

    def test_bulk_needs_content(self) -> None:
        """A CSV row without content and no --content/--template: exit 2 naming its line."""
        csv_text = f"to,content\n{NUMBER},hi\n13900139000,\n"
        self.assertEqual(self.send("--file", "-", stdin=csv_text), 2)
        self.assertIn("line 3: no content for 13900139000", self.stderr.getvalue())

    def test_bulk_refusals_exit_1(self) -> None:
        """A bulk send with a failed request exits 1 and prints the gateway's error."""
        error = {"error": "bad_template_params", "message": "missing code", "field": "items[0]"}
        self.gateway.answers.append(Answer(400, error))
        stdin = f"to,code\n{NUMBER},\n"
        self.assertEqual(self.send("--file", "-", "--template", "t", stdin=stdin), 1)
        self.assertIn(
            "400 bad_template_params (field items[0]): missing code", self.stderr.getvalue()
        )
        summary = json.loads(self.stdout.getvalue().splitlines()[-1])
        self.assertEqual(summary["failed_requests"], {"400": 1})

    def test_progress_on_a_terminal(self) -> None:
        """The progress bar goes to stderr only when it is a terminal, and not with --quiet."""
        tty = _Tty()
        self.patch(sys, "stderr", tty)
        self.send("--file", "-", "--content", "x", stdin=NUMBER)
        self.assertIn("1/1 numbers", tty.getvalue())
        tty = _Tty()
        self.patch(sys, "stderr", tty)
        self.send("--file", "-", "--content", "x", "--quiet", stdin=NUMBER)
        self.assertEqual(tty.getvalue(), "")
        self.assertEqual(self.stderr.getvalue(), "")


class NumbersFileTests(SynchronousTestCase):
    """:func:`~smsgw.sendcli.read_numbers`: the two file shapes and the line of every error."""

    def read(self, text: str) -> list[Row]:
        return read_numbers(io.StringIO(text))

    def error(self, text: str) -> str:
        return str(self.assertRaises(FileError, self.read, text))

    def test_plain_numbers(self) -> None:
        """One number a line; blank lines and # comments are skipped, lines are counted."""
        rows = self.read(f"\ufeff# list\n{NUMBER}\n\n +8613900139000 \n138-0013-8001,\n")
        self.assertEqual(rows, [Row(NUMBER, 2), Row("+8613900139000", 4), Row("138-0013-8001", 5)])

    def test_csv(self) -> None:
        """A header with 'to': content and every other column (as parameters) per row."""
        rows = self.read('Name,TO,content\r\nAda,13800138000,\r\n,13900139000,"hi, ""you"""\r\n')
        self.assertEqual(
            rows,
            [
                Row(NUMBER, 2, None, {"Name": "Ada"}),
                Row("13900139000", 3, 'hi, "you"', None),
            ],
        )

    def test_csv_line_numbers(self) -> None:
        """Line numbers count blank lines and quoted line breaks."""
        rows = self.read(f'to,content\n\n{NUMBER},"two\nlines"\n13900139000,x\n')
        self.assertEqual([r.line for r in rows], [3, 5])
        self.assertEqual(rows[0].content, "two\nlines")

    def test_errors(self) -> None:
        """Each bad file names its line."""
        self.assertEqual(self.error(""), "the file has no numbers")
        self.assertEqual(self.error("# only a comment\n"), "the file has no numbers")
        self.assertEqual(self.error("to,code\n"), "the file has a header but no numbers")
        self.assertIn("line 1: a CSV header needs a 'to' column", self.error("phone,code\n1,2\n"))
        self.assertIn(
            "line 3: 3 columns, the header has 2",
            self.error(f"to,code\n{NUMBER},1\n{NUMBER},1,2\n"),
        )
        self.assertIn("line 2: 'abc' is not a phone number", self.error(f"to\nabc\n{NUMBER}\n"))
        self.assertIn("line 2: one number per line", self.error(f"{NUMBER}\n{NUMBER},x\n"))
        self.assertIn("line 2: unexpected end of data", self.error(f'to,c\n{NUMBER},"open\n'))
        self.assertIn("column 'to' appears twice", self.error("to,To\n1,2\n"))
        self.assertIn("column 2 has no name", self.error("to,,x\n1,2,3\n"))


class BulkTests(SynchronousTestCase):
    """:func:`~smsgw.sendcli.send_bulk`: batches, bodies and the summary."""

    def setUp(self) -> None:
        self.gateway = FakeGateway()
        self.ticks = iter(range(100))

    def bulk(self, rows: list[Row], **kwargs: Any) -> sendcli.Summary:
        clock: Callable[[], float] = lambda: float(next(self.ticks))  # noqa: E731
        return send_bulk(
            self.gateway.post, {"mode": "queue", "content": "x"}, rows, clock=clock, **kwargs
        )

    def test_batches(self) -> None:
        """Up to *batch* numbers a request, as ``to`` when no row has its own text."""
        rows = [Row(f"138{i:08d}", i + 1) for i in range(250)]
        summary = self.bulk(rows)
        self.assertEqual([len(b["to"]) for _, b in self.gateway.requests], [100, 100, 50])
        self.assertEqual(
            [b["to"][0] for _, b in self.gateway.requests],
            ["13800000000", "13800000100", "13800000200"],
        )
        self.assertEqual(
            summary.to_json(),
            {
                "requests": 3,
                "accepted": 250,
                "repeated": 0,
                "rejected": 0,
                "rejected_reasons": {},
                "failed_requests": {},
                "failed_numbers": 0,
                "elapsed_s": 1.0,
            },
        )

    def test_items(self) -> None:
        """A batch with per-row content or params goes as ``items``, each as given."""
        rows = [Row(NUMBER, 1, "own"), Row("13900139000", 2, None, {"code": "1"}), Row("1", 3)]
        self.bulk(rows, batch=2)
        bodies = [b for _, b in self.gateway.requests]
        self.assertEqual(
            bodies[0]["items"],
            [{"to": NUMBER, "content": "own"}, {"to": "13900139000", "params": {"code": "1"}}],
        )
        self.assertEqual(bodies[1]["to"], ["1"])
        self.assertNotIn("to", bodies[0])

    def test_external_id_per_batch(self) -> None:
        """--external-id ID becomes ID-1, ID-2… so a re-run repeats no batch."""
        self.bulk([Row(NUMBER, 1), Row(NUMBER, 2), Row(NUMBER, 3)], batch=2, external_id="run")
        self.assertEqual([b["external_id"] for _, b in self.gateway.requests], ["run-1", "run-2"])

    def test_rejected_and_repeated(self) -> None:
        """Refused numbers are counted by reason (the number taken out); repeats separately."""
        self.gateway.answers.append(
            Answer(200, {"id": "m0", "repeated": True, "recipients": [{"to": NUMBER}]})
        )
        summary = self.bulk([Row(NUMBER, 1), Row("x1", 2), Row("x2", 3), Row(NUMBER, 4)], batch=1)
        self.assertEqual((summary.accepted, summary.repeated, summary.rejected), (1, 1, 2))
        self.assertEqual(dict(summary.rejected_reasons), {"invalid mobile number …: no digits": 2})

    def test_failed_requests(self) -> None:
        """Failed requests are counted by status and the send goes on; 401 stops it."""
        self.gateway.answers += [
            Answer(500, None),
            Answer(400, {"error": "bad"}),
            Answer(401, {"error": "unauthorized"}),
        ]
        summary = self.bulk([Row(f"138{i:08d}", i) for i in range(10)], batch=2)
        self.assertEqual(dict(summary.failed_requests), {"500": 1, "400": 1, "401": 1})
        self.assertEqual((summary.requests, summary.failed_numbers), (3, 10))
        self.assertEqual(summary.errors[1]["lines"], "2-3")

    def test_unreachable(self) -> None:
        """Unreachable at the first request: SendError; later: counted, and the send stops."""
        self.gateway.answers.append(SendError("down"))
        self.assertRaises(SendError, self.bulk, [Row(NUMBER, 1)])
        self.gateway.answers += [Answer(202, {"recipients": [{}] * 2}), SendError("down")]
        summary = self.bulk([Row(NUMBER, i) for i in range(6)], batch=2)
        self.assertEqual(dict(summary.failed_requests), {"connection": 1})
        self.assertEqual((summary.requests, summary.accepted, summary.failed_numbers), (2, 2, 4))

    def test_reason_key(self) -> None:
        """Numbers, quoted or masked, are taken out of a reason."""
        self.assertEqual(
            sendcli.reason_key("no channel for 138****0000 (carrier: mobile): no route"),
            "no channel for … (carrier: mobile): no route",
        )


class LiveTests(TestCase):
    """``smsgw send`` against the real SP HTTP API on a loopback port."""

    timeout = 20

    def setUp(self) -> None:
        from smsgw.config import parse_upstream_url
        from smsgw.sp.channel import Channel
        from smsgw.sp.gateway import Gateway
        from smsgw.sp.routing import Router, RouteSpec
        from smsgw.store.memory import MemoryStore
        from smsgw.web.api import api_resource

        self.store = MemoryStore()
        # A channel that is never started: accepted messages stay queued.
        channel = Channel(parse_upstream_url("cmpp://1:2@127.0.0.1:9"), reactor, name="cm")
        self.gateway = Gateway(
            self.store, {"cm": channel}, Router([RouteSpec("cm", "cmpp")]), reactor
        )
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()
        self.patch(sys, "stdout", self.stdout)
        self.patch(sys, "stderr", self.stderr)

        def listen(keys: list[str]) -> str:
            site = Site(api_resource(self.gateway, None, keys))
            site.noisy = False
            port = reactor.listenTCP(0, site, interface="127.0.0.1")
            self.addCleanup(port.stopListening)
            return f"http://127.0.0.1:{port.getHost().port}"

        self.listen = listen

    def send(self, *argv: str) -> Deferred[int]:
        return deferToThread(sendcli.main, list(argv))

    async def test_send_and_refusal(self) -> None:
        """One send is stored by the gateway; an unknown template is its 404, exit 1."""
        url = self.listen([])
        self.assertEqual(await self.send("--url", url, "--to", NUMBER, "--content", "hi"), 0)
        answer = json.loads(self.stdout.getvalue())
        message = await self.store.get_message(answer["id"])
        self.assertEqual([r.to for r in message.recipients], [NUMBER])
        self.assertEqual(await self.send("--url", url, "--to", NUMBER, "--template", "nope"), 1)
        self.assertIn("404 unknown_template", self.stderr.getvalue())

    async def test_bulk_csv_with_template(self) -> None:
        """A CSV with a parameter column renders per number through the real API."""
        from smsgw.store.model import Template, TemplateEngine

        await self.store.put_template(
            Template("code", TemplateEngine.SIMPLE, "code {code}", 0.0, 0.0)
        )
        path = self.mktemp()
        with open(path, "w") as f:
            f.write(f"to,code\n{NUMBER},11\n13900139000,22\n12345,33\n")
        url = self.listen([])
        code = await self.send("--url", url, "--file", path, "--template", "code", "-q")
        self.assertEqual(code, 0)
        summary = json.loads(self.stdout.getvalue().splitlines()[-1])
        self.assertEqual((summary["requests"], summary["accepted"], summary["rejected"]), (1, 2, 1))
        self.assertEqual(len(summary["rejected_reasons"]), 1)

    async def test_api_key(self) -> None:
        """Without the key: 401 and exit 1; with --api-key: accepted."""
        url = self.listen(["s3cret"])
        self.assertEqual(await self.send("--url", url, "--to", NUMBER, "--content", "x"), 1)
        self.assertIn("401 unauthorized", self.stderr.getvalue())
        argv = ("--url", url, "--api-key", "s3cret", "--to", NUMBER, "--content", "x")
        self.assertEqual(await self.send(*argv), 0)

    async def test_not_running(self) -> None:
        """No gateway on the port: a clear message, exit 1."""
        url = f"http://127.0.0.1:{free_port()}"
        self.assertEqual(await self.send("--url", url, "--to", NUMBER, "--content", "x"), 1)
        self.assertIn(
            f"cannot reach the gateway at {url}: connection refused", self.stderr.getvalue()
        )
        self.assertEqual(self.stdout.getvalue(), "")
