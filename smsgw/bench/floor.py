"""``smsgw bench --floor``: the bare floor a CMPP 2.0 or SMPP 3.4 session can be compared with.

Two processes on loopback, plain :mod:`asyncio` and :mod:`struct`, no
objects per message: a client sends N SUBMITs (CMPP_SUBMIT or submit_sm)
with a window of W and counts the responses, one ``write`` per frame
(``--coalesce``: one per read, which the loopback rewards with a floor
several times higher and much noisier); a server answers each SUBMIT at once
and, with ``--reports``, follows it with a status report (a CMPP DELIVER or
an SMPP receipt deliver_sm) that the client answers.  The frames are built
once with smsgw's own encoders (the same bytes ``smsgw bench`` sends) and
only the sequence number and message id are patched in the loop.  Nothing
is checked but the command id: this is what the machine and the loopback
do, not a gateway.

Run it in the same session as ``smsgw bench`` and quote the ratio: the
machine is shared and noisy, the ratio much less so.  The last output line
is one JSON object like ``smsgw bench``'s.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import attrs
from twisted.python import usage

__all__ = ["DIALECTS", "main"]

_CMPP_HEADER = struct.Struct(">III")
_SMPP_HEADER = struct.Struct(">IIII")
_LOGIN, _SUBMIT, _DELIVER, _LOGOUT = 0, 1, 2, 3
_RESP = 0x80000000
#: Where a CMPP 2.0 DELIVER's content starts: header, Msg_Id, Dest_Id, Service_Id, TP_pid,
#: TP_udhi, Msg_Fmt, Src_terminal_Id, Registered_Delivery, Msg_Length.
_REPORT_MSG_ID = 12 + 8 + 21 + 10 + 1 + 1 + 1 + 21 + 1 + 1


@attrs.frozen
class Dialect:
    """What the floor needs of one protocol: its header and the few frames it writes.

    :ivar header: the header's :class:`struct.Struct`; the first field is the
        length, the second the command id and the last the sequence number.
    :ivar commands: the requests' command ids by role (login, submit,
        deliver, logout); a response's is the request's with the top bit set.
    :ivar frames: ``() -> (submit, report deliver, login)``, encoded by smsgw.
    :ivar answer: ``(sequence, msg id) -> SUBMIT response``.
    :ivar login_resp: ``sequence -> login response``.
    :ivar deliver_resp: ``(frame, offset, sequence) -> the response to the DELIVER at *offset*``.
    :ivar patch_report: ``(report frame, sequence, msg id)``: the report's sequence
        and the SUBMIT's message id patched in place.
    """

    name: str
    header: struct.Struct
    commands: tuple[int, int, int, int]
    frames: Callable[[], tuple[bytes, bytes, bytes]]
    answer: Callable[[int, int], bytes]
    login_resp: Callable[[int], bytes]
    deliver_resp: Callable[[bytearray, int, int], bytes]
    patch_report: Callable[[bytearray, int, int], None]

    @property
    def sequence_at(self) -> int:
        """The sequence number's byte offset in a frame."""
        return self.header.size - 4


def _cmpp_frames() -> tuple[bytes, bytes, bytes]:
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


def _cmpp_patch(frame: bytearray, sequence: int, msg_id: int) -> None:
    frame[8:12] = sequence.to_bytes(4, "big")
    frame[12:20] = sequence.to_bytes(8, "big")
    # The report's Msg_Id (the content's first 8 bytes) is the SUBMIT's.
    frame[_REPORT_MSG_ID : _REPORT_MSG_ID + 8] = msg_id.to_bytes(8, "big")


CMPP = Dialect(
    name="cmpp",
    header=_CMPP_HEADER,
    commands=(0x00000001, 0x00000004, 0x00000005, 0x00000002),
    frames=_cmpp_frames,
    answer=lambda seq, msg_id: (
        _CMPP_HEADER.pack(21, 0x80000004, seq) + msg_id.to_bytes(8, "big") + b"\x00"
    ),
    login_resp=lambda seq: _CMPP_HEADER.pack(30, 0x80000001, seq) + bytes(17) + b"\x20",
    deliver_resp=lambda frame, offset, seq: (
        _CMPP_HEADER.pack(21, 0x80000005, seq) + bytes(frame[offset + 12 : offset + 20]) + b"\x00"
    ),
    patch_report=_cmpp_patch,
)

