"""``twistd smsgw``: options and the service tree of each role (DESIGN.md §4.1)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import IService, MultiService, Service
from twisted.internet.endpoints import serverFromString
from twisted.logger import Logger
from twisted.python import usage
from twisted.web.server import Site

from smsgw.config import (
    AccountConfig,
    Config,
    ConfigError,
    load_config,
    parse_account,
    parse_upstream_url,
)
from smsgw.protocols.registry import sim_listeners
from smsgw.runtime import tune_gc
from smsgw.web.jsonapi import access_log_line

ROLES = ("sp", "ismg-sim", "gns-sim")

log = Logger()


def _listener_options() -> list[list[Any]]:
    """The ismg-sim's ``--PROTOCOL=ENDPOINT`` options, one per registered listener."""
    options: list[list[Any]] = []
    for listener in sim_listeners():
        default = listener.default_endpoint
        tail = f" [default: {default}]" if default else ""
        options.append([listener.option, None, None, f"ismg-sim: {listener.help}{tail}"])
    return options


class Options(usage.Options):
    """Command-line options of ``twistd smsgw``."""

    synopsis = "[--role=sp|ismg-sim|gns-sim] [options]"
    optParameters = [
        ["role", None, "sp", "sp (the SP gateway), ismg-sim (a fake ISMG) or gns-sim"],
        ["config", "c", None, "TOML configuration file"],
        *_listener_options(),
        [
            "control",
            None,
            None,
            "ismg-sim: control API endpoint [default: tcp:8081:interface=127.0.0.1]",
        ],
        ["http", None, None, "sp: HTTP API endpoint [default: tcp:8080:interface=127.0.0.1]"],
        ["db", None, None, "sp: SQLite database file [default: smsgw.sqlite3]"],
        ["listen", None, None, "gns-sim: endpoint [default: tcp:9168]"],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["upstreams"] = []
        self["accounts"] = []

    def opt_upstream(self, url: str) -> None:
        """sp: an upstream account URL, cmpp://SPID:SECRET@HOST:PORT?... (repeatable)"""
        try:
            self["upstreams"].append(parse_upstream_url(url))
        except ValueError as e:
            raise usage.UsageError(f"--upstream: {e}") from None

    def opt_account(self, text: str) -> None:
        """ismg-sim: an SP account ID:SECRET (repeatable)"""
        try:
            self["accounts"].append(parse_account(text))
        except ValueError as e:
            raise usage.UsageError(str(e)) from None

    def postOptions(self) -> None:
        role = self["role"]
        if role not in ROLES:
            raise usage.UsageError(f"--role must be one of {', '.join(ROLES)}, not {role!r}")
        try:
            self["loaded"] = load_config(self["config"])
        except (ConfigError, OSError) as e:
            raise usage.UsageError(str(e)) from None
        if role == "gns-sim":
            from smsgw.gns.config import parse_gns_config

            try:
                self["gns"] = parse_gns_config(self["loaded"].gns, self["config"] or "<config>")
            except (ConfigError, ValueError) as e:
                raise usage.UsageError(str(e)) from None
        if role == "sp":
            from smsgw.roles.sp import UnsafeListen, check_listen

            http = self["http"] or self["loaded"].http.listen
            try:
                check_listen(http, self["loaded"].api_keys)
            except UnsafeListen as e:
                raise usage.UsageError(f"--http: {e}") from None


def makeService(options: Options | dict[str, Any], reactor: Any = None) -> IService:
    """Build the service tree of the chosen role (and tune this process's GC for it)."""
    tune_gc()
    if reactor is None:
        from twisted.internet import reactor as _reactor

        reactor = _reactor
    config: Config = options.get("loaded") or load_config(None)
    if options["role"] == "ismg-sim":
        return make_ismg_sim(options, config, reactor)
    if options["role"] == "gns-sim":
        from smsgw.roles import gns_sim

        return gns_sim.make_service(options, config, reactor)
    from smsgw.roles import sp

    return sp.make_service(options, config, reactor)


def _accounts(options: Any, config: Config) -> list[AccountConfig]:
    return [*config.simulator.accounts, *options.get("accounts", [])]


def make_ismg_sim(options: Any, config: Config, reactor: Any) -> IService:
    """The fake ISMG: a listener per protocol served (the registry's) and the control API.

    A listener's endpoint is its option (``--sgip=tcp:8801``), else its
    ``[simulator]`` key, else its default; without any, it is off.
    """
    from smsgw.ismg.control import control_resource
    from smsgw.roles.ismg_sim import build_simulator

    top = MultiService()
    sim = build_simulator(_accounts(options, config), config, reactor)
    top.simulator = sim  # type: ignore[attr-defined]
    cfg = config.simulator
    listeners: dict[str, tuple[str | None, Callable[[], Any]]] = {}
    for listener in sim_listeners():
        option = listener.option
        endpoint = options.get(option) or cfg.listeners.get(option) or listener.default_endpoint
        listeners[option] = (endpoint, partial(listener.make_factory, sim, cfg))
    from smsgw.ismg.forward import build_forwarder

    forwarder = build_forwarder(sim, cfg, reactor)
    if forwarder is not None:
        listeners["fwd"] = (cfg.fwd, forwarder.factory)
        _OnStop(forwarder.close).setServiceParent(top)
    for name, (endpoint, factory) in listeners.items():
        if endpoint:
            svc = StreamServerEndpointService(serverFromString(reactor, endpoint), factory())
            svc.setName(name)
            svc.setServiceParent(top)
            log.info("ismg-sim: {protocol} on {endpoint}", protocol=name, endpoint=endpoint)
    control = options.get("control") or config.simulator.control
    site = Site(control_resource(sim), logFormatter=access_log_line)
    site.noisy = False
    web = StreamServerEndpointService(serverFromString(reactor, control), site)
    web.setName("control")
    web.setServiceParent(top)
    log.info("ismg-sim: control API on {control}", control=control)
    return top


class _OnStop(Service):
    """Runs a clean-up when the tree stops (e.g. closing ISMG-to-ISMG links)."""

    def __init__(self, close: Any) -> None:
        self.close = close

    def stopService(self) -> Any:
        super().stopService()
        return self.close()
