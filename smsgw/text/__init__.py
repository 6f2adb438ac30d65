"""Message text: ``Msg_Fmt`` <-> ``str`` and long-message split/reassembly.

Pure code, no Twisted imports. See :mod:`smsgw.text.encoding`
and :mod:`smsgw.text.longsms`.
"""

from __future__ import annotations

from smsgw.text.encoding import (
    MsgFmt,
    TextEncodeError,
    choose_fmt,
    decode_text,
    encode_text,
    gb_codec,
    max_single_length,
)
from smsgw.text.longsms import (
    ConcatInfo,
    Incomplete,
    Part,
    PartLike,
    Reassembled,
    Reassembler,
    UdhElement,
    UdhError,
    concat_info,
    parse_udh,
    split_bytes,
    split_text,
)

__all__ = [
    "ConcatInfo",
    "Incomplete",
    "MsgFmt",
    "Part",
    "PartLike",
    "Reassembled",
    "Reassembler",
    "TextEncodeError",
    "UdhElement",
    "UdhError",
    "choose_fmt",
    "concat_info",
    "decode_text",
    "encode_text",
    "gb_codec",
    "max_single_length",
    "parse_udh",
    "split_bytes",
    "split_text",
]
