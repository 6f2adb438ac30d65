"""Tests for :mod:`smsgw.protocols.smgp.tlv`: the TLV list codec and its typed helpers."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.errors import DecodeError, EncodeError, TruncatedError
from smsgw.protocols.smgp import codec as c
from smsgw.protocols.smgp import pdus as p
from smsgw.protocols.smgp.constants import Status, Tag
from smsgw.protocols.smgp.tlv import (
    OCTET_TAGS,
    TAG_WIDTHS,
    Tlv,
    Tlvs,
    encode_value,
    get_bytes,
    get_int,
    has_udhi,
    tag_name,
    with_tlv,
    without_tlv,
)
from smsgw.text import MsgFmt, Reassembler, concat_info, split_text
from tests.protocols.smgp import length_off_by_one, tlv_lists

CODEC = Tlvs()


class TlvCodecTests(SynchronousTestCase):
    """The ``Custom`` field codec on its own."""

    @given(tlv_lists())
    def test_round_trip(self, tlvs: tuple[Tlv, ...]) -> None:
        """Any TLV list, unknown tags and repeats included, round-trips in order."""
        data = CODEC.encode(tlvs)
        self.assertIsNone(CODEC.check(tlvs))
        self.assertEqual(len(data), sum(4 + len(t.value) for t in tlvs))
        self.assertEqual(CODEC.decode_at(b"xx" + data, 2, 2 + len(data)), (tlvs, 2 + len(data)))

    def test_empty(self) -> None:
        """No bytes left is an empty list."""
        self.assertEqual(CODEC.decode_at(b"abc", 3, 3), ((), 3))
        self.assertEqual(CODEC.encode(()), b"")
        self.assertEqual(CODEC.default(), ())

    def test_unknown_tags_kept(self) -> None:
        """Tags outside §10 are kept with their raw value, in wire order."""
        data = bytes.fromhex("1234 0002 abcd  0009 0001 03  0000 0000")
        tlvs, _ = CODEC.decode_at(data, 0, len(data))
        self.assertEqual(tlvs, (Tlv(0x1234, b"\xab\xcd"), Tlv(9, b"\x03"), Tlv(0, b"")))
        self.assertEqual(CODEC.encode(tlvs), data)

    @given(st.binary(max_size=64))
    @example(b"\x00\x09\x00\x05\x03")
    @example(b"\x00")
    def test_arbitrary_bytes(self, data: bytes) -> None:
        """Any bytes decode to TLVs that encode back to them, or raise TruncatedError."""
        try:
            tlvs, end = CODEC.decode_at(data, 0, len(data))
        except TruncatedError:
            return
        self.assertEqual(end, len(data))
        self.assertEqual(CODEC.encode(tlvs), data)

    @given(length_off_by_one())
    @example(((Tlv(9, b"\x03"),), 0, 1, bytes.fromhex("0009 0002 03")))
    @example(((Tlv(9, b"\x03\x04"),), 0, -1, bytes.fromhex("0009 0001 0304")))
    def test_length_off_by_one(self, case: tuple[tuple[Tlv, ...], int, int, bytes]) -> None:
        """A Length one off never reads past the end: TruncatedError, or TLVs that give it back."""
        tlvs, index, delta, data = case
        # Bytes after the end (the next frame's, say) must not be read.
        buf = data + b"\xff\xff\xff"
        try:
            decoded, end = CODEC.decode_at(buf, 0, len(data))
        except TruncatedError as e:
            self.assertTrue((e.field or "").startswith("tlvs"), e.field)
            return
        self.assertEqual(end, len(data))
        self.assertEqual(CODEC.encode(decoded), data)
        self.assertNotEqual(decoded, tlvs)
        # The last TLV cannot claim a byte more than the PDU has.
        self.assertFalse(index == len(tlvs) - 1 and delta == 1, decoded)

    def test_last_value_one_over(self) -> None:
        """The last TLV's Length one over what is left names that tag."""
        data = bytes.fromhex("0009 0001 03  000a 0002 01")
        e = self.assertRaises(TruncatedError, CODEC.decode_at, data + b"\x02", 0, len(data))
        self.assertEqual(e.field, "tlvs.PK_NUMBER")
        self.assertIn("says 2 value bytes, 1 left", str(e))

    def test_value_exactly_to_the_end(self) -> None:
        """A value ending exactly at the end of the PDU is whole."""
        data = bytes.fromhex("000a 0002 0102")
        self.assertEqual(
            CODEC.decode_at(data + b"\xff", 0, len(data)), ((Tlv(10, b"\x01\x02"),), 6)
        )

    def test_value_overruns(self) -> None:
        """A Length beyond the PDU names the tag."""
        data = bytes.fromhex("0009 0005 03")
        e = self.assertRaises(TruncatedError, CODEC.decode_at, data, 0, len(data))
        self.assertEqual(e.field, "tlvs.PK_TOTAL")
        self.assertIn("0x0009", str(e))

    def test_header_overruns(self) -> None:
        """A tag without its Length names the tag; a lone byte says so."""
        e = self.assertRaises(TruncatedError, CODEC.decode_at, b"\x12\x34\x00", 0, 3)
        self.assertEqual(e.field, "tlvs.0x1234")
        e = self.assertRaises(TruncatedError, CODEC.decode_at, b"\x12\x34", 0, 2)
        self.assertEqual(e.field, "tlvs.0x1234")
        e = self.assertRaises(TruncatedError, CODEC.decode_at, b"\x00", 0, 1)
        self.assertEqual(e.field, "tlvs")
        self.assertIn("1 bytes left", str(e))

    def test_check(self) -> None:
        """check() explains what cannot be encoded."""
        self.assertIn("tuple", CODEC.check(b"x") or "")
        self.assertIn("Tlv", CODEC.check(("x",)) or "")
        self.assertIn("tag", CODEC.check((Tlv(-1, b""),)) or "")
        self.assertIn("bytes", CODEC.check((Tlv(1, "x"),)) or "")  # type: ignore[arg-type]
        self.assertIn("65535", CODEC.check((Tlv(3, bytes(65536)),)) or "")
        self.assertIsNone(CODEC.check((Tlv(0xFFFF, bytes(65535)),)))
        self.assertRaises(EncodeError, CODEC.encode, (Tlv(1, 5),))  # type: ignore[arg-type]

    def test_longest_value(self) -> None:
        """A value of 65535 bytes, the most a Length can say, encodes and decodes."""
        tlvs = (Tlv(0x4000, b"v" * 0xFFFF),)
        data = CODEC.encode(tlvs)
        self.assertEqual(data[:4], bytes.fromhex("4000 ffff"))
        self.assertEqual(CODEC.decode_at(data, 0, len(data)), (tlvs, 4 + 0xFFFF))
        self.assertRaises(EncodeError, CODEC.encode, (Tlv(0x4000, b"v" * 0x10000),))

    def test_equality(self) -> None:
        """Tlvs codecs compare equal, so layouts holding them do too."""
        self.assertEqual(Tlvs(), Tlvs())
        self.assertEqual(hash(Tlvs()), hash(Tlvs()))
        self.assertEqual(repr(Tlvs()), "Tlvs()")


