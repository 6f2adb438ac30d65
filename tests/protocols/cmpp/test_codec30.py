"""Tests for :mod:`smsgw.protocols.cmpp.codec30`: the CMPP 3.0 tables and codec.

Sizes follow cmpp30.md section 2 (SP ⇄ ISMG and FWD) and section 7 (GNS);
offsets the section 3 and 4 tables; the golden CONNECT values
cmpp20-notes.md section 4.
"""

from __future__ import annotations

import struct
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.auth import authenticator_ismg, authenticator_source
from smsgw.protocols.cmpp.codec import CMPP20
from smsgw.protocols.cmpp.codec30 import CMPP30, decode30, decode_report, encode30, encode_report
from smsgw.protocols.cmpp.constants import CommandId
from smsgw.protocols.codec import Header
from smsgw.protocols.errors import (
    DecodeError,
    EncodeError,
    TrailingBytesError,
    TruncatedError,
    UnknownCommandError,
)
from tests.strategies import decoded_form, encoded_pdus, frames_strategy, pdu_strategy

#: The status a CMPP peer answers each kind of undecodable request with.
CMPP_STATUSES = {1, 2, 4}

C = CommandId
#: Every CMPP 3.0 PDU class with its command id (cmpp30.md section 5).
PDU_CLASSES = {
    p.Connect: C.CONNECT,
    p.ConnectResp: C.CONNECT_RESP,
    p.Terminate: C.TERMINATE,
    p.TerminateResp: C.TERMINATE_RESP,
    p.Submit: C.SUBMIT,
    p.SubmitResp: C.SUBMIT_RESP,
    p.Query: C.QUERY,
    p.QueryResp: C.QUERY_RESP,
    p.Deliver: C.DELIVER,
    p.DeliverResp: C.DELIVER_RESP,
    p.Cancel: C.CANCEL,
    p.CancelResp: C.CANCEL_RESP,
    p.ActiveTest: C.ACTIVE_TEST,
    p.ActiveTestResp: C.ACTIVE_TEST_RESP,
    p.Fwd: C.FWD,
    p.FwdResp: C.FWD_RESP,
    p.MtRoute: C.MT_ROUTE,
    p.MtRouteResp: C.MT_ROUTE_RESP,
    p.MoRoute: C.MO_ROUTE,
    p.MoRouteResp: C.MO_ROUTE_RESP,
    p.GetMtRoute: 0x00000012,
    p.GetMtRouteResp: 0x80000012,
    p.MtRouteUpdate: C.MT_ROUTE_UPDATE,
    p.MtRouteUpdateResp: C.MT_ROUTE_UPDATE_RESP,
    p.MoRouteUpdate: C.MO_ROUTE_UPDATE,
    p.MoRouteUpdateResp: C.MO_ROUTE_UPDATE_RESP,
    p.PushMtRouteUpdate: C.PUSH_MT_ROUTE_UPDATE,
    p.PushMtRouteUpdateResp: C.PUSH_MT_ROUTE_UPDATE_RESP,
    p.PushMoRouteUpdate: C.PUSH_MO_ROUTE_UPDATE,
    p.PushMoRouteUpdateResp: C.PUSH_MO_ROUTE_UPDATE_RESP,
    p.GetMoRoute: 0x00000017,
    p.GetMoRouteResp: 0x80000017,
}

#: Whole-PDU sizes: cmpp30.md section 2, and 12 + the section 7 bodies.
SIZES: dict[type, int] = {
    p.Connect: 39,
    p.ConnectResp: 33,
    p.Terminate: 12,
    p.TerminateResp: 12,
    p.SubmitResp: 24,
    p.Query: 39,
    p.QueryResp: 63,
    p.DeliverResp: 24,
    p.Cancel: 20,
    p.CancelResp: 16,
    p.ActiveTest: 12,
    p.ActiveTestResp: 13,
    p.FwdResp: 26,
    p.MtRoute: 12 + 27,
    p.MtRouteResp: 12 + 65,
    p.MoRoute: 12 + 41,
    p.MoRouteResp: 12 + 78,
    p.GetMtRoute: 12 + 14,
    p.GetMoRoute: 12 + 14,
    p.GetMtRouteResp: 12 + 73,
    p.GetMoRouteResp: 12 + 96,
    p.MtRouteUpdate: 12 + 51,
    p.MtRouteUpdateResp: 12 + 19,
    p.MoRouteUpdate: 12 + 74,
    p.MoRouteUpdateResp: 12 + 19,
    p.PushMtRouteUpdate: 12 + 65,
    p.PushMoRouteUpdate: 12 + 88,
    p.PushMtRouteUpdateResp: 13,
    p.PushMoRouteUpdateResp: 13,
}
#: The variable-size ones: 163 + 32N + L, 109 + L, 264 + 21N + L.
VARIABLE = {p.Submit, p.Deliver, p.Fwd}

