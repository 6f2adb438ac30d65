"""Shared hypothesis strategies (STYLE.md section 6).

Text strategies for :mod:`smsgw.text`: message text per ``Msg_Fmt``, long
enough often enough to be split, and UDH-shaped bytes.
"""

from __future__ import annotations

from hypothesis import strategies as st

from smsgw.text.encoding import MsgFmt

__all__ = [
    "any_text",
    "ascii_text",
    "gb_text",
    "message_references",
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
