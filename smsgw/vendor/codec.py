"""Pure codecs for HTTP vendors: content, passwords and requests (answers: :mod:`.answers`).

No Twisted here (codec layer).  Both sides use this module: the
client builds requests and reads answers; the simulator reads requests and
renders answers with the inverse functions, so each pair round-trips.

Every reader is total: it returns a typed value or raises
:class:`VendorDecodeError` naming the field; answers from the network are
parsed with defusedxml, never plain ``xml.etree``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from urllib.parse import quote, quote_from_bytes, unquote_to_bytes
from xml.sax.saxutils import escape

import attrs
from defusedxml import ElementTree as SafeET  # type: ignore[import-untyped]
from defusedxml.common import DefusedXmlException  # type: ignore[import-untyped]

from smsgw.vendor.description import (
    Body,
    Description,
    Kind,
    Operation,
    PasswordForm,
    Role,
    Situation,
    Transfer,
)

_OK = Situation.OK

__all__ = [
    "DEFAULT_TIME_FORMAT",
    "AnswerError",
    "HttpRequest",
    "IncomingRequest",
    "SendValues",
    "VendorDecodeError",
    "VendorEncodeError",
    "build_request",
    "check_password",
    "choose_charset",
    "choose_operation",
    "decode_content",
    "decode_request",
    "encode_content",
    "format_time",
    "parse_query",
    "parse_time",
    "password_digest",
    "password_value",
    "record_separator",
    "request_args",
    "url_quote",
]

DEFAULT_TIME_FORMAT = "%Y%m%d%H%M%S"
"""yyyyMMddHHmmss, seed 001's ``ts`` and ``st``."""


class VendorDecodeError(ValueError):
    """Input that cannot be read: names the field (parameter, answer part).

    :ivar field: the parameter or answer field at fault.
    :ivar retry: whether sending the request again may succeed (a 5xx page).
    """

    def __init__(self, field: str, message: str, *, retry: bool = False) -> None:
        self.field = field
        self.message = message
        self.retry = retry
        super().__init__(f"{field}: {message}")


class AnswerError(VendorDecodeError):
    """A vendor answer that cannot be read: an HTML page, garbage, an unknown code."""


