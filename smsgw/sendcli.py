"""``smsgw send``: send SMS through a running gateway's HTTP API, stdlib only.

::

    smsgw send [--url http://127.0.0.1:8080] [--api-key KEY] --to 13800138000 [--to …]
               (--content TEXT | --template NAME [--param k=v]…)
               [--mode queue|async|sync] [--no-report] [--channel NAME] [--external-id ID]
    smsgw send --file numbers.csv (--content TEXT | --template NAME [--param k=v]…) [same options]

``--url`` and ``--api-key`` default to ``$SMSGW_URL`` and ``$SMSGW_API_KEY``.
One send prints the gateway's answer (JSON) on stdout.  ``--file`` is a bulk
send: the file holds one number per line, or is a CSV whose header has a
``to`` column and optionally ``content`` and template parameter columns
(every other column is a parameter; an empty cell is left out).  The
numbers go in batches of up to ``--batch`` (100) per ``POST /v1/sms``, as
``items`` when rows carry their own content or parameters; with
``--external-id ID`` batch *n* gets ``ID-n``, so running the same bulk send
again does not send twice.  A progress bar goes to stderr when it is a
terminal; the last line on stdout is one JSON summary: ``requests``,
``accepted``, ``repeated`` (numbers in batches whose external id the
gateway had accepted before: not sent again), ``rejected`` with
``rejected_reasons`` counted, ``failed_requests`` by HTTP status (or
``connection``), ``failed_numbers`` and ``elapsed_s``.

Exit codes: 0 when every request was answered 2xx, 1 when the gateway
refused a request (the error JSON is printed), could not be reached or a
bulk send had failed requests, 2 for a bad command line or file.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import attrs

DEFAULT_URL = "http://127.0.0.1:8080"
#: Most numbers one bulk request carries.
MAX_BATCH = 100

_NUMBER = re.compile(r"\+?[0-9][0-9 -]*")
#: What varies between otherwise equal rejection reasons: the number itself.
_VARYING = re.compile(r"'[^']*'|[0-9*+]{5,}")


class SendError(Exception):
    """The send cannot go on; ``exit_code`` says why (1 gateway or network, 2 input)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class FileError(SendError):
    """A bad numbers file; the message names the line."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 2)


@attrs.frozen
class Answer:
    """An HTTP answer: its status and decoded JSON body (None when empty)."""

    status: int
    body: Any


#: ``(path, JSON body) -> Answer``; raises :class:`SendError` when the gateway is unreachable.
Poster = Callable[[str, Any], Answer]


def http_poster(url: str, api_key: str | None = None, timeout_s: float = 60.0) -> Poster:
    """A :data:`Poster` to the gateway at *url* with :mod:`urllib.request` (GET for no body)."""
    base = url.rstrip("/")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"

    def post(path: str, body: Any) -> Answer:
        # No body: a GET (``smsgw balance``).
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        method = "GET" if body is None else "POST"
        request = urllib.request.Request(base + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as resp:
                return Answer(resp.status, _decode(resp.read()))
        except urllib.error.HTTPError as e:
            with e:
                return Answer(e.code, _decode(e.read()))
        except urllib.error.URLError as e:
            reason = e.reason
            if isinstance(reason, ConnectionRefusedError):
                why = "connection refused (is the gateway running? twistd -n smsgw --role=sp)"
            else:
                why = str(reason)
            raise SendError(f"cannot reach the gateway at {base}: {why}") from None
        except TimeoutError:
            raise SendError(
                f"the gateway at {base} did not answer within {timeout_s:g} s"
            ) from None
        except OSError as e:
            raise SendError(f"cannot reach the gateway at {base}: {e}") from None

    return post


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return {"error": "not_json", "message": raw[:300].decode("utf-8", "replace")}


# -- the numbers file ---------------------------------------------------------------------


@attrs.frozen
class Row:
    """One recipient of a bulk send, with its own content or parameters if the file has them.

    :ivar line: the line of the file it came from (1-based).
    """

    to: str
    line: int
    content: str | None = None
    params: dict[str, str] | None = None

    def item(self) -> dict[str, Any]:
        """The ``items[]`` entry of ``POST /v1/sms``."""
        out: dict[str, Any] = {"to": self.to}
        if self.content is not None:
            out["content"] = self.content
        if self.params:
            out["params"] = dict(self.params)
        return out


def _check_number(text: str, line: int) -> str:
    number = text.strip()
    if not _NUMBER.fullmatch(number):
        shown = number if len(number) <= 40 else number[:40] + "…"
        raise FileError(f"line {line}: {shown!r} is not a phone number")
    return number


def read_numbers(stream: TextIO) -> list[Row]:
    """The recipients in a numbers file (see the module docstring).

    :raises FileError: naming the line for anything that does not fit.
    """
    text = stream.read()
    if text.startswith("\ufeff"):  # a UTF-8 BOM, as spreadsheet programs write it
        text = text[1:]
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise FileError("the file has no numbers")
    names = [h.strip() for h in next(csv.reader([lines[first]]))]
    if "to" in (n.lower() for n in names):
        return _csv_rows(text, names)
    if len(names) > 1 and not _NUMBER.fullmatch(names[0]):
        raise FileError(f"line {first + 1}: a CSV header needs a 'to' column")
    return _plain_numbers(lines)


def _plain_numbers(lines: Sequence[str]) -> list[Row]:
    rows = []
    for n, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if "," in stripped:
            cells = [c.strip() for c in stripped.split(",")]
            if any(cells[1:]):
                raise FileError(
                    f"line {n}: one number per line expected (or a CSV with a "
                    "header naming a 'to' column)"
                )
            stripped = cells[0]
        rows.append(Row(_check_number(stripped, n), n))
    if not rows:
        raise FileError("the file has no numbers")
    return rows


def _csv_rows(text: str, names: list[str]) -> list[Row]:
    lowered = [n.lower() for n in names]
    for i, name in enumerate(lowered):
        if not name:
            raise FileError(f"header: column {i + 1} has no name")
        if name in lowered[:i]:
            raise FileError(f"header: column {name!r} appears twice")
    to_at = lowered.index("to")
    content_at = lowered.index("content") if "content" in lowered else None
    params_at = [i for i, n in enumerate(lowered) if n not in ("to", "content")]
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header_seen = False
    n = 0
    try:
        for cells in reader:
            n, end = n + 1, reader.line_num  # n: where this row starts
            if not any(c.strip() for c in cells):
                n = end
                continue
            if not header_seen:
                header_seen = True
                n = end
                continue
            if len(cells) != len(names):
                raise FileError(f"line {n}: {len(cells)} columns, the header has {len(names)}")
            content = cells[content_at] if content_at is not None else None
            params = {names[i]: cells[i] for i in params_at if cells[i] != ""}
            rows.append(Row(_check_number(cells[to_at], n), n, content or None, params or None))
            n = end
    except csv.Error as e:
        raise FileError(f"line {reader.line_num}: {e}") from None
    if not rows:
        raise FileError("the file has a header but no numbers")
    return rows


# -- sending ------------------------------------------------------------------------------


def base_body(args: argparse.Namespace) -> dict[str, Any]:
    """The fields every request of this command carries (no recipients)."""
    body: dict[str, Any] = {"mode": args.mode}
    if args.content is not None:
        body["content"] = args.content
    if args.template is not None:
        body["template"] = args.template
    if args.params:
        body["params"] = dict(args.params)
    if args.no_report:
        body["report"] = False
    if args.channel:
        body["channel"] = args.channel
    if args.src_ext:
        body["src_ext"] = args.src_ext
    return body


def batch_body(base: dict[str, Any], rows: Sequence[Row]) -> dict[str, Any]:
    """``POST /v1/sms`` for *rows*: ``to`` when they share the text, else ``items``."""
    body = dict(base)
    if any(r.content is not None or r.params for r in rows):
        body["items"] = [r.item() for r in rows]
    else:
        body["to"] = [r.to for r in rows]
    return body


def reason_key(why: str) -> str:
    """A rejection reason with the number taken out, so that equal reasons count together."""
    return _VARYING.sub("…", why)


@attrs.define
class Summary:
    """What a bulk send did; :meth:`to_json` is the last line printed."""

    requests: int = 0
    accepted: int = 0
    repeated: int = 0
    rejected: int = 0
    rejected_reasons: Counter[str] = attrs.field(factory=Counter)
    failed_requests: Counter[str] = attrs.field(factory=Counter)
    failed_numbers: int = 0
    errors: list[Any] = attrs.field(factory=list)
    elapsed_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "requests": self.requests,
            "accepted": self.accepted,
            "repeated": self.repeated,
            "rejected": self.rejected,
            "rejected_reasons": dict(self.rejected_reasons),
            "failed_requests": dict(self.failed_requests),
            "failed_numbers": self.failed_numbers,
            "elapsed_s": round(self.elapsed_s, 3),
        }
        if self.errors:
            out["first_errors"] = self.errors[:5]
        return out


def _progress(out: TextIO, done: int, total: int, summary: Summary, started: float) -> None:
    width = 30
    fill = width * done // max(total, 1)
    rate = done / max(time.monotonic() - started, 1e-9)
    out.write(
        f"\r[{'#' * fill}{'.' * (width - fill)}] {done}/{total} numbers, "
        f"{summary.accepted} accepted, {summary.rejected} rejected, {rate:,.0f}/s "
    )
    out.flush()


def send_bulk(
    post: Poster,
    base: dict[str, Any],
    rows: Sequence[Row],
    *,
    batch: int = MAX_BATCH,
    external_id: str | None = None,
    progress: TextIO | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Summary:
    """Send *rows* in batches; what happened.  Stops early only when the gateway is unreachable
    or refuses the credentials (401/403), since every later batch would fail the same way.

    :raises SendError: when the very first request cannot reach the gateway.
    """
    summary = Summary()
    started = clock()
    done = 0
    for n, start in enumerate(range(0, len(rows), batch), 1):
        chunk = rows[start : start + batch]
        body = batch_body(base, chunk)
        if external_id:
            body["external_id"] = f"{external_id}-{n}"
        try:
            answer = post("/v1/sms", body)
        except SendError as e:
            if summary.requests == 0:
                raise
            summary.requests += 1
            summary.failed_requests["connection"] += 1
            summary.failed_numbers += len(rows) - start
            summary.errors.append({"batch": n, "error": str(e)})
            break
        summary.requests += 1
        if 200 <= answer.status < 300 and isinstance(answer.body, dict):
            recipients = answer.body.get("recipients") or []
            rejected = answer.body.get("rejected") or []
            if answer.body.get("repeated"):
                # The same external_id was accepted before: nothing was sent again.
                summary.repeated += len(recipients)
            else:
                summary.accepted += len(recipients)
            summary.rejected += len(rejected)
            for r in rejected:
                summary.rejected_reasons[reason_key(str(r.get("error", "")))] += 1
        else:
            summary.failed_requests[str(answer.status)] += 1
            summary.failed_numbers += len(chunk)
            first_line = chunk[0].line
            if len(summary.errors) < 20:
                summary.errors.append(
                    {
                        "batch": n,
                        "lines": f"{first_line}-{chunk[-1].line}",
                        "status": answer.status,
                        "body": answer.body,
                    }
                )
            if answer.status in (401, 403):
                summary.failed_numbers += len(rows) - start - len(chunk)
                break
        done += len(chunk)
        if progress is not None:
            _progress(progress, done, len(rows), summary, started)
    if progress is not None:
        progress.write("\n")
    summary.elapsed_s = clock() - started
    return summary


# -- the command line ---------------------------------------------------------------------


def _param(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, not {text!r}")
    return key, value


def add_gateway_arguments(p: argparse.ArgumentParser) -> None:
    """``--url`` and ``--api-key``: the gateway and its key (``smsgw send``, ``smsgw balance``)."""
    p.add_argument(
        "--url",
        default=os.environ.get("SMSGW_URL") or DEFAULT_URL,
        help=f"the gateway [default: $SMSGW_URL, else {DEFAULT_URL}]",
    )
    p.add_argument(
        "--api-key",
        default=os.environ.get("SMSGW_API_KEY") or None,
        help="sent as 'Authorization: Bearer KEY' [default: $SMSGW_API_KEY]",
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="smsgw send",
        description="Send SMS through a running smsgw gateway's HTTP API.",
    )
    add_gateway_arguments(p)
    p.add_argument(
        "--to", action="append", default=[], metavar="NUMBER", help="a recipient (repeatable)"
    )
    p.add_argument(
        "--file",
        metavar="PATH",
        help="bulk: one number per line, or a CSV with a 'to' column ('-': stdin)",
    )
    text = p.add_mutually_exclusive_group()
    text.add_argument("--content", help="the text")
    text.add_argument("--template", metavar="NAME", help="a stored template")
    p.add_argument(
        "--param",
        dest="params",
        action="append",
        type=_param,
        default=[],
        metavar="KEY=VALUE",
        help="a template parameter (repeatable)",
    )
    p.add_argument("--mode", choices=("queue", "async", "sync"), default="queue")
    p.add_argument("--no-report", action="store_true", help="ask for no status report")
    p.add_argument("--channel", metavar="NAME", help="send through this channel")
    p.add_argument("--src-ext", metavar="DIGITS", help="appended to the channel's source number")
    p.add_argument(
        "--external-id", metavar="ID", help="idempotency key (bulk: ID-1, ID-2… per batch)"
    )
    p.add_argument(
        "--batch", type=int, default=MAX_BATCH, help=f"bulk: numbers per request, 1..{MAX_BATCH}"
    )
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for an answer")
    p.add_argument("--quiet", "-q", action="store_true", help="bulk: no progress bar")
    return p


def _usage_checks(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.file and args.to:
        p.error("give --to or --file, not both")
    if not args.file and not args.to:
        p.error("give at least one --to NUMBER, or --file")
    if args.params and args.template is None:
        p.error("--param needs --template")
    if not args.file and args.content is None and args.template is None:
        p.error("give --content TEXT or --template NAME")
    if not 1 <= args.batch <= MAX_BATCH:
        p.error(f"--batch must be 1..{MAX_BATCH}")
    if args.timeout <= 0:
        p.error("--timeout must be positive")


def _print_refusal(answer: Answer, err: TextIO) -> None:
    body = answer.body if isinstance(answer.body, dict) else {}
    if answer.status == 504 and "id" in body:
        err.write(
            f"smsgw send: sync: not every SUBMIT was answered within the gateway's wait; "
            f"message {body['id']} is {body.get('status')} and stays queued\n"
        )
        return
    code, message, field = body.get("error"), body.get("message"), body.get("field")
    where = f" (field {field})" if field else ""
    err.write(
        f"smsgw send: the gateway answered {answer.status}"
        f"{f' {code}' if code else ''}{where}: {message or answer.body}\n"
    )


def main(
    argv: Sequence[str],
    *,
    poster: Callable[[str, str | None, float], Poster] = http_poster,
    stdin: TextIO | None = None,
) -> int:
    """``smsgw send …``; the exit code.  *poster* and *stdin* are for tests."""
    out, err = sys.stdout, sys.stderr
    p = parser()
    try:
        args = p.parse_args(list(argv))
        _usage_checks(p, args)
    except SystemExit as e:
        return int(e.code or 0)
    post = poster(args.url, args.api_key, args.timeout)
    base = base_body(args)
    try:
        if not args.file:
            body = dict(base, to=args.to[0] if len(args.to) == 1 else list(args.to))
            if args.external_id:
                body["external_id"] = args.external_id
            answer = post("/v1/sms", body)
            print(json.dumps(answer.body, ensure_ascii=False), file=out)
            if 200 <= answer.status < 300:
                return 0
            _print_refusal(answer, err)
            return 1
        rows = _load_file(args.file, stdin)
        if args.content is None and args.template is None:
            missing = next((r for r in rows if r.content is None), None)
            if missing is not None:
                raise FileError(
                    f"line {missing.line}: no content for {missing.to} "
                    "(give --content, --template or a 'content' column)"
                )
        tty = not args.quiet and err.isatty()
        summary = send_bulk(
            post,
            base,
            rows,
            batch=args.batch,
            external_id=args.external_id,
            progress=err if tty else None,
        )
    except SendError as e:
        err.write(f"smsgw send: {e}\n")
        return e.exit_code
    for error in summary.errors[:5]:
        if isinstance(error.get("body"), dict) and "status" in error:
            _print_refusal(Answer(error["status"], error["body"]), err)
    print(json.dumps(summary.to_json(), ensure_ascii=False), file=out)
    return 1 if summary.failed_requests else 0


def _load_file(path: str, stdin: TextIO | None) -> list[Row]:
    if path == "-":
        return read_numbers(stdin or sys.stdin)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise SendError(f"{path}: {e.strerror}", 2) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise FileError(f"{path}: line {line}: not UTF-8 text") from None
    try:
        return read_numbers(io.StringIO(text, newline=""))
    except FileError as e:
        raise FileError(f"{path}: {e}") from None