#: cmpp20-notes.md section 4 inputs.
SP_ID, SECRET, TIMESTAMP = b"901234", b"123456", 315123015
AUTH_SOURCE = bytes.fromhex("082135d5a4949795b4a435bec12ae19f")
AUTH_ISMG_30 = bytes.fromhex("d24265da3e0c679f0fc8871ef3a786d5")


def submit_frame(**fields: Any) -> bytes:
    """A CMPP 3.0 SUBMIT frame with one destination unless told otherwise."""
    fields.setdefault("dest_terminal_ids", (b"13800138000",))
    return encode30(p.Submit(**fields), 1)


def zero_padded(pdu: Any) -> Any:
    """*pdu* as it decodes: its ISMG codes left-padded with '0' (ZeroPadded fields)."""
    return decoded_form(CMPP30.layouts[type(pdu)], pdu)


def with_length(frame: bytes) -> bytes:
    """*frame* with its Total_Length set to its actual size."""
    return struct.pack(">I", len(frame)) + frame[4:]


@st.composite
def mangled_frames(draw: st.DrawFn) -> bytes:
    """Valid 3.0 frames mutated, truncated or extended, often with a corrected length field."""
    data = bytearray(draw(frames_strategy(CMPP30)))
    for _ in range(draw(st.integers(0, 3))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(data)))
    data = data[:cut] + draw(st.binary(max_size=40))
    if len(data) >= 4 and draw(st.integers(0, 3)):
        data[:4] = struct.pack(">I", len(data))
    return bytes(data)


@st.composite
def short_bodies(draw: st.DrawFn) -> tuple[type, bytes]:
    """A valid 3.0 PDU's frame cut short within its body, with the length field corrected."""
    pdu, seq, frame = draw(encoded_pdus(CMPP30))
    if CMPP30.layouts[type(pdu)].fixed_size == 0 or type(pdu) is p.ActiveTestResp:
        pdu = p.Submit()
        frame = encode30(pdu, seq)
    cut = draw(st.integers(12, len(frame) - 1))
    return type(pdu), with_length(frame[:cut])


