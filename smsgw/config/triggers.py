"""Deterministic behaviour by destination number: the policy's ``triggers``.

A trigger maps a destination-number pattern to what the simulator does with
a SUBMIT (or an HTTP vendor's send) to a matching number::

    {"triggers": [
        {"match": "*0001", "stat": "DELIVRD"},
        {"match": "*0002", "stat": "UNDELIV", "report_delay_s": 5},
        {"match": "*0003", "result": 8},
        {"match": "1380000*", "account": "901234", "no_response": true},
        {"match": "*0009", "mo_reply": "TD", "mo_delay_s": 2}]}

Patterns are matched against the number as submitted (a leading ``+``
dropped) and against its national number (``+86`` and ``86`` dropped from a
mobile number, see :func:`national_number`): ``*`` matches
every number, ``13800138000`` that number only, ``1380000*`` numbers
starting with ``1380000`` and ``*0002`` numbers ending with ``0002``.

Account triggers (``account`` given) are checked before the others; among
each, the first matching trigger in list order wins.  A matching trigger
replaces the ``faults`` section for that SUBMIT (no random drop, delay or
forced result); the report's ``Stat`` and delay it does not give come from
the ``reports`` section.  Pure code, no Twisted.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

import attrs

from smsgw.config.policyfields import (
    MAX_REPORT_DELAY_S,
    MAX_RESPONSE_DELAY_S,
    PolicyError,
    check_stat,
    json_object,
    national_number,
    number_range,
    to_float,
    to_optional_float,
)

__all__ = [
    "MAX_MO_REPLY_LENGTH",
    "Trigger",
    "convert_triggers",
    "first_trigger",
    "parse_pattern",
    "parse_triggers",
    "triggers_json",
]

MAX_MO_REPLY_LENGTH = 500
"""Longest ``mo_reply`` text accepted, in characters (split into segments as an MO)."""

_PATTERN = re.compile(r"\*|(\*?)([0-9]+)(\*?)")
_PATTERN_HELP = "expected '*', digits, 'DIGITS*' (prefix) or '*DIGITS' (suffix)"

_REFUSED_ONLY = ("stat", "report_delay_s", "no_report", "mo_reply", "mo_delay_s")
"""Fields a refused SUBMIT cannot use: it has no report and no MO reply."""


def parse_pattern(pattern: object) -> tuple[str, str]:
    """*pattern* as ``(kind, digits)``, kind one of ``any``, ``exact``, ``prefix``, ``suffix``.

    :raises PolicyError: naming ``match`` for anything else (``*13*``, ``+86…``,
        letters, the empty string).
    """
    found = _PATTERN.fullmatch(pattern) if isinstance(pattern, str) else None
    if found is None:
        raise PolicyError(f"{_PATTERN_HELP}, got {pattern!r}", "match")
    lead, digits, trail = found.groups()
    if digits is None:
        return ("any", "")
    if lead and trail:
        raise PolicyError(f"{_PATTERN_HELP}, got {pattern!r}", "match")
    return ("suffix" if lead else "prefix" if trail else "exact", digits)


@functools.lru_cache(maxsize=1024)
def _parsed(pattern: str) -> tuple[str, str]:
    return parse_pattern(pattern)


def _check_pattern(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    parse_pattern(value)


def _check_account(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not (isinstance(value, str) and value):
        raise PolicyError("expected an account id or null", "account")


def _check_flag(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise PolicyError(f"expected true or false, got {value!r}", attribute.name)


def _check_optional_stat(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check_stat(value, "stat")


def _check_mo_reply(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not (isinstance(value, str) and 0 < len(value) <= MAX_MO_REPLY_LENGTH):
        raise PolicyError(
            f"expected a text of 1 to {MAX_MO_REPLY_LENGTH} characters or null", "mo_reply"
        )


@attrs.frozen
class Trigger:
    """What the simulator does with a message to a number matching :attr:`match`.

    Response (the SUBMIT_RESP, or the vendor's answer to a send):

    :ivar response_delay_s: seconds before answering, 0 to 600.
    :ivar no_response: never answer (the SUBMIT is still accepted).
    :ivar close: close the link instead of answering (the SUBMIT is still
        accepted).
    :ivar result: refuse the SUBMIT with this result code (1 to 255; 0 for
        none); HTTP vendors answer their code of that value, else their
        first retry code.
    :ivar throttle: refuse the SUBMIT with the protocol's flow-control code
        (CMPP result 8, its SGIP and SMGP counterparts, SMPP's
        ESME_RTHROTTLED, a vendor's too-fast code).
    :ivar terminate: end the link with the protocol's own terminate request
        (SMPP unbind, CMPP_TERMINATE, SGIP Unbind, SMGP Exit) instead of
        answering, the peer's window still open (the SUBMIT is still accepted).
    :ivar nack: refuse the SUBMIT with the protocol's answer to a request it
        cannot read (SMPP generic_nack) carrying ``result`` (else the
        protocol's "unknown command"); a protocol without one closes the link.

    Report and MO reply (an accepted SUBMIT, per destination):

    :ivar stat: the report's ``Stat`` (7 ASCII characters); ``None`` draws
        it from the report policy.
    :ivar report_delay_s: seconds before the report; ``None`` draws it from
        the report policy.
    :ivar no_report: never send this destination's report.
    :ivar mo_reply: an MO from the destination back to the SP's source
        number (its extension, for vendors), ``mo_delay_s`` seconds after
        the SUBMIT (once per message: on its first segment).
    :ivar account: only SUBMITs of this account; ``None`` for every account.
    """

    match: str = attrs.field(validator=_check_pattern)
    account: str | None = attrs.field(default=None, validator=_check_account)
    response_delay_s: float = attrs.field(
        default=0.0, converter=to_float, validator=number_range(0, MAX_RESPONSE_DELAY_S)
    )
    no_response: bool = attrs.field(default=False, validator=_check_flag)
    close: bool = attrs.field(default=False, validator=_check_flag)
    result: int = attrs.field(default=0, validator=number_range(0, 255, integer=True))
    throttle: bool = attrs.field(default=False, validator=_check_flag)
    terminate: bool = attrs.field(default=False, validator=_check_flag)
    nack: bool = attrs.field(default=False, validator=_check_flag)
    stat: str | None = attrs.field(default=None, validator=_check_optional_stat)
    report_delay_s: float | None = attrs.field(
        default=None,
        converter=to_optional_float,
        validator=number_range(0, MAX_REPORT_DELAY_S, optional=True),
    )
    no_report: bool = attrs.field(default=False, validator=_check_flag)
    mo_reply: str | None = attrs.field(default=None, validator=_check_mo_reply)
    mo_delay_s: float = attrs.field(
        default=0.0, converter=to_float, validator=number_range(0, MAX_REPORT_DELAY_S)
    )

    def __attrs_post_init__(self) -> None:
        """Refuse combinations that contradict each other, naming the later field."""
        if self.result and self.throttle:
            raise PolicyError("give either result or throttle, not both", "throttle")
        if self.throttle and self.nack:
            raise PolicyError("give either throttle or nack, not both", "nack")
        unanswered = [n for n in ("no_response", "close", "terminate", "nack") if getattr(self, n)]
        if len(unanswered) > 1:
            raise PolicyError(f"give only one of {', '.join(unanswered)}", unanswered[-1])
        if self.response_delay_s and unanswered:
            raise PolicyError(
                "a SUBMIT that is never answered has no response delay", "response_delay_s"
            )
        if self.no_report and (self.stat is not None or self.report_delay_s is not None):
            raise PolicyError("give either no_report or stat and report_delay_s", "no_report")
        if self.mo_delay_s and self.mo_reply is None:
            raise PolicyError("mo_delay_s needs mo_reply", "mo_delay_s")
        if self.refuses:
            for name in _REFUSED_ONLY:
                if getattr(self, name) != attrs.fields_dict(Trigger)[name].default:
                    raise PolicyError(
                        "a refused SUBMIT (result, throttle or nack) has no report or MO reply",
                        name,
                    )

    @property
    def refuses(self) -> bool:
        """Whether the SUBMIT is refused (a ``result``, ``throttle`` or ``nack``)."""
        return bool(self.result or self.throttle or self.nack)

    def matches(self, dest: str) -> bool:
        """Whether *dest* (as submitted; ``+86`` allowed) matches :attr:`match`."""
        kind, digits = _parsed(self.match)
        if kind == "any":
            return True
        national = national_number(dest)
        for number in (national, dest.removeprefix("+")) if national != dest else (dest,):
            if kind == "prefix" and number.startswith(digits):
                return True
            if kind == "suffix" and number.endswith(digits):
                return True
            if kind == "exact" and number == digits:
                return True
        return False

    def to_json(self) -> dict[str, Any]:
        """This trigger as a JSON object: ``match`` and the fields that differ from the default."""
        out: dict[str, Any] = {"match": self.match}
        for field in attrs.fields(Trigger)[1:]:
            value = getattr(self, field.name)
            if value != field.default:
                out[field.name] = value
        return out


_TRIGGER_KEYS = tuple(field.name for field in attrs.fields(Trigger))


def parse_triggers(data: object, field: str = "triggers") -> tuple[Trigger, ...]:
    """Triggers from a JSON array of objects, each with ``match`` and behaviour keys.

    :param field: the array's path, for error messages.
    :raises PolicyError: naming the field (``triggers[1].stat``) for unknown
        keys, wrong types, values out of range and contradicting keys.
    """
    if not isinstance(data, list | tuple):
        raise PolicyError("expected an array of trigger objects", field)
    triggers = []
    for index, item in enumerate(data):
        path = f"{field}[{index}]"
        item = json_object(item, path, _TRIGGER_KEYS)
        if "match" not in item:
            raise PolicyError("required", f"{path}.match")
        try:
            triggers.append(Trigger(**item))
        except PolicyError as error:
            raise error.within(path) from None
    return tuple(triggers)


def triggers_json(triggers: Iterable[Trigger]) -> list[dict[str, Any]]:
    """*triggers* as the JSON array :func:`parse_triggers` reads back."""
    return [trigger.to_json() for trigger in triggers]


def first_trigger(triggers: Iterable[Trigger], account: str | None, dest: str) -> Trigger | None:
    """The trigger deciding a message of *account* to *dest*, if any.

    The first matching trigger of *account* wins; then the first matching
    trigger for every account.
    """
    triggers = tuple(triggers)
    if account is not None:
        for trigger in triggers:
            if trigger.account == account and trigger.matches(dest):
                return trigger
    for trigger in triggers:
        if trigger.account is None and trigger.matches(dest):
            return trigger
    return None


def convert_triggers(value: Iterable[Trigger]) -> tuple[Trigger, ...]:
    """attrs converter for a tuple of :class:`Trigger` (any iterable is accepted)."""
    triggers = tuple(value)
    for index, trigger in enumerate(triggers):
        if not isinstance(trigger, Trigger):
            raise PolicyError("expected a Trigger", f"triggers[{index}]")
    return triggers
