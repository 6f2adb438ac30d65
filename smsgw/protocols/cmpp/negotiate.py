"""CMPP version negotiation: one listener for CMPP 3.0 and 2.0 clients.

CONNECT is the same 39 bytes in both versions (cmpp30.md §3), so a listener
can read it with either codec and then pick the version from its Version
byte: 0x2x is answered as CMPP 2.0 (30-byte CONNECT_RESP, 1-byte Status,
Version 0x20), 0x3x as CMPP 3.0 (33 bytes, 4-byte Status, Version 0x30), and
anything above 0x3F is refused with Status 4, "version too high"
(cmpp30.md §3, CONNECT_RESP Status).

The handler of such a listener answers CONNECT with::

    check = session.adapter.check_connect(connect, secrets)

which checks the login (:func:`check_connect_negotiated`) and switches the
link's codec before the answer is encoded; the session engine reads the
adapter's codec for every frame, so the next frame is decoded in the
negotiated version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.codec import CMPP20
from smsgw.protocols.cmpp.codec30 import CMPP30
from smsgw.protocols.cmpp.constants import VERSION_20, VERSION_30, CommandId
from smsgw.protocols.cmpp.session import CmppAdapter, ConnectCheck, check_connect
from smsgw.protocols.codec import ProtocolCodec
from smsgw.protocols.errors import DecodeError

__all__ = [
    "VersionedCmppAdapter",
    "check_connect_negotiated",
    "codec_for_version",
]

#: CONNECT Version bytes of each major version: high nibble major, low minor.
_V2 = range(0x20, 0x30)
_V3 = range(0x30, 0x40)
#: Every version this module speaks (for "too high" / "too low").
_KNOWN = range(_V2.start, _V3.stop)


def codec_for_version(version: int) -> ProtocolCodec:
    """The codec of a CONNECT Version byte: 0x20–0x2F CMPP 2.0, 0x30–0x3F CMPP 3.0.

    :raises ValueError: for any other version.
    """
    if version in _V2:
        return CMPP20
    if version in _V3:
        return CMPP30
    raise ValueError(f"no CMPP codec for version {version:#04x}")


def _answer_codec(version: int) -> ProtocolCodec:
    """The codec a listener answers a CONNECT of *version* in.

    Versions above 3.x get the 3.0 answer (the highest we speak, with Status
    4); versions below 2.0 get the 2.0 one (the lowest, with Status 5).
    """
    return CMPP30 if version >= _V3.start else CMPP20


def check_connect_negotiated(
    connect: p.Connect, secrets: Mapping[str, bytes]
) -> tuple[ConnectCheck, ProtocolCodec]:
    """Authenticate *connect* and choose the version to answer in.

    A 3.x client is answered with Version 0x30 and an AuthenticatorISMG
    over the 4-byte Status (cmpp30.md §3); a 2.x client with Version 0x20
    and the 1-byte Status (cmpp20-notes.md §4).  A version above 0x3F gets
    Status 4 and one below 0x20 Status 5, both with zero authenticators.

    :param secrets: account (SP_Id) → shared secret.
    :returns: the :class:`ConnectCheck` and the codec to encode its response
        and the rest of the link with.
    """
    codec = _answer_codec(connect.version)
    if connect.version in _V3:
        check = check_connect(
            connect, secrets, accept_versions=_V3, answer_version=VERSION_30, status_width=4
        )
    elif connect.version in _V2:
        check = check_connect(
            connect, secrets, accept_versions=_V2, answer_version=VERSION_20, status_width=1
        )
    else:
        answer = VERSION_30 if codec is CMPP30 else VERSION_20
        check = check_connect(connect, secrets, accept_versions=_KNOWN, answer_version=answer)
    return check, codec


_C = CommandId
#: Error answers for the GNS requests whose 3.0 responses differ from 2.0's.
_ERROR_RESPONSES_30: dict[int, Callable[[int], object]] = {
    _C.GET_ROUTE: lambda s: p.GetMtRouteResp(result=1),
    _C.GET_MO_ROUTE: lambda s: p.GetMoRouteResp(result=1),
}


class VersionedCmppAdapter(CmppAdapter):
    """A CMPP 3.0 listener's adapter that answers 2.0 clients as 2.0.

    The link starts with :data:`~.codec30.CMPP30` (CONNECT reads the same in
    both versions); the first CONNECT handed to :meth:`check_connect` or
    :meth:`negotiate` fixes the codec for the rest of the link.

    :ivar negotiated: whether the version has been fixed.
    """

    def __init__(self, first_sequence: int = 1) -> None:
        super().__init__(CMPP30, first_sequence)
        self.negotiated = False

    def negotiate(self, connect: p.Connect) -> ProtocolCodec:
        """Fix the link's codec from the first CONNECT's Version; return it.

        Later calls (a second CONNECT on a bound link) change nothing.
        """
        if not self.negotiated:
            self.codec = _answer_codec(connect.version)
            self.negotiated = True
        return self.codec

    def check_connect(self, connect: p.Connect, secrets: Mapping[str, bytes]) -> ConnectCheck:
        """:func:`check_connect_negotiated`, then switch to its codec (once).

        Call it from the handler before the CONNECT_RESP is written, so that
        the answer and every later frame use the negotiated version.
        """
        check, _ = check_connect_negotiated(connect, secrets)
        self.negotiate(connect)
        return check

    def error_response(self, error: DecodeError) -> object | None:
        """As :class:`CmppAdapter`, with 3.0's GET_MT_ROUTE/GET_MO_ROUTE answers."""
        if self.codec is CMPP30:
            make = _ERROR_RESPONSES_30.get(error.command_id or 0)
            if make is not None:
                return make(error.status or 1)
        return super().error_response(error)
