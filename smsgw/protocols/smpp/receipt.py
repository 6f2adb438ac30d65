"""SMPP delivery receipts (smpp34.md §6): the Appendix B text, message ids, the receipt of a PDU.

The text is ``id:IIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm
stat:DDDDDDD err:EEE text:...``.  Real SMSCs differ, and :func:`parse_receipt_text`
takes what they send: keys in any case (``Text:``), 10- or 12-digit dates,
ids of any length, stat words spelt out.  :func:`format_receipt_text` writes
one, with the date width and key case a simulated SMSC is configured with.

A receipt's id is the message_id of the submit_sm_resp, as text, in a form
3.4 leaves to the SMSC; some answer in hex and report in decimal.
:func:`canonical_id` turns an id into a key both sides can be compared by,
given the form each uses (Kannel's ``msg-id-type``, Jasmin's ``dlr_msgid``).

:func:`receipt_of` reads a deliver_sm or data_sm: the TLVs
(receipted_message_id, message_state, network_error_code) are preferred to
the text where both are present.  Pure functions; no Twisted.
"""

from __future__ import annotations

import datetime
import enum
import re

import attrs

from smsgw.protocols.smpp import pdus as p
from smsgw.protocols.smpp.constants import EsmClass, MessageState, Tag
from smsgw.protocols.smpp.tlv import get, network_error_code

__all__ = [
    "STAT_WORDS",
    "IdForm",
    "KeyCase",
    "Receipt",
    "ReceiptText",
    "canonical_id",
    "format_receipt_text",
    "is_receipt",
    "parse_receipt_date",
    "parse_receipt_text",
    "receipt_of",
    "state_of_stat",
]

#: message_state -> the 7-character stat word (§6).
STAT_WORDS: dict[MessageState, str] = {
    MessageState.ENROUTE: "ENROUTE",
    MessageState.DELIVERED: "DELIVRD",
    MessageState.EXPIRED: "EXPIRED",
    MessageState.DELETED: "DELETED",
    MessageState.UNDELIVERABLE: "UNDELIV",
    MessageState.ACCEPTED: "ACCEPTD",
    MessageState.UNKNOWN: "UNKNOWN",
    MessageState.REJECTED: "REJECTD",
    MessageState.SKIPPED: "SKIPPED",
}
#: The first five letters tell the words apart, spelt out or not ("DELIVERED", "UNDELIVERABLE").
_BY_PREFIX = {word[:5]: state for state, word in STAT_WORDS.items()}

_KEY = re.compile(
    r"(?:^|(?<=\s))(id|sub|dlvrd|submit[ _]date|done[ _]date|stat|err|text)\s*:", re.I
)


def state_of_stat(stat: str) -> MessageState | None:
    """The message_state of a stat word (``DELIVRD``, ``delivered``), or ``None``."""
    return _BY_PREFIX.get(stat.strip().upper()[:5])


def parse_receipt_date(value: str) -> datetime.datetime | None:
    """``YYMMDDhhmm`` or ``YYMMDDhhmmss`` as a naive datetime (the SMSC's clock), or ``None``.

    ``YY`` is 2000 + YY: receipts are about messages just sent.
    """
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) not in (10, 12):
        return None
    yy, mo, dd, hh, mi, ss = (int(value[i : i + 2] or "0") for i in range(0, 12, 2))
    try:
        return datetime.datetime(2000 + yy, mo, dd, hh, mi, ss)
    except ValueError:
        return None


@attrs.frozen
class ReceiptText:
    """The fields of a receipt's text; each ``None`` when the text lacks it.

    :ivar fields: every key found (lower case, ``submit date`` with its space)
        and its value as sent.
    """

    id: str
    sub: int | None = None
    dlvrd: int | None = None
    submit_date: datetime.datetime | None = None
    done_date: datetime.datetime | None = None
    stat: str | None = None
    err: str | None = None
    text: str | None = None
    fields: dict[str, str] = attrs.field(factory=dict, eq=False)

    @property
    def state(self) -> MessageState | None:
        """The message_state its stat word says."""
        return state_of_stat(self.stat) if self.stat is not None else None


def _int(value: str | None) -> int | None:
    if value is None or not value.isascii() or not value.isdigit():
        return None
    return int(value)


def parse_receipt_text(data: bytes | str) -> ReceiptText | None:
    """The receipt fields of *data*, or ``None`` when it has no ``id:``.  Never raises.

    Keys are matched in any case; ``text:`` takes the rest of the text.
    Bytes are read as Latin-1 (receipt text is ASCII; this keeps every byte).
    """
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    found: dict[str, str] = {}
    matches = list(_KEY.finditer(text))
    for i, m in enumerate(matches):
        key = m.group(1).lower().replace("_", " ")
        if key in found:
            continue
        if key == "text":
            found[key] = text[m.end() :]
            break
        stop = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        found[key] = text[m.end() : stop].strip()
    if "id" not in found:
        return None
    return ReceiptText(
        id=found["id"],
        sub=_int(found.get("sub")),
        dlvrd=_int(found.get("dlvrd")),
        submit_date=parse_receipt_date(found.get("submit date", "")),
        done_date=parse_receipt_date(found.get("done date", "")),
        stat=found.get("stat"),
        err=found.get("err"),
        text=found.get("text"),
        fields=found,
    )


