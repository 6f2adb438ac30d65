"""The typed model of an HTTP vendor description (one XML file per vendor).

Built by :mod:`smsgw.vendor.loader` from a file validated against
``vendor.xsd``; read by :mod:`smsgw.vendor.codec`, the simulator and the
client.  Frozen attrs classes, no behaviour beyond look-ups.
"""

from __future__ import annotations

import enum
import math
from datetime import timedelta, timezone

import attrs

__all__ = [
    "AnswerFormat",
    "AnswerSpec",
    "Body",
    "Code",
    "Description",
    "Encoding",
    "Field",
    "Inbound",
    "Kind",
    "Limits",
    "Operation",
    "Outcome",
    "Param",
    "PasswordForm",
    "Records",
    "Role",
    "Situation",
    "Transfer",
]


class Kind(enum.Enum):
    """What an operation does."""

    SEND = "send"  # one text to one or more numbers
    SEND_BATCH = "send-batch"  # a text per number, as records in one parameter
    SEND_TEMPLATE = "send-template"  # one template, values per number
    BALANCE = "balance"
    PULL = "pull"  # fetch pending reports and MOs


class Body(enum.Enum):
    """Where the parameters travel."""

    QUERY = "query"  # GET or POST, in the URL's query string
    FORM = "form"  # POST application/x-www-form-urlencoded
    JSON = "json"  # POST a JSON object of strings
    XML = "xml"  # POST <root><name>value</name>...</root>


class Role(enum.Enum):
    """What a request parameter carries."""

    ACCOUNT = "account"
    PASSWORD = "password"
    TIMESTAMP = "timestamp"
    MOBILES = "mobiles"
    CONTENT = "content"
    RECORDS = "records"
    RECORD_SEPARATOR = "record-separator"
    SCHEDULE = "schedule"
    EXTENSION = "extension"
    PRODUCT = "product"
    NEED_REPORT = "need-report"
    EXTERNAL_ID = "external-id"
    SIGNATURE = "signature"
    CHARSET = "charset"
    TRANSFER = "transfer"
    FETCH_SIZE = "fetch-size"


class PasswordForm(enum.Enum):
    """How the password is sent."""

    PLAIN = "plain"
    MD5_HEX = "md5-hex"  # 32 lower-case hex digits of MD5(password)
    # Base64(MD5(account + password + timestamp + content)), UTF-8 bytes; the
    # timestamp (yyyyMMddHHmmss) is sent in the ``timestamp`` parameter.
    MD5_TS_BASE64 = "md5-ts-base64"


class Transfer(enum.Enum):
    """How the content bytes are written into a parameter (seed 001 ``tf``)."""

    HEX = "hex"  # tf=0
    BASE64 = "base64"  # tf=1
    URL_BYTES = "url-bytes"  # tf=2: the charset's bytes, URL-encoded
    URL_UTF8 = "url-utf8"  # tf=3: UTF-8 bytes, URL-encoded (the charset is ignored)


CODECS = {"ascii": "ascii", "gbk": "gbk", "ucs2": "utf-16-be", "utf-8": "utf-8"}
"""Description codec names → Python codecs (GBK decodes with gb18030)."""


class AnswerFormat(enum.Enum):
    """How an answer body is read."""

    KV = "kv"  # r=0&id=123
    JSON = "json"  # {"r": "0", "id": "123"}
    XML = "xml"  # <r>0</r><id>123</id> anywhere in the document
    LINES = "lines"  # "resptime,respstatus\nmsgid" (code on line 1)
    DELIMITED = "delimited"  # "1,msgid", "-1", "success:msgid", "error:text"
    NUMBER = "number"  # a number: >= 0 is the value, < 0 a code
    LINES_KV = "lines-kv"  # one kv record per line (pulled reports and MOs)


class Outcome(enum.Enum):
    """A vendor result code mapped to what the gateway does."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"  # permanent: never retried
    RETRY = "retry"  # transient: retry later
    THROTTLED = "throttled"  # too fast: back off, retry
    AUTH = "auth"  # account or password refused: permanent for the message
    BALANCE = "balance"  # out of balance: retry after a top-up

    @property
    def retryable(self) -> bool:
        """Whether a message that got this outcome may be sent again."""
        return self in (Outcome.RETRY, Outcome.THROTTLED, Outcome.BALANCE)


class Situation(enum.Enum):
    """Simulator situations; a code names the one it answers (``sim=``)."""

    OK = "ok"
    MISSING = "missing"
    BAD_PASSWORD = "bad-password"
    UNKNOWN_ACCOUNT = "unknown-account"
    UNKNOWN_PRODUCT = "unknown-product"
    TOO_MANY_NUMBERS = "too-many-numbers"
    TOO_FAST = "too-fast"
    NO_BALANCE = "no-balance"
    BAD_NUMBER = "bad-number"
    BAD_CONTENT = "bad-content"


@attrs.frozen
class Code:
    """One vendor result code: its value (and detail, for ``error:text`` answers)."""

    value: str
    outcome: Outcome
    text: str
    detail: str | None = None
    sim: Situation | None = None


@attrs.frozen
class Param:
    """One request parameter: a role filled per request, or a constant ``value``."""

    name: str
    role: Role | None
    value: str | None = None
    optional: bool = False
    true_value: str = "1"
    false_value: str = "0"
    time_format: str | None = None  # strftime form of the file's yyyyMMddHHmmss


@attrs.frozen
class AnswerSpec:
    """How to read an operation's answer."""

    format: AnswerFormat
    code: str = "r"  # kv/json/xml: the code field
    id: str = "id"  # kv/json/xml: the message-id (or amount) field
    default_code: str | None = None  # the code when the field is absent
    separator: str = ","
    code_index: int = 0  # lines/delimited: the code's position in the first line
    returns_id: bool = True  # False: success carries no message id (1680 sendDIYSms)


