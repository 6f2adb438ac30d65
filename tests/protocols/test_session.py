"""Tests for :mod:`smsgw.protocols.session`: the link engine, driven with CMPP 2.0 frames.

Each test connects one :class:`Session` to a ``StringTransport`` and a
``Clock``, feeds it frames built with ``CMPP20.encode`` and decodes what it
wrote.  The role is a small recording handler.
"""

from __future__ import annotations

import itertools
import struct
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.codec import CMPP20
from smsgw.protocols.cmpp.constants import CommandId, Result
from smsgw.protocols.cmpp.session import CmppAdapter
from smsgw.protocols.codec import Header
from smsgw.protocols.dispatch import ResponseTimeout, SessionClosed
from smsgw.protocols.errors import DecodeError, TruncatedError
from smsgw.protocols.session import Session, SessionConfig, SessionFactory, State
from tests.clock import BoundedClock

_SUBMIT = p.Submit(
    service_id=b"TEST",
    msg_src=b"901234",
    src_id=b"10690001",
    dest_terminal_ids=(b"13800138000",),
    msg_content=b"hello",
)
_DELIVER = p.Deliver(dest_id=b"10690001", src_terminal_id=b"13800138000", msg_content=b"hi")


class _Transport(StringTransport):
    """A ``StringTransport`` that tells an abort from an orderly close."""

    aborted = False

    def abortConnection(self) -> None:
        self.aborted = True
        super().abortConnection()


class _Handler:
    """Answers SUBMIT and DELIVER (or whatever *replies* says) and records everything."""

    def __init__(self, replies: dict[type, Any] | None = None) -> None:
        self.replies = replies
        self.started: list[Session] = []
        self.requests: list[tuple[Header, Any]] = []
        self.ended: list[Failure] = []

    def session_started(self, session: Session) -> None:
        self.started.append(session)

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        self.requests.append((header, pdu))
        if self.replies is not None:
            return self.replies.get(type(pdu))
        if isinstance(pdu, p.Submit):
            return p.SubmitResp(msg_id=header.sequence_id, result=0)
        if isinstance(pdu, p.Deliver):
            return p.DeliverResp(msg_id=pdu.msg_id, result=0)
        return None

    def session_ended(self, session: Session, reason: Failure) -> None:
        self.ended.append(reason)


def _connect(
    config: SessionConfig | None = None,
    *,
    handler: _Handler | None = None,
    adapter: CmppAdapter | None = None,
    bound: bool = False,
) -> tuple[Session, _Transport, Clock, _Handler]:
    clock = BoundedClock()
    handler = handler or _Handler()
    session = Session(adapter or CmppAdapter(), handler, config or SessionConfig(), clock)
    transport = _Transport()
    session.makeConnection(transport)
    if bound:
        session.authenticated("901234")
    return session, transport, clock, handler


def _frame(pdu: object, seq: int) -> bytes:
    return CMPP20.encode(pdu, seq)


def _with_length(frame: bytes) -> bytes:
    """*frame* with its Total_Length rewritten to match its size."""
    return struct.pack(">I", len(frame)) + frame[4:]


def _written(transport: StringTransport) -> list[tuple[Header, Any]]:
    """Decode (and clear) every frame the session wrote."""
    data = transport.value()
    transport.clear()
    frames = []
    while data:
        (n,) = struct.unpack_from(">I", data)
        frames.append(CMPP20.decode(data[:n]))
        data = data[n:]
    return frames


def _lose(session: Session, reason: BaseException | None = None) -> None:
    """Tell *session* its connection is gone (a StringTransport never does)."""
    session.connectionLost(Failure(reason or ConnectionDone()))


