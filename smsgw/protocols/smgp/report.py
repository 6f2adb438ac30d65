"""The SMGP status report carried in a Deliver with IsReport = 1 (smgp30.md §8.1).

122 bytes of fixed-width fields behind SMPP-like keywords::

    id:<10 raw BCD bytes> sub:001 dlvrd:001 Submit date:YYMMDDhhmm
    done date:YYMMDDhhmm stat:DELIVRD err:000 Text:<20 bytes>

(one line on the wire).  The id is the **binary** MsgID of the original
Submit, as its Submit_Resp gave it, not text.  A 122-byte report is parsed
by offset (keywords compared case-insensitively: SMSGate writes
``submit date:`` and ``text:``); any other length falls back to a keyword
search (§14 pitfalls), which needs at least ``id:`` and ``stat:``.
"""

from __future__ import annotations

import operator
import re

import attrs

from smsgw.protocols.errors import EncodeError, FieldValueError
from smsgw.protocols.smgp.constants import REPORT_LENGTH, STAT_DELIVERED, Status

__all__ = ["REPORT_LENGTH", "Report", "decode_report", "encode_report"]

_MSG_ID = b"\x00" * 10
#: What the short fields are padded with when read (Text keeps its spaces).
_PAD = b"\x00 "


@attrs.define
class Report:
    """A status report's fields; text fields are ``bytes`` without their padding.

    :ivar msg_id: the original Submit's 10-byte MsgID (raw bytes).
    :ivar sub: submitted count, default ``001``.
    :ivar dlvrd: delivered count, default ``001``.
    :ivar submit_date: ``YYMMDDhhmm`` when the MT was submitted.
    :ivar done_date: ``YYMMDDhhmm`` when it reached its final state.
    :ivar stat: the final state (§8.2), ``DELIVRD`` on success.
    :ivar err: 3-digit error (§8.3), ``000`` on success.
    :ivar text: 3 ASCII digits of the original length, then its first 17 bytes.
    """

    msg_id: bytes = _MSG_ID
    sub: bytes = b"001"
    dlvrd: bytes = b"001"
    submit_date: bytes = b""
    done_date: bytes = b""
    stat: bytes = b""
    err: bytes = b"000"
    text: bytes = b""

    @property
    def delivered(self) -> bool:
        """Whether ``stat`` is ``DELIVRD``; any other state is a failure (§8.2)."""
        return self.stat == STAT_DELIVERED


#: ``(keyword, attribute, width)`` in wire order; widths from §8.1.  The
#: spec's capitalisation (``Submit date``, ``Text``) is what we send.
_FIELDS: tuple[tuple[bytes, str, int], ...] = (
    (b"id:", "msg_id", 10),
    (b" sub:", "sub", 3),
    (b" dlvrd:", "dlvrd", 3),
    (b" Submit date:", "submit_date", 10),
    (b" done date:", "done_date", 10),
    (b" stat:", "stat", 7),
    (b" err:", "err", 3),
    (b" Text:", "text", 20),
)


#: The 122 bytes with ``%s`` for each value, NUL-padded to its width beforehand.
_TEMPLATE = b"".join(kw + b"%s" for kw, _, _ in _FIELDS)
_WIDTHS = tuple(width for _, _, width in _FIELDS)
_NULS = (b"\x00",) * len(_FIELDS)
assert len(_TEMPLATE) - 2 * len(_FIELDS) + sum(_WIDTHS) == REPORT_LENGTH
_values = operator.attrgetter(*(name for _, name, _ in _FIELDS))

#: A 122-byte report: every keyword at its offset (any case, as SMSGate writes
#: ``submit date:``), each value its fixed width.
_FIXED = re.compile(
    b"".join(re.escape(kw) + b"(.{%d})" % width for kw, _, width in _FIELDS),
    re.DOTALL | re.IGNORECASE,
)


def encode_report(report: Report) -> bytes:
    """The 122-byte content of a report Deliver (MsgLength 122, MsgFormat 0).

    Text fields are NUL-padded to their width; ``msg_id`` must be 10 bytes.

    :raises EncodeError: a field is longer than its width.
    """
    values = _values(report)
    try:
        data: bytes = _TEMPLATE % tuple(map(bytes.ljust, values, _WIDTHS, _NULS))
    except TypeError:
        pass  # a value is not bytes: the loop below names it
    else:
        # Padding never shortens, so 122 bytes means no value was too wide.
        if len(data) == REPORT_LENGTH and len(values[0]) == 10:
            return data
    parts = []
    for kw, name, width in _FIELDS:
        value = getattr(report, name)
        if not isinstance(value, bytes):
            raise _refused(name, f"expected bytes, got {type(value).__name__}")
        if name == "msg_id" and len(value) != width:
            raise _refused(name, f"{len(value)} bytes, expected {width}")
        if len(value) > width:
            raise _refused(name, f"{len(value)} bytes do not fit {width}")
        parts.append(kw)
        parts.append(value.ljust(width, b"\x00"))
    return b"".join(parts)


