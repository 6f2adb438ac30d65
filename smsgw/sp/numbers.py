"""Mainland China mobile numbers: normalisation and carrier by number segment.

The SP gateway accepts recipients as applications write them and routes each
by the carrier that owns its number segment (``POST /v1/sms``).  Numbers
outside mainland China (``+44…``, ``0044…``) are accepted too, in E.164 form
with their ``+``, for channels given them by ``+`` routes (SMPP, typically):
:func:`normalize_recipient`.  Pure code, no Twisted imports.

The segment table (:data:`DEFAULT_PREFIXES`) is the carriers' allocation **as
of 2024**: China Mobile, China Unicom and China Telecom segments, with the
virtual-operator segment 170 split by its fourth digit.  Segments change (MIIT
hands out new ones every few years, and numbers move between carriers with
number portability, which no prefix table can see), so the table is
configurable: build a :class:`PrefixTable` with overrides, the longest prefix
wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "DEFAULT_PREFIXES",
    "DEFAULT_TABLE",
    "Carrier",
    "InvalidNumber",
    "PrefixTable",
    "carrier_of",
    "is_international",
    "mask_msisdn",
    "normalize_msisdn",
    "normalize_recipient",
]


class InvalidNumber(ValueError):
    """Text that is not a mainland China mobile number.

    :ivar text: the text as given.
    :ivar reason: why it was refused, e.g. ``"expected 11 digits, got 10"``.
    """

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"invalid mobile number {text!r}: {reason}")
        self.text = text
        self.reason = reason


class Carrier(StrEnum):
    """The network a mobile number belongs to, by its segment."""

    MOBILE = "mobile"
    """China Mobile (CMPP)."""
    UNICOM = "unicom"
    """China Unicom (SGIP)."""
    TELECOM = "telecom"
    """China Telecom (SMGP)."""
    UNKNOWN = "unknown"
    """No segment in the table matches (e.g. China Broadnet's 192)."""


def _segments(carrier: Carrier, *prefixes: str) -> dict[str, Carrier]:
    return dict.fromkeys(prefixes, carrier)


DEFAULT_PREFIXES: Mapping[str, Carrier] = MappingProxyType(
    {
        **_segments(
            Carrier.MOBILE,
            # 1340-1348; 1349 is Telecom's (below) and, being longer, wins.
            "134",
            *(str(n) for n in range(135, 140)),
            "147",
            "148",
            "150",
            "151",
            "152",
            "157",
            "158",
            "159",
            "165",
            "172",
            "178",
            "182",
            "183",
            "184",
            "187",
            "188",
            "195",
            "197",
            "198",
            # Virtual operators on China Mobile's network.
            "1703",
            "1705",
            "1706",
        ),
        **_segments(
            Carrier.UNICOM,
            "130",
            "131",
            "132",
            "145",
            "146",
            "155",
            "156",
            "166",
            "167",
            "171",
            "175",
            "176",
            "185",
            "186",
            "196",
            # Virtual operators on China Unicom's network.
            "1704",
            "1707",
            "1708",
            "1709",
        ),
        **_segments(
            Carrier.TELECOM,
            "133",
            "1349",
            "149",
            "153",
            "162",
            "173",
            "174",
            "177",
            "180",
            "181",
            "189",
            "190",
            "191",
            "193",
            "199",
            # Virtual operators on China Telecom's network.
            "1700",
            "1701",
            "1702",
        ),
    }
)
"""Number segment -> carrier, as of 2024 (3- and 4-digit prefixes).

Segments not listed (192 of China Broadnet, unallocated ones) give
:attr:`Carrier.UNKNOWN`.  Override with :class:`PrefixTable`.
"""

_SEPARATORS = re.compile(r"[\s-]+")
_ASCII_DIGITS = re.compile(r"[0-9]*")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_PREFIX = re.compile(r"[0-9]{1,11}")
#: E.164: a country code (not 0), 7 to 15 digits in all.
_E164 = re.compile(r"[1-9][0-9]{6,14}")


def normalize_msisdn(text: str) -> str:
    """Turn a mainland mobile number as people write it into its 11 national digits.

    Accepted: ``13800138000``, ``8613800138000``, ``+8613800138000``,
    ``008613800138000``, with any spaces and dashes (``+86 138-0013-8000``).
    Idempotent: a normalised number normalises to itself.

    :param text: the number as given.
    :returns: 11 ASCII digits starting with 13 to 19.
    :raises InvalidNumber: with the reason: not digits, a country code other
        than 86, wrong length, or not a 1[3-9] mobile segment.
    """
    if _MOBILE.fullmatch(text):
        return text  # already 11 national digits: the API's common case, and every re-check
    compact = _SEPARATORS.sub("", text)
    digits = compact[1:] if compact.startswith("+") else compact
    if not digits:
        raise InvalidNumber(text, "no digits")
    if not _ASCII_DIGITS.fullmatch(digits):
        bad = next(char for char in digits if not ("0" <= char <= "9"))
        raise InvalidNumber(text, f"not digits: {bad!r}")
    if compact.startswith("+"):
        if not digits.startswith("86"):
            raise InvalidNumber(text, "country code is not +86 (mainland China)")
        digits = digits[2:]
    elif len(digits) == 15 and digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) != 11:
        raise InvalidNumber(text, f"expected 11 digits after any 86 prefix, got {len(digits)}")
    if not _MOBILE.fullmatch(digits):
        raise InvalidNumber(text, "a mainland mobile number starts with 13 to 19")
    return digits


