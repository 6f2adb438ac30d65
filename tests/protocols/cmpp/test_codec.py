"""Tests for :mod:`smsgw.protocols.cmpp.codec`: the CMPP 2.0 tables and codec.

Sizes follow cmpp20-notes.md section 2, reports section 6, FWD section 7
and the route messages section 8.
"""

from __future__ import annotations

import struct
from typing import Any

import attrs
from hypothesis import example, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.cmpp import (
    CMPP20,
    decode,
    decode_mo_report,
    decode_report,
    encode,
    encode_mo_report,
    encode_report,
)
from smsgw.protocols.cmpp import codec as cmpp_codec
from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.constants import CommandId
from smsgw.protocols.codec import Header
from smsgw.protocols.errors import (
    DecodeError,
    EncodeError,
    TrailingBytesError,
    TruncatedError,
    UnknownCommandError,
)
from smsgw.protocols.wire import Layout, ZeroPadded
from tests.strategies import decoded_form, encoded_pdus, frames_strategy, pdu_strategy

#: The status a CMPP peer answers each kind of undecodable request with.
CMPP_STATUSES = {1, 2, 4}

#: Every CMPP 2.0 PDU class with its command id (cmpp20-notes.md README table).
PDU_CLASSES = {
    p.Connect: CommandId.CONNECT,
    p.ConnectResp: CommandId.CONNECT_RESP,
    p.Terminate: CommandId.TERMINATE,
    p.TerminateResp: CommandId.TERMINATE_RESP,
    p.Submit: CommandId.SUBMIT,
    p.SubmitResp: CommandId.SUBMIT_RESP,
    p.Query: CommandId.QUERY,
    p.QueryResp: CommandId.QUERY_RESP,
    p.Deliver: CommandId.DELIVER,
    p.DeliverResp: CommandId.DELIVER_RESP,
    p.Cancel: CommandId.CANCEL,
    p.CancelResp: CommandId.CANCEL_RESP,
    p.ActiveTest: CommandId.ACTIVE_TEST,
    p.ActiveTestResp: CommandId.ACTIVE_TEST_RESP,
    p.Fwd: CommandId.FWD,
    p.FwdResp: CommandId.FWD_RESP,
    p.MtRoute: CommandId.MT_ROUTE,
    p.MtRouteResp: CommandId.MT_ROUTE_RESP,
    p.MoRoute: CommandId.MO_ROUTE,
    p.MoRouteResp: CommandId.MO_ROUTE_RESP,
    p.GetRoute: CommandId.GET_ROUTE,
    p.GetRouteResp: CommandId.GET_ROUTE_RESP,
    p.MtRouteUpdate: CommandId.MT_ROUTE_UPDATE,
    p.MtRouteUpdateResp: CommandId.MT_ROUTE_UPDATE_RESP,
    p.MoRouteUpdate: CommandId.MO_ROUTE_UPDATE,
    p.MoRouteUpdateResp: CommandId.MO_ROUTE_UPDATE_RESP,
    p.PushMtRouteUpdate: CommandId.PUSH_MT_ROUTE_UPDATE,
    p.PushMtRouteUpdateResp: CommandId.PUSH_MT_ROUTE_UPDATE_RESP,
    p.PushMoRouteUpdate: CommandId.PUSH_MO_ROUTE_UPDATE,
    p.PushMoRouteUpdateResp: CommandId.PUSH_MO_ROUTE_UPDATE_RESP,
}

#: Whole-PDU sizes of cmpp20-notes.md section 2, for PDUs with default fields.
SIZES: dict[type, int] = {
    p.Connect: 39,
    p.ConnectResp: 30,
    p.Terminate: 12,
    p.TerminateResp: 12,
    p.SubmitResp: 21,
    p.Query: 39,
    p.QueryResp: 63,
    p.DeliverResp: 21,
    p.Cancel: 20,
    p.CancelResp: 13,
    p.ActiveTest: 12,
    p.ActiveTestResp: 13,
    p.FwdResp: 23,
    p.MtRoute: 39,
    p.MtRouteResp: 56,
    p.MoRoute: 53,
    p.MoRouteResp: 69,
    p.GetRoute: 24,
    p.GetRouteResp: 83,
    p.MtRouteUpdate: 56,
    p.MoRouteUpdate: 79,
    p.PushMtRouteUpdate: 56,
    p.PushMoRouteUpdate: 79,
    p.MtRouteUpdateResp: 13,
    p.MoRouteUpdateResp: 13,
    p.PushMtRouteUpdateResp: 13,
    p.PushMoRouteUpdateResp: 13,
}
#: The variable-size ones: 138 + 21N + L, 85 + L, 152 + 21N + L.
VARIABLE = {p.Submit, p.Deliver, p.Fwd}

