"""``twistd smsgw``: the command-line options, and the service tree of the chosen role.

As ``twisted/web/tap.py`` does: :class:`Options` parses and checks the
command line (and loads the configuration file), :func:`makeService` hands
it to the role's module in :mod:`smsgw.roles`, which builds the tree.
"""

from __future__ import annotations

from typing import Any

from twisted.application.service import IService
from twisted.python import usage

from smsgw.config import Config, ConfigError, load_config, parse_account, parse_upstream_url
from smsgw.protocols.registry import sim_listeners
from smsgw.runtime import tune_gc

ROLES = ("sp", "ismg-sim", "gns-sim")


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
        [
            "vendor-http",
            None,
            None,
            "ismg-sim: serve every HTTP vendor file under /NAME/ on this endpoint [default: off]",
        ],
        ["http", None, None, "sp: HTTP API endpoint [default: tcp:8080:interface=127.0.0.1]"],
        [
            "compat-http",
            None,
            None,
            "sp: endpoint of the seed-001-compatible /mt /mo API (accounts: the API keys) "
            "[default: off]",
        ],
        ["db", None, None, "sp: SQLite database file [default: smsgw.sqlite3]"],
        [
            "store",
            None,
            None,
            "sp: the store, sqlite:PATH or postgresql://USER@HOST:PORT/DB (shared by several "
            "nodes) [default: sqlite:smsgw.sqlite3]",
        ],
        [
            "redis",
            None,
            None,
            "sp: redis://HOST:PORT/DB holding the TPS limits and carrier session caps the "
            "nodes share (needs a postgresql store) [default: off]",
        ],
        ["node", None, None, "sp: this node's name, stable across restarts [default: HOST:PORT]"],
        ["listen", None, None, "gns-sim: endpoint [default: tcp:9168:interface=127.0.0.1]"],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["upstreams"] = []
        self["accounts"] = []
        self["plugins"] = []

    def opt_plugins(self, folder: str) -> None:
        """a folder of HTTP vendor files (*.xml), read after the shipped ones (repeatable)"""
        self["plugins"].append(folder)

    def opt_upstream(self, url: str) -> None:
        """sp: an upstream account URL, cmpp://SPID:SECRET@HOST:PORT?... or
        http://ACCOUNT:SECRET@HOST:PORT/PATH?vendor=NAME&... (repeatable)"""
        try:
            self["upstreams"].append(parse_upstream_url(url))
        except ValueError as e:
            raise usage.UsageError(f"--upstream: {e}") from None

    def opt_account(self, text: str) -> None:
        """ismg-sim: an SP account ID:SECRET, or ID:SECRET@tcp:host=H:port=P to give SGIP's
        callback (where reports and MOs go) (repeatable)"""
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
        self["loaded"] = _with_plugins(self["loaded"], self["plugins"])
        if role == "gns-sim":
            from smsgw.gns.config import parse_gns_config
            from smsgw.roles.gns_sim import check_demo as check_gns_demo

            try:
                self["gns"] = parse_gns_config(self["loaded"].gns, self["config"] or "<config>")
                check_gns_demo(self, self["gns"])
            except (ConfigError, ValueError) as e:
                raise usage.UsageError(str(e)) from None
        if role == "ismg-sim":
            from smsgw.roles.ismg_sim import check_control, check_demo

            try:
                check_demo(self, self["loaded"])
                check_control(self, self["loaded"])
            except ValueError as e:
                raise usage.UsageError(str(e)) from None
        if role == "sp":
            from smsgw.roles.sp import (
                UnsafeListen,
                check_listen,
                check_upstreams,
                with_cluster_options,
            )

            http = self["http"] or self["loaded"].http.listen
            try:
                check_listen(http, self["loaded"].api_keys)
            except UnsafeListen as e:
                raise usage.UsageError(f"--http: {e}") from None
            compat = self["compat-http"] or self["loaded"].http.compat_listen
            if compat:
                try:
                    check_listen(compat, self["loaded"].api_keys)
                except UnsafeListen as e:
                    raise usage.UsageError(f"--compat-http: {e}") from None
            try:
                check_upstreams(self["loaded"], self["upstreams"])
            except ValueError as e:
                raise usage.UsageError(f"--upstream: {e}") from None
            try:
                self["loaded"] = with_cluster_options(self, self["loaded"])
            except ValueError as e:
                raise usage.UsageError(str(e)) from None
        self._role_pidfile(role)

    def _role_pidfile(self, role: str) -> None:
        """Give each role its own pidfile, and none under ``twistd -n``.

        twistd's default ``twistd.pid`` would make a second role started in
        the same folder (the simulator beside the gateway) fail with "Another
        twistd server is running".  A ``--pidfile`` other than the default
        is kept as given.
        """
        parent = self.parent
        if parent is None or parent.get("pidfile") != "twistd.pid":
            return
        parent["pidfile"] = "" if parent.get("nodaemon") else f"smsgw-{role}.pid"


def _with_plugins(config: Config, plugins: list[str]) -> Config:
    """*config* with ``--plugins`` folders added to ``[vendors] dirs``; every
    vendor file is read now, so that a broken one stops the start."""
    import attrs

    from smsgw.vendor.catalogue import load_vendors
    from smsgw.vendor.loader import VendorFileError

    if plugins:
        dirs = (*config.vendors.dirs, *plugins)
        config = attrs.evolve(config, vendors=attrs.evolve(config.vendors, dirs=dirs))
    try:
        load_vendors(config.vendors.dirs)
    except VendorFileError as e:
        raise usage.UsageError(f"vendor file: {e}") from None
    return config


def makeService(options: Options | dict[str, Any], reactor: Any = None) -> IService:
    """Build the service tree of the chosen role (and tune this process's GC for it)."""
    tune_gc()
    if reactor is None:
        from twisted.internet import reactor as _reactor

        reactor = _reactor
    config: Config = options.get("loaded") or load_config(None)
    if options["role"] == "ismg-sim":
        from smsgw.roles import ismg_sim

        return ismg_sim.make_service(options, config, reactor)
    if options["role"] == "gns-sim":
        from smsgw.roles import gns_sim

        return gns_sim.make_service(options, config, reactor)
    from smsgw.roles import sp

    return sp.make_service(options, config, reactor)
