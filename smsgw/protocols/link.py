"""What a link is made of, around the engine: states, roles, rules, settings, adapters.

The engine itself (:class:`~smsgw.protocols.session.Session`) is in
:mod:`smsgw.protocols.session`, which re-exports every name here; import them
from there.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import attrs
from twisted.python.failure import Failure

from smsgw.protocols.codec import Header, ProtocolCodec
from smsgw.protocols.errors import DecodeError

if TYPE_CHECKING:
    from smsgw.protocols.legality import Legality
    from smsgw.protocols.session import Session

RESPONSE_BIT = 0x80000000


class State(enum.Enum):
    """Where a link is in its life."""

    CONNECTING = "connecting"
    AUTHENTICATING = "authenticating"
    BOUND = "bound"
    CLOSING = "closing"
    CLOSED = "closed"


class Event(enum.Enum):
    """What moves a link from one :class:`State` to the next."""

    CONNECTED = "connected"
    AUTHENTICATED = "authenticated"
    TERMINATE = "terminate"
    LOST = "lost"


_TRANSITIONS: dict[tuple[State, Event], State] = {
    (State.CONNECTING, Event.CONNECTED): State.AUTHENTICATING,
    (State.CONNECTING, Event.LOST): State.CLOSED,
    (State.AUTHENTICATING, Event.AUTHENTICATED): State.BOUND,
    (State.AUTHENTICATING, Event.TERMINATE): State.CLOSING,
    (State.AUTHENTICATING, Event.LOST): State.CLOSED,
    (State.BOUND, Event.TERMINATE): State.CLOSING,
    (State.BOUND, Event.LOST): State.CLOSED,
    (State.CLOSING, Event.TERMINATE): State.CLOSING,
    (State.CLOSING, Event.LOST): State.CLOSED,
}


class IllegalTransition(Exception):
    """An event that the link's current state does not allow."""


class Role(enum.Enum):
    """Which end of the login a link is."""

    #: The peer logs in to us (the simulator's faces, the GNS, the SP's SGIP server).
    SERVER = "server"
    #: We log in to the peer (the SP's channels, the GNS client, push links).
    CLIENT = "client"


class Verdict(enum.Enum):
    """What the engine does with a peer's request (see :class:`Rule`)."""

    #: Handle it: keepalive and terminate in the engine, the login in the
    #: login phase, anything else through the role.
    ALLOW = "allow"
    #: Answer with the protocol's error response carrying :attr:`Rule.status`
    #: (or close the link when the request has no response to carry one).
    REFUSE = "refuse"
    #: Close the link (after what was written before is sent).
    CLOSE = "close"


@attrs.frozen
class Rule:
    """One cell of a legality table: a :class:`Verdict` and, to refuse, the status."""

    verdict: Verdict
    status: int = 0


#: The verdict on a request class missing from its legality row.
_CLOSE = Rule(Verdict.CLOSE)


@attrs.frozen
class LoginResult:
    """The outcome of a login, on either side.

    :ivar status: 0, or the protocol's refusal status (CONNECT_RESP Status,
        Bind_Resp Result, Login_Resp Status).
    :ivar response: the login response PDU (server side: the engine sends it).
    :ivar identity: who logged in (the account, the peer's code); ``None`` when refused.
    :ivar mode: the login's kind (SMGP's LoginMode, SMPP's bind kind), which
        selects the rows of the legality table; ``None`` for protocols without.
    """

    status: int
    response: object = None
    identity: str | None = None
    mode: Hashable = None

    @property
    def accepted(self) -> bool:
        return self.status == 0 and self.identity is not None


class LoginRefused(Exception):
    """The peer refused our login; ``status`` is its response's status (or Result).

    The link is closed.  :attr:`result` is the same number under SGIP's name.
    """

    def __init__(self, status: int, meaning: str = "other error") -> None:
        super().__init__(f"login refused with status {status}: {meaning}")
        self.status = status
        self.meaning = meaning

    @property
    def result(self) -> int:
        return self.status


@attrs.frozen
class SessionConfig:
    """Timers and limits of one link (cmpp20-notes.md §11).

    :ivar window: W, requests in flight without a response.
    :ivar response_timeout_s: T, seconds to wait for a response.
    :ivar attempts: N, transmissions of a request (and missed keepalives
        before the link is closed).
    :ivar keepalive_s: C, idle seconds before a keepalive; ``None`` for
        protocols without one (SGIP).
    :ivar idle_timeout_s: close the link after this many idle seconds
        (SGIP's 60 s rule); ``None`` to keep it.
    :ivar login_timeout_s: close a link that is not logged in by then.
    :ivar short: short connection: the client terminates the link after its
        first request has been answered (seed 002 §6.1).
    """

    window: int = 16
    response_timeout_s: float = 60.0
    attempts: int = 3
    keepalive_s: float | None = 180.0
    idle_timeout_s: float | None = None
    login_timeout_s: float = 60.0
    short: bool = False


