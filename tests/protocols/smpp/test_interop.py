"""Interop: the SP gateway's smpp channel against an independent SMSC (PyPI ``smpp34``).

``smpp34`` (a Rust-backed asyncio SMPP 3.4 client/server, installed with
the ``test`` extras) runs as a subprocess (:mod:`tests.protocols.smpp.interop_smsc`)
on a free 127.0.0.1 port.  The gateway binds, submits a GSM text and a long
one with a delivery receipt asked for, and the receipts that server sends
back (hex message ids answered, decimal ids in the receipt) complete the
segments.  Skipped only when ``smpp34`` cannot be imported.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import sys
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.error import ProcessExitedAlready
from twisted.internet.protocol import ProcessProtocol
from twisted.internet.task import deferLater
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from smsgw.config import parse_upstream_url
from smsgw.sp.channel import Channel
from smsgw.sp.gateway import Gateway, Item, SendRequest
from smsgw.sp.routing import Router, RouteSpec
from smsgw.store.memory import MemoryStore
from smsgw.store.model import Message, SegmentState
from smsgw.text.gsm0338 import decode_gsm
from tests.protocols.smpp.smsc import reactor
from tests.sp.test_channel import wait_until

SCRIPT = Path(__file__).with_name("interop_smsc.py")
DEST = "13800138000"
SRC = "10690001"


def _skip_reason() -> str | None:
    if importlib.util.find_spec("smpp34") is None:
        return "PyPI smpp34 is not installed (the test extras install it: ./dev test)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Lines(ProcessProtocol):
    """The subprocess's JSON lines, and a Deferred for READY and for its end."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.ready: Deferred[None] = Deferred()
        self.ended: Deferred[None] = Deferred()
        self.stderr = b""
        self._buffer = b""

    def outReceived(self, data: bytes) -> None:
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            if line == b"READY":
                self.ready.callback(None)
            elif line.startswith(b"{"):
                self.events.append(json.loads(line))

    def errReceived(self, data: bytes) -> None:
        self.stderr += data

    def processEnded(self, reason: Failure) -> None:
        if not self.ready.called:
            self.ready.errback(RuntimeError(f"the smpp34 server ended: {self.stderr[-2000:]!r}"))
        self.ended.callback(None)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == kind]


class Smpp34InteropTests(TestCase):
    """The smpp channel and PyPI smpp34's server."""

    timeout = 30
    skip = _skip_reason()

    async def start_server(self) -> tuple[int, _Lines]:
        port = free_port()
        lines = _Lines()
        process = reactor.spawnProcess(
            lines, sys.executable, [sys.executable, str(SCRIPT), str(port)], env=None
        )

        async def stop() -> None:
            try:
                process.signalProcess("KILL")
            except ProcessExitedAlready:
                pass
            await lines.ended

        self.addCleanup(stop)
        await lines.ready.addTimeout(10, reactor)
        return port, lines

    async def test_submit_and_receipt(self) -> None:
        """A GSM text and a long one: accepted with hex ids, delivered by decimal receipts."""
        port, lines = await self.start_server()
        store = MemoryStore()
        url = (
            f"smpp://esme1:secret08@127.0.0.1:{port}?src_id={SRC}&response_timeout_s=5"
            "&submit_id=hex&receipt_id=decimal"
        )
        channel = Channel(parse_upstream_url(url), reactor, name="intl")
        gateway = Gateway(store, {"intl": channel}, Router([RouteSpec("intl", "smpp", ("138",))]),
                          reactor)  # fmt: skip
        gateway.startService()
        self.addCleanup(gateway.stopService)
        await wait_until(lambda: lines.of("bind"), "the bind", timeout_s=10)
        texts = ["Hello @ interop {1}", "long text " * 20]
        messages: list[Message] = []
        for text in texts:
            accepted = await gateway.accept(SendRequest(items=(Item(DEST),), content=text))
            messages.append(accepted.message)
        await wait_until(lambda: len(lines.of("receipt")) == 3, "three receipts", timeout_s=10)
        submits = lines.of("submit")
        self.assertEqual({s["data_coding"] for s in submits}, {0})
        [short] = [s for s in submits if s["esm_class"] == 0]
        self.assertEqual(decode_gsm(bytes.fromhex(short["short_message"])), texts[0])
        self.assertEqual(sorted(s["esm_class"] for s in submits), [0, 0x40, 0x40])
        self.assertEqual({r["command_status"] for r in lines.of("receipt")}, {0})

        async def states() -> list[SegmentState]:
            found = []
            for message in messages:
                stored = await store.get_message(message.id)
                assert stored is not None
                found.extend(s.state for s in stored.recipients[0].segments)
            return found

        deadline = reactor.seconds() + 10
        while set(await states()) != {SegmentState.DELIVERED}:
            self.assertLess(reactor.seconds(), deadline, await states())
            await deferLater(reactor, 0.02, lambda: None)
        stored = await store.get_message(messages[0].id)
        assert stored is not None
        msg_id = stored.recipients[0].segments[0].msg_id
        self.assertIn(f"{int(msg_id or 0):08X}", [s["message_id"] for s in submits])
