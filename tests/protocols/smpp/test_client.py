"""The SMPP SP client alone (no sockets): its URL keys, the submit_sm it builds, ids, events.

The loopback tests against an SMSC are in :mod:`tests.protocols.smpp.test_channel`.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.config import ConfigError, parse_upstream_url
from smsgw.protocols.smpp import pdus as p
from smsgw.protocols.smpp.client import SmppClient
from smsgw.protocols.smpp.constants import EsmClass, MessageState, Status, Tag
from smsgw.protocols.smpp.content import split_mt
from smsgw.protocols.smpp.tlv import encode_value, get, sar
from smsgw.protocols.tlv import Tlv
from smsgw.sp.clients import MoEvent, ReportEvent, client_for
from smsgw.text import MsgFmt, Reassembler, concat_info, decode_text
from smsgw.text.gsm0338 import decode_gsm, encode_gsm, gsm_length
from smsgw.text.longsms import Part

URL = "smpp://esme1:secret08@127.0.0.1:2775"
DEST = "13800138000"
SRC = "10690001"


def client(query: str = "") -> SmppClient:
    """The client of an smpp:// upstream with *query*."""
    made = client_for(parse_upstream_url(URL + query))
    assert isinstance(made, SmppClient)
    return made


def tlv(tag: int, value: int | bytes) -> Tlv:
    return Tlv(tag, encode_value(tag, value))


def receipt(text: bytes = b"", *tlvs: Tlv, esm_class: int = EsmClass.DELIVERY_RECEIPT) -> Any:
    return p.DeliverSm(
        source_addr=DEST.encode(),
        destination_addr=SRC.encode(),
        esm_class=esm_class,
        short_message=text,
        tlvs=tlvs,
    )


class UrlKeyTests(SynchronousTestCase):
    """Every smpp:// key: its default, a good value, and a bad one naming the key."""

    def test_defaults(self) -> None:
        """Without keys: trx, long=udh, ids as-is, ton/npi 0, port 2775."""
        config = parse_upstream_url("smpp://esme1:secret08@h")
        self.assertEqual(config.port, 2775)
        extras = client().extras
        self.assertEqual(
            (extras.bind, extras.long, extras.submit_id, extras.receipt_id, extras.system_type),
            ("trx", "udh", "as-is", "as-is", ""),
        )
        self.assertIsNone(client().receiver_login)

    def test_good_values(self) -> None:
        """Each key takes its documented values; bind=tx+rx survives URL decoding of '+'."""
        for query in ("?bind=tx+rx", "?bind=tx%2Brx"):
            self.assertIsNotNone(client(query).receiver_login)
        extras = client(
            "?system_type=VMA&long=sar&submit_id=hex&receipt_id=decimal"
            "&source_ton=5&source_npi=0&dest_ton=1&dest_npi=1"
        ).extras
        self.assertEqual(
            (extras.system_type, extras.long, extras.submit_id, extras.receipt_id),
            ("VMA", "sar", "hex", "decimal"),
        )
        self.assertEqual(
            (extras.source_ton, extras.source_npi, extras.dest_ton, extras.dest_npi), (5, 0, 1, 1)
        )

    def test_bad_values(self) -> None:
        """A bad value is a ConfigError naming its key (never the secret)."""
        for key, value in (
            ("bind", "rx"),
            ("system_type", "x" * 13),
            ("long", "split"),
            ("submit_id", "uuid"),
            ("receipt_id", "HEX"),
            ("source_ton", "256"),
            ("source_npi", "-1"),
            ("dest_ton", "one"),
            ("dest_npi", ""),
            ("charset", "gbk"),
        ):
            with self.subTest(key=key):
                error = self.assertRaises(ConfigError, parse_upstream_url, f"{URL}?{key}={value}")
                self.assertEqual(error.key, key)
                self.assertNotIn("secret08", str(error))

    def test_bind_limits(self) -> None:
        """A system_id over 15 or a password over 8 characters is refused, naming the part."""
        for url, key in (
            ("smpp://a234567890123456:secret08@h", "account"),
            ("smpp://esme1:secret089@h", "secret"),
        ):
            error = self.assertRaises(ConfigError, client_for, parse_upstream_url(url))
            self.assertEqual(error.key, key)
            self.assertNotIn("secret089", str(error))

    def test_redacted_round_trip(self) -> None:
        """The redacted URL reads back to the same keys (tx+rx percent-encoded)."""
        config = parse_upstream_url(URL + "?bind=tx%2Brx&long=payload&receipt_id=hex")
        again = parse_upstream_url(config.redacted().replace("***", "secret08"))
        self.assertEqual(again.extra, config.extra)


