"""SMPP 3.4 codec (:mod:`smsgw.protocols.smpp.codec`): golden bytes of smpp34.md §10 and the rules.

The golden frames are the worked examples of smpp34.md §10, which three
independent decoders read back identically.
"""

from __future__ import annotations

import struct

from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.errors import (
    DecodeError,
    EncodeError,
    FieldValueError,
    TrailingBytesError,
    TruncatedError,
    UnknownCommandError,
)
from smsgw.protocols.smpp import pdus as p
from smsgw.protocols.smpp import tlv
from smsgw.protocols.smpp.codec import SMPP34, decode, encode
from smsgw.protocols.smpp.constants import CommandId, MessageState, Status, Tag
from smsgw.protocols.tlv import Tlv

BIND_TX = bytes.fromhex(
    "0000002f000000020000000000000001534d50503354455354007365637265743038005355424d4954310034010100"
)
BIND_TRX_RESP = bytes.fromhex("0000001f800000090000000000000003534d5050333453494d000210000134")
SUBMIT = bytes.fromhex(
    "00000038000000040000000000000002000101313233343500010138363133383030313338303030000000"
    "000000010000000548656c6c6f"
)
SUBMIT_RESP = bytes.fromhex("0000001b8000000400000000000000023030303030303030303100")
RECEIPT_TEXT = (
    b"id:0000000001 sub:001 dlvrd:001 submit date:2403050607 done date:2403050608"
    b" stat:DELIVRD err:000 text:Hello"
)


def _receipt_frame() -> bytes:
    """smpp34.md §10.3, assembled from its annotated parts."""
    body = (
        b"\x00"
        + b"\x01\x01"
        + b"8613800138000\x00"
        + b"\x01\x01"
        + b"12345\x00"
        + bytes([4, 0, 0, 0, 0, 0, 0, 0, 0])
        + bytes([len(RECEIPT_TEXT)])
        + RECEIPT_TEXT
        + bytes.fromhex("001e000b3030303030303030303100")
        + bytes.fromhex("0427000102")
    )
    return struct.pack(">IIII", 16 + len(body), 5, 0, 7) + body


def _frame(command_id: int, body: bytes = b"", status: int = 0, seq: int = 9) -> bytes:
    return struct.pack(">IIII", 16 + len(body), command_id, status, seq) + body


class GoldenTests(SynchronousTestCase):
    """The worked examples of smpp34.md §10, byte for byte, both ways."""

    def test_bind_transmitter(self) -> None:
        """§10.1: bind_transmitter SMPP3TEST/secret08/SUBMIT1 is the 47-byte frame."""
        pdu = p.BindTransmitter(b"SMPP3TEST", b"secret08", b"SUBMIT1", 0x34, 1, 1, b"")
        self.assertEqual(encode(pdu, 1), BIND_TX)
        header, decoded = decode(BIND_TX)
        self.assertEqual((header.length, header.command_id, header.sequence_id), (47, 2, 1))
        self.assertEqual(decoded, pdu)

    def test_bind_transceiver_resp(self) -> None:
        """§10.1: the smpp34 SMSC's bind_transceiver_resp carries sc_interface_version 0x34."""
        header, pdu = decode(BIND_TRX_RESP)
        self.assertEqual(header.sequence_id, 3)
        self.assertEqual(pdu, p.BindTransceiverResp(b"SMPP34SIM", (Tlv(0x0210, b"\x34"),)))
        self.assertEqual(tlv.get(pdu.tlvs, Tag.SC_INTERFACE_VERSION), 0x34)
        self.assertEqual(encode(pdu, 3), BIND_TRX_RESP)

    def test_submit_sm(self) -> None:
        """§10.2: submit_sm "Hello" from 12345 to 8613800138000 with a receipt is 56 bytes."""
        pdu = p.SubmitSm(
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr=b"12345",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr=b"8613800138000",
            registered_delivery=1,
            short_message=b"Hello",
        )
        self.assertEqual(encode(pdu, 2), SUBMIT)
        self.assertEqual(decode(SUBMIT), (decode(SUBMIT)[0], pdu))
        self.assertEqual(decode(SUBMIT)[0].length, 0x38)

    def test_submit_sm_resp(self) -> None:
        """§10.2: submit_sm_resp with message_id "0000000001" is 27 bytes."""
        self.assertEqual(encode(p.SubmitSmResp(b"0000000001"), 2), SUBMIT_RESP)
        self.assertEqual(decode(SUBMIT_RESP)[1], p.SubmitSmResp(b"0000000001"))

    def test_receipt(self) -> None:
        """§10.3: the 178-byte receipt decodes with its text and both TLVs, and encodes back."""
        frame = _receipt_frame()
        self.assertEqual(len(frame), 0xB2)
        header, pdu = decode(frame)
        self.assertEqual(header.sequence_id, 7)
        assert isinstance(pdu, p.DeliverSm)
        self.assertEqual(pdu.esm_class, 4)
        self.assertEqual(pdu.source_addr, b"8613800138000")
        self.assertEqual(pdu.short_message, RECEIPT_TEXT)
        self.assertEqual(tlv.get(pdu.tlvs, Tag.RECEIPTED_MESSAGE_ID), b"0000000001")
        self.assertEqual(tlv.get(pdu.tlvs, Tag.MESSAGE_STATE), MessageState.DELIVERED)
        self.assertEqual(encode(pdu, 7), frame)


