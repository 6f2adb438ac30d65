"""CMPP Msg_Id: the 64-bit id an ISMG gives each message (cmpp20-notes.md §3).

Bits 64–61 month, 60–56 day, 55–51 hour, 50–45 minute, 44–39 second,
38–17 the ISMG code, 16–1 a sequence that wraps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import attrs

from smsgw.protocols.cmpp.auth import BEIJING

MAX_GATEWAY = (1 << 22) - 1
MAX_SEQUENCE = 0xFFFF


@attrs.frozen
class MsgIdParts:
    """The fields packed into a Msg_Id."""

    month: int
    day: int
    hour: int
    minute: int
    second: int
    gateway: int
    sequence: int


_LIMITS = (
    ("month", 0, 15),
    ("day", 0, 31),
    ("hour", 0, 31),
    ("minute", 0, 63),
    ("second", 0, 63),
    ("gateway", 0, MAX_GATEWAY),
    ("sequence", 0, MAX_SEQUENCE),
)


def pack_msg_id(parts: MsgIdParts) -> int:
    """Pack *parts* into the unsigned 64-bit Msg_Id.

    :raises ValueError: a part does not fit its bits.
    """
    for name, lo, hi in _LIMITS:
        v = getattr(parts, name)
        if not lo <= v <= hi:
            raise ValueError(f"Msg_Id {name} {v} does not fit {lo}..{hi}")
    return (
        parts.month << 60
        | parts.day << 55
        | parts.hour << 50
        | parts.minute << 44
        | parts.second << 38
        | parts.gateway << 16
        | parts.sequence
    )


def unpack_msg_id(value: int) -> MsgIdParts:
    """Split an unsigned 64-bit Msg_Id into its parts."""
    if not 0 <= value < 1 << 64:
        raise ValueError(f"Msg_Id {value} is not an unsigned 64-bit integer")
    return MsgIdParts(
        month=(value >> 60) & 0xF,
        day=(value >> 55) & 0x1F,
        hour=(value >> 50) & 0x1F,
        minute=(value >> 44) & 0x3F,
        second=(value >> 38) & 0x3F,
        gateway=(value >> 16) & MAX_GATEWAY,
        sequence=value & MAX_SEQUENCE,
    )


class MsgIdGenerator:
    """Issue spec-layout Msg_Ids for one ISMG code, sequence wrapping at 65535.

    :param gateway: the ISMG code as an integer (``001001`` → 1001).
    :param clock: POSIX seconds, e.g. ``reactor.seconds``; the time fields are
        Beijing time.
    """

    def __init__(self, gateway: int, clock: Callable[[], float] = time.time) -> None:
        if not 0 <= gateway <= MAX_GATEWAY:
            raise ValueError(f"gateway code {gateway} does not fit 22 bits")
        self.gateway = gateway
        self._clock = clock
        self._sequence = 0
        self._second = -1
        self._prefix = 0

    def __call__(self) -> int:
        """The next Msg_Id, stamped with the clock's current second."""
        now = int(self._clock())
        if now != self._second:
            b = datetime.fromtimestamp(now, UTC).astimezone(BEIJING)
            self._second = now
            self._prefix = (
                b.month << 60 | b.day << 55 | b.hour << 50 | b.minute << 44 | b.second << 38
            ) | (self.gateway << 16)
        self._sequence = (self._sequence + 1) & MAX_SEQUENCE
        return self._prefix | self._sequence