class SplitTests(SynchronousTestCase):
    """split_mt: GSM septets for ASCII text, UCS2 for the rest, whole for message_payload."""

    def test_gsm_single_and_split(self) -> None:
        """160 septets are one segment; one extension character more makes two."""
        [single] = split_mt("a" * 160, 7)
        self.assertEqual((single.msg_fmt, single.tp_udhi), (MsgFmt.ASCII, False))
        parts = split_mt("a" * 159 + "{", 7)
        self.assertEqual(len(parts), 2)
        self.assertEqual(concat_info(parts[1].content, 1), concat_info(parts[1].content, 1))

    def test_not_gsm_is_ucs2(self) -> None:
        """A backquote (not in GSM 03.38) or Chinese text goes as UCS2."""
        self.assertEqual(split_mt("a`b", 1)[0].msg_fmt, MsgFmt.UCS2)
        self.assertEqual(split_mt("短信", 1)[0].msg_fmt, MsgFmt.UCS2)

    def test_payload_whole(self) -> None:
        """With payload the text is one segment, however long."""
        [whole] = split_mt("x" * 1000, 1, payload=True)
        self.assertEqual((whole.pk_total, whole.tp_udhi, len(whole.content)), (1, False, 1000))
        self.assertRaises(ValueError, split_mt, "x" * 70000, 1, payload=True)

    @given(st.text(alphabet="ab{}[]~|^\\@_ \n", min_size=1, max_size=800))
    def test_segments_fit(self, text: str) -> None:
        """Every GSM segment is at most 153 septets (160 unsplit) and they rejoin to the text."""
        parts = split_mt(text, 3)
        if len(parts) == 1:
            self.assertLessEqual(gsm_length(parts[0].content.decode()) or 0, 160)
            self.assertEqual(parts[0].content.decode(), text)
            return
        bodies = [part.content[6:].decode() for part in parts]
        for body in bodies:
            self.assertLessEqual(gsm_length(body) or 0, 153)
        self.assertEqual("".join(bodies), text)


class SubmitTests(SynchronousTestCase):
    """The submit_sm of one stored segment."""

    def submit(self, segment: Part, query: str = "", report: bool = True) -> p.SubmitSm:
        pdu = client(query).submit_pdu((DEST,), segment, report=report, src=SRC)
        assert isinstance(pdu, p.SubmitSm)
        return pdu

    def test_ascii_as_gsm(self) -> None:
        """Msg_Fmt 0 goes as data_coding 0 in GSM 03.38 (@ 0x00, _ 0x11, { ESC 0x28)."""
        [segment] = split_mt("@_{a}", 1)
        pdu = self.submit(segment, "&source_ton=5&dest_ton=1&dest_npi=1".replace("&", "?", 1))
        self.assertEqual(pdu.data_coding, 0)
        self.assertEqual(pdu.short_message, b"\x00\x11\x1b\x28a\x1b\x29")
        self.assertEqual((pdu.source_addr, pdu.destination_addr), (SRC.encode(), DEST.encode()))
        self.assertEqual((pdu.source_addr_ton, pdu.dest_addr_ton, pdu.dest_addr_npi), (5, 1, 1))
        self.assertEqual((pdu.registered_delivery, pdu.esm_class), (1, 0))
        self.assertEqual(self.submit(segment, report=False).registered_delivery, 0)

    def test_ucs2(self) -> None:
        """Msg_Fmt 8 goes as data_coding 8, the bytes unchanged."""
        [segment] = split_mt("短信 £", 1)
        pdu = self.submit(segment)
        self.assertEqual((pdu.data_coding, pdu.short_message), (8, "短信 £".encode("utf-16-be")))

    def test_long_udh(self) -> None:
        """long=udh: esm_class 0x40 and the UDH before the GSM septets."""
        parts = split_mt("@" * 200, 9)
        pdu = self.submit(parts[1])
        self.assertEqual(pdu.esm_class, EsmClass.UDHI)
        self.assertEqual(pdu.short_message[:6], bytes([5, 0, 3, 9, 2, 2]))
        self.assertEqual(pdu.short_message[6:], b"\x00" * 47)

    def test_long_sar(self) -> None:
        """long=sar: no UDH, the sar_* TLVs instead."""
        parts = split_mt("@" * 200, 9)
        pdu = self.submit(parts[0], "?long=sar")
        self.assertEqual(pdu.esm_class, 0)
        self.assertEqual(pdu.short_message, b"\x00" * 153)
        self.assertEqual(sar(pdu.tlvs), (9, 2, 1))

    def test_long_payload(self) -> None:
        """long=payload: the whole text in message_payload, short_message empty."""
        text = "長い" * 100
        [whole] = client("?long=payload").segments(text, 1)
        pdu = self.submit(whole, "?long=payload")
        self.assertEqual(pdu.short_message, b"")
        self.assertEqual(get(pdu.tlvs, Tag.MESSAGE_PAYLOAD), text.encode("utf-16-be"))
        self.assertEqual(pdu.data_coding, 8)

    def test_one_destination(self) -> None:
        """A submit_sm has one destination: max_dests is 1 either way, more is refused."""
        smpp = client()
        self.assertEqual((smpp.max_dests(True), smpp.max_dests(False)), (1, 1))
        [segment] = split_mt("hi", 1)
        self.assertRaises(ValueError, smpp.submit_pdu, (DEST, DEST), segment, report=False, src="")