class RoundTripTests(SynchronousTestCase):
    """decode30(encode30(pdu, seq)) gives the header and the PDU back."""

    def test_every_pdu_class_listed(self) -> None:
        """CMPP30 lists every CMPP 3.0 PDU class, each under its command id."""
        self.assertEqual(
            {cls: CMPP30.command_id(cls) for cls in CMPP30.layouts},
            {cls: int(cid) for cls, cid in PDU_CLASSES.items()},
        )
        self.assertEqual(set(CMPP30.by_command), {int(c) for c in PDU_CLASSES.values()})

    @given(st.data())
    def test_round_trip_every_class(self, data: st.DataObject) -> None:
        """Every PDU class of CMPP30.layouts round-trips with its header."""
        for cls, layout in CMPP30.layouts.items():
            pdu = data.draw(pdu_strategy(layout), label=cls.__name__)
            seq = data.draw(st.integers(0, 2**32 - 1), label="seq")
            frame = encode30(pdu, seq)
            header, decoded = decode30(frame)
            self.assertEqual(header, Header(len(frame), CMPP30.command_id(cls), seq))
            self.assertIs(type(decoded), cls)
            self.assertEqual(decoded, zero_padded(pdu))

    @given(encoded_pdus(CMPP30))
    @example((p.Submit(dest_terminal_ids=(b"1" * 32,) * 99, msg_content=b"x" * 159), 7, None))
    @example((p.Deliver(msg_content=b"\x00" * 71, registered_delivery=1), 0, None))
    @example((p.Fwd(b"200101", b"100101", dest_ids=(b"1",), msg_content=b"x" * 255), 1, None))
    @example((p.SubmitResp(msg_id=2**64 - 1, result=2**32 - 1), 2**32 - 1, None))
    def test_round_trip_random_class(self, case: tuple[Any, int, bytes | None]) -> None:
        """A random PDU of a random class round-trips, and re-encodes to the same bytes."""
        pdu, seq, _ = case
        frame = encode30(pdu, seq)
        header, decoded = decode30(frame)
        self.assertEqual((header.length, header.sequence_id), (len(frame), seq))
        self.assertEqual(decoded, zero_padded(pdu))
        self.assertEqual(encode30(decoded, seq), frame)

    def test_defaults_round_trip(self) -> None:
        """Every PDU class with default fields round-trips, gateway codes coming back '0'-padded."""
        for cls in CMPP30.layouts:
            pdu = cls()
            self.assertEqual(decode30(encode30(pdu, 1))[1], zero_padded(pdu), cls.__name__)

    def test_off_wire_fields_keep_defaults(self) -> None:
        """CMPP 2.0-only Reserve fields are not on the 3.0 wire and decode to their defaults."""
        submit = p.Submit(reserve=b"R", dest_terminal_ids=(b"1",))
        self.assertEqual(len(encode30(submit, 1)), 163 + 32)
        self.assertEqual(decode30(encode30(submit, 1))[1], p.Submit(dest_terminal_ids=(b"1",)))
        self.assertEqual(decode30(encode30(p.Deliver(reserved=b"R"), 1))[1], p.Deliver())
        fwd = decode30(encode30(p.Fwd(reserve=b"R"), 1))[1]
        self.assertEqual(fwd, zero_padded(p.Fwd()))

    def test_shared_classes_differ_by_version(self) -> None:
        """One SubmitResp encodes as 21 bytes in 2.0 and 24 in 3.0, and reads back in each."""
        resp = p.SubmitResp(msg_id=1, result=8)
        self.assertEqual(len(CMPP20.encode(resp, 1)), 21)
        self.assertEqual(len(encode30(resp, 1)), 24)
        self.assertEqual(CMPP20.decode(CMPP20.encode(resp, 1))[1], resp)
        self.assertEqual(decode30(encode30(resp, 1))[1], resp)

    def test_wide_results(self) -> None:
        """3.0 results are 4 bytes: vendor codes 100-199 fit, which 2.0's 1 byte may not."""
        for pdu in (
            p.SubmitResp(result=199),
            p.DeliverResp(result=150),
            p.FwdResp(result=300),
            p.CancelResp(success_id=2**32 - 1),
            p.ConnectResp(status=256),
        ):
            self.assertEqual(decode30(encode30(pdu, 1))[1], pdu)
        self.assertRaises(EncodeError, CMPP20.encode, p.FwdResp(result=300), 1)


