"""The GNS route table (:mod:`smsgw.gns.routes`): lookups, paging, pending updates."""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import example, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.gns.routes import (
    MAX_ROUTE_ID,
    Change,
    MoRoute,
    MtRoute,
    RouteError,
    RouteTable,
    StaleUpdate,
    mo_route_from_pdu,
    mt_route_from_pdu,
    national_number,
    push_pdu,
)
from smsgw.gns.server import get_route_resp
from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.codec import CMPP20
from smsgw.protocols.cmpp.constants import RouteResult, UpdateType

IP = "10.0.0.1"


def mt(route_id: int, start: str, end: str, ismg: str = "001001", area: str = "010") -> MtRoute:
    """An MT route to *ismg* for the segment *start*–*end*."""
    return MtRoute(route_id, ismg, IP, 7890, start, end, area)


def mo(route_id: int, sp_code: str, service_id: str = "", start: int = 0, end: int = 0) -> MoRoute:
    """An MO route for *sp_code* (and a service)."""
    return MoRoute(route_id, "002001", IP, 7890, sp_code, service_id, start, end)


def mt_update(**changes: Any) -> p.MtRouteUpdate:
    """A valid 'add' MT_ROUTE_UPDATE, with *changes*."""
    pdu = p.MtRouteUpdate(
        update_type=UpdateType.ADD,
        route_id=0,
        destination_id=b"003001",
        gateway_ip=b"10.3.0.1",
        gateway_port=7890,
        start_id=b"137000",
        end_id=b"137999",
        area_code=b"020",
    )
    return attrs.evolve(pdu, **changes)


def mo_update(**changes: Any) -> p.MoRouteUpdate:
    """A valid 'add' MO_ROUTE_UPDATE, with *changes*."""
    pdu = p.MoRouteUpdate(
        update_type=UpdateType.ADD,
        destination_id=b"003001",
        gateway_ip=b"10.3.0.1",
        gateway_port=7900,
        sp_code=b"1065812345",
        service_id=b"TPCQ",
        start_code=1000,
        end_code=2000,
    )
    return attrs.evolve(pdu, **changes)


# -- strategies ----------------------------------------------------------------------------------


@st.composite
def segments(draw: st.DrawFn) -> tuple[str, str]:
    """An MT segment: two prefixes of 1–6 digits, equal length, ordered, no leading 0."""
    length = draw(st.integers(1, 6))
    low, high = 10 ** (length - 1), 10**length - 1
    a = draw(st.integers(low, high))
    # Mostly narrow ranges, so that nesting and overlaps are common.
    b = draw(st.one_of(st.integers(a, min(high, a + 20)), st.integers(a, high)))
    return str(a), str(b)


@st.composite
def mt_tables(draw: st.DrawFn) -> list[MtRoute]:
    """MT routes with distinct ids, often on the 13x prefixes."""
    ids = draw(st.lists(st.integers(0, 5000), unique=True, max_size=25))
    routes = []
    for route_id in ids:
        start, end = draw(
            st.one_of(
                segments(),
                st.sampled_from(
                    [("13", "13"), ("138", "139"), ("1380", "1389"), ("138001", "138001")]
                ),
            )
        )
        routes.append(mt(route_id, start, end))
    return routes


def numbers(routes: list[MtRoute]) -> st.SearchStrategy[str]:
    """Numbers near the routes' segments, sometimes with a country code or junk."""
    starts = [r.start_id for r in routes] or ["138"]
    national = st.one_of(
        st.from_regex(r"1[0-9]{10}", fullmatch=True),
        st.builds(
            lambda s, tail: (s + tail)[:11],
            st.sampled_from(starts),
            st.from_regex(r"[0-9]{11}", fullmatch=True),
        ),
        st.from_regex(r"[0-9]{0,8}", fullmatch=True),
    )
    return st.one_of(
        national,
        st.builds(lambda cc, n: cc + n, st.sampled_from(["+86", "86", "0086"]), national),
        st.text(max_size=12),
    )


