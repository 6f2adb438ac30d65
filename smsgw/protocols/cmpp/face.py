"""The simulator's CMPP face: an ISMG for China Mobile SPs (CMPP 2.0, and 3.0 with 2.0 clients).

:func:`cmpp_factory` and :func:`cmpp3_factory` build a listener's session
factory on a :class:`~smsgw.ismg.simulator.Simulator` (the registry's
:class:`~smsgw.protocols.registry.SimListener` of ``cmpp`` and ``cmpp3``
calls them); the handler depends on the simulator's neutral model
(:mod:`smsgw.ismg.model`), not on the simulator module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsgw.ismg.model import Account, Mt, Refusal, beijing, text
from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.codec import CMPP20, encode_report
from smsgw.protocols.cmpp.constants import Result
from smsgw.protocols.cmpp.session import CmppAdapter, check_connect
from smsgw.protocols.codec import Header, ProtocolCodec
from smsgw.protocols.legality import Responder, responder
from smsgw.protocols.session import LoginResult, Role, Session, SessionConfig, SessionFactory
from smsgw.text.longsms import Part

if TYPE_CHECKING:
    from smsgw.ismg.simulator import Simulator

__all__ = ["CmppServerHandler", "cmpp3_factory", "cmpp_factory"]


def cmpp_factory(
    sim: Simulator, config: SessionConfig | None = None, codec: ProtocolCodec = CMPP20
) -> SessionFactory:
    """A factory for CMPP 2.0 server sessions on *sim*."""
    handler = CmppServerHandler(sim, "cmpp2")
    sim.faces.setdefault("cmpp2", handler)
    return SessionFactory(lambda: CmppAdapter(codec), handler, config or SessionConfig(), sim.clock)


def cmpp3_factory(sim: Simulator, config: SessionConfig | None = None) -> SessionFactory:
    """CMPP 3.0 server sessions on *sim*; a 2.0 client is answered as 2.0 (cmpp30.md)."""
    from smsgw.protocols.cmpp.negotiate import VersionedCmppAdapter

    handler = CmppServerHandler(sim, "cmpp3")
    sim.faces.setdefault("cmpp3", handler)
    return SessionFactory(VersionedCmppAdapter, handler, config or SessionConfig(), sim.clock)


class CmppServerHandler(Responder):
    """The ISMG side of CMPP (2.0, or 3.0 with 2.0 clients answered as 2.0).

    The engine checks legality (CONNECT first; a second CONNECT gets Status 1)
    and answers the CONNECT :meth:`authenticate` decides; SUBMIT, QUERY and
    CANCEL are answered here, any other request with Result 2 ("command error").
    """

    log = Logger()
    role = Role.SERVER

    def __init__(self, sim: Simulator, protocol: str = "cmpp2") -> None:
        self.sim = sim
        self.protocol = protocol

    # -- Face --------------------------------------------------------------

    def live_sessions(self, account: Account) -> list[Session]:
        """Bound sessions of *account* that may carry reports and MOs."""
        return [s for s in account.sessions if s.bound and s.handler is self]

    def connect(self, account: Account) -> None:
        """Open a link to the SP for reports and MOs, or ``None`` when the SP connects to us."""
        return None

    def report_pdu(
        self, account: Account, mt: Mt, index: int, stat: str, submitted: float, done: float
    ) -> p.Deliver:
        """The PDU that reports *stat* for ``mt.dests[index]``."""
        dest = mt.dests[index]
        msg_id = mt.report_keys[index]
        content = encode_report(
            p.Report(
                msg_id=msg_id,
                stat=stat.encode("ascii"),
                submit_time=beijing(submitted, "%y%m%d%H%M"),
                done_time=beijing(done, "%y%m%d%H%M"),
                dest_terminal_id=dest.encode("ascii"),
                smsc_sequence=msg_id & 0xFFFF,
            ),
            dest_width=32 if self.protocol == "cmpp3" else 21,
        )
        return p.Deliver(
            msg_id=self.sim.next_msg_id(),
            dest_id=mt.src.encode("ascii"),
            service_id=mt.service_id.encode("ascii"),
            src_terminal_id=dest.encode("ascii"),
            registered_delivery=1,
            msg_content=content,
        )

    def mo_pdus(
        self, account: Account, sender: str, to: str, segments: list[Part]
    ) -> list[p.Deliver]:
        """The PDUs that carry an MO, one per segment."""
        return [
            p.Deliver(
                msg_id=self.sim.next_msg_id(),
                dest_id=to.encode("ascii"),
                tp_udhi=seg.tp_udhi,
                msg_fmt=seg.msg_fmt,
                src_terminal_id=sender.encode("ascii"),
                registered_delivery=0,
                msg_content=seg.content,
            )
            for seg in segments
        ]

    # -- SessionHandler ----------------------------------------------------

    def session_started(self, session: Session) -> None:
        """A link is connected (not logged in yet)."""
        self.log.info("{protocol} connection from {peer}", protocol=self.protocol,
                      peer=session.peer)  # fmt: skip

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        """Answer a request from the peer once the engine found it legal."""
        if self.sim.fault_disconnect(session):
            return None
        return super().handle_request(session, header, pdu)

    @responder(p.Query)
    def _query(self, session: Session, header: Header, pdu: p.Query) -> p.QueryResp:
        return self.sim.query(pdu)

    @responder(p.Cancel)
    def _cancel(self, session: Session, header: Header, pdu: p.Cancel) -> p.CancelResp:
        return p.CancelResp(0 if self.sim.cancel(pdu.msg_id) else 1)

    _REFUSALS = {
        Refusal.STRUCTURE: Result.STRUCTURE_ERROR,
        Refusal.TOO_LONG: Result.TOO_LONG,
        Refusal.SRC_ID: Result.SRC_ID_ERROR,
        Refusal.THROTTLED: Result.FLOW_CONTROL,
    }

    @responder(p.Submit)
    def _submit(self, session: Session, header: Header, pdu: p.Submit) -> Any:
        sim = self.sim
        account = sim.accounts[session.account]
        msg_id = sim.next_msg_id()
        dests = pdu.dest_terminal_ids
        if len(dests) == 1:  # the usual SUBMIT: no generator per field
            texts: tuple[str, ...] = (dests[0].decode("ascii", "replace"),)
            keys: tuple[int, ...] = (msg_id,)
        else:
            texts = tuple(d.decode("ascii", "replace") for d in dests)
            # CMPP 2.1/3.0 group sends: the reports carry Msg_Id + i.
            keys = tuple((msg_id + i) & 0xFFFFFFFFFFFFFFFF for i in range(len(dests)))
        mt = Mt(
            protocol=self.protocol if session.adapter.codec is not CMPP20 else "cmpp2",
            msg_id=str(msg_id),
            src=pdu.src_id.decode("ascii", "replace"),
            dests=texts,
            content=pdu.msg_content,
            msg_fmt=pdu.msg_fmt,
            tp_udhi=pdu.tp_udhi,
            pk_total=pdu.pk_total,
            pk_number=pdu.pk_number,
            report=pdu.registered_delivery == 1,
            service_id=pdu.service_id.decode("ascii", "replace"),
            report_keys=keys,
        )
        refused = sim.check(account, mt)
        if refused is None:
            sim.accept(account, mt, self)
            response = p.SubmitResp(msg_id, Result.OK)
        else:
            reason, forced = refused
            response = p.SubmitResp(0, forced or self._REFUSALS[reason])
        return sim.respond(account, response, mt=mt, session=session)

    def authenticate(self, session: Session, pdu: p.Connect) -> LoginResult | None:
        """Check a CONNECT: the account's secret, then its IP and session limits."""
        sim = self.sim
        if sim.fault_disconnect(session):
            return None
        secrets = {a.id: a.secret for a in sim.accounts.values()}
        if self.protocol == "cmpp3":
            from smsgw.protocols.cmpp.negotiate import check_connect_negotiated

            check, codec = check_connect_negotiated(pdu, secrets)
            session.adapter.codec = codec
        else:
            check = check_connect(pdu, secrets)
        status = check.status
        account = sim.accounts.get(check.account or "")
        if status == 0 and account is not None:
            status = sim.admit(account, session)
        if status != 0 or account is None:
            self.log.warn(
                "refused CONNECT from {peer} for {account}: status {status}",
                peer=session.peer,
                account=text(pdu.source_addr),
                status=status,
            )
            response = attrs.evolve(check.response, status=status, authenticator_ismg=bytes(16))
            return LoginResult(status, response)
        return LoginResult(0, check.response, account.id)

    def logged_in(self, session: Session) -> None:
        """CONNECT_RESP is written: reports and MOs kept for the account may go out."""
        account = self.sim.accounts[session.account]
        self.sim.session_bound(account, session, self)
        self.log.info("{account} logged in from {peer}", account=account.id, peer=session.peer)

    def session_ended(self, session: Session, reason: Failure) -> None:
        """A link is gone."""
        self.sim.session_gone(session)
