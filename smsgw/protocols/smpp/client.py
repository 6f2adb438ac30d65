"""The SP side of SMPP 3.4 (``smpp://``): a channel's client (the ESME).

One bind_transceiver per session (``bind=trx``), or a bind_transmitter per
session for SUBMITs plus a bind_receiver per session for receipts and MOs
(``bind=tx+rx``: the channel keeps receiver links apart and never submits
on them).  Each segment is one submit_sm to one destination; text the
gateway stored as Msg_Fmt 0 (ASCII) goes as data_coding 0, GSM 03.38, and
UCS2 as data_coding 8 (:func:`~smsgw.protocols.smpp.content.split_mt`
decides the split, in septets).  A long message goes with its UDH
(``long=udh``), with the sar_* TLVs instead (``long=sar``) or whole in
message_payload (``long=payload``).

Message ids are the submit_sm_resp message_id as text, or in decimal when
the channel says the SMSC writes them in decimal or hex (``submit_id``,
``receipt_id``: :func:`~smsgw.protocols.smpp.receipt.canonical_id`), so
that a receipt's id finds its message whichever form each side uses.
ESME_RTHROTTLED (0x58), ESME_RMSGQFUL (0x14) and ESME_RSYSERR (0x08) are
flow control: the channel backs off and sends again; any other status is
final, stored with its name (``result 69 (ESME_RSUBMITFAIL)``).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Hashable
from typing import Any, ClassVar

from twisted.internet.defer import Deferred

from smsgw.config import ConfigError, UpstreamConfig
from smsgw.protocols.registry import extras_as
from smsgw.protocols.session import Session
from smsgw.protocols.smpp import pdus as p
from smsgw.protocols.smpp.constants import EsmClass, MessageState, Status, Tag, status_name
from smsgw.protocols.smpp.content import GSM, UCS2, mo_input, split_mt
from smsgw.protocols.smpp.extras import SmppExtras
from smsgw.protocols.smpp.receipt import STAT_WORDS, canonical_id, is_receipt, receipt_of
from smsgw.protocols.smpp.session import SmppAdapter, bind
from smsgw.protocols.smpp.tlv import encode_value
from smsgw.protocols.tlv import Tlv
from smsgw.sp.clients import Event, MoEvent, ReportEvent
from smsgw.text import MsgFmt, concat_info, decode_text
from smsgw.text.gsm0338 import encode_gsm
from smsgw.text.longsms import Part, PartLike

__all__ = ["SmppClient"]

#: The most octets of one short message in data_coding 0 (septets) and in the others.
_SINGLE = {GSM: 160}
_SINGLE_OTHER = 140
#: Receipt states after which more will come: nothing is recorded for them.
_NOT_FINAL = frozenset({MessageState.ENROUTE, MessageState.ACCEPTED})


def _t(value: bytes) -> str:
    return value.decode("latin-1")


def _coded(segment: PartLike) -> tuple[int, bytes, bytes]:
    """``(data_coding, udh, body)`` of a stored segment, the body in its data_coding.

    Msg_Fmt 0 (ASCII) becomes GSM 03.38 septets, one per octet (``@`` is
    0x00, ``_`` 0x11, ``{`` ESC 0x28: :mod:`smsgw.text.gsm0338`); 8 stays
    UCS2; 4 (binary) stays binary; any other text format (GB) is rewritten
    as UCS2.
    """
    content = segment.content
    udh = content[: content[0] + 1] if segment.tp_udhi and content else b""
    body = content[len(udh) :]
    fmt = segment.msg_fmt
    if fmt == MsgFmt.ASCII:
        return GSM, udh, encode_gsm(body.decode("ascii"))
    if fmt in (MsgFmt.UCS2, MsgFmt.BINARY):
        return fmt, udh, body
    return UCS2, udh, decode_text(body, fmt).encode("utf-16-be", "surrogatepass")


def _done_at(value: datetime.datetime | None) -> float | None:
    # 3.4 leaves the receipt's clock to the SMSC; taken as UTC (README "SMPP 3.4").
    if value is None:
        return None
    return value.replace(tzinfo=datetime.UTC).timestamp()


class SmppClient:
    """SMPP 3.4 (``smpp://``): binds, submit_sm per segment, receipts as deliver_sm or data_sm.

    :ivar receiver_login: with ``bind=tx+rx``, the login of the channel's
        receiver links (bind_receiver); ``None`` with ``bind=trx``.
    """

    scheme: ClassVar[str] = "smpp"
    flow_control: ClassVar[frozenset[int]] = frozenset(
        {Status.ESME_RTHROTTLED, Status.ESME_RMSGQFUL, Status.ESME_RSYSERR}
    )

    def __init__(self, config: UpstreamConfig) -> None:
        """:raises ConfigError: the account or secret does not fit a bind (smpp34.md §2)."""
        for key, value, most in (("account", config.account, 15), ("secret", config.secret, 8)):
            if not value.isascii() or len(value) > most:
                raise ConfigError(f"at most {most} ASCII characters for smpp", key=key)
        self.config = config
        self.extras = extras_as(config.extra, SmppExtras)
        self.receiver_login: Callable[[Session], Deferred[Any]] | None = None
        if self.extras.bind == "tx+rx":
            self.receiver_login = self._bind_receiver

    def adapter(self) -> Any:
        """A fresh session adapter for one link."""
        return SmppAdapter()

    def session_config_overrides(self) -> dict[str, Any]:
        """One transmission per request: an unanswered submit_sm is never resent on its link."""
        return {"attempts": 1}

    def _bind(self, cls: type[p.Bind]) -> p.Bind:
        return cls(
            system_id=self.config.account.encode("ascii"),
            password=self.config.secret.encode("ascii"),
            system_type=self.extras.system_type.encode("ascii"),
        )

    def login(self, session: Session) -> Deferred[Any]:
        """bind_transceiver, or bind_transmitter with ``bind=tx+rx``."""
        cls = p.BindTransmitter if self.receiver_login is not None else p.BindTransceiver
        return bind(session, self._bind(cls))

    def _bind_receiver(self, session: Session) -> Deferred[Any]:
        return bind(session, self._bind(p.BindReceiver))

    def segments(self, text: str, reference: int) -> list[Part]:
        """*text* split as this channel sends it (:func:`~.content.split_mt`)."""
        return split_mt(text, reference, payload=self.extras.long == "payload")

    def max_dests(self, report: bool) -> int:
        """One: a submit_sm has one destination_addr."""
        return 1

    def result_name(self, result: int) -> str:
        """The command_status's name (``ESME_RSUBMITFAIL``)."""
        return status_name(result)

    def submit_pdu(
        self, dests: tuple[str, ...], segment: PartLike, *, report: bool, src: str
    ) -> object:
        """The submit_sm for one segment to ``dests[0]`` (one destination: :meth:`max_dests`)."""
        if len(dests) != 1:
            raise ValueError(f"a submit_sm has one destination, not {len(dests)}")
        coding, udh, body = _coded(segment)
        extras = self.extras
        esm_class = 0
        tlvs: tuple[Tlv, ...] = ()
        if udh and extras.long == "sar" and (info := concat_info(segment.content, 1)):
            tlvs = tuple(
                Tlv(tag, encode_value(tag, value))
                for tag, value in (
                    (Tag.SAR_MSG_REF_NUM, info.reference),
                    (Tag.SAR_TOTAL_SEGMENTS, info.total),
                    (Tag.SAR_SEGMENT_SEQNUM, info.number),
                )
            )
        elif udh:
            esm_class = EsmClass.UDHI
            body = udh + body
        if not udh and len(body) > _SINGLE.get(coding, _SINGLE_OTHER):
            # long=payload: the whole text as one submit_sm (split_mt did not cut it).
            tlvs, body = (Tlv(Tag.MESSAGE_PAYLOAD, body),), b""
        return p.SubmitSm(
            source_addr_ton=extras.source_ton,
            source_addr_npi=extras.source_npi,
            source_addr=src.encode("ascii"),
            dest_addr_ton=extras.dest_ton,
            dest_addr_npi=extras.dest_npi,
            destination_addr=dests[0].encode("ascii"),
            esm_class=int(esm_class),
            registered_delivery=1 if report else 0,
            data_coding=coding,
            short_message=body,
            tlvs=tlvs,
        )

    def outcome(self, response: Any, sequence: Hashable) -> tuple[str, int]:
        """``(message id, command_status)``: the id in decimal when ``submit_id`` names a form."""
        status = int(response.command_status)
        message_id = getattr(response, "message_id", b"")
        if status or not message_id:
            return _t(message_id), status
        return canonical_id(_t(message_id), self.extras.submit_form), status

    def event(self, channel: str, pdu: Any) -> Event | None:
        """A receipt (esm_class 0x04 or 0x20) as a :class:`ReportEvent`, else an MO."""
        if not isinstance(pdu, p.DeliverSm | p.DataSm):
            return None
        if is_receipt(pdu):
            receipt = receipt_of(pdu)
            if receipt is not None:
                state = receipt.state
                text = receipt.text
                if state is not None:
                    stat = STAT_WORDS[state]
                else:
                    stat = (text.stat or "UNKNOWN") if text is not None else "UNKNOWN"
                return ReportEvent(
                    channel=channel,
                    msg_id=canonical_id(receipt.message_id, self.extras.receipt_form),
                    stat=stat,
                    dest=_t(pdu.source_addr),
                    delivered=state is MessageState.DELIVERED,
                    final=not receipt.intermediate and state not in _NOT_FINAL,
                    done_at=_done_at(text.done_date if text is not None else None),
                    err="" if receipt.error is None else f"{receipt.error:03d}",
                )
            # A receipt with no id in its TLVs nor its text: kept as an MO, never dropped.
        content, tp_udhi, msg_fmt = mo_input(pdu)
        return MoEvent(
            channel=channel,
            sender=_t(pdu.source_addr),
            to=_t(pdu.destination_addr),
            content=content,
            msg_fmt=msg_fmt,
            tp_udhi=tp_udhi,
        )

    def inbound_kinds(self) -> frozenset[type]:
        """deliver_sm and data_sm: the SMSC's receipts and MOs."""
        return frozenset({p.DeliverSm, p.DataSm})

    def ack(self, pdu: Any, ok: bool) -> object | None:
        """deliver_sm_resp / data_sm_resp; ESME_RX_T_APPN (try later) when not stored."""
        status = 0 if ok else Status.ESME_RX_T_APPN
        if isinstance(pdu, p.DeliverSm):
            return p.DeliverSmResp(command_status=status)
        if isinstance(pdu, p.DataSm):
            return p.DataSmResp(command_status=status)
        return None