@st.composite
def tables_and_numbers(draw: st.DrawFn) -> tuple[list[MtRoute], str]:
    """MT routes and a number to look up."""
    routes = draw(mt_tables())
    return routes, draw(numbers(routes))


def brute_force_mt(routes: list[MtRoute], number: str) -> MtRoute | None:
    """The most specific route, computed the slow and obvious way."""
    n = number.strip()
    for cc in ("+86", "0086"):
        if n.startswith(cc):
            n = n[len(cc) :]
            break
    else:
        if n.startswith("86") and len(n) > 11:
            n = n[2:]
    if not (n.isascii() and n.isdigit()):
        return None
    matches = [
        r
        for r in routes
        if len(n) >= len(r.start_id)
        and int(r.start_id) <= int(n[: len(r.start_id)]) <= int(r.end_id)
    ]
    if not matches:
        return None
    longest = max(len(r.start_id) for r in matches)
    matches = [r for r in matches if len(r.start_id) == longest]
    narrowest = min(int(r.end_id) - int(r.start_id) for r in matches)
    matches = [r for r in matches if int(r.end_id) - int(r.start_id) == narrowest]
    return min(matches, key=lambda r: r.route_id)


# -- tests -----------------------------------------------------------------------------------


class RouteValidationTests(SynchronousTestCase):
    """Routes refuse bad data, naming the field."""

    def assert_bad(self, field: str, make: Any, **changes: Any) -> None:
        with self.assertRaises(RouteError) as caught:
            make(**changes)
        self.assertEqual(caught.exception.field, field)

    def make_mt(self, **changes: Any) -> MtRoute:
        values: dict[str, Any] = {
            "route_id": 0,
            "ismg_code": "001001",
            "gateway_ip": IP,
            "gateway_port": 7890,
            "start_id": "139000",
            "end_id": "139499",
            "area_code": "010",
        }
        return MtRoute(**{**values, **changes})

    def make_mo(self, **changes: Any) -> MoRoute:
        values: dict[str, Any] = {
            "route_id": 0,
            "ismg_code": "001001",
            "gateway_ip": IP,
            "gateway_port": 7890,
            "sp_code": "1065901234",
        }
        return MoRoute(**{**values, **changes})

    def test_good(self) -> None:
        """A well-formed route is built and shown as JSON with its type."""
        self.assertEqual(self.make_mt().to_json()["type"], "MT")
        self.assertEqual(self.make_mo(service_id="TPCQ", start_code=1, end_code=2).end_code, 2)

    def test_bad_mt_fields(self) -> None:
        """Each bad MT field is refused by name."""
        cases = [
            ("route_id", {"route_id": -1}),
            ("route_id", {"route_id": MAX_ROUTE_ID + 1}),
            ("ismg_code", {"ismg_code": "1001"}),
            ("ismg_code", {"ismg_code": "00100x"}),
            ("gateway_ip", {"gateway_ip": "10.0.0"}),
            ("gateway_ip", {"gateway_ip": "10.0.0.256"}),
            ("gateway_ip", {"gateway_ip": "gns.example"}),
            ("gateway_ip", {"gateway_ip": " 10.0.0.1"}),
            ("gateway_port", {"gateway_port": 0}),
            ("gateway_port", {"gateway_port": 65536}),
            ("start_id", {"start_id": "13a000"}),
            ("start_id", {"start_id": ""}),
            ("start_id", {"start_id": "1390000", "end_id": "1390999"}),
            ("start_id", {"start_id": "039000"}),
            ("end_id", {"end_id": "13949"}),
            ("end_id", {"start_id": "139500", "end_id": "139499"}),
            ("area_code", {"area_code": "01a"}),
            ("area_code", {"area_code": "01000"}),
        ]
        for field, changes in cases:
            self.assert_bad(field, self.make_mt, **changes)

    def test_bad_mo_fields(self) -> None:
        """Each bad MO field is refused by name."""
        cases = [
            ("sp_code", {"sp_code": ""}),
            ("sp_code", {"sp_code": "10659x"}),
            ("sp_code", {"sp_code": "1" * 22}),
            ("service_id", {"service_id": "TOO LONG ID"}),
            ("service_id", {"service_id": "A B"}),
            ("start_code", {"start_code": 5}),
            ("end_code", {"service_id": "X", "start_code": 5, "end_code": 4}),
            ("end_code", {"service_id": "X", "end_code": 2**32}),
            ("gateway_port", {"gateway_port": True}),
        ]
        for field, changes in cases:
            self.assert_bad(field, self.make_mo, **changes)

    def test_pdu_not_ascii(self) -> None:
        """A PDU field that is not ASCII is refused by name."""
        with self.assertRaises(RouteError) as caught:
            mt_route_from_pdu(mt_update(area_code=b"\xb1\xb1"))
        self.assertEqual(caught.exception.field, "area_code")