class ResponseBodyTests(SynchronousTestCase):
    """Responses whose body is left out on error decode; bodies sent anyway are accepted."""

    def test_bodyless_refusal_decodes(self) -> None:
        """A 16-byte submit_sm_resp with ESME_RTHROTTLED decodes with an empty message_id."""
        _, pdu = decode(_frame(CommandId.SUBMIT_SM_RESP, status=Status.ESME_RTHROTTLED))
        self.assertEqual(pdu, p.SubmitSmResp(command_status=Status.ESME_RTHROTTLED))

    def test_bodyless_bind_resp_decodes(self) -> None:
        """A 16-byte bind_transmitter_resp with ESME_RINVPASWD decodes (smpp.twisted3 sends it)."""
        _, pdu = decode(_frame(CommandId.BIND_TRANSMITTER_RESP, status=Status.ESME_RINVPASWD))
        self.assertEqual(pdu, p.BindTransmitterResp(command_status=Status.ESME_RINVPASWD))

    def test_body_sent_anyway_is_accepted(self) -> None:
        """A refusal that carries a body anyway decodes with the body."""
        frame = _frame(CommandId.BIND_TRANSMITTER_RESP, b"SMSC\x00", Status.ESME_RINVPASWD)
        _, pdu = decode(frame)
        self.assertEqual(pdu, p.BindTransmitterResp(b"SMSC", command_status=0x0E))

    def test_refusal_encodes_without_body(self) -> None:
        """A refusal with nothing but defaults is sent as a bare 16-byte header (3.4)."""
        frame = encode(p.QuerySmResp(command_status=Status.ESME_RQUERYFAIL), 4)
        self.assertEqual(frame, _frame(CommandId.QUERY_SM_RESP, b"", Status.ESME_RQUERYFAIL, 4))

    def test_refusal_with_content_keeps_body(self) -> None:
        """A refusal that says something (a data_sm_resp TLV) keeps its body."""
        resp = p.DataSmResp(tlvs=tlv.put((), Tag.DELIVERY_FAILURE_REASON, 1), command_status=0xFE)
        header, back = decode(encode(resp, 4))
        self.assertEqual(back, resp)
        self.assertGreater(header.length, 16)

    def test_success_keeps_body(self) -> None:
        """A successful deliver_sm_resp keeps its one-NUL message_id."""
        self.assertEqual(
            encode(p.DeliverSmResp(), 1), _frame(CommandId.DELIVER_SM_RESP, b"\0", seq=1)
        )

    def test_request_without_body_is_short(self) -> None:
        """A 16-byte submit_sm is a length error naming service_type (ESME_RINVCMDLEN)."""
        e = self.assertRaises(TruncatedError, decode, _frame(CommandId.SUBMIT_SM))
        self.assertEqual((e.pdu, e.field, e.status), ("SubmitSm", "service_type", 2))
        self.assertEqual(e.sequence_id, 9)