#: The SMPP receipt's text starts with its id, ten decimal digits patched in place.
_SMPP_ID = b"id:"


def _smpp_frames() -> tuple[bytes, bytes, bytes]:
    """A submit_sm (receipt asked), a receipt deliver_sm as smsgw sends them, and a bind."""
    from smsgw.protocols.smpp import pdus as p
    from smsgw.protocols.smpp.codec import encode
    from smsgw.protocols.smpp.constants import MessageState
    from smsgw.protocols.smpp.receipt import format_receipt_text

    submit = p.SubmitSm(
        source_addr=b"1065900001",
        destination_addr=b"13800138000",
        registered_delivery=1,
        short_message=b"floor benchmark message",
    )
    when = datetime.datetime(2026, 12, 7, 12, 0)
    text = format_receipt_text("0000000001", MessageState.DELIVERED, submit_date=when,
                               done_date=when)  # fmt: skip
    deliver = p.DeliverSm(
        source_addr=b"13800138000",
        destination_addr=b"1065900001",
        esm_class=4,
        short_message=text.encode("ascii"),
    )
    bind = p.BindTransceiver(system_id=b"900001", password=b"bench")
    return encode(submit, 1), encode(deliver, 1), encode(bind, 1)


def _smpp_patch(frame: bytearray, sequence: int, msg_id: int) -> None:
    frame[12:16] = sequence.to_bytes(4, "big")
    at = frame.find(_SMPP_ID) + 3
    frame[at : at + 10] = b"%010d" % msg_id


SMPP = Dialect(
    name="smpp",
    header=_SMPP_HEADER,
    commands=(0x00000009, 0x00000004, 0x00000005, 0x00000006),
    frames=_smpp_frames,
    answer=lambda seq, msg_id: _SMPP_HEADER.pack(27, 0x80000004, 0, seq) + b"%010d\x00" % msg_id,
    login_resp=lambda seq: _SMPP_HEADER.pack(21, 0x80000009, 0, seq) + b"SMSC\x00",
    deliver_resp=lambda frame, offset, seq: _SMPP_HEADER.pack(17, 0x80000005, 0, seq) + b"\x00",
    patch_report=_smpp_patch,
)

DIALECTS = {d.name: d for d in (CMPP, SMPP)}


class Options(usage.Options):
    synopsis = (
        "usage: smsgw bench --floor [--protocol cmpp|smpp] [--count N] [--window W] [--reports]\n\n"
        "The bare floor: an asyncio + struct CMPP 2.0 or SMPP 3.4 client and server in two"
        " processes on loopback, then one JSON line."
    )
    optParameters = [
        ["protocol", "p", "cmpp", "cmpp (CMPP 2.0) or smpp (SMPP 3.4)"],
        ["count", "n", 100_000, "SUBMITs to send", int],
        ["window", "w", 16, "unanswered SUBMITs at most", int],
        ["timeout", None, 300.0, "give up after this many seconds", float],
    ]
    optFlags = [
        ["reports", "r", "the server sends a report per SUBMIT; wait for every one"],
        ["coalesce", None, "one write per read instead of one per frame (a faster floor)"],
    ]

    def postOptions(self) -> None:
        if not 1 <= self["count"] <= 10_000_000 or not 1 <= self["window"] <= 1024:
            raise usage.UsageError("--count must be 1..10,000,000 and --window 1..1024")
        if self["protocol"] not in DIALECTS:
            raise usage.UsageError(f"--protocol must be one of {', '.join(DIALECTS)}")


# -- the server (its own process) ----------------------------------------------------------


