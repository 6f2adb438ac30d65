"""Byte-exact SGIP 1.2 golden vectors (sgip12.md §3.2 and the §6/§8 offset tables).

The expected bytes are written out by hand, one field per line with its body
offset, not produced by the encoder; each vector is checked both ways.
"""

from __future__ import annotations

from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.sgip import pdus as p
from smsgw.protocols.sgip.codec import decode, encode
from smsgw.protocols.sgip.constants import CommandId, LoginType, ReportState, Result
from smsgw.protocols.sgip.sequence import format_message_id, parse_message_id, sequence_time


def _hex(*lines: str) -> bytes:
    """Bytes from hex *lines*; spaces and ``#`` comments are ignored."""
    return bytes.fromhex("".join(line.split("#")[0].replace(" ", "") for line in lines))


#: The §3.2 worked example: SP 3075512345, Bind on Nov 20 at 20:32:25, counter 1.
SEQ = (3075512345, 1120203225, 1)
SEQ_HEX = "b7509819 42c4f1d9 00000001"

#: sgip12.md §3.2, verbatim.
BIND = _hex(
    "0000003d 00000001 b7509819 42c4f1d9 00000001",  # len 61, Bind, seq
    "01",  # Login Type 1
    "73707573 65720000 00000000 00000000",  # "spuser" + 10 NUL
    "73707061 73730000 00000000 00000000",  # "sppass" + 10 NUL
    "00000000 00000000",  # Reserve
)

#: Submit, one receiver, 4 bytes of UCS2: 143 + 21 + 4 = 168 = 0xa8 (sgip12.md §6).
SUBMIT_PDU = p.Submit(
    sp_number=b"10655123",
    charge_number=b"0" * 21,
    user_numbers=(b"8613001125453",),
    corp_id=b"12345",
    service_type=b"TEST",
    fee_type=2,
    fee_value=b"100",
    given_value=b"0",
    agent_flag=0,
    morelateto_mt_flag=2,
    priority=0,
    expire_time=b"251231235959032+",
    schedule_time=b"",
    report_flag=1,
    tp_pid=0,
    tp_udhi=0,
    message_coding=8,
    message_type=0,
    message_content="中文".encode("utf-16-be"),
)
SUBMIT = _hex(
    "000000a8 00000003", SEQ_HEX,
    "31303635 35313233 00000000 00000000 00000000 00",  # 0 SPNumber "10655123"
    "30303030 30303030 30303030 30303030 30303030 30",  # 21 ChargeNumber 21 x '0': SP pays
    "01",  # 42 UserCount
    "38363133 30303131 32353435 33000000 00000000 00",  # 43 UserNumber "8613001125453"
    "31323334 35",  # 43+21N CorpId "12345"
    "54455354 00000000 0000",  # 48+21N ServiceType "TEST"
    "02",  # 58+21N FeeType
    "31303000 0000",  # 59+21N FeeValue "100"
    "30000000 0000",  # 65+21N GivenValue "0"
    "00",  # 71+21N AgentFlag
    "02",  # 72+21N MorelatetoMTFlag
    "00",  # 73+21N Priority
    "32353132 33313233 35393539 3033322b",  # 74+21N ExpireTime "251231235959032+", no NUL
    "00000000 00000000 00000000 00000000",  # 90+21N ScheduleTime: now
    "01",  # 106+21N ReportFlag
    "00",  # 107+21N TP_pid
    "00",  # 108+21N TP_udhi
    "08",  # 109+21N MessageCoding UCS2
    "00",  # 110+21N MessageType
    "00000004",  # 111+21N MessageLength, 4 bytes
    "4e2d6587",  # 115+21N MessageContent "中文"
    "00000000 00000000",  # 115+21N+L Reserve
)  # fmt: skip

#: Deliver, 4 bytes of GBK: 77 + 4 = 81 = 0x51; no MessageType byte (sgip12.md §12).
DELIVER_SEQ = (107551, 1120203300, 7)
DELIVER_PDU = p.Deliver(
    user_number=b"8613001125453",
    sp_number=b"106551234567",
    message_coding=15,
    message_content="你好".encode("gbk"),
)
DELIVER = _hex(
    "00000051 00000004 0001a41f 42c4f224 00000007",
    "38363133 30303131 32353435 33000000 00000000 00",  # 0 UserNumber
    "31303635 35313233 34353637 00000000 00000000 00",  # 21 SPNumber "106551234567"
    "00",  # 42 TP_pid
    "00",  # 43 TP_udhi
    "0f",  # 44 MessageCoding GBK
    "00000004",  # 45 MessageLength
    "c4e3bac3",  # 49 MessageContent "你好"
    "00000000 00000000",  # 49+L Reserve
)

#: Report on the Submit above: 64 bytes, SubmitSequenceNumber = the Submit's header sequence.
REPORT_PDU = p.Report(
    *SEQ,
    report_type=0,
    user_number=b"8613001125453",
    state=ReportState.FAILED,
    error_code=Result.USER_UNREACHABLE,
)
REPORT = _hex(
    "00000040 00000005 0001a41f 42c4f224 00000008",
    SEQ_HEX,  # 0 SubmitSequenceNumber
    "00",  # 12 ReportType: about a Submit
    "38363133 30303131 32353435 33000000 00000000 00",  # 13 UserNumber
    "02",  # 34 State: failed
    "19",  # 35 ErrorCode 25: user cannot be reached
    "00000000 00000000",  # 36 Reserve
)

BIND_RESP = _hex("0000001d 80000001", SEQ_HEX, "01", "00000000 00000000")
UNBIND = _hex("00000014 00000002", SEQ_HEX)
UNBIND_RESP = _hex("00000014 80000002", SEQ_HEX)

