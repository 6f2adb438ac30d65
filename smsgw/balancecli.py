"""``smsgw balance``: what each channel of a running gateway knows of its balance.

It asks ``GET /v1/balance`` (every channel, or ``--channel NAME``); an HTTP
vendor is asked through its file (answers are cached by the gateway for the
channel's ``balance_cache`` seconds), a carrier protocol says it has none.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO
from urllib.parse import quote

from smsgw.sendcli import Poster, SendError, add_gateway_arguments, http_poster

__all__ = ["main", "parser", "render"]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="smsgw balance",
        description="Show each channel's account balance, as the running gateway knows it.",
    )
    add_gateway_arguments(p)
    p.add_argument("--channel", metavar="NAME", help="only this channel")
    p.add_argument("--json", action="store_true", help="print the gateway's JSON answer")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for an answer")
    return p


def render(channels: list[dict[str, Any]]) -> str:
    """A table: channel, protocol, balance (or why there is none), per product when several."""
    rows = [("CHANNEL", "PROTOCOL", "BALANCE")]
    for c in channels:
        if c.get("balance") is None:
            shown = f"- ({c.get('reason') or 'unknown'})"
        else:
            shown = f"{c['balance']:g}"
            products = c.get("products") or {}
            if len(products) > 1:
                shown += " (" + ", ".join(f"{k}: {v:g}" for k, v in products.items()) + ")"
        rows.append((str(c.get("channel")), str(c.get("protocol")), shown))
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    return "\n".join(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]}" for r in rows)


def main(
    argv: list[str],
    poster: Poster | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run ``smsgw balance``; 0 on an answer, 1 when the gateway refused or is unreachable."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = parser().parse_args(argv)
    get = poster or http_poster(args.url, args.api_key, args.timeout)
    path = "/v1/balance" + (f"?channel={quote(args.channel, safe='')}" if args.channel else "")
    try:
        answer = get(path, None)
    except SendError as e:
        print(f"smsgw balance: {e}", file=err)
        return 1
    if answer.status != 200:
        body = answer.body if isinstance(answer.body, dict) else {}
        message = body.get("message") or f"HTTP {answer.status}"
        print(f"smsgw balance: refused: {message}", file=err)
        return 1
    if args.json:
        print(json.dumps(answer.body, ensure_ascii=False, indent=2), file=out)
    else:
        print(render(answer.body.get("channels", [])), file=out)
    return 0
