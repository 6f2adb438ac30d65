"""SGIP sequence numbers and the message ids made from them (sgip12.md §3, §10).

An SGIP Sequence Number is three unsigned 32-bit integers: the node id of
the node that created the command, its creation time as the *decimal*
number MMDDhhmmss in Beijing time, and a counter that wraps to 0.  SGIP has
no gateway message id: the Submit's sequence number is the MT's id, and
this module spells it ``node-time-counter`` (e.g.
``3075512345-1120203225-1``) for the store and the HTTP API.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Protocol

#: Carriers stamp sequence numbers in Beijing time (UTC+8, no daylight saving).
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

UINT32_MAX = 0xFFFFFFFF

#: ``(node_id, MMDDhhmmss, counter)``, as a decoded header's ``sequence_id``.
SequenceNumber = tuple[int, int, int]


class _HasSeconds(Protocol):
    def seconds(self) -> float: ...


Clock = Callable[[], float] | _HasSeconds
"""POSIX seconds: a reactor or ``Clock`` (``.seconds()``), or a function like ``time.time``."""


def _seconds_function(clock: Clock) -> Callable[[], float]:
    seconds: Callable[[], float] | None = getattr(clock, "seconds", None)
    if seconds is not None:
        return seconds
    if callable(clock):
        return clock
    raise TypeError(f"clock must be a reactor or a function, got {type(clock).__name__}")


def sequence_time(epoch_s: float) -> int:
    """The time part of a sequence number: MMDDhhmmss in Beijing time, as an integer.

    >>> sequence_time(1700483545)  # 2023-11-20 20:32:25 Beijing
    1120203225
    """
    b = datetime.fromtimestamp(int(epoch_s), UTC).astimezone(BEIJING)
    return (((b.month * 100 + b.day) * 100 + b.hour) * 100 + b.minute) * 100 + b.second


class SgipSequence:
    """Issue the sequence numbers of one node: ``(node_id, MMDDhhmmss, counter)``.

    The counter starts at *counter* (0, as sgip12.md §3 says) and goes up by
    one per command, wrapping from 2³²−1 to 0.

    :param node_id: this node's id, e.g. ``3075512345`` for an SP
        (sgip12.md §3.1); the carrier assigns it.
    :param clock: a reactor or ``Clock``, or a function giving POSIX seconds.
    :param counter: the first counter value.
    """

    __slots__ = ("_counter", "_now", "_second", "_time", "node_id")

    def __init__(self, node_id: int, clock: Clock = time.time, counter: int = 0) -> None:
        if not 0 <= node_id <= UINT32_MAX:
            raise ValueError(f"node id {node_id} does not fit 32 bits")
        if not 0 <= counter <= UINT32_MAX:
            raise ValueError(f"counter {counter} does not fit 32 bits")
        self.node_id = node_id
        self._now = _seconds_function(clock)
        self._counter = counter
        self._second = -1
        self._time = 0

    def __call__(self) -> SequenceNumber:
        """The next sequence number, stamped with the clock's current second."""
        now = int(self._now())
        if now != self._second:
            self._second = now
            self._time = sequence_time(now)
        counter = self._counter
        self._counter = counter + 1 if counter < UINT32_MAX else 0
        return (self.node_id, self._time, counter)


#: The last ``(node id, time, "node-time-")`` :func:`format_message_id` wrote.
_last_prefix: list[tuple[int, int, str]] = [(-1, -1, "")]


def format_message_id(sequence: SequenceNumber) -> str:
    """The message id string ``node-time-counter`` of a Submit's sequence number.

    The time is written with its 10 digits (``0120203225`` for 20 January), the
    node id and the counter without padding.

    :raises ValueError: a part is not an unsigned 32-bit integer.
    """
    if type(sequence) is tuple and len(sequence) == 3:
        node_id, when, counter = sequence
        # One id per Submit and per Report: plain ints that fit take one test,
        # and the ids of one second share their node-time prefix.
        if type(node_id) is int and type(when) is int and type(counter) is int:
            if not (node_id | when | counter) >> 32:
                last_node, last_when, prefix = _last_prefix[0]
                if last_node != node_id or last_when != when:
                    prefix = f"{node_id}-{when:010d}-"
                    _last_prefix[0] = (node_id, when, prefix)
                return prefix + str(counter)
    if len(sequence) != 3:
        raise ValueError(f"a sequence number has 3 parts, got {len(sequence)}")
    for part in sequence:
        if not isinstance(part, int) or not 0 <= part <= UINT32_MAX:
            raise ValueError(f"sequence number part {part!r} is not an unsigned 32-bit integer")
    node_id, when, counter = sequence
    return f"{node_id}-{when:010d}-{counter}"


_DASHED = re.compile(r"([0-9]{1,10})-([0-9]{1,10})-([0-9]{1,10})")
#: SMSGate's ``SequenceNumber.toString()``: three 10-digit zero-padded parts, no separator.
_SMSGATE = re.compile(r"([0-9]{10})([0-9]{10})([0-9]{10})")


def parse_message_id(text: str) -> SequenceNumber:
    """Parse :func:`format_message_id`'s ``node-time-counter`` back into a sequence number.

    The 30-digit form SMSGate logs (node, time and counter each padded to 10
    digits) is accepted too.

    :raises ValueError: *text* is neither form, or a part exceeds 32 bits.
    """
    m = _DASHED.fullmatch(text) or _SMSGATE.fullmatch(text)
    if m is None:
        raise ValueError(f"{text!r} is not an SGIP message id (node-time-counter)")
    node_id, when, counter = (int(g) for g in m.groups())
    for part in (node_id, when, counter):
        if part > UINT32_MAX:
            raise ValueError(f"{text!r}: {part} does not fit 32 bits")
    return (node_id, when, counter)
