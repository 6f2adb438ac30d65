"""Tests for the optional C accelerator :mod:`smsgw.protocols._wire`.

The generated Python functions of :mod:`smsgw.protocols.wire` are the
reference.  Every test here builds the C objects itself, on top of a
reference codec built with the accelerator off, so it checks the C code
whether or not ``SMSGW_PURE_PYTHON`` is set; the installed codecs are
compared too.  "Strict" C objects have fallbacks that fail the test: they
show that the C code really handles valid PDUs and frames itself.
"""

from __future__ import annotations

import enum
import gc
import importlib
import os
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols import cmpp, sgip, smgp, wire
from smsgw.protocols.cmpp import codec as cmpp_codec
from smsgw.protocols.codec import Header, ProtocolCodec
from smsgw.protocols.sgip import codec as sgip_codec
from smsgw.protocols.smpp import pdus as smpp_pdus
from smsgw.protocols.smpp.codec import SMPP34
from smsgw.protocols.tlv import Tlv
from smsgw.protocols.wire import COctets, CTime, Layout, Octets, Repeated, Sized, Trailing, UInt
from tests.protocols import test_wire
from tests.strategies import pdu_strategy, sequence_strategy

_wire: Any
try:
    _wire = importlib.import_module("smsgw.protocols._wire")
except ImportError:  # not built
    _wire = None

SKIP = (
    "the C accelerator smsgw.protocols._wire is not built "
    "(no C compiler or Python headers when the package was installed)"
    if _wire is None
    else None
)

CODECS: tuple[ProtocolCodec, ...] = (
    cmpp.CMPP20,
    cmpp.CMPP30,
    sgip.SGIP12,
    smgp.SMGP30,
    smgp.SMGP13,
    SMPP34,
)

#: Stand-alone layouts: header-less records, and the made-up ones of test_wire.
LAYOUTS: tuple[Layout, ...] = (
    cmpp_codec._REPORT_20,
    cmpp_codec._REPORT_30,
    cmpp_codec._MO_REPORT,
    sgip_codec.TRACE_NODE_LAYOUT,
    sgip_codec.ROUTE_ENTRY_LAYOUT,
    *test_wire.ALL,
    test_wire.FRAMED,
    test_wire.SGIP_LIKE,
    test_wire.CSTRINGS,
    test_wire.STATUSED,
)


def _seq(layout: Layout) -> Any:
    """A sequence id for *layout*'s header (``None`` without one)."""
    if layout.header is None:
        return None
    return 1 if len(layout.header.sequence_exprs) == 1 else (1, 2, 3)


class FellBack(AssertionError):
    """A strict C object handed a valid input to Python."""


def _forbidden(*args: Any, **kwargs: Any) -> Any:
    raise FellBack(f"the C code fell back to Python for {args!r}")


@contextmanager
def _pure() -> Iterator[None]:
    """Build layouts and codecs without the accelerator, as the reference."""
    saved = wire._accel
    wire._accel = None
    try:
        yield
    finally:
        wire._accel = saved


def _pure_layout(layout: Layout) -> Layout:
    with _pure():
        return Layout(
            layout.cls,
            layout.fields,
            command_id=layout.command_id,
            header=layout.header,
            name=layout.name,
        )


def _pure_codec(codec: ProtocolCodec) -> ProtocolCodec:
    if type(codec) is not ProtocolCodec:
        # A protocol's own codec class (SMPP's: body-less responses) is its reference.
        with _pure():
            return type(codec)()
    table = [(codec.command_id(lay.cls), lay.cls, lay.fields) for lay in codec.layouts.values()]
    with _pure():
        return ProtocolCodec(codec.name, codec.header, table, codec.statuses, codec.max_length)


def _plain_fields(layout: Layout) -> bool:
    plain = UInt | Octets | Repeated | Sized | Trailing | COctets
    return all(isinstance(codec, plain) for _, codec in layout.fields)


