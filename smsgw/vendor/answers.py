"""Pure codecs for HTTP vendors: answers, balances, reports, MOs and pulled lines.

No Twisted here, like :mod:`smsgw.vendor.codec` (requests), which it builds on.
Every reader is total: a typed value or :class:`~smsgw.vendor.codec.VendorDecodeError`
naming the field; answers from the network are parsed with defusedxml.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import parse_qsl, quote
from xml.sax.saxutils import escape

import attrs

from smsgw.vendor.codec import (
    DEFAULT_TIME_FORMAT,
    AnswerError,
    VendorDecodeError,
    _parse_xml,
    choose_charset,
    decode_content,
    encode_content,
    format_time,
    parse_query,
    parse_time,
    url_quote,
)
from smsgw.vendor.description import (
    AnswerFormat,
    Code,
    Description,
    Inbound,
    Operation,
    Outcome,
    Situation,
)

_OK = Situation.OK

__all__ = [
    "Answer",
    "BalanceAnswer",
    "MoRecord",
    "PullAnswer",
    "ReportRecord",
    "parse_answer",
    "parse_balance",
    "parse_mo",
    "parse_pull",
    "parse_report",
    "render_answer",
    "render_balance",
    "render_mo",
    "render_pull",
    "render_report",
]


# -- answers ---------------------------------------------------------------------------


@attrs.frozen
class Answer:
    """A vendor answer read and classified.

    :ivar code: the vendor's result code as text.
    :ivar outcome: what it means for the gateway.
    :ivar text: the vendor's text for the code (from its table).
    :ivar detail: what the answer added (``error:`` text, a black word).
    :ivar msg_id: the message (or batch) id, on success.
    :ivar lines: the body's further lines (balance per product).
    """

    code: str
    outcome: Outcome
    text: str
    detail: str = ""
    msg_id: str | None = None
    lines: tuple[str, ...] = ()


_HTML = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body)", re.IGNORECASE)


def _body_text(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return body.decode("gb18030")
        except UnicodeDecodeError:
            raise AnswerError("body", "neither UTF-8 nor GB18030 text") from None


def _check_status(status: int, body: bytes) -> None:
    if _HTML.match(body):
        raise AnswerError(
            "body", f"an HTML page (HTTP {status})", retry=status >= 500 or status == 429
        )
    if status >= 500 or status == 429:
        raise AnswerError("status", f"HTTP {status}", retry=True)
    if not 200 <= status < 300:
        raise AnswerError("status", f"HTTP {status}")


def _raw_answer(
    op: Operation, body: bytes
) -> tuple[str | None, str | None, str | None, tuple[str, ...]]:
    """(code, msg_id, rest, further lines) from a body, by the answer format."""
    spec = op.answer
    fmt = spec.format
    if fmt is AnswerFormat.XML:
        root = _parse_xml(body, "body", AnswerError)
        found: dict[str, str] = {}
        for el in root.iter():
            if isinstance(el.tag, str):
                found.setdefault(el.tag, (el.text or "").strip())
        return found.get(spec.code), found.get(spec.id), None, ()
    text = _body_text(body).strip()
    if fmt is AnswerFormat.KV:
        try:
            pairs = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))
        except ValueError:
            raise AnswerError("body", "not key=value pairs") from None
        if spec.code not in pairs and spec.id not in pairs:
            raise AnswerError(spec.code, "neither the code nor the id is present")
        return pairs.get(spec.code), pairs.get(spec.id), None, ()
    if fmt is AnswerFormat.JSON:
        try:
            data = json.loads(text)
        except ValueError:
            raise AnswerError("body", "not JSON") from None
        if not isinstance(data, dict):
            raise AnswerError("body", "not a JSON object")
        code = data.get(spec.code)
        msg_id = data.get(spec.id)
        if code is None and msg_id is None:
            raise AnswerError(spec.code, "neither the code nor the id is present")
        if isinstance(code, dict | list) or isinstance(msg_id, dict | list):
            raise AnswerError(spec.code, "not a scalar")
        return (
            None if code is None else str(code),
            None if msg_id is None else str(msg_id),
            None,
            (),
        )
    if not text:
        raise AnswerError("body", "empty")
    lines = tuple(line.strip() for line in text.splitlines() if line.strip())
    if fmt is AnswerFormat.LINES:
        tokens = lines[0].split(spec.separator)
        if len(tokens) <= spec.code_index:
            raise AnswerError("code", f"line 1 has no field {spec.code_index + 1}")
        msg_id = lines[1] if len(lines) > 1 else None
        return tokens[spec.code_index].strip(), msg_id, None, lines[1:]
    if fmt is AnswerFormat.DELIMITED:
        head, sep, rest = lines[0].partition(spec.separator)
        return head.strip(), None, rest.strip() if sep else None, lines[1:]
    if fmt is AnswerFormat.NUMBER:
        try:
            number = int(lines[0])
        except ValueError:
            raise AnswerError("body", "not a number") from None
        if number < 0:
            return str(number), None, None, ()
        return None, str(number), None, ()
    # LINES_KV: the code only when the first line carries one.
    try:
        first = dict(parse_qsl(lines[0], keep_blank_values=True, strict_parsing=True))
    except ValueError:
        raise AnswerError("line 1", "not key=value pairs") from None
    return first.get(spec.code), None, None, lines


def parse_answer(desc: Description, op: Operation, status: int, body: bytes) -> Answer:
    """Read and classify the answer to a request to *op*.

    :raises AnswerError: for a non-2xx status, an HTML page, a body that does not
        parse, or a code the vendor's tables do not list; ``retry`` is set for
        5xx and 429 answers.
    """
    _check_status(status, body)
    code, msg_id, rest, lines = _raw_answer(op, body)
    if code is None or code == "":
        code = op.answer.default_code
        if code is None:
            raise AnswerError(op.answer.code, "missing")
    entry: Code | None = desc.code_for(op, code, rest)
    if entry is None:
        raise AnswerError("code", f"unknown code {code!r}" + (f" ({rest})" if rest else ""))
    detail = ""
    if entry.outcome is Outcome.ACCEPTED:
        if msg_id is None and rest:
            msg_id = rest
    elif rest:
        detail = rest
    return Answer(entry.value, entry.outcome, entry.text, detail, msg_id or None, lines)


@attrs.frozen
class BalanceAnswer:
    """A balance answer: the classified answer and the amounts by product ("" = the only)."""

    answer: Answer
    amounts: dict[str, int]


def parse_balance(desc: Description, op: Operation, status: int, body: bytes) -> BalanceAnswer:
    """Read a balance answer (seed 002 per-product lines, 1680's count, ``success:N``).

    :raises AnswerError: as :func:`parse_answer`, or for an amount that is not a number.
    """
    answer = parse_answer(desc, op, status, body)
    amounts: dict[str, int] = {}
    if answer.outcome is Outcome.ACCEPTED:
        try:
            if op.answer.format is AnswerFormat.LINES:
                for line in answer.lines:
                    product, sep, amount = line.partition(op.answer.separator)
                    if not sep:
                        raise ValueError(line)
                    amounts[product.strip()] = int(amount)
            else:
                amounts[""] = int(answer.msg_id or "")
        except ValueError:
            raise AnswerError("amount", "not a number") from None
    return BalanceAnswer(answer, amounts)


def render_answer(
    desc: Description,
    op: Operation,
    code: Code,
    msg_id: str | None = None,
    detail: str | None = None,
    now_s: float = 0.0,
    lines: Sequence[str] = (),
) -> bytes:
    """The answer body a vendor sends for *code* (the simulator's side)."""
    spec = op.answer
    fmt = spec.format
    accepted = code.outcome is Outcome.ACCEPTED
    if fmt is AnswerFormat.KV:
        parts = [(spec.code, code.value)]
        if msg_id is not None:
            parts.append((spec.id, msg_id))
        return "&".join(f"{k}={quote(v, safe='')}" for k, v in parts).encode()
    if fmt is AnswerFormat.JSON:
        data = {spec.code: code.value}
        if msg_id is not None:
            data[spec.id] = msg_id
        return json.dumps(data, ensure_ascii=False).encode("utf-8")
    if fmt is AnswerFormat.XML:
        inner = f"<{spec.code}>{escape(code.value)}</{spec.code}>"
        if msg_id is not None:
            inner += f"<{spec.id}>{escape(msg_id)}</{spec.id}>"
        return f'<?xml version="1.0"?><result>{inner}</result>'.encode()
    if fmt is AnswerFormat.LINES:
        tokens = [format_time(now_s, DEFAULT_TIME_FORMAT, desc)] * (spec.code_index + 1)
        tokens[spec.code_index] = code.value
        out = [spec.separator.join(tokens)]
        if msg_id is not None:
            out.append(msg_id)
        out.extend(lines)
        return "\n".join(out).encode("utf-8")
    if fmt is AnswerFormat.DELIMITED:
        if accepted:
            rest = msg_id if spec.returns_id else None
        else:
            rest = code.detail if detail is None else detail
        value = code.value + (spec.separator + rest if rest else "")
        return value.encode("utf-8")
    if fmt is AnswerFormat.NUMBER:
        return (msg_id if accepted and msg_id is not None else code.value).encode()
    return code.value.encode()


def render_balance(
    desc: Description, op: Operation, code: Code, amounts: Mapping[str, int], now_s: float
) -> bytes:
    """A balance answer: per-product lines (``lines``), else the one amount as the id."""
    if code.outcome is not Outcome.ACCEPTED:
        return render_answer(desc, op, code, now_s=now_s)
    if op.answer.format is AnswerFormat.LINES:
        sep = op.answer.separator
        lines = [f"{p}{sep}{a}" for p, a in amounts.items()]
        return render_answer(desc, op, code, None, now_s=now_s, lines=lines)
    return render_answer(desc, op, code, str(sum(amounts.values())), now_s=now_s)


# -- reports and MOs -------------------------------------------------------------------


@attrs.frozen
class ReportRecord:
    """A delivery report in neutral form.

    :ivar msg_id: the vendor's message (or batch) id.
    :ivar number: the handset number.
    :ivar stat: the carrier's stat word as the vendor gave it (``DELIVRD``, ``0``).
    :ivar delivered: whether it says the message reached the handset.
    :ivar final: whether no further report follows for this message.
    :ivar done_at: the completion time, epoch seconds, when given.
    :ivar error: the vendor's error code or text, "" when none.
    """

    msg_id: str
    number: str
    stat: str
    delivered: bool
    final: bool = True
    done_at: float | None = None
    error: str = ""
    external_id: str | None = None


@attrs.frozen
class MoRecord:
    """An MO (mobile originated message) in neutral form."""

    number: str
    text: str
    extension: str = ""
    received_at: float | None = None


def _args_text(args: Mapping[str, bytes], name: str) -> str:
    try:
        return args[name].decode("utf-8")
    except UnicodeDecodeError:
        raise VendorDecodeError(name, "not UTF-8") from None


def parse_report(desc: Description, args: Mapping[str, bytes]) -> ReportRecord:
    """A pushed (or pulled) report's fields as a :class:`ReportRecord`.

    :raises VendorDecodeError: naming a missing or malformed field.
    """
    spec = desc.reports
    if spec is None:
        raise VendorDecodeError("reports", f"vendor {desc.name} has no reports")
    got: dict[str, str] = {}
    for f in spec.fields:
        if f.name in args:
            got[f.role] = _args_text(args, f.name)
    for role in ("msg-id", "mobile"):
        if not got.get(role):
            field = spec.field(role)
            raise VendorDecodeError(field.name if field else role, "missing")
    stat = got.get("stat", "")
    error = got.get("error", "")
    done_at = None
    field = spec.field("done-at")
    if got.get("done-at") and field is not None:
        done_at = parse_time(
            got["done-at"], field.time_format or DEFAULT_TIME_FORMAT, desc, field.name
        )
    delivered = (stat or error) in spec.delivered
    return ReportRecord(
        msg_id=got["msg-id"],
        number=got["mobile"],
        stat=stat or error,
        delivered=delivered,
        final=True,
        done_at=done_at,
        error="" if delivered else (error or stat),
        external_id=got.get("external-id") or None,
    )


def parse_mo(desc: Description, args: Mapping[str, bytes]) -> MoRecord:
    """A pushed (or pulled) MO's fields as a :class:`MoRecord`.

    :raises VendorDecodeError: naming a missing or malformed field.
    """
    spec = desc.mos
    if spec is None:
        raise VendorDecodeError("mos", f"vendor {desc.name} has no MOs")
    got: dict[str, bytes] = {}
    for f in spec.fields:
        if f.name in args:
            got[f.role] = args[f.name]
    number = got.get("mobile", b"").decode("utf-8", "replace")
    if not number:
        field = spec.field("mobile")
        raise VendorDecodeError(field.name if field else "mobile", "missing")
    codec = desc.encoding.codec
    charset = spec.field("charset")
    if charset is not None and "charset" in got:
        found = desc.encoding.codec_for(got["charset"].decode("ascii", "replace"))
        if found is None:
            raise VendorDecodeError(charset.name, "unknown charset")
        codec = found
    content_field = spec.field("content")
    text = decode_content(
        got.get("content", b""),
        spec.content_transfer,
        codec,
        content_field.name if content_field else "content",
    )
    received = None
    rfield = spec.field("received-at")
    if got.get("received-at") and rfield is not None:
        received = parse_time(
            got["received-at"].decode("utf-8", "replace"),
            rfield.time_format or DEFAULT_TIME_FORMAT,
            desc,
            rfield.name,
        )
    return MoRecord(number, text, got.get("extension", b"").decode("utf-8", "replace"), received)


def render_report(
    desc: Description, rec: ReportRecord, credentials: tuple[str, str] | None = None
) -> list[tuple[str, bytes]]:
    """A report's fields as the vendor pushes them (or writes them in a pulled line).

    :param credentials: (account, password) for the ``account`` and ``password``
        fields of a push that carries them (seed 002 ``receiver``, ``pswd``);
        left out without.
    """
    spec = desc.reports
    assert spec is not None
    out: list[tuple[str, bytes]] = []
    for f in spec.fields:
        value: str | None
        if f.role == "kind":
            value = spec.kind_value
        elif f.role == "msg-id":
            value = rec.msg_id
        elif f.role == "mobile":
            value = rec.number
        elif f.role == "stat":
            value = rec.stat
        elif f.role == "error":
            value = rec.error or "0"
        elif f.role == "done-at":
            value = (
                None
                if rec.done_at is None
                else format_time(rec.done_at, f.time_format or DEFAULT_TIME_FORMAT, desc)
            )
        elif f.role == "external-id":
            value = rec.external_id
        elif f.role in ("account", "password") and credentials is not None:
            value = credentials[0] if f.role == "account" else credentials[1]
        else:
            value = None
        if value is not None:
            out.append((f.name, value.encode("utf-8")))
    return out


def render_mo(desc: Description, rec: MoRecord) -> list[tuple[str, bytes]]:
    """An MO's fields as the vendor pushes them (or writes them in a pulled line)."""
    spec = desc.mos
    assert spec is not None
    charset_value, codec = choose_charset(desc, rec.text)
    if spec.field("charset") is None:
        codec = desc.encoding.codec
    out: list[tuple[str, bytes]] = []
    for f in spec.fields:
        value: str | bytes | None
        if f.role == "kind":
            value = spec.kind_value
        elif f.role == "mobile":
            value = rec.number
        elif f.role == "content":
            value = encode_content(rec.text, spec.content_transfer, codec)
        elif f.role == "charset":
            value = charset_value
        elif f.role == "extension":
            value = rec.extension
        elif f.role == "received-at":
            value = (
                None
                if rec.received_at is None
                else format_time(rec.received_at, f.time_format or DEFAULT_TIME_FORMAT, desc)
            )
        else:
            value = None
        if value is not None:
            out.append((f.name, value.encode("utf-8") if isinstance(value, str) else value))
    return out


def _line(pairs: Iterable[tuple[str, bytes]]) -> str:
    return "&".join(f"{quote(k, safe='')}={url_quote(v)}" for k, v in pairs)


def render_pull(desc: Description, records: Iterable[ReportRecord | MoRecord]) -> bytes:
    """A pull answer: one kv line per report or MO, ``\\r\\n`` between (seed 001 ``/mo``)."""
    lines = []
    for rec in records:
        pairs = render_report(desc, rec) if isinstance(rec, ReportRecord) else render_mo(desc, rec)
        lines.append(_line(pairs))
    return "\r\n".join(lines).encode("ascii")


@attrs.frozen
class PullAnswer:
    """A pull answer: the classified answer and the reports and MOs it held."""

    answer: Answer
    records: tuple[ReportRecord | MoRecord, ...]


def _kind_name(spec: Inbound | None) -> tuple[str | None, str | None]:
    if spec is None:
        return None, None
    field = spec.field("kind")
    return (field.name if field else None), spec.kind_value


def parse_pull(desc: Description, op: Operation, status: int, body: bytes) -> PullAnswer:
    """Read a pull answer: an error code, or lines of reports and MOs.

    :raises AnswerError: naming the line that cannot be read.
    """
    _check_status(status, body)
    text = _body_text(body).strip()
    if not text:
        ok = desc.code_for_situation(op, _OK)
        assert ok is not None
        return PullAnswer(Answer(ok.value, ok.outcome, ok.text), ())
    report_kind = _kind_name(desc.reports)
    mo_kind = _kind_name(desc.mos)
    records: list[ReportRecord | MoRecord] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            pairs = parse_query(line.strip().encode("utf-8"), strict=True)
        except VendorDecodeError:
            raise AnswerError(f"line {n}", "not key=value pairs") from None
        raw: dict[str, bytes] = {}
        for k, v in pairs:
            raw.setdefault(k.decode("utf-8", "replace"), v)
        args = {k: v.decode("utf-8", "replace") for k, v in raw.items()}
        if report_kind[0] and args.get(report_kind[0]) == report_kind[1]:
            try:
                records.append(parse_report(desc, raw))
            except VendorDecodeError as e:
                raise AnswerError(f"line {n}", str(e)) from None
        elif mo_kind[0] and args.get(mo_kind[0]) == mo_kind[1]:
            try:
                records.append(parse_mo(desc, raw))
            except VendorDecodeError as e:
                raise AnswerError(f"line {n}", str(e)) from None
        elif n == 1 and op.answer.code in args:
            answer = parse_answer(desc, op, status, line.encode("utf-8"))
            return PullAnswer(answer, ())
        else:
            raise AnswerError(f"line {n}", "neither a report nor an MO")
    ok = desc.code_for_situation(op, _OK)
    assert ok is not None
    return PullAnswer(Answer(ok.value, ok.outcome, ok.text), tuple(records))
