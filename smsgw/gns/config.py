"""``--role=gns-sim``'s configuration: the ``[gns]`` table, validated.

The service tree is :mod:`smsgw.roles.gns_sim`.

::

    [gns]
    listen = "tcp:9168:interface=127.0.0.1"      # the ISMGs' endpoint (seed 002 §7.3)
    control = "tcp:8082:interface=127.0.0.1"     # the JSON control API
    gateway_code = "000001"                      # the GNS's own code, used when pushing
    auto_confirm = false                         # apply valid ISMG updates at once

    [[gns.ismg]]
    code = "001001"                              # 6 digits: CONNECT Source_Addr
    secret = "…"
    push_host = "127.0.0.1"                       # optional: where pushes go
    push_port = 9168

    [[gns.mt_route]]
    route_id = 0                                 # optional; assigned in order otherwise
    ismg_code = "001001"
    gateway_ip = "127.0.0.1"
    gateway_port = 7890
    start_id = "139000"                          # number segments: smsgw.gns.routes
    end_id = "139499"
    area_code = "010"

    [[gns.mo_route]]
    ismg_code = "001001"
    gateway_ip = "127.0.0.1"
    gateway_port = 7890
    sp_code = "1065901234"
    service_id = ""                              # optional, with start_code/end_code
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from smsgw.config.table import REQUIRED, ConfigError, Table
from smsgw.gns.routes import MoRoute, MtRoute, RouteError
from smsgw.gns.server import IsmgAccount
from smsgw.protocols.cmpp.constants import PORT_GNS

__all__ = [
    "DEFAULT_GNS_CONTROL",
    "DEFAULT_GNS_LISTEN",
    "GnsConfig",
    "parse_gns_config",
    "six_digits",
]

DEFAULT_GNS_LISTEN = "tcp:9168:interface=127.0.0.1"
"""The GNS's CMPP endpoint (seed 002 §7.3: port 9168)."""

DEFAULT_GNS_CONTROL = "tcp:8082:interface=127.0.0.1"
"""The GNS control API: next to the ISMG simulator's 8081, so both can run on one host."""

DEFAULT_GATEWAY_CODE = "000001"
"""The GNS's own code when the configuration names none."""


@attrs.frozen
class GnsConfig:
    """The ``[gns]`` table, validated.

    :ivar listen: the CMPP listener, a Twisted server endpoint string.
    :ivar control: the control API's endpoint.
    :ivar gateway_code: the GNS's own 6-digit code (Source_Addr of its pushes).
    :ivar auto_confirm: apply every valid ISMG update at once.
    :ivar ismgs: the ISMG accounts.
    :ivar mt_routes: the initial MT routes.
    :ivar mo_routes: the initial MO routes.
    """

    listen: str = DEFAULT_GNS_LISTEN
    control: str = DEFAULT_GNS_CONTROL
    gateway_code: str = DEFAULT_GATEWAY_CODE
    auto_confirm: bool = False
    ismgs: tuple[IsmgAccount, ...] = ()
    mt_routes: tuple[MtRoute, ...] = ()
    mo_routes: tuple[MoRoute, ...] = ()


def six_digits(value: object) -> bool:
    return isinstance(value, str) and len(value) == 6 and value.isascii() and value.isdigit()


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _non_empty(value: object) -> bool:
    return isinstance(value, str) and value != ""


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


