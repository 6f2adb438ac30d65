"""Shared hypothesis strategies.

Text strategies for :mod:`smsgw.text`: message text per ``Msg_Fmt``, long
enough often enough to be split, and UDH-shaped bytes.  Wire strategies for
:mod:`smsgw.protocols`: PDUs generated from a layout's field table, and
encoded frames.
"""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import strategies as st

from smsgw.protocols.codec import ProtocolCodec
from smsgw.protocols.wire import (
    COctets,
    CTime,
    HeaderSpec,
    Layout,
    Octets,
    Raw,
    Repeated,
    Sized,
    Trailing,
    UInt,
    ZeroPadded,
)
from smsgw.text.encoding import MsgFmt

__all__ = [
    "any_text",
    "ascii_text",
    "decoded_form",
    "encoded_pdus",
    "field_strategy",
    "frames_strategy",
    "gb_text",
    "message_references",
    "pdu_strategy",
    "sequence_strategy",
    "text_and_fmt",
    "ucs2_text",
    "udh_like_content",
]

_NO_SURROGATES = st.characters(codec="utf-8")
"""Any code point a ``str`` can encode: everything but lone surrogates."""

_ASTRAL = st.characters(min_codepoint=0x10000, codec="utf-8")
"""Characters outside the BMP: surrogate pairs in UTF-16, 4 bytes in GB18030."""

_EMOJI = st.sampled_from("😀👍🎉🀄𠀀𪚥\U0010fffd")
"""Common astral characters, including CJK Extension B and a plane-16 one."""

_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
"""CJK Unified Ideographs as in GBK: 2 bytes each in GB, 1 code unit in UCS2."""

_GBK_EXTRA = st.sampled_from("，。！？、“”《》·—…￥ａ")
"""Full-width punctuation and symbols that GBK encodes with 2 bytes."""


def _sized(alphabet: st.SearchStrategy[str], split_at: int) -> st.SearchStrategy[str]:
    """Text around and well past ``split_at`` characters, plus short text.

    Plain ``st.text()`` rarely grows past a few dozen characters, so long text
    is drawn as a separate branch to exercise long-message splitting.
    """
    return st.one_of(
        st.text(alphabet, max_size=split_at + 2),
        st.text(alphabet, min_size=max(0, split_at - 2), max_size=split_at * 4),
    )


def ascii_text() -> st.SearchStrategy[str]:
    """Text for ``Msg_Fmt`` 0: ASCII only, including control characters."""
    return _sized(st.characters(max_codepoint=0x7F), 159)


def ucs2_text() -> st.SearchStrategy[str]:
    """Text for ``Msg_Fmt`` 8: any characters, with plenty of astral ones and CJK."""
    return _sized(st.one_of(_NO_SURROGATES, _ASTRAL, _EMOJI, _CJK), 70)


def gb_text() -> st.SearchStrategy[str]:
    """Text for ``Msg_Fmt`` 15: characters with a GB18030 encoding, mostly Chinese.

    One branch stays inside GBK (so :func:`~smsgw.text.encoding.encode_text`
    uses ``gbk``), the other mixes in characters that need ``gb18030``.
    """
    gbk_only = st.one_of(_CJK, _GBK_EXTRA, st.characters(max_codepoint=0x7F))
    return st.one_of(
        _sized(gbk_only, 70),
        _sized(st.one_of(_CJK, _NO_SURROGATES, _ASTRAL, _EMOJI), 70),
    )


def any_text() -> st.SearchStrategy[str]:
    """Any ``str``, lone surrogates included."""
    return st.text(st.one_of(st.characters(), _CJK, _EMOJI))


def text_and_fmt() -> st.SearchStrategy[tuple[str, MsgFmt]]:
    """A text format and text encodable in it."""
    return st.one_of(
        ascii_text().map(lambda text: (text, MsgFmt.ASCII)),
        ucs2_text().map(lambda text: (text, MsgFmt.UCS2)),
        gb_text().map(lambda text: (text, MsgFmt.GB)),
    )


def message_references() -> st.SearchStrategy[int]:
    """Long-message reference numbers as a caller might pass them, unmasked."""
    return st.one_of(st.integers(0, 0xFF), st.integers(0, 0xFFFF), st.integers(0, 2**32 - 1))


@st.composite
def udh_like_content(draw: st.DrawFn) -> bytes:
    """``Msg_Content`` that starts with a UDH, often well formed, sometimes not.

    Elements include concatenation (IEI 0x00 / 0x08) with arbitrary, possibly
    invalid, reference / total / number, and other IEIs (e.g. 0x05 ports).
    UDHL may be off by a little; trailing payload is arbitrary.
    """
    concat8 = st.builds(
        lambda ref, total, number: bytes((0x00, 3, ref, total, number)),
        st.integers(0, 255),
        st.integers(0, 255),
        st.integers(0, 255),
    )
    concat16 = st.builds(
        lambda ref, total, number: (
            bytes((0x08, 4)) + ref.to_bytes(2, "big") + bytes((total, number))
        ),
        st.integers(0, 0xFFFF),
        st.integers(0, 255),
        st.integers(0, 255),
    )
    other = st.builds(
        lambda iei, data: bytes((iei, len(data))) + data,
        st.integers(0, 255),
        st.binary(max_size=8),
    )
    elements = draw(st.lists(st.one_of(concat8, concat16, other), max_size=4))
    header = b"".join(elements)
    if draw(st.booleans()):
        header = header[: draw(st.integers(0, len(header)))]
    udhl = len(header) + draw(st.sampled_from((0, 0, 0, -1, 1, 2)))
    udhl = min(max(udhl, 0), 255)
    return bytes((udhl,)) + header[:255] + draw(st.binary(max_size=20))


