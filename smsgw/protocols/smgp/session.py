"""SMGP on the session engine: the adapter, the Login authenticators, Login on both sides."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from twisted.internet.defer import Deferred
from twisted.logger import Logger

from smsgw.protocols.cmpp.auth import connect_timestamp, timestamp_text
from smsgw.protocols.codec import ProtocolCodec
from smsgw.protocols.legality import build_legality, refuse, request_classes
from smsgw.protocols.session import LoginRefused, LoginResult, PduAdapter, Session
from smsgw.protocols.smgp import pdus as p
from smsgw.protocols.smgp.codec import SMGP13, SMGP30, codec_for_version
from smsgw.protocols.smgp.constants import (
    VERSION_13,
    VERSION_30,
    LoginMode,
    RequestId,
    Status,
)

__all__ = [
    "LEGALITY",
    "LoginCheck",
    "LoginFailed",
    "SmgpAdapter",
    "authenticator_client",
    "authenticator_server",
    "check_login",
    "login",
    "login_timestamp",
]

log = Logger()

#: Login TimeStamp: MMDDHHMMSS in Beijing time as a decimal integer (§6), as CMPP's.
login_timestamp = connect_timestamp


def authenticator_client(client_id: bytes, secret: bytes, timestamp: int) -> bytes:
    """AuthenticatorClient = MD5(ClientID + 7 × 0x00 + secret + TS10) (smgp30.md §6.1).

    :param client_id: the account, **unpadded** (all known codecs hash the raw bytes).
    :param secret: the shared secret (at most 15 bytes).
    :param timestamp: the Login TimeStamp; hashed as 10 ASCII digits (``'%010d'``).
    """
    return _md5(client_id + b"\x00" * 7 + secret + timestamp_text(timestamp))


def authenticator_server(status: int, authenticator_client: bytes, secret: bytes) -> bytes:
    """AuthenticatorServer = MD5(Status (4 bytes) + AuthenticatorClient + secret) (§6.1)."""
    return _md5(status.to_bytes(4, "big") + authenticator_client + secret)


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data, usedforsecurity=False).digest()


_R = RequestId
#: The response a request that failed to decode is answered with (by request id).
#: Query_Resp has no Status field, so a bad Query closes the link instead.
_ERROR_RESPONSES: dict[int, Callable[[int], object]] = {
    _R.LOGIN: lambda s: p.LoginResp(status=s),
    _R.SUBMIT: lambda s: p.SubmitResp(status=s),
    _R.DELIVER: lambda s: p.DeliverResp(status=s),
    _R.FORWARD: lambda s: p.ForwardResp(status=s),
    _R.QUERY_TE_ROUTE: lambda s: p.QueryTeRouteResp(status=s),
    _R.QUERY_SP_ROUTE: lambda s: p.QuerySpRouteResp(status=s),
    _R.GET_ALL_TE_ROUTE: lambda s: p.GetAllTeRouteResp(status=s),
    _R.GET_ALL_SP_ROUTE: lambda s: p.GetAllSpRouteResp(status=s),
    _R.UPDATE_TE_ROUTE: lambda s: p.UpdateTeRouteResp(status=s),
    _R.UPDATE_SP_ROUTE: lambda s: p.UpdateSpRouteResp(status=s),
    _R.PUSH_UPDATE_TE_ROUTE: lambda s: p.PushUpdateTeRouteResp(status=s),
    _R.PUSH_UPDATE_SP_ROUTE: lambda s: p.PushUpdateSpRouteResp(status=s),
}


#: Every SMGP request class (1.3 and 3.0 share them).
REQUESTS = request_classes(SMGP13, SMGP30)

#: Which request is legal when (smgp30.md §2: Login first).  LoginMode rows:
#: a send-only or receive-only login is told Status 11 ("command error") for
#: the direction it did not ask for: Submit on a RECEIVE login (§6).  A Login
#: on a bound link is refused with Status 11 too.
LEGALITY = build_legality(
    requests=REQUESTS,
    login=p.Login,
    terminate=p.Exit,
    keepalive=p.ActiveTest,
    second_login=Status.COMMAND_ERROR,
    modes={
        LoginMode.SEND: {},
        LoginMode.RECEIVE: {p.Submit: refuse(Status.COMMAND_ERROR)},
        LoginMode.TRANSMIT: {},
    },
)

#: Refusals that echo the request's MsgID.
_REFUSALS: dict[type, Callable[[Any, int], object]] = {
    p.Deliver: lambda pdu, s: p.DeliverResp(pdu.msg_id, s),
    p.Forward: lambda pdu, s: p.ForwardResp(pdu.msg_id, s),
}


class SmgpAdapter(PduAdapter):
    """SMGP for the session engine: SequenceID wrapping over 0…2³²−1, Active_Test, Exit.

    :param codec: :data:`~smsgw.protocols.smgp.codec.SMGP30`, or ``SMGP13``
        for a 1.3 peer (:func:`login` switches by itself).
    :param first_sequence: the SequenceID of the first request.
    """

    keepalive_request = p.ActiveTest()
    keepalive_answer = p.ActiveTestResp()
    terminate_request = p.Exit()
    terminate_answer = p.ExitResp()
    #: Unknown request ids (status 11, including 0x0A–0x0C) have no response
    #: shape to carry the status, so their links close.
    error_responses = _ERROR_RESPONSES
    default_status = Status.STRUCTURE_ERROR
    legality = LEGALITY
    refusals = _REFUSALS
    #: A legal request the role does not serve: Status 11, "command error".
    not_served_status = Status.COMMAND_ERROR

    def login_status_text(self, status: int) -> str:
        return _status_text(status)

    def __init__(self, codec: ProtocolCodec = SMGP30, first_sequence: int = 1) -> None:
        self.codec = codec
        self._sequence = (first_sequence - 1) & 0xFFFFFFFF
        #: The LoginMode of this link once logged in (either side).
        self.login_mode: int | None = None

    def next_sequence(self) -> int:
        # §3: 0x00000000–0xFFFFFFFF, +1 per request, wraps.
        self._sequence = (self._sequence + 1) & 0xFFFFFFFF
        return self._sequence


def use_codec(session: Session, codec: ProtocolCodec) -> None:
    """Switch a link to another SMGP codec (after a 1.3 version negotiation).

    The engine reads its adapter's codec for every frame, so the switch
    applies from the next frame written or read.
    """
    session.adapter.codec = codec


#: The SMGW refused Login (the engine's one login error; ``status`` is the Status).
LoginFailed = LoginRefused


def _status_text(status: int) -> str:
    try:
        return Status(status).name.lower().replace("_", " ")
    except ValueError:
        return "other error"


def login(
    session: Session,
    client_id: bytes,
    secret: bytes,
    login_mode: int = LoginMode.TRANSMIT,
    *,
    version: int = VERSION_30,
) -> Deferred[p.LoginResp]:
    """Send Login on a fresh link; mark it bound when Status is 0.

    A wrong AuthenticatorServer is logged, not fatal.  A ServerVersion
    below 0x30 (SMGP 1.3) switches the link to the 1.3 codec, whose Submit
    has no FixedFee (§6.2).

    :param client_id: the account (at most 8 bytes), hashed unpadded.
    :param login_mode: 0 send, 1 receive, 2 transmit (:class:`LoginMode`).
    :param version: the ClientVersion to offer.
    :raises LoginRefused: (in the Deferred) for a non-zero Status; the link
        is closed.
    """
    timestamp = login_timestamp(session.clock.seconds())
    auth = authenticator_client(client_id, secret, timestamp)
    request = p.Login(client_id, auth, int(login_mode), timestamp, version)

    def _accept(resp: p.LoginResp) -> LoginResult:
        if resp.status != 0:
            return LoginResult(resp.status, resp)
        if not hmac.compare_digest(
            resp.authenticator_server, authenticator_server(0, auth, secret)
        ):
            log.warn("{peer}: AuthenticatorServer does not match", peer=session.peer)
        negotiated = min(version, resp.server_version)
        if codec_for_version(negotiated) is SMGP13 and session.codec is not SMGP13:
            log.info(
                "{peer}: server speaks version {version:#04x}; using SMGP 1.3",
                peer=session.peer,
                version=resp.server_version,
            )
            use_codec(session, SMGP13)
        if isinstance(session.adapter, SmgpAdapter):
            session.adapter.login_mode = int(login_mode)
        return LoginResult(0, resp, client_id.decode("ascii", "replace"), int(login_mode))

    return session.log_in(request, _accept)


class LoginCheck(NamedTuple):
    """The result of checking a Login on the SMGW side: ``(status, response, account)``.

    :ivar status: 0, or the §12 status of the refusal.
    :ivar response: the Login_Resp to send (AuthenticatorServer set on
        success, zeros otherwise).
    :ivar account: the ClientID as text when Status is 0, else ``None``.
    :ivar version: the version both sides speak (use
        :func:`~smsgw.protocols.smgp.codec.codec_for_version`).
    """

    status: int
    response: p.LoginResp
    account: str | None
    version: int = VERSION_30

    def login_result(self, mode: int | None = None) -> LoginResult:
        """This check as the engine's :class:`LoginResult`, for a login in *mode*."""
        return LoginResult(self.status, self.response, self.account, mode)


