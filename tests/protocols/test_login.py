"""The engine's login phase, for every protocol, in both roles.

Server side: the simulator's real faces (CMPP 2.0, CMPP 3.0, SGIP, SMGP),
whose authenticators the engine calls; client side: each protocol's login
function on :meth:`Session.log_in`.  Both ends run on one ``Clock`` over
``twisted.test.iosim``.  Each protocol is checked for an accepted login, a
refused one (wrong secret, an address not allowed, too many connections,
each with the protocol's own status), and a login that never comes or is
never answered.
"""

from __future__ import annotations

from typing import Any, ClassVar

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.test.iosim import IOPump, connectedServerAndClient
from twisted.trial.unittest import SynchronousTestCase

from smsgw.ismg.simulator import Account, Simulator
from smsgw.protocols.cmpp import session as cmpp
from smsgw.protocols.cmpp.codec30 import CMPP30
from smsgw.protocols.cmpp.constants import ConnectStatus
from smsgw.protocols.cmpp.face import cmpp3_factory, cmpp_factory
from smsgw.protocols.legality import Responder
from smsgw.protocols.session import (
    LoginRefused,
    LoginResult,
    Role,
    Session,
    SessionConfig,
    SessionFactory,
    State,
)
from smsgw.protocols.sgip import session as sgip
from smsgw.protocols.sgip.constants import LoginType
from smsgw.protocols.sgip.constants import Result as SgipResult
from smsgw.protocols.sgip.face import sgip_factory
from smsgw.protocols.smgp import session as smgp
from smsgw.protocols.smgp.constants import LoginMode
from smsgw.protocols.smgp.constants import Status as SmgpStatus
from smsgw.protocols.smgp.face import smgp_factory

ACCOUNT, SECRET = "901234", "123456"
#: 2024-03-05 06:07:08 UTC.
NOW = 1709618828.0


class _Client(Responder):
    """The client end: logs in from the test, serves nothing."""

    def session_started(self, session: Session) -> None:
        pass

    def session_ended(self, session: Session, reason: Failure) -> None:
        pass


class _Silent(_Client):
    """A server end that never decides a login."""

    role = Role.SERVER

    def authenticate(self, session: Session, pdu: Any) -> Deferred[LoginResult]:
        return Deferred()


class _Protocol:
    """One protocol: its simulator face, its client end, its statuses."""

    name: ClassVar[str]
    #: The login response's status for a wrong secret, an IP not allowed, too many links.
    bad_secret: ClassVar[int]
    bad_address: ClassVar[int]
    too_many: ClassVar[int]

    def factory(self, sim: Simulator) -> SessionFactory:
        raise NotImplementedError

    def client(self, clock: Clock) -> Session:
        raise NotImplementedError

    def log_in(self, session: Session, secret: str = SECRET) -> Deferred[Any]:
        raise NotImplementedError

    def status(self, response: Any) -> int:
        return int(getattr(response, "status", getattr(response, "result", -1)))


class _Cmpp2(_Protocol):
    name = "cmpp2"
    bad_secret = ConnectStatus.AUTH_ERROR
    bad_address = ConnectStatus.BAD_SOURCE_ADDR
    too_many = ConnectStatus.OTHER

    def factory(self, sim: Simulator) -> SessionFactory:
        return cmpp_factory(sim)

    def client(self, clock: Clock) -> Session:
        return Session(cmpp.CmppAdapter(), _Client(), SessionConfig(), clock)

    def log_in(self, session: Session, secret: str = SECRET) -> Deferred[Any]:
        return cmpp.login(session, ACCOUNT.encode(), secret.encode())


class _Cmpp3(_Cmpp2):
    name = "cmpp3"

    def factory(self, sim: Simulator) -> SessionFactory:
        return cmpp3_factory(sim)

    def client(self, clock: Clock) -> Session:
        return Session(cmpp.CmppAdapter(CMPP30), _Client(), SessionConfig(), clock)

    def log_in(self, session: Session, secret: str = SECRET) -> Deferred[Any]:
        return cmpp.login(session, ACCOUNT.encode(), secret.encode(), version=0x30, status_width=4)


