"""The SP side's channels for SGIP 1.2, SMGP 3.0 and CMPP 3.0 (:mod:`smsgw.sp.clients`).

First the per-protocol clients alone (no sockets): the SUBMIT each builds
for a segment, how it normalises message ids, and the
events and answers it makes of inbound PDUs.  Then each protocol end to end
over loopback against ``--role=ismg-sim`` as :func:`smsgw.tap.makeService`
builds it (:class:`tests.ismg.test_protocols_live.IsmgSim`): SUBMIT →
response with a normalised id → report matched to that id, an MO injected
through the control API, long messages both ways, and the SGIP links in
both directions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from twisted.application.internet import StreamServerEndpointService
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.python.usage import UsageError
from twisted.trial.unittest import SynchronousTestCase

from smsgw.bench.load import Options as BenchOptions
from smsgw.config import parse_upstream_url
from smsgw.protocols.cmpp import pdus as cp
from smsgw.protocols.cmpp.client import CmppClient
from smsgw.protocols.cmpp.codec import encode_report as cmpp_encode_report
from smsgw.protocols.cmpp.codec30 import CMPP30
from smsgw.protocols.session import Session
from smsgw.protocols.sgip import pdus as gp
from smsgw.protocols.sgip.client import SgipClient
from smsgw.protocols.sgip.codec import SGIP12
from smsgw.protocols.sgip.constants import LoginType, ReportState
from smsgw.protocols.sgip.constants import Result as SgipResult
from smsgw.protocols.sgip.session import sgip_session_config
from smsgw.protocols.smgp import pdus as mp
from smsgw.protocols.smgp.client import SmgpClient
from smsgw.protocols.smgp.constants import Tag
from smsgw.protocols.smgp.msgid import msg_id_hex
from smsgw.protocols.smgp.report import Report as SmgpReport
from smsgw.protocols.smgp.report import encode_report as smgp_encode_report
from smsgw.protocols.smgp.tlv import Tlv, encode_value, get_int, has_udhi
from smsgw.sp.channel import SegmentResult
from smsgw.sp.clients import MoEvent, ReportEvent, client_for
from smsgw.text import ConcatInfo, MsgFmt, Reassembler, concat_info, decode_text, split_text
from tests.ismg.test_protocols_live import (
    DEST,
    SP_ID,
    SP_NODE_ID,
    SRC,
    WIRES,
    IsmgSim,
    RawClient,
    Wire,
    start_protocol_channel,
    upstream_url,
)
from tests.sp.test_channel import _LiveTestCase, closed_port, peek, wait_until, within

#: 200 Chinese characters: three UCS-2 segments of at most 67.
LONG_MT = ("短信网关长消息测试" * 23)[:200]
#: 150 characters: three segments the other way.
LONG_MO = ("上行长短信重组" * 22)[:150]


def concat(content: bytes, tp_udhi: int = 1) -> ConcatInfo:
    """The concatenation element of *content*'s UDH, which must have one."""
    info = concat_info(content, tp_udhi)
    assert info is not None, "no concatenation element"
    return info


def _url(scheme: str, query: str = "") -> Any:
    """The parsed upstream URL of the test account for *scheme* (no socket is opened)."""
    return parse_upstream_url(upstream_url(scheme, 7000) + query)