class Adapter(Protocol):
    """What the engine needs from a protocol."""

    codec: ProtocolCodec

    def next_sequence(self) -> Hashable:
        """The next request sequence number (wrapping)."""

    def keepalive(self) -> object | None:
        """The keepalive request PDU, or ``None`` when the protocol has none."""

    def is_keepalive(self, pdu: object) -> bool: ...

    def keepalive_response(self, pdu: object) -> object: ...

    def terminate(self) -> object: ...

    def is_terminate(self, pdu: object) -> bool: ...

    def terminate_response(self) -> object: ...

    def error_response(self, error: DecodeError) -> object | None:
        """The response to a request that failed to decode, or ``None`` to close."""

    @property
    def legality(self) -> Legality | None:
        """Which request is legal in which state (``None``: every request is)."""

    def refusal(self, pdu: object, status: int) -> object | None:
        """The response refusing *pdu* with *status*, or ``None`` when it has none."""

    @property
    def not_served_status(self) -> int:
        """The status refusing a legal request the role does not serve."""

    def login_status_text(self, status: int) -> str:
        """What a login response's status means, for :class:`LoginRefused`."""


class PduAdapter:
    """An :class:`Adapter` whose keepalive and terminate are fixed PDUs.

    Protocols set the class attributes; ``keepalive_request`` is ``None``
    for a protocol without keepalive (SGIP).  A request that fails to decode
    is answered by ``error_responses[command id](status)``, or the link
    closes when its command has no entry.
    """

    codec: ProtocolCodec
    keepalive_request: ClassVar[object | None] = None
    keepalive_answer: ClassVar[object | None] = None
    terminate_request: ClassVar[object]
    terminate_answer: ClassVar[object]
    error_responses: ClassVar[Mapping[int, Callable[[int], object]]] = {}
    #: The status for a decode error that carries none.
    default_status: ClassVar[int] = 1
    #: Which request is legal in which state; ``None``: every request is.
    legality: ClassVar[Legality | None] = None
    #: Refusals that echo fields of the request (CMPP's DELIVER_RESP carries
    #: the Msg_Id), by PDU class; others come from :attr:`error_responses`.
    refusals: ClassVar[Mapping[type, Callable[[Any, int], object]]] = {}
    #: The status refusing a legal request the role does not serve.
    not_served_status: ClassVar[int] = 1
    #: Login response statuses → their meaning.
    login_statuses: ClassVar[Mapping[int, str]] = {}

    def keepalive(self) -> object | None:
        return self.keepalive_request

    def is_keepalive(self, pdu: object) -> bool:
        request = self.keepalive_request
        return request is not None and type(pdu) is type(request)

    def keepalive_response(self, pdu: object) -> object:
        if self.keepalive_answer is None:
            raise TypeError(f"{type(self).__name__} has no keepalive")
        return self.keepalive_answer

    def terminate(self) -> object:
        return self.terminate_request

    def is_terminate(self, pdu: object) -> bool:
        return type(pdu) is type(self.terminate_request)

    def terminate_response(self) -> object:
        return self.terminate_answer

    def error_response(self, error: DecodeError) -> object | None:
        make = self.error_responses.get(error.command_id or 0)
        return make(int(error.status or self.default_status)) if make else None

    def refusal(self, pdu: object, status: int) -> object | None:
        echo = self.refusals.get(type(pdu))
        if echo is not None:
            return echo(pdu, status)
        layout = self.codec.layouts.get(type(pdu))
        command_id = layout.command_id if layout is not None else None
        make = self.error_responses.get(command_id) if command_id is not None else None
        return make(status) if make else None

    def login_status_text(self, status: int) -> str:
        return self.login_statuses.get(status, "other error")


class SessionHandler(Protocol):
    """What a role does with a link.

    A role may set ``role`` (a :class:`Role`; :attr:`Role.CLIENT` when it
    does not).  A :attr:`Role.SERVER` role also has
    ``authenticate(session, pdu) -> LoginResult`` (or a Deferred of one) for
    the login request (``None``: the role closed the link itself), and may
    have ``logged_in(session)``, called once the login response is written
    and the link is bound.  ``handle_request`` only
    sees requests the legality table allows, other than the login, keepalive
    and terminate (see :class:`~smsgw.protocols.legality.Responder`).
    """

    def session_started(self, session: Session) -> None:
        """The TCP connection is up (a client logs in from here)."""

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        """Answer a request: a response PDU, a Deferred of one, or ``None``."""

    def session_ended(self, session: Session, reason: Failure) -> None:
        """The link is gone; *reason* says why."""
