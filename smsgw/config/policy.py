"""The simulator's behaviour, as configured: delivery-report policy and fault injection.

It lives with the configuration because the ``[simulator.policy]`` table is
read into it when the file loads; the simulator (:mod:`smsgw.ismg`) draws
from it.  Pure code, no Twisted: random draws take a :class:`random.Random`,
so a seeded generator gives a repeatable run.  A :class:`Policy` is built
from the JSON document of the control API's ``PUT /v1/policy`` or from the
``[simulator.policy]`` table of the configuration file::

    {"reports": {"states": {"DELIVRD": 0.9, "UNDELIV": 0.1},
                 "delay_s": [0.5, 2.0],
                 "rules": [{"prefix": "1390000", "stat": "UNDELIV"}]},
     "faults": {"response_delay_s": 0, "drop_response_ratio": 0,
                "throttle_tps": null, "disconnect_after_pdus": null,
                "submit_result": 0}}

Every validation error is a :class:`PolicyError` naming the field by its path
in that document, e.g. ``reports.states.DELIVRD`` or ``reports.rules[0].stat``.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

__all__ = [
    "MAX_REPORT_DELAY_S",
    "MAX_RESPONSE_DELAY_S",
    "STAT_LENGTH",
    "FaultPolicy",
    "Policy",
    "PolicyError",
    "PrefixRule",
    "ReportPolicy",
    "national_number",
]

STAT_LENGTH = 7
"""Length of a report's ``Stat`` (CMPP 2.0 7.4.5.3, an Octet String of 7)."""

MAX_REPORT_DELAY_S = 172800.0
"""Longest report delay accepted: 48 hours, the usual validity period."""

MAX_RESPONSE_DELAY_S = 600.0
"""Longest SUBMIT_RESP delay accepted."""

_NORMALISED_TOLERANCE = 1e-9
"""Shares adding up to 1 within this are kept as given, so that normalising
is idempotent and :meth:`Policy.to_json` round-trips exactly."""

_DIGITS = re.compile(r"[0-9]+")
_MOBILE = re.compile(r"1[0-9]{10}")


class PolicyError(ValueError):
    """A policy document or value is invalid.

    :ivar message: what is wrong, without the field name.
    :ivar field: the field's path in the JSON document (``reports.delay_s``,
        ``reports.rules[0].stat``), or ``None`` for the document itself.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.message = message
        self.field = field

    def within(self, prefix: str) -> PolicyError:
        """The same error with *prefix* (a parent path) before its field."""
        return PolicyError(self.message, _join(prefix, self.field))


def _join(prefix: str, field: str | None) -> str:
    if not field:
        return prefix
    if field.startswith("["):
        return prefix + field
    return f"{prefix}.{field}"


def national_number(dest: str) -> str:
    """*dest* without a leading ``+86`` or ``86`` when the rest is a mobile number.

    A Chinese mobile number has 11 digits and starts with 1; anything else
    (service numbers, foreign numbers) is returned unchanged.
    """
    for country_code in ("+86", "86"):
        rest = dest[len(country_code) :]
        if dest.startswith(country_code) and _MOBILE.fullmatch(rest):
            return rest
    return dest


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _float(value: object, field: str) -> float:
    """*value* as a finite float, or :class:`PolicyError` naming *field*."""
    if not _is_number(value):
        raise PolicyError("expected a number", field)
    result = float(value)  # type: ignore[arg-type]
    if not math.isfinite(result):
        raise PolicyError("expected a finite number", field)
    return result


def _to_float(value: object) -> object:
    """attrs converter: ints to float; anything else is left to the validator."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _to_optional_float(value: object) -> object:
    return None if value is None else _to_float(value)


def _check_stat(value: object, field: str) -> None:
    if not (
        isinstance(value, str)
        and len(value) == STAT_LENGTH
        and value.isascii()
        and value.isprintable()
    ):
        raise PolicyError(
            f"expected a Stat of exactly {STAT_LENGTH} printable ASCII characters", field
        )