class SgipClientTests(SynchronousTestCase):
    """:class:`SgipClient`: Submit, message ids, Report and Deliver, answers."""

    def setUp(self) -> None:
        self.client = client_for(_url("sgip", "&corp_id=41234"))
        [self.segment, *_] = split_text(LONG_MT, MsgFmt.UCS2, 7)

    def test_client_for(self) -> None:
        """sgip:// gets an SgipClient with the URL's node id."""
        self.assertIsInstance(self.client, SgipClient)
        assert isinstance(self.client, SgipClient)
        self.assertEqual(self.client.node_id, SP_NODE_ID)

    def test_submit_long_segment(self) -> None:
        """A long segment is a Submit with TP_udhi 1, UCS-2 and the UDH in the content."""
        pdu = self.client.submit_pdu((DEST,), self.segment, report=True, src=SRC)
        assert isinstance(pdu, gp.Submit)
        self.assertEqual((pdu.tp_udhi, pdu.message_coding, pdu.report_flag), (1, 8, 1))
        self.assertEqual((pdu.sp_number, pdu.user_numbers), (SRC.encode(), (DEST.encode(),)))
        self.assertEqual((pdu.corp_id, pdu.service_type), (b"41234", b"TEST"))
        info = concat(pdu.message_content, pdu.tp_udhi)
        self.assertEqual((info.reference, info.total, info.number), (7, 3, 1))
        SGIP12.encode(pdu, (SP_NODE_ID, 1, 1))

    def test_submit_without_report(self) -> None:
        """No report wanted is ReportFlag 2 (never)."""
        [segment] = split_text("hi", MsgFmt.ASCII, 0)
        pdu = self.client.submit_pdu((DEST,), segment, report=False, src=SRC)
        assert isinstance(pdu, gp.Submit)
        self.assertEqual((pdu.report_flag, pdu.tp_udhi, pdu.message_content), (2, 0, b"hi"))

    def test_message_id_is_the_sequence(self) -> None:
        """The message id is the Submit's sequence number, node-time-counter."""
        resp = gp.SubmitResp(0)
        self.assertEqual(
            self.client.outcome(resp, (SP_NODE_ID, 1122094506, 12)),
            (f"{SP_NODE_ID}-1122094506-12", 0),
        )

    def test_one_sequence_for_every_link(self) -> None:
        """Every link's adapter draws from one counter, so ids never repeat."""
        first, second = self.client.adapter(), self.client.adapter()
        ids = [first.next_sequence(), second.next_sequence(), first.next_sequence()]
        self.assertEqual([s[2] for s in ids], [0, 1, 2])
        self.assertEqual({s[0] for s in ids}, {SP_NODE_ID})

    def test_no_keepalive_no_idle(self) -> None:
        """The MT link sends no keepalive and does not close itself when idle; window ≤ 32."""
        overrides = self.client.session_config_overrides()
        self.assertEqual((overrides["keepalive_s"], overrides["idle_timeout_s"]), (None, None))
        client = client_for(_url("sgip", "&window=100"))
        self.assertEqual(client.session_config_overrides()["window"], 32)

    def test_report_event(self) -> None:
        """A Report becomes a ReportEvent whose msg_id is the Submit's id."""
        sequence = (SP_NODE_ID, 1122094506, 12)
        msg_id, _ = self.client.outcome(gp.SubmitResp(0), sequence)
        for state, stat in ((ReportState.DELIVERED, "DELIVRD"), (ReportState.FAILED, "UNDELIV")):
            report = gp.Report(
                *sequence,
                report_type=0,
                user_number=DEST.encode(),
                state=int(state),
                error_code=25 if state else 0,
            )
            event = self.client.event("ch", report)
            self.assertEqual(
                event,
                ReportEvent(
                    "ch",
                    msg_id,
                    stat,
                    DEST,
                    delivered=not state,
                    final=True,
                    done_at=None,
                    err="25" if state else "0",
                ),
            )

    def test_waiting_report_is_not_final(self) -> None:
        """State 1 (waiting) is an intermediate report: not final, not delivered."""
        report = gp.Report(SP_NODE_ID, 1, 1, user_number=DEST.encode(), state=1)
        event = self.client.event("ch", report)
        assert isinstance(event, ReportEvent)
        self.assertEqual((event.final, event.delivered, event.stat), (False, False, "ACCEPTD"))

    def test_mo_event(self) -> None:
        """A Deliver becomes a MoEvent with its UDH flag and content."""
        [segment, *_] = split_text(LONG_MO, MsgFmt.UCS2, 3)
        deliver = gp.Deliver(
            user_number=DEST.encode(),
            sp_number=SRC.encode(),
            tp_udhi=1,
            message_coding=8,
            message_content=segment.content,
        )
        event = self.client.event("ch", deliver)
        self.assertEqual(event, MoEvent("ch", DEST, SRC, segment.content, 8, 1))

    def test_answers(self) -> None:
        """Stored → Result 0; not stored → Result 5; other requests get no answer."""
        report = gp.Report(SP_NODE_ID, 1, 1)
        self.assertEqual(self.client.ack(report, True), gp.ReportResp(0))
        self.assertEqual(self.client.ack(gp.Deliver(), False), gp.DeliverResp(5))
        self.assertIsNone(self.client.ack(gp.Submit(), True))
        self.assertIsNone(self.client.event("ch", gp.Submit()))


