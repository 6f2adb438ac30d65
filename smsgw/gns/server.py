"""The GNS face on the session engine (seed 002 §8.6; cmpp20-notes.md §8, §11).

ISMGs connect (port 9168), log in with CMPP_CONNECT whose Source_Addr is
their 6-digit ISMG code and the secret they share with the GNS (§8.6.1), and
ask:

* CMPP_MT_ROUTE → CMPP_MT_ROUTE_RESP: the route of the number's segment,
  Result 0, or Result 1 when there is none;
* CMPP_MO_ROUTE → CMPP_MO_ROUTE_RESP: the route of the SP, the same way;
* CMPP_GET_ROUTE → CMPP_GET_ROUTE_RESP: one route per request, the first
  after Last_route_Id (−1 to start), Result 2 on the last one and Result 1
  when there is none;
* CMPP_MT_ROUTE_UPDATE / CMPP_MO_ROUTE_UPDATE → Result 1 for invalid data,
  0 for valid data, which waits for confirmation
  (:meth:`~smsgw.gns.routes.RouteTable.confirm`, through the control API, or
  at once with ``auto_confirm``).

The seed asks for short connections — connect, log in, one request,
TERMINATE — and that is what :class:`~smsgw.gns.client.GnsClient` does by
default; the server also answers any number of requests on one connection
(the long-connection option), and closes a link idle for
:data:`SERVER_IDLE_S`.

Whenever the table changes (a confirmed update, or an edit through the
control API) the GNS pushes CMPP_PUSH_MT_ROUTE_UPDATE /
CMPP_PUSH_MO_ROUTE_UPDATE to every ISMG with a push endpoint, each over its
own short connection on which the GNS logs in with its own code and that
ISMG's secret (§8.6.8–9).  Pushes to one ISMG go one at a time, in order;
every outcome is kept as a :class:`PushRecord`.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import attrs
from twisted.internet.defer import Deferred, DeferredList, DeferredLock, gatherResults
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol
from twisted.internet.interfaces import IReactorTime, IStreamClientEndpoint
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsgw.gns.routes import Change, MoRoute, MtRoute, Route, RouteTable, push_pdu
from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.constants import PORT_GNS, RouteResult
from smsgw.protocols.cmpp.session import CmppAdapter, check_connect, login
from smsgw.protocols.codec import Header
from smsgw.protocols.legality import Responder, responder
from smsgw.protocols.session import (
    LoginResult,
    Role,
    Session,
    SessionConfig,
    SessionFactory,
    State,
)

__all__ = [
    "COUNTERS",
    "PUSH_CONFIG",
    "PUSH_CONNECT_TIMEOUT_S",
    "SERVER_CONFIG",
    "SERVER_IDLE_S",
    "GnsHandler",
    "GnsServer",
    "IsmgAccount",
    "PushRecord",
    "get_route_resp",
    "mo_route_resp",
    "mt_route_resp",
]

SERVER_IDLE_S = 360.0
"""A server link idle this long is closed: twice C (180 s), so a long-connection
client's ACTIVE_TEST always comes first."""

SERVER_CONFIG = SessionConfig(keepalive_s=None, idle_timeout_s=SERVER_IDLE_S)
"""The GNS listener's links: it sends no requests, so no keepalive."""

PUSH_CONFIG = SessionConfig(
    short=True, keepalive_s=None, response_timeout_s=10.0, attempts=3, login_timeout_s=30.0
)
"""A push link: short (TERMINATE after the one push), T 10 s, N 3."""

PUSH_CONNECT_TIMEOUT_S = 10.0
"""Seconds to wait for an ISMG's push endpoint to accept the connection."""

PUSHES_KEPT = 10_000
"""How many :class:`PushRecord` the server keeps (oldest dropped first)."""

COUNTERS = (
    "logins",
    "mt_route",
    "mt_route_none",
    "mo_route",
    "mo_route_none",
    "get_route",
    "updates_valid",
    "updates_invalid",
    "pushes_ok",
    "pushes_failed",
    "source_mismatch",
    "not_served",
)
"""Counters kept per ISMG and in total (:meth:`GnsServer.stats`), all shown even at 0."""


