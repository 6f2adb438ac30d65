"""The engine's hot path (issue 20): one write per read, callbacks without Deferreds.

Driven like ``tests/protocols/test_session.py``: one :class:`Session` on a
transport that counts its ``write`` calls, a ``Clock``, CMPP 2.0 frames.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.codec import CMPP20
from smsgw.protocols.cmpp.session import CmppAdapter
from smsgw.protocols.codec import Header
from smsgw.protocols.dispatch import ResponseTimeout, SessionClosed
from smsgw.protocols.session import Role, Session, SessionConfig, State
from tests.protocols.test_session import _SUBMIT, _Handler, _written


class _CountingTransport(StringTransport):
    """A ``StringTransport`` that counts write calls."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1
        super().write(data)


def _bound(
    handler: Any = None, config: SessionConfig | None = None
) -> tuple[Session, _CountingTransport, Clock]:
    clock = Clock()
    session = Session(CmppAdapter(), handler or _Handler(), config or SessionConfig(), clock)
    transport = _CountingTransport()
    session.makeConnection(transport)
    session.authenticated("901234")
    return session, transport, clock


class BufferedWritesTests(SynchronousTestCase):
    def test_one_write_per_read(self) -> None:
        """Ten SUBMITs in one read are answered in order by one transport write."""
        session, transport, _ = _bound()
        session.dataReceived(b"".join(CMPP20.encode(_SUBMIT, seq) for seq in range(1, 11)))
        self.assertEqual(transport.writes, 1)
        answers = _written(transport)
        self.assertEqual([h.sequence_id for h, _ in answers], list(range(1, 11)))
        self.assertTrue(all(type(pdu) is p.SubmitResp for _, pdu in answers))

    def test_requests_sent_while_reading_share_the_write(self) -> None:
        """Requests a response's callback sends during a read go out with that read's write."""
        session, transport, _ = _bound()
        sent: list[object] = []

        def again(resp: object) -> None:
            sent.append(resp)
            session.send_then(_SUBMIT, sent.append, sent.append)

        for _ in range(3):
            session.send_then(_SUBMIT, again, sent.append)
        seqs = [h.sequence_id for h, _ in _written(transport)]
        transport.writes = 0
        session.dataReceived(
            b"".join(CMPP20.encode(p.SubmitResp(msg_id=s, result=0), s) for s in seqs)
        )
        self.assertEqual(len(sent), 3)
        self.assertEqual(transport.writes, 1)
        self.assertEqual(len(_written(transport)), 3)

    def test_writes_outside_a_read_go_straight_out(self) -> None:
        """A request sent outside a read is written at once."""
        session, transport, _ = _bound()
        session.send(_SUBMIT)
        self.assertEqual(transport.writes, 1)

    def test_answers_before_a_close_go_out(self) -> None:
        """Frames held in a read are written before the link is closed in that read."""

        class ClosesOnSecond(_Handler):
            def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
                if len(self.requests) == 1:
                    session.lose_connection()
                    self.requests.append((header, pdu))
                    return None
                return super().handle_request(session, header, pdu)

        session, transport, _ = _bound(ClosesOnSecond())
        session.dataReceived(CMPP20.encode(_SUBMIT, 1) + CMPP20.encode(_SUBMIT, 2))
        self.assertTrue(transport.disconnecting)
        self.assertEqual([h.sequence_id for h, _ in _written(transport)], [1])

    def test_abort_drops_what_is_held(self) -> None:
        """A link aborted in a read writes nothing more."""

        class Aborts(_Handler):
            def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
                if self.requests:
                    raise RuntimeError("handler bug")
                return super().handle_request(session, header, pdu)

        session, transport, _ = _bound(Aborts())
        session.dataReceived(CMPP20.encode(_SUBMIT, 1) + CMPP20.encode(_SUBMIT, 2))
        self.flushLoggedErrors(RuntimeError)
        self.assertEqual(transport.writes, 0)

    def test_hold_and_release(self) -> None:
        """Writes held outside a read leave as one write on release; a read inside holds on."""
        session, transport, _ = _bound()
        self.assertTrue(session.hold_writes())
        self.assertFalse(session.hold_writes())
        session.send(_SUBMIT)
        session.send(_SUBMIT)
        session.dataReceived(CMPP20.encode(_SUBMIT, 9))
        self.assertEqual(transport.writes, 0)
        session.release_writes()
        self.assertEqual(transport.writes, 1)
        self.assertEqual(len(_written(transport)), 3)
        session.send(_SUBMIT)
        self.assertEqual(transport.writes, 2)