# ---------------------------------------------------------------------------
# Wire-layout strategies (smsgw.protocols.wire): PDUs built from a layout's
# field table, so every PDU class of every protocol version is covered.
# ---------------------------------------------------------------------------

#: Most items drawn for a :class:`~smsgw.protocols.wire.Repeated` field.
MAX_REPEATED = 5
#: Most bytes drawn for a :class:`~smsgw.protocols.wire.Sized` field.
MAX_SIZED = 300

_INT_CODES = {"b": 1, "h": 2, "i": 4, "q": 8}


def _int_range(code: str) -> st.SearchStrategy[int]:
    """Integers that fit one struct integer code (``"I"``, ``"b"``, ...)."""
    bits = 8 * _INT_CODES[code.lower()]
    if code.islower():
        return st.integers(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    return st.integers(0, (1 << bits) - 1)


def _no_trailing_nul(data: bytes) -> bytes:
    """*data* without its trailing NULs, which decoding strips as padding."""
    return data.rstrip(b"\x00")


def _no_nul(data: bytes) -> bytes:
    """*data* with every NUL made a space: a C-Octet String ends at its first NUL."""
    return data.replace(b"\x00", b" ")


def field_strategy(codec: Any) -> st.SearchStrategy[Any]:
    """Values of one field codec that encode and decode back to themselves.

    :raises TypeError: for a codec kind this module does not know (custom
        codecs need their own strategy).
    """
    if isinstance(codec, Trailing):
        return field_strategy(codec.field)
    if isinstance(codec, UInt):
        return st.integers(codec.min_value, codec.max_value)
    if isinstance(codec, Raw):
        # Never stripped: any bytes, but the full width (short ones come back padded).
        return st.binary(min_size=codec.size, max_size=codec.size)
    if isinstance(codec, ZeroPadded):
        # Left-padded with '0' on encode and not unpadded on decode: a short value
        # comes back at full width (see decoded_form).  Mostly digits, as ISMG
        # codes are, sometimes any bytes; no trailing NUL, which decoding strips.
        digits = st.text("0123456789", max_size=codec.size).map(str.encode)
        return st.one_of(digits, st.binary(max_size=codec.size).map(_no_trailing_nul))
    if isinstance(codec, Octets):
        return st.binary(max_size=codec.size).map(_no_trailing_nul)
    if isinstance(codec, CTime):
        # Empty, or the 16 characters of YYMMDDhhmmsstnnp (any non-NUL byte will do).
        return st.one_of(st.just(b""), st.binary(min_size=16, max_size=16).map(_no_nul))
    if isinstance(codec, COctets):
        return st.binary(max_size=codec.max - 1).map(_no_nul)
    if isinstance(codec, Repeated):
        most = min(codec.count.max_value, MAX_REPEATED)
        return st.lists(field_strategy(codec.item), max_size=most).map(tuple)
    if isinstance(codec, Sized):
        return st.binary(max_size=min(codec.length.max_value, MAX_SIZED))
    raise TypeError(f"no strategy for field codec {codec!r}")


def decoded_form(layout: Layout, value: Any) -> Any:
    """*value* as decoding its encoding gives it back: ZeroPadded fields at full width.

    Every other field of a :func:`pdu_strategy` value comes back as drawn.
    """
    changes: dict[str, Any] = {}
    for name, codec in layout.fields:
        if isinstance(codec, Trailing):
            codec = codec.field
        if isinstance(codec, ZeroPadded):
            changes[name] = getattr(value, name).rjust(codec.size, b"0")
        elif isinstance(codec, Repeated) and isinstance(codec.item, ZeroPadded):
            width = codec.item.size
            changes[name] = tuple(v.rjust(width, b"0") for v in getattr(value, name))
    return attrs.evolve(value, **changes) if changes else value


def pdu_strategy(layout: Layout) -> st.SearchStrategy[Any]:
    """Instances of ``layout.cls`` that round-trip through *layout* (see :func:`decoded_form`).

    Built from ``layout.fields``; attributes not on the wire keep their
    defaults, as the decoder gives them.
    """
    fields = {name: field_strategy(codec) for name, codec in layout.fields}
    return st.fixed_dictionaries(fields).map(lambda values: layout.cls(**values))


def sequence_strategy(header: HeaderSpec) -> st.SearchStrategy[Any]:
    """Sequence ids for *header*: an ``int``, or a tuple when it spans several fields."""
    # The header's first fields may be PDU attributes (SMPP's command_status).
    codes = header.code.lstrip("<>!=@")[len(header.attributes) :]
    if len(codes) == 1:
        return _int_range(codes)
    return st.tuples(*(_int_range(c) for c in codes))


def encoded_pdus(codec: ProtocolCodec) -> st.SearchStrategy[tuple[Any, Any, bytes]]:
    """``(pdu, sequence_id, frame)`` for random PDUs of any class of *codec*."""
    layouts = sorted(codec.layouts.values(), key=lambda layout: layout.name)

    def one(layout: Layout) -> st.SearchStrategy[tuple[Any, Any, bytes]]:
        return st.tuples(pdu_strategy(layout), sequence_strategy(codec.header)).map(
            lambda ps: (ps[0], ps[1], codec.encode(ps[0], ps[1]))
        )

    return st.sampled_from(layouts).flatmap(one)


def frames_strategy(codec: ProtocolCodec) -> st.SearchStrategy[bytes]:
    """Valid encoded frames of random PDUs of *codec*."""
    return encoded_pdus(codec).map(lambda t: t[2])