class Accelerated:
    """The reference and the C objects for one codec."""

    def __init__(self, codec: ProtocolCodec) -> None:
        self.installed = codec
        self.ref = ref = _pure_codec(codec)
        #: Layouts without custom field codecs (TLVs, records): those the C
        #: code runs and :func:`pdu_strategy` can draw.  Frames of the others
        #: go to Python whole, which the arbitrary-bytes tests cover.
        self.layouts = sorted(
            (lay for lay in ref.layouts.values() if _plain_fields(lay)), key=lambda lay: lay.name
        )
        self.programs = {lay.cls: wire._program(lay, _wire) for lay in self.layouts}
        self.strict_programs = {
            lay.cls: wire._program(lay, _wire, py_encode=_forbidden, py_decode=_forbidden)
            for lay in self.layouts
        }
        self.c = self._codec(self.programs, ref.py_encode, ref.py_decode)
        self.strict = self._codec(self.strict_programs, _forbidden, _forbidden)

    def _codec(self, programs: dict[type, Any], enc: Any, dec: Any) -> Any:
        progs = [p for p in programs.values() if p is not None]
        ref = self.ref
        c = wire.accelerate_codec(ref.header, Header, progs, ref.max_length, enc, dec, _wire)
        assert c is not None
        return c


ACCEL = {codec.name: Accelerated(codec) for codec in CODECS} if _wire is not None else {}
PURE_LAYOUTS = [_pure_layout(layout) for layout in LAYOUTS]


def _fingerprint(value: Any) -> Any:
    """*value* with every type spelled out, down to the fields of attrs instances."""
    if attrs.has(type(value)):
        fields = tuple(
            (a.name, _fingerprint(getattr(value, a.name, "<unset>")))
            for a in attrs.fields(type(value))
        )
        return (type(value), gc.is_tracked(value), fields)
    if isinstance(value, tuple | list):
        return (type(value), tuple(_fingerprint(v) for v in value))
    return (type(value), value)


def _outcome(fn: Callable[..., Any], *args: Any) -> Any:
    """What calling *fn* gives: the result's fingerprint, or the exception's particulars."""
    try:
        result = fn(*args)
    except Exception as e:
        return (
            "raised",
            type(e),
            str(e),
            getattr(e, "pdu", None),
            getattr(e, "field", None),
            getattr(e, "status", None),
            getattr(e, "command_id", None),
            _fingerprint(getattr(e, "sequence_id", None)),
            type(e.__cause__),
        )
    return ("returned", _fingerprint(result))


class _Color(enum.IntEnum):
    RED = 1


class _Bytes(bytes):
    pass


def _near_misses(codec: Any) -> st.SearchStrategy[Any]:
    """Values just outside (or just inside) what *codec* takes."""
    if isinstance(codec, Trailing):
        codec = codec.field
    if isinstance(codec, UInt):
        lo, hi = codec.min_value, codec.max_value
        return st.sampled_from(
            [lo - 1, hi + 1, lo, hi, True, False, _Color.RED, 2**64, -(2**63) - 1, 1.0]
        )
    if isinstance(codec, Octets):
        n = codec.size
        return st.sampled_from(
            [b"x" * (n + 1), b"1" * n, b"", bytearray(b"1"), _Bytes(b"1"), "1", memoryview(b"1")]
        )
    if isinstance(codec, COctets):
        n = codec.max
        return st.sampled_from(
            [
                b"x" * n,
                b"1" * (n - 1),
                b"",
                b"1\x002",
                b"1" * 12,
                bytearray(b"1"),
                _Bytes(b"1"),
                "1",
            ]
            + ([b"1" * 16, b"1" * 15] if isinstance(codec, CTime) else [])
        )
    if isinstance(codec, Repeated):
        w, most = codec.item.size, codec.count.max_value
        return st.sampled_from(
            [
                (b"1",) * (most + 1),
                (b"1",) * min(most, 300),
                [b"1", b"22"],
                (b"x" * (w + 1),),
                (b"1", b"x" * (w + 1)),
                ("1",),
                (None,),
                (_Bytes(b"1"),),
                (bytearray(b"1"),),
                [],
                b"1",
                iter([b"1"]),
            ]
        )
    if isinstance(codec, Sized):
        most = codec.length.max_value
        return st.sampled_from(
            [b"x" * (most + 1) if most < 70000 else b"", b"x" * min(most, 300), bytearray(b"x")]
        )
    return st.nothing()


_JUNK = st.one_of(
    st.none(),
    st.text(max_size=3),
    st.floats(allow_nan=False),
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.binary(max_size=30),
    st.lists(st.binary(max_size=25), max_size=3),
    st.tuples(st.integers()),
)

