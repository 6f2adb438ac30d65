"""Listening endpoints: loopback unless the endpoint names an interface.

Every listener of every role (the SP's HTTP API and SGIP server, the
simulators' protocol listeners and control APIs, the GNS) goes through
:func:`listen_endpoint`, so ``tcp:7890`` listens on 127.0.0.1 and serving
other hosts takes an explicit ``tcp:7890:interface=0.0.0.0``.  A
simulator's demo account, whose secret the README prints, is never served
beyond loopback (:func:`check_demo_listen`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

__all__ = [
    "DemoBeyondLoopback",
    "check_demo_listen",
    "interface_of",
    "is_local",
    "listen_endpoint",
]

#: The interface added to each stream endpoint type that has none.
_LOOPBACK_FOR = {"tcp": "127.0.0.1", "ssl": "127.0.0.1", "tcp6": "::1"}
#: Endpoint types that never accept connections from another host.
_LOCAL_TYPES = frozenset({"unix", "systemd"})
#: Split a Twisted endpoint string on its unescaped colons.
_FIELDS = re.compile(r"(?<!\\):")


class DemoBeyondLoopback(ValueError):
    """A demo account would be served on a listener other hosts can reach."""


def _fields(endpoint: str) -> list[str]:
    return _FIELDS.split(endpoint.strip())


def interface_of(endpoint: str) -> str | None:
    """The ``interface=`` of a server endpoint string, unescaped, or ``None``."""
    for field in _fields(endpoint)[1:]:
        if field.startswith("interface="):
            return field.split("=", 1)[1].strip("[]").replace("\\", "")
    return None


def listen_endpoint(endpoint: str) -> str:
    """*endpoint* bound to loopback when it is a ``tcp``, ``tcp6`` or ``ssl`` one with no interface.

    ``tcp:7890`` gives ``tcp:7890:interface=127.0.0.1``; ``tcp6:7890``
    gives ``::1``; an endpoint naming an interface (``interface=0.0.0.0``
    to serve every host) and other types (``unix:``) are unchanged.
    """
    fields = _fields(endpoint)
    loopback = _LOOPBACK_FOR.get(fields[0].lower())
    if loopback is None or interface_of(endpoint) is not None:
        return endpoint
    return f"{endpoint.strip()}:interface={loopback.replace(':', chr(92) + ':')}"


def is_local(endpoint: str) -> bool:
    """Whether *endpoint*, as :func:`listen_endpoint` binds it, accepts only this host."""
    if _fields(endpoint)[0].lower() in _LOCAL_TYPES:
        return True
    interface = interface_of(listen_endpoint(endpoint))
    if interface == "localhost":
        return True
    try:
        return interface is not None and ipaddress.ip_address(interface).is_loopback
    except ValueError:  # a host name: it may be any interface
        return False


def check_demo_listen(what: str, demo: str | None, endpoints: Iterable[str]) -> None:
    """Refuse to serve a demo account on an endpoint beyond loopback.

    :param what: the role, for the message (``ismg-sim``).
    :param demo: the demo account served (its id, never the secret), or
        ``None`` when accounts are configured.
    :param endpoints: the role's protocol listeners.
    :raises DemoBeyondLoopback: naming the first such endpoint.
    """
    if demo is None:
        return
    for endpoint in endpoints:
        if not is_local(endpoint):
            raise DemoBeyondLoopback(
                f"{what}: {endpoint!r} listens beyond loopback and only the demo account "
                f"{demo} (whose secret is in the README) is configured; configure an account "
                "(--account ID:SECRET or the config file) or listen on 127.0.0.1"
            )