def _non_negative(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _port(value: object) -> bool:
    return _non_negative(value) and 1 <= value <= 65535  # type: ignore[operator]


def _read_ismg(table: Table) -> IsmgAccount:
    code = table.value("code", six_digits, "a string of 6 digits")
    secret = table.value("secret", _non_empty, "a non-empty string")
    push_host = table.value("push_host", _non_empty, "a host name or address", None)
    if table.has("push_port") and push_host is None:
        raise table.error("push_port", "given without push_host")
    push_port = table.value("push_port", _port, "an integer from 1 to 65535", PORT_GNS)
    table.done()
    return IsmgAccount(code, secret.encode("utf-8"), push_host, push_port)


#: Route keys: (name, check, expected, default or required).
_Field = tuple[str, Callable[[Any], bool], str, Any]
_COMMON: tuple[_Field, ...] = (
    ("ismg_code", _is_str, "a string", REQUIRED),
    ("gateway_ip", _is_str, "a string", REQUIRED),
    ("gateway_port", _non_negative, "an integer", REQUIRED),
)
_MT_FIELDS: tuple[_Field, ...] = (
    *_COMMON,
    ("start_id", _is_str, "a string", REQUIRED),
    ("end_id", _is_str, "a string", REQUIRED),
    ("area_code", _is_str, "a string", ""),
)
_MO_FIELDS: tuple[_Field, ...] = (
    *_COMMON,
    ("sp_code", _is_str, "a string", REQUIRED),
    ("service_id", _is_str, "a string", ""),
    ("start_code", _non_negative, "an integer >= 0", 0),
    ("end_code", _non_negative, "an integer >= 0", 0),
)


def _read_routes(tables: list[Table], kind: type[MtRoute] | type[MoRoute]) -> list[Any]:
    """The routes of ``[[gns.mt_route]]`` or ``[[gns.mo_route]]``.

    A ``route_id`` is optional; routes without one take the lowest ids that
    no route names, in file order.
    """
    fields = _MT_FIELDS if kind is MtRoute else _MO_FIELDS
    read: list[tuple[Table, int | None, dict[str, Any]]] = []
    named: set[int] = set()
    for table in tables:
        route_id = table.value("route_id", _non_negative, "an integer >= 0", None)
        if route_id is not None:
            if route_id in named:
                raise table.error("route_id", "duplicate route id")
            named.add(route_id)
        values = {name: table.value(name, check, what, d) for name, check, what, d in fields}
        table.done()
        read.append((table, route_id, values))
    routes = []
    free = 0
    for table, route_id, values in read:
        if route_id is None:
            while free in named:
                free += 1
            route_id = free
            free += 1
        try:
            routes.append(kind(route_id=route_id, **values))
        except RouteError as error:
            raise table.error(error.field, error.reason) from None
    return routes


def parse_gns_config(raw: Mapping[str, Any], source: str = "<config>") -> GnsConfig:
    """The ``[gns]`` table *raw* (as :class:`smsgw.config.Config` keeps it), validated.

    :param source: the file name, for messages.
    :raises ConfigError: (a ``ValueError``) naming the file and the dotted key,
        e.g. ``smsgw.toml: gns.mt_route[1].end_id: must not be below start_id``;
        unknown keys are refused by name.  Secrets are never quoted.
    """
    if not isinstance(raw, Mapping):
        raise ConfigError("expected a table", key="gns", source=source)
    table = Table(raw, "gns", source)
    endpoint = "a non-empty endpoint string"
    listen = table.value("listen", _non_empty, endpoint, DEFAULT_GNS_LISTEN)
    control = table.value("control", _non_empty, endpoint, DEFAULT_GNS_CONTROL)
    gateway_code = table.value(
        "gateway_code", six_digits, "a string of 6 digits", DEFAULT_GATEWAY_CODE
    )
    auto_confirm = table.value("auto_confirm", _is_bool, "true or false", False)
    ismg_tables = table.tables("ismg")
    ismgs = [_read_ismg(t) for t in ismg_tables]
    seen: set[str] = set()
    for ismg, t in zip(ismgs, ismg_tables, strict=True):
        if ismg.code in seen:
            raise t.error("code", "duplicate ISMG code")
        seen.add(ismg.code)
    mt = _read_routes(table.tables("mt_route"), MtRoute)
    mo = _read_routes(table.tables("mo_route"), MoRoute)
    table.done()
    return GnsConfig(
        listen=listen,
        control=control,
        gateway_code=gateway_code,
        auto_confirm=auto_confirm,
        ismgs=tuple(ismgs),
        mt_routes=tuple(mt),
        mo_routes=tuple(mo),
    )