_REPORT_20 = Layout(p.Report, cmpp_codec.REPORT_20)
_REPORT_30 = Layout(p.Report, cmpp_codec.REPORT_30)
_MO_REPORT = Layout(p.MoReport, cmpp_codec.MO_REPORT)


def submit_frame(**fields: Any) -> bytes:
    """A CMPP_SUBMIT frame with one destination unless told otherwise."""
    fields.setdefault("dest_terminal_ids", (b"13800138000",))
    return encode(p.Submit(**fields), 1)


def with_length(frame: bytes) -> bytes:
    """*frame* with its Total_Length set to its actual size."""
    return struct.pack(">I", len(frame)) + frame[4:]


@st.composite
def mangled_frames(draw: st.DrawFn) -> bytes:
    """Valid frames mutated, truncated or extended, often with a corrected length field."""
    data = bytearray(draw(frames_strategy(CMPP20)))
    for _ in range(draw(st.integers(0, 3))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(data)))
    data = data[:cut] + draw(st.binary(max_size=40))
    if len(data) >= 4 and draw(st.integers(0, 3)):
        data[:4] = struct.pack(">I", len(data))
    return bytes(data)


@st.composite
def short_bodies(draw: st.DrawFn) -> tuple[type, bytes]:
    """A valid PDU's frame cut short within its body, with the length field corrected."""
    pdu, seq, frame = draw(encoded_pdus(CMPP20))
    size = CMPP20.layouts[type(pdu)].fixed_size
    if size == 0 or (type(pdu) is p.ActiveTestResp):
        frame = encode(p.Submit(), seq)
        pdu = p.Submit()
    cut = draw(st.integers(12, len(frame) - 1))
    return type(pdu), with_length(frame[:cut])


def expected_size(pdu: Any) -> int:
    """The whole-PDU size cmpp20-notes.md section 2 gives for *pdu*."""
    if isinstance(pdu, p.Submit):
        return 138 + 21 * len(pdu.dest_terminal_ids) + len(pdu.msg_content)
    if isinstance(pdu, p.Deliver):
        return 85 + len(pdu.msg_content)
    if isinstance(pdu, p.Fwd):
        return 152 + 21 * len(pdu.dest_ids) + len(pdu.msg_content)
    return SIZES[type(pdu)]


class PerClassRoundTripTests(SynchronousTestCase):
    """One hypothesis round trip per PDU class of ``CMPP20.layouts`` (added below)."""


def _round_trip_test(cls: type, layout: Layout) -> Any:
    """A test that *cls* round-trips through the CMPP 2.0 codec at its documented size."""

    def test(self: SynchronousTestCase, pdu: Any, seq: int) -> None:
        frame = encode(pdu, seq)
        self.assertEqual(len(frame), expected_size(pdu))
        header, decoded = decode(frame)
        self.assertEqual(header, Header(len(frame), layout.command_id, seq))
        self.assertIs(type(decoded), cls)
        self.assertEqual(decoded, decoded_form(layout, pdu))

    # Named before @given wraps it, so each class has its own example database key.
    test.__name__ = f"test_round_trip_{cls.__name__}"
    test.__qualname__ = f"PerClassRoundTripTests.{test.__name__}"
    test.__doc__ = f"{cls.__name__} round-trips with its header and has its section 2 size."
    return given(pdu=pdu_strategy(layout), seq=st.integers(0, 2**32 - 1))(test)


for _cls, _layout in CMPP20.layouts.items():
    _test = _round_trip_test(_cls, _layout)
    setattr(PerClassRoundTripTests, _test.__name__, _test)
del _cls, _layout, _test