_BAD_SEQUENCES = st.one_of(
    st.none(),
    st.integers(-(2**40), 2**40),
    st.booleans(),
    st.text(max_size=2),
    st.floats(allow_nan=False),
    st.lists(st.integers(-1, 2**33), max_size=4),
    st.lists(st.integers(-1, 2**33), max_size=4).map(tuple),
    st.just(_Color.RED),
)


@st.composite
def _bad_pdus(draw: st.DrawFn, layout: Layout) -> Any:
    """A valid PDU of *layout* with one wire field set to a doubtful value."""
    pdu = draw(pdu_strategy(layout))
    if not layout.fields:
        return pdu
    name, codec = draw(st.sampled_from(layout.fields))
    setattr(pdu, name, draw(st.one_of(_near_misses(codec), _JUNK)))
    return pdu


@st.composite
def _mutated(draw: st.DrawFn, frame: bytes) -> bytes:
    """*frame* truncated, extended or with bytes overwritten; its length field often fixed."""
    data = bytearray(frame)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "extend", "overwrite", "overwrite"]))
        if kind == "truncate":
            del data[draw(st.integers(0, len(data))) :]
        elif kind == "extend":
            data += draw(st.binary(min_size=1, max_size=30))
        elif data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    if len(data) >= 4 and draw(st.booleans()):
        data[:4] = len(data).to_bytes(4, "big")
    return bytes(data)


