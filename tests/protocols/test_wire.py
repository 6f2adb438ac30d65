"""Tests for :mod:`smsgw.protocols.wire`: the field codecs and the layout compiler.

The layouts here are tiny made-up ones, so each test exercises one field
kind; the CMPP tables are covered by ``tests/protocols/cmpp``.
"""

from __future__ import annotations

import struct
from typing import Any

import attrs
from hypothesis import example, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.errors import (
    DecodeError,
    EncodeError,
    FieldValueError,
    TrailingBytesError,
    TruncatedError,
)
from smsgw.protocols.wire import (
    COctets,
    CTime,
    HeaderSpec,
    Layout,
    Octets,
    Raw,
    Repeated,
    Sized,
    Trailing,
    UInt,
    ZeroPadded,
)
from tests.strategies import decoded_form, pdu_strategy

U1, U2, U4, U8 = UInt(1), UInt(2), UInt(4), UInt(8)


@attrs.define
class Ints:
    """Every integer width, unsigned and signed."""

    a: int = 0
    b: int = 0
    c: int = 0
    d: int = 0
    e: int = 0
    f: int = 0


INTS = Layout(
    Ints,
    (
        ("a", U1),
        ("b", U2),
        ("c", U4),
        ("d", U8),
        ("e", UInt(4, signed=True)),
        ("f", UInt(1, signed=True)),
    ),
)


@attrs.define
class Strings:
    """The three fixed-width string kinds."""

    name: bytes = b""
    code: bytes = b""
    key: bytes = b"\x00" * 4


STRINGS = Layout(Strings, (("name", Octets(4)), ("code", ZeroPadded(4)), ("key", Raw(4))))


@attrs.define
class Lists:
    """A repeated field, a sized field and a fixed field after them."""

    head: int = 0
    ids: tuple[bytes, ...] = ()
    body: bytes = b""
    tail: bytes = b""


LISTS = Layout(
    Lists,
    (("head", U1), ("ids", Repeated(Octets(3), U1)), ("body", Sized(U1)), ("tail", Octets(2))),
)


@attrs.define
class Codes:
    """Repeated zero-padded and raw items; a two-byte length."""

    codes: tuple[bytes, ...] = ()
    keys: tuple[bytes, ...] = ()
    blob: bytes = b""


CODES = Layout(
    Codes,
    (
        ("codes", Repeated(ZeroPadded(4), U1)),
        ("keys", Repeated(Raw(2), U2)),
        ("blob", Sized(U2)),
    ),
)


@attrs.define
class Tail:
    """A fixed field then one that peers may omit."""

    a: int = 0
    extra: int = 7


TAIL = Layout(Tail, (("a", U1), ("extra", Trailing(U2))))


@attrs.define
class TailAfterVariable:
    """Variable fields before a trailing octet string: decoded by the slow path when absent."""

    ids: tuple[bytes, ...] = ()
    body: bytes = b""
    n: int = 0
    extra: bytes = b""


TAIL_AFTER_VARIABLE = Layout(
    TailAfterVariable,
    (
        ("ids", Repeated(Octets(2), U1)),
        ("body", Sized(U1)),
        ("n", U2),
        ("extra", Trailing(Octets(3))),
    ),
)


@attrs.define
class OffWire:
    """An attribute the layout does not list."""

    a: int = 0
    note: str = "kept"


OFF_WIRE = Layout(OffWire, (("a", U1),))


@attrs.define
class Empty:
    """No fields at all."""


EMPTY = Layout(Empty, ())


