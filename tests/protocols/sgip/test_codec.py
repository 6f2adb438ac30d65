"""Tests for the SGIP 1.2 codec: round trips, sizes, errors, records, sequence numbers."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import attrs
from hypothesis import example, given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.errors import (
    DecodeError,
    EncodeError,
    TrailingBytesError,
    TruncatedError,
    UnknownCommandError,
)
from smsgw.protocols.sgip import codec, constants
from smsgw.protocols.sgip import pdus as p
from smsgw.protocols.sgip.codec import SGIP12, decode, encode
from smsgw.protocols.sgip.constants import CommandId, Result
from smsgw.protocols.sgip.records import Records
from smsgw.protocols.sgip.sequence import (
    SgipSequence,
    format_message_id,
    parse_message_id,
    sequence_time,
)
from smsgw.protocols.wire import Layout, Octets, Sized, UInt
from tests.strategies import field_strategy, sequence_strategy

SEQ = (3075512345, 1120203225, 1)
UINT32 = st.integers(0, 2**32 - 1)
SEQUENCES = sequence_strategy(SGIP12.header)
#: 2023-11-20 20:32:25 in Beijing, 12:32:25 UTC.
NOV_20_203225 = 1700483545


def sgip_field(codec: Any) -> st.SearchStrategy[Any]:
    """Values of one SGIP field codec, :class:`Records` included."""
    if isinstance(codec, Records):
        return st.lists(sgip_pdus(codec.layout), max_size=4).map(tuple)
    return field_strategy(codec)


def sgip_pdus(layout: Layout) -> st.SearchStrategy[Any]:
    """Instances of ``layout.cls`` that round-trip through *layout*."""
    fields = {name: sgip_field(c) for name, c in layout.fields}
    return st.fixed_dictionaries(fields).map(lambda values: layout.cls(**values))


LAYOUTS = sorted(SGIP12.layouts.values(), key=lambda layout: layout.command_id or 0)
ANY_PDU = st.sampled_from(LAYOUTS).flatmap(sgip_pdus)


def _frame(command_id: int, body: bytes, seq: tuple[int, int, int] = SEQ) -> bytes:
    return struct.pack(">II3I", 20 + len(body), command_id, *seq) + body


# -- every PDU class ------------------------------------------------------------


class RoundTripTests(SynchronousTestCase):
    """Every PDU class encodes and decodes back to itself (one test per class below)."""

    def test_every_command_has_a_pdu(self) -> None:
        """Every command id of sgip12.md §5 has a PDU class, and only those."""
        self.assertEqual(set(SGIP12.by_command), set(CommandId))
        self.assertEqual(len(SGIP12.layouts), 36)

    def test_response_ids(self) -> None:
        """Each response id is its request id with the top bit set (ModifySMG_Resp too)."""
        for cid in CommandId:
            if not cid & constants.RESPONSE_BIT:
                self.assertIn(cid | constants.RESPONSE_BIT, set(CommandId), cid.name)
        self.assertEqual(CommandId.MODIFY_SMG_RESP, 0x8000000E)
        self.assertEqual(CommandId.TRACE_RESP, 0x80001000)

    def test_defaults_round_trip(self) -> None:
        """A default instance of every PDU class round-trips."""
        for layout in LAYOUTS:
            pdu = layout.cls()
            header, back = decode(encode(pdu, SEQ))
            self.assertEqual(back, pdu, layout.name)
            self.assertEqual(header.sequence_id, SEQ)


#: 36 classes: a quarter of the profile's examples each keeps the suite quick;
#: ``SizeTests.test_any_size`` draws from all of them again.
_PER_CLASS = settings(max_examples=max(25, settings().max_examples // 4))


def _round_trip_test(layout: Layout) -> Callable[[RoundTripTests], None]:
    @_PER_CLASS
    @given(pdu=sgip_pdus(layout), seq=SEQUENCES)
    def test(self: RoundTripTests, pdu: Any, seq: tuple[int, int, int]) -> None:
        frame = encode(pdu, seq)
        header, back = decode(frame)
        self.assertEqual(back, pdu)
        self.assertEqual(header.sequence_id, seq)
        self.assertEqual(header.command_id, layout.command_id)
        self.assertEqual(header.length, len(frame))
        self.assertEqual(encode(back, seq), frame)

    test.__doc__ = f"{layout.name} (hypothesis): encode then decode gives it back, bytes too."
    test.__name__ = f"test_round_trip_{layout.name}"
    return test


for _layout in LAYOUTS:
    setattr(RoundTripTests, f"test_round_trip_{_layout.name}", _round_trip_test(_layout))
del _layout


# -- sizes (sgip12.md §4) -----------------------------------------------------------

#: Whole-PDU sizes of sgip12.md §4 for the fixed-size PDUs.
FIXED_SIZES: dict[type, int] = {
    p.Bind: 61,
    p.Unbind: 20,
    p.UnbindResp: 20,
    p.Report: 64,
    p.UserRpt: 71,
    p.Trace: 61,
    p.CheckUser: 81,
    p.CheckUserResp: 30,
    p.AddSp: 70,
    p.ModifySp: 101,
    p.DeleteSp: 65,
    p.QueryRoute: 60,
    p.AddTeleSeg: 46,
    p.ModifyTeleSeg: 53,
    p.DeleteTeleSeg: 41,
    p.AddSmg: 70,
    p.ModifySmg: 76,
    p.DeleteSmg: 34,
}
for _cls in (
    p.BindResp,
    p.SubmitResp,
    p.DeliverResp,
    p.ReportResp,
    p.UserRptResp,
    p.AddSpResp,
    p.ModifySpResp,
    p.DeleteSpResp,
    p.AddTeleSegResp,
    p.ModifyTeleSegResp,
    p.DeleteTeleSegResp,
    p.AddSmgResp,
    p.ModifySmgResp,
    p.DeleteSmgResp,
):
    FIXED_SIZES[_cls] = 29  # Result + Reserve
del _cls

#: Whole-PDU sizes of sgip12.md §4 for the variable ones.
VARIABLE_SIZES: dict[type, Callable[[Any], int]] = {
    p.Submit: lambda pdu: 143 + 21 * len(pdu.user_numbers) + len(pdu.message_content),
    p.Deliver: lambda pdu: 77 + len(pdu.message_content),
    p.TraceResp: lambda pdu: 21 + 47 * len(pdu.nodes),
    p.QueryRouteResp: lambda pdu: 25 + 87 * len(pdu.entries),
}


class SizeTests(SynchronousTestCase):
    """Every PDU's encoded size is the one sgip12.md §4 gives."""

    def test_tables_cover_every_pdu(self) -> None:
        """The size tables name every PDU class exactly once."""
        self.assertEqual(set(FIXED_SIZES) | set(VARIABLE_SIZES), set(SGIP12.layouts))
        self.assertFalse(set(FIXED_SIZES) & set(VARIABLE_SIZES))

    def test_fixed_sizes(self) -> None:
        """Each fixed-size PDU encodes to the §4 total, and its length field says so."""
        for cls, size in FIXED_SIZES.items():
            frame = encode(cls(), SEQ)
            self.assertEqual(len(frame), size, cls.__name__)
            self.assertEqual(struct.unpack_from(">I", frame)[0], size, cls.__name__)

    @given(ANY_PDU)
    def test_any_size(self, pdu: Any) -> None:
        """(hypothesis) Any PDU of any class encodes to its §4 size."""
        expected = FIXED_SIZES.get(type(pdu)) or VARIABLE_SIZES[type(pdu)](pdu)
        self.assertEqual(len(encode(pdu, SEQ)), expected)

    def test_spec_examples(self) -> None:
        """§4/§6 examples: 1 receiver + 140 UCS2 bytes is 304; one route 112; one node 68."""
        submit = p.Submit(user_numbers=(b"8613001125453",), message_content=b"\x4e\x2d" * 70)
        self.assertEqual(len(encode(submit, SEQ)), 304)
        self.assertEqual(len(encode(p.QueryRouteResp(entries=(p.RouteEntry(),)), SEQ)), 112)
        self.assertEqual(len(encode(p.TraceResp(nodes=(p.TraceNode(),)), SEQ)), 68)

    def test_record_sizes(self) -> None:
        """A route entry is 87 bytes and a trace node 47 (sgip12.md §6, §8)."""
        self.assertEqual(codec.ROUTE_ENTRY_LAYOUT.fixed_size, 87)
        self.assertEqual(codec.TRACE_NODE_LAYOUT.fixed_size, 47)

    def test_message_length_is_four_bytes(self) -> None:
        """Submit's and Deliver's MessageLength is 4 bytes, unlike CMPP/SMGP."""
        for fields in (codec.SUBMIT, codec.DELIVER):
            (length,) = [c for n, c in fields if n == "message_content"]
            self.assertEqual(length, Sized(UInt(4)))


