"""SMPP sessions on the engine (:mod:`smsgw.protocols.smpp.session`): bind states and timers.

Each test connects one :class:`Session` with an :class:`SmppAdapter` to a
``StringTransport`` and a ``Clock`` and feeds it frames, as the peer would.
"""

from __future__ import annotations

import struct
from collections.abc import Hashable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.dispatch import ResponseTimeout
from smsgw.protocols.session import LoginRefused, Role, Session, SessionConfig, State, Verdict
from smsgw.protocols.smpp import pdus as p
from smsgw.protocols.smpp.codec import SMPP34
from smsgw.protocols.smpp.constants import BindKind, CommandId, Status, Tag
from smsgw.protocols.smpp.session import (
    CONFIG,
    ESME_REQUESTS,
    LEGALITY,
    SMSC_REQUESTS,
    SmppAdapter,
    bind,
    notify,
)
from smsgw.protocols.smpp.tlv import get
from tests.clock import BoundedClock
from tests.protocols.smpp.roles import PASSWORD, SYSTEM_ID, Esme, Smsc, written

_SUBMIT = p.SubmitSm(source_addr=b"12345", destination_addr=b"8613800138000", short_message=b"Hi")
_DELIVER = p.DeliverSm(source_addr=b"8613800138000", destination_addr=b"12345", short_message=b"Yo")


class _Transport(StringTransport):
    """A ``StringTransport`` that tells an abort from an orderly close."""

    aborted = False

    def abortConnection(self) -> None:
        self.aborted = True
        super().abortConnection()


def _connect(
    handler: Smsc | Esme, config: SessionConfig = CONFIG
) -> tuple[Session, _Transport, BoundedClock]:
    clock = BoundedClock()
    session = Session(SmppAdapter(), handler, config, clock)
    transport = _Transport()
    session.makeConnection(transport)
    return session, transport, clock


def _bound_smsc(
    kind: type[p.Bind] = p.BindTransceiver, config: SessionConfig = CONFIG
) -> tuple[Session, _Transport, BoundedClock, Smsc]:
    smsc = Smsc()
    session, transport, clock = _connect(smsc, config)
    session.dataReceived(SMPP34.encode(kind(SYSTEM_ID, PASSWORD), 1))
    transport.clear()
    return session, transport, clock, smsc


def _bound_esme(kind: BindKind = BindKind.TRANSCEIVER) -> tuple[Session, _Transport, Esme]:
    esme = Esme()
    session, transport, _ = _connect(esme)
    session.authenticated("esme1", kind)
    return session, transport, esme