def _codec_tests(the_codec: ProtocolCodec, name: str) -> type[SynchronousTestCase]:
    """The tests for one protocol codec: a new class (and new test functions) per codec.

    A factory rather than a mixin, because hypothesis refuses one test
    function run by several classes (``HealthCheck.differing_executors``).
    """

    class CodecTests(SynchronousTestCase):
        skip = SKIP
        codec = the_codec

        @property
        def accel(self) -> Accelerated:
            return ACCEL[self.codec.name]

        @settings(max_examples=25)
        @given(st.data())
        def test_encode_same_bytes(self, data: st.DataObject) -> None:
            """Every PDU class: C encode gives Python's bytes; the strict C never falls back."""
            a = self.accel
            for layout in a.layouts:
                pdu = data.draw(pdu_strategy(layout), label=layout.name)
                seq = data.draw(sequence_strategy(a.ref.header), label="seq")
                expected = a.ref.encode(pdu, seq)
                self.assertEqual(layout.py_encode(pdu, seq), expected)
                self.assertEqual(a.c.encode(pdu, seq), expected)
                self.assertEqual(self.codec.encode(pdu, seq), expected)
                program = a.programs[layout.cls]
                if program is not None:
                    self.assertEqual(program.encode(pdu, seq), expected)
                    self.assertEqual(a.strict_programs[layout.cls].encode(pdu, seq), expected)
                    self.assertEqual(a.strict.encode(pdu, seq), expected)

        @settings(max_examples=25)
        @given(st.data())
        def test_decode_same_objects(self, data: st.DataObject) -> None:
            """Every PDU class: C decode builds objects identical to Python's, types and all."""
            a = self.accel
            for layout in a.layouts:
                pdu = data.draw(pdu_strategy(layout), label=layout.name)
                seq = data.draw(sequence_strategy(a.ref.header), label="seq")
                frame = a.ref.encode(pdu, seq)
                expected = _outcome(a.ref.decode, frame)
                self.assertEqual(expected[0], "returned")
                self.assertEqual(_outcome(a.c.decode, frame), expected)
                self.assertEqual(_outcome(self.codec.decode, frame), expected)
                body = (frame, a.ref.header_size, len(frame))
                program = a.programs[layout.cls]
                if program is not None:
                    self.assertEqual(
                        _outcome(program.decode, *body), _outcome(layout.decode, *body)
                    )
                    self.assertEqual(_outcome(a.strict.decode, frame), expected)
                    strict = a.strict_programs[layout.cls]
                    self.assertEqual(_outcome(strict.decode, *body), _outcome(layout.decode, *body))

        @given(st.data())
        def test_mutated_frames(self, data: st.DataObject) -> None:
            """Truncated, extended, overwritten frames: the same PDU or the same DecodeError."""
            a = self.accel
            layout = data.draw(st.sampled_from(a.layouts), label="layout")
            pdu = data.draw(pdu_strategy(layout), label="pdu")
            frame = a.ref.encode(pdu, data.draw(sequence_strategy(a.ref.header), label="seq"))
            frame = data.draw(_mutated(frame), label="mutated")
            expected = _outcome(a.ref.decode, frame)
            self.assertEqual(_outcome(a.c.decode, frame), expected)
            self.assertEqual(_outcome(self.codec.decode, frame), expected)
            if len(frame) >= a.ref.header_size:
                target = a.ref.by_command.get(int.from_bytes(frame[4:8], "big"))
                program = a.programs.get(target.cls) if target is not None else None
                if target is not None and program is not None:
                    args = (frame, a.ref.header_size, len(frame))
                    got = _outcome(program.decode, *args)
                    self.assertEqual(got, _outcome(target.decode, *args))

        @given(st.binary(max_size=200))
        def test_arbitrary_frames(self, frame: bytes) -> None:
            """Arbitrary bytes: the C codec answers as the Python one."""
            a = self.accel
            self.assertEqual(_outcome(a.c.decode, frame), _outcome(a.ref.decode, frame))

        @given(st.data())
        def test_bad_values(self, data: st.DataObject) -> None:
            """Doubtful field values: the same bytes or the same EncodeError, same field."""
            a = self.accel
            layout = data.draw(st.sampled_from(a.layouts), label="layout")
            pdu = data.draw(_bad_pdus(layout), label="pdu")
            seq = data.draw(sequence_strategy(a.ref.header), label="seq")
            expected = _outcome(a.ref.encode, pdu, seq)
            self.assertEqual(_outcome(a.c.encode, pdu, seq), expected)
            self.assertEqual(_outcome(self.codec.encode, pdu, seq), expected)
            program = a.programs[layout.cls]
            if program is not None:
                self.assertEqual(
                    _outcome(program.encode, pdu, seq), _outcome(layout.encode, pdu, seq)
                )

        @given(st.data())
        def test_bad_sequences(self, data: st.DataObject) -> None:
            """Doubtful sequence ids: the same bytes or the same EncodeError."""
            a = self.accel
            layout = data.draw(st.sampled_from(a.layouts), label="layout")
            pdu = data.draw(pdu_strategy(layout), label="pdu")
            seq = data.draw(_BAD_SEQUENCES, label="seq")
            expected = _outcome(a.ref.encode, pdu, seq)
            self.assertEqual(_outcome(a.c.encode, pdu, seq), expected)
            self.assertEqual(_outcome(self.codec.encode, pdu, seq), expected)

        def test_unset_attribute_and_wrong_class(self) -> None:
            """An unset slot, a PDU of another class, other argument shapes: as Python."""
            a = self.accel
            for layout in a.layouts:
                if not layout.fields:
                    continue
                pdu = layout.cls(**{name: codec.default() for name, codec in layout.fields})
                delattr(pdu, layout.fields[0][0])
                self.assertEqual(_outcome(a.c.encode, pdu, 1), _outcome(a.ref.encode, pdu, 1))
            for args in [(object(), 1), (None, 1), (), (b"",), (1, 2, 3)]:
                self.assertEqual(_outcome(a.c.encode, *args), _outcome(a.ref.encode, *args))
            for args in [(), (b"", 1), (bytearray(12),), (memoryview(b"\0" * 12),), (None,)]:
                self.assertEqual(_outcome(a.c.decode, *args), _outcome(a.ref.decode, *args))

    CodecTests.__name__ = CodecTests.__qualname__ = name
    CodecTests.__doc__ = f"The C accelerator against the Python codec: {the_codec.name}."
    return CodecTests


CMPP20Tests = _codec_tests(cmpp.CMPP20, "CMPP20Tests")
CMPP30Tests = _codec_tests(cmpp.CMPP30, "CMPP30Tests")
SGIPTests = _codec_tests(sgip.SGIP12, "SGIPTests")
SMGP30Tests = _codec_tests(smgp.SMGP30, "SMGP30Tests")
SMGP13Tests = _codec_tests(smgp.SMGP13, "SMGP13Tests")
SMPP34Tests = _codec_tests(SMPP34, "SMPP34Tests")


