"""Which upstream channel sends a message.

The order of choice, first match wins:

1. the channel the request names (``"channel"`` in ``POST /v1/sms``);
2. the longest number prefix among the channels' ``routes``
   (``[[upstream]] routes`` in the configuration file);
3. the number's carrier (:mod:`smsgw.sp.numbers`): the first configured
   channel whose protocol serves that carrier (the registry's
   :attr:`~smsgw.protocols.registry.ProtocolSpec.carrier`: ``cmpp``/``cmpp3``
   for China Mobile, ``sgip`` for China Unicom, ``smgp`` for China Telecom);
4. the first configured channel whose protocol serves every carrier
   (``carrier="any"``: an HTTP vendor, which is an aggregator);
5. the only channel, when there is exactly one.

A number outside mainland China (``+447900000001``, see
:func:`~smsgw.sp.numbers.normalize_recipient`) has no carrier: it follows
rules 1 and 2, its routes being written with their ``+`` (``"+44"``,
``"+1"``), which never match a mainland number, nor digits-only routes an
international one; then rule 5 only when the only channel's protocol serves
no carrier of its own (registry ``carrier=None``: SMPP), never a Chinese
carrier's or an HTTP vendor's channel.

Pure code, no Twisted imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from smsgw.config import UpstreamConfig
from smsgw.protocols.registry import for_scheme, specs
from smsgw.sp.numbers import (
    DEFAULT_TABLE,
    Carrier,
    PrefixTable,
    is_international,
    mask_msisdn,
    normalize_recipient,
)

__all__ = ["ANY", "NoRoute", "RouteSpec", "Router", "is_route", "scheme_carrier"]

#: A protocol spec's ``carrier`` for a protocol whose channels serve every carrier's numbers.
ANY = "any"


def is_route(prefix: object) -> bool:
    """Whether *prefix* is a route: 1 to 11 digits (mainland) or ``+`` and 1 to 15 digits."""
    if not isinstance(prefix, str) or not prefix.isascii():
        return False
    if prefix.startswith("+"):
        return prefix[1:].isdigit() and len(prefix) <= 16
    return prefix.isdigit() and len(prefix) <= 11


def _spec_carrier(scheme: str) -> str | None:
    """The registry's ``carrier`` of *scheme* (``None`` for an unknown scheme)."""
    try:
        return for_scheme(scheme).carrier
    except KeyError:
        return None


def _international(scheme: str) -> bool:
    """Whether *scheme*'s protocol has no carrier of its own (SMPP): rule 5 for numbers abroad."""
    try:
        return for_scheme(scheme).carrier is None
    except KeyError:
        return False


def scheme_carrier(scheme: str) -> Carrier | None:
    """The carrier whose numbers a channel of *scheme* serves when no route prefix matches.

    ``None`` for a protocol without one, one serving every carrier (HTTP
    vendors: rule 4) or an unknown scheme.
    """
    carrier = _spec_carrier(scheme)
    return Carrier(carrier) if carrier not in (None, ANY) else None


class NoRoute(ValueError):
    """No channel can take the message.

    :ivar channel: the unknown channel name asked for, or ``None``.
    :ivar number: the recipient (normalised when it could be), or ``None``.
    :ivar carrier: the recipient's carrier, or ``None`` when not looked up.
    """

    def __init__(
        self,
        message: str,
        *,
        channel: str | None = None,
        number: str | None = None,
        carrier: Carrier | None = None,
    ) -> None:
        super().__init__(message)
        self.channel = channel
        self.number = number
        self.carrier = carrier


