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
* :func:`split_mt` cuts an MT text into the segments an SMPP channel sends:
  counted in GSM septets (an extension character takes two, and is never cut
  from its escape) for text that goes as data_coding 0, in UCS2 bytes for
  the rest, or unsplit for message_payload.

Pure functions; no Twisted.
"""

from __future__ import annotations

from smsgw.protocols.smpp import pdus as p
from smsgw.protocols.smpp.constants import EsmClass, Tag
from smsgw.protocols.smpp.tlv import get, sar
from smsgw.text.encoding import MsgFmt, TextEncodeError, decode_text
from smsgw.text.gsm0338 import decode_gsm, encode_gsm, gsm_length
from smsgw.text.longsms import IEI_CONCAT_16BIT, MAX_SEGMENTS, Part, split_text

__all__ = [
    "ASCII",
    "GSM",
    "LATIN1",
    "UCS2",
    "body_of",
    "decode_sm",
    "encode_sm",
    "reassembly_input",
    "split_mt",
]

GSM, ASCII, LATIN1, UCS2 = 0, 1, 3, 8

#: Septets of one unsplit data_coding 0 message, and of one segment after
#: an 8-bit concatenation UDH (6 octets, 7 septets on the air: 3GPP 23.040).
GSM_SINGLE, GSM_SEGMENT = 160, 153
#: The most octets of one message_payload (a 16-bit TLV length).
MAX_PAYLOAD = 0xFFFF


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


def split_mt(text: str, reference: int, *, payload: bool = False) -> list[Part]:
    r"""*text* as the segments an SMPP channel stores and sends (Msg_Fmt 0 or 8).

    Text of printable ASCII that GSM 03.38 can write is kept as Msg_Fmt 0
    (ASCII bytes; the client writes it as data_coding 0) and split by its GSM
    length: 160 septets unsplit, else 153 per segment behind an 8-bit
    concatenation UDH, an extension character (``{ } [ ] ~ | ^ \``)
    counting two septets.  Any other text is UCS2 (Msg_Fmt 8), split as
    :func:`smsgw.text.split_text` does.  With *payload* the text is one
    unsplit segment (the client sends it in message_payload).

    :param reference: the concatenation reference (masked to 8 bits).
    :raises ValueError: more than 255 segments, or more than a
        message_payload holds.
    """
    septets = gsm_length(text) if text.isascii() else None
    fmt = MsgFmt.UCS2 if septets is None else MsgFmt.ASCII
    content = text.encode("ascii" if fmt == MsgFmt.ASCII else "utf-16-be")
    if payload:
        if len(content) > MAX_PAYLOAD:
            raise ValueError(f"{len(content)} octets; a message_payload holds {MAX_PAYLOAD}")
        return [Part(pk_total=1, pk_number=1, tp_udhi=False, content=content, msg_fmt=int(fmt))]
    if septets is None:
        return split_text(text, fmt, reference)
    if septets <= GSM_SINGLE:
        return [Part(pk_total=1, pk_number=1, tp_udhi=False, content=content, msg_fmt=0)]
    chunks: list[str] = []
    current: list[str] = []
    used = 0
    for char in text:
        cost = len(encode_gsm(char))
        if used + cost > GSM_SEGMENT:
            chunks.append("".join(current))
            current, used = [], 0
        current.append(char)
        used += cost
    chunks.append("".join(current))
    total = len(chunks)
    if total > MAX_SEGMENTS:
        raise ValueError(f"message needs {total} segments; at most {MAX_SEGMENTS}")
    return [
        Part(
            pk_total=total,
            pk_number=number,
            tp_udhi=True,
            content=bytes((5, 0, 3, reference & 0xFF, total, number)) + chunk.encode("ascii"),
            msg_fmt=0,
        )
        for number, chunk in enumerate(chunks, start=1)
    ]


def mo_input(pdu: p.DeliverSm | p.DataSm) -> tuple[bytes, int, int]:
    """``(content, tp_udhi, msg_fmt)`` of an MO part, as the gateway's reassembler reads it.

    The gateway decodes by CMPP Msg_Fmt (0 ASCII, 8 UCS2, 15 GB), so text in
    data_coding 0 (GSM 03.38) or 3 (Latin-1) is rewritten as UCS2 (Msg_Fmt 8)
    behind its UDH, if any; data_coding 1 (ASCII) is Msg_Fmt 0; any other
    value passes as the Msg_Fmt (8 is UCS2 in both).  The three long forms
    are first made one, as :func:`reassembly_input` does.
    """
    content, tp_udhi = reassembly_input(pdu)
    coding = pdu.data_coding
    if coding == ASCII:
        return content, tp_udhi, int(MsgFmt.ASCII)
    if coding not in (GSM, LATIN1):
        return content, tp_udhi, coding
    header = b""
    if tp_udhi and content and content[0] + 1 <= len(content):
        header = content[: content[0] + 1]
    text = decode_sm(content[len(header) :], coding)
    return header + text.encode("utf-16-be", "surrogatepass"), tp_udhi, int(MsgFmt.UCS2)
