"""The roles ``twistd smsgw`` builds, and bad input, on real loopback sockets.

* :func:`smsgw.tap.makeService` for ``--role=ismg-sim``: the CMPP listener
  and the control API driven over HTTP while a
  :class:`~smsgw.sp.channel.CmppChannel` is logged in;
* ``--role=sp`` with no upstream: the built-in simulator and its channel;
* bad bytes on a live CMPP socket: the link gets the
  protocol's error status or is closed, the reason is logged naming the
  peer, and another logged-in session keeps being served.

Everything listens on ``127.0.0.1`` only and every wait is bounded.
"""

from __future__ import annotations

import json
from typing import Any

from treq.client import HTTPClient
from twisted.application.service import IService, MultiService
from twisted.internet import reactor
from twisted.internet.defer import Deferred, DeferredQueue
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from twisted.logger import ILogObserver, LogLevel, formatEvent, globalLogPublisher
from twisted.python.failure import Failure
from twisted.web.client import Agent, HTTPConnectionPool
from zope.interface import provider

from smsgw.ismg.simulator import Account
from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.auth import authenticator_source, connect_timestamp
from smsgw.protocols.cmpp.codec import CMPP20, decode_report
from smsgw.protocols.cmpp.constants import CommandId, Result
from smsgw.protocols.framing import Framer
from smsgw.roles.sp import SpService
from smsgw.tap import Options, makeService
from smsgw.text import decode_text
from tests.sp.test_channel import (
    SECRET,
    SP_ID,
    SRC,
    LiveSimulator,
    _LiveTestCase,
    peek,
    start_channel,
    submit_pdu,
    wait_until,
    within,
)

LOOPBACK = "tcp:0:interface=127.0.0.1"


def _frame(command_id: int, sequence_id: int, body: bytes = b"") -> bytes:
    """A raw CMPP frame whose length field matches *body*."""
    return (
        (12 + len(body)).to_bytes(4, "big")
        + command_id.to_bytes(4, "big")
        + sequence_id.to_bytes(4, "big")
        + body
    )


class RawClient(Protocol):
    """A CMPP peer that writes whatever bytes a test gives it.

    Frames it receives are decoded and queued; :attr:`closed` fires once the
    connection is gone.
    """

    def __init__(self) -> None:
        self.framer = Framer(12, 4096)
        self.received: DeferredQueue[tuple[Any, Any]] = DeferredQueue()
        #: Fires (with ``None``) once the connection is gone; see :attr:`reason`.
        self.closed: Deferred[None] = Deferred()
        self.reason: Failure | None = None

    def dataReceived(self, data: bytes) -> None:
        for frame in self.framer.feed(data):
            self.received.put(CMPP20.decode(frame))

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        self.reason = reason
        self.closed.callback(None)

    def send(self, data: bytes) -> None:
        """Write raw *data* to the server."""
        assert self.transport is not None
        self.transport.write(data)

    @property
    def local_peer(self) -> str:
        """This end as the server names it in logs: ``host:port``."""
        assert self.transport is not None
        host = self.transport.getHost()
        return f"{host.host}:{host.port}"

    async def response(self) -> tuple[Any, Any]:
        """The next ``(header, pdu)`` from the server, within the time limit."""
        result: tuple[Any, Any] = await within(self.received.get())
        return result


class _ServiceTestCase(_LiveTestCase):
    """Starts what ``makeService`` builds; stops it on cleanup."""

    def start(self, argv: list[str]) -> MultiService:
        options = Options()
        options.parseOptions(argv)
        top = makeService(options)
        assert isinstance(top, MultiService)
        top.startService()

        async def stop() -> None:
            if top.running:
                await within(top.stopService())

        self.addCleanup(stop)
        return top

    async def bound_port(self, service: IService) -> int:
        """The TCP port a StreamServerEndpointService is listening on."""
        port = await within(peek(service._waitingForPort))  # type: ignore[attr-defined]
        number: int = port.getHost().port
        return number