class FieldTests(SynchronousTestCase):
    """C-Octet Strings, time fields, and the errors naming them."""

    def test_max_counts_the_nul(self) -> None:
        """system_id C16 takes 15 characters, not 16."""
        encode(p.BindTransmitter(b"x" * 15), 1)
        e = self.assertRaises(EncodeError, encode, p.BindTransmitter(b"x" * 16), 1)
        self.assertEqual((e.pdu, e.field), ("BindTransmitter", "system_id"))

    def test_nul_inside_refused(self) -> None:
        """A value holding a NUL cannot be a C-Octet String."""
        e = self.assertRaises(EncodeError, encode, p.SubmitSm(source_addr=b"1\x002"), 1)
        self.assertEqual(e.field, "source_addr")

    def test_no_nul_within_max(self) -> None:
        """A source_addr of 21 octets without NUL is answered with ESME_RINVSRCADR."""
        body = b"\x00\x01\x01" + b"1" * 30 + b"\x00" + b"\x00" * 30
        e = self.assertRaises(FieldValueError, decode, _frame(CommandId.SUBMIT_SM, body))
        self.assertEqual((e.field, e.status), ("source_addr", Status.ESME_RINVSRCADR))

    def test_time_field_widths(self) -> None:
        """A time is empty or 16 characters; 5 characters are ESME_RINVSCHED."""
        ok = p.SubmitSm(schedule_delivery_time=b"240305060708000+")
        self.assertEqual(decode(encode(ok, 1))[1], ok)
        e = self.assertRaises(EncodeError, encode, p.SubmitSm(validity_period=b"24030"), 1)
        self.assertEqual(e.field, "validity_period")
        frame = bytearray(encode(p.SubmitSm(), 1))
        # header 16, service_type 1, source 3, dest 3, esm_class/protocol_id/priority 3
        bad = bytes(frame[:26]) + b"24030\x00" + bytes(frame[27:])
        bad = struct.pack(">I", len(bad)) + bad[4:]
        e2 = self.assertRaises(FieldValueError, decode, bad)
        self.assertEqual((e2.field, e2.status), ("schedule_delivery_time", Status.ESME_RINVSCHED))

    def test_twelve_digit_final_date(self) -> None:
        """query_sm_resp's final_date may come as the 12-character YYMMDDhhmmss form."""
        body = b"42\x00" + b"240305060708\x00" + b"\x02\x00"
        _, pdu = decode(_frame(CommandId.QUERY_SM_RESP, body))
        self.assertEqual(pdu, p.QuerySmResp(b"42", b"240305060708", 2, 0))

    def test_truncated_tlv_names_tag(self) -> None:
        """A TLV running past the PDU is a length error naming its tag."""
        frame = encode(p.SubmitSm(), 1) + bytes.fromhex("001e0005 3030".replace(" ", ""))
        frame = struct.pack(">I", len(frame)) + frame[4:]
        e = self.assertRaises(TruncatedError, decode, frame)
        self.assertEqual(e.field, "tlvs.receipted_message_id")
        self.assertEqual(e.status, Status.ESME_RINVCMDLEN)

    def test_unknown_command(self) -> None:
        """An unknown command id is ESME_RINVCMDID with its sequence."""
        e = self.assertRaises(UnknownCommandError, decode, _frame(0x0000_0099, seq=77))
        self.assertEqual((e.status, e.sequence_id), (Status.ESME_RINVCMDID, 77))

    def test_trailing_bytes(self) -> None:
        """enquire_link with a body is a length error (ESME_RINVCMDLEN)."""
        e = self.assertRaises(TrailingBytesError, decode, _frame(CommandId.ENQUIRE_LINK, b"x"))
        self.assertEqual(e.status, Status.ESME_RINVCMDLEN)

    def test_command_status_in_header(self) -> None:
        """command_status is the header's third field and a PDU attribute."""
        frame = encode(p.GenericNack(command_status=Status.ESME_RINVCMDID), 5)
        self.assertEqual(frame, _frame(CommandId.GENERIC_NACK, status=3, seq=5))
        self.assertEqual(decode(frame)[1].command_status, 3)