class BindTests(SynchronousTestCase):
    """Binds on the SMSC side: checked by the role, answered and applied by the engine."""

    def test_bind_transceiver(self) -> None:
        """A good bind_transceiver is answered with system_id and sc_interface_version 0x34."""
        session, _, _, _ = _bound_smsc()
        self.assertEqual(session.state, State.BOUND)
        self.assertEqual(session.mode, BindKind.TRANSCEIVER)
        self.assertEqual(session.account, "esme1")

    def test_bind_response(self) -> None:
        """The bind_transmitter_resp echoes the sequence and carries sc_interface_version."""
        smsc = Smsc()
        session, transport, _ = _connect(smsc)
        session.dataReceived(SMPP34.encode(p.BindTransmitter(SYSTEM_ID, PASSWORD), 41))
        [(seq, resp)] = written(transport)
        self.assertEqual(seq, 41)
        assert isinstance(resp, p.BindTransmitterResp)
        self.assertEqual((resp.command_status, resp.system_id), (0, b"SMSC"))
        self.assertEqual(get(resp.tlvs, Tag.SC_INTERFACE_VERSION), 0x34)
        self.assertEqual(session.mode, BindKind.TRANSMITTER)

    def test_wrong_password(self) -> None:
        """A wrong password gets a body-less ESME_RINVPASWD and the link closes."""
        session, transport, _ = _connect(Smsc())
        frame = SMPP34.encode(p.BindReceiver(SYSTEM_ID, b"nope"), 2)
        session.dataReceived(frame)
        data = transport.value()
        self.assertEqual(data, struct.pack(">IIII", 16, CommandId.BIND_RECEIVER_RESP, 0x0E, 2))
        self.assertTrue(transport.disconnecting)
        self.assertEqual(session.state, State.AUTHENTICATING)

    def test_unknown_system_id(self) -> None:
        """An unknown system_id is refused with ESME_RINVSYSID."""
        session, transport, _ = _connect(Smsc())
        session.dataReceived(SMPP34.encode(p.BindTransmitter(b"who", PASSWORD), 2))
        [(_, resp)] = written(transport)
        self.assertEqual(resp.command_status, Status.ESME_RINVSYSID)

    def test_second_bind(self) -> None:
        """A second bind on a bound session is ESME_RALYBND; the session stays bound."""
        session, transport, _, _ = _bound_smsc()
        session.dataReceived(SMPP34.encode(p.BindTransmitter(SYSTEM_ID, PASSWORD), 5))
        [(seq, resp)] = written(transport)
        self.assertEqual((seq, type(resp), resp.command_status), (5, p.BindTransmitterResp, 5))
        self.assertEqual((session.state, session.mode), (State.BOUND, BindKind.TRANSCEIVER))
        self.assertFalse(transport.disconnecting)

    def test_client_bind_refused(self) -> None:
        """bind() fails with LoginRefused named after the status, and closes the link."""
        session, transport, _ = _connect(Esme())
        d = bind(session, p.BindTransmitter(SYSTEM_ID, b"x"))
        [(seq, _)] = written(transport)
        session.dataReceived(
            struct.pack(">IIII", 16, CommandId.BIND_TRANSMITTER_RESP, Status.ESME_RINVPASWD, seq)
        )
        failure = self.failureResultOf(d, LoginRefused)
        self.assertEqual(failure.value.status, Status.ESME_RINVPASWD)
        self.assertIn("ESME_RINVPASWD", str(failure.value))
        self.assertTrue(transport.disconnecting)

    def test_client_bind(self) -> None:
        """bind() binds the ESME session in the bind's kind."""
        session, transport, _ = _connect(Esme())
        d = bind(session, p.BindReceiver(SYSTEM_ID, PASSWORD))
        [(seq, _)] = written(transport)
        session.dataReceived(SMPP34.encode(p.BindReceiverResp(b"SMSC"), seq))
        self.assertEqual(self.successResultOf(d), p.BindReceiverResp(b"SMSC"))
        self.assertEqual((session.state, session.mode), (State.BOUND, BindKind.RECEIVER))