class ArbitraryBytesTests(SynchronousTestCase):
    """decode30 is total: a PDU or a DecodeError with a CMPP status, never anything else."""

    def check_decode(self, data: bytes) -> None:
        """Decode *data*; fail on any exception but a well-formed DecodeError."""
        try:
            header, pdu = decode30(data)
        except DecodeError as e:
            self.assertIn(e.status, CMPP_STATUSES, repr(e))
            if len(data) >= 12:
                (cid,) = struct.unpack_from(">I", data, 4)
                self.assertEqual(e.command_id, cid)
                if cid in CMPP30.by_command:
                    self.assertEqual(e.pdu, CMPP30.by_command[cid].name, repr(e))
        except Exception as e:
            self.fail(f"decode30({data!r}) raised {e!r}, not a DecodeError")
        else:
            # Whatever decodes encodes again, to the same PDU once gateway codes
            # are '0'-padded (a code decoded with trailing NULs is normalised).
            self.assertEqual(header.length, len(data))
            self.assertEqual(decode30(encode30(pdu, header.sequence_id))[1], zero_padded(pdu))

    @given(st.binary())
    @example(b"")
    @example(b"\x00\x00\x00\x0c\x80\x00\x00\x17\x00\x00\x00\x01")
    @example(b"\x00\x00\x00\x0c\x00\x00\x00\x04\x00\x00\x00\x01")
    def test_arbitrary_bytes(self, data: bytes) -> None:
        """Any bytes decode or raise DecodeError with status 1, 2 or 4."""
        self.check_decode(data)

    @given(st.binary(min_size=8).map(lambda b: struct.pack(">I", len(b) + 4) + b))
    def test_arbitrary_body(self, data: bytes) -> None:
        """Any bytes behind a correct length field decode or raise a DecodeError."""
        self.check_decode(data)

    @given(
        st.sampled_from(sorted(CMPP30.by_command)).flatmap(
            lambda cid: st.binary(max_size=300).map(
                lambda body: struct.pack(">III", 12 + len(body), cid, 1) + body
            )
        )
    )
    def test_arbitrary_body_known_command(self, data: bytes) -> None:
        """Any body under a known 3.0 command id decodes or raises a DecodeError naming the PDU."""
        self.check_decode(data)

    @given(mangled_frames())
    def test_mangled_frames(self, data: bytes) -> None:
        """Mutated, truncated and extended 3.0 frames decode or raise a DecodeError."""
        self.check_decode(data)

    @given(frames_strategy(CMPP20))
    def test_cmpp20_frames(self, data: bytes) -> None:
        """2.0 frames read with the 3.0 codec decode or raise a DecodeError, never crash."""
        self.check_decode(data)

    @given(short_bodies())
    def test_truncated_body_names_field(self, case: tuple[type, bytes]) -> None:
        """A 3.0 frame cut short in its body is a TruncatedError, status 4, naming the field."""
        cls, data = case
        e = self.assertRaises(TruncatedError, decode30, data)
        self.assertEqual((e.pdu, e.status), (cls.__name__, 4))
        self.assertIsNotNone(e.field)

    def test_unknown_command(self) -> None:
        """Command ids 3.0 does not define are UnknownCommandErrors with status 2."""
        for cid in (0, 0x00000003, 0x00000018, 0x80000018, 0xFFFFFFFF):
            e = self.assertRaises(UnknownCommandError, decode30, struct.pack(">III", 12, cid, 5))
            self.assertEqual((e.status, e.command_id, e.sequence_id), (2, cid, 5))

    def test_trailing_bytes(self) -> None:
        """Bytes after a fixed-size 3.0 PDU (length corrected) are a TrailingBytesError."""
        frame = with_length(encode30(p.CancelResp(), 3) + b"x")
        e = self.assertRaises(TrailingBytesError, decode30, frame)
        self.assertEqual((e.pdu, e.status), ("CancelResp", 4))

    def test_cmpp20_connect_resp_is_a_length_error(self) -> None:
        """A 30-byte 2.0 CONNECT_RESP read as 3.0 is a length error on Status, not garbage."""
        frame = CMPP20.encode(p.ConnectResp(), 1)
        e = self.assertRaises(TruncatedError, decode30, frame)
        self.assertEqual((e.pdu, e.status), ("ConnectResp", 4))


class SizeTests(SynchronousTestCase):
    """Encoded sizes match cmpp30.md sections 2 and 7."""

    def test_table_covers_every_class(self) -> None:
        """The size table names every CMPP 3.0 PDU class."""
        self.assertEqual(set(SIZES) | VARIABLE, set(CMPP30.layouts))

    def test_fixed_sizes(self) -> None:
        """Each fixed-size PDU encodes to its documented size."""
        for cls, size in SIZES.items():
            self.assertEqual(len(encode30(cls(), 0)), size, cls.__name__)
            self.assertEqual(CMPP30.layouts[cls].fixed_size + 12, size, cls.__name__)

    @given(st.data())
    def test_fixed_sizes_any_values(self, data: st.DataObject) -> None:
        """Fixed-size PDUs keep their size with any field values."""
        for cls, size in SIZES.items():
            pdu = data.draw(pdu_strategy(CMPP30.layouts[cls]), label=cls.__name__)
            self.assertEqual(len(encode30(pdu, 0)), size)

    def test_submit(self) -> None:
        """CMPP_SUBMIT is 163 + 32N + L: 335 for one destination and 140 bytes (section 3)."""
        self.assertEqual(len(submit_frame(dest_terminal_ids=())), 163)
        self.assertEqual(len(submit_frame(msg_content=b"x" * 140)), 335)
        three = submit_frame(dest_terminal_ids=(b"1", b"2", b"3"), msg_content=b"x" * 70)
        self.assertEqual(len(three), 163 + 96 + 70)

    def test_deliver(self) -> None:
        """CMPP_DELIVER is 109 + L, 180 when carrying a 71-byte report."""
        self.assertEqual(len(encode30(p.Deliver(), 1)), 109)
        report = encode_report(p.Report(stat=b"DELIVRD"), dest_width=32)
        deliver = p.Deliver(registered_delivery=1, msg_content=report)
        self.assertEqual(len(encode30(deliver, 1)), 180)

    def test_fwd(self) -> None:
        """CMPP_FWD is 264 + 21N + L: 285 for the mandatory single destination."""
        self.assertEqual(len(encode30(p.Fwd(), 1)), 264)
        self.assertEqual(len(encode30(p.Fwd(dest_ids=(b"1",)), 1)), 285)
        fwd = p.Fwd(dest_ids=(b"1",), msg_content=b"x" * 71)
        self.assertEqual(len(encode30(fwd, 1)), 285 + 71)

    @given(st.data())
    def test_variable_sizes(self, data: st.DataObject) -> None:
        """SUBMIT, DELIVER and FWD sizes follow their formulas for any N and L."""
        submit = data.draw(pdu_strategy(CMPP30.layouts[p.Submit]))
        n, length = len(submit.dest_terminal_ids), len(submit.msg_content)
        self.assertEqual(len(encode30(submit, 1)), 163 + 32 * n + length)
        deliver = data.draw(pdu_strategy(CMPP30.layouts[p.Deliver]))
        self.assertEqual(len(encode30(deliver, 1)), 109 + len(deliver.msg_content))
        fwd = data.draw(pdu_strategy(CMPP30.layouts[p.Fwd]))
        n, length = len(fwd.dest_ids), len(fwd.msg_content)
        self.assertEqual(len(encode30(fwd, 1)), 264 + 21 * n + length)


