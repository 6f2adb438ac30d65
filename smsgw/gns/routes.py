"""The GNS route table (seed 002 §8.6; cmpp20-notes.md §8): pure data, no Twisted.

MT routes: number segments
    ``Start_Id``/``End_Id`` are 6-byte octet strings on the wire (MT_ROUTE_RESP,
    MT_ROUTE_UPDATE, PUSH_MT_ROUTE_UPDATE) and 4-byte integers in
    GET_ROUTE_RESP.  Here a segment is an **inclusive range of equal-length
    digit prefixes of the national number** (the MSISDN with ``+86``,
    ``0086`` or ``86`` removed): ``start_id="139000", end_id="139499"``
    covers every number whose first six digits are 139000…139499, and
    ``"138"``–``"138"`` every 138 number.  Prefixes have 1–6 digits (the wire
    width; a 7-digit HLR segment such as ``1390000`` does not fit and is
    refused) and do not start with ``0`` (GET_ROUTE_RESP carries them as
    integers, which would lose a leading zero; mobile numbers start with 1).
    The most specific route wins: the longest prefix, then the narrowest
    range, then the lowest Route_Id.

MO routes: SP service codes
    A route's ``sp_code`` matches a queried SP_Code that starts with it (the
    queried code may carry an extension).  A route with a ``service_id``
    covers only that Service_Id and Service_Code ``start_code…end_code``
    (inclusive); a route without one covers the SP's every service (and its
    codes are 0: "如果未置 Service_Id 字段, 此字段为空").  The most specific
    route wins: one for the service before a plain SP route, then the
    longest ``sp_code``, then the narrowest code range, then the lowest id.

Route ids are assigned by the GNS from 0 ("从 0 开始, 由 GNS 统一分配"),
one sequence per route type, never reused; GET_ROUTE's ``Last_route_Id`` is a
signed 32-bit integer, so ids stay below 2³¹.

Changes proposed by ISMGs (CMPP_MT_ROUTE_UPDATE, CMPP_MO_ROUTE_UPDATE) wait
as :class:`PendingUpdate` until :meth:`RouteTable.confirm` applies them
("数据合法, 等待核实"); every applied change, confirmed or made directly,
reaches the table's listeners (the server pushes it to the ISMGs).
"""

from __future__ import annotations

import bisect
import ipaddress
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Literal

import attrs

from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.constants import UpdateType

__all__ = [
    "MAX_ROUTE_ID",
    "ROUTE_TYPES",
    "Change",
    "MoRoute",
    "MtRoute",
    "PendingUpdate",
    "Rejection",
    "Route",
    "RouteError",
    "RouteTable",
    "RouteType",
    "StaleUpdate",
    "mo_route_from_pdu",
    "mt_route_from_pdu",
    "national_number",
    "push_pdu",
]

RouteType = Literal["MT", "MO"]
ROUTE_TYPES: tuple[RouteType, RouteType] = ("MT", "MO")

MAX_ROUTE_ID = 2**31 - 1
"""Largest Route_Id: GET_ROUTE's Last_route_Id is a signed 4-byte integer."""

MAX_SEGMENT_DIGITS = 6
"""Start_Id/End_Id are 6-byte octet strings (seed 002 table 8.21)."""

_U4_MAX = 2**32 - 1
_DIGITS = re.compile(r"[0-9]+")
_DOTTED_QUAD = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
#: Service_Id: "数字、字母和符号的组合" — printable ASCII without blanks.
_SERVICE_ID = re.compile(r"[!-~]{1,10}")


