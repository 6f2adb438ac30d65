"""``smsgw bench --floor``: the bare floor a CMPP 2.0 session can be compared with.

Two processes on loopback, plain :mod:`asyncio` and :mod:`struct`, no
objects per message: a client sends N CMPP_SUBMITs with a window of W and
counts the SUBMIT_RESPs; a server answers each SUBMIT at once and, with
``--reports``, follows it with a status-report DELIVER that the client
answers.  The frames are built once with smsgw's own encoder (the same bytes
``smsgw bench`` sends) and only the Sequence_Id and Msg_Id are patched in the
loop.  Nothing is checked but the Command_Id: this is what the machine and
the loopback do, not a gateway.

Run it in the same session as ``smsgw bench`` and quote the ratio: the
machine is shared and noisy, the ratio much less so.  The last output line
is one JSON object like ``smsgw bench``'s.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import struct
import subprocess
import sys
import time
from typing import Any

from twisted.python import usage

__all__ = ["main"]

_HEADER = struct.Struct(">III")
_CONNECT, _CONNECT_RESP = 0x00000001, 0x80000001
_SUBMIT, _SUBMIT_RESP = 0x00000004, 0x80000004
_DELIVER, _DELIVER_RESP = 0x00000005, 0x80000005
_TERMINATE, _TERMINATE_RESP = 0x00000002, 0x80000002
#: Where a CMPP 2.0 DELIVER's content starts: header, Msg_Id, Dest_Id, Service_Id, TP_pid,
#: TP_udhi, Msg_Fmt, Src_terminal_Id, Registered_Delivery, Msg_Length.
_REPORT_MSG_ID = 12 + 8 + 21 + 10 + 1 + 1 + 1 + 21 + 1 + 1


class Options(usage.Options):
    synopsis = (
        "usage: smsgw bench --floor [--count N] [--window W] [--reports]\n\n"
        "The bare floor: an asyncio + struct CMPP 2.0 client and server in two processes on"
        " loopback, then one JSON line."
    )
    optParameters = [
        ["count", "n", 100_000, "SUBMITs to send", int],
        ["window", "w", 16, "unanswered SUBMITs at most", int],
        ["timeout", None, 300.0, "give up after this many seconds", float],
    ]
    optFlags = [["reports", "r", "the server sends a report per SUBMIT; wait for every one"]]

    def postOptions(self) -> None:
        if not 1 <= self["count"] <= 10_000_000 or not 1 <= self["window"] <= 1024:
            raise usage.UsageError("--count must be 1..10,000,000 and --window 1..1024")


def _frames() -> tuple[bytes, bytes, bytes]:
    """A SUBMIT (report asked) and a status-report DELIVER as smsgw sends them, and a CONNECT."""
    from smsgw.protocols.cmpp import pdus as p
    from smsgw.protocols.cmpp.auth import authenticator_source, connect_timestamp
    from smsgw.protocols.cmpp.codec import encode, encode_report

    submit = p.Submit(
        registered_delivery=1,
        service_id=b"BENCH",
        msg_src=b"900001",
        src_id=b"1065900001",
        dest_terminal_ids=(b"13800138000",),
        msg_content=b"floor benchmark message",
    )
    report = p.Report(msg_id=1, stat=b"DELIVRD", submit_time=b"2612071200",
                      done_time=b"2612071200", dest_terminal_id=b"13800138000")  # fmt: skip
    deliver = p.Deliver(
        msg_id=2,
        dest_id=b"1065900001",
        src_terminal_id=b"13800138000",
        registered_delivery=1,
        msg_content=encode_report(report),
    )
    stamp = connect_timestamp(0.0)
    auth = authenticator_source(b"900001", b"bench", stamp)
    connect = encode(p.Connect(source_addr=b"900001", authenticator_source=auth,
                               version=0x20, timestamp=stamp), 1)  # fmt: skip
    return encode(submit, 1), encode(deliver, 1), connect


# -- the server (its own process) ----------------------------------------------------------


class _Server(asyncio.Protocol):
    """Answers CONNECT, SUBMIT (and sends a report DELIVER after it), TERMINATE."""

    def __init__(self, deliver: bytes, reports: bool) -> None:
        self.buffer = bytearray()
        self.deliver = bytearray(deliver)
        self.reports = reports
        self.sequence = 0
        self.msg_id = 0
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        out = bytearray()
        offset, end = 0, len(buffer)
        unpack, pack = _HEADER.unpack_from, _HEADER.pack
        while end - offset >= 12:
            length, command, sequence = unpack(buffer, offset)
            if end - offset < length:
                break
            if command == _SUBMIT:
                self.msg_id += 1
                out += pack(21, _SUBMIT_RESP, sequence)
                out += self.msg_id.to_bytes(8, "big") + b"\x00"
                if self.reports:
                    self.sequence += 1
                    frame = self.deliver
                    frame[8:12] = self.sequence.to_bytes(4, "big")
                    frame[12:20] = self.sequence.to_bytes(8, "big")
                    # The report's Msg_Id (the content's first 8 bytes) is the SUBMIT's.
                    frame[_REPORT_MSG_ID : _REPORT_MSG_ID + 8] = self.msg_id.to_bytes(8, "big")
                    out += frame
            elif command == _CONNECT:
                out += pack(30, _CONNECT_RESP, sequence) + b"\x00" + bytes(16) + b"\x20"
            elif command == _TERMINATE:
                out += pack(12, _TERMINATE_RESP, sequence)
            offset += length
        del buffer[:offset]
        if out:
            self.transport.write(bytes(out))


def _serve(port_file: str, reports: bool) -> None:
    """Listen on a free loopback port, write it to *port_file*, serve until killed."""
    _, deliver, _ = _frames()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Server(deliver, reports), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        with open(port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.replace(port_file + ".tmp", port_file)
        await server.serve_forever()

    asyncio.run(run())


# -- the client (this process) -------------------------------------------------------------


class _Client(asyncio.Protocol):
    """Logs in, keeps *window* SUBMITs unanswered, answers every DELIVER."""

    def __init__(self, submit: bytes, connect: bytes, count: int, window: int, reports: bool):
        self.submit = bytearray(submit)
        self.connect = connect
        self.count = count
        self.window = window
        self.reports = reports
        self.buffer = bytearray()
        self.sent = 0
        self.answered = 0
        self.reported = 0
        self.started = 0.0
        self.submits_done_at = 0.0
        self.done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.write(self.connect)

    def _send(self, n: int) -> None:
        frame = self.submit
        out = bytearray()
        for _ in range(n):
            self.sent += 1
            frame[8:12] = self.sent.to_bytes(4, "big")
            out += frame
        self.transport.write(bytes(out))

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        out = bytearray()
        offset, end = 0, len(buffer)
        unpack, pack = _HEADER.unpack_from, _HEADER.pack
        freed = 0
        while end - offset >= 12:
            length, command, sequence = unpack(buffer, offset)
            if end - offset < length:
                break
            if command == _SUBMIT_RESP:
                self.answered += 1
                freed += 1
            elif command == _DELIVER:
                self.reported += 1
                msg_id = bytes(buffer[offset + 12 : offset + 20])
                out += pack(21, _DELIVER_RESP, sequence) + msg_id + b"\x00"
            elif command == _CONNECT_RESP:
                self.started = time.perf_counter()
                freed = self.window
            offset += length
        del buffer[:offset]
        if out:
            self.transport.write(bytes(out))
        room = min(freed, self.count - self.sent)
        if room > 0:
            self._send(room)
        if self.answered == self.count and not self.submits_done_at:
            self.submits_done_at = time.perf_counter()
        if self.submits_done_at and (not self.reports or self.reported >= self.count):
            if not self.done.done():
                self.done.set_result(time.perf_counter())


def _free_port_file() -> str:
    import tempfile

    folder = tempfile.mkdtemp(prefix="smsgw-floor-")
    return os.path.join(folder, "port")


def run(count: int, window: int, reports: bool, timeout: float) -> dict[str, Any]:
    """Start the server process, drive it, stop it; the figures."""
    port_file = _free_port_file()
    code = f"import sys; from smsgw.bench.floor import _serve; _serve({port_file!r}, {reports!r})"
    server = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(port_file):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the floor server did not start")
            time.sleep(0.05)
        with open(port_file) as f:
            port = int(f.read())
        submit, _, connect = _frames()

        async def drive() -> dict[str, Any]:
            loop = asyncio.get_running_loop()
            client = _Client(submit, connect, count, window, reports)
            transport, _ = await loop.create_connection(lambda: client, "127.0.0.1", port)
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            ended = await asyncio.wait_for(client.done, timeout)
            transport.close()
            elapsed = ended - client.started
            submits_elapsed = client.submits_done_at - client.started
            return {
                "floor": True,
                "count": count,
                "window": window,
                "reports": reports,
                "submits_per_s": round(count / submits_elapsed) if submits_elapsed else None,
                "cycles_per_s": round(count / elapsed) if reports and elapsed else None,
                "elapsed_s": round(elapsed, 3),
            }

        return asyncio.run(drive())
    finally:
        server.kill()
        server.wait()


def main(argv: list[str]) -> int:
    """``smsgw bench --floor …``; the exit code."""
    opts = Options()
    try:
        opts.parseOptions(argv)
    except usage.UsageError as e:
        print(f"smsgw bench --floor: {e}\n{opts}", file=sys.stderr)
        return 2
    summary = run(opts["count"], opts["window"], bool(opts["reports"]), opts["timeout"])
    print(json.dumps(summary))
    return 0