class SendThenTests(SynchronousTestCase):
    def test_answer(self) -> None:
        """send_then calls on_answer with the response and on_sent with the sequence."""
        session, transport, _ = _bound()
        got: list[object] = []
        session.send_then(_SUBMIT, got.append, got.append, got.append)
        ((header, _),) = _written(transport)
        self.assertEqual(got, [header.sequence_id])
        resp = p.SubmitResp(msg_id=7, result=0)
        session.dataReceived(CMPP20.encode(resp, header.sequence_id))
        self.assertEqual(got, [header.sequence_id, resp])

    def test_timeout(self) -> None:
        """Unanswered after N attempts: on_error gets ResponseTimeout, once."""
        session, _, clock = _bound(config=SessionConfig(response_timeout_s=1, attempts=2))
        errors: list[Failure] = []
        session.send_then(_SUBMIT, self.fail, errors.append)
        clock.pump([1, 1, 1])
        self.assertEqual(len(errors), 1)
        self.assertIsInstance(errors[0].value, ResponseTimeout)

    def test_closing(self) -> None:
        """On a closing link on_error gets SessionClosed at once."""
        session, _, _ = _bound()
        session.terminate()
        errors: list[Failure] = []
        session.send_then(_SUBMIT, self.fail, errors.append)
        self.assertIsInstance(errors[0].value, SessionClosed)

    def test_lost(self) -> None:
        """A lost link fails every pending send_then with the reason."""
        session, _, _ = _bound()
        errors: list[Failure] = []
        session.send_then(_SUBMIT, self.fail, errors.append)
        session.connectionLost(Failure(ConnectionError("gone")))
        self.assertIsInstance(errors[0].value, ConnectionError)

    def test_callback_error_is_logged_and_link_goes_on(self) -> None:
        """A failing on_answer is logged; the other answers of the read still arrive."""
        session, transport, _ = _bound()
        got: list[object] = []

        def broken(resp: object) -> None:
            raise ValueError("bug")

        session.send_then(_SUBMIT, broken, got.append)
        session.send_then(_SUBMIT, got.append, got.append)
        seqs = [h.sequence_id for h, _ in _written(transport)]
        session.dataReceived(
            b"".join(CMPP20.encode(p.SubmitResp(msg_id=s, result=0), s) for s in seqs)
        )
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1)
        self.assertEqual(len(got), 1)
        self.assertIs(session.state, State.BOUND)

    def test_short_link_terminates_after_its_request(self) -> None:
        """On a short link the last answer (send_then too) terminates the link."""
        session, transport, _ = _bound(config=SessionConfig(short=True))
        got: list[object] = []
        session.send_then(_SUBMIT, got.append, got.append)
        ((header, _),) = _written(transport)
        session.dataReceived(CMPP20.encode(p.SubmitResp(msg_id=1, result=0), header.sequence_id))
        self.assertEqual(len(got), 1)
        self.assertIs(session.state, State.CLOSING)


class LegalityRowTests(SynchronousTestCase):
    def test_row_follows_the_state(self) -> None:
        """The legality row a session keeps follows its state: a server closing takes no SUBMIT."""

        class Server(_Handler):
            role = Role.SERVER

        handler = Server()
        session, transport, _ = _bound(handler)
        session.dataReceived(CMPP20.encode(_SUBMIT, 1))
        self.assertEqual(len(handler.requests), 1)
        session.state = State.CLOSING  # set directly: the row must still follow
        session.dataReceived(CMPP20.encode(_SUBMIT, 2))
        self.assertEqual(len(handler.requests), 1)
        self.assertTrue(transport.disconnecting)
