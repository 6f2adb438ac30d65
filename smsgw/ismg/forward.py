"""ISMG-to-ISMG forwarding (CMPP_FWD, seed 002 §5, §8.5; cmpp20-notes.md §7).

An ismg-sim with a gateway code *homes* some number segments
(``home_prefixes``).  A SUBMIT for a number homed elsewhere is forwarded:

1. the destination ISMG is found in the static ``peers`` table or asked of
   the GNS (CMPP_MT_ROUTE, :class:`~smsgw.gns.client.GnsClient`), cached;
2. CMPP_FWD with Msg_Fwd_Type 0 goes over a long connection (port 7930
   semantics) to that ISMG, Msg_Id being the id the SP got in SUBMIT_RESP;
3. the destination ISMG delivers it (here: applies its report policy) and
   sends the MT report back as FWD type 2, over the same connection;
4. the source ISMG hands the SP a DELIVER report with the SP's original
   Msg_Id.

MOs for an SP attached to another ISMG go the same way as FWD type 1; the
ISMG that delivers it to the SP answers with an MO status report, FWD type
3, DELIVRD or REJECTD (seed 002 §8.5.4: link down, no answer after N tries
or an error answer are REJECTD).  For MT, a forward that fails (link down,
no answer, an error result) is reported to the SP as REJECTD at once.
NodesCount grows at each hop; a FWD that has passed :data:`MAX_NODES`
gateways, or comes back to its source, is refused (Result 9).
"""

from __future__ import annotations

from collections import defaultdict, deque
from typing import TYPE_CHECKING, Any, cast

import attrs
from twisted.internet.defer import Deferred, DeferredList, fail, succeed
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol
from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsgw.ismg.model import Account, Face, Mt, beijing, beijing_day, text
from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.codec import (
    decode_mo_report,
    decode_report,
    encode_mo_report,
    encode_report,
)
from smsgw.protocols.cmpp.constants import FwdType, Result
from smsgw.protocols.cmpp.session import CmppAdapter, check_connect, login
from smsgw.protocols.codec import Header
from smsgw.protocols.errors import DecodeError
from smsgw.protocols.legality import Responder, responder
from smsgw.protocols.session import LoginResult, Role, Session, SessionConfig, SessionFactory

if TYPE_CHECKING:
    from smsgw.ismg.simulator import Simulator

#: Gateways a FWD may pass before it is refused as a loop.
MAX_NODES = 8


@attrs.frozen
class Peer:
    """Another ISMG: its code, its forwarding address, the secret shared with it.

    :ivar prefixes: number segments it homes (a static MT route).
    :ivar sp_codes: SP service-code prefixes attached to it (a static MO route).
    """

    code: str
    host: str
    port: int
    secret: bytes
    prefixes: tuple[str, ...] = ()
    sp_codes: tuple[str, ...] = ()


@attrs.frozen
class _Route:
    code: str
    host: str
    port: int


@attrs.define
class _Forwarded:
    """An MT this ISMG forwarded and whose report it waits for."""

    account: Account
    mt: Mt
    index: int
    face: Face
    submitted: float


def _normalise(number: str) -> str:
    for prefix in ("+86", "86"):
        if number.startswith(prefix) and len(number) - len(prefix) == 11:
            return number[len(prefix) :]
    return number