class _Sgip(_Protocol):
    name = "sgip"
    bad_secret = SgipResult.ILLEGAL_LOGIN
    bad_address = SgipResult.ILLEGAL_LOGIN
    #: sgip12.md §9: 3, "too many connections", not 1 ("illegal login").
    too_many = SgipResult.TOO_MANY_CONNECTIONS

    def factory(self, sim: Simulator) -> SessionFactory:
        return sgip_factory(sim)  # type: ignore[no-any-return]

    def client(self, clock: Clock) -> Session:
        adapter = sgip.SgipAdapter(3075512345, clock)
        return Session(adapter, _Client(), sgip.sgip_session_config(), clock)

    def log_in(self, session: Session, secret: str = SECRET) -> Deferred[Any]:
        return sgip.bind(session, LoginType.SP_TO_SMG, ACCOUNT, secret)


class _Smgp(_Protocol):
    name = "smgp"
    bad_secret = SmgpStatus.AUTH_ERROR
    bad_address = SmgpStatus.IP_ADDRESS_ERROR
    too_many = SmgpStatus.TOO_MANY_CONNECTIONS

    def factory(self, sim: Simulator) -> SessionFactory:
        return smgp_factory(sim)

    def client(self, clock: Clock) -> Session:
        return Session(smgp.SmgpAdapter(), _Client(), SessionConfig(), clock)

    def log_in(self, session: Session, secret: str = SECRET) -> Deferred[Any]:
        return smgp.login(session, ACCOUNT.encode(), secret.encode(), LoginMode.RECEIVE)


PROTOCOLS: list[_Protocol] = [_Cmpp2(), _Cmpp3(), _Sgip(), _Smgp()]


class _LoginCase(SynchronousTestCase):
    """A simulator and helpers to connect clients to it."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(NOW)
        self.account = Account(ACCOUNT, SECRET.encode(), max_sessions=1)
        self.sim = Simulator(self.clock, [self.account])

    def connect(
        self, proto: _Protocol, server: SessionFactory | None = None
    ) -> tuple[Session, Session, IOPump]:
        factory = proto.factory(self.sim)
        client, srv, pump = connectedServerAndClient(
            lambda: (server or factory).buildProtocol(None),
            lambda: proto.client(self.clock),
            clock=self.clock,
        )
        return client, srv, pump

    def log_in(self, proto: _Protocol, secret: str = SECRET) -> tuple[Deferred[Any], Session]:
        client, server, pump = self.connect(proto)
        d = proto.log_in(client, secret)
        pump.flush()
        return d, server

    def refused(self, proto: _Protocol, d: Deferred[Any], server: Session, status: int) -> None:
        failure = self.failureResultOf(d, LoginRefused)
        self.assertEqual(failure.value.status, status, proto.name)
        self.assertIs(server.state, State.CLOSED, proto.name)
        self.assertFalse(server.bound)


class ServerLoginTests(_LoginCase):
    """The engine answers what the face's authenticator decides."""

    def test_accepted(self) -> None:
        """The right secret binds both ends, with the account as identity."""
        for proto in PROTOCOLS:
            self.setUp()
            d, server = self.log_in(proto)
            self.assertEqual(proto.status(self.successResultOf(d)), 0, proto.name)
            self.assertTrue(server.bound, proto.name)
            self.assertEqual(server.account, ACCOUNT)
            self.assertEqual(self.account.sessions, [server])

    def test_wrong_secret(self) -> None:
        """A wrong secret gets the protocol's status and the link closes."""
        for proto in PROTOCOLS:
            self.setUp()
            d, server = self.log_in(proto, secret="wrong")
            self.refused(proto, d, server, proto.bad_secret)

    def test_address_not_allowed(self) -> None:
        """A login from an address the account does not allow gets the protocol's status."""
        for proto in PROTOCOLS:
            self.setUp()
            self.account.allowed_ips = ("10.255.255.0/24",)
            d, server = self.log_in(proto)
            self.refused(proto, d, server, proto.bad_address)

    def test_too_many_connections(self) -> None:
        """A login over the account's session limit gets the protocol's "too many" status."""
        for proto in PROTOCOLS:
            self.setUp()
            first, _ = self.log_in(proto)
            self.successResultOf(first)
            d, server = self.log_in(proto)
            self.refused(proto, d, server, proto.too_many)

    def test_sgip_too_many_is_not_illegal_login(self) -> None:
        """SGIP tells "too many connections" (3) from a bad login (1) (sgip12.md §9)."""
        proto = _Sgip()
        self.successResultOf(self.log_in(proto)[0])
        d, _ = self.log_in(proto)
        failure = self.failureResultOf(d, LoginRefused)
        self.assertEqual(failure.value.status, 3)
        self.assertNotEqual(failure.value.status, SgipResult.ILLEGAL_LOGIN)
        self.assertIn("too many connections", str(failure.value))

    def test_no_login(self) -> None:
        """A client that never logs in is dropped after login_timeout_s."""
        for proto in PROTOCOLS:
            self.setUp()
            client, server, pump = self.connect(proto)
            self.clock.advance(server.config.login_timeout_s - 1)
            pump.flush()
            self.assertIs(server.state, State.AUTHENTICATING, proto.name)
            self.clock.advance(1)
            pump.flush()
            self.assertIs(server.state, State.CLOSED, proto.name)
            self.assertIs(client.state, State.CLOSED, proto.name)

    def test_response_before_pushes(self) -> None:
        """Reports waiting for the account go out only after the login response.

        A peer that is not logged in yet drops a link that sends it a
        DELIVER, so the face's ``logged_in`` runs once the response is written.
        """
        for proto in PROTOCOLS:
            if proto.name == "sgip":
                continue  # SGIP reports go over the SMG's own link to the SP.
            self.setUp()
            face = self.sim.faces.get(proto.name) or proto.factory(self.sim).handler
            [mo] = face.mo_pdus(self.account, "13800138000", "10690001", _segments())  # type: ignore[union-attr]
            self.sim.deliver(self.account, face, mo)  # type: ignore[arg-type]
            client, _, pump = self.connect(proto)
            received: list[type] = []
            original = client.handler.handle_request

            def spy(
                session: Session,
                header: Any,
                pdu: Any,
                original: Any = original,
                received: list[type] = received,
            ) -> Any:
                received.append(type(pdu))
                return original(session, header, pdu)

            client.handler.handle_request = spy  # type: ignore[method-assign]
            d = proto.log_in(client)
            pump.flush()
            self.successResultOf(d)
            self.assertEqual([cls.__name__ for cls in received], ["Deliver"], proto.name)
            self.assertTrue(client.bound)


