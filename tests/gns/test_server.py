"""The GNS simulator against its ISMG-side client (:mod:`smsgw.gns.server`, :mod:`.client`).

In memory: every TCP connection is a ``twisted.test.iosim`` pump made by
:class:`MemoryEndpoint`, and every timer runs on one ``Clock``.  One test
runs the real thing over loopback sockets through
:func:`smsgw.roles.gns_sim.make_gns_sim`.  Seed 002 §7.2, §7.3 and §8.6.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.interfaces import IProtocolFactory, IStreamClientEndpoint
from twisted.internet.protocol import Factory
from twisted.internet.task import Clock
from twisted.test.iosim import IOPump, connect, makeFakeClient, makeFakeServer
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface import implementer

from smsgw.config import ConfigError, parse_account, parse_config
from smsgw.gns.client import GnsClient, GnsProtocolError, PushReceiver
from smsgw.gns.config import DEFAULT_GNS_LISTEN, GnsConfig, parse_gns_config
from smsgw.gns.routes import MoRoute, MtRoute, RouteTable
from smsgw.gns.server import GnsServer, IsmgAccount
from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.constants import ConnectStatus, RouteResult, UpdateType
from smsgw.protocols.cmpp.session import CmppAdapter, LoginFailed, login
from smsgw.protocols.session import Session, SessionConfig, State
from smsgw.roles.gns_sim import demo_routes, ismg_account, make_gns_sim
from tests.clock import BoundedClock, flush_pumps

#: 2024-03-05 06:07:08 UTC.
NOW = 1709618828.0
ISMG = "001001"
OTHER = "002001"
SECRET = b"s3cret-1"
OTHER_SECRET = b"s3cret-2"
GNS_CODE = "000009"
#: Each ISMG's secret on its own push listener (the GNS logs in with them).
PUSH_SECRETS = {ISMG: SECRET, OTHER: OTHER_SECRET}


def mt_routes() -> list[MtRoute]:
    return [
        MtRoute(0, ISMG, "10.0.1.1", 7890, "139000", "139499", "010"),
        MtRoute(1, OTHER, "10.0.2.1", 7900, "139500", "139999", "021"),
        MtRoute(5, OTHER, "10.0.2.1", 7900, "138", "138", "021"),
    ]


def mo_routes() -> list[MoRoute]:
    return [
        MoRoute(0, ISMG, "10.0.1.1", 7890, "1065901234"),
        MoRoute(2, OTHER, "10.0.2.1", 7890, "1065901234", "TPCQ", 1000, 2000),
    ]


@implementer(IStreamClientEndpoint)
class MemoryEndpoint:
    """A client endpoint whose connections are iosim pumps to *server_factory*.

    :param pumps: where each new connection's pump goes (the test flushes them).
    :param refuse: fail every connection attempt with ``ConnectionRefusedError``.
    """

    def __init__(
        self,
        server_factory: Factory,
        pumps: list[IOPump],
        clock: Clock,
        *,
        refuse: bool = False,
    ) -> None:
        self.server_factory = server_factory
        self.pumps = pumps
        self.clock = clock
        self.refuse = refuse
        self.connections = 0

    def connect(self, factory: IProtocolFactory) -> Deferred[Any]:
        if self.refuse:
            return fail(ConnectionRefusedError("refused by the test"))
        self.connections += 1
        client = factory.buildProtocol(None)
        server = self.server_factory.buildProtocol(None)
        assert client is not None and server is not None
        pump = connect(
            server, makeFakeServer(server), client, makeFakeClient(client),
            greet=False, clock=self.clock,
        )  # fmt: skip
        self.pumps.append(pump)
        return succeed(client)


class _Quiet:
    """A link handler that answers nothing."""

    def session_started(self, session: Session) -> None:
        pass

    def handle_request(self, session: Session, header: Any, pdu: Any) -> None:
        return None

    def session_ended(self, session: Session, reason: Any) -> None:
        pass


class _GnsTestCase(SynchronousTestCase):
    """A GNS, two ISMGs' push listeners, and clients, all in memory on one Clock."""

    def setUp(self) -> None:
        self.clock = BoundedClock()
        self.clock.advance(NOW)
        self.pumps: list[IOPump] = []
        #: The ISMGs' push listeners, each with a mirror of the GNS table.
        self.receivers = {
            code: PushReceiver(self.clock, {GNS_CODE: secret}, RouteTable(mt_routes(), mo_routes()))
            for code, secret in PUSH_SECRETS.items()
        }
        self.push_endpoints = {
            code: MemoryEndpoint(receiver.factory(), self.pumps, self.clock)
            for code, receiver in self.receivers.items()
        }
        self.make_server()

    def make_server(self, *, auto_confirm: bool = False) -> GnsServer:
        """(Re)build the GNS and its table, with the two ISMGs, both with push endpoints."""
        self.table = RouteTable(mt_routes(), mo_routes(), now=self.clock.seconds)
        ismgs = [
            IsmgAccount(ISMG, SECRET, "ismg1.invalid"),
            IsmgAccount(OTHER, OTHER_SECRET, "ismg2.invalid", 19168),
        ]
        self.server = GnsServer(
            self.clock,
            self.table,
            ismgs,
            gateway_code=GNS_CODE,
            endpoint_for=lambda ismg: self.push_endpoints[ismg.code],
            auto_confirm=auto_confirm,
        )
        self.server_sessions: list[Session] = []
        factory = self.server.factory()
        build = factory.buildProtocol

        def build_and_track(addr: Any) -> Session:
            session = build(addr)
            self.server_sessions.append(session)
            return session

        factory.buildProtocol = build_and_track  # type: ignore[method-assign]
        self.gns_endpoint = MemoryEndpoint(factory, self.pumps, self.clock)
        return self.server

    def client(self, code: str = ISMG, secret: bytes = SECRET, *, long: bool = False) -> GnsClient:
        return GnsClient(lambda: self.gns_endpoint, code, secret, self.clock, long)

    def flush(self) -> None:
        """Move every byte on every connection until nothing moves."""
        flush_pumps(self.pumps)

    def result(self, d: Deferred[Any]) -> Any:
        self.flush()
        return self.successResultOf(d)

    def assert_all_closed(self) -> None:
        """Every server-side GNS link is gone (short connections)."""
        self.assertTrue(self.server_sessions)
        self.assertEqual([s.state for s in self.server_sessions],
                         [State.CLOSED] * len(self.server_sessions))  # fmt: skip
        self.assertEqual(self.server.stats()["sessions"], 0)