class RouteError(ValueError):
    """A route or route update is invalid.

    :ivar field: the offending attribute (``gateway_ip``, ``start_id`` …).
    :ivar reason: what is wrong with it.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class StaleUpdate(RouteError):
    """A pending update refers to a route that is gone (deleted since it was proposed)."""


def national_number(number: str) -> str | None:
    """*number* without its country code (``+86``, ``0086``, ``86`` before 11 digits).

    ``None`` when what is left is not all ASCII digits.
    """
    n = number.strip()
    if n.startswith("+86"):
        n = n[3:]
    elif n.startswith("0086"):
        n = n[4:]
    elif n.startswith("86") and len(n) > 11:
        n = n[2:]
    return n if n.isascii() and _DIGITS.fullmatch(n) else None


# -- field checks ----------------------------------------------------------------------------


def _check_int(field: str, value: object, minimum: int, maximum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise RouteError(field, f"expected an integer from {minimum} to {maximum}")


def _check_digits(field: str, value: object, minimum: int, maximum: int) -> None:
    if not isinstance(value, str):
        raise RouteError(field, "expected a string of digits")
    if value == "" and minimum == 0:
        return
    if not (value.isascii() and _DIGITS.fullmatch(value) and minimum <= len(value) <= maximum):
        width = f"{minimum}" if minimum == maximum else f"{minimum} to {maximum}"
        raise RouteError(field, f"expected {width} digits")


def _check_common(route: MtRoute | MoRoute) -> None:
    _check_int("route_id", route.route_id, 0, MAX_ROUTE_ID)
    _check_digits("ismg_code", route.ismg_code, 6, 6)
    ip = route.gateway_ip
    if not (isinstance(ip, str) and ip.isascii() and _DOTTED_QUAD.fullmatch(ip)):
        raise RouteError("gateway_ip", "expected a dotted IPv4 address")
    try:
        ipaddress.IPv4Address(ip)
    except ValueError:
        raise RouteError("gateway_ip", "expected a dotted IPv4 address") from None
    _check_int("gateway_port", route.gateway_port, 1, 65535)


# -- routes ------------------------------------------------------------------------------------


@attrs.frozen
class MtRoute:
    """An MT route: numbers in a segment are homed at an ISMG (seed 002 table 8.21).

    Validated on construction (:class:`RouteError` names the field).

    :ivar route_id: assigned by the GNS, 0…2³¹−1.
    :ivar ismg_code: the target ISMG's 6-digit code (Destination_Id).
    :ivar gateway_ip: its dotted IPv4 address.
    :ivar gateway_port: its CMPP port (7890 or 7900 in the seed).
    :ivar start_id: first prefix of the segment (module docstring).
    :ivar end_id: last prefix, the same length as *start_id*.
    :ivar area_code: the province, as its capital's area code (``"010"``); may be empty.
    """

    route_type: ClassVar[RouteType] = "MT"

    route_id: int
    ismg_code: str
    gateway_ip: str
    gateway_port: int
    start_id: str
    end_id: str
    area_code: str = ""

    def __attrs_post_init__(self) -> None:
        _check_common(self)
        for field in ("start_id", "end_id"):
            value = getattr(self, field)
            _check_digits(field, value, 1, MAX_SEGMENT_DIGITS)
            if value.startswith("0"):
                raise RouteError(field, "a number segment does not start with 0")
        if len(self.start_id) != len(self.end_id):
            raise RouteError("end_id", "must have as many digits as start_id")
        if self.start_id > self.end_id:
            raise RouteError("end_id", "must not be below start_id")
        _check_digits("area_code", self.area_code, 0, 4)

    @property
    def prefix_length(self) -> int:
        """How many leading digits of a number the segment looks at."""
        return len(self.start_id)

    def covers(self, national: str) -> bool:
        """Whether the national number *national* (digits) is in the segment."""
        head = national[: len(self.start_id)]
        return len(head) == len(self.start_id) and self.start_id <= head <= self.end_id

    def to_json(self) -> dict[str, Any]:
        """The route as the control API shows it."""
        return {"type": "MT", **attrs.asdict(self)}


@attrs.frozen
class MoRoute:
    """An MO route: an SP (service code) is attached to an ISMG (seed 002 table 8.23).

    Validated on construction (:class:`RouteError` names the field).

    :ivar sp_code: the SP service code (digits, up to 21), matched as a prefix.
    :ivar service_id: a nationwide Service_Id this route is for; ``""`` for all.
    :ivar start_code: first Service_Code covered (0 without *service_id*).
    :ivar end_code: last Service_Code covered (0 without *service_id*).
    """

    route_type: ClassVar[RouteType] = "MO"

    route_id: int
    ismg_code: str
    gateway_ip: str
    gateway_port: int
    sp_code: str
    service_id: str = ""
    start_code: int = 0
    end_code: int = 0

    def __attrs_post_init__(self) -> None:
        _check_common(self)
        _check_digits("sp_code", self.sp_code, 1, 21)
        if not isinstance(self.service_id, str) or (
            self.service_id and not _SERVICE_ID.fullmatch(self.service_id)
        ):
            raise RouteError("service_id", "expected up to 10 printable ASCII characters")
        _check_int("start_code", self.start_code, 0, _U4_MAX)
        _check_int("end_code", self.end_code, 0, _U4_MAX)
        if not self.service_id and (self.start_code or self.end_code):
            raise RouteError("start_code", "must be 0 when service_id is empty")
        if self.start_code > self.end_code:
            raise RouteError("end_code", "must not be below start_code")

    def covers(self, sp_code: str, service_id: str, service_code: int) -> bool:
        """Whether a CMPP_MO_ROUTE for these values matches the route."""
        if not sp_code.startswith(self.sp_code):
            return False
        if not self.service_id:
            return True
        return service_id == self.service_id and self.start_code <= service_code <= self.end_code

    def to_json(self) -> dict[str, Any]:
        """The route as the control API shows it."""
        return {"type": "MO", **attrs.asdict(self)}


Route = MtRoute | MoRoute


def _mt_key(route: MtRoute) -> tuple[int, int, int]:
    return (-len(route.start_id), int(route.end_id) - int(route.start_id), route.route_id)


def _mo_key(route: MoRoute) -> tuple[bool, int, int, int]:
    return (
        not route.service_id,
        -len(route.sp_code),
        route.end_code - route.start_code,
        route.route_id,
    )


# -- PDUs <-> routes ---------------------------------------------------------------------------


def _text(field: str, value: bytes) -> str:
    try:
        return value.decode("ascii")
    except UnicodeDecodeError:
        raise RouteError(field, "not ASCII") from None


def mt_route_from_pdu(pdu: p.MtRouteUpdate, route_id: int | None = None) -> MtRoute:
    """The route an MT_ROUTE_UPDATE (or its push) describes.

    :param route_id: overrides the PDU's Route_Id (0 while adding).
    :raises RouteError: naming the bad field.
    """
    return MtRoute(
        route_id=pdu.route_id if route_id is None else route_id,
        ismg_code=_text("ismg_code", pdu.destination_id),
        gateway_ip=_text("gateway_ip", pdu.gateway_ip),
        gateway_port=pdu.gateway_port,
        start_id=_text("start_id", pdu.start_id),
        end_id=_text("end_id", pdu.end_id),
        area_code=_text("area_code", pdu.area_code),
    )


def mo_route_from_pdu(pdu: p.MoRouteUpdate, route_id: int | None = None) -> MoRoute:
    """The route an MO_ROUTE_UPDATE (or its push) describes.

    :raises RouteError: naming the bad field.
    """
    return MoRoute(
        route_id=pdu.route_id if route_id is None else route_id,
        ismg_code=_text("ismg_code", pdu.destination_id),
        gateway_ip=_text("gateway_ip", pdu.gateway_ip),
        gateway_port=pdu.gateway_port,
        sp_code=_text("sp_code", pdu.sp_code),
        service_id=_text("service_id", pdu.service_id),
        start_code=pdu.start_code,
        end_code=pdu.end_code,
    )


def push_pdu(change: Change) -> p.PushMtRouteUpdate | p.PushMoRouteUpdate:
    """The CMPP_PUSH_MT/MO_ROUTE_UPDATE telling an ISMG about *change* (seed 002 §8.6.8–9)."""
    route = change.route
    common: dict[str, Any] = {
        "update_type": int(change.update_type),
        "route_id": route.route_id,
        "destination_id": route.ismg_code.encode("ascii"),
        "gateway_ip": route.gateway_ip.encode("ascii"),
        "gateway_port": route.gateway_port,
    }
    if isinstance(route, MtRoute):
        return p.PushMtRouteUpdate(
            **common,
            start_id=route.start_id.encode("ascii"),
            end_id=route.end_id.encode("ascii"),
            area_code=route.area_code.encode("ascii"),
        )
    return p.PushMoRouteUpdate(
        **common,
        sp_code=route.sp_code.encode("ascii"),
        service_id=route.service_id.encode("ascii"),
        start_code=route.start_code,
        end_code=route.end_code,
    )


# -- changes and pending updates ---------------------------------------------------------------


@attrs.frozen
class Change:
    """One applied change of the table.

    :ivar update_type: add, delete or update (Update_type of seed 002 §8.6.6).
    :ivar route: the route added, the new version of an updated one, or the
        route deleted.
    :ivar source: ``"control"``, a proposing ISMG's code, or
        ``"push"`` for a change received from a GNS.
    """

    update_type: UpdateType
    route: Route
    source: str = "control"

    @property
    def route_type(self) -> RouteType:
        return self.route.route_type

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.route_type,
            "update_type": self.update_type.name.lower(),
            "route": self.route.to_json(),
            "source": self.source,
        }


@attrs.frozen
class PendingUpdate:
    """A valid update from an ISMG, waiting for confirmation.

    :ivar id: its number in the table's pending list (from 1).
    :ivar route: the route to add (Route_Id assigned on confirmation), the new
        version of the route to update, or the route to delete as it was
        when proposed.
    :ivar source: the proposing ISMG's code.
    :ivar received_s: when it came, in the table's clock's seconds.
    """

    id: int
    update_type: UpdateType
    route: Route
    source: str
    received_s: float

    @property
    def route_type(self) -> RouteType:
        return self.route.route_type

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.route_type,
            "update_type": self.update_type.name.lower(),
            "route": self.route.to_json(),
            "source": self.source,
            "received_s": self.received_s,
        }


@attrs.frozen
class Rejection:
    """An update answered "invalid" (Result 1), kept for the control API."""

    route_type: RouteType
    update_type: int
    route_id: int
    source: str
    field: str
    reason: str
    received_s: float

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


Listener = Callable[[Change], object]


class RouteTable:
    """MT and MO routes, lookups, paging, pending updates and change listeners.

    :param mt_routes: initial MT routes (no listener hears about them).
    :param mo_routes: initial MO routes.
    :param now: the clock for :attr:`PendingUpdate.received_s` (e.g. ``reactor.seconds``).
    :param rejections_kept: how many :class:`Rejection` records to keep.
    :raises ValueError: for two initial routes with the same type and id.
    """

    def __init__(
        self,
        mt_routes: Iterable[MtRoute] = (),
        mo_routes: Iterable[MoRoute] = (),
        *,
        now: Callable[[], float] = time.time,
        rejections_kept: int = 100,
    ) -> None:
        self._now = now
        self._routes: dict[RouteType, dict[int, Route]] = {"MT": {}, "MO": {}}
        self._next_id: dict[RouteType, int] = {"MT": 0, "MO": 0}
        self._ids: dict[RouteType, list[int] | None] = {"MT": None, "MO": None}
        self._mt_order: list[MtRoute] | None = None
        self._mo_order: list[MoRoute] | None = None
        self._pending: dict[int, PendingUpdate] = {}
        self._next_pending = 1
        self._listeners: list[Listener] = []
        #: Updates answered "invalid", newest last.
        self.rejections: deque[Rejection] = deque(maxlen=rejections_kept)
        initial: list[Route] = [*mt_routes, *mo_routes]
        for route in initial:
            if route.route_id in self._routes[route.route_type]:
                raise ValueError(f"two {route.route_type} routes with id {route.route_id}")
            self._store(route)

    # -- reading ---------------------------------------------------------------------------

    def routes(self, route_type: RouteType) -> list[Route]:
        """Every route of *route_type*, by Route_Id."""
        table = self._routes[route_type]
        return [table[i] for i in self._sorted_ids(route_type)]

    def get(self, route_type: RouteType, route_id: int) -> Route | None:
        """The route with *route_id*, or ``None``."""
        return self._routes[route_type].get(route_id)

    def __len__(self) -> int:
        return len(self._routes["MT"]) + len(self._routes["MO"])

    def find_mt(self, number: str) -> MtRoute | None:
        """The most specific MT route covering *number* (CMPP_MT_ROUTE), or ``None``.

        *number* may carry ``+86``/``0086``/``86``; anything not made of
        digits has no route.
        """
        national = national_number(number)
        if national is None:
            return None
        if self._mt_order is None:
            routes = [r for r in self._routes["MT"].values() if isinstance(r, MtRoute)]
            self._mt_order = sorted(routes, key=_mt_key)
        for route in self._mt_order:
            if route.covers(national):
                return route
        return None

    def find_mo(self, sp_code: str, service_id: str = "", service_code: int = 0) -> MoRoute | None:
        """The most specific MO route for an SP (CMPP_MO_ROUTE), or ``None``."""
        sp_code = sp_code.strip()
        if not (sp_code.isascii() and _DIGITS.fullmatch(sp_code)):
            return None
        if self._mo_order is None:
            routes = [r for r in self._routes["MO"].values() if isinstance(r, MoRoute)]
            self._mo_order = sorted(routes, key=_mo_key)
        for route in self._mo_order:
            if route.covers(sp_code, service_id, service_code):
                return route
        return None

    def page(self, route_type: RouteType, last_route_id: int) -> tuple[Route | None, bool]:
        """CMPP_GET_ROUTE paging: the route after *last_route_id* (start at −1).

        :returns: ``(route, is_last)``; ``(None, True)`` when no route has a
            larger id (Result 1), ``is_last`` true for the last one (Result 2).
        """
        ids = self._sorted_ids(route_type)
        i = bisect.bisect_right(ids, last_route_id)
        if i >= len(ids):
            return None, True
        return self._routes[route_type][ids[i]], i == len(ids) - 1

    # -- direct changes (control API, configuration, pushes) -------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(change)`` after every applied :class:`Change`."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def next_id(self, route_type: RouteType) -> int:
        """The Route_Id the next added route of *route_type* gets."""
        return self._next_id[route_type]

    def add(self, route: Route, *, assign_id: bool = False, source: str = "control") -> Route:
        """Add *route*; with *assign_id* its Route_Id is replaced by :meth:`next_id`.

        :raises RouteError: ``route_id`` when the id is taken or out of range.
        """
        kind = route.route_type
        if assign_id:
            if self._next_id[kind] > MAX_ROUTE_ID:
                raise RouteError("route_id", "no Route_Id left")
            route = attrs.evolve(route, route_id=self._next_id[kind])
        elif route.route_id in self._routes[kind]:
            raise RouteError("route_id", f"{kind} route {route.route_id} exists")
        self._store(route)
        self._notify(Change(UpdateType.ADD, route, source))
        return route

    def replace(self, route: Route, *, source: str = "control") -> Route:
        """Replace the route with *route*'s type and id.

        :raises RouteError: ``route_id`` when there is no such route.
        """
        self._existing(route.route_type, route.route_id)
        self._store(route)
        self._notify(Change(UpdateType.UPDATE, route, source))
        return route

    def delete(self, route_type: RouteType, route_id: int, *, source: str = "control") -> Route:
        """Delete and return the route.

        :raises RouteError: ``route_id`` when there is no such route.
        """
        route = self._existing(route_type, route_id)
        del self._routes[route_type][route_id]
        self._invalidate(route_type)
        self._notify(Change(UpdateType.DELETE, route, source))
        return route

    def apply(self, change: Change) -> Route:
        """Apply a change as given (its route keeps its id), e.g. one pushed by a GNS.

        :raises RouteError: when the id is taken (add) or missing (update, delete).
        """
        if change.update_type is UpdateType.ADD:
            return self.add(change.route, source=change.source)
        if change.update_type is UpdateType.UPDATE:
            return self.replace(change.route, source=change.source)
        return self.delete(change.route_type, change.route.route_id, source=change.source)

    # -- updates proposed by ISMGs ---------------------------------------------------------

    def propose_mt(self, update: p.MtRouteUpdate, source: str = "") -> tuple[bool, int | None]:
        """Check a CMPP_MT_ROUTE_UPDATE; keep it pending when valid.

        Invalid: an Update_type other than 0/1/2; a non-zero Route_Id when
        adding; an unknown Route_Id when deleting or updating; and, for add and
        update, any field a :class:`MtRoute` refuses (a bad IP text, port 0,
        non-digit codes, start above end …).  The reason is kept in
        :attr:`rejections`.

        :returns: ``(True, pending_id)`` (Result 0) or ``(False, None)`` (Result 1).
        """
        return self._propose("MT", update, source)

    def propose_mo(self, update: p.MoRouteUpdate, source: str = "") -> tuple[bool, int | None]:
        """Check a CMPP_MO_ROUTE_UPDATE; keep it pending when valid (as :meth:`propose_mt`)."""
        return self._propose("MO", update, source)

    @property
    def pending(self) -> list[PendingUpdate]:
        """The updates waiting for confirmation, oldest first."""
        return list(self._pending.values())

    def pending_update(self, pending_id: int) -> PendingUpdate | None:
        return self._pending.get(pending_id)

    def confirm(self, pending_id: int) -> Change:
        """Apply a pending update (an added route gets its Route_Id now).

        :raises KeyError: for an unknown *pending_id*.
        :raises StaleUpdate: when the route to update or delete is gone; the
            update is dropped.
        """
        update = self._pending.pop(pending_id)
        kind, route = update.route_type, update.route
        if update.update_type is UpdateType.ADD:
            route = self.add(route, assign_id=True, source=update.source)
        elif route.route_id not in self._routes[kind]:
            raise StaleUpdate("route_id", f"{kind} route {route.route_id} no longer exists")
        elif update.update_type is UpdateType.UPDATE:
            self.replace(route, source=update.source)
        else:
            self.delete(kind, route.route_id, source=update.source)
        return Change(update.update_type, route, update.source)

    def reject(self, pending_id: int) -> PendingUpdate:
        """Drop a pending update without applying it.

        :raises KeyError: for an unknown *pending_id*.
        """
        return self._pending.pop(pending_id)

    # -- internals -------------------------------------------------------------------------

    def _propose(
        self, kind: RouteType, update: p.MtRouteUpdate | p.MoRouteUpdate, source: str
    ) -> tuple[bool, int | None]:
        try:
            update_type, route = self._check_update(kind, update)
        except RouteError as error:
            self.rejections.append(
                Rejection(
                    kind,
                    update.update_type,
                    update.route_id,
                    source,
                    error.field,
                    error.reason,
                    self._now(),
                )
            )
            return False, None
        pending_id = self._next_pending
        self._next_pending += 1
        self._pending[pending_id] = PendingUpdate(
            pending_id, update_type, route, source, self._now()
        )
        return True, pending_id

    def _check_update(
        self, kind: RouteType, update: p.MtRouteUpdate | p.MoRouteUpdate
    ) -> tuple[UpdateType, Route]:
        try:
            update_type = UpdateType(update.update_type)
        except ValueError:
            raise RouteError("update_type", "expected 0 (add), 1 (delete) or 2 (update)") from None
        if update_type is UpdateType.ADD:
            if update.route_id != 0:
                raise RouteError("route_id", "must be 0 when adding")
        elif update.route_id not in self._routes[kind]:
            raise RouteError("route_id", f"no {kind} route {update.route_id}")
        if update_type is UpdateType.DELETE:
            return update_type, self._routes[kind][update.route_id]
        if kind == "MT":
            assert isinstance(update, p.MtRouteUpdate)
            return update_type, mt_route_from_pdu(update)
        assert isinstance(update, p.MoRouteUpdate)
        return update_type, mo_route_from_pdu(update)

    def _existing(self, route_type: RouteType, route_id: int) -> Route:
        route = self._routes[route_type].get(route_id)
        if route is None:
            raise RouteError("route_id", f"no {route_type} route {route_id}")
        return route

    def _store(self, route: Route) -> None:
        kind = route.route_type
        self._routes[kind][route.route_id] = route
        self._next_id[kind] = max(self._next_id[kind], route.route_id + 1)
        self._invalidate(kind)

    def _invalidate(self, route_type: RouteType) -> None:
        self._ids[route_type] = None
        if route_type == "MT":
            self._mt_order = None
        else:
            self._mo_order = None

    def _sorted_ids(self, route_type: RouteType) -> list[int]:
        ids = self._ids[route_type]
        if ids is None:
            ids = self._ids[route_type] = sorted(self._routes[route_type])
        return ids

    def _notify(self, change: Change) -> None:
        for listener in list(self._listeners):
            listener(change)
