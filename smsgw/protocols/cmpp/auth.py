"""CMPP login authenticators and the CONNECT timestamp (cmpp20-notes.md §4, §5.2)."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime

# Carriers stamp CONNECT in Beijing time; kept importable from here.
from smsgw.protocols.times import BEIJING as BEIJING


def connect_timestamp(epoch_s: float | None = None) -> int:
    """The CONNECT Timestamp: MMDDHHMMSS in Beijing time, read as a decimal integer.

    :param epoch_s: POSIX seconds (e.g. ``reactor.seconds()``); now if omitted.
    """
    when = datetime.fromtimestamp(time.time() if epoch_s is None else epoch_s, UTC)
    b = when.astimezone(BEIJING)
    return int(f"{b.month:02d}{b.day:02d}{b.hour:02d}{b.minute:02d}{b.second:02d}")


def timestamp_text(timestamp: int) -> bytes:
    """The 10 ASCII digits that go into the MD5 input (``'%010d'``)."""
    if not 0 <= timestamp <= 9_999_999_999:
        raise ValueError(f"timestamp {timestamp} is not MMDDHHMMSS")
    return b"%010d" % timestamp


def authenticator_source(source_addr: bytes, secret: bytes, timestamp: int) -> bytes:
    """AuthenticatorSource = MD5(Source_Addr + 9 × 0x00 + secret + timestamp).

    SMGP's AuthenticatorClient is the same formula with 7 NULs (smgp30.md §6.1).
    """
    return _md5(source_addr + b"\x00" * 9 + secret + timestamp_text(timestamp))


def authenticator_ismg(
    status: int, authenticator_source: bytes, secret: bytes, *, status_width: int = 1
) -> bytes:
    """AuthenticatorISMG = MD5(Status + AuthenticatorSource + secret).

    :param status_width: the Status field's width: 1 byte in CMPP 2.0, 4 in 3.0.
    """
    return _md5(status.to_bytes(status_width, "big") + authenticator_source + secret)


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data, usedforsecurity=False).digest()