def check_login(
    request: p.Login,
    secrets: Mapping[str, bytes],
    *,
    min_version: int = VERSION_13,
    server_version: int = VERSION_30,
) -> LoginCheck:
    """Authenticate a Login against *secrets* (account → shared secret).

    Status 21 (authentication error) for an unknown ClientID or a wrong
    AuthenticatorClient (§12 has no "unknown account" code), 10 for a
    reserved LoginMode, and 22 (version too high) for a ClientVersion
    below *min_version*: such a client speaks a version this server does
    not.  A client offering a higher version than *server_version* is
    accepted and speaks ours (ClientVersion is the highest it speaks).
    Digests are compared with :func:`hmac.compare_digest`.
    """
    account = request.client_id.decode("ascii", "replace")
    secret = secrets.get(account)
    version = min(request.client_version, server_version)
    if request.client_version < min_version:
        status = Status.VERSION_TOO_HIGH
    elif request.login_mode not in tuple(LoginMode):
        status = Status.STRUCTURE_ERROR
    elif secret is None:
        status = Status.AUTH_ERROR
    else:
        expected = authenticator_client(request.client_id, secret, request.timestamp)
        status = (
            Status.OK
            if hmac.compare_digest(expected, request.authenticator_client)
            else Status.AUTH_ERROR
        )
    if status != Status.OK:
        return LoginCheck(int(status), p.LoginResp(int(status), server_version=server_version),
                          None, version)  # fmt: skip
    assert secret is not None
    digest = authenticator_server(0, request.authenticator_client, secret)
    return LoginCheck(0, p.LoginResp(0, digest, server_version), account, version)
