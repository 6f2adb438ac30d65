"""Tests for :mod:`smsgw.protocols.smgp.codec` and :mod:`.msgid`: every PDU, sizes, errors."""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import datetime
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.cmpp.auth import BEIJING
from smsgw.protocols.codec import ProtocolCodec
from smsgw.protocols.errors import (
    DecodeError,
    EncodeError,
    ErrorKind,
    TrailingBytesError,
    TruncatedError,
    UnknownCommandError,
)
from smsgw.protocols.smgp import codec as c
from smsgw.protocols.smgp import msgid
from smsgw.protocols.smgp import pdus as p
from smsgw.protocols.smgp.constants import (
    MAX_LENGTH,
    RESPONSE_BIT,
    VERSION_13,
    VERSION_30,
    RequestId,
    Status,
)
from smsgw.protocols.smgp.tlv import Tlv
from smsgw.protocols.wire import Layout
from tests.protocols.smgp import smgp_pdus, tlv_lists

_LAYOUTS = sorted(c.SMGP30.layouts.values(), key=lambda layout: layout.name)
_HEADER = struct.Struct(">III")

#: Whole-PDU sizes of smgp30.md §5 with no receivers, content or TLVs.
SIZES = {
    p.Login: 42,
    p.LoginResp: 33,
    p.Submit: 126,
    p.SubmitResp: 26,
    p.Deliver: 89,
    p.DeliverResp: 26,
    p.Forward: 174,
    p.ForwardResp: 26,
    p.ActiveTest: 12,
    p.ActiveTestResp: 12,
    p.Exit: 12,
    p.ExitResp: 12,
    p.Query: 31,
    p.QueryResp: 71,
    p.QueryTeRoute: 39,
    p.QuerySpRoute: 39,
    p.QueryTeRouteResp: 72,
    p.QuerySpRouteResp: 88,
    p.GetAllTeRoute: 26,
    p.GetAllSpRoute: 26,
    p.GetAllTeRouteResp: 80,
    p.GetAllSpRouteResp: 96,
    p.UpdateTeRoute: 55,
    p.UpdateSpRoute: 71,
    p.UpdateTeRouteResp: 34,
    p.UpdateSpRouteResp: 34,
    p.PushUpdateTeRoute: 69,
    p.PushUpdateSpRoute: 85,
    p.PushUpdateTeRouteResp: 16,
    p.PushUpdateSpRouteResp: 16,
}


def _frame(request_id: int, body: bytes, seq: int = 7) -> bytes:
    return _HEADER.pack(12 + len(body), request_id, seq) + body


