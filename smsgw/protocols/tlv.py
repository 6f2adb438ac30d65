"""Tag-Length-Value lists: the optional parameters after a PDU's mandatory body.

SMGP 3.0 (smgp30.md §10) and SMPP 3.4 (§5.3) share the wire form: Tag (2
bytes), Length (2 bytes, of the Value only), Value, in any order, until the
PDU ends.  A list's wire value is a tuple of :class:`Tlv` in wire order,
unknown tags included, so decoding then encoding gives back the same bytes.
Each protocol names its tags (:attr:`TlvList.tag_name`) and gives the typed
accessors for them (``smsgw.protocols.smgp.tlv``, ``smsgw.protocols.smpp.tlv``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Sequence

import attrs

from smsgw.protocols.errors import EncodeError, TruncatedError

__all__ = ["MAX_VALUE", "Tlv", "TlvList", "find_tlv", "hex_tag", "replace_tlv", "without_tag"]

_TL = struct.Struct(">HH")
#: The largest Tag, and the longest Value.
MAX_VALUE = 0xFFFF


@attrs.frozen
class Tlv:
    """One optional parameter: its tag and its raw value bytes."""

    tag: int
    value: bytes


def hex_tag(tag: int) -> str:
    """``"0x1234"``: a tag no table names."""
    return f"{tag:#06x}"


def find_tlv(tlvs: Iterable[Tlv], tag: int) -> Tlv | None:
    """The first *tag* in *tlvs*, or ``None``."""
    for t in tlvs:
        if t.tag == tag:
            return t
    return None


def replace_tlv(tlvs: Iterable[Tlv], new: Tlv) -> tuple[Tlv, ...]:
    """*tlvs* with *new* where its tag first was (repeats dropped), else appended."""
    out: list[Tlv] = []
    placed = False
    for t in tlvs:
        if t.tag != new.tag:
            out.append(t)
        elif not placed:
            out.append(new)
            placed = True
    if not placed:
        out.append(new)
    return tuple(out)


def without_tag(tlvs: Iterable[Tlv], tag: int) -> tuple[Tlv, ...]:
    """*tlvs* without any *tag*."""
    return tuple(t for t in tlvs if t.tag != tag)


class TlvList:
    """Field codec (the wire ``Custom`` protocol) for a trailing TLV list.

    Must be the last field of a layout: it consumes every byte up to the
    end of the PDU.  Values are encoded exactly as given.  Subclasses set
    :attr:`tag_name` for their protocol's error messages.
    """

    __slots__ = ()

    #: ``tag -> name`` used in error messages (``"tlvs.<name>"``).
    tag_name: Callable[[int], str] = staticmethod(hex_tag)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def default(self) -> tuple[Tlv, ...]:
        """No TLVs."""
        return ()

    def check(self, value: object) -> str | None:
        """Why *value* is not a sequence of :class:`Tlv` that fit, or ``None``."""
        name = self.tag_name
        if not isinstance(value, tuple | list):
            return f"expected a tuple of Tlv, got {type(value).__name__}"
        for i, t in enumerate(value):
            if not isinstance(t, Tlv):
                return f"item {i}: expected Tlv, got {type(t).__name__}"
            if not isinstance(t.tag, int) or not 0 <= t.tag <= MAX_VALUE:
                return f"item {i}: tag {t.tag!r} does not fit 2 bytes"
            if not isinstance(t.value, bytes):
                return f"item {i} ({name(t.tag)}): expected bytes, got {type(t.value).__name__}"
            if len(t.value) > MAX_VALUE:
                return f"item {i} ({name(t.tag)}): {len(t.value)} bytes exceed {MAX_VALUE}"
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
        name = self.tag_name
        out = []
        unpack = _TL.unpack_from
        while offset < end:
            left = end - offset
            if left < 4:
                if left >= 2:
                    tag = int.from_bytes(buf[offset : offset + 2], "big")
                    raise TruncatedError(
                        f"TLV {name(tag)} ({tag:#06x}) needs a 4-byte tag and length,"
                        f" {left} bytes left",
                        field=f"tlvs.{name(tag)}",
                    )
                raise TruncatedError(
                    f"{left} bytes left after the last TLV, a TLV needs 4", field="tlvs"
                )
            tag, length = unpack(buf, offset)
            offset += 4
            if end - offset < length:
                raise TruncatedError(
                    f"TLV {name(tag)} ({tag:#06x}) says {length} value bytes,"
                    f" {end - offset} left in the PDU",
                    field=f"tlvs.{name(tag)}",
                )
            out.append(Tlv(tag, buf[offset : offset + length]))
            offset += length
        return tuple(out), offset