class SubmitMultiTests(SynchronousTestCase):
    """submit_multi's destination list and submit_multi_resp's per-destination failures."""

    def test_destinations_round_trip(self) -> None:
        """SME addresses and distribution lists keep their order and flags."""
        pdu = p.SubmitMulti(
            source_addr=b"1234",
            dests=(p.SmeAddress(1, 1, b"8613800138000"), p.DistributionList(b"friends")),
            short_message=b"hi",
        )
        frame = encode(pdu, 3)
        self.assertIn(b"\x02\x01\x01\x018613800138000\x00\x02friends\x00", frame)
        self.assertEqual(decode(frame)[1], pdu)

    def test_bad_dest_flag(self) -> None:
        """A dest_flag of 3 is answered with ESME_RINVDESTFLAG."""
        good = encode(p.SubmitMulti(dests=(p.DistributionList(b"x"),)), 3)
        flag_at = good.index(b"\x02x\x00")
        bad = good[:flag_at] + b"\x03" + good[flag_at + 1 :]
        e = self.assertRaises(DecodeError, decode, bad)
        self.assertEqual((e.field, e.status), ("dests", Status.ESME_RINVDESTFLAG))

    def test_unsuccess_round_trip(self) -> None:
        """submit_multi_resp lists each failed address with its u32 error_status_code."""
        resp = p.SubmitMultiResp(
            b"77", (p.UnsuccessSme(1, 1, b"8613800138000", Status.ESME_RINVDSTADR),)
        )
        frame = encode(resp, 3)
        self.assertTrue(
            frame.endswith(b"\x01\x01\x01" + b"8613800138000\x00" + b"\x00\x00\x00\x0b")
        )
        self.assertEqual(decode(frame)[1], resp)

    def test_too_many_destinations(self) -> None:
        """255 destinations do not fit number_of_dests (at most 254)."""
        dests = (p.SmeAddress(address=b"1"),) * 255
        e = self.assertRaises(EncodeError, encode, p.SubmitMulti(dests=dests), 1)
        self.assertEqual(e.field, "dests")


class TlvTests(SynchronousTestCase):
    """The typed TLV accessors of §7."""

    def test_cstring_tag_carries_its_nul(self) -> None:
        """receipted_message_id "0000000001" has length 11 on the wire."""
        tlvs = tlv.put((), Tag.RECEIPTED_MESSAGE_ID, b"0000000001")
        self.assertEqual(tlvs, (Tlv(0x001E, b"0000000001\x00"),))
        self.assertEqual(tlv.get(tlvs, Tag.RECEIPTED_MESSAGE_ID), b"0000000001")

    def test_integer_widths(self) -> None:
        """u8 and u16 tags take their widths; an oversized value is refused."""
        tlvs = tlv.put(tlv.put((), Tag.SAR_MSG_REF_NUM, 0x1234), Tag.SAR_TOTAL_SEGMENTS, 3)
        tlvs = tlv.put(tlvs, Tag.SAR_SEGMENT_SEQNUM, 2)
        self.assertEqual(tlvs[0], Tlv(0x020C, b"\x12\x34"))
        self.assertEqual(tlv.sar(tlvs), (0x1234, 3, 2))
        self.assertRaises(EncodeError, tlv.put, (), Tag.MESSAGE_STATE, 256)

    def test_network_error_code(self) -> None:
        """network_error_code is a network type octet and a u16."""
        tlvs = tlv.put((), Tag.NETWORK_ERROR_CODE, b"\x03\x00\x0b")
        self.assertEqual(tlv.network_error_code(tlvs), (3, 11))

    def test_unknown_tags_kept(self) -> None:
        """A vendor tag decodes as raw bytes and encodes back unchanged."""
        pdu = p.DeliverSm(tlvs=(Tlv(0x1400, b"\x01\x02"), Tlv(0x0427, b"\x02")))
        self.assertEqual(decode(encode(pdu, 1))[1], pdu)
        self.assertEqual(tlv.get(pdu.tlvs, 0x1400), b"\x01\x02")

    def test_payload(self) -> None:
        """A message_payload TLV of 60 KiB fits the frame cap."""
        payload = b"x" * 60_000
        pdu = p.DataSm(tlvs=tlv.put((), Tag.MESSAGE_PAYLOAD, payload))
        self.assertEqual(tlv.get(decode(encode(pdu, 1))[1].tlvs, Tag.MESSAGE_PAYLOAD), payload)

    def test_frame_cap(self) -> None:
        """A PDU larger than the cap is not encoded."""
        pdu = p.DataSm(tlvs=(Tlv(0x0424, b"x" * 0xFFFF), Tlv(0x0424, b"x" * 0xFFFF)))
        self.assertRaises(EncodeError, encode, pdu, 1)
        self.assertLess(SMPP34.max_length, 2 * 0xFFFF)
