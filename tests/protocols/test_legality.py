"""Tests for :mod:`smsgw.protocols.legality`: every (state × request) pair of every link.

Each link kind is a real role (the simulator's CMPP 2.0, CMPP 3.0, SGIP and
SMGP faces, the FWD and GNS listeners, the GNS push receiver, the SP's
inbound handlers, and the client ends) on a real :class:`Session` with a
``StringTransport`` and a ``Clock``.  A request of each kind is fed in each
state the engine can receive one in, and the table's verdict must be what
happens: the role sees an allowed request, a refused one is answered with the
protocol's error response carrying the table's status, an illegal one closes
the link, and nothing raises (as python-hyper/h2's ``test_state_machines.py``
drives its state machine with every input).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from smsgw.config import parse_upstream_url
from smsgw.gns.client import PushReceiver, _QuietHandler
from smsgw.gns.routes import RouteTable
from smsgw.gns.server import GnsServer, IsmgAccount, _PushHandler
from smsgw.ismg.forward import Forwarder
from smsgw.ismg.simulator import Account, Simulator
from smsgw.protocols.cmpp import pdus as cp
from smsgw.protocols.cmpp.face import cmpp3_factory, cmpp_factory
from smsgw.protocols.cmpp.session import CmppAdapter
from smsgw.protocols.legality import (
    ALLOW,
    CLOSE,
    Legality,
    Responder,
    build_legality,
    refuse,
    responder,
)
from smsgw.protocols.session import Role, Session, SessionConfig, SessionFactory, State, Verdict
from smsgw.protocols.sgip import pdus as gp
from smsgw.protocols.sgip.client import _SgipServerHandler
from smsgw.protocols.sgip.constants import Result as SgipResult
from smsgw.protocols.sgip.face import _LinkHandler, sgip_factory
from smsgw.protocols.smgp import pdus as mp
from smsgw.protocols.smgp.constants import LoginMode, Status
from smsgw.protocols.smgp.face import smgp_factory
from smsgw.sp.channel import Channel, _InboundHandler

ACCOUNT = "901234"


class _Transport(StringTransport):
    """A ``StringTransport`` that tells an abort from an orderly close."""

    aborted = False

    def abortConnection(self) -> None:
        self.aborted = True
        super().abortConnection()


@attrs.frozen
class LinkKind:
    """One kind of link: how to build its session, and the modes it logs in with."""

    name: str
    build: Callable[[Clock], Session]
    identity: str = ACCOUNT
    modes: tuple[Hashable, ...] = (None,)


def _sim(clock: Clock) -> Simulator:
    return Simulator(clock, [Account(ACCOUNT, b"123456")])


def _from(factory: SessionFactory) -> Session:
    return factory.buildProtocol(None)


def _channel(url: str, clock: Clock) -> Channel:
    return Channel(parse_upstream_url(url), clock)


def _sp_client(url: str) -> Callable[[Clock], Session]:
    def build(clock: Clock) -> Session:
        channel = _channel(url, clock)
        handler = _InboundHandler(channel)
        return Session(channel.client.adapter(), handler, SessionConfig(), clock)

    return build


def _sp_sgip_server(clock: Clock) -> Session:
    channel = _channel("sgip://901234:123456@127.0.0.1:8801", clock)
    return Session(channel.client.adapter(), _SgipServerHandler(channel), SessionConfig(), clock)


def _sgip_link(clock: Clock) -> Session:
    sim = _sim(clock)
    sgip_factory(sim)
    face: Any = sim.faces["sgip"]
    return Session(face._adapter(), _LinkHandler(face), SessionConfig(), clock)


def _gns(clock: Clock) -> Session:
    server = GnsServer(clock, RouteTable(), [IsmgAccount("002001", b"gns")])
    return _from(server.factory())


LINKS = [
    LinkKind("cmpp2", lambda clock: _from(cmpp_factory(_sim(clock)))),
    LinkKind("cmpp3", lambda clock: _from(cmpp3_factory(_sim(clock)))),
    LinkKind("sgip", lambda clock: _from(sgip_factory(_sim(clock)))),
    LinkKind("smgp", lambda clock: _from(smgp_factory(_sim(clock))), modes=tuple(LoginMode)),
    LinkKind("fwd", lambda clock: _from(Forwarder(_sim(clock)).factory()), "002001"),
    LinkKind("gns", _gns, "002001"),
    LinkKind("gns-push", lambda clock: _from(PushReceiver(clock, {"000001": b"x"}).factory())),
    LinkKind("sp-sgip-server", _sp_sgip_server),
    LinkKind("sp-cmpp", _sp_client("cmpp://901234:123456@127.0.0.1:7890")),
    LinkKind("sp-cmpp3", _sp_client("cmpp3://901234:123456@127.0.0.1:7890")),
    LinkKind("sp-smgp", _sp_client("smgp://901234:123456@127.0.0.1:8890")),
    LinkKind("sp-sgip", _sp_client("sgip://901234:123456@127.0.0.1:8801")),
    LinkKind("sgip-smg-to-sp", _sgip_link),
    LinkKind(
        "gns-client",
        lambda clock: Session(CmppAdapter(), _QuietHandler(), SessionConfig(), clock),
    ),
    LinkKind(
        "gns-push-link",
        lambda clock: Session(CmppAdapter(), _PushHandler(), SessionConfig(), clock),
    ),
]
#: The states in which a peer's request can arrive.
STATES = (State.AUTHENTICATING, State.BOUND, State.CLOSING)


def _connect(link: LinkKind, state: State, mode: Hashable) -> tuple[Session, _Transport]:
    """A session of *link* in *state* (logged in with *mode* where that applies)."""
    clock = Clock()
    clock.advance(1_700_000_000)
    session = link.build(clock)
    transport = _Transport()
    session.makeConnection(transport)
    if state is not State.AUTHENTICATING:
        session.authenticated(link.identity, mode)
    if state is State.CLOSING:
        session.terminate()
    transport.clear()
    return session, transport


def _requests(session: Session) -> list[type]:
    """The request kinds of *session*'s protocol that its codec speaks."""
    legality = session.adapter.legality
    assert legality is not None
    kinds = [kind for kind in legality.requests if kind in session.codec.layouts]
    return sorted(kinds, key=lambda cls: cls.__name__)