class InPduTests(SynchronousTestCase):
    """TLVs behind the fixed body of a PDU."""

    def test_overrun_in_submit(self) -> None:
        """A Submit whose TLV overruns PacketLength gets status 10 naming the tag."""
        frame = c.encode(p.Submit(tlvs=(Tlv(Tag.PK_NUMBER, b"\x01"),)), 4)
        bad = frame[:-3] + b"\x00\x09\x00"  # PkNumber now says 9 value bytes; 1 is left
        e = self.assertRaises(DecodeError, c.decode, bad)
        self.assertEqual(e.status, Status.STRUCTURE_ERROR)
        self.assertEqual((e.pdu, e.field), ("Submit", "tlvs.PK_NUMBER"))

    def test_deliver_tlvs(self) -> None:
        """Deliver's TLVs (LinkID, SrcTermType) decode after the Reserve field."""
        tlvs = with_tlv(with_tlv((), Tag.LINK_ID, b"abc"), Tag.SRC_TERM_TYPE, 1)
        deliver = p.Deliver(msg_content=b"hi", tlvs=tlvs)
        frame = c.encode(deliver, 1)
        self.assertEqual(len(frame), 89 + 2 + 24 + 5)
        decoded = c.decode(frame)[1]
        self.assertEqual(get_bytes(decoded.tlvs, Tag.LINK_ID), b"abc")
        self.assertEqual(get_int(decoded.tlvs, Tag.SRC_TERM_TYPE), 1)

    def test_forward_resp_pk(self) -> None:
        """Forward_Resp carries PkTotal and PkNumber."""
        tlvs = with_tlv(with_tlv((), Tag.PK_TOTAL, 2), Tag.PK_NUMBER, 2)
        frame = c.encode(p.ForwardResp(status=0, tlvs=tlvs), 1)
        self.assertEqual(frame[26:], bytes.fromhex("0009000102 000a000102"))
        self.assertEqual(c.decode(frame)[1].tlvs, tlvs)


