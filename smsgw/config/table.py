"""Typed reads from one TOML table, and the error every configuration problem raises.

:class:`Table` remembers which keys were read, so :meth:`Table.done` can
refuse the others by name; every error names the file and the dotted key::

    smsgw.toml: simulator.account[1].secret: expected a string

Array items are counted from 0.  The ``[gns]`` reader (:mod:`smsgw.gns.config`)
uses it too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")


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


def join_key(path: str, key: str) -> str:
    """``path.key``, or *key* at the top level."""
    return f"{path}.{key}" if path else key


REQUIRED: Any = object()
"""The default of :meth:`Table.value` for a key that must be given."""


class Table:
    """Typed reads from one TOML table, remembering which keys are known."""

    def __init__(self, data: Mapping[str, Any], path: str, source: str) -> None:
        self._data = data
        self.path = path
        self._source = source
        self._known: list[str] = []

    def error(self, key: str | None, reason: str) -> ConfigError:
        """An error about *key* of this table (or the table itself)."""
        return ConfigError(
            reason, key=join_key(self.path, key) if key else self.path or None, source=self._source
        )

    def _get(self, key: str, default: Any) -> Any:
        self._known.append(key)
        return self._data.get(key, default)

    def has(self, key: str) -> bool:
        """Whether *key* is given (it is not marked as read)."""
        return key in self._data

    def value(
        self, key: str, accept: Callable[[Any], bool], expected: str, default: Any = REQUIRED
    ) -> Any:
        """The value of *key* if *accept* takes it; *default* when absent (required without).

        :param expected: what a good value is, for the error ("a string of 6 digits").
        """
        self._known.append(key)
        if key not in self._data:
            if default is REQUIRED:
                raise self.error(key, "required")
            return default
        value = self._data[key]
        if not accept(value):
            raise self.error(key, f"expected {expected}")
        return value

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

    def strings(self, key: str, check: Callable[[str], object], expected: str) -> tuple[str, ...]:
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

    def table(self, key: str) -> Table:
        """A sub-table; empty when absent."""
        return Table(self.raw_table(key), join_key(self.path, key), self._source)

    def tables(self, key: str) -> list[Table]:
        """An array of tables (``[[key]]``); empty when absent."""
        value = self._get(key, [])
        if not isinstance(value, list):
            raise self.error(key, f"expected an array of tables ([[{join_key(self.path, key)}]])")
        tables = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.error(f"{key}[{index}]", "expected a table")
            tables.append(Table(item, f"{join_key(self.path, key)}[{index}]", self._source))
        return tables

    def done(self) -> None:
        """Refuse the keys no reader asked for."""
        unknown = [key for key in self._data if key not in self._known]
        if unknown:
            others = ", ".join(repr(key) for key in unknown[1:])
            also = f"; also unknown: {others}" if others else ""
            allowed = ", ".join(sorted(set(self._known)))
            raise self.error(str(unknown[0]), f"unknown key{also} (allowed: {allowed})")


def unique(
    items: Iterable[T], tables: list[Table], key: str, attr: Callable[[T], str], what: str
) -> None:
    """Refuse a repeated *key* among array tables; the value is not quoted (it may be secret)."""
    seen: set[str] = set()
    for item, table in zip(items, tables, strict=True):
        value = attr(item)
        if value in seen:
            raise table.error(key, f"duplicate {what}")
        seen.add(value)