class RoundTripTests(SynchronousTestCase):
    """decode(encode(pdu, seq)) gives the header and the PDU back."""

    def test_every_pdu_class_listed(self) -> None:
        """CMPP20 lists every CMPP 2.0 PDU class, each under its command id."""
        self.assertEqual(
            {cls: CMPP20.command_id(cls) for cls in CMPP20.layouts},
            {cls: int(cid) for cls, cid in PDU_CLASSES.items()},
        )
        self.assertEqual(set(CMPP20.by_command), {int(c) for c in PDU_CLASSES.values()})

    @given(encoded_pdus(CMPP20))
    @example((p.Submit(dest_terminal_ids=(b"1",) * 99, msg_content=b"x" * 159), 7, None))
    @example((p.Deliver(msg_content=b"\x00" * 60, registered_delivery=1), 0, None))
    def test_round_trip_random_class(self, case: tuple[Any, int, bytes | None]) -> None:
        """A random PDU of a random class round-trips, and re-encodes to the same bytes."""
        pdu, seq, _ = case
        frame = encode(pdu, seq)
        header, decoded = decode(frame)
        self.assertEqual((header.length, header.sequence_id), (len(frame), seq))
        self.assertEqual(decoded, decoded_form(CMPP20.layouts[type(pdu)], pdu))
        self.assertEqual(encode(decoded, seq), frame)

    def test_defaults_round_trip(self) -> None:
        """Every PDU class with default fields round-trips, gateway codes coming back '0'-padded."""
        for cls, layout in CMPP20.layouts.items():
            pdu = cls()
            expected = attrs.evolve(
                pdu,
                **{
                    name: getattr(pdu, name).rjust(codec.size, b"0")
                    for name, codec in layout.fields
                    if isinstance(codec, ZeroPadded)
                },
            )
            self.assertEqual(decode(encode(pdu, 1))[1], expected, cls.__name__)

    def test_off_wire_fields_keep_defaults(self) -> None:
        """CMPP 3.0-only attributes are not on the 2.0 wire and decode to their defaults."""
        pdu = p.Submit(link_id=b"link", fee_terminal_type=1, dest_terminal_type=1)
        self.assertEqual(len(encode(pdu, 1)), 138)
        self.assertEqual(decode(encode(pdu, 1))[1], p.Submit())


class ArbitraryBytesTests(SynchronousTestCase):
    """decode is total: a PDU or a DecodeError with a CMPP status, never anything else."""

    def check_decode(self, data: bytes) -> None:
        """Decode *data*; fail on any exception but a well-formed DecodeError."""
        try:
            header, pdu = decode(data)
        except DecodeError as e:
            self.assertIn(e.status, CMPP_STATUSES, repr(e))
            if len(data) >= 12:
                (cid,) = struct.unpack_from(">I", data, 4)
                self.assertEqual(e.command_id, cid)
                if cid in CMPP20.by_command:
                    self.assertEqual(e.pdu, CMPP20.by_command[cid].name, repr(e))
            if isinstance(e, TruncatedError):
                self.assertIsNotNone(e.field, repr(e))
        except Exception as e:
            self.fail(f"decode({data!r}) raised {e!r}, not a DecodeError")
        else:
            # Whatever decodes can be encoded again (ZeroPadded fields may come back
            # normalised, so the bytes need not be identical).
            self.assertEqual(header.length, len(data))
            again = encode(pdu, header.sequence_id)
            self.assertIs(type(decode(again)[1]), type(pdu))

    @given(st.binary())
    @example(b"")
    @example(b"\x00\x00\x00")
    @example(b"\x00\x00\x00\x0c\x00\x00\x00")
    @example(b"\x00\x00\x00\x0c\x80\x00\x00\x08\x00\x00\x00\x01")
    @example(b"\x00\x00\x00\x0d\x80\x00\x00\x08\x00\x00\x00\x01")
    @example(b"\x00\x00\x00\x10\x00\x00\x00\x04\x00\x00\x00\x01\x00\x00\x00\x00")
    def test_arbitrary_bytes(self, data: bytes) -> None:
        """Any bytes decode or raise DecodeError with status 1, 2 or 4."""
        self.check_decode(data)

    @given(st.binary(min_size=8).map(lambda b: struct.pack(">I", len(b) + 4) + b))
    def test_arbitrary_body(self, data: bytes) -> None:
        """Any bytes behind a correct length field decode or raise a DecodeError."""
        self.check_decode(data)

    @given(
        st.sampled_from(sorted(CMPP20.by_command)).flatmap(
            lambda cid: st.binary(max_size=200).map(
                lambda body: struct.pack(">III", 12 + len(body), cid, 1) + body
            )
        )
    )
    def test_arbitrary_body_known_command(self, data: bytes) -> None:
        """Any body under a known command id decodes or raises a DecodeError naming the PDU."""
        self.check_decode(data)

    @given(mangled_frames())
    def test_mangled_frames(self, data: bytes) -> None:
        """Mutated, truncated and extended frames decode or raise a DecodeError."""
        self.check_decode(data)

    @given(short_bodies())
    def test_truncated_body_names_field(self, case: tuple[type, bytes]) -> None:
        """A frame cut short in its body is a TruncatedError, status 4, naming the PDU and field."""
        cls, data = case
        e = self.assertRaises(TruncatedError, decode, data)
        self.assertEqual((e.pdu, e.status), (cls.__name__, 4))
        self.assertIsNotNone(e.field)

    @given(frames_strategy(CMPP20), st.binary(min_size=1, max_size=20))
    def test_trailing_garbage(self, frame: bytes, extra: bytes) -> None:
        """Bytes after a PDU's last field (length corrected) are refused with status 4."""
        _, pdu = decode(frame)
        e = self.assertRaises(TrailingBytesError, decode, with_length(frame + extra))
        self.assertEqual((e.status, e.pdu), (4, type(pdu).__name__))


