"""The policy documents' shared pieces: :class:`PolicyError` and field checks.

Used by :mod:`smsgw.config.policy` (reports and faults) and
:mod:`smsgw.config.triggers` (deterministic behaviour by destination
number).  Pure code, no Twisted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

__all__ = [
    "DIGITS",
    "MAX_REPORT_DELAY_S",
    "MAX_RESPONSE_DELAY_S",
    "STAT_LENGTH",
    "PolicyError",
    "check_stat",
    "is_number",
    "join_path",
    "json_object",
    "national_number",
    "number_range",
    "to_float",
    "to_optional_float",
    "valid_float",
]

STAT_LENGTH = 7
"""Length of a report's ``Stat`` (CMPP 2.0 7.4.5.3, an Octet String of 7)."""

MAX_REPORT_DELAY_S = 172800.0
"""Longest report delay accepted: 48 hours, the usual validity period."""

MAX_RESPONSE_DELAY_S = 600.0
"""Longest SUBMIT_RESP delay accepted."""

DIGITS = re.compile(r"[0-9]+")
"""A non-empty string of ASCII digits."""
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
        return PolicyError(self.message, join_path(prefix, self.field))


def join_path(prefix: str, field: str | None) -> str:
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


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def valid_float(value: object, field: str) -> float:
    """*value* as a finite float, or :class:`PolicyError` naming *field*."""
    if not is_number(value):
        raise PolicyError("expected a number", field)
    result = float(value)  # type: ignore[arg-type]
    if not math.isfinite(result):
        raise PolicyError("expected a finite number", field)
    return result


def to_float(value: object) -> object:
    """attrs converter: ints to float; anything else is left to the validator."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def to_optional_float(value: object) -> object:
    return None if value is None else to_float(value)


def check_stat(value: object, field: str) -> None:
    if not (
        isinstance(value, str)
        and len(value) == STAT_LENGTH
        and value.isascii()
        and value.isprintable()
    ):
        raise PolicyError(
            f"expected a Stat of exactly {STAT_LENGTH} printable ASCII characters", field
        )


def number_range(
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
            else is_number(value) and math.isfinite(value)
        )
        if ok:
            ok = value > minimum if exclusive_minimum else value >= minimum
            ok = ok and (maximum is None or value <= maximum)
        if not ok:
            raise PolicyError(f"expected {expected}, got {value!r}", attribute.name)

    return validate


def json_object(data: object, field: str | None, allowed: Iterable[str]) -> Mapping[str, Any]:
    """*data* as a JSON object with only *allowed* keys."""
    if not isinstance(data, Mapping):
        raise PolicyError("expected an object", field)
    allowed = tuple(allowed)
    for key in data:
        if key not in allowed:
            raise PolicyError(
                f"unknown key (allowed: {', '.join(allowed)})",
                join_path(field, str(key)) if field else str(key),
            )
    return data