class OffsetTests(SynchronousTestCase):
    """Fields sit at the body offsets of the cmpp30.md section 3, 4 and 7 tables."""

    def test_submit_offsets(self) -> None:
        """SUBMIT: Fee_terminal_Id 32 at 23, the *_type bytes, 32-byte destinations, LinkID."""
        body = submit_frame(
            service_id=b"SVC",
            fee_user_type=3,
            fee_terminal_id=b"1" * 32,
            fee_terminal_type=1,
            msg_fmt=15,
            msg_src=b"901234",
            src_id=b"10655",
            dest_terminal_ids=(b"13800138000", b"13900139000"),
            dest_terminal_type=1,
            msg_content=b"hi",
            link_id=b"L" * 20,
        )[12:]
        self.assertEqual(body[12:22], b"SVC".ljust(10, b"\x00"))
        self.assertEqual(body[22], 3)
        self.assertEqual(body[23:55], b"1" * 32)
        self.assertEqual(body[55], 1)
        self.assertEqual(body[58], 15)
        self.assertEqual(body[59:65], b"901234")
        self.assertEqual(body[65:73], b"01000000")
        self.assertEqual(body[107:128], b"10655".ljust(21, b"\x00"))
        self.assertEqual(body[128], 2)
        self.assertEqual(body[129:161], b"13800138000".ljust(32, b"\x00"))
        self.assertEqual(body[161:193], b"13900139000".ljust(32, b"\x00"))
        n = 2
        self.assertEqual(body[129 + 32 * n], 1)
        self.assertEqual(body[130 + 32 * n], 2)
        self.assertEqual(body[131 + 32 * n : 133 + 32 * n], b"hi")
        self.assertEqual(body[133 + 32 * n :], b"L" * 20)

    def test_deliver_offsets(self) -> None:
        """DELIVER: Src_terminal_Id 32 at 42, Src_terminal_type 74, content at 77, LinkID last."""
        deliver = p.Deliver(
            msg_id=0x0102030405060708,
            dest_id=b"10655",
            service_id=b"SVC",
            tp_pid=1,
            tp_udhi=1,
            msg_fmt=8,
            src_terminal_id=b"8613800138000",
            src_terminal_type=1,
            registered_delivery=0,
            msg_content=b"\x00h\x00i",
            link_id=b"LINK",
        )
        expected = struct.pack(
            ">Q21s10sBBB32sBBB4s20s",
            0x0102030405060708,
            b"10655",
            b"SVC",
            1,
            1,
            8,
            b"8613800138000",
            1,
            0,
            4,
            b"\x00h\x00i",
            b"LINK",
        )
        self.assertEqual(encode30(deliver, 1)[12:], expected)

    def test_fwd_offsets(self) -> None:
        """FWD: the pseudo-number fields at 58, 90, 163, 195, 196 and after Dest_Id."""
        fwd = p.Fwd(
            source_id=b"1001",
            destination_id=b"200101",
            fee_terminal_id=b"13800138000",
            fee_terminal_pseudo=b"P" * 32,
            fee_terminal_user_type=1,
            src_id=b"10655",
            src_pseudo=b"Q" * 32,
            src_user_type=1,
            src_type=1,
            dest_ids=(b"13900139000",),
            dest_pseudo=b"R" * 32,
            dest_user_type=1,
            msg_content=b"hello",
            link_id=b"L" * 20,
        )
        body = encode30(fwd, 1)[12:]
        self.assertEqual(body[:12], b"001001200101")
        self.assertEqual(body[37:58], b"13800138000".ljust(21, b"\x00"))
        self.assertEqual(body[58:90], b"P" * 32)
        self.assertEqual(body[90], 1)
        self.assertEqual(body[142:163], b"10655".ljust(21, b"\x00"))
        self.assertEqual(body[163:195], b"Q" * 32)
        self.assertEqual((body[195], body[196], body[197]), (1, 1, 1))
        self.assertEqual(body[198:219], b"13900139000".ljust(21, b"\x00"))
        self.assertEqual(body[219:251], b"R" * 32)
        self.assertEqual((body[251], body[252]), (1, 5))
        self.assertEqual(body[253:258], b"hello")
        self.assertEqual(body[258:], b"L" * 20)

    def test_gns_offsets(self) -> None:
        """GET_MO_ROUTE_RESP fields sit at the section 7 offsets; GET_MT_ROUTE's Route_type is 4."""
        resp = p.GetMoRouteResp(
            route_id=1,
            destination_id=b"200101",
            gateway_ip=b"10.1.2.3",
            gateway_port=7890,
            sp_id=b"901234",
            sp_code=b"10655",
            sp_access_type=1,
            service_id=b"SVC",
            start_code=2,
            end_code=3,
            result=0,
            route_total=9,
            route_number=4,
            time_stamp=b"20250315123015",
        )
        body = encode30(resp, 1)[12:]
        self.assertEqual(body[27:33], b"901234")
        self.assertEqual(body[54], 1)
        self.assertEqual(body[55:65], b"SVC".ljust(10, b"\x00"))
        self.assertEqual(struct.unpack_from(">IIBII", body, 65), (2, 3, 0, 9, 4))
        self.assertEqual(body[82:], b"20250315123015")
        request = encode30(p.GetMtRoute(source_id=b"200101", last_route_id=-1), 1)[12:]
        self.assertEqual(request, b"200101MT\x00\x00\xff\xff\xff\xff")
        self.assertEqual(decode30(encode30(p.GetMoRoute(), 1))[1].route_type, b"MO")