class SizeTests(SynchronousTestCase):
    """Encoded sizes match cmpp20-notes.md section 2."""

    def test_table_covers_every_class(self) -> None:
        """The size table names every CMPP 2.0 PDU class."""
        self.assertEqual(set(SIZES) | VARIABLE, set(CMPP20.layouts))

    def test_fixed_sizes(self) -> None:
        """Each fixed-size PDU encodes to its documented size, whatever its field values."""
        for cls, size in SIZES.items():
            self.assertEqual(len(encode(cls(), 0)), size, cls.__name__)
            self.assertEqual(CMPP20.layouts[cls].fixed_size + 12, size, cls.__name__)

    def test_submit(self) -> None:
        """CMPP_SUBMIT is 138 + 21N + L: 159 for N=1, L=0 and 341 for N=3, L=140."""
        self.assertEqual(len(submit_frame()), 159)
        three = submit_frame(dest_terminal_ids=(b"1", b"2", b"3"), msg_content=b"x" * 140)
        self.assertEqual(len(three), 138 + 63 + 140)
        self.assertEqual(len(submit_frame(dest_terminal_ids=())), 138)

    def test_deliver(self) -> None:
        """CMPP_DELIVER is 85 + L, 145 when carrying a 60-byte report."""
        self.assertEqual(len(encode(p.Deliver(), 1)), 85)
        report = encode_report(p.Report(stat=b"DELIVRD"))
        self.assertEqual(len(encode(p.Deliver(registered_delivery=1, msg_content=report), 1)), 145)

    def test_fwd(self) -> None:
        """CMPP_FWD is 152 + 21N + L."""
        self.assertEqual(len(encode(p.Fwd(), 1)), 152)
        self.assertEqual(len(encode(p.Fwd(dest_ids=(b"1",)), 1)), 173)
        fwd = p.Fwd(dest_ids=(b"1", b"2"), msg_content=b"x" * 60)
        self.assertEqual(len(encode(fwd, 1)), 152 + 42 + 60)

    def test_submit_offsets(self) -> None:
        """SUBMIT fields sit at the offsets of cmpp20-notes.md section 2.1."""
        frame = submit_frame(
            service_id=b"SVC",
            msg_src=b"901234",
            src_id=b"10655",
            dest_terminal_ids=(b"13800138000", b"13900139000"),
            msg_content=b"hi",
            reserve=b"R",
        )
        body = frame[12:]
        self.assertEqual(body[12:22], b"SVC".ljust(10, b"\x00"))
        self.assertEqual(body[47:53], b"901234")
        self.assertEqual(body[53:61], b"01000000")
        self.assertEqual(body[95:116], b"10655".ljust(21, b"\x00"))
        self.assertEqual(body[116], 2)
        self.assertEqual(body[117:138], b"13800138000".ljust(21, b"\x00"))
        self.assertEqual(body[117 + 42], 2)
        self.assertEqual(body[118 + 42 : 118 + 44], b"hi")
        self.assertEqual(body[118 + 44 :], b"R".ljust(8, b"\x00"))

    def test_fwd_zero_padded_gateway_codes(self) -> None:
        """FWD Source_Id and Destination_Id are left-padded with '0' (section 7)."""
        body = encode(p.Fwd(source_id=b"1001", destination_id=b"200101"), 1)[12:]
        self.assertEqual(body[:12], b"001001200101")
        self.assertEqual(decode(encode(p.Fwd(source_id=b"1001"), 1))[1].source_id, b"001001")


