"""Byte-exact golden vectors for CMPP 2.0.

Expected bytes are built independently of the codec: with ``struct`` formats
taken from seed 001's vendor client, and with the hex values worked out in
cmpp20-notes.md sections 3 and 4.
"""

from __future__ import annotations

import calendar
import hashlib
import struct

import attrs
from hypothesis import example, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.cmpp import decode, encode
from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.auth import (
    authenticator_ismg,
    authenticator_source,
    connect_timestamp,
    timestamp_text,
)
from smsgw.protocols.cmpp.constants import CommandId
from smsgw.protocols.cmpp.msgid import (
    MAX_GATEWAY,
    MAX_SEQUENCE,
    MsgIdGenerator,
    MsgIdParts,
    pack_msg_id,
    unpack_msg_id,
)
from smsgw.protocols.codec import Header


def _hex(text: str) -> bytes:
    """Bytes from hex digits written with spaces, as the notes print them."""
    return bytes.fromhex(text.replace(" ", ""))


# -- seed 001: the vendor's Python client ---------------------------------

SEED_SP = b"test01"
SEED_SECRET = b"123456"
SEED_TS_TEXT = b"0315123015"
SEED_TS = 315123015
SEED_AUTH = hashlib.md5(
    SEED_SP + 9 * b"\x00" + SEED_SECRET + SEED_TS_TEXT, usedforsecurity=False
).digest()
#: seed 001's bind: ``struct.pack("!LLL6s16sBi", 39, 1, 1, username, digest, 0x20, int(t))``.
SEED_CONNECT = struct.pack(">LLL6s16sBi", 39, 1, 1, SEED_SP, SEED_AUTH, 0x20, SEED_TS)

SEED_MSG = "你好,短信测试【测试】".encode("gb18030")
_I = len(SEED_MSG)
#: seed 001's submit, with its struct format and arguments verbatim.
SEED_SUBMIT = struct.pack(
    "!LLL8xBB2x10s24xB6s8s34x21sB21sB%ds8x" % _I,  # noqa: UP031 - seed 001's own format
    159 + _I,
    4,
    2,
    1,
    1,
    b"TEST",
    15,
    b"test01",
    b"01000000",
    b"1234",
    1,
    b"13612341234",
    _I,
    SEED_MSG,
)

# -- cmpp20-notes.md section 4 ----------------------------------------------

NOTES_SP = b"901234"
NOTES_SECRET = b"123456"
NOTES_TS = 315123015
NOTES_MD5_INPUT = _hex("393031323334 000000000000000000 313233343536 30333135313233303135")
NOTES_AUTH_SOURCE = _hex("082135d5a4949795b4a435bec12ae19f")
NOTES_CONNECT = _hex(
    "00000027 00000001 00000001 393031323334 082135d5a4949795b4a435bec12ae19f 20 12c86547"
)
NOTES_AUTH_ISMG_20 = _hex("b51b8be1ec1b816afe20454251f72bea")
NOTES_CONNECT_RESP = _hex("0000001e 80000001 00000001 00 b51b8be1ec1b816afe20454251f72bea 20")
NOTES_AUTH_ISMG_30 = _hex("d24265da3e0c679f0fc8871ef3a786d5")

# -- cmpp20-notes.md section 3 ----------------------------------------------

#: March 15, 12:30:15, ISMG 001001, sequence 42.
NOTES_PARTS = MsgIdParts(month=3, day=15, hour=12, minute=30, second=15, gateway=1001, sequence=42)
NOTES_MSG_ID = 4013239156802650154
NOTES_MSG_ID_BYTES = _hex("37 B1 E3 C0 03 E9 00 2A")
#: 2025-03-15 04:30:15 UTC, which is 12:30:15 in Beijing.
NOTES_EPOCH = calendar.timegm((2025, 3, 15, 4, 30, 15, 0, 0, 0))