class SmppTests(SynchronousTestCase):
    """SMPP's header attribute (command_status) and time fields in C, against Python."""

    skip = SKIP

    @given(st.data())
    def test_command_status(self, data: st.DataObject) -> None:
        """Any command_status: the program writes and reads it as the Python code does."""
        a = ACCEL[SMPP34.name]
        layout = data.draw(st.sampled_from([lay for lay in a.layouts if a.programs[lay.cls]]))
        pdu = data.draw(pdu_strategy(layout), label="pdu")
        pdu.command_status = data.draw(st.integers(0, 2**32 - 1), label="status")
        seq = data.draw(st.integers(0, 2**32 - 1), label="seq")
        frame = layout.py_encode(pdu, seq)
        self.assertEqual(a.strict_programs[layout.cls].encode(pdu, seq), frame)
        body = (frame, 16, len(frame))
        strict = a.strict_programs[layout.cls]
        self.assertEqual(_outcome(strict.decode, *body), _outcome(layout.py_decode, *body))
        pdu.command_status = data.draw(_near_misses(UInt(4)), label="bad status")
        self.assertEqual(
            _outcome(a.programs[layout.cls].encode, pdu, seq), _outcome(layout.py_encode, pdu, seq)
        )

    def test_twelve_character_time_goes_to_python(self) -> None:
        """A 12-character final_date is not C's to read: Python reads it."""
        a = ACCEL[SMPP34.name]
        frame = bytes.fromhex("0000002080000003000000000000000734320032343033303530363037303800")
        frame = frame[:-1] + b"\x00\x02\x00"
        frame = len(frame).to_bytes(4, "big") + frame[4:]
        self.assertRaises(FellBack, a.strict.decode, frame)
        self.assertEqual(a.c.decode(frame)[1].final_date, b"240305060708")

    def test_refusal_without_body(self) -> None:
        """The installed codec still sends a bare refusal when accelerated."""
        frame = SMPP34.encode(smpp_pdus.QuerySmResp(command_status=0x67), 4)
        self.assertEqual(len(frame), 16)


def _tlv_layouts() -> list[tuple[ProtocolCodec, Layout]]:
    """SMGP's layouts that end in the TLV list (Submit, Deliver, Forward, Forward_Resp)."""
    return [
        (codec, layout)
        for codec in (smgp.SMGP30, smgp.SMGP13)
        for layout in sorted(ACCEL[codec.name].ref.layouts.values(), key=lambda lay: lay.name)
        if layout.fields and layout.fields[-1][0] == "tlvs"
    ]


_TLV_LISTS = st.one_of(
    st.lists(
        st.builds(Tlv, st.integers(0, 0xFFFF), st.binary(max_size=8)), min_size=1, max_size=3
    ).map(tuple),
    st.sampled_from([(), [], (Tlv(0x0002, b"\x01"),)]),
)


