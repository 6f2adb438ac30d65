"""SMPP optional parameters (smpp34.md §1, §7): the TLV list and typed accessors.

The wire form and :class:`~smsgw.protocols.tlv.Tlv` are shared with SMGP
(:mod:`smsgw.protocols.tlv`).  :data:`TAG_TYPES` gives the type of every tag
of §7; :func:`get` and :func:`put` read and write a tag as that type:

* an **integer** tag (``u8``, ``u16``) is an ``int``;
* a **C-Octet String** tag (``receipted_message_id``, ...) is ``bytes``
  without its NUL, which the wire value carries inside its length ("0000000001"
  has length 11);
* an **octet string** tag (``message_payload``, ``network_error_code``,
  ``callback_num``) is ``bytes`` as they are.

Tags 3.4 does not list are kept as raw bytes (a receiver ignores them).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from smsgw.protocols.errors import EncodeError
from smsgw.protocols.smpp.constants import Tag
from smsgw.protocols.tlv import MAX_VALUE, Tlv, TlvList, find_tlv, replace_tlv, without_tag

__all__ = [
    "TAG_TYPES",
    "Tlv",
    "TlvType",
    "Tlvs",
    "encode_value",
    "get",
    "network_error_code",
    "put",
    "sar",
    "tag_name",
    "without",
]


class TlvType(enum.Enum):
    """How a tag's value is typed (§7)."""

    U8 = 1
    U16 = 2
    U32 = 4
    CSTRING = "c-octet string"
    OCTETS = "octet string"


_T = TlvType
#: Every §7 tag's type.
TAG_TYPES: dict[int, TlvType] = {
    Tag.DEST_ADDR_SUBUNIT: _T.U8,
    Tag.SOURCE_ADDR_SUBUNIT: _T.U8,
    Tag.PAYLOAD_TYPE: _T.U8,
    Tag.ADDITIONAL_STATUS_INFO_TEXT: _T.CSTRING,
    Tag.RECEIPTED_MESSAGE_ID: _T.CSTRING,
    Tag.MS_MSG_WAIT_FACILITIES: _T.U8,
    Tag.PRIVACY_INDICATOR: _T.U8,
    Tag.USER_MESSAGE_REFERENCE: _T.U16,
    Tag.SOURCE_PORT: _T.U16,
    Tag.DESTINATION_PORT: _T.U16,
    Tag.SAR_MSG_REF_NUM: _T.U16,
    Tag.LANGUAGE_INDICATOR: _T.U8,
    Tag.SAR_TOTAL_SEGMENTS: _T.U8,
    Tag.SAR_SEGMENT_SEQNUM: _T.U8,
    Tag.SC_INTERFACE_VERSION: _T.U8,
    Tag.CALLBACK_NUM_PRES_IND: _T.U8,
    Tag.CALLBACK_NUM_ATAG: _T.OCTETS,
    Tag.CALLBACK_NUM: _T.OCTETS,
    Tag.DPF_RESULT: _T.U8,
    Tag.SET_DPF: _T.U8,
    Tag.MS_AVAILABILITY_STATUS: _T.U8,
    Tag.NETWORK_ERROR_CODE: _T.OCTETS,
    Tag.MESSAGE_PAYLOAD: _T.OCTETS,
    Tag.DELIVERY_FAILURE_REASON: _T.U8,
    Tag.MORE_MESSAGES_TO_SEND: _T.U8,
    Tag.MESSAGE_STATE: _T.U8,
    Tag.CONGESTION_STATE: _T.U8,
    Tag.USSD_SERVICE_OP: _T.OCTETS,
    Tag.BILLING_IDENTIFICATION: _T.OCTETS,
    Tag.SOURCE_NETWORK_ID: _T.CSTRING,
    Tag.DEST_NETWORK_ID: _T.CSTRING,
}


def tag_name(tag: int) -> str:
    """``"receipted_message_id"`` for a §7 tag, ``"0x1234"`` for any other."""
    try:
        return Tag(tag).name.lower()
    except ValueError:
        return f"{tag:#06x}"


class Tlvs(TlvList):
    """Field codec for SMPP's trailing TLV list (:class:`~smsgw.protocols.tlv.TlvList`)."""

    __slots__ = ()

    tag_name = staticmethod(tag_name)


def get(tlvs: Iterable[Tlv], tag: int, default: int | bytes | None = None) -> int | bytes | None:
    """The first *tag*'s value as its :data:`TAG_TYPES` type, or *default*.

    Integers are read big-endian from whatever length the peer sent; an
    empty integer value gives *default*.  A C-Octet String loses its NUL
    (and anything a peer padded after it).
    """
    t = find_tlv(tlvs, tag)
    if t is None:
        return default
    kind = TAG_TYPES.get(tag, TlvType.OCTETS)
    if kind is TlvType.CSTRING:
        return t.value.split(b"\x00", 1)[0]
    if kind is TlvType.OCTETS:
        return t.value
    if not t.value:
        return default
    return int.from_bytes(t.value, "big")


def encode_value(tag: int, value: int | bytes) -> bytes:
    """*value* as the wire value of *tag* (:data:`TAG_TYPES`; unknown tags take bytes).

    :raises EncodeError: the value is of the wrong type or does not fit.
    """
    kind = TAG_TYPES.get(tag, TlvType.OCTETS)
    name = f"tlvs.{tag_name(tag)}"
    if isinstance(kind.value, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise EncodeError(f"expected int, got {type(value).__name__}", field=name)
        if not 0 <= value < 1 << (8 * kind.value):
            raise EncodeError(f"{value} does not fit {kind.value} bytes", field=name)
        return value.to_bytes(kind.value, "big")
    if not isinstance(value, bytes):
        raise EncodeError(f"expected bytes, got {type(value).__name__}", field=name)
    if kind is TlvType.CSTRING:
        if b"\x00" in value:
            raise EncodeError("a C-Octet String holds no NUL before its end", field=name)
        value += b"\x00"
    if len(value) > MAX_VALUE:
        raise EncodeError(f"{len(value)} bytes exceed {MAX_VALUE}", field=name)
    return value


def put(tlvs: Iterable[Tlv], tag: int, value: int | bytes) -> tuple[Tlv, ...]:
    """*tlvs* with *tag* set to *value*: in place if present (repeats dropped), else appended."""
    new = Tlv(tag, encode_value(tag, value))
    return replace_tlv(tlvs, new)


def without(tlvs: Iterable[Tlv], tag: int) -> tuple[Tlv, ...]:
    """*tlvs* without any *tag*."""
    return without_tag(tlvs, tag)


def network_error_code(tlvs: Iterable[Tlv]) -> tuple[int, int] | None:
    """``(network type, error code)`` from network_error_code (3 octets, §6), or ``None``."""
    value = get(tlvs, Tag.NETWORK_ERROR_CODE)
    if not isinstance(value, bytes) or len(value) != 3:
        return None
    return value[0], int.from_bytes(value[1:], "big")


def sar(tlvs: Iterable[Tlv]) -> tuple[int, int, int] | None:
    """``(reference, total, part)`` from the three SAR tags (§8), or ``None`` unless all are set."""
    values = tuple(
        get(tlvs, tag)
        for tag in (Tag.SAR_MSG_REF_NUM, Tag.SAR_TOTAL_SEGMENTS, Tag.SAR_SEGMENT_SEQNUM)
    )
    ref, total, part = values
    if not (isinstance(ref, int) and isinstance(total, int) and isinstance(part, int)):
        return None
    return ref, total, part