class HelperTests(SynchronousTestCase):
    """get_int, get_bytes, with_tlv, without_tlv, has_udhi."""

    def test_widths_cover_every_tag(self) -> None:
        """§10 gives a width for every tag; 1-byte ones are the integers."""
        self.assertEqual(set(TAG_WIDTHS), set(Tag))
        for tag in (Tag.TP_UDHI, Tag.PK_TOTAL, Tag.PK_NUMBER, Tag.TP_PID, Tag.NODES_COUNT):
            self.assertEqual(TAG_WIDTHS[tag], 1)
        self.assertEqual(
            (TAG_WIDTHS[Tag.LINK_ID], TAG_WIDTHS[Tag.MSG_SRC], TAG_WIDTHS[Tag.MSERVICE_ID]),
            (20, 8, 21),
        )
        for tag in OCTET_TAGS:
            self.assertNotEqual(TAG_WIDTHS[tag], 1)

    def test_pk_total_example(self) -> None:
        """§10: PkTotal = 3 is ``00 09 00 01 03``."""
        self.assertEqual(CODEC.encode(with_tlv((), Tag.PK_TOTAL, 3)), bytes.fromhex("0009000103"))

    def test_link_id_example(self) -> None:
        """§10: LinkID ``abc`` is padded to 20 bytes."""
        expected = bytes.fromhex("00030014616263") + bytes(17)
        self.assertEqual(CODEC.encode(with_tlv((), Tag.LINK_ID, b"abc")), expected)

    def test_smsgate_link_id(self) -> None:
        """A LinkID sent as text plus one NUL (SMSGate, Length 4) reads back stripped."""
        tlvs = (Tlv(Tag.LINK_ID, b"abc\x00"),)
        self.assertEqual(get_bytes(tlvs, Tag.LINK_ID), b"abc")

    def test_get_int(self) -> None:
        """1-byte integer tags read value[0]; others the whole big-endian value."""
        tlvs = (Tlv(Tag.PK_TOTAL, b"\x03\x00"), Tlv(0x4000, b"\x01\x02"), Tlv(Tag.TP_PID, b""))
        self.assertEqual(get_int(tlvs, Tag.PK_TOTAL), 3)
        self.assertEqual(get_int(tlvs, 0x4000), 0x0102)
        self.assertIsNone(get_int(tlvs, Tag.TP_PID))
        self.assertEqual(get_int(tlvs, Tag.PK_NUMBER, 1), 1)

    def test_get_bytes(self) -> None:
        """Unknown and integer tags give raw bytes; absent tags the default."""
        tlvs = (Tlv(0x4000, b"a\x00"), Tlv(Tag.TP_UDHI, b"\x00"))
        self.assertEqual(get_bytes(tlvs, 0x4000), b"a\x00")
        self.assertEqual(get_bytes(tlvs, Tag.TP_UDHI), b"\x00")
        self.assertIsNone(get_bytes(tlvs, Tag.MSG_SRC))
        self.assertEqual(get_bytes(tlvs, Tag.MSG_SRC, b""), b"")

    def test_with_tlv_replaces_in_place(self) -> None:
        """Setting a present tag keeps its place and drops its repeats."""
        tlvs = (Tlv(1, b"\x00"), Tlv(9, b"\x01"), Tlv(2, b"\x00"), Tlv(9, b"\x05"))
        self.assertEqual(
            with_tlv(tlvs, Tag.PK_TOTAL, 4),
            (Tlv(1, b"\x00"), Tlv(9, b"\x04"), Tlv(2, b"\x00")),
        )
        self.assertEqual(without_tlv(tlvs, 9), (Tlv(1, b"\x00"), Tlv(2, b"\x00")))

    def test_with_tlv_values(self) -> None:
        """Integers take the tag's width; variable octet strings go as given."""
        self.assertEqual(with_tlv((), 0x4000, 258, width=2), (Tlv(0x4000, b"\x01\x02"),))
        self.assertEqual(with_tlv((), 0x4000, b"raw"), (Tlv(0x4000, b"raw"),))
        self.assertEqual(with_tlv((), 0x4000, b"ab", width=4), (Tlv(0x4000, b"ab\x00\x00"),))
        pseudo = with_tlv((), Tag.DEST_TERM_PSEUDO, b"12345")
        self.assertEqual(pseudo, (Tlv(Tag.DEST_TERM_PSEUDO, b"12345"),))
        self.assertEqual(with_tlv((), Tag.MSG_SRC, b"SP01"), (Tlv(16, b"SP01".ljust(8, b"\0")),))

    def test_with_tlv_refuses(self) -> None:
        """Values that do not fit, or have the wrong type, are refused."""
        self.assertRaises(EncodeError, with_tlv, (), Tag.PK_TOTAL, 256)
        self.assertRaises(EncodeError, with_tlv, (), Tag.PK_TOTAL, -1)
        self.assertRaises(EncodeError, with_tlv, (), Tag.LINK_ID, b"x" * 21)
        self.assertRaises(EncodeError, with_tlv, (), Tag.LINK_ID, 5)
        self.assertRaises(EncodeError, with_tlv, (), 0x4000, 5)
        self.assertRaises(EncodeError, with_tlv, (), Tag.TP_UDHI, True)
        self.assertRaises(EncodeError, with_tlv, (), Tag.TP_UDHI, "1")  # type: ignore[arg-type]
        self.assertRaises(EncodeError, encode_value, 0x4000, bytes(65536))

    def test_with_tlv_limits(self) -> None:
        """Values exactly at a limit fit: 255 in one byte, 20 bytes of LinkID, 65535 bytes."""
        self.assertEqual(with_tlv((), Tag.PK_TOTAL, 255), (Tlv(Tag.PK_TOTAL, b"\xff"),))
        self.assertEqual(with_tlv((), 0x4000, 0xFFFF, width=2), (Tlv(0x4000, b"\xff\xff"),))
        self.assertEqual(with_tlv((), Tag.LINK_ID, b"l" * 20), (Tlv(Tag.LINK_ID, b"l" * 20),))
        self.assertEqual(encode_value(0x4000, b"v" * 65535), b"v" * 65535)
        self.assertRaises(EncodeError, with_tlv, (), 0x4000, 0x10000, width=2)

    def test_has_udhi(self) -> None:
        """TP_udhi 1 and 0x40 both mean a UDH; 0 or absent mean none (§13)."""
        self.assertTrue(has_udhi((Tlv(Tag.TP_UDHI, b"\x01"),)))
        self.assertTrue(has_udhi((Tlv(Tag.TP_UDHI, b"\x40"),)))
        self.assertFalse(has_udhi((Tlv(Tag.TP_UDHI, b"\x00"),)))
        self.assertFalse(has_udhi(()))

    def test_tag_name(self) -> None:
        """Known tags by name, others in hex."""
        self.assertEqual(tag_name(0x000C), "SP_DEAL_RESULT")
        self.assertEqual(tag_name(0xBEEF), "0xbeef")


