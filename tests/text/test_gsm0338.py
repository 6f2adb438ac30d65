"""GSM 03.38 with the extension table (:mod:`smsgw.text.gsm0338`), as data_coding 0."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.text.encoding import TextEncodeError
from smsgw.text.gsm0338 import BASIC, EXTENSION, decode_gsm, encode_gsm, gsm_length, is_gsm

#: Every character with a GSM 03.38 form (ESC itself is not one).
GSM_CHARS = "".join(ch for i, ch in enumerate(BASIC) if i != 0x1B) + "".join(EXTENSION.values())
gsm_text = st.text(alphabet=GSM_CHARS, max_size=200)


class GsmTests(SynchronousTestCase):
    """The default alphabet and the extension table, both ways."""

    def test_known_characters(self) -> None:
        """@ £ ¡ ç € are 0x00 0x01 0x40 0x09 and ESC 0x65, and decode back."""
        self.assertEqual(encode_gsm("@£¡ç€"), b"\x00\x01\x40\x09\x1b\x65")
        self.assertEqual(decode_gsm(b"\x00\x01\x40\x09\x1b\x65"), "@£¡ç€")

    def test_ascii_differences(self) -> None:
        """$ is 0x02, _ is 0x11, @ is 0x00; [ ] { } ~ ^ \\ | are escaped."""
        self.assertEqual(encode_gsm("$_@"), b"\x02\x11\x00")
        self.assertEqual(encode_gsm("[]{}~^\\|"), bytes.fromhex("1b3c1b3e1b281b291b3d1b141b2f1b40"))

    def test_capital_c_cedilla(self) -> None:
        """The ETSI glyph Ç is taken on encode, as 0x09 (decoded as ç)."""
        self.assertEqual(encode_gsm("Ç"), b"\x09")

    def test_not_gsm(self) -> None:
        """A character outside the alphabet is refused with its position."""
        e = self.assertRaises(TextEncodeError, encode_gsm, "ok中")
        self.assertEqual(e.position, 2)
        self.assertFalse(is_gsm("ok中"))
        self.assertIsNone(gsm_length("中"))

    def test_length_counts_escapes(self) -> None:
        """An extension character takes two septets."""
        self.assertEqual(gsm_length("a€"), 3)

    def test_unknown_escape(self) -> None:
        """ESC before a code the extension lacks gives the basic character; a lone ESC a space."""
        self.assertEqual(decode_gsm(b"\x1b\x41"), "A")
        self.assertEqual(decode_gsm(b"a\x1b"), "a\u00a0")
        self.assertEqual(decode_gsm(b"\x80"), "\ufffd")

    @given(gsm_text)
    @example("€" * 80)
    def test_round_trip(self, text: str) -> None:
        """Any GSM text encodes and decodes back, one octet per septet."""
        data = encode_gsm(text)
        self.assertEqual(decode_gsm(data), text.replace("Ç", "ç"))
        self.assertEqual(len(data), gsm_length(text))
        self.assertTrue(all(b < 0x80 for b in data))

    @given(st.binary(max_size=300))
    def test_decode_total(self, data: bytes) -> None:
        """Any bytes decode without raising."""
        self.assertIsInstance(decode_gsm(data), str)
