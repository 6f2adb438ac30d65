"""Tests for :mod:`smsgw.protocols.sgip.session`: the adapter, Bind, Unbind and timers.

Client against server over ``twisted.test.iosim`` with the real
:class:`~smsgw.protocols.session.Session` on both ends: the SP's MT link
(Login Type 1) to a small SMG role written here.
"""

from __future__ import annotations

import hmac
import struct
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.test.iosim import IOPump, connectedServerAndClient
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.codec import Header
from smsgw.protocols.errors import DecodeError, EncodeError, TruncatedError, UnknownCommandError
from smsgw.protocols.session import Adapter, LoginResult, Role, Session, SessionConfig, State
from smsgw.protocols.sgip import pdus as p
from smsgw.protocols.sgip.codec import SGIP12, decode, encode
from smsgw.protocols.sgip.constants import RESPONSE_BIT, CommandId, LoginType, Result
from smsgw.protocols.sgip.session import (
    BindFailed,
    SgipAdapter,
    bind,
    check_bind,
    sgip_session_config,
)

SP_NODE = 3075512345
SMG_NODE = 107551
#: 2023-11-20 20:32:25 in Beijing.
NOV_20_203225 = 1700483545
ACCOUNTS = {"spuser": "sppass", "other": "pw2"}


class SmgRole:
    """A minimal SMG: checks Bind, accepts Submit, records what it saw."""

    role = Role.SERVER

    def __init__(self, allowed: tuple[int, ...] = (LoginType.SP_TO_SMG,)) -> None:
        self.allowed = allowed
        self.binds: list[p.Bind] = []
        self.requests: list[tuple[Header, Any]] = []
        self.ended: list[Failure] = []

    def session_started(self, session: Session) -> None:
        pass

    def authenticate(self, session: Session, pdu: p.Bind) -> LoginResult:
        self.binds.append(pdu)
        return check_bind(pdu, ACCOUNTS, self.allowed).login_result()

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        self.requests.append((header, pdu))
        if type(pdu) is p.Submit:
            return p.SubmitResp(Result.OK)
        return None

    def session_ended(self, session: Session, reason: Failure) -> None:
        self.ended.append(reason)


class SpRole:
    """The SP end of the MT link: sends, never serves."""

    def __init__(self) -> None:
        self.ended: list[Failure] = []

    def session_started(self, session: Session) -> None:
        pass

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        return None

    def session_ended(self, session: Session, reason: Failure) -> None:
        self.ended.append(reason)


class _Link:
    """An SP client session connected to an SMG server session on one Clock."""

    def __init__(self, allowed: tuple[int, ...] = (LoginType.SP_TO_SMG,)) -> None:
        self.clock = Clock()
        self.clock.advance(NOV_20_203225)
        self.config = sgip_session_config()
        self.smg_role = SmgRole(allowed)
        self.sp_role = SpRole()
        self.client: Session
        self.server: Session
        self.pump: IOPump
        self.client, self.server, self.pump = connectedServerAndClient(
            lambda: Session(SgipAdapter(SMG_NODE, self.clock), self.smg_role, self.config,
                            self.clock),
            lambda: Session(SgipAdapter(SP_NODE, self.clock), self.sp_role, self.config,
                            self.clock),
        )  # fmt: skip

    def bind(self, login_type: int = LoginType.SP_TO_SMG, password: str = "sppass",
             name: str = "spuser") -> Deferred[p.BindResp]:  # fmt: skip
        d = bind(self.client, login_type, name, password)
        self.pump.flush()
        return d


