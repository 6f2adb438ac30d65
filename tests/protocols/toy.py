"""TOYP, a protocol defined only here, to show that a registered spec is enough.

A tiny length-prefixed protocol on the session engine: Login (with a
``level`` taken from the upstream URL's own key), Submit, Deliver (MO or
report) and Bye.  It has an SP client, a simulator face and a
:class:`~smsgw.protocols.registry.ProtocolSpec`; nothing in :mod:`smsgw`
names it.  :data:`SPEC` is registered by the tests that use it.
"""

from __future__ import annotations

import hmac
import itertools
from collections.abc import Hashable
from typing import Any, ClassVar

import attrs
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IProtocolFactory
from twisted.python.failure import Failure

from smsgw.config import SimulatorConfig, UpstreamConfig
from smsgw.ismg.simulator import Account, Mt, Simulator
from smsgw.protocols.codec import Header, ProtocolCodec
from smsgw.protocols.errors import ErrorKind
from smsgw.protocols.registry import (
    Extras,
    ProtocolSpec,
    SimListener,
    extra_field,
    extras_as,
    int_key,
)
from smsgw.protocols.session import PduAdapter, Session, SessionConfig, SessionFactory
from smsgw.protocols.wire import HeaderSpec, Octets, Sized, UInt
from smsgw.sp.clients import Event, MoEvent, ReportEvent
from smsgw.text.longsms import Part, PartLike

U1, U4 = UInt(1), UInt(4)
#: The port a ``toyp://`` URL without one goes to.
PORT = 7077


@attrs.frozen
class Login:
    account: bytes = b""
    secret: bytes = b""
    level: int = 0


@attrs.frozen
class LoginResp:
    status: int = 0


@attrs.frozen
class Submit:
    report: int = 0
    src: bytes = b""
    dest: bytes = b""
    fmt: int = 0
    content: bytes = b""


@attrs.frozen
class SubmitResp:
    msg_id: int = 0
    status: int = 0


@attrs.frozen
class Deliver:
    is_report: int = 0
    msg_id: int = 0
    src: bytes = b""
    dest: bytes = b""
    fmt: int = 0
    stat: bytes = b""
    content: bytes = b""


@attrs.frozen
class DeliverResp:
    status: int = 0


@attrs.frozen
class Bye:
    pass


@attrs.frozen
class ByeResp:
    pass


_R = 0x80000000
CODEC = ProtocolCodec(
    "TOYP",
    HeaderSpec("I", ("seq",)),
    (
        (1, Login, (("account", Octets(8)), ("secret", Octets(16)), ("level", U1))),
        (_R | 1, LoginResp, (("status", U4),)),
        (2, Bye, ()),
        (_R | 2, ByeResp, ()),
        (
            4,
            Submit,
            (
                ("report", U1),
                ("src", Octets(21)),
                ("dest", Octets(21)),
                ("fmt", U1),
                ("content", Sized(U1)),
            ),
        ),
        (_R | 4, SubmitResp, (("msg_id", U4), ("status", U4))),
        (
            5,
            Deliver,
            (
                ("is_report", U1),
                ("msg_id", U4),
                ("src", Octets(21)),
                ("dest", Octets(21)),
                ("fmt", U1),
                ("stat", Octets(7)),
                ("content", Sized(U1)),
            ),
        ),
        (_R | 5, DeliverResp, (("status", U4),)),
    ),
    {ErrorKind.STRUCTURE: 1, ErrorKind.COMMAND: 2, ErrorKind.LENGTH: 1},
    max_length=1024,
)


class ToyAdapter(PduAdapter):
    """TOYP on the session engine: no keepalive, Bye to close."""

    terminate_request = Bye()
    terminate_answer = ByeResp()

    def __init__(self) -> None:
        self.codec = CODEC
        self._sequence = itertools.count(1)

    def next_sequence(self) -> int:
        return next(self._sequence)


@attrs.frozen(kw_only=True)
class ToyExtras(Extras):
    """TOYP's own URL key: the ``level`` its Login carries (1 to 3)."""

    level: int = extra_field(1, int_key(1, 3))


class LoginRefused(Exception):
    """The face answered Login with a non-zero status."""


