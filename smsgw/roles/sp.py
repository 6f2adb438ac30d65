"""``--role=sp``: the SP role's service tree: store, channels, gateway, callbacks, HTTP API.

:class:`SpService` starts in order: the store opens, the
built-in simulator starts when no upstream is configured, the channels log
in, the gateway requeues what a crash left in flight and starts pumping,
and the HTTP API listens last.  Stopping runs in reverse, so links drain
before the store closes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import IService, MultiService
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import serverFromString
from twisted.logger import Logger
from twisted.web.resource import Resource

from smsgw.config import Config, ConfigError, UpstreamConfig, parse_upstream_url
from smsgw.config.endpoints import is_local, listen_endpoint
from smsgw.config.schema import StoreConfig
from smsgw.config.stores import (
    StoreTarget,
    default_node,
    parse_redis_url,
    parse_store_url,
)
from smsgw.protocols.registry import for_scheme
from smsgw.sp.channel import Channel
from smsgw.sp.interfaces import ChannelSetup, IChannel
from smsgw.sp.routing import Router, RouteSpec
from smsgw.web.jsonapi import access_log_line
from smsgw.web.limits import HttpLimits, limited_site


class UnsafeListen(ValueError):
    """An HTTP endpoint beyond loopback with no API key configured."""


def check_listen(endpoint: str, api_keys: Any) -> None:
    """Refuse to serve the API beyond loopback when no API key is configured.

    *endpoint* is taken as :func:`~smsgw.config.endpoints.listen_endpoint`
    binds it: ``tcp:8080`` is loopback, ``tcp:8080:interface=0.0.0.0`` is not.
    """
    if api_keys:
        return
    if not is_local(endpoint):
        raise UnsafeListen(
            f"the HTTP API endpoint {endpoint!r} listens beyond loopback and no [[api_key]] "
            "is configured; add interface=127.0.0.1 or configure API keys"
        )


class SpService(MultiService):
    """Everything ``twistd smsgw --role=sp`` runs.

    :param config: the loaded configuration.
    :param upstreams: channels from the command line (added to the config's).
    :param http: the HTTP API endpoint.
    :param db: the store: an SQLite file, ``sqlite:PATH`` or ``postgresql://…``
        (several nodes; ``[cluster]`` then names this node and its Redis).
    :param reactor: the reactor.
    :param compat_http: the seed-001-compatible API's endpoint, or None (off).
    """

    log = Logger()

    def __init__(
        self,
        config: Config,
        upstreams: list[UpstreamConfig],
        http: str,
        db: str,
        reactor: Any,
        compat_http: str | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.upstreams = [*upstreams, *config.upstreams]
        self.http = http
        self.db = db
        self.target = parse_store_url(db)
        self.reactor = reactor
        #: This node's name among several (marks the segments it claims).
        self.node = config.cluster.node or default_node(http)
        self.store: Any = None
        #: The Redis coordinator of several nodes (smsgw.cluster), or None.
        self.coordinator: Any = None
        self.gateway: Any = None
        self.simulator: Any = None
        self.metrics: Any = None
        self._sim_port: Any = None
        self._web: StreamServerEndpointService | None = None
        self._compat: StreamServerEndpointService | None = None
        self.ready: Deferred[None] = Deferred()
        check_listen(http, config.api_keys)
        #: The seed-001-compatible /mt /mo endpoint, or None (:mod:`smsgw.web.compat`).
        self.compat_http = compat_http
        if compat_http:
            check_listen(compat_http, config.api_keys)

    def startService(self) -> None:
        super().startService()
        d = Deferred.fromCoroutine(self._start())
        d.addCallbacks(self.ready.callback, self._failed)

    def _failed(self, failure: Any) -> None:
        self.log.failure("sp: start-up failed; stopping", failure)
        self.ready.errback(failure)
        if self.reactor.running:
            self.reactor.stop()

    async def _start(self) -> None:
        from smsgw.metrics import Metrics
        from smsgw.sp.gateway import Gateway
        from smsgw.web.api import api_resource

        self.store = await self._open_store()
        self.log.info("sp: store {db} open", db=self.target.redacted())
        if self.config.cluster.redis:
            from smsgw.cluster import Coordinator

            self.coordinator = Coordinator(self.config.cluster.redis, self.reactor, self.node)
            self.log.info("sp: node {node}: TPS limits and session caps shared in Redis",
                          node=self.node)  # fmt: skip
        elif self.target.shared:
            self.log.warn(
                "sp: node {node} on a shared store without [cluster] redis: its TPS limits "
                "and session counts are its own, not shared with other nodes",
                node=self.node,
            )
        upstreams = list(self.upstreams)
        if not upstreams:
            upstreams.append(await self._builtin_simulator())
        self.metrics = Metrics()
        channels: dict[str, IChannel] = {}
        routes: list[RouteSpec] = []
        for url in upstreams:
            name = url.name or url.account
            if name in channels:
                name = f"{name}-{len(channels)}"
            self.log.info("sp: channel {name}: {url}", name=name, url=url.redacted())
            channels[name] = self._channel(url, name)
            routes.append(RouteSpec(name, url.scheme, url.routes))
        router = Router(routes)
        callbacks = self._callbacks()
        self.gateway = Gateway(
            self.store,
            channels,
            router,
            self.reactor,
            callbacks=callbacks,
            metrics=self.metrics,
            reclaim_after_s=self.config.cluster.visibility_timeout_s,
        )
        self.gateway.setServiceParent(self)
        if callbacks is not None:
            callbacks.start()
        keys = [k.key for k in self.config.api_keys]
        push = push_resources(channels)
        site = limited_site(
            api_resource(self.gateway, self.metrics, keys, push=push),
            limits=self.http_limits(),
            log_formatter=access_log_line,
            api=True,
        )
        http = listen_endpoint(self.http)
        self._web = StreamServerEndpointService(serverFromString(self.reactor, http), site)
        self._web.setServiceParent(self)
        self.log.info("sp: HTTP API on {http}", http=http)
        if self.compat_http:
            self._start_compat(self.compat_http)

    async def _open_store(self) -> Any:
        if self.target.kind == "postgresql":
            from smsgw.store.postgres import PostgresStore

            return await PostgresStore.open(self.target.location, self.reactor, node=self.node)
        from smsgw.store.sqlite import SqliteStore

        return await SqliteStore.open(
            self.target.location, reactor=self.reactor, process=self.config.store.process
        )

    def http_limits(self) -> HttpLimits:
        """The ``[http]`` caps and idle time of the HTTP listeners."""
        http = self.config.http
        return HttpLimits(http.max_connections, http.max_connections_per_ip, http.idle_timeout_s)

    def _start_compat(self, endpoint: str) -> None:
        """Serve the seed-001-compatible ``/mt`` ``/mo`` API on *endpoint*."""
        from smsgw.web.compat import compat_service

        endpoint = listen_endpoint(endpoint)  # loopback unless it names an interface
        self._compat = compat_service(
            self.gateway, self.config.api_keys, endpoint, self.reactor, self.http_limits()
        )
        self._compat.setServiceParent(self)
        self.log.info(
            "sp: seed-001-compatible /mt /mo API on {endpoint} ({n} accounts: the API keys)",
            endpoint=endpoint,
            n=len({k.name for k in self.config.api_keys}),
        )

    def _channel(self, url: UpstreamConfig, name: str) -> IChannel:
        """The channel of *url*: its protocol's own (``make_channel``) or a session one."""
        make_channel = for_scheme(url.scheme).make_channel
        if make_channel is None:
            return Channel(url, self.reactor, name=name, coordinator=self.coordinator)
        channel: IChannel = make_channel(
            url, self.reactor, ChannelSetup(name, self.config.vendors.dirs)
        )
        return channel

    def _callbacks(self) -> Any:
        cb = self.config.callbacks
        if not (cb.report_url or cb.mo_url):
            return None
        import treq
        from twisted.web.client import Agent, HTTPConnectionPool

        from smsgw.sp.callbacks import CallbackSender
        from smsgw.store.model import InboundKind

        pool = HTTPConnectionPool(self.reactor, persistent=True)
        pool.maxPersistentPerHost = 4
        http = treq.client.HTTPClient(Agent(self.reactor, pool=pool))
        urls = {}
        if cb.report_url:
            urls[InboundKind.REPORT] = cb.report_url
        if cb.mo_url:
            urls[InboundKind.MO] = cb.mo_url
        return CallbackSender(self.store, self.reactor, urls, http, self.metrics)

    async def _builtin_simulator(self) -> UpstreamConfig:
        from smsgw.protocols.cmpp.face import cmpp_factory
        from smsgw.roles.ismg_sim import build_simulator

        self.simulator = build_simulator([], self.config, self.reactor)
        ep = serverFromString(self.reactor, "tcp:0:interface=127.0.0.1")
        self._sim_port = await ep.listen(cmpp_factory(self.simulator))
        addr = self._sim_port.getHost()
        account = next(iter(self.simulator.accounts.values()))
        self.log.info(
            "sp: no upstream configured; started the built-in CMPP simulator on "
            "{host}:{port} (demo account {account})",
            host=addr.host,
            port=addr.port,
            account=account.id,
        )
        return parse_upstream_url(
            f"cmpp://{account.id}:{account.secret.decode()}@{addr.host}:{addr.port}"
            "?src_id=1065012345"
        )

    def stopService(self) -> Deferred[None]:
        d: Deferred[None] = super().stopService()

        async def after(_: object) -> None:
            if self._sim_port is not None:
                await self._sim_port.stopListening()
            if self.store is not None:
                await self.store.close()
            if self.coordinator is not None:
                await self.coordinator.close()

        return d.addBoth(lambda r: Deferred.fromCoroutine(after(r)))


def push_resources(channels: Mapping[str, IChannel]) -> Resource | None:
    """``/push/CHANNEL/…``: where vendors push reports and MOs, for the channels that take them."""
    top = Resource()
    found = False
    for name, channel in channels.items():
        make = getattr(channel, "push_resource", None)
        resource = make() if make is not None else None
        if resource is not None:
            top.putChild(name.encode("utf-8"), resource)
            found = True
    return top if found else None


def check_upstreams(config: Config, upstreams: list[UpstreamConfig]) -> None:
    """Refuse at start an HTTP upstream whose vendor is unknown or not recognised,
    and an upstream whose ``tls_ca`` cannot be read.

    :raises ValueError: naming the channel and the vendors known, or the file.
    """
    from smsgw.sp.tls import trust_root
    from smsgw.vendor.catalogue import load_vendors
    from smsgw.vendor.channel import resolve_vendor

    for upstream in [*upstreams, *config.upstreams]:
        if upstream.tls_ca:
            try:
                trust_root(upstream.tls_ca)
            except ConfigError as error:
                raise ConfigError(error.reason, key=f"{upstream.name}: tls_ca") from None
    http = [u for u in [*upstreams, *config.upstreams] if for_scheme(u.scheme).url_path]
    if http:
        vendors = load_vendors(config.vendors.dirs)
        for upstream in http:
            resolve_vendor(upstream, vendors)


def with_cluster_options(options: Mapping[str, Any], config: Config) -> Config:
    """*config* with ``--store``/``--db``, ``--redis`` (or ``--queue``) and ``--node`` folded in.

    :raises ValueError: naming the option, for a bad URL, both ``--store``
        and ``--db``, or Redis without a PostgreSQL store (a node's SQLite
        file cannot be shared, so neither can its limits).
    """
    store, cluster = config.store, config.cluster
    if options.get("store") and options.get("db"):
        raise ValueError("--store and --db: give one of them")
    if options.get("store"):
        try:
            parse_store_url(options["store"])
        except ValueError as e:
            raise ValueError(f"--store: {e}") from None
        store = attrs.evolve(store, url=options["store"])
    elif options.get("db"):
        store = attrs.evolve(store, url=f"sqlite:{options['db']}")
    if options.get("redis") and options.get("queue"):
        raise ValueError("--redis and --queue are the same option: give one of them")
    redis_url = options.get("redis") or options.get("queue")
    if redis_url:
        try:
            parse_redis_url(redis_url)
        except ValueError as e:
            raise ValueError(f"--redis: {e}") from None
        cluster = attrs.evolve(cluster, redis=redis_url)
    if options.get("node"):
        cluster = attrs.evolve(cluster, node=options["node"])
    if cluster.redis and not store_target(store).shared:
        raise ValueError(
            "--redis (or [cluster] redis) needs a store the nodes share: "
            "--store postgresql://USER@HOST:PORT/DB"
        )
    return attrs.evolve(config, store=store, cluster=cluster)


def store_target(store: StoreConfig) -> StoreTarget:
    """The store ``[store]`` names: its ``url``, or the SQLite file at ``path``."""
    return parse_store_url(store.url) if store.url else StoreTarget("sqlite", store.path)


def make_service(options: Mapping[str, Any], config: Config, reactor: Any) -> IService:
    """The SP role: store, channels (or the built-in simulator), gateway, HTTP API.

    :param options: the ``twistd smsgw`` options (``upstreams``, ``http``, ``db``,
        ``compat-http``).
    """
    config = with_cluster_options(options, config)
    return SpService(
        config,
        list(options.get("upstreams", [])),
        options.get("http") or config.http.listen,
        store_target(config.store).location,
        reactor,
        options.get("compat-http") or config.http.compat_listen,
    )