class FramingTests(SynchronousTestCase):
    """Bytes in any chunking become requests, answered with their sequence ids."""

    def test_one_byte_at_a_time(self) -> None:
        """A SUBMIT fed one byte at a time is handled once, after its last byte."""
        session, transport, _, handler = _connect(bound=True)
        frame = _frame(_SUBMIT, 42)
        for i in range(len(frame) - 1):
            session.dataReceived(frame[i : i + 1])
        self.assertEqual(handler.requests, [])
        session.dataReceived(frame[-1:])
        self.assertEqual(len(handler.requests), 1)
        header, pdu = handler.requests[0]
        self.assertEqual((header.sequence_id, pdu), (42, _SUBMIT))
        [(rheader, resp)] = _written(transport)
        self.assertEqual(rheader.command_id, CommandId.SUBMIT_RESP)
        self.assertEqual(rheader.sequence_id, 42)
        self.assertEqual(resp, p.SubmitResp(msg_id=42, result=0))

    @given(cuts=st.lists(st.integers(0, 400), max_size=20))
    def test_any_chunking(self, cuts: list[int]) -> None:
        """Several frames cut anywhere give the same requests and answers in order."""
        session, transport, _, handler = _connect(bound=True)
        data = (
            _frame(_SUBMIT, 1)
            + _frame(p.ActiveTest(), 2)
            + _frame(_DELIVER, 3)
            + _frame(_SUBMIT, 0xFFFFFFFF)
        )
        bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
        for start, end in itertools.pairwise(bounds):
            session.dataReceived(data[start:end])
        self.assertEqual(
            [(h.sequence_id, pdu) for h, pdu in handler.requests],
            [(1, _SUBMIT), (3, _DELIVER), (0xFFFFFFFF, _SUBMIT)],
        )
        self.assertEqual(
            [(type(pdu), h.sequence_id) for h, pdu in _written(transport)],
            [
                (p.SubmitResp, 1),
                (p.ActiveTestResp, 2),
                (p.DeliverResp, 3),
                (p.SubmitResp, 0xFFFFFFFF),
            ],
        )
        self.assertFalse(transport.disconnecting)

    def test_deferred_response(self) -> None:
        """A Deferred from the handler is written, with the request's sequence, when it fires."""
        answer: Deferred[p.SubmitResp] = Deferred()
        session, transport, _, _ = _connect(bound=True, handler=_Handler({p.Submit: answer}))
        session.dataReceived(_frame(_SUBMIT, 7))
        self.assertEqual(transport.value(), b"")
        answer.callback(p.SubmitResp(msg_id=99, result=8))
        self.assertEqual(transport.value(), _frame(p.SubmitResp(msg_id=99, result=8), 7))

    def test_no_response(self) -> None:
        """A handler returning None writes nothing."""
        session, transport, _, handler = _connect(bound=True, handler=_Handler({}))
        session.dataReceived(_frame(_SUBMIT, 7))
        self.assertEqual(len(handler.requests), 1)
        self.assertEqual(transport.value(), b"")

    def test_handler_started(self) -> None:
        """connectionMade tells the handler, and the session waits for a login."""
        session, _, _, handler = _connect()
        self.assertEqual(handler.started, [session])
        self.assertIs(session.state, State.AUTHENTICATING)
        self.assertFalse(session.bound)


