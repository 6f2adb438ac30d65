"""Tests for :mod:`smsgw.protocols.smgp`, and the strategies they share.

:func:`tests.strategies.pdu_strategy` has no strategy for the custom TLV
field, so :func:`smgp_pdus` draws that field with :func:`tlv_lists` and the
others with :func:`tests.strategies.field_strategy`.  :func:`length_off_by_one`
draws TLV bytes whose Length field is one off, the framing bug a TLV decoder
is most likely to have.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from smsgw.protocols.smgp.constants import Tag
from smsgw.protocols.smgp.tlv import TAG_WIDTHS, Tlv, Tlvs
from smsgw.protocols.wire import Layout
from tests.strategies import field_strategy

#: Most TLVs drawn for one PDU.
MAX_TLVS = 6


#: The known tags of a fixed value width (smgp30.md §10), as ``(tag, width)``.
_FIXED = sorted((int(tag), width) for tag, width in TAG_WIDTHS.items() if width is not None)


@st.composite
def _near_width(draw: st.DrawFn) -> Tlv:
    """A known fixed-width tag whose value is its width, or one byte short or over."""
    tag, width = draw(st.sampled_from(_FIXED))
    size = max(0, width + draw(st.sampled_from((-1, 0, 1))))
    return Tlv(tag, draw(st.binary(min_size=size, max_size=size)))


def tlvs() -> st.SearchStrategy[Tlv]:
    """One TLV: a known tag or any tag, any value bytes, often one off the tag's width."""
    tags = st.one_of(st.sampled_from(list(Tag)).map(int), st.integers(0, 0xFFFF))
    return st.one_of(st.builds(Tlv, tags, st.binary(max_size=40)), _near_width())


def tlv_lists(min_size: int = 0) -> st.SearchStrategy[tuple[Tlv, ...]]:
    """TLV lists in wire order, repeats and unknown tags included."""
    return st.lists(tlvs(), min_size=min_size, max_size=MAX_TLVS).map(tuple)


@st.composite
def length_off_by_one(draw: st.DrawFn) -> tuple[tuple[Tlv, ...], int, int, bytes]:
    """An encoded TLV list with one TLV's Length field one more or one less than its value.

    :return: ``(tlvs, index, delta, data)``: the list as drawn, which TLV's
        Length was changed and by how much, and the changed bytes.
    """
    tlv_list = draw(tlv_lists(min_size=1))
    index = draw(st.integers(0, len(tlv_list) - 1))
    length = len(tlv_list[index].value)
    delta = draw(st.sampled_from((-1, 1) if 0 < length < 0xFFFF else (1,)))
    offset = sum(4 + len(t.value) for t in tlv_list[:index]) + 2
    data = bytearray(Tlvs().encode(tlv_list))
    data[offset : offset + 2] = (length + delta).to_bytes(2, "big")
    return tlv_list, index, delta, bytes(data)


def smgp_pdus(layout: Layout) -> st.SearchStrategy[Any]:
    """Instances of ``layout.cls`` that round-trip through *layout*."""
    fields = {
        name: tlv_lists() if isinstance(codec, Tlvs) else field_strategy(codec)
        for name, codec in layout.fields
    }
    return st.fixed_dictionaries(fields).map(lambda values: layout.cls(**values))