class LoginTests(_GnsTestCase):
    """CMPP_CONNECT from an ISMG: Source_Addr is its code (seed 002 §8.6.1)."""

    def raw_link(self) -> Session:
        session = Session(CmppAdapter(), _Quiet(), SessionConfig(keepalive_s=None), self.clock)
        self.gns_endpoint.connect(Factory.forProtocol(lambda: session))
        return session

    def test_known_ismg(self) -> None:
        """An ISMG with its secret logs in; the GNS counts it."""
        session = self.raw_link()
        resp = self.result(login(session, ISMG.encode(), SECRET))
        self.assertEqual(resp.status, 0)
        self.assertTrue(self.server_sessions[0].bound)
        self.assertEqual(self.server.stats()["ismgs"][ISMG]["logins"], 1)

    def test_refused(self) -> None:
        """A wrong secret is status 3, an unknown code 2; the link closes."""
        for code, secret, status in (
            (ISMG, b"wrong", ConnectStatus.AUTH_ERROR),
            ("009999", SECRET, ConnectStatus.BAD_SOURCE_ADDR),
        ):
            d = self.client(code, secret).mt_route("13900001234")
            self.flush()
            self.assertEqual(self.failureResultOf(d, LoginFailed).value.status, status)
        self.assert_all_closed()
        self.assertEqual(self.server.stats()["logins_refused"], 2)

    def test_request_before_connect(self) -> None:
        """A route request before CONNECT closes the link unanswered."""
        session = self.raw_link()
        d = session.send(p.MtRoute(ISMG.encode(), b"13900001234"))
        self.flush()
        self.failureResultOf(d)
        self.assertIs(session.state, State.CLOSED)


