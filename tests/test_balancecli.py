"""``smsgw balance`` (:mod:`smsgw.balancecli`): the table, the JSON, the refusals."""

from __future__ import annotations

import io
import json
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from smsgw import balancecli
from smsgw.sendcli import Answer, SendError

CHANNELS = [
    {"channel": "mobile", "protocol": "cmpp", "balance": None,
     "reason": "cmpp has no balance query", "links": 1},
    {"channel": "batchsm", "protocol": "http:batchsm", "balance": 20.0, "reason": None, "links": 1,
     "products": {"p1": 10.0, "p2": 20.0}, "asked_at": 1.0},
]  # fmt: skip


class BalanceCliTests(SynchronousTestCase):
    """It asks GET /v1/balance and prints what each channel knows."""

    def run_cli(self, argv: list[str], answer: Any) -> tuple[int, str, str, list[tuple[str, Any]]]:
        calls: list[tuple[str, Any]] = []

        def poster(path: str, body: Any) -> Answer:
            calls.append((path, body))
            if isinstance(answer, Exception):
                raise answer
            return answer  # type: ignore[no-any-return]

        out, err = io.StringIO(), io.StringIO()
        code = balancecli.main(argv, poster, out, err)
        return code, out.getvalue(), err.getvalue(), calls

    def test_table(self) -> None:
        """A row per channel: the amount (per product when several) or why there is none."""
        code, out, _, calls = self.run_cli([], Answer(200, {"channels": CHANNELS}))
        self.assertEqual((code, calls), (0, [("/v1/balance", None)]))
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["CHANNEL", "PROTOCOL", "BALANCE"])
        self.assertIn("- (cmpp has no balance query)", lines[1])
        self.assertIn("20 (p1: 10, p2: 20)", lines[2])

    def test_one_channel_json(self) -> None:
        """--channel asks for that channel only; --json prints the gateway's answer."""
        body = {"channels": CHANNELS[1:]}
        code, out, _, calls = self.run_cli(["--channel", "batch sm", "--json"], Answer(200, body))
        self.assertEqual(code, 0)
        self.assertEqual(calls, [("/v1/balance?channel=batch%20sm", None)])
        self.assertEqual(json.loads(out), body)

    def test_refused(self) -> None:
        """A 4xx answer: exit 1 with the gateway's message."""
        answer = Answer(404, {"error": "unknown_channel", "message": "no channel 'x'"})
        code, _, err, _ = self.run_cli(["--channel", "x"], answer)
        self.assertEqual(code, 1)
        self.assertIn("no channel 'x'", err)

    def test_unreachable(self) -> None:
        """No gateway: exit 1 saying so."""
        code, _, err, _ = self.run_cli([], SendError("cannot reach the gateway"))
        self.assertEqual(code, 1)
        self.assertIn("cannot reach", err)
