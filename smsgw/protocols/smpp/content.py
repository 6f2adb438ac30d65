"""SMPP message content: data_coding <-> text, and the three long-message forms (smpp34.md §5, §8).

* data_coding 0 is GSM 03.38 (:mod:`smsgw.text.gsm0338`), 1 ASCII, 3 Latin-1,
  8 UCS2 (Chinese text uses it); others decode as :func:`smsgw.text.decode_text`
  does with the value taken as a Msg_Fmt (bits 3-2 pick the alphabet).
* A received part is in one of three forms: a UDH in short_message
  (esm_class 0x40, 8- or 16-bit reference, other elements allowed before the
  concatenation element), SAR TLVs, or the whole message in message_payload.
  :func:`reassembly_input` turns each into the ``(content, tp_udhi)`` that
  :class:`smsgw.text.longsms.Reassembler` takes, a SAR part getting a 16-bit
  concatenation UDH, so one reassembler serves all three.

Pure functions; no Twisted.
"""

from __future__ import annotations

from smsgw.protocols.smpp import pdus as p
from smsgw.protocols.smpp.constants import EsmClass, Tag
from smsgw.protocols.smpp.tlv import get, sar
from smsgw.text.encoding import TextEncodeError, decode_text
from smsgw.text.gsm0338 import decode_gsm, encode_gsm
from smsgw.text.longsms import IEI_CONCAT_16BIT

__all__ = [
    "ASCII",
    "GSM",
    "LATIN1",
    "UCS2",
    "body_of",
    "decode_sm",
    "encode_sm",
    "reassembly_input",
]

GSM, ASCII, LATIN1, UCS2 = 0, 1, 3, 8


def decode_sm(data: bytes, data_coding: int) -> str:
    """Message bytes as text, by *data_coding*.  Total: never raises."""
    if data_coding == GSM:
        return decode_gsm(data)
    if data_coding == ASCII:
        return data.decode("ascii", "replace")
    if data_coding == LATIN1:
        return data.decode("latin-1")
    if data_coding == UCS2:
        return data.decode("utf-16-be", "replace")
    return decode_text(data, data_coding)


def encode_sm(text: str, data_coding: int) -> bytes:
    """*text* as message bytes in *data_coding* (0, 1, 3 or 8).

    :raises TextEncodeError: a character has no form in *data_coding*, or
        *data_coding* is not a text coding this gateway writes.
    """
    if data_coding == GSM:
        return encode_gsm(text)
    codec = {ASCII: "ascii", LATIN1: "latin-1", UCS2: "utf-16-be"}.get(data_coding)
    if codec is None:
        raise TextEncodeError(f"data_coding {data_coding} is not a text coding", text,
                              data_coding, None)  # fmt: skip
    try:
        return text.encode(codec)
    except UnicodeEncodeError as e:
        raise TextEncodeError(
            f"{text[e.start]!r} at {e.start} has no form in data_coding {data_coding}",
            text,
            data_coding,
            e.start,
        ) from None


def body_of(pdu: p.DeliverSm | p.DataSm | p.SubmitSm) -> bytes:
    """The message bytes: short_message, else message_payload (§8: never both)."""
    if not isinstance(pdu, p.DataSm) and pdu.short_message:
        return pdu.short_message
    payload = get(pdu.tlvs, Tag.MESSAGE_PAYLOAD)
    return payload if isinstance(payload, bytes) else b""


def reassembly_input(pdu: p.DeliverSm | p.DataSm | p.SubmitSm) -> tuple[bytes, int]:
    """``(content, tp_udhi)`` for :meth:`Reassembler.add`, whatever the part's form.

    A UDH in short_message (esm_class 0x40) is passed as it is; SAR TLVs
    become a 16-bit concatenation UDH before the segment; a message_payload,
    or a short_message without either, is a whole message (tp_udhi 0).
    """
    body = body_of(pdu)
    if pdu.esm_class & EsmClass.UDHI:
        return body, 1
    parts = sar(pdu.tlvs)
    if parts is None:
        return body, 0
    reference, total, number = parts
    udh = bytes([6, IEI_CONCAT_16BIT, 4]) + (reference & 0xFFFF).to_bytes(2, "big")
    return udh + bytes([total & 0xFF, number & 0xFF]) + body, 1