class MtRouteTests(_GnsTestCase):
    """CMPP_MT_ROUTE over short connections (seed 002 §8.6.3, §7.2)."""

    def test_found(self) -> None:
        """A number in a segment gets the route, Result 0, every field filled."""
        resp = self.result(self.client().mt_route("+8613999991234"))
        self.assertEqual(
            resp,
            p.MtRouteResp(
                route_id=1,
                destination_id=OTHER.encode(),
                gateway_ip=b"10.0.2.1",
                gateway_port=7900,
                start_id=b"139500",
                end_id=b"139999",
                area_code=b"021",
                result=RouteResult.OK,
            ),
        )
        self.assertEqual(self.server.stats()["ismgs"][ISMG]["mt_route"], 1)

    def test_not_found(self) -> None:
        """A number no segment covers gets Result 1."""
        resp = self.result(self.client().mt_route("15012345678"))
        self.assertEqual(resp.result, RouteResult.NO_ROUTE)
        self.assertEqual(self.server.stats()["mt_route_none"], 1)

    def test_short_connection(self) -> None:
        """Each request has its own connection: CONNECT, request, TERMINATE, closed."""
        client = self.client()
        first = client.mt_route("13900001234")
        second = client.mt_route("13812345678")
        self.flush()
        self.assertEqual(self.successResultOf(first).route_id, 0)
        self.assertEqual(self.successResultOf(second).route_id, 5)
        self.assertEqual(self.gns_endpoint.connections, 2)
        self.assert_all_closed()
        self.assertEqual(client.links, [])
        for session in self.server_sessions:
            self.assertEqual(session.frames_received, 3)  # CONNECT, MT_ROUTE, TERMINATE

    def test_long_connection(self) -> None:
        """The long-connection option: several requests on one link, until close()."""
        client = self.client(long=True)
        answers = [client.mt_route("13900001234"), client.mo_route("1065901234")]
        self.flush()
        self.assertEqual([self.successResultOf(d).result for d in answers], [0, 0])
        answers.append(client.get_routes("MO"))
        self.flush()
        self.assertEqual(len(self.successResultOf(answers[-1])), 2)
        self.assertEqual(self.gns_endpoint.connections, 1)
        (server_side,) = self.server_sessions
        self.assertTrue(server_side.bound)
        self.assertEqual(server_side.frames_received, 5)
        closed = client.close()
        self.flush()
        self.successResultOf(closed)
        self.assert_all_closed()

    def test_source_id_mismatch(self) -> None:
        """A Source_Id other than the login's is answered, and counted."""
        client = self.client()
        client.source_id = b"009999"
        d = client.mt_route("13900001234")
        self.flush()
        self.failureResultOf(d, LoginFailed)
        client = GnsClient(lambda: self.gns_endpoint, ISMG, SECRET, self.clock)
        d = client.request(p.MtRoute(b"002001", b"13900001234"))
        self.assertEqual(self.result(d).route_id, 0)
        self.assertEqual(self.server.stats()["ismgs"][ISMG]["source_mismatch"], 1)

    def test_not_served(self) -> None:
        """A SUBMIT to the GNS is answered with Result 2 (command error)."""
        resp = self.result(self.client().request(p.Submit(dest_terminal_ids=(b"1",))))
        self.assertEqual(resp.result, 2)


class MoRouteTests(_GnsTestCase):
    """CMPP_MO_ROUTE (seed 002 §8.6.4)."""

    def test_found(self) -> None:
        """An SP code gets its route; SP_Id carries the route's SP code."""
        resp = self.result(self.client().mo_route("106590123401"))
        self.assertEqual((resp.result, resp.route_id, resp.sp_id), (0, 0, b"1065901234"))
        self.assertEqual((resp.destination_id, resp.gateway_port), (ISMG.encode(), 7890))

    def test_service(self) -> None:
        """A service request inside a service route's codes gets that route and its codes."""
        resp = self.result(self.client().mo_route("1065901234", "TPCQ", 1500))
        self.assertEqual((resp.route_id, resp.start_code, resp.end_code), (2, 1000, 2000))

    def test_not_found(self) -> None:
        """An unknown SP gets Result 1."""
        resp = self.result(self.client().mo_route("10658"))
        self.assertEqual(resp.result, RouteResult.NO_ROUTE)