class KeyCase(enum.Enum):
    """How a simulated SMSC writes the keys: ``id:``, ``ID:`` or ``Id:``."""

    LOWER = "lower"
    UPPER = "upper"
    TITLE = "title"


def format_receipt_text(
    message_id: str,
    state: MessageState,
    *,
    submit_date: datetime.datetime,
    done_date: datetime.datetime,
    err: int = 0,
    text: str = "",
    sub: int = 1,
    dlvrd: int | None = None,
    date_digits: int = 10,
    key_case: KeyCase = KeyCase.LOWER,
) -> str:
    """The Appendix B text of a receipt; *text* is cut to its first 20 characters.

    :param dlvrd: the delivered count; 1 for DELIVRD and 0 otherwise by default.
    :param date_digits: 10 (``YYMMDDhhmm``) or 12 (with seconds).
    """
    if date_digits not in (10, 12):
        raise ValueError("a receipt date has 10 or 12 digits")
    fmt = "%y%m%d%H%M%S" if date_digits == 12 else "%y%m%d%H%M"
    if dlvrd is None:
        dlvrd = 1 if state is MessageState.DELIVERED else 0

    def key(name: str) -> str:
        if key_case is KeyCase.UPPER:
            return name.upper()
        return name.title() if key_case is KeyCase.TITLE else name

    return (
        f"{key('id')}:{message_id} {key('sub')}:{sub:03d} {key('dlvrd')}:{dlvrd:03d}"
        f" {key('submit date')}:{submit_date.strftime(fmt)}"
        f" {key('done date')}:{done_date.strftime(fmt)}"
        f" {key('stat')}:{STAT_WORDS[state]} {key('err')}:{err:03d} {key('text')}:{text[:20]}"
    )


class IdForm(enum.Enum):
    """How one side writes message ids (configurable: real SMSCs disagree)."""

    #: As sent: compared as text (UUIDs, opaque ids).
    TEXT = "text"
    #: Decimal digits: leading zeros do not count.
    DECIMAL = "decimal"
    #: Hexadecimal digits: case and leading zeros do not count.
    HEX = "hex"


def canonical_id(value: str, form: IdForm) -> str:
    """A key for *value* written in *form*: equal keys are the same message.

    A decimal or hex id becomes its number in decimal, so ``"000A"`` (hex)
    and ``"10"`` (decimal) match; an id that is not of its form stays as
    sent, without surrounding blanks.
    """
    value = value.strip()
    if form is not IdForm.TEXT and value.isascii() and value.isalnum():
        try:
            return str(int(value, 16 if form is IdForm.HEX else 10))
        except ValueError:
            pass
    return value


@attrs.frozen
class Receipt:
    """What a receipt says, the TLVs preferred to the text.

    :ivar message_id: receipted_message_id, else the text's ``id:`` (as sent).
    :ivar state: message_state, else the text's stat word; ``None`` if neither.
    :ivar error: network_error_code's error, else the text's ``err:`` when a number.
    :ivar intermediate: an intermediate notification (esm_class 0x20), not a final receipt.
    :ivar text: the parsed text, when it had an ``id:``.
    """

    message_id: str
    state: MessageState | None
    error: int | None
    intermediate: bool = False
    text: ReceiptText | None = None


def is_receipt(pdu: p.DeliverSm | p.DataSm) -> bool:
    """Whether esm_class marks *pdu* as an SMSC receipt or an intermediate notification (§6)."""
    kind = pdu.esm_class & EsmClass.TYPE_MASK
    return kind in (EsmClass.DELIVERY_RECEIPT, EsmClass.INTERMEDIATE)


def receipt_of(pdu: p.DeliverSm | p.DataSm) -> Receipt | None:
    """The receipt *pdu* carries, or ``None`` (not a receipt, or no id in TLVs nor text)."""
    if not is_receipt(pdu):
        return None
    body = pdu.short_message if isinstance(pdu, p.DeliverSm) else b""
    if not body:
        payload = get(pdu.tlvs, Tag.MESSAGE_PAYLOAD)
        body = payload if isinstance(payload, bytes) else b""
    parsed = parse_receipt_text(body)
    tlv_id = get(pdu.tlvs, Tag.RECEIPTED_MESSAGE_ID)
    message_id = tlv_id.decode("latin-1") if isinstance(tlv_id, bytes) and tlv_id else None
    if message_id is None:
        if parsed is None or not parsed.id:
            return None
        message_id = parsed.id
    raw_state = get(pdu.tlvs, Tag.MESSAGE_STATE)
    state: MessageState | None = None
    if isinstance(raw_state, int) and raw_state in MessageState._value2member_map_:
        state = MessageState(raw_state)
    elif parsed is not None:
        state = parsed.state
    network = network_error_code(pdu.tlvs)
    error = network[1] if network is not None else _int(parsed.err if parsed else None)
    intermediate = pdu.esm_class & EsmClass.TYPE_MASK == EsmClass.INTERMEDIATE
    return Receipt(message_id, state, error, intermediate, parsed)
