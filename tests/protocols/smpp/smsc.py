"""A scripted SMSC for the SP client's loopback tests, built from the engine (server role).

It binds one account (any bind kind), answers submit_sm with message ids in
decimal or hex, or with the statuses a test queues (throttling, errors),
records every submit_sm and which link it came on, and sends deliver_sm
(receipts, MOs) on a link that may carry them.
"""

from __future__ import annotations

import itertools
from typing import Any

from twisted.internet import reactor as _reactor
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IListeningPort
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from smsgw.protocols.codec import Header
from smsgw.protocols.legality import Responder, responder
from smsgw.protocols.session import LoginResult, Role, Session, SessionConfig, SessionFactory
from smsgw.protocols.smpp import pdus as p
from smsgw.protocols.smpp.constants import BindKind
from smsgw.protocols.smpp.session import SmppAdapter, check_bind

reactor: Any = _reactor

SYSTEM_ID = "esme1"
PASSWORD = "secret08"
CONFIG = SessionConfig(window=16, response_timeout_s=5.0, attempts=1, keepalive_s=None)


class ScriptedSmsc(Responder):
    """The SMSC end of the SP client tests.

    :ivar statuses: command_status for the next submit_sm, first first
        (an empty list: 0, accepted).
    :ivar hex_ids: message ids in upper-case hex, else decimal.
    :ivar submits: every submit_sm, in arrival order, with its link's bind kind.
    :ivar accepted: ``(message_id, submit_sm)`` of the accepted ones.
    """

    role = Role.SERVER

    def __init__(self, *, hex_ids: bool = False, first_id: int = 1000) -> None:
        self.hex_ids = hex_ids
        self.statuses: list[int] = []
        self.sessions: list[Session] = []
        self.submits: list[tuple[BindKind, p.SubmitSm]] = []
        self.accepted: list[tuple[str, p.SubmitSm]] = []
        self.delivered: list[p.DeliverSmResp | p.DataSmResp] = []
        #: When each submit_sm arrived (reactor seconds).
        self.times: list[float] = []
        self._ids = itertools.count(first_id)

    def session_started(self, session: Session) -> None:
        self.sessions.append(session)

    def session_ended(self, session: Session, reason: Failure) -> None:
        """A link closed (the test ends with it)."""

    def authenticate(self, session: Session, pdu: p.Bind) -> LoginResult:
        return check_bind(pdu, {SYSTEM_ID: PASSWORD.encode()}, system_id=b"SMSC")

    @responder(p.SubmitSm)
    def submit(self, session: Session, header: Header, pdu: p.SubmitSm) -> p.SubmitSmResp:
        self.submits.append((session.mode, pdu))
        self.times.append(reactor.seconds())
        status = self.statuses.pop(0) if self.statuses else 0
        if status:
            return p.SubmitSmResp(command_status=status)
        number = next(self._ids)
        message_id = f"{number:X}" if self.hex_ids else str(number)
        self.accepted.append((message_id, pdu))
        return p.SubmitSmResp(message_id.encode())

    def binds(self) -> list[BindKind]:
        """The bind kinds of the bound links, in the order they connected."""
        return [s.mode for s in self.sessions if s.bound]

    def deliver(self, pdu: p.DeliverSm | p.DataSm) -> Deferred[Any]:
        """Send *pdu* on a bound receiver or transceiver link; fire with the ESME's answer."""
        for session in self.sessions:
            if session.bound and session.mode in (BindKind.RECEIVER, BindKind.TRANSCEIVER):
                d: Deferred[Any] = session.send(pdu)
                return d.addCallback(self._answered)
        raise AssertionError("no link can take a deliver_sm")

    def _answered(self, resp: Any) -> Any:
        self.delivered.append(resp)
        return resp


def listen_smsc(case: TestCase, smsc: ScriptedSmsc) -> int:
    """Listen for *smsc* on a free 127.0.0.1 port (closed on cleanup); return the port."""
    factory = SessionFactory(SmppAdapter, smsc, CONFIG, reactor)
    port: IListeningPort = reactor.listenTCP(0, factory, interface="127.0.0.1")
    case.addCleanup(port.stopListening)

    def close() -> None:
        for session in smsc.sessions:
            if session.transport is not None:
                session.transport.abortConnection()

    case.addCleanup(close)
    return int(port.getHost().port)