class AdapterTests(SynchronousTestCase):
    """SgipAdapter: what the engine asks of SGIP."""

    def test_sequence_numbers(self) -> None:
        """Sequence numbers are (node id, MMDDhhmmss from the clock, counter from 0)."""
        clock = Clock()
        clock.advance(NOV_20_203225)
        adapter: Adapter = SgipAdapter(SP_NODE, clock)  # mypy: it is an engine Adapter
        self.assertEqual(adapter.next_sequence(), (SP_NODE, 1120203225, 0))
        clock.advance(1)
        self.assertEqual(adapter.next_sequence(), (SP_NODE, 1120203226, 1))
        self.assertIs(adapter.codec, SGIP12)

    def test_counter_wraps(self) -> None:
        """The counter wraps from 2**32 - 1 to 0."""
        adapter = SgipAdapter(SP_NODE, Clock(), counter=2**32 - 1)
        self.assertEqual([adapter.next_sequence()[2] for _ in range(2)], [2**32 - 1, 0])

    def test_no_keepalive(self) -> None:
        """SGIP has no keepalive: keepalive() is None and nothing is one."""
        adapter = SgipAdapter(SP_NODE, Clock())
        self.assertIsNone(adapter.keepalive())
        self.assertFalse(adapter.is_keepalive(p.Unbind()))
        self.assertRaises(TypeError, adapter.keepalive_response, p.Unbind())

    def test_terminate(self) -> None:
        """Terminate is Unbind / Unbind_Resp."""
        adapter = SgipAdapter(SP_NODE, Clock())
        self.assertEqual(adapter.terminate(), p.Unbind())
        self.assertTrue(adapter.is_terminate(p.Unbind()))
        self.assertFalse(adapter.is_terminate(p.UnbindResp()))
        self.assertEqual(adapter.terminate_response(), p.UnbindResp())

    def test_error_responses(self) -> None:
        """A request that fails to decode gets its *_Resp with the codec's Result."""
        adapter = SgipAdapter(SP_NODE, Clock())
        for cid, cls in ((CommandId.BIND, p.BindResp), (CommandId.SUBMIT, p.SubmitResp),
                         (CommandId.DELIVER, p.DeliverResp), (CommandId.REPORT, p.ReportResp),
                         (CommandId.USER_RPT, p.UserRptResp),
                         (CommandId.CHECK_USER, p.CheckUserResp),
                         (CommandId.QUERY_ROUTE, p.QueryRouteResp),
                         (CommandId.DELETE_SMG, p.DeleteSmgResp)):  # fmt: skip
            error = TruncatedError("short", status=Result.BAD_LENGTH, command_id=cid)
            response = adapter.error_response(error)
            self.assertIs(type(response), cls, cid.name)
            self.assertEqual(response.result, Result.BAD_LENGTH)  # type: ignore[attr-defined]

    def test_every_result_request_answered(self) -> None:
        """Every request whose response has a Result gets one; Unbind and Trace do not."""
        adapter = SgipAdapter(SP_NODE, Clock())
        for cid in CommandId:
            if cid & RESPONSE_BIT:
                continue
            response_cls = SGIP12.by_command[cid | RESPONSE_BIT].cls
            error = DecodeError("bad", status=Result.PARAMETER_FORMAT_ERROR, command_id=cid)
            response = adapter.error_response(error)
            if cid in (CommandId.UNBIND, CommandId.TRACE):
                self.assertIsNone(response, cid.name)
            else:
                self.assertIs(type(response), response_cls, cid.name)

    def test_unknown_command_closes(self) -> None:
        """An unknown command id has no response: the engine closes the link."""
        adapter = SgipAdapter(SP_NODE, Clock())
        error = UnknownCommandError("?", status=Result.BAD_COMMAND_ID, command_id=0x12)
        self.assertIsNone(adapter.error_response(error))

    def test_session_config(self) -> None:
        """SGIP defaults: window 32, response timeout 30 s, no keepalive, idle close 60 s."""
        config = sgip_session_config()
        self.assertIsInstance(config, SessionConfig)
        self.assertEqual(
            (config.window, config.response_timeout_s, config.keepalive_s, config.idle_timeout_s),
            (32, 30.0, None, 60.0),
        )
        self.assertEqual(sgip_session_config(window=8).window, 8)