class StateTests(SynchronousTestCase):
    """A PDU not allowed in the bind state gets its response with ESME_RINVBNDSTS."""

    def test_submit_before_bind(self) -> None:
        """submit_sm on an OPEN session is ESME_RINVBNDSTS; the link stays up."""
        smsc = Smsc()
        session, transport, _ = _connect(smsc)
        session.dataReceived(SMPP34.encode(_SUBMIT, 3))
        self.assertEqual(written(transport), [(3, p.SubmitSmResp(command_status=4))])
        self.assertFalse(transport.disconnecting)
        self.assertEqual(smsc.requests, [])

    def test_submit_on_receiver(self) -> None:
        """submit_sm on a receiver bind is ESME_RINVBNDSTS."""
        session, transport, _, smsc = _bound_smsc(p.BindReceiver)
        session.dataReceived(SMPP34.encode(_SUBMIT, 3))
        self.assertEqual(written(transport), [(3, p.SubmitSmResp(command_status=4))])
        self.assertEqual(smsc.requests, [])

    def test_submit_on_transmitter(self) -> None:
        """submit_sm on a transmitter bind reaches the role and is answered."""
        session, transport, _, smsc = _bound_smsc(p.BindTransmitter)
        session.dataReceived(SMPP34.encode(_SUBMIT, 3))
        self.assertEqual(written(transport), [(3, p.SubmitSmResp(b"3"))])
        self.assertEqual(smsc.kinds(), [p.SubmitSm])

    def test_deliver_to_transmitter(self) -> None:
        """deliver_sm to an ESME bound as transmitter is ESME_RINVBNDSTS."""
        session, transport, esme = _bound_esme(BindKind.TRANSMITTER)
        session.dataReceived(SMPP34.encode(_DELIVER, 8))
        self.assertEqual(written(transport), [(8, p.DeliverSmResp(command_status=4))])
        self.assertEqual(esme.requests, [])

    def test_deliver_to_receiver(self) -> None:
        """deliver_sm to an ESME bound as receiver reaches the role."""
        session, transport, esme = _bound_esme(BindKind.RECEIVER)
        session.dataReceived(SMPP34.encode(_DELIVER, 8))
        self.assertEqual(written(transport), [(8, p.DeliverSmResp())])
        self.assertEqual(esme.kinds(), [p.DeliverSm])

    def test_alert_refused_with_generic_nack(self) -> None:
        """alert_notification from an ESME has no response: generic_nack ESME_RINVBNDSTS."""
        session, transport, _, _ = _bound_smsc()
        session.dataReceived(SMPP34.encode(p.AlertNotification(), 6))
        self.assertEqual(written(transport), [(6, p.GenericNack(command_status=4))])
        self.assertFalse(transport.disconnecting)

    def test_not_served(self) -> None:
        """A legal request the role has no responder for is ESME_RINVCMDID in its response."""
        session, transport, _, _ = _bound_smsc()
        session.dataReceived(SMPP34.encode(p.QuerySm(b"1"), 6))
        self.assertEqual(written(transport), [(6, p.QuerySmResp(command_status=3))])

    @given(
        st.sampled_from([Role.SERVER, Role.CLIENT]),
        st.sampled_from([State.AUTHENTICATING, State.BOUND, State.CLOSING]),
        st.sampled_from([None, *BindKind]),
        st.sampled_from(sorted(LEGALITY.requests, key=lambda cls: cls.__name__)),
    )
    def test_every_state_and_request(
        self, role: Role, state: State, mode: Hashable, kind: type
    ) -> None:
        """Every (role, state, bind kind, request) is answered per the table; nothing raises."""
        handler = Smsc() if role is Role.SERVER else Esme()
        session, transport, _ = _connect(handler)
        if state is not State.AUTHENTICATING:
            session.authenticated("esme1", mode)
        if state is State.CLOSING:
            session.terminate()
        transport.clear()
        rule = LEGALITY.rule(role, state, mode, kind)
        pdu = kind(SYSTEM_ID, PASSWORD) if issubclass(kind, p.Bind) else kind()
        session.dataReceived(SMPP34.encode(pdu, 9))
        answers = written(transport)
        self.assertNotEqual(rule.verdict, Verdict.CLOSE)
        if rule.verdict is Verdict.REFUSE:
            self.assertEqual([(seq, r.command_status) for seq, r in answers], [(9, rule.status)])
            self.assertEqual(handler.requests, [])
        elif kind in (p.EnquireLink, p.Unbind) or (role is Role.SERVER and kind in (
            p.BindReceiver, p.BindTransmitter, p.BindTransceiver)):  # fmt: skip
            self.assertEqual(handler.requests, [])
        else:
            self.assertEqual(handler.kinds(), [kind])
        self.assertFalse(transport.aborted)

    def test_rows(self) -> None:
        """ESME requests are served on TX and TRX binds only; SMSC requests on RX and TRX."""
        allow = Verdict.ALLOW
        for kind in ESME_REQUESTS:
            served = {
                m for m in BindKind if LEGALITY.rule(Role.SERVER, State.BOUND, m, kind).verdict
                is allow
            }  # fmt: skip
            self.assertEqual(served, {BindKind.TRANSMITTER, BindKind.TRANSCEIVER}, kind)
        for kind in SMSC_REQUESTS:
            served = {
                m for m in BindKind if LEGALITY.rule(Role.CLIENT, State.BOUND, m, kind).verdict
                is allow
            }  # fmt: skip
            self.assertEqual(served, {BindKind.RECEIVER, BindKind.TRANSCEIVER}, kind)