# -- decoding anything ------------------------------------------------------------


@st.composite
def damaged_frames(draw: st.DrawFn) -> bytes:
    """A valid frame cut short, lengthened or with a byte changed, its length field fixed up."""
    frame = bytearray(encode(draw(ANY_PDU), draw(SEQUENCES)))
    how = draw(st.sampled_from(("cut", "extend", "flip")))
    if how == "cut":
        frame = frame[: draw(st.integers(20, len(frame)))]
    elif how == "extend":
        frame += draw(st.binary(min_size=1, max_size=8))
    else:
        at = draw(st.integers(4, len(frame) - 1))
        frame[at] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        frame[0:4] = len(frame).to_bytes(4, "big")
    return bytes(frame)


class DecodeAnythingTests(SynchronousTestCase):
    """Any bytes decode or raise DecodeError, never anything else."""

    def _decodes_or_fails(self, data: bytes) -> None:
        try:
            header, pdu = decode(data)
        except DecodeError as e:
            if e.kind is not e.kind.FRAMING:
                self.assertIn(
                    e.status,
                    (Result.PARAMETER_FORMAT_ERROR, Result.BAD_COMMAND_ID, Result.BAD_LENGTH),
                )
        else:
            self.assertIn(type(pdu), SGIP12.layouts)
            self.assertEqual(header.length, len(data))

    @given(st.binary(max_size=400))
    @example(b"")
    @example(b"\x00\x00\x00\x03")
    @example(_frame(0x80000009, b"\x00\xff\xff\xff\xff"))  # QueryRoute_Resp, huge Count
    @example(_frame(0x80001000, b"\x02" + b"\x00" * 47))  # Trace_Resp, Count 2, one node
    def test_arbitrary_bytes(self, data: bytes) -> None:
        """(hypothesis) Arbitrary bytes decode or raise DecodeError with an SGIP Result."""
        self._decodes_or_fails(data)

    @given(damaged_frames())
    def test_damaged_frames(self, data: bytes) -> None:
        """(hypothesis) Damaged valid frames decode or raise DecodeError with an SGIP Result."""
        self._decodes_or_fails(data)