class OutcomeTests(SynchronousTestCase):
    """Message ids and statuses of submit_sm_resp."""

    def test_as_is(self) -> None:
        """By default the id is kept as sent."""
        self.assertEqual(client().outcome(p.SubmitSmResp(b"00aB"), 1), ("00aB", 0))

    def test_hex_and_decimal(self) -> None:
        """submit_id=hex keeps the id in decimal; decimal drops leading zeros."""
        self.assertEqual(client("?submit_id=hex").outcome(p.SubmitSmResp(b"00FF"), 1), ("255", 0))
        self.assertEqual(client("?submit_id=decimal").outcome(p.SubmitSmResp(b"007"), 1), ("7", 0))

    def test_refused(self) -> None:
        """A refusal is its status; flow control is 0x58, 0x14 and 0x08."""
        resp = p.SubmitSmResp(command_status=Status.ESME_RSUBMITFAIL)
        self.assertEqual(client().outcome(resp, 1), ("", 0x45))
        self.assertEqual(client().outcome(p.GenericNack(command_status=3), 1), ("", 3))
        self.assertEqual(SmppClient.flow_control, {0x58, 0x14, 0x08})
        self.assertEqual(client().result_name(0x45), "ESME_RSUBMITFAIL")


class ReceiptEventTests(SynchronousTestCase):
    """deliver_sm / data_sm receipts as ReportEvents."""

    def test_text_receipt_any_case_12_digit_dates(self) -> None:
        """Keys in any case, 12-digit dates, and the decimal id of a hex submit id."""
        text = (
            b"ID:255 SUB:001 DLVRD:001 Submit Date:261207183000 Done Date:261207183015"
            b" Stat:DELIVRD Err:000 Text:hello"
        )
        event = client("?receipt_id=decimal").event("intl", receipt(text))
        assert isinstance(event, ReportEvent)
        self.assertEqual((event.msg_id, event.stat, event.dest), ("255", "DELIVRD", DEST))
        self.assertTrue(event.delivered and event.final)
        self.assertEqual(event.done_at, 1796668215.0)
        self.assertEqual(event.err, "000")

    def test_hex_receipt_matches_decimal_submit(self) -> None:
        """receipt_id=hex and submit_id=decimal meet on the same id."""
        smpp = client("?submit_id=decimal&receipt_id=hex")
        submitted, _ = smpp.outcome(p.SubmitSmResp(b"1234"), 1)
        event = smpp.event("intl", receipt(b"id:4d2 stat:DELIVRD"))
        assert isinstance(event, ReportEvent)
        self.assertEqual(event.msg_id, submitted)

    def test_tlv_only(self) -> None:
        """A receipt with only receipted_message_id and message_state."""
        pdu = p.DataSm(
            source_addr=DEST.encode(),
            esm_class=EsmClass.DELIVERY_RECEIPT,
            tlvs=(
                tlv(Tag.RECEIPTED_MESSAGE_ID, b"ab12"),
                tlv(Tag.MESSAGE_STATE, MessageState.UNDELIVERABLE),
            ),
        )
        event = client().event("intl", pdu)
        assert isinstance(event, ReportEvent)
        self.assertEqual((event.msg_id, event.stat, event.delivered), ("ab12", "UNDELIV", False))
        self.assertIsNone(event.done_at)

    def test_message_state_preferred(self) -> None:
        """message_state wins over the text's stat:."""
        pdu = receipt(b"id:9 stat:DELIVRD", tlv(Tag.MESSAGE_STATE, MessageState.EXPIRED))
        event = client().event("intl", pdu)
        assert isinstance(event, ReportEvent)
        self.assertEqual((event.stat, event.delivered), ("EXPIRED", False))

    def test_not_final(self) -> None:
        """ENROUTE / ACCEPTD and intermediate notifications (0x20) are not final."""
        for pdu in (
            receipt(b"id:9 stat:ENROUTE"),
            receipt(b"id:9 stat:ACCEPTD"),
            receipt(b"id:9 stat:DELIVRD", esm_class=EsmClass.INTERMEDIATE),
        ):
            event = client().event("intl", pdu)
            assert isinstance(event, ReportEvent)
            self.assertFalse(event.final)

    def test_receipt_without_id_kept(self) -> None:
        """A receipt with no id anywhere is kept as an MO, not dropped."""
        event = client().event("intl", receipt(b"stat:DELIVRD"))
        assert isinstance(event, MoEvent)
        self.assertEqual(decode_text(event.content, event.msg_fmt), "stat:DELIVRD")