class ActiveTestTests(SynchronousTestCase):
    """ACTIVE_TEST from the peer, and our keepalive."""

    config = SessionConfig(keepalive_s=30, response_timeout_s=10, attempts=3)

    def _active_tests(self, transport: StringTransport) -> list[int]:
        """Sequence ids of the ACTIVE_TESTs written (and clear the transport)."""
        return [h.sequence_id for h, pdu in _written(transport) if type(pdu) is p.ActiveTest]

    def test_answered_before_login(self) -> None:
        """An incoming ACTIVE_TEST gets a 13-byte ACTIVE_TEST_RESP with its sequence, unbound."""
        session, transport, _, handler = _connect()
        session.dataReceived(_frame(p.ActiveTest(), 0x01020304))
        self.assertEqual(transport.value(), bytes.fromhex("0000000d 80000008 01020304 00"))
        self.assertEqual(handler.requests, [])

    def test_keepalive_after_idle(self) -> None:
        """A bound link with no traffic writes an ACTIVE_TEST after C seconds."""
        _, transport, clock, _ = _connect(self.config, bound=True)
        clock.advance(29.9)
        self.assertEqual(transport.value(), b"")
        clock.advance(0.1)
        self.assertEqual(self._active_tests(transport), [1])

    def test_no_keepalive_before_login(self) -> None:
        """No ACTIVE_TEST is sent before the link is bound."""
        _, transport, clock, _ = _connect(SessionConfig(keepalive_s=30, login_timeout_s=1000))
        clock.pump([1] * 100)
        self.assertEqual(transport.value(), b"")

    def test_traffic_postpones_keepalive(self) -> None:
        """Inbound traffic moves the next ACTIVE_TEST to C seconds after it."""
        session, transport, clock, _ = _connect(self.config, bound=True)
        clock.advance(20)
        session.dataReceived(_frame(_DELIVER, 5))
        transport.clear()
        clock.advance(10)
        self.assertEqual(transport.value(), b"")
        clock.advance(19.9)
        self.assertEqual(transport.value(), b"")
        clock.advance(0.1)
        self.assertEqual(self._active_tests(transport), [1])

    def test_unanswered_keepalive_closes(self) -> None:
        """An ACTIVE_TEST never answered is resent N-1 times, then the link closes after N×T."""
        _, transport, clock, _ = _connect(self.config, bound=True)
        clock.advance(30)
        sent = self._active_tests(transport)
        for _ in range(29):
            clock.advance(1)
            sent += self._active_tests(transport)
        self.assertEqual(sent, [1, 1, 1])
        self.assertFalse(transport.disconnecting)
        clock.advance(1)  # 30 + 3 × 10
        self.assertTrue(transport.aborted)
        # The missed keepalive is not followed by another one.
        self.assertEqual(self._active_tests(transport), [])

    def test_one_keepalive_at_a_time(self) -> None:
        """While an ACTIVE_TEST is unanswered no second one is sent, even if C < N×T."""
        config = SessionConfig(keepalive_s=10, response_timeout_s=10, attempts=3)
        _, transport, clock, _ = _connect(config, bound=True)
        sent: list[int] = []
        for _ in range(39):
            clock.advance(1)
            sent += self._active_tests(transport)
        self.assertEqual(sent, [1, 1, 1])
        self.assertFalse(transport.disconnecting)
        clock.advance(1)  # 10 + 3 × 10
        self.assertTrue(transport.aborted)

    def test_answered_keepalive_keeps_link(self) -> None:
        """An answered ACTIVE_TEST keeps the link, and the next one follows C seconds later."""
        session, transport, clock, _ = _connect(self.config, bound=True)
        for round_ in range(1, 6):
            clock.advance(30)
            self.assertEqual(self._active_tests(transport), [round_])
            clock.advance(2)
            session.dataReceived(_frame(p.ActiveTestResp(), round_))
        clock.pump([1] * 29)
        self.assertEqual(transport.value(), b"")
        self.assertFalse(transport.disconnecting)
        self.assertEqual(session.dispatcher.in_flight, 0)

    def test_idle_timeout(self) -> None:
        """idle_timeout_s closes a bound link that has no traffic."""
        config = SessionConfig(keepalive_s=None, idle_timeout_s=60)
        session, transport, clock, _ = _connect(config, bound=True)
        clock.advance(40)
        session.dataReceived(_frame(_DELIVER, 1))
        clock.advance(59.9)
        self.assertFalse(transport.disconnecting)
        clock.advance(0.1)
        self.assertTrue(transport.disconnecting)
        self.assertFalse(transport.aborted)
        self.assertEqual([type(pdu) for _, pdu in _written(transport)], [p.DeliverResp])

    def test_login_timeout(self) -> None:
        """A link that does not log in within login_timeout_s is closed."""
        _, transport, clock, _ = _connect(SessionConfig(login_timeout_s=15))
        clock.advance(14.9)
        self.assertFalse(transport.disconnecting)
        clock.advance(0.1)
        self.assertTrue(transport.aborted)

    def test_login_cancels_login_timeout(self) -> None:
        """A link that logs in in time is not closed by the login timer."""
        session, transport, clock, _ = _connect(SessionConfig(login_timeout_s=15, keepalive_s=None))
        clock.advance(10)
        session.authenticated("901234")
        clock.pump([1] * 100)
        self.assertFalse(transport.disconnecting)
        self.assertEqual(clock.getDelayedCalls(), [])


