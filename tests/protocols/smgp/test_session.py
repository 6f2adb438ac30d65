"""Tests for :mod:`smsgw.protocols.smgp.session`: the adapter and Login on the real engine.

An SP :class:`Session` talks to an SMGW :class:`Session` over
``twisted.test.iosim``; a raw recording protocol stands in for the SP where
the test needs to send bytes the engine never would.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.protocol import Protocol
from twisted.internet.task import Clock
from twisted.logger import LogEvent, globalLogPublisher
from twisted.python.failure import Failure
from twisted.test.iosim import IOPump, connectedServerAndClient
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.codec import Header
from smsgw.protocols.errors import DecodeError, UnknownCommandError
from smsgw.protocols.framing import Framer
from smsgw.protocols.session import LoginResult, Role, Session, SessionConfig, State
from smsgw.protocols.smgp import codec as c
from smsgw.protocols.smgp import pdus as p
from smsgw.protocols.smgp.constants import VERSION_13, VERSION_30, LoginMode, RequestId, Status
from smsgw.protocols.smgp.session import (
    LoginCheck,
    LoginFailed,
    SmgpAdapter,
    authenticator_client,
    authenticator_server,
    check_login,
    login,
    use_codec,
)

SECRETS = {"10001234": b"pass1234"}
MSG_ID = bytes.fromhex("01006101161700012345")
#: §6.1's worked example: a Login that any clock accepts.
GOLDEN_LOGIN = bytes.fromhex(
    "0000002a 00000001 00000001 3130303031323334 dc332a41a78d64f11e89965ffd2a06fa 02 11f0e540 30"
)


class Smgw:
    """A minimal SMGW role: Login with :func:`check_login`, Submit accepted."""

    role = Role.SERVER

    def __init__(self, server_version: int = VERSION_30, bad_digest: bool = False) -> None:
        self.server_version = server_version
        self.bad_digest = bad_digest
        self.checks: list[LoginCheck] = []
        self.submits: list[p.Submit] = []
        self.ended: list[Failure] = []

    def session_started(self, session: Session) -> None:
        pass

    def authenticate(self, session: Session, pdu: p.Login) -> LoginResult:
        check = check_login(pdu, SECRETS, server_version=self.server_version)
        self.checks.append(check)
        if check.status == 0:
            use_codec(session, c.codec_for_version(check.version))
            if self.bad_digest:
                check.response.authenticator_server = bytes(16)
        return check.login_result(pdu.login_mode)

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        if type(pdu) is p.Submit:
            self.submits.append(pdu)
            return p.SubmitResp(MSG_ID, Status.OK)
        return None

    def session_ended(self, session: Session, reason: Failure) -> None:
        self.ended.append(reason)


class Sp:
    """The SP role: everything happens through :func:`login` and ``send``."""

    def session_started(self, session: Session) -> None:
        pass

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        return None

    def session_ended(self, session: Session, reason: Failure) -> None:
        pass


class RawPeer(Protocol):
    """Writes whatever it is told to and records the frames it receives."""

    def __init__(self) -> None:
        self.framer = Framer()
        self.frames: list[bytes] = []
        self.lost = False

    def dataReceived(self, data: bytes) -> None:
        self.frames.extend(self.framer.feed(data))

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.lost = True

    def received(self) -> list[tuple[Header, Any]]:
        return [c.decode(f) for f in self.frames]


def _frame(request_id: int, body: bytes, seq: int) -> bytes:
    return (12 + len(body)).to_bytes(4, "big") + request_id.to_bytes(4, "big") + \
        seq.to_bytes(4, "big") + body  # fmt: skip


class _Link(SynchronousTestCase):
    config = SessionConfig()

    def setUp(self) -> None:
        self.clock = Clock()
        self.smgw = Smgw()

    def connect_sp(self) -> tuple[Session, Session, IOPump]:
        return connectedServerAndClient(
            lambda: Session(SmgpAdapter(), self.smgw, self.config, self.clock),
            lambda: Session(SmgpAdapter(), Sp(), self.config, self.clock),
            clock=self.clock,
        )

    def connect_raw(self) -> tuple[RawPeer, Session, IOPump]:
        return connectedServerAndClient(
            lambda: Session(SmgpAdapter(), self.smgw, self.config, self.clock),
            RawPeer,
            clock=self.clock,
        )

    def logged_in(self) -> tuple[Session, Session, IOPump]:
        client, server, pump = self.connect_sp()
        d = login(client, b"10001234", b"pass1234")
        pump.flush()
        self.successResultOf(d)
        return client, server, pump


class LoginTests(_Link):
    """Login between the SP and SMGW sessions."""

    def test_ok(self) -> None:
        """The right secret binds both ends; the SMGW's digest checks out."""
        client, server, pump = self.connect_sp()
        d = login(client, b"10001234", b"pass1234", LoginMode.SEND)
        pump.flush()
        resp = self.successResultOf(d)
        self.assertEqual((resp.status, resp.server_version), (0, VERSION_30))
        self.assertTrue(client.bound)
        self.assertTrue(server.bound)
        self.assertEqual((client.account, server.account), ("10001234", "10001234"))
        self.assertEqual(client.adapter.login_mode, LoginMode.SEND)  # type: ignore[attr-defined]
        (check,) = self.smgw.checks
        sent = authenticator_client(b"10001234", b"pass1234", 101080000)  # 1970-01-01 08:00
        self.assertEqual(resp.authenticator_server, authenticator_server(0, sent, b"pass1234"))
        self.assertEqual(check.response, resp)

    def test_wrong_secret(self) -> None:
        """A wrong secret is refused with status 21 and the link closes."""
        client, server, pump = self.connect_sp()
        d = login(client, b"10001234", b"wrong")
        pump.flush()
        failure = self.failureResultOf(d, LoginFailed)
        self.assertEqual(failure.value.status, Status.AUTH_ERROR)
        self.assertIn("auth error", str(failure.value))
        self.assertIs(client.state, State.CLOSED)
        self.assertIs(server.state, State.CLOSED)
        self.assertEqual(self.smgw.checks[0].response.authenticator_server, bytes(16))

    def test_unknown_client(self) -> None:
        """An unknown ClientID is refused with status 21 too."""
        client, server, pump = self.connect_sp()
        d = login(client, b"99999999", b"pass1234")
        pump.flush()
        self.assertEqual(self.failureResultOf(d, LoginFailed).value.status, Status.AUTH_ERROR)
        self.assertIsNone(self.smgw.checks[0].account)
        self.assertIs(server.state, State.CLOSED)

    def test_bad_server_digest(self) -> None:
        """A wrong AuthenticatorServer is logged, not fatal."""
        self.smgw = Smgw(bad_digest=True)
        events: list[LogEvent] = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        client, _, pump = self.connect_sp()
        d = login(client, b"10001234", b"pass1234")
        pump.flush()
        self.assertEqual(self.successResultOf(d).status, 0)
        self.assertTrue(client.bound)
        self.assertTrue(any("AuthenticatorServer" in e.get("log_format", "") for e in events))

    def test_smgp13_server(self) -> None:
        """A 1.3 SMGW switches both ends to the Submit without FixedFee."""
        self.smgw = Smgw(server_version=VERSION_13)
        client, server, pump = self.connect_sp()
        d = login(client, b"10001234", b"pass1234")
        pump.flush()
        self.successResultOf(d)
        self.assertIs(client.codec, c.SMGP13)
        self.assertIs(server.codec, c.SMGP13)
        submit = p.Submit(dest_term_ids=(b"13300000000",), msg_content=b"hi")
        sent = client.send(submit)
        pump.flush()
        self.assertEqual(self.successResultOf(sent).status, 0)
        self.assertEqual(self.smgw.submits, [submit])

    def test_smgp13_client(self) -> None:
        """A client offering 0x13 speaks 1.3 with a 3.0 SMGW, and the Submit gets through."""
        client, server, pump = self.connect_sp()
        d = login(client, b"10001234", b"pass1234", version=VERSION_13)
        pump.flush()
        self.successResultOf(d)
        self.assertIs(client.codec, c.SMGP13)
        self.assertIs(server.codec, c.SMGP13)
        submit = p.Submit(fee_code=b"5", dest_term_ids=(b"13300000000",), msg_content=b"hi")
        sent = client.send(submit)
        pump.flush()
        self.assertEqual(self.successResultOf(sent).msg_id, MSG_ID)
        self.assertEqual(self.smgw.submits, [submit])

    def test_golden_login_bytes(self) -> None:
        """The §6.1 Login bytes get the §6.1 Login_Resp bytes back."""
        raw, server, pump = self.connect_raw()
        raw.transport.write(GOLDEN_LOGIN)
        pump.flush()
        self.assertEqual(
            raw.frames,
            [bytes.fromhex("00000021 80000001 00000001 00000000") +
             bytes.fromhex("f0e17f11892ac5004c745d14944e708c 30")],
        )  # fmt: skip
        self.assertTrue(server.bound)


