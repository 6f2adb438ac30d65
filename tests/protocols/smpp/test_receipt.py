"""SMPP receipts (:mod:`smsgw.protocols.smpp.receipt`): the text, message ids, TLVs first."""

from __future__ import annotations

import datetime

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.smpp import pdus as p
from smsgw.protocols.smpp.constants import MessageState, Tag
from smsgw.protocols.smpp.receipt import (
    IdForm,
    KeyCase,
    canonical_id,
    format_receipt_text,
    parse_receipt_date,
    parse_receipt_text,
    receipt_of,
    state_of_stat,
)
from smsgw.protocols.smpp.tlv import put

#: smpp34.md §10.3's text.
TEXT = (
    b"id:0000000001 sub:001 dlvrd:001 submit date:2403050607 done date:2403050608"
    b" stat:DELIVRD err:000 text:Hello"
)
dates = st.datetimes(datetime.datetime(2000, 1, 1), datetime.datetime(2099, 12, 31)).map(
    lambda d: d.replace(microsecond=0)
)


class TextTests(SynchronousTestCase):
    """The Appendix B text as SMSCs really write it."""

    def test_worked_example(self) -> None:
        """smpp34.md §10.3's text gives every field."""
        r = parse_receipt_text(TEXT)
        assert r is not None
        self.assertEqual((r.id, r.sub, r.dlvrd, r.stat, r.err, r.text), ("0000000001", 1, 1,
                         "DELIVRD", "000", "Hello"))  # fmt: skip
        self.assertEqual(r.submit_date, datetime.datetime(2024, 3, 5, 6, 7))
        self.assertEqual(r.state, MessageState.DELIVERED)

    def test_twelve_digit_dates_and_key_case(self) -> None:
        """12-digit dates and keys in any case (``Text:``, ``SUBMIT DATE:``) are read."""
        r = parse_receipt_text(
            "ID:ab12 SUB:001 DLVRD:000 SUBMIT DATE:240305060708 Done Date:240305060809"
            " Stat:UNDELIV Err:034 Text:héllo id:9"
        )
        assert r is not None
        self.assertEqual(r.id, "ab12")
        self.assertEqual(r.done_date, datetime.datetime(2024, 3, 5, 6, 8, 9))
        self.assertEqual((r.state, r.err, r.text), (MessageState.UNDELIVERABLE, "034",
                         "héllo id:9"))  # fmt: skip

    def test_no_id(self) -> None:
        """A text without ``id:`` is not a receipt text."""
        self.assertIsNone(parse_receipt_text(b"hello there, stat:DELIVRD"))

    def test_bad_date(self) -> None:
        """A date that is not 10 or 12 digits, or not a date, is None."""
        self.assertIsNone(parse_receipt_date("2403050"))
        self.assertIsNone(parse_receipt_date("2413050607"))
        self.assertEqual(parse_receipt_date("2403050607"), datetime.datetime(2024, 3, 5, 6, 7))

    def test_stat_words_spelt_out(self) -> None:
        """DELIVERED and UNDELIVERABLE are read like DELIVRD and UNDELIV."""
        self.assertEqual(state_of_stat("delivered"), MessageState.DELIVERED)
        self.assertEqual(state_of_stat("UNDELIVERABLE"), MessageState.UNDELIVERABLE)
        self.assertIsNone(state_of_stat("WHAT"))

    @given(
        st.text("0123456789abcdefABCDEF-", min_size=1, max_size=40),
        st.sampled_from(list(MessageState)),
        dates,
        dates,
        st.integers(0, 999),
        st.text(max_size=30),
        st.sampled_from([10, 12]),
        st.sampled_from(list(KeyCase)),
    )
    def test_format_then_parse(
        self,
        message_id: str,
        state: MessageState,
        submitted: datetime.datetime,
        done: datetime.datetime,
        err: int,
        text: str,
        digits: int,
        case: KeyCase,
    ) -> None:
        """Whatever the date width and key case, a formatted receipt parses back."""
        out = format_receipt_text(message_id, state, submit_date=submitted, done_date=done,
                                  err=err, text=text, date_digits=digits,
                                  key_case=case)  # fmt: skip
        r = parse_receipt_text(out)
        assert r is not None
        self.assertEqual((r.id, r.state, r.err, r.text), (message_id, state, f"{err:03d}",
                         text[:20]))  # fmt: skip
        cut = (lambda d: d) if digits == 12 else (lambda d: d.replace(second=0))
        self.assertEqual((r.submit_date, r.done_date), (cut(submitted), cut(done)))

    @given(st.binary(max_size=300))
    def test_total(self, data: bytes) -> None:
        """Any bytes parse or give None, never an exception."""
        parse_receipt_text(data)


