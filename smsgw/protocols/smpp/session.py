"""SMPP 3.4 on the session engine: the adapter, the bind-state rows, binds on both sides.

The bind states of smpp34.md §2 are rows of the engine's legality table
(:class:`~smsgw.protocols.legality.Legality`): OPEN is the engine's
``AUTHENTICATING``, BOUND_TX / BOUND_RX / BOUND_TRX are ``BOUND`` with the
session's :class:`~smsgw.protocols.smpp.constants.BindKind` as its login
mode, and UNBOUND is ``CLOSING``.  A request a row does not allow is answered
with its own response carrying ESME_RINVBNDSTS (0x04), a bind on a bound
session with ESME_RALYBND (0x05); requests without a response of their own
(outbind, alert_notification) are refused with generic_nack.  An unknown
command id is answered with generic_nack ESME_RINVCMDID echoing its
sequence_number, and the link stays up; a bad command_length closes it.

The four 3.4 timers are the engine's: session_init is
:attr:`SessionConfig.login_timeout_s`, enquire_link
:attr:`~SessionConfig.keepalive_s`, inactivity
:attr:`~SessionConfig.idle_timeout_s` and response
:attr:`~SessionConfig.response_timeout_s` (one attempt: SMPP does not resend).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Hashable, Mapping

from twisted.internet.defer import Deferred

from smsgw.protocols.errors import DecodeError, ErrorKind
from smsgw.protocols.legality import ALLOW, Legality, refuse, request_classes
from smsgw.protocols.session import (
    LoginResult,
    PduAdapter,
    Role,
    Rule,
    Session,
    SessionConfig,
    State,
)
from smsgw.protocols.smpp import pdus as p
from smsgw.protocols.smpp.codec import SMPP34
from smsgw.protocols.smpp.constants import (
    INTERFACE_VERSION,
    MAX_SEQUENCE,
    BindKind,
    CommandId,
    Status,
    Tag,
    status_name,
)
from smsgw.protocols.smpp.tlv import put

__all__ = [
    "BIND_KINDS",
    "CONFIG",
    "ESME_REQUESTS",
    "LEGALITY",
    "SMSC_REQUESTS",
    "SmppAdapter",
    "bind",
    "bind_response",
    "check_bind",
    "notify",
]

#: Each bind class's kind, and the response class answering it.
BIND_KINDS: dict[type[p.Bind], BindKind] = {
    p.BindReceiver: BindKind.RECEIVER,
    p.BindTransmitter: BindKind.TRANSMITTER,
    p.BindTransceiver: BindKind.TRANSCEIVER,
}
_BIND_RESPONSES: dict[type[p.Bind], type[p.BindResp]] = {
    p.BindReceiver: p.BindReceiverResp,
    p.BindTransmitter: p.BindTransmitterResp,
    p.BindTransceiver: p.BindTransceiverResp,
}

#: The timers and window of an SMPP link (smpp34.md §9): enquire_link after
#: 30 s of silence, no resend (one attempt), a bind within 30 s, window 10
#: (Kannel's max-pending-submits).
CONFIG = SessionConfig(
    window=10,
    response_timeout_s=60.0,
    attempts=1,
    keepalive_s=30.0,
    idle_timeout_s=None,
    login_timeout_s=30.0,
)

_ALL = request_classes(SMPP34)
#: What an ESME sends on a transmitter bind (§2).
ESME_REQUESTS = frozenset({p.SubmitSm, p.SubmitMulti, p.DataSm, p.QuerySm, p.CancelSm, p.ReplaceSm})
#: What an SMSC sends on a receiver bind (§2).
SMSC_REQUESTS = frozenset({p.DeliverSm, p.DataSm, p.AlertNotification})
_BINDS = frozenset(BIND_KINDS)
_LINK: dict[type, Rule] = {p.EnquireLink: ALLOW, p.Unbind: ALLOW}
_BAD_STATE = refuse(Status.ESME_RINVBNDSTS)


def _row(allowed: frozenset[type], *, binds: Rule = _BAD_STATE, **extra: Rule) -> dict[type, Rule]:
    """Every request refused with ESME_RINVBNDSTS but the link PDUs and *allowed*."""
    row = dict.fromkeys(_ALL, _BAD_STATE)
    row.update(dict.fromkeys(allowed, ALLOW))
    row.update(dict.fromkeys(_BINDS, binds))
    row.update(_LINK)
    return row


def _legality() -> Legality:
    already = refuse(Status.ESME_RALYBND)
    server_bound = {
        BindKind.TRANSMITTER: _row(ESME_REQUESTS, binds=already),
        BindKind.RECEIVER: _row(frozenset(), binds=already),
        BindKind.TRANSCEIVER: _row(ESME_REQUESTS, binds=already),
    }
    client_bound = {
        BindKind.TRANSMITTER: _row(frozenset(), binds=already),
        BindKind.RECEIVER: _row(SMSC_REQUESTS, binds=already),
        BindKind.TRANSCEIVER: _row(SMSC_REQUESTS, binds=already),
    }
    rows: dict[tuple[Role, State, Hashable], Mapping[type, Rule]] = {
        # OPEN: a bind, enquire_link and unbind; the ESME also takes outbind.
        (Role.SERVER, State.AUTHENTICATING, None): _row(frozenset(), binds=ALLOW),
        (Role.CLIENT, State.AUTHENTICATING, None): _row(frozenset({p.Outbind})),
        (Role.SERVER, State.BOUND, None): server_bound[BindKind.TRANSCEIVER],
        (Role.CLIENT, State.BOUND, None): client_bound[BindKind.TRANSCEIVER],
        # UNBOUND: the ESME still takes what crossed its unbind (a receipt is
        # stored and answered); the SMSC refuses new work.
        (Role.SERVER, State.CLOSING, None): _row(frozenset()),
        (Role.CLIENT, State.CLOSING, None): _row(SMSC_REQUESTS),
    }
    for kind in BindKind:
        rows[Role.SERVER, State.BOUND, kind] = server_bound[kind]
        rows[Role.CLIENT, State.BOUND, kind] = client_bound[kind]
    return Legality(p.Bind, rows, _ALL, frozenset(BindKind))


#: Which request is legal in which bind state (module docstring).
LEGALITY = _legality()


def _response_makers() -> dict[int, Callable[[int], object]]:
    makers: dict[int, Callable[[int], object]] = {}
    for cid in SMPP34.by_command:
        response = SMPP34.by_command.get(cid | 0x80000000)
        if not cid & 0x80000000 and response is not None:
            makers[cid] = _maker(response.cls)
    return makers


def _maker(cls: type) -> Callable[[int], object]:
    return lambda status: cls(command_status=status)


def _nack(_: object, status: int) -> p.GenericNack:
    return p.GenericNack(command_status=status)


class SmppAdapter(PduAdapter):
    """SMPP 3.4 for the session engine: sequence numbers 1..0x7FFFFFFF, enquire_link, unbind."""

    codec = SMPP34
    keepalive_request = p.EnquireLink()
    keepalive_answer = p.EnquireLinkResp()
    terminate_request = p.Unbind()
    terminate_answer = p.UnbindResp()
    error_responses = _response_makers()
    default_status = Status.ESME_RUNKNOWNERR
    legality = LEGALITY
    #: outbind and alert_notification have no response: refused with generic_nack.
    refusals = {p.Outbind: _nack, p.AlertNotification: _nack}
    #: A legal request the role does not serve (query_sm on a simulator
    #: without state): its own response with ESME_RINVCMDID, "not supported".
    not_served_status = Status.ESME_RINVCMDID

    def __init__(self, first_sequence: int = 1) -> None:
        self._sequence = (first_sequence - 1) % MAX_SEQUENCE

    def next_sequence(self) -> int:
        # 0x00000001..0x7FFFFFFF, then wrap (§1).
        self._sequence = self._sequence % MAX_SEQUENCE + 1
        return self._sequence

    def error_response(self, error: DecodeError) -> object | None:
        """The request's own response with the status, else generic_nack (§2)."""
        if error.kind is ErrorKind.COMMAND or error.command_id not in self.error_responses:
            return p.GenericNack(command_status=int(error.status or Status.ESME_RINVCMDID))
        return super().error_response(error)

    def login_status_text(self, status: int) -> str:
        return status_name(status)


