"""The harness of the SMPP face tests: a simulator's SMPP listener and ESMEs on real loopback.

The ESME is the engine's own :class:`SmppAdapter` in the client role, with
a handler that answers deliver_sm (and data_sm) and queues what it got.
Every server session is tracked so that a test ends only once each link is
closed on both ends, and the simulator's report timers are cancelled.
"""

from __future__ import annotations

import random
from typing import Any

from twisted.internet import reactor as _reactor
from twisted.internet.defer import Deferred, DeferredList, DeferredQueue
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from smsgw.config.policy import Policy
from smsgw.ismg.simulator import Account, Simulator
from smsgw.protocols.codec import Header
from smsgw.protocols.legality import Responder, responder
from smsgw.protocols.session import Role, Session, SessionConfig, SessionFactory
from smsgw.protocols.smpp import pdus as p
from smsgw.protocols.smpp.face import SmppFace, SmppFaceOptions, smpp_factory
from smsgw.protocols.smpp.session import SmppAdapter, bind

reactor: Any = _reactor

SYSTEM_ID, PASSWORD = "esme01", b"pw0001"
SRC, DEST = "12345", "4479000000001"
#: The ESME's link: window 8, a short response timeout (the late-answer fault outlives it).
CLIENT = SessionConfig(window=8, response_timeout_s=2.0, attempts=1, keepalive_s=None)
SERVER = SessionConfig(window=8, response_timeout_s=3.0, attempts=1, keepalive_s=None)
FAST_REPORTS: dict[str, Any] = {"reports": {"delay_s": [0, 0]}}


class Esme(Responder):
    """The ESME end: deliver_sm and data_sm answered (status :attr:`answer`) and queued."""

    role = Role.CLIENT

    def __init__(self) -> None:
        self.delivers: DeferredQueue[p.DeliverSm | p.DataSm] = DeferredQueue()
        self.requests: list[Any] = []
        self.answer = 0

    def session_started(self, session: Session) -> None:
        pass

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        self.requests.append(pdu)
        return super().handle_request(session, header, pdu)

    def session_ended(self, session: Session, reason: Failure) -> None:
        pass

    @responder(p.DeliverSm)
    def _deliver(self, session: Session, header: Header, pdu: p.DeliverSm) -> p.DeliverSmResp:
        self.delivers.put(pdu)
        return p.DeliverSmResp(command_status=self.answer)

    @responder(p.DataSm)
    def _data(self, session: Session, header: Header, pdu: p.DataSm) -> p.DataSmResp:
        self.delivers.put(pdu)
        return p.DataSmResp(command_status=self.answer)


class FaceTestCase(TestCase):
    """A simulator with an SMPP listener on 127.0.0.1; every wait is bounded."""

    timeout = 15

    def start(
        self,
        *,
        accounts: list[Account] | None = None,
        policy: dict[str, Any] | None = None,
        options: SmppFaceOptions | None = None,
    ) -> Simulator:
        """Start the listener; :attr:`face`, :attr:`sim` and :attr:`port` are set."""
        self.sim = Simulator(
            reactor,
            accounts if accounts is not None else [Account(SYSTEM_ID, PASSWORD)],
            policy=Policy.from_json(policy if policy is not None else FAST_REPORTS),
            rng=random.Random(7),
        )
        factory = smpp_factory(self.sim, options, SERVER)
        face = self.sim.faces["smpp"]
        assert isinstance(face, SmppFace)
        self.face = face
        self.server_sessions: list[Session] = []
        build = factory.buildProtocol

        def tracked(addr: Any) -> Session:
            session = build(addr)
            self.server_sessions.append(session)
            return session

        factory.buildProtocol = tracked  # type: ignore[method-assign]
        listening = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.port = listening.getHost().port
        self.addCleanup(self._stop, listening)
        return self.sim

    async def _stop(self, listening: Any) -> None:
        self.sim.pending_reports.clear()
        for session in self.server_sessions:
            if session.transport is not None:
                session.transport.abortConnection()
        await DeferredList([s.when_closed() for s in self.server_sessions])
        await listening.stopListening()
        for call in reactor.getDelayedCalls():
            # The simulator's redelivery timers of what a closed link left.
            if getattr(call.func, "__self__", None) is self.sim and call.active():
                call.cancel()

    async def connect(self, config: SessionConfig = CLIENT) -> tuple[Session, Esme]:
        """A connected, unbound ESME session."""
        esme = Esme()
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", self.port, timeout=5)
        session: Session = await endpoint.connect(
            SessionFactory(SmppAdapter, esme, config, reactor)
        )
        self.addCleanup(self._close_client, session)
        return session, esme

    async def _close_client(self, session: Session) -> None:
        if session.transport is not None:
            session.transport.abortConnection()
        await session.when_closed()

    async def bound(
        self,
        kind: type[p.Bind] = p.BindTransceiver,
        system_id: str = SYSTEM_ID,
        password: bytes = PASSWORD,
        system_type: bytes = b"",
        config: SessionConfig = CLIENT,
    ) -> tuple[Session, Esme]:
        """An ESME session bound as *kind*."""
        session, esme = await self.connect(config)
        await bind(session, kind(system_id.encode(), password, system_type))
        return session, esme

    async def next_deliver(self, esme: Esme) -> Any:
        """The next deliver_sm (or data_sm) *esme* got, within 5 s."""
        d: Deferred[Any] = esme.delivers.get()
        return await d.addTimeout(5, reactor)
