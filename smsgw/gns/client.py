"""The ISMG side of the GNS protocol (seed 002 §8.6; cmpp20-notes.md §8, §11).

:class:`GnsClient` asks a GNS for routes and proposes route changes.  By
default each request goes over its own short connection, as the seed
requires between ISMG and GNS: connect, CMPP_CONNECT with the ISMG code,
the one request, CMPP_TERMINATE.  With ``long=True`` one logged-in link is
kept and reused (re-established when it is lost).

:class:`PushReceiver` is the ISMG's listener for the GNS's
CMPP_PUSH_MT_ROUTE_UPDATE / CMPP_PUSH_MO_ROUTE_UPDATE: it authenticates the
GNS by its code, records every push, applies it to a local
:class:`~smsgw.gns.routes.RouteTable` when given one, and answers Result 0
(changed) or 1 (change failed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from twisted.internet.defer import Deferred, DeferredList, DeferredQueue
from twisted.internet.endpoints import connectProtocol
from twisted.internet.interfaces import IReactorTime, IStreamClientEndpoint
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsgw.gns.routes import (
    Change,
    RouteError,
    RouteTable,
    RouteType,
    mo_route_from_pdu,
    mt_route_from_pdu,
)
from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.constants import RouteResult, UpdateType
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
    "LONG_CONFIG",
    "MAX_ROUTES",
    "SHORT_CONFIG",
    "GnsClient",
    "GnsProtocolError",
    "PushReceiver",
]

SHORT_CONFIG = SessionConfig(short=True, keepalive_s=None)
"""A short link: TERMINATE once the one request is answered (T 60 s, N 3)."""

LONG_CONFIG = SessionConfig()
"""A long link: ACTIVE_TEST every C = 180 s when idle."""

MAX_ROUTES = 1_000_000
"""Most routes :meth:`GnsClient.get_routes` collects before giving up."""

EndpointFactory = Callable[[], IStreamClientEndpoint]


class GnsProtocolError(Exception):
    """The GNS answered something a well-behaved GNS does not."""


def _b(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("ascii")


class _QuietHandler(Responder):
    """A client link's handler: the GNS sends no requests on it (Result 2 if it does)."""

    def session_started(self, session: Session) -> None:
        pass

    def session_ended(self, session: Session, reason: Failure) -> None:
        pass