class SmgpClientTests(SynchronousTestCase):
    """:class:`SmgpClient`: Submit with TLVs, hex message ids, reports and MOs."""

    def setUp(self) -> None:
        self.client = client_for(_url("smgp"))
        self.segments = split_text(LONG_MT, MsgFmt.UCS2, 9)

    def test_client_for(self) -> None:
        """smgp:// gets an SmgpClient."""
        self.assertIsInstance(self.client, SmgpClient)

    def test_submit_long_segments(self) -> None:
        """Each segment carries TP_udhi, PkTotal and PkNumber TLVs and its UDH."""
        for segment in self.segments:
            pdu = self.client.submit_pdu((DEST,), segment, report=True, src=SRC)
            assert isinstance(pdu, mp.Submit)
            self.assertTrue(has_udhi(pdu.tlvs))
            self.assertEqual(get_int(pdu.tlvs, Tag.PK_TOTAL), 3)
            self.assertEqual(get_int(pdu.tlvs, Tag.PK_NUMBER), segment.pk_number)
            self.assertEqual((pdu.need_report, pdu.msg_format), (1, 8))
            self.assertEqual(concat(pdu.msg_content, 1).number, segment.pk_number)

    def test_submit_short_has_no_tlvs(self) -> None:
        """A one-segment message has no TLVs and NeedReport 0 without a report."""
        [segment] = split_text("hi", MsgFmt.ASCII, 0)
        pdu = self.client.submit_pdu((DEST,), segment, report=False, src=SRC)
        assert isinstance(pdu, mp.Submit)
        self.assertEqual((pdu.tlvs, pdu.need_report, pdu.msg_format), ((), 0, 0))

    def test_message_id_hex(self) -> None:
        """Submit_Resp's 10-byte MsgID is normalised to 20 hex digits."""
        raw = bytes.fromhex("12345611221045000042")
        self.assertEqual(self.client.outcome(mp.SubmitResp(raw, 0), 1), ("12345611221045000042", 0))

    def test_report_event(self) -> None:
        """A Deliver with IsReport 1 becomes a ReportEvent naming the Submit's MsgID."""
        raw = bytes.fromhex("12345611221045000042")
        content = smgp_encode_report(
            SmgpReport(
                msg_id=raw,
                submit_date=b"2511221045",
                done_date=b"2511221046",
                stat=b"UNDELIV",
                err=b"006",
            )
        )
        deliver = mp.Deliver(
            msg_id=bytes(10),
            is_report=1,
            src_term_id=DEST.encode(),
            dest_term_id=SRC.encode(),
            msg_content=content,
        )
        event = self.client.event("ch", deliver)
        assert isinstance(event, ReportEvent)
        self.assertEqual(
            (event.msg_id, event.stat, event.dest, event.err),
            (msg_id_hex(raw), "UNDELIV", DEST, "006"),
        )
        # 2025-11-22 10:46 in Beijing is 02:46 UTC.
        self.assertEqual((event.done_at, event.final, event.delivered), (1763779560.0, True, False))

    def test_report_states(self) -> None:
        """DELIVRD is delivered and final; ACCEPTD is not final; a bad done date is no time."""
        for stat, delivered, final in (
            (b"DELIVRD", True, True),
            (b"ACCEPTD", False, False),
            (b"EXPIRED", False, True),
        ):
            content = smgp_encode_report(
                SmgpReport(msg_id=bytes(10), done_date=b"25112299xx", stat=stat)
            )
            deliver = mp.Deliver(is_report=1, src_term_id=DEST.encode(), msg_content=content)
            event = self.client.event("ch", deliver)
            assert isinstance(event, ReportEvent)
            self.assertEqual(
                (event.delivered, event.final, event.done_at), (delivered, final, None)
            )

    def test_mo_event(self) -> None:
        """A Deliver with IsReport 0 and a TP_udhi TLV becomes a MoEvent with tp_udhi 1."""
        segment = split_text(LONG_MO, MsgFmt.UCS2, 4)[1]
        tlvs = (Tlv(Tag.TP_UDHI, encode_value(Tag.TP_UDHI, 1)),)
        raw = bytes.fromhex("12345611221045000043")
        deliver = mp.Deliver(
            msg_id=raw,
            msg_format=8,
            src_term_id=DEST.encode(),
            dest_term_id=SRC.encode(),
            msg_content=segment.content,
            tlvs=tlvs,
        )
        self.assertEqual(
            self.client.event("ch", deliver),
            MoEvent("ch", DEST, SRC, segment.content, 8, 1, msg_id_hex(raw)),
        )

    def test_answers(self) -> None:
        """Deliver_Resp echoes the MsgID with status 0, or 1 when not stored."""
        deliver = mp.Deliver(msg_id=b"\x01" * 10)
        self.assertEqual(self.client.ack(deliver, True), mp.DeliverResp(b"\x01" * 10, 0))
        self.assertEqual(self.client.ack(deliver, False), mp.DeliverResp(b"\x01" * 10, 1))
        self.assertIsNone(self.client.ack(mp.ActiveTest(), True))