class DecodeErrorTests(SynchronousTestCase):
    """Decode errors name the field and carry the §9 Result to answer with."""

    def test_truncated_submit(self) -> None:
        """A Submit body cut short is a length error: Result 8, naming the field."""
        frame = encode(p.Submit(user_numbers=(b"8613001125453",), message_content=b"hi"), SEQ)
        cut = bytearray(frame[:100])
        cut[0:4] = (100).to_bytes(4, "big")
        e = self.assertRaises(TruncatedError, decode, bytes(cut))
        self.assertEqual((e.pdu, e.status), ("Submit", Result.BAD_LENGTH))
        self.assertEqual((e.command_id, e.sequence_id), (CommandId.SUBMIT, SEQ))
        self.assertIsNotNone(e.field)

    def test_message_length_beyond_body(self) -> None:
        """A MessageLength that runs past the frame is Result 8 on message_content."""
        frame = bytearray(encode(p.Deliver(message_content=b"abc"), SEQ))
        frame[20 + 45 : 20 + 49] = (1000).to_bytes(4, "big")
        e = self.assertRaises(TruncatedError, decode, bytes(frame))
        self.assertEqual((e.field, e.status), ("message_content", Result.BAD_LENGTH))

    def test_trailing_bytes(self) -> None:
        """Bytes after the last field are Result 8."""
        e = self.assertRaises(TrailingBytesError, decode, _frame(CommandId.UNBIND, b"x"))
        self.assertEqual(e.status, Result.BAD_LENGTH)

    def test_length_field_mismatch(self) -> None:
        """A length field that disagrees with the frame is Result 8."""
        frame = bytearray(encode(p.Bind(), SEQ))
        frame[0:4] = (70).to_bytes(4, "big")
        e = self.assertRaises(DecodeError, decode, bytes(frame))
        self.assertEqual((e.field, e.status), ("length", Result.BAD_LENGTH))

    def test_unknown_command(self) -> None:
        """An unknown command id is Result 7, with the sequence number kept."""
        e = self.assertRaises(UnknownCommandError, decode, _frame(0x00000012, b""))
        self.assertEqual((e.status, e.sequence_id), (Result.BAD_COMMAND_ID, SEQ))

    def test_short_header(self) -> None:
        """A frame shorter than the 20-byte header is a length error."""
        e = self.assertRaises(TruncatedError, decode, _frame(CommandId.UNBIND, b"")[:19])
        self.assertEqual(e.status, Result.BAD_LENGTH)

    def test_statuses(self) -> None:
        """Structure, command and length errors map to Results 5, 7 and 8 (§9)."""
        self.assertEqual(
            sorted(int(v) for v in codec.STATUSES.values()),
            [5, 7, 8],
        )

    def test_records_count_beyond_body(self) -> None:
        """A Count of records beyond the body is Result 8 on the records field."""
        e = self.assertRaises(
            TruncatedError, decode, _frame(CommandId.QUERY_ROUTE_RESP, b"\x00\x00\x00\x00\x02")
        )
        self.assertEqual((e.pdu, e.field, e.status), ("QueryRouteResp", "entries", 8))
        e = self.assertRaises(TruncatedError, decode, _frame(CommandId.QUERY_ROUTE_RESP, b"\x00"))
        self.assertEqual(e.field, "entries")

    def test_records_trailing(self) -> None:
        """Bytes after the last record are Result 8."""
        body = encode(p.TraceResp(nodes=(p.TraceNode(),)), SEQ)[20:] + b"\x00"
        e = self.assertRaises(TrailingBytesError, decode, _frame(CommandId.TRACE_RESP, body))
        self.assertEqual(e.status, Result.BAD_LENGTH)


