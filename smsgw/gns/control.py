"""The GNS simulator's control API (JSON), after :mod:`smsgw.ismg.control`.

::

    GET    /v1/routes[?type=MT|MO]        {"routes": [...]} (both types without ?type)
    POST   /v1/routes                     {"type": "MT"|"MO", fields…} -> 201, the route
    GET    /v1/routes/{type}              {"routes": [...]} of that type
    GET    /v1/routes/{type}/{id}         the route
    PUT    /v1/routes/{type}/{id}         merge the given fields into the route
    DELETE /v1/routes/{type}/{id}         the deleted route
    GET    /v1/updates                    {"updates": [pending…], "rejected": [...]}
    GET    /v1/updates/{id}               one pending update
    POST   /v1/updates/{id}/confirm       apply it: {"update", "change"}
    POST   /v1/updates/{id}/reject        drop it: {"update"}
    GET    /v1/pushes[?ismg=&limit=]      {"pushes": [...]} push outcomes, newest last
    GET    /v1/stats                      counters
    GET    /healthz                       {"ok": true}
    GET    /console/                      the web console (:mod:`smsgw.web.console`), HTML

Route fields — MT: ``ismg_code``, ``gateway_ip``, ``gateway_port``,
``start_id``, ``end_id``, ``area_code`` (optional); MO: ``ismg_code``,
``gateway_ip``, ``gateway_port``, ``sp_code``, ``service_id``, ``start_code``,
``end_code`` (the last three optional).  Route_Ids are assigned by the GNS.
Every change made here is pushed to the ISMGs (:class:`~smsgw.gns.server.GnsServer`).
Errors are JSON as in :mod:`smsgw.web.jsonapi`, 4xx naming the field.
"""

from __future__ import annotations

from typing import Any

from twisted.web.resource import Resource
from twisted.web.server import Request

from smsgw.gns.routes import (
    ROUTE_TYPES,
    MoRoute,
    MtRoute,
    Route,
    RouteError,
    RouteType,
    StaleUpdate,
)
from smsgw.gns.server import GnsServer
from smsgw.web.console import ConsoleResource
from smsgw.web.jsonapi import (
    JsonError,
    JsonResource,
    query_arg,
    query_int,
    read_json,
    reject_unknown_fields,
    require_field,
    require_object,
)

__all__ = ["DEFAULT_PUSHES_LIMIT", "MAX_PUSHES_LIMIT", "control_resource"]

DEFAULT_PUSHES_LIMIT = 1000
"""Most push outcomes answered by ``GET /v1/pushes`` without ``limit``."""

MAX_PUSHES_LIMIT = 100_000
"""Largest ``limit`` accepted by ``GET /v1/pushes``."""

#: Route fields by type: (name, JSON type, default or ``...`` when required).
_FIELDS: dict[RouteType, tuple[tuple[str, type, Any], ...]] = {
    "MT": (
        ("ismg_code", str, ...),
        ("gateway_ip", str, ...),
        ("gateway_port", int, ...),
        ("start_id", str, ...),
        ("end_id", str, ...),
        ("area_code", str, ""),
    ),
    "MO": (
        ("ismg_code", str, ...),
        ("gateway_ip", str, ...),
        ("gateway_port", int, ...),
        ("sp_code", str, ...),
        ("service_id", str, ""),
        ("start_code", int, 0),
        ("end_code", int, 0),
    ),
}


def _route_type(text: str | None, field: str = "type") -> RouteType:
    value = (text or "").upper()
    if value not in ROUTE_TYPES:
        raise JsonError(400, "bad_field", f"{field!r}: expected MT or MO", field=field)
    return value


def _build(route_type: RouteType, values: dict[str, Any]) -> Route:
    try:
        if route_type == "MT":
            return MtRoute(**values)
        return MoRoute(**values)
    except RouteError as error:
        raise JsonError(
            400, "bad_field", f"{error.field!r}: {error.reason}", field=error.field
        ) from None