class GnsClient:
    """Route queries and updates from an ISMG to a GNS.

    :param endpoint_factory: returns the client endpoint of the GNS (called
        once per connection).
    :param source_id: this ISMG's 6-digit code (CONNECT Source_Addr and
        every request's Source_Id).
    :param secret: the secret shared with the GNS.
    :param clock: the reactor or a ``Clock``: login timestamps and timers.
    :param long: keep one link for every request instead of one per request.
    :param config: the links' :class:`SessionConfig` (default
        :data:`SHORT_CONFIG` or :data:`LONG_CONFIG`).
    """

    def __init__(
        self,
        endpoint_factory: EndpointFactory,
        source_id: str | bytes,
        secret: str | bytes,
        clock: IReactorTime,
        long: bool = False,
        *,
        config: SessionConfig | None = None,
    ) -> None:
        self.endpoint_factory = endpoint_factory
        self.source_id = _b(source_id)
        self.secret = secret if isinstance(secret, bytes) else secret.encode("utf-8")
        self.clock = clock
        self.long = long
        self.config = config or (LONG_CONFIG if long else SHORT_CONFIG)
        self._session: Session | None = None
        self._connecting: Deferred[Session] | None = None
        self._waiters: list[Deferred[Session]] = []
        #: Every link this client opened, for tests and shutdown.
        self.links: list[Session] = []

    # -- requests ----------------------------------------------------------------------------

    def mt_route(self, number: str | bytes) -> Deferred[p.MtRouteResp]:
        """CMPP_MT_ROUTE: which ISMG homes *number*; Result 1 when none does."""
        return self.request(p.MtRoute(self.source_id, _b(number)))

    def mo_route(
        self, sp_code: str | bytes, service_id: str | bytes = b"", service_code: int = 0
    ) -> Deferred[p.MoRouteResp]:
        """CMPP_MO_ROUTE: which ISMG the SP with *sp_code* is attached to."""
        return self.request(p.MoRoute(self.source_id, _b(sp_code), _b(service_id), service_code))

    def get_routes(self, route_type: RouteType) -> Deferred[list[p.GetRouteResp]]:
        """Every route of *route_type* (``"MT"`` or ``"MO"``), by CMPP_GET_ROUTE paging.

        Starts at Last_route_Id −1 and stops after the route with Result 2 (or
        at Result 1: no route after the last id; an empty table).  Each page is
        its own request (its own short connection unless ``long``).

        :raises GnsProtocolError: (in the Deferred) when Route_Ids do not increase.
        """
        return Deferred.fromCoroutine(self._get_routes(route_type))

    async def _get_routes(self, route_type: RouteType) -> list[p.GetRouteResp]:
        routes: list[p.GetRouteResp] = []
        last = -1
        while len(routes) < MAX_ROUTES:
            resp: p.GetRouteResp = await self.request(
                p.GetRoute(self.source_id, _b(route_type), last)
            )
            if resp.result == RouteResult.NO_ROUTE:
                return routes
            if resp.route_id <= last:
                raise GnsProtocolError(f"Route_Id {resp.route_id} after {last}")
            routes.append(resp)
            if resp.result == RouteResult.LAST:
                return routes
            last = resp.route_id
        raise GnsProtocolError(f"more than {MAX_ROUTES} routes")

    def propose_mt_update(
        self,
        update_type: UpdateType | int,
        *,
        route_id: int = 0,
        destination_id: str | bytes = b"",
        gateway_ip: str | bytes = b"",
        gateway_port: int = 0,
        start_id: str | bytes = b"",
        end_id: str | bytes = b"",
        area_code: str | bytes = b"",
    ) -> Deferred[p.MtRouteUpdateResp]:
        """CMPP_MT_ROUTE_UPDATE: Result 0 valid (awaiting confirmation), 1 invalid."""
        return self.request(
            p.MtRouteUpdate(
                update_type=int(update_type),
                route_id=route_id,
                destination_id=_b(destination_id),
                gateway_ip=_b(gateway_ip),
                gateway_port=gateway_port,
                start_id=_b(start_id),
                end_id=_b(end_id),
                area_code=_b(area_code),
            )
        )

    def propose_mo_update(
        self,
        update_type: UpdateType | int,
        *,
        route_id: int = 0,
        destination_id: str | bytes = b"",
        gateway_ip: str | bytes = b"",
        gateway_port: int = 0,
        sp_code: str | bytes = b"",
        service_id: str | bytes = b"",
        start_code: int = 0,
        end_code: int = 0,
    ) -> Deferred[p.MoRouteUpdateResp]:
        """CMPP_MO_ROUTE_UPDATE: Result 0 valid (awaiting confirmation), 1 invalid."""
        return self.request(
            p.MoRouteUpdate(
                update_type=int(update_type),
                route_id=route_id,
                destination_id=_b(destination_id),
                gateway_ip=_b(gateway_ip),
                gateway_port=gateway_port,
                sp_code=_b(sp_code),
                service_id=_b(service_id),
                start_code=start_code,
                end_code=end_code,
            )
        )

    def request(self, pdu: object) -> Deferred[Any]:
        """Send any request PDU to the GNS; fire with its response."""
        if self.long:
            return self._long_session().addCallback(lambda session: session.send(pdu))
        return self._new_session().addCallback(lambda session: session.send(pdu))

    # -- links -------------------------------------------------------------------------------

    def _new_session(self) -> Deferred[Session]:
        """Connect and log in a new link."""
        session = Session(CmppAdapter(), _QuietHandler(), self.config, self.clock)

        def connected(_: object) -> Deferred[p.ConnectResp]:
            self.links.append(session)
            session.when_closed().addCallback(lambda _: self.links.remove(session))
            return login(session, self.source_id, self.secret)

        d: Deferred[object] = connectProtocol(self.endpoint_factory(), session)
        d.addCallback(connected)
        return d.addCallback(lambda _: session)

    def _long_session(self) -> Deferred[Session]:
        session = self._session
        if session is not None and session.bound:
            d: Deferred[Session] = Deferred()
            d.callback(session)
            return d
        waiter: Deferred[Session] = Deferred()
        self._waiters.append(waiter)
        if self._connecting is None:
            self._connecting = self._new_session()
            self._connecting.addBoth(self._connected)
        return waiter

    def _connected(self, result: Session | Failure) -> None:
        """The long link is up (or failed): tell everyone waiting for it."""
        self._connecting = None
        waiters, self._waiters = self._waiters, []
        if isinstance(result, Session):
            self._session = result
            for waiter in waiters:
                waiter.callback(result)
        else:
            for waiter in waiters:
                waiter.errback(result)

    def close(self) -> Deferred[None]:
        """Terminate the long link, if any; fires once every link is closed."""
        closing = [s.terminate() for s in list(self.links) if s.state is not State.CLOSED]
        self._session = None
        d: Deferred[None] = Deferred()
        if not closing:
            d.callback(None)
            return d
        return DeferredList(closing, consumeErrors=True).addCallback(lambda _: None)