class EncodeErrorTests(SynchronousTestCase):
    """Values that do not fit are refused, naming the field, never truncated."""

    def test_long_text(self) -> None:
        """A 17-byte login name is refused."""
        e = self.assertRaises(EncodeError, encode, p.Bind(login_name=b"x" * 17), SEQ)
        self.assertEqual((e.pdu, e.field), ("Bind", "login_name"))

    def test_full_width_text(self) -> None:
        """A value filling its field has no terminator: 21 '0's as ChargeNumber."""
        submit = p.Submit(charge_number=constants.CHARGE_SP_PAYS)
        frame = encode(submit, SEQ)
        self.assertEqual(frame[20 + 21 : 20 + 42], b"0" * 21)
        self.assertEqual(decode(frame)[1], submit)

    def test_too_many_users(self) -> None:
        """More than 255 UserNumbers do not fit UserCount."""
        submit = p.Submit(user_numbers=(b"86130",) * 256)
        e = self.assertRaises(EncodeError, encode, submit, SEQ)
        self.assertEqual(e.field, "user_numbers")

    def test_bad_record(self) -> None:
        """A record that does not fit is refused naming the PDU, the field and the record."""
        bad = p.QueryRouteResp(entries=(p.RouteEntry(), p.RouteEntry(number=b"9" * 22)))
        e = self.assertRaises(EncodeError, encode, bad, SEQ)
        self.assertEqual((e.pdu, e.field), ("QueryRouteResp", "entries"))
        self.assertIn("record 1.number", str(e))

    def test_wrong_record_type(self) -> None:
        """A record of the wrong class is refused."""
        bad = p.TraceResp(nodes=(p.RouteEntry(),))  # type: ignore[arg-type]
        e = self.assertRaises(EncodeError, encode, bad, SEQ)
        self.assertEqual(e.field, "nodes")
        self.assertIn("expected TraceNode", str(e))

    def test_too_many_records(self) -> None:
        """256 trace nodes do not fit a 1-byte Count."""
        bad = p.TraceResp(nodes=(p.TraceNode(),) * 256)
        e = self.assertRaises(EncodeError, encode, bad, SEQ)
        self.assertEqual(e.field, "nodes")

    def test_records_not_a_tuple(self) -> None:
        """Records must be a tuple (or list)."""
        bad = p.TraceResp(nodes=p.TraceNode())  # type: ignore[arg-type]
        e = self.assertRaises(EncodeError, encode, bad, SEQ)
        self.assertEqual(e.field, "nodes")

    def test_bad_sequence(self) -> None:
        """A sequence number that is not three 32-bit integers is refused."""
        self.assertRaises(EncodeError, encode, p.Unbind(), (1, 2))
        self.assertRaises(EncodeError, encode, p.Unbind(), 7)
        self.assertRaises(EncodeError, encode, p.Unbind(), (1, 2, 2**32))

    def test_unknown_class(self) -> None:
        """A class that is not an SGIP PDU is refused."""
        self.assertRaises(EncodeError, encode, object(), SEQ)


