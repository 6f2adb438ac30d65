"""SGIP 1.2, SMGP 3.0 and CMPP 3.0 on ``--role=ismg-sim``, over real loopback sockets.

What :func:`smsgw.tap.makeService` builds from a configuration file (every
listener on an ephemeral ``127.0.0.1`` port, two accounts, the SGIP
callback endpoint of the first) is started and driven the way an SP's
software would: logins refused with each protocol's own status, keepalives
answered and idle SGIP links closed, and bad bytes on a live socket
: the link is closed or answered with the protocol's error
status, and the logged-in channel of the other account keeps being served.

The harness here (:class:`IsmgSim`, :func:`start_protocol_channel`, the
:class:`Wire` of each protocol) is shared with
:mod:`tests.sp.test_protocol_channels`.  Every wait is bounded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
from treq.client import HTTPClient
from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import MultiService
from twisted.internet import reactor
from twisted.internet.defer import Deferred, DeferredList, DeferredQueue
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from twisted.internet.task import deferLater
from twisted.logger import ILogObserver, LogLevel, formatEvent, globalLogPublisher
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath
from twisted.trial.unittest import TestCase
from twisted.web.client import Agent, HTTPConnectionPool
from zope.interface import provider

from smsgw.config import parse_upstream_url
from smsgw.protocols.cmpp import pdus as cp
from smsgw.protocols.cmpp.auth import authenticator_source, connect_timestamp
from smsgw.protocols.cmpp.codec import CMPP20
from smsgw.protocols.cmpp.codec30 import CMPP30
from smsgw.protocols.cmpp.session import CmppAdapter
from smsgw.protocols.cmpp.session import LoginFailed as CmppLoginFailed
from smsgw.protocols.cmpp.session import login as cmpp_login
from smsgw.protocols.codec import Header, ProtocolCodec
from smsgw.protocols.framing import Framer
from smsgw.protocols.session import Session, SessionConfig, SessionFactory, State
from smsgw.protocols.sgip import pdus as gp
from smsgw.protocols.sgip.codec import SGIP12
from smsgw.protocols.sgip.constants import LoginType
from smsgw.protocols.sgip.constants import Result as SgipResult
from smsgw.protocols.sgip.sequence import sequence_time
from smsgw.protocols.sgip.session import BindFailed, SgipAdapter, bind, sgip_session_config
from smsgw.protocols.smgp import pdus as mp
from smsgw.protocols.smgp.codec import SMGP30
from smsgw.protocols.smgp.constants import LoginMode, Status
from smsgw.protocols.smgp.session import LoginFailed as SmgpLoginFailed
from smsgw.protocols.smgp.session import SmgpAdapter, authenticator_client
from smsgw.protocols.smgp.session import login as smgp_login
from smsgw.sp.channel import Channel, SegmentResult
from smsgw.tap import Options, makeService
from smsgw.text import MsgFmt, split_text
from smsgw.text.longsms import Part
from tests.sp.test_channel import _LiveTestCase, closed_port, peek, wait_until, within

LOOPBACK = "tcp:0:interface=127.0.0.1"
#: The channel's account; its SGIP reports and MOs go to ``sgip_callback``.
SP_ID, SECRET = "901234", "s3cret"
#: A second account, for raw links next to the channel's.
RAW_ID, RAW_SECRET = "901235", "raw2pw"
SRC = "1065901234"
DEST = "13800138000"
#: The SP's SGIP node id (sgip12.md §3.1): the first part of its Submit ids.
SP_NODE_ID = 3075512345
#: The fake SMG's node id, and the SMGP code and CMPP gateway code of the simulator.
SMG_NODE_ID = 1075510
SMGW_CODE = 123456
GATEWAY_CODE = 2002
PROTOCOLS = ("cmpp", "cmpp3", "sgip", "smgp")


def sim_config(callback_port: int) -> str:
    """The ``[simulator]`` table: every listener on loopback, two accounts, fast reports."""
    listeners = "".join(f'{name} = "{LOOPBACK}"\n' for name in (*PROTOCOLS, "control"))
    return (
        f"[simulator]\n{listeners}"
        f'gateway_code = "{GATEWAY_CODE:06d}"\n'
        f"sgip_node_id = {SMG_NODE_ID}\n"
        f"smgp_code = {SMGW_CODE}\n"
        "[simulator.policy.reports]\n"
        "delay_s = [0.01, 0.05]\n"
        "[[simulator.account]]\n"
        f'id = "{SP_ID}"\n'
        f'secret = "{SECRET}"\n'
        f'sgip_callback = "tcp:host=127.0.0.1:port={callback_port}"\n'
        "[[simulator.account]]\n"
        f'id = "{RAW_ID}"\n'
        f'secret = "{RAW_SECRET}"\n'
    )


def _has_service(top: MultiService, name: str) -> bool:
    """Whether *top* has a service named *name* (a listener that is configured)."""
    return any(service.name == name for service in top)


def track_sessions(factory: SessionFactory, into: list[Session]) -> None:
    """Record every :class:`Session` *factory* builds in *into*."""
    build = factory.buildProtocol

    def build_and_track(addr: Any) -> Session:
        session = build(addr)
        into.append(session)
        return session

    factory.buildProtocol = build_and_track  # type: ignore[method-assign]


async def close_sessions(sessions: list[Session]) -> None:
    """Abort every session of *sessions* still open and wait until all are closed."""
    for session in sessions:
        if session.state is not State.CLOSED and session.transport is not None:
            session.transport.abortConnection()  # type: ignore[attr-defined]
    await within(DeferredList([s.when_closed() for s in sessions]))


class IsmgSim:
    """``--role=ismg-sim`` as :func:`makeService` builds it from a temporary config file.

    Use :meth:`start`.  On cleanup it cancels the reports not yet due, stops
    the services and closes every link still open on either side of it
    (including the SGIP links it opened to the SP's server).

    :ivar ports: the bound port of each listener (``cmpp``, ``cmpp3``,
        ``sgip``, ``smgp``, ``control``).
    """

    def __init__(self, top: MultiService) -> None:
        self.top = top
        self.sim: Any = top.simulator  # type: ignore[attr-defined]
        self.ports: dict[str, int] = {}
        #: Every server-side session of every listener, logged in or not.
        self.sessions: list[Session] = []
        pool = HTTPConnectionPool(reactor, persistent=False)
        self._pool = pool
        self.http = HTTPClient(Agent(reactor, pool=pool))

    @classmethod
    async def start(
        cls, testcase: TestCase, callback_port: int, *, config_text: str | None = None
    ) -> IsmgSim:
        """Write the config, build the services, start them; the ports are bound on return.

        :param config_text: the configuration, instead of :func:`sim_config`'s; it
            must name the control API and may name fewer protocols.
        """
        folder = FilePath(testcase.mktemp())
        folder.makedirs()
        config = folder.child("ismg-sim.toml")
        config.setContent((config_text or sim_config(callback_port)).encode())
        options = Options()
        options.parseOptions(["--role=ismg-sim", "--config", config.path])
        top = makeService(options, reactor)
        assert isinstance(top, MultiService)
        self = cls(top)
        names = [name for name in PROTOCOLS if _has_service(top, name)]
        for name in names:
            track_sessions(self.listener(name).factory, self.sessions)
        top.startService()
        testcase.addCleanup(self.close)
        for name in (*names, "control"):
            waiting = self.listener(name)._waitingForPort
            assert waiting is not None
            port = await within(peek(waiting))
            self.ports[name] = port.getHost().port
        return self

    def listener(self, name: str) -> StreamServerEndpointService:
        """The listening service of *name* (a protocol or ``control``)."""
        service = self.top.getServiceNamed(name)
        assert isinstance(service, StreamServerEndpointService)
        return service

    def server_config(self, name: str, config: SessionConfig) -> None:
        """Give the links *name*'s listener accepts from now on *config*."""
        # The listener's factory is the session factory within its login limits.
        factory = self.listener(name).factory.inner
        assert isinstance(factory, SessionFactory)
        factory.config = config

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One control API request; the status and the decoded JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        headers: dict[bytes | str, list[bytes | str]] | None = None
        if data is not None:
            headers = {"Content-Type": ["application/json"]}
        url = f"http://127.0.0.1:{self.ports['control']}{path}"
        response = await within(self.http.request(method, url, data=data, headers=headers))
        content = await within(response.content())
        return response.code, json.loads(content)

    async def close(self) -> None:
        self.sim.pending_reports.clear()
        if self.top.running:
            await within(self.top.stopService())
        links: list[Session] = []
        face = self.sim.faces.get("sgip")
        if face is not None:
            links.extend(face._links.values())
        await close_sessions(self.sessions + links)
        await self._pool.closeCachedConnections()


def upstream_url(scheme: str, port: int, *, listen_port: int | None = None, query: str = "") -> str:
    """The upstream URL of the channel account on the simulator's *scheme* listener."""
    url = (
        f"{scheme}://{SP_ID}:{SECRET}@127.0.0.1:{port}"
        f"?src_id={SRC}&service_id=TEST&response_timeout_s=2{query}"
    )
    if scheme == "sgip":
        url += f"&node_id={SP_NODE_ID}"
        if listen_port is not None:
            url += f"&listen=tcp:{listen_port}:interface=127.0.0.1"
    return url


def start_protocol_channel(
    testcase: TestCase,
    scheme: str,
    port: int,
    *,
    listen_port: int | None = None,
    on_event: Callable[[Any], Any] | None = None,
    query: str = "",
) -> Channel:
    """A started :class:`Channel` of *scheme* to the simulator; stopped on cleanup.

    For SGIP it also runs the SP's own server on *listen_port*; the links the
    SMG opens to it are closed on cleanup too.
    """
    url = parse_upstream_url(upstream_url(scheme, port, listen_port=listen_port, query=query))
    channel = Channel(url, reactor, on_event=on_event, name=scheme)
    accepted: list[Session] = []
    listener = getattr(channel, "listener", None)
    if listener is not None:
        track_sessions(listener.factory, accepted)
    channel.startService()

    async def stop() -> None:
        if channel.running:
            await within(channel.stopService())
        await close_sessions(accepted)

    testcase.addCleanup(stop)
    return channel


def one_segment(text: str = "hello") -> Part:
    """*text* as one unsplit segment."""
    [segment] = split_text(text, MsgFmt.ASCII, 0)
    return segment


class _Handler:
    """A session handler for raw client links: answers nothing, remembers nothing."""

    def session_started(self, session: Session) -> None:
        pass

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        return None

    def session_ended(self, session: Session, reason: Failure) -> None:
        pass


class Wire:
    """What the tests need to know about one protocol, to speak it by hand."""

    #: The listener's name in ``--role=ismg-sim`` and the upstream URL scheme.
    name: ClassVar[str]
    #: The codec of a raw link after login.
    codec: ClassVar[ProtocolCodec]
    #: The exception a refused login raises, and how to read its status.
    refused: ClassVar[type[Exception]]
    #: Login statuses: wrong secret, unknown account.
    wrong_secret: ClassVar[int]
    unknown_account: ClassVar[int]
    #: The login status of one link more than the account's ``max_sessions``.
    too_many_sessions: ClassVar[int]
    #: The Submit_Resp status of a Submit whose body is cut short.
    truncated_status: ClassVar[int]
    #: The normalised message id of a Submit.
    msg_id: ClassVar[re.Pattern[str]]

    def adapter(self) -> Any:
        """A fresh client adapter."""
        raise NotImplementedError

    def sequence(self, n: int) -> Any:
        """The *n*-th request sequence number of a raw link."""
        return n

    def login_request(self, account: str, secret: str) -> Any:
        """The login PDU of *account*."""
        raise NotImplementedError

    def login(self, session: Session, account: str, secret: str) -> Deferred[Any]:
        """Log in on *session* with the protocol's client function."""
        raise NotImplementedError

    def submit(self, text: str = "ok") -> object:
        """A one-segment Submit from :data:`RAW_ID` with no report wanted."""
        raise NotImplementedError

    @staticmethod
    def status(pdu: Any) -> int:
        """The Result/Status of a response PDU."""
        return int(getattr(pdu, "result", getattr(pdu, "status", -1)))


class SgipWire(Wire):
    name = "sgip"
    codec = SGIP12
    refused = BindFailed
    wrong_secret = unknown_account = int(SgipResult.ILLEGAL_LOGIN)
    too_many_sessions = int(SgipResult.TOO_MANY_CONNECTIONS)
    truncated_status = int(SgipResult.BAD_LENGTH)
    msg_id = re.compile(rf"{SP_NODE_ID}-[0-9]{{10}}-[0-9]+")

    def adapter(self) -> SgipAdapter:
        return SgipAdapter(SP_NODE_ID, reactor)

    def sequence(self, n: int) -> tuple[int, int, int]:
        return (SP_NODE_ID, sequence_time(reactor.seconds()), n)

    def login_request(self, account: str, secret: str) -> gp.Bind:
        return gp.Bind(LoginType.SP_TO_SMG, account.encode(), secret.encode())

    def login(self, session: Session, account: str, secret: str) -> Deferred[Any]:
        return bind(session, LoginType.SP_TO_SMG, account, secret)

    def submit(self, text: str = "ok") -> object:
        return gp.Submit(
            sp_number=RAW_ID.encode() + b"1",
            user_numbers=(DEST.encode(),),
            report_flag=2,
            message_content=text.encode(),
        )

    @staticmethod
    def status(pdu: Any) -> int:
        return int(pdu.result)


class SmgpWire(Wire):
    name = "smgp"
    codec = SMGP30
    refused = SmgpLoginFailed
    wrong_secret = unknown_account = int(Status.AUTH_ERROR)
    too_many_sessions = int(Status.TOO_MANY_CONNECTIONS)
    truncated_status = int(Status.STRUCTURE_ERROR)
    msg_id = re.compile(rf"{SMGW_CODE}[0-9]{{14}}")

    def adapter(self) -> SmgpAdapter:
        return SmgpAdapter()

    def login_request(self, account: str, secret: str, version: int = 0x30) -> mp.Login:
        timestamp = connect_timestamp(reactor.seconds())
        auth = authenticator_client(account.encode(), secret.encode(), timestamp)
        return mp.Login(account.encode(), auth, LoginMode.TRANSMIT, timestamp, version)

    def login(self, session: Session, account: str, secret: str) -> Deferred[Any]:
        return smgp_login(session, account.encode(), secret.encode())

    def submit(self, text: str = "ok") -> object:
        return mp.Submit(
            src_term_id=RAW_ID.encode() + b"1",
            dest_term_ids=(DEST.encode(),),
            msg_format=0,
            msg_content=text.encode(),
        )

    @staticmethod
    def status(pdu: Any) -> int:
        return int(pdu.status)


class Cmpp3Wire(Wire):
    name = "cmpp3"
    codec = CMPP30
    refused = CmppLoginFailed
    wrong_secret = 3
    unknown_account = 2
    too_many_sessions = 5
    truncated_status = 4
    msg_id = re.compile(r"[0-9]{1,20}")

    def adapter(self) -> CmppAdapter:
        return CmppAdapter(CMPP30)

    def login_request(self, account: str, secret: str, version: int = 0x30) -> cp.Connect:
        timestamp = connect_timestamp(reactor.seconds())
        auth = authenticator_source(account.encode(), secret.encode(), timestamp)
        return cp.Connect(account.encode(), auth, version, timestamp)

    def login(self, session: Session, account: str, secret: str) -> Deferred[Any]:
        return cmpp_login(session, account.encode(), secret.encode(), version=0x30, status_width=4)

    def submit(self, text: str = "ok") -> object:
        return cp.Submit(
            msg_src=RAW_ID.encode(),
            src_id=RAW_ID.encode() + b"1",
            dest_terminal_ids=(DEST.encode(),),
            msg_content=text.encode(),
        )

    @staticmethod
    def status(pdu: Any) -> int:
        return int(pdu.status if isinstance(pdu, cp.ConnectResp) else pdu.result)


WIRES: dict[str, Wire] = {"sgip": SgipWire(), "smgp": SmgpWire(), "cmpp3": Cmpp3Wire()}


def frame_with_body(frame: bytes, header_size: int, body: bytes) -> bytes:
    """*frame*'s header (length rewritten) followed by *body*."""
    return (header_size + len(body)).to_bytes(4, "big") + frame[4:header_size] + body


class RawClient(Protocol):
    """A peer that writes whatever bytes a test gives it and decodes what comes back.

    :ivar received: ``(header, pdu)`` of every frame received, in order.
    :ivar closed: fires once the connection is gone.
    """

    def __init__(self, codec: ProtocolCodec) -> None:
        self.codec = codec
        self.framer = Framer(codec.header_size, codec.max_length)
        self.received: DeferredQueue[tuple[Header, Any]] = DeferredQueue()
        self.closed: Deferred[None] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        for frame in self.framer.feed(data):
            self.received.put(self.codec.decode(frame))

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        self.closed.callback(None)

    def send(self, data: bytes) -> None:
        """Write raw *data*."""
        assert self.transport is not None
        self.transport.write(data)

    def send_pdu(self, pdu: object, sequence: Any) -> None:
        """Encode *pdu* with the link's codec and write it."""
        self.send(self.codec.encode(pdu, sequence))

    @property
    def local_peer(self) -> str:
        """This end as the server names it in logs: ``host:port``."""
        assert self.transport is not None
        host = self.transport.getHost()
        return f"{host.host}:{host.port}"

    async def response(self) -> tuple[Header, Any]:
        """The next ``(header, pdu)`` from the server, within the time limit."""
        result: tuple[Header, Any] = await within(self.received.get())
        return result


if TYPE_CHECKING:
    _Base = _LiveTestCase
else:
    _Base = object


class _SimTests(_Base):
    """The simulator from ``makeService``, a logged-in channel, and a log observer.

    Subclasses set :attr:`wire`; this mixin holds the tests every protocol runs.
    """

    wire: ClassVar[Wire]

    async def setUp(self) -> None:  # type: ignore[override]
        super().setUp()
        self.logged: list[dict[str, Any]] = []

        @provider(ILogObserver)
        def observe(event: dict[str, Any]) -> None:
            self.logged.append(event)

        globalLogPublisher.addObserver(observe)
        self.addCleanup(globalLogPublisher.removeObserver, observe)
        callback_port = await closed_port()
        self.ismg = await IsmgSim.start(self, callback_port)
        self.sim = self.ismg.sim
        self.port = self.ismg.ports[self.wire.name]
        self.channel = start_protocol_channel(
            self, self.wire.name, self.port, listen_port=callback_port, on_event=self.on_event
        )
        #: The channel's one link: bad input elsewhere must leave it as it is.
        self.link = await within(self.channel.session())

    # -- helpers -----------------------------------------------------------

    async def raw(self, codec: ProtocolCodec | None = None) -> RawClient:
        """A raw client connected to the protocol's listener; closed on cleanup."""
        client = RawClient(codec or self.wire.codec)
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", self.port)
        await within(connectProtocol(endpoint, client))

        def close() -> Deferred[None]:
            if client.transport is not None and not client.closed.called:
                client.transport.loseConnection()
            return within(peek(client.closed))

        self.addCleanup(close)
        return client

    async def raw_logged_in(self) -> RawClient:
        """A raw client logged in as :data:`RAW_ID`."""
        client = await self.raw()
        client.send_pdu(self.wire.login_request(RAW_ID, RAW_SECRET), self.wire.sequence(1))
        _, resp = await client.response()
        self.assertEqual(self.wire.status(resp), 0)
        return client

    async def client_session(self, adapter: Any = None) -> Session:
        """A client :class:`Session` connected (not logged in); closed on cleanup."""
        session = Session(
            adapter or self.wire.adapter(),
            _Handler(),
            SessionConfig(response_timeout_s=2.0, attempts=1, keepalive_s=None),
            reactor,
        )
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", self.port)
        await within(connectProtocol(endpoint, session))
        self.addCleanup(close_sessions, [session])
        return session

    async def refused_status(self, session: Session, account: str, secret: str) -> int:
        """Log in with the protocol's client function; the status it was refused with."""
        with self.assertRaises(self.wire.refused) as caught:
            await within(self.wire.login(session, account, secret))
        await within(session.when_closed())
        error: Any = caught.exception
        return int(getattr(error, "status", getattr(error, "result", -1)))

    def warnings_about(self, peer: str) -> list[str]:
        """The warnings logged so far that name *peer*."""
        return [
            formatEvent(e)
            for e in self.logged
            if e.get("log_level") is LogLevel.warn and peer in formatEvent(e)
        ]

    async def assert_still_serving(self) -> None:
        """The channel's link, the same one, still gets a Submit accepted with status 0."""
        result: SegmentResult = await within(
            self.channel.submit_segment((DEST,), one_segment(), report=False)
        )
        self.assertEqual(result.result, 0)
        self.assertRegex(result.msg_id, self.wire.msg_id)
        self.assertEqual(self.channel.sessions, [self.link])
        self.assertTrue(self.link.bound)
        self.assertEqual(self.sim.stats()["accounts"][SP_ID]["sessions"], 1)

    async def assert_closed_and_logged(self, client: RawClient, data: bytes) -> None:
        """Writing *data* closes the link unanswered, logs the peer, and spares the channel."""
        peer = client.local_peer
        client.send(data)
        await within(peek(client.closed))
        self.assertEqual(client.received.pending, [])
        await wait_until(lambda: self.warnings_about(peer), f"a warning about {peer}")
        await self.assert_still_serving()

    # -- logins ---------------------------------------------------------------

    async def test_login(self) -> None:
        """The protocol's client login succeeds and /v1/stats counts both links."""
        session = await self.client_session()
        await within(self.wire.login(session, RAW_ID, RAW_SECRET))
        self.assertTrue(session.bound)
        code, stats = await self.ismg.call("GET", "/v1/stats")
        self.assertEqual(code, 200)
        self.assertEqual(stats["accounts"][RAW_ID]["sessions"], 1)
        self.assertEqual(stats["accounts"][SP_ID]["sessions"], 1)
        self.assertIn(self.wire.name, stats["protocols"])

    async def test_wrong_secret(self) -> None:
        """A wrong secret is refused with the protocol's status and the link closed."""
        session = await self.client_session()
        status = await self.refused_status(session, RAW_ID, "wrong")
        self.assertEqual(status, self.wire.wrong_secret)
        self.assertEqual(self.sim.stats()["accounts"][RAW_ID]["sessions"], 0)

    async def test_unknown_account(self) -> None:
        """An unknown account is refused with the protocol's status and the link closed."""
        session = await self.client_session()
        status = await self.refused_status(session, "999999", RAW_SECRET)
        self.assertEqual(status, self.wire.unknown_account)
        self.assertEqual(self.sim.totals["logins"], 1)

    async def test_too_many_sessions(self) -> None:
        """A link beyond max_sessions is refused with the protocol's own status, the first kept."""
        self.sim.accounts[RAW_ID].max_sessions = 1
        first = await self.raw_logged_in()
        session = await self.client_session()
        status = await self.refused_status(session, RAW_ID, RAW_SECRET)
        self.assertEqual(status, self.wire.too_many_sessions)
        self.assertFalse(first.closed.called)
        self.assertEqual(self.sim.stats()["accounts"][RAW_ID]["sessions"], 1)

    # -- bad input ------------------------------------------

    async def test_garbage(self) -> None:
        """Garbage bytes close the link with a logged reason."""
        await self.assert_closed_and_logged(await self.raw(), b"GET / HTTP/1.1\r\n\r\n")

    async def test_length_too_small(self) -> None:
        """A length field of 3 closes the link."""
        data = (3).to_bytes(4, "big") + bytes(self.wire.codec.header_size - 4)
        await self.assert_closed_and_logged(await self.raw(), data)

    async def test_length_too_large(self) -> None:
        """A length field of 10 MB closes the link before the body arrives."""
        header = self.wire.codec.encode(self.wire.submit(), self.wire.sequence(1))
        data = (10 * 1024 * 1024).to_bytes(4, "big") + header[4 : self.wire.codec.header_size]
        await self.assert_closed_and_logged(await self.raw(), data)

    def unknown_command(self, sequence: int) -> bytes:
        """A frame with command id 0x77, which no protocol here has."""
        frame = self.wire.codec.encode(self.wire.submit(), self.wire.sequence(sequence))
        size = self.wire.codec.header_size
        header = frame[:4] + (0x77).to_bytes(4, "big") + frame[8:size]
        return frame_with_body(header, size, b"\0" * 4)

    async def test_unknown_command(self) -> None:
        """An unknown command id before login closes the link."""
        await self.assert_closed_and_logged(await self.raw(), self.unknown_command(1))

    async def test_unknown_command_after_login(self) -> None:
        """An unknown command id on a logged-in link closes it too."""
        client = await self.raw_logged_in()
        await self.assert_closed_and_logged(client, self.unknown_command(2))
        await wait_until(
            lambda: self.sim.stats()["accounts"][RAW_ID]["sessions"] == 0, "the raw link to go"
        )

    async def test_truncated_submit(self) -> None:
        """A truncated Submit gets the protocol's error status; the link stays up."""
        client = await self.raw_logged_in()
        codec = self.wire.codec
        whole = codec.encode(self.wire.submit(), self.wire.sequence(9))
        size = codec.header_size
        client.send(frame_with_body(whole, size, whole[size : size + 40]))
        header, resp = await client.response()
        self.assertEqual(header.sequence_id, self.wire.sequence(9))
        self.assertEqual(self.wire.status(resp), self.wire.truncated_status)
        await wait_until(lambda: self.warnings_about(client.local_peer), "a warning")
        # The same link still works: a whole Submit is accepted.
        client.send_pdu(self.wire.submit("whole"), self.wire.sequence(10))
        header, resp = await client.response()
        self.assertEqual((header.sequence_id, self.wire.status(resp)), (self.wire.sequence(10), 0))
        self.assertFalse(client.closed.called)
        self.assertEqual(self.sim.submits(account=RAW_ID)[-1]["text"], "whole")
        await self.assert_still_serving()

    async def test_submit_before_login(self) -> None:
        """A Submit before login closes the link and nothing is accepted."""
        client = await self.raw()
        client.send_pdu(self.wire.submit(), self.wire.sequence(1))
        await within(peek(client.closed))
        self.assertEqual(self.sim.submits(account=RAW_ID), [])
        await self.assert_still_serving()


class SgipSimTests(_SimTests, _LiveTestCase):
    """SGIP 1.2: the SMG face (Login Type 1 to submit)."""

    wire = WIRES["sgip"]

    async def test_wrong_login_type(self) -> None:
        """A Bind with Login Type 2 on the SMG port is refused with Result 4."""
        client = await self.raw()
        bind_pdu = gp.Bind(LoginType.SMG_TO_SP, RAW_ID.encode(), RAW_SECRET.encode())
        client.send_pdu(bind_pdu, self.wire.sequence(1))
        _, resp = await client.response()
        self.assertEqual(resp.result, SgipResult.BAD_LOGIN_TYPE)
        await within(peek(client.closed))

    async def test_idle_link_closed(self) -> None:
        """With a 0.3 s idle timeout, an idle bound link is closed by the SMG."""
        self.assertEqual(sgip_session_config().idle_timeout_s, 60.0)
        self.assertIsNone(sgip_session_config().keepalive_s)
        self.ismg.server_config("sgip", sgip_session_config(idle_timeout_s=0.3))
        session = await self.client_session()
        await within(self.wire.login(session, RAW_ID, RAW_SECRET))
        bound_at = reactor.seconds()
        await within(session.when_closed())
        self.assertGreaterEqual(reactor.seconds() - bound_at, 0.25)
        await wait_until(
            lambda: any("closing idle link" in formatEvent(e) for e in self.logged), "the log"
        )

    async def test_busy_link_not_idle(self) -> None:
        """A link that keeps submitting within the idle timeout stays open."""
        self.ismg.server_config("sgip", sgip_session_config(idle_timeout_s=1.0))
        session = await self.client_session()
        await within(self.wire.login(session, RAW_ID, RAW_SECRET))
        for _ in range(6):
            resp = await within(session.send(self.wire.submit()))
            self.assertEqual(resp.result, 0)
            await deferLater(reactor, 0.25, lambda: None)
        self.assertTrue(session.bound)


class SmgpSimTests(_SimTests, _LiveTestCase):
    """SMGP 3.0: the SMGW face."""

    wire = WIRES["smgp"]

    async def test_version_too_low(self) -> None:
        """A ClientVersion below 1.3 is refused with status 22 (version error)."""
        client = await self.raw()
        wire = SmgpWire()
        client.send_pdu(wire.login_request(RAW_ID, RAW_SECRET, version=0x12), 1)
        _, resp = await client.response()
        self.assertEqual(resp.status, Status.VERSION_TOO_HIGH)
        await within(peek(client.closed))

    async def test_higher_version_answered_as_30(self) -> None:
        """A ClientVersion 0x40 logs in and is answered with ServerVersion 0x30."""
        client = await self.raw()
        client.send_pdu(SmgpWire().login_request(RAW_ID, RAW_SECRET, version=0x40), 1)
        _, resp = await client.response()
        self.assertEqual((resp.status, resp.server_version), (0, 0x30))
        client.send_pdu(self.wire.submit(), 2)
        _, resp = await client.response()
        self.assertEqual(resp.status, 0)

    async def test_reserved_login_mode(self) -> None:
        """A reserved LoginMode (3) is refused with status 10."""
        client = await self.raw()
        login = SmgpWire().login_request(RAW_ID, RAW_SECRET)
        client.send_pdu(attrs.evolve(login, login_mode=3), 1)
        _, resp = await client.response()
        self.assertEqual(resp.status, Status.STRUCTURE_ERROR)
        await within(peek(client.closed))

    async def test_receive_mode_cannot_submit(self) -> None:
        """A RECEIVE-mode login gets status 11 for a Submit."""
        session = await self.client_session()
        await within(smgp_login(session, RAW_ID.encode(), RAW_SECRET.encode(), LoginMode.RECEIVE))
        resp = await within(session.send(self.wire.submit()))
        self.assertEqual(resp.status, Status.COMMAND_ERROR)
        self.assertEqual(self.sim.submits(account=RAW_ID), [])

    async def test_active_test_answered(self) -> None:
        """Active_Test on a logged-in link is answered with Active_Test_Resp."""
        session = await self.client_session()
        await within(self.wire.login(session, RAW_ID, RAW_SECRET))
        resp = await within(session.send(mp.ActiveTest()))
        self.assertIsInstance(resp, mp.ActiveTestResp)
        self.assertTrue(session.bound)

    async def test_channel_keepalive(self) -> None:
        """A channel with keepalive_s 0.1 sends Active_Test when idle and stays bound."""
        channel = start_protocol_channel(self, "smgp", self.port, query="&keepalive_s=0.1")
        session = await within(channel.session())
        before = session.frames_received
        await deferLater(reactor, 0.6, lambda: None)
        self.assertGreaterEqual(session.frames_received - before, 2)
        self.assertTrue(session.bound)
        self.assertEqual(self.sim.stats()["accounts"][SP_ID]["sessions"], 2)


class Cmpp3SimTests(_SimTests, _LiveTestCase):
    """CMPP 3.0: the ISMG face, with 2.0 clients answered as 2.0."""

    wire = WIRES["cmpp3"]

    async def test_20_client_answered_as_20(self) -> None:
        """A 2.0 CONNECT gets a 30-byte 2.0 CONNECT_RESP and then speaks 2.0."""
        client = await self.raw(CMPP20)
        client.send_pdu(Cmpp3Wire().login_request(RAW_ID, RAW_SECRET, version=0x20), 1)
        header, resp = await client.response()
        self.assertEqual((header.length, resp.status, resp.version), (30, 0, 0x20))
        submit = Cmpp3Wire().submit("two")
        client.send_pdu(submit, 2)
        header, resp = await client.response()
        self.assertEqual((header.length, resp.result), (21, 0))
        [rec] = self.sim.submits(account=RAW_ID)
        self.assertEqual(
            (rec["protocol"], rec["text"], rec["msg_id"]), ("cmpp2", "two", str(resp.msg_id))
        )

    async def test_20_client_session(self) -> None:
        """The CMPP 2.0 client login function logs in on the 3.0 port."""
        session = await self.client_session(CmppAdapter(CMPP20))
        resp = await within(cmpp_login(session, RAW_ID.encode(), RAW_SECRET.encode()))
        self.assertEqual((resp.status, resp.version), (0, 0x20))
        self.assertIs(session.codec, CMPP20)

    async def test_version_40_refused(self) -> None:
        """A CONNECT with Version 0x40 is refused with Status 4 in a 3.0 answer."""
        client = await self.raw()
        client.send_pdu(Cmpp3Wire().login_request(RAW_ID, RAW_SECRET, version=0x40), 1)
        header, resp = await client.response()
        self.assertEqual((header.length, resp.status), (33, 4))
        await within(peek(client.closed))
        self.assertEqual(self.sim.stats()["accounts"][RAW_ID]["sessions"], 0)

    async def test_version_40_client_session(self) -> None:
        """The client login function raises LoginFailed with status 4 for Version 0x40."""
        session = await self.client_session()
        with self.assertRaises(CmppLoginFailed) as caught:
            await within(
                cmpp_login(
                    session, RAW_ID.encode(), RAW_SECRET.encode(), version=0x40, status_width=4
                )
            )
        self.assertEqual(caught.exception.status, 4)

    async def test_30_answer(self) -> None:
        """A 3.0 CONNECT gets the 33-byte 3.0 CONNECT_RESP with Version 0x30."""
        client = await self.raw()
        client.send_pdu(Cmpp3Wire().login_request(RAW_ID, RAW_SECRET), 1)
        header, resp = await client.response()
        self.assertEqual((header.length, resp.status, resp.version), (33, 0, 0x30))

    async def test_active_test_answered(self) -> None:
        """ACTIVE_TEST on a logged-in 3.0 link is answered."""
        session = await self.client_session()
        await within(self.wire.login(session, RAW_ID, RAW_SECRET))
        resp = await within(session.send(cp.ActiveTest()))
        self.assertIsInstance(resp, cp.ActiveTestResp)