class TerminateTests(SynchronousTestCase):
    """Orderly close, from our side and from the peer's."""

    config = SessionConfig(response_timeout_s=10, attempts=2)

    def test_terminate_drains_first(self) -> None:
        """terminate() waits for in-flight answers, then sends TERMINATE; TERMINATE_RESP closes."""
        session, transport, _, _ = _connect(self.config, bound=True)
        submitted = session.send(_SUBMIT)
        self.assertEqual([h.sequence_id for h, _ in _written(transport)], [1])
        closed = session.terminate()
        self.assertIs(session.state, State.CLOSING)
        self.assertEqual(transport.value(), b"")
        self.failureResultOf(session.send(_SUBMIT), SessionClosed)

        session.dataReceived(_frame(p.SubmitResp(msg_id=5, result=0), 1))
        self.assertEqual(self.successResultOf(submitted), p.SubmitResp(msg_id=5, result=0))
        [(header, _)] = _written(transport)
        self.assertEqual((header.command_id, header.sequence_id), (CommandId.TERMINATE, 2))
        self.assertFalse(transport.disconnecting)

        session.dataReceived(_frame(p.TerminateResp(), 2))
        self.assertTrue(transport.disconnecting)
        self.assertFalse(transport.aborted)
        self.assertNoResult(closed)
        _lose(session)
        self.successResultOf(closed)
        self.assertIs(session.state, State.CLOSED)

    def test_terminate_idle(self) -> None:
        """terminate() on an idle link sends TERMINATE at once."""
        session, transport, _, _ = _connect(self.config, bound=True)
        session.terminate()
        self.assertEqual([type(pdu) for _, pdu in _written(transport)], [p.Terminate])

    def test_terminate_twice(self) -> None:
        """A second terminate() sends nothing more and fires with the first."""
        session, transport, _, _ = _connect(self.config, bound=True)
        first = session.terminate()
        second = session.terminate()
        self.assertEqual([type(pdu) for _, pdu in _written(transport)], [p.Terminate])
        _lose(session)
        self.successResultOf(first)
        self.successResultOf(second)

    def test_unanswered_terminate(self) -> None:
        """A TERMINATE never answered closes the link after N×T."""
        session, transport, clock, _ = _connect(self.config, bound=True)
        session.terminate()
        clock.pump([1] * 19)
        self.assertFalse(transport.disconnecting)
        clock.advance(1)
        self.assertTrue(transport.disconnecting)

    def test_peer_terminate_after_drain(self) -> None:
        """A peer TERMINATE is answered once our in-flight requests are answered, then closes."""
        session, transport, _, handler = _connect(self.config, bound=True)
        submitted = session.send(_SUBMIT)
        transport.clear()
        session.dataReceived(_frame(p.Terminate(), 77))
        self.assertEqual(transport.value(), b"")
        self.assertFalse(transport.disconnecting)
        self.failureResultOf(session.send(_SUBMIT), SessionClosed)

        session.dataReceived(_frame(p.SubmitResp(msg_id=5, result=0), 1))
        self.successResultOf(submitted)
        self.assertEqual(transport.value(), _frame(p.TerminateResp(), 77))
        self.assertTrue(transport.disconnecting)
        self.assertEqual(handler.requests, [])

    def test_peer_terminate_idle(self) -> None:
        """A peer TERMINATE on an idle link is answered at once."""
        session, transport, _, _ = _connect(self.config, bound=True)
        session.dataReceived(_frame(p.Terminate(), 3))
        self.assertEqual(transport.value(), _frame(p.TerminateResp(), 3))
        self.assertTrue(transport.disconnecting)

    def test_connection_lost_fails_pending(self) -> None:
        """Losing the connection fails in-flight and queued requests with the real reason."""
        config = SessionConfig(window=1)
        session, _, clock, handler = _connect(config, bound=True)
        in_flight = session.send(_SUBMIT)
        queued = session.send(_SUBMIT)
        closed = session.when_closed()
        _lose(session, ConnectionLost("reset by peer"))
        for d in (in_flight, queued):
            self.assertEqual(self.failureResultOf(d, ConnectionLost).value.args, ("reset by peer",))
        self.assertTrue(handler.ended[0].check(ConnectionLost))
        self.successResultOf(closed)
        self.successResultOf(session.when_closed())
        self.failureResultOf(session.send(_SUBMIT), SessionClosed)
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_response_timeout(self) -> None:
        """A request never answered fails with ResponseTimeout after N×T; the link stays."""
        session, transport, clock, _ = _connect(self.config, bound=True)
        d = session.send(_SUBMIT)
        clock.pump([1] * 20)
        self.assertEqual(self.failureResultOf(d, ResponseTimeout).value.attempts, 2)
        self.assertEqual([h.sequence_id for h, _ in _written(transport)], [1, 1])
        self.assertFalse(transport.disconnecting)