class PushReceiver(Responder):
    """An ISMG's listener for the GNS's route pushes (seed 002 §8.6.8–9).

    The engine checks legality (CONNECT first) and answers the CONNECT
    :meth:`authenticate` decides; other requests get their Result 2 (or 1).

    :param clock: the reactor or a ``Clock``.
    :param secrets: GNS code → the secret shared with it.
    :param table: a local copy of the routes to apply pushes to; a push that
        cannot be applied (an unknown Route_Id, bad data) is answered
        Result 1.  Without a table every push is answered 0.
    """

    log = Logger()
    role = Role.SERVER

    def __init__(
        self,
        clock: IReactorTime,
        secrets: Mapping[str, bytes],
        table: RouteTable | None = None,
    ) -> None:
        self.clock = clock
        self.secrets = dict(secrets)
        self.table = table
        #: ``(gns code, push PDU)`` in arrival order.
        self.received: list[tuple[str, p.PushMtRouteUpdate | p.PushMoRouteUpdate]] = []
        #: The same, as a queue for tests to wait on.
        self.queue: DeferredQueue[tuple[str, p.PushMtRouteUpdate | p.PushMoRouteUpdate]] = (
            DeferredQueue()
        )
        #: Every link ever accepted, for tests.
        self.sessions: list[Session] = []

    def factory(self, config: SessionConfig | None = None) -> SessionFactory:
        """A factory for the listener's links."""
        return SessionFactory(
            CmppAdapter, self, config or SessionConfig(keepalive_s=None), self.clock
        )

    def session_started(self, session: Session) -> None:
        self.sessions.append(session)

    def authenticate(self, session: Session, pdu: p.Connect) -> LoginResult:
        """Check the GNS's CONNECT (its code and the secret shared with it)."""
        check = check_connect(pdu, self.secrets)
        if check.status != 0:
            self.log.warn("refused CONNECT from {peer}: status {status}", peer=session.peer,
                          status=check.status)  # fmt: skip
        return check.login_result()

    @responder(p.PushMtRouteUpdate)
    def _push_mt(self, session: Session, header: Header, pdu: p.PushMtRouteUpdate) -> Any:
        return p.PushMtRouteUpdateResp(self._apply(session.account, pdu))

    @responder(p.PushMoRouteUpdate)
    def _push_mo(self, session: Session, header: Header, pdu: p.PushMoRouteUpdate) -> Any:
        return p.PushMoRouteUpdateResp(self._apply(session.account, pdu))

    def _apply(self, gns: str, pdu: p.PushMtRouteUpdate | p.PushMoRouteUpdate) -> int:
        self.received.append((gns, pdu))
        self.queue.put((gns, pdu))
        if self.table is None:
            return 0
        try:
            update_type = UpdateType(pdu.update_type)
            route = (
                mt_route_from_pdu(pdu)
                if isinstance(pdu, p.PushMtRouteUpdate)
                else mo_route_from_pdu(pdu)
            )
            self.table.apply(Change(update_type, route, "push"))
        except (RouteError, ValueError) as error:
            self.log.warn("push from {gns} not applied: {error}", gns=gns, error=str(error))
            return 1
        return 0

    def session_ended(self, session: Session, reason: Failure) -> None:
        pass
