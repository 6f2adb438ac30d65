"""SMGP 3.0.3 (China Telecom): PDUs, codec, TLVs, MsgID and reports; pure, no Twisted.

The session adapter and Login helpers live in :mod:`.session`, which imports
Twisted and is not imported here.
"""

from smsgw.protocols.smgp.codec import SMGP13, SMGP30, codec_for_version, decode, encode
from smsgw.protocols.smgp.pdus import *  # noqa: F403
from smsgw.protocols.smgp.pdus import __all__ as _pdu_names
from smsgw.protocols.smgp.report import Report, decode_report, encode_report
from smsgw.protocols.smgp.tlv import Tlv, Tlvs

__all__ = [
    "SMGP13",
    "SMGP30",
    "Report",
    "Tlv",
    "Tlvs",
    "codec_for_version",
    "decode",
    "decode_report",
    "encode",
    "encode_report",
    *_pdu_names,
]