class RecordsTests(SynchronousTestCase):
    """The counted-records field codec on its own."""

    def test_variable_width_record_refused(self) -> None:
        """A record layout with a variable-width field is refused at construction."""

        @attrs.define
        class Var:
            data: bytes = b""

        self.assertRaises(TypeError, Records, Layout(Var, (("data", Sized(UInt(1))),)), UInt(1))

    def test_decode_at(self) -> None:
        """decode_at reads the count and the records and returns the new offset."""
        records = Records(codec.TRACE_NODE_LAYOUT, UInt(1))
        node = p.TraceNode(result=1, node_id=b"107551", receive_time=b"231120203225")
        data = b"xx" + records.encode((node, node)) + b"yy"
        self.assertEqual(len(data), 2 + 1 + 2 * 47 + 2)
        self.assertEqual(records.decode_at(data, 2, len(data) - 2), ((node, node), 2 + 95))
        self.assertEqual(records.default(), ())
        self.assertIn("TraceNode", repr(records))

    def test_count_width(self) -> None:
        """QueryRoute_Resp's Count is 4 bytes, Trace_Resp's 1 byte."""
        frame = encode(p.QueryRouteResp(result=0, entries=(p.RouteEntry(type=1),)), SEQ)
        self.assertEqual(frame[21:25], b"\x00\x00\x00\x01")
        frame = encode(p.TraceResp(nodes=(p.TraceNode(),) * 3), SEQ)
        self.assertEqual(frame[20], 3)

    def test_check_accepts_list(self) -> None:
        """A list of records is accepted like a tuple."""
        records = Records(codec.TRACE_NODE_LAYOUT, UInt(1))
        self.assertIsNone(records.check([p.TraceNode()]))
        self.assertEqual(records.encode([p.TraceNode()])[0], 1)

    def test_octets_record(self) -> None:
        """Record fields may be any fixed-width codec."""
        records = Records(Layout(p.DeleteSmg, (("smg_id", Octets(6)), codec.RESERVE)), UInt(1))
        self.assertEqual(records.record_size, 14)