class SeedClientTests(SynchronousTestCase):
    """The CONNECT and SUBMIT that seed 001's Python client sends."""

    def test_connect_decodes(self) -> None:
        """Seed 001's CONNECT decodes to its source address, digest, version and timestamp."""
        header, pdu = decode(SEED_CONNECT)
        self.assertEqual(header, Header(39, CommandId.CONNECT, 1))
        self.assertEqual(
            pdu,
            p.Connect(
                source_addr=b"test01",
                authenticator_source=SEED_AUTH,
                version=0x20,
                timestamp=SEED_TS,
            ),
        )

    def test_connect_reencodes(self) -> None:
        """Re-encoding seed 001's CONNECT gives the same 39 bytes."""
        _, pdu = decode(SEED_CONNECT)
        self.assertEqual(encode(pdu, 1), SEED_CONNECT)

    def test_connect_authenticator(self) -> None:
        """authenticator_source computes seed 001's digest from its sp, secret and time."""
        self.assertEqual(authenticator_source(SEED_SP, SEED_SECRET, SEED_TS), SEED_AUTH)
        built = p.Connect(
            source_addr=SEED_SP,
            authenticator_source=authenticator_source(SEED_SP, SEED_SECRET, SEED_TS),
            timestamp=SEED_TS,
        )
        self.assertEqual(encode(built, 1), SEED_CONNECT)

    def test_submit_decodes(self) -> None:
        """Seed 001's SUBMIT decodes to its service, format, source, fees, numbers and text."""
        header, pdu = decode(SEED_SUBMIT)
        self.assertEqual(header, Header(159 + _I, CommandId.SUBMIT, 2))
        self.assertEqual(
            pdu,
            p.Submit(
                msg_id=0,
                pk_total=1,
                pk_number=1,
                service_id=b"TEST",
                msg_fmt=15,
                msg_src=b"test01",
                fee_type=b"01",
                fee_code=b"000000",
                src_id=b"1234",
                dest_terminal_ids=(b"13612341234",),
                msg_content=SEED_MSG,
            ),
        )
        self.assertEqual(pdu.msg_content.decode("gb18030"), "你好,短信测试【测试】")

    def test_submit_reencodes(self) -> None:
        """Re-encoding seed 001's SUBMIT with sequence 2 gives the same bytes."""
        _, pdu = decode(SEED_SUBMIT)
        self.assertEqual(encode(pdu, 2), SEED_SUBMIT)

    def test_submit_built(self) -> None:
        """A SUBMIT built from seed 001's values encodes to its bytes."""
        built = p.Submit(
            service_id=b"TEST",
            msg_fmt=15,
            msg_src=b"test01",
            src_id=b"1234",
            dest_terminal_ids=(b"13612341234",),
            msg_content=SEED_MSG,
        )
        self.assertEqual(encode(built, 2), SEED_SUBMIT)


class NotesAuthenticationTests(SynchronousTestCase):
    """The worked login of cmpp20-notes.md section 4."""

    def test_md5_input(self) -> None:
        """The AuthenticatorSource MD5 input is sp, 9 NULs, secret and the 10-digit time."""
        self.assertEqual(
            NOTES_SP + 9 * b"\x00" + NOTES_SECRET + timestamp_text(NOTES_TS), NOTES_MD5_INPUT
        )
        self.assertEqual(
            hashlib.md5(NOTES_MD5_INPUT, usedforsecurity=False).digest(), NOTES_AUTH_SOURCE
        )

    def test_authenticator_source(self) -> None:
        """AuthenticatorSource for 901234 / 123456 / 0315123015 is 082135d5…e19f."""
        self.assertEqual(authenticator_source(NOTES_SP, NOTES_SECRET, NOTES_TS), NOTES_AUTH_SOURCE)

    def test_connect_pdu(self) -> None:
        """The CONNECT PDU is the notes' 39 bytes, and decodes back."""
        pdu = p.Connect(
            source_addr=NOTES_SP,
            authenticator_source=authenticator_source(NOTES_SP, NOTES_SECRET, NOTES_TS),
            version=0x20,
            timestamp=NOTES_TS,
        )
        self.assertEqual(encode(pdu, 1), NOTES_CONNECT)
        self.assertEqual(decode(NOTES_CONNECT), (Header(39, CommandId.CONNECT, 1), pdu))

    def test_authenticator_ismg_20(self) -> None:
        """AuthenticatorISMG with a 1-byte Status 0 (CMPP 2.0) is b51b8be1…2bea."""
        self.assertEqual(authenticator_ismg(0, NOTES_AUTH_SOURCE, NOTES_SECRET), NOTES_AUTH_ISMG_20)
        self.assertEqual(
            hashlib.md5(b"\x00" + NOTES_AUTH_SOURCE + NOTES_SECRET, usedforsecurity=False).digest(),
            NOTES_AUTH_ISMG_20,
        )

    def test_connect_resp_pdu(self) -> None:
        """The CONNECT_RESP PDU is the notes' 30 bytes, and decodes back."""
        pdu = p.ConnectResp(status=0, authenticator_ismg=NOTES_AUTH_ISMG_20, version=0x20)
        self.assertEqual(encode(pdu, 1), NOTES_CONNECT_RESP)
        self.assertEqual(decode(NOTES_CONNECT_RESP), (Header(30, CommandId.CONNECT_RESP, 1), pdu))

    def test_authenticator_ismg_30(self) -> None:
        """AuthenticatorISMG with a 4-byte Status 0 (CMPP 3.0) is d24265da…86d5."""
        self.assertEqual(
            authenticator_ismg(0, NOTES_AUTH_SOURCE, NOTES_SECRET, status_width=4),
            NOTES_AUTH_ISMG_30,
        )

    def test_authenticator_ismg_status_matters(self) -> None:
        """A non-zero Status gives a different digest."""
        self.assertNotEqual(
            authenticator_ismg(3, NOTES_AUTH_SOURCE, NOTES_SECRET), NOTES_AUTH_ISMG_20
        )