class VendorEncodeError(ValueError):
    """Values that cannot be written in the vendor's form (names the field)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


# -- content and password --------------------------------------------------------------


def _decode_codec(codec: str) -> str:
    # GBK text from carriers may use GB18030 extensions; decode with the superset.
    return "gb18030" if codec == "gbk" else codec


def encode_content(text: str, transfer: Transfer, codec: str) -> bytes:
    """Content as the bytes of its parameter value (before URL encoding).

    Seed 001 §12.28: ``tf`` 0 HEX, 1 Base64, 2 the charset's bytes URL-encoded,
    3 UTF-8 bytes URL-encoded (the charset is then ignored).

    :param codec: a Python codec (``ascii``, ``gbk``, ``utf-16-be``, ``utf-8``).
    :raises VendorEncodeError: when the text does not fit the codec.
    """
    if transfer is Transfer.URL_UTF8:
        return text.encode("utf-8")
    try:
        raw = text.encode(codec)
    except UnicodeEncodeError as e:
        raise VendorEncodeError("content", f"not encodable in {codec}: {e.reason}") from None
    if transfer is Transfer.HEX:
        return raw.hex().encode("ascii")
    if transfer is Transfer.BASE64:
        return base64.b64encode(raw)
    return raw


def decode_content(value: bytes, transfer: Transfer, codec: str, field: str = "content") -> str:
    """The text of a content parameter value (URL decoding already done).

    :raises VendorDecodeError: naming *field* for bad HEX, Base64 or bytes.
    """
    try:
        if transfer is Transfer.HEX:
            raw = bytes.fromhex(value.decode("ascii"))
        elif transfer is Transfer.BASE64:
            raw = base64.b64decode(value, validate=True)
        else:
            raw = value
        if transfer is Transfer.URL_UTF8:
            return raw.decode("utf-8")
        if codec == "utf-16-be" and len(raw) % 2:
            raise VendorDecodeError(field, "odd number of UCS2 bytes")
        return raw.decode(_decode_codec(codec))
    except (ValueError, binascii.Error) as e:
        if isinstance(e, VendorDecodeError):
            raise
        raise VendorDecodeError(field, f"not {transfer.value} {codec}: {e}") from None


def url_quote(value: bytes) -> str:
    """Percent-encode every byte outside the unreserved set (``%C4%FA``)."""
    return quote_from_bytes(value, safe="")


def choose_charset(desc: Description, text: str) -> tuple[str | None, str]:
    """The charset parameter value and codec for *text*: the first listed that fits.

    Returns ``(None, codec)`` when the vendor has no charset values.
    """
    enc = desc.encoding
    if not enc.charsets:
        return None, enc.codec
    for value, codec in enc.charsets:
        try:
            text.encode(codec)
        except UnicodeEncodeError:
            continue
        return value, codec
    raise VendorEncodeError("content", "no charset of the vendor can encode the text")


def password_value(
    form: PasswordForm, account: str, secret: str, timestamp: str, content: str | None
) -> str:
    """The password parameter's value.

    ``md5-ts-base64`` is seed 001 §12.26: Base64(MD5(account + password +
    timestamp + content)), UTF-8 bytes, content left out when there is none.
    """
    if form is PasswordForm.PLAIN:
        return secret
    if form is PasswordForm.MD5_HEX:
        return hashlib.md5(secret.encode("utf-8"), usedforsecurity=False).hexdigest()
    return password_digest(
        account, secret, timestamp, None if content is None else content.encode("utf-8")
    )


def password_digest(account: str, secret: str, timestamp: str, content: bytes | None) -> str:
    """Seed 001 §12.26 over content bytes: Base64(MD5(account + password +
    timestamp + content)), the first three as UTF-8, *content* as given
    (left out when ``None``)."""
    digest = hashlib.md5(usedforsecurity=False)
    for part in (account, secret, timestamp):
        digest.update(part.encode("utf-8"))
    if content is not None:
        digest.update(content)
    return base64.b64encode(digest.digest()).decode("ascii")


def check_password(
    form: PasswordForm,
    account: str,
    secret: str,
    presented: str,
    timestamp: str | None,
    content: str | None,
) -> bool:
    """Whether *presented* proves *secret* (the simulator's check).

    Plain and MD5-hex vendors take either form, as 1680 §2.1 ("明文或 32 位 MD5");
    seed 001 takes the digest form when a timestamp is present, else the plain
    password (§12.26).
    """
    candidates = [secret]
    if form is PasswordForm.MD5_TS_BASE64:
        if timestamp:
            candidates = [password_value(form, account, secret, timestamp, content)]
    else:
        candidates.append(password_value(PasswordForm.MD5_HEX, account, secret, "", None))
    given = presented.encode("utf-8")
    return any(hmac.compare_digest(given, c.encode("utf-8")) for c in candidates)


def format_time(epoch_s: float, time_format: str, desc: Description) -> str:
    """*epoch_s* as the vendor's local time in *time_format* (strftime)."""
    return datetime.fromtimestamp(epoch_s, desc.tz).strftime(time_format)


def parse_time(text: str, time_format: str, desc: Description, field: str) -> float:
    """The epoch seconds of a vendor local time.

    :raises VendorDecodeError: naming *field*.
    """
    try:
        return datetime.strptime(text, time_format).replace(tzinfo=desc.tz).timestamp()
    except ValueError:
        raise VendorDecodeError(field, f"not a time in the form {time_format}: {text!r}") from None


# -- requests --------------------------------------------------------------------------


@attrs.frozen
class SendValues:
    """What a request carries, by role.

    ``text`` is the message for ``send``, the template for ``send-template``;
    ``texts`` holds one message per number for ``send-batch``; ``values`` one
    tuple of template values per number for ``send-template``.
    """

    numbers: tuple[str, ...] = ()
    text: str = ""
    texts: tuple[str, ...] = ()
    values: tuple[tuple[str, ...], ...] = ()
    external_ids: tuple[str, ...] = ()
    need_report: bool = True
    extension: str | None = None
    external_id: str | None = None
    schedule_s: float | None = None
    product: str | None = None
    signature: str | None = None
    fetch_size: int | None = None


@attrs.frozen
class HttpRequest:
    """An HTTP request to make: method, full URL, headers, body bytes or ``None``."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None


_PLACEHOLDER = re.compile(r"\{(mobile|content|external-id|values)\}")


_SEPARATORS = ("$$", "||", "~~", "^^", "@@", "!!")
"""Record separators tried when the request names its own (seed 001 ``da``: one to
four half-width characters, not ``#``)."""


def _fills(op: Operation, values: SendValues) -> list[dict[str, str]]:
    assert op.records is not None
    rec = op.records
    out = []
    for i, number in enumerate(values.numbers):
        row = values.values[i] if i < len(values.values) else ()
        for value in row:
            if rec.value_separator in value or rec.separator in value:
                raise VendorEncodeError("values", "a template value holds a separator")
        out.append(
            {
                "mobile": number,
                "content": values.texts[i] if i < len(values.texts) else values.text,
                "external-id": (
                    values.external_ids[i]
                    if i < len(values.external_ids)
                    else (values.external_id or "")
                ),
                "values": rec.value_separator.join(row),
            }
        )
    return out


def _rendered_records(op: Operation, values: SendValues) -> list[str]:
    assert op.records is not None
    return [
        _PLACEHOLDER.sub(lambda m, f=fill: f[m.group(1)], op.records.record)  # type: ignore[misc]
        for fill in _fills(op, values)
    ]


def record_separator(op: Operation, values: SendValues) -> str:
    """The separator between records: the description's, or, when the request
    carries its own (``record-separator`` role), the first one the records split
    back on as they were (no text holds it, nor ends or starts with part of it:
    a text "$" next to "$$" would read as "$$" + "$").

    :raises VendorEncodeError: when no candidate splits back.
    """
    assert op.records is not None
    candidates: tuple[str, ...] = (op.records.separator,)
    if op.param(Role.RECORD_SEPARATOR) is not None:
        candidates += _SEPARATORS
    records = _rendered_records(op, values)
    for sep in candidates:
        if sep.join(records).split(sep) == records:
            return sep
    raise VendorEncodeError("records", "the text holds the record separator")


def _records(op: Operation, values: SendValues) -> str:
    return record_separator(op, values).join(_rendered_records(op, values))


def _raw_content(op: Operation, values: SendValues) -> str | None:
    """The text the seed 001 digest covers: the content, or the records string."""
    if op.param(Role.RECORDS) is not None:
        return _records(op, values)
    if op.param(Role.CONTENT) is not None:
        return values.text
    return None


def _param_values(
    desc: Description,
    op: Operation,
    account: str,
    secret: str,
    values: SendValues,
    now_s: float,
) -> list[tuple[str, bytes]]:
    raw = _raw_content(op, values)
    charset_value, codec = choose_charset(desc, raw or "")
    if op.param(Role.CHARSET) is None:
        codec = desc.encoding.codec
    ts_param = op.param(Role.TIMESTAMP)
    timestamp = format_time(now_s, (ts_param and ts_param.time_format) or DEFAULT_TIME_FORMAT, desc)
    out: list[tuple[str, bytes]] = []
    for p in op.params:
        if p.role is None:
            out.append((p.name, (p.value or "").encode("utf-8")))
            continue
        role = p.role
        value: str | bytes | None
        if role is Role.ACCOUNT:
            value = account
        elif role is Role.PASSWORD:
            value = password_value(desc.password, account, secret, timestamp, raw)
        elif role is Role.TIMESTAMP:
            value = timestamp
        elif role is Role.MOBILES:
            value = op.separator.join(values.numbers)
        elif role is Role.CONTENT:
            value = encode_content(values.text, desc.encoding.transfer, codec)
        elif role is Role.RECORDS:
            value = encode_content(_records(op, values), desc.encoding.transfer, codec)
        elif role is Role.RECORD_SEPARATOR:
            value = record_separator(op, values)
        elif role is Role.SCHEDULE:
            value = (
                None
                if values.schedule_s is None
                else format_time(values.schedule_s, p.time_format or DEFAULT_TIME_FORMAT, desc)
            )
        elif role is Role.EXTENSION:
            value = values.extension
        elif role is Role.PRODUCT:
            value = values.product
        elif role is Role.SIGNATURE:
            value = values.signature
        elif role is Role.EXTERNAL_ID:
            value = values.external_id
        elif role is Role.NEED_REPORT:
            value = p.true_value if values.need_report else p.false_value
        elif role is Role.CHARSET:
            value = charset_value
        elif role is Role.TRANSFER:
            value = desc.encoding.transfer_value(desc.encoding.transfer)
        else:  # FETCH_SIZE
            value = None if values.fetch_size is None else str(values.fetch_size)
        if value is None:
            if p.optional:
                continue
            value = ""
        out.append((p.name, value.encode("utf-8") if isinstance(value, str) else value))
    return out


def _text_values(pairs: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    out = {}
    for name, value in pairs:
        try:
            out[name] = value.decode("utf-8")
        except UnicodeDecodeError:
            raise VendorEncodeError(
                name, "bytes that are not UTF-8 cannot go in JSON or XML"
            ) from None
    return out


def build_request(
    desc: Description,
    op: Operation,
    base_url: str,
    account: str,
    secret: str,
    values: SendValues,
    now_s: float,
) -> HttpRequest:
    """The HTTP request for *op* with *values*.

    :param base_url: scheme, host and port (and a path prefix), no trailing slash.
    :param now_s: the time for the timestamp parameter (epoch seconds).
    :raises VendorEncodeError: when a value cannot be written.
    """
    pairs = _param_values(desc, op, account, secret, values, now_s)
    url = base_url.rstrip("/") + op.path
    headers: dict[str, str] = {}
    body: bytes | None = None
    if op.body in (Body.QUERY, Body.FORM):
        query = "&".join(f"{quote(name, safe='')}={url_quote(value)}" for name, value in pairs)
        if op.body is Body.QUERY:
            url = f"{url}?{query}" if query else url
        else:
            body = query.encode("ascii")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif op.body is Body.JSON:
        body = json.dumps(_text_values(pairs), ensure_ascii=False).encode("utf-8")
        headers["Content-Type"] = "application/json; charset=utf-8"
    else:
        inner = "".join(
            f"<{name}>{escape(value)}</{name}>" for name, value in _text_values(pairs).items()
        )
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><{op.xml_root}>{inner}</{op.xml_root}>'.encode()
        )
        headers["Content-Type"] = "application/xml; charset=utf-8"
    return HttpRequest(op.method, url, headers, body)


def parse_query(data: bytes, *, strict: bool = False) -> list[tuple[bytes, bytes]]:
    """``a=1&b=%C4%FA`` as (name, value) byte pairs, ``+`` as space, values
    percent-decoded to bytes (unlike :func:`urllib.parse.parse_qsl`, which
    decodes them as text).

    :raises VendorDecodeError: with *strict*, for a part without ``=``.
    """
    out = []
    for part in data.split(b"&"):
        if not part:
            continue
        name, sep, value = part.partition(b"=")
        if not sep and strict:
            raise VendorDecodeError("body", "not key=value pairs")
        out.append(
            (
                unquote_to_bytes(name.replace(b"+", b" ")),
                unquote_to_bytes(value.replace(b"+", b" ")),
            )
        )
    return out


def request_args(op: Operation, query: bytes, body: bytes) -> dict[str, bytes]:
    """The parameters of a request to *op*: from the query string, or the body.

    Repeated names keep the first value; names are UTF-8 text.

    :raises VendorDecodeError: for a body that cannot be read.
    """
    pairs: list[tuple[bytes, bytes]] = []
    pairs.extend(parse_query(query))
    if op.body is Body.FORM:
        pairs.extend(parse_query(body))
    elif op.body is Body.JSON:
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise VendorDecodeError("body", "not a JSON object") from None
        if not isinstance(data, dict):
            raise VendorDecodeError("body", "not a JSON object")
        pairs.extend((str(k).encode(), str(v).encode("utf-8")) for k, v in data.items())
    elif op.body is Body.XML:
        root = _parse_xml(body, "body", VendorDecodeError)
        pairs.extend((c.tag.encode(), (c.text or "").encode("utf-8")) for c in root)
    out: dict[str, bytes] = {}
    for name, value in pairs:
        key = name.decode("utf-8", "replace")
        out.setdefault(key, value)
    return out


def choose_operation(ops: Sequence[Operation], query: bytes, body: bytes) -> Operation:
    """Which of the operations sharing one path a request is for.

    Seed 001: ``/mt`` is a plain send when ``da`` holds numbers, a mass send
    when ``da`` is empty or a separator (§9, "不同号码不同内容群发").  Any
    other shared path takes the first operation.

    :param ops: the operations of one path, at least one.
    :raises VendorDecodeError: for a body that cannot be read.
    """
    if len(ops) == 1:
        return ops[0]
    send = next((op for op in ops if op.kind is Kind.SEND), ops[0])
    batch = next((op for op in ops if op.kind is Kind.SEND_BATCH), None)
    mobiles = send.param(Role.MOBILES)
    if batch is None or mobiles is None:
        return send
    args = request_args(send, query, body)
    value = args.get(mobiles.name, b"")
    return send if any(48 <= c <= 57 for c in value) else batch


@attrs.frozen
class IncomingRequest:
    """A request as the vendor reads it (the simulator's side)."""

    account: str
    password: str
    timestamp: str | None
    values: SendValues
    raw_content: str | None
    present: frozenset[Role]


def _text(args: Mapping[str, bytes], name: str) -> str:
    try:
        return args[name].decode("utf-8")
    except UnicodeDecodeError:
        raise VendorDecodeError(name, "not UTF-8") from None


def _split_records(op: Operation, raw: str) -> tuple[SendValues, list[str]]:
    """Numbers and per-number texts/values/external ids of a records string."""
    assert op.records is not None
    rec = op.records
    # Turn the record template into a regex: each placeholder is a group.
    pattern = ""
    pos = 0
    names = []
    for m in _PLACEHOLDER.finditer(rec.record):
        pattern += re.escape(rec.record[pos : m.start()])
        names.append(m.group(1))
        pattern += (
            "(.*)"
            if m.group(1) in ("content", "values")
            else "([^" + re.escape(rec.record[m.end() : m.end() + 1] or rec.separator[:1]) + "]*)"
        )
        pos = m.end()
    pattern += re.escape(rec.record[pos:])
    regex = re.compile(pattern, re.DOTALL)
    numbers, texts, values, ext_ids = [], [], [], []
    for part in raw.split(rec.separator) if raw else []:
        found = regex.fullmatch(part)
        if found is None:
            raise VendorDecodeError("records", f"record does not match {rec.record!r}")
        fields = dict(zip(names, found.groups(), strict=True))
        numbers.append(fields.get("mobile", ""))
        texts.append(fields.get("content", ""))
        ext_ids.append(fields.get("external-id", ""))
        values.append(
            tuple(fields["values"].split(rec.value_separator)) if "values" in fields else ()
        )
    sv = SendValues(
        numbers=tuple(numbers),
        texts=tuple(texts) if "content" in names else (),
        values=tuple(values) if "values" in names else (),
        external_ids=tuple(ext_ids) if "external-id" in names else (),
    )
    return sv, numbers


def decode_request(desc: Description, op: Operation, args: Mapping[str, bytes]) -> IncomingRequest:
    """Read a request's parameters by role (the simulator's side of :func:`build_request`).

    A required parameter that is absent raises :class:`VendorDecodeError`
    naming it with ``message == "missing"``.

    :raises VendorDecodeError: naming the parameter.
    """
    present = set()
    got: dict[Role, str] = {}
    raw_bytes: dict[Role, bytes] = {}
    for p in op.params:
        if p.role is None:
            continue
        if p.name not in args:
            if not p.optional and p.role not in (Role.TIMESTAMP, Role.SCHEDULE):
                raise VendorDecodeError(p.name, "missing")
            continue
        present.add(p.role)
        if p.role in (Role.CONTENT, Role.RECORDS):
            raw_bytes[p.role] = args[p.name]
        else:
            got[p.role] = _text(args, p.name)
    enc = desc.encoding
    transfer = enc.transfer
    tparam = op.param(Role.TRANSFER)
    if tparam is not None:
        found = enc.transfer_for(got.get(Role.TRANSFER))
        if found is None:
            raise VendorDecodeError(tparam.name, f"unknown transfer {got.get(Role.TRANSFER)!r}")
        transfer = found
    codec = enc.codec
    cparam = op.param(Role.CHARSET)
    if cparam is not None:
        found_codec = enc.codec_for(got.get(Role.CHARSET))
        if found_codec is None:
            raise VendorDecodeError(cparam.name, f"unknown charset {got.get(Role.CHARSET)!r}")
        codec = found_codec
    text = ""
    raw_content: str | None = None
    if Role.CONTENT in raw_bytes:
        name = op.param(Role.CONTENT).name  # type: ignore[union-attr]
        text = decode_content(raw_bytes[Role.CONTENT], transfer, codec, name)
        raw_content = text
    sv = SendValues()
    numbers: list[str] = []
    if Role.RECORDS in raw_bytes:
        name = op.param(Role.RECORDS).name  # type: ignore[union-attr]
        raw_content = decode_content(raw_bytes[Role.RECORDS], transfer, codec, name)
        sep_param = op.param(Role.RECORD_SEPARATOR)
        if sep_param is not None and got.get(Role.RECORD_SEPARATOR) and op.records is not None:
            # Seed 001: the separator travels in ``da`` (default " ").
            op = attrs.evolve(
                op, records=attrs.evolve(op.records, separator=got[Role.RECORD_SEPARATOR])
            )
        sv, numbers = _split_records(op, raw_content)
    elif Role.MOBILES in got:
        numbers = (
            [n for n in got[Role.MOBILES].split(op.separator) if n] if got[Role.MOBILES] else []
        )
    schedule = None
    sparam = op.param(Role.SCHEDULE)
    if got.get(Role.SCHEDULE):
        assert sparam is not None
        schedule = parse_time(
            got[Role.SCHEDULE], sparam.time_format or DEFAULT_TIME_FORMAT, desc, sparam.name
        )
    rparam = op.param(Role.NEED_REPORT)
    # Seed 001 §9: an absent integer parameter is 0, so no report unless asked for.
    need_report = rparam is None or got.get(Role.NEED_REPORT) == rparam.true_value
    fetch = got.get(Role.FETCH_SIZE)
    try:
        fetch_size = int(fetch) if fetch else None
    except ValueError:
        raise VendorDecodeError(op.param(Role.FETCH_SIZE).name, "not a number") from None  # type: ignore[union-attr]
    values = attrs.evolve(
        sv,
        numbers=tuple(numbers),
        text=text,
        need_report=need_report,
        extension=got.get(Role.EXTENSION) or None,
        external_id=got.get(Role.EXTERNAL_ID) or None,
        schedule_s=schedule,
        product=got.get(Role.PRODUCT) or None,
        signature=got.get(Role.SIGNATURE) or None,
        fetch_size=fetch_size,
    )
    return IncomingRequest(
        account=got.get(Role.ACCOUNT, ""),
        password=got.get(Role.PASSWORD, ""),
        timestamp=got.get(Role.TIMESTAMP) or None,
        values=values,
        raw_content=raw_content,
        present=frozenset(present),
    )


def _parse_xml(body: bytes, field: str, error: type[VendorDecodeError]) -> SafeET.Element:
    try:
        return SafeET.fromstring(body, forbid_dtd=True)
    except (SafeET.ParseError, DefusedXmlException, ValueError) as e:
        raise error(field, f"not XML: {e}") from None