class Utf8String:
    """A custom codec: a 1-byte length then that many UTF-8 bytes, as ``str``."""

    def default(self) -> str:
        return ""

    def check(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return f"expected str, got {type(value).__name__}"
        return None

    def encode(self, value: str) -> bytes:
        data = value.encode("utf-8")
        return bytes((len(data),)) + data

    def decode_at(self, buf: bytes, offset: int, end: int) -> tuple[str, int]:
        if offset >= end:
            raise TruncatedError("no length byte")
        n = buf[offset]
        if end - offset - 1 < n:
            raise TruncatedError(f"{n} bytes do not fit")
        try:
            text = buf[offset + 1 : offset + 1 + n].decode("utf-8")
        except UnicodeDecodeError as e:
            raise FieldValueError(str(e)) from None
        return text, offset + 1 + n


@attrs.define
class Custom:
    """A fixed field then a custom one."""

    a: int = 0
    text: str = ""


CUSTOM = Layout(Custom, (("a", U1), ("text", Utf8String())))


@attrs.define
class Framed:
    """A PDU with a header."""

    a: int = 0
    body: bytes = b""


FRAMED = Layout(
    Framed,
    (("a", U2), ("body", Sized(U1))),
    command_id=0x80000042,
    header=HeaderSpec("I", ("seq",)),
)
SGIP_LIKE = Layout(
    Framed,
    (("a", U2), ("body", Sized(U1))),
    command_id=3,
    header=HeaderSpec("III", ("seq[0]", "seq[1]", "seq[2]")),
)

ALL = (INTS, STRINGS, LISTS, CODES, TAIL, TAIL_AFTER_VARIABLE, OFF_WIRE, EMPTY)


class FieldCodecTests(SynchronousTestCase):
    """Each field kind's bytes on the wire."""

    def test_uint_big_endian(self) -> None:
        """Integers of 1, 2, 4 and 8 bytes are big-endian; signed ones two's complement."""
        value = Ints(1, 0x0203, 0x04050607, 0x08090A0B0C0D0E0F, -2, -128)
        data = INTS.pack(value)
        self.assertEqual(
            data, bytes.fromhex("01 0203 04050607 08090a0b0c0d0e0f fffffffe 80".replace(" ", ""))
        )
        self.assertEqual(INTS.unpack(data), value)

    def test_uint_limits(self) -> None:
        """The largest and smallest value of each width round-trip."""
        for value in (Ints(255, 65535, 2**32 - 1, 2**64 - 1, 2**31 - 1, 127), Ints(e=-(2**31))):
            self.assertEqual(INTS.unpack(INTS.pack(value)), value)

    def test_uint_ranges(self) -> None:
        """UInt reports its range and struct code."""
        self.assertEqual((U1.min_value, U1.max_value, U1.code), (0, 255, "B"))
        signed = UInt(2, signed=True)
        self.assertEqual((signed.min_value, signed.max_value, signed.code), (-32768, 32767, "h"))
        self.assertEqual(U8.code, "Q")

    def test_octets_nul_padded(self) -> None:
        """Octets are left-aligned and right-padded with NULs."""
        self.assertEqual(STRINGS.pack(Strings(name=b"ab"))[:4], b"ab\x00\x00")

    def test_octets_strip_trailing_nuls_only(self) -> None:
        """Decoding Octets strips trailing NULs and keeps inner ones."""
        decoded = STRINGS.unpack(b"a\x00b\x00" + b"0000" + b"kkkk")
        self.assertEqual(decoded.name, b"a\x00b")

    def test_octets_full_width(self) -> None:
        """An Octets value as wide as its field has no terminator."""
        value = Strings(name=b"abcd", code=b"1234", key=b"wxyz")
        data = STRINGS.pack(value)
        self.assertEqual(data, b"abcd1234wxyz")
        self.assertEqual(STRINGS.unpack(data), value)

    def test_zero_padded_left_pads_with_ascii_zero(self) -> None:
        """ZeroPadded right-aligns its value and pads on the left with '0'."""
        self.assertEqual(STRINGS.pack(Strings(code=b"12"))[4:8], b"0012")

    def test_zero_padded_decodes_the_padding(self) -> None:
        """ZeroPadded keeps the '0' padding on decode and strips trailing NULs only."""
        self.assertEqual(STRINGS.unpack(b"\x00" * 4 + b"0012" + b"\x00" * 4).code, b"0012")
        self.assertEqual(STRINGS.unpack(b"\x00" * 4 + b"12\x00\x00" + b"\x00" * 4).code, b"12")

    def test_raw_never_stripped(self) -> None:
        """Raw fields keep their NULs on decode, and a short value is NUL-padded."""
        self.assertEqual(STRINGS.unpack(bytes(12)).key, b"\x00" * 4)
        self.assertEqual(STRINGS.pack(Strings(key=b"k"))[8:], b"k\x00\x00\x00")
        self.assertEqual(STRINGS.unpack(b"\x00" * 8 + b"k\x00\x00\x00").key, b"k\x00\x00\x00")

    def test_raw_default(self) -> None:
        """A Raw field's default is all NULs, an Octets field's empty."""
        self.assertEqual(Raw(3).default(), b"\x00\x00\x00")
        self.assertEqual(Octets(3).default(), b"")

    def test_repeated_wire(self) -> None:
        """Repeated writes the count then each item NUL-padded to its width."""
        value = Lists(head=9, ids=(b"a", b"bc", b"def"), body=b"xy", tail=b"t")
        data = LISTS.pack(value)
        self.assertEqual(data, b"\x09\x03a\x00\x00bc\x00def\x02xyt\x00")
        self.assertEqual(LISTS.unpack(data), value)

    def test_repeated_none_and_one(self) -> None:
        """Zero and one repeated items round-trip (the one-item path is special-cased)."""
        for ids in ((), (b"a",), (b"abc",)):
            value = Lists(ids=ids)
            self.assertEqual(LISTS.unpack(LISTS.pack(value)), value)
        self.assertEqual(LISTS.pack(Lists(ids=(b"a",)))[1:5], b"\x01a\x00\x00")

    def test_repeated_accepts_a_list(self) -> None:
        """A list of items encodes like the tuple and decodes to a tuple."""
        data = LISTS.pack(Lists(ids=[b"a", b"b"]))  # type: ignore[arg-type]
        self.assertEqual(LISTS.unpack(data).ids, (b"a", b"b"))

    def test_repeated_zero_padded_items(self) -> None:
        """Repeated ZeroPadded items are left-padded with '0', Raw items kept whole."""
        value = Codes(codes=(b"1", b"22"), keys=(b"\x00\x01", b"k\x00"), blob=b"z")
        data = CODES.pack(value)
        self.assertEqual(data, b"\x02" + b"0001" + b"0022" + b"\x00\x02\x00\x01k\x00\x00\x01z")
        decoded = CODES.unpack(data)
        self.assertEqual(decoded.codes, (b"0001", b"0022"))
        self.assertEqual(decoded.keys, (b"\x00\x01", b"k\x00"))
        single = CODES.pack(Codes(codes=(b"7",)))
        self.assertEqual(single[:5], b"\x010007")

    def test_sized_wire(self) -> None:
        """Sized writes the length then the bytes, with a 1- or 2-byte length field."""
        self.assertEqual(LISTS.pack(Lists(body=b"hello"))[2:8], b"\x05hello")
        data = CODES.pack(Codes(blob=b"x" * 300))
        self.assertEqual(data[3:5], b"\x01\x2c")
        self.assertEqual(CODES.unpack(data).blob, b"x" * 300)

    def test_trailing_present(self) -> None:
        """A Trailing field is always encoded and decoded when present."""
        data = TAIL.pack(Tail(a=1, extra=0x0203))
        self.assertEqual(data, b"\x01\x02\x03")
        self.assertEqual(TAIL.unpack(data), Tail(a=1, extra=0x0203))

    def test_trailing_absent(self) -> None:
        """A missing Trailing field decodes to the field codec's default (not the attribute's)."""
        self.assertEqual(TAIL.unpack(b"\x01"), Tail(a=1, extra=0))

    def test_trailing_partial_rejected(self) -> None:
        """Part of a Trailing field is neither the field nor its absence."""
        self.assertRaises(TrailingBytesError, TAIL.unpack, b"\x01\x02")

    def test_trailing_after_variable_fields(self) -> None:
        """With variable fields before it, an absent Trailing field still decodes the rest."""
        value = TailAfterVariable(ids=(b"a", b"bc"), body=b"xyz", n=513)
        data = TAIL_AFTER_VARIABLE.pack(value)
        self.assertEqual(data[-3:], b"\x00\x00\x00")
        self.assertEqual(TAIL_AFTER_VARIABLE.unpack(data[:-3]), value)
        full = attrs.evolve(value, extra=b"e")
        self.assertEqual(TAIL_AFTER_VARIABLE.unpack(TAIL_AFTER_VARIABLE.pack(full)), full)

    def test_off_wire_attribute_keeps_default(self) -> None:
        """Attributes the layout does not list are not encoded and decode to their default."""
        self.assertEqual(OFF_WIRE.pack(OffWire(a=3, note="changed")), b"\x03")
        self.assertEqual(OFF_WIRE.unpack(b"\x03"), OffWire(a=3, note="kept"))

    def test_empty_layout(self) -> None:
        """A layout without fields encodes to nothing and decodes only nothing."""
        self.assertEqual(EMPTY.pack(Empty()), b"")
        self.assertEqual(EMPTY.unpack(b""), Empty())
        self.assertRaises(TrailingBytesError, EMPTY.unpack, b"\x00")

    def test_decode_at_offset(self) -> None:
        """The generated decoder reads only ``buf[off:end]``."""
        data = b"junk" + TAIL.pack(Tail(a=5, extra=6)) + b"more"
        self.assertEqual(TAIL.decode(data, 4, 7), Tail(a=5, extra=6))
        self.assertEqual(TAIL.decode(data, 4, 5), Tail(a=5, extra=0))

    def test_fixed_size(self) -> None:
        """fixed_size counts fixed fields, count and length fields, and Trailing fields."""
        self.assertEqual(INTS.fixed_size, 20)
        self.assertEqual(STRINGS.fixed_size, 12)
        self.assertEqual(LISTS.fixed_size, 1 + 1 + 1 + 2)
        self.assertEqual(CODES.fixed_size, 1 + 2 + 2)
        self.assertEqual(TAIL.fixed_size, 3)
        self.assertEqual(EMPTY.fixed_size, 0)

    def test_repr_and_name(self) -> None:
        """A layout is named after its class unless given a name."""
        self.assertEqual(repr(TAIL), "<Layout Tail>")
        self.assertEqual(Layout(Tail, (("a", U1),), name="Other").name, "Other")


class CustomCodecTests(SynchronousTestCase):
    """A custom (variable-width) codec as the last field."""

    def test_round_trip(self) -> None:
        """A custom field is encoded by its codec after the fixed fields."""
        value = Custom(a=1, text="短信")
        data = CUSTOM.pack(value)
        self.assertEqual(data, b"\x01\x06" + "短信".encode())
        self.assertEqual(CUSTOM.unpack(data), value)

    def test_error_names_field(self) -> None:
        """A custom codec's DecodeError gets the layout's PDU name and the field name."""
        for data in (b"\x01", b"\x01\x05ab", b"\x01\x01\xff"):
            e = self.assertRaises(DecodeError, CUSTOM.unpack, data)
            self.assertEqual((e.pdu, e.field), ("Custom", "text"), data)
        e = self.assertRaises(TruncatedError, CUSTOM.unpack, b"")
        self.assertEqual(e.field, "a")

    def test_trailing_bytes(self) -> None:
        """Bytes after the custom field are rejected."""
        e = self.assertRaises(TrailingBytesError, CUSTOM.unpack, b"\x01\x00x")
        self.assertEqual(e.pdu, "Custom")

    def test_encode_error_names_field(self) -> None:
        """A value the custom codec refuses is reported by its check()."""
        e = self.assertRaises(EncodeError, CUSTOM.pack, Custom(a=1, text=b"x"))  # type: ignore[arg-type]
        self.assertEqual(e.field, "text")

    def test_before_other_fields(self) -> None:
        """A self-delimiting custom codec before other fields is read field by field."""
        layout = Layout(Custom, (("text", Utf8String()), ("a", U1)))
        data = layout.pack(Custom(a=7, text="hé"))
        self.assertEqual(data, b"\x03h\xc3\xa9\x07")
        self.assertEqual(layout.unpack(data), Custom(a=7, text="hé"))
        e = self.assertRaises(TruncatedError, layout.unpack, b"\x03h\xc3\xa9")
        self.assertEqual(e.field, "a")


@attrs.define
class CStrings:
    """C-Octet Strings, a time field and a length-prefixed one after them."""

    name: bytes = b""
    when: bytes = b""
    n: int = 0
    body: bytes = b""
    status: int = 0


CSTRINGS = Layout(
    CStrings,
    (("name", COctets(6)), ("when", CTime()), ("n", U2), ("body", Sized(U1))),
)
#: An SMPP-like header: command_status (a PDU attribute), then the sequence.
STATUS_HEADER = HeaderSpec("II", ("seq",), attributes=("status",))
STATUSED = Layout(CStrings, CSTRINGS.fields, command_id=4, header=STATUS_HEADER)


class COctetsTests(SynchronousTestCase):
    """C-Octet Strings (a maximum that counts the NUL) and the 1-or-17-octet time field."""

    def test_round_trip(self) -> None:
        """Each string is its bytes and one NUL; an empty one is a lone NUL."""
        value = CStrings(b"abcde", b"", 258, b"xy")
        data = CSTRINGS.pack(value)
        self.assertEqual(data, b"abcde\x00\x00\x01\x02\x02xy")
        self.assertEqual(CSTRINGS.unpack(data), value)

    def test_max_counts_nul(self) -> None:
        """A C6 field takes 5 characters; 6 are refused naming the field."""
        e = self.assertRaises(EncodeError, CSTRINGS.pack, CStrings(b"abcdef"))
        self.assertEqual(e.field, "name")

    def test_no_nul_within_max(self) -> None:
        """Six octets without a NUL are a field error; fewer, at the end, a truncation."""
        e = self.assertRaises(FieldValueError, CSTRINGS.unpack, b"abcdefg\x00")
        self.assertEqual(e.field, "name")
        e2 = self.assertRaises(TruncatedError, CSTRINGS.unpack, b"abc")
        self.assertEqual(e2.field, "name")

    def test_time_widths(self) -> None:
        """A time is empty or 16 characters on the wire; 12 are read too, 5 are not."""
        when = b"240305060708000+"
        self.assertEqual(CSTRINGS.unpack(CSTRINGS.pack(CStrings(when=when))).when, when)
        self.assertRaises(EncodeError, CSTRINGS.pack, CStrings(when=b"240305060708"))
        data = b"\x00240305060708\x00\x00\x00\x00"
        self.assertEqual(CSTRINGS.unpack(data).when, b"240305060708")
        e = self.assertRaises(FieldValueError, CSTRINGS.unpack, b"\x0024030\x00\x00\x00\x00")
        self.assertEqual(e.field, "when")

    def test_header_attribute(self) -> None:
        """A header field named in HeaderSpec.attributes is written from and read into the PDU."""
        data = STATUSED.encode(CStrings(b"a", status=0x58), 9)
        self.assertEqual(data[:16], struct.pack(">IIII", len(data), 4, 0x58, 9))
        self.assertEqual(STATUSED.decode(data, 16, len(data)).status, 0x58)

    @given(st.builds(CStrings, st.binary(max_size=5).map(lambda b: b.replace(b"\x00", b"1"))))
    def test_round_trip_any(self, value: CStrings) -> None:
        """Any NUL-free name round-trips."""
        self.assertEqual(CSTRINGS.unpack(CSTRINGS.pack(value)), value)


class HeaderTests(SynchronousTestCase):
    """Layouts compiled with a header write Total_Length, Command_Id and the sequence."""

    def test_header_written(self) -> None:
        """The encoder writes the whole length, the command id and the sequence id."""
        data = FRAMED.encode(Framed(a=0x0102, body=b"xyz"), 0xDEADBEEF)
        self.assertEqual(
            data, struct.pack(">IIIHB3s", 18, 0x80000042, 0xDEADBEEF, 0x0102, 3, b"xyz")
        )
        self.assertEqual(FRAMED.decode(data, 12, len(data)), Framed(a=0x0102, body=b"xyz"))

    def test_multi_field_sequence(self) -> None:
        """A sequence spread over several header fields (SGIP) takes a tuple."""
        data = SGIP_LIKE.encode(Framed(a=1), (7, 8, 9))
        self.assertEqual(data, struct.pack(">IIIIIHB", 23, 3, 7, 8, 9, 1, 0))
        self.assertEqual(SGIP_LIKE.header.size if SGIP_LIKE.header else None, 20)

    def test_header_sequence_out_of_range(self) -> None:
        """A sequence id that does not fit its header field is an EncodeError."""
        self.assertRaises(EncodeError, FRAMED.encode, Framed(), 2**32)
        self.assertRaises(EncodeError, FRAMED.encode, Framed(), -1)


class RoundTripTests(SynchronousTestCase):
    """Hypothesis: every layout round-trips values from :func:`pdu_strategy`."""

    @given(st.data())
    def test_round_trip(self, data: st.DataObject) -> None:
        """decode(encode(value)) == value for every test layout."""
        for layout in ALL:
            value = data.draw(pdu_strategy(layout), label=layout.name)
            self.assertEqual(layout.unpack(layout.pack(value)), decoded_form(layout, value))

    @given(pdu_strategy(TAIL_AFTER_VARIABLE))
    @example(TailAfterVariable(ids=(b"a",), body=b"", n=0, extra=b"x"))
    def test_slow_path_agrees(self, value: TailAfterVariable) -> None:
        """Without its Trailing field the slow decoder reads the same values as the fast one."""
        data = TAIL_AFTER_VARIABLE.pack(value)
        self.assertEqual(TAIL_AFTER_VARIABLE.unpack(data), value)
        shorter = TAIL_AFTER_VARIABLE.unpack(data[:-3])
        self.assertEqual(shorter, attrs.evolve(value, extra=b""))

    @given(
        st.sampled_from(ALL[:-1]).flatmap(lambda layout: st.tuples(st.just(layout), st.binary()))
    )
    @example((LISTS, b"\x00\xff"))
    @example((CODES, b"\x00\xff\xff"))
    def test_arbitrary_bytes(self, case: tuple[Layout, bytes]) -> None:
        """Arbitrary bytes decode or raise DecodeError naming the layout; nothing else."""
        layout, data = case
        try:
            layout.unpack(data)
        except DecodeError as e:
            self.assertEqual(e.pdu, layout.name)
        except Exception as e:
            self.fail(f"{layout.name}: {data!r} raised {e!r}")


class TruncationTests(SynchronousTestCase):
    """A short input names the field it ends in."""

    def _field_at(self, spans: list[tuple[str, int]], cut: int) -> str:
        """The first field whose bytes end after *cut*."""
        return next(name for name, end in spans if end > cut)

    def test_fixed_fields(self) -> None:
        """Every cut of a fixed layout names the field it falls in."""
        data = INTS.pack(Ints())
        spans = [("a", 1), ("b", 3), ("c", 7), ("d", 15), ("e", 19), ("f", 20)]
        for cut in range(len(data)):
            e = self.assertRaises(TruncatedError, INTS.unpack, data[:cut])
            self.assertEqual((e.pdu, e.field), ("Ints", self._field_at(spans, cut)), cut)

    def test_variable_fields(self) -> None:
        """Cuts in a count, its items, a length, its bytes or a later field name that field."""
        data = LISTS.pack(Lists(head=1, ids=(b"a", b"b"), body=b"xyz", tail=b"t"))
        # head 0..1, ids count 1..2, ids 2..8, body length 8..9, body 9..12, tail 12..14
        spans = [("head", 1), ("ids", 8), ("body", 12), ("tail", 14)]
        for cut in range(len(data)):
            e = self.assertRaises(TruncatedError, LISTS.unpack, data[:cut])
            self.assertEqual((e.pdu, e.field), ("Lists", self._field_at(spans, cut)), cut)

    def test_count_beyond_bytes(self) -> None:
        """A count or length promising more than there is names its field."""
        e = self.assertRaises(TruncatedError, LISTS.unpack, b"\x00\x09abc")
        self.assertEqual(e.field, "ids")
        e = self.assertRaises(TruncatedError, LISTS.unpack, b"\x00\x00\xffabc")
        self.assertEqual(e.field, "body")

    def test_truncation_is_a_length_error(self) -> None:
        """TruncatedError and TrailingBytesError are DecodeErrors of kind LENGTH."""
        e = self.assertRaises(TruncatedError, TAIL.unpack, b"")
        self.assertIsInstance(e, DecodeError)
        self.assertEqual(e.kind, TrailingBytesError.kind)
        self.assertIn("Tail.a", str(e))


class TrailingBytesTests(SynchronousTestCase):
    """Bytes after the last field are refused."""

    def test_fixed(self) -> None:
        """Extra bytes after a fixed layout raise TrailingBytesError naming the PDU."""
        data = STRINGS.pack(Strings())
        for extra in (b"\x00", b"xyz"):
            e = self.assertRaises(TrailingBytesError, STRINGS.unpack, data + extra)
            self.assertEqual(e.pdu, "Strings")

    def test_variable(self) -> None:
        """Extra bytes after a layout with variable fields are refused too."""
        data = LISTS.pack(Lists(ids=(b"a",), body=b"b"))
        self.assertRaises(TrailingBytesError, LISTS.unpack, data + b"\x00")

    def test_after_trailing_field(self) -> None:
        """Bytes beyond a present Trailing field are refused."""
        self.assertRaises(TrailingBytesError, TAIL.unpack, b"\x01\x02\x03\x04")


class EncodeErrorTests(SynchronousTestCase):
    """The encoder refuses what does not fit, naming the field."""

    def assert_refused(self, layout: Layout, value: object, field: str) -> EncodeError:
        """Encoding *value* raises an EncodeError naming *field* of *layout*."""
        e = self.assertRaises(EncodeError, layout.pack, value)
        self.assertEqual((e.pdu, e.field), (layout.name, field))
        self.assertIsInstance(e, ValueError)
        return e

    def test_too_long_octets(self) -> None:
        """An Octets, ZeroPadded or Raw value longer than its field is refused, not cut."""
        self.assert_refused(STRINGS, Strings(name=b"abcde"), "name")
        self.assert_refused(STRINGS, Strings(code=b"12345"), "code")
        self.assert_refused(STRINGS, Strings(key=b"12345"), "key")

    def test_uint_out_of_range(self) -> None:
        """Integers beyond either end of their field are refused."""
        self.assert_refused(INTS, Ints(a=256), "a")
        self.assert_refused(INTS, Ints(a=-1), "a")
        self.assert_refused(INTS, Ints(b=65536), "b")
        self.assert_refused(INTS, Ints(d=2**64), "d")
        self.assert_refused(INTS, Ints(e=2**31), "e")
        self.assert_refused(INTS, Ints(f=-129), "f")
        self.assert_refused(TAIL, Tail(extra=70000), "extra")

    def test_wrong_type(self) -> None:
        """A str where bytes belong, or a non-int integer, is refused naming the field."""
        e = self.assert_refused(STRINGS, Strings(name="ab"), "name")  # type: ignore[arg-type]
        self.assertIn("expected bytes, got str", str(e))
        self.assert_refused(INTS, Ints(c="1"), "c")  # type: ignore[arg-type]
        self.assert_refused(INTS, Ints(c=1.0), "c")  # type: ignore[arg-type]
        self.assert_refused(LISTS, Lists(body="text"), "body")  # type: ignore[arg-type]
        self.assert_refused(LISTS, Lists(ids=("abc",)), "ids")  # type: ignore[arg-type]
        self.assert_refused(LISTS, Lists(ids=(b"a", "b")), "ids")  # type: ignore[arg-type]
        self.assert_refused(LISTS, Lists(ids=b"abc"), "ids")  # type: ignore[arg-type]
        self.assert_refused(LISTS, Lists(ids=None), "ids")  # type: ignore[arg-type]

    def test_too_many_repeated_items(self) -> None:
        """More items than the count field can hold are refused."""
        self.assert_refused(LISTS, Lists(ids=(b"a",) * 256), "ids")

    def test_too_long_repeated_item(self) -> None:
        """A repeated item wider than its width is refused, alone or among others."""
        self.assert_refused(LISTS, Lists(ids=(b"abcd",)), "ids")
        self.assert_refused(LISTS, Lists(ids=(b"a", b"abcd")), "ids")

    def test_too_long_sized(self) -> None:
        """Content longer than its length field can count is refused."""
        self.assert_refused(LISTS, Lists(body=b"x" * 256), "body")
        self.assert_refused(CODES, Codes(blob=b"x" * 65536), "blob")

    def test_limits_accepted(self) -> None:
        """The largest values that fit are accepted."""
        data = LISTS.pack(Lists(ids=(b"abc",) * 255, body=b"x" * 255))
        self.assertEqual(len(data), 1 + 1 + 255 * 3 + 1 + 255 + 2)

    def test_first_bad_field_named(self) -> None:
        """With several bad fields, the first in wire order is named."""
        self.assert_refused(STRINGS, Strings(name=b"abcde", code=b"12345"), "name")

    def test_wrong_class(self) -> None:
        """Encoding an instance of another class is an EncodeError without a field."""
        e = self.assertRaises(EncodeError, TAIL.pack, Ints())
        self.assertEqual((e.pdu, e.field), ("Tail", None))

    def test_check(self) -> None:
        """Layout.check raises for the first bad field and passes good values."""
        LISTS.check(Lists(ids=(b"a",)))
        e = self.assertRaises(EncodeError, LISTS.check, Lists(tail=b"abc"))
        self.assertEqual(e.field, "tail")
        self.assertIn("Lists.tail", str(e))


class ValidationTests(SynchronousTestCase):
    """Layout refuses tables that cannot describe its class."""

    def test_unknown_attribute(self) -> None:
        """A table naming something that is not an attribute of the class is refused."""
        e = self.assertRaises(TypeError, Layout, Tail, (("a", U1), ("nope", U1)))
        self.assertIn("nope", str(e))

    def test_trailing_not_last(self) -> None:
        """A Trailing field anywhere but last is refused."""
        self.assertRaises(TypeError, Layout, Tail, (("extra", Trailing(U2)), ("a", U1)))

    def test_required_attribute_off_wire(self) -> None:
        """An attribute with no default must be on the wire."""

        @attrs.define
        class Required:
            """An attribute without a default."""

            a: int
            b: int = 0

        self.assertRaises(TypeError, Layout, Required, (("b", U1),))
        layout = Layout(Required, (("a", U1),))
        self.assertEqual(layout.unpack(b"\x05"), Required(a=5))
