"""Tests for :mod:`smsgw.text.encoding` (CMPP 2.0 notes section 9)."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.text.encoding import (
    MsgFmt,
    TextEncodeError,
    choose_fmt,
    decode_text,
    encode_text,
    gb_codec,
    max_single_length,
)
from tests.strategies import any_text, ascii_text, gb_text, ucs2_text


class MsgFmtTests(SynchronousTestCase):
    """The ``Msg_Fmt`` enumeration."""

    def test_values(self) -> None:
        """The members carry the CMPP 2.0 codes."""
        self.assertEqual(
            {member.name: int(member) for member in MsgFmt},
            {"ASCII": 0, "WRITE_CARD": 3, "BINARY": 4, "UCS2": 8, "GB": 15},
        )

    def test_max_single_length(self) -> None:
        """ASCII allows 159 bytes unsplit, every other format 140."""
        self.assertEqual(max_single_length(MsgFmt.ASCII), 159)
        for fmt in (MsgFmt.WRITE_CARD, MsgFmt.BINARY, MsgFmt.UCS2, MsgFmt.GB, 0xF4):
            self.assertEqual(max_single_length(fmt), 140)


class EncodeTextTests(SynchronousTestCase):
    """:func:`encode_text` per format."""

    @given(ascii_text())
    def test_ascii_round_trip(self, text: str) -> None:
        """ASCII text encodes one byte per character and decodes back."""
        data = encode_text(text, MsgFmt.ASCII)
        self.assertEqual(len(data), len(text))
        self.assertEqual(decode_text(data, MsgFmt.ASCII), text)

    @given(ucs2_text())
    def test_ucs2_round_trip(self, text: str) -> None:
        """UCS2 is UTF-16BE without BOM and decodes back, astral characters included."""
        data = encode_text(text, MsgFmt.UCS2)
        self.assertEqual(data, text.encode("utf-16-be"))
        self.assertEqual(decode_text(data, MsgFmt.UCS2), text)

    @given(gb_text())
    def test_gb_round_trip(self, text: str) -> None:
        """GB text decodes back with gb18030 whichever codec encoded it."""
        self.assertEqual(decode_text(encode_text(text, MsgFmt.GB), MsgFmt.GB), text)

    def test_ucs2_no_bom_and_surrogate_pair(self) -> None:
        """UCS2 has no BOM and an emoji becomes a 4-byte surrogate pair."""
        self.assertEqual(encode_text("中a😀", MsgFmt.UCS2), bytes.fromhex("4e2d0061d83dde00"))

    def test_gb_uses_gbk(self) -> None:
        """Text inside GBK is encoded with gbk."""
        text = "中文短信，你好！abc"
        self.assertEqual(gb_codec(text), "gbk")
        self.assertEqual(encode_text(text, MsgFmt.GB), text.encode("gbk"))
        self.assertEqual(encode_text("中文", MsgFmt.GB), bytes.fromhex("d6d0cec4"))

    def test_gb_falls_back_to_gb18030(self) -> None:
        """A character outside GBK switches the whole text to gb18030."""
        for text in ("中文😀", "价格 €5", "𠀀字"):
            self.assertEqual(gb_codec(text), "gb18030")
            self.assertEqual(encode_text(text, MsgFmt.GB), text.encode("gb18030"))
        self.assertEqual(encode_text("😀", MsgFmt.GB), bytes.fromhex("9439fc36"))

    def test_ascii_refuses_non_ascii(self) -> None:
        """ASCII refuses a non-ASCII character, naming it, its position and the format."""
        exc = self.assertRaises(TextEncodeError, encode_text, "ab中c", MsgFmt.ASCII)
        self.assertIsInstance(exc, ValueError)
        self.assertEqual((exc.text, exc.fmt, exc.position), ("ab中c", 0, 2))
        message = str(exc)
        self.assertIn("'中'", message)
        self.assertIn("U+4E2D", message)
        self.assertIn("position 2", message)
        self.assertIn("Msg_Fmt 0 (ASCII)", message)

    def test_lone_surrogate_refused(self) -> None:
        """A lone surrogate has no encoding in UCS2 or GB."""
        for fmt in (MsgFmt.UCS2, MsgFmt.GB):
            exc = self.assertRaises(TextEncodeError, encode_text, "a\ud800b", fmt)
            self.assertEqual(exc.position, 1)
            self.assertIn("U+D800", str(exc))

    def test_binary_formats_refused(self) -> None:
        """Write-card, binary and unknown formats take bytes, not text."""
        for fmt in (MsgFmt.WRITE_CARD, MsgFmt.BINARY, 1, 0xF4):
            exc = self.assertRaises(TextEncodeError, encode_text, "abc", fmt)
            self.assertIsNone(exc.position)
            self.assertIn(f"Msg_Fmt {int(fmt)}", str(exc))
            self.assertIn("not a text format", str(exc))

    @given(any_text(), st.integers(-1, 256))
    def test_encode_returns_or_refuses(self, text: str, fmt: int) -> None:
        """Any text in any format either encodes or raises TextEncodeError."""
        try:
            data = encode_text(text, fmt)
        except TextEncodeError:
            return
        self.assertIsInstance(data, bytes)
        self.assertEqual(decode_text(data, fmt), text)


class DecodeTextTests(SynchronousTestCase):
    """:func:`decode_text` is total."""

    @given(st.binary(max_size=300), st.integers(0, 255))
    @example(b"\x4e", MsgFmt.UCS2)
    @example(b"\xd8\x3d", MsgFmt.UCS2)
    @example(b"\x81\x30", MsgFmt.GB)
    @example(b"\xff\xff", MsgFmt.GB)
    def test_total_over_octet_formats(self, data: bytes, fmt: int) -> None:
        """Any bytes decode to text under any Msg_Fmt octet value."""
        self.assertIsInstance(decode_text(data, fmt), str)

    @given(st.binary(max_size=50), st.integers())
    def test_total_over_any_int(self, data: bytes, fmt: int) -> None:
        """Any bytes decode to text under any integer, negative or huge."""
        self.assertIsInstance(decode_text(data, fmt), str)

    @given(st.binary(max_size=300), st.sampled_from([0, 3, 4, 0x01, 0x10, 0x13, 0xF0, 0xF4]))
    def test_octet_formats_lossless(self, data: bytes, fmt: int) -> None:
        """ASCII, write-card, binary and 7/8-bit DCS values map byte for byte."""
        self.assertEqual(decode_text(data, fmt).encode("latin-1"), data)

    def test_ucs2_odd_byte_replaced(self) -> None:
        """An odd trailing byte in UCS2 becomes U+FFFD instead of raising."""
        self.assertEqual(decode_text(bytes.fromhex("4e2d4e"), MsgFmt.UCS2), "中\ufffd")

    def test_gb_decodes_with_gb18030(self) -> None:
        """GB decodes GBK bytes and GB18030 four-byte sequences."""
        self.assertEqual(decode_text(bytes.fromhex("d6d0cec49439fc36"), MsgFmt.GB), "中文😀")

    def test_unknown_values_use_bits_3_2(self) -> None:
        """Other values follow smsj: bits 3-2 00/01 octets, 10 UCS2, 11 GB."""
        ucs2 = "中".encode("utf-16-be")
        gb = "中".encode("gbk")
        self.assertEqual(decode_text(ucs2, 0x18), "中")
        self.assertEqual(decode_text(ucs2, 0x08 | 0x30), "中")
        self.assertEqual(decode_text(gb, 0x0C), "中")
        self.assertEqual(decode_text(gb, 0x1C), "中")
        self.assertEqual(decode_text(b"\xe9", 0x10), "\xe9")
        self.assertEqual(decode_text(b"\xe9", 0xF4), "\xe9")


class ChooseFmtTests(SynchronousTestCase):
    """:func:`choose_fmt` picks the format SMSGate would."""

    def test_ascii(self) -> None:
        """Pure ASCII text, and empty text, go as ASCII."""
        self.assertIs(choose_fmt("hello"), MsgFmt.ASCII)
        self.assertIs(choose_fmt(""), MsgFmt.ASCII)
        self.assertIs(choose_fmt("hello", prefer_gb=True), MsgFmt.ASCII)

    def test_non_ascii(self) -> None:
        """Non-ASCII text goes as UCS2, or GB when preferred."""
        self.assertIs(choose_fmt("你好"), MsgFmt.UCS2)
        self.assertIs(choose_fmt("你好", prefer_gb=True), MsgFmt.GB)
        self.assertIs(choose_fmt("你好😀", prefer_gb=True), MsgFmt.GB)

    def test_gb_needs_gb18030(self) -> None:
        """GB is not chosen for text that gb18030 cannot encode."""
        self.assertIs(choose_fmt("é\ud800", prefer_gb=True), MsgFmt.UCS2)

    @given(ucs2_text(), st.booleans())
    def test_chosen_format_encodes(self, text: str, prefer_gb: bool) -> None:
        """The chosen format encodes the text and decodes it back."""
        fmt = choose_fmt(text, prefer_gb=prefer_gb)
        self.assertEqual(decode_text(encode_text(text, fmt), fmt), text)