class LongMessageTests(SynchronousTestCase):
    """Long messages: a UDH in MsgContent plus TP_udhi, PkTotal and PkNumber TLVs (§13)."""

    @given(st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), max_size=300))
    @example("中" * 71)
    def test_split_submit_reassemble(self, text: str) -> None:
        """Split text goes out as Submits whose TLVs round-trip and whose UDH reassembles."""
        segments = split_text(text, MsgFmt.UCS2, reference=0x5A)
        reassembler = Reassembler()
        whole = None
        for seg in segments:
            tlvs: tuple[Tlv, ...] = ()
            if seg.tp_udhi:
                tlvs = with_tlv(tlvs, Tag.TP_UDHI, 1)
                tlvs = with_tlv(tlvs, Tag.PK_TOTAL, seg.pk_total)
                tlvs = with_tlv(tlvs, Tag.PK_NUMBER, seg.pk_number)
            submit = p.Submit(
                msg_format=seg.msg_fmt,
                dest_term_ids=(b"13300000000",),
                msg_content=seg.content,
                tlvs=tlvs,
            )
            got = c.decode(c.encode(submit, seg.pk_number))[1]
            self.assertEqual(got, submit)
            self.assertLessEqual(len(got.msg_content), 140)
            udhi = get_int(got.tlvs, Tag.TP_UDHI, 0) or 0
            self.assertEqual(has_udhi(got.tlvs), bool(seg.tp_udhi))
            if seg.tp_udhi:
                info = concat_info(got.msg_content, udhi)
                assert info is not None
                self.assertEqual(info.total, get_int(got.tlvs, Tag.PK_TOTAL))
                self.assertEqual(info.number, get_int(got.tlvs, Tag.PK_NUMBER))
            whole = reassembler.add("k", got.msg_content, udhi, got.msg_format, 0.0) or whole
        assert whole is not None
        self.assertEqual(whole.text, text)