class SequenceTests(SynchronousTestCase):
    """Sequence_Id allocation."""

    def test_adapter_wraps(self) -> None:
        """CmppAdapter(first_sequence=0xFFFFFFFF) gives 0xFFFFFFFF, then 1."""
        adapter = CmppAdapter(first_sequence=0xFFFFFFFF)
        self.assertEqual([adapter.next_sequence() for _ in range(3)], [0xFFFFFFFF, 1, 2])

    def test_session_wraps(self) -> None:
        """A session's requests carry 0xFFFFFFFF then 1, and both responses match."""
        session, transport, _, _ = _connect(
            bound=True, adapter=CmppAdapter(first_sequence=0xFFFFFFFF)
        )
        first, second = session.send(_SUBMIT), session.send(_SUBMIT)
        self.assertEqual([h.sequence_id for h, _ in _written(transport)], [0xFFFFFFFF, 1])
        session.dataReceived(_frame(p.SubmitResp(msg_id=2), 1))
        session.dataReceived(_frame(p.SubmitResp(msg_id=1), 0xFFFFFFFF))
        self.assertEqual(self.successResultOf(first).msg_id, 1)
        self.assertEqual(self.successResultOf(second).msg_id, 2)


class BadInputTests(SynchronousTestCase):
    """Frames that do not decode: answer, fail one request, or drop the link."""

    def test_length_too_small(self) -> None:
        """A length field of 3 aborts the link."""
        session, transport, _, _ = _connect(bound=True)
        session.dataReceived(struct.pack(">III", 3, CommandId.ACTIVE_TEST, 1))
        self.assertTrue(transport.aborted)
        self.assertEqual(transport.value(), b"")

    def test_length_too_large(self) -> None:
        """A length field of 10 MB aborts the link without waiting for the body."""
        session, transport, _, _ = _connect(bound=True)
        session.dataReceived(struct.pack(">III", 10 * 1024 * 1024, CommandId.SUBMIT, 1))
        self.assertTrue(transport.aborted)

    def test_unknown_command(self) -> None:
        """An unknown command id closes the link."""
        session, transport, _, handler = _connect(bound=True)
        session.dataReceived(struct.pack(">III", 12, 0x0000ABCD, 1))
        self.assertTrue(transport.aborted)
        self.assertEqual(handler.requests, [])

    def test_nothing_after_abort(self) -> None:
        """Frames behind a fatal one in the same chunk are not handled."""
        session, transport, _, handler = _connect(bound=True)
        session.dataReceived(struct.pack(">III", 12, 0x0000ABCD, 1) + _frame(_SUBMIT, 2))
        self.assertTrue(transport.aborted)
        self.assertEqual(handler.requests, [])
        self.assertEqual(transport.value(), b"")

    def test_truncated_submit(self) -> None:
        """A SUBMIT whose body is short (length consistent) gets result 4; the link stays."""
        session, transport, _, handler = _connect(bound=True)
        session.dataReceived(_with_length(_frame(_SUBMIT, 9)[:60]))
        [(header, pdu)] = _written(transport)
        self.assertEqual((header.command_id, header.sequence_id), (CommandId.SUBMIT_RESP, 9))
        self.assertEqual(pdu.result, Result.LENGTH_ERROR)
        self.assertFalse(transport.disconnecting)
        self.assertEqual(handler.requests, [])
        # The stream is still in step: the next SUBMIT is handled.
        session.dataReceived(_frame(_SUBMIT, 10))
        self.assertEqual([h.sequence_id for h, _ in handler.requests], [10])

    def test_submit_trailing_bytes(self) -> None:
        """A SUBMIT with trailing garbage gets result 4."""
        session, transport, _, handler = _connect(bound=True)
        session.dataReceived(_with_length(_frame(_SUBMIT, 9) + b"\xde\xad"))
        [(header, pdu)] = _written(transport)
        self.assertEqual((header.sequence_id, pdu.result), (9, Result.LENGTH_ERROR))
        self.assertFalse(transport.disconnecting)
        self.assertEqual(handler.requests, [])

    def test_bad_response_fails_one(self) -> None:
        """A malformed response fails only its own request; the link stays."""
        session, transport, _, _ = _connect(bound=True)
        first, second = session.send(_SUBMIT), session.send(_SUBMIT)
        session.dataReceived(_with_length(_frame(p.SubmitResp(msg_id=1), 1)[:16]))
        failure = self.failureResultOf(first, DecodeError)
        self.assertTrue(failure.check(TruncatedError))
        self.assertNoResult(second)
        self.assertFalse(transport.disconnecting)
        session.dataReceived(_frame(p.SubmitResp(msg_id=2), 2))
        self.assertEqual(self.successResultOf(second).msg_id, 2)

    def test_unexpected_response(self) -> None:
        """A response nobody waits for is ignored."""
        session, transport, _, handler = _connect(bound=True)
        session.dataReceived(_frame(p.SubmitResp(msg_id=1), 12345))
        self.assertEqual(transport.value(), b"")
        self.assertFalse(transport.disconnecting)
        self.assertEqual(handler.requests, [])

    def test_handler_raises(self) -> None:
        """A handler that raises drops the link instead of raising into the reactor."""

        class Broken(_Handler):
            def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
                raise RuntimeError("bug")

        session, transport, _, _ = _connect(bound=True, handler=Broken())
        session.dataReceived(_frame(_SUBMIT, 1))
        self.assertTrue(transport.aborted)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)


class FactoryTests(SynchronousTestCase):
    """SessionFactory."""

    def test_build_protocol(self) -> None:
        """Each link gets its own adapter and session with the factory's config and clock."""
        clock, handler, config = BoundedClock(), _Handler(), SessionConfig(window=3)
        factory = SessionFactory(CmppAdapter, handler, config, clock)
        one, two = factory.buildProtocol(None), factory.buildProtocol(None)
        self.assertIsNot(one, two)
        self.assertIsNot(one.adapter, two.adapter)
        self.assertIs(one.clock, clock)
        self.assertIs(one.handler, handler)
        self.assertEqual(one.dispatcher.window, 3)