class _Server(asyncio.Protocol):
    """Answers the login, SUBMIT (and sends a report after it) and the logout."""

    def __init__(
        self, dialect: Dialect, deliver: bytes, reports: bool, coalesce: bool = False
    ) -> None:
        self.dialect = dialect
        self.coalesce = coalesce
        self.buffer = bytearray()
        self.deliver = bytearray(deliver)
        self.reports = reports
        self.sequence = 0
        self.msg_id = 0
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        dialect = self.dialect
        login, submit, _, logout = dialect.commands
        answer, patch = dialect.answer, dialect.patch_report
        buffer = self.buffer
        buffer += data
        out = bytearray()
        put = out.extend if self.coalesce else self.transport.write
        offset, end = 0, len(buffer)
        header = dialect.header
        unpack, size = header.unpack_from, header.size
        while end - offset >= size:
            fields = unpack(buffer, offset)
            length, command, sequence = fields[0], fields[1], fields[-1]
            if end - offset < length:
                break
            if command == submit:
                self.msg_id += 1
                put(answer(sequence, self.msg_id))
                if self.reports:
                    self.sequence += 1
                    frame = self.deliver
                    patch(frame, self.sequence, self.msg_id)
                    put(bytes(frame))
            elif command == login:
                put(dialect.login_resp(sequence))
            elif command == logout:
                put(header.pack(size, _RESP | logout, *fields[2:-1], sequence))
            offset += length
        del buffer[:offset]
        if out:
            self.transport.write(bytes(out))


def _serve(port_file: str, reports: bool, coalesce: bool = False, protocol: str = "cmpp") -> None:
    """Listen on a free loopback port, write it to *port_file*, serve until killed."""
    dialect = DIALECTS[protocol]
    _, deliver, _ = dialect.frames()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _Server(dialect, deliver, reports, coalesce), "127.0.0.1", 0
        )
        port = server.sockets[0].getsockname()[1]
        with open(port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.replace(port_file + ".tmp", port_file)
        await server.serve_forever()

    asyncio.run(run())


# -- the client (this process) -------------------------------------------------------------


class _Client(asyncio.Protocol):
    """Logs in, keeps *window* SUBMITs unanswered, answers every DELIVER."""

    def __init__(
        self,
        dialect: Dialect,
        count: int,
        window: int,
        reports: bool,
        coalesce: bool = False,
    ) -> None:
        submit, _, login = dialect.frames()
        self.dialect = dialect
        self.coalesce = coalesce
        self.submit = bytearray(submit)
        self.login = login
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
        transport.write(self.login)

    def _send(self, n: int) -> None:
        frame = self.submit
        at = self.dialect.sequence_at
        out = bytearray()
        put = out.extend if self.coalesce else self.transport.write
        for _ in range(n):
            self.sent += 1
            frame[at : at + 4] = self.sent.to_bytes(4, "big")
            put(bytes(frame))
        if out:
            self.transport.write(bytes(out))

    def data_received(self, data: bytes) -> None:
        dialect = self.dialect
        login, submit, deliver, _ = dialect.commands
        login_resp, submit_resp = _RESP | login, _RESP | submit
        deliver_resp = dialect.deliver_resp
        buffer = self.buffer
        buffer += data
        out = bytearray()
        put = out.extend if self.coalesce else self.transport.write
        offset, end = 0, len(buffer)
        unpack, size = dialect.header.unpack_from, dialect.header.size
        freed = 0
        while end - offset >= size:
            fields = unpack(buffer, offset)
            length, command, sequence = fields[0], fields[1], fields[-1]
            if end - offset < length:
                break
            if command == submit_resp:
                self.answered += 1
                freed += 1
            elif command == deliver:
                self.reported += 1
                put(deliver_resp(buffer, offset, sequence))
            elif command == login_resp:
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


def run(
    count: int,
    window: int,
    reports: bool,
    timeout: float,
    coalesce: bool = False,
    protocol: str = "cmpp",
) -> dict[str, Any]:
    """Start the server process, drive it, stop it; the figures."""
    dialect = DIALECTS[protocol]
    port_file = _free_port_file()
    code = (
        "from smsgw.bench.floor import _serve; "
        f"_serve({port_file!r}, {reports!r}, {coalesce!r}, {protocol!r})"
    )
    server = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(port_file):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the floor server did not start")
            time.sleep(0.05)
        with open(port_file) as f:
            port = int(f.read())

        async def drive() -> dict[str, Any]:
            loop = asyncio.get_running_loop()
            client = _Client(dialect, count, window, reports, coalesce)
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
                "protocol": protocol,
                "count": count,
                "window": window,
                "reports": reports,
                "coalesce": coalesce,
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
    summary = run(
        opts["count"], opts["window"], bool(opts["reports"]), opts["timeout"],
        bool(opts["coalesce"]), opts["protocol"],
    )  # fmt: skip
    print(json.dumps(summary))
    return 0
