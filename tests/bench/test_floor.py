"""``smsgw bench --floor`` (:mod:`smsgw.bench.floor`): bare CMPP and SMPP clients and servers."""

from __future__ import annotations

import struct

from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from smsgw.bench import floor
from smsgw.protocols.cmpp import codec
from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.smpp import codec as smpp_codec
from smsgw.protocols.smpp import pdus as sp
from smsgw.protocols.smpp.receipt import receipt_of


class _Transport:
    def __init__(self) -> None:
        self.written = b""
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.written += data
        self.writes += 1


def _frames(data: bytes) -> list[bytes]:
    out = []
    while data:
        (length,) = struct.unpack_from(">I", data)
        out.append(data[:length])
        data = data[length:]
    return out


class ServerTests(SynchronousTestCase):
    """The floor server answers in valid CMPP 2.0, byte for byte what smsgw's codec reads."""

    def test_submit_answered_with_report(self) -> None:
        """A SUBMIT split across reads gets a SUBMIT_RESP and a report naming its Msg_Id."""
        submit, deliver, connect = floor.CMPP.frames()
        server = floor._Server(floor.CMPP, deliver, reports=True)
        transport = _Transport()
        server.connection_made(transport)
        data = connect + submit + submit
        server.data_received(data[:7])
        server.data_received(data[7:])
        frames = [codec.decode(f) for f in _frames(transport.written)]
        kinds = [type(pdu) for _, pdu in frames]
        self.assertEqual(kinds, [p.ConnectResp, p.SubmitResp, p.Deliver, p.SubmitResp, p.Deliver])
        (_, first), (_, report) = frames[1], frames[2]
        self.assertEqual(codec.decode_report(report.msg_content).msg_id, first.msg_id)
        self.assertNotEqual(frames[2][1].msg_id, frames[4][1].msg_id)

    def test_without_reports(self) -> None:
        """Without --reports only SUBMIT_RESPs come back, one write each or one for all."""
        submit, deliver, _ = floor.CMPP.frames()
        for coalesce, writes in ((False, 3), (True, 1)):
            server = floor._Server(floor.CMPP, deliver, reports=False, coalesce=coalesce)
            transport = _Transport()
            server.connection_made(transport)
            server.data_received(submit * 3)
            self.assertEqual((len(_frames(transport.written)), transport.writes), (3, writes))

    def test_smpp(self) -> None:
        """In SMPP: bind_transceiver_resp, submit_sm_resp and a receipt naming its message_id."""
        submit, deliver, bind = floor.SMPP.frames()
        server = floor._Server(floor.SMPP, deliver, reports=True)
        transport = _Transport()
        server.connection_made(transport)
        data = bind + submit + submit + smpp_codec.encode(sp.Unbind(), 9)
        server.data_received(data[:5])
        server.data_received(data[5:])
        frames = [smpp_codec.decode(f) for f in _frames(transport.written)]
        kinds = [type(pdu) for _, pdu in frames]
        self.assertEqual(
            kinds,
            [sp.BindTransceiverResp, sp.SubmitSmResp, sp.DeliverSm, sp.SubmitSmResp, sp.DeliverSm,
             sp.UnbindResp],
        )  # fmt: skip
        for resp, report in ((frames[1][1], frames[2][1]), (frames[3][1], frames[4][1])):
            receipt = receipt_of(report)
            assert receipt is not None
            self.assertEqual(receipt.message_id, resp.message_id.decode("ascii"))
        self.assertNotEqual(frames[1][1].message_id, frames[3][1].message_id)
        self.assertEqual(frames[-1][0].sequence_id, 9)

    def test_smpp_client_answers_receipts(self) -> None:
        """The SMPP client answers each receipt with a deliver_sm_resp of its sequence."""
        import asyncio

        async def check() -> None:
            client = floor._Client(floor.SMPP, count=1, window=1, reports=True)
            transport = _Transport()
            client.connection_made(transport)
            _, deliver, _ = floor.SMPP.frames()
            frame = bytearray(deliver)
            floor.SMPP.patch_report(frame, 77, 1)
            client.data_received(bytes(frame))
            header, resp = smpp_codec.decode(_frames(transport.written)[-1])
            self.assertEqual((type(resp), header.sequence_id), (sp.DeliverSmResp, 77))

        asyncio.run(check())


class RunTests(SynchronousTestCase):
    """A short run of both processes on loopback."""

    def test_run(self) -> None:
        """500 SUBMITs with reports: every SUBMIT and report counted, rates reported."""
        summary = floor.run(500, 16, True, timeout=60)
        self.assertEqual((summary["count"], summary["reports"]), (500, True))
        self.assertGreater(summary["submits_per_s"], 0)
        self.assertGreater(summary["cycles_per_s"], 0)

    def test_run_smpp(self) -> None:
        """The same in SMPP 3.4."""
        summary = floor.run(300, 16, True, timeout=60, protocol="smpp")
        self.assertEqual((summary["protocol"], summary["count"]), ("smpp", 300))
        self.assertGreater(summary["cycles_per_s"], 0)

    def test_bad_options(self) -> None:
        """A window or count out of range, or an unknown protocol, is a usage error."""
        for argv in (["--window", "0"], ["--count", "0"], ["--protocol", "sgip"]):
            self.assertRaises(usage.UsageError, floor.Options().parseOptions, argv)