def _read_fields(route_type: RouteType, body: dict[str, Any], base: Route | None) -> dict[str, Any]:
    """The route fields of *body*; missing ones come from *base* (or their defaults)."""
    values: dict[str, Any] = {}
    for name, type_, default in _FIELDS[route_type]:
        value = require_field(body, name, type_, optional=True)
        if value is None:
            if base is not None:
                value = getattr(base, name)
            elif default is ...:
                raise JsonError(400, "bad_field", f"{name!r} is required", field=name)
            else:
                value = default
        values[name] = value
    return values


class _Fail(JsonResource):
    """A leaf answering one fixed error (an unknown path segment)."""

    isLeaf = True

    def __init__(self, error: JsonError) -> None:
        super().__init__()
        self._error = error

    def render(self, request: Request) -> bytes:
        return self._write_error(request, self._error)


def _not_found(what: str, field: str) -> JsonError:
    return JsonError(404, "not_found", what, field=field)


class _Routes(JsonResource):
    """``/v1/routes``: list and add."""

    def __init__(self, gns: GnsServer) -> None:
        super().__init__()
        self._gns = gns

    def json_GET(self, request: Request) -> dict[str, Any]:
        """Every route, or those of ``?type=``, by Route_Id."""
        text = query_arg(request, "type")
        kinds = ROUTE_TYPES if not text else (_route_type(text),)
        table = self._gns.table
        return {"routes": [r.to_json() for kind in kinds for r in table.routes(kind)]}

    def json_POST(self, request: Request) -> tuple[int, Any]:
        """Add a route (201); the GNS assigns its Route_Id and pushes the change."""
        body = require_object(read_json(request))
        route_type = _route_type(require_field(body, "type", str))
        reject_unknown_fields(body, ("type", *(name for name, _, _ in _FIELDS[route_type])))
        route = _build(route_type, {"route_id": 0, **_read_fields(route_type, body, None)})
        added = self._gns.table.add(route, assign_id=True)
        return 201, added.to_json()

    def getChild(self, path: bytes, request: Request) -> Resource:
        text = path.decode("latin-1").upper()
        if text not in ROUTE_TYPES:
            return _Fail(_not_found(f"no route type {text!r}: expected MT or MO", "type"))
        return _RoutesOfType(self._gns, text)


class _RoutesOfType(JsonResource):
    """``/v1/routes/{type}``."""

    def __init__(self, gns: GnsServer, route_type: RouteType) -> None:
        super().__init__()
        self._gns = gns
        self._type = route_type

    def json_GET(self, request: Request) -> dict[str, Any]:
        """The routes of this type, by Route_Id."""
        return {"routes": [r.to_json() for r in self._gns.table.routes(self._type)]}

    def getChild(self, path: bytes, request: Request) -> Resource:
        text = path.decode("latin-1")
        if not (text.isascii() and text.isdigit()):
            return _Fail(_not_found(f"no {self._type} route {text!r}", "route_id"))
        return _Route(self._gns, self._type, int(text))


class _Route(JsonResource):
    """``/v1/routes/{type}/{id}``: read, change, delete."""

    def __init__(self, gns: GnsServer, route_type: RouteType, route_id: int) -> None:
        super().__init__()
        self._gns = gns
        self._type = route_type
        self._id = route_id

    def _current(self) -> Route:
        route = self._gns.table.get(self._type, self._id)
        if route is None:
            raise _not_found(f"no {self._type} route {self._id}", "route_id")
        return route

    def json_GET(self, request: Request) -> dict[str, Any]:
        """The route."""
        return self._current().to_json()

    def json_PUT(self, request: Request) -> dict[str, Any]:
        """Merge the given fields into the route; the change is pushed."""
        current = self._current()
        body = require_object(read_json(request))
        names = [name for name, _, _ in _FIELDS[self._type]]
        reject_unknown_fields(body, ("type", "route_id", *names))
        if "type" in body and _route_type(require_field(body, "type", str)) != self._type:
            raise JsonError(400, "bad_field", f"'type' must be {self._type}", field="type")
        if "route_id" in body and require_field(body, "route_id", int) != self._id:
            raise JsonError(400, "bad_field", f"'route_id' must be {self._id}", field="route_id")
        route = _build(
            self._type, {"route_id": self._id, **_read_fields(self._type, body, current)}
        )
        return self._gns.table.replace(route).to_json()

    def json_DELETE(self, request: Request) -> dict[str, Any]:
        """Delete the route; the deletion is pushed."""
        self._current()
        return self._gns.table.delete(self._type, self._id).to_json()


