"""The TOML file: :func:`load_config` reads it with :mod:`tomllib` into the value objects."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs

from smsgw.config.policy import Policy, PolicyError
from smsgw.config.schema import (
    DEFAULT_BALANCE,
    DEFAULT_CONTROL,
    DEFAULT_HTTP,
    DEFAULT_STORE,
    DIGITS,
    AccountConfig,
    ApiKeyConfig,
    CallbacksConfig,
    ClusterConfig,
    Config,
    HttpConfig,
    PeerConfig,
    SimulatorConfig,
    StoreConfig,
    UpstreamConfig,
    VendorsConfig,
)
from smsgw.config.stores import parse_redis_url, parse_store_url
from smsgw.config.table import ConfigError, Table, join_key, unique
from smsgw.config.upstream import parse_upstream_url
from smsgw.protocols.registry import (
    ExtrasError,
    build_extras,
    extras_keys,
    sim_listeners,
)


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


def _read_http(table: Table) -> HttpConfig:
    config = HttpConfig(
        listen=table.string("listen", DEFAULT_HTTP, empty=False),
        compat_listen=table.optional_string("compat_listen"),
        max_connections=table.integer("max_connections", 1024, 1),
        max_connections_per_ip=table.integer("max_connections_per_ip", 256, 1),
        idle_timeout_s=table.optional_positive("idle_timeout_s") or 60.0,
    )
    table.done()
    return config


def _read_store(table: Table) -> StoreConfig:
    url = table.optional_string("url")
    if url is not None:
        if "path" in table.given(["path"]):
            raise table.error("url", "give path or url, not both")
        try:
            parse_store_url(url)
        except ValueError as error:
            raise table.error("url", str(error)) from None
    config = StoreConfig(
        path=table.string("path", DEFAULT_STORE, empty=False),
        process=table.boolean("process", True),
        url=url,
    )
    table.done()
    return config


def _read_cluster(table: Table) -> ClusterConfig:
    redis = table.optional_string("redis")
    if redis is not None:
        try:
            parse_redis_url(redis)
        except ValueError as error:
            raise table.error("redis", str(error)) from None
    config = ClusterConfig(
        redis=redis,
        node=table.optional_string("node"),
        visibility_timeout_s=table.optional_positive("visibility_timeout_s") or 60.0,
    )
    table.done()
    return config


def _read_callbacks(table: Table) -> CallbacksConfig:
    urls = {}
    for key in ("report_url", "mo_url"):
        url = table.optional_string(key)
        if url is not None and not _http_url(url):
            raise table.error(key, "expected an http:// or https:// URL")
        urls[key] = url
    table.done()
    return CallbacksConfig(**urls)


def _read_vendors(table: Table) -> VendorsConfig:
    dirs = table.strings("dirs", bool, "folder paths")
    table.done()
    return VendorsConfig(dirs=dirs)


def _read_upstream(table: Table) -> UpstreamConfig:
    """``[[upstream]]``: name, URL, routes, and the protocol's own keys as TOML values."""
    name = table.required_string("name")
    url = table.required_string("url")
    routes = table.strings(
        "routes",
        lambda item: bool(DIGITS.fullmatch(item.removeprefix("+"))),
        "number prefixes (digits; + and digits for international numbers)",
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


def _read_api_key(table: Table) -> ApiKeyConfig:
    key = table.required_string("key")
    name = table.required_string("name")
    table.done()
    return ApiKeyConfig(key=key, name=name)


def _read_account(table: Table) -> AccountConfig:
    account_id = table.required_string("id")
    secret = table.required_string("secret")
    max_sessions = table.integer("max_sessions", 8, minimum=1)
    allowed = table.strings("allowed_ips", _network, "IP addresses or networks")
    tps = table.optional_positive("tps")
    src_prefix = table.string("src_prefix", "")
    if src_prefix and not DIGITS.fullmatch(src_prefix):
        raise table.error("src_prefix", "expected digits or an empty string")
    sgip_callback = table.optional_string("sgip_callback")
    system_type = table.string("system_type", "")
    if len(system_type) > 12 or not system_type.isascii():
        raise table.error("system_type", "expected at most 12 ASCII characters")
    urls = {}
    for key in ("report_url", "mo_url"):
        url = table.optional_string(key)
        if url is not None and not _http_url(url.replace("{vendor}", "vendor")):
            raise table.error(key, "expected an http:// or https:// URL")
        urls[key] = url
    balance = table.integer("balance", DEFAULT_BALANCE, minimum=0)
    products = table.strings("products", bool, "product ids")
    table.done()
    return AccountConfig(
        id=account_id,
        secret=secret,
        max_sessions=max_sessions,
        allowed_ips=allowed,
        tps=tps,
        src_prefix=src_prefix,
        sgip_callback=sgip_callback,
        system_type=system_type,
        balance=balance,
        products=products,
        **urls,
    )


def _read_simulator(table: Table) -> SimulatorConfig:
    listeners: dict[str, str] = {}
    for listener in sim_listeners():
        if listener.default_endpoint is None:
            endpoint = table.optional_string(listener.option)
        else:
            endpoint = table.string(listener.option, listener.default_endpoint, empty=False)
        if endpoint is not None:
            listeners[listener.option] = endpoint
    control = table.string("control", DEFAULT_CONTROL, empty=False)
    control_token = table.string("control_token", "")
    login_timeout_s = table.optional_positive("login_timeout_s") or 10.0
    max_unauthenticated = table.integer("max_unauthenticated", 256, minimum=1)
    max_unauthenticated_per_ip = table.integer("max_unauthenticated_per_ip", 32, minimum=1)
    gateway_code = table.string("gateway_code", "001001")
    if not (len(gateway_code) == 6 and DIGITS.fullmatch(gateway_code)):
        raise table.error("gateway_code", "expected a string of 6 digits")
    sgip_node_id = table.integer("sgip_node_id", 107551, minimum=1)
    if sgip_node_id > 0xFFFFFFFF:
        raise table.error("sgip_node_id", "expected a 32-bit node id")
    smgp_code = table.integer("smgp_code", 100610, minimum=0)
    if smgp_code > 999999:
        raise table.error("smgp_code", "expected at most 6 digits")
    smpp = _read_smpp_keys(table)
    account_tables = table.tables("account")
    accounts = tuple(_read_account(account) for account in account_tables)
    unique(accounts, account_tables, "id", lambda account: account.id, "account id")
    fwd = table.optional_string("fwd")
    home_prefixes = table.strings("home_prefixes", DIGITS.fullmatch, "digit prefixes")
    peer_tables = table.tables("peer")
    peers = tuple(_read_peer(peer) for peer in peer_tables)
    gns = table.optional_string("gns")
    gns_secret = table.string("gns_secret", "")
    peer_secret = table.string("peer_secret", "")
    vendor_http = table.optional_string("vendor_http")
    policy_data = table.raw_table("policy")
    try:
        policy = Policy.from_json(policy_data)
    except PolicyError as error:
        key = join_key("policy", error.field) if error.field else "policy"
        raise table.error(key, error.message) from None
    known = {account.id for account in accounts}
    for index, trigger in enumerate(policy.triggers):
        if known and trigger.account is not None and trigger.account not in known:
            raise table.error(
                f"policy.triggers[{index}].account", "no [[simulator.account]] has this id"
            )
    table.done()
    return SimulatorConfig(
        listeners=listeners,
        control=control,
        control_token=control_token,
        login_timeout_s=login_timeout_s,
        max_unauthenticated=max_unauthenticated,
        max_unauthenticated_per_ip=max_unauthenticated_per_ip,
        gateway_code=gateway_code,
        sgip_node_id=sgip_node_id,
        smgp_code=smgp_code,
        accounts=accounts,
        **smpp,
        policy=policy,
        fwd=fwd,
        home_prefixes=home_prefixes,
        peers=peers,
        gns=gns,
        gns_secret=gns_secret,
        peer_secret=peer_secret,
        vendor_http=vendor_http,
    )


#: The SMPP face's ``[simulator]`` keys that take one of a few words.
_SMPP_CHOICES = {
    "smpp_message_id": ("decimal", "hex", "uuid"),
    "smpp_receipt_id": ("same", "decimal"),
    "smpp_receipt_keys": ("lower", "upper", "title"),
    "smpp_receipt_tlvs": ("both", "text", "tlvs"),
    "smpp_mo_long": ("udh", "sar", "payload"),
}


def _read_smpp_keys(table: Table) -> dict[str, Any]:
    """The SMPP face's options (:class:`~smsgw.config.schema.SimulatorConfig` ``smpp_*``)."""
    out: dict[str, Any] = {}
    system_id = table.string("smpp_system_id", "SMSGW", empty=False)
    if len(system_id) > 15 or not system_id.isascii():
        raise table.error("smpp_system_id", "expected at most 15 ASCII characters")
    out["smpp_system_id"] = system_id
    for key, choices in _SMPP_CHOICES.items():
        value = table.string(key, choices[0])
        if value not in choices:
            raise table.error(key, f"expected one of {', '.join(choices)}")
        out[key] = value
    digits = table.integer("smpp_receipt_date_digits", 10, minimum=10)
    if digits not in (10, 12):
        raise table.error("smpp_receipt_date_digits", "expected 10 or 12")
    out["smpp_receipt_date_digits"] = digits
    return out


def _read_peer(table: Table) -> PeerConfig:
    code = table.required_string("code")
    if not (len(code) == 6 and DIGITS.fullmatch(code)):
        raise table.error("code", "expected a string of 6 digits")
    host = table.string("host", "127.0.0.1", empty=False)
    port = table.integer("port", 7930, minimum=1)
    if port > 65535:
        raise table.error("port", "expected a TCP port")
    secret = table.required_string("secret")
    prefixes = table.strings("prefixes", DIGITS.fullmatch, "digit prefixes")
    sp_codes = table.strings("sp_codes", DIGITS.fullmatch, "digit prefixes")
    table.done()
    return PeerConfig(code, host, port, secret, prefixes, sp_codes)


def _read_config(document: Mapping[str, Any], source: str) -> Config:
    root = Table(document, "", source)
    http = _read_http(root.table("http"))
    store = _read_store(root.table("store"))
    cluster = _read_cluster(root.table("cluster"))
    upstream_tables = root.tables("upstream")
    upstreams = tuple(_read_upstream(table) for table in upstream_tables)
    unique(upstreams, upstream_tables, "name", lambda upstream: upstream.name, "upstream name")
    callbacks = _read_callbacks(root.table("callbacks"))
    key_tables = root.tables("api_key")
    api_keys = tuple(_read_api_key(table) for table in key_tables)
    unique(api_keys, key_tables, "key", lambda api_key: api_key.key, "API key")
    simulator = _read_simulator(root.table("simulator"))
    vendors = _read_vendors(root.table("vendors"))
    gns = root.raw_table("gns")
    root.done()
    return Config(
        http=http,
        store=store,
        cluster=cluster,
        upstreams=upstreams,
        callbacks=callbacks,
        api_keys=api_keys,
        simulator=simulator,
        vendors=vendors,
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