class DecodeErrorTests(SynchronousTestCase):
    """Specific inputs and the errors they give."""

    def test_short_active_test_resp(self) -> None:
        """A 12-byte ACTIVE_TEST_RESP (Reserved omitted) decodes with reserved 0."""
        data = struct.pack(">III", 12, 0x80000008, 5)
        self.assertEqual(decode(data), (Header(12, 0x80000008, 5), p.ActiveTestResp(reserved=0)))

    def test_full_active_test_resp(self) -> None:
        """A 13-byte ACTIVE_TEST_RESP decodes its Reserved byte."""
        data = struct.pack(">IIIB", 13, 0x80000008, 5, 9)
        self.assertEqual(decode(data)[1], p.ActiveTestResp(reserved=9))
        self.assertEqual(encode(p.ActiveTestResp(), 5), struct.pack(">IIIB", 13, 0x80000008, 5, 0))

    def test_unknown_command(self) -> None:
        """An unknown command id is an UnknownCommandError with status 2 and the header ids."""
        for cid in (0, 0x00000017, 0x80000017, 0x00000099, 0xFFFFFFFF):
            data = struct.pack(">III", 12, cid, 77)
            e = self.assertRaises(UnknownCommandError, decode, data)
            self.assertEqual((e.status, e.field, e.pdu), (2, "command_id", None))
            self.assertEqual((e.command_id, e.sequence_id), (cid, 77))

    def test_submit_cut_short(self) -> None:
        """A SUBMIT cut short (length corrected) is a TruncatedError, status 4, naming the field."""
        frame = submit_frame(dest_terminal_ids=(b"1", b"2"), msg_content=b"hello")
        # Body offsets (section 2.1): Msg_src 47..53, DestUsr_tl 116, Dest_terminal_Id
        # 117..159, Msg_Length 159, Msg_Content 160..165, Reserve 165..173.
        cases = {
            0: "msg_id",
            7: "msg_id",
            8: "pk_total",
            50: "msg_src",
            116: "dest_terminal_ids",
            117: "dest_terminal_ids",
            158: "dest_terminal_ids",
            159: "msg_content",
            160: "msg_content",
            164: "msg_content",
            165: "reserve",
            172: "reserve",
        }
        for cut, field in cases.items():
            e = self.assertRaises(TruncatedError, decode, with_length(frame[: 12 + cut]))
            self.assertEqual((e.pdu, e.field, e.status), ("Submit", field, 4), cut)
            self.assertEqual(e.command_id, CommandId.SUBMIT)

    def test_count_beyond_frame(self) -> None:
        """A DestUsr_tl promising more destinations than the frame holds names that field."""
        frame = bytearray(submit_frame())
        frame[12 + 116] = 5
        e = self.assertRaises(TruncatedError, decode, bytes(frame))
        self.assertEqual((e.field, e.status), ("dest_terminal_ids", 4))

    def test_length_field_disagrees(self) -> None:
        """A length field that disagrees with the frame size is a DecodeError with status 4."""
        frame = submit_frame()
        for data in (frame[:-1], frame + b"\x00", struct.pack(">I", 12) + frame[4:]):
            e = self.assertRaises(DecodeError, decode, data)
            self.assertIsInstance(e, TruncatedError | TrailingBytesError)
            self.assertEqual((e.pdu, e.field, e.status), ("Submit", "length", 4))
            self.assertEqual((e.command_id, e.sequence_id), (CommandId.SUBMIT, 1))

    def test_length_field_disagrees_unknown_command(self) -> None:
        """A wrong length under an unknown command id is still a length error, without a PDU."""
        e = self.assertRaises(DecodeError, decode, struct.pack(">III", 13, 0x99, 1))
        self.assertEqual((e.pdu, e.field, e.status), (None, "length", 4))

    def test_shorter_than_header(self) -> None:
        """A frame shorter than the header is a TruncatedError naming the header field cut."""
        header = struct.pack(">III", 12, 1, 1)
        for size, field in ((0, "length"), (3, "length"), (4, "command_id"), (11, "sequence_id")):
            e = self.assertRaises(TruncatedError, decode, header[:size])
            self.assertEqual((e.field, e.status), (field, 4), size)

    def test_trailing_bytes(self) -> None:
        """Bytes after a fixed-size PDU (length corrected) are a TrailingBytesError, status 4."""
        e = self.assertRaises(TrailingBytesError, decode, with_length(encode(p.Cancel(), 3) + b"x"))
        self.assertEqual((e.pdu, e.status, e.sequence_id), ("Cancel", 4, 3))

    def test_message_names_pdu_and_field(self) -> None:
        """A DecodeError's text names the PDU and the field."""
        e = self.assertRaises(DecodeError, decode, with_length(submit_frame()[:62]))
        self.assertIn("Submit.msg_src", str(e))