#: Trace_Resp with one node: 21 + 47 = 68 = 0x44.
TRACE_RESP_PDU = p.TraceResp(
    nodes=(
        p.TraceNode(
            result=0, node_id=b"107551", receive_time=b"231120203225", send_time=b"231120203226"
        ),
    )
)
TRACE_RESP = _hex(
    "00000044 80001000", SEQ_HEX,
    "01",  # 0 Count
    "00",  # 1 Result: received
    "31303735 3531",  # 2 NodeId "107551"
    "32333131 32303230 33323235 00000000",  # 8 ReceiveTime, 12 chars NUL-padded to 16
    "32333131 32303230 33323236 00000000",  # 24 SendTime
    "00000000 00000000",  # 40 Reserve
)  # fmt: skip

#: QueryRoute_Resp with one entry: 25 + 87 = 112 = 0x70.
QUERY_ROUTE_RESP_PDU = p.QueryRouteResp(
    result=0,
    entries=(
        p.RouteEntry(
            type=1,
            number=b"10655123",
            mark=b"SVC",
            code=b"12345",
            smg_id=b"107551",
            smg_ip=0x0A000001,
            login_user=b"smg01",
            password=b"secret",
        ),
    ),
)
QUERY_ROUTE_RESP = _hex(
    "00000070 80000009", SEQ_HEX,
    "00",  # 0 Result
    "00000001",  # 1 Count, 4 bytes
    "01",  # 5 Type: SP access number
    "31303635 35313233 00000000 00000000 00000000 00",  # 6 Number
    "53564300 00000000 0000",  # 27 Mark
    "31323334 35",  # 37 Code
    "31303735 3531",  # 42 SMGId
    "0a000001",  # 48 SMGIP 10.0.0.1
    "736d6730 31000000 00000000 00000000",  # 52 LoginUser
    "73656372 65740000 00000000 00000000",  # 68 Password
    "00000000 00000000",  # 84 Reserve
)  # fmt: skip

GOLDEN: list[tuple[str, Any, tuple[int, int, int], bytes]] = [
    ("Bind", p.Bind(LoginType.SP_TO_SMG, b"spuser", b"sppass"), SEQ, BIND),
    ("Bind_Resp", p.BindResp(Result.ILLEGAL_LOGIN), SEQ, BIND_RESP),
    ("Unbind", p.Unbind(), SEQ, UNBIND),
    ("Unbind_Resp", p.UnbindResp(), SEQ, UNBIND_RESP),
    ("Submit", SUBMIT_PDU, SEQ, SUBMIT),
    ("Deliver", DELIVER_PDU, DELIVER_SEQ, DELIVER),
    ("Report", REPORT_PDU, (107551, 1120203300, 8), REPORT),
    ("Trace_Resp", TRACE_RESP_PDU, SEQ, TRACE_RESP),
    ("QueryRoute_Resp", QUERY_ROUTE_RESP_PDU, SEQ, QUERY_ROUTE_RESP),
]


class GoldenTests(SynchronousTestCase):
    """Hand-written frames encode and decode exactly."""

    def test_bind_worked_example(self) -> None:
        """The §3.2 worked Bind is 61 bytes, byte for byte, and decodes to its fields."""
        pdu = p.Bind(login_type=1, login_name=b"spuser", login_password=b"sppass")
        self.assertEqual(encode(pdu, SEQ), BIND)
        header, back = decode(BIND)
        self.assertEqual(back, pdu)
        self.assertEqual(header, (61, CommandId.BIND, SEQ))

    def test_vectors_encode(self) -> None:
        """Every golden PDU encodes to its hand-written bytes."""
        for name, pdu, seq, frame in GOLDEN:
            self.assertEqual(encode(pdu, seq).hex(" ", 4), frame.hex(" ", 4), name)

    def test_vectors_decode(self) -> None:
        """Every golden frame decodes to its PDU and sequence number."""
        for name, pdu, seq, frame in GOLDEN:
            header, back = decode(frame)
            self.assertEqual((back, header.sequence_id, header.length), (pdu, seq, len(frame)),
                             name)  # fmt: skip

    def test_report_names_golden_submit(self) -> None:
        """The golden Report's body starts with the golden Submit's header sequence bytes."""
        self.assertEqual(REPORT[20:32], SUBMIT[8:20])
        self.assertEqual(decode(REPORT)[1].submit_sequence_number, decode(SUBMIT)[0].sequence_id)


class WorkedValueTests(SynchronousTestCase):
    """The other worked values of sgip12.md §3."""

    def test_header_time(self) -> None:
        """Nov 20 20:32:25 is the decimal 1120203225 = 0x42C4F1D9 (§3)."""
        self.assertEqual(sequence_time(1700483545), 1120203225)
        self.assertEqual(BIND[12:16], bytes.fromhex("42c4f1d9"))

    def test_node_ids(self) -> None:
        """SP 3075512345 is 0xB7509819; the biggest SP id 3999999999 fits (§3.1)."""
        self.assertEqual(BIND[8:12], bytes.fromhex("b7509819"))
        frame = encode(p.Unbind(), (3999999999, 1231235959, 0xFFFFFFFF))
        self.assertEqual(decode(frame)[0].sequence_id, (3999999999, 1231235959, 0xFFFFFFFF))

    def test_message_id(self) -> None:
        """The worked sequence number spells 3075512345-1120203225-1 and back."""
        self.assertEqual(format_message_id(SEQ), "3075512345-1120203225-1")
        self.assertEqual(parse_message_id("3075512345-1120203225-1"), SEQ)
