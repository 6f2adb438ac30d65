"""The GNS control API (:mod:`smsgw.gns.control`) through ``treq.testing.StubTreq``."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, fail
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.interfaces import IProtocolFactory, IStreamClientEndpoint
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from smsgw.gns.control import control_resource
from smsgw.gns.routes import MoRoute, MtRoute, RouteTable
from smsgw.gns.server import GnsServer, IsmgAccount
from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.constants import UpdateType
from tests.clock import BoundedClock
from tests.web import StubJsonClient, StubResponse

NOW = 1709618828.0

MT_BODY = {
    "type": "MT",
    "ismg_code": "003001",
    "gateway_ip": "10.0.3.1",
    "gateway_port": 7890,
    "start_id": "137000",
    "end_id": "137999",
    "area_code": "020",
}


@implementer(IStreamClientEndpoint)
class _Unreachable:
    """Every push connection is refused at once, so push outcomes are synchronous."""

    def connect(self, factory: IProtocolFactory) -> Deferred[Any]:
        return fail(ConnectionRefusedError("test"))


class _ControlTestCase(SynchronousTestCase):
    """A GNS with two MT and one MO route, one ISMG to push to, and a JSON client."""

    def setUp(self) -> None:
        self.clock = BoundedClock()
        self.clock.advance(NOW)
        self.table = RouteTable(
            [
                MtRoute(0, "001001", "10.0.1.1", 7890, "139000", "139499", "010"),
                MtRoute(1, "002001", "10.0.2.1", 7890, "138", "138", "021"),
            ],
            [MoRoute(0, "001001", "10.0.1.1", 7890, "1065901234")],
            now=self.clock.seconds,
        )
        self.gns = GnsServer(
            self.clock,
            self.table,
            [IsmgAccount("001001", b"secret", "ismg.invalid"), IsmgAccount("002001", b"x")],
            endpoint_for=lambda ismg: _Unreachable(),
        )
        self.client = StubJsonClient(self, control_resource(self.gns))

    def assert_error(
        self, response: StubResponse, status: int, code: str, field: str | None
    ) -> None:
        """*response* is the JSON error *code* with *status* naming *field*."""
        self.assertEqual(response.status, status, response.body)
        body = response.json()
        self.assertEqual((body["error"], body["field"]), (code, field), body)
        self.assertIsInstance(body["message"], str)

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = self.client.request(method, path, **kwargs)
        self.assertEqual(response.status, status, response.body)
        return response.json()


class RouteListTests(_ControlTestCase):
    """``GET /v1/routes``."""

    def test_all(self) -> None:
        """Without ?type every route, MT first, each with its type."""
        routes = self.ok("GET", "/v1/routes")["routes"]
        self.assertEqual([(r["type"], r["route_id"]) for r in routes],
                         [("MT", 0), ("MT", 1), ("MO", 0)])  # fmt: skip
        self.assertEqual(routes[0]["start_id"], "139000")
        self.assertEqual(routes[2]["sp_code"], "1065901234")

    def test_by_type(self) -> None:
        """?type=MO, and /v1/routes/mo, list one type."""
        self.assertEqual(len(self.ok("GET", "/v1/routes?type=MO")["routes"]), 1)
        self.assertEqual(len(self.ok("GET", "/v1/routes/mt")["routes"]), 2)

    def test_bad_type(self) -> None:
        """An unknown type is a 400 (query) or 404 (path) naming 'type'."""
        self.assert_error(
            self.client.request("GET", "/v1/routes?type=XX"), 400, "bad_field", "type"
        )
        self.assert_error(self.client.request("GET", "/v1/routes/XX/0"), 404, "not_found", "type")

    def test_one(self) -> None:
        """One route by type and id; unknown or non-numeric ids are 404s naming route_id."""
        self.assertEqual(self.ok("GET", "/v1/routes/MT/1")["area_code"], "021")
        self.assert_error(
            self.client.request("GET", "/v1/routes/MT/7"), 404, "not_found", "route_id"
        )
        self.assert_error(
            self.client.request("GET", "/v1/routes/MT/x"), 404, "not_found", "route_id"
        )

    def test_method(self) -> None:
        """DELETE on the collection is a 405."""
        self.assertEqual(self.client.request("DELETE", "/v1/routes").status, 405)


class RouteEditTests(_ControlTestCase):
    """``POST``, ``PUT`` and ``DELETE`` on routes; every change is pushed."""

    def test_add(self) -> None:
        """POST adds the route with the next Route_Id (201) and pushes it."""
        route = self.ok("POST", "/v1/routes", 201, json=MT_BODY)
        self.assertEqual((route["type"], route["route_id"], route["end_id"]), ("MT", 2, "137999"))
        self.assertEqual(self.table.find_mt("13700001234").route_id, 2)  # type: ignore[union-attr]
        (push,) = self.ok("GET", "/v1/pushes")["pushes"]
        self.assertEqual(
            (push["ismg"], push["update_type"], push["route_id"]), ("001001", "add", 2)
        )
        self.assertIn("ConnectionRefusedError", push["error"])

    def test_add_mo_defaults(self) -> None:
        """An MO route needs only the SP code besides the gateway."""
        body = {"type": "mo", "ismg_code": "002001", "gateway_ip": "10.0.2.1",
                "gateway_port": 7900, "sp_code": "10658"}  # fmt: skip
        route = self.ok("POST", "/v1/routes", 201, json=body)
        self.assertEqual((route["route_id"], route["service_id"], route["end_code"]), (1, "", 0))

    def test_add_errors(self) -> None:
        """Bad bodies are 400s naming the field; nothing is added."""
        cases = [
            ({k: v for k, v in MT_BODY.items() if k != "type"}, "bad_field", "type"),
            ({**MT_BODY, "type": "XY"}, "bad_field", "type"),
            ({**MT_BODY, "route_id": 5}, "unknown_field", "route_id"),
            ({**MT_BODY, "end_id": "136999"}, "bad_field", "end_id"),
            ({**MT_BODY, "start_id": "1370000", "end_id": "1379999"}, "bad_field", "start_id"),
            ({**MT_BODY, "gateway_ip": "10.0.3"}, "bad_field", "gateway_ip"),
            ({**MT_BODY, "gateway_port": "7890"}, "bad_field", "gateway_port"),
            ({**MT_BODY, "gateway_port": 0}, "bad_field", "gateway_port"),
            ({k: v for k, v in MT_BODY.items() if k != "ismg_code"}, "bad_field", "ismg_code"),
        ]
        for body, code, field in cases:
            self.assert_error(
                self.client.request("POST", "/v1/routes", json=body), 400, code, field
            )
        self.assert_error(
            self.client.request(
                "POST", "/v1/routes", data=b"{", headers={"Content-Type": "application/json"}
            ),
            400,
            "bad_json",
            None,
        )
        self.assertEqual(len(self.table.routes("MT")), 2)
        self.assertEqual(self.ok("GET", "/v1/pushes")["pushes"], [])

    def test_put_merges(self) -> None:
        """PUT changes the given fields only, keeps the id, and pushes an update."""
        route = self.ok("PUT", "/v1/routes/MT/0", json={"gateway_port": 7900, "route_id": 0})
        self.assertEqual((route["gateway_port"], route["start_id"]), (7900, "139000"))
        self.assertEqual(self.table.get("MT", 0).gateway_port, 7900)  # type: ignore[union-attr]
        self.assertEqual(self.ok("GET", "/v1/pushes")["pushes"][0]["update_type"], "update")

    def test_put_errors(self) -> None:
        """PUT refuses another id or type, bad values and unknown routes."""
        put = self.client.request
        self.assert_error(
            put("PUT", "/v1/routes/MT/0", json={"route_id": 1}), 400, "bad_field", "route_id"
        )
        self.assert_error(
            put("PUT", "/v1/routes/MT/0", json={"type": "MO"}), 400, "bad_field", "type"
        )
        self.assert_error(
            put("PUT", "/v1/routes/MT/0", json={"end_id": "1"}), 400, "bad_field", "end_id"
        )
        self.assert_error(
            put("PUT", "/v1/routes/MT/0", json={"sp_code": "1"}), 400, "unknown_field", "sp_code"
        )
        self.assert_error(put("PUT", "/v1/routes/MO/5", json={}), 404, "not_found", "route_id")
        self.assertEqual(self.table.get("MT", 0).end_id, "139499")  # type: ignore[union-attr]

    def test_delete(self) -> None:
        """DELETE answers the deleted route; a second DELETE is a 404."""
        self.assertEqual(self.ok("DELETE", "/v1/routes/MO/0")["sp_code"], "1065901234")
        self.assertIsNone(self.table.get("MO", 0))
        self.assert_error(
            self.client.request("DELETE", "/v1/routes/MO/0"), 404, "not_found", "route_id"
        )
        self.assertEqual(self.gns.stats()["ismgs"]["001001"]["pushes_failed"], 1)


class UpdateTests(_ControlTestCase):
    """``/v1/updates``: updates proposed by ISMGs, confirmed or rejected here."""

    def propose(self, **changes: Any) -> int:
        pdu = p.MtRouteUpdate(
            update_type=changes.get("update_type", UpdateType.ADD),
            route_id=changes.get("route_id", 0),
            destination_id=b"003001",
            gateway_ip=changes.get("gateway_ip", b"10.0.3.1"),
            gateway_port=7890,
            start_id=b"137",
            end_id=b"137",
        )
        ok, pending_id = self.table.propose_mt(pdu, source="002001")
        return pending_id if ok else -1  # type: ignore[return-value]

    def test_list(self) -> None:
        """Pending updates and rejected ones are listed."""
        pending_id = self.propose()
        self.assertEqual(self.propose(gateway_ip=b"bad"), -1)
        body = self.ok("GET", "/v1/updates")
        (update,) = body["updates"]
        self.assertEqual((update["id"], update["type"], update["update_type"], update["source"]),
                         (pending_id, "MT", "add", "002001"))  # fmt: skip
        self.assertEqual(update["route"]["start_id"], "137")
        (rejected,) = body["rejected"]
        self.assertEqual((rejected["field"], rejected["source"]), ("gateway_ip", "002001"))
        self.assertEqual(self.ok("GET", f"/v1/updates/{pending_id}")["id"], pending_id)

    def test_confirm(self) -> None:
        """Confirming applies the update (with a new Route_Id) and pushes it."""
        pending_id = self.propose()
        body = self.ok("POST", f"/v1/updates/{pending_id}/confirm")
        self.assertEqual(body["change"]["route"]["route_id"], 2)
        self.assertEqual(body["update"]["id"], pending_id)
        self.assertEqual(self.table.find_mt("13712345678").route_id, 2)  # type: ignore[union-attr]
        self.assertEqual(len(self.ok("GET", "/v1/pushes?ismg=001001")["pushes"]), 1)
        self.assert_error(
            self.client.request("POST", f"/v1/updates/{pending_id}/confirm"), 404, "not_found", "id"
        )

    def test_reject(self) -> None:
        """Rejecting drops the update; the table stays as it was."""
        pending_id = self.propose()
        self.assertEqual(
            self.ok("POST", f"/v1/updates/{pending_id}/reject")["update"]["id"], pending_id
        )
        self.assertEqual(self.table.pending, [])
        self.assertIsNone(self.table.find_mt("13712345678"))

    def test_stale(self) -> None:
        """An update of a route deleted meanwhile is a 409 naming route_id."""
        pending_id = self.propose(update_type=UpdateType.UPDATE, route_id=1)
        self.table.delete("MT", 1)
        response = self.client.request("POST", f"/v1/updates/{pending_id}/confirm")
        self.assert_error(response, 409, "stale_update", "route_id")

    def test_bad_paths(self) -> None:
        """Unknown ids and actions are 404s."""
        self.assert_error(self.client.request("GET", "/v1/updates/x"), 404, "not_found", "id")
        self.assert_error(self.client.request("GET", "/v1/updates/9"), 404, "not_found", "id")
        self.assert_error(
            self.client.request("POST", "/v1/updates/1/apply"), 404, "not_found", None
        )
        self.assertEqual(self.client.request("GET", "/v1/updates/1/confirm").status, 405)


class InspectionTests(_ControlTestCase):
    """``/v1/pushes``, ``/v1/stats`` and ``/healthz``."""

    def test_pushes_filter_and_limit(self) -> None:
        """Push outcomes can be filtered by ISMG and limited; a bad limit is a 400."""
        self.table.delete("MT", 0)
        self.table.delete("MT", 1)
        self.assertEqual(
            [r["route_id"] for r in self.ok("GET", "/v1/pushes?limit=1")["pushes"]], [1]
        )
        self.assertEqual(self.ok("GET", "/v1/pushes?ismg=002001")["pushes"], [])
        self.assert_error(
            self.client.request("GET", "/v1/pushes?limit=0"), 400, "bad_field", "limit"
        )

    def test_stats(self) -> None:
        """Stats count routes, pending updates and per-ISMG counters."""
        stats = self.ok("GET", "/v1/stats")
        self.assertEqual(stats["routes"], {"mt": 2, "mo": 1})
        self.assertEqual((stats["sessions"], stats["pending_updates"]), (0, 0))
        self.assertEqual(stats["ismgs"]["001001"]["push_endpoint"], "ismg.invalid:9168")
        self.assertIsNone(stats["ismgs"]["002001"]["push_endpoint"])
        self.assertEqual(stats["ismgs"]["002001"]["mt_route"], 0)

    def test_health(self) -> None:
        """/healthz answers ok."""
        self.assertEqual(self.ok("GET", "/healthz"), {"ok": True})