@attrs.frozen
class IsmgAccount:
    """An ISMG the GNS knows: it may log in, and it is told about changes.

    :ivar code: its 6-digit ISMG code (CONNECT Source_Addr).
    :ivar secret: the secret it shares with the GNS, both directions (not in ``repr``).
    :ivar push_host: where its push listener is; ``None`` for no pushes.
    :ivar push_port: that listener's port (9168 by default, seed 002 §7.3).
    """

    code: str
    secret: bytes = attrs.field(repr=False)
    push_host: str | None = None
    push_port: int = PORT_GNS

    @property
    def push_endpoint(self) -> str | None:
        """``host:port`` of the push listener, or ``None``."""
        return f"{self.push_host}:{self.push_port}" if self.push_host else None


@attrs.frozen
class PushRecord:
    """The outcome of one push to one ISMG.

    :ivar result: the PUSH_*_ROUTE_UPDATE_RESP Result (0 changed, 1 change
        failed), or ``None`` when no answer came.
    :ivar error: why no answer came (connection refused, login refused, timeout).
    :ivar time_s: when the outcome was known, in the server's clock's seconds.
    """

    ismg: str
    route_type: str
    update_type: str
    route_id: int
    result: int | None
    error: str | None
    time_s: float

    @property
    def ok(self) -> bool:
        return self.result == 0

    def to_json(self) -> dict[str, Any]:
        return {
            **attrs.asdict(self),
            "ok": self.ok,
            "time": datetime.fromtimestamp(self.time_s, UTC).isoformat(),
        }


# -- responses ---------------------------------------------------------------------------------


def _b(text: str) -> bytes:
    return text.encode("ascii")


def mt_route_resp(route: MtRoute | None) -> p.MtRouteResp:
    """CMPP_MT_ROUTE_RESP for *route*; Result 1 (no route) for ``None``."""
    if route is None:
        return p.MtRouteResp(result=RouteResult.NO_ROUTE)
    return p.MtRouteResp(
        route_id=route.route_id,
        destination_id=_b(route.ismg_code),
        gateway_ip=_b(route.gateway_ip),
        gateway_port=route.gateway_port,
        start_id=_b(route.start_id),
        end_id=_b(route.end_id),
        area_code=_b(route.area_code),
        result=RouteResult.OK,
    )


def mo_route_resp(route: MoRoute | None) -> p.MoRouteResp:
    """CMPP_MO_ROUTE_RESP for *route*; Result 1 (no route) for ``None``.

    SP_Id carries the route's SP code: the table holds no separate
    enterprise codes.
    """
    if route is None:
        return p.MoRouteResp(result=RouteResult.NO_ROUTE)
    return p.MoRouteResp(
        route_id=route.route_id,
        destination_id=_b(route.ismg_code),
        gateway_ip=_b(route.gateway_ip),
        gateway_port=route.gateway_port,
        sp_id=_b(route.sp_code),
        start_code=route.start_code,
        end_code=route.end_code,
        result=RouteResult.OK,
    )


def get_route_resp(route: Route | None, is_last: bool) -> p.GetRouteResp:
    """CMPP_GET_ROUTE_RESP: Result 2 on the last route, 1 for none.

    An MT route's segment goes into Start_code/End_code as integers
    (``"139000"`` → 139000; segments never start with 0), with SP_Code and
    Service_Id empty; an MO route leaves Area_code empty.
    """
    if route is None:
        return p.GetRouteResp(result=RouteResult.NO_ROUTE)
    result = RouteResult.LAST if is_last else RouteResult.OK
    common: dict[str, Any] = {
        "route_id": route.route_id,
        "destination_id": _b(route.ismg_code),
        "gateway_ip": _b(route.gateway_ip),
        "gateway_port": route.gateway_port,
        "result": result,
    }
    if isinstance(route, MtRoute):
        return p.GetRouteResp(
            **common,
            start_code=int(route.start_id),
            end_code=int(route.end_id),
            area_code=_b(route.area_code),
        )
    return p.GetRouteResp(
        **common,
        sp_code=_b(route.sp_code),
        service_id=_b(route.service_id),
        start_code=route.start_code,
        end_code=route.end_code,
    )


def _text(data: bytes) -> str:
    return data.decode("ascii", "replace")


def _mask(number: str) -> str:
    """A number for logs: the first three and last four digits."""
    return number[:3] + "****" + number[-4:] if len(number) > 7 else "****"