class GoldenTests(SynchronousTestCase):
    """Byte-exact vectors (cmpp20-notes.md section 4, cmpp30.md section 3)."""

    def test_connect_30(self) -> None:
        """The worked CONNECT with Version 0x30 is 39 bytes with the known AuthenticatorSource."""
        auth = authenticator_source(SP_ID, SECRET, TIMESTAMP)
        self.assertEqual(auth, AUTH_SOURCE)
        frame = encode30(p.Connect(SP_ID, auth, 0x30, TIMESTAMP), 1)
        self.assertEqual(
            frame.hex(),
            "00000027" "00000001" "00000001" "393031323334"
            "082135d5a4949795b4a435bec12ae19f" "30" "12c86547",
        )  # fmt: skip
        self.assertEqual(decode30(frame)[1], p.Connect(SP_ID, auth, 0x30, TIMESTAMP))

    def test_connect_resp_30(self) -> None:
        """The 3.0 AuthenticatorISMG (4-byte Status) rides in a 33-byte CONNECT_RESP."""
        digest = authenticator_ismg(0, AUTH_SOURCE, SECRET, status_width=4)
        self.assertEqual(digest, AUTH_ISMG_30)
        frame = encode30(p.ConnectResp(0, digest, 0x30), 1)
        self.assertEqual(
            frame.hex(),
            "00000021" "80000001" "00000001" "00000000"
            "d24265da3e0c679f0fc8871ef3a786d5" "30",
        )  # fmt: skip
        self.assertEqual(decode30(frame)[1], p.ConnectResp(0, AUTH_ISMG_30, 0x30))

    def test_report_deliver(self) -> None:
        """A 71-byte report rides in a 180-byte DELIVER, byte for byte, and comes back out."""
        report = p.Report(
            msg_id=0x37B1E3C003E9002A,
            stat=b"MB:0001",
            submit_time=b"2503151230",
            done_time=b"2503151231",
            dest_terminal_id=b"8613800138000",
            smsc_sequence=7,
        )
        content = encode_report(report, dest_width=32)
        expected_content = struct.pack(
            ">Q7s10s10s32sI",
            0x37B1E3C003E9002A,
            b"MB:0001",
            b"2503151230",
            b"2503151231",
            b"8613800138000",
            7,
        )
        self.assertEqual(content, expected_content)
        self.assertEqual(len(content), 71)
        deliver = p.Deliver(
            msg_id=0x37B1E3C003E9002B,
            dest_id=b"10655",
            service_id=b"SVC",
            src_terminal_id=b"8613800138000",
            registered_delivery=1,
            msg_content=content,
        )
        frame = encode30(deliver, 0x01020304)
        expected = (
            struct.pack(">III", 180, 0x00000005, 0x01020304)
            + struct.pack(
                ">Q21s10sBBB32sBBB",
                0x37B1E3C003E9002B,
                b"10655",
                b"SVC",
                0,
                0,
                0,
                b"8613800138000",
                0,
                1,
                71,
            )
            + expected_content
            + b"\x00" * 20
        )
        self.assertEqual(frame, expected)
        header, decoded = decode30(frame)
        self.assertEqual(header, Header(180, 0x00000005, 0x01020304))
        self.assertEqual(decoded, deliver)
        self.assertEqual(decode_report(decoded.msg_content), report)


