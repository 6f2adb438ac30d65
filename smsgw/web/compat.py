"""The seed-001-compatible inbound API of the SP role: SOMP's ``/mt`` and ``/mo``.

An application written against that HTTP interface (SOMP2 §9, parameters
§12, error codes §16) sends through smsgw by changing its URL only: the
same parameters, content encodings (``tf`` 0-3, ``dc`` 0/8/15), answers
(``rf`` 0 key/value, 1 XML, 2 JSON), error codes, mass send
(``mobile#ex#text`` records), and ``/mo`` answering pending reports and MOs
one ``op=dr`` / ``op=mo`` line each.

Everything about the interface is read from the shipped ``somp.xml``
vendor description (parameter names, codes, report and MO fields) through
the same codecs the simulator uses, so the two cannot drift apart.

Accounts are the ``[[api_key]]`` entries: ``un`` is a key's ``name``,
``pw`` the key itself, plain or as the §12.26 digest with ``ts``.  An
accepted request is one gateway message in queue mode, committed before
the answer; the id answered is that message's id, and ``/mo`` reports
carry it back in ``id`` (with the number in ``sa``).  The application's
``ex`` values ride in the message's ``external_id`` (see
:func:`encode_external_ids`).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

import attrs
from twisted.application.internet import StreamServerEndpointService
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import serverFromString
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

from smsgw.config import ApiKeyConfig
from smsgw.sp.gateway import Gateway, Item, RequestError, SendRequest
from smsgw.sp.numbers import InvalidNumber, normalize_msisdn
from smsgw.store.model import Inbound, InboundKind, Mode
from smsgw.vendor.answers import (
    MoRecord,
    ReportRecord,
    render_answer,
    render_mo,
    render_report,
)
from smsgw.vendor.codec import (
    DEFAULT_TIME_FORMAT,
    IncomingRequest,
    SendValues,
    VendorDecodeError,
    check_password,
    choose_operation,
    decode_content,
    decode_request,
    parse_time,
    password_digest,
    request_args,
    url_quote,
)
from smsgw.vendor.description import Code, Description, Kind, Operation, Role, Transfer
from smsgw.web.jsonapi import access_log_line
from smsgw.web.limits import HttpLimits, limited_site

__all__ = [
    "CompatApi",
    "CompatResource",
    "compat_service",
    "decode_external_id",
    "encode_external_ids",
    "somp_description",
    "split_records",
]

#: How far ``ts`` may be from our clock (§12.26 digests are replayable within it).
MAX_SKEW_S = 600.0
#: ``/mo`` lines per answer when ``fs`` is absent, invalid or too big (§12.27).
DEFAULT_FETCH = 100
MAX_FETCH = 1000
#: ``external_id`` prefix of messages sent through this API (see :func:`encode_external_ids`).
EX_PREFIX = "somp:"

_EX = re.compile(r"-?[0-9]{1,19}")
_NUMBER = re.compile(r"\+?[0-9][0-9 -]{3,24}")
_RECORD = re.compile(r"([^#]*)#(?:([0-9]*)#)?(.*)", re.DOTALL)
_MIXED_HEAD = re.compile(rb"([^#]*)#(?:([0-9]*)#)?")
#: Mass-send record separators when ``da`` is empty: §9 says " "; its example 7 uses "|".
_DEFAULT_SEPARATORS = (" ", "|")

# §16 codes answered for each refusal.
OK = "0"
UNKNOWN_COMMAND = "9002"  # a malformed parameter other than those below
BAD_CONTENT = "9012"
BAD_NUMBER = "9013"
TOO_LONG = "9014"
NO_ROUTE = "9015"
BAD_SCHEDULE = "9017"
BAD_ENCODING = "9025"
TOO_MANY_NUMBERS = "9030"
AUTH_FAILED = "9101"
NO_ACCOUNT = "9102"
UNKNOWN_ACCOUNT = "9103"
RETRY = "9502"  # 消息无法投入队列: our own failure, the application retries

_DECODE_CODES = {
    Role.ACCOUNT: NO_ACCOUNT,
    Role.PASSWORD: AUTH_FAILED,
    Role.TIMESTAMP: AUTH_FAILED,
    Role.MOBILES: BAD_NUMBER,
    Role.CONTENT: BAD_ENCODING,
    Role.RECORDS: BAD_ENCODING,
    Role.TRANSFER: BAD_ENCODING,
    Role.CHARSET: BAD_ENCODING,
    Role.SCHEDULE: BAD_SCHEDULE,
}


def somp_description() -> Description:
    """The shipped ``somp`` vendor description (seed 001's HTTP interface)."""
    from smsgw.vendor.loader import builtin_dir, load_file

    return load_file(builtin_dir() / "somp.xml")


class Refused(Exception):
    """A request answered with a §16 code; *reason* is for the log only."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


@attrs.frozen
class Record:
    """One mass-send record: the number as written, its ``ex`` if any, its text."""

    number: str
    external_id: str | None
    text: str


@attrs.frozen
class _Decoded:
    """An ``/mt`` request read: its fields, what a digest may cover, its records."""

    request: IncomingRequest
    contents: list[bytes | None]
    records: list[Record]


# -- mass-send records -----------------------------------------------------------------


def _text_records(text: str, sep: str) -> list[Record]:
    out = []
    for part in text.split(sep):
        if not part:
            continue  # a trailing separator
        found = _RECORD.fullmatch(part)
        if found is None:
            raise Refused(BAD_CONTENT, "a record without '#'")
        number, ex, body = found.groups()
        out.append(Record(number, ex or None, body))
    return out


def _mixed_ucs2_records(raw: bytes, sep: bytes) -> list[Record]:
    """Example 8 of §9: ASCII ``mobile#ex#`` heads, UCS2 texts, ASCII separators.

    A text ends where the separator starts at an even offset into it, so a
    separator byte inside a UCS2 character (a space is ``00 20``) is not one.
    """
    out = []
    pos = 0
    while pos < len(raw):
        head = _MIXED_HEAD.match(raw, pos)
        if head is None:
            raise Refused(BAD_CONTENT, "a record without '#'")
        try:
            number = head.group(1).decode("ascii")
        except UnicodeDecodeError:
            raise Refused(BAD_NUMBER, "a record's number is not ASCII") from None
        ex = (head.group(2) or b"").decode("ascii") or None
        start = end = head.end()
        while end < len(raw) and not raw.startswith(sep, end):
            end += 2
        if end > len(raw):
            raise Refused(BAD_ENCODING, "odd number of UCS2 bytes")
        try:
            text = raw[start:end].decode("utf-16-be")
        except UnicodeDecodeError:
            raise Refused(BAD_ENCODING, "not UCS2") from None
        out.append(Record(number, ex, text))
        pos = end + len(sep)
    return out


def _usable(records: Sequence[Record]) -> bool:
    return bool(records) and all(_NUMBER.fullmatch(r.number) and r.text for r in records)


def split_records(raw: bytes, separator: str, codec: str) -> tuple[list[Record], str | None]:
    """The records of a mass send's ``sm`` (its bytes once the transfer form is undone).

    §9: ``手机号#外部编号#内容`` records (the ``外部编号#`` part may be left out)
    joined by the ``da`` separator, " " when ``da`` is empty (and "|", the
    separator of §9's example 7, when " " does not give well-formed
    records).  With ``dc=8`` the whole string may be UCS2, or only the texts
    (example 8).

    :param codec: the Python codec of ``dc`` (``utf-8`` for ``tf=3``).
    :returns: the records, and the whole text when it decoded as one (what
        a §12.26 digest may cover), else ``None``.
    :raises Refused: with the §16 code of what is wrong.
    """
    separators = (separator,) if separator else _DEFAULT_SEPARATORS
    if codec == "utf-16-be" and not raw.startswith(b"\x00"):
        sep_bytes = separators[0].encode("ascii")
        return _mixed_ucs2_records(raw, sep_bytes), None
    try:
        text = decode_content(raw, Transfer.URL_BYTES, codec, "sm")
    except VendorDecodeError:
        raise Refused(BAD_ENCODING, f"sm is not {codec}") from None
    records: list[Record] = []
    for sep in separators:
        try:
            records = _text_records(text, sep)
        except Refused:
            if sep == separators[-1]:
                raise
            continue
        if _usable(records):
            break
    return records, text


# -- ex in external_id -----------------------------------------------------------------


def encode_external_ids(pairs: Iterable[tuple[str, str | None]]) -> str | None:
    """The ``external_id`` a message carries for the ``ex`` of its recipients.

    ``somp:NONCE:EX`` when every recipient has the same ``ex``, else
    ``somp:NONCE:NUMBER=EX;…`` (normalised numbers); ``None`` when no
    recipient has one.  The random nonce keeps the gateway's idempotency
    from treating two sends with one ``ex`` as a repeat: seed 001's ``ex``
    is a business code an application may reuse, not a request key.
    """
    found = []
    everyone = True
    for number, ex in pairs:
        if ex is None:
            everyone = False
            continue
        try:
            found.append((normalize_msisdn(number), ex))
        except InvalidNumber:
            continue
    if not found:
        return None
    nonce = os.urandom(8).hex()
    values = {ex for _, ex in found}
    if len(values) == 1 and everyone:
        return f"{EX_PREFIX}{nonce}:{values.pop()}"
    return f"{EX_PREFIX}{nonce}:" + ";".join(f"{n}={ex}" for n, ex in found)


def decode_external_id(external_id: str | None, number: str) -> str | None:
    """The ``ex`` of *number* in a message's ``external_id``.

    A message sent through the JSON API with a numeric ``external_id`` gives
    that number; any other gives none.
    """
    if not external_id:
        return None
    if not external_id.startswith(EX_PREFIX):
        return external_id if _EX.fullmatch(external_id) else None
    _, _, spec = external_id[len(EX_PREFIX) :].partition(":")
    if "=" not in spec:
        return spec or None
    for pair in spec.split(";"):
        to, _, ex = pair.partition("=")
        if to == number:
            return ex
    return None


# -- the API ---------------------------------------------------------------------------


class CompatApi:
    """``/mt`` and ``/mo`` answered from a :class:`~smsgw.sp.gateway.Gateway`.

    :param gateway: the SP gateway (its store gives ``/mo`` its items).
    :param api_keys: the accounts: ``un`` is a key's name, ``pw`` the key.
    :param description: the seed 001 description (the shipped ``somp``).
    :param max_skew_s: how far ``ts`` may be from the gateway's clock.
    """

    log = Logger()

    def __init__(
        self,
        gateway: Gateway,
        api_keys: Iterable[ApiKeyConfig],
        description: Description | None = None,
        *,
        max_skew_s: float = MAX_SKEW_S,
    ) -> None:
        self.gateway = gateway
        self.desc = description if description is not None else somp_description()
        self.max_skew_s = max_skew_s
        self._keys: dict[str, list[str]] = {}
        for key in api_keys:
            self._keys.setdefault(key.name, []).append(key.key)
        self._mt_ops = [op for op in self.desc.operations if op.path == "/mt"]
        pull = self.desc.operation(Kind.PULL)
        assert self._mt_ops and pull is not None, "the somp description has /mt and /mo"
        self._pull = pull

    def code(self, value: str) -> Code:
        """The description's entry for a §16 code."""
        for code in self.desc.codes:
            if code.value == value:
                return code
        raise KeyError(value)

    # -- answers ----------------------------------------------------------------------

    def render(self, rf: str, code: str, msg_id: str | None) -> tuple[bytes, str]:
        """An ``/mt`` answer in the ``rf`` form: (body, content type).

        rf=0: ``r=0&id=ID`` or ``r=CODE``; rf=1: ``<id>ID</id>`` or
        ``<r>CODE</r>``; rf=2: ``{"success": true, "r": "0", "id": "ID"}``
        or ``{"success": false, "r": "CODE"}`` (§9, §12.16).
        """
        if rf == "2":
            data: dict[str, Any] = {"success": code == OK, "r": code}
            if msg_id is not None:
                data["id"] = msg_id
            return json.dumps(data).encode(), "application/json; charset=utf-8"
        if rf == "1":
            inner = f"<id>{escape(msg_id)}</id>" if msg_id is not None else f"<r>{code}</r>"
            return f'<?xml version="1.0"?>\n{inner}'.encode(), "text/xml; charset=utf-8"
        return render_answer(
            self.desc, self._mt_ops[0], self.code(code), msg_id
        ), "text/plain; charset=utf-8"

    # -- shared checks ----------------------------------------------------------------

    def _account(self, op: Operation, args: Mapping[str, bytes]) -> tuple[str, list[str]]:
        param = op.param(Role.ACCOUNT)
        assert param is not None
        name = args.get(param.name, b"").decode("utf-8", "replace")
        if not name:
            raise Refused(NO_ACCOUNT, "no un")
        keys = self._keys.get(name)
        if keys is None:
            raise Refused(UNKNOWN_ACCOUNT, "no API key has this name")
        return name, keys

    def _decode(self, op: Operation, args: Mapping[str, bytes]) -> IncomingRequest:
        try:
            return decode_request(self.desc, op, args)
        except VendorDecodeError as e:
            raise self._decode_refusal(op, e) from None

    def _decode_refusal(self, op: Operation, e: VendorDecodeError) -> Refused:
        role = next((p.role for p in op.params if p.name == e.field), None)
        if role in (Role.CONTENT, Role.RECORDS) and e.message == "missing":
            return Refused(BAD_CONTENT, f"{e.field} missing")
        code = _DECODE_CODES.get(role, UNKNOWN_COMMAND) if role is not None else UNKNOWN_COMMAND
        return Refused(code, str(e))

    def _authenticate(
        self,
        name: str,
        keys: Sequence[str],
        presented: str,
        timestamp: str | None,
        contents: Sequence[bytes | None],
    ) -> None:
        """Check ``pw``: the key itself, or with ``ts`` the §12.26 digest over one of *contents*.

        :raises Refused: 9101 for a wrong password, or a ``ts`` that is
            malformed or further than :attr:`max_skew_s` from our clock.
        """
        if not presented:
            raise Refused(AUTH_FAILED, "no pw")
        if timestamp:
            param = self._pull.param(Role.TIMESTAMP)
            fmt = (param and param.time_format) or DEFAULT_TIME_FORMAT
            try:
                when = parse_time(timestamp, fmt, self.desc, "ts")
            except VendorDecodeError:
                raise Refused(AUTH_FAILED, "ts is not yyyyMMddHHmmss") from None
            if abs(when - self.gateway.clock.seconds()) > self.max_skew_s:
                raise Refused(AUTH_FAILED, "ts too far from our clock")
        given = presented.encode("utf-8")
        ok = False
        for key in keys:
            if not timestamp:
                ok |= check_password(self.desc.password, name, key, presented, None, None)
                continue
            for content in contents:
                digest = password_digest(name, key, timestamp, content).encode("ascii")
                ok |= hmac.compare_digest(given, digest)
        if not ok:
            raise Refused(AUTH_FAILED, "wrong password")

    # -- /mt --------------------------------------------------------------------------

    def _transfer_codec(self, op: Operation, args: Mapping[str, bytes]) -> tuple[Transfer, str]:
        enc = self.desc.encoding
        tparam, cparam = op.param(Role.TRANSFER), op.param(Role.CHARSET)
        tvalue = args.get(tparam.name) if tparam else None
        cvalue = args.get(cparam.name) if cparam else None
        transfer = enc.transfer_for(None if tvalue is None else tvalue.decode("ascii", "replace"))
        codec = enc.codec_for(None if cvalue is None else cvalue.decode("ascii", "replace"))
        if transfer is None or codec is None:
            raise Refused(BAD_ENCODING, "unknown tf or dc")
        return transfer, ("utf-8" if transfer is Transfer.URL_UTF8 else codec)

    def _raw_bytes(self, value: bytes, transfer: Transfer) -> bytes:
        """The content bytes of ``sm`` once the ``tf`` form is undone (§12.28)."""
        try:
            if transfer is Transfer.HEX:
                return bytes.fromhex(value.decode("ascii"))
            if transfer is Transfer.BASE64:
                return base64.b64decode(value, validate=True)
        except (ValueError, binascii.Error):
            raise Refused(BAD_ENCODING, f"sm is not {transfer.value}") from None
        return value

    def _plain(self, op: Operation, args: Mapping[str, bytes]) -> _Decoded:
        """A send of one text to ``da``'s numbers (§9)."""
        req = self._decode(op, args)
        transfer, _ = self._transfer_codec(op, args)
        content = op.param(Role.CONTENT)
        assert content is not None
        raw = self._raw_bytes(args[content.name], transfer)
        contents: list[bytes | None] = [raw, req.values.text.encode("utf-8")]
        numbers = [n for given in req.values.numbers for n in given.split(",") if n.strip()]
        records = [Record(n.strip(), req.values.external_id, req.values.text) for n in numbers]
        return _Decoded(req, contents, records)

    def _mass(self, op: Operation, send_op: Operation, args: Mapping[str, bytes]) -> _Decoded:
        """A mass send: ``sm`` holds the records, ``da`` their separator (§9)."""
        records_param = op.param(Role.RECORDS)
        sep_param = op.param(Role.RECORD_SEPARATOR)
        assert records_param is not None and sep_param is not None
        schedule = send_op.param(Role.SCHEDULE)
        # decode_request checks everything but the records, read below.
        params = tuple(
            p for p in op.params if p.role not in (Role.RECORDS, Role.RECORD_SEPARATOR)
        ) + ((schedule,) if schedule is not None else ())
        req = self._decode(attrs.evolve(op, params=params, records=None), args)
        if records_param.name not in args:
            raise Refused(BAD_CONTENT, f"{records_param.name} missing")
        separator = args.get(sep_param.name, b"").decode("utf-8", "replace")
        if "#" in separator or len(separator) > 4:
            raise Refused(UNKNOWN_COMMAND, "da is not a mass-send separator")
        transfer, codec = self._transfer_codec(op, args)
        raw = self._raw_bytes(args[records_param.name], transfer)
        records, text = split_records(raw, separator, codec)
        default_ex = req.values.external_id
        records = [attrs.evolve(r, external_id=r.external_id or default_ex) for r in records]
        contents: list[bytes | None] = [raw]
        if text is not None:
            contents.append(text.encode("utf-8"))
        return _Decoded(req, contents, records)

    async def mt(self, query: bytes) -> tuple[bytes, str]:
        """Answer one ``/mt`` request: (body, content type). Never raises."""
        args = request_args(self._mt_ops[0], query, b"")
        rf = args.get("rf", b"0").decode("ascii", "replace") or "0"
        if rf not in ("0", "1", "2"):
            return self.render("0", UNKNOWN_COMMAND, None)
        try:
            msg_id = await self._mt(query, args)
        except Refused as refusal:
            self.log.info(
                "compat /mt refused {code}: {reason}", code=refusal.code, reason=refusal.reason
            )
            return self.render(rf, refusal.code, None)
        except Exception:
            self.log.failure("compat /mt: internal failure; answered {code}", code=RETRY)
            return self.render(rf, RETRY, None)
        return self.render(rf, OK, msg_id)

    async def _mt(self, query: bytes, args: Mapping[str, bytes]) -> str:
        try:
            op = choose_operation(self._mt_ops, query, b"")
        except VendorDecodeError as e:
            raise Refused(UNKNOWN_COMMAND, str(e)) from None
        name, keys = self._account(op, args)
        pw_param, ts_param = op.param(Role.PASSWORD), op.param(Role.TIMESTAMP)
        assert pw_param is not None and ts_param is not None
        if not args.get(ts_param.name):
            # A plain password is checked before anything else is read.
            presented = args.get(pw_param.name, b"").decode("utf-8", "replace")
            self._authenticate(name, keys, presented, None, [None])
        ex_param = op.param(Role.EXTERNAL_ID)
        if ex_param is not None and args.get(ex_param.name):
            if not _EX.fullmatch(args[ex_param.name].decode("ascii", "replace")):
                raise Refused(UNKNOWN_COMMAND, "ex is not an integer")
        if op.kind is Kind.SEND:
            got = self._plain(op, args)
        else:
            send_op = next(o for o in self._mt_ops if o.kind is Kind.SEND)
            got = self._mass(op, send_op, args)
        req = got.request
        if req.timestamp:
            self._authenticate(name, keys, req.password, req.timestamp, got.contents)
        return await self._send(op, req.values, got.records, name)

    async def _send(
        self, op: Operation, values: SendValues, records: list[Record], account: str
    ) -> str:
        if not records:
            raise Refused(BAD_NUMBER, "no number")
        if len(records) > op.max_numbers:
            raise Refused(TOO_MANY_NUMBERS, f"more than {op.max_numbers} numbers")
        if not any(r.text for r in records):
            raise Refused(BAD_CONTENT, "empty text")
        valid = []
        for r in records:
            try:
                normalize_msisdn(r.number)
            except InvalidNumber:
                continue  # §12.25: a bad number of a mass send gets no message
            valid.append(r)
        if not valid:
            raise Refused(BAD_NUMBER, "no valid number")
        if any(r.external_id is not None and not _EX.fullmatch(r.external_id) for r in valid):
            raise Refused(UNKNOWN_COMMAND, "ex is not an integer")
        src_ext = values.extension or ""
        if src_ext and not src_ext.isdigit():
            raise Refused(UNKNOWN_COMMAND, "sa is not digits")
        send_at = values.schedule_s
        if send_at is not None and send_at <= self.gateway.clock.seconds():
            send_at = None  # a schedule time already past: send now
        same_text = len({r.text for r in valid}) == 1
        request = SendRequest(
            items=tuple(Item(r.number, None if same_text else r.text) for r in valid),
            content=valid[0].text if same_text else None,
            report=values.need_report,
            src_ext=src_ext,
            mode=Mode.QUEUE,
            send_at=send_at,
            external_id=encode_external_ids((r.number, r.external_id) for r in valid),
            from_items=not same_text,
        )
        try:
            accepted = await self.gateway.accept(request)
        except RequestError as e:
            raise Refused(_request_error_code(e), e.message) from None
        self.log.debug(
            "compat /mt: {account} sent message {id} to {n} numbers",
            account=account,
            id=accepted.message.id,
            n=len(accepted.message.recipients),
        )
        return accepted.message.id

    # -- /mo --------------------------------------------------------------------------

    async def mo(self, query: bytes) -> tuple[bytes, str]:
        """Answer one ``/mo`` request: pending reports and MOs, one line each. Never raises."""
        op = self._pull
        try:
            args = dict(request_args(op, query, b""))
            name, keys = self._account(op, args)
            fs_param = op.param(Role.FETCH_SIZE)
            size = DEFAULT_FETCH
            if fs_param is not None and fs_param.name in args:
                # §12.27: a size that is too big or invalid takes the server's.
                text = args.pop(fs_param.name).decode("ascii", "replace")
                if text.isdigit() and int(text) > 0:
                    size = min(int(text), MAX_FETCH)
            req = self._decode(op, args)
            transfer, _ = self._transfer_codec(op, args)
            self._authenticate(name, keys, req.password, req.timestamp, [None])
            items = await self.gateway.store.fetch_inbound(size)
        except Refused as refusal:
            self.log.info(
                "compat /mo refused {code}: {reason}", code=refusal.code, reason=refusal.reason
            )
            return self.render("0", refusal.code, None)
        except Exception:
            self.log.failure("compat /mo: internal failure; answered {code}", code=RETRY)
            return self.render("0", RETRY, None)
        return self.pull_lines(items, transfer), "text/plain; charset=utf-8"

    def pull_lines(self, items: Iterable[Inbound], transfer: Transfer) -> bytes:
        """Inbound items as ``/mo`` lines, ``\\r\\n`` between; MO texts in *transfer* form."""
        desc = self.desc
        if desc.mos is not None:
            desc = attrs.evolve(desc, mos=attrs.evolve(desc.mos, content_transfer=transfer))
        lines = []
        for item in items:
            try:
                pairs = self._pairs(desc, item)
            except Exception:
                self.log.failure("compat /mo: inbound item {id} not rendered", id=item.id)
                continue
            lines.append("&".join(f"{quote(k, safe='')}={url_quote(v)}" for k, v in pairs))
        return "\r\n".join(lines).encode("ascii")

    def _pairs(self, desc: Description, item: Inbound) -> list[tuple[str, bytes]]:
        f = item.fields
        if item.kind is InboundKind.REPORT:
            to = str(f.get("to") or "")
            stat = str(f.get("stat") or "")
            delivered = stat == "DELIVRD"
            err = str(f.get("err") or "")
            rec = ReportRecord(
                msg_id=str(f.get("message_id") or ""),
                number=to,
                stat=stat,
                delivered=delivered,
                done_at=f.get("done_at"),
                # rp is an integer (§12.23): the carrier's code when numeric.
                error=err if err.isdigit() else ("0" if delivered else "1"),
                external_id=decode_external_id(f.get("external_id"), to),
            )
            pairs = render_report(desc, rec)
            total = f.get("pk_total") or 1
            if total > 1:
                pairs.append(("bi", str(f.get("pk_number")).encode()))  # §12.24
            return pairs
        to = str(f.get("to") or "")
        mo = MoRecord(
            number=str(f.get("from") or ""),
            text=str(f.get("text") or ""),
            extension=self._extension(item.channel, to),
            received_at=f.get("received_at"),
        )
        return render_mo(desc, mo)

    def _extension(self, channel: str, to: str) -> str:
        """The MO's ``da`` (§9: 扩展码): *to* less the channel's source number, if it has one."""
        config = getattr(self.gateway.channels.get(channel), "config", None)
        src = getattr(config, "src_id", None)
        if isinstance(src, str) and src and to.startswith(src):
            return to[len(src) :]
        return to


def _request_error_code(e: RequestError) -> str:
    if e.code == "no_valid_recipient":
        return NO_ROUTE  # the numbers were checked before: what is left is routing
    if e.code == "too_long":
        return TOO_LONG
    if e.field == "send_at":
        return BAD_SCHEDULE
    if e.field == "content":
        return BAD_CONTENT
    return UNKNOWN_COMMAND


# -- HTTP ------------------------------------------------------------------------------


class CompatResource(Resource):
    """``/mt`` and ``/mo`` of a :class:`CompatApi` (GET, or POST of a form)."""

    isLeaf = True
    log = Logger()

    def __init__(self, api: CompatApi) -> None:
        super().__init__()
        self.api = api

    def render(self, request: Request) -> bytes | int:
        path = b"/" + b"/".join(request.postpath or [])
        _, _, query = (request.uri or b"").partition(b"?")
        if request.method == b"POST":
            ctype = request.getHeader(b"content-type") or b""
            if ctype.split(b";")[0].strip().lower() == b"application/x-www-form-urlencoded":
                assert request.content is not None
                request.content.seek(0)
                query = query + b"&" + request.content.read(1 << 20)
        elif request.method not in (b"GET", b"HEAD"):
            request.setResponseCode(405)
            return b"method not allowed"
        if path == b"/mt":
            d = Deferred.fromCoroutine(self.api.mt(query))
        elif path == b"/mo":
            d = Deferred.fromCoroutine(self.api.mo(query))
        else:
            request.setResponseCode(404)
            request.setHeader(b"content-type", b"text/plain")
            return b"not found"
        gone: list[bool] = []
        request.notifyFinish().addErrback(lambda _: gone.append(True))

        def answer(result: tuple[bytes, str]) -> None:
            if gone:
                return
            body, ctype = result
            request.setHeader(b"content-type", ctype.encode("ascii"))
            request.write(body)
            request.finish()

        def failed(reason: Failure) -> None:
            self.log.failure("compat: unhandled error", reason)
            if not gone:
                request.setResponseCode(500)
                request.finish()

        d.addCallbacks(answer, failed)
        return NOT_DONE_YET


def compat_service(
    gateway: Gateway,
    api_keys: Sequence[ApiKeyConfig],
    endpoint: str,
    reactor: Any,
    limits: HttpLimits | None = None,
) -> StreamServerEndpointService:
    """The compatible API listening on *endpoint* (a Twisted server endpoint string).

    The access log leaves out query strings: they carry ``pw``, numbers and texts.
    """
    resource = CompatResource(CompatApi(gateway, api_keys))
    site = limited_site(resource, limits=limits, log_formatter=access_log_line)
    return StreamServerEndpointService(serverFromString(reactor, endpoint), site)
