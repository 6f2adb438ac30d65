"""Long (concatenated) messages: splitting, UDH parsing and reassembly.

CMPP 2.0 notes section 10; the UDH layout is 3GPP TS 23.040 9.2.3.24 (the
information elements 0x00 and 0x08 are 9.2.3.24.1 and 9.2.3.24.8). Pure code,
no Twisted imports: the reassembler takes the time as an argument.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable
from typing import Protocol

import attrs

from smsgw.text.encoding import (
    MsgFmt,
    TextEncodeError,
    decode_text,
    encode_text,
    gb_codec,
    max_single_length,
)

__all__ = [
    "IEI_CONCAT_8BIT",
    "IEI_CONCAT_16BIT",
    "MAX_SEGMENTS",
    "ConcatInfo",
    "Incomplete",
    "Part",
    "PartLike",
    "Reassembled",
    "Reassembler",
    "UdhElement",
    "UdhError",
    "concat_info",
    "parse_udh",
    "split_bytes",
    "split_text",
]

IEI_CONCAT_8BIT = 0x00
"""Concatenated short message, 8-bit reference (TS 23.040 9.2.3.24.1)."""

IEI_CONCAT_16BIT = 0x08
"""Concatenated short message, 16-bit reference (TS 23.040 9.2.3.24.8)."""

MAX_SEGMENTS = 255
"""Most segments of one message: TT and SS are single octets."""

_BINARY_SINGLE_LENGTH = 140
"""Most bytes of a binary ``Msg_Content`` sent unsplit (notes section 9)."""

_UDH8_LENGTH = 6
_UDH16_LENGTH = 7


class UdhError(ValueError):
    """A User Data Header is malformed (TS 23.040 9.2.3.24)."""


class PartLike(Protocol):
    """What a SUBMIT needs of one segment: a :class:`Part`, or the store's
    :class:`~smsgw.store.model.SegmentWork` as the store hands it out (the SP
    clients take either as it is, with no copy in between).
    """

    @property
    def pk_total(self) -> int:
        """``Pk_total``."""

    @property
    def pk_number(self) -> int:
        """``Pk_number``, 1-based."""

    @property
    def tp_udhi(self) -> bool:
        """Whether ``content`` starts with a UDH (``TP_udhi``)."""

    @property
    def content(self) -> bytes:
        """``Msg_Content``: UDH plus payload, or the payload alone."""

    @property
    def msg_fmt(self) -> int:
        """``Msg_Fmt`` of the payload."""


@attrs.frozen
class Part:
    """One submit's worth of a message as :func:`split_text` cuts it (CMPP 2.0 notes section 10).

    The store keeps it as a :class:`~smsgw.store.model.Segment` (with its
    state); this class is only the bytes and their numbering.

    :ivar pk_total: ``Pk_total``, equal to TT of the UDH (1 when unsplit).
    :ivar pk_number: ``Pk_number``, 1-based, equal to SS of the UDH.
    :ivar tp_udhi: ``TP_udhi``: whether ``content`` starts with a UDH.
    :ivar content: ``Msg_Content`` bytes: UDH plus payload, or the payload
        alone for an unsplit message.
    :ivar msg_fmt: ``Msg_Fmt`` of the payload.
    """

    pk_total: int
    pk_number: int
    tp_udhi: bool
    content: bytes
    msg_fmt: int


@attrs.frozen
class UdhElement:
    """One information element of a UDH (TS 23.040 9.2.3.24).

    :ivar iei: information element identifier, 0..255.
    :ivar data: the element's value (IEDL bytes).
    """

    iei: int
    data: bytes


@attrs.frozen
class ConcatInfo:
    """The concatenation element of a segment's UDH (CMPP 2.0 notes section 10).

    :ivar reference: RR, the message reference (8- or 16-bit).
    :ivar total: TT, number of segments, at least 1.
    :ivar number: SS, this segment's 1-based number, at most ``total``.
    """

    reference: int
    total: int
    number: int


@attrs.frozen
class Reassembled:
    """A whole received message.

    :ivar key: the caller's grouping key given to :meth:`Reassembler.add`.
    :ivar reference: RR of the UDH; 0 for a message that was not split.
    :ivar total: TT of the UDH; 1 for a message that was not split.
    :ivar payload: the segments' payloads (UDH stripped) joined in order.
    :ivar msg_fmt: ``Msg_Fmt`` of the first segment received.
    :ivar text: ``payload`` decoded once with :func:`decode_text`, so that a
        character whose bytes straddle two segments survives.
    """

    key: Hashable
    reference: int
    total: int
    payload: bytes
    msg_fmt: int
    text: str


@attrs.frozen
class Incomplete:
    """A message given up on by :meth:`Reassembler.expire`.

    :ivar key: the caller's grouping key.
    :ivar reference: RR of the UDH.
    :ivar total: TT of the UDH.
    :ivar received: numbers of the segments that arrived, ascending.
    :ivar missing: numbers of the segments that did not, ascending.
    :ivar payloads: payloads of the segments in ``received``, same order.
    :ivar msg_fmt: ``Msg_Fmt`` of the first segment received, to decode
        ``payloads`` with if the caller wants to deliver the fragment.
    """

    key: Hashable
    reference: int
    total: int
    received: tuple[int, ...]
    missing: tuple[int, ...]
    payloads: tuple[bytes, ...]
    msg_fmt: int


def _udh(reference: int, total: int, number: int, *, udh16: bool) -> bytes:
    """Concatenation UDH (CMPP 2.0 notes section 10).

    ``05 00 03 RR TT SS`` with the reference masked to 8 bits, or with
    ``udh16`` ``06 08 04 RR RR TT SS`` with a 16-bit big-endian reference.
    """
    if udh16:
        return (
            bytes((_UDH16_LENGTH - 1, IEI_CONCAT_16BIT, 4))
            + (reference & 0xFFFF).to_bytes(2, "big")
            + bytes((total, number))
        )
    return bytes((_UDH8_LENGTH - 1, IEI_CONCAT_8BIT, 3, reference & 0xFF, total, number))


def _segments(chunks: list[bytes], fmt: int, reference: int, *, udh16: bool) -> list[Part]:
    """Wrap payload chunks into numbered :class:`Part` objects with UDHs."""
    total = len(chunks)
    if total > MAX_SEGMENTS:
        raise ValueError(
            f"message needs {total} segments; a concatenated message has at most {MAX_SEGMENTS}"
        )
    return [
        Part(
            pk_total=total,
            pk_number=number,
            tp_udhi=True,
            content=_udh(reference, total, number, udh16=udh16) + chunk,
            msg_fmt=int(fmt),
        )
        for number, chunk in enumerate(chunks, start=1)
    ]


def _check_segment_count(length: int, capacity: int) -> None:
    """Refuse early a payload that needs more than :data:`MAX_SEGMENTS` segments.

    Exact for fixed-width payloads; a lower bound for text, whose segments may
    end short of ``capacity`` at a character boundary.
    """
    if length > MAX_SEGMENTS * capacity:
        needed = -(-length // capacity)
        raise ValueError(
            f"message of {length} bytes needs at least {needed} segments of {capacity} bytes; "
            f"a concatenated message has at most {MAX_SEGMENTS}"
        )


def _pack(pieces: Iterable[bytes], capacity: int) -> list[bytes]:
    """Pack indivisible pieces, in order, greedily into chunks of at most ``capacity`` bytes.

    Greedy packing of an ordered sequence gives the fewest chunks.
    """
    chunks: list[bytes] = []
    current = bytearray()
    for piece in pieces:
        if len(current) + len(piece) > capacity:
            chunks.append(bytes(current))
            current = bytearray()
        current += piece
    if current:
        chunks.append(bytes(current))
    return chunks


def _text_capacity(fmt: MsgFmt, *, udh16: bool) -> int:
    """Payload bytes per segment of a split text message (CMPP 2.0 notes section 10).

    ASCII fills ``Msg_Length`` 159 (153 characters after a 6-byte UDH, as smsj
    and the GSM 7-bit capacity); the other formats fill 140 bytes.
    """
    udh_length = _UDH16_LENGTH if udh16 else _UDH8_LENGTH
    return max_single_length(fmt) - udh_length


def split_text(text: str, fmt: MsgFmt, reference: int, *, udh16: bool = False) -> list[Part]:
    """Split message text into submit-sized segments (CMPP 2.0 notes section 10).

    Text that fits :func:`max_single_length` in ``fmt`` gives one segment with no
    UDH. Longer text is cut into segments of at most 153 characters (ASCII) or
    134 bytes (UCS2, GB), 152 / 132 / 133 with the 16-bit-reference UDH, each
    prefixed with a concatenation UDH. Cuts fall on character boundaries only:
    a UTF-16 surrogate pair, a GBK double byte or a GB18030 four-byte sequence
    is never split (a segment ends early instead).

    :param text: the message text.
    :param fmt: ``Msg_Fmt`` 0, 8 or 15; binary payloads go to :func:`split_bytes`.
    :param reference: message reference, masked to 8 bits (16 with ``udh16``);
        vary it per message.
    :param udh16: use IEI 0x08 (16-bit reference, 7-byte UDH) instead of 0x00.
    :returns: the segments in order, ``pk_number`` 1 to ``pk_total``.
    :raises TextEncodeError: ``text`` cannot be encoded in ``fmt``, or ``fmt``
        is not a text format.
    :raises ValueError: more than 255 segments would be needed.
    """
    if fmt not in (MsgFmt.ASCII, MsgFmt.UCS2, MsgFmt.GB):
        raise TextEncodeError(
            f"Msg_Fmt {int(fmt)} is not a text format; split binary payloads with split_bytes",
            text,
            fmt,
            None,
        )
    fmt = MsgFmt(fmt)
    encoded = encode_text(text, fmt)
    if len(encoded) <= max_single_length(fmt):
        return [Part(pk_total=1, pk_number=1, tp_udhi=False, content=encoded, msg_fmt=int(fmt))]
    capacity = _text_capacity(fmt, udh16=udh16)
    _check_segment_count(len(encoded), capacity)
    if fmt == MsgFmt.ASCII:
        chunks = [encoded[i : i + capacity] for i in range(0, len(encoded), capacity)]
    else:
        # One piece per Python character: an astral character is one piece of
        # 4 bytes in both UTF-16 (a surrogate pair) and GB18030, so greedy
        # packing backs off rather than cutting it.
        codec = "utf-16-be" if fmt == MsgFmt.UCS2 else gb_codec(text)
        chunks = _pack((char.encode(codec) for char in text), capacity)
    return _segments(chunks, fmt, reference, udh16=udh16)


def split_bytes(data: bytes, fmt: int, reference: int, *, udh16: bool = False) -> list[Part]:
    """Split a binary payload into submit-sized segments (CMPP 2.0 notes section 10).

    Up to 140 bytes give one segment with no UDH; longer payloads are cut into
    134-byte pieces (133 with ``udh16``) behind a concatenation UDH.

    :param data: the payload, e.g. ``Msg_Fmt`` 4 (binary) or 3 (write-card).
    :param fmt: the ``Msg_Fmt`` to record on each segment.
    :param reference: message reference, masked to 8 bits (16 with ``udh16``).
    :param udh16: use IEI 0x08 (16-bit reference, 7-byte UDH) instead of 0x00.
    :returns: the segments in order.
    :raises ValueError: more than 255 segments would be needed.
    """
    data = bytes(data)
    if len(data) <= _BINARY_SINGLE_LENGTH:
        return [Part(pk_total=1, pk_number=1, tp_udhi=False, content=data, msg_fmt=fmt)]
    capacity = _BINARY_SINGLE_LENGTH - (_UDH16_LENGTH if udh16 else _UDH8_LENGTH)
    _check_segment_count(len(data), capacity)
    chunks = [data[i : i + capacity] for i in range(0, len(data), capacity)]
    return _segments(chunks, fmt, reference, udh16=udh16)


def parse_udh(content: bytes) -> tuple[tuple[UdhElement, ...], bytes]:
    """Split ``Msg_Content`` that starts with a UDH (TS 23.040 9.2.3.24).

    The first byte is UDHL, the header length; the header is a list of
    IEI / IEDL / value elements. Elements other than concatenation (e.g. port
    addressing, IEI 0x05) are returned too (CMPP 2.0 notes section 10).

    :param content: ``Msg_Content`` bytes with ``TP_udhi`` set.
    :returns: the elements in header order and the payload after the header.
    :raises UdhError: ``content`` is empty, UDHL runs past its end, or an
        element runs past the header.
    """
    content = bytes(content)
    if not content:
        raise UdhError("UDH expected but the content is empty")
    udhl = content[0]
    if 1 + udhl > len(content):
        raise UdhError(f"UDHL {udhl} exceeds the {len(content) - 1} bytes after it")
    header = content[1 : 1 + udhl]
    elements: list[UdhElement] = []
    offset = 0
    while offset < udhl:
        if offset + 2 > udhl:
            raise UdhError(
                f"UDH element at header offset {offset} is truncated: "
                f"IEI without IEDL in a {udhl}-byte header"
            )
        iei, iedl = header[offset], header[offset + 1]
        end = offset + 2 + iedl
        if end > udhl:
            raise UdhError(
                f"UDH element IEI 0x{iei:02X} at header offset {offset} has IEDL {iedl}, "
                f"overrunning the {udhl}-byte header by {end - udhl} bytes"
            )
        elements.append(UdhElement(iei=iei, data=header[offset + 2 : end]))
        offset = end
    return tuple(elements), content[1 + udhl :]


def _concat(content: bytes, tp_udhi: int) -> tuple[ConcatInfo | None, bytes]:
    """Concatenation element and payload of ``Msg_Content``.

    :returns: the :class:`ConcatInfo` (``None`` without UDH or without a
        concatenation element) and the payload with any UDH stripped.
    :raises UdhError: see :func:`concat_info`.
    """
    content = bytes(content)
    if tp_udhi & 0x41 == 0:
        return None, content
    elements, payload = parse_udh(content)
    concat: UdhElement | None = None
    for element in elements:
        # TS 23.040 9.2.3.24: when a non-repeatable element occurs more than
        # once, the last occurrence is used.
        if element.iei in (IEI_CONCAT_8BIT, IEI_CONCAT_16BIT):
            concat = element
    if concat is None:
        return None, payload
    expected = 3 if concat.iei == IEI_CONCAT_8BIT else 4
    if len(concat.data) != expected:
        raise UdhError(
            f"concatenation element IEI 0x{concat.iei:02X} has IEDL {len(concat.data)}, "
            f"expected {expected}"
        )
    reference = int.from_bytes(concat.data[:-2], "big")
    total, number = concat.data[-2], concat.data[-1]
    if total == 0:
        raise UdhError("concatenation element has total 0")
    if number == 0:
        raise UdhError("concatenation element has segment number 0 (numbers are 1-based)")
    if number > total:
        raise UdhError(f"concatenation element has segment number {number} > total {total}")
    return ConcatInfo(reference=reference, total=total, number=number), payload


def concat_info(content: bytes, tp_udhi: int) -> ConcatInfo | None:
    """Read the concatenation element of a received segment (CMPP 2.0 notes section 10).

    A UDH is present when ``tp_udhi & 0x41`` is non-zero: many ISMGs pass the
    SMPP esm_class value 0x40 through on MO instead of 1 (SMSGate
    ``LongMessageFrame``). IEI 0x00 (8-bit reference) and 0x08 (16-bit) are
    recognised wherever they sit among the UDH's elements.

    :param content: ``Msg_Content`` bytes.
    :param tp_udhi: ``TP_udhi`` as received.
    :returns: ``None`` without a UDH or without a concatenation element.
    :raises UdhError: the UDH is malformed (see :func:`parse_udh`), the
        element has the wrong IEDL, or its total or number is 0, or the number
        exceeds the total.
    """
    return _concat(content, tp_udhi)[0]


@attrs.define
class _Group:
    """Segments received so far of one message."""

    started: float
    msg_fmt: int
    parts: dict[int, bytes] = attrs.Factory(dict)


_GroupKey = tuple[Hashable, int, int]


class Reassembler:
    """Joins received segments into whole messages (CMPP 2.0 notes section 10).

    Segments are grouped by ``(key, reference, total)``, where ``key`` is the
    caller's grouping, e.g. ``(src_terminal_id, dest_id)``. Pure: there is no
    clock; callers pass the time in seconds to :meth:`add` and :meth:`expire`
    (e.g. ``reactor.seconds()``) and call :meth:`expire` periodically.

    Memory is bounded: at most ``max_groups`` messages are open. Adding the
    first segment of one more message evicts the open message whose first
    segment arrived earliest; evicted messages are reported as
    :class:`Incomplete` by the next :meth:`expire` call, ahead of the timed-out
    ones. The queue of evicted reports is bounded by ``max_groups`` too; when it
    overflows, the oldest report is discarded and counted in :attr:`dropped`.
    :attr:`evicted` counts all evictions.

    :param timeout_s: seconds after its first segment that an incomplete
        message is given up on.
    :param max_groups: most messages open at once, at least 1.
    """

    def __init__(self, timeout_s: float = 60.0, max_groups: int = 10000) -> None:
        if max_groups < 1:
            raise ValueError(f"max_groups must be at least 1, not {max_groups}")
        self._timeout_s = timeout_s
        self._max_groups = max_groups
        self._groups: dict[_GroupKey, _Group] = {}
        self._evicted_reports: deque[Incomplete] = deque()
        self.evicted = 0
        """Open messages pushed out by the ``max_groups`` bound."""
        self.dropped = 0
        """Evicted messages discarded before :meth:`expire` reported them."""

    @property
    def pending(self) -> int:
        """Number of open (incomplete) messages."""
        return len(self._groups)

    def add(
        self, key: Hashable, content: bytes, tp_udhi: int, msg_fmt: int, now: float
    ) -> Reassembled | None:
        """Take one received segment.

        Segments may arrive in any order. A second copy of a segment number
        already held is ignored (the first copy wins). Content without a
        concatenation element is a whole message by itself.

        :param key: the caller's grouping key, e.g. ``(src, dest)``.
        :param content: ``Msg_Content`` bytes, UDH included.
        :param tp_udhi: ``TP_udhi`` as received (0x01 and 0x40 both mean UDH).
        :param msg_fmt: ``Msg_Fmt`` as received; the first segment's is kept.
        :param now: current time in seconds.
        :returns: the whole message when this segment completes it, else ``None``.
        :raises UdhError: the UDH is malformed (see :func:`concat_info`); the
            caller may deliver ``content`` as it is instead.
        """
        info, payload = _concat(content, tp_udhi)
        if info is None:
            return _whole(key, 0, 1, payload, msg_fmt)
        if info.total == 1:
            return _whole(key, info.reference, 1, payload, msg_fmt)
        group_key = (key, info.reference, info.total)
        group = self._groups.get(group_key)
        if group is None:
            if len(self._groups) >= self._max_groups:
                self._evict_oldest()
            group = _Group(started=now, msg_fmt=msg_fmt)
            self._groups[group_key] = group
        if info.number in group.parts:
            return None
        group.parts[info.number] = payload
        if len(group.parts) < info.total:
            return None
        del self._groups[group_key]
        joined = b"".join(group.parts[number] for number in range(1, info.total + 1))
        return _whole(key, info.reference, info.total, joined, group.msg_fmt)

    def expire(self, now: float) -> list[Incomplete]:
        """Give up on messages open for ``timeout_s`` seconds or more.

        :param now: current time in seconds.
        :returns: messages evicted by the ``max_groups`` bound since the last
            call, then the timed-out ones, oldest first; all are forgotten.
        """
        expired = list(self._evicted_reports)
        self._evicted_reports.clear()
        for group_key, group in list(self._groups.items()):
            if now - group.started >= self._timeout_s:
                del self._groups[group_key]
                expired.append(_incomplete(group_key, group))
        return expired

    def _evict_oldest(self) -> None:
        """Close the open message whose first segment arrived earliest."""
        group_key = next(iter(self._groups))
        group = self._groups.pop(group_key)
        self.evicted += 1
        if len(self._evicted_reports) >= self._max_groups:
            self._evicted_reports.popleft()
            self.dropped += 1
        self._evicted_reports.append(_incomplete(group_key, group))


def _whole(key: Hashable, reference: int, total: int, payload: bytes, msg_fmt: int) -> Reassembled:
    """Build a :class:`Reassembled`, decoding the joined payload once."""
    return Reassembled(
        key=key,
        reference=reference,
        total=total,
        payload=payload,
        msg_fmt=msg_fmt,
        text=decode_text(payload, msg_fmt),
    )


def _incomplete(group_key: _GroupKey, group: _Group) -> Incomplete:
    """Describe an open message that is being given up on."""
    key, reference, total = group_key
    received = tuple(sorted(group.parts))
    return Incomplete(
        key=key,
        reference=reference,
        total=total,
        received=received,
        missing=tuple(number for number in range(1, total + 1) if number not in group.parts),
        payloads=tuple(group.parts[number] for number in received),
        msg_fmt=group.msg_fmt,
    )