class ToyClient:
    """The SP side of a TOYP channel."""

    scheme: ClassVar[str] = "toyp"
    flow_control: ClassVar[frozenset[int]] = frozenset({8})

    def __init__(self, config: UpstreamConfig) -> None:
        self.config = config
        self.extra = extras_as(config.extra, ToyExtras)

    def adapter(self) -> ToyAdapter:
        return ToyAdapter()

    def session_config_overrides(self) -> dict[str, Any]:
        return {"keepalive_s": None}

    def login(self, session: Session) -> Deferred[Any]:
        cfg = self.config
        request = Login(cfg.account.encode(), cfg.secret.encode(), self.extra.level)

        def check(resp: LoginResp) -> LoginResp:
            if resp.status != 0:
                raise LoginRefused(resp.status)
            session.authenticated(cfg.account)
            return resp

        return session.send(request).addCallback(check)

    def submit_pdu(
        self, dests: tuple[str, ...], segment: PartLike, *, report: bool, src: str
    ) -> object:
        (dest,) = dests
        return Submit(int(report), src.encode(), dest.encode(), segment.msg_fmt, segment.content)

    def outcome(self, response: SubmitResp, sequence: Hashable) -> tuple[str, int]:
        return str(response.msg_id), response.status

    def event(self, channel: str, pdu: Any) -> Event | None:
        if type(pdu) is not Deliver:
            return None
        if pdu.is_report:
            return ReportEvent(
                channel=channel,
                msg_id=str(pdu.msg_id),
                stat=pdu.stat.decode(),
                delivered=pdu.stat == b"DELIVRD",
                dest=pdu.src.decode(),
            )
        return MoEvent(
            channel=channel,
            sender=pdu.src.decode(),
            to=pdu.dest.decode(),
            content=pdu.content,
            msg_fmt=pdu.fmt,
            msg_id=str(pdu.msg_id),
        )

    def inbound_kinds(self) -> frozenset[type]:
        return frozenset({Deliver})

    def ack(self, pdu: Any, ok: bool) -> object | None:
        return DeliverResp(0 if ok else 1) if type(pdu) is Deliver else None


class ToyFace:
    """The simulator's TOYP listener.

    :ivar levels: the ``level`` of every Login it accepted, in order.
    """

    protocol = "toyp"

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.levels: list[int] = []
        self._msg_ids = itertools.count(1)

    def factory(self) -> SessionFactory:
        return SessionFactory(ToyAdapter, self, SessionConfig(keepalive_s=None), self.sim.clock)

    def session_started(self, session: Session) -> None:
        pass

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        sim = self.sim
        if not session.bound:
            account = sim.accounts.get(pdu.account.decode()) if type(pdu) is Login else None
            if account is None or not hmac.compare_digest(pdu.secret, account.secret):
                session.respond(LoginResp(1), header.sequence_id)
                session.transport.loseConnection()  # type: ignore[union-attr]
                return None
            self.levels.append(pdu.level)
            session.authenticated(account.id)
            sim.session_bound(account, session, self)
            return LoginResp(0)
        if type(pdu) is not Submit:
            return None
        account = sim.accounts[session.account]
        msg_id = next(self._msg_ids)
        mt = Mt(
            protocol=self.protocol,
            msg_id=str(msg_id),
            src=pdu.src.decode(),
            dests=(pdu.dest.decode(),),
            content=pdu.content,
            msg_fmt=pdu.fmt,
            report=pdu.report == 1,
            report_keys=(msg_id,),
        )
        refused = sim.check(account, mt)
        if refused is not None:
            return SubmitResp(0, 8)
        sim.accept(account, mt, self)
        return sim.respond(account, SubmitResp(msg_id, 0))

    def session_ended(self, session: Session, reason: Failure) -> None:
        self.sim.session_gone(session)

    def live_sessions(self, account: Account) -> list[Session]:
        return [s for s in account.sessions if s.bound and s.handler is self]

    def connect(self, account: Account) -> None:
        return None

    def report_pdu(
        self, account: Account, mt: Mt, index: int, stat: str, submitted: float, done: float
    ) -> Deliver:
        return Deliver(
            is_report=1,
            msg_id=mt.report_keys[index],
            src=mt.dests[index].encode(),
            dest=mt.src.encode(),
            stat=stat.encode(),
        )

    def mo_pdus(
        self, account: Account, sender: str, to: str, segments: list[Part]
    ) -> list[Deliver]:
        return [
            Deliver(
                msg_id=next(self._msg_ids),
                src=sender.encode(),
                dest=to.encode(),
                fmt=seg.msg_fmt,
                content=seg.content,
            )
            for seg in segments
        ]


def _sim_factory(sim: Simulator, config: SimulatorConfig) -> IProtocolFactory:
    face = ToyFace(sim)
    sim.faces[face.protocol] = face
    return face.factory()


SPEC = ProtocolSpec(
    name="toyp",
    schemes=("toyp",),
    default_port=PORT,
    extras=ToyExtras,
    make_client=ToyClient,
    sim=SimListener("toyp", "TOYP endpoint (e.g. tcp:7077)", None, _sim_factory),
)