class Forwarder(Responder):
    """The forwarding part of one simulator: routes, peer links, FWD handling.

    The role of both ends of ISMG links: a server on the links peers open to
    us (the engine answers the CONNECT :meth:`authenticate` decides), a client
    on the ones we open; on both, FWD is answered through the responder
    table and any other request with its Result 2 (or 1).

    :param sim: the simulator (its gateway code is this ISMG's code).
    :param home_prefixes: number segments this ISMG homes; empty = all.
    :param peers: statically known ISMGs.
    :param gns: a GNS client for routes the peers table does not give.
    """

    log = Logger()
    protocol = "fwd"
    role = Role.SERVER

    def __init__(
        self,
        sim: Simulator,
        *,
        home_prefixes: tuple[str, ...] = (),
        peers: tuple[Peer, ...] = (),
        gns: Any = None,
        config: SessionConfig | None = None,
    ) -> None:
        self.sim = sim
        self.code = f"{sim.gateway_code:06d}"
        self.home_prefixes = home_prefixes
        self.peers = {peer.code: peer for peer in peers}
        self.gns = gns
        self.config = config or SessionConfig()
        self.route_cache: dict[str, _Route] = {}
        #: Links by peer ISMG code (ours or theirs: both carry requests).
        self.links: dict[str, Session] = {}
        #: Every open ISMG link, logged in or not.
        self.sessions: set[Session] = set()
        self._connecting: dict[str, Deferred[Session]] = {}
        #: Our Msg_Id → the forwarded MT waiting for its report.
        self.forwarded: dict[int, _Forwarded] = {}
        #: Reports and MO reports to send back to a peer with no live link.
        self.outbox: dict[str, deque[p.Fwd]] = defaultdict(deque)
        self.counters: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        #: The secret for ISMGs learned from the GNS (not in the peers table).
        self.default_secret: bytes | None = None
        #: Reports of MTs forwarded to us, not sent back yet.
        self.report_timers: set[IDelayedCall] = set()
        sim.forwarder = self

    # -- routing -------------------------------------------------------

    def homes(self, number: str) -> bool:
        """Whether this ISMG delivers to *number* itself."""
        if not self.home_prefixes:
            return True
        n = _normalise(number)
        return any(n.startswith(prefix) for prefix in self.home_prefixes)

    def _peer_for_number(self, number: str) -> Peer | None:
        n = _normalise(number)
        best = None
        for peer in self.peers.values():
            for prefix in peer.prefixes:
                if n.startswith(prefix) and (best is None or len(prefix) > best[0]):
                    best = (len(prefix), peer)
        return best[1] if best else None

    def mt_route(self, number: str) -> Deferred[_Route | None]:
        """Where *number* is homed: the peers table, the cache, then the GNS."""
        peer = self._peer_for_number(number)
        if peer is not None:
            return succeed(_Route(peer.code, peer.host, peer.port))
        n = _normalise(number)
        for key, route in self.route_cache.items():
            if n.startswith(key):
                return succeed(route)
        if self.gns is None:
            return succeed(None)

        def answered(resp: p.MtRouteResp) -> _Route | None:
            if resp.result not in (0, 2):
                return None
            route = _Route(text(resp.destination_id), text(resp.gateway_ip), resp.gateway_port)
            self.route_cache[text(resp.start_id) or n[:7]] = route
            return route

        return self.gns.mt_route(n).addCallback(answered)  # type: ignore[no-any-return]

    def mo_route(self, sp_code: str) -> Deferred[_Route | None]:
        """Which ISMG serves the SP with service code *sp_code*."""
        for peer in self.peers.values():
            if any(sp_code.startswith(c) for c in peer.sp_codes):
                return succeed(_Route(peer.code, peer.host, peer.port))
        if self.gns is None:
            return succeed(None)

        def answered(resp: p.MoRouteResp) -> _Route | None:
            if resp.result not in (0, 2):
                return None
            return _Route(text(resp.destination_id), text(resp.gateway_ip), resp.gateway_port)

        return self.gns.mo_route(sp_code, b"", 0).addCallback(answered)  # type: ignore[no-any-return]

    # -- links -----------------------------------------------------------

    def factory(self) -> SessionFactory:
        """Listener for peer ISMGs (the 7930 long connection)."""
        return SessionFactory(CmppAdapter, self, self.config, self.sim.clock)

    def link(self, route: _Route) -> Deferred[Session]:
        """A logged-in link to *route*'s ISMG, ours or the one it opened to us."""
        live = self.links.get(route.code)
        if live is not None and live.bound:
            return succeed(live)
        if route.code in self._connecting:
            d: Deferred[Session] = Deferred()

            def relay(result: object) -> object:
                d.callback(cast(Session, result))  # a Failure goes down d's errbacks
                return result

            self._connecting[route.code].addBoth(relay)
            return d
        peer = self.peers.get(route.code)
        secret = peer.secret if peer else self.sim_secret(route.code)
        if secret is None:
            return fail(KeyError(f"no secret shared with ISMG {route.code}"))
        reactor: Any = self.sim.clock
        session = Session(CmppAdapter(), self, self.config, reactor, role=Role.CLIENT)
        ep = HostnameEndpoint(reactor, route.host, route.port)
        connecting: Deferred[Any] = connectProtocol(ep, session)
        connecting.addCallback(lambda _: login(session, self.code.encode(), secret))

        def ready(_: object) -> Session:
            self.links[route.code] = session
            # Reports kept for this ISMG go out on the new link too, not
            # only when it logs in to us.
            self._flush(route.code)
            return session

        def done(result: Any) -> Any:
            self._connecting.pop(route.code, None)
            return result

        connecting.addCallback(ready).addBoth(done)
        self._connecting[route.code] = connecting
        return cast(Deferred[Session], connecting)

    def sim_secret(self, code: str) -> bytes | None:
        """The secret for an ISMG learned from the GNS: the default peer secret."""
        return self.default_secret

    # -- MT: local SP → another ISMG ----------------------------------------

    def forward_mt(self, account: Account, mt: Mt, index: int, face: Face) -> None:
        """Forward ``mt.dests[index]`` to the ISMG that homes it."""
        dest = mt.dests[index]
        msg_id = mt.report_keys[index]
        now = self.sim.clock.seconds()
        if mt.report:
            # Only an MT with a report has anything to wait for: ISMG2 sends
            # no FWD type 2 for the others, which would stay here forever.
            self.forwarded[msg_id] = _Forwarded(account, mt, index, face, now)
        pdu = p.Fwd(
            source_id=self.code.encode(),
            nodes_count=1,
            msg_fwd_type=FwdType.MT,
            msg_id=msg_id,
            pk_total=mt.pk_total,
            pk_number=mt.pk_number,
            registered_delivery=1 if mt.report else 0,
            service_id=mt.service_id.encode("ascii", "replace"),
            tp_udhi=mt.tp_udhi,
            msg_fmt=mt.msg_fmt,
            msg_src=account.id.encode("ascii", "replace")[:6],
            src_id=mt.src.encode("ascii", "replace"),
            dest_ids=(dest.encode("ascii"),),
            msg_content=mt.content,
        )

        async def go() -> None:
            route = await self.mt_route(dest)
            if route is None:
                raise LookupError(f"no route for {dest[:3]}…")
            session = await self.link(route)
            fwd = attrs.evolve(pdu, destination_id=route.code.encode())
            self.counters[route.code]["mt_forwarded"] += 1
            resp = await session.send(fwd)
            if resp.result != 0:
                raise RuntimeError(f"FWD_RESP result {resp.result}")

        d = Deferred.fromCoroutine(go())
        d.addErrback(self._mt_failed, msg_id)

    def _mt_failed(self, failure: Failure, msg_id: int) -> None:
        """§8.5.4 cases 1–3: the SP gets REJECTD (when it asked for a report)."""
        entry = self.forwarded.pop(msg_id, None)
        self.log.warn("FWD of {msg_id} failed: {why}", msg_id=msg_id,
                      why=failure.getErrorMessage())  # fmt: skip
        self.counters["*"]["mt_forward_failed"] += 1
        if entry is None or not entry.mt.report:
            return
        self._report_to_sp(entry, "REJECTD", self.sim.clock.seconds())

    def _report_to_sp(self, entry: _Forwarded, stat: str, done: float) -> None:
        # QUERY's counters: accept() counted the MT as waiting for its report.
        day = beijing_day(entry.submitted)
        for key in ((day, b""), (day, entry.mt.service_id.encode("ascii", "replace"))):
            counters = self.sim.daily[key]
            counters["mt_wt"] -= 1
            counters["mt_scs" if stat == "DELIVRD" else "mt_fl"] += 1
        pdu = entry.face.report_pdu(entry.account, entry.mt, entry.index, stat, entry.submitted,
                                    done)  # fmt: skip
        self.sim._count(entry.account, "reports", protocol=entry.face.protocol)
        self.sim.deliver(entry.account, entry.face, pdu)

    # -- MO: this ISMG's subscriber → an SP on another ISMG ---------------------

    def forward_mo(
        self, sender: str, to: str, content: bytes, msg_fmt: int, tp_udhi: int
    ) -> Deferred[dict[str, Any]]:
        """Forward an MO to the ISMG the SP with service code *to* is attached to."""

        async def go() -> dict[str, Any]:
            route = await self.mo_route(to)
            if route is None:
                # KeyError, as inject_mo raises for an SP it cannot find.
                raise KeyError(f"no MO route for service code {to}")
            session = await self.link(route)
            msg_id = self.sim.next_msg_id()
            fwd = p.Fwd(
                source_id=self.code.encode(),
                destination_id=route.code.encode(),
                nodes_count=1,
                msg_fwd_type=FwdType.MO,
                msg_id=msg_id,
                tp_udhi=tp_udhi,
                msg_fmt=msg_fmt,
                src_id=sender.encode("ascii"),
                dest_ids=(to.encode("ascii"),),
                msg_content=content,
            )
            self.counters[route.code]["mo_forwarded"] += 1
            resp = await session.send(fwd)
            return {"forwarded_to": route.code, "msg_id": str(msg_id), "result": resp.result}

        return Deferred.fromCoroutine(go())

    # -- SessionHandler: FWD from peers ------------------------------------------

    def session_started(self, session: Session) -> None:
        self.sessions.add(session)
        self.log.info("ISMG link with {peer}", peer=session.peer)

    def authenticate(self, session: Session, pdu: p.Connect) -> LoginResult:
        """Check a peer ISMG's CONNECT: its code and the secret shared with it."""
        secrets = {code: peer.secret for code, peer in self.peers.items()}
        default = self.default_secret
        code = text(pdu.source_addr)
        if default is not None and code not in secrets:
            secrets[code] = default
        return check_connect(pdu, secrets).login_result()

    def logged_in(self, session: Session) -> None:
        """CONNECT_RESP is written: reports kept for that ISMG may go out.

        Not before: a FWD ahead of it would reach a peer that is not logged in
        yet, which drops the link.
        """
        code = session.account
        self.links.setdefault(code, session)
        self._flush(code)

    def session_ended(self, session: Session, reason: Failure) -> None:
        self.sessions.discard(session)
        for code, link in list(self.links.items()):
            if link is session:
                del self.links[code]

    @responder(p.Fwd)
    def _fwd(self, session: Session, header: Header, pdu: p.Fwd) -> Any:
        source = text(pdu.source_id)
        counters = self.counters[source]
        counters[f"received_type_{pdu.msg_fwd_type}"] += 1
        resp = p.FwdResp(pdu.msg_id, pdu.pk_total, pdu.pk_number, Result.OK)
        if pdu.nodes_count > MAX_NODES or source == self.code:
            counters["loops_refused"] += 1
            return attrs.evolve(resp, result=Result.WRONG_GATEWAY)
        if pdu.msg_fwd_type == FwdType.MT:
            return self._mt_in(session, pdu, resp)
        if pdu.msg_fwd_type == FwdType.MO:
            return self._mo_in(pdu, resp)
        if pdu.msg_fwd_type not in (FwdType.MT_REPORT, FwdType.MO_REPORT):
            return attrs.evolve(resp, result=Result.STRUCTURE_ERROR)
        # A report whose content does not decode is refused (1), not allowed
        # to escape: the session would drop the whole ISMG link for it.
        try:
            if pdu.msg_fwd_type == FwdType.MT_REPORT:
                self._mt_report_in(pdu, decode_report(pdu.msg_content))
            else:
                report = decode_mo_report(pdu.msg_content)
                counters[f"mo_report_{text(report.stat)}"] += 1
        except DecodeError as e:
            counters["bad_reports"] += 1
            self.log.warn("{peer}: FWD type {type} with bad content: {error}", peer=source,
                          type=pdu.msg_fwd_type, error=str(e))  # fmt: skip
            return attrs.evolve(resp, result=Result.STRUCTURE_ERROR)
        return resp

    def _mt_in(self, session: Session, pdu: p.Fwd, resp: p.FwdResp) -> p.FwdResp:
        """An MT another ISMG forwards to us: deliver (the report policy) and report back."""
        dest = text(pdu.dest_ids[0]) if pdu.dest_ids else ""
        if not dest or not self.homes(dest):
            self.counters[text(pdu.source_id)]["wrong_gateway"] += 1
            return attrs.evolve(resp, result=Result.WRONG_GATEWAY)
        sim = self.sim
        now = sim.clock.seconds()
        mt = Mt(
            protocol="fwd",
            msg_id=str(pdu.msg_id),
            src=text(pdu.src_id),
            dests=(dest,),
            content=pdu.msg_content,
            msg_fmt=pdu.msg_fmt,
            tp_udhi=pdu.tp_udhi,
            pk_total=pdu.pk_total,
            pk_number=pdu.pk_number,
            report=pdu.registered_delivery == 1,
            service_id=text(pdu.service_id),
        )
        sim.submit_log.append((f"ismg:{text(pdu.source_id)}", now, mt))
        sim.totals["fwd_mt_delivered"] += 1
        if pdu.registered_delivery == 1:
            policy = sim.policy.reports
            stat = policy.draw_stat(dest, sim.rng)
            source = text(pdu.source_id)

            def report() -> None:
                self.report_timers.discard(call)
                content = encode_report(
                    p.Report(
                        msg_id=pdu.msg_id,
                        stat=stat.encode("ascii"),
                        submit_time=beijing(now, "%y%m%d%H%M"),
                        done_time=beijing(sim.clock.seconds(), "%y%m%d%H%M"),
                        dest_terminal_id=dest.encode("ascii"),
                    )
                )
                self._send_back(
                    source,
                    p.Fwd(
                        source_id=self.code.encode(),
                        destination_id=pdu.source_id,
                        nodes_count=1,
                        msg_fwd_type=FwdType.MT_REPORT,
                        msg_id=pdu.msg_id,
                        registered_delivery=1,
                        src_id=dest.encode("ascii"),
                        dest_ids=(pdu.src_id,),
                        msg_content=content,
                    ),
                )

            call = sim.clock.callLater(policy.draw_delay(sim.rng), report)
            self.report_timers.add(call)
        return resp

    def _mt_report_in(self, pdu: p.Fwd, report: p.Report) -> None:
        """The report of an MT we forwarded: give it to the SP with its own Msg_Id."""
        entry = self.forwarded.pop(report.msg_id, None)
        if entry is None:
            self.log.warn("{peer}: FWD type 2 for unknown Msg_Id {msg_id}, dropped",
                          peer=text(pdu.source_id), msg_id=report.msg_id)  # fmt: skip
            return
        self.counters[text(pdu.source_id)]["reports_returned"] += 1
        self._report_to_sp(entry, text(report.stat), self.sim.clock.seconds())

    def _mo_in(self, pdu: p.Fwd, resp: p.FwdResp) -> p.FwdResp:
        """An MO for one of our SPs: DELIVER it, then send the MO report back."""
        sim = self.sim
        to = text(pdu.dest_ids[0]) if pdu.dest_ids else ""
        account = next(
            (a for a in sim.accounts.values() if a.src_prefix and to.startswith(a.src_prefix)),
            None,
        )
        if account is None:
            self.counters[text(pdu.source_id)]["wrong_gateway"] += 1
            return attrs.evolve(resp, result=Result.WRONG_GATEWAY)
        face = sim.faces.get("cmpp2") or sim.faces.get("cmpp3")
        source = text(pdu.source_id)
        sent_at = sim.clock.seconds()
        deliver = p.Deliver(
            msg_id=sim.next_msg_id(),
            dest_id=to.encode("ascii"),
            tp_udhi=pdu.tp_udhi,
            msg_fmt=pdu.msg_fmt,
            src_terminal_id=pdu.src_id,
            msg_content=pdu.msg_content,
        )

        def mo_report(stat: str) -> None:
            content = encode_mo_report(
                p.MoReport(
                    msg_id=deliver.msg_id,
                    stat=stat.encode("ascii"),
                    deliver_time=beijing(sent_at, "%y%m%d%H%M"),
                    deliver_resp_time=beijing(sim.clock.seconds(), "%y%m%d%H%M"),
                    dest_id=to.encode("ascii"),
                )
            )
            self._send_back(
                source,
                p.Fwd(
                    source_id=self.code.encode(),
                    destination_id=pdu.source_id,
                    nodes_count=1,
                    msg_fwd_type=FwdType.MO_REPORT,
                    msg_id=pdu.msg_id,
                    src_id=to.encode("ascii"),
                    dest_ids=(pdu.src_id,),
                    msg_content=content,
                ),
            )

        live = face.live_sessions(account) if face is not None else []
        if face is None or not live:
            # §8.5.4 case 1: no link to the SP.
            mo_report("REJECTD")
            return resp
        sim._count(account, "mos", protocol=face.protocol)
        d = live[0].send(deliver)
        d.addCallbacks(
            lambda r: mo_report("DELIVRD" if r.result == 0 else "REJECTD"),
            lambda f: mo_report("REJECTD"),  # cases 2 and 3
        )
        return resp

    def _send_back(self, code: str, pdu: p.Fwd) -> None:
        """Send a report to ISMG *code* over any live link, else keep it for its next login."""
        live = self.links.get(code)
        if live is not None and live.bound:
            live.send(pdu).addErrback(lambda f: self.outbox[code].append(pdu))
            return
        peer = self.peers.get(code)
        if peer is None:
            self.outbox[code].append(pdu)
            return
        d = self.link(_Route(peer.code, peer.host, peer.port))
        d.addCallbacks(lambda s: s.send(pdu), lambda f: self.outbox[code].append(pdu))

    def _flush(self, code: str) -> None:
        queued = self.outbox.pop(code, None)
        for pdu in queued or ():
            self._send_back(code, pdu)

    def close(self) -> Deferred[None]:
        """Cancel the reports not sent yet and terminate every ISMG link (and the GNS's).

        Fires once every link is closed.
        """
        for call in self.report_timers:
            if call.active():
                call.cancel()
        self.report_timers.clear()
        closing: list[Deferred[Any]] = [s.terminate() for s in list(self.sessions)]
        if self.gns is not None and hasattr(self.gns, "close"):
            closing.append(self.gns.close())
        return DeferredList(closing, consumeErrors=True).addCallback(lambda _: None)

    def stats(self) -> dict[str, Any]:
        """Per-ISMG forwarding counters (control API ``GET /v1/forwarding``)."""
        return {
            "code": self.code,
            "home_prefixes": list(self.home_prefixes),
            "links": sorted(code for code, s in self.links.items() if s.bound),
            "waiting_reports": len(self.forwarded),
            "peers": {code: dict(c) for code, c in self.counters.items()},
        }


def build_forwarder(sim: Simulator, config: Any, reactor: Any) -> Forwarder | None:
    """A :class:`Forwarder` from a ``[simulator]`` config, or None when forwarding is off."""
    if not (config.fwd or config.peers or config.gns or config.home_prefixes):
        return None
    gns = None
    if config.gns:
        from twisted.internet.endpoints import clientFromString

        from smsgw.gns.client import GnsClient

        gns = GnsClient(
            lambda: clientFromString(reactor, config.gns),
            f"{sim.gateway_code:06d}",
            config.gns_secret,
            reactor,
        )
    forwarder = Forwarder(
        sim,
        home_prefixes=tuple(config.home_prefixes),
        peers=tuple(
            Peer(
                peer.code,
                peer.host,
                peer.port,
                peer.secret.encode("utf-8"),
                tuple(peer.prefixes),
                tuple(peer.sp_codes),
            )
            for peer in config.peers
        ),
        gns=gns,
    )
    if config.peer_secret:
        forwarder.default_secret = config.peer_secret.encode("utf-8")
    return forwarder