class EncodeErrorTests(SynchronousTestCase):
    """Encoding refuses values that do not fit, naming the field."""

    def assert_refused(self, pdu: object, field: str | None) -> EncodeError:
        """Encoding *pdu* raises an EncodeError naming *field*."""
        e = self.assertRaises(EncodeError, encode, pdu, 1)
        self.assertEqual(e.field, field)
        return e

    def test_too_long_service_id(self) -> None:
        """An 11-byte Service_Id does not fit its 10 bytes."""
        e = self.assert_refused(p.Submit(service_id=b"12345678901"), "service_id")
        self.assertEqual(e.pdu, "Submit")

    def test_too_long_content(self) -> None:
        """256 bytes of content do not fit the 1-byte Msg_Length."""
        self.assert_refused(p.Submit(msg_content=b"x" * 256), "msg_content")
        self.assert_refused(p.Deliver(msg_content=b"x" * 256), "msg_content")
        self.assertEqual(len(encode(p.Submit(msg_content=b"x" * 255), 1)), 138 + 255)

    def test_pk_total_out_of_range(self) -> None:
        """pk_total 300 does not fit one byte."""
        self.assert_refused(p.Submit(pk_total=300), "pk_total")
        self.assert_refused(p.Submit(pk_number=-1), "pk_number")

    def test_str_field(self) -> None:
        """A str where bytes belong is refused, not encoded."""
        self.assert_refused(p.Submit(src_id="10655"), "src_id")  # type: ignore[arg-type]
        self.assert_refused(p.Submit(msg_content="hi"), "msg_content")  # type: ignore[arg-type]
        self.assert_refused(p.Connect(source_addr="901234"), "source_addr")  # type: ignore[arg-type]
        self.assert_refused(
            p.Submit(dest_terminal_ids=("13800138000",)),  # type: ignore[arg-type]
            "dest_terminal_ids",
        )

    def test_too_many_destinations(self) -> None:
        """More than 255 destinations do not fit DestUsr_tl; a 22-byte number does not fit 21."""
        self.assert_refused(p.Submit(dest_terminal_ids=(b"1",) * 256), "dest_terminal_ids")
        self.assert_refused(p.Submit(dest_terminal_ids=(b"1" * 22,)), "dest_terminal_ids")

    def test_other_fields(self) -> None:
        """Out-of-range values of other PDUs name their fields."""
        self.assert_refused(p.Connect(authenticator_source=b"x" * 17), "authenticator_source")
        self.assert_refused(p.Connect(timestamp=2**32), "timestamp")
        self.assert_refused(p.SubmitResp(msg_id=2**64), "msg_id")
        self.assert_refused(p.SubmitResp(msg_id=-1), "msg_id")
        self.assert_refused(p.GetRoute(last_route_id=2**31), "last_route_id")
        self.assert_refused(p.Fwd(source_id=b"1234567"), "source_id")
        self.assert_refused(p.MtRouteResp(gateway_port=65536), "gateway_port")

    def test_sequence_out_of_range(self) -> None:
        """A Sequence_Id beyond 32 bits is refused."""
        self.assertRaises(EncodeError, encode, p.ActiveTest(), 2**32)

    def test_not_a_pdu(self) -> None:
        """A class CMPP 2.0 has no PDU for (e.g. a report) is refused by name."""
        e = self.assertRaises(EncodeError, encode, p.Report(), 1)
        self.assertEqual(e.pdu, "Report")

    def test_get_route_signed(self) -> None:
        """GET_ROUTE's Last_Route_Id is signed: -1 starts the walk."""
        frame = encode(p.GetRoute(source_id=b"001001"), 1)
        self.assertEqual(frame[-4:], b"\xff\xff\xff\xff")
        self.assertEqual(decode(frame)[1].last_route_id, -1)


