"""What the generated decoders of :mod:`smsgw.protocols.wire` call when bytes go wrong.

Kept apart from the compiler so that each stays small: these raise the
:class:`~smsgw.protocols.errors.DecodeError` kinds naming the PDU and the
field, and read the variable-width C-Octet Strings (SMPP 3.4 §1).
"""

from __future__ import annotations

from typing import Protocol

from smsgw.protocols.errors import FieldValueError, TrailingBytesError, TruncatedError
from smsgw.protocols.fields import _NUL, COctets, CTime

__all__ = ["cstring", "ctime", "trailing", "truncated"]


class _Named(Protocol):
    """A layout, as far as an error message needs it."""

    @property
    def name(self) -> str: ...


def truncated(layout: _Named, spans: tuple[tuple[str, int], ...], available: int) -> None:
    """Raise :class:`TruncatedError` naming the first field that does not fit."""
    for name, end in spans:
        if end > available:
            raise TruncatedError(
                f"needs {end} bytes from here, {available} left", pdu=layout.name, field=name
            )
    raise TruncatedError("truncated", pdu=layout.name)  # pragma: no cover


def cstring(
    layout: _Named, name: str, codec: COctets, buf: bytes, off: int, end: int
) -> tuple[bytes, int]:
    """Read a C-Octet String at *off*: its bytes before the NUL, and the offset after it."""
    stop = min(end, off + codec.max)
    nul = buf.find(_NUL, off, stop)
    if nul < 0:
        if end - off < codec.max:
            raise TruncatedError(
                f"no NUL in the {end - off} bytes left (at most {codec.max} with the NUL)",
                pdu=layout.name,
                field=name,
            )
        raise FieldValueError(f"no NUL within {codec.max} octets", pdu=layout.name, field=name)
    return buf[off:nul], nul + 1


def ctime(
    layout: _Named, name: str, codec: CTime, buf: bytes, off: int, end: int
) -> tuple[bytes, int]:
    """Read a time C-Octet String: empty, or one of :attr:`CTime.decode_lengths` characters."""
    value, off = cstring(layout, name, codec, buf, off, end)
    if len(value) not in codec.decode_lengths:
        raise FieldValueError(
            f"{len(value)} characters: a time is empty or {codec.max - 1}",
            pdu=layout.name,
            field=name,
        )
    return value, off


def trailing(layout: _Named, extra: int) -> None:
    """Raise :class:`TrailingBytesError`: *extra* bytes follow the last field."""
    raise TrailingBytesError(f"{extra} bytes after the last field", pdu=layout.name)