class TimestampTests(SynchronousTestCase):
    """The CONNECT Timestamp is Beijing time (cmpp20-notes.md section 5.2)."""

    def test_beijing_time(self) -> None:
        """04:30:15 UTC on March 15 is 0315123015 in Beijing."""
        self.assertEqual(connect_timestamp(NOTES_EPOCH), 315123015)
        self.assertEqual(connect_timestamp(NOTES_EPOCH + 0.999), 315123015)

    def test_date_changes_in_beijing_first(self) -> None:
        """16:00 UTC on December 31 is already 01-01 00:00:00 in Beijing."""
        epoch = calendar.timegm((2025, 12, 31, 16, 0, 0, 0, 0, 0))
        self.assertEqual(connect_timestamp(epoch), 101000000)
        self.assertEqual(timestamp_text(connect_timestamp(epoch)), b"0101000000")

    def test_now(self) -> None:
        """Without an argument the timestamp is a valid MMDDHHMMSS for now."""
        text = timestamp_text(connect_timestamp()).decode()
        self.assertTrue(1 <= int(text[:2]) <= 12 and 1 <= int(text[2:4]) <= 31, text)

    def test_timestamp_text(self) -> None:
        """The MD5 time is the Timestamp as 10 digits, zero-padded on the left."""
        self.assertEqual(timestamp_text(315123015), b"0315123015")
        self.assertEqual(timestamp_text(1231235959), b"1231235959")
        self.assertRaises(ValueError, timestamp_text, -1)
        self.assertRaises(ValueError, timestamp_text, 10_000_000_000)