class BadInputTests(SynchronousTestCase):
    """Unknown commands, body errors and framing errors."""

    def test_unknown_command(self) -> None:
        """An unknown command id gets generic_nack ESME_RINVCMDID with its sequence; link kept."""
        session, transport, _, _ = _bound_smsc()
        session.dataReceived(struct.pack(">IIII", 20, 0x00000099, 0, 1234) + b"abcd")
        self.assertEqual(written(transport), [(1234, p.GenericNack(command_status=3))])
        self.assertFalse(transport.disconnecting)
        session.dataReceived(SMPP34.encode(p.EnquireLink(), 1235))
        self.assertEqual(written(transport), [(1235, p.EnquireLinkResp())])

    def test_body_error(self) -> None:
        """A submit_sm whose source_addr has no NUL within 21 octets: ESME_RINVSRCADR."""
        session, transport, _, _ = _bound_smsc()
        body = b"\x00\x01\x01" + b"1" * 40 + b"\x00"
        session.dataReceived(struct.pack(">IIII", 16 + len(body), 4, 0, 77) + body)
        self.assertEqual(written(transport), [(77, p.SubmitSmResp(command_status=0x0A))])
        self.assertFalse(transport.disconnecting)

    def test_short_length_closes(self) -> None:
        """command_length below 16 closes the link."""
        session, transport, _, _ = _bound_smsc()
        session.dataReceived(struct.pack(">IIII", 15, 0x15, 0, 1))
        self.assertTrue(transport.aborted)

    def test_long_length_closes(self) -> None:
        """command_length above the frame cap closes the link."""
        session, transport, _, _ = _bound_smsc()
        session.dataReceived(struct.pack(">IIII", SMPP34.max_length + 1, 4, 0, 1))
        self.assertTrue(transport.aborted)

    def test_generic_nack_fails_its_request(self) -> None:
        """A generic_nack answering our request fires its Deferred with the nack."""
        session, transport, _ = _bound_esme()
        d = session.send(_SUBMIT)
        [(seq, _)] = written(transport)
        session.dataReceived(SMPP34.encode(p.GenericNack(command_status=3), seq))
        self.assertEqual(self.successResultOf(d), p.GenericNack(command_status=3))


class TimerTests(SynchronousTestCase):
    """session_init, enquire_link, inactivity and response timers."""

    def test_session_init(self) -> None:
        """A link not bound within login_timeout_s (session_init) is closed."""
        _, transport, clock = _connect(Smsc())
        clock.advance(CONFIG.login_timeout_s)
        self.assertTrue(transport.aborted)

    def test_enquire_link_from_smsc(self) -> None:
        """An idle SMSC session sends enquire_link; its answer keeps the link."""
        session, transport, clock, _ = _bound_smsc()
        clock.advance(30)
        [(seq, pdu)] = written(transport)
        self.assertEqual(pdu, p.EnquireLink())
        session.dataReceived(SMPP34.encode(p.EnquireLinkResp(), seq))
        clock.advance(CONFIG.response_timeout_s)
        self.assertFalse(transport.aborted)

    def test_enquire_link_from_esme(self) -> None:
        """An idle ESME session sends enquire_link; no answer closes the link."""
        session, transport, _ = _bound_esme()
        clock: Any = session.clock
        clock.advance(30)
        self.assertEqual([pdu for _, pdu in written(transport)], [p.EnquireLink()])
        clock.advance(CONFIG.response_timeout_s)
        self.assertTrue(transport.aborted)

    def test_enquire_link_answered_in_open(self) -> None:
        """enquire_link is answered before any bind."""
        session, transport, _ = _connect(Smsc())
        session.dataReceived(SMPP34.encode(p.EnquireLink(), 4))
        self.assertEqual(written(transport), [(4, p.EnquireLinkResp())])

    def test_inactivity(self) -> None:
        """With an inactivity timer and no enquire_link, a silent link is closed."""
        config = SessionConfig(keepalive_s=None, idle_timeout_s=120.0, attempts=1)
        _, transport, clock, _ = _bound_smsc(config=config)
        clock.advance(119)
        self.assertFalse(transport.disconnecting)
        clock.advance(1)
        self.assertTrue(transport.disconnecting)

    def test_response_timeout(self) -> None:
        """A submit_sm unanswered for response_timeout_s fails once (SMPP does not resend)."""
        session, transport, _ = _bound_esme()
        clock: Any = session.clock
        d = session.send(_SUBMIT)
        clock.advance(CONFIG.response_timeout_s)
        self.failureResultOf(d, ResponseTimeout)
        sent = [type(pdu) for _, pdu in written(transport)]
        self.assertEqual(sent.count(p.SubmitSm), 1)


