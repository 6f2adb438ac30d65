"""CMPP 2.0 (and later 3.0): PDUs, codec and helpers; pure, no Twisted."""

from smsgw.protocols.cmpp.codec import (
    CMPP20,
    decode,
    decode_mo_report,
    decode_report,
    encode,
    encode_mo_report,
    encode_report,
)
from smsgw.protocols.cmpp.codec30 import CMPP30, decode30, encode30
from smsgw.protocols.cmpp.pdus import *  # noqa: F403
from smsgw.protocols.cmpp.pdus import __all__ as _pdu_names

__all__ = [
    "CMPP20",
    "CMPP30",
    "decode",
    "decode30",
    "decode_mo_report",
    "decode_report",
    "encode",
    "encode30",
    "encode_mo_report",
    "encode_report",
    *_pdu_names,
]