class MoEventTests(SynchronousTestCase):
    """MOs: the codings made Msg_Fmt the gateway reads, the three long forms one."""

    def mo(self, pdu: Any) -> MoEvent:
        event = client().event("intl", pdu)
        assert isinstance(event, MoEvent)
        return event

    def test_codings(self) -> None:
        """GSM 03.38 (@£¡ç€) and Latin-1 become UCS2; ASCII is Msg_Fmt 0; UCS2 stays."""
        text = "@£¡ç€ {x}"
        for coding, body, fmt in (
            (0, encode_gsm(text), MsgFmt.UCS2),
            (3, "é£ñ".encode("latin-1"), MsgFmt.UCS2),
            (1, b"plain", MsgFmt.ASCII),
            (8, "短信".encode("utf-16-be"), MsgFmt.UCS2),
        ):
            with self.subTest(coding=coding):
                event = self.mo(p.DeliverSm(source_addr=b"1", data_coding=coding,
                                            short_message=body))  # fmt: skip
                self.assertEqual(event.msg_fmt, fmt)
                expected = (
                    decode_gsm(body)
                    if coding == 0
                    else body.decode(
                        {3: "latin-1", 1: "ascii", 8: "utf-16-be"}.get(coding, "ascii")
                    )
                )
                self.assertEqual(decode_text(event.content, event.msg_fmt), expected)
        self.assertEqual(decode_gsm(encode_gsm(text)), text)

    def test_three_long_forms(self) -> None:
        """16-bit UDH after another IE, SAR TLVs and message_payload all reassemble."""
        first, second = "@£¡ç€ part one ", "and two"
        udh = bytes([9, 0x70, 1, 0, 8, 4, 0x12, 0x34, 2])
        udh_parts = [
            p.DeliverSm(esm_class=0x40, short_message=udh + bytes([n]) + encode_gsm(body))
            for n, body in ((1, first), (2, second))
        ]
        sar_parts = [
            p.DeliverSm(
                short_message=encode_gsm(body),
                tlvs=(
                    tlv(Tag.SAR_MSG_REF_NUM, 77),
                    tlv(Tag.SAR_TOTAL_SEGMENTS, 2),
                    tlv(Tag.SAR_SEGMENT_SEQNUM, n),
                ),
            )
            for n, body in ((1, first), (2, second))
        ]
        payload = [p.DataSm(tlvs=(tlv(Tag.MESSAGE_PAYLOAD, encode_gsm(first + second)),))]
        for parts in (udh_parts, sar_parts, payload):
            reassembler = Reassembler()
            done = None
            for pdu in reversed(parts):
                event = self.mo(pdu)
                done = reassembler.add("k", event.content, event.tp_udhi, event.msg_fmt, 0.0)
            assert done is not None
            self.assertEqual(done.text, first + second)

    def test_ack(self) -> None:
        """Stored: status 0; not stored: ESME_RX_T_APPN, so the SMSC tries again."""
        smpp = client()
        self.assertEqual(smpp.ack(p.DeliverSm(), True), p.DeliverSmResp())
        self.assertEqual(smpp.ack(p.DataSm(), False), p.DataSmResp(command_status=0x64))
        self.assertEqual(smpp.inbound_kinds(), {p.DeliverSm, p.DataSm})