# -- Report correlation (sgip12.md §10) ------------------------------------------


class ReportCorrelationTests(SynchronousTestCase):
    """A Report names its Submit by the Submit's header sequence number (§10)."""

    def test_report_names_submit(self) -> None:
        """The Report's SubmitSequenceNumber equals the Submit's header sequence number."""
        sequence = SgipSequence(3075512345, lambda: NOV_20_203225, counter=41)
        submit_seq = sequence()
        submit_frame = encode(p.Submit(user_numbers=(b"8613001125453",)), submit_seq)
        submit_header, _ = decode(submit_frame)

        # The SMG reports with its own header sequence number and names the Submit's.
        node_id, when, counter = submit_header.sequence_id
        report = p.Report(
            submit_node_id=node_id,
            submit_time=when,
            submit_counter=counter,
            report_type=constants.ReportType.SUBMIT,
            user_number=b"8613001125453",
            state=constants.ReportState.DELIVERED,
        )
        report_frame = encode(report, (107551, 1120203300, 7))
        report_header, decoded = decode(report_frame)

        self.assertEqual(decoded.submit_sequence_number, submit_header.sequence_id)
        self.assertEqual(decoded.submit_sequence_number, (3075512345, 1120203225, 41))
        self.assertNotEqual(report_header.sequence_id, submit_header.sequence_id)
        # Byte for byte: Report body bytes 0–11 are Submit header bytes 8–19.
        self.assertEqual(report_frame[20:32], submit_frame[8:20])
        self.assertEqual(format_message_id(decoded.submit_sequence_number),
                         "3075512345-1120203225-41")  # fmt: skip

    def test_trace_names_submit(self) -> None:
        """Trace carries a Submit's sequence number the same way."""
        trace = p.Trace(*SEQ, user_number=b"8613001125453")
        frame = encode(trace, (3075512345, 1120203230, 2))
        self.assertEqual(frame[20:32], encode(p.Submit(), SEQ)[8:20])
        self.assertEqual(decode(frame)[1].submit_sequence_number, SEQ)


# -- sequence numbers and message ids -------------------------------------------


