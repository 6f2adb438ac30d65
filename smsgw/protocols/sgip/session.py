"""SGIP on the session engine: the adapter, and Bind on both sides (sgip12.md §2, §3.1).

SGIP differs from CMPP in three ways the engine sees: the sequence number
is a ``(node_id, MMDDhhmmss, counter)`` tuple, there is no keepalive (a
server closes a link idle for 60 s, and the client reconnects and binds
again), and the login is a name and password sent in clear text.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any, NamedTuple

import attrs
from twisted.internet.defer import Deferred, fail

from smsgw.protocols.codec import ProtocolCodec
from smsgw.protocols.errors import EncodeError
from smsgw.protocols.legality import build_legality, request_classes
from smsgw.protocols.session import LoginRefused, LoginResult, PduAdapter, Session, SessionConfig
from smsgw.protocols.sgip import pdus as p
from smsgw.protocols.sgip.codec import SGIP12
from smsgw.protocols.sgip.constants import CommandId, LoginType, Result
from smsgw.protocols.sgip.sequence import Clock, SequenceNumber, SgipSequence

#: How login names and passwords are turned into the Text fields of Bind.
CREDENTIAL_ENCODING = "utf-8"

_C = CommandId
#: The response a request that failed to decode is answered with, by command id:
#: the matching ``*_Resp`` with the codec's Result (5, 7 or 8; sgip12.md §9).
#: Unbind and Trace have no Result to carry, and an unknown command has no
#: matching response: those links are closed (sgip12.md §2, "malformed command").
_ERROR_RESPONSES: dict[int, Callable[[int], object]] = {
    _C.BIND: lambda s: p.BindResp(result=s),
    _C.SUBMIT: lambda s: p.SubmitResp(result=s),
    _C.DELIVER: lambda s: p.DeliverResp(result=s),
    _C.REPORT: lambda s: p.ReportResp(result=s),
    _C.USER_RPT: lambda s: p.UserRptResp(result=s),
    _C.CHECK_USER: lambda s: p.CheckUserResp(result=s),
    _C.ADD_SP: lambda s: p.AddSpResp(result=s),
    _C.MODIFY_SP: lambda s: p.ModifySpResp(result=s),
    _C.DELETE_SP: lambda s: p.DeleteSpResp(result=s),
    _C.QUERY_ROUTE: lambda s: p.QueryRouteResp(result=s),
    _C.ADD_TELE_SEG: lambda s: p.AddTeleSegResp(result=s),
    _C.MODIFY_TELE_SEG: lambda s: p.ModifyTeleSegResp(result=s),
    _C.DELETE_TELE_SEG: lambda s: p.DeleteTeleSegResp(result=s),
    _C.ADD_SMG: lambda s: p.AddSmgResp(result=s),
    _C.MODIFY_SMG: lambda s: p.ModifySmgResp(result=s),
    _C.DELETE_SMG: lambda s: p.DeleteSmgResp(result=s),
}


def sgip_session_config(**overrides: Any) -> SessionConfig:
    """The engine's :class:`SessionConfig` with SGIP's defaults (sgip12.md §2).

    Window 32, response timeout 30 s, no keepalive, idle links closed after
    60 s.  *overrides* replace any of them (e.g. the operator's own window).
    """
    config = SessionConfig(
        window=32, response_timeout_s=30.0, keepalive_s=None, idle_timeout_s=60.0
    )
    return attrs.evolve(config, **overrides) if overrides else config


#: Every SGIP request class.
REQUESTS = request_classes(SGIP12)

#: Which request is legal when (sgip12.md §3.1: Bind first, or the link
#: closes).  A Bind on a bound link is refused with Result 2, "repeated login".
LEGALITY = build_legality(
    requests=REQUESTS,
    login=p.Bind,
    terminate=p.Unbind,
    keepalive=None,
    second_login=Result.REPEATED_LOGIN,
)


def _result_text(result: int) -> str:
    try:
        return Result(result).name.lower().replace("_", " ")
    except ValueError:
        return "unknown error"


class SgipAdapter(PduAdapter):
    """SGIP for the session engine: tuple sequence numbers, no keepalive, Unbind.

    :param node_id: this node's id (sgip12.md §3.1), the first part of every
        sequence number it creates.
    :param clock: a reactor or ``Clock`` (or a function giving POSIX
        seconds) for the MMDDhhmmss part.
    :param codec: the SGIP codec.
    :param counter: the first counter value.
    """

    # SGIP has no keepalive PDU: idle links are closed instead.
    terminate_request = p.Unbind()
    terminate_answer = p.UnbindResp()
    error_responses = _ERROR_RESPONSES
    default_status = Result.PARAMETER_FORMAT_ERROR
    legality = LEGALITY
    #: A well-formed command the role does not handle gets its ``*_Resp`` with
    #: Result 7, "wrong command ID" (sgip12.md §3.1); Trace has no Result, so
    #: it closes the link.
    not_served_status = Result.BAD_COMMAND_ID

    def login_status_text(self, status: int) -> str:
        return _result_text(status)

    def __init__(
        self,
        node_id: int,
        clock: Clock = time.time,
        *,
        codec: ProtocolCodec = SGIP12,
        counter: int = 0,
    ) -> None:
        self.codec = codec
        self.sequence = SgipSequence(node_id, clock, counter)

    def next_sequence(self) -> SequenceNumber:
        return self.sequence()


#: The server refused Bind (the engine's one login error; ``result`` is the Result).
BindFailed = LoginRefused


def _credential(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode(CREDENTIAL_ENCODING)


def bind(
    session: Session,
    login_type: int,
    name: str | bytes,
    password: str | bytes,
) -> Deferred[p.BindResp]:
    """Send Bind on a fresh link; mark the link bound when Result is 0.

    On a non-zero Result the link is closed, as the server closes it too
    (sgip12.md §2).  The password goes in clear text: SGIP has no digest.

    :param login_type: a :class:`~smsgw.protocols.sgip.constants.LoginType`
        (1 for the SP's MT link).
    :param name: the login name the carrier assigned (at most 16 bytes).
    :param password: its password (at most 16 bytes).
    :raises LoginRefused: (in the Deferred) for a non-zero Result.
    :raises EncodeError: (in the Deferred) a credential is longer than 16 bytes.
    """
    request = p.Bind(int(login_type), _credential(name), _credential(password))
    try:
        session.codec.layouts[p.Bind].check(request)
    except EncodeError as e:
        return fail(e)
    account = name if isinstance(name, str) else name.decode(CREDENTIAL_ENCODING, "replace")
    return session.log_in(
        request, lambda resp: LoginResult(resp.result, resp, account, int(login_type))
    )


class BindCheck(NamedTuple):
    """The result of checking a Bind on the server side."""

    result: int
    response: p.BindResp
    #: The login name, when the Bind was accepted.
    account: str | None

    def login_result(self) -> LoginResult:
        """This check as the engine's :class:`LoginResult` (refused unless Result is 0)."""
        return LoginResult(self.result, self.response, self.account)


def check_bind(
    request: p.Bind,
    accounts: Mapping[str, str],
    allowed_login_types: Collection[int] = (LoginType.SP_TO_SMG,),
) -> BindCheck:
    """Check a Bind against *accounts* (login name → password).

    Result 1 for an unknown name or a wrong password (the password is
    compared with :func:`hmac.compare_digest`, and compared even for an
    unknown name), then 4 for a Login Type outside *allowed_login_types*.
    Bind_Resp carries the Result; the session engine answers it and, unless
    it is 0, closes the link.
    """
    name = request.login_name.decode(CREDENTIAL_ENCODING, "replace")
    expected = accounts.get(name)
    secret = b"" if expected is None else expected.encode(CREDENTIAL_ENCODING)
    password_ok = hmac.compare_digest(secret, request.login_password)
    if expected is None or not password_ok:
        result = Result.ILLEGAL_LOGIN
    elif request.login_type not in allowed_login_types:
        result = Result.BAD_LOGIN_TYPE
    else:
        return BindCheck(int(Result.OK), p.BindResp(int(Result.OK)), name)
    return BindCheck(int(result), p.BindResp(int(result)), None)
