"""Tests for :mod:`smsgw.protocols.smgp`, and the strategies they share.

:func:`tests.strategies.pdu_strategy` has no strategy for the custom TLV
field, so :func:`smgp_pdus` draws that field with :func:`tlv_lists` and the
others with :func:`tests.strategies.field_strategy`.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from smsgw.protocols.smgp.constants import Tag
from smsgw.protocols.smgp.tlv import Tlv, Tlvs
from smsgw.protocols.wire import Layout
from tests.strategies import field_strategy

#: Most TLVs drawn for one PDU.
MAX_TLVS = 6


def tlvs() -> st.SearchStrategy[Tlv]:
    """One TLV: a known tag or any tag, any value bytes."""
    tags = st.one_of(st.sampled_from(list(Tag)).map(int), st.integers(0, 0xFFFF))
    return st.builds(Tlv, tags, st.binary(max_size=40))


def tlv_lists() -> st.SearchStrategy[tuple[Tlv, ...]]:
    """TLV lists in wire order, repeats and unknown tags included."""
    return st.lists(tlvs(), max_size=MAX_TLVS).map(tuple)


def smgp_pdus(layout: Layout) -> st.SearchStrategy[Any]:
    """Instances of ``layout.cls`` that round-trip through *layout*."""
    fields = {
        name: tlv_lists() if isinstance(codec, Tlvs) else field_strategy(codec)
        for name, codec in layout.fields
    }
    return st.fixed_dictionaries(fields).map(lambda values: layout.cls(**values))
