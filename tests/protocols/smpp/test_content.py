"""SMPP content (:mod:`smsgw.protocols.smpp.content`): data_coding and long-message forms."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.smpp import pdus as p
from smsgw.protocols.smpp.constants import Tag
from smsgw.protocols.smpp.content import (
    body_of,
    decode_sm,
    encode_sm,
    reassembly_input,
)
from smsgw.protocols.smpp.tlv import put
from smsgw.text.encoding import TextEncodeError
from smsgw.text.longsms import Reassembled, Reassembler


class CodingTests(SynchronousTestCase):
    """data_coding 0 GSM, 1 ASCII, 3 Latin-1, 8 UCS2."""

    def test_gsm(self) -> None:
        """data_coding 0 is GSM 03.38: @ £ ¡ ç € both ways."""
        self.assertEqual(encode_sm("@£¡ç€", 0), b"\x00\x01\x40\x09\x1b\x65")
        self.assertEqual(decode_sm(b"\x00\x01\x40\x09\x1b\x65", 0), "@£¡ç€")

    def test_ucs2_chinese(self) -> None:
        """data_coding 8 is UTF-16BE, as Chinese text travels."""
        self.assertEqual(encode_sm("你好", 8), "你好".encode("utf-16-be"))
        self.assertEqual(decode_sm("你好".encode("utf-16-be"), 8), "你好")

    def test_ascii_and_latin1(self) -> None:
        """1 is ASCII (é refused), 3 is Latin-1 (é taken)."""
        e = self.assertRaises(TextEncodeError, encode_sm, "café", 1)
        self.assertEqual(e.position, 3)
        self.assertEqual(decode_sm(encode_sm("café", 3), 3), "café")

    def test_not_a_text_coding(self) -> None:
        """data_coding 4 (8-bit binary) is not written from text."""
        self.assertRaises(TextEncodeError, encode_sm, "x", 4)

    @given(st.binary(max_size=100), st.integers(0, 255))
    def test_decode_total(self, data: bytes, coding: int) -> None:
        """Any bytes under any data_coding decode without raising."""
        self.assertIsInstance(decode_sm(data, coding), str)


def _deliver(**kwargs: object) -> p.DeliverSm:
    return p.DeliverSm(source_addr=b"8613800138000", destination_addr=b"1234", **kwargs)  # type: ignore[arg-type]


class LongMessageTests(SynchronousTestCase):
    """UDH (8- and 16-bit, other IEs first), SAR and message_payload into one reassembler."""

    def _join(self, parts: list[p.DeliverSm]) -> Reassembled | None:
        r = Reassembler()
        out = None
        for pdu in parts:
            content, udhi = reassembly_input(pdu)
            out = r.add("k", content, udhi, 8, 0.0) or out
        return out

    def test_udh_8bit_with_other_ie_first(self) -> None:
        """A UDH with a port element before the 8-bit concatenation element."""
        udh = lambda n: bytes([11, 5, 4, 0x0B, 0x84, 0x23, 0xF0, 0, 3, 0x42, 2, n])  # noqa: E731
        parts = [
            _deliver(
                esm_class=0x40, data_coding=8, short_message=udh(2) + "界".encode("utf-16-be")
            ),
            _deliver(
                esm_class=0x40, data_coding=8, short_message=udh(1) + "世".encode("utf-16-be")
            ),
        ]
        whole = self._join(parts)
        assert whole is not None
        self.assertEqual((whole.reference, whole.text), (0x42, "世界"))

    def test_udh_16bit(self) -> None:
        """A 16-bit reference UDH (06 08 04 RRRR TT SS)."""
        udh = lambda n: bytes([6, 8, 4, 0x12, 0x34, 2, n])  # noqa: E731
        parts = [
            _deliver(esm_class=0x40, short_message=udh(n) + t)
            for n, t in ((1, b"\x00a"), (2, b"\x00b"))
        ]
        whole = self._join(parts)
        assert whole is not None
        self.assertEqual((whole.reference, whole.payload), (0x1234, b"\x00a\x00b"))

    def test_sar(self) -> None:
        """SAR TLVs without UDH reassemble like a 16-bit UDH."""

        def part(n: int, text: bytes) -> p.DeliverSm:
            tlvs = put(put(put((), Tag.SAR_MSG_REF_NUM, 300), Tag.SAR_TOTAL_SEGMENTS, 2),
                       Tag.SAR_SEGMENT_SEQNUM, n)  # fmt: skip
            return _deliver(short_message=text, tlvs=tlvs)

        whole = self._join([part(2, b"\x00y"), part(1, b"\x00x")])
        assert whole is not None
        self.assertEqual((whole.reference, whole.payload), (300, b"\x00x\x00y"))

    def test_message_payload(self) -> None:
        """A message_payload is a whole message: no UDH, returned at once."""
        pdu = _deliver(tlvs=put((), Tag.MESSAGE_PAYLOAD, b"\x00z" * 200))
        self.assertEqual(body_of(pdu), b"\x00z" * 200)
        self.assertEqual(reassembly_input(pdu), (b"\x00z" * 200, 0))
        whole = self._join([pdu])
        assert whole is not None
        self.assertEqual(whole.total, 1)
