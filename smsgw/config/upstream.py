"""Upstream URLs (``cmpp://ACCOUNT:SECRET@HOST:PORT?key=value``) and ``--account`` values."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from smsgw.config.schema import (
    URL_SETTINGS,
    AccountConfig,
    UpstreamConfig,
)
from smsgw.config.table import ConfigError
from smsgw.protocols.registry import (
    ExtrasError,
    build_extras,
    extras_keys,
    for_scheme,
    schemes,
)

_URL_HINT = "percent-encode '@', ':', '/', '?' and '#' in the account and secret"


def parse_upstream_url(url: str) -> UpstreamConfig:
    """An upstream from ``SCHEME://ACCOUNT:SECRET@HOST:PORT?key=value&…``.

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
    path = split.path.rstrip("/")
    if path and not spec.url_path:
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
    parsers = dict(URL_SETTINGS)
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
    if "tls" in settings and spec.url_path:
        raise error("tls", "an HTTP vendor's scheme says it: use https:// for TLS")
    return UpstreamConfig(
        scheme=scheme,
        account=account,
        secret=secret,
        host=hostname,
        port=port,
        name=account,
        path=path,
        extra=extras,
        **settings,
    )


def parse_account(text: str) -> AccountConfig:
    """A simulator account from ``--account ID:SECRET[@CALLBACK]``.

    The secret is everything after the first colon, up to an ``@`` that
    starts a Twisted client endpoint (``@tcp:host=…:port=…``, ``@tls:…``,
    ``@unix:…``): SGIP's callback, where the SMG opens its link to the SP for
    reports and MOs.  (A secret that itself contains ``@tcp:`` cannot be
    given here; use the configuration file.)

    :raises ConfigError: naming ``--account`` (never quoting the text).
    """
    account_id, sep, rest = text.partition(":")
    callback = None
    found = _CALLBACK.search(rest)
    if found is not None:
        rest, callback = rest[: found.start()], rest[found.start() + 1 :]
    if not (sep and account_id and rest):
        raise ConfigError(
            "expected ID:SECRET or ID:SECRET@ENDPOINT with a non-empty ID and secret",
            key="--account",
        )
    if callback is not None and not _CALLBACK_ENDPOINT.fullmatch(callback):
        raise ConfigError(
            "the SGIP callback after @ must be a client endpoint such as "
            "tcp:host=127.0.0.1:port=8802",
            key="--account",
        )
    return AccountConfig(id=account_id, secret=rest, sgip_callback=callback)


#: Where an ``@CALLBACK`` begins in ``--account`` (the last ``@`` before a client endpoint).
_CALLBACK = re.compile(r"@(?=(?:tcp|tls|ssl|unix):)(?!.*@(?:tcp|tls|ssl|unix):)")
_CALLBACK_ENDPOINT = re.compile(r"(?:tcp|tls|ssl|unix):\S+")