class Cmpp3ClientTests(SynchronousTestCase):
    """:class:`CmppClient` for ``cmpp3://``: the 3.0 codec and 3.0 reports."""

    def setUp(self) -> None:
        self.client = client_for(_url("cmpp3"))

    def test_codec(self) -> None:
        """cmpp3:// speaks CMPP 3.0 on every link."""
        assert isinstance(self.client, CmppClient)
        self.assertTrue(self.client.v3)
        self.assertIs(self.client.adapter().codec, CMPP30)

    def test_submit_long_segment(self) -> None:
        """A segment's Pk_total, Pk_number and TP_udhi go into the Submit."""
        segment = split_text(LONG_MT, MsgFmt.UCS2, 5)[2]
        pdu = self.client.submit_pdu((DEST,), segment, report=True, src=SRC)
        assert isinstance(pdu, cp.Submit)
        self.assertEqual((pdu.pk_total, pdu.pk_number, pdu.tp_udhi), (3, 3, 1))
        self.assertEqual((pdu.msg_src, pdu.registered_delivery), (SP_ID.encode(), 1))
        CMPP30.encode(pdu, 1)

    def test_report_event(self) -> None:
        """A 3.0 report (32-byte Dest_terminal_Id) is read with its decimal Msg_Id."""
        content = cmpp_encode_report(
            cp.Report(
                msg_id=123456789,
                stat=b"DELIVRD",
                submit_time=b"2511221045",
                done_time=b"2511221046",
                dest_terminal_id=DEST.encode(),
            ),
            dest_width=32,
        )
        deliver = cp.Deliver(msg_id=1, registered_delivery=1, msg_content=content)
        event = self.client.event("ch", deliver)
        assert isinstance(event, ReportEvent)
        self.assertEqual((event.msg_id, event.stat, event.dest), ("123456789", "DELIVRD", DEST))
        # Done_time 2025-11-22 10:46 in Beijing is 02:46 UTC.
        self.assertEqual((event.done_at, event.final, event.delivered), (1763779560.0, True, True))

    def test_acceptd_report_is_not_final(self) -> None:
        """A CMPP report with Stat ACCEPTD is intermediate: not final, not delivered."""
        content = cmpp_encode_report(
            cp.Report(msg_id=1, stat=b"ACCEPTD", done_time=b"2511221046"), dest_width=32
        )
        deliver = cp.Deliver(msg_id=1, registered_delivery=1, msg_content=content)
        event = self.client.event("ch", deliver)
        assert isinstance(event, ReportEvent)
        self.assertEqual((event.final, event.delivered), (False, False))


