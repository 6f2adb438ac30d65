"""Per-protocol SP clients: what differs between CMPP 2.0/3.0, SGIP and SMGP.

A :class:`~smsgw.sp.channel.Channel` is the same for every protocol
(sessions, window, TPS, reconnect, retries); a client here knows its
protocol's login, how to build a SUBMIT for one segment, how to read the
message id and result, which results mean "slow down", and how to turn an
inbound DELIVER, Report or MO into a protocol-neutral event.  Message ids are
normalised as DESIGN.md §4.3 says: CMPP's 64-bit Msg_Id in decimal, SGIP's
``node-time-seq``, SMGP's 10-byte MsgID in hex.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import attrs
from twisted.application.service import IService
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsgw.config import UpstreamConfig
from smsgw.protocols.codec import Header
from smsgw.protocols.session import Session
from smsgw.protocols.times import report_minute
from smsgw.text.longsms import PartLike

if TYPE_CHECKING:
    from smsgw.sp.channel import Channel


@attrs.frozen
class ReportEvent:
    """A delivery report for one segment sent earlier (correlate on ``msg_id``), protocol-neutral.

    The client reads its protocol's report and says what it means, so that
    the gateway parses no protocol's time format and knows no state words.

    :ivar stat: the carrier's own state word (``DELIVRD``, ``UNDELIV``…),
        kept as text for the application.
    :ivar delivered: whether the report says the handset got the message.
    :ivar final: False for an intermediate state (e.g. ``ACCEPTD``): more
        will come, and nothing is recorded for it.
    :ivar done_at: when the carrier says the state was reached (POSIX
        seconds), None when the report carries no (valid) time.
    :ivar err: the carrier's error code as text (``""`` when it has none).
    """

    channel: str
    msg_id: str
    stat: str
    dest: str
    delivered: bool = attrs.field(kw_only=True)
    final: bool = attrs.field(default=True, kw_only=True)
    done_at: float | None = attrs.field(default=None, kw_only=True)
    err: str = attrs.field(default="", kw_only=True)


@attrs.frozen
class MoEvent:
    """A message from a handset (one segment; long MOs carry their UDH)."""

    channel: str
    sender: str
    to: str
    content: bytes
    msg_fmt: int
    tp_udhi: int = 0
    msg_id: str = ""


Event = ReportEvent | MoEvent


class Client(Protocol):
    """The protocol-specific half of a channel."""

    scheme: ClassVar[str]
    #: Results that mean "flow control: back off and try again".
    flow_control: ClassVar[frozenset[int]]

    def adapter(self) -> Any:
        """A fresh session adapter."""

    def session_config_overrides(self) -> dict[str, Any]:
        """Protocol defaults for the session (e.g. SGIP has no keepalive)."""

    def login(self, session: Session) -> Deferred[Any]:
        """Log in on a fresh link."""

    def submit_pdu(
        self, dests: tuple[str, ...], segment: PartLike, *, report: bool, src: str
    ) -> object:
        """The SUBMIT for one segment to *dests*."""

    def outcome(self, response: Any, sequence: Hashable) -> tuple[str, int]:
        """``(normalised msg id, result)`` of a SUBMIT response."""

    def event(self, channel: str, pdu: Any) -> Event | None:
        """The event an inbound request carries, or ``None``."""

    def ack(self, pdu: Any, ok: bool) -> object | None:
        """The response to an inbound request (``ok`` = stored)."""

    # Optional: ``services(channel) -> list[IService]``, the services the
    # channel runs for links the carrier opens to the SP (SGIP's second
    # connection; SMPP's receiver binds and outbind).  They hand inbound
    # requests to ``channel.inbound(session, pdu)``.


def _b(value: str) -> bytes:
    return value.encode("ascii")


def _t(value: bytes) -> str:
    return value.decode("ascii", "replace")


#: The report Stat of a delivered message (CMPP 2.0 §8.4.5.1 Stat; SMGP 3.0 §8.2 ``stat:``).
_DELIVERED = "DELIVRD"
#: Stats that are not final: the carrier accepted the message and a final report follows.
_INTERMEDIATE = frozenset({"ACCEPTD"})


class CmppClient:
    """CMPP 2.0 (``cmpp://``) and 3.0 (``cmpp3://``)."""

    flow_control: ClassVar[frozenset[int]] = frozenset({8})

    def __init__(self, config: UpstreamConfig) -> None:
        from smsgw.protocols.cmpp.codec import CMPP20

        self.config = config
        self.scheme = config.scheme
        self.v3 = config.scheme == "cmpp3"
        if self.v3:
            from smsgw.protocols.cmpp.codec30 import CMPP30

            self.codec = CMPP30
        else:
            self.codec = CMPP20

    def adapter(self) -> Any:
        from smsgw.protocols.cmpp.session import CmppAdapter

        return CmppAdapter(self.codec)

    def session_config_overrides(self) -> dict[str, Any]:
        return {}

    def login(self, session: Session) -> Deferred[Any]:
        from smsgw.protocols.cmpp.session import login

        cfg = self.config
        return login(
            session,
            _b(cfg.account),
            cfg.secret.encode("utf-8"),
            version=0x30 if self.v3 else 0x20,
            status_width=4 if self.v3 else 1,
        )

    def submit_pdu(
        self, dests: tuple[str, ...], segment: PartLike, *, report: bool, src: str
    ) -> object:
        from smsgw.protocols.cmpp.pdus import Submit

        cfg = self.config
        return Submit(
            pk_total=segment.pk_total,
            pk_number=segment.pk_number,
            registered_delivery=1 if report else 0,
            service_id=_b(cfg.service_id),
            tp_udhi=segment.tp_udhi,
            msg_fmt=segment.msg_fmt,
            msg_src=_b(cfg.account),
            src_id=_b(src),
            dest_terminal_ids=tuple(_b(d) for d in dests),
            msg_content=segment.content,
        )

    def outcome(self, response: Any, sequence: Hashable) -> tuple[str, int]:
        return str(response.msg_id), response.result

    def event(self, channel: str, pdu: Any) -> Event | None:
        from smsgw.protocols.cmpp.codec import decode_report
        from smsgw.protocols.cmpp.pdus import Deliver

        if type(pdu) is not Deliver:
            return None
        if pdu.registered_delivery == 1:
            report = decode_report(pdu.msg_content)
            stat = _t(report.stat)
            return ReportEvent(
                channel=channel,
                msg_id=str(report.msg_id),
                stat=stat,
                dest=_t(report.dest_terminal_id),
                delivered=stat == _DELIVERED,
                final=stat not in _INTERMEDIATE,
                done_at=report_minute(report.done_time),
            )
        return MoEvent(
            channel=channel,
            sender=_t(pdu.src_terminal_id),
            to=_t(pdu.dest_id),
            content=pdu.msg_content,
            msg_fmt=pdu.msg_fmt,
            tp_udhi=pdu.tp_udhi,
            msg_id=str(pdu.msg_id),
        )

    def ack(self, pdu: Any, ok: bool) -> object | None:
        from smsgw.protocols.cmpp.pdus import Deliver, DeliverResp

        if type(pdu) is Deliver:
            # Result 9 ("other"): not stored, the ISMG will send it again.
            return DeliverResp(pdu.msg_id, 0 if ok else 9)
        return None


class SmgpClient:
    """SMGP 3.0 (``smgp://``): Login in TRANSMIT mode, reports as Deliver IsReport=1."""

    scheme: ClassVar[str] = "smgp"
    flow_control: ClassVar[frozenset[int]] = frozenset({1, 75})

    def __init__(self, config: UpstreamConfig) -> None:
        self.config = config

    def adapter(self) -> Any:
        from smsgw.protocols.smgp.session import SmgpAdapter

        return SmgpAdapter()

    def session_config_overrides(self) -> dict[str, Any]:
        return {}

    def login(self, session: Session) -> Deferred[Any]:
        from smsgw.protocols.smgp.session import login

        mode = int(self.config.extra.get("login_mode", "2"))
        return login(session, _b(self.config.account), self.config.secret.encode("utf-8"), mode)

    def submit_pdu(
        self, dests: tuple[str, ...], segment: PartLike, *, report: bool, src: str
    ) -> object:
        from smsgw.protocols.smgp.constants import Tag
        from smsgw.protocols.smgp.pdus import Submit
        from smsgw.protocols.smgp.tlv import Tlv, encode_value

        tlvs: tuple[Tlv, ...] = ()
        if segment.tp_udhi:
            tlvs = tuple(
                Tlv(tag, encode_value(tag, value))
                for tag, value in (
                    (Tag.TP_UDHI, 1),
                    (Tag.PK_TOTAL, segment.pk_total),
                    (Tag.PK_NUMBER, segment.pk_number),
                )
            )
        return Submit(
            need_report=1 if report else 0,
            service_id=_b(self.config.service_id),
            msg_format=segment.msg_fmt,
            src_term_id=_b(src),
            dest_term_ids=tuple(_b(d) for d in dests),
            msg_content=segment.content,
            tlvs=tlvs,
        )

    def outcome(self, response: Any, sequence: Hashable) -> tuple[str, int]:
        from smsgw.protocols.smgp.msgid import msg_id_hex

        return msg_id_hex(response.msg_id), response.status

    def event(self, channel: str, pdu: Any) -> Event | None:
        from smsgw.protocols.smgp.msgid import msg_id_hex
        from smsgw.protocols.smgp.pdus import Deliver
        from smsgw.protocols.smgp.report import decode_report
        from smsgw.protocols.smgp.tlv import has_udhi

        if type(pdu) is not Deliver:
            return None
        if pdu.is_report:
            report = decode_report(pdu.msg_content)
            stat = _t(report.stat)
            return ReportEvent(
                channel=channel,
                msg_id=msg_id_hex(report.msg_id),
                stat=stat,
                dest=_t(pdu.src_term_id),
                delivered=stat == _DELIVERED,
                final=stat not in _INTERMEDIATE,
                done_at=report_minute(report.done_date),
                err=_t(report.err),
            )
        return MoEvent(
            channel=channel,
            sender=_t(pdu.src_term_id),
            to=_t(pdu.dest_term_id),
            content=pdu.msg_content,
            msg_fmt=pdu.msg_format,
            tp_udhi=1 if has_udhi(pdu.tlvs) else 0,
            msg_id=msg_id_hex(pdu.msg_id),
        )

    def ack(self, pdu: Any, ok: bool) -> object | None:
        from smsgw.protocols.smgp.pdus import Deliver, DeliverResp

        if type(pdu) is Deliver:
            return DeliverResp(pdu.msg_id, 0 if ok else 1)
        return None


class SgipClient:
    """SGIP 1.2 (``sgip://``): MT link Login Type 1; reports arrive on our own server.

    The message id of a Submit is its header sequence number
    (sgip12.md §10), so the channel records it when the Submit is written.
    """

    scheme: ClassVar[str] = "sgip"
    flow_control: ClassVar[frozenset[int]] = frozenset({33, 88})

    def __init__(self, config: UpstreamConfig) -> None:
        from smsgw.protocols.sgip.sequence import SgipSequence

        self.config = config
        self.node_id = int(config.extra.get("node_id", "3000000000"))
        self._sequence: SgipSequence | None = None

    def adapter(self) -> Any:
        from smsgw.protocols.sgip.session import SgipAdapter

        adapter = SgipAdapter(self.node_id)
        if self._sequence is None:
            self._sequence = adapter.sequence
        # One counter for every link, so Submit ids never repeat.
        adapter.sequence = self._sequence
        return adapter

    def session_config_overrides(self) -> dict[str, Any]:
        return {"window": min(self.config.window, 32), "keepalive_s": None,
                "idle_timeout_s": None, "response_timeout_s": 30.0}  # fmt: skip

    def login(self, session: Session) -> Deferred[Any]:
        from smsgw.protocols.sgip.constants import LoginType
        from smsgw.protocols.sgip.session import bind

        return bind(session, LoginType.SP_TO_SMG, self.config.account, self.config.secret)

    def submit_pdu(
        self, dests: tuple[str, ...], segment: PartLike, *, report: bool, src: str
    ) -> object:
        from smsgw.protocols.sgip.pdus import Submit

        return Submit(
            sp_number=_b(src),
            user_numbers=tuple(_b(d) for d in dests),
            corp_id=_b(self.config.extra.get("corp_id", "")),
            service_type=_b(self.config.service_id),
            report_flag=1 if report else 2,
            tp_udhi=segment.tp_udhi,
            message_coding=segment.msg_fmt,
            message_content=segment.content,
        )

    def outcome(self, response: Any, sequence: Hashable) -> tuple[str, int]:
        from smsgw.protocols.sgip.sequence import format_message_id

        return format_message_id(sequence), response.result  # type: ignore[arg-type]

    def event(self, channel: str, pdu: Any) -> Event | None:
        from smsgw.protocols.sgip.pdus import Deliver, Report
        from smsgw.protocols.sgip.sequence import format_message_id

        if type(pdu) is Report:
            # State (SGIP 1.2 §6 Report): 0 delivered, 1 waiting, 2 failed; the Report
            # carries no time.  The state is shown with CMPP's words.
            stat = {0: "DELIVRD", 1: "ACCEPTD", 2: "UNDELIV"}.get(pdu.state, "UNKNOWN")
            return ReportEvent(
                channel=channel,
                msg_id=format_message_id(pdu.submit_sequence_number),
                stat=stat,
                dest=_t(pdu.user_number),
                delivered=pdu.state == 0,
                final=pdu.state != 1,
                err=str(pdu.error_code),
            )
        if type(pdu) is Deliver:
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
        listen = self.config.extra.get("listen")
        if not listen:
            return []
        from twisted.application.internet import StreamServerEndpointService
        from twisted.internet.endpoints import serverFromString

        from smsgw.protocols.session import SessionFactory
        from smsgw.protocols.sgip.session import sgip_session_config

        factory = SessionFactory(
            self.adapter, _SgipServerHandler(channel), sgip_session_config(), channel.reactor
        )
        return [StreamServerEndpointService(serverFromString(channel.reactor, listen), factory)]

    def ack(self, pdu: Any, ok: bool) -> object | None:
        from smsgw.protocols.sgip import pdus as p

        result = 0 if ok else 5
        responses = {p.Deliver: p.DeliverResp, p.Report: p.ReportResp, p.UserRpt: p.UserRptResp}
        make = responses.get(type(pdu))
        return make(result) if make else None


class _SgipServerHandler:
    """The SP's own SGIP server: the SMG binds (Login Type 2) and delivers."""

    log = Logger()

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    def session_started(self, session: Session) -> None:
        self.log.info("{channel}: SGIP link from {peer}", channel=self.channel.name,
                      peer=session.peer)  # fmt: skip

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        from smsgw.protocols.sgip import pdus as sp
        from smsgw.protocols.sgip.constants import LoginType
        from smsgw.protocols.sgip.session import check_bind, refuse

        if session.bound:
            return self.channel.inbound(session, pdu)
        if type(pdu) is not sp.Bind:
            session.transport.loseConnection()  # type: ignore[union-attr]
            return None
        # The SMG logs in with the account's own name and password.
        cfg = self.channel.config
        user = cfg.account
        check = check_bind(pdu, {user: cfg.secret}, (LoginType.SMG_TO_SP,))
        if check.result != 0:
            self.log.warn("{channel}: refused SGIP Bind from {peer}", channel=self.channel.name,
                          peer=session.peer)  # fmt: skip
            refuse(session, check.response, header.sequence_id)
            return None
        session.authenticated(user)
        return check.response

    def session_ended(self, session: Session, reason: Failure) -> None:
        pass


CLIENTS: dict[str, type[Any]] = {
    "cmpp": CmppClient,
    "cmpp3": CmppClient,
    "sgip": SgipClient,
    "smgp": SmgpClient,
}


def client_for(config: UpstreamConfig) -> Client:
    """The client for *config*'s scheme."""
    return CLIENTS[config.scheme](config)  # type: ignore[no-any-return]
