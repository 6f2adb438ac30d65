"""Tests for :mod:`smsgw.sp.numbers`: mobile numbers and carrier segments."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.sp.numbers import (
    DEFAULT_PREFIXES,
    DEFAULT_TABLE,
    Carrier,
    InvalidNumber,
    PrefixTable,
    carrier_of,
    is_international,
    mask_msisdn,
    normalize_msisdn,
    normalize_recipient,
)


def mobile_numbers() -> st.SearchStrategy[str]:
    """Any 11-digit number in a 1[3-9] segment."""
    return st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@st.composite
def written_forms(draw: st.DrawFn, number: str) -> str:
    """``number`` with a country prefix and separators, as people write it."""
    prefix = draw(st.sampled_from(["", "86", "+86", "0086", "+86 ", "86-"]))
    chars: list[str] = []
    for char in number:
        chars.append(draw(st.sampled_from(["", "", " ", "-", "\t"])))
        chars.append(char)
    return prefix + "".join(chars) + draw(st.sampled_from(["", " "]))


class NormalizeTests(SynchronousTestCase):
    """:func:`normalize_msisdn`."""

    def test_accepted_forms(self) -> None:
        """National, 86, +86 and 0086 forms, with spaces and dashes, give 11 digits."""
        for text in (
            "13800138000",
            "8613800138000",
            "+8613800138000",
            "008613800138000",
            "+86 138-0013-8000",
            " 138 0013 8000 ",
            "86-138-0013-8000",
        ):
            self.assertEqual(normalize_msisdn(text), "13800138000", text)

    def test_not_digits(self) -> None:
        """Letters, full-width digits and stray signs are refused as not digits."""
        for text in ("1380013800a", "１３８００１３８０００", "138.0013.8000", "++8613800138000"):
            with self.assertRaises(InvalidNumber) as caught:
                normalize_msisdn(text)
            self.assertIn("not digits", caught.exception.reason)
            self.assertEqual(caught.exception.text, text)

    def test_empty(self) -> None:
        """Empty text, or only separators, has no digits."""
        for text in ("", "  ", "-", "+"):
            with self.assertRaises(InvalidNumber) as caught:
                normalize_msisdn(text)
            self.assertEqual(caught.exception.reason, "no digits")

    def test_wrong_length(self) -> None:
        """Too short, too long, or a bare 86 prefix on a short number: wrong length."""
        for text, length in (
            ("1380013800", 10),
            ("138001380000", 12),
            ("86138001380000", 14),
            ("+861380013800", 10),
            ("13800138000138", 14),
        ):
            with self.assertRaises(InvalidNumber) as caught:
                normalize_msisdn(text)
            self.assertIn(f"got {length}", caught.exception.reason)

    def test_foreign_country_code(self) -> None:
        """A + prefix other than +86 is not a mainland number."""
        with self.assertRaises(InvalidNumber) as caught:
            normalize_msisdn("+85291234567")
        self.assertIn("+86", caught.exception.reason)

    def test_not_mobile_segment(self) -> None:
        """Eleven digits not starting with 13 to 19 (a landline, 12x) are refused."""
        for text in ("01012345678", "12345678901", "21234567890"):
            with self.assertRaises(InvalidNumber) as caught:
                normalize_msisdn(text)
            self.assertIn("13 to 19", caught.exception.reason)

    def test_is_value_error(self) -> None:
        """InvalidNumber is a ValueError whose message quotes the input and the reason."""
        with self.assertRaises(ValueError) as caught:
            normalize_msisdn("12")
        self.assertEqual(
            str(caught.exception),
            "invalid mobile number '12': expected 11 digits after any 86 prefix, got 2",
        )

    @given(
        mobile_numbers().flatmap(lambda number: st.tuples(st.just(number), written_forms(number)))
    )
    def test_any_form_normalises(self, case: tuple[str, str]) -> None:
        """Any 1[3-9] number normalises to itself however it is written."""
        number, text = case
        self.assertEqual(normalize_msisdn(number), number)
        self.assertEqual(normalize_msisdn(text), number)

    @given(st.text(alphabet="0123456789+- 86１a", max_size=20))
    @example("+86")
    @example("8613800138000")
    @example("868613800138000")
    def test_idempotent(self, text: str) -> None:
        """Normalising refuses with InvalidNumber or gives a fixed point."""
        try:
            number = normalize_msisdn(text)
        except InvalidNumber:
            return
        self.assertEqual(normalize_msisdn(number), number)
        self.assertRegex(number, r"\A1[3-9][0-9]{9}\Z")


class RecipientTests(SynchronousTestCase):
    """:func:`normalize_recipient`: mainland numbers as before, others in E.164 with their +."""

    def test_international_forms(self) -> None:
        """+ and 00 forms with separators give + and the digits."""
        for text in ("+447900000001", "00447900000001", "+44 7900-000001", " +44 7900 000001 "):
            self.assertEqual(normalize_recipient(text), "+447900000001", text)
        self.assertTrue(is_international("+447900000001"))
        self.assertFalse(is_international("13800138000"))

    def test_mainland_unchanged(self) -> None:
        """Every mainland form still gives 11 digits, and a bad +86 number its mainland reason."""
        for text in ("13800138000", "+86 138-0013-8000", "008613800138000"):
            self.assertEqual(normalize_recipient(text), "13800138000", text)
        with self.assertRaises(InvalidNumber) as caught:
            normalize_recipient("+8612345")
        self.assertIn("11 digits", caught.exception.reason)

    def test_refused(self) -> None:
        """Too short or too long, a 0 country code, or letters are refused with the reason."""
        for text, reason in (
            ("+4412", "7 to 15 digits"),
            ("+4479000000011234", "7 to 15 digits"),
            ("+0447900000001", "7 to 15 digits"),
            ("+44790000000a", "not digits"),
            ("447900000001", "11 digits"),
        ):
            with self.assertRaises(InvalidNumber, msg=text) as caught:
                normalize_recipient(text)
            self.assertIn(reason, caught.exception.reason, text)

    @given(st.from_regex(r"[1-9][0-9]{6,14}", fullmatch=True).filter(lambda d: d[:2] != "86"))
    def test_idempotent(self, digits: str) -> None:
        """An international number normalises to itself, from either prefix."""
        number = normalize_recipient("00" + digits)
        self.assertEqual(number, "+" + digits)
        self.assertEqual(normalize_recipient(number), number)


class MaskTests(SynchronousTestCase):
    """:func:`mask_msisdn`."""

    def test_mask(self) -> None:
        """The middle four digits of a national number are hidden."""
        self.assertEqual(mask_msisdn("13800138000"), "138****8000")
        self.assertEqual(mask_msisdn("8613800138000"), "861******8000")

    def test_short(self) -> None:
        """Short text is hidden entirely."""
        self.assertEqual(mask_msisdn("1234567"), "*******")


class CarrierTests(SynchronousTestCase):
    """:func:`carrier_of` with the default (2024) table."""

    def test_segments(self) -> None:
        """A number from each listed segment maps to its carrier."""
        expected = {
            Carrier.MOBILE: "134 135 136 137 138 139 147 148 150 151 152 157 158 159 165 172 "
            "178 182 183 184 187 188 195 197 198",
            Carrier.UNICOM: "130 131 132 145 146 155 156 166 167 171 175 176 185 186 196",
            Carrier.TELECOM: "133 149 153 162 173 174 177 180 181 189 190 191 193 199",
        }
        for carrier, segments in expected.items():
            for segment in segments.split():
                number = segment + "00000000"
                self.assertIs(carrier_of(number), carrier, number)

    def test_1349_is_telecom(self) -> None:
        """1340-1348 are China Mobile's, 1349 China Telecom's: the longer prefix wins."""
        for digit in "012345678":
            self.assertIs(carrier_of(f"134{digit}0000000"), Carrier.MOBILE)
        self.assertIs(carrier_of("13490000000"), Carrier.TELECOM)

    def test_virtual_170(self) -> None:
        """Segment 170 goes by its fourth digit to the host network."""
        for digit, carrier in {
            "0": Carrier.TELECOM,
            "1": Carrier.TELECOM,
            "2": Carrier.TELECOM,
            "3": Carrier.MOBILE,
            "4": Carrier.UNICOM,
            "5": Carrier.MOBILE,
            "6": Carrier.MOBILE,
            "7": Carrier.UNICOM,
            "8": Carrier.UNICOM,
            "9": Carrier.UNICOM,
        }.items():
            self.assertIs(carrier_of(f"170{digit}0000000"), carrier, digit)

    def test_unknown_segments(self) -> None:
        """Unallocated segments and China Broadnet's 192 are UNKNOWN."""
        for segment in ("154", "168", "179", "192", "194"):
            self.assertIs(carrier_of(segment + "00000000"), Carrier.UNKNOWN, segment)

    def test_normalises(self) -> None:
        """The number may be given in any accepted form."""
        self.assertIs(carrier_of("+86 189-0000-0000"), Carrier.TELECOM)

    def test_invalid(self) -> None:
        """An invalid number raises InvalidNumber rather than answering UNKNOWN."""
        self.assertRaises(InvalidNumber, carrier_of, "12345")

    def test_default_table_read_only(self) -> None:
        """The default table cannot be changed in place."""
        with self.assertRaises(TypeError):
            DEFAULT_PREFIXES["192"] = Carrier.MOBILE  # type: ignore[index]

    @given(mobile_numbers())
    def test_every_number_has_an_answer(self, number: str) -> None:
        """Every valid number gets a Carrier, matching its longest table prefix."""
        carrier = carrier_of(number)
        prefix = DEFAULT_TABLE.match(number)
        if prefix is None:
            self.assertIs(carrier, Carrier.UNKNOWN)
        else:
            self.assertIs(carrier, DEFAULT_PREFIXES[prefix])
            self.assertFalse(
                any(
                    number.startswith(other) and len(other) > len(prefix)
                    for other in DEFAULT_PREFIXES
                )
            )


