"""CMPP login, client against server, in memory (:mod:`smsgw.protocols.cmpp.session`).

Both ends are real :class:`Session` objects with a :class:`CmppAdapter`,
joined by ``twisted.test.iosim``: the client calls :func:`login`, the
server answers with a tiny handler built on :func:`check_connect`.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.test.iosim import connectedServerAndClient
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.auth import authenticator_ismg, authenticator_source, connect_timestamp
from smsgw.protocols.cmpp.constants import ConnectStatus
from smsgw.protocols.cmpp.session import (
    CmppAdapter,
    ConnectCheck,
    LoginFailed,
    check_connect,
    login,
)
from smsgw.protocols.codec import Header
from smsgw.protocols.session import LoginResult, Role, Session, SessionConfig, State

SP_ID = b"901234"
SECRET = b"s3cret"
#: 2024-03-05 06:07:08 UTC, 14:07:08 in Beijing.
NOW = 1709618828.0


class _Ismg:
    """The server side of CONNECT: check it; the engine answers, binds or refuses."""

    role = Role.SERVER

    def __init__(self, secrets: dict[str, bytes]) -> None:
        self.secrets = secrets
        self.connects: list[p.Connect] = []
        self.checks: list[ConnectCheck] = []

    def session_started(self, session: Session) -> None:
        pass

    def authenticate(self, session: Session, pdu: p.Connect) -> LoginResult:
        self.connects.append(pdu)
        check = check_connect(pdu, self.secrets)
        self.checks.append(check)
        return check.login_result()

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        return None

    def session_ended(self, session: Session, reason: Failure) -> None:
        pass


class _Sp:
    """The client side: logs in from the test, handles nothing else."""

    def session_started(self, session: Session) -> None:
        pass

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        return None

    def session_ended(self, session: Session, reason: Failure) -> None:
        pass


class LoginTests(SynchronousTestCase):
    """login() against check_connect(), over an in-memory connection."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(NOW)
        self.ismg = _Ismg({SP_ID.decode(): SECRET})
        config = SessionConfig()
        self.client, self.server, self.pump = connectedServerAndClient(
            lambda: Session(CmppAdapter(), self.ismg, config, self.clock),
            lambda: Session(CmppAdapter(), _Sp(), config, self.clock),
            clock=self.clock,
        )

    def _login(self, sp_id: bytes = SP_ID, secret: bytes = SECRET, **kwargs: Any) -> Any:
        d = login(self.client, sp_id, secret, **kwargs)
        self.pump.flush()
        return d

    def _assert_refused(self, d: Any, status: int) -> None:
        failure = self.failureResultOf(d, LoginFailed)
        self.assertEqual(failure.value.status, status)
        self.assertEqual(self.ismg.checks[-1].status, status)
        self.assertIs(self.client.state, State.CLOSED)
        self.assertIs(self.server.state, State.CLOSED)

    def test_ok(self) -> None:
        """The right secret binds both ends and the client gets status 0."""
        resp = self.successResultOf(self._login())
        self.assertEqual(resp.status, 0)
        self.assertTrue(self.client.bound)
        self.assertTrue(self.server.bound)
        self.assertEqual(self.server.account, "901234")
        self.assertEqual(self.client.account, "901234")

    def test_authenticator_ismg(self) -> None:
        """The answer's AuthenticatorISMG is MD5(0, AuthenticatorSource, secret)."""
        resp = self.successResultOf(self._login())
        [connect] = self.ismg.connects
        self.assertEqual(connect.timestamp, connect_timestamp(NOW))
        self.assertEqual(connect.timestamp, 305140708)
        self.assertEqual(
            connect.authenticator_source,
            authenticator_source(SP_ID, SECRET, connect.timestamp),
        )
        self.assertEqual(
            resp.authenticator_ismg,
            authenticator_ismg(0, connect.authenticator_source, SECRET),
        )

    def test_wrong_secret(self) -> None:
        """A wrong secret fails with LoginFailed status 3 and the connection closes."""
        d = self._login(secret=b"wrong")
        self._assert_refused(d, ConnectStatus.AUTH_ERROR)
        self.assertFalse(self.server.bound)

    def test_unknown_sp(self) -> None:
        """An unknown Source_Addr fails with status 2."""
        self._assert_refused(self._login(sp_id=b"999999"), ConnectStatus.BAD_SOURCE_ADDR)

    def test_version_too_high(self) -> None:
        """Version 0x30 against a 2.0 server fails with status 4."""
        self._assert_refused(self._login(version=0x30), ConnectStatus.VERSION_TOO_HIGH)

    def test_version_too_low(self) -> None:
        """A version below 2.0 fails with status 5."""
        self._assert_refused(self._login(version=0x12), ConnectStatus.OTHER)

    def test_version_21(self) -> None:
        """Version 0x21 is accepted and answered with 0x20."""
        resp = self.successResultOf(self._login(version=0x21))
        self.assertEqual(self.ismg.connects[0].version, 0x21)
        self.assertEqual((resp.status, resp.version), (0, 0x20))
        self.assertTrue(self.client.bound)

    def test_refused_answer_has_no_authenticator(self) -> None:
        """A refused CONNECT is answered with 16 zero bytes of AuthenticatorISMG."""
        self._assert_refused(self._login(secret=b"wrong"), ConnectStatus.AUTH_ERROR)
        self.assertEqual(self.ismg.checks[0].response.authenticator_ismg, b"\x00" * 16)

    def test_keepalive_between_bound_ends(self) -> None:
        """Once bound, the client's ACTIVE_TEST is answered and the link stays."""
        self.successResultOf(self._login())
        self.clock.advance(SessionConfig().keepalive_s or 0)
        self.assertEqual(self.client.dispatcher.in_flight, 1)
        self.pump.flush()
        self.assertEqual(self.client.dispatcher.in_flight, 0)
        self.assertTrue(self.client.bound)

    def test_terminate_both_ends(self) -> None:
        """terminate() on a bound client closes both ends in order."""
        self.successResultOf(self._login())
        closed = self.client.terminate()
        self.pump.flush()
        self.successResultOf(closed)
        self.assertIs(self.server.state, State.CLOSED)

    def test_terminate_at_once(self) -> None:
        """Both ends calling terminate() together close at once, not after N×T."""
        self.successResultOf(self._login())
        client_closed = self.client.terminate()
        server_closed = self.server.terminate()
        self.pump.flush()
        self.successResultOf(client_closed)
        self.successResultOf(server_closed)
        self.assertEqual(self.clock.getDelayedCalls(), [])