if TYPE_CHECKING:
    _Base = _LiveTestCase
else:
    _Base = object


class _ChannelFlows(_Base):
    """One protocol's channel against ``makeService``'s ismg-sim; subclasses set :attr:`wire`."""

    wire: ClassVar[Wire]

    async def setUp(self) -> None:  # type: ignore[override]
        super().setUp()
        self.callback_port = await closed_port()
        self.ismg = await IsmgSim.start(self, self.callback_port)
        self.sim = self.ismg.sim
        self.port = self.ismg.ports[self.wire.name]
        #: Every request PDU the simulator's face handled, in order.
        self.requests: list[Any] = []
        face = self.sim.faces[self.wire.name]
        handle = face.handle_request

        def record(session: Session, header: Any, pdu: Any) -> Any:
            self.requests.append(pdu)
            return handle(session, header, pdu)

        face.handle_request = record
        self.channel = start_protocol_channel(
            self,
            self.wire.name,
            self.port,
            listen_port=self.callback_port,
            on_event=self.on_event,
        )
        await within(self.channel.session())

    def reports(self) -> list[ReportEvent]:
        """The report events the channel gave to on_event so far."""
        return [e for e in self.events if isinstance(e, ReportEvent)]

    def mos(self) -> list[MoEvent]:
        """The MO events the channel gave to on_event so far."""
        return [e for e in self.events if isinstance(e, MoEvent)]

    def submits(self) -> list[Any]:
        """The Submit PDUs the simulator received."""
        return [r for r in self.requests if type(r).__name__ == "Submit"]

    async def test_submit_and_report(self) -> None:
        """SUBMIT → a normalised msg id, listed by /v1/submits → a report with that id."""
        [segment] = split_text("hello report", MsgFmt.ASCII, 0)
        result: SegmentResult = await within(self.channel.submit_segment((DEST,), segment))
        self.assertEqual(result.result, 0)
        self.assertRegex(result.msg_id, self.wire.msg_id)
        code, body = await self.ismg.call("GET", f"/v1/submits?account={SP_ID}")
        self.assertEqual(code, 200)
        [rec] = body["submits"]
        self.assertEqual(
            (rec["msg_id"], rec["protocol"], rec["dest"], rec["text"]),
            (result.msg_id, self.wire.name, [DEST], "hello report"),
        )
        self.assertEqual(rec["registered_delivery"], 1)
        await wait_until(self.reports, "the report")
        [report] = self.reports()
        self.assertEqual(
            (report.msg_id, report.stat, report.dest, report.channel),
            (result.msg_id, "DELIVRD", DEST, self.wire.name),
        )
        await wait_until(lambda: self.sim.totals.get("delivered") == 1, "the report's answer")

    async def test_undelivered_report(self) -> None:
        """With PUT /v1/policy UNDELIV, the report for the msg id says UNDELIV."""
        code, _ = await self.ismg.call("PUT", "/v1/policy", {"reports": {"states": {"UNDELIV": 1}}})
        self.assertEqual(code, 200)
        [segment] = split_text("fail me", MsgFmt.ASCII, 0)
        result = await within(self.channel.submit_segment((DEST,), segment))
        await wait_until(self.reports, "the report")
        [report] = self.reports()
        self.assertEqual((report.msg_id, report.stat), (result.msg_id, "UNDELIV"))

    async def test_many_reports_matched(self) -> None:
        """Twenty SUBMITs at once: twenty distinct ids, each matched by exactly one report."""
        [segment] = split_text("burst", MsgFmt.ASCII, 0)
        dests = [f"1380013{i:04d}" for i in range(20)]
        jobs = [self.channel.submit_segment((d,), segment) for d in dests]
        results = [await within(job) for job in jobs]
        ids = {r.msg_id: r.dest[0] for r in results}
        self.assertEqual(len(ids), 20)
        await wait_until(lambda: len(self.reports()) == 20, "twenty reports")
        self.assertEqual({r.msg_id: r.dest for r in self.reports()}, ids)

    async def test_long_mt(self) -> None:
        """200 Chinese characters: three segments with UDH, pk numbers in /v1/submits."""
        results = await within(self.channel.submit_text([DEST], LONG_MT, report=True))
        pks = [(1, 3), (2, 3), (3, 3)]
        self.assertEqual(sorted((r.pk_number, r.pk_total) for r in results), pks)
        self.assertEqual({r.result for r in results}, {0})
        ids = {r.msg_id for r in results}
        self.assertEqual(len(ids), 3)
        code, body = await self.ismg.call("GET", f"/v1/submits?dest={DEST}")
        self.assertEqual(code, 200)
        recs = sorted(body["submits"], key=lambda s: s["pk_number"])
        self.assertEqual([(s["pk_number"], s["pk_total"]) for s in recs], pks)
        self.assertEqual({s["msg_id"] for s in recs}, ids)
        self.assertEqual(len({s["udh_reference"] for s in recs}), 1)
        self.assertEqual("".join(s["text"] for s in recs), LONG_MT)
        submits = self.submits()
        self.assertEqual(len(submits), 3)
        self.check_long_submits(submits)
        await wait_until(lambda: len(self.reports()) == 3, "three reports")
        self.assertEqual({r.msg_id for r in self.reports()}, ids)

    def check_long_submits(self, submits: list[Any]) -> None:
        """The protocol's own marks of a long message on each Submit."""
        raise NotImplementedError

    async def test_mo_through_control_api(self) -> None:
        """POST /v1/mo with the protocol reaches on_event as a MoEvent."""
        mo = {
            "account": SP_ID,
            "from": DEST,
            "to": SRC + "01",
            "content": "查询余额",
            "protocol": self.wire.name,
        }
        code, body = await self.ismg.call("POST", "/v1/mo", mo)
        self.assertEqual((code, body["protocol"], body["segments"]), (202, self.wire.name, 1))
        await wait_until(self.mos, "the MO")
        [event] = self.mos()
        self.assertEqual((event.sender, event.to, event.tp_udhi), (DEST, SRC + "01", 0))
        self.assertEqual(decode_text(event.content, event.msg_fmt), "查询余额")
        self.check_mo_id(event, body["msg_ids"][0])
        await wait_until(lambda: self.sim.totals.get("delivered") == 1, "the MO's answer")

    def check_mo_id(self, event: MoEvent, answered: str) -> None:
        """The MO's id on the SP side against the one /v1/mo answered."""
        self.assertEqual(event.msg_id, answered)

    async def test_long_mo(self) -> None:
        """A 150-character MO arrives in three parts and Reassembler restores it."""
        mo = {
            "account": SP_ID,
            "from": DEST,
            "to": SRC,
            "content": LONG_MO,
            "protocol": self.wire.name,
        }
        code, body = await self.ismg.call("POST", "/v1/mo", mo)
        self.assertEqual((code, body["segments"]), (202, 3))
        await wait_until(lambda: len(self.mos()) == 3, "three MO parts")
        reassembler = Reassembler()
        whole = []
        for event in self.mos():
            self.assertEqual(event.tp_udhi, 1)
            key = (event.sender, event.to)
            done = reassembler.add(key, event.content, event.tp_udhi, event.msg_fmt, 0.0)
            if done is not None:
                whole.append(done)
        [message] = whole
        self.assertEqual((message.text, message.total, message.key), (LONG_MO, 3, (DEST, SRC)))

    async def test_unknown_mo_protocol(self) -> None:
        """POST /v1/mo for a protocol not served answers 400."""
        mo = {"account": SP_ID, "from": DEST, "to": SRC, "content": "x", "protocol": "smpp"}
        code, body = await self.ismg.call("POST", "/v1/mo", mo)
        self.assertEqual((code, body["error"]), (400, "bad_mo"))


