"""CMPP on the session engine: the adapter, and CONNECT on both sides."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from twisted.internet.defer import Deferred
from twisted.logger import Logger

from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.auth import authenticator_ismg, authenticator_source, connect_timestamp
from smsgw.protocols.cmpp.codec import CMPP20
from smsgw.protocols.cmpp.codec30 import CMPP30
from smsgw.protocols.cmpp.constants import VERSION_20, CommandId, ConnectStatus, Result
from smsgw.protocols.codec import ProtocolCodec
from smsgw.protocols.legality import build_legality, request_classes
from smsgw.protocols.session import LoginRefused, LoginResult, PduAdapter, Session

log = Logger()

_C = CommandId
#: The response a request that failed to decode is answered with (by command id).
_ERROR_RESPONSES: dict[int, Callable[[int], object]] = {
    _C.CONNECT: lambda s: p.ConnectResp(status=ConnectStatus.STRUCTURE_ERROR),
    _C.SUBMIT: lambda s: p.SubmitResp(result=s),
    _C.DELIVER: lambda s: p.DeliverResp(result=s),
    _C.CANCEL: lambda s: p.CancelResp(success_id=1),
    _C.FWD: lambda s: p.FwdResp(result=s),
    _C.MT_ROUTE: lambda s: p.MtRouteResp(result=1),
    _C.MO_ROUTE: lambda s: p.MoRouteResp(result=1),
    _C.GET_ROUTE: lambda s: p.GetRouteResp(result=1),
    _C.MT_ROUTE_UPDATE: lambda s: p.MtRouteUpdateResp(result=1),
    _C.MO_ROUTE_UPDATE: lambda s: p.MoRouteUpdateResp(result=1),
    _C.PUSH_MT_ROUTE_UPDATE: lambda s: p.PushMtRouteUpdateResp(result=1),
    _C.PUSH_MO_ROUTE_UPDATE: lambda s: p.PushMoRouteUpdateResp(result=1),
}


_STATUS_TEXT = {
    1: "structure error",
    2: "illegal source address",
    3: "authentication error",
    4: "version too high",
}

#: Every CMPP request class (2.0, 3.0, FWD and GNS links share the command set).
REQUESTS = request_classes(CMPP20, CMPP30)

#: Which request is legal when (seed 002 §8.4.1: CONNECT first).  A CONNECT on
#: a bound link is answered Status 1.
LEGALITY = build_legality(
    requests=REQUESTS,
    login=p.Connect,
    terminate=p.Terminate,
    keepalive=p.ActiveTest,
    second_login=ConnectStatus.STRUCTURE_ERROR,
)

#: Refusals that echo the request's Msg_Id (and FWD's Pk_Total/Pk_Number), and
#: 3.0's GET_MT_ROUTE, whose command id is 2.0's GET_ROUTE (by class, not id).
_REFUSALS: dict[type, Callable[[Any, int], object]] = {
    p.Connect: lambda pdu, s: p.ConnectResp(status=s),
    p.Deliver: lambda pdu, s: p.DeliverResp(pdu.msg_id, s),
    p.Fwd: lambda pdu, s: p.FwdResp(pdu.msg_id, pdu.pk_total, pdu.pk_number, s),
    p.GetMtRoute: lambda pdu, s: p.GetMtRouteResp(result=1),
    p.GetMoRoute: lambda pdu, s: p.GetMoRouteResp(result=1),
}


class CmppAdapter(PduAdapter):
    """CMPP for the session engine: Sequence_Id 1…2³²−1 wrapping, ACTIVE_TEST, TERMINATE.

    A legal request the role does not serve is refused with Result 2
    ("command error"; CANCEL and the route requests with their Result 1;
    QUERY_RESP has no status, so such a QUERY closes the link).
    """

    keepalive_request = p.ActiveTest()
    keepalive_answer = p.ActiveTestResp()
    terminate_request = p.Terminate()
    terminate_answer = p.TerminateResp()
    error_responses = _ERROR_RESPONSES
    legality = LEGALITY
    refusals = _REFUSALS
    not_served_status = Result.COMMAND_ERROR
    login_statuses = _STATUS_TEXT

    def __init__(self, codec: ProtocolCodec = CMPP20, first_sequence: int = 1) -> None:
        self.codec = codec
        self._sequence = first_sequence - 1

    def next_sequence(self) -> int:
        self._sequence = self._sequence + 1 if self._sequence < 0xFFFFFFFF else 1
        return self._sequence


#: The ISMG refused CONNECT (the engine's one login error; ``status`` is the Status).
LoginFailed = LoginRefused


def login(
    session: Session,
    sp_id: bytes,
    secret: bytes,
    *,
    version: int = VERSION_20,
    status_width: int = 1,
) -> Deferred[p.ConnectResp]:
    """Send CONNECT on a fresh link; mark it bound when Status is 0.

    A wrong AuthenticatorISMG is logged, not fatal: some ISMGs hash a
    4-byte Status even on 2.0 links (cmpp20-notes.md §4).

    :raises LoginRefused: (in the Deferred) for a non-zero Status; the link
        is closed.
    """
    timestamp = connect_timestamp(session.clock.seconds())
    auth = authenticator_source(sp_id, secret, timestamp)
    request = p.Connect(sp_id, auth, version, timestamp)

    def _accept(resp: p.ConnectResp) -> LoginResult:
        if resp.status != 0:
            return LoginResult(resp.status, resp)
        expected = {authenticator_ismg(0, auth, secret, status_width=w) for w in (1, 4)}
        if resp.authenticator_ismg not in expected:
            log.warn("{peer}: AuthenticatorISMG does not match", peer=session.peer)
        return LoginResult(0, resp, sp_id.decode("ascii", "replace"))

    return session.log_in(request, _accept)


@attrs.frozen
class ConnectCheck:
    """The result of checking a CONNECT on the ISMG side."""

    status: int
    response: p.ConnectResp
    account: str | None

    def login_result(self) -> LoginResult:
        """This check as the engine's :class:`LoginResult` (refused unless Status is 0)."""
        return LoginResult(self.status, self.response, self.account)


def check_connect(
    request: p.Connect,
    secrets: Mapping[str, bytes],
    *,
    accept_versions: range = range(0x20, 0x30),
    answer_version: int = VERSION_20,
    status_width: int = 1,
) -> ConnectCheck:
    """Authenticate a CONNECT against *secrets* (account → shared secret).

    Status 2 for an unknown Source_Addr, 3 for a wrong AuthenticatorSource,
    4 for a version above *accept_versions* (real 2.x clients send 0x20 or
    0x21), 5 for one below it.  The answer carries the right
    AuthenticatorISMG on success and 16 zero bytes otherwise.
    """
    account = request.source_addr.decode("ascii", "replace")
    secret = secrets.get(account)
    if request.version not in accept_versions:
        status = (
            ConnectStatus.VERSION_TOO_HIGH
            if request.version >= accept_versions.stop
            else ConnectStatus.OTHER
        )
    elif secret is None:
        status = ConnectStatus.BAD_SOURCE_ADDR
    else:
        expected = authenticator_source(request.source_addr, secret, request.timestamp)
        status = (
            ConnectStatus.OK
            if hmac.compare_digest(expected, request.authenticator_source)
            else ConnectStatus.AUTH_ERROR
        )
    if status != ConnectStatus.OK:
        return ConnectCheck(int(status), p.ConnectResp(int(status), version=answer_version), None)
    assert secret is not None
    digest = authenticator_ismg(0, request.authenticator_source, secret, status_width=status_width)
    return ConnectCheck(0, p.ConnectResp(0, digest, answer_version), account)
