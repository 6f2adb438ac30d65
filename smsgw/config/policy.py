"""The simulator's behaviour, as configured: delivery-report policy, fault injection, triggers.

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
                "submit_result": 0},
     "triggers": [{"match": "*0002", "stat": "UNDELIV", "report_delay_s": 5}]}

Every validation error is a :class:`PolicyError` naming the field by its path
in that document, e.g. ``reports.states.DELIVRD`` or ``triggers[0].stat``.
The triggers (deterministic behaviour by destination number) are described
in :mod:`smsgw.config.triggers`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from smsgw.config.policyfields import (
    DIGITS,
    MAX_REPORT_DELAY_S,
    MAX_RESPONSE_DELAY_S,
    STAT_LENGTH,
    PolicyError,
    check_stat,
    is_number,
    json_object,
    national_number,
    number_range,
    to_float,
    to_optional_float,
    valid_float,
)
from smsgw.config.triggers import (
    Trigger,
    convert_triggers,
    first_trigger,
    parse_triggers,
    triggers_json,
)

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

_NORMALISED_TOLERANCE = 1e-9
"""Shares adding up to 1 within this are kept as given, so that normalising
is idempotent and :meth:`Policy.to_json` round-trips exactly."""


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
        if not (isinstance(value, str) and DIGITS.fullmatch(value)):
            raise PolicyError("expected a non-empty string of digits", "prefix")

    @stat.validator
    def _validate_stat(self, attribute: attrs.Attribute[str], value: object) -> None:
        check_stat(value, "stat")


def _convert_states(
    value: Mapping[str, float] | Iterable[tuple[str, float]],
) -> tuple[tuple[str, float], ...]:
    """Validated and normalised ``(Stat, share)`` pairs, in the given order."""
    pairs = list(value.items()) if isinstance(value, Mapping) else list(value)
    seen: set[str] = set()
    result: list[tuple[str, float]] = []
    for stat, share in pairs:
        field = f"states.{stat}"
        check_stat(stat, field)
        if stat in seen:
            raise PolicyError("duplicate Stat", field)
        seen.add(stat)
        number = valid_float(share, field)
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
    if len(items) != 2 or not all(is_number(item) for item in items):
        raise PolicyError("expected [min, max] in seconds", "delay_s")
    low, high = (valid_float(item, "delay_s") for item in items)
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
        if not self.rules:
            # The common case, once per report: no number to normalise.
            return None
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
        default=0.0, converter=to_float, validator=number_range(0, MAX_RESPONSE_DELAY_S)
    )
    drop_response_ratio: float = attrs.field(
        default=0.0, converter=to_float, validator=number_range(0, 1)
    )
    throttle_tps: float | None = attrs.field(
        default=None,
        converter=to_optional_float,
        validator=number_range(0, None, exclusive_minimum=True, optional=True),
    )
    disconnect_after_pdus: int | None = attrs.field(
        default=None, validator=number_range(1, None, integer=True, optional=True)
    )
    submit_result: int = attrs.field(default=0, validator=number_range(0, 255, integer=True))

    def draw_drop(self, rng: random.Random) -> bool:
        """Whether to drop this SUBMIT's response; uses *rng* only when the ratio > 0."""
        return self.drop_response_ratio > 0 and rng.random() < self.drop_response_ratio


_REPORT_KEYS = ("states", "delay_s", "rules")
_FAULT_KEYS = tuple(field.name for field in attrs.fields(FaultPolicy))
_RULE_KEYS = ("prefix", "stat")


def _parse_rules(data: object) -> tuple[PrefixRule, ...]:
    if not isinstance(data, list | tuple):
        raise PolicyError("expected an array of {prefix, stat} objects", "rules")
    rules = []
    for index, item in enumerate(data):
        field = f"rules[{index}]"
        item = json_object(item, field, _RULE_KEYS)
        for key in _RULE_KEYS:
            if key not in item:
                raise PolicyError("required", f"{field}.{key}")
        try:
            rules.append(PrefixRule(prefix=item["prefix"], stat=item["stat"]))
        except PolicyError as error:
            raise error.within(field) from None
    return tuple(rules)


def _merge_reports(base: ReportPolicy, data: object) -> ReportPolicy:
    data = json_object(data, "reports", _REPORT_KEYS)
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
    data = json_object(data, "faults", _FAULT_KEYS)
    try:
        return attrs.evolve(base, **data)
    except PolicyError as error:
        raise error.within("faults") from None


@attrs.frozen
class Policy:
    """The simulator's whole behaviour: report policy, faults and triggers.

    :ivar triggers: deterministic behaviour by destination number
        (:mod:`smsgw.config.triggers`), checked before *reports* and *faults*.
    """

    reports: ReportPolicy = attrs.field(
        factory=ReportPolicy, validator=attrs.validators.instance_of(ReportPolicy)
    )
    faults: FaultPolicy = attrs.field(
        factory=FaultPolicy, validator=attrs.validators.instance_of(FaultPolicy)
    )
    triggers: tuple[Trigger, ...] = attrs.field(default=(), converter=convert_triggers)

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
        whole (``reports.states``, ``reports.rules`` and ``triggers`` are not
        merged item by item).

        :raises PolicyError: as :meth:`from_json`.
        """
        data = json_object(data, None, ("reports", "faults", "triggers"))
        reports = self.reports
        faults = self.faults
        triggers = self.triggers
        if "reports" in data:
            reports = _merge_reports(reports, data["reports"])
        if "faults" in data:
            faults = _merge_faults(faults, data["faults"])
        if "triggers" in data:
            triggers = parse_triggers(data["triggers"])
        return Policy(reports=reports, faults=faults, triggers=triggers)

    def trigger_for(self, account: str | None, dest: str) -> Trigger | None:
        """The trigger deciding a message of *account* to *dest* (see :func:`first_trigger`)."""
        if not self.triggers:
            return None
        return first_trigger(self.triggers, account, dest)

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
            "triggers": triggers_json(self.triggers),
        }