class GetRouteTests(_GnsTestCase):
    """CMPP_GET_ROUTE paging from −1, one route per request (seed 002 §8.6.5)."""

    def test_mt_paging(self) -> None:
        """Every MT route once, by id, each over its own connection; Result 2 ends it."""
        routes = self.result(self.client().get_routes("MT"))
        self.assertEqual([r.route_id for r in routes], [0, 1, 5])
        self.assertEqual([r.result for r in routes], [0, 0, RouteResult.LAST])
        self.assertEqual((routes[2].start_code, routes[2].end_code), (138, 138))
        self.assertEqual((routes[0].start_code, routes[0].area_code), (139000, b"010"))
        self.assertEqual(routes[0].sp_code, b"")
        self.assertEqual(self.gns_endpoint.connections, 3)
        self.assert_all_closed()

    def test_mo_paging(self) -> None:
        """MO routes carry SP_Code, Service_Id and codes, no Area_code."""
        routes = self.result(self.client().get_routes("MO"))
        self.assertEqual([(r.route_id, r.result) for r in routes], [(0, 0), (2, 2)])
        self.assertEqual((routes[1].sp_code, routes[1].service_id), (b"1065901234", b"TPCQ"))
        self.assertEqual(routes[1].area_code, b"")

    def test_requests(self) -> None:
        """The raw requests: from −1, after the last id, and for an unknown type."""
        client = self.client()
        first = client.request(p.GetRoute(ISMG.encode(), b"MT", -1))
        beyond = client.request(p.GetRoute(ISMG.encode(), b"MT", 5))
        bad = client.request(p.GetRoute(ISMG.encode(), b"XX", -1))
        self.flush()
        self.assertEqual(self.successResultOf(first).route_id, 0)
        self.assertEqual(self.successResultOf(beyond).result, RouteResult.NO_ROUTE)
        self.assertEqual(self.successResultOf(bad).result, RouteResult.NO_ROUTE)

    def test_empty(self) -> None:
        """An empty table pages to nothing (Result 1 at once)."""
        for route in self.table.routes("MT"):
            self.table.delete("MT", route.route_id)
        self.flush()
        self.assertEqual(self.result(self.client().get_routes("MT")), [])

    def test_ids_must_increase(self) -> None:
        """A GNS repeating a Route_Id fails the paging instead of looping."""
        client = self.client()
        client.request = lambda pdu: succeed(p.GetRouteResp(route_id=0))  # type: ignore[method-assign]
        d = client.get_routes("MT")
        self.failureResultOf(d, GnsProtocolError)