class _Seen:
    """Wraps a session's role to record the requests that reach it."""

    def __init__(self, session: Session) -> None:
        self.kinds: list[type] = []
        handler: Any = session.handler
        original = handler.handle_request

        def spy(session: Session, header: Any, pdu: Any) -> Any:
            self.kinds.append(type(pdu))
            return original(session, header, pdu)

        handler.handle_request = spy


def _responses(session: Session, transport: StringTransport) -> list[tuple[Any, Any]]:
    """Decode (and clear) every frame *session* wrote: ``(sequence, pdu)``."""
    data, frames = transport.value(), []
    transport.clear()
    while data:
        length = int.from_bytes(data[:4], "big")
        header, pdu = session.codec.decode(data[:length])
        frames.append((header.sequence_id, pdu))
        data = data[length:]
    return frames


_SEQ: dict[type, Any] = {}


def _wire(session: Session, pdus: list[Any]) -> list[bytes]:
    """*pdus* as *session* encodes them (decoding pads some fields: compare bytes).

    Every call for one adapter class uses the same sequence number.
    """
    seq = _SEQ.setdefault(type(session.adapter), session.adapter.next_sequence())
    return [session.codec.encode(pdu, seq) for pdu in pdus]


class _VerdictCase(SynchronousTestCase):
    """Feeds one request and checks that its verdict happened."""

    def feed(self, session: Session, transport: _Transport, kind: type) -> None:
        """Feed a *kind* request to *session* and assert the table's verdict for it."""
        legality = session.adapter.legality
        assert legality is not None
        state, mode = session.state, session.mode
        rule = legality.rule(session.role, state, mode, kind)
        seen = _Seen(session)
        pdu = kind()
        seq = session.adapter.next_sequence()
        session.dataReceived(session.codec.encode(pdu, seq))
        where = f"{kind.__name__} in {session.role.value}/{state.value}/{mode}"
        self.assertEqual(self.flushLoggedErrors(), [], where)
        self.assertFalse(transport.aborted, where)
        answers = [resp for s, resp in _responses(session, transport) if s == seq]
        if rule.verdict is Verdict.CLOSE:
            self.assertTrue(transport.disconnecting, where)
            self.assertEqual((answers, seen.kinds), ([], []), where)
        elif rule.verdict is Verdict.REFUSE:
            refusal = session.adapter.refusal(pdu, rule.status)
            self.assertEqual(seen.kinds, [], where)
            if refusal is None:
                self.assertTrue(transport.disconnecting, where)
            else:
                self.assertEqual(_wire(session, answers), _wire(session, [refusal]), where)
                self.assertFalse(transport.disconnecting, where)
        else:
            engine = session.adapter.is_keepalive(pdu) or session.adapter.is_terminate(pdu)
            login = session.role is Role.SERVER and kind is legality.login
            if engine or login:
                # The engine answers these itself (a default login is refused).
                self.assertEqual(seen.kinds, [], where)
                self.assertEqual(len(answers), 1, where)
            else:
                self.assertEqual(seen.kinds, [kind], where)


