"""The simulator's SMPP 3.4 face: an SMSC for ESMEs (smpp34.md).

:func:`smpp_factory` builds a listener's session factory on a
:class:`~smsgw.ismg.simulator.Simulator`.  Binds (transmitter, receiver,
transceiver) are checked against the simulator's accounts (system_id is the
account id, password its secret, and its ``system_type`` when it has one),
then its IP allow-list and session cap.  submit_sm, data_sm and submit_multi
become protocol-neutral :class:`~smsgw.ismg.model.Mt` and go through the
simulator's checks, triggers and response faults like every protocol's
SUBMIT; query_sm, cancel_sm and replace_sm are answered from the
simulator's real report timers and outcomes.  Receipts are deliver_sm with
esm_class 0x04, their text and TLVs as :class:`SmppFaceOptions` says;
MOs go out in one of the three long-message forms (UDH, SAR, message_payload).
"""

from __future__ import annotations

import enum
import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsgw.ismg.model import Account, Mt, Refusal, text
from smsgw.protocols.codec import Header
from smsgw.protocols.legality import Responder, responder
from smsgw.protocols.session import LoginResult, Role, Session, SessionConfig, SessionFactory
from smsgw.protocols.smpp import pdus as p
from smsgw.protocols.smpp.constants import BindKind, EsmClass, MessageState, Status, Tag
from smsgw.protocols.smpp.content import decode_sm, reassembly_input
from smsgw.protocols.smpp.receipt import KeyCase, format_receipt_text, state_of_stat
from smsgw.protocols.smpp.session import CONFIG, SmppAdapter, bind_response, check_bind
from smsgw.protocols.smpp.tlv import Tlv, encode_value, put
from smsgw.text import concat_info, parse_udh
from smsgw.text.encoding import TextEncodeError
from smsgw.text.gsm0338 import encode_gsm
from smsgw.text.longsms import Part

if TYPE_CHECKING:
    from smsgw.config import SimulatorConfig
    from smsgw.ismg.simulator import Simulator

__all__ = ["IdForm", "LongForm", "ReceiptParts", "SmppFace", "SmppFaceOptions", "smpp_factory"]

#: Messages kept for query_sm, cancel_sm and replace_sm (oldest forgotten first).
MESSAGES_KEPT = 100_000
#: Longest short_message (smpp34.md §3), plus a SAR part's 7-octet UDH that
#: :func:`reassembly_input` puts before it.
_MAX_SHORT = 254 + 7
#: Longest message_payload value (a TLV length is 16 bits).
_MAX_PAYLOAD = 0xFFFF
_STATES = {"ENROUTE": MessageState.ENROUTE, "DELETED": MessageState.DELETED}


class IdForm(enum.Enum):
    """How this SMSC writes message ids."""

    DECIMAL = "decimal"
    HEX = "hex"
    UUID = "uuid"


class ReceiptParts(enum.Enum):
    """What a receipt carries: the Appendix B text, the TLVs, or both (smpp34.md §6)."""

    BOTH = "both"
    TEXT = "text"
    TLVS = "tlvs"


class LongForm(enum.Enum):
    """How a long MO is carried (smpp34.md §8)."""

    UDH = "udh"
    SAR = "sar"
    PAYLOAD = "payload"


@attrs.frozen
class SmppFaceOptions:
    """How the simulated SMSC writes ids, receipts and long MOs (``[simulator] smpp_*``).

    :ivar receipt_id_decimal: the receipt text's ``id:`` is the message id's
        number in decimal (hex ids only), as SMSCs that answer in hex and
        report in decimal do; the receipted_message_id TLV keeps the id.
    """

    system_id: bytes = b"SMSGW"
    message_id: IdForm = IdForm.DECIMAL
    receipt_id_decimal: bool = False
    date_digits: int = 10
    key_case: KeyCase = KeyCase.LOWER
    receipt: ReceiptParts = ReceiptParts.BOTH
    mo_long: LongForm = LongForm.UDH

    @classmethod
    def from_config(cls, config: SimulatorConfig) -> SmppFaceOptions:
        """The options of ``[simulator]`` (validated when it was loaded)."""
        return cls(
            system_id=config.smpp_system_id.encode("ascii"),
            message_id=IdForm(config.smpp_message_id),
            receipt_id_decimal=config.smpp_receipt_id == "decimal",
            date_digits=config.smpp_receipt_date_digits,
            key_case=KeyCase(config.smpp_receipt_keys),
            receipt=ReceiptParts(config.smpp_receipt_tlvs),
            mo_long=LongForm(config.smpp_mo_long),
        )