class IdTests(SynchronousTestCase):
    """Message ids normalised per form: hex in the response, decimal in the receipt."""

    def test_hex_against_decimal(self) -> None:
        """``000A`` in hex and ``10`` in decimal are the same message."""
        self.assertEqual(canonical_id("000A", IdForm.HEX), canonical_id("10", IdForm.DECIMAL))
        self.assertEqual(canonical_id("000a", IdForm.HEX), canonical_id("0A", IdForm.HEX))

    def test_leading_zeros(self) -> None:
        """Decimal ids match whatever their leading zeros."""
        self.assertEqual(canonical_id("0000000001", IdForm.DECIMAL), "1")

    def test_text_and_misfits_kept(self) -> None:
        """Text ids, and ids not of their form, are kept as sent (blanks trimmed)."""
        uuid = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
        self.assertEqual(canonical_id(uuid, IdForm.HEX), uuid)
        self.assertEqual(canonical_id(" 0012 ", IdForm.TEXT), "0012")
        self.assertEqual(canonical_id("12x", IdForm.DECIMAL), "12x")

    @given(st.integers(0, 2**64))
    def test_same_number(self, n: int) -> None:
        """Any number written in hex or decimal, with zeros in front, gives one key."""
        self.assertEqual(
            canonical_id(f"00{n:X}", IdForm.HEX), canonical_id(f"0{n}", IdForm.DECIMAL)
        )


class PduTests(SynchronousTestCase):
    """receipt_of: the TLVs preferred to the text."""

    def test_text_only(self) -> None:
        """A receipt with only text gives its id, state and error."""
        r = receipt_of(p.DeliverSm(esm_class=4, short_message=TEXT))
        assert r is not None
        self.assertEqual((r.message_id, r.state, r.error), ("0000000001", 2, 0))

    def test_tlvs_preferred(self) -> None:
        """receipted_message_id, message_state and network_error_code win over the text."""
        tlvs = put((), Tag.RECEIPTED_MESSAGE_ID, b"77")
        tlvs = put(tlvs, Tag.MESSAGE_STATE, MessageState.EXPIRED)
        tlvs = put(tlvs, Tag.NETWORK_ERROR_CODE, b"\x03\x00\x0b")
        r = receipt_of(p.DeliverSm(esm_class=4, short_message=TEXT, tlvs=tlvs))
        assert r is not None
        self.assertEqual((r.message_id, r.state, r.error), ("77", MessageState.EXPIRED, 11))

    def test_tlvs_only(self) -> None:
        """A receipt with an empty short_message and only TLVs is read (MavoCz/smscsim#4)."""
        tlvs = put(put((), Tag.RECEIPTED_MESSAGE_ID, b"5"), Tag.MESSAGE_STATE, 8)
        r = receipt_of(p.DeliverSm(esm_class=4, tlvs=tlvs))
        assert r is not None
        self.assertEqual((r.message_id, r.state, r.text), ("5", MessageState.REJECTED, None))

    def test_not_a_receipt(self) -> None:
        """An MO (esm_class 0), or a receipt without any id, gives None."""
        self.assertIsNone(receipt_of(p.DeliverSm(short_message=TEXT)))
        self.assertIsNone(receipt_of(p.DeliverSm(esm_class=4, short_message=b"stat:DELIVRD")))

    def test_intermediate_and_data_sm(self) -> None:
        """An intermediate notification in a data_sm's message_payload is read as one."""
        tlvs = put((), Tag.MESSAGE_PAYLOAD, TEXT.replace(b"DELIVRD", b"ENROUTE"))
        r = receipt_of(p.DataSm(esm_class=0x20, tlvs=tlvs))
        assert r is not None
        self.assertTrue(r.intermediate)
        self.assertEqual(r.state, MessageState.ENROUTE)
