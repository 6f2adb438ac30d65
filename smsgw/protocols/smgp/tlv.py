"""SMGP optional parameters: the TLV list after Submit, Deliver, Forward, Forward_Resp.

Each TLV is Tag (2 bytes) + Length (2 bytes, of the Value only) + Value,
in any order, until PacketLength is reached (smgp30.md §1, §10); the list
codec and :class:`Tlv` are shared with SMPP (:mod:`smsgw.protocols.tlv`).  The typed helpers
(:func:`get_int`, :func:`get_bytes`, :func:`with_tlv`) know each tag's
width and type from the §10 table.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from smsgw.protocols.errors import EncodeError
from smsgw.protocols.smgp.constants import Tag
from smsgw.protocols.tlv import MAX_VALUE, Tlv, TlvList, find_tlv, replace_tlv, without_tag

__all__ = [
    "OCTET_TAGS",
    "TAG_WIDTHS",
    "Tlv",
    "Tlvs",
    "encode_value",
    "get_bytes",
    "get_int",
    "has_udhi",
    "tag_name",
    "with_tlv",
    "without_tlv",
]

_MAX = MAX_VALUE


#: Value width in bytes of each known tag (§10); ``None``: variable ("Length").
TAG_WIDTHS: dict[int, int | None] = {
    Tag.TP_PID: 1,
    Tag.TP_UDHI: 1,
    Tag.LINK_ID: 20,
    Tag.CHARGE_USER_TYPE: 1,
    Tag.CHARGE_TERM_TYPE: 1,
    Tag.CHARGE_TERM_PSEUDO: None,
    Tag.DEST_TERM_TYPE: 1,
    Tag.DEST_TERM_PSEUDO: None,
    Tag.PK_TOTAL: 1,
    Tag.PK_NUMBER: 1,
    Tag.SUBMIT_MSG_TYPE: 1,
    Tag.SP_DEAL_RESULT: 1,
    Tag.SRC_TERM_TYPE: 1,
    Tag.SRC_TERM_PSEUDO: None,
    Tag.NODES_COUNT: 1,
    Tag.MSG_SRC: 8,
    Tag.SRC_TYPE: 1,
    Tag.MSERVICE_ID: 21,
}

#: Known tags whose value is an Octet String (the others are Integers).
OCTET_TAGS = frozenset(
    {
        Tag.LINK_ID,
        Tag.CHARGE_TERM_PSEUDO,
        Tag.DEST_TERM_PSEUDO,
        Tag.SRC_TERM_PSEUDO,
        Tag.MSG_SRC,
        Tag.MSERVICE_ID,
    }
)


def tag_name(tag: int) -> str:
    """``"PK_TOTAL"`` for a known tag, ``"0x1234"`` for any other."""
    try:
        return Tag(tag).name
    except ValueError:
        return f"{tag:#06x}"


class Tlvs(TlvList):
    """Field codec for SMGP's trailing TLV list (:class:`~smsgw.protocols.tlv.TlvList`)."""

    __slots__ = ()

    tag_name = staticmethod(tag_name)
    #: No TLV is no bytes, and most PDUs carry none: the C accelerator takes
    #: those and hands any PDU with TLVs to Python (:func:`smsgw.protocols.wire._program`).
    absent_when_empty: ClassVar[bool] = True


_find = find_tlv


def get_int(tlvs: Iterable[Tlv], tag: int, default: int | None = None) -> int | None:
    """The first *tag*'s value as a big-endian unsigned integer, or *default*.

    Known 1-byte integer tags read ``value[0]`` whatever the Length says
    (smgp30.md §10 pitfalls); an empty value gives *default*.
    """
    t = _find(tlvs, tag)
    if t is None or not t.value:
        return default
    if TAG_WIDTHS.get(tag) == 1 and tag not in OCTET_TAGS:
        return t.value[0]
    return int.from_bytes(t.value, "big")


def get_bytes(tlvs: Iterable[Tlv], tag: int, default: bytes | None = None) -> bytes | None:
    """The first *tag*'s value bytes, or *default*.

    Known Octet String tags (LinkID, MsgSrc, MServiceID, the pseudo numbers)
    lose their trailing NULs, whatever Length the peer used (SMSGate sends
    text + one NUL, the spec the fixed width).
    """
    t = _find(tlvs, tag)
    if t is None:
        return default
    return t.value.rstrip(b"\x00") if tag in OCTET_TAGS else t.value


def has_udhi(tlvs: Iterable[Tlv]) -> bool:
    """Whether TP_udhi says the content starts with a UDH (tests ``& 0x41``, §13)."""
    return bool((get_int(tlvs, Tag.TP_UDHI) or 0) & 0x41)


def encode_value(tag: int, value: int | bytes, width: int | None = None) -> bytes:
    """The wire value of *tag* at its spec width (§10).

    Integers take the tag's width (or *width* for unknown tags).  Fixed-width
    octet strings (LinkID 20, MsgSrc 8, MServiceID 21) are NUL-padded to it;
    variable ones (the pseudo numbers) and unknown tags are sent as given.

    :raises EncodeError: the value does not fit, or an integer for an
        unknown tag comes without *width*.
    """
    known = TAG_WIDTHS.get(tag)
    size = width if width is not None else known
    name = f"tlvs.{tag_name(tag)}"
    if isinstance(value, bool) or not isinstance(value, int | bytes):
        raise EncodeError(f"expected int or bytes, got {type(value).__name__}", field=name)
    if isinstance(value, int):
        if tag in OCTET_TAGS:
            raise EncodeError("an Octet String tag takes bytes", field=name)
        if size is None:
            raise EncodeError("an integer for an unknown tag needs a width", field=name)
        if not 0 <= value < 1 << (8 * size):
            raise EncodeError(f"{value} does not fit {size} bytes", field=name)
        return value.to_bytes(size, "big")
    fixed = width if width is not None else (known if tag in OCTET_TAGS else None)
    if fixed is not None:
        if len(value) > fixed:
            raise EncodeError(f"{len(value)} bytes do not fit {fixed}", field=name)
        return value.ljust(fixed, b"\x00")
    if len(value) > _MAX:
        raise EncodeError(f"{len(value)} bytes exceed {_MAX}", field=name)
    return value


def with_tlv(
    tlvs: Iterable[Tlv], tag: int, value: int | bytes, *, width: int | None = None
) -> tuple[Tlv, ...]:
    """*tlvs* with *tag* set to *value* (see :func:`encode_value`).

    An existing *tag* keeps its place and any repeats of it go; a new one
    is appended.
    """
    new = Tlv(tag, encode_value(tag, value, width))
    return replace_tlv(tlvs, new)


def without_tlv(tlvs: Iterable[Tlv], tag: int) -> tuple[Tlv, ...]:
    """*tlvs* without any *tag*."""
    return without_tag(tlvs, tag)