class SgipChannelTests(_ChannelFlows, _LiveTestCase):
    """SGIP 1.2: MT on the SP's link, reports and MOs on the SMG's link to the SP's server."""

    wire = WIRES["sgip"]

    def check_long_submits(self, submits: list[Any]) -> None:
        refs = set()
        for n, pdu in enumerate(submits, 1):
            self.assertEqual((pdu.tp_udhi, pdu.message_coding, pdu.report_flag), (1, 8, 1))
            info = concat(pdu.message_content, pdu.tp_udhi)
            self.assertEqual((info.total, info.number), (3, n))
            refs.add(info.reference)
        self.assertEqual(len(refs), 1)

    def check_mo_id(self, event: MoEvent, answered: str) -> None:
        # An SGIP Deliver carries no message id (its sequence number names it).
        self.assertEqual((event.msg_id, answered), ("", ""))

    async def test_reports_use_the_callback_link(self) -> None:
        """The report comes over a Login Type 2 link the SMG opened to the SP's server."""
        [segment] = split_text("x", MsgFmt.ASCII, 0)
        await within(self.channel.submit_segment((DEST,), segment))
        await wait_until(self.reports, "the report")
        face = self.sim.faces["sgip"]
        [link] = face.live_sessions(self.sim.accounts[SP_ID])
        self.assertEqual(link.transport.getPeer().port, self.callback_port)
        [listener] = [s for s in self.channel if isinstance(s, StreamServerEndpointService)]
        self.assertEqual(listener.factory.config.idle_timeout_s, 60.0)

    async def _raw_to_sp_server(self) -> RawClient:
        """A raw SGIP client of the channel's own server; closed on cleanup."""
        client = RawClient(SGIP12)
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", self.callback_port)
        await within(connectProtocol(endpoint, client))

        def close() -> Deferred[None]:
            if client.transport is not None and not client.closed.called:
                client.transport.loseConnection()
            return within(peek(client.closed))

        self.addCleanup(close)
        return client

    async def test_sp_server_refuses_wrong_password(self) -> None:
        """The SP's server answers a Bind with a wrong password with Result 1 and closes."""
        client = await self._raw_to_sp_server()
        bind = gp.Bind(LoginType.SMG_TO_SP, SP_ID.encode(), b"wrong")
        client.send_pdu(bind, self.wire.sequence(1))
        _, resp = await client.response()
        self.assertEqual(resp.result, SgipResult.ILLEGAL_LOGIN)
        await within(peek(client.closed))

    async def test_sp_server_refuses_login_type_1(self) -> None:
        """The SP's server takes only Login Type 2: Type 1 gets Result 4."""
        client = await self._raw_to_sp_server()
        bind = gp.Bind(LoginType.SP_TO_SMG, SP_ID.encode(), b"s3cret")
        client.send_pdu(bind, self.wire.sequence(1))
        _, resp = await client.response()
        self.assertEqual(resp.result, SgipResult.BAD_LOGIN_TYPE)
        await within(peek(client.closed))

    async def test_idle_link_reconnects(self) -> None:
        """The SMG closes the idle MT link; the channel binds again and submits."""
        self.ismg.server_config("sgip", sgip_session_config(idle_timeout_s=0.3))
        channel = start_protocol_channel(self, "sgip", self.port)
        first = await within(channel.session())
        logins = self.sim.totals["logins"]
        await within(first.when_closed())
        await wait_until(lambda: self.sim.totals["logins"] > logins, "a second Bind")
        [segment] = split_text("after idle", MsgFmt.ASCII, 0)
        result = await within(channel.submit_segment((DEST,), segment, report=False))
        self.assertEqual(result.result, 0)
        self.assertEqual(self.sim.submits(dest=DEST)[-1]["text"], "after idle")