class NumberTests(SynchronousTestCase):
    """Country codes are dropped before matching (seed 002 §8.4.3.1 allows 86/+86)."""

    def test_national_number(self) -> None:
        """+86, 0086 and 86 before 11 digits go; other text has no number."""
        cases = {
            "13800138000": "13800138000",
            "+8613800138000": "13800138000",
            "8613800138000": "13800138000",
            "008613800138000": "13800138000",
            " 13800138000 ": "13800138000",
            "8613": "8613",
            "+13800138000": None,
            "1380013800a": None,
            "": None,
            "١٣٨": None,
        }
        for number, expected in cases.items():
            self.assertEqual(national_number(number), expected, number)


class FindTests(SynchronousTestCase):
    """CMPP_MT_ROUTE and CMPP_MO_ROUTE lookups (seed 002 §8.6.3–4)."""

    def setUp(self) -> None:
        self.table = RouteTable(
            [
                mt(0, "139000", "139499", "001001"),
                mt(1, "139500", "139999", "002001"),
                mt(2, "138", "138", "003001"),
                mt(3, "138001", "138001", "001001"),
                mt(4, "13", "13", "009001"),
            ],
            [
                mo(0, "1065901234"),
                mo(1, "10659012", "TPCQ", 1000, 2000),
                mo(2, "10658"),
                mo(3, "106590123401"),
            ],
        )

    def test_mt_segments(self) -> None:
        """The segment holding the number's prefix is found, with or without +86."""
        self.assertEqual(self.table.find_mt("13900001234").route_id, 0)  # type: ignore[union-attr]
        self.assertEqual(self.table.find_mt("+8613999991234").route_id, 1)  # type: ignore[union-attr]

    def test_mt_most_specific(self) -> None:
        """A 6-digit segment beats the 3-digit one around it, which beats a 2-digit one."""
        self.assertEqual(self.table.find_mt("13800138000").route_id, 3)  # type: ignore[union-attr]
        self.assertEqual(self.table.find_mt("13812345678").route_id, 2)  # type: ignore[union-attr]
        self.assertEqual(self.table.find_mt("13512345678").route_id, 4)  # type: ignore[union-attr]

    def test_mt_none(self) -> None:
        """Numbers outside every segment, too short or not numbers have no route."""
        for number in ("15012345678", "1", "abc", ""):
            self.assertIsNone(self.table.find_mt(number), number)

    def test_mo(self) -> None:
        """A service route wins for its codes; otherwise the longest SP code prefix."""
        find = self.table.find_mo
        self.assertEqual(find("1065901234").route_id, 0)  # type: ignore[union-attr]
        self.assertEqual(find("106590123401").route_id, 3)  # type: ignore[union-attr]
        self.assertEqual(find("106590123499").route_id, 0)  # type: ignore[union-attr]
        self.assertEqual(find("1065901234", "TPCQ", 1500).route_id, 1)  # type: ignore[union-attr]
        self.assertEqual(find("1065901234", "TPCQ", 2001).route_id, 0)  # type: ignore[union-attr]
        self.assertEqual(find("10659012", "TPCQ", 1000).route_id, 1)  # type: ignore[union-attr]
        self.assertIsNone(find("10659012"))
        self.assertEqual(find("106581").route_id, 2)  # type: ignore[union-attr]
        self.assertIsNone(find("10657"))
        self.assertIsNone(find("1065x"))

    @given(tables_and_numbers())
    @example(([mt(0, "138", "139"), mt(1, "1380", "1389"), mt(2, "1", "1")], "8613800138000"))
    @example(([mt(0, "1380", "1389"), mt(1, "1381", "1381"), mt(2, "1381", "1381")], "13810"))
    def test_find_mt_is_brute_force(self, case: tuple[list[MtRoute], str]) -> None:
        """find_mt agrees with a brute-force search over the whole table."""
        routes, number = case
        table = RouteTable(routes)
        self.assertEqual(table.find_mt(number), brute_force_mt(routes, number))

    def test_cache_follows_changes(self) -> None:
        """Lookups see routes added and deleted after earlier lookups."""
        self.assertEqual(self.table.find_mt("15012345678"), None)
        added = self.table.add(mt(0, "150", "150"), assign_id=True)
        self.assertEqual(self.table.find_mt("15012345678"), added)
        self.table.delete("MT", added.route_id)
        self.assertIsNone(self.table.find_mt("15012345678"))