class IsmgSimServiceTests(_ServiceTestCase):
    """``--role=ismg-sim``: CMPP on one port, the control API on another."""

    async def setUp(self) -> None:  # type: ignore[override]
        super().setUp()
        self.top = self.start(
            ["--role=ismg-sim", "--cmpp", LOOPBACK, "--control", LOOPBACK,
             "--account", f"{SP_ID}:{SECRET}"]
        )  # fmt: skip
        self.sim = self.top.simulator  # type: ignore[attr-defined]
        self.cmpp_port = await self.bound_port(self.top.getServiceNamed("cmpp"))
        control_port = await self.bound_port(self.top.getServiceNamed("control"))
        self.base = f"http://127.0.0.1:{control_port}"
        pool = HTTPConnectionPool(reactor, persistent=False)
        self.http = HTTPClient(Agent(reactor, pool=pool))
        self.addCleanup(pool.closeCachedConnections)
        # Registered after the service's cleanup, so the channel stops first.
        self.channel = start_channel(self, self.cmpp_port, self.on_deliver)
        self.addCleanup(self._wait_sessions_gone)
        await within(self.channel.session())

    async def _wait_sessions_gone(self) -> None:
        if self.channel.running:
            await within(self.channel.stopService())
        await wait_until(lambda: self.sim.stats()["sessions"] == 0, "the links to close")

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One control API request; the status and the decoded JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": ["application/json"]} if data is not None else None
        response = await within(
            self.http.request(method, self.base + path, data=data, headers=headers)
        )
        content = await within(response.content())
        return response.code, json.loads(content)

    async def test_stats(self) -> None:
        """GET /v1/stats counts the channel's session."""
        code, stats = await self.call("GET", "/v1/stats")
        self.assertEqual(code, 200)
        self.assertEqual(stats["sessions"], 1)
        self.assertEqual(stats["accounts"][SP_ID]["sessions"], 1)

    async def test_submits(self) -> None:
        """GET /v1/submits lists a SUBMIT the channel sent."""
        resp = await within(Deferred.fromCoroutine(self.channel.submit(submit_pdu(text="hi"))))
        code, body = await self.call("GET", f"/v1/submits?account={SP_ID}&dest=13800138000")
        self.assertEqual(code, 200)
        [rec] = body["submits"]
        self.assertEqual(rec["msg_id"], str(resp.msg_id))
        self.assertEqual((rec["account"], rec["dest"], rec["text"]), (SP_ID, ["13800138000"], "hi"))
        code, body = await self.call("GET", "/v1/submits?dest=13900000000")
        self.assertEqual((code, body["submits"]), (200, []))

    async def test_post_mo(self) -> None:
        """POST /v1/mo reaches the channel's on_deliver."""
        mo = {"account": SP_ID, "from": "13800138000", "to": SRC, "content": "查询余额"}
        code, body = await self.call("POST", "/v1/mo", mo)
        self.assertEqual((code, body["segments"]), (202, 1))
        deliver = await self.next_deliver()
        self.assertEqual(deliver.registered_delivery, 0)
        self.assertEqual(str(deliver.msg_id), body["msg_ids"][0])
        self.assertEqual(decode_text(deliver.msg_content, deliver.msg_fmt), "查询余额")

    async def test_post_mo_unknown_account(self) -> None:
        """POST /v1/mo for an unknown account answers 404."""
        mo = {"account": "000000", "from": "13800138000", "to": SRC, "content": "x"}
        code, body = await self.call("POST", "/v1/mo", mo)
        self.assertEqual((code, body["error"]), (404, "unknown_account"))

    async def test_put_policy(self) -> None:
        """PUT /v1/policy changes the Stat of the next report."""
        code, body = await self.call("PUT", "/v1/policy", {"reports": {"states": {"UNDELIV": 1}}})
        self.assertEqual(code, 200)
        self.assertEqual(body["reports"]["states"], {"UNDELIV": 1.0})
        resp = await within(Deferred.fromCoroutine(self.channel.submit(submit_pdu(report=True))))
        report = decode_report((await self.next_deliver()).msg_content)
        self.assertEqual((report.msg_id, report.stat), (resp.msg_id, b"UNDELIV"))
        code, body = await self.call("GET", "/v1/policy")
        self.assertEqual(body["reports"]["states"], {"UNDELIV": 1.0})


class SpServiceTests(_ServiceTestCase):
    """``--role=sp`` with no upstream starts the built-in simulator."""

    async def test_builtin_upstream(self) -> None:
        """The built-in simulator listens on loopback and the channel logs in to it."""
        db = self.mktemp()
        top = self.start(["--role=sp", f"--db={db}", "--http=tcp:0:interface=127.0.0.1"])
        assert isinstance(top, SpService)
        await within(top.ready)
        sim = top.simulator
        await wait_until(lambda: sim.stats()["sessions"] == 1, "the built-in login")
        self.assertEqual(top._sim_port.getHost().host, "127.0.0.1")
        await within(top.stopService())
        await wait_until(lambda: sim.stats()["sessions"] == 0, "the built-in link to close")


