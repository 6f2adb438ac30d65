"""SGIP 1.2 (China Unicom): PDUs, codec and sequence numbers; pure, no Twisted.

The session adapter lives in :mod:`smsgw.protocols.sgip.session` (it imports Twisted).
"""

from smsgw.protocols.sgip.codec import SGIP12, decode, encode
from smsgw.protocols.sgip.pdus import *  # noqa: F403
from smsgw.protocols.sgip.pdus import __all__ as _pdu_names
from smsgw.protocols.sgip.sequence import (
    SgipSequence,
    format_message_id,
    parse_message_id,
    sequence_time,
)

__all__ = [
    "SGIP12",
    "SgipSequence",
    "decode",
    "encode",
    "format_message_id",
    "parse_message_id",
    "sequence_time",
    *_pdu_names,
]
