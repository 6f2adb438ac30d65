"""Two SMPP sessions of the engine over a real loopback socket: an ESME and an SMSC.

The ESME binds as transceiver, submits in a window and gets the answers
back in reverse order, both ends send enquire_link, the SMSC delivers a
message, and the ESME unbinds once its window has drained.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import reactor as _reactor
from twisted.internet.defer import gatherResults
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.interfaces import IReactorTCP, IReactorTime
from twisted.trial.unittest import TestCase

from smsgw.protocols.session import Session, SessionConfig, SessionFactory, State
from smsgw.protocols.smpp import pdus as p
from smsgw.protocols.smpp.constants import BindKind
from smsgw.protocols.smpp.session import SmppAdapter, bind
from tests.protocols.smpp.roles import PASSWORD, SYSTEM_ID, Esme, Smsc

reactor: Any = _reactor
CONFIG = SessionConfig(window=4, response_timeout_s=10.0, attempts=1, keepalive_s=None)


class LoopbackTests(TestCase):
    """An ESME session and an SMSC session of the engine over TCP on 127.0.0.1."""

    timeout = 20

    async def test_conversation(self) -> None:
        """Bind, a window answered out of order, enquire_link both ways, deliver, unbind."""
        smsc = Smsc(hold=True)
        clock: IReactorTime = reactor
        tcp: IReactorTCP = reactor
        port = tcp.listenTCP(
            0, SessionFactory(SmppAdapter, smsc, CONFIG, clock), interface="127.0.0.1"
        )
        self.addCleanup(port.stopListening)
        esme = Esme()
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
        session: Session = await endpoint.connect(SessionFactory(SmppAdapter, esme, CONFIG, clock))
        self.addCleanup(lambda: session.transport and session.transport.abortConnection())

        resp = await bind(session, p.BindTransceiver(SYSTEM_ID, PASSWORD))
        self.assertEqual(resp.system_id, b"SMSC")
        self.assertEqual((session.state, session.mode), (State.BOUND, BindKind.TRANSCEIVER))
        [server] = smsc.sessions

        submits = [
            session.send(p.SubmitSm(destination_addr=b"86138001380%02d" % i, short_message=b"m"))
            for i in range(6)
        ]
        await smsc.when_held(4)
        self.assertEqual(session.dispatcher.in_flight, 4)
        self.assertEqual(session.dispatcher.queued, 2)
        smsc.release([3, 2, 1, 0])
        await smsc.when_held(6)
        smsc.release([5, 4])
        answers = await gatherResults(submits)
        sequences = [int(a.message_id) for a in answers]
        self.assertEqual(sequences, sorted(sequences))
        self.assertEqual(len(set(sequences)), 6)

        self.assertEqual(await session.send(p.EnquireLink()), p.EnquireLinkResp())
        self.assertEqual(await server.send(p.EnquireLink()), p.EnquireLinkResp())

        deliver = p.DeliverSm(source_addr=b"8613800138000", short_message=b"MO")
        self.assertEqual(await server.send(deliver), p.DeliverSmResp())
        self.assertEqual(esme.kinds(), [p.DeliverSm])

        await gatherResults([session.terminate(), server.when_closed()])
        self.assertEqual(session.state, State.CLOSED)
        self.assertEqual(server.state, State.CLOSED)
