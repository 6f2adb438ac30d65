"""``--role=gns-sim``: the fake GNS's service tree, from its ``[gns]`` configuration.

The configuration is read by :mod:`smsgw.gns.config`; the GNS itself is
:class:`smsgw.gns.server.GnsServer`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import MultiService
from twisted.internet.endpoints import serverFromString
from twisted.logger import Logger

from smsgw.config import AccountConfig, Config, ConfigError
from smsgw.config.endpoints import check_demo_listen, listen_endpoint
from smsgw.gns.config import GnsConfig, parse_gns_config, six_digits
from smsgw.gns.control import control_resource
from smsgw.gns.routes import MoRoute, MtRoute, RouteTable
from smsgw.gns.server import GnsServer, IsmgAccount
from smsgw.web.jsonapi import access_log_line
from smsgw.web.limits import limited_site

__all__ = ["demo_ismgs", "demo_routes", "ismg_account", "make_gns_sim", "make_service"]

log = Logger()


# -- the demo ------------------------------------------------------------------------------


def demo_ismgs() -> list[IsmgAccount]:
    """The ISMG a GNS started with no configured ISMG accepts (no push endpoint)."""
    return [IsmgAccount("001001", b"123456")]


def demo_routes() -> tuple[list[MtRoute], list[MoRoute]]:
    """A small table: three provinces' ISMGs, a nested segment, SP routes with a service."""
    mt = [
        MtRoute(0, "001001", "127.0.0.1", 7890, "139000", "139499", "010"),
        MtRoute(1, "002001", "127.0.0.1", 7932, "139500", "139999", "021"),
        MtRoute(2, "003001", "127.0.0.1", 7933, "138", "138", "020"),
        MtRoute(3, "001001", "127.0.0.1", 7890, "138001", "138001", "010"),
    ]
    mo = [
        MoRoute(0, "001001", "127.0.0.1", 7890, "1065901234"),
        MoRoute(1, "002001", "127.0.0.1", 7932, "10659012", "TPCQ", 1000, 2000),
        MoRoute(2, "003001", "127.0.0.1", 7933, "10658"),
    ]
    return mt, mo


# -- the service tree ----------------------------------------------------------------------


def ismg_account(account: IsmgAccount | AccountConfig) -> IsmgAccount:
    """An ISMG account from ``--account CODE:SECRET`` (:func:`smsgw.config.parse_account`).

    Such an ISMG gets no pushes (no push endpoint).

    :raises ConfigError: naming ``--account`` when the id is not a 6-digit code.
    """
    if isinstance(account, IsmgAccount):
        return account
    if not six_digits(account.id):
        raise ConfigError("a GNS account id is a 6-digit ISMG code", key="--account")
    return IsmgAccount(account.id, account.secret.encode("utf-8"))


def make_gns_sim(
    listen: str | None,
    control: str | None,
    accounts: Sequence[IsmgAccount | AccountConfig],
    config: GnsConfig,
    reactor: Any,
) -> MultiService:
    """The fake GNS: the CMPP listener (named ``"gns"``) and the control API (``"control"``).

    :param listen: the CMPP endpoint; ``None`` for ``config.listen``.  Every
        endpoint binds 127.0.0.1 unless it names an interface, and the demo
        ISMG is refused beyond loopback (:exc:`DemoBeyondLoopback`).
    :param control: the control API endpoint; ``None`` for ``config.control``.
    :param accounts: ISMG accounts in addition to ``config.ismgs`` (an
        :class:`~smsgw.config.AccountConfig` from ``--account`` becomes one
        through :func:`ismg_account`); with none at all the demo ISMG of
        :func:`demo_ismgs` is served (its code is logged, never its secret).
    :param config: the parsed ``[gns]`` table (:func:`parse_gns_config`);
        with no route configured the table starts as :func:`demo_routes`.
    :param reactor: the reactor: endpoints, timers and push connections.
    :returns: a ``MultiService`` whose ``gns`` attribute is the
        :class:`~smsgw.gns.server.GnsServer`.
    """
    ismgs = [*config.ismgs, *(ismg_account(a) for a in accounts)]
    listen = listen_endpoint(listen or config.listen)
    try:
        check_demo_listen("gns-sim", None if ismgs else demo_ismgs()[0].code, [listen])
    except ValueError as e:
        log.error("{why}", why=str(e))
        raise
    if not ismgs:
        ismgs = demo_ismgs()
        log.info(
            "gns-sim: no ISMG configured; serving the demo ISMG {code} "
            "(its secret is in the README)",
            code=ismgs[0].code,
        )
    mt: Sequence[MtRoute] = config.mt_routes
    mo: Sequence[MoRoute] = config.mo_routes
    if not mt and not mo:
        mt, mo = demo_routes()
        log.info("gns-sim: no route configured; starting with the demo table")
    table = RouteTable(mt, mo, now=reactor.seconds)
    server = GnsServer(
        reactor,
        table,
        ismgs,
        gateway_code=config.gateway_code,
        auto_confirm=config.auto_confirm,
    )
    top = MultiService()
    top.gns = server  # type: ignore[attr-defined]
    svc = StreamServerEndpointService(serverFromString(reactor, listen), server.factory())
    svc.setName("gns")
    svc.setServiceParent(top)
    control = listen_endpoint(control or config.control)
    site = limited_site(control_resource(server), log_formatter=access_log_line)
    web = StreamServerEndpointService(serverFromString(reactor, control), site)
    web.setName("control")
    web.setServiceParent(top)
    log.info(
        "gns-sim: CMPP 2.0 on {listen} (GNS code {code}), control API on {control}; "
        "{mt} MT and {mo} MO routes",
        listen=listen,
        code=config.gateway_code,
        control=control,
        mt=len(mt),
        mo=len(mo),
    )
    return top


def check_demo(options: Mapping[str, Any], config: GnsConfig) -> None:
    """Refuse to serve the demo ISMG on a listener beyond loopback.

    :raises DemoBeyondLoopback: when no ISMG is configured and the CMPP
        endpoint does not bind loopback.
    """
    demo = None if (config.ismgs or options.get("accounts")) else demo_ismgs()[0].code
    check_demo_listen("gns-sim", demo, [options.get("listen") or config.listen])


def make_service(options: Mapping[str, Any], config: Config, reactor: Any) -> MultiService:
    """The gns-sim role from the ``twistd smsgw`` options (``listen``, ``control``, ``accounts``).

    :param options: the options; ``gns`` holds the ``[gns]`` table parsed by
        ``postOptions``, else *config*'s is parsed here.
    """
    gns = options.get("gns") or parse_gns_config(config.gns, "<config>")
    return make_gns_sim(
        options.get("listen"),
        options.get("control"),
        list(options.get("accounts", [])),
        gns,
        reactor,
    )