def normalize_recipient(text: str) -> str:
    """A recipient as the gateway keeps it: a mainland number's 11 digits, else E.164 with ``+``.

    Mainland numbers are read as :func:`normalize_msisdn` reads them. A
    number written with an international prefix (``+`` or ``00``) and a
    country code other than 86 is kept as ``+`` and its digits
    (``+44 7900 000001`` and ``00447900000001`` give ``+447900000001``);
    such numbers have no carrier segment and reach a channel only by a
    ``+`` route, by naming the channel, or as the only channel's when that
    protocol has no carrier of its own (:class:`~smsgw.sp.routing.Router`).

    :raises InvalidNumber: as :func:`normalize_msisdn` for a number that is
        neither; an international number of the wrong length says so.
    """
    if _MOBILE.fullmatch(text):
        return text  # as normalize_msisdn, without its work
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("+"):
        digits = compact[1:]
    elif compact.startswith("00"):
        digits = compact[2:]
    else:
        return normalize_msisdn(text)
    if digits.startswith("86") or not _ASCII_DIGITS.fullmatch(digits):
        return normalize_msisdn(text)
    if not _E164.fullmatch(digits):
        raise InvalidNumber(
            text, "an international number has a country code and 7 to 15 digits in all"
        )
    return "+" + digits


def is_international(number: str) -> bool:
    """Whether a number :func:`normalize_recipient` returned is outside mainland China."""
    return number.startswith("+")


def mask_msisdn(number: str) -> str:
    """Hide the middle of a number for logs and error messages.

    ``13800138000`` -> ``138****8000``; text shorter than 8 characters is
    masked entirely.

    :param number: a number, normalised or not.
    """
    if len(number) < 8:
        return "*" * len(number)
    return f"{number[:3]}{'*' * (len(number) - 7)}{number[-4:]}"


def _coerce_carrier(prefix: str, carrier: Carrier | str) -> Carrier:
    if isinstance(carrier, Carrier):
        return carrier
    try:
        return Carrier(str(carrier).lower())
    except ValueError:
        choices = ", ".join(member.value for member in Carrier)
        raise ValueError(
            f"prefix {prefix!r}: unknown carrier {carrier!r}; expected one of {choices}"
        ) from None


class PrefixTable:
    """Number segment -> :class:`Carrier`, longest prefix first.

    :param overrides: prefixes (1 to 11 digits) and their carrier, a
        :class:`Carrier` or its value (``"mobile"``); they replace the same
        prefix of ``base`` and, being longer, can carve exceptions out of a
        segment (``{"1380013": "unicom"}`` for ported numbers) or hide one
        (``Carrier.UNKNOWN``).
    :param base: the table to start from, :data:`DEFAULT_PREFIXES` by default.
    :raises ValueError: a prefix is not 1 to 11 digits, or a carrier is unknown.
    """

    def __init__(
        self,
        overrides: Mapping[str, Carrier | str] | None = None,
        *,
        base: Mapping[str, Carrier] = DEFAULT_PREFIXES,
    ) -> None:
        table: dict[str, Carrier] = dict(base)
        for prefix, carrier in (overrides or {}).items():
            if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
                raise ValueError(f"number prefix {prefix!r}: expected 1 to 11 digits")
            table[prefix] = _coerce_carrier(prefix, carrier)
        self._table: Mapping[str, Carrier] = MappingProxyType(table)
        self._lengths = sorted({len(prefix) for prefix in table}, reverse=True)

    @property
    def prefixes(self) -> Mapping[str, Carrier]:
        """The whole table, read-only."""
        return self._table

    def match(self, number: str) -> str | None:
        """The longest prefix of the table that ``number`` starts with.

        :param number: a normalised 11-digit number (not normalised here).
        :returns: the prefix, or ``None`` when none matches.
        """
        for length in self._lengths:
            if number[:length] in self._table:
                return number[:length]
        return None

    def carrier_of(self, number: str) -> Carrier:
        """The carrier of ``number`` by its longest matching prefix.

        :param number: a mobile number in any form :func:`normalize_msisdn` accepts.
        :returns: the carrier, :attr:`Carrier.UNKNOWN` when no prefix matches.
        :raises InvalidNumber: ``number`` is not a mainland mobile number.
        """
        prefix = self.match(normalize_msisdn(number))
        return Carrier.UNKNOWN if prefix is None else self._table[prefix]

    def __repr__(self) -> str:
        return f"<PrefixTable of {len(self._table)} prefixes>"


DEFAULT_TABLE = PrefixTable()
""":data:`DEFAULT_PREFIXES` without overrides."""


def carrier_of(number: str, table: PrefixTable | None = None) -> Carrier:
    """The carrier of a mainland mobile number by its segment.

    :param number: a mobile number in any form :func:`normalize_msisdn` accepts.
    :param table: the segment table; :data:`DEFAULT_TABLE` when ``None``.
    :returns: the carrier, :attr:`Carrier.UNKNOWN` for segments not in the table.
    :raises InvalidNumber: ``number`` is not a mainland mobile number.
    """
    return (table or DEFAULT_TABLE).carrier_of(number)