class SmgpChannelTests(_ChannelFlows, _LiveTestCase):
    """SMGP 3.0: one TRANSMIT link carries MT, reports and MOs."""

    wire = WIRES["smgp"]

    def check_long_submits(self, submits: list[Any]) -> None:
        refs = set()
        for n, pdu in enumerate(submits, 1):
            self.assertTrue(has_udhi(pdu.tlvs))
            self.assertEqual(get_int(pdu.tlvs, Tag.PK_TOTAL), 3)
            self.assertEqual(get_int(pdu.tlvs, Tag.PK_NUMBER), n)
            self.assertEqual(pdu.msg_format, 8)
            info = concat(pdu.msg_content, 1)
            self.assertEqual((info.total, info.number), (3, n))
            refs.add(info.reference)
        self.assertEqual(len(refs), 1)

    async def test_report_err_field(self) -> None:
        """An UNDELIV report carries the SMGP err code."""
        await self.ismg.call("PUT", "/v1/policy", {"reports": {"states": {"UNDELIV": 1}}})
        [segment] = split_text("x", MsgFmt.ASCII, 0)
        await within(self.channel.submit_segment((DEST,), segment))
        await wait_until(self.reports, "the report")
        self.assertEqual(self.reports()[0].err, "006")


class Cmpp3ChannelTests(_ChannelFlows, _LiveTestCase):
    """CMPP 3.0 through ``cmpp3://``."""

    wire = WIRES["cmpp3"]

    def check_long_submits(self, submits: list[Any]) -> None:
        refs = set()
        for n, pdu in enumerate(submits, 1):
            self.assertEqual((pdu.pk_total, pdu.pk_number, pdu.tp_udhi, pdu.msg_fmt), (3, n, 1, 8))
            refs.add(concat(pdu.msg_content, 1).reference)
        self.assertEqual(len(refs), 1)

    async def test_link_is_30(self) -> None:
        """The channel's link speaks CMPP 3.0 and its Submits are logged as cmpp3."""
        session = await within(self.channel.session())
        self.assertIs(session.codec, CMPP30)
        server = [s for s in self.ismg.sessions if s.bound]
        self.assertEqual([s.codec for s in server], [CMPP30])


class BenchProtocolOptionTests(SynchronousTestCase):
    """``smsgw bench --protocol``: which protocols, and ``--hold`` CMPP-only."""

    def parse(self, *argv: str) -> BenchOptions:
        opts = BenchOptions()
        opts.parseOptions(list(argv))
        return opts

    def test_default_cmpp(self) -> None:
        """Without --protocol the bench speaks CMPP 2.0."""
        self.assertEqual(self.parse()["protocol"], "cmpp")

    def test_each_protocol(self) -> None:
        """Every scheme a channel speaks is accepted."""
        for name in ("cmpp", "cmpp3", "sgip", "smgp", "smpp"):
            self.assertEqual(self.parse("--protocol", name)["protocol"], name)

    def test_unknown_protocol(self) -> None:
        """An unknown protocol is a usage error."""
        with self.assertRaises(UsageError):
            self.parse("--protocol", "ucp")

    def test_hold_is_cmpp_only(self) -> None:
        """--hold with another protocol is a usage error."""
        with self.assertRaises(UsageError):
            self.parse("--protocol", "sgip", "--hold", "10")
        self.assertEqual(self.parse("--hold", "10")["hold"], 10)