class EveryPairTests(_VerdictCase):
    """Every (link, state, mode) × request kind, each on a fresh session."""

    def test_every_pair(self) -> None:
        """Each request kind in each state of each link gets exactly its table verdict."""
        pairs = 0
        for link in LINKS:
            for state in STATES:
                for mode in link.modes if state is not State.AUTHENTICATING else (None,):
                    for kind in _requests(_connect(link, state, mode)[0]):
                        session, transport = _connect(link, state, mode)
                        self.feed(session, transport, kind)
                        pairs += 1
        self.assertGreater(pairs, 500)


class SequenceTests(_VerdictCase):
    """Sequences of requests on one link: each meets the verdict of the state it arrives in."""

    @given(
        link=st.sampled_from(LINKS),
        start=st.sampled_from(STATES),
        data=st.data(),
    )
    def test_sequences(self, link: LinkKind, start: State, data: st.DataObject) -> None:
        """Whatever a peer sends in whatever order, the table decides and nothing raises."""
        mode = data.draw(st.sampled_from(link.modes)) if start is not State.AUTHENTICATING else None
        session, transport = _connect(link, start, mode)
        kinds = data.draw(st.lists(st.sampled_from(_requests(session)), max_size=6))
        for kind in kinds:
            if transport.disconnecting or session.state is State.CLOSED:
                break
            self.feed(session, transport, kind)


