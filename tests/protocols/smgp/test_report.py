"""Tests for :mod:`smsgw.protocols.smgp.report`: the 122-byte status report (§8.1)."""

from __future__ import annotations

import attrs
from hypothesis import example, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.errors import DecodeError, EncodeError
from smsgw.protocols.smgp import codec as c
from smsgw.protocols.smgp import pdus as p
from smsgw.protocols.smgp.constants import REPORT_LENGTH, STATS, Status
from smsgw.protocols.smgp.report import Report, decode_report, encode_report

MSG_ID = bytes.fromhex("01006101161700012345")
REPORT = Report(
    msg_id=MSG_ID,
    submit_date=b"2401161700",
    done_date=b"2401161701",
    stat=b"DELIVRD",
    err=b"000",
    text=b"005hello",
)
#: The same report written by hand, keyword by keyword, at the §8.1 widths.
WIRE = (
    b"id:" + MSG_ID + b" sub:001 dlvrd:001 Submit date:2401161700 done date:2401161701"
    b" stat:DELIVRD err:000 Text:005hello" + bytes(12)
)


def _field(width: int) -> st.SearchStrategy[bytes]:
    """Printable values without spaces (stripped as padding) of at most *width* bytes."""
    alphabet = st.sampled_from(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return st.lists(alphabet, max_size=width).map(bytes)


reports = st.builds(
    Report,
    msg_id=st.binary(min_size=10, max_size=10),
    sub=_field(3),
    dlvrd=_field(3),
    submit_date=_field(10),
    done_date=_field(10),
    stat=st.one_of(st.sampled_from(STATS), _field(7)),
    err=_field(3),
    text=st.binary(max_size=20).map(lambda b: b.rstrip(b"\x00")),
)


class EncodeTests(SynchronousTestCase):
    """encode_report writes 122 bytes at the §8.1 offsets."""

    def test_layout(self) -> None:
        """The keywords sit at offsets 0, 13, 21, 31, 54, 75, 88, 96; 122 bytes in all."""
        data = encode_report(REPORT)
        self.assertEqual(data, WIRE)
        self.assertEqual(len(data), REPORT_LENGTH)
        for offset, keyword in (
            (0, b"id:"),
            (13, b" sub:"),
            (21, b" dlvrd:"),
            (31, b" Submit date:"),
            (54, b" done date:"),
            (75, b" stat:"),
            (88, b" err:"),
            (96, b" Text:"),
        ):
            self.assertEqual(data[offset : offset + len(keyword)], keyword)
        self.assertEqual(data[3:13], MSG_ID)
        self.assertEqual(data[81:88], b"DELIVRD")
        self.assertEqual(data[102:122], b"005hello".ljust(20, b"\x00"))

    def test_refuses_long_fields(self) -> None:
        """A field wider than §8.1 allows is refused, not truncated."""
        for field, value in (("stat", b"DELIVRD!"), ("err", b"0000"), ("text", b"x" * 21)):
            report = attrs.evolve(REPORT, **{field: value})
            e = self.assertRaises(EncodeError, encode_report, report)
            self.assertEqual(e.field, field)

    def test_refuses_bad_msg_id(self) -> None:
        """The id must be exactly 10 bytes."""
        self.assertRaises(EncodeError, encode_report, Report(msg_id=b"123"))
        self.assertRaises(EncodeError, encode_report, Report(stat="DELIVRD"))  # type: ignore[arg-type]

    def test_in_deliver(self) -> None:
        """A report Deliver is 211 bytes (§5) and round-trips."""
        deliver = p.Deliver(is_report=1, msg_content=encode_report(REPORT))
        frame = c.encode(deliver, 1)
        self.assertEqual(len(frame), 211)
        got = c.decode(frame)[1]
        self.assertEqual(decode_report(got.msg_content), REPORT)


#: ``(keyword, attribute, value offset, width)`` of each §8.1 field, for the reference reader.
_AT = (
    (b"id:", "msg_id", 3, 10),
    (b" sub:", "sub", 18, 3),
    (b" dlvrd:", "dlvrd", 28, 3),
    (b" submit date:", "submit_date", 44, 10),
    (b" done date:", "done_date", 65, 10),
    (b" stat:", "stat", 81, 7),
    (b" err:", "err", 93, 3),
    (b" text:", "text", 102, 20),
)


def _by_offset(content: bytes) -> Report | None:
    """The reference reading of a 122-byte report: keywords compared lower-cased, values sliced."""
    lower = content.lower()
    if len(content) != REPORT_LENGTH:
        return None
    if not all(lower.startswith(kw, at - len(kw)) for kw, _, at, _ in _AT):
        return None
    values = {}
    for _, name, at, width in _AT:
        raw = content[at : at + width]
        if name == "text":
            raw = raw.rstrip(b"\x00")
        elif name != "msg_id":
            raw = raw.rstrip(b"\x00 ").lstrip(b" ")
        values[name] = raw
    return Report(**values)


def _recased(data: bytes, flips: list[bool]) -> bytes:
    """*data* with the letters of its keywords upper- or lower-cased by *flips*."""
    out = bytearray(data)
    for (kw, _, at, _), flip in zip(_AT, flips, strict=False):
        start = at - len(kw)
        out[start:at] = kw.upper() if flip else kw
    return bytes(out)


class DecodeTests(SynchronousTestCase):
    """decode_report: by offset for 122 bytes, by keyword otherwise."""

    @given(reports)
    def test_round_trip(self, report: Report) -> None:
        """Any report encodes to 122 bytes and decodes back."""
        data = encode_report(report)
        self.assertEqual(len(data), REPORT_LENGTH)
        self.assertEqual(decode_report(data), report)

    @given(
        st.binary(min_size=REPORT_LENGTH, max_size=REPORT_LENGTH),
        st.lists(st.booleans(), min_size=8, max_size=8),
        st.booleans(),
    )
    def test_fixed_form_as_reference(self, noise: bytes, flips: list[bool], cut: bool) -> None:
        """Any 122 bytes with the keywords in place (any case) read as the offsets say."""
        data = _recased(noise, flips)
        if cut:  # one keyword byte broken: the keyword search, whatever it finds
            data = data[:14] + b"X" + data[15:]
        expected = _by_offset(data)
        try:
            got = decode_report(data)
        except DecodeError:
            self.assertIsNone(expected)
            return
        if expected is not None:
            self.assertEqual(got, expected)

    def test_smsgate_case(self) -> None:
        """SMSGate's ``submit date:`` and ``text:`` parse by offset the same."""
        data = WIRE.replace(b"Submit date", b"submit date").replace(b"Text:", b"text:")
        self.assertEqual(decode_report(data), REPORT)

    def test_keyword_like_id(self) -> None:
        """A 122-byte report whose id holds keyword bytes is still read by offset."""
        report = Report(msg_id=b" sub:stat:", stat=b"UNDELIV", err=b"004")
        self.assertEqual(decode_report(encode_report(report)), report)

    def test_delivered(self) -> None:
        """Only DELIVRD counts as delivered."""
        self.assertTrue(REPORT.delivered)
        self.assertFalse(Report(stat=b"UNDELIV").delivered)

    def test_truncated(self) -> None:
        """A report cut short keeps what it has (keyword search)."""
        got = decode_report(WIRE[:95])
        self.assertEqual(got.msg_id, MSG_ID)
        self.assertEqual(got.stat, b"DELIVRD")
        self.assertEqual(got.err, b"00")
        got = decode_report(WIRE[:100])
        self.assertEqual((got.err, got.text), (b"000", b""))

    def test_longer_text(self) -> None:
        """A report with a longer Text and no padding parses by keyword."""
        data = WIRE[:102] + b"011hello world, more"
        got = decode_report(data + b" and more")
        self.assertEqual(got.text, b"011hello world, more and more")
        self.assertEqual(got.done_date, b"2401161701")

    def test_hex_id(self) -> None:
        """An id written as 20 hex digits (some gateways) is read as the 10 bytes."""
        data = b"id:01006101161700012345 sub:001 dlvrd:001 stat:EXPIRED err:001"
        got = decode_report(data)
        self.assertEqual((got.msg_id, got.stat, got.err), (MSG_ID, b"EXPIRED", b"001"))
        self.assertEqual(got.submit_date, b"")

    def test_id_ending_in_space_bytes(self) -> None:
        """A 10-byte binary id ending in 0x20 keeps its last byte in the fallback."""
        msg_id = MSG_ID[:9] + b" "
        data = b"id:" + msg_id + b" sub:001 stat:DELIVRD"
        self.assertEqual(decode_report(data).msg_id, msg_id)

    def test_missing_keys(self) -> None:
        """Without ``id:`` or ``stat:`` the content is no report: status 10."""
        for data in (b"", WIRE[3:], WIRE[:80], b"id:0123456789 sub:001"):
            e = self.assertRaises(DecodeError, decode_report, data)
            self.assertEqual(e.status, Status.STRUCTURE_ERROR)
            self.assertEqual((e.pdu, e.field), ("Deliver", "msg_content"))

    @given(st.binary(max_size=200))
    @example(WIRE[:-1])
    @example(b"id:stat:")
    def test_arbitrary_bytes(self, data: bytes) -> None:
        """Any bytes give a Report or raise DecodeError."""
        try:
            got = decode_report(data)
        except DecodeError:
            return
        self.assertIsInstance(got, Report)

    @given(reports, st.integers(0, REPORT_LENGTH - 1))
    def test_any_cut(self, report: Report, cut: int) -> None:
        """A report cut anywhere decodes (once ``stat:`` is in) or raises DecodeError."""
        data = encode_report(report)[:cut]
        try:
            got = decode_report(data)
        except DecodeError:
            self.assertLess(cut, 81)
            return
        self.assertEqual(got.msg_id[: max(0, cut - 3)], report.msg_id[: max(0, cut - 3)])
