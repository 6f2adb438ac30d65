"""SMGP optional parameters: the TLV list after Submit, Deliver, Forward, Forward_Resp.

Each TLV is Tag (2 bytes) + Length (2 bytes, of the Value only) + Value,
in any order, until PacketLength is reached (smgp30.md §1, §10).  The wire
value is a tuple of :class:`Tlv` in wire order, unknown tags included, so
decoding then encoding gives back the same bytes.  The typed helpers
(:func:`get_int`, :func:`get_bytes`, :func:`with_tlv`) know each tag's
width and type from the §10 table.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

import attrs

from smsgw.protocols.errors import EncodeError, TruncatedError
from smsgw.protocols.smgp.constants import Tag

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

_TL = struct.Struct(">HH")
_MAX = 0xFFFF


@attrs.frozen
class Tlv:
    """One optional parameter: its tag and its raw value bytes."""

    tag: int
    value: bytes


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


class Tlvs:
    """Field codec (the wire ``Custom`` protocol) for a trailing TLV list.

    Must be the last field of a layout: it consumes every byte up to the
    end of the PDU.  Values are encoded exactly as given (use
    :func:`with_tlv` to build spec-width values).
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "Tlvs()"

    def __eq__(self, other: object) -> bool:
        return type(other) is Tlvs

    def __hash__(self) -> int:
        return hash(Tlvs)

    def default(self) -> tuple[Tlv, ...]:
        """No TLVs."""
        return ()

    def check(self, value: object) -> str | None:
        """Why *value* is not a sequence of :class:`Tlv` that fit, or ``None``."""
        if not isinstance(value, tuple | list):
            return f"expected a tuple of Tlv, got {type(value).__name__}"
        for i, t in enumerate(value):
            if not isinstance(t, Tlv):
                return f"item {i}: expected Tlv, got {type(t).__name__}"
            if not isinstance(t.tag, int) or not 0 <= t.tag <= _MAX:
                return f"item {i}: tag {t.tag!r} does not fit 2 bytes"
            if not isinstance(t.value, bytes):
                return f"item {i} ({tag_name(t.tag)}): expected bytes, got {type(t.value).__name__}"
            if len(t.value) > _MAX:
                return f"item {i} ({tag_name(t.tag)}): {len(t.value)} bytes exceed {_MAX}"
        return None

    def encode(self, value: Sequence[Tlv]) -> bytes:
        """Each TLV's tag, length and value, in order.

        :raises EncodeError: a tag or value does not fit, with :meth:`check`'s reason.
        """
        if not value:
            return b""
        try:
            return b"".join([_TL.pack(t.tag, len(t.value)) + t.value for t in value])
        except (struct.error, TypeError, AttributeError) as e:
            why = self.check(value) or str(e)
            raise EncodeError(why, field="tlvs") from e

    def decode_at(self, buf: bytes, offset: int, end: int) -> tuple[tuple[Tlv, ...], int]:
        """Read TLVs from ``buf[offset:end]`` until *end*.

        :raises TruncatedError: a TLV's header or value runs past *end*; the
            error's field names the tag when it could be read.
        """
        if offset >= end:
            return (), offset
        out = []
        unpack = _TL.unpack_from
        while offset < end:
            left = end - offset
            if left < 4:
                if left >= 2:
                    tag = int.from_bytes(buf[offset : offset + 2], "big")
                    raise TruncatedError(
                        f"TLV {tag_name(tag)} ({tag:#06x}) needs a 4-byte tag and length,"
                        f" {left} bytes left",
                        field=f"tlvs.{tag_name(tag)}",
                    )
                raise TruncatedError(
                    f"{left} bytes left after the last TLV, a TLV needs 4", field="tlvs"
                )
            tag, length = unpack(buf, offset)
            offset += 4
            if end - offset < length:
                raise TruncatedError(
                    f"TLV {tag_name(tag)} ({tag:#06x}) says {length} value bytes,"
                    f" {end - offset} left in the PDU",
                    field=f"tlvs.{tag_name(tag)}",
                )
            out.append(Tlv(tag, buf[offset : offset + length]))
            offset += length
        return tuple(out), offset


def _find(tlvs: Iterable[Tlv], tag: int) -> Tlv | None:
    for t in tlvs:
        if t.tag == tag:
            return t
    return None


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
    out: list[Tlv] = []
    placed = False
    for t in tlvs:
        if t.tag != tag:
            out.append(t)
        elif not placed:
            out.append(new)
            placed = True
    if not placed:
        out.append(new)
    return tuple(out)


def without_tlv(tlvs: Iterable[Tlv], tag: int) -> tuple[Tlv, ...]:
    """*tlvs* without any *tag*."""
    return tuple(t for t in tlvs if t.tag != tag)