class _Updates(JsonResource):
    """``/v1/updates``: updates proposed by ISMGs."""

    def __init__(self, gns: GnsServer) -> None:
        super().__init__()
        self._gns = gns

    def json_GET(self, request: Request) -> dict[str, Any]:
        """Pending updates (oldest first) and the latest rejected ones."""
        table = self._gns.table
        return {
            "updates": [u.to_json() for u in table.pending],
            "rejected": [r.to_json() for r in table.rejections],
        }

    def getChild(self, path: bytes, request: Request) -> Resource:
        text = path.decode("latin-1")
        if not (text.isascii() and text.isdigit()):
            return _Fail(_not_found(f"no pending update {text!r}", "id"))
        return _Update(self._gns, int(text))


class _Update(JsonResource):
    """``/v1/updates/{id}``."""

    def __init__(self, gns: GnsServer, pending_id: int) -> None:
        super().__init__()
        self._gns = gns
        self._id = pending_id

    def json_GET(self, request: Request) -> dict[str, Any]:
        """The pending update."""
        update = self._gns.table.pending_update(self._id)
        if update is None:
            raise _not_found(f"no pending update {self._id}", "id")
        return update.to_json()

    def getChild(self, path: bytes, request: Request) -> Resource:
        if path in (b"confirm", b"reject"):
            return _Decide(self._gns, self._id, confirm=path == b"confirm")
        return _Fail(JsonError(404, "not_found", "expected confirm or reject"))


class _Decide(JsonResource):
    """``POST /v1/updates/{id}/confirm`` and ``/reject``."""

    def __init__(self, gns: GnsServer, pending_id: int, *, confirm: bool) -> None:
        super().__init__()
        self._gns = gns
        self._id = pending_id
        self._confirm = confirm

    def json_POST(self, request: Request) -> dict[str, Any]:
        """Apply (and push) or drop the update.

        404 for an unknown id; 409 ``stale_update`` when the route it updates
        or deletes is gone (the update is dropped).
        """
        table = self._gns.table
        update = table.pending_update(self._id)
        if update is None:
            raise _not_found(f"no pending update {self._id}", "id")
        if not self._confirm:
            table.reject(self._id)
            return {"update": update.to_json()}
        try:
            change = table.confirm(self._id)
        except StaleUpdate as error:
            raise JsonError(409, "stale_update", error.reason, field=error.field) from None
        except RouteError as error:
            raise JsonError(409, "not_applied", error.reason, field=error.field) from None
        return {"update": update.to_json(), "change": change.to_json()}


class _Pushes(JsonResource):
    """``GET /v1/pushes``."""

    def __init__(self, gns: GnsServer) -> None:
        super().__init__()
        self._gns = gns

    def json_GET(self, request: Request) -> dict[str, Any]:
        """Push outcomes, newest last, optionally for one ``ismg``, at most ``limit``."""
        ismg = query_arg(request, "ismg") or None
        limit = query_int(
            request, "limit", default=DEFAULT_PUSHES_LIMIT, minimum=1, maximum=MAX_PUSHES_LIMIT
        )
        return {"pushes": self._gns.push_log(ismg, limit)}


class _Stats(JsonResource):
    """``GET /v1/stats``."""

    def __init__(self, gns: GnsServer) -> None:
        super().__init__()
        self._gns = gns

    def json_GET(self, request: Request) -> dict[str, Any]:
        """The GNS's counters."""
        return self._gns.stats()


class _Health(JsonResource):
    """``GET /healthz``."""

    def json_GET(self, request: Request) -> dict[str, Any]:
        return {"ok": True}


def control_resource(gns: GnsServer) -> Resource:
    """The root resource of the control API driving *gns*."""
    v1 = JsonResource()
    v1.putChild(b"routes", _Routes(gns))
    v1.putChild(b"updates", _Updates(gns))
    v1.putChild(b"pushes", _Pushes(gns))
    v1.putChild(b"stats", _Stats(gns))
    root = JsonResource()
    root.putChild(b"v1", v1)
    root.putChild(b"healthz", _Health())
    root.putChild(b"console", ConsoleResource("gns"))
    return root