class CheckBindTests(SynchronousTestCase):
    """check_bind on the server side."""

    def test_ok(self) -> None:
        """The right name, password and Login Type: Result 0 and the account."""
        check = check_bind(p.Bind(1, b"spuser", b"sppass"), ACCOUNTS, (1,))
        self.assertEqual(check, (0, p.BindResp(0), "spuser"))
        self.assertEqual(check.account, "spuser")

    def test_refusals(self) -> None:
        """Wrong password or unknown name: 1; Login Type not allowed: 4 (§9)."""
        cases = [
            (p.Bind(1, b"spuser", b"wrong"), Result.ILLEGAL_LOGIN),
            (p.Bind(1, b"nobody", b"sppass"), Result.ILLEGAL_LOGIN),
            (p.Bind(1, b"nobody", b""), Result.ILLEGAL_LOGIN),
            (p.Bind(1, b"spuser", b""), Result.ILLEGAL_LOGIN),
            (p.Bind(2, b"spuser", b"sppass"), Result.BAD_LOGIN_TYPE),
            (p.Bind(99, b"spuser", b"sppass"), Result.BAD_LOGIN_TYPE),
        ]
        for request, result in cases:
            check = check_bind(request, ACCOUNTS, (LoginType.SP_TO_SMG,))
            self.assertEqual(check, (result, p.BindResp(result), None), request)

    def test_credentials_before_login_type(self) -> None:
        """A wrong password with a wrong Login Type is an illegal login, not a Login Type error."""
        check = check_bind(p.Bind(2, b"spuser", b"wrong"), ACCOUNTS, (1,))
        self.assertEqual(check.result, Result.ILLEGAL_LOGIN)

    def test_compare_digest(self) -> None:
        """The password is compared with hmac.compare_digest, also for an unknown name."""
        calls: list[tuple[bytes, bytes]] = []

        def spy(a: bytes, b: bytes) -> bool:
            calls.append((a, b))
            return a == b

        self.patch(hmac, "compare_digest", spy)
        check_bind(p.Bind(1, b"spuser", b"sppass"), ACCOUNTS, (1,))
        check_bind(p.Bind(1, b"nobody", b"guess"), ACCOUNTS, (1,))
        self.assertEqual(calls, [(b"sppass", b"sppass"), (b"", b"guess")])

    def test_default_login_type(self) -> None:
        """By default only Login Type 1 (SP → SMG) is allowed."""
        self.assertEqual(check_bind(p.Bind(1, b"spuser", b"sppass"), ACCOUNTS).result, 0)
        self.assertEqual(check_bind(p.Bind(11, b"spuser", b"sppass"), ACCOUNTS).result, 4)