class CheckLoginTests(SynchronousTestCase):
    """check_login on its own."""

    def login(self, **kw: Any) -> p.Login:
        values: dict[str, Any] = {
            "client_id": b"10001234",
            "timestamp": 1010000,
            "login_mode": 2,
            "client_version": VERSION_30,
        }
        values.update(kw)
        values.setdefault(
            "authenticator_client",
            authenticator_client(values["client_id"], b"pass1234", values["timestamp"]),
        )
        return p.Login(**values)

    def test_modes(self) -> None:
        """LoginMode 0, 1 and 2 are accepted; 3 is a structure error (10)."""
        for mode in LoginMode:
            self.assertEqual(check_login(self.login(login_mode=mode), SECRETS).status, 0)
        check = check_login(self.login(login_mode=3), SECRETS)
        self.assertEqual((check.status, check.account), (Status.STRUCTURE_ERROR, None))

    def test_versions(self) -> None:
        """A higher version speaks ours; one below 1.3 gets 22."""
        check = check_login(self.login(client_version=0x31), SECRETS)
        self.assertEqual((check.status, check.version), (0, VERSION_30))
        self.assertEqual(check.response.server_version, VERSION_30)
        check = check_login(self.login(client_version=VERSION_13), SECRETS)
        self.assertEqual((check.status, check.version), (0, VERSION_13))
        check = check_login(self.login(client_version=0x12), SECRETS)
        self.assertEqual(check.status, Status.VERSION_TOO_HIGH)

    def test_tuple(self) -> None:
        """The result unpacks as (status, response, account, version)."""
        status, response, account, version = check_login(self.login(), SECRETS)
        self.assertEqual((status, account, version), (0, "10001234", VERSION_30))
        self.assertIsInstance(response, p.LoginResp)