class TableTests(SynchronousTestCase):
    """The tables cover §4 and agree with §5."""

    def test_every_request_id_but_billing(self) -> None:
        """Every §4 id except 0x0A–0x0C has a PDU class."""
        billing = {0x0A, 0x0B, 0x0C}
        expected = {int(r) for r in RequestId if r & ~RESPONSE_BIT not in billing}
        self.assertEqual(set(c.SMGP30.by_command), expected)

    def test_response_ids(self) -> None:
        """Every response id is its request id with the top bit set."""
        for cid in c.SMGP30.by_command:
            self.assertIn(cid ^ RESPONSE_BIT, c.SMGP30.by_command)

    def test_default_sizes(self) -> None:
        """Every PDU with empty variable parts has its §5 size."""
        self.assertEqual(set(SIZES), set(c.SMGP30.layouts))
        for cls, size in SIZES.items():
            self.assertEqual(len(c.encode(cls(), 1)), size, cls.__name__)

    @given(st.data())
    def test_variable_sizes(self, data: st.DataObject) -> None:
        """Submit is 126 + 21·N + L + TLV, Deliver 89 + L + TLV, Forward 174 + L + TLV."""
        n = data.draw(st.integers(0, 100))
        content = data.draw(st.binary(max_size=255))
        tlvs = data.draw(tlv_lists())
        tlv_size = sum(4 + len(t.value) for t in tlvs)
        dests = tuple(b"1330000%04d" % i for i in range(n))
        submit = p.Submit(dest_term_ids=dests, msg_content=content, tlvs=tlvs)
        self.assertEqual(len(c.encode(submit, 1)), 126 + 21 * n + len(content) + tlv_size)
        deliver = p.Deliver(msg_content=content, tlvs=tlvs)
        self.assertEqual(len(c.encode(deliver, 1)), 89 + len(content) + tlv_size)
        forward = p.Forward(msg_content=content, tlvs=tlvs)
        self.assertEqual(len(c.encode(forward, 1)), 174 + len(content) + tlv_size)
        self.assertEqual(len(c.encode(p.ForwardResp(tlvs=tlvs), 1)), 26 + tlv_size)

    def test_largest_submit_fits(self) -> None:
        """A Submit to 100 receivers with 255 content bytes is within MAX_LENGTH."""
        submit = p.Submit(dest_term_ids=(b"1" * 21,) * 100, msg_content=b"x" * 255)
        frame = c.encode(submit, 1)
        self.assertLessEqual(len(frame), MAX_LENGTH)
        self.assertEqual(c.decode(frame)[1], submit)

    def test_submit_offsets(self) -> None:
        """Submit's fields sit at the §7 offsets."""
        submit = p.Submit(
            msg_type=6,
            need_report=1,
            priority=3,
            service_id=b"SVC",
            fee_type=b"01",
            fee_code=b"10",
            fixed_fee=b"20",
            msg_format=15,
            src_term_id=b"1181234",
            dest_term_ids=(b"13300000000", b"13300000001"),
            msg_content=b"hi",
            reserve=b"R",
        )
        body = c.encode(submit, 1)[12:]
        self.assertEqual(body[0:3], b"\x06\x01\x03")
        self.assertEqual(body[3:13], b"SVC".ljust(10, b"\x00"))
        self.assertEqual(body[13:15], b"01")
        self.assertEqual(body[15:21], b"10".ljust(6, b"\x00"))
        self.assertEqual(body[21:27], b"20".ljust(6, b"\x00"))
        self.assertEqual(body[27], 15)
        self.assertEqual(body[62:83], b"1181234".ljust(21, b"\x00"))
        self.assertEqual(body[104], 2)
        self.assertEqual(body[105:126], b"13300000000".ljust(21, b"\x00"))
        self.assertEqual(body[147], 2)  # MsgLength at 105 + 21·N
        self.assertEqual(body[148:150], b"hi")
        self.assertEqual(body[150:158], b"R".ljust(8, b"\x00"))
        self.assertEqual(len(body), 114 + 42 + 2)

    def test_deliver_offsets(self) -> None:
        """Deliver's fields sit at the §8 offsets."""
        deliver = p.Deliver(
            msg_id=bytes(range(10)),
            is_report=1,
            msg_format=0,
            recv_time=b"20240116170000",
            src_term_id=b"13300000000",
            dest_term_id=b"1181234",
            msg_content=b"abc",
        )
        body = c.encode(deliver, 1)[12:]
        self.assertEqual(body[0:10], bytes(range(10)))
        self.assertEqual(body[10:12], b"\x01\x00")
        self.assertEqual(body[12:26], b"20240116170000")
        self.assertEqual(body[26:47], b"13300000000".ljust(21, b"\x00"))
        self.assertEqual(body[47:68], b"1181234".ljust(21, b"\x00"))
        self.assertEqual(body[68:72], b"\x03abc")
        self.assertEqual(len(body), 77 + 3)

    def test_smgp13_submit(self) -> None:
        """The SMGP 1.3 Submit is 6 bytes shorter: no FixedFee (§6.2)."""
        submit = p.Submit(fee_code=b"5", msg_content=b"x")
        frame = c.SMGP13.encode(submit, 1)
        self.assertEqual(len(frame), 126 - 6 + 1)
        self.assertEqual(c.SMGP13.decode(frame)[1], submit)
        self.assertEqual(c.SMGP13.decode(frame)[1].fixed_fee, p.Submit().fixed_fee)
        self.assertEqual(frame[12 + 21], 15)  # MsgFormat moves up to offset 21

    def test_codec_for_version(self) -> None:
        """0x13 (and anything below 0x30) picks SMGP 1.3; 0x30 and above 3.0."""
        self.assertIs(c.codec_for_version(VERSION_13), c.SMGP13)
        self.assertIs(c.codec_for_version(0x20), c.SMGP13)
        self.assertIs(c.codec_for_version(VERSION_30), c.SMGP30)
        self.assertIs(c.codec_for_version(0x31), c.SMGP30)


