"""The SP side of SGIP 1.2 (``sgip://``): a channel's client and the SP's own server.

Message ids are ``node-time-seq``, from the Submit's header sequence number.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, ClassVar

from twisted.application.service import IService
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsgw.config import UpstreamConfig
from smsgw.protocols.registry import extras_as
from smsgw.protocols.session import LoginResult, Role, Session
from smsgw.protocols.sgip import pdus as p
from smsgw.protocols.sgip.constants import LoginType
from smsgw.protocols.sgip.extras import SgipExtras
from smsgw.protocols.sgip.sequence import SgipSequence, format_message_id
from smsgw.protocols.sgip.session import SgipAdapter, bind, check_bind
from smsgw.sp.clients import Event, InboundResponder, MoEvent, ReportEvent
from smsgw.text.longsms import PartLike

if TYPE_CHECKING:
    from smsgw.sp.channel import Channel

__all__ = ["SgipClient"]


def _b(value: str) -> bytes:
    return value.encode("ascii")


def _t(value: bytes) -> str:
    return value.decode("ascii", "replace")


#: Report State (SGIP 1.2 §6 Report): 0 delivered, 1 waiting, 2 failed; shown
#: with CMPP's words.
_STATE_WORDS = {0: "DELIVRD", 1: "ACCEPTD", 2: "UNDELIV"}

#: The response class of each request the SMG sends the SP.
_RESPONSES: dict[type, type] = {
    p.Deliver: p.DeliverResp,
    p.Report: p.ReportResp,
    p.UserRpt: p.UserRptResp,
}


class SgipClient:
    """SGIP 1.2 (``sgip://``): MT link Login Type 1; reports arrive on our own server.

    The message id of a Submit is its header sequence number
    (sgip12.md §10), so the channel records it when the Submit is written.
    """

    scheme: ClassVar[str] = "sgip"
    flow_control: ClassVar[frozenset[int]] = frozenset({33, 88})

    def __init__(self, config: UpstreamConfig) -> None:
        self.config = config
        self.extra = extras_as(config.extra, SgipExtras)
        self.node_id = self.extra.node_id
        self._sequence: SgipSequence | None = None
        # The Submit fields every message shares (the configuration is frozen).
        self._corp_id = _b(self.extra.corp_id)
        self._service_type = _b(config.service_id)

    def adapter(self) -> Any:
        """A fresh session adapter for one link."""
        adapter = SgipAdapter(self.node_id)
        if self._sequence is None:
            self._sequence = adapter.sequence
        # One counter for every link, so Submit ids never repeat.
        adapter.sequence = self._sequence
        return adapter

    def session_config_overrides(self) -> dict[str, Any]:
        """This protocol's session defaults, over the channel's settings."""
        return {"window": min(self.config.window, 32), "keepalive_s": None,
                "idle_timeout_s": None, "response_timeout_s": 30.0}  # fmt: skip

    def login(self, session: Session) -> Deferred[Any]:
        """Log in on a fresh link."""
        return bind(session, LoginType.SP_TO_SMG, self.config.account, self.config.secret)

    def submit_pdu(
        self, dests: tuple[str, ...], segment: PartLike, *, report: bool, src: str
    ) -> object:
        """The SUBMIT for one segment to *dests*."""
        return p.Submit(
            sp_number=_b(src),
            user_numbers=(_b(dests[0]),) if len(dests) == 1 else tuple(_b(d) for d in dests),
            corp_id=self._corp_id,
            service_type=self._service_type,
            report_flag=1 if report else 2,
            tp_udhi=segment.tp_udhi,
            message_coding=segment.msg_fmt,
            message_content=segment.content,
        )

    def outcome(self, response: Any, sequence: Hashable) -> tuple[str, int]:
        """``(normalised msg id, result)`` of a SUBMIT response."""
        return format_message_id(sequence), response.result  # type: ignore[arg-type]

    def event(self, channel: str, pdu: Any) -> Event | None:
        """The neutral event an inbound request carries, or ``None``."""
        kind = type(pdu)
        if kind is p.Report:
            # The Report carries no time.
            state = pdu.state
            return ReportEvent(
                channel=channel,
                msg_id=format_message_id((pdu.submit_node_id, pdu.submit_time, pdu.submit_counter)),
                stat=_STATE_WORDS.get(state, "UNKNOWN"),
                dest=_t(pdu.user_number),
                delivered=state == 0,
                final=state != 1,
                err=str(pdu.error_code),
            )
        if kind is p.Deliver:
            return MoEvent(
                channel=channel,
                sender=_t(pdu.user_number),
                to=_t(pdu.sp_number),
                content=pdu.message_content,
                msg_fmt=pdu.message_coding,
                tp_udhi=pdu.tp_udhi,
            )
        return None

    def services(self, channel: Channel) -> list[IService]:
        """The SP's own SGIP server, where the SMG logs in (Login Type 2) and delivers.

        Only with ``listen=ENDPOINT`` in the upstream URL (SGIP 1.2 §2).
        """
        listen = self.extra.listen
        if not listen:
            return []
        from twisted.application.internet import StreamServerEndpointService
        from twisted.internet.endpoints import serverFromString

        from smsgw.config.endpoints import listen_endpoint
        from smsgw.protocols.admission import LoginLimits
        from smsgw.protocols.session import SessionFactory
        from smsgw.protocols.sgip.session import sgip_session_config

        factory = LoginLimits(
            SessionFactory(
                self.adapter, _SgipServerHandler(channel), sgip_session_config(), channel.reactor
            )
        )
        # Loopback unless the URL names an interface (an SMG on another host needs one).
        endpoint = serverFromString(channel.reactor, listen_endpoint(listen))
        return [StreamServerEndpointService(endpoint, factory)]

    def inbound_kinds(self) -> frozenset[type]:
        """Deliver, Report and UserRpt: what the SMG sends the SP."""
        return frozenset({p.Deliver, p.Report, p.UserRpt})

    def ack(self, pdu: Any, ok: bool) -> object | None:
        """The response to an inbound request (*ok*: it is stored)."""
        make = _RESPONSES.get(type(pdu))
        return make(0 if ok else 5) if make else None


class _SgipServerHandler(InboundResponder):
    """The SP's own SGIP server: the SMG binds (Login Type 2) and delivers.

    The engine checks legality (Bind first) and answers the Bind
    :meth:`authenticate` decides; the client's inbound requests go to
    ``Channel.inbound``, any other command gets Result 7.
    """

    log = Logger()
    role = Role.SERVER

    def session_started(self, session: Session) -> None:
        """A link from the SMG is connected (not logged in yet)."""
        self.log.info("{channel}: SGIP link from {peer}", channel=self.channel.name,
                      peer=session.peer)  # fmt: skip

    def authenticate(self, session: Session, pdu: Any) -> LoginResult:
        """The SMG logs in with the account's own name and password."""
        cfg = self.channel.config
        check = check_bind(pdu, {cfg.account: cfg.secret}, (LoginType.SMG_TO_SP,))
        if check.result != 0:
            self.log.warn("{channel}: refused SGIP Bind from {peer}", channel=self.channel.name,
                          peer=session.peer)  # fmt: skip
        return check.login_result()

    def session_ended(self, session: Session, reason: Failure) -> None:
        """Nothing to forget: the channel does not track these links."""