class AdapterTests(_Link):
    """Active_Test, Exit and bad frames through the engine."""

    def test_active_test(self) -> None:
        """Active_Test is answered with Active_Test_Resp."""
        client, _, pump = self.logged_in()
        d = client.send(p.ActiveTest())
        pump.flush()
        self.assertIsInstance(self.successResultOf(d), p.ActiveTestResp)

    def test_keepalive(self) -> None:
        """After C = 180 idle seconds each end sends Active_Test and the other answers."""
        client, server, pump = self.logged_in()
        before = (client.frames_received, server.frames_received)
        self.clock.advance(180)
        pump.flush()
        # Each end got the other's Active_Test and the answer to its own.
        self.assertEqual((client.frames_received, server.frames_received),
                         (before[0] + 2, before[1] + 2))  # fmt: skip
        self.assertEqual((client.dispatcher.in_flight, server.dispatcher.in_flight), (0, 0))
        self.assertTrue(client.bound and server.bound)

    def test_raw_active_test(self) -> None:
        """A 12-byte Active_Test gets a 12-byte Active_Test_Resp with its sequence."""
        raw, _, pump = self.connect_raw()
        raw.transport.write(_frame(RequestId.ACTIVE_TEST, b"", 0xFFFFFFFF))
        pump.flush()
        self.assertEqual(raw.frames, [_frame(RequestId.ACTIVE_TEST_RESP, b"", 0xFFFFFFFF)])

    def test_exit(self) -> None:
        """Exit is answered with Exit_Resp and the link closes."""
        client, server, pump = self.logged_in()
        d = client.send(p.Exit())
        pump.flush()
        self.assertIsInstance(self.successResultOf(d), p.ExitResp)
        self.assertIs(server.state, State.CLOSED)
        self.assertIs(client.state, State.CLOSED)

    def test_terminate(self) -> None:
        """Session.terminate sends Exit and closes once it is answered."""
        client, server, pump = self.logged_in()
        d = client.terminate()
        pump.flush()
        self.successResultOf(d)
        self.assertIs(server.state, State.CLOSED)

    def test_truncated_submit(self) -> None:
        """A Submit cut short is answered with Submit_Resp status 10; the link stays."""
        raw, server, pump = self.connect_raw()
        raw.transport.write(GOLDEN_LOGIN)
        body = c.encode(p.Submit(dest_term_ids=(b"13300000000",)), 1)[12:80]
        raw.transport.write(_frame(RequestId.SUBMIT, body, 77))
        pump.flush()
        (_, (header, resp)) = raw.received()
        self.assertEqual(header, (26, RequestId.SUBMIT_RESP, 77))
        self.assertEqual(resp, p.SubmitResp(status=Status.STRUCTURE_ERROR))
        self.assertTrue(server.bound)
        self.assertFalse(raw.lost)

    def test_bad_tlv_deliver(self) -> None:
        """A Deliver whose TLV overruns is answered with Deliver_Resp status 10."""
        raw, _, pump = self.connect_raw()
        body = c.encode(p.Deliver(), 1)[12:] + bytes.fromhex("000300140061")
        raw.transport.write(_frame(RequestId.DELIVER, body, 5))
        pump.flush()
        ((header, resp),) = raw.received()
        self.assertEqual(header.sequence_id, 5)
        self.assertEqual(resp, p.DeliverResp(status=Status.STRUCTURE_ERROR))

    def test_length_three(self) -> None:
        """A PacketLength of 3 closes the link."""
        raw, server, pump = self.connect_raw()
        raw.transport.write(b"\x00\x00\x00\x03" + bytes(8))
        pump.flush()
        self.assertTrue(raw.lost)
        self.assertIs(server.state, State.CLOSED)
        self.assertEqual(raw.frames, [])

    def test_too_long(self) -> None:
        """A PacketLength above 4096 closes the link."""
        raw, server, pump = self.connect_raw()
        raw.transport.write(b"\x00\x00\x10\x01" + bytes(8))
        pump.flush()
        self.assertIs(server.state, State.CLOSED)

    def test_billing_command(self) -> None:
        """Payment_Request (0x0A, no body in 3.0.3) has no answer shape: the link closes."""
        raw, server, pump = self.connect_raw()
        raw.transport.write(_frame(RequestId.PAYMENT_REQUEST, b"x" * 10, 3))
        pump.flush()
        self.assertIs(server.state, State.CLOSED)
        self.assertEqual(raw.frames, [])


