"""SMGP MsgID: the 10-byte BCD id an SMGW gives each message (smgp30.md §9).

20 BCD digits: the 6-digit SMGW code (3-digit area code, 2-digit device
class ``06``, 1-digit index), the time MMDDhhmm, and a 6-digit sequence
that wraps.  Its printable form (JSON, the store, report correlation) is
the 20 hex digits of the bytes, which for valid BCD are the decimal digits
themselves: ``01006101161700012345``.  Ids from foreign gateways need not be
valid BCD; they are kept and compared as raw bytes / hex.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import attrs

from smsgw.protocols.times import BEIJING

__all__ = [
    "MSG_ID_SIZE",
    "MsgIdGenerator",
    "MsgIdParts",
    "msg_id_from_hex",
    "msg_id_hex",
    "pack_msg_id",
    "unpack_msg_id",
]

MSG_ID_SIZE = 10
MAX_SMGW_CODE = 999_999
MAX_SEQUENCE = 999_999


@attrs.frozen
class MsgIdParts:
    """The fields packed into a MsgID.

    :ivar smgw_code: the 6-digit SMGW code as an integer (``010061`` → 10061).
    :ivar month: the MM of the MMDDhhmm time (Beijing time); likewise
        ``day``, ``hour`` and ``minute``.
    :ivar sequence: 0–999999.
    """

    smgw_code: int
    month: int
    day: int
    hour: int
    minute: int
    sequence: int

    @property
    def time(self) -> int:
        """The MMDDhhmm digits as an integer (Jan 16 17:00 → 1161700)."""
        return self.month * 1_000_000 + self.day * 10_000 + self.hour * 100 + self.minute


_LIMITS = (
    ("smgw_code", 0, MAX_SMGW_CODE),
    ("month", 0, 99),
    ("day", 0, 99),
    ("hour", 0, 99),
    ("minute", 0, 99),
    ("sequence", 0, MAX_SEQUENCE),
)


def pack_msg_id(parts: MsgIdParts) -> bytes:
    """Pack *parts* into the 10 BCD bytes.

    Each part must fit its decimal digits; calendar validity is not checked
    (a gateway's id is opaque once issued).

    :raises ValueError: a part does not fit its digits.
    """
    for name, lo, hi in _LIMITS:
        v = getattr(parts, name)
        if not lo <= v <= hi:
            raise ValueError(f"MsgID {name} {v} does not fit {lo}..{hi}")
    digits = (
        f"{parts.smgw_code:06d}{parts.month:02d}{parts.day:02d}"
        f"{parts.hour:02d}{parts.minute:02d}{parts.sequence:06d}"
    )
    return bytes.fromhex(digits)


def unpack_msg_id(msg_id: bytes) -> MsgIdParts:
    """Split 10 BCD bytes into their parts.

    :raises ValueError: not 10 bytes, or a nibble is not a decimal digit
        (keep such ids as raw bytes).
    """
    if len(msg_id) != MSG_ID_SIZE:
        raise ValueError(f"MsgID is {len(msg_id)} bytes, expected {MSG_ID_SIZE}")
    digits = msg_id.hex()
    if not digits.isdigit():
        raise ValueError(f"MsgID {digits} is not BCD")
    return MsgIdParts(
        smgw_code=int(digits[0:6]),
        month=int(digits[6:8]),
        day=int(digits[8:10]),
        hour=int(digits[10:12]),
        minute=int(digits[12:14]),
        sequence=int(digits[14:20]),
    )


def msg_id_hex(msg_id: bytes) -> str:
    """The printable form: 20 lower-case hex digits (the BCD digits for a valid id)."""
    return msg_id.hex()


def msg_id_from_hex(text: str) -> bytes:
    """The 10 bytes of a printable MsgID (20 hex digits, any case).

    :raises ValueError: not 20 hex digits.
    """
    if len(text) != 2 * MSG_ID_SIZE:
        raise ValueError(f"MsgID {text!r} is not {2 * MSG_ID_SIZE} hex digits")
    return bytes.fromhex(text)


#: The BCD byte of each two-digit number, 00 to 99.
_BCD = [bytes.fromhex(f"{n:02d}") for n in range(100)]


class MsgIdGenerator:
    """Issue MsgIDs for one SMGW code; the sequence wraps after 999999 to 0.

    :param smgw_code: the 6-digit SMGW code as an integer.
    :param clock: POSIX seconds, e.g. ``reactor.seconds``; the time digits
        are Beijing time.
    :param first_sequence: the sequence of the first id.
    """

    def __init__(
        self,
        smgw_code: int,
        clock: Callable[[], float] = time.time,
        first_sequence: int = 0,
    ) -> None:
        if not 0 <= smgw_code <= MAX_SMGW_CODE:
            raise ValueError(f"SMGW code {smgw_code} does not fit 6 digits")
        if not 0 <= first_sequence <= MAX_SEQUENCE:
            raise ValueError(f"sequence {first_sequence} does not fit 6 digits")
        self.smgw_code = smgw_code
        self._clock = clock
        self._sequence = first_sequence
        self._minute = -1
        self._prefix = b""

    def __call__(self) -> bytes:
        """The next 10-byte MsgID, stamped with the clock's current minute."""
        now = int(self._clock()) // 60
        if now != self._minute:
            b = datetime.fromtimestamp(now * 60, UTC).astimezone(BEIJING)
            self._minute = now
            digits = f"{self.smgw_code:06d}{b.month:02d}{b.day:02d}{b.hour:02d}{b.minute:02d}"
            self._prefix = bytes.fromhex(digits)
        seq = self._sequence
        self._sequence = seq + 1 if seq < MAX_SEQUENCE else 0
        return self._prefix + _BCD[seq // 10_000] + _BCD[seq // 100 % 100] + _BCD[seq % 100]