class EncodeErrorTests(SynchronousTestCase):
    """Encoding refuses values that do not fit, naming the field, and PDUs 3.0 lacks."""

    def assert_refused(self, pdu: object, field: str | None) -> EncodeError:
        """Encoding *pdu* with CMPP30 raises an EncodeError naming *field*."""
        e: EncodeError = self.assertRaises(EncodeError, encode30, pdu, 1)
        self.assertEqual(e.field, field)
        return e

    def test_widths(self) -> None:
        """33-byte terminal ids, 21-byte LinkIDs and 22-byte FWD Fee_terminal_Ids do not fit."""
        self.assert_refused(p.Submit(fee_terminal_id=b"1" * 33), "fee_terminal_id")
        self.assert_refused(p.Submit(dest_terminal_ids=(b"1" * 33,)), "dest_terminal_ids")
        self.assert_refused(p.Submit(link_id=b"L" * 21), "link_id")
        self.assert_refused(p.Deliver(src_terminal_id=b"1" * 33), "src_terminal_id")
        self.assert_refused(p.Fwd(fee_terminal_id=b"1" * 22), "fee_terminal_id")
        self.assert_refused(p.Fwd(dest_pseudo=b"1" * 33), "dest_pseudo")
        self.assert_refused(p.GetMtRoute(route_type=b"MTMTM"), "route_type")
        self.assert_refused(p.MtRouteResp(start_id=b"1" * 10), "start_id")
        self.assert_refused(p.MoRouteResp(sp_id=b"1" * 7), "sp_id")
        self.assert_refused(p.SubmitResp(result=2**32), "result")

    def test_thirty_two_byte_numbers_fit(self) -> None:
        """3.0 carries 32-byte terminal ids that 2.0 refuses."""
        submit = p.Submit(fee_terminal_id=b"1" * 32, dest_terminal_ids=(b"2" * 32,))
        self.assertEqual(decode30(encode30(submit, 1))[1], submit)
        self.assertRaises(EncodeError, CMPP20.encode, submit, 1)

    def test_version_specific_classes(self) -> None:
        """GET_ROUTE exists only in 2.0, GET_MT_ROUTE and GET_MO_ROUTE only in 3.0."""
        e = self.assertRaises(EncodeError, encode30, p.GetRoute(), 1)
        self.assertEqual(e.pdu, "GetRoute")
        for cls in (p.GetMtRoute, p.GetMtRouteResp, p.GetMoRoute, p.GetMoRouteResp):
            self.assertRaises(EncodeError, CMPP20.encode, cls(), 1)
        self.assertRaises(EncodeError, encode30, p.Report(), 1)