class TableTests(SynchronousTestCase):
    """The rows every protocol's table has."""

    def test_before_login(self) -> None:
        """Before login a server takes only the login, keepalive and terminate."""
        for link in LINKS:
            session, _ = _connect(link, State.AUTHENTICATING, None)
            if session.role is not Role.SERVER:
                continue
            legality = session.adapter.legality
            assert legality is not None
            allowed = {
                kind
                for kind in legality.requests
                if legality.rule(Role.SERVER, State.AUTHENTICATING, None, kind) == ALLOW
            }
            engine = {type(session.adapter.terminate())}
            keepalive = session.adapter.keepalive()
            if keepalive is not None:
                engine.add(type(keepalive))
            self.assertEqual(allowed, {legality.login} | engine, link.name)

    def test_second_login(self) -> None:
        """A login on a bound link gets each protocol's own answer, and the link stays."""
        cases = [
            (LINKS[0], cp.Connect(), cp.ConnectResp(status=1)),
            (LINKS[2], gp.Bind(), gp.BindResp(SgipResult.REPEATED_LOGIN)),
            (LINKS[3], mp.Login(), mp.LoginResp(status=Status.COMMAND_ERROR)),
        ]
        for link, login, answer in cases:
            session, transport = _connect(link, State.BOUND, link.modes[-1])
            session.dataReceived(session.codec.encode(login, session.adapter.next_sequence()))
            [(_, resp)] = _responses(session, transport)
            self.assertEqual(resp, answer, link.name)
            self.assertTrue(session.bound)

    def test_smgp_receive_only(self) -> None:
        """A Submit on a RECEIVE login gets Status 11; on SEND and TRANSMIT it is served."""
        smgp = LINKS[3]
        session, transport = _connect(smgp, State.BOUND, LoginMode.RECEIVE)
        session.dataReceived(session.codec.encode(mp.Submit(), 7))
        self.assertEqual(_responses(session, transport), [(7, mp.SubmitResp(status=11))])
        for mode in (LoginMode.SEND, LoginMode.TRANSMIT):
            session, _ = _connect(smgp, State.BOUND, mode)
            seen = _Seen(session)
            session.dataReceived(session.codec.encode(mp.Submit(), 7))
            self.assertEqual(seen.kinds, [mp.Submit], mode)

    def test_not_served(self) -> None:
        """A legal request a role does not serve gets the protocol's "not served" status."""
        cases = [
            (LINKS[0], cp.Deliver(msg_id=5), cp.DeliverResp(5, 2)),
            (LINKS[0], cp.MtRoute(), cp.MtRouteResp(result=1)),
            (LINKS[2], gp.Deliver(), gp.DeliverResp(SgipResult.BAD_COMMAND_ID)),
            (LINKS[3], mp.Deliver(msg_id=b"\x01" * 10), mp.DeliverResp(b"\x01" * 10, 11)),
        ]
        for link, request, answer in cases:
            session, transport = _connect(link, State.BOUND, link.modes[-1])
            session.dataReceived(session.codec.encode(request, session.adapter.next_sequence()))
            [(_, resp)] = _responses(session, transport)
            self.assertEqual(_wire(session, [resp]), _wire(session, [answer]), link.name)
            self.assertFalse(transport.disconnecting)

    def test_unknown_mode_uses_the_plain_row(self) -> None:
        """A login mode without a row of its own gets the mode-less bound row."""
        table = build_legality(
            requests=[cp.Submit],
            login=cp.Connect,
            terminate=cp.Terminate,
            keepalive=None,
            second_login=1,
            modes={"receiver": {cp.Submit: refuse(4)}},
        )
        self.assertEqual(table.rule(Role.SERVER, State.BOUND, "receiver", cp.Submit), refuse(4))
        self.assertEqual(table.rule(Role.SERVER, State.BOUND, "other", cp.Submit), ALLOW)
        self.assertEqual(table.rule(Role.SERVER, State.BOUND, None, cp.Query), CLOSE)
        self.assertIsInstance(table, Legality)


class ResponderTests(SynchronousTestCase):
    """The responder table (AMP's CommandLocator)."""

    def test_collected_per_class(self) -> None:
        """Marked methods form the table; a subclass inherits and overrides entries."""

        class Base(Responder):
            @responder(cp.Submit)
            def submit(self, session: Session, header: Any, pdu: Any) -> str:
                return "base"

            @responder(cp.Query, cp.Cancel)
            def other(self, session: Session, header: Any, pdu: Any) -> str:
                return "other"

        class Child(Base):
            @responder(cp.Submit)
            def submit2(self, session: Session, header: Any, pdu: Any) -> str:
                return "child"

        base, child = Base(), Child()
        self.assertEqual(dict(Base.responders), {cp.Submit: "submit", cp.Query: "other",
                                                 cp.Cancel: "other"})  # fmt: skip
        self.assertEqual(child.locate_responder(cp.Submit)(None, None, None), "child")  # type: ignore[misc, arg-type]
        self.assertEqual(base.locate_responder(cp.Submit)(None, None, None), "base")  # type: ignore[misc, arg-type]
        self.assertIsNone(child.locate_responder(cp.Deliver))
