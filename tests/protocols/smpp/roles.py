"""Tiny SMSC and ESME roles for the SMPP session tests (not the simulator or the SP client).

:class:`Smsc` checks binds with :func:`check_bind` and answers submit_sm with
a message_id (or holds the answers, to release them in any order);
:class:`Esme` answers deliver_sm and binds as a receiver when outbound.
Both record every request that reaches them.
"""

from __future__ import annotations

import struct
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from smsgw.protocols.codec import Header
from smsgw.protocols.legality import Responder, responder
from smsgw.protocols.session import LoginResult, Role, Session
from smsgw.protocols.smpp import pdus as p
from smsgw.protocols.smpp.codec import SMPP34
from smsgw.protocols.smpp.session import bind, check_bind

SYSTEM_ID = b"esme1"
PASSWORD = b"secret08"


def written(transport: StringTransport) -> list[tuple[int, Any]]:
    """Decode (and clear) every frame written: ``(sequence_number, pdu)``."""
    data = transport.value()
    transport.clear()
    out = []
    while data:
        (n,) = struct.unpack_from(">I", data)
        header, pdu = SMPP34.decode(data[:n])
        out.append((header.sequence_id, pdu))
        data = data[n:]
    return out


class _Recorder(Responder):
    def __init__(self) -> None:
        self.sessions: list[Session] = []
        self.requests: list[tuple[Header, Any]] = []
        self.ended: list[Failure] = []

    def session_started(self, session: Session) -> None:
        self.sessions.append(session)

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        self.requests.append((header, pdu))
        return super().handle_request(session, header, pdu)

    def session_ended(self, session: Session, reason: Failure) -> None:
        self.ended.append(reason)

    def kinds(self) -> list[type]:
        """The classes of the requests seen, in order."""
        return [type(pdu) for _, pdu in self.requests]


class Smsc(_Recorder):
    """The SMSC end: binds checked against one account; submit_sm answered or held."""

    role = Role.SERVER

    def __init__(self, *, hold: bool = False) -> None:
        super().__init__()
        self.hold = hold
        self.held: list[tuple[Deferred[Any], Any]] = []
        self._held_waiters: list[tuple[int, Deferred[None]]] = []

    def authenticate(self, session: Session, pdu: p.Bind) -> LoginResult:
        return check_bind(pdu, {SYSTEM_ID.decode(): PASSWORD}, system_id=b"SMSC")

    @responder(p.SubmitSm)
    def submit(self, session: Session, header: Header, pdu: p.SubmitSm) -> Any:
        resp = p.SubmitSmResp(b"%d" % header.sequence_id)
        if not self.hold:
            return resp
        d: Deferred[Any] = Deferred()
        self.held.append((d, resp))
        waiting, self._held_waiters = self._held_waiters, []
        for count, waiter in waiting:
            if len(self.held) >= count:
                waiter.callback(None)
            else:
                self._held_waiters.append((count, waiter))
        return d

    def when_held(self, count: int) -> Deferred[None]:
        """Fires once *count* submits are held."""
        d: Deferred[None] = Deferred()
        if len(self.held) >= count:
            d.callback(None)
        else:
            self._held_waiters.append((count, d))
        return d

    def release(self, order: list[int]) -> None:
        """Answer the held submits in *order* (indexes into :attr:`held`)."""
        for i in order:
            d, resp = self.held[i]
            d.callback(resp)


class Esme(_Recorder):
    """The ESME end: deliver_sm answered; an outbind answered with bind_receiver."""

    role = Role.CLIENT

    def __init__(self) -> None:
        super().__init__()
        self.binds: list[Deferred[p.BindResp]] = []

    @responder(p.DeliverSm)
    def deliver(self, session: Session, header: Header, pdu: p.DeliverSm) -> p.DeliverSmResp:
        return p.DeliverSmResp()

    @responder(p.Outbind)
    def outbind(self, session: Session, header: Header, pdu: p.Outbind) -> None:
        self.binds.append(bind(session, p.BindReceiver(SYSTEM_ID, PASSWORD)))