class AdapterUnitTests(SynchronousTestCase):
    """SmgpAdapter without a link."""

    def test_sequence_wraps(self) -> None:
        """SequenceIDs count up from 1 and wrap from 0xFFFFFFFF to 0."""
        adapter = SmgpAdapter()
        self.assertEqual([adapter.next_sequence() for _ in range(2)], [1, 2])
        adapter = SmgpAdapter(first_sequence=0xFFFFFFFF)
        self.assertEqual([adapter.next_sequence() for _ in range(2)], [0xFFFFFFFF, 0])

    def test_pdus(self) -> None:
        """Keepalive is Active_Test, terminate is Exit, with their responses."""
        adapter = SmgpAdapter()
        self.assertEqual(adapter.keepalive(), p.ActiveTest())
        self.assertTrue(adapter.is_keepalive(p.ActiveTest()))
        self.assertFalse(adapter.is_keepalive(p.ActiveTestResp()))
        self.assertEqual(adapter.keepalive_response(p.ActiveTest()), p.ActiveTestResp())
        self.assertEqual(adapter.terminate(), p.Exit())
        self.assertTrue(adapter.is_terminate(p.Exit()))
        self.assertEqual(adapter.terminate_response(), p.ExitResp())

    def test_error_responses(self) -> None:
        """Requests with a Status in their response get it; others close."""
        adapter = SmgpAdapter()
        for request_id, cls in (
            (RequestId.LOGIN, p.LoginResp),
            (RequestId.SUBMIT, p.SubmitResp),
            (RequestId.DELIVER, p.DeliverResp),
            (RequestId.FORWARD, p.ForwardResp),
            (RequestId.QUERY_TE_ROUTE, p.QueryTeRouteResp),
            (RequestId.QUERY_SP_ROUTE, p.QuerySpRouteResp),
            (RequestId.GET_ALL_TE_ROUTE, p.GetAllTeRouteResp),
            (RequestId.GET_ALL_SP_ROUTE, p.GetAllSpRouteResp),
            (RequestId.UPDATE_TE_ROUTE, p.UpdateTeRouteResp),
            (RequestId.UPDATE_SP_ROUTE, p.UpdateSpRouteResp),
            (RequestId.PUSH_UPDATE_TE_ROUTE, p.PushUpdateTeRouteResp),
            (RequestId.PUSH_UPDATE_SP_ROUTE, p.PushUpdateSpRouteResp),
        ):
            resp = adapter.error_response(DecodeError("x", status=10, command_id=request_id))
            self.assertIsInstance(resp, cls)
            self.assertEqual(resp.status, 10)  # type: ignore[union-attr]
        self.assertIsNone(adapter.error_response(DecodeError("x", command_id=RequestId.QUERY)))
        unknown = UnknownCommandError("x", status=11, command_id=0x0A)
        self.assertIsNone(adapter.error_response(unknown))