#: Examples per PDU class: a tenth of the profile's, as there are 30 classes.
_PER_CLASS = settings(max_examples=max(10, settings.default.max_examples // 10))


def _round_trip_test(codec: ProtocolCodec, layout: Layout) -> Callable[..., None]:
    @_PER_CLASS
    @given(smgp_pdus(layout), st.integers(0, 0xFFFFFFFF))
    def test(self: SynchronousTestCase, pdu: Any, seq: int) -> None:
        frame = codec.encode(pdu, seq)
        header, decoded = codec.decode(frame)
        self.assertEqual(decoded, pdu)
        self.assertEqual(header, (len(frame), layout.command_id, seq))

    test.__name__ = f"test_{layout.name}"
    test.__doc__ = f"Random {layout.name} PDUs ({codec.name}), TLVs included, round-trip."
    return test


class RoundTripTests(SynchronousTestCase):
    """Every PDU class encodes and decodes back to itself (one test per class)."""

    test_Submit_smgp13 = _round_trip_test(c.SMGP13, c.SMGP13.layouts[p.Submit])

    def test_msg_id_not_stripped(self) -> None:
        """A MsgID ending in 0x00 keeps its 10 bytes (BCD ``...00``)."""
        resp = p.SubmitResp(msg_id=bytes.fromhex("01006101161700012300"))
        self.assertEqual(c.decode(c.encode(resp, 1))[1], resp)


for _layout in _LAYOUTS:
    setattr(RoundTripTests, f"test_{_layout.name}", _round_trip_test(c.SMGP30, _layout))
del _layout


class DecodeErrorTests(SynchronousTestCase):
    """Bad input raises DecodeError with the §12 status, never anything else."""

    @given(st.binary(max_size=300))
    @example(b"")
    @example(b"\x00\x00\x00\x0c\x00\x00\x00\x04\x00\x00\x00")
    @example(_frame(RequestId.ACTIVE_TEST, b""))
    @example(_frame(RequestId.SUBMIT, b"\x06" * 104 + b"\x05"))
    def test_arbitrary_bytes(self, data: bytes) -> None:
        """Any bytes decode to a PDU that encodes back, or raise DecodeError (status 10 or 11)."""
        try:
            header, pdu = c.decode(data)
        except DecodeError as e:
            self.assertIn(e.status, (Status.STRUCTURE_ERROR, Status.COMMAND_ERROR), repr(e))
            return
        self.assertEqual(
            (header.length, header.command_id), (len(data), c.SMGP30.command_id(type(pdu)))
        )
        # Decoding strips padding NULs, so the bytes may differ; the PDU may not.
        self.assertEqual(c.decode(c.encode(pdu, header.sequence_id)), (header, pdu))

    @given(st.sampled_from(sorted(c.SMGP30.by_command)), st.binary(max_size=300))
    @example(RequestId.SUBMIT, b"\x06" * 104 + b"\x05")
    @example(RequestId.DELIVER, bytes(77) + b"\x00\x09\x00\x05\x03")
    def test_arbitrary_bodies(self, request_id: int, body: bytes) -> None:
        """Any body behind a well-formed header decodes or raises status 10."""
        try:
            c.decode(_frame(request_id, body))
        except DecodeError as e:
            self.assertEqual(e.status, Status.STRUCTURE_ERROR)
            self.assertEqual(e.command_id, request_id)
            self.assertEqual(e.sequence_id, 7)

    @given(st.data())
    def test_truncated_frames(self, data: st.DataObject) -> None:
        """A valid PDU cut short (length field adjusted) raises status 10."""
        layout = data.draw(st.sampled_from(_LAYOUTS))
        frame = c.encode(data.draw(smgp_pdus(layout)), 3)
        if len(frame) == 12:
            return
        cut = data.draw(st.integers(12, len(frame) - 1))
        short = struct.pack(">I", cut) + frame[4:cut]
        try:
            _, pdu = c.decode(short)
        except DecodeError as e:
            self.assertEqual(e.status, Status.STRUCTURE_ERROR)
        else:
            # Only a TLV list can lose whole TLVs and still decode.
            self.assertTrue(hasattr(pdu, "tlvs"), layout.name)

    def test_unknown_command(self) -> None:
        """0x0A (Payment_Request, no body in V3.0.3) is a command error, status 11."""
        e = self.assertRaises(
            UnknownCommandError, c.decode, _frame(RequestId.PAYMENT_REQUEST, b"x")
        )
        self.assertEqual(e.status, Status.COMMAND_ERROR)
        self.assertEqual(e.kind, ErrorKind.COMMAND)

    def test_truncated_submit(self) -> None:
        """A Submit ending inside a field names it; status 10."""
        body = c.encode(p.Submit(), 1)[12:50]
        e = self.assertRaises(TruncatedError, c.decode, _frame(RequestId.SUBMIT, body))
        self.assertEqual(e.status, Status.STRUCTURE_ERROR)
        self.assertEqual((e.pdu, e.field), ("Submit", "valid_time"))

    def test_trailing_bytes(self) -> None:
        """A fixed-size PDU with extra bytes is status 10."""
        body = c.encode(p.LoginResp(), 1)[12:] + b"\x00"
        e = self.assertRaises(TrailingBytesError, c.decode, _frame(RequestId.LOGIN_RESP, body))
        self.assertEqual(e.status, Status.STRUCTURE_ERROR)

    def test_length_mismatch(self) -> None:
        """A PacketLength that disagrees with the frame is status 10."""
        frame = bytearray(c.encode(p.Query(), 9))
        frame[3] += 1
        e = self.assertRaises(DecodeError, c.decode, bytes(frame))
        self.assertEqual((e.status, e.field), (Status.STRUCTURE_ERROR, "length"))

    def test_short_header(self) -> None:
        """Fewer than 12 bytes is a length error, status 10."""
        e = self.assertRaises(DecodeError, c.decode, b"\x00\x00\x00\x0c\x00\x00")
        self.assertEqual(e.status, Status.STRUCTURE_ERROR)


class EncodeErrorTests(SynchronousTestCase):
    """Values that do not fit are refused, never truncated."""

    def test_long_client_id(self) -> None:
        """A 9-byte ClientID does not fit 8."""
        e = self.assertRaises(EncodeError, c.encode, p.Login(client_id=b"123456789"), 1)
        self.assertEqual(e.field, "client_id")

    def test_short_msg_id(self) -> None:
        """A MsgID must be bytes of at most 10; shorter ones are NUL-padded."""
        self.assertRaises(EncodeError, c.encode, p.SubmitResp(msg_id=b"x" * 11), 1)
        frame = c.encode(p.SubmitResp(msg_id=b"\x01"), 1)
        self.assertEqual(frame[12:22], b"\x01" + bytes(9))

    def test_too_many_receivers(self) -> None:
        """256 receivers do not fit the 1-byte DestTermIDCount."""
        submit = p.Submit(dest_term_ids=(b"1",) * 256)
        e = self.assertRaises(EncodeError, c.encode, submit, 1)
        self.assertEqual(e.field, "dest_term_ids")

    def test_bad_tlvs(self) -> None:
        """A TLV value longer than 65535 bytes or a tag above 0xFFFF is refused."""
        self.assertRaises(EncodeError, c.encode, p.Deliver(tlvs=(Tlv(0x10000, b""),)), 1)
        self.assertRaises(EncodeError, c.encode, p.Deliver(tlvs=(Tlv(1, b"x" * 65536),)), 1)
        self.assertRaises(EncodeError, c.encode, p.Deliver(tlvs=("x",)), 1)  # type: ignore[arg-type]


class MsgIdTests(SynchronousTestCase):
    """The 10-byte BCD MsgID (§9)."""

    @given(
        st.builds(
            msgid.MsgIdParts,
            st.integers(0, 999_999),
            st.integers(0, 99),
            st.integers(0, 99),
            st.integers(0, 99),
            st.integers(0, 99),
            st.integers(0, 999_999),
        )
    )
    def test_round_trip(self, parts: msgid.MsgIdParts) -> None:
        """pack then unpack gives the parts back; the hex form is the 20 digits."""
        packed = msgid.pack_msg_id(parts)
        self.assertEqual(len(packed), 10)
        self.assertEqual(msgid.unpack_msg_id(packed), parts)
        text = msgid.msg_id_hex(packed)
        self.assertTrue(text.isdigit())
        self.assertEqual(msgid.msg_id_from_hex(text), packed)

    def test_out_of_range(self) -> None:
        """Parts that do not fit their digits are refused."""
        self.assertRaises(ValueError, msgid.pack_msg_id, msgid.MsgIdParts(10**6, 1, 1, 0, 0, 0))
        self.assertRaises(ValueError, msgid.pack_msg_id, msgid.MsgIdParts(1, 1, 1, 0, 0, 10**6))
        self.assertRaises(ValueError, msgid.pack_msg_id, msgid.MsgIdParts(1, 100, 1, 0, 0, 0))

    def test_not_bcd(self) -> None:
        """Foreign ids that are not BCD cannot be unpacked but keep their hex form."""
        raw = bytes.fromhex("0a0b0c0d0e0f00112233")
        self.assertRaises(ValueError, msgid.unpack_msg_id, raw)
        self.assertRaises(ValueError, msgid.unpack_msg_id, b"\x01" * 9)
        self.assertEqual(msgid.msg_id_from_hex(msgid.msg_id_hex(raw).upper()), raw)
        self.assertRaises(ValueError, msgid.msg_id_from_hex, "0123")

    def test_generator(self) -> None:
        """The generator stamps Beijing MMDDhhmm and counts the sequence up."""
        when = datetime(2024, 1, 16, 17, 0, 30, tzinfo=BEIJING).timestamp()
        gen = msgid.MsgIdGenerator(10061, lambda: when, first_sequence=12345)
        self.assertEqual(gen().hex(), "01006101161700012345")
        self.assertEqual(gen().hex(), "01006101161700012346")

    def test_generator_wraps(self) -> None:
        """After 999999 the sequence starts again at 0."""
        now = [0.0]
        gen = msgid.MsgIdGenerator(1, lambda: now[0], first_sequence=999_999)
        self.assertEqual(msgid.unpack_msg_id(gen()).sequence, 999_999)
        now[0] = 60.0
        parts = msgid.unpack_msg_id(gen())
        self.assertEqual((parts.sequence, parts.minute), (0, 1))

    @given(st.integers(0, msgid.MAX_SMGW_CODE), st.integers(0, msgid.MAX_SEQUENCE),
           st.integers(0, 2**26))  # fmt: skip
    def test_generator_digits(self, code: int, first: int, minute: int) -> None:
        """(hypothesis) Each id is the code, Beijing MMDDhhmm and the 6-digit sequence, in BCD."""
        gen = msgid.MsgIdGenerator(code, lambda: minute * 60.0, first_sequence=first)
        b = datetime.fromtimestamp(minute * 60, BEIJING)
        for seq in (first, (first + 1) % 1_000_000):
            expected = f"{code:06d}{b.month:02d}{b.day:02d}{b.hour:02d}{b.minute:02d}{seq:06d}"
            self.assertEqual(gen().hex(), expected)

    def test_generator_limits(self) -> None:
        """Codes and first sequences beyond 6 digits are refused."""
        self.assertRaises(ValueError, msgid.MsgIdGenerator, 10**6)
        self.assertRaises(ValueError, msgid.MsgIdGenerator, 1, first_sequence=-1)