class PageTests(SynchronousTestCase):
    """CMPP_GET_ROUTE paging from Last_route_Id −1 (seed 002 §8.6.5)."""

    def test_empty(self) -> None:
        """An empty table has no first route."""
        self.assertEqual(RouteTable().page("MT", -1), (None, True))

    @given(
        st.lists(st.integers(0, MAX_ROUTE_ID), unique=True, max_size=40),
        st.lists(st.integers(0, 100), unique=True, max_size=10),
    )
    @example([0], [])
    @example([MAX_ROUTE_ID, 0], [5])
    def test_visits_every_route_once(self, mt_ids: list[int], mo_ids: list[int]) -> None:
        """GET_ROUTE from −1 visits every route of the type once, by id, ending with Result 2."""
        table = RouteTable([mt(i, "138", "138") for i in mt_ids], [mo(i, "10659") for i in mo_ids])
        for kind, ids in (("MT", mt_ids), ("MO", mo_ids)):
            seen: list[int] = []
            results: list[int] = []
            last = -1
            while len(results) <= len(ids):
                route, is_last = table.page(kind, last)  # type: ignore[arg-type]
                # Through the wire: Last_route_Id is signed, Route_Id unsigned.
                request = p.GetRoute(b"001001", kind.encode(), last)
                _, request = CMPP20.decode(CMPP20.encode(request, 1))
                self.assertEqual(request.last_route_id, last)
                _, resp = CMPP20.decode(CMPP20.encode(get_route_resp(route, is_last), 2))
                results.append(resp.result)
                if resp.result == RouteResult.NO_ROUTE:
                    break
                seen.append(resp.route_id)
                last = resp.route_id
                if resp.result == RouteResult.LAST:
                    break
            self.assertEqual(seen, sorted(ids))
            expected = [0] * (len(ids) - 1) + [RouteResult.LAST] if ids else [RouteResult.NO_ROUTE]
            self.assertEqual(results, expected)
            self.assertEqual(table.page(kind, last), (None, True))  # type: ignore[arg-type]


