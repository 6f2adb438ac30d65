"""The configuration's value objects: frozen attrs classes, validated on read.

Read from the TOML file by :mod:`smsgw.config.load`, from upstream URLs by
:mod:`smsgw.config.upstream`.  Secrets never appear in ``repr``.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, urlencode

import attrs

from smsgw.config.policy import Policy
from smsgw.protocols.registry import (
    Extras,
    extras_query,
    for_scheme,
    sim_listeners,
)

DEFAULT_HTTP = "tcp:8080:interface=127.0.0.1"
"""The SP HTTP API's endpoint (loopback only by default)."""


DEFAULT_CONTROL = "tcp:8081:interface=127.0.0.1"
"""The simulator control API's endpoint (loopback only)."""


DEFAULT_STORE = "smsgw.sqlite3"
"""The SQLite database, in the working directory."""


DEFAULT_BALANCE = 1_000_000
"""A simulated HTTP vendor account's balance, in message parts, per product."""


DIGITS = re.compile(r"[0-9]+")


_FLOAT = re.compile(r"[0-9.eE+-]+")


@attrs.frozen
class HttpConfig:
    """``[http]``: the SP HTTP API.

    :ivar listen: a Twisted server endpoint string.
    :ivar compat_listen: where the seed-001-compatible ``/mt`` ``/mo`` API
        listens (:mod:`smsgw.web.compat`); ``None``: off.
    :ivar max_connections: connections each of these listeners holds open at
        once; more are closed at once.
    :ivar max_connections_per_ip: the same from one source address.
    :ivar idle_timeout_s: seconds a silent connection stays open.
    """

    listen: str = DEFAULT_HTTP
    compat_listen: str | None = None
    max_connections: int = 1024
    max_connections_per_ip: int = 256
    idle_timeout_s: float = 60.0


@attrs.frozen
class StoreConfig:
    """``[store]``: the message store.

    :ivar path: the SQLite database file.
    :ivar process: run its transactions in a database process of its own
        (the default; faster under load) rather than a thread of the gateway's.
    :ivar url: ``sqlite:PATH`` or ``postgresql://…`` (several nodes); when
        given, it replaces *path*.
    """

    path: str = DEFAULT_STORE
    process: bool = True
    url: str | None = None


@attrs.frozen
class ClusterConfig:
    """``[cluster]``: several SP nodes on one PostgreSQL store (docs/scale-out.md).

    :ivar redis: the Redis holding the shared TPS buckets and session leases;
        ``None``: each node keeps its own (one node alone).
    :ivar node: this node's name, stable across its restarts; ``None``: the
        host name and the HTTP API's port.
    :ivar visibility_timeout_s: a segment claimed this long ago and still not
        sent back is requeued for any node (its node is taken for dead).
    """

    redis: str | None = attrs.field(default=None, repr=False)
    node: str | None = None
    visibility_timeout_s: float = 60.0


@attrs.frozen
class CallbacksConfig:
    """``[callbacks]``: where reports and MOs are pushed (http or https URLs)."""

    report_url: str | None = None
    mo_url: str | None = None


@attrs.frozen
class ApiKeyConfig:
    """``[[api_key]]``: a key accepted as ``Authorization: Bearer KEY``.

    :ivar key: the secret key (not in ``repr``).
    :ivar name: who uses it, for logs.
    """

    key: str = attrs.field(repr=False)
    name: str


@attrs.frozen
class AccountConfig:
    """An SP account on the simulator: ``[[simulator.account]]`` or ``--account``.

    :ivar id: the login name (CMPP ``Source_Addr``, SGIP login name, SMGP
        ``ClientID``).
    :ivar secret: the shared secret (not in ``repr``).
    :ivar max_sessions: most concurrent sessions.
    :ivar allowed_ips: IP addresses or CIDR networks (``10.0.0.0/8``) the SP
        may connect from, as written (validated); empty for any.  Use
        :meth:`allows_ip` to match networks too.
    :ivar tps: SUBMITs per second before result 8; ``None`` for no limit.
    :ivar src_prefix: the SP service code every ``Src_Id`` must start with;
        empty for any.
    :ivar report_url: HTTP vendors (``--vendor-http``): where this account's
        reports are pushed; ``{vendor}`` in it becomes the vendor's name.
        ``None``: held for pull where the vendor has pull.
    :ivar mo_url: likewise for MOs.
    :ivar balance: HTTP vendors: message parts the account may send, per
        vendor and product.
    :ivar products: HTTP vendors: the product ids the account has; empty
        for any (each opened with :attr:`balance` on first use).
    """

    id: str
    secret: str = attrs.field(repr=False)
    max_sessions: int = 8
    allowed_ips: tuple[str, ...] = ()
    tps: float | None = None
    src_prefix: str = ""
    #: SGIP: client endpoint of the SP's own server for Deliver/Report (sgip12.md §2).
    sgip_callback: str | None = None
    #: SMPP: the system_type a bind must carry; empty for any.
    system_type: str = ""
    report_url: str | None = None
    mo_url: str | None = None
    balance: int = DEFAULT_BALANCE
    products: tuple[str, ...] = ()

    def allows_ip(self, address: str) -> bool:
        """Whether a peer at *address* may log in.

        IPv4-mapped IPv6 addresses (``::ffff:10.0.0.1``, from dual-stack
        sockets) are matched as IPv4; an unparsable address or entry matches
        nothing.
        """
        if not self.allowed_ips:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in _networks(self.allowed_ips))

    def allows_src_id(self, src_id: str) -> bool:
        """Whether a SUBMIT's ``Src_Id`` starts with :attr:`src_prefix`."""
        return src_id.startswith(self.src_prefix)


