"""The simulator's SMGP 3.0 face: an SMGW for China Telecom SPs (smgp30.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsgw.ismg.model import Account, Mt, Refusal, beijing, text
from smsgw.protocols.codec import Header
from smsgw.protocols.legality import Responder, responder
from smsgw.protocols.session import LoginResult, Role, Session, SessionConfig, SessionFactory
from smsgw.protocols.smgp import pdus as p
from smsgw.protocols.smgp.codec import codec_for_version
from smsgw.protocols.smgp.constants import LoginMode, Status, Tag
from smsgw.protocols.smgp.msgid import MsgIdGenerator, msg_id_hex
from smsgw.protocols.smgp.report import Report, encode_report
from smsgw.protocols.smgp.session import SmgpAdapter, check_login, use_codec
from smsgw.protocols.smgp.tlv import Tlv, encode_value, get_int, has_udhi
from smsgw.text import concat_info
from smsgw.text.longsms import Part

#: :meth:`Simulator.admit`'s refusals as Login_Resp Statuses.
_ADMIT_STATUSES = {2: Status.IP_ADDRESS_ERROR, 5: Status.TOO_MANY_CONNECTIONS}
if TYPE_CHECKING:
    from smsgw.ismg.simulator import Simulator


class SmgpFace(Responder):
    """SMGP server sessions; reports and MOs go to RECEIVE/TRANSMIT logins.

    The engine checks legality (Login first; Submit on a RECEIVE login and a
    second Login get Status 11) and answers the Login :meth:`authenticate`
    decides; the session's ``mode`` is the LoginMode.
    """

    log = Logger()
    protocol = "smgp"
    role = Role.SERVER

    _REFUSALS = {
        Refusal.STRUCTURE: Status.STRUCTURE_ERROR,
        Refusal.TOO_LONG: Status.ILLEGAL_MSG_LENGTH,
        Refusal.SRC_ID: Status.ILLEGAL_SRC_TERM_ID,
        Refusal.THROTTLED: Status.SYSTEM_BUSY,
    }

    def __init__(self, sim: Simulator, smgw_code: int) -> None:
        self.sim = sim
        self.next_msg_id = MsgIdGenerator(smgw_code, sim.clock.seconds)

    def factory(self, config: SessionConfig | None = None) -> SessionFactory:
        """The session factory of this face's listener."""
        return SessionFactory(SmgpAdapter, self, config or SessionConfig(), self.sim.clock)

    # -- SessionHandler --------------------------------------------------

    def session_started(self, session: Session) -> None:
        """A link is connected (not logged in yet)."""
        self.log.info("SMGP connection from {peer}", peer=session.peer)

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        """Answer a request from the peer once the engine found it legal."""
        if self.sim.fault_disconnect(session):
            return None
        return super().handle_request(session, header, pdu)

    def authenticate(self, session: Session, pdu: p.Login) -> LoginResult | None:
        """Check a Login: the secret and version, then the IP and session limits."""
        sim = self.sim
        if sim.fault_disconnect(session):
            return None
        secrets = {a.id: a.secret for a in sim.accounts.values()}
        check = check_login(pdu, secrets)
        account = sim.accounts.get(check.account or "")
        status = check.status
        if status == 0 and account is not None:
            admitted = sim.admit(account, session)
            status = _ADMIT_STATUSES[admitted] if admitted else 0
        if status != 0 or account is None:
            self.log.warn("refused SMGP Login from {peer}: status {status}", peer=session.peer,
                          status=status)  # fmt: skip
            return LoginResult(int(status), p.LoginResp(status=int(status)))
        use_codec(session, codec_for_version(check.version))
        return LoginResult(0, check.response, account.id, pdu.login_mode)

    def logged_in(self, session: Session) -> None:
        """The login response is written: what waits for the account may go out."""
        self.sim.session_bound(self.sim.accounts[session.account], session, self)

    @responder(p.Submit)
    def _submit(self, session: Session, header: Header, pdu: p.Submit) -> Any:
        sim = self.sim
        account = sim.accounts[session.account]
        msg_id = self.next_msg_id()
        tlvs = pdu.tlvs
        if tlvs:
            udhi = 1 if has_udhi(tlvs) else 0
            total = get_int(tlvs, Tag.PK_TOTAL)
            number = get_int(tlvs, Tag.PK_NUMBER)
        else:  # most Submits: no TLV to look through
            udhi, total, number = 0, None, None
        if total is None and udhi:
            try:
                info = concat_info(pdu.msg_content, udhi)
            except ValueError:
                info = None
            if info is not None:
                total, number = info.total, info.number
        dests = pdu.dest_term_ids
        mt = Mt(
            protocol="smgp",
            msg_id=msg_id_hex(msg_id),
            src=text(pdu.src_term_id),
            dests=(text(dests[0]),) if len(dests) == 1 else tuple(text(d) for d in dests),
            content=pdu.msg_content,
            msg_fmt=pdu.msg_format,
            tp_udhi=udhi,
            pk_total=total or 1,
            pk_number=number or 1,
            report=pdu.need_report == 1,
            service_id=text(pdu.service_id),
            report_keys=(msg_id,) * len(dests),
        )
        refused = sim.check(account, mt)
        if refused is None:
            sim.accept(account, mt, self)
            return sim.respond(account, p.SubmitResp(msg_id, 0), mt=mt, session=session)
        reason, forced = refused
        return sim.respond(
            account,
            p.SubmitResp(status=int(forced or self._REFUSALS[reason])),
            mt=mt,
            session=session,
        )

    def session_ended(self, session: Session, reason: Failure) -> None:
        """A link is gone."""
        self.sim.session_gone(session)

    # -- Face ------------------------------------------------------------

    def live_sessions(self, account: Account) -> list[Session]:
        """Bound sessions of *account* that may carry reports and MOs."""
        return [
            s
            for s in account.sessions
            if s.bound and s.handler is self and s.mode != LoginMode.SEND
        ]

    def connect(self, account: Account) -> Deferred[Session] | None:
        """Open a link to the SP for reports and MOs, or ``None`` when the SP connects to us."""
        return None

    def report_pdu(
        self, account: Account, mt: Mt, index: int, stat: str, submitted: float, done: float
    ) -> p.Deliver:
        """The PDU that reports *stat* for ``mt.dests[index]``."""
        ok = stat == "DELIVRD"
        content = encode_report(
            Report(
                msg_id=mt.report_keys[index],
                sub=b"001",
                dlvrd=b"001" if ok else b"000",
                submit_date=beijing(submitted, "%y%m%d%H%M"),
                done_date=beijing(done, "%y%m%d%H%M"),
                stat=stat.encode("ascii"),
                err=b"000" if ok else b"006",
            )
        )
        return p.Deliver(
            msg_id=self.next_msg_id(),
            is_report=1,
            msg_format=0,
            recv_time=beijing(done, "%Y%m%d%H%M%S"),
            src_term_id=mt.dests[index].encode("ascii"),
            dest_term_id=mt.src.encode("ascii"),
            msg_content=content,
        )

    def mo_pdus(
        self, account: Account, sender: str, to: str, segments: list[Part]
    ) -> list[p.Deliver]:
        """The PDUs that carry an MO, one per segment."""
        now = self.sim.clock.seconds()
        out = []
        for seg in segments:
            tlvs: tuple[Tlv, ...] = ()
            if seg.tp_udhi:
                tlvs = tuple(
                    Tlv(tag, encode_value(tag, value))
                    for tag, value in (
                        (Tag.TP_UDHI, 1),
                        (Tag.PK_TOTAL, seg.pk_total),
                        (Tag.PK_NUMBER, seg.pk_number),
                    )
                )
            out.append(
                p.Deliver(
                    msg_id=self.next_msg_id(),
                    is_report=0,
                    msg_format=seg.msg_fmt,
                    recv_time=beijing(now, "%Y%m%d%H%M%S"),
                    src_term_id=sender.encode("ascii"),
                    dest_term_id=to.encode("ascii"),
                    msg_content=seg.content,
                    tlvs=tlvs,
                )
            )
        return out


def smgp_factory(
    sim: Simulator, smgw_code: int = 100610, config: SessionConfig | None = None
) -> SessionFactory:
    """SMGP 3.0 server sessions on *sim* (the SMGW side), its face added to ``sim.faces``."""
    face = SmgpFace(sim, smgw_code)
    sim.faces[face.protocol] = face
    return face.factory(config)