class ProposeTests(SynchronousTestCase):
    """CMPP_MT/MO_ROUTE_UPDATE: Result 1 for bad data, 0 and pending for good (§8.6.6–7)."""

    def setUp(self) -> None:
        self.now = 1000.0
        self.table = RouteTable([mt(0, "139000", "139499")], [mo(0, "1065901234")],
                                now=lambda: self.now)  # fmt: skip
        self.changes: list[Change] = []
        self.table.add_listener(self.changes.append)

    def assert_invalid(self, pdu: Any, field: str, kind: str = "MT") -> None:
        propose = self.table.propose_mt if kind == "MT" else self.table.propose_mo
        self.assertEqual(propose(pdu, source="001001"), (False, None))
        self.assertEqual(self.table.rejections[-1].field, field)
        self.assertEqual(self.table.pending, [])

    def test_bad_mt_updates(self) -> None:
        """Start above end, bad IP text, port 0, unknown ids, non-digit codes are invalid."""
        self.assert_invalid(mt_update(start_id=b"137999", end_id=b"137000"), "end_id")
        self.assert_invalid(mt_update(gateway_ip=b"10.0.0.300"), "gateway_ip")
        self.assert_invalid(mt_update(gateway_ip=b"localhost"), "gateway_ip")
        self.assert_invalid(mt_update(gateway_port=0), "gateway_port")
        self.assert_invalid(mt_update(destination_id=b"00A001"), "ismg_code")
        self.assert_invalid(mt_update(start_id=b"13700x"), "start_id")
        self.assert_invalid(mt_update(area_code=b"AB"), "area_code")
        self.assert_invalid(mt_update(update_type=3), "update_type")
        self.assert_invalid(mt_update(route_id=7), "route_id")
        self.assert_invalid(mt_update(update_type=UpdateType.DELETE, route_id=9), "route_id")
        self.assert_invalid(mt_update(update_type=UpdateType.UPDATE, route_id=9), "route_id")
        self.assertEqual(len(self.table.rejections), 11)
        self.assertEqual(self.table.rejections[0].source, "001001")
        self.assertEqual(self.changes, [])

    def test_bad_mo_updates(self) -> None:
        """MO updates are checked the same way."""
        self.assert_invalid(mo_update(sp_code=b"1065A"), "sp_code", "MO")
        self.assert_invalid(mo_update(start_code=3000), "end_code", "MO")
        self.assert_invalid(mo_update(service_id=b"", start_code=1), "start_code", "MO")
        self.assert_invalid(mo_update(update_type=UpdateType.DELETE, route_id=4), "route_id", "MO")

    def test_add_confirmed(self) -> None:
        """A valid add waits; confirming gives it the next Route_Id and tells the listeners."""
        ok, pending_id = self.table.propose_mt(mt_update(), source="002001")
        self.assertTrue(ok)
        assert pending_id is not None
        (pending,) = self.table.pending
        self.assertEqual(
            (pending.id, pending.source, pending.received_s), (pending_id, "002001", 1000.0)
        )
        self.assertIsNone(self.table.find_mt("13700001234"))
        change = self.table.confirm(pending_id)
        self.assertEqual(change.update_type, UpdateType.ADD)
        self.assertEqual(change.route.route_id, 1)
        self.assertEqual(self.changes, [change])
        self.assertEqual(self.table.find_mt("13700001234"), change.route)
        self.assertEqual(self.table.pending, [])

    def test_update_and_delete_confirmed(self) -> None:
        """Confirmed update and delete change the table; each change reaches the listener."""
        _, up = self.table.propose_mt(mt_update(update_type=UpdateType.UPDATE, route_id=0))
        _, down = self.table.propose_mo(mo_update(update_type=UpdateType.DELETE, route_id=0))
        assert up is not None and down is not None
        self.table.confirm(up)
        self.assertEqual(self.table.get("MT", 0).ismg_code, "003001")  # type: ignore[union-attr]
        self.table.confirm(down)
        self.assertIsNone(self.table.get("MO", 0))
        kinds = [(c.route_type, c.update_type) for c in self.changes]
        self.assertEqual(kinds, [("MT", UpdateType.UPDATE), ("MO", UpdateType.DELETE)])
        self.assertEqual(self.changes[1].route, mo(0, "1065901234"))

    def test_reject(self) -> None:
        """A rejected update is dropped and changes nothing; unknown ids are KeyErrors."""
        _, pending_id = self.table.propose_mt(mt_update())
        assert pending_id is not None
        self.assertEqual(self.table.reject(pending_id).id, pending_id)
        self.assertEqual(self.changes, [])
        self.assertRaises(KeyError, self.table.reject, pending_id)
        self.assertRaises(KeyError, self.table.confirm, pending_id)

    def test_stale(self) -> None:
        """Confirming an update of a route deleted meanwhile is a StaleUpdate, and drops it."""
        _, pending_id = self.table.propose_mt(mt_update(update_type=UpdateType.UPDATE, route_id=0))
        assert pending_id is not None
        self.table.delete("MT", 0)
        self.assertRaises(StaleUpdate, self.table.confirm, pending_id)
        self.assertEqual(self.table.pending, [])

    @given(
        update_type=st.integers(0, 255),
        route_id=st.sampled_from([0, 1, 2**32 - 1]),
        destination_id=st.binary(max_size=6),
        gateway_ip=st.one_of(st.binary(max_size=15), st.just(b"10.0.0.1")),
        gateway_port=st.integers(0, 65535),
        start_id=st.one_of(st.binary(max_size=6), st.from_regex(rb"[0-9]{1,6}", fullmatch=True)),
        end_id=st.one_of(st.binary(max_size=6), st.from_regex(rb"[0-9]{1,6}", fullmatch=True)),
        area_code=st.binary(max_size=4),
    )
    def test_any_update_is_answered(self, **fields: Any) -> None:
        """Any MT update is valid or invalid, never an exception; a valid one confirms."""
        ok, pending_id = self.table.propose_mt(p.MtRouteUpdate(**fields))
        if not ok:
            self.assertIsNone(pending_id)
            return
        assert pending_id is not None
        change = self.table.confirm(pending_id)
        self.assertEqual(int(change.update_type), fields["update_type"])