class MsgIdTests(SynchronousTestCase):
    """The Msg_Id of cmpp20-notes.md section 3."""

    def test_worked_example(self) -> None:
        """March 15 12:30:15, ISMG 1001, sequence 42 packs to 0x37B1E3C003E9002A."""
        self.assertEqual(pack_msg_id(NOTES_PARTS), NOTES_MSG_ID)
        self.assertEqual(NOTES_MSG_ID, 0x37B1E3C003E9002A)
        self.assertEqual(NOTES_MSG_ID.to_bytes(8, "big"), NOTES_MSG_ID_BYTES)

    def test_unpack_worked_example(self) -> None:
        """Unpacking 0x37B1E3C003E9002A gives the parts back."""
        self.assertEqual(unpack_msg_id(NOTES_MSG_ID), NOTES_PARTS)

    def test_in_submit_resp(self) -> None:
        """The Msg_Id travels as 37 B1 E3 C0 03 E9 00 2A in a SUBMIT_RESP."""
        frame = struct.pack(">III", 21, 0x80000004, 2) + NOTES_MSG_ID_BYTES + b"\x00"
        self.assertEqual(encode(p.SubmitResp(msg_id=NOTES_MSG_ID, result=0), 2), frame)
        _, resp = decode(frame)
        self.assertEqual(resp.msg_id, NOTES_MSG_ID)
        self.assertEqual(unpack_msg_id(resp.msg_id), NOTES_PARTS)

    def test_generator_worked_example(self) -> None:
        """A generator for ISMG 1001 at 12:30:15 Beijing stamps that time and gateway."""
        generate = MsgIdGenerator(1001, clock=lambda: NOTES_EPOCH + 0.5)
        first = unpack_msg_id(generate())
        self.assertEqual(first, MsgIdParts(3, 15, 12, 30, 15, 1001, 1))
        self.assertEqual(generate() & 0xFFFF, 2)

    def test_generator_sequence_wraps(self) -> None:
        """The generator's sequence increments by one and wraps from 65535 to 0."""
        generate = MsgIdGenerator(1001, clock=lambda: NOTES_EPOCH)
        sequences = [generate() & 0xFFFF for _ in range(MAX_SEQUENCE + 2)]
        self.assertEqual(sequences[:3], [1, 2, 3])
        self.assertEqual(sequences[MAX_SEQUENCE - 1 :], [MAX_SEQUENCE, 0, 1])

    def test_generator_follows_clock(self) -> None:
        """When the clock moves on, the time bits follow and the sequence carries on."""
        now = [float(NOTES_EPOCH)]
        generate = MsgIdGenerator(1001, clock=lambda: now[0])
        generate()
        now[0] += 45  # 12:31:00
        parts = unpack_msg_id(generate())
        self.assertEqual((parts.minute, parts.second, parts.sequence), (31, 0, 2))
        self.assertEqual(parts.gateway, 1001)

    def test_generator_rejects_gateway(self) -> None:
        """A gateway code that does not fit 22 bits is refused."""
        self.assertRaises(ValueError, MsgIdGenerator, MAX_GATEWAY + 1)
        self.assertRaises(ValueError, MsgIdGenerator, -1)
        self.assertEqual(MsgIdGenerator(999999, clock=lambda: 0.0).gateway, 999999)

    def test_pack_rejects_out_of_range(self) -> None:
        """pack_msg_id refuses any part that does not fit its bits."""
        bad = {
            "month": (16, -1),
            "day": (32, -1),
            "hour": (32, -1),
            "minute": (64, -1),
            "second": (64, -1),
            "gateway": (MAX_GATEWAY + 1, -1),
            "sequence": (MAX_SEQUENCE + 1, -1),
        }
        for name, values in bad.items():
            for value in values:
                parts = attrs.evolve(NOTES_PARTS, **{name: value})
                self.assertRaises(ValueError, pack_msg_id, parts)

    def test_unpack_rejects_out_of_range(self) -> None:
        """unpack_msg_id refuses negative ids and ids beyond 64 bits."""
        self.assertRaises(ValueError, unpack_msg_id, -1)
        self.assertRaises(ValueError, unpack_msg_id, 1 << 64)

    @given(
        st.builds(
            MsgIdParts,
            month=st.integers(0, 15),
            day=st.integers(0, 31),
            hour=st.integers(0, 31),
            minute=st.integers(0, 63),
            second=st.integers(0, 63),
            gateway=st.integers(0, MAX_GATEWAY),
            sequence=st.integers(0, MAX_SEQUENCE),
        )
    )
    @example(NOTES_PARTS)
    def test_pack_unpack(self, parts: MsgIdParts) -> None:
        """unpack_msg_id(pack_msg_id(parts)) == parts, within an unsigned 64-bit id."""
        value = pack_msg_id(parts)
        self.assertTrue(0 <= value < 1 << 64)
        self.assertEqual(unpack_msg_id(value), parts)

    @given(st.integers(0, 2**64 - 1))
    @example(2**64 - 1)
    @example(NOTES_MSG_ID)
    def test_unpack_pack(self, value: int) -> None:
        """pack_msg_id(unpack_msg_id(v)) == v for every unsigned 64-bit id."""
        self.assertEqual(pack_msg_id(unpack_msg_id(value)), value)