@attrs.frozen
class Records:
    """Per-number records in one parameter (mass send, template values)."""

    record: str  # e.g. "{mobile}#{external-id}#{content}", "{mobile},{values}"
    separator: str
    value_separator: str = ","


@attrs.frozen
class Operation:
    """One HTTP endpoint of the vendor."""

    name: str
    kind: Kind
    path: str
    method: str
    body: Body
    params: tuple[Param, ...]
    answer: AnswerSpec
    codes: tuple[Code, ...] = ()
    records: Records | None = None
    max_numbers: int = 1
    separator: str = ","
    xml_root: str = "request"
    line: int = 0

    def param(self, role: Role) -> Param | None:
        """The parameter carrying *role*, if any."""
        for param in self.params:
            if param.role is role:
                return param
        return None


@attrs.frozen
class Encoding:
    """How content is encoded: the transfer form and charset the client uses,
    and the parameter values naming each form and charset (seed 001 ``tf``, ``dc``).

    ``charsets`` is in preference order: the client uses the first one that can
    encode the text.
    """

    transfer: Transfer
    codec: str = "utf-8"
    transfers: tuple[tuple[str, Transfer], ...] = ()
    charsets: tuple[tuple[str, str], ...] = ()

    def transfer_value(self, form: Transfer) -> str:
        """The parameter value naming *form*."""
        for value, candidate in self.transfers:
            if candidate is form:
                return value
        raise KeyError(form.value)

    def transfer_for(self, value: str | None) -> Transfer | None:
        """The form a parameter value names (the default form when absent)."""
        if value is None or value == "":
            return self.transfer
        for candidate, form in self.transfers:
            if candidate == value:
                return form
        return None

    def codec_for(self, value: str | None) -> str | None:
        """The codec a charset parameter value names (the default when absent)."""
        if value is None or value == "":
            return self.charsets[0][1] if self.charsets else self.codec
        for candidate, codec in self.charsets:
            if candidate == value:
                return codec
        return None


@attrs.frozen
class Field:
    """One field of a pushed or pulled report or MO."""

    role: str
    name: str
    time_format: str | None = None


@attrs.frozen
class Inbound:
    """How reports (or MOs) arrive: pushed to a URL of ours, pulled, or both."""

    fields: tuple[Field, ...]
    push: bool = False
    pull: str | None = None  # the pull operation's name
    kind_value: str | None = None  # the ``kind`` field's value in pulled lines
    delivered: frozenset[str] = frozenset({"DELIVRD"})
    failed: str | None = None  # the one word for "not delivered", when the vendor has one
    content_transfer: Transfer = Transfer.URL_UTF8
    push_answer: str = "ok"

    @property
    def delivered_word(self) -> str:
        """The word a report uses for "delivered" (the first listed)."""
        return sorted(self.delivered)[0]

    def field(self, role: str) -> Field | None:
        """The field carrying *role*, if any."""
        for field in self.fields:
            if field.role == role:
                return field
        return None


@attrs.frozen
class Limits:
    """Request limits: the vendor's flow control and our concurrency."""

    tps: int | None = None
    count: str = "requests"  # what one unit of tps is: requests, numbers or parts
    concurrency: int = 5
    part_length: int = 70
    long_part_length: int = 67

    def parts(self, text: str) -> int:
        """Message parts a text is billed as (at least one)."""
        if len(text) <= self.part_length:
            return 1
        return math.ceil(len(text) / self.long_part_length)

    def cost(self, numbers: int, text: str) -> int:
        """Units of ``tps`` one request to *numbers* numbers uses (1680 §4.3)."""
        if self.count == "requests":
            return 1
        if self.count == "numbers":
            return numbers
        return numbers * self.parts(text)


@attrs.frozen
class Description:
    """A whole vendor description."""

    name: str
    title: str
    password: PasswordForm
    encoding: Encoding
    operations: tuple[Operation, ...]
    codes: tuple[Code, ...]
    limits: Limits = Limits()
    reports: Inbound | None = None
    mos: Inbound | None = None
    match_host: str | None = None
    match_path: str | None = None
    utc_offset_s: int = 8 * 3600
    source: str = ""

    @property
    def tz(self) -> timezone:
        """The vendor's time zone (its timestamps are local time)."""
        return timezone(timedelta(seconds=self.utc_offset_s))

    def operation(self, kind: Kind) -> Operation | None:
        """The operation of *kind*, if the vendor has one."""
        for op in self.operations:
            if op.kind is kind:
                return op
        return None

    def operation_named(self, name: str) -> Operation | None:
        """The operation called *name*, if any."""
        for op in self.operations:
            if op.name == name:
                return op
        return None

    def code_for(self, op: Operation, value: str, detail: str | None = None) -> Code | None:
        """The code entry for an answer: the operation's table first, then the vendor's.

        An entry with a ``detail`` matches only that detail; one without matches any.
        """
        for table in (op.codes, self.codes):
            for code in table:
                if code.value == value and code.detail is not None and code.detail == detail:
                    return code
            for code in table:
                if code.value == value and code.detail is None:
                    return code
        return None

    def code_for_situation(self, op: Operation, situation: Situation) -> Code | None:
        """The code the simulator answers *situation* with."""
        for table in (op.codes, self.codes):
            for code in table:
                if code.sim is situation:
                    return code
        if situation is Situation.OK:
            for table in (op.codes, self.codes):
                for code in table:
                    if code.outcome is Outcome.ACCEPTED:
                        return code
        return None
