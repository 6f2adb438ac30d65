"""Configuration: the TOML file (DESIGN.md §4.2) and command-line values (§4.1).

:func:`load_config` reads the file with the standard :mod:`tomllib` into
frozen attrs objects.  Every problem (unknown keys, wrong types, values out
of range) is a :class:`ConfigError` naming the file and the dotted key::

    smsgw.toml: simulator.account[1].secret: expected a string

Array items are counted from 0, as in ``upstream[0].url``.  Secrets (account
secrets, API keys) never appear in messages or in ``repr``.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import attrs

from smsgw.ismg.policy import Policy, PolicyError
from smsgw.protocols.registry import (
    Extras,
    ExtrasError,
    build_extras,
    extras_keys,
    extras_query,
    for_scheme,
    schemes,
    sim_listeners,
)

__all__ = [
    "DEFAULT_CONTROL",
    "DEFAULT_HTTP",
    "DEFAULT_STORE",
    "AccountConfig",
    "ApiKeyConfig",
    "CallbacksConfig",
    "Config",
    "ConfigError",
    "HttpConfig",
    "SimulatorConfig",
    "StoreConfig",
    "UpstreamConfig",
    "load_config",
    "parse_account",
    "parse_config",
    "parse_upstream_url",
]

T = TypeVar("T")

DEFAULT_HTTP = "tcp:8080:interface=127.0.0.1"
"""The SP HTTP API's endpoint (DESIGN.md §4.1)."""

DEFAULT_CONTROL = "tcp:8081:interface=127.0.0.1"
"""The simulator control API's endpoint (DESIGN.md §4.1)."""

DEFAULT_STORE = "smsgw.sqlite3"
"""The SQLite database, in the working directory."""

_DIGITS = re.compile(r"[0-9]+")
_FLOAT = re.compile(r"[0-9.eE+-]+")


class ConfigError(ValueError):
    """A configuration value is invalid.

    :ivar reason: what is wrong.
    :ivar key: the dotted key (``simulator.account[1].secret``), a URL part
        (``scheme``, ``window``) or an option (``--account``); ``None`` for the
        file as a whole.
    :ivar source: the file name, or ``None`` for command-line values.
    """

    def __init__(self, reason: str, *, key: str | None = None, source: str | None = None) -> None:
        super().__init__(": ".join(part for part in (source, key, reason) if part))
        self.reason = reason
        self.key = key
        self.source = source


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# -- value objects -------------------------------------------------------------------------


@attrs.frozen
class HttpConfig:
    """``[http]``: the SP HTTP API.

    :ivar listen: a Twisted server endpoint string.
    """

    listen: str = DEFAULT_HTTP