def _networks(items: Iterable[str]) -> Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The valid networks among *items* (validated at load; built by hand, maybe not)."""
    for item in items:
        try:
            yield ipaddress.ip_network(item, strict=False)
        except ValueError:
            continue


@attrs.frozen
class PeerConfig:
    """``[[simulator.peer]]``: another ISMG for CMPP_FWD.

    :ivar code: its 6-digit ISMG code.
    :ivar host: where its forwarding listener is.
    :ivar secret: the secret shared with it (not in ``repr``).
    :ivar prefixes: number segments it homes (static MT routes).
    :ivar sp_codes: SP service codes attached to it (static MO routes).
    """

    code: str
    host: str
    port: int
    secret: str = attrs.field(repr=False)
    prefixes: tuple[str, ...] = ()
    sp_codes: tuple[str, ...] = ()


def _default_listeners() -> dict[str, str]:
    return {
        listener.option: listener.default_endpoint
        for listener in sim_listeners()
        if listener.default_endpoint is not None
    }


@attrs.frozen
class SimulatorConfig:
    """``[simulator]``: the fake carrier's listeners, accounts and policy.

    :ivar listeners: the protocols served, as Twisted server endpoint
        strings by ismg-sim option (the registry's
        :class:`~smsgw.protocols.registry.SimListener`); a protocol not
        served has no entry.
    :ivar gateway_code: the 6-digit ISMG code put into message ids.
    """

    listeners: dict[str, str] = attrs.field(factory=_default_listeners, hash=False)
    control: str = DEFAULT_CONTROL
    #: ``Authorization: Bearer`` token the control API requires; "" for none (loopback only).
    control_token: str = attrs.field(default="", repr=False)
    #: Seconds a link to a listener has to log in before it is closed.
    login_timeout_s: float = 10.0
    #: Links not logged in yet, in all and from one address, before new ones are closed.
    max_unauthenticated: int = 256
    max_unauthenticated_per_ip: int = 32
    gateway_code: str = "001001"
    #: SGIP node id of the fake SMG (sgip12.md §3.1: ``1AAAAX``).
    sgip_node_id: int = 107551
    #: SMGW code in SMGP MsgIDs (smgp30.md §9, 6 digits).
    smgp_code: int = 100610
    #: SMPP: the SMSC's system_id in bind responses.
    smpp_system_id: str = "SMSGW"
    #: SMPP: message ids in ``decimal``, ``hex`` or ``uuid`` form.
    smpp_message_id: str = "decimal"
    #: SMPP: the receipt text's ``id:`` as answered (``same``) or its number in ``decimal``.
    smpp_receipt_id: str = "same"
    #: SMPP: receipt dates of 10 (``YYMMDDhhmm``) or 12 digits (with seconds).
    smpp_receipt_date_digits: int = 10
    #: SMPP: receipt keys in ``lower`` (``id:``), ``upper`` or ``title`` case.
    smpp_receipt_keys: str = "lower"
    #: SMPP: what a receipt carries: the ``text``, the ``tlvs`` or ``both``.
    smpp_receipt_tlvs: str = "both"
    #: SMPP: how a long MO is carried: ``udh``, ``sar`` or ``payload``.
    smpp_mo_long: str = "udh"
    accounts: tuple[AccountConfig, ...] = ()
    policy: Policy = attrs.field(factory=Policy)
    #: CMPP_FWD: the listener for other ISMGs (port 7930 semantics), or None.
    fwd: str | None = None
    #: Number segments this ISMG delivers itself; empty = every number.
    home_prefixes: tuple[str, ...] = ()
    #: ``[[simulator.peer]]``: ISMGs known without asking the GNS.
    peers: tuple[PeerConfig, ...] = ()
    #: The GNS to ask for routes: a client endpoint string, or None.
    gns: str | None = None
    gns_secret: str = attrs.field(default="", repr=False)
    #: The secret shared with ISMGs learned from the GNS.
    peer_secret: str = attrs.field(default="", repr=False)
    #: Every HTTP vendor's endpoints, under ``/NAME/``: an endpoint string, or None.
    vendor_http: str | None = None

    @property
    def gateway_code_int(self) -> int:
        """:attr:`gateway_code` as a number (``"001001"`` is 1001)."""
        return int(self.gateway_code)


@attrs.frozen
class UpstreamConfig:
    """One upstream channel: ``[[upstream]]`` or ``--upstream URL``.

    :ivar name: the channel's name; the account when given only as a URL.
    :ivar scheme: a registered URL scheme (:func:`smsgw.protocols.registry.schemes`).
    :ivar secret: the shared secret (not in ``repr``; see :meth:`redacted`).
    :ivar routes: number prefixes routed to this channel.
    :ivar window: most unanswered requests per session.
    :ivar tps: most SUBMITs per second over all sessions; ``None`` for no limit.
    :ivar sessions: concurrent sessions.
    :ivar response_timeout_s: seconds to wait for a response.
    :ivar retries: attempts for an unanswered request.
    :ivar keepalive_s: idle seconds before an active test.
    :ivar tls: links go over TLS (``tls=true``; an ``https://`` vendor always does).
    :ivar tls_ca: a PEM file of the certificate authority to trust instead of
        the system's (empty: the system's); the server's name is checked
        against the host either way.
    :ivar path: the URL's path (an HTTP vendor's base path), "" for the others.
    :ivar extra: the protocol's own keys, typed: an instance of its spec's
        :attr:`~smsgw.protocols.registry.ProtocolSpec.extras` (every one has
        ``charset``; SGIP ``node_id``, ``corp_id``, ``listen``; SMGP
        ``login_mode``).
    """

    scheme: str
    account: str
    secret: str = attrs.field(repr=False)
    host: str
    port: int
    name: str = ""
    routes: tuple[str, ...] = ()
    src_id: str = ""
    service_id: str = ""
    window: int = 16
    tps: float | None = None
    sessions: int = 1
    response_timeout_s: float = 60.0
    retries: int = 3
    keepalive_s: float = 180.0
    tls: bool = False
    tls_ca: str = ""
    path: str = ""
    extra: Extras = attrs.field()

    @extra.default
    def _default_extra(self) -> Extras:
        return for_scheme(self.scheme).extras()

    def redacted(self) -> str:
        """The URL with the secret replaced by ``***``, for logs.

        The query holds the settings that differ from the defaults, in a fixed
        order; :func:`parse_upstream_url` reads it back.
        """
        host = f"[{self.host}]" if ":" in self.host else self.host
        query: list[tuple[str, str]] = []
        for key, _ in URL_SETTINGS:
            value = getattr(self, key)
            if value != _DEFAULTS[key]:
                query.append((key, _url_text(value)))
        query.extend(extras_query(self.extra))
        url = f"{self.scheme}://{quote(self.account, safe='')}:***@{host}:{self.port}{self.path}"
        return f"{url}?{urlencode(query)}" if query else url


@attrs.frozen
class VendorsConfig:
    """``[vendors]``: where HTTP vendor description files are read from.

    :ivar dirs: folders of ``*.xml`` vendor files, read after the shipped
        ones (and ``--plugins DIR``); a folder may not redefine a vendor.
    """

    dirs: tuple[str, ...] = ()


@attrs.frozen
class Config:
    """The whole configuration file.

    :ivar gns: the ``[gns]`` table as read; its shape is defined by the GNS
        simulator.
    """

    http: HttpConfig = attrs.field(factory=HttpConfig)
    store: StoreConfig = attrs.field(factory=StoreConfig)
    cluster: ClusterConfig = attrs.field(factory=ClusterConfig)
    upstreams: tuple[UpstreamConfig, ...] = ()
    callbacks: CallbacksConfig = attrs.field(factory=CallbacksConfig)
    api_keys: tuple[ApiKeyConfig, ...] = ()
    simulator: SimulatorConfig = attrs.field(factory=SimulatorConfig)
    vendors: VendorsConfig = attrs.field(factory=VendorsConfig)
    gns: dict[str, Any] = attrs.field(factory=dict, hash=False)


def _url_int(minimum: int, maximum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not (DIGITS.fullmatch(text) and minimum <= int(text) <= maximum):
            raise ValueError(f"expected an integer from {minimum} to {maximum}")
        return int(text)

    return parse


def _url_positive(text: str) -> float:
    try:
        value = float(text) if _FLOAT.fullmatch(text) else math.nan
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError("expected a number > 0")
    return value


def _url_text(value: object) -> str:
    """A setting's value as its URL parser reads it back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else repr(value)


def _url_bool(text: str) -> bool:
    if text not in ("true", "false", "1", "0"):
        raise ValueError("expected true or false")
    return text in ("true", "1")


URL_SETTINGS: tuple[tuple[str, Callable[[str], Any]], ...] = (
    ("src_id", str),
    ("service_id", str),
    ("window", _url_int(1, 1024)),
    ("tps", _url_positive),
    ("sessions", _url_int(1, 64)),
    ("response_timeout_s", _url_positive),
    ("retries", _url_int(1, 10)),
    ("keepalive_s", _url_positive),
    ("tls", _url_bool),
    ("tls_ca", str),
)


_DEFAULTS = {
    field.name: field.default
    for field in attrs.fields(UpstreamConfig)
    if field.name not in ("extra", "path")
}