class UpdateTests(_GnsTestCase):
    """CMPP_MT/MO_ROUTE_UPDATE and the pushes that follow (seed 002 §8.6.6–9)."""

    def propose(self, **fields: Any) -> p.MtRouteUpdateResp:
        values: dict[str, Any] = {
            "destination_id": "003001",
            "gateway_ip": "10.0.3.1",
            "gateway_port": 7890,
            "start_id": "137000",
            "end_id": "137999",
            "area_code": "020",
            **fields,
        }
        update_type = values.pop("update_type", UpdateType.ADD)
        return self.result(self.client().propose_mt_update(update_type, **values))  # type: ignore[no-any-return]

    def test_bad_data(self) -> None:
        """Start above end, a bad IP, port 0, an unknown route id: Result 1, nothing pending."""
        for bad in (
            {"start_id": "137999", "end_id": "137000"},
            {"gateway_ip": "10.0.3"},
            {"gateway_port": 0},
            {"update_type": UpdateType.DELETE, "route_id": 42},
            {"destination_id": "00300X"},
        ):
            self.assertEqual(self.propose(**bad).result, 1, bad)
        self.assertEqual(self.table.pending, [])
        self.assertEqual(self.server.stats()["ismgs"][ISMG]["updates_invalid"], 5)
        self.assert_all_closed()

    def test_valid_waits(self) -> None:
        """Valid data is Result 0 and waits; nothing changes and nothing is pushed yet."""
        self.assertEqual(self.propose().result, 0)
        (pending,) = self.table.pending
        self.assertEqual((pending.source, pending.update_type), (ISMG, UpdateType.ADD))
        self.assertIsNone(self.table.find_mt("13700001234"))
        self.assertEqual(self.receivers[ISMG].received, [])
        mo = self.client().propose_mo_update(
            UpdateType.UPDATE, route_id=0, destination_id=OTHER, gateway_ip="10.0.2.1",
            gateway_port=7890, sp_code="1065901234",
        )  # fmt: skip
        self.assertEqual(self.result(mo).result, 0)
        self.assertEqual(len(self.table.pending), 2)

    def test_confirm_pushes(self) -> None:
        """Confirming pushes PUSH_MT_ROUTE_UPDATE to every ISMG, each on a short link."""
        self.propose()
        (pending,) = self.table.pending
        change = self.table.confirm(pending.id)
        self.flush()
        for receiver in self.receivers.values():
            ((gns, pdu),) = receiver.received
            self.assertEqual(gns, GNS_CODE)
            self.assertIsInstance(pdu, p.PushMtRouteUpdate)
            self.assertEqual((pdu.update_type, pdu.route_id), (UpdateType.ADD, 6))
            self.assertEqual((pdu.start_id, pdu.end_id), (b"137000", b"137999"))
            # The ISMG's mirror applied it.
            self.assertEqual(receiver.table.find_mt("13700001234"), change.route)  # type: ignore[union-attr]
            self.assertEqual([s.state for s in receiver.sessions], [State.CLOSED])
        records = self.server.push_log()
        self.assertEqual([(r["ismg"], r["result"], r["ok"]) for r in records],
                         [(ISMG, 0, True), (OTHER, 0, True)])  # fmt: skip
        self.assertEqual(records[0]["route_id"], 6)
        self.assertEqual(self.server.stats()["pushes_ok"], 2)
        self.successResultOf(self.server.pushes_done())

    def test_direct_change_pushes_mo(self) -> None:
        """A change made on the table (the control API's way) is pushed too, MO included."""
        self.table.delete("MO", 2)
        self.flush()
        ((_, pdu),) = self.receivers[OTHER].received
        self.assertIsInstance(pdu, p.PushMoRouteUpdate)
        self.assertEqual((pdu.update_type, pdu.route_id, pdu.service_id),
                         (UpdateType.DELETE, 2, b"TPCQ"))  # fmt: skip
        self.assertIsNone(self.receivers[OTHER].table.get("MO", 2))  # type: ignore[union-attr]

    def test_pushes_in_order(self) -> None:
        """Changes in a row reach each ISMG in order, one link at a time."""
        route = self.table.add(MtRoute(0, ISMG, "10.0.1.1", 7890, "150", "150"), assign_id=True)
        self.table.delete("MT", route.route_id)
        self.assertEqual(self.push_endpoints[ISMG].connections, 1)
        self.flush()
        kinds = [pdu.update_type for _, pdu in self.receivers[ISMG].received]
        self.assertEqual(kinds, [UpdateType.ADD, UpdateType.DELETE])
        self.assertEqual(self.push_endpoints[ISMG].connections, 2)
        self.assertEqual(self.server.stats()["pushes_failed"], 0)

    def test_push_failures(self) -> None:
        """Unreachable, login refused and Result 1 are each recorded per ISMG."""
        self.push_endpoints[ISMG].refuse = True
        self.receivers[OTHER].secrets[GNS_CODE] = b"not the shared one"
        self.table.delete("MT", 0)
        self.flush()
        by_ismg = {r["ismg"]: r for r in self.server.push_log()}
        self.assertIsNone(by_ismg[ISMG]["result"])
        self.assertIn("ConnectionRefusedError", by_ismg[ISMG]["error"])
        self.assertIn("LoginRefused", by_ismg[OTHER]["error"])
        self.assertEqual(self.server.stats()["ismgs"][OTHER]["pushes_failed"], 1)
        # An ISMG that cannot apply the change answers Result 1.
        self.push_endpoints[ISMG].refuse = False
        self.table.delete("MT", 1)
        self.receivers[ISMG].table.delete("MT", 1)  # type: ignore[union-attr]
        self.table.add(MtRoute(1, ISMG, "10.0.1.1", 7890, "150", "150"))
        self.flush()
        self.assertEqual([r["result"] for r in self.server.push_log(ISMG)], [None, 1, 0])
        self.successResultOf(self.server.pushes_done())

    def test_auto_confirm(self) -> None:
        """With auto_confirm a valid update is applied and pushed right after its answer."""
        self.make_server(auto_confirm=True)
        self.assertEqual(self.propose(update_type=UpdateType.DELETE, route_id=5).result, 0)
        self.clock.advance(0)
        self.flush()
        self.assertIsNone(self.table.get("MT", 5))
        self.assertEqual(len(self.receivers[ISMG].received), 1)
        self.assertEqual(self.table.pending, [])


