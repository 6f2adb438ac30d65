"""``--role=ismg-sim``: the fake ISMG's service tree.

The simulator itself is :class:`smsgw.ismg.simulator.Simulator`; its
behaviour is the ``[simulator]`` configuration's policy.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import IService, MultiService, Service
from twisted.internet.endpoints import serverFromString
from twisted.logger import Logger

from smsgw.config import AccountConfig, Config, SimulatorConfig
from smsgw.config.endpoints import check_demo_listen, is_local, listen_endpoint
from smsgw.protocols.registry import sim_listeners
from smsgw.web.jsonapi import BearerAuthenticated, access_log_line
from smsgw.web.limits import capped, limited_site

log = Logger()


def build_simulator(accounts: list[AccountConfig], config: Config, reactor: Any) -> Any:
    """A :class:`~smsgw.ismg.simulator.Simulator` for *accounts* (or the demo one)."""
    from smsgw.config.policy import Policy
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
                system_type=a.system_type,
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


def _accounts(options: Any, config: Config) -> list[AccountConfig]:
    return [*config.simulator.accounts, *options.get("accounts", [])]


def listener_endpoints(options: Mapping[str, Any], config: Config) -> dict[str, str]:
    """The protocol listeners that are on, option name to endpoint string.

    A listener's endpoint is its option (``--sgip=tcp:8801``), else its
    ``[simulator]`` key, else its default; without any, it is off.
    """
    endpoints = {}
    for listener in sim_listeners():
        option = listener.option
        endpoint = options.get(option) or config.simulator.listeners.get(option)
        endpoint = endpoint or listener.default_endpoint
        if endpoint:
            endpoints[option] = endpoint
    return endpoints


def sgip_without_callback(options: Mapping[str, Any], config: Config) -> list[str]:
    """The configured accounts SGIP cannot reach, when SGIP is served: no ``sgip_callback``.

    SGIP's SMG opens its own link to the SP for reports and MOs, so without
    one they wait (the start-up warns once per account).
    """
    if "sgip" not in listener_endpoints(options, config):
        return []
    return [a.id for a in _accounts(options, config) if a.sgip_callback is None]


class UnsafeControl(ValueError):
    """A control API endpoint beyond loopback with no ``control_token``."""


def control_token(config: Config) -> str:
    """The control API's token: ``$SMSGW_CONTROL_TOKEN``, else ``[simulator] control_token``."""
    return os.environ.get("SMSGW_CONTROL_TOKEN") or config.simulator.control_token


def check_control(options: Mapping[str, Any], config: Config) -> None:
    """Refuse a control API beyond loopback without a token: it steers and reads everything.

    :raises UnsafeControl: naming the endpoint (never a token).
    """
    endpoint = options.get("control") or config.simulator.control
    if not is_local(endpoint) and not control_token(config):
        raise UnsafeControl(
            f"the control API endpoint {endpoint!r} listens beyond loopback and no "
            "control_token is configured ([simulator] control_token or $SMSGW_CONTROL_TOKEN; "
            "clients then send 'Authorization: Bearer TOKEN'), or bind interface=127.0.0.1"
        )


def check_demo(options: Mapping[str, Any], config: Config) -> None:
    """Refuse to serve the demo account on a listener beyond loopback.

    :raises DemoBeyondLoopback: when no account is configured and a protocol
        listener (or the CMPP_FWD or HTTP vendor one) does not bind loopback.
    """
    from smsgw.ismg.simulator import demo_accounts

    demo = None if _accounts(options, config) else demo_accounts()[0].id
    endpoints = [*listener_endpoints(options, config).values()]
    for extra in (config.simulator.fwd, options.get("vendor-http") or config.simulator.vendor_http):
        if extra:
            endpoints.append(extra)
    check_demo_listen("ismg-sim", demo, endpoints)