class PushPduTests(SynchronousTestCase):
    """Changes become CMPP_PUSH_*_ROUTE_UPDATE PDUs an ISMG can apply (§8.6.8–9)."""

    def test_round_trip(self) -> None:
        """A pushed route encodes, decodes and is the same route on the ISMG side."""
        for change in (
            Change(UpdateType.ADD, mt(7, "139000", "139499")),
            Change(UpdateType.DELETE, mo(3, "10659", "TPCQ", 1, 9)),
        ):
            pdu = push_pdu(change)
            _, decoded = CMPP20.decode(CMPP20.encode(pdu, 1))
            self.assertEqual(decoded.update_type, int(change.update_type))
            parse = mt_route_from_pdu if change.route_type == "MT" else mo_route_from_pdu
            self.assertEqual(parse(decoded), change.route)

    def test_apply(self) -> None:
        """A mirror table applies pushed changes; a delete of an unknown id fails."""
        mirror = RouteTable()
        route = mt(5, "138", "138")
        mirror.apply(Change(UpdateType.ADD, route, "push"))
        mirror.apply(Change(UpdateType.UPDATE, attrs.evolve(route, area_code="021"), "push"))
        self.assertEqual(mirror.get("MT", 5).area_code, "021")  # type: ignore[union-attr]
        mirror.apply(Change(UpdateType.DELETE, route, "push"))
        self.assertEqual(len(mirror), 0)
        self.assertRaises(RouteError, mirror.apply, Change(UpdateType.DELETE, route, "push"))
        self.assertEqual(mirror.next_id("MT"), 6)

    def test_initial_duplicate_ids(self) -> None:
        """Two initial routes of one type with the same id are refused."""
        self.assertRaises(ValueError, RouteTable, [mt(1, "138", "138"), mt(1, "139", "139")])
