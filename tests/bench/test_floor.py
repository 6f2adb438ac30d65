"""``smsgw bench --floor`` (:mod:`smsgw.bench.floor`): the bare CMPP client and server."""

from __future__ import annotations

import struct

from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from smsgw.bench import floor
from smsgw.protocols.cmpp import codec
from smsgw.protocols.cmpp import pdus as p


class _Transport:
    def __init__(self) -> None:
        self.written = b""

    def write(self, data: bytes) -> None:
        self.written += data


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
        submit, deliver, connect = floor._frames()
        server = floor._Server(deliver, reports=True)
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
        """Without --reports only SUBMIT_RESPs come back."""
        submit, deliver, _ = floor._frames()
        server = floor._Server(deliver, reports=False)
        transport = _Transport()
        server.connection_made(transport)
        server.data_received(submit * 3)
        self.assertEqual(len(_frames(transport.written)), 3)


class RunTests(SynchronousTestCase):
    """A short run of both processes on loopback."""

    def test_run(self) -> None:
        """500 SUBMITs with reports: every SUBMIT and report counted, rates reported."""
        summary = floor.run(500, 16, True, timeout=60)
        self.assertEqual((summary["count"], summary["reports"]), (500, True))
        self.assertGreater(summary["submits_per_s"], 0)
        self.assertGreater(summary["cycles_per_s"], 0)

    def test_bad_options(self) -> None:
        """A window or count out of range is a usage error."""
        for argv in (["--window", "0"], ["--count", "0"]):
            self.assertRaises(usage.UsageError, floor.Options().parseOptions, argv)