class PrefixTableTests(SynchronousTestCase):
    """:class:`PrefixTable` overrides."""

    def test_override_longer(self) -> None:
        """A longer override carves an exception out of a segment."""
        table = PrefixTable({"1380013": Carrier.UNICOM})
        self.assertIs(table.carrier_of("13800138000"), Carrier.UNICOM)
        self.assertIs(table.carrier_of("13800238000"), Carrier.MOBILE)
        self.assertIs(carrier_of("13800138000", table), Carrier.UNICOM)

    def test_override_same_prefix(self) -> None:
        """An override replaces the default entry of the same prefix."""
        table = PrefixTable({"192": "mobile", "199": Carrier.UNKNOWN})
        self.assertIs(table.carrier_of("19200000000"), Carrier.MOBILE)
        self.assertIs(table.carrier_of("19900000000"), Carrier.UNKNOWN)

    def test_carrier_names(self) -> None:
        """Carriers may be given by value in any case, as a config file would."""
        table = PrefixTable({"192": "TELECOM"})
        self.assertIs(table.prefixes["192"], Carrier.TELECOM)

    def test_bad_prefix(self) -> None:
        """A prefix that is not 1 to 11 digits is refused, naming it."""
        for prefix in ("", "13a", "123456789012", "+86"):
            with self.assertRaises(ValueError) as caught:
                PrefixTable({prefix: Carrier.MOBILE})
            self.assertIn(repr(prefix), str(caught.exception))

    def test_bad_carrier(self) -> None:
        """An unknown carrier name is refused, naming the prefix and the choices."""
        with self.assertRaises(ValueError) as caught:
            PrefixTable({"192": "broadnet"})
        self.assertIn("'192'", str(caught.exception))
        self.assertIn("mobile, unicom, telecom, unknown", str(caught.exception))

    def test_custom_base(self) -> None:
        """An empty base gives a table of the overrides only."""
        table = PrefixTable({"13": Carrier.MOBILE}, base={})
        self.assertIs(table.carrier_of("13300000000"), Carrier.MOBILE)
        self.assertIs(table.carrier_of("18900000000"), Carrier.UNKNOWN)
        self.assertEqual(dict(table.prefixes), {"13": Carrier.MOBILE})

    @given(
        st.dictionaries(
            st.from_regex(r"1[3-9][0-9]{0,4}", fullmatch=True),
            st.sampled_from(list(Carrier)),
            max_size=8,
        ),
        mobile_numbers(),
    )
    def test_longest_prefix_wins(self, overrides: dict[str, Carrier], number: str) -> None:
        """The carrier is that of the longest prefix in defaults plus overrides."""
        table = PrefixTable(overrides)
        merged = {**DEFAULT_PREFIXES, **overrides}
        matches = [prefix for prefix in merged if number.startswith(prefix)]
        expected = merged[max(matches, key=len)] if matches else Carrier.UNKNOWN
        self.assertIs(table.carrier_of(number), expected)
