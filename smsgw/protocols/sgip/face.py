"""The simulator's SGIP 1.2 face: an SMG for China Unicom SPs (sgip12.md).

SGIP links carry commands one way (sgip12.md §2): the SP binds to us
(Login Type 1) to Submit; we connect to the SP's own server (Login Type 2,
the account's ``sgip_callback`` endpoint) to send Deliver (MO) and Report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import clientFromString, connectProtocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsgw.ismg.model import Account, Mt, Refusal, text
from smsgw.protocols.codec import Header
from smsgw.protocols.legality import Responder, responder
from smsgw.protocols.session import LoginResult, Role, Session, SessionConfig, SessionFactory
from smsgw.protocols.sgip import pdus as p
from smsgw.protocols.sgip.constants import LoginType, ReportState, Result
from smsgw.protocols.sgip.sequence import SgipSequence, format_message_id
from smsgw.protocols.sgip.session import SgipAdapter, bind, check_bind, sgip_session_config
from smsgw.text import concat_info
from smsgw.text.longsms import Part

if TYPE_CHECKING:
    from smsgw.ismg.simulator import Simulator

#: ReportFlag (sgip12.md §7.3): 0 report failures only, 1 always, 2 never, 3 bill only.
_REPORT_ALWAYS, _REPORT_FAILURES = 1, 0

#: A Report's State and ErrorCode (sgip12.md §6): delivered, or failed as unreachable.
_DELIVERED = (int(ReportState.DELIVERED), 0)
_FAILED = (int(ReportState.FAILED), int(Result.USER_UNREACHABLE))


#: :meth:`Simulator.admit`'s refusals as Bind_Resp Results: 2 (the IP) is an
#: illegal login, 5 (the account's session limit) "too many connections".
_ADMIT_RESULTS = {2: Result.ILLEGAL_LOGIN, 5: Result.TOO_MANY_CONNECTIONS}


class SgipFace(Responder):
    """SGIP server sessions (SP → SMG) and the SMG → SP links of each account.

    The engine checks legality (Bind first, a second Bind gets Result 2) and
    answers the Bind :meth:`authenticate` decides; Submit is answered here,
    any other command with Result 7.
    """

    log = Logger()
    protocol = "sgip"
    role = Role.SERVER

    _REFUSALS = {
        Refusal.STRUCTURE: Result.PARAMETER_FORMAT_ERROR,
        Refusal.TOO_LONG: Result.BAD_LENGTH,
        Refusal.SRC_ID: Result.SERVICE_CODE_NOT_ALLOCATED,
        Refusal.THROTTLED: Result.FLOW_CONTROL_EXCEEDED,
    }

    def __init__(self, sim: Simulator, node_id: int) -> None:
        self.sim = sim
        self.node_id = node_id
        #: One sequence for every link we open, so our ids never repeat.
        self.sequence = SgipSequence(node_id, sim.clock)
        self._links: dict[str, Session] = {}
        self._connecting: dict[str, Deferred[Session]] = {}

    def _adapter(self) -> SgipAdapter:
        adapter = SgipAdapter(self.node_id, self.sim.clock)
        adapter.sequence = self.sequence
        return adapter

    def factory(self, config: SessionConfig | None = None) -> SessionFactory:
        """The session factory of this face's listener."""
        return SessionFactory(self._adapter, self, config or sgip_session_config(), self.sim.clock)

    # -- SessionHandler (SP → SMG) --------------------------------------

    def session_started(self, session: Session) -> None:
        """A link is connected (not logged in yet)."""
        self.log.info("SGIP connection from {peer}", peer=session.peer)

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        """Answer a request from the peer once the engine found it legal."""
        if self.sim.fault_disconnect(session):
            return None
        return super().handle_request(session, header, pdu)

    def authenticate(self, session: Session, pdu: p.Bind) -> LoginResult | None:
        """Check a Bind (Login Type 1): name and password, then the IP and session limits."""
        sim = self.sim
        if sim.fault_disconnect(session):
            return None
        secrets = {a.id: a.secret.decode("utf-8") for a in sim.accounts.values()}
        check = check_bind(pdu, secrets, (LoginType.SP_TO_SMG,))
        account = sim.accounts.get(check.account or "")
        result = check.result
        if result == 0 and account is not None:
            admitted = sim.admit(account, session)
            result = _ADMIT_RESULTS[admitted] if admitted else 0
        if result != 0 or account is None:
            self.log.warn("refused SGIP Bind from {peer}: result {result}", peer=session.peer,
                          result=result)  # fmt: skip
            return LoginResult(int(result), p.BindResp(int(result)))
        return LoginResult(0, p.BindResp(0), account.id)

    def logged_in(self, session: Session) -> None:
        """The login response is written: what waits for the account may go out."""
        self.sim.session_bound(self.sim.accounts[session.account], session, self)

    @responder(p.Submit)
    def _submit(self, session: Session, header: Header, pdu: p.Submit) -> Any:
        sim = self.sim
        account = sim.accounts[session.account]
        info = None
        if pdu.tp_udhi & 0x41:
            try:
                info = concat_info(pdu.message_content, pdu.tp_udhi)
            except ValueError:
                info = None
        seq = header.sequence_id
        users = pdu.user_numbers
        report_flag = pdu.report_flag
        mt = Mt(
            protocol="sgip",
            msg_id=format_message_id(seq),
            src=text(pdu.sp_number),
            dests=(text(users[0]),) if len(users) == 1 else tuple(text(d) for d in users),
            content=pdu.message_content,
            msg_fmt=pdu.message_coding,
            tp_udhi=pdu.tp_udhi,
            pk_total=info.total if info else 1,
            pk_number=info.number if info else 1,
            report=report_flag == _REPORT_ALWAYS or report_flag == _REPORT_FAILURES,
            report_failures_only=report_flag == _REPORT_FAILURES,
            service_id=text(pdu.service_type),
            report_keys=(seq,) * len(users),
        )
        refused = sim.check(account, mt)
        if refused is None:
            sim.accept(account, mt, self)
            return sim.respond(account, p.SubmitResp(0), mt=mt, session=session)
        reason, forced = refused
        return sim.respond(
            account, p.SubmitResp(int(forced or self._REFUSALS[reason])), mt=mt, session=session
        )

    def session_ended(self, session: Session, reason: Failure) -> None:
        """A link is gone."""
        self.sim.session_gone(session)
        for name, link in list(self._links.items()):
            if link is session:
                del self._links[name]

    # -- Face: reports and MOs over SMG → SP links ------------------------

    def live_sessions(self, account: Account) -> list[Session]:
        """Bound sessions of *account* that may carry reports and MOs."""
        link = self._links.get(account.id)
        return [link] if link is not None and link.bound else []

    def connect(self, account: Account) -> Deferred[Session] | None:
        """Open a link to the SP for reports and MOs, or ``None`` when the SP connects to us."""
        if account.sgip_callback is None:
            self.log.warn("SGIP: account {account} has no callback endpoint; reports wait",
                          account=account.id)  # fmt: skip
            return None
        if account.id in self._connecting:
            return None
        reactor: Any = self.sim.clock
        session = Session(self._adapter(), _LinkHandler(self), sgip_session_config(), reactor)
        # The chain's result changes type at each step (protocol, BindResp, Session).
        endpoint = clientFromString(reactor, account.sgip_callback)
        d: Deferred[Any] = connectProtocol(endpoint, session)
        d.addCallback(lambda _: bind(session, LoginType.SMG_TO_SP, account.id,
                                     account.secret.decode("utf-8")))  # fmt: skip

        def linked(_: object) -> Session:
            self._links[account.id] = session
            return session

        def done(result: Any) -> Any:
            self._connecting.pop(account.id, None)
            return result

        d.addCallback(linked)
        d.addBoth(done)
        self._connecting[account.id] = d
        return d

    def report_pdu(
        self, account: Account, mt: Mt, index: int, stat: str, submitted: float, done: float
    ) -> p.Report:
        """The PDU that reports *stat* for ``mt.dests[index]``."""
        node, stamp, counter = mt.report_keys[index]
        state, error_code = _DELIVERED if stat == "DELIVRD" else _FAILED
        return p.Report(
            submit_node_id=node,
            submit_time=stamp,
            submit_counter=counter,
            report_type=0,
            user_number=mt.dests[index].encode("ascii"),
            state=state,
            error_code=error_code,
        )

    def mo_pdus(
        self, account: Account, sender: str, to: str, segments: list[Part]
    ) -> list[p.Deliver]:
        """The PDUs that carry an MO, one per segment."""
        return [
            p.Deliver(
                user_number=sender.encode("ascii"),
                sp_number=to.encode("ascii"),
                tp_udhi=seg.tp_udhi,
                message_coding=seg.msg_fmt,
                message_content=seg.content,
            )
            for seg in segments
        ]


class _LinkHandler(Responder):
    """Our side of an SMG → SP link: we only send; the SP only answers.

    Its responder table is empty: a request from the SP is answered Result 7.
    """

    def __init__(self, face: SgipFace) -> None:
        self.face = face

    def session_started(self, session: Session) -> None:
        pass

    def session_ended(self, session: Session, reason: Failure) -> None:
        for name, link in list(self.face._links.items()):
            if link is session:
                del self.face._links[name]


def sgip_factory(
    sim: Simulator, node_id: int = 107551, config: SessionConfig | None = None
) -> SessionFactory:
    """SGIP 1.2 server sessions on *sim* (the SMG side), its face added to ``sim.faces``."""
    face = SgipFace(sim, node_id)
    sim.faces[face.protocol] = face
    return face.factory(config)