class BindTests(SynchronousTestCase):
    """Bind over a connected client and server."""

    def test_bind_ok(self) -> None:
        """Bind with the right credentials: Result 0, both ends bound."""
        link = _Link()
        resp = self.successResultOf(link.bind())
        self.assertEqual(resp, p.BindResp(Result.OK))
        self.assertTrue(link.client.bound)
        self.assertTrue(link.server.bound)
        self.assertEqual((link.client.account, link.server.account), ("spuser", "spuser"))
        self.assertEqual(link.smg_role.binds, [p.Bind(1, b"spuser", b"sppass")])
        self.assertEqual(link.smg_role.requests, [])

    def _refused(self, result: int, **kwargs: Any) -> None:
        link = _Link()
        failure = self.failureResultOf(link.bind(**kwargs), BindFailed)
        self.assertEqual(failure.value.result, result)
        self.assertIn(f"status {result}", str(failure.value))
        self.assertEqual(link.client.state, State.CLOSED)
        self.assertEqual(link.server.state, State.CLOSED)
        self.assertFalse(link.server.bound)

    def test_wrong_password(self) -> None:
        """A wrong password is refused with Result 1 and the link closes."""
        self._refused(Result.ILLEGAL_LOGIN, password="nope")

    def test_unknown_name(self) -> None:
        """An unknown login name is refused with Result 1 and the link closes."""
        self._refused(Result.ILLEGAL_LOGIN, name="nobody")

    def test_login_type_not_allowed(self) -> None:
        """A Login Type the server does not serve is refused with Result 4."""
        self._refused(Result.BAD_LOGIN_TYPE, login_type=LoginType.SMG_TO_SP)

    def test_unknown_result_text(self) -> None:
        """A refused Bind names an unknown Result as such, a known one by its meaning."""
        link = _Link()
        failure = self.failureResultOf(link.bind(password="nope"), BindFailed)
        self.assertIn("illegal login", str(failure.value))
        adapter = SgipAdapter(SMG_NODE)
        self.assertEqual(adapter.login_status_text(250), "unknown error")
        self.assertEqual(adapter.login_status_text(3), "too many connections")

    def test_long_credentials(self) -> None:
        """A name longer than 16 bytes fails the Deferred and sends nothing."""
        link = _Link()
        d = bind(link.client, 1, "x" * 17, "pw")
        self.failureResultOf(d, EncodeError)
        link.pump.flush()
        self.assertEqual(link.smg_role.binds, [])
        self.assertEqual(link.client.dispatcher.in_flight, 0)

    def test_bytes_credentials(self) -> None:
        """Credentials may be given as bytes."""
        link = _Link()
        d = bind(link.client, 1, b"spuser", b"sppass")
        link.pump.flush()
        self.successResultOf(d)
        self.assertEqual(link.client.account, "spuser")

    def test_repeated_bind(self) -> None:
        """A second Bind on a bound link gets Result 2 ("repeated login") from the engine."""
        link = _Link()
        self.successResultOf(link.bind())
        d = link.client.send(p.Bind(1, b"spuser", b"sppass"))
        link.pump.flush()
        self.assertEqual(self.successResultOf(d), p.BindResp(Result.REPEATED_LOGIN))

    def test_submit_after_bind(self) -> None:
        """A bound client's Submit is answered with the Submit's own sequence number."""
        link = _Link()
        self.successResultOf(link.bind())
        d = link.client.send(p.Submit(user_numbers=(b"8613001125453",), message_content=b"hi"))
        link.pump.flush()
        self.assertEqual(self.successResultOf(d), p.SubmitResp(Result.OK))
        header, _ = link.smg_role.requests[-1]
        self.assertEqual(header.sequence_id, (SP_NODE, 1120203225, 1))


class UnbindTests(SynchronousTestCase):
    """Orderly close with Unbind / Unbind_Resp."""

    def test_client_unbinds(self) -> None:
        """The client's Unbind is answered with Unbind_Resp and both ends close."""
        link = _Link()
        self.successResultOf(link.bind())
        closed = link.client.terminate()
        link.pump.flush()
        self.successResultOf(closed)
        self.assertEqual(link.client.frames_received, 2)  # Bind_Resp, Unbind_Resp
        self.assertEqual(link.client.state, State.CLOSED)
        self.assertEqual(link.server.state, State.CLOSED)
        self.assertEqual(len(link.smg_role.ended), 1)

    def test_unbind_on_the_wire(self) -> None:
        """The server answers an Unbind frame with Unbind_Resp carrying its sequence number."""
        server, transport, _ = _server()
        seq = (SP_NODE, 1120203225, 5)
        server.dataReceived(encode(p.Unbind(), seq))
        self.assertEqual(transport.value(), encode(p.UnbindResp(), seq))
        self.assertTrue(transport.disconnecting)


class IdleTests(SynchronousTestCase):
    """SGIP has no keepalive: an idle bound link is closed after 60 s."""

    def test_idle_link_closed(self) -> None:
        """No frame for 60 s closes the link; nothing is sent before."""
        link = _Link()
        self.successResultOf(link.bind())
        link.clock.advance(59)
        link.pump.flush()
        self.assertTrue(link.client.bound)
        self.assertTrue(link.server.bound)
        link.clock.advance(1)
        link.pump.flush()
        self.assertEqual(link.server.state, State.CLOSED)
        self.assertEqual(link.client.state, State.CLOSED)
        # Nothing but Bind went to the server: no keepalive was invented.
        self.assertEqual((len(link.smg_role.binds), link.smg_role.requests), (1, []))

    def test_traffic_keeps_link(self) -> None:
        """Any inbound frame restarts the 60 s."""
        link = _Link()
        self.successResultOf(link.bind())
        link.clock.advance(30)
        d = link.client.send(p.Submit(user_numbers=(b"8613001125453",)))
        link.pump.flush()
        self.successResultOf(d)
        link.clock.advance(59)
        link.pump.flush()
        self.assertTrue(link.server.bound)
        link.clock.advance(1)
        link.pump.flush()
        self.assertEqual(link.server.state, State.CLOSED)