class ServiceConfigTests(SynchronousTestCase):
    """The ``[gns]`` table and :func:`make_gns_sim`."""

    TOML = """
[gns]
listen = "tcp:19168"
gateway_code = "000009"
auto_confirm = true

[[gns.ismg]]
code = "001001"
secret = "topsecret"
push_host = "127.0.0.1"
push_port = 9169

[[gns.ismg]]
code = "002001"
secret = "other"

[[gns.mt_route]]
ismg_code = "001001"
gateway_ip = "10.0.1.1"
gateway_port = 7890
start_id = "139000"
end_id = "139499"
area_code = "010"

[[gns.mt_route]]
route_id = 0
ismg_code = "002001"
gateway_ip = "10.0.2.1"
gateway_port = 7890
start_id = "138"
end_id = "138"

[[gns.mo_route]]
ismg_code = "001001"
gateway_ip = "10.0.1.1"
gateway_port = 7890
sp_code = "1065901234"
service_id = "TPCQ"
start_code = 1000
end_code = 2000
"""

    def parse(self, text: str) -> GnsConfig:
        return parse_gns_config(parse_config(text, "gns.toml").gns, "gns.toml")

    def assert_refused(self, text: str, key: str) -> ConfigError:
        with self.assertRaises(ConfigError) as caught:
            self.parse(text)
        self.assertEqual(caught.exception.key, key)
        self.assertEqual(caught.exception.source, "gns.toml")
        return caught.exception

    def test_full(self) -> None:
        """Every key is read; unnumbered routes take the ids nobody named."""
        config = self.parse(self.TOML)
        self.assertEqual((config.listen, config.gateway_code, config.auto_confirm),
                         ("tcp:19168", "000009", True))  # fmt: skip
        self.assertEqual(config.ismgs[0], IsmgAccount("001001", b"topsecret", "127.0.0.1", 9169))
        self.assertEqual(config.ismgs[1].push_endpoint, None)
        self.assertEqual([(r.route_id, r.start_id) for r in config.mt_routes],
                         [(1, "139000"), (0, "138")])  # fmt: skip
        self.assertEqual(config.mo_routes[0].service_id, "TPCQ")
        self.assertNotIn("topsecret", repr(config))

    def test_defaults(self) -> None:
        """No [gns] table: port 9168 and no ISMGs or routes."""
        config = parse_gns_config({}, "x.toml")
        self.assertEqual(config.listen, DEFAULT_GNS_LISTEN)
        self.assertEqual((config.ismgs, config.mt_routes), ((), ()))

    def test_errors(self) -> None:
        """Unknown keys, bad values and duplicates are refused by dotted key."""
        error = self.assert_refused('[gns]\nlisten = "tcp:1"\nfoo = 1\n', "gns.foo")
        self.assertIn("unknown key", str(error))
        self.assert_refused('[gns]\ngateway_code = "1"\n', "gns.gateway_code")
        self.assert_refused('[gns]\nauto_confirm = "yes"\n', "gns.auto_confirm")
        ismg = '[[gns.ismg]]\ncode = "001001"\nsecret = "s"\n'
        self.assert_refused(ismg + "colour = 1\n", "gns.ismg[0].colour")
        self.assert_refused(ismg + "push_port = 1\n", "gns.ismg[0].push_port")
        self.assert_refused(ismg + 'push_host = "h"\npush_port = 0\n', "gns.ismg[0].push_port")
        self.assert_refused(ismg + ismg, "gns.ismg[1].code")
        self.assert_refused('[[gns.ismg]]\ncode = "001001"\n', "gns.ismg[0].secret")
        route = (
            '[[gns.mt_route]]\nismg_code = "001001"\ngateway_ip = "10.0.0.1"\n'
            'gateway_port = 7890\nstart_id = "139"\nend_id = "139"\n'
        )
        self.assert_refused(route.replace('end_id = "139"', 'end_id = "138"'),
                            "gns.mt_route[0].end_id")  # fmt: skip
        self.assert_refused(route + "weight = 2\n", "gns.mt_route[0].weight")
        self.assert_refused(route.replace("7890", "0"), "gns.mt_route[0].gateway_port")
        self.assert_refused(route.replace("gateway_port = 7890\n", ""),
                            "gns.mt_route[0].gateway_port")  # fmt: skip
        self.assert_refused(route + "route_id = 1\n" + route + "route_id = 1\n",
                            "gns.mt_route[1].route_id")  # fmt: skip
        secret = self.assert_refused(
            '[[gns.ismg]]\ncode = "001001"\nsecret = 123456\n', "gns.ismg[0].secret"
        )
        self.assertNotIn("123456", str(secret))

    def test_demo(self) -> None:
        """With nothing configured the GNS serves the demo ISMG and the demo table."""
        top = make_gns_sim("tcp:0:interface=127.0.0.1", "tcp:0:interface=127.0.0.1", [],
                           GnsConfig(), reactor)  # fmt: skip
        server: GnsServer = top.gns  # type: ignore[attr-defined]
        self.assertEqual(list(server.ismgs), ["001001"])
        mt, mo = demo_routes()
        self.assertEqual(server.table.routes("MT"), mt)
        self.assertEqual(server.table.routes("MO"), mo)
        self.assertEqual(server.table.find_mt("13800138000").route_id, 3)  # type: ignore[union-attr]
        self.assertEqual(sorted(s.name for s in top), ["control", "gns"])
        self.assertFalse(top.running)

    def test_command_line_accounts(self) -> None:
        """--account CODE:SECRET adds an ISMG (without pushes); a non-code id is refused."""
        config = GnsConfig(ismgs=(IsmgAccount(ISMG, SECRET),))
        top = make_gns_sim(None, None, [parse_account("002001:pw")], config, reactor)
        server: GnsServer = top.gns  # type: ignore[attr-defined]
        self.assertEqual(server.ismgs[OTHER], IsmgAccount(OTHER, b"pw"))
        self.assertIn(ISMG, server.ismgs)
        with self.assertRaises(ConfigError) as caught:
            ismg_account(parse_account("sp1:pw"))
        self.assertEqual(caught.exception.key, "--account")


