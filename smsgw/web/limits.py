"""Caps on an HTTP listener's connections, and a short idle time.

twisted.web keeps an idle connection open for twelve hours by default, and
takes every connection offered: a client (or a scan) that opens connections
and sends nothing holds one file descriptor each until the process has none
left, and then no valid request gets in.  :func:`limited_site` builds a
:class:`~twisted.web.server.Site` that closes a connection idle for
``idle_timeout_s`` seconds, wrapped in a :class:`ConnectionCaps` that closes a
new connection at once when the listener already holds ``max_connections``
connections, or ``max_connections_per_ip`` from the same address.

Every HTTP listener of every role is built here: the SP API, the
seed-001-compatible API, the simulators' control APIs and the simulated
vendors.  The SP API's listener is an :class:`ApiSite`: its hot path skips
the work twisted.web does per request for HTML forms and access-log lines.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import attrs
from twisted.internet.interfaces import IAddress
from twisted.logger import Logger
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from twisted.web import http
from twisted.web.http import combinedLogFormatter, datetimeToLogString
from twisted.web.resource import IResource
from twisted.web.server import Site

__all__ = [
    "IDLE_TIMEOUT_S",
    "MAX_CONNECTIONS",
    "MAX_CONNECTIONS_PER_IP",
    "ApiSite",
    "ConnectionCaps",
    "HttpLimits",
    "capped",
    "limited_site",
]

#: Open connections a listener holds before it closes new ones at once.
MAX_CONNECTIONS = 1024
#: The same from one source address.
MAX_CONNECTIONS_PER_IP = 256
#: Seconds a connection may stay silent (no request, or between keep-alive requests).
IDLE_TIMEOUT_S = 60.0


@attrs.frozen
class HttpLimits:
    """How many connections an HTTP listener takes, and for how long a silent one stays.

    ``None`` for either cap means no cap.
    """

    max_connections: int | None = MAX_CONNECTIONS
    max_connections_per_ip: int | None = MAX_CONNECTIONS_PER_IP
    idle_timeout_s: float = IDLE_TIMEOUT_S


class ConnectionCaps(WrappingFactory):
    """*wrapped*'s connections, within a total cap and a cap per source address.

    A connection over a cap is closed at once (``buildProtocol`` answers
    ``None``) and counted in :attr:`refused`; only the first refusal after an
    accepted connection is logged (a flood would flood the log).

    :ivar refused: connections closed by the caps.
    """

    log = Logger()
    noisy = False

    def __init__(self, wrapped: Any, limits: HttpLimits) -> None:
        super().__init__(wrapped)
        self.limits = limits
        self.refused = 0
        self._by_peer: Counter[str] = Counter()
        self._open = 0
        self._warned = False

    @property
    def open(self) -> int:
        """Connections open now."""
        return self._open

    # IProtocolFactory lets buildProtocol answer None (the connection is closed at once);
    # WrappingFactory's annotation does not say so.
    def buildProtocol(self, addr: IAddress | None) -> ProtocolWrapper | None:  # type: ignore[override]
        """A wrapped connection, or ``None`` (closed at once) when a cap is reached."""
        host = str(getattr(addr, "host", ""))
        limits = self.limits
        if (limits.max_connections is not None and self._open >= limits.max_connections) or (
            limits.max_connections_per_ip is not None
            and self._by_peer[host] >= limits.max_connections_per_ip
        ):
            self.refused += 1
            if not self._warned:
                self._warned = True
                self.log.warn(
                    "http: connection cap reached ({open} open); new connections are closed",
                    open=self._open,
                )
            return None
        wrapper = super().buildProtocol(addr)
        if wrapper is None:
            return None
        wrapper.peer_host = host  # type: ignore[attr-defined]
        self._warned = False
        self._open += 1
        self._by_peer[host] += 1
        return wrapper

    def unregisterProtocol(self, p: ProtocolWrapper) -> None:
        """A connection closed: count it out."""
        super().unregisterProtocol(p)
        host = getattr(p, "peer_host", None)
        if host is None:
            return
        self._open -= 1
        self._by_peer[host] -= 1
        if self._by_peer[host] <= 0:
            del self._by_peer[host]


#: Where :class:`ApiSite` logs its access-log lines.
_access_log = Logger(namespace="smsgw.web.access")


class _AccessLine:
    """An access-log line, formatted only if an observer renders the event."""

    __slots__ = ("formatter", "request", "when")

    def __init__(self, formatter: Callable[[str, Any], str], when: float, request: http.Request):
        self.formatter = formatter
        self.when = when
        self.request = request

    def __str__(self) -> str:
        return self.formatter(datetimeToLogString(self.when), self.request)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


class ApiSite(Site):
    """A :class:`Site` for a JSON API: no form parsing, access-log lines at debug level.

    twisted.web by default parses the ``Content-Type`` of every POST with
    :mod:`email` (to find form uploads) and writes one access-log line per
    request at info level; at thousands of requests a second each costs more
    than the request's own JSON.  Here bodies are never parsed into
    ``request.args`` (the query string still is; the API reads its JSON body
    itself), and the access-log line is a debug event of the
    ``smsgw.web.access`` namespace, formatted only when logging at debug level
    (``--log-level=debug``).

    :param log_formatter: formats the line as ``Site``'s ``logFormatter`` does
        (e.g. :func:`~smsgw.web.jsonapi.access_log_line`).
    """

    def __init__(
        self,
        resource: IResource,
        *,
        log_formatter: Callable[[str, Any], str] | None = None,
        reactor: Any = None,
    ) -> None:
        kwargs: dict[str, Any] = {"parsePOSTFormSubmission": False}
        if reactor is not None:
            kwargs["reactor"] = reactor
        super().__init__(resource, **kwargs)
        self._line_formatter = log_formatter or combinedLogFormatter

    def log(self, request: http.Request) -> None:
        """The request's access-log line, as a debug event."""
        line = _AccessLine(self._line_formatter, self.reactor.seconds(), request)
        _access_log.debug("{line}", line=line)


def limited_site(
    resource: IResource,
    *,
    limits: HttpLimits | None = None,
    log_formatter: Callable[..., str] | None = None,
    reactor: Any = None,
    api: bool = False,
) -> ConnectionCaps:
    """A :class:`Site` serving *resource* within *limits*, for an HTTP listener.

    :param api: an :class:`ApiSite` (a JSON API's hot path) rather than a plain ``Site``.
    :returns: the listener's factory; its ``wrappedFactory`` is the ``Site``.
    """
    if api:
        return capped(ApiSite(resource, log_formatter=log_formatter, reactor=reactor), limits)
    kwargs: dict[str, Any] = {}
    if log_formatter is not None:
        kwargs["logFormatter"] = log_formatter
    if reactor is not None:
        kwargs["reactor"] = reactor
    return capped(Site(resource, **kwargs), limits)


def capped(site: Site, limits: HttpLimits | None = None) -> ConnectionCaps:
    """*site* (built elsewhere) within *limits*: its idle timeout set, its connections capped."""
    limits = limits or HttpLimits()
    site.timeOut = limits.idle_timeout_s
    site.noisy = False
    return ConnectionCaps(site, limits)