def _range(
    minimum: float,
    maximum: float | None,
    *,
    integer: bool = False,
    exclusive_minimum: bool = False,
    optional: bool = False,
) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    """An attrs validator: a number (or an integer) in the given range."""
    kind = "an integer" if integer else "a number"
    if maximum is None:
        bounds = f"> {minimum:g}" if exclusive_minimum else f">= {minimum:g}"
    else:
        bounds = f"from {minimum:g} to {maximum:g}"
    expected = f"{kind} {bounds}" + (" or null" if optional else "")

    def validate(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        ok = (
            isinstance(value, int) and not isinstance(value, bool)
            if integer
            else _is_number(value) and math.isfinite(value)
        )
        if ok:
            ok = value > minimum if exclusive_minimum else value >= minimum
            ok = ok and (maximum is None or value <= maximum)
        if not ok:
            raise PolicyError(f"expected {expected}, got {value!r}", attribute.name)

    return validate


@attrs.frozen
class PrefixRule:
    """A deterministic report state for destinations starting with *prefix*.

    :ivar prefix: leading digits of the national number (see
        :func:`national_number`).
    :ivar stat: the report's ``Stat``, 7 ASCII characters.
    """

    prefix: str = attrs.field()
    stat: str = attrs.field()

    @prefix.validator
    def _validate_prefix(self, attribute: attrs.Attribute[str], value: object) -> None:
        if not (isinstance(value, str) and _DIGITS.fullmatch(value)):
            raise PolicyError("expected a non-empty string of digits", "prefix")

    @stat.validator
    def _validate_stat(self, attribute: attrs.Attribute[str], value: object) -> None:
        _check_stat(value, "stat")


def _convert_states(
    value: Mapping[str, float] | Iterable[tuple[str, float]],
) -> tuple[tuple[str, float], ...]:
    """Validated and normalised ``(Stat, share)`` pairs, in the given order."""
    pairs = list(value.items()) if isinstance(value, Mapping) else list(value)
    seen: set[str] = set()
    result: list[tuple[str, float]] = []
    for stat, share in pairs:
        field = f"states.{stat}"
        _check_stat(stat, field)
        if stat in seen:
            raise PolicyError("duplicate Stat", field)
        seen.add(stat)
        number = _float(share, field)
        if number < 0:
            raise PolicyError(f"expected a share >= 0, got {share!r}", field)
        result.append((stat, number))
    try:
        total = math.fsum(share for _, share in result)
    except OverflowError:
        total = math.inf
    if not math.isfinite(total):
        raise PolicyError("shares are too large", "states")
    if total <= 0:
        raise PolicyError("expected at least one Stat with a share > 0", "states")
    if abs(total - 1.0) > _NORMALISED_TOLERANCE:
        result = [(stat, share / total) for stat, share in result]
    return tuple(result)


def _convert_delay(value: Iterable[float]) -> tuple[float, float]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise PolicyError("expected [min, max] in seconds", "delay_s")
    items = list(value)
    if len(items) != 2 or not all(_is_number(item) for item in items):
        raise PolicyError("expected [min, max] in seconds", "delay_s")
    low, high = (_float(item, "delay_s") for item in items)
    if not 0 <= low <= high <= MAX_REPORT_DELAY_S:
        raise PolicyError(
            f"expected 0 <= min <= max <= {MAX_REPORT_DELAY_S:g}, got [{low!r}, {high!r}]",
            "delay_s",
        )
    return (low, high)


def _convert_rules(value: Iterable[PrefixRule]) -> tuple[PrefixRule, ...]:
    rules = tuple(value)
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        if not isinstance(rule, PrefixRule):
            raise PolicyError("expected a PrefixRule", f"rules[{index}]")
        if rule.prefix in seen:
            raise PolicyError("duplicate prefix", f"rules[{index}].prefix")
        seen.add(rule.prefix)
    return rules


@attrs.frozen
class ReportPolicy:
    """How the simulator answers registered SUBMITs with status reports.

    :ivar states: ``(Stat, share)`` pairs; shares are >= 0 and normalised to
        add up to 1.  A mapping is accepted too.
    :ivar delay_s: ``(min, max)`` seconds between the SUBMIT_RESP and the
        report, drawn uniformly; ``0 <= min <= max <= 172800``.
    :ivar rules: deterministic states by destination prefix, overriding
        *states*; the longest matching prefix wins.
    """

    states: tuple[tuple[str, float], ...] = attrs.field(
        default=(("DELIVRD", 1.0),), converter=_convert_states
    )
    delay_s: tuple[float, float] = attrs.field(default=(0.0, 0.0), converter=_convert_delay)
    rules: tuple[PrefixRule, ...] = attrs.field(default=(), converter=_convert_rules)

    def rule_for(self, dest: str) -> PrefixRule | None:
        """The rule with the longest prefix of *dest*'s national number, if any."""
        number = national_number(dest)
        matching = (rule for rule in self.rules if number.startswith(rule.prefix))
        return max(matching, key=lambda rule: len(rule.prefix), default=None)

    def draw_stat(self, dest: str, rng: random.Random) -> str:
        """The ``Stat`` of the report for a message to *dest*.

        A matching rule decides without using *rng*; otherwise one value is
        drawn from *rng* and the states are chosen by their shares.

        :param dest: the destination number as submitted (``+86`` allowed).
        """
        rule = self.rule_for(dest)
        if rule is not None:
            return rule.stat
        point = rng.random()
        cumulative = 0.0
        chosen = ""
        for stat, share in self.states:
            if share > 0:
                chosen = stat
                cumulative += share
                if point < cumulative:
                    return stat
        # Only reached when rounding leaves the shares' sum just below 1.
        return chosen

    def draw_delay(self, rng: random.Random) -> float:
        """Seconds to wait before sending a report, uniform in :attr:`delay_s`."""
        low, high = self.delay_s
        if high <= low:
            return low
        return min(high, max(low, rng.uniform(low, high)))


@attrs.frozen
class FaultPolicy:
    """Misbehaviour on purpose, for the SP side's failure tests.

    :ivar response_delay_s: seconds before each SUBMIT_RESP, 0 to 600.
    :ivar drop_response_ratio: share of SUBMITs (0 to 1) whose response is
        never sent.
    :ivar throttle_tps: SUBMITs per second per account above which the
        response carries result 8 (flow control); ``None`` for no limit.
    :ivar disconnect_after_pdus: the server drops a session after receiving
        this many PDUs from it; ``None`` for never.
    :ivar submit_result: a forced ``Result`` (1 to 255) for every SUBMIT, or
        0 for normal answers.
    """

    response_delay_s: float = attrs.field(
        default=0.0, converter=_to_float, validator=_range(0, MAX_RESPONSE_DELAY_S)
    )
    drop_response_ratio: float = attrs.field(
        default=0.0, converter=_to_float, validator=_range(0, 1)
    )
    throttle_tps: float | None = attrs.field(
        default=None,
        converter=_to_optional_float,
        validator=_range(0, None, exclusive_minimum=True, optional=True),
    )
    disconnect_after_pdus: int | None = attrs.field(
        default=None, validator=_range(1, None, integer=True, optional=True)
    )
    submit_result: int = attrs.field(default=0, validator=_range(0, 255, integer=True))

    def draw_drop(self, rng: random.Random) -> bool:
        """Whether to drop this SUBMIT's response; uses *rng* only when the ratio > 0."""
        return self.drop_response_ratio > 0 and rng.random() < self.drop_response_ratio


_REPORT_KEYS = ("states", "delay_s", "rules")
_FAULT_KEYS = tuple(field.name for field in attrs.fields(FaultPolicy))
_RULE_KEYS = ("prefix", "stat")


def _object(data: object, field: str | None, allowed: Iterable[str]) -> Mapping[str, Any]:
    """*data* as a JSON object with only *allowed* keys."""
    if not isinstance(data, Mapping):
        raise PolicyError("expected an object", field)
    allowed = tuple(allowed)
    for key in data:
        if key not in allowed:
            raise PolicyError(
                f"unknown key (allowed: {', '.join(allowed)})",
                _join(field, str(key)) if field else str(key),
            )
    return data


def _parse_rules(data: object) -> tuple[PrefixRule, ...]:
    if not isinstance(data, list | tuple):
        raise PolicyError("expected an array of {prefix, stat} objects", "rules")
    rules = []
    for index, item in enumerate(data):
        field = f"rules[{index}]"
        item = _object(item, field, _RULE_KEYS)
        for key in _RULE_KEYS:
            if key not in item:
                raise PolicyError("required", f"{field}.{key}")
        try:
            rules.append(PrefixRule(prefix=item["prefix"], stat=item["stat"]))
        except PolicyError as error:
            raise error.within(field) from None
    return tuple(rules)


def _merge_reports(base: ReportPolicy, data: object) -> ReportPolicy:
    data = _object(data, "reports", _REPORT_KEYS)
    changes: dict[str, Any] = {}
    try:
        if "states" in data:
            if not isinstance(data["states"], Mapping):
                raise PolicyError("expected an object of Stat: share", "states")
            changes["states"] = data["states"]
        if "delay_s" in data:
            if not isinstance(data["delay_s"], list | tuple):
                raise PolicyError("expected [min, max] in seconds", "delay_s")
            changes["delay_s"] = data["delay_s"]
        if "rules" in data:
            changes["rules"] = _parse_rules(data["rules"])
        return attrs.evolve(base, **changes)
    except PolicyError as error:
        raise error.within("reports") from None


def _merge_faults(base: FaultPolicy, data: object) -> FaultPolicy:
    data = _object(data, "faults", _FAULT_KEYS)
    try:
        return attrs.evolve(base, **data)
    except PolicyError as error:
        raise error.within("faults") from None


@attrs.frozen
class Policy:
    """The simulator's whole behaviour: report policy and faults."""

    reports: ReportPolicy = attrs.field(
        factory=ReportPolicy, validator=attrs.validators.instance_of(ReportPolicy)
    )
    faults: FaultPolicy = attrs.field(
        factory=FaultPolicy, validator=attrs.validators.instance_of(FaultPolicy)
    )

    @classmethod
    def from_json(cls, data: object) -> Policy:
        """A policy from a (possibly partial) JSON document; missing parts keep defaults.

        :raises PolicyError: naming the field for unknown keys, wrong types and
            values out of range.
        """
        return cls().merged(data)

    def merged(self, data: object) -> Policy:
        """This policy with the sections and keys given in *data* replaced (PUT).

        Within a section only the keys given change; a key's value is replaced
        whole (``reports.states`` and ``reports.rules`` are not merged item by
        item).

        :raises PolicyError: as :meth:`from_json`.
        """
        data = _object(data, None, ("reports", "faults"))
        reports = self.reports
        faults = self.faults
        if "reports" in data:
            reports = _merge_reports(reports, data["reports"])
        if "faults" in data:
            faults = _merge_faults(faults, data["faults"])
        return Policy(reports=reports, faults=faults)

    def to_json(self) -> dict[str, Any]:
        """This policy as a JSON-able document that :meth:`from_json` reads back."""
        reports = self.reports
        return {
            "reports": {
                "states": dict(reports.states),
                "delay_s": list(reports.delay_s),
                "rules": [{"prefix": rule.prefix, "stat": rule.stat} for rule in reports.rules],
            },
            "faults": attrs.asdict(self.faults),
        }