def _describe(failure: Failure) -> str:
    return f"{type(failure.value).__name__}: {failure.getErrorMessage()}"


EndpointFor = Callable[[IsmgAccount], IStreamClientEndpoint]


class GnsServer:
    """One fake GNS: its table, the ISMGs it knows, counters and pushes.

    :param reactor: the reactor (or a ``Clock`` when *endpoint_for* is given):
        timers, and the default push endpoints.
    :param table: the route table; the server listens to its changes.
    :param ismgs: the ISMG accounts.
    :param gateway_code: the GNS's own 6-digit code, its Source_Addr when pushing.
    :param endpoint_for: the client endpoint of an ISMG's push listener; by
        default a ``HostnameEndpoint`` to its ``push_host:push_port``.
    :param push_config: the push links' :class:`SessionConfig` (short).
    :param auto_confirm: confirm every valid update at once (for test benches).
    """

    log = Logger()

    def __init__(
        self,
        reactor: IReactorTime,
        table: RouteTable,
        ismgs: Iterable[IsmgAccount],
        *,
        gateway_code: str = "000001",
        endpoint_for: EndpointFor | None = None,
        push_config: SessionConfig = PUSH_CONFIG,
        auto_confirm: bool = False,
    ) -> None:
        self.clock = reactor
        self.table = table
        self.ismgs = {a.code: a for a in ismgs}
        self.gateway_code = gateway_code
        self.push_config = push_config
        self.auto_confirm = auto_confirm
        self._endpoint_for = endpoint_for or self._hostname_endpoint
        #: Push outcomes, newest last.
        self.pushes: deque[PushRecord] = deque(maxlen=PUSHES_KEPT)
        self.totals: dict[str, int] = dict.fromkeys((*COUNTERS, "logins_refused"), 0)
        self.counters: dict[str, dict[str, int]] = {
            code: dict.fromkeys(COUNTERS, 0) for code in self.ismgs
        }
        self.sessions: set[Session] = set()
        self._locks: dict[str, DeferredLock] = defaultdict(DeferredLock)
        self._in_flight: set[Deferred[Any]] = set()
        self._push_links: set[Session] = set()
        table.add_listener(self._changed)

    def factory(self, config: SessionConfig = SERVER_CONFIG) -> SessionFactory:
        """A factory for the GNS's CMPP 2.0 server links."""
        return SessionFactory(CmppAdapter, GnsHandler(self), config, self.clock)

    # -- requests ----------------------------------------------------------------------------

    def count(self, ismg: str, name: str) -> None:
        self.totals[name] += 1
        counters = self.counters.setdefault(ismg, dict.fromkeys(COUNTERS, 0))
        counters[name] += 1

    def check_source(self, ismg: str, pdu: Any) -> None:
        """Count (and log) a request whose Source_Id is not the logged-in ISMG's code.

        Answered anyway: the login already proved who the peer is.
        """
        source = getattr(pdu, "source_id", None)
        if source is not None and _text(source) != ismg:
            self.count(ismg, "source_mismatch")
            self.log.warn("{ismg}: {pdu} with Source_Id {source}", ismg=ismg,
                          pdu=type(pdu).__name__, source=_text(source))  # fmt: skip

    def mt_route(self, ismg: str, pdu: p.MtRoute) -> p.MtRouteResp:
        """CMPP_MT_ROUTE: the route of the number's segment."""
        number = _text(pdu.terminal_id)
        route = self.table.find_mt(number)
        self.count(ismg, "mt_route" if route else "mt_route_none")
        self.log.debug("{ismg}: MT route of {number}: {route}", ismg=ismg,
                       number=_mask(number), route=route)  # fmt: skip
        return mt_route_resp(route)

    def mo_route(self, ismg: str, pdu: p.MoRoute) -> p.MoRouteResp:
        """CMPP_MO_ROUTE: the route of the SP."""
        mo = self.table.find_mo(_text(pdu.sp_code), _text(pdu.service_id), pdu.service_code)
        self.count(ismg, "mo_route" if mo else "mo_route_none")
        return mo_route_resp(mo)

    def get_route(self, ismg: str, pdu: p.GetRoute) -> p.GetRouteResp:
        """CMPP_GET_ROUTE: the route after Last_route_Id."""
        self.count(ismg, "get_route")
        route_type = _text(pdu.route_type).upper()
        if route_type not in ("MT", "MO"):
            return get_route_resp(None, True)
        found, is_last = self.table.page(route_type, pdu.last_route_id)  # type: ignore[arg-type]
        return get_route_resp(found, is_last)

    def _propose(self, ismg: str, route_type: str, pdu: Any) -> int:
        if route_type == "MT":
            ok, pending_id = self.table.propose_mt(pdu, source=ismg)
        else:
            ok, pending_id = self.table.propose_mo(pdu, source=ismg)
        if not ok:
            self.count(ismg, "updates_invalid")
            why = self.table.rejections[-1]
            self.log.info("{ismg}: invalid {type} route update: {field}: {reason}", ismg=ismg,
                          type=route_type, field=why.field, reason=why.reason)  # fmt: skip
            return 1
        self.count(ismg, "updates_valid")
        self.log.info("{ismg}: {type} route update {id} waits for confirmation", ismg=ismg,
                      type=route_type, id=pending_id)  # fmt: skip
        if self.auto_confirm:
            self.clock.callLater(0, self._confirm_quietly, pending_id)
        return 0

    def _confirm_quietly(self, pending_id: int) -> None:
        try:
            self.table.confirm(pending_id)
        except (KeyError, ValueError) as error:
            self.log.warn("update {id} not applied: {error}", id=pending_id, error=str(error))

    # -- pushes ------------------------------------------------------------------------------

    def _changed(self, change: Change) -> None:
        self.push(change)

    def push(self, change: Change) -> Deferred[list[PushRecord]]:
        """Push *change* to every ISMG with a push endpoint; fire with the outcomes.

        Never fails: each failure is a :class:`PushRecord` with an error.
        """
        pdu = push_pdu(change)
        runs = [
            self._locks[ismg.code].run(self._push_one, ismg, pdu, change)
            for ismg in self.ismgs.values()
            if ismg.push_host
        ]
        d: Deferred[list[PushRecord]] = gatherResults(runs)
        self._in_flight.add(d)

        def done(result: Any) -> Any:
            self._in_flight.discard(d)
            return result

        return d.addBoth(done)

    async def _push_one(self, ismg: IsmgAccount, pdu: Any, change: Change) -> PushRecord:
        session = Session(CmppAdapter(), _PushHandler(), self.push_config, self.clock)
        result: int | None = None
        error: str | None = None
        try:
            await connectProtocol(self._endpoint_for(ismg), session)
            self._push_links.add(session)
            session.when_closed().addBoth(lambda _: self._push_links.discard(session))
            await login(session, self.gateway_code.encode("ascii"), ismg.secret)
            response = await session.send(pdu)
            result = response.result
        except Exception:
            error = _describe(Failure())
            if session.transport is not None and session.state is not State.CLOSED:
                session.transport.loseConnection()
        record = PushRecord(
            ismg.code,
            change.route_type,
            change.update_type.name.lower(),
            change.route.route_id,
            result,
            error,
            self.clock.seconds(),
        )
        self.pushes.append(record)
        self.count(ismg.code, "pushes_ok" if record.ok else "pushes_failed")
        if record.ok:
            self.log.info(
                "pushed {type} route {id} ({update}) to {ismg}",
                type=record.route_type,
                id=record.route_id,
                update=record.update_type,
                ismg=ismg.code,
            )
        else:
            self.log.warn("push of {type} route {id} to {ismg} failed: {why}",
                          type=record.route_type, id=record.route_id, ismg=ismg.code,
                          why=error or f"Result {result}")  # fmt: skip
        return record

    def pushes_done(self) -> Deferred[None]:
        """Fires once every push under way has its outcome and its link is closed."""
        waits: list[Deferred[Any]] = [*self._in_flight]
        waits += [s.when_closed() for s in self._push_links]
        d = DeferredList(waits, consumeErrors=True)
        return d.addCallback(lambda _: None)

    def _hostname_endpoint(self, ismg: IsmgAccount) -> IStreamClientEndpoint:
        assert ismg.push_host is not None
        return HostnameEndpoint(
            self.clock, ismg.push_host, ismg.push_port, timeout=PUSH_CONNECT_TIMEOUT_S
        )

    # -- inspection --------------------------------------------------------------------------

    def push_log(self, ismg: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """The push outcomes (newest last), optionally for one ISMG, at most *limit*."""
        records = [r for r in self.pushes if ismg is None or r.ismg == ismg]
        return [r.to_json() for r in (records[-limit:] if limit else records)]

    def stats(self) -> dict[str, Any]:
        """Counters for the control API."""
        return {
            "sessions": len(self.sessions),
            "routes": {"mt": len(self.table.routes("MT")), "mo": len(self.table.routes("MO"))},
            "pending_updates": len(self.table.pending),
            "pushes_in_flight": len(self._in_flight),
            **self.totals,
            "ismgs": {
                code: {
                    "sessions": sum(1 for s in self.sessions if s.account == code),
                    "push_endpoint": account.push_endpoint,
                    **self.counters.get(code, {}),
                }
                for code, account in self.ismgs.items()
            },
        }


class GnsHandler(Responder):
    """The GNS side of an ISMG's link: CONNECT, then route requests.

    The engine checks legality (CONNECT first, a second one gets Status 1)
    and answers the CONNECT :meth:`authenticate` decides.  Route requests are
    answered through the responder table; any other request is counted
    ``not_served`` and answered with its Result 2 ("command error"), or
    Result 1 where the response has only that.
    """

    log = Logger()
    role = Role.SERVER

    def __init__(self, server: GnsServer) -> None:
        self.server = server

    def session_started(self, session: Session) -> None:
        self.log.debug("GNS connection from {peer}", peer=session.peer)

    def authenticate(self, session: Session, pdu: p.Connect) -> LoginResult:
        """Check a CONNECT whose Source_Addr is an ISMG code against its secret."""
        server = self.server
        check = check_connect(pdu, {code: a.secret for code, a in server.ismgs.items()})
        if check.status != 0 or check.account is None:
            server.totals["logins_refused"] += 1
            self.log.warn("refused CONNECT from {peer} for {ismg}: status {status}",
                          peer=session.peer, ismg=_text(pdu.source_addr),
                          status=check.status)  # fmt: skip
        return check.login_result()

    def logged_in(self, session: Session) -> None:
        self.server.sessions.add(session)
        self.server.count(session.account, "logins")
        self.log.debug("{ismg} logged in from {peer}", ismg=session.account, peer=session.peer)

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        self.server.check_source(session.account, pdu)
        return super().handle_request(session, header, pdu)

    @responder(p.MtRoute)
    def _mt_route(self, session: Session, header: Header, pdu: p.MtRoute) -> p.MtRouteResp:
        return self.server.mt_route(session.account, pdu)

    @responder(p.MoRoute)
    def _mo_route(self, session: Session, header: Header, pdu: p.MoRoute) -> p.MoRouteResp:
        return self.server.mo_route(session.account, pdu)

    @responder(p.GetRoute)
    def _get_route(self, session: Session, header: Header, pdu: p.GetRoute) -> p.GetRouteResp:
        return self.server.get_route(session.account, pdu)

    @responder(p.MtRouteUpdate)
    def _mt_update(self, session: Session, header: Header, pdu: Any) -> p.MtRouteUpdateResp:
        return p.MtRouteUpdateResp(self.server._propose(session.account, "MT", pdu))

    @responder(p.MoRouteUpdate)
    def _mo_update(self, session: Session, header: Header, pdu: Any) -> p.MoRouteUpdateResp:
        return p.MoRouteUpdateResp(self.server._propose(session.account, "MO", pdu))

    def not_served(self, session: Session, header: Header, pdu: Any) -> None:
        ismg: str = session.account
        self.server.count(ismg, "not_served")
        self.log.warn("{ismg}: {pdu} is not served by a GNS", ismg=ismg, pdu=type(pdu).__name__)
        session.refuse(pdu, header.sequence_id, session.adapter.not_served_status)

    def session_ended(self, session: Session, reason: Failure) -> None:
        self.server.sessions.discard(session)


class _PushHandler(Responder):
    """Our side of a push link: we only send; the ISMG only answers (Result 2 otherwise)."""

    def session_started(self, session: Session) -> None:
        pass

    def session_ended(self, session: Session, reason: Failure) -> None:
        pass