class ClientLoginTests(_LoginCase):
    """The engine's client half: log_in and the one LoginRefused."""

    def test_refused_closes(self) -> None:
        """A refusal fails with LoginRefused carrying the status and its meaning."""
        for proto in PROTOCOLS:
            self.setUp()
            client, _, pump = self.connect(proto)
            d = proto.log_in(client, "wrong")
            pump.flush()
            failure = self.failureResultOf(d, LoginRefused)
            self.assertEqual(failure.value.result, proto.bad_secret)
            meaning = client.adapter.login_status_text(proto.bad_secret)
            self.assertIn(meaning, str(failure.value))
            self.assertIs(client.state, State.CLOSED)

    def test_unanswered(self) -> None:
        """A login never answered fails once login_timeout_s closes the link."""
        for proto in PROTOCOLS:
            self.setUp()
            silent = proto.factory(self.sim)
            silent.handler = _Silent()
            client, server, pump = self.connect(proto, silent)
            d = proto.log_in(client)
            pump.flush()
            self.assertNoResult(d)
            self.clock.advance(client.config.login_timeout_s)
            pump.flush()
            self.failureResultOf(d)
            self.assertIs(client.state, State.CLOSED, proto.name)
            self.assertIs(server.state, State.CLOSED, proto.name)

    def test_one_error_class(self) -> None:
        """The protocols' login error names are the engine's one class."""
        self.assertIs(cmpp.LoginFailed, LoginRefused)
        self.assertIs(sgip.BindFailed, LoginRefused)
        self.assertIs(smgp.LoginFailed, LoginRefused)

    def test_accept_sets_mode(self) -> None:
        """An SMGP login's LoginMode is the bound link's mode on both ends."""
        client, server, pump = self.connect(_Smgp())
        d = _Smgp().log_in(client)
        pump.flush()
        self.successResultOf(d)
        self.assertEqual((client.mode, server.mode), (LoginMode.RECEIVE, LoginMode.RECEIVE))


def _segments() -> list[Any]:
    from smsgw.text import split_text
    from smsgw.text.encoding import MsgFmt

    return split_text("hi", MsgFmt.ASCII, 0)