@attrs.define
class _Message:
    """An accepted message, for query_sm, cancel_sm and replace_sm."""

    account: str
    source: bytes
    dests: tuple[bytes, ...]
    mt: Mt


def _utc(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(int(epoch_s), UTC).replace(tzinfo=None)


def _smpp_time(epoch_s: float) -> bytes:
    """An absolute time field ``YYMMDDhhmmsstnnp`` in UTC (smpp34.md §1)."""
    return _utc(epoch_s).strftime("%y%m%d%H%M%S").encode() + b"000+"


class SmppFace(Responder):
    """SMPP server sessions; receipts and MOs go to receiver and transceiver binds.

    The engine checks legality (a bind first; submit_sm on a receiver bind and
    a second bind get ESME_RINVBNDSTS and ESME_RALYBND) and answers the bind
    :meth:`authenticate` decides; the session's ``mode`` is its BindKind.
    """

    log = Logger()
    protocol = "smpp"
    role = Role.SERVER
    #: The long forms ``POST /v1/mo`` may ask for.
    mo_long_forms = tuple(form.value for form in LongForm)

    _REFUSALS = {
        Refusal.STRUCTURE: Status.ESME_RSUBMITFAIL,
        Refusal.TOO_LONG: Status.ESME_RINVMSGLEN,
        Refusal.SRC_ID: Status.ESME_RINVSRCADR,
        Refusal.THROTTLED: Status.ESME_RTHROTTLED,
    }
    #: Simulator.admit's refusals: 2 (IP not allowed), 5 (too many sessions).
    _ADMIT = {2: Status.ESME_RBINDFAIL, 5: Status.ESME_RBINDFAIL}

    def __init__(self, sim: Simulator, options: SmppFaceOptions | None = None) -> None:
        self.sim = sim
        self.options = options or SmppFaceOptions()
        self._serial = 0
        self.messages: OrderedDict[str, _Message] = OrderedDict()

    def factory(self, config: SessionConfig | None = None) -> SessionFactory:
        """The session factory of this face's listener."""
        return SessionFactory(SmppAdapter, self, config or CONFIG, self.sim.clock)

    # -- binds -----------------------------------------------------------

    def session_started(self, session: Session) -> None:
        """A link is connected (not bound yet)."""
        self.log.info("SMPP connection from {peer}", peer=session.peer)

    def authenticate(self, session: Session, pdu: p.Bind) -> LoginResult | None:
        """Check a bind: system_id and password, system_type, then the IP and session cap."""
        sim = self.sim
        if sim.fault_disconnect(session):
            return None
        secrets = {a.id: a.secret for a in sim.accounts.values()}
        check = check_bind(pdu, secrets, system_id=self.options.system_id)
        account = sim.accounts.get(check.identity or "")
        status = check.status
        if status == 0 and account is not None:
            if account.system_type and pdu.system_type.decode("latin-1") != account.system_type:
                status = Status.ESME_RINVSYSTYP
            else:
                admitted = sim.admit(account, session)
                status = self._ADMIT[admitted] if admitted else 0
        if status != 0 or account is None:
            self.log.warn("refused SMPP bind from {peer}: status {status:#04x}",
                          peer=session.peer, status=int(status))  # fmt: skip
            return LoginResult(int(status), bind_response(pdu, int(status)))
        return check

    def logged_in(self, session: Session) -> None:
        """The bind response is written: receipts and MOs kept for the account may go out."""
        self.sim.session_bound(self.sim.accounts[session.account], session, self)
        self.log.info("{account} bound ({kind}) from {peer}", account=session.account,
                      kind=getattr(session.mode, "value", "?"), peer=session.peer)  # fmt: skip

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        """Answer a request from the peer once the engine found it legal."""
        if self.sim.fault_disconnect(session):
            return None
        return super().handle_request(session, header, pdu)

    def session_ended(self, session: Session, reason: Failure) -> None:
        """A link is gone."""
        self.sim.session_gone(session)

    # -- submits ---------------------------------------------------------

    def _new_id(self) -> str:
        self._serial += 1
        form = self.options.message_id
        if form is IdForm.HEX:
            return f"{self._serial:08X}"
        if form is IdForm.UUID:
            return str(uuid.UUID(int=self.sim.rng.getrandbits(128), version=4))
        return str(self._serial)

    def _mt(self, pdu: p.SubmitSm | p.DataSm, dests: tuple[str, ...], message_id: str) -> Mt:
        content, udhi = reassembly_input(pdu)
        total = number = 1
        if udhi:
            try:
                info = concat_info(content, udhi)
            except ValueError:
                info = None
            if info is not None:
                total, number = info.total, info.number
        registered = pdu.registered_delivery & 0x03
        many = len(dests) > 1
        short = isinstance(pdu, p.SubmitSm) and bool(pdu.short_message)
        return Mt(
            protocol=self.protocol,
            msg_id=message_id,
            src=text(pdu.source_addr),
            dests=dests,
            content=content,
            msg_fmt=pdu.data_coding,
            tp_udhi=udhi,
            pk_total=total,
            pk_number=number,
            report=registered in (1, 2),
            service_id=text(pdu.service_type),
            # One message id for every destination; each report timer its own key.
            report_keys=tuple(
                f"{message_id}/{i}" if many else message_id for i in range(len(dests))
            ),
            report_failures_only=registered == 2,
            max_content=_MAX_SHORT if short else _MAX_PAYLOAD,
        )

    def _take(
        self, session: Session, pdu: p.SubmitSm | p.DataSm, dests: tuple[str, ...]
    ) -> tuple[Mt, int]:
        """Check and accept one message; ``(mt, status)``, status 0 when accepted."""
        sim = self.sim
        account = sim.accounts[session.account]
        mt = self._mt(pdu, dests, self._new_id())
        refused = sim.check(account, mt)
        if refused is not None:
            reason, forced = refused
            return mt, int(forced or self._REFUSALS[reason])
        sim.accept(account, mt, self)
        self.messages[mt.msg_id] = _Message(
            account.id, pdu.source_addr, tuple(d.encode("ascii", "replace") for d in dests), mt
        )
        if len(self.messages) > MESSAGES_KEPT:
            self.messages.popitem(last=False)
        return mt, 0

    @responder(p.SubmitSm)
    def _submit_sm(self, session: Session, header: Header, pdu: p.SubmitSm) -> Any:
        mt, status = self._take(session, pdu, (text(pdu.destination_addr),))
        resp = p.SubmitSmResp(b"" if status else mt.msg_id.encode("ascii"), status)
        return self.sim.respond(self.sim.accounts[session.account], resp, mt=mt, session=session)

    @responder(p.DataSm)
    def _data_sm(self, session: Session, header: Header, pdu: p.DataSm) -> Any:
        mt, status = self._take(session, pdu, (text(pdu.destination_addr),))
        resp = p.DataSmResp(b"" if status else mt.msg_id.encode("ascii"), command_status=status)
        return self.sim.respond(self.sim.accounts[session.account], resp, mt=mt, session=session)

    @responder(p.SubmitMulti)
    def _submit_multi(self, session: Session, header: Header, pdu: p.SubmitMulti) -> Any:
        """One message to many: a destination a trigger refuses, or a list, fails alone."""
        sim = self.sim
        account = sim.accounts[session.account]
        failed: list[p.UnsuccessSme] = []
        kept: list[str] = []
        for dest in pdu.dests:
            if isinstance(dest, p.DistributionList):
                # No distribution lists are kept here.
                failed.append(p.UnsuccessSme(address=dest.name,
                                             error_status_code=Status.ESME_RINVDLNAME))  # fmt: skip
                continue
            number = text(dest.address)
            trigger = sim.policy.trigger_for(account.id, number)
            code = 0
            if not number.isdigit():
                code = Status.ESME_RINVDSTADR
            elif trigger is not None and (trigger.result or trigger.throttle):
                code = trigger.result or Status.ESME_RTHROTTLED
            if code:
                sim.count(account, "destinations_refused", protocol=self.protocol)
                failed.append(p.UnsuccessSme(dest.ton, dest.npi, dest.address, int(code)))
            else:
                kept.append(number)
        if not kept:
            resp = p.SubmitMultiResp(unsuccess=tuple(failed))
            return attrs.evolve(resp, command_status=Status.ESME_RSUBMITFAIL)
        single = p.SubmitSm(
            service_type=pdu.service_type,
            source_addr=pdu.source_addr,
            esm_class=pdu.esm_class,
            registered_delivery=pdu.registered_delivery,
            data_coding=pdu.data_coding,
            short_message=pdu.short_message,
            tlvs=pdu.tlvs,
        )
        mt, status = self._take(session, single, tuple(kept))
        if status:
            resp = p.SubmitMultiResp(command_status=status)
        else:
            resp = p.SubmitMultiResp(mt.msg_id.encode("ascii"), tuple(failed))
        return sim.respond(account, resp, mt=mt, session=session)

    def submit_text(self, mt: Mt) -> str:
        """A logged message's text by its data_coding (GSM 03.38 for 0), its UDH left out."""
        body = mt.content
        if mt.tp_udhi:
            try:
                body = parse_udh(body)[1]
            except ValueError:
                pass
        return decode_sm(body, mt.msg_fmt)

    # -- query, cancel, replace from the simulator's real state ------------

    def _find(self, session: Session, message_id: bytes, source: bytes) -> _Message | None:
        """The session's account's message *message_id*, its source_addr matching if given."""
        found = self.messages.get(message_id.decode("latin-1"))
        if found is None or found.account != session.account:
            return None
        if source and source != found.source:
            return None
        return found

    def _state(self, message: _Message) -> tuple[MessageState, float | None]:
        """ENROUTE while any destination's receipt waits, else the first outcome."""
        outcomes = []
        for key in message.mt.report_keys:
            state = self.sim.report_state(key, self.protocol[:4])
            if state is not None and state[0] == "ENROUTE":
                return MessageState.ENROUTE, None
            if state is not None:
                outcomes.append(state)
        if not outcomes:
            # No receipt asked: the simulator keeps no outcome for it.
            return MessageState.ACCEPTED, None
        stat, when = outcomes[0]
        return _STATES.get(stat) or state_of_stat(stat) or MessageState.UNKNOWN, when

    @responder(p.QuerySm)
    def _query_sm(self, session: Session, header: Header, pdu: p.QuerySm) -> p.QuerySmResp:
        found = self._find(session, pdu.message_id, pdu.source_addr)
        if found is None:
            return p.QuerySmResp(command_status=Status.ESME_RQUERYFAIL)
        state, when = self._state(found)
        final = _smpp_time(when) if when is not None else b""
        return p.QuerySmResp(pdu.message_id, final, int(state), 0)

    @responder(p.CancelSm)
    def _cancel_sm(self, session: Session, header: Header, pdu: p.CancelSm) -> p.CancelSmResp:
        """Cancel a message's pending receipts; with no message_id, all from source to dest."""
        if pdu.message_id:
            found = self._find(session, pdu.message_id, pdu.source_addr)
            targets = [found] if found is not None else []
        else:
            targets = [
                m
                for m in self.messages.values()
                if m.account == session.account
                and m.source == pdu.source_addr
                and (not pdu.destination_addr or pdu.destination_addr in m.dests)
            ]
        cancelled = 0
        for message in targets:
            for key in message.mt.report_keys:
                cancelled += self.sim.cancel(key, self.protocol[:4])
        if not cancelled:
            return p.CancelSmResp(Status.ESME_RCANCELFAIL)
        return p.CancelSmResp()

    @responder(p.ReplaceSm)
    def _replace_sm(self, session: Session, header: Header, pdu: p.ReplaceSm) -> p.ReplaceSmResp:
        """Replace the text of a message whose receipts have not gone out yet."""
        found = self._find(session, pdu.message_id, pdu.source_addr)
        pending = found is not None and self._state(found)[0] is MessageState.ENROUTE
        if found is None or not pending:
            return p.ReplaceSmResp(Status.ESME_RREPLACEFAIL)
        new = attrs.evolve(found.mt, content=pdu.short_message, tp_udhi=0)
        self.sim.replace_logged(found.mt, new)
        found.mt = new
        self.sim.count(self.sim.accounts[session.account], "replaced", protocol=self.protocol)
        return p.ReplaceSmResp()

    # -- Face ------------------------------------------------------------

    def live_sessions(self, account: Account) -> list[Session]:
        """Bound receiver and transceiver sessions of *account* (receipts and MOs)."""
        return [
            s
            for s in account.sessions
            if s.bound and s.handler is self and s.mode is not BindKind.TRANSMITTER
        ]

    def connect(self, account: Account) -> Deferred[Session] | None:
        """``None``: the ESME binds to us (outbind is not simulated)."""
        return None

    def receipt_id(self, message_id: str) -> str:
        """The receipt text's ``id:`` for *message_id* (``receipt_id_decimal``)."""
        if self.options.receipt_id_decimal and self.options.message_id is IdForm.HEX:
            return str(int(message_id, 16))
        return message_id

    def report_pdu(
        self, account: Account, mt: Mt, index: int, stat: str, submitted: float, done: float
    ) -> p.DeliverSm:
        """The receipt (esm_class 0x04) that reports *stat* for ``mt.dests[index]``."""
        state = _STATES.get(stat) or state_of_stat(stat) or MessageState.UNKNOWN
        opts = self.options
        short = b""
        if opts.receipt is not ReceiptParts.TLVS:
            short = format_receipt_text(
                self.receipt_id(mt.msg_id),
                state,
                submit_date=_utc(submitted),
                done_date=_utc(done),
                err=0 if state is MessageState.DELIVERED else 1,
                date_digits=opts.date_digits,
                key_case=opts.key_case,
            ).encode("ascii")
        tlvs: tuple[Tlv, ...] = ()
        if opts.receipt is not ReceiptParts.TEXT:
            tlvs = put(tlvs, Tag.RECEIPTED_MESSAGE_ID, mt.msg_id.encode("ascii"))
            tlvs = put(tlvs, Tag.MESSAGE_STATE, int(state))
        return p.DeliverSm(
            service_type=mt.service_id.encode("ascii", "replace")[:5],
            source_addr=mt.dests[index].encode("ascii", "replace"),
            destination_addr=mt.src.encode("ascii", "replace"),
            esm_class=EsmClass.DELIVERY_RECEIPT,
            short_message=short,
            tlvs=tlvs,
        )

    def mo_pdus(
        self,
        account: Account,
        sender: str,
        to: str,
        segments: list[Part],
        long: str | None = None,
    ) -> list[p.DeliverSm]:
        """The deliver_sm that carry an MO: one per segment, or one message_payload.

        Text goes as data_coding 0 (GSM 03.38) when every character has a GSM
        form, else as 1 (ASCII) or 8 (UCS2) as the simulator split it.
        """
        form = LongForm(long) if long is not None else self.options.mo_long
        parts = [_split_part(seg) for seg in segments]
        coding = 8 if segments[0].msg_fmt == 8 else 1
        try:
            codec = "utf-16-be" if coding == 8 else "ascii"
            parts = [(info, encode_gsm(body.decode(codec))) for info, body in parts]
            coding = 0
        except (TextEncodeError, UnicodeDecodeError):
            pass
        base = p.DeliverSm(
            source_addr=sender.encode("ascii"), destination_addr=to.encode("ascii"),
            data_coding=coding,
        )  # fmt: skip
        if form is LongForm.PAYLOAD:
            whole = b"".join(body for _, body in parts)
            return [attrs.evolve(base, tlvs=(Tlv(Tag.MESSAGE_PAYLOAD, whole),))]
        out = []
        for (info, body), seg in zip(parts, segments, strict=True):
            if info is None:
                out.append(attrs.evolve(base, short_message=body))
            elif form is LongForm.SAR:
                reference, total, number = info
                tlvs = tuple(
                    Tlv(tag, encode_value(tag, value))
                    for tag, value in (
                        (Tag.SAR_MSG_REF_NUM, reference),
                        (Tag.SAR_TOTAL_SEGMENTS, total),
                        (Tag.SAR_SEGMENT_SEQNUM, number),
                    )
                )
                out.append(attrs.evolve(base, short_message=body, tlvs=tlvs))
            else:
                udh = seg.content[: len(seg.content) - len(_split_part(seg)[1])]
                out.append(attrs.evolve(base, esm_class=EsmClass.UDHI, short_message=udh + body))
        return out


def _split_part(seg: Part) -> tuple[tuple[int, int, int] | None, bytes]:
    """A segment's concatenation (reference, total, number), or ``None``, and its text bytes."""
    if not seg.tp_udhi:
        return None, seg.content
    info = concat_info(seg.content, 1)
    _, body = parse_udh(seg.content)
    if info is None:
        return None, body
    return (info.reference, info.total, info.number), body


def smpp_factory(
    sim: Simulator, options: SmppFaceOptions | None = None, config: SessionConfig | None = None
) -> SessionFactory:
    """SMPP 3.4 server sessions on *sim* (the SMSC side), its face added to ``sim.faces``."""
    face = SmppFace(sim, options)
    sim.faces[face.protocol] = face
    return face.factory(config)