def _server() -> tuple[Session, StringTransport, SmgRole]:
    """An SMG server session on a StringTransport, bound by one Bind from the SP."""
    clock = Clock()
    role = SmgRole()
    server = Session(SgipAdapter(SMG_NODE, clock), role, sgip_session_config(), clock)
    transport = StringTransport()
    server.makeConnection(transport)
    server.dataReceived(encode(p.Bind(1, b"spuser", b"sppass"), (SP_NODE, 1120203225, 0)))
    assert decode(transport.value())[1] == p.BindResp(0)
    transport.clear()
    return server, transport, role


class BadFrameTests(SynchronousTestCase):
    """Requests that do not decode, and frames that cannot be framed."""

    def test_truncated_submit(self) -> None:
        """A truncated Submit is answered with Submit_Resp Result 8, same sequence number."""
        server, transport, role = _server()
        seq = (SP_NODE, 1120203225, 1)
        frame = encode(p.Submit(user_numbers=(b"8613001125453",), message_content=b"hi"), seq)
        cut = struct.pack(">I", 100) + frame[4:100]
        server.dataReceived(cut)
        header, response = decode(transport.value())
        self.assertEqual(response, p.SubmitResp(Result.BAD_LENGTH))
        self.assertEqual((header.command_id, header.sequence_id), (CommandId.SUBMIT_RESP, seq))
        self.assertFalse(transport.disconnecting)
        self.assertEqual(role.requests, [])  # the Submit never reached the role
        self.assertTrue(server.bound)

    def test_truncated_submit_over_link(self) -> None:
        """Over a link too: the server answers (one more frame at the client), the link stays up."""
        link = _Link()
        self.successResultOf(link.bind())
        received = link.client.frames_received
        frame = encode(p.Submit(user_numbers=(b"8613001125453",)), (SP_NODE, 1, 99))
        link.client.transport.write(struct.pack(">I", 60) + frame[4:60])  # type: ignore[union-attr]
        link.pump.flush()
        self.assertEqual(link.client.frames_received, received + 1)
        self.assertTrue(link.server.bound)
        self.assertTrue(link.client.bound)

    def test_length_three_closes(self) -> None:
        """A length field of 3 (below the 20-byte header) closes the link at once."""
        link = _Link()
        self.successResultOf(link.bind())
        link.client.transport.write(b"\x00\x00\x00\x03garbage")  # type: ignore[union-attr]
        link.pump.flush()
        self.assertEqual(link.server.state, State.CLOSED)
        self.assertEqual(link.client.state, State.CLOSED)

    def test_length_three_unbound(self) -> None:
        """A length field of 3 aborts the connection, with no answer written."""
        server, transport, _ = _server()
        server.dataReceived(b"\x00\x00\x00\x03")
        self.assertEqual(transport.value(), b"")
        self.assertTrue(transport.disconnected)

    def test_too_long_closes(self) -> None:
        """A length field above 2048 closes the link."""
        server, transport, _ = _server()
        server.dataReceived(struct.pack(">II", 2049, CommandId.SUBMIT))
        self.assertTrue(transport.disconnected)

    def test_unknown_command_closes(self) -> None:
        """An unknown command id closes the link (sgip12.md §2, malformed command)."""
        server, transport, _ = _server()
        server.dataReceived(struct.pack(">II3I", 20, 0x12, SP_NODE, 1, 2))
        self.assertEqual(transport.value(), b"")
        self.assertTrue(transport.disconnected)

    def test_bad_trace_closes(self) -> None:
        """A Trace that does not decode has no Result to answer with: the link closes."""
        server, transport, _ = _server()
        server.dataReceived(struct.pack(">II3I", 24, CommandId.TRACE, SP_NODE, 1, 2) + b"\0" * 4)
        self.assertTrue(transport.disconnected)