class BadInputTests(_LiveTestCase):
    """Bad bytes on a live socket."""

    async def setUp(self) -> None:  # type: ignore[override]
        super().setUp()
        self.events: list[dict[str, Any]] = []

        @provider(ILogObserver)
        def observe(event: dict[str, Any]) -> None:
            self.events.append(event)

        globalLogPublisher.addObserver(observe)
        self.addCleanup(globalLogPublisher.removeObserver, observe)
        self.live = LiveSimulator(self, Account(SP_ID, SECRET.encode()), Account("901235", b"x"))
        self.channel = start_channel(self, self.live.port_number)
        await within(self.channel.session())

    async def raw(self) -> RawClient:
        client = RawClient()
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", self.live.port_number)
        await within(connectProtocol(endpoint, client))

        def close() -> Deferred[None]:
            if client.transport is not None and not client.closed.called:
                client.transport.loseConnection()
            return within(peek(client.closed))

        self.addCleanup(close)
        return client

    async def raw_logged_in(self) -> RawClient:
        """A raw client that has logged in as the second account."""
        client = await self.raw()
        timestamp = connect_timestamp(reactor.seconds())
        auth = authenticator_source(b"901235", b"x", timestamp)
        client.send(CMPP20.encode(p.Connect(b"901235", auth, 0x20, timestamp), 1))
        header, resp = await client.response()
        self.assertEqual((header.command_id, resp.status), (CommandId.CONNECT_RESP, 0))
        return client

    def warnings_about(self, peer: str) -> list[str]:
        """The warnings logged so far that name *peer*."""
        return [
            formatEvent(e)
            for e in self.events
            if e.get("log_level") is LogLevel.warn and peer in formatEvent(e)
        ]

    async def assert_closed_and_logged(self, client: RawClient, data: bytes) -> None:
        """Writing *data* gets the link closed, a warning naming the peer, no answer."""
        peer = client.local_peer
        client.send(data)
        await within(peek(client.closed))
        self.assertEqual(client.received.pending, [])
        await wait_until(lambda: self.warnings_about(peer), f"a warning about {peer}")
        await self.assert_still_serving()

    async def assert_still_serving(self) -> None:
        """The logged-in channel still gets SUBMITs answered with Result 0."""
        resp = await within(Deferred.fromCoroutine(self.channel.submit(submit_pdu())))
        self.assertEqual(resp.result, Result.OK)
        self.assertEqual(self.live.sim.stats()["accounts"][SP_ID]["sessions"], 1)

    async def test_garbage(self) -> None:
        """Garbage bytes close the link with a logged reason."""
        await self.assert_closed_and_logged(await self.raw(), b"GET / HTTP/1.1\r\n\r\n")

    async def test_length_too_small(self) -> None:
        """A length field of 3 closes the link."""
        await self.assert_closed_and_logged(await self.raw(), (3).to_bytes(4, "big") + b"\0" * 8)

    async def test_length_too_large(self) -> None:
        """A length field of 10 MB closes the link before the body arrives."""
        length = 10 * 1024 * 1024
        data = length.to_bytes(4, "big") + CommandId.SUBMIT.to_bytes(4, "big") + b"\0\0\0\1"
        await self.assert_closed_and_logged(await self.raw(), data)

    async def test_unknown_command(self) -> None:
        """An unknown command id closes the link."""
        await self.assert_closed_and_logged(await self.raw(), _frame(0x77, 1, b"\0" * 4))

    async def test_unknown_command_after_login(self) -> None:
        """An unknown command id on a logged-in link closes it too."""
        client = await self.raw_logged_in()
        await self.assert_closed_and_logged(client, _frame(0x77, 2))
        await wait_until(lambda: self.live.sim.stats()["sessions"] == 1, "the link to go")

    async def test_truncated_submit(self) -> None:
        """A truncated SUBMIT gets SUBMIT_RESP Result 4 and the link stays up."""
        client = await self.raw_logged_in()
        whole = CMPP20.encode(submit_pdu(), 9)[12:]
        client.send(_frame(CommandId.SUBMIT, 9, whole[:40]))
        header, resp = await client.response()
        self.assertEqual((header.command_id, header.sequence_id), (CommandId.SUBMIT_RESP, 9))
        self.assertEqual(resp.result, Result.LENGTH_ERROR)
        await wait_until(lambda: self.warnings_about(client.local_peer), "a warning")
        # The same link still works: a whole SUBMIT is accepted.
        good = p.Submit(msg_src=b"901235", src_id=b"1065901235", dest_terminal_ids=(b"1380",),
                        msg_content=b"ok")  # fmt: skip
        client.send(CMPP20.encode(good, 10))
        header, resp = await client.response()
        self.assertEqual((header.sequence_id, resp.result), (10, Result.OK))
        self.assertFalse(client.closed.called)
        await self.assert_still_serving()

    async def test_request_before_login(self) -> None:
        """A SUBMIT before CONNECT closes the link with a logged reason."""
        client = await self.raw()
        await self.assert_closed_and_logged(client, CMPP20.encode(submit_pdu(), 1))
