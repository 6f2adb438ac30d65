"""The protocol registry: one :class:`ProtocolSpec` per wire protocol.

Each protocol lives in one folder under :mod:`smsgw.protocols` whose package
(or its ``spec`` module) exports ``SPECS: tuple[ProtocolSpec, ...]``.  The
configuration (URL schemes, default ports, typed extras), the SP channels
(their client) and the ismg-sim (its listeners and options) read this
registry instead of naming protocols; a new protocol is a new folder, or a
:func:`register` call.

This module imports neither the configuration nor the SP or simulator code
at module level: those import it.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

if TYPE_CHECKING:
    from twisted.internet.interfaces import IProtocolFactory

    from smsgw.config import SimulatorConfig, UpstreamConfig
    from smsgw.ismg.simulator import Simulator

__all__ = [
    "Extras",
    "ExtrasError",
    "ProtocolSpec",
    "SimListener",
    "build_extras",
    "endpoint_key",
    "extra_field",
    "extras_as",
    "extras_keys",
    "extras_query",
    "for_scheme",
    "int_key",
    "one_of",
    "register",
    "schemes",
    "sim_listeners",
    "specs",
    "text_key",
]

E = TypeVar("E", bound="Extras")

_PARSE = "smsgw.parse"
_DIGITS = re.compile(r"[0-9]+")


class ExtrasError(ValueError):
    """A protocol's URL or TOML key is unknown or has a bad value.

    :ivar key: the key (never its value: it may be a secret).
    :ivar reason: what is wrong.
    """

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


# -- typed extras ------------------------------------------------------------------------------


def extra_field(default: Any, parse: Callable[[object], Any]) -> Any:
    """An attrs field of an extras class, read from text (URL) or a TOML value by *parse*.

    *parse* returns the typed value or raises :class:`ValueError` whose
    message says what was expected (the key is added by :func:`build_extras`).
    """
    return attrs.field(default=default, metadata={_PARSE: parse})


def text_key(*, max_length: int | None = None, ascii_only: bool = False) -> Callable[[object], str]:
    """A parser of a string key, at most *max_length* characters, ASCII if *ascii_only*."""

    def parse(value: object) -> str:
        if not isinstance(value, str):
            raise ValueError("expected a string")
        if ascii_only and not value.isascii():
            raise ValueError("expected ASCII characters")
        if max_length is not None and len(value) > max_length:
            raise ValueError(f"expected at most {max_length} characters")
        return value

    return parse


def int_key(minimum: int, maximum: int) -> Callable[[object], int]:
    """A parser of an integer key from *minimum* to *maximum* (digits in a URL)."""

    def parse(value: object) -> int:
        if isinstance(value, str) and _DIGITS.fullmatch(value) and value.isascii():
            number = int(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            number = minimum - 1
        if not minimum <= number <= maximum:
            raise ValueError(f"expected an integer from {minimum} to {maximum}")
        return number

    return parse


def one_of(*choices: str, hint: str = "") -> Callable[[object], str]:
    """A parser of a key taking one of *choices*; *hint* explains them."""

    def parse(value: object) -> str:
        if value not in choices:
            raise ValueError(hint or f"expected one of {', '.join(choices)}")
        return str(value)

    return parse


def endpoint_key(value: object) -> str | None:
    """A parser of a key holding a Twisted server endpoint string."""
    if not isinstance(value, str) or not value:
        raise ValueError("expected a Twisted server endpoint string (e.g. tcp:8801)")
    return value


@attrs.frozen(kw_only=True)
class Extras:
    """The URL keys every protocol takes; each protocol's extras class subclasses it.

    :ivar charset: ``gbk`` to send non-ASCII text as Msg_Fmt 15 (GBK)
        instead of UCS2 (Msg_Fmt 8), for gateways that ask for it.
    """

    charset: str = extra_field(
        "ucs2",
        one_of("ucs2", "gbk", hint="expected ucs2 (Msg_Fmt 8, the default) or gbk (Msg_Fmt 15)"),
    )

    @property
    def prefer_gb(self) -> bool:
        """Whether non-ASCII text goes out as GBK (Msg_Fmt 15)."""
        return self.charset == "gbk"


def extras_as(extras: Extras, cls: type[E]) -> E:
    """*extras* as the protocol's own extras class *cls* (a client reading its keys).

    :raises TypeError: when they are another protocol's.
    """
    if not isinstance(extras, cls):
        raise TypeError(f"expected {cls.__name__}, not {type(extras).__name__}")
    return extras


def extras_keys(cls: type[Extras]) -> tuple[str, ...]:
    """The keys *cls* takes, in field order."""
    return tuple(field.name for field in attrs.fields(cls))


def build_extras(cls: type[E], values: Mapping[str, object]) -> E:
    """An instance of the extras class *cls* from URL text or TOML *values*.

    :raises ExtrasError: naming the first unknown key (and the allowed ones)
        or the key whose value is bad.
    """
    fields = {field.name: field for field in attrs.fields(cls)}
    typed: dict[str, Any] = {}
    for key, value in values.items():
        field = fields.get(key)
        if field is None:
            raise ExtrasError(key, f"unknown key (allowed: {', '.join(fields)})")
        try:
            typed[key] = field.metadata[_PARSE](value)
        except ValueError as error:
            raise ExtrasError(key, str(error)) from None
    return cls(**typed)


def extras_query(extras: Extras) -> list[tuple[str, str]]:
    """The keys of *extras* that differ from their defaults, as URL text, sorted."""
    query = []
    for field in attrs.fields(type(extras)):
        value = getattr(extras, field.name)
        if value != field.default:
            query.append((field.name, value if isinstance(value, str) else str(value)))
    return sorted(query)


# -- specs -------------------------------------------------------------------------------------


@attrs.frozen
class SimListener:
    """How the ismg-sim serves one protocol.

    :ivar option: the ismg-sim command-line option and ``[simulator]`` key.
    :ivar help: the option's help text.
    :ivar default_endpoint: the endpoint when nothing is given, or ``None``
        for a listener that is off unless given.
    :ivar make_factory: the listener's factory on a simulator.
    """

    option: str
    help: str
    default_endpoint: str | None
    make_factory: Callable[[Simulator, SimulatorConfig], IProtocolFactory]


@attrs.frozen
class ProtocolSpec:
    """One wire protocol as the rest of the gateway sees it.

    :ivar name: ``cmpp``, ``cmpp3``, ``sgip``, ``smgp``, ...
    :ivar schemes: the upstream URL schemes it answers.
    :ivar default_port: for upstream URLs without a port.
    :ivar extras: its :class:`Extras` subclass (the typed URL keys).
    :ivar make_client: the SP-side client of a session channel (see
        :class:`smsgw.sp.clients.Client`), or ``None`` for a protocol that
        builds its own channel.
    :ivar make_channel: builds a whole channel (an
        :class:`~smsgw.sp.interfaces.IChannel`) instead of the session
        :class:`~smsgw.sp.channel.Channel` around a client:
        ``make_channel(config, reactor, setup)``, *setup* being a
        :class:`~smsgw.sp.interfaces.ChannelSetup`.  HTTP vendors do this.
    :ivar url_path: whether the upstream URL may have a path (an HTTP
        vendor's base URL); the binary protocols take none.
    :ivar sim: how the ismg-sim serves it, or ``None``.
    :ivar carrier: the carrier (:class:`smsgw.sp.numbers.Carrier` value:
        ``mobile``, ``unicom``, ``telecom``) whose numbers a channel of this
        protocol serves when no route prefix matches, or ``None`` for a
        protocol that serves numbers only through its routes.
    """

    name: str
    schemes: tuple[str, ...]
    default_port: int
    extras: type[Extras]
    make_client: Callable[[UpstreamConfig], object] | None
    sim: SimListener | None = None
    carrier: str | None = None
    make_channel: Callable[[UpstreamConfig, Any, Any], Any] | None = None
    url_path: bool = False


_registered: list[ProtocolSpec] = []
_discovered = False


def _discover() -> None:
    """Import each subpackage of :mod:`smsgw.protocols` once and register its ``SPECS``."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    import smsgw.protocols as package

    found: list[ProtocolSpec] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda info: info.name):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        exported = getattr(module, "SPECS", None)
        if exported is None and importlib.util.find_spec(f"{module.__name__}.spec") is not None:
            exported = getattr(importlib.import_module(f"{module.__name__}.spec"), "SPECS", None)
        found.extend(exported or ())
    # Built-ins first, then whatever was registered before the first use.
    early, _registered[:] = list(_registered), []
    for spec in [*found, *early]:
        _add(spec)