class AbsentListTests(SynchronousTestCase):
    """A trailing list in C (SMGP's TLVs): taken when absent, Python's when present."""

    skip = SKIP

    def test_installed_layouts_accelerated(self) -> None:
        """SMGP's Submit and Deliver get a C program although they end in TLVs."""
        for codec, layout in _tlv_layouts():
            self.assertIsNotNone(wire._program(layout, _wire), f"{codec.name} {layout.name}")
        if wire.ACCELERATED:
            self.assertTrue(smgp.SMGP30.layouts[smgp.Submit].accelerated)
            self.assertTrue(smgp.SMGP30.layouts[smgp.Deliver].accelerated)

    @given(st.data())
    def test_same_as_python(self, data: st.DataObject) -> None:
        """Any TLVs or none: Python's bytes and objects; the strict C takes only those without."""
        for codec, layout in _tlv_layouts():
            ref = ACCEL[codec.name].ref
            with _pure():
                bare = Layout(layout.cls, layout.fields[:-1], command_id=layout.command_id,
                              header=layout.header)  # fmt: skip
            pdu = data.draw(pdu_strategy(bare), label=layout.name)
            pdu.tlvs = tlvs = data.draw(_TLV_LISTS, label="tlvs")
            seq = data.draw(sequence_strategy(ref.header), label="seq")
            frame = ref.encode(pdu, seq)
            program = wire._program(layout, _wire)
            strict = wire._program(layout, _wire, py_encode=_forbidden, py_decode=_forbidden)
            self.assertEqual(program.encode(pdu, seq), frame)
            self.assertEqual(codec.encode(pdu, seq), frame)
            body = (frame, ref.header_size, len(frame))
            expected = _outcome(layout.decode, *body)
            self.assertEqual(expected[0], "returned")
            self.assertEqual(_outcome(program.decode, *body), expected)
            self.assertEqual(_outcome(codec.decode, frame), _outcome(ref.decode, frame))
            if type(tlvs) is tuple and not tlvs:
                self.assertEqual(strict.encode(pdu, seq), frame)
                self.assertEqual(_outcome(strict.decode, *body), expected)
            else:
                self.assertRaises(FellBack, strict.encode, pdu, seq)
                if tlvs:
                    self.assertRaises(FellBack, strict.decode, *body)

    @given(st.data())
    def test_bad_values(self, data: st.DataObject) -> None:
        """Doubtful TLV lists: the same bytes or the same EncodeError as Python."""
        for codec, layout in _tlv_layouts():
            ref = ACCEL[codec.name].ref
            pdu = layout.cls()
            pdu.tlvs = data.draw(st.one_of(_JUNK, st.just((None,)), st.just(iter(()))))
            expected = _outcome(ref.encode, pdu, 1)
            self.assertEqual(_outcome(codec.encode, pdu, 1), expected)
            self.assertEqual(_outcome(wire._program(layout, _wire).encode, pdu, 1),
                             _outcome(layout.encode, pdu, 1))  # fmt: skip


class LayoutTests(SynchronousTestCase):
    """Stand-alone layouts (header-less records, every field kind) in C and Python."""

    skip = SKIP

    @settings(max_examples=25)
    @given(st.data())
    def test_round_trip(self, data: st.DataObject) -> None:
        """Each layout: C and Python encode to the same bytes and decode to identical objects."""
        for layout in PURE_LAYOUTS:
            program = wire._program(layout, _wire)
            strict = wire._program(layout, _wire, py_encode=_forbidden, py_decode=_forbidden)
            self.assertIsNotNone(program, layout.name)
            value = data.draw(pdu_strategy(layout), label=layout.name)
            frame = layout.encode(value, _seq(layout))
            self.assertEqual(program.encode(value, _seq(layout)), frame)
            self.assertEqual(strict.encode(value, _seq(layout)), frame)
            args = (frame, layout.header.size if layout.header else 0, len(frame))
            expected = _outcome(layout.decode, *args)
            self.assertEqual(expected[0], "returned")
            self.assertEqual(_outcome(strict.decode, *args), expected)

    @given(st.data())
    def test_arbitrary_ranges(self, data: st.DataObject) -> None:
        """Arbitrary bytes, offsets and ends (even outside the buffer): the same outcome."""
        layout = data.draw(st.sampled_from(PURE_LAYOUTS), label="layout")
        program = wire._program(layout, _wire)
        buf = data.draw(
            st.one_of(
                st.binary(max_size=80),
                pdu_strategy(layout).map(lambda v: layout.encode(v, _seq(layout))),
                st.binary(max_size=20).map(bytearray),
            ),
            label="buf",
        )
        off = data.draw(st.integers(-2, len(buf) + 2), label="off")
        end = data.draw(st.integers(-2, len(buf) + 2), label="end")
        expected = _outcome(layout.decode, buf, off, end)
        self.assertEqual(_outcome(program.decode, buf, off, end), expected)

    @given(st.data())
    def test_bad_values(self, data: st.DataObject) -> None:
        """Doubtful field values give the same bytes or the same EncodeError."""
        layout = data.draw(st.sampled_from(PURE_LAYOUTS), label="layout")
        program = wire._program(layout, _wire)
        value = data.draw(_bad_pdus(layout), label="value")
        expected = _outcome(layout.encode, value, _seq(layout))
        self.assertEqual(_outcome(program.encode, value, _seq(layout)), expected)

    def test_custom_fields_stay_in_python(self) -> None:
        """Layouts with a custom codec get no program."""
        self.assertIsNone(wire._program(test_wire.CUSTOM, _wire))
        self.assertFalse(test_wire.CUSTOM.accelerated)

    def test_subclassed_field_codec_stays_in_python(self) -> None:
        """A subclass of a field codec may behave differently: no program."""

        @attrs.frozen
        class Wide(UInt):
            pass

        @attrs.define
        class One:
            a: int = 0

        self.assertIsNone(wire._program(_pure_layout(Layout(One, (("a", Wide(2)),))), _wire))

    def test_keyword_arguments(self) -> None:
        """Keyword arguments go to the Python functions."""
        program = wire._program(test_wire.FRAMED, _wire)
        value = test_wire.Framed(a=1, body=b"xy")
        frame = program.encode(value, seq=5)
        self.assertEqual(frame, test_wire.FRAMED.py_encode(value, 5))
        self.assertEqual(program.decode(frame, off=12, end=len(frame)), value)


