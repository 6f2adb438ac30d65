"""``twistd smsgw``: options and the service tree of each role (DESIGN.md §4.1)."""

from __future__ import annotations

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
    UpstreamConfig,
    load_config,
    parse_account,
    parse_upstream_url,
)

ROLES = ("sp", "ismg-sim", "gns-sim")
#: Roles and options that later issues build; asking for them is an error, not a no-op.
NOT_YET = {
    "gns-sim": "the gns-sim role is not available yet (GNS and CMPP_FWD come in a later release)",
}

log = Logger()


class Options(usage.Options):
    """Command-line options of ``twistd smsgw``."""

    synopsis = "[--role=sp|ismg-sim|gns-sim] [options]"
    optParameters = [
        ["role", None, "sp", "sp (the SP gateway), ismg-sim (a fake ISMG) or gns-sim"],
        ["config", "c", None, "TOML configuration file"],
        ["cmpp", None, None, "ismg-sim: CMPP 2.0 endpoint [default: tcp:7890]"],
        [
            "cmpp3",
            None,
            None,
            "ismg-sim: CMPP 3.0 endpoint, 2.0 clients answered as 2.0 (e.g. tcp:7891)",
        ],
        ["sgip", None, None, "ismg-sim: SGIP 1.2 endpoint (e.g. tcp:8801)"],
        ["smgp", None, None, "ismg-sim: SMGP 3.0 endpoint (e.g. tcp:8890)"],
        [
            "control",
            None,
            None,
            "ismg-sim: control API endpoint [default: tcp:8081:interface=127.0.0.1]",
        ],
        ["http", None, None, "sp: HTTP API endpoint (not available yet)"],
        ["db", None, None, "sp: SQLite database (not available yet)"],
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
        if role in NOT_YET:
            raise usage.UsageError(NOT_YET[role])
        for opt in ("http", "db"):
            if self[opt] is not None:
                raise usage.UsageError(f"--{opt} is not available yet in this release")
        try:
            self["loaded"] = load_config(self["config"])
        except (ConfigError, OSError) as e:
            raise usage.UsageError(str(e)) from None


def makeService(options: Options | dict[str, Any], reactor: Any = None) -> IService:
    """Build the service tree of the chosen role."""
    if reactor is None:
        from twisted.internet import reactor as _reactor

        reactor = _reactor
    config: Config = options.get("loaded") or load_config(None)
    if options["role"] == "ismg-sim":
        return make_ismg_sim(options, config, reactor)
    return make_sp(options, config, reactor)


def _accounts(options: Any, config: Config) -> list[AccountConfig]:
    return [*config.simulator.accounts, *options.get("accounts", [])]


def build_simulator(accounts: list[AccountConfig], config: Config, reactor: Any) -> Any:
    """A :class:`~smsgw.ismg.simulator.Simulator` for *accounts* (or the demo one)."""
    from smsgw.ismg.policy import Policy
    from smsgw.ismg.simulator import Account, Simulator, demo_accounts

    if accounts:
        accts = [
            Account(
                a.id,
                a.secret.encode("utf-8"),
                max_sessions=a.max_sessions,
                allowed_ips=tuple(a.allowed_ips),
                tps=a.tps,
                src_prefix=a.src_prefix,
                sgip_callback=a.sgip_callback,
            )
            for a in accounts
        ]
    else:
        accts = demo_accounts()
        log.info(
            "ismg-sim: no account configured; serving the demo account {account} "
            "(its secret is in the README)",
            account=accts[0].id,
        )
    policy = config.simulator.policy or Policy()
    return Simulator(reactor, accts, gateway_code=config.simulator.gateway_code_int, policy=policy)


def make_ismg_sim(options: Any, config: Config, reactor: Any) -> IService:
    """The fake ISMG: a CMPP 2.0 listener and the control API."""
    from smsgw.ismg.control import control_resource

    top = MultiService()
    sim = build_simulator(_accounts(options, config), config, reactor)
    top.simulator = sim  # type: ignore[attr-defined]
    cfg = config.simulator
    cmpp = options.get("cmpp") or cfg.cmpp or "tcp:7890"
    listeners = {
        "cmpp": (cmpp, sim.cmpp_factory),
        "cmpp3": (options.get("cmpp3") or cfg.cmpp3, sim.cmpp3_factory),
        "sgip": (options.get("sgip") or cfg.sgip, lambda: sim.sgip_factory(cfg.sgip_node_id)),
        "smgp": (options.get("smgp") or cfg.smgp, lambda: sim.smgp_factory(cfg.smgp_code)),
    }
    for name, (endpoint, factory) in listeners.items():
        if endpoint:
            svc = StreamServerEndpointService(serverFromString(reactor, endpoint), factory())
            svc.setName(name)
            svc.setServiceParent(top)
            log.info("ismg-sim: {protocol} on {endpoint}", protocol=name, endpoint=endpoint)
    control = options.get("control") or config.simulator.control
    site = Site(control_resource(sim))
    site.noisy = False
    web = StreamServerEndpointService(serverFromString(reactor, control), site)
    web.setName("control")
    web.setServiceParent(top)
    log.info("ismg-sim: control API on {control}", control=control)
    return top


def make_sp(options: Any, config: Config, reactor: Any) -> IService:
    """The SP role: one channel per upstream, or a built-in simulator."""
    top = MultiService()
    upstreams: list[UpstreamConfig] = [*options.get("upstreams", []), *config.upstreams]
    if not upstreams:
        BuiltinUpstream(config, reactor).setServiceParent(top)
    for url in upstreams:
        _channel(url, reactor).setServiceParent(top)
    log.warn("sp: the HTTP API and the store are not available yet; deliveries are only logged")
    return top


def _log_event(event: Any) -> None:
    from smsgw.sp.clients import ReportEvent

    if isinstance(event, ReportEvent):
        log.info("{channel}: report for {msg_id}: {stat}", channel=event.channel,
                 msg_id=event.msg_id, stat=event.stat)  # fmt: skip
    else:
        log.info("{channel}: MO to {dest} ({n} bytes)", channel=event.channel, dest=event.to,
                 n=len(event.content))  # fmt: skip


def _channel(url: UpstreamConfig, reactor: Any) -> Service:
    from smsgw.sp.channel import Channel

    log.info("sp: upstream {url}", url=url.redacted())
    return Channel(url, reactor, on_event=_log_event)


class BuiltinUpstream(MultiService):
    """A simulator on a free loopback port in this process, and a channel to it."""

    def __init__(self, config: Config, reactor: Any) -> None:
        super().__init__()
        self.config = config
        self.reactor = reactor
        self.simulator: Any = None
        self.port: Any = None

    def startService(self) -> None:
        self.simulator = build_simulator([], self.config, self.reactor)
        ep = serverFromString(self.reactor, "tcp:0:interface=127.0.0.1")
        d = ep.listen(self.simulator.cmpp_factory())
        d.addCallback(self._listening)
        super().startService()

    def _listening(self, port: Any) -> None:
        self.port = port
        addr = port.getHost()
        account = next(iter(self.simulator.accounts.values()))
        log.info(
            "sp: no upstream configured; started the built-in simulator on "
            "{host}:{port} and connected to it",
            host=addr.host,
            port=addr.port,
        )
        url = parse_upstream_url(
            f"cmpp://{account.id}:{account.secret.decode()}@{addr.host}:{addr.port}"
            "?src_id=1065012345"
        )
        _channel(url, self.reactor).setServiceParent(self)

    def stopService(self) -> Any:
        d = super().stopService()
        if self.port is not None:
            port, self.port = self.port, None
            d.addBoth(lambda _: port.stopListening())
        return d