def _add(spec: ProtocolSpec) -> None:
    names = {known.name for known in _registered}
    schemes = {scheme for known in _registered for scheme in known.schemes}
    options = {known.sim.option for known in _registered if known.sim is not None}
    if spec.name in names:
        raise ValueError(f"protocol {spec.name!r} is already registered")
    taken = sorted(schemes.intersection(spec.schemes))
    if taken:
        raise ValueError(f"URL scheme {taken[0]!r} is already registered")
    if spec.sim is not None and spec.sim.option in options:
        raise ValueError(f"ismg-sim option {spec.sim.option!r} is already registered")
    _registered.append(spec)


def register(spec: ProtocolSpec) -> Callable[[], None]:
    """Add *spec*; return the function that removes it again (tests use it).

    :raises ValueError: when its name, a scheme or its ismg-sim option is
        already registered.
    """
    _discover()
    _add(spec)

    def unregister() -> None:
        if spec in _registered:
            _registered.remove(spec)

    return unregister


def specs() -> tuple[ProtocolSpec, ...]:
    """Every registered spec, built-ins first (discovered on the first call)."""
    _discover()
    return tuple(_registered)


def for_scheme(scheme: str) -> ProtocolSpec:
    """The spec answering upstream URL scheme *scheme*.

    :raises KeyError: naming the known schemes.
    """
    for spec in specs():
        if scheme in spec.schemes:
            return spec
    raise KeyError(f"unknown scheme {scheme!r} (known: {', '.join(schemes())})")


def schemes() -> tuple[str, ...]:
    """Every registered URL scheme, in registration order."""
    return tuple(scheme for spec in specs() for scheme in spec.schemes)


def sim_listeners() -> tuple[SimListener, ...]:
    """The ismg-sim listeners of every registered protocol that has one."""
    return tuple(spec.sim for spec in specs() if spec.sim is not None)
