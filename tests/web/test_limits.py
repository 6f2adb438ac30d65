"""HTTP listeners' connection caps and idle timeout (:mod:`smsgw.web.limits`, issue 14)."""

from __future__ import annotations

from typing import Any

from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from twisted.internet.testing import StringTransport
from twisted.logger import LogLevel, formatEvent, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.resource import Resource
from twisted.web.static import Data

from smsgw.web.jsonapi import access_log_line
from smsgw.web.limits import ConnectionCaps, HttpLimits, limited_site
from tests.clock import BoundedClock


def _root() -> Resource:
    root = Resource()
    root.putChild(b"ok", Data(b"fine", "text/plain"))
    return root


def _addr(host: str) -> IPv4Address:
    return IPv4Address("TCP", host, 40000)


class CapsTests(SynchronousTestCase):
    """The caps count open connections, in all and per address, and free them on close."""

    def setUp(self) -> None:
        self.clock = BoundedClock()
        limits = HttpLimits(max_connections=3, max_connections_per_ip=2, idle_timeout_s=5)
        self.caps = limited_site(_root(), limits=limits, reactor=self.clock)

    def connect(self, host: str) -> Any:
        protocol = self.caps.buildProtocol(_addr(host))
        if protocol is not None:
            protocol.makeConnection(StringTransport())
        return protocol

    def test_per_address_cap(self) -> None:
        """A third connection from one address is closed at once; another address gets in."""
        self.assertIsNotNone(self.connect("10.0.0.1"))
        self.assertIsNotNone(self.connect("10.0.0.1"))
        self.assertIsNone(self.connect("10.0.0.1"))
        self.assertIsNotNone(self.connect("10.0.0.2"))
        self.assertEqual((self.caps.open, self.caps.refused), (3, 1))

    def test_total_cap(self) -> None:
        """Past max_connections every address is refused."""
        for host in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
            self.assertIsNotNone(self.connect(host))
        self.assertIsNone(self.connect("10.0.0.4"))
        self.assertEqual(self.caps.refused, 1)

    def test_close_frees_a_place(self) -> None:
        """A closed connection is counted out: the address may connect again."""
        first = self.connect("10.0.0.1")
        self.connect("10.0.0.1")
        self.assertIsNone(self.connect("10.0.0.1"))
        first.connectionLost(None)
        self.assertEqual(self.caps.open, 1)
        self.assertIsNotNone(self.connect("10.0.0.1"))

    def test_idle_connection_closed(self) -> None:
        """A connection that sends nothing is closed after idle_timeout_s, and counted out."""
        protocol = self.caps.buildProtocol(_addr("10.0.0.1"))
        transport = StringTransport()
        protocol.makeConnection(transport)
        self.clock.advance(4.9)
        self.assertFalse(transport.disconnecting)
        self.clock.advance(0.2)
        self.assertTrue(transport.disconnecting)
        protocol.connectionLost(None)
        self.assertEqual(self.caps.open, 0)

    def test_no_caps(self) -> None:
        """None for a cap means no cap."""
        site = limited_site(_root(), reactor=self.clock).wrappedFactory
        caps = ConnectionCaps(site, HttpLimits(None, None))
        for _ in range(50):
            protocol = caps.buildProtocol(_addr("10.0.0.1"))
            self.assertIsNotNone(protocol)
            protocol.makeConnection(StringTransport())
        self.assertEqual(caps.refused, 0)


class _Idle(Protocol):
    """A client that connects and says nothing."""

    def __init__(self) -> None:
        self.closed: Deferred[None] = Deferred()

    def connectionLost(self, reason: object = None) -> None:
        self.closed.callback(None)


class _Get(Protocol):
    """A client sending one GET and collecting the answer until the server closes."""

    def __init__(self) -> None:
        self.data = b""
        self.closed: Deferred[bytes] = Deferred()

    def connectionMade(self) -> None:
        self.transport.write(b"GET /ok HTTP/1.0\r\nHost: x\r\n\r\n")

    def dataReceived(self, data: bytes) -> None:
        self.data += data

    def connectionLost(self, reason: object = None) -> None:
        self.closed.callback(self.data)


class LoopbackTests(TestCase):
    """Over real loopback sockets: a flood of idle connections does not lock others out."""

    timeout = 30

    async def test_flood_from_one_address(self) -> None:
        """Idle connections from 127.0.0.2 past its cap are closed; 127.0.0.1 is still served."""
        limits = HttpLimits(max_connections=100, max_connections_per_ip=10, idle_timeout_s=30)
        port = reactor.listenTCP(0, limited_site(_root(), limits=limits), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        number = port.getHost().port
        flood = []
        for _ in range(25):
            endpoint = TCP4ClientEndpoint(
                reactor, "127.0.0.1", number, bindAddress=("127.0.0.2", 0)
            )
            flood.append(await connectProtocol(endpoint, _Idle()))
        # The 15 over the cap are closed by the server at once.
        for idle in flood[10:]:
            await idle.closed
        for idle in flood[:10]:
            self.assertFalse(idle.closed.called)
        getter = await connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", number), _Get())
        answer = await getter.closed
        self.assertTrue(answer.startswith(b"HTTP/1.0 200"), answer[:40])
        self.assertTrue(answer.endswith(b"fine"))
        for idle in flood[:10]:
            idle.transport.loseConnection()
            await idle.closed


class _Args(Resource):
    """Answers the request's ``args`` (what twisted.web parsed) as text."""

    isLeaf = True

    def render(self, request: Any) -> bytes:
        return repr(sorted(request.args.items())).encode("ascii")


_FORM_POST = (
    b"POST /echo?q=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=b"
)


class ApiSiteTests(SynchronousTestCase):
    """An ApiSite (the SP API's): no form parsing, and access-log lines at debug level."""

    def post(self, api: bool) -> tuple[bytes, list[dict[str, Any]]]:
        """One form POST through a limited_site; the answer and the events logged meanwhile."""
        caps = limited_site(_Args(), reactor=BoundedClock(), log_formatter=access_log_line, api=api)
        caps.doStart()
        self.addCleanup(caps.doStop)
        events: list[dict[str, Any]] = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        protocol = caps.buildProtocol(_addr("10.0.0.1"))
        transport = StringTransport()
        protocol.makeConnection(transport)
        protocol.dataReceived(_FORM_POST)
        return transport.value(), events

    def test_body_not_parsed_as_form(self) -> None:
        """An ApiSite's request.args holds the query string only; a plain Site's the form too."""
        answer, _ = self.post(api=True)
        self.assertIn(b"[(b'q', [b'1'])]", answer)
        answer, _ = self.post(api=False)
        self.assertIn(b"[(b'a', [b'b']), (b'q', [b'1'])]", answer)

    def test_access_log_at_debug(self) -> None:
        """The access-log line is one debug event of smsgw.web.access, formatted as given."""
        _, events = self.post(api=True)
        access = [e for e in events if e.get("log_namespace") == "smsgw.web.access"]
        self.assertEqual([e["log_level"] for e in access], [LogLevel.debug])
        line = formatEvent(access[0])
        self.assertIn('"POST /echo HTTP/1.1" 200', line)
        self.assertNotIn("q=1", line)
        self.assertEqual([e for e in events if "POST /echo" in formatEvent(e)], access)

    def test_plain_site_logs_at_info(self) -> None:
        """A plain Site (the other listeners) still writes its access-log line at info."""
        _, events = self.post(api=False)
        lines = [e for e in events if "POST /echo" in formatEvent(e)]
        self.assertEqual([e["log_level"] for e in lines], [LogLevel.info])