class LoopbackTests(TestCase):
    """``make_gns_sim`` on real loopback sockets: a query, an update, a push."""

    timeout = 10

    async def test_query_update_push(self) -> None:
        """An ISMG queries over TCP, proposes an update; confirming pushes it to its listener."""
        receiver = PushReceiver(reactor, {GNS_CODE: SECRET}, RouteTable())
        push_port = reactor.listenTCP(0, receiver.factory(), interface="127.0.0.1")
        self.addCleanup(push_port.stopListening)
        raw = {
            "gateway_code": GNS_CODE,
            "ismg": [
                {
                    "code": ISMG,
                    "secret": SECRET.decode(),
                    "push_host": "127.0.0.1",
                    "push_port": push_port.getHost().port,
                }
            ],
            "mt_route": [
                {
                    "ismg_code": OTHER,
                    "gateway_ip": "10.0.2.1",
                    "gateway_port": 7890,
                    "start_id": "139",
                    "end_id": "139",
                }
            ],
        }
        config = parse_gns_config(raw, "test")
        loopback = "tcp:0:interface=127.0.0.1"
        top = make_gns_sim(loopback, loopback, [], config, reactor)
        top.startService()
        self.addCleanup(top.stopService)
        server: GnsServer = top.gns  # type: ignore[attr-defined]
        listener = top.getServiceNamed("gns")
        port = await listener._waitingForPort.addTimeout(5, reactor)  # type: ignore[attr-defined]
        gns_port = port.getHost().port
        client = GnsClient(
            lambda: TCP4ClientEndpoint(reactor, "127.0.0.1", gns_port, timeout=5),
            ISMG,
            SECRET,
            reactor,
        )
        resp = await client.mt_route("13900001234").addTimeout(5, reactor)
        self.assertEqual((resp.result, resp.destination_id), (0, OTHER.encode()))
        update = await client.propose_mt_update(
            UpdateType.ADD, destination_id=ISMG, gateway_ip="127.0.0.1", gateway_port=7890,
            start_id="150", end_id="151", area_code="010",
        ).addTimeout(5, reactor)  # fmt: skip
        self.assertEqual(update.result, 0)
        (pending,) = server.table.pending
        server.table.confirm(pending.id)
        gns, pdu = await receiver.queue.get().addTimeout(5, reactor)
        self.assertEqual((gns, pdu.start_id, pdu.route_id), (GNS_CODE, b"150", 1))
        await server.pushes_done().addTimeout(5, reactor)
        self.assertEqual(server.push_log()[0]["result"], 0)
        self.assertEqual(receiver.table.find_mt("15112345678").route_id, 1)  # type: ignore[union-attr]
        # Every short link is gone on both sides.
        for session in (*client.links, *receiver.sessions):
            await session.when_closed().addTimeout(5, reactor)
        self.assertEqual(server.stats()["sessions"], 0)