class WindowTests(SynchronousTestCase):
    """The window: responses in any order, unbind after the window drains."""

    def test_out_of_order(self) -> None:
        """Three submits in a window of 2: the third waits; answers in any order match."""
        config = SessionConfig(window=2, attempts=1, keepalive_s=None)
        esme = Esme()
        session, transport, _ = _connect(esme, config)
        session.authenticated("esme1", BindKind.TRANSMITTER)
        ds = [session.send(_SUBMIT) for _ in range(3)]
        seqs = [seq for seq, _ in written(transport)]
        self.assertEqual(len(seqs), 2)
        session.dataReceived(SMPP34.encode(p.SubmitSmResp(b"B"), seqs[1]))
        [(third, _)] = written(transport)
        session.dataReceived(SMPP34.encode(p.SubmitSmResp(b"C"), third))
        session.dataReceived(SMPP34.encode(p.SubmitSmResp(b"A"), seqs[0]))
        self.assertEqual([self.successResultOf(d).message_id for d in ds], [b"A", b"B", b"C"])

    def test_unbind_drains_window(self) -> None:
        """terminate() sends unbind only once every submit in flight is answered."""
        session, transport, _ = _bound_esme()
        d = session.send(_SUBMIT)
        [(seq, _)] = written(transport)
        closed = session.terminate()
        self.assertEqual(written(transport), [])
        session.dataReceived(SMPP34.encode(p.SubmitSmResp(b"1"), seq))
        self.successResultOf(d)
        [(unbind_seq, unbind)] = written(transport)
        self.assertEqual(unbind, p.Unbind())
        session.dataReceived(SMPP34.encode(p.UnbindResp(), unbind_seq))
        self.assertTrue(transport.disconnecting)
        session.connectionLost(Failure(ConnectionDone()))
        self.successResultOf(closed)

    def test_peer_unbind_drains_window(self) -> None:
        """The peer's unbind is answered once our own requests in flight are answered."""
        session, transport, _ = _bound_esme()
        session.send(_SUBMIT)
        [(seq, _)] = written(transport)
        session.dataReceived(SMPP34.encode(p.Unbind(), 50))
        self.assertEqual(written(transport), [])
        session.dataReceived(SMPP34.encode(p.SubmitSmResp(b"1"), seq))
        self.assertEqual(written(transport), [(50, p.UnbindResp())])
        self.assertTrue(transport.disconnecting)

    def test_receipt_crossing_unbind(self) -> None:
        """A deliver_sm that crossed the ESME's unbind is still taken and answered."""
        session, transport, esme = _bound_esme(BindKind.RECEIVER)
        session.terminate()
        written(transport)
        session.dataReceived(SMPP34.encode(_DELIVER, 60))
        self.assertEqual(written(transport), [(60, p.DeliverSmResp())])
        self.assertEqual(esme.kinds(), [p.DeliverSm])

    def test_sequence_wraps(self) -> None:
        """Sequence numbers run 1..0x7FFFFFFF, then wrap to 1."""
        adapter = SmppAdapter(first_sequence=0x7FFFFFFF)
        self.assertEqual([adapter.next_sequence() for _ in range(2)], [0x7FFFFFFF, 1])


class OutbindTests(SynchronousTestCase):
    """Outbind, handled in the ESME role (smpp34.md §2)."""

    def test_outbind_answered_with_bind_receiver(self) -> None:
        """An outbind on an OPEN ESME session is answered with bind_receiver, then bound RX."""
        esme = Esme()
        session, transport, _ = _connect(esme)
        session.dataReceived(SMPP34.encode(p.Outbind(b"SMSC", b"pw"), 1))
        [(seq, request)] = written(transport)
        self.assertEqual(request, p.BindReceiver(SYSTEM_ID, PASSWORD))
        session.dataReceived(SMPP34.encode(p.BindReceiverResp(b"SMSC"), seq))
        self.successResultOf(esme.binds[0])
        self.assertEqual((session.state, session.mode), (State.BOUND, BindKind.RECEIVER))

    def test_smsc_sends_outbind(self) -> None:
        """notify() writes an outbind with a fresh sequence number and expects no answer."""
        session, transport, _ = _connect(Smsc())
        seq = notify(session, p.Outbind(b"SMSC", b"pw"))
        self.assertEqual(written(transport), [(seq, p.Outbind(b"SMSC", b"pw"))])
        self.assertEqual(session.dispatcher.in_flight, 0)

    def test_outbind_to_smsc_refused(self) -> None:
        """An outbind sent to an SMSC session is refused with generic_nack."""
        session, transport, _ = _connect(Smsc())
        session.dataReceived(SMPP34.encode(p.Outbind(b"x", b"y"), 3))
        self.assertEqual(written(transport), [(3, p.GenericNack(command_status=4))])
