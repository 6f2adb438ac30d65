"""The SP side of CMPP 2.0 (``cmpp://``) and 3.0 (``cmpp3://``): a channel's client.

Message ids are CMPP's 64-bit Msg_Id in decimal (docs: "message ids").
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

import attrs
from twisted.internet.defer import Deferred

from smsgw.config import UpstreamConfig
from smsgw.protocols.cmpp.codec import CMPP20, decode_report
from smsgw.protocols.cmpp.pdus import Deliver, DeliverResp, Submit
from smsgw.protocols.session import Session
from smsgw.protocols.times import report_minute
from smsgw.sp.clients import DELIVERED, INTERMEDIATE, Event, MoEvent, ReportEvent
from smsgw.text.longsms import PartLike

__all__ = ["CmppClient"]


def _b(value: str) -> bytes:
    return value.encode("ascii")


def _t(value: bytes) -> str:
    return value.decode("ascii", "replace")


class CmppClient:
    """CMPP 2.0 (``cmpp://``) and 3.0 (``cmpp3://``)."""

    flow_control: ClassVar[frozenset[int]] = frozenset({8})

    def __init__(self, config: UpstreamConfig) -> None:
        self.config = config
        self.scheme = config.scheme
        self.v3 = config.scheme == "cmpp3"
        if self.v3:
            from smsgw.protocols.cmpp.codec30 import CMPP30

            self.codec = CMPP30
        else:
            self.codec = CMPP20
        # Encoded once, not for every SUBMIT.
        self._service_id = _b(config.service_id)
        self._msg_src = _b(config.account)
        self._src: tuple[str, bytes] = ("", b"")

    def adapter(self) -> Any:
        """A fresh session adapter for one link."""
        from smsgw.protocols.cmpp.session import CmppAdapter

        return CmppAdapter(self.codec)

    def session_config_overrides(self) -> dict[str, Any]:
        """This protocol's session defaults, over the channel's settings."""
        return {}

    def login(self, session: Session) -> Deferred[Any]:
        """Log in on a fresh link."""
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
        """The SUBMIT for one segment to *dests*."""
        if src != self._src[0]:
            self._src = (src, _b(src))
        return Submit(
            pk_total=segment.pk_total,
            pk_number=segment.pk_number,
            registered_delivery=1 if report else 0,
            service_id=self._service_id,
            tp_udhi=segment.tp_udhi,
            msg_fmt=segment.msg_fmt,
            msg_src=self._msg_src,
            src_id=self._src[1],
            dest_terminal_ids=(_b(dests[0]),) if len(dests) == 1 else tuple(map(_b, dests)),
            msg_content=segment.content,
        )

    def complete_submit(self, pdu: Any) -> Any:
        """A Submit with Src_Id, Service_Id and Msg_src from the upstream URL where empty."""
        if type(pdu) is not Submit or (pdu.src_id and pdu.service_id and pdu.msg_src):
            return pdu
        cfg = self.config
        return attrs.evolve(
            pdu,
            src_id=pdu.src_id or cfg.src_id.encode("ascii"),
            service_id=pdu.service_id or cfg.service_id.encode("ascii"),
            msg_src=pdu.msg_src or cfg.account.encode("ascii"),
        )

    def outcome(self, response: Any, sequence: Hashable) -> tuple[str, int]:
        """``(normalised msg id, result)`` of a SUBMIT response."""
        return str(response.msg_id), response.result

    def event(self, channel: str, pdu: Any) -> Event | None:
        """The neutral event an inbound request carries, or ``None``."""
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
                delivered=stat == DELIVERED,
                final=stat not in INTERMEDIATE,
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

    def inbound_kinds(self) -> frozenset[type]:
        """DELIVER: the ISMG's reports and MOs."""
        return frozenset({Deliver})

    def ack(self, pdu: Any, ok: bool) -> object | None:
        """The response to an inbound request (*ok*: it is stored)."""
        if type(pdu) is Deliver:
            # Result 9 ("other"): not stored, the ISMG will send it again.
            return DeliverResp(pdu.msg_id, 0 if ok else 9)
        return None