def _refused(name: str, why: str) -> EncodeError:
    return EncodeError(why, pdu="Report", field=name)


def decode_report(content: bytes) -> Report:
    """Parse a report Deliver's MsgContent.

    122 bytes whose keywords sit at their offsets are read by offset;
    anything else by keyword search.

    :raises FieldValueError: (status 10) ``id:`` or ``stat:`` cannot be found.
    """
    m = _FIXED.fullmatch(content)
    if m is not None:
        msg_id, sub, dlvrd, submit_date, done_date, stat, err, text = m.groups()
        return Report(
            msg_id,
            sub.rstrip(_PAD).lstrip(b" "),
            dlvrd.rstrip(_PAD).lstrip(b" "),
            submit_date.rstrip(_PAD).lstrip(b" "),
            done_date.rstrip(_PAD).lstrip(b" "),
            stat.rstrip(_PAD).lstrip(b" "),
            err.rstrip(_PAD).lstrip(b" "),
            text.rstrip(b"\x00"),
        )
    return _search(content)


def _strip(value: bytes, name: str) -> bytes:
    # Text keeps its inner spaces; the short fields lose NUL and space padding
    # (decode_report strips its fields the same way).
    return value.rstrip(b"\x00") if name == "text" else value.rstrip(_PAD).lstrip(b" ")


#: Keywords found by the tolerant parser, in the order they are expected.
_SEARCH = (
    (b"sub:", "sub"),
    (b"dlvrd:", "dlvrd"),
    (b"submit date:", "submit_date"),
    (b"done date:", "done_date"),
    (b"stat:", "stat"),
    (b"err:", "err"),
    (b"text:", "text"),
)
_HEX_ID = re.compile(rb"[0-9A-Fa-f]{20}")


def _search(content: bytes) -> Report:
    """Keyword search for reports of the wrong length (truncated, padded, hex id)."""
    lower = content.lower()
    start = lower.find(b"id:")
    if start < 0:
        raise _missing("id:", content)
    id_at = start + 3
    # The id is binary: skip its 10 bytes before looking for the first
    # keyword after it, unless that finds nothing (a short id).
    found: list[tuple[int, int, str]] = []  # (keyword start, value start, attribute)
    pos: int | None = None
    for kw, name in _SEARCH:
        if pos is None:
            at = lower.find(kw, id_at + 10)
            if at < 0:
                at = lower.find(kw, id_at)
        else:
            at = lower.find(kw, pos)
        if at < 0:
            continue
        found.append((at, at + len(kw), name))
        pos = at + len(kw)
    if not any(name == "stat" for _, _, name in found):
        raise _missing("stat:", content)
    ends = [at for at, _, _ in found] + [len(content)]
    values: dict[str, bytes] = {}
    id_end = found[0][0] if found else len(content)
    if content[id_end - 1 : id_end] == b" ":
        id_end -= 1  # the separator before the next keyword, not part of the id
    raw_id = content[id_at:id_end]
    if len(raw_id) != 10:
        # Not the spec's raw id: some gateways write it as 20 hex digits.
        raw_id = raw_id.strip(b" \x00")
        if _HEX_ID.fullmatch(raw_id):
            raw_id = bytes.fromhex(raw_id.decode("ascii"))
    values["msg_id"] = raw_id
    for i, (_, value_at, name) in enumerate(found):
        value = content[value_at : ends[i + 1]]
        if name != "text":
            # A short field ends at its first space: what follows is a
            # keyword cut short or an unknown one.
            value = value.lstrip(b" ").split(b" ", 1)[0]
        values[name] = _strip(value, name)
    return Report(**values)


def _missing(keyword: str, content: bytes) -> FieldValueError:
    return FieldValueError(
        f"status report of {len(content)} bytes has no {keyword!r}",
        pdu="Deliver",
        field="msg_content",
        status=Status.STRUCTURE_ERROR,
    )