def make_service(options: Mapping[str, Any], config: Config, reactor: Any) -> IService:
    """The fake ISMG: a listener per protocol served (the registry's) and the control API.

    Listeners are :func:`listener_endpoints`; each binds 127.0.0.1 unless its
    endpoint names an interface, and the demo account is never served beyond
    loopback (:func:`check_demo`).

    :raises DemoBeyondLoopback: see :func:`check_demo`.
    """
    from smsgw.ismg.control import control_resource

    try:
        check_demo(options, config)
        check_control(options, config)
    except ValueError as e:
        log.error("{why}", why=str(e))
        raise
    for account in sgip_without_callback(options, config):
        log.warn(
            "ismg-sim: SGIP account {account} has no callback endpoint: its reports and MOs "
            "wait until it is given one (--account ID:SECRET@tcp:host=…:port=… or "
            "sgip_callback in the account's table)",
            account=account,
        )
    top = MultiService()
    sim = build_simulator(_accounts(options, config), config, reactor)
    top.simulator = sim  # type: ignore[attr-defined]
    cfg = config.simulator
    listeners: dict[str, tuple[str | None, Callable[[], Any]]] = {}
    endpoints = listener_endpoints(options, config)
    for listener in sim_listeners():
        make: Callable[[], Any] = partial(listener.make_factory, sim, cfg)
        listeners[listener.option] = (endpoints.get(listener.option), make)
    from smsgw.ismg.forward import build_forwarder

    forwarder = build_forwarder(sim, cfg, reactor)
    if forwarder is not None:
        listeners["fwd"] = (cfg.fwd, forwarder.factory)
        _OnStop(forwarder.close).setServiceParent(top)
    for name, (given, factory) in listeners.items():
        if given:
            endpoint = listen_endpoint(given)
            svc = StreamServerEndpointService(
                serverFromString(reactor, endpoint), _admitting(factory(), cfg)
            )
            svc.setName(name)
            svc.setServiceParent(top)
            log.info("ismg-sim: {protocol} on {endpoint}", protocol=name, endpoint=endpoint)
    vendor_http = options.get("vendor-http") or cfg.vendor_http
    if vendor_http:
        endpoint = listen_endpoint(vendor_http)
        _vendor_listener(top, sim, config, _accounts(options, config), endpoint, reactor)
    control = listen_endpoint(options.get("control") or config.simulator.control)
    resource = control_resource(sim)
    token = control_token(config)
    if token:
        resource = BearerAuthenticated(
            # The console's page and script hold no data; its API calls send the token.
            resource,
            [token.encode("utf-8")],
            open_paths=(b"healthz", b"openapi.json", b"console"),
        )
    site = limited_site(resource, log_formatter=access_log_line)
    web = StreamServerEndpointService(serverFromString(reactor, control), site)
    web.setName("control")
    web.setServiceParent(top)
    log.info("ismg-sim: control API on {control}", control=control)
    return top


def _vendor_listener(
    top: MultiService,
    sim: Any,
    config: Config,
    accounts: list[AccountConfig],
    endpoint: str,
    reactor: Any,
) -> None:
    """Every loaded vendor under ``/NAME/`` on *endpoint*; pushes through a treq pool."""
    from treq.client import HTTPClient
    from twisted.web.client import Agent, HTTPConnectionPool

    from smsgw.ismg.vendors import vendor_site
    from smsgw.vendor.catalogue import load_vendors

    vendors = load_vendors(config.vendors.dirs)
    pool = HTTPConnectionPool(reactor)
    # As many kept-alive connections as a vendor pushes at once (VendorSimulator.push_concurrency).
    pool.maxPersistentPerHost = 16
    http = HTTPClient(Agent(reactor, pool=pool))
    site = vendor_site(sim, vendors, accounts, reactor, http)
    svc = StreamServerEndpointService(serverFromString(reactor, endpoint), capped(site))
    svc.setName("vendor-http")
    svc.setServiceParent(top)
    _OnStop(pool.closeCachedConnections).setServiceParent(top)
    log.info(
        "ismg-sim: HTTP vendors {names} on {endpoint}",
        names=",".join(sorted(vendors)),
        endpoint=endpoint,
    )


def _admitting(factory: Any, cfg: SimulatorConfig) -> Any:
    """A session listener's factory within the login caps and login time of *cfg*."""
    from smsgw.protocols.admission import LoginLimits
    from smsgw.protocols.session import SessionFactory

    if not isinstance(factory, SessionFactory):
        return factory
    return LoginLimits(
        factory,
        max_unbound=cfg.max_unauthenticated,
        max_unbound_per_peer=cfg.max_unauthenticated_per_ip,
        login_timeout_s=cfg.login_timeout_s,
    )


class _OnStop(Service):
    """Runs a clean-up when the tree stops (e.g. closing ISMG-to-ISMG links)."""

    def __init__(self, close: Any) -> None:
        self.close = close

    def stopService(self) -> Any:
        super().stopService()
        return self.close()
