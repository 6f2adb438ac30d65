"""Which peer request is legal in which state, and the roles' responder tables.

A :class:`Legality` table is data, as python-hyper/h2's connection state
machine is: rows keyed by ``(role, state, login mode)``, each mapping a
request's PDU class to a :class:`~smsgw.protocols.session.Rule` (serve it,
refuse it with the protocol's own status, or close the link).  Every
protocol builds its table with :func:`build_legality` from its request
classes, its login, keepalive and terminate, and the rows its login modes
change (SMGP's receive-only login refuses Submit; SMPP's bind kinds will be
rows the same way).  The session engine consults it for every request
before anything else sees the request.

A role answers the requests the table allows through a responder table, as
AMP's ``CommandLocator`` does: methods marked with :func:`responder` for
their PDU classes, found by :meth:`Responder.locate_responder`.  A legal
request no method serves is refused with the protocol's "not served" status
(:meth:`Responder.not_served`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, ClassVar, TypeVar

import attrs
from twisted.logger import Logger

from smsgw.protocols.codec import Header, ProtocolCodec
from smsgw.protocols.session import RESPONSE_BIT, Role, Rule, Session, State, Verdict

__all__ = [
    "ALLOW",
    "CLOSE",
    "Legality",
    "Responder",
    "build_legality",
    "refuse",
    "request_classes",
    "responder",
]

#: Serve the request.
ALLOW = Rule(Verdict.ALLOW)
#: Close the link.
CLOSE = Rule(Verdict.CLOSE)


def refuse(status: int) -> Rule:
    """Answer with the protocol's error response carrying *status*."""
    return Rule(Verdict.REFUSE, int(status))


Row = Mapping[type, Rule]


def request_classes(*codecs: ProtocolCodec) -> frozenset[type]:
    """Every request PDU class (no response bit in its command id) of *codecs*."""
    return frozenset(
        cls
        for codec in codecs
        for cls, layout in codec.layouts.items()
        if layout.command_id is not None and not layout.command_id & RESPONSE_BIT
    )


@attrs.frozen
class Legality:
    """One protocol's table: ``(role, state, mode)`` rows × request class → :class:`Rule`.

    A row for a mode that has none of its own is the mode-less row
    (``mode=None``); a class missing from its row closes the link.

    :ivar login: the login request class (CONNECT, Bind, Login), or a base
        class every login kind shares (SMPP's three binds).
    :ivar rows: the rows.
    :ivar requests: every request class of the protocol (for tests and tools).
    :ivar modes: the login modes that have rows of their own.
    """

    login: type
    rows: Mapping[tuple[Role, State, Hashable], Row]
    requests: frozenset[type]
    modes: frozenset[Hashable] = frozenset()

    def rule(self, role: Role, state: State, mode: Hashable, kind: type) -> Rule:
        """The verdict on a *kind* request from the peer."""
        return self.row(role, state, mode).get(kind, CLOSE)

    def row(self, role: Role, state: State, mode: Hashable) -> Row:
        """Every verdict for *role* in *state* and *mode*: request class → :class:`Rule`.

        A class missing from the row closes the link (:data:`CLOSE`).  A
        session keeps the row of its state instead of asking :meth:`rule`
        for every request.
        """
        row = self.rows.get((role, state, mode))
        if row is None:
            row = self.rows.get((role, state, None), {})
        return row


def build_legality(
    *,
    requests: Iterable[type],
    login: type,
    terminate: type,
    keepalive: type | None,
    second_login: int,
    modes: Mapping[Hashable, Mapping[type, Rule]] | None = None,
) -> Legality:
    """The table every protocol here shares, with its own classes and statuses.

    * Before login (``AUTHENTICATING``) a server takes the login, keepalive
      and terminate, and closes the link on anything else (the spec's "the
      first PDU is the login"); a client takes keepalive and terminate.
    * Once bound, every request is legal on either side (the role's responder
      table decides what is served), except a second login, refused with
      *second_login*.  *modes* override the bound server row per login mode.
    * While closing, a server only answers keepalive and terminate (anything
      else closes the link, as before login); a client still takes what
      crossed its TERMINATE (a DELIVER is stored and answered).

    :param requests: every request PDU class of the protocol.
    :param second_login: the status refusing a login on a bound link.
    :param modes: login mode → the rules that replace the bound server row's.
    """
    kinds = frozenset(requests) | {login, terminate} | ({keepalive} if keepalive else set())
    link: dict[type, Rule] = {terminate: ALLOW}
    if keepalive is not None:
        link[keepalive] = ALLOW
    bound = {**dict.fromkeys(kinds, ALLOW), login: refuse(second_login)}
    rows: dict[tuple[Role, State, Hashable], Row] = {
        (Role.SERVER, State.AUTHENTICATING, None): {**link, login: ALLOW},
        (Role.SERVER, State.BOUND, None): bound,
        (Role.SERVER, State.CLOSING, None): link,
        (Role.CLIENT, State.AUTHENTICATING, None): link,
        (Role.CLIENT, State.BOUND, None): bound,
        (Role.CLIENT, State.CLOSING, None): bound,
    }
    for mode, overrides in (modes or {}).items():
        rows[Role.SERVER, State.BOUND, mode] = {**bound, **overrides}
    return Legality(login, rows, kinds, frozenset((modes or {}).keys()))


_F = TypeVar("_F", bound=Callable[..., Any])


def responder(*kinds: type) -> Callable[[_F], _F]:
    """Mark a :class:`Responder` method as the answer to requests of *kinds*.

    The method is called as ``method(session, header, pdu)`` and returns a
    response PDU, a Deferred of one, or ``None`` (no answer).
    """

    def mark(method: _F) -> _F:
        method.__dict__.setdefault("_responds_to", ())
        method._responds_to += kinds  # type: ignore[attr-defined]
        return method

    return mark


class Responder:
    """A role whose requests are answered through a responder table (AMP's locator).

    Subclasses mark methods with :func:`responder`; the table is collected
    per class, subclasses inheriting and overriding their bases' entries.
    """

    log = Logger()
    #: PDU class → the name of the method that answers it.
    responders: ClassVar[Mapping[type, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table: dict[type, str] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                for kind in getattr(value, "_responds_to", ()):
                    table[kind] = name
        cls.responders = table

    def locate_responder(self, kind: type) -> Callable[[Session, Header, Any], Any] | None:
        """The bound method answering *kind* requests, or ``None``."""
        name = self.responders.get(kind)
        return getattr(self, name) if name is not None else None

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        """Answer *pdu* with its responder, or :meth:`not_served` when it has none."""
        method = self.locate_responder(type(pdu))
        if method is None:
            return self.not_served(session, header, pdu)
        return method(session, header, pdu)

    def not_served(self, session: Session, header: Header, pdu: Any) -> Any:
        """A legal request this role does not serve: the protocol's "not served" answer."""
        self.log.warn("{peer}: {pdu} is not served here", peer=session.peer,
                      pdu=type(pdu).__name__)  # fmt: skip
        session.refuse(pdu, header.sequence_id, session.adapter.not_served_status)
        return None