@attrs.frozen
class StoreConfig:
    """``[store]``: the message store.

    :ivar path: the SQLite database file.
    :ivar process: run its transactions in a database process of its own
        (the default; faster under load) rather than a thread of the gateway's.
    """

    path: str = DEFAULT_STORE
    process: bool = True


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
    """

    id: str
    secret: str = attrs.field(repr=False)
    max_sessions: int = 8
    allowed_ips: tuple[str, ...] = ()
    tps: float | None = None
    src_prefix: str = ""
    #: SGIP: client endpoint of the SP's own server for Deliver/Report (sgip12.md §2).
    sgip_callback: str | None = None

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
    gateway_code: str = "001001"
    #: SGIP node id of the fake SMG (sgip12.md §3.1: ``1AAAAX``).
    sgip_node_id: int = 107551
    #: SMGW code in SMGP MsgIDs (smgp30.md §9, 6 digits).
    smgp_code: int = 100610
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
        for key, _ in _URL_SETTINGS:
            value = getattr(self, key)
            if value != _DEFAULTS[key]:
                query.append((key, value if isinstance(value, str) else repr(value)))
        query.extend(extras_query(self.extra))
        url = f"{self.scheme}://{quote(self.account, safe='')}:***@{host}:{self.port}"
        return f"{url}?{urlencode(query)}" if query else url


@attrs.frozen
class Config:
    """The whole configuration (DESIGN.md §4.2).

    :ivar gns: the ``[gns]`` table as read; its shape is defined by the GNS
        simulator.
    """

    http: HttpConfig = attrs.field(factory=HttpConfig)
    store: StoreConfig = attrs.field(factory=StoreConfig)
    upstreams: tuple[UpstreamConfig, ...] = ()
    callbacks: CallbacksConfig = attrs.field(factory=CallbacksConfig)
    api_keys: tuple[ApiKeyConfig, ...] = ()
    simulator: SimulatorConfig = attrs.field(factory=SimulatorConfig)
    gns: dict[str, Any] = attrs.field(factory=dict, hash=False)


# -- upstream URLs -------------------------------------------------------------------------


def _url_int(minimum: int, maximum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not (_DIGITS.fullmatch(text) and minimum <= int(text) <= maximum):
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


_URL_SETTINGS: tuple[tuple[str, Callable[[str], Any]], ...] = (
    ("src_id", str),
    ("service_id", str),
    ("window", _url_int(1, 1024)),
    ("tps", _url_positive),
    ("sessions", _url_int(1, 64)),
    ("response_timeout_s", _url_positive),
    ("retries", _url_int(1, 10)),
    ("keepalive_s", _url_positive),
)
_DEFAULTS = {
    field.name: field.default for field in attrs.fields(UpstreamConfig) if field.name != "extra"
}

_URL_HINT = "percent-encode '@', ':', '/', '?' and '#' in the account and secret"


def parse_upstream_url(url: str) -> UpstreamConfig:
    """An upstream from ``SCHEME://ACCOUNT:SECRET@HOST:PORT?key=value&…`` (DESIGN.md §4.1).

    The account and secret may be percent-encoded; the port defaults per
    scheme (the registry's ``default_port``); the channel's name is the
    account.  The protocol's own keys become its typed extras.

    :raises ConfigError: whose key names the bad part (``scheme``, ``account``,
        ``secret``, ``host``, ``port``, ``path``) or query key; the message
        never contains the secret.
    """

    def error(key: str, reason: str) -> ConfigError:
        return ConfigError(reason, key=key)

    if not isinstance(url, str):
        raise error("url", "expected a string")
    scheme, sep, _ = url.partition("://")
    scheme = scheme.lower()
    try:
        spec = for_scheme(scheme) if sep else None
    except KeyError:
        spec = None
    if spec is None:
        raise error("scheme", f"expected one of {', '.join(schemes())}")
    try:
        split = urlsplit(url)
        hostname = split.hostname
    except ValueError:
        raise error("host", f"not a valid URL ({_URL_HINT})") from None
    if split.fragment:
        raise error("fragment", f"not allowed ({_URL_HINT})")
    if split.path not in ("", "/"):
        raise error("path", f"not allowed ({_URL_HINT})")
    try:
        account = unquote(split.username or "", errors="strict")
        secret = unquote(split.password or "", errors="strict")
    except UnicodeDecodeError:
        raise error("account", "percent-encoding is not UTF-8") from None
    if not account:
        raise error("account", "required")
    if not secret:
        raise error("secret", f"required ({_URL_HINT})")
    if not hostname:
        raise error("host", "required")
    try:
        port = split.port
    except ValueError:
        # The parser's message quotes the netloc, which may hold the secret.
        raise error("port", f"expected an integer from 1 to 65535 ({_URL_HINT})") from None
    if port is None:
        port = spec.default_port
    elif port == 0:
        raise error("port", "expected an integer from 1 to 65535")

    settings: dict[str, Any] = {}
    extra: dict[str, str] = {}
    extra_keys = extras_keys(spec.extras)
    parsers = dict(_URL_SETTINGS)
    seen: set[str] = set()
    for key, value in parse_qsl(split.query, keep_blank_values=True):
        if key in seen:
            raise error(key, "given more than once")
        seen.add(key)
        if key in parsers:
            try:
                settings[key] = parsers[key](value)
            except ValueError as exc:
                raise error(key, str(exc)) from None
        elif key in extra_keys:
            extra[key] = value
        else:
            allowed = ", ".join([*parsers, *extra_keys])
            raise error(key, f"unknown key (allowed: {allowed})")
    try:
        extras = build_extras(spec.extras, extra)
    except ExtrasError as exc:
        raise error(exc.key, exc.reason) from None
    return UpstreamConfig(
        scheme=scheme,
        account=account,
        secret=secret,
        host=hostname,
        port=port,
        name=account,
        extra=extras,
        **settings,
    )


def parse_account(text: str) -> AccountConfig:
    """A simulator account from ``--account ID:SECRET`` (DESIGN.md §4.1).

    The secret is everything after the first colon.

    :raises ConfigError: naming ``--account`` (never quoting the text).
    """
    account_id, sep, secret = text.partition(":")
    if not (sep and account_id and secret):
        raise ConfigError("expected ID:SECRET with a non-empty ID and secret", key="--account")
    return AccountConfig(id=account_id, secret=secret)


# -- the TOML file ---------------------------------------------------------------------------


class _Table:
    """Typed reads from one TOML table, remembering which keys are known."""

    def __init__(self, data: Mapping[str, Any], path: str, source: str) -> None:
        self._data = data
        self.path = path
        self._source = source
        self._known: list[str] = []

    def error(self, key: str | None, reason: str) -> ConfigError:
        """An error about *key* of this table (or the table itself)."""
        return ConfigError(
            reason, key=_join(self.path, key) if key else self.path or None, source=self._source
        )

    def _get(self, key: str, default: Any) -> Any:
        self._known.append(key)
        return self._data.get(key, default)

    def string(self, key: str, default: str, *, empty: bool = True) -> str:
        """A string; *empty* says whether ``""`` is allowed."""
        value = self._get(key, default)
        if not isinstance(value, str):
            raise self.error(key, "expected a string")
        if not empty and not value:
            raise self.error(key, "expected a non-empty string")
        return value

    def required_string(self, key: str) -> str:
        """A non-empty string that must be given."""
        if key not in self._data:
            self._known.append(key)
            raise self.error(key, "required")
        return self.string(key, "", empty=False)

    def optional_string(self, key: str) -> str | None:
        """A non-empty string, or ``None`` when absent."""
        if key not in self._data:
            self._known.append(key)
            return None
        return self.string(key, "", empty=False)

    def boolean(self, key: str, default: bool) -> bool:
        """``true`` or ``false``."""
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, "expected true or false")
        return value

    def integer(self, key: str, default: int, minimum: int) -> int:
        """An integer >= *minimum*."""
        value = self._get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise self.error(key, f"expected an integer >= {minimum}")
        return value

    def optional_positive(self, key: str) -> float | None:
        """A finite number > 0, or ``None`` when absent."""
        value = self._get(key, None)
        if value is None:
            return None
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not (math.isfinite(value) and value > 0)
        ):
            raise self.error(key, "expected a number > 0")
        return float(value)

    def strings(self, key: str, check: Callable[[str], bool], expected: str) -> tuple[str, ...]:
        """An array of strings each passing *check*; empty when absent."""
        value = self._get(key, [])
        if not isinstance(value, list):
            raise self.error(key, f"expected an array of {expected}")
        for index, item in enumerate(value):
            if not (isinstance(item, str) and check(item)):
                raise self.error(f"{key}[{index}]", f"expected {expected}")
        return tuple(value)

    def given(self, keys: Iterable[str]) -> dict[str, Any]:
        """The values of those of *keys* that are in the table, as read."""
        self._known.extend(keys)
        return {key: self._data[key] for key in keys if key in self._data}

    def raw_table(self, key: str) -> dict[str, Any]:
        """A sub-table as read; empty when absent."""
        value = self._get(key, {})
        if not isinstance(value, dict):
            raise self.error(key, "expected a table")
        return value

    def table(self, key: str) -> _Table:
        """A sub-table; empty when absent."""
        return _Table(self.raw_table(key), _join(self.path, key), self._source)

    def tables(self, key: str) -> list[_Table]:
        """An array of tables (``[[key]]``); empty when absent."""
        value = self._get(key, [])
        if not isinstance(value, list):
            raise self.error(key, f"expected an array of tables ([[{_join(self.path, key)}]])")
        tables = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.error(f"{key}[{index}]", "expected a table")
            tables.append(_Table(item, f"{_join(self.path, key)}[{index}]", self._source))
        return tables

    def done(self) -> None:
        """Refuse the keys no reader asked for."""
        unknown = [key for key in self._data if key not in self._known]
        if unknown:
            others = ", ".join(repr(key) for key in unknown[1:])
            also = f"; also unknown: {others}" if others else ""
            allowed = ", ".join(sorted(set(self._known)))
            raise self.error(str(unknown[0]), f"unknown key{also} (allowed: {allowed})")


def _unique(
    items: Iterable[T], tables: list[_Table], key: str, attr: Callable[[T], str], what: str
) -> None:
    """Refuse a repeated *key* among array tables; the value is not quoted (it may be secret)."""
    seen: set[str] = set()
    for item, table in zip(items, tables, strict=True):
        value = attr(item)
        if value in seen:
            raise table.error(key, f"duplicate {what}")
        seen.add(value)


def _http_url(text: str) -> bool:
    try:
        split = urlsplit(text)
        return split.scheme in ("http", "https") and bool(split.hostname)
    except ValueError:
        return False


def _network(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def _read_http(table: _Table) -> HttpConfig:
    config = HttpConfig(listen=table.string("listen", DEFAULT_HTTP, empty=False))
    table.done()
    return config


def _read_store(table: _Table) -> StoreConfig:
    config = StoreConfig(
        path=table.string("path", DEFAULT_STORE, empty=False),
        process=table.boolean("process", True),
    )
    table.done()
    return config


def _read_callbacks(table: _Table) -> CallbacksConfig:
    urls = {}
    for key in ("report_url", "mo_url"):
        url = table.optional_string(key)
        if url is not None and not _http_url(url):
            raise table.error(key, "expected an http:// or https:// URL")
        urls[key] = url
    table.done()
    return CallbacksConfig(**urls)


def _read_upstream(table: _Table) -> UpstreamConfig:
    """``[[upstream]]``: name, URL, routes, and the protocol's own keys as TOML values."""
    name = table.required_string("name")
    url = table.required_string("url")
    routes = table.strings(
        "routes", lambda item: bool(_DIGITS.fullmatch(item)), "number prefixes (digits)"
    )
    try:
        upstream = parse_upstream_url(url)
    except ConfigError as error:
        raise table.error("url", f"{error.key}: {error.reason}") from None
    extras = type(upstream.extra)
    given = table.given(extras_keys(extras))
    table.done()
    in_url = {key for key, _ in parse_qsl(urlsplit(url).query)}.intersection(given)
    if in_url:
        raise table.error(min(in_url), "given in the table and in the url")
    if not given:
        return attrs.evolve(upstream, name=name, routes=routes)
    try:
        typed = build_extras(extras, given)
    except ExtrasError as error:
        raise table.error(error.key, error.reason) from None
    changes = {key: getattr(typed, key) for key in given}
    return attrs.evolve(
        upstream, name=name, routes=routes, extra=attrs.evolve(upstream.extra, **changes)
    )


def _read_api_key(table: _Table) -> ApiKeyConfig:
    key = table.required_string("key")
    name = table.required_string("name")
    table.done()
    return ApiKeyConfig(key=key, name=name)


def _read_account(table: _Table) -> AccountConfig:
    account_id = table.required_string("id")
    secret = table.required_string("secret")
    max_sessions = table.integer("max_sessions", 8, minimum=1)
    allowed = table.strings("allowed_ips", _network, "IP addresses or networks")
    tps = table.optional_positive("tps")
    src_prefix = table.string("src_prefix", "")
    if src_prefix and not _DIGITS.fullmatch(src_prefix):
        raise table.error("src_prefix", "expected digits or an empty string")
    sgip_callback = table.optional_string("sgip_callback")
    table.done()
    return AccountConfig(
        id=account_id,
        secret=secret,
        max_sessions=max_sessions,
        allowed_ips=allowed,
        tps=tps,
        src_prefix=src_prefix,
        sgip_callback=sgip_callback,
    )


def _read_simulator(table: _Table) -> SimulatorConfig:
    listeners: dict[str, str] = {}
    for listener in sim_listeners():
        if listener.default_endpoint is None:
            endpoint = table.optional_string(listener.option)
        else:
            endpoint = table.string(listener.option, listener.default_endpoint, empty=False)
        if endpoint is not None:
            listeners[listener.option] = endpoint
    control = table.string("control", DEFAULT_CONTROL, empty=False)
    gateway_code = table.string("gateway_code", "001001")
    if not (len(gateway_code) == 6 and _DIGITS.fullmatch(gateway_code)):
        raise table.error("gateway_code", "expected a string of 6 digits")
    sgip_node_id = table.integer("sgip_node_id", 107551, minimum=1)
    if sgip_node_id > 0xFFFFFFFF:
        raise table.error("sgip_node_id", "expected a 32-bit node id")
    smgp_code = table.integer("smgp_code", 100610, minimum=0)
    if smgp_code > 999999:
        raise table.error("smgp_code", "expected at most 6 digits")
    account_tables = table.tables("account")
    accounts = tuple(_read_account(account) for account in account_tables)
    _unique(accounts, account_tables, "id", lambda account: account.id, "account id")
    fwd = table.optional_string("fwd")
    home_prefixes = table.strings("home_prefixes", _DIGITS.fullmatch, "digit prefixes")
    peer_tables = table.tables("peer")
    peers = tuple(_read_peer(peer) for peer in peer_tables)
    gns = table.optional_string("gns")
    gns_secret = table.string("gns_secret", "")
    peer_secret = table.string("peer_secret", "")
    policy_data = table.raw_table("policy")
    try:
        policy = Policy.from_json(policy_data)
    except PolicyError as error:
        key = _join("policy", error.field) if error.field else "policy"
        raise table.error(key, error.message) from None
    table.done()
    return SimulatorConfig(
        listeners=listeners,
        control=control,
        gateway_code=gateway_code,
        sgip_node_id=sgip_node_id,
        smgp_code=smgp_code,
        accounts=accounts,
        policy=policy,
        fwd=fwd,
        home_prefixes=home_prefixes,
        peers=peers,
        gns=gns,
        gns_secret=gns_secret,
        peer_secret=peer_secret,
    )


def _read_peer(table: _Table) -> PeerConfig:
    code = table.required_string("code")
    if not (len(code) == 6 and _DIGITS.fullmatch(code)):
        raise table.error("code", "expected a string of 6 digits")
    host = table.string("host", "127.0.0.1", empty=False)
    port = table.integer("port", 7930, minimum=1)
    if port > 65535:
        raise table.error("port", "expected a TCP port")
    secret = table.required_string("secret")
    prefixes = table.strings("prefixes", _DIGITS.fullmatch, "digit prefixes")
    sp_codes = table.strings("sp_codes", _DIGITS.fullmatch, "digit prefixes")
    table.done()
    return PeerConfig(code, host, port, secret, prefixes, sp_codes)


def _read_config(document: Mapping[str, Any], source: str) -> Config:
    root = _Table(document, "", source)
    http = _read_http(root.table("http"))
    store = _read_store(root.table("store"))
    upstream_tables = root.tables("upstream")
    upstreams = tuple(_read_upstream(table) for table in upstream_tables)
    _unique(upstreams, upstream_tables, "name", lambda upstream: upstream.name, "upstream name")
    callbacks = _read_callbacks(root.table("callbacks"))
    key_tables = root.tables("api_key")
    api_keys = tuple(_read_api_key(table) for table in key_tables)
    _unique(api_keys, key_tables, "key", lambda api_key: api_key.key, "API key")
    simulator = _read_simulator(root.table("simulator"))
    gns = root.raw_table("gns")
    root.done()
    return Config(
        http=http,
        store=store,
        upstreams=upstreams,
        callbacks=callbacks,
        api_keys=api_keys,
        simulator=simulator,
        gns=gns,
    )


def parse_config(text: str, source: str = "<config>") -> Config:
    """A configuration from TOML *text*; *source* names it in errors.

    :raises ConfigError: for invalid TOML or any invalid value.
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"invalid TOML: {error}", source=source) from None
    return _read_config(document, source)


def load_config(path: str | os.PathLike[str] | None) -> Config:
    """The configuration in the TOML file at *path*; the defaults for ``None``.

    :raises ConfigError: naming the file (as given) and the key.
    """
    if path is None:
        return Config()
    source = os.fspath(path)
    try:
        with open(source, "rb") as file:
            data = file.read()
    except OSError as error:
        raise ConfigError(f"cannot read the file: {error.strerror}", source=source) from None
    try:
        # utf-8-sig: editors on Windows may start the file with a BOM.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError("invalid TOML: the file is not UTF-8", source=source) from None
    return parse_config(text, source)