def _routes(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        # tuple("138") would silently become three one-digit routes.
        raise TypeError(f"routes must be a sequence of prefixes, not the string {value!r}")
    return tuple(value)


@attrs.frozen
class RouteSpec:
    """What the router needs to know about one channel.

    :ivar name: the channel's name, unique among the channels.
    :ivar scheme: its protocol: ``cmpp``, ``cmpp3``, ``sgip``, ``smgp``, or
        an HTTP vendor's name.
    :ivar routes: number prefixes (digits) this channel takes, from the
        ``[[upstream]] routes`` key.
    """

    name: str
    scheme: str
    routes: tuple[str, ...] = attrs.field(default=(), converter=_routes)

    @classmethod
    def from_upstream(cls, upstream: UpstreamConfig) -> RouteSpec:
        """The route spec of a configured ``[[upstream]]`` channel."""
        return cls(
            name=upstream.name or upstream.account, scheme=upstream.scheme, routes=upstream.routes
        )


class Router:
    """Chooses a channel for each recipient.

    :param channels: the channels, in configuration order (which breaks ties
        between channels of one kind in the carrier rule).
    :param prefixes: the number-segment table for the carrier rule.
    :raises ValueError: two channels share a name or a route prefix, or a
        route is not 1 to 11 digits.
    """

    def __init__(
        self, channels: Sequence[RouteSpec], prefixes: PrefixTable = DEFAULT_TABLE
    ) -> None:
        self.channels: tuple[RouteSpec, ...] = tuple(channels)
        self.prefixes = prefixes
        self._names: set[str] = set()
        self._routes: dict[str, str] = {}
        for spec in self.channels:
            if spec.name in self._names:
                raise ValueError(f"channel {spec.name!r} is configured twice")
            self._names.add(spec.name)
            for prefix in spec.routes:
                if not is_route(prefix):
                    raise ValueError(
                        f"channel {spec.name!r}: route {prefix!r} is not a number prefix "
                        "(1 to 11 digits, or + and 1 to 15 digits)"
                    )
                other = self._routes.setdefault(prefix, spec.name)
                if other != spec.name:
                    raise ValueError(
                        f"route {prefix!r} is given to both channel {other!r} "
                        f"and channel {spec.name!r}"
                    )
        self._route_lengths = sorted({len(prefix) for prefix in self._routes}, reverse=True)
        self._by_carrier: dict[Carrier, str] = {}
        for spec in self.channels:
            carrier = scheme_carrier(spec.scheme)
            if carrier is not None:
                self._by_carrier.setdefault(carrier, spec.name)
        self._any = next(
            (spec.name for spec in self.channels if _spec_carrier(spec.scheme) == ANY), None
        )

    @classmethod
    def from_upstreams(
        cls, upstreams: Iterable[UpstreamConfig], prefixes: PrefixTable = DEFAULT_TABLE
    ) -> Router:
        """A router over the configured ``[[upstream]]`` channels."""
        return cls([RouteSpec.from_upstream(upstream) for upstream in upstreams], prefixes)

    def choose(self, number: str, explicit: str | None = None) -> str:
        """The name of the channel that sends to ``number``.

        :param number: the recipient, in any form
            :func:`~smsgw.sp.numbers.normalize_recipient` accepts (not checked
            when ``explicit`` names a channel).
        :param explicit: a channel the caller asked for by name.
        :returns: a channel name.
        :raises NoRoute: ``explicit`` names no channel, or no rule gives one.
        :raises InvalidNumber: ``number`` is neither a mainland mobile number
            nor an international one.
        """
        if explicit is not None:
            if explicit in self._names:
                return explicit
            known = ", ".join(repr(spec.name) for spec in self.channels) or "none"
            raise NoRoute(f"no channel named {explicit!r} (configured: {known})", channel=explicit)
        national = normalize_recipient(number)
        for length in self._route_lengths:
            name = self._routes.get(national[:length])
            if name is not None:
                return name
        if is_international(national):
            if len(self.channels) == 1 and _international(self.channels[0].scheme):
                return self.channels[0].name
            raise NoRoute(
                f"no channel for {mask_msisdn(national)}: an international number goes only"
                ' by a route written with its + (e.g. "+44"), to a channel named in the'
                " request, or to an smpp channel that is the only one",
                number=national,
            )
        carrier = self.prefixes.carrier_of(national)
        name = self._by_carrier.get(carrier) or self._any
        if name is not None:
            return name
        if len(self.channels) == 1:
            return self.channels[0].name
        if not self.channels:
            reason = "no channels are configured"
        elif carrier is Carrier.UNKNOWN:
            reason = "its segment belongs to no known carrier and no route prefix matches"
        else:
            schemes = "/".join(
                scheme
                for spec in specs()
                if spec.carrier == carrier.value
                for scheme in spec.schemes
            )
            reason = f"no route prefix matches and no {schemes} channel is configured"
        raise NoRoute(
            f"no channel for {mask_msisdn(national)} (carrier: {carrier.value}): {reason}",
            number=national,
            carrier=carrier,
        )