def notify(session: Session, pdu: object) -> int:
    """Write a request that has no response (outbind, alert_notification); return its sequence."""
    sequence = session.adapter.next_sequence()
    session.respond(pdu, sequence)
    assert isinstance(sequence, int)
    return sequence


def bind(session: Session, request: p.Bind) -> Deferred[p.BindResp]:
    """ESME side: send *request* on a fresh (or outbound) link; bind the session on status 0.

    :raises LoginRefused: (in the Deferred) for a non-zero command_status,
        named after the status (``ESME_RINVPASWD``); the link is closed.
    """
    kind = BIND_KINDS[type(request)]

    def _accept(resp: p.BindResp | p.GenericNack) -> LoginResult:
        if resp.command_status or not isinstance(resp, p.BindResp):
            return LoginResult(resp.command_status or Status.ESME_RBINDFAIL, resp)
        return LoginResult(0, resp, request.system_id.decode("ascii", "replace"), kind)

    return session.log_in(request, _accept)


def bind_response(request: p.Bind, status: int = 0, system_id: bytes = b"SMSGW") -> p.BindResp:
    """The response to *request*: *system_id* and sc_interface_version 0x34, or a bare refusal."""
    cls = _BIND_RESPONSES[type(request)]
    if status:
        return cls(command_status=status)
    return cls(system_id, put((), Tag.SC_INTERFACE_VERSION, INTERFACE_VERSION))


def check_bind(
    request: p.Bind, passwords: Mapping[str, bytes], *, system_id: bytes = b"SMSGW"
) -> LoginResult:
    """SMSC side: check *request* against *passwords* (system_id → password).

    ESME_RINVSYSID for an unknown system_id, ESME_RINVPASWD for a wrong
    password (compared with :func:`hmac.compare_digest`); the result's mode
    is the bind's :class:`BindKind`.
    """
    account = request.system_id.decode("ascii", "replace")
    expected = passwords.get(account)
    if expected is None:
        status = Status.ESME_RINVSYSID
    elif not hmac.compare_digest(expected, request.password):
        status = Status.ESME_RINVPASWD
    else:
        status = Status.ESME_ROK
    response = bind_response(request, status, system_id)
    if status:
        return LoginResult(int(status), response)
    return LoginResult(0, response, account, BIND_KINDS[type(request)])


def command_name(command_id: int) -> str:
    """``"submit_sm"`` for a known command id, hex for any other."""
    try:
        return CommandId(command_id).name.lower()
    except ValueError:
        return f"{command_id:#010x}"