class ReportTests(SynchronousTestCase):
    """Status report content (section 6) and MO report content (section 7)."""

    @given(pdu_strategy(_REPORT_20))
    @example(p.Report(msg_id=2**64 - 1, stat=b"DELIVRD", dest_terminal_id=b"1" * 21))
    def test_report_60(self, report: p.Report) -> None:
        """A CMPP 2.0 report is 60 bytes and round-trips."""
        content = encode_report(report)
        self.assertEqual(len(content), 60)
        self.assertEqual(decode_report(content), report)

    @given(pdu_strategy(_REPORT_30))
    @example(p.Report(dest_terminal_id=b"1" * 32))
    def test_report_71(self, report: p.Report) -> None:
        """A report with a 32-byte Dest_terminal_Id is 71 bytes and round-trips."""
        content = encode_report(report, dest_width=32)
        self.assertEqual(len(content), 71)
        self.assertEqual(decode_report(content), report)

    def test_report_layout(self) -> None:
        """Report fields sit at the section 6 offsets."""
        report = p.Report(
            msg_id=0x37B1E3C003E9002A,
            stat=b"DELIVRD",
            submit_time=b"2503151230",
            done_time=b"2503151231",
            dest_terminal_id=b"13800138000",
            smsc_sequence=7,
        )
        expected = struct.pack(
            ">Q7s10s10s21sI",
            0x37B1E3C003E9002A,
            b"DELIVRD",
            b"2503151230",
            b"2503151231",
            b"13800138000",
            7,
        )
        self.assertEqual(encode_report(report), expected)

    def test_report_too_wide_for_60(self) -> None:
        """A 22-byte Dest_terminal_Id does not fit the 60-byte layout."""
        e = self.assertRaises(EncodeError, encode_report, p.Report(dest_terminal_id=b"1" * 22))
        self.assertEqual(e.field, "dest_terminal_id")

    @given(st.binary(max_size=200).filter(lambda b: len(b) not in (60, 71)))
    @example(b"")
    @example(b"\x00" * 59)
    @example(b"\x00" * 61)
    @example(b"\x00" * 70)
    @example(b"\x00" * 72)
    def test_report_other_lengths(self, content: bytes) -> None:
        """Report content of any length but 60 or 71 is a DecodeError with status 1."""
        e = self.assertRaises(DecodeError, decode_report, content)
        self.assertEqual((e.status, e.pdu, e.field), (1, "Deliver", "msg_content"))

    @given(st.binary(min_size=60, max_size=60) | st.binary(min_size=71, max_size=71))
    def test_report_any_content(self, content: bytes) -> None:
        """Any 60 or 71 bytes parse as a report."""
        self.assertIsInstance(decode_report(content), p.Report)

    def test_report_inside_deliver(self) -> None:
        """A report rides in a DELIVER's Msg_Content and comes back out."""
        report = p.Report(msg_id=42, stat=b"UNDELIV", dest_terminal_id=b"13800138000")
        deliver = p.Deliver(registered_delivery=1, msg_content=encode_report(report))
        _, decoded = decode(encode(deliver, 9))
        self.assertEqual(decode_report(decoded.msg_content), report)

    @given(pdu_strategy(_MO_REPORT))
    def test_mo_report(self, report: p.MoReport) -> None:
        """An MO status report is 60 bytes and round-trips."""
        content = encode_mo_report(report)
        self.assertEqual(len(content), 60)
        self.assertEqual(decode_mo_report(content), report)

    def test_mo_report_inside_fwd(self) -> None:
        """An MO report rides in a FWD of type 3 and comes back out."""
        report = p.MoReport(msg_id=1, stat=b"DELIVRD", dest_id=b"10655")
        fwd = p.Fwd(msg_fwd_type=3, msg_content=encode_mo_report(report))
        self.assertEqual(decode_mo_report(decode(encode(fwd, 1))[1].msg_content), report)

    def test_mo_report_wrong_length(self) -> None:
        """MO report content of the wrong length is a DecodeError naming Fwd.msg_content."""
        for size in (0, 59, 61):
            e = self.assertRaises(DecodeError, decode_mo_report, bytes(size))
            self.assertEqual(e.pdu, "Fwd", size)
            self.assertIn(e.status, CMPP_STATUSES)
            self.assertTrue(e.field and e.field.startswith("msg_content"), e.field)
            self.assertNotIn("None", str(e))