class ProgramTests(SynchronousTestCase):
    """The extension's types refuse what they cannot run, and do not crash or leak."""

    skip = SKIP

    def _args(self, **changes: Any) -> dict[str, Any]:
        d = test_wire.Framed.__dict__
        args = {
            "cls": test_wire.Framed,
            "slots": (d["a"], d["body"]),
            "defaults": (0, b""),
            "ops": ((_wire.OP_UINT, 0, 2, 0, 0), (_wire.OP_SIZED, 1, 0, 0, 1)),
            "header": 1,
            "command_id": 7,
            "py_encode": _forbidden,
            "py_decode": _forbidden,
        }
        args.update(changes)
        return args

    def test_valid(self) -> None:
        """The arguments wire.py builds make a working program."""
        program = _wire.Program(**self._args())
        frame = program.encode(test_wire.Framed(a=258, body=b"z"), 9)
        self.assertEqual(frame, bytes.fromhex("0000001000000007000000090102017a"))
        self.assertEqual(program.decode(frame, 12, 16), test_wire.Framed(a=258, body=b"z"))

    def test_refused(self) -> None:
        """Bad slots, ops, headers or fallbacks are a TypeError or ValueError."""
        bad: list[dict[str, Any]] = [
            {"cls": int},
            {"slots": (1, 2)},
            {"slots": (str.__dict__["count"], test_wire.Framed.__dict__["body"])},
            {"slots": (test_wire.Ints.__dict__["a"], test_wire.Framed.__dict__["body"])},
            {"defaults": (0,)},
            {"ops": ((9, 0, 2, 0, 0),)},
            {"ops": ((_wire.OP_UINT, 5, 2, 0, 0),)},
            {"ops": ((_wire.OP_UINT, 0, 3, 0, 0),)},
            {"ops": ((_wire.OP_SIZED, 0, 0, 0, 8),)},
            {"ops": ((_wire.OP_UINT, 0, 2, 0, 0), (_wire.OP_UINT, 0, 2, 0, 0))},
            {"ops": ((_wire.OP_UINT, 0, 2),)},
            {"ops": (("x", 0, 2, 0, 0),)},
            {"header": 2},
            {"header": 2, "header_attr": 99},
            {"header_attr": 0},
            {"ops": ((_wire.OP_CSTRING, 0, 0, 0, 0),)},
            {"ops": ((_wire.OP_CSTRING, 0, 5, 2, 0),)},
            {"ops": ((_wire.OP_EMPTY, 0, 0, 0, 0), (_wire.OP_SIZED, 1, 0, 0, 1))},
            {"command_id": 2**32},
            {"py_encode": None},
        ]
        for change in bad:
            with self.assertRaises((TypeError, ValueError, OverflowError), msg=repr(change)):
                _wire.Program(**self._args(**change))

    def test_uninitialised(self) -> None:
        """A program or codec made without __init__ raises instead of crashing."""
        program = _wire.Program.__new__(_wire.Program)
        self.assertRaises(TypeError, program.encode, test_wire.Framed(), 1)
        self.assertRaises(TypeError, program.decode, b"", 0, 0)
        codec = _wire.Codec.__new__(_wire.Codec)
        self.assertRaises(TypeError, codec.encode, test_wire.Framed(), 1)
        self.assertRaises(TypeError, codec.decode, b"")
        program = _wire.Program(**self._args())
        self.assertRaises(TypeError, program.__init__, **self._args())

    def test_cycles_collected(self) -> None:
        """Programs and codecs take part in garbage collection (layout -> program -> layout)."""
        before = len(gc.get_objects())
        for _ in range(50):
            codec = _pure_codec(cmpp.CMPP20)
            programs = [wire._program(lay, _wire) for lay in codec.layouts.values()]
            c = wire.accelerate_codec(
                codec.header, Header, programs, 100, codec.py_encode, codec.py_decode, _wire
            )
            codec.self_ref = c  # type: ignore[attr-defined]
        del codec, programs, c
        gc.collect()
        self.assertLess(len(gc.get_objects()) - before, 2000)

    def test_refcounts_stable(self) -> None:
        """10,000 encodes and decodes (and fallbacks) leave shared objects' refcounts alone."""
        a = ACCEL[cmpp.CMPP20.name]
        layout = a.ref.layouts[cmpp.Submit]
        pdu = cmpp.Submit(dest_terminal_ids=(b"13800138000",), msg_content=b"\x4e\x2d" * 70)
        frame = a.c.encode(pdu, 1)
        off_wire = [
            f.default for f in attrs.fields(cmpp.Submit) if f.name not in dict(layout.fields)
        ]
        self.assertTrue(off_wire)
        watched = [
            cmpp.Submit,
            Header,
            pdu,
            frame,
            pdu.msg_content,
            a.c,
            a.programs[cmpp.Submit],
            _forbidden,
            *off_wire,
        ]
        bad = frame[:-1]
        bad_pdu = attrs.evolve(pdu, service_id=b"x" * 11)

        def work() -> None:
            for _ in range(10_000):
                a.c.decode(frame)
                a.c.encode(pdu, 1)
                try:
                    a.c.decode(bad)
                except Exception:
                    pass
                try:
                    a.c.encode(bad_pdu, 1)
                except Exception:
                    pass

        work()  # warm caches (struct shapes, exception machinery)
        before = [sys.getrefcount(o) for o in watched]
        work()
        self.assertEqual([sys.getrefcount(o) for o in watched], before)

    def test_no_memory_growth(self) -> None:
        """Decoding and encoding many frames does not grow the traced memory."""
        a = ACCEL[sgip.SGIP12.name]
        pdu = sgip.Submit(user_numbers=(b"8613800138000",), message_content=b"hello")
        frame = a.c.encode(pdu, (1, 2, 3))
        for _ in range(1000):
            a.c.decode(frame)
        tracemalloc.start()
        try:
            base, _ = tracemalloc.get_traced_memory()
            for _ in range(20_000):
                a.c.decode(frame)
                a.c.encode(pdu, (1, 2, 3))
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - base
        finally:
            tracemalloc.stop()
        self.assertLess(grown, 20_000)


