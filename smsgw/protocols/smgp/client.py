"""The SP side of SMGP 3.0 (``smgp://``): a channel's client.

Message ids are SMGP's 10-byte MsgID in hex.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

from twisted.internet.defer import Deferred

from smsgw.config import UpstreamConfig
from smsgw.protocols.registry import extras_as
from smsgw.protocols.session import Session
from smsgw.protocols.smgp.constants import Tag
from smsgw.protocols.smgp.extras import SmgpExtras
from smsgw.protocols.smgp.msgid import msg_id_hex
from smsgw.protocols.smgp.pdus import Deliver, DeliverResp, Submit
from smsgw.protocols.smgp.report import decode_report
from smsgw.protocols.smgp.session import SmgpAdapter, login
from smsgw.protocols.smgp.tlv import Tlv, encode_value, has_udhi
from smsgw.protocols.times import report_minute
from smsgw.sp.clients import DELIVERED, INTERMEDIATE, Event, MoEvent, ReportEvent
from smsgw.text.longsms import PartLike

__all__ = ["SmgpClient"]

#: TP_udhi = 1 (smgp30.md §10), the first TLV of every long-message segment.
_UDHI_TLV = Tlv(Tag.TP_UDHI, encode_value(Tag.TP_UDHI, 1))


def _b(value: str) -> bytes:
    return value.encode("ascii")


def _t(value: bytes) -> str:
    return value.decode("ascii", "replace")


class SmgpClient:
    """SMGP 3.0 (``smgp://``): Login in TRANSMIT mode, reports as Deliver IsReport=1."""

    scheme: ClassVar[str] = "smgp"
    flow_control: ClassVar[frozenset[int]] = frozenset({1, 75})

    def __init__(self, config: UpstreamConfig) -> None:
        self.config = config
        # The Submit field every message shares (the configuration is frozen).
        self._service_id = _b(config.service_id)

    def adapter(self) -> Any:
        """A fresh session adapter for one link."""
        return SmgpAdapter()

    def session_config_overrides(self) -> dict[str, Any]:
        """This protocol's session defaults, over the channel's settings."""
        return {}

    def login(self, session: Session) -> Deferred[Any]:
        """Log in on a fresh link."""
        mode = extras_as(self.config.extra, SmgpExtras).login_mode
        return login(session, _b(self.config.account), self.config.secret.encode("utf-8"), mode)

    def submit_pdu(
        self, dests: tuple[str, ...], segment: PartLike, *, report: bool, src: str
    ) -> object:
        """The SUBMIT for one segment to *dests*."""
        tlvs: tuple[Tlv, ...] = ()
        if segment.tp_udhi:
            tlvs = (
                _UDHI_TLV,
                Tlv(Tag.PK_TOTAL, encode_value(Tag.PK_TOTAL, segment.pk_total)),
                Tlv(Tag.PK_NUMBER, encode_value(Tag.PK_NUMBER, segment.pk_number)),
            )
        return Submit(
            need_report=1 if report else 0,
            service_id=self._service_id,
            msg_format=segment.msg_fmt,
            src_term_id=_b(src),
            dest_term_ids=(_b(dests[0]),) if len(dests) == 1 else tuple(_b(d) for d in dests),
            msg_content=segment.content,
            tlvs=tlvs,
        )

    def outcome(self, response: Any, sequence: Hashable) -> tuple[str, int]:
        """``(normalised msg id, result)`` of a SUBMIT response."""
        return msg_id_hex(response.msg_id), response.status

    def event(self, channel: str, pdu: Any) -> Event | None:
        """The neutral event an inbound request carries, or ``None``."""
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
                delivered=stat == DELIVERED,
                final=stat not in INTERMEDIATE,
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

    def inbound_kinds(self) -> frozenset[type]:
        """Deliver: the SMGW's reports and MOs."""
        return frozenset({Deliver})

    def ack(self, pdu: Any, ok: bool) -> object | None:
        """The response to an inbound request (*ok*: it is stored)."""
        if type(pdu) is Deliver:
            return DeliverResp(pdu.msg_id, 0 if ok else 1)
        return None