class SequenceTests(SynchronousTestCase):
    """SgipSequence: node id, Beijing MMDDhhmmss, a counter wrapping at 2**32."""

    def test_parts(self) -> None:
        """A sequence number is (node id, MMDDhhmmss in Beijing time, counter from 0)."""
        sequence = SgipSequence(3075512345, lambda: NOV_20_203225 + 0.9)
        self.assertEqual(sequence(), (3075512345, 1120203225, 0))
        self.assertEqual(sequence(), (3075512345, 1120203225, 1))

    def test_counter_wraps(self) -> None:
        """The counter goes from 2**32 - 1 to 0."""
        sequence = SgipSequence(1, lambda: 0.0, counter=2**32 - 2)
        self.assertEqual([sequence()[2] for _ in range(3)], [2**32 - 2, 2**32 - 1, 0])

    def test_time_follows_clock(self) -> None:
        """The time part follows the clock, second by second."""
        now = [float(NOV_20_203225)]
        sequence = SgipSequence(1, lambda: now[0])
        self.assertEqual(sequence()[1], 1120203225)
        now[0] += 1
        self.assertEqual(sequence()[1], 1120203226)
        now[0] += 3600 * 4  # past midnight in Beijing
        self.assertEqual(sequence()[1], 1121003226)

    def test_reactor_clock(self) -> None:
        """A reactor-like clock with seconds() is accepted."""

        class FakeClock:
            def seconds(self) -> float:
                return NOV_20_203225

        self.assertEqual(SgipSequence(1, FakeClock())()[1], 1120203225)
        self.assertRaises(TypeError, SgipSequence, 1, object())

    def test_beijing_time(self) -> None:
        """The time is Beijing time: UTC 23:59:59 on 31 Dec is 0101075959."""
        self.assertEqual(sequence_time(1704067199), 101075959)
        self.assertEqual(sequence_time(NOV_20_203225), 1120203225)
        self.assertEqual(1120203225, 0x42C4F1D9)

    def test_ranges(self) -> None:
        """Node ids and counters must fit 32 bits."""
        self.assertRaises(ValueError, SgipSequence, 2**32, lambda: 0.0)
        self.assertRaises(ValueError, SgipSequence, -1, lambda: 0.0)
        self.assertRaises(ValueError, SgipSequence, 1, lambda: 0.0, 2**32)
        SgipSequence(3999999999, lambda: 0.0)  # the biggest SP id fits

    @given(st.integers(0, 2**32 - 1), st.floats(0, 4102444800))
    def test_time_is_mmddhhmmss(self, counter: int, epoch_s: float) -> None:
        """(hypothesis) The time part always reads as a valid MMDDhhmmss."""
        _, when, got = SgipSequence(1, lambda: epoch_s, counter)()
        self.assertEqual(got, counter)
        mm, dd, hh, mi, ss = (when // 10**k % 100 for k in (8, 6, 4, 2, 0))
        self.assertTrue(1 <= mm <= 12 and 1 <= dd <= 31 and hh < 24 and mi < 60 and ss < 60)


class MessageIdTests(SynchronousTestCase):
    """The node-time-counter message id string."""

    def test_format(self) -> None:
        """The worked example formats as 3075512345-1120203225-1."""
        self.assertEqual(format_message_id(SEQ), "3075512345-1120203225-1")
        self.assertEqual(format_message_id((1, 120203225, 0)), "1-0120203225-0")

    def test_parse(self) -> None:
        """The string parses back; SMSGate's 30-digit form too."""
        self.assertEqual(parse_message_id("3075512345-1120203225-1"), SEQ)
        self.assertEqual(parse_message_id("1-120203225-0"), (1, 120203225, 0))
        self.assertEqual(parse_message_id("307551234511202032250000000001"), SEQ)

    @given(st.tuples(UINT32, UINT32, UINT32))
    def test_round_trip(self, seq: tuple[int, int, int]) -> None:
        """(hypothesis) format then parse gives the sequence number back."""
        self.assertEqual(parse_message_id(format_message_id(seq)), seq)

    @given(st.lists(st.tuples(st.sampled_from([1, 3075512345]), st.sampled_from([0, 1120203225]),
                              UINT32), min_size=1, max_size=6))  # fmt: skip
    def test_shared_prefix(self, seqs: list[tuple[int, int, int]]) -> None:
        """(hypothesis) ids in a row, sharing a node and time or not, are each spelled in full."""
        for node_id, when, counter in seqs:
            self.assertEqual(format_message_id((node_id, when, counter)),
                             f"{node_id}-{when:010d}-{counter}")  # fmt: skip

    def test_bad_strings(self) -> None:
        """Anything else is a ValueError."""
        for text in ("", "1-2", "1-2-3-4", "a-b-c", "1--2", " 1-2-3", "1-2-3\n", "4294967296-1-1",
                     "١-٢-٣", "12345678901-1-1"):  # fmt: skip
            self.assertRaises(ValueError, parse_message_id, text)

    def test_bad_sequences(self) -> None:
        """Only three unsigned 32-bit integers format."""
        self.assertRaises(ValueError, format_message_id, (1, 2))
        self.assertRaises(ValueError, format_message_id, (1, 2, -1))
        self.assertRaises(ValueError, format_message_id, (1, 2, 2**32))