class SelectionTests(SynchronousTestCase):
    """Which implementation is in use, and how to turn the C one off."""

    def test_accelerated_flag(self) -> None:
        """ACCELERATED: built and not turned off by SMSGW_PURE_PYTHON=1."""
        off = os.environ.get("SMSGW_PURE_PYTHON", "") not in ("", "0")
        self.assertEqual(wire.ACCELERATED, _wire is not None and not off)

    def test_installed_codecs(self) -> None:
        """The protocol codecs use the C objects exactly when the accelerator is on."""
        for codec in CODECS:
            self.assertEqual(codec.accelerated, wire.ACCELERATED)
            names = ("SubmitResp", "SubmitSmResp")
            submit = next(lay for lay in codec.layouts.values() if lay.name in names)
            self.assertEqual(submit.accelerated, wire.ACCELERATED)
            self.assertIsNotNone(submit.py_encode)
            if not wire.ACCELERATED:
                self.assertEqual(codec.encode, codec.py_encode)
                self.assertIs(submit.encode, submit.py_encode)

    def test_stale_build_not_used(self) -> None:
        """A build of an older _wire.c (no ABI, or another) is not used; the current one is."""
        import types

        self.assertFalse(wire.current_accel(types.SimpleNamespace()))
        self.assertFalse(wire.current_accel(types.SimpleNamespace(ABI=wire.ACCEL_ABI - 1)))
        if _wire is not None:
            self.assertTrue(wire.current_accel(_wire))
