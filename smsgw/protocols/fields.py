"""Field codecs: how one field of a PDU sits on the wire.

A layout (:class:`smsgw.protocols.wire.Layout`) is a table of
``(attribute name, field codec)`` pairs; the codecs here say each field's
width and form, and ``check`` why a value does not fit.  The layout
compiler in :mod:`smsgw.protocols.wire` and the C accelerator
(:mod:`smsgw.protocols._wire`, which knows exactly these classes, not
subclasses) read them.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any, Protocol

import attrs

_NUL = b"\x00"


class FieldCodec(Protocol):
    """What the compiler needs to know of a field codec."""

    def default(self) -> object:
        """The value an absent field decodes to."""

    def check(self, value: object) -> str | None:
        """Return why *value* cannot be encoded, or ``None`` when it can."""


@attrs.frozen
class UInt:
    """Big-endian integer of 1, 2, 4 or 8 bytes (``signed`` for spec "Integer")."""

    size: int
    signed: bool = False

    @property
    def code(self) -> str:
        """The :mod:`struct` code (``"B"``, ``"H"``, ``"I"``, ``"Q"``; lower case if signed)."""
        c = {1: "b", 2: "h", 4: "i", 8: "q"}[self.size]
        return c if self.signed else c.upper()

    @property
    def max_value(self) -> int:
        """The largest value the field holds."""
        return (1 << (8 * self.size - (1 if self.signed else 0))) - 1

    @property
    def min_value(self) -> int:
        """The smallest value the field holds."""
        return -(1 << (8 * self.size - 1)) if self.signed else 0

    def default(self) -> int:
        """Zero."""
        return 0

    def check(self, value: object) -> str | None:
        """Why *value* is not an ``int`` in range, or ``None``."""
        if type(value) is not int and not isinstance(value, int):
            return f"expected int, got {type(value).__name__}"
        if not self.min_value <= value <= self.max_value:
            return f"{value} is out of range {self.min_value}..{self.max_value}"
        return None


@attrs.frozen
class Octets:
    """Fixed-width octet string, left-aligned and right-padded with NULs.

    Decoding strips the trailing NULs; a value as long as the field has no
    terminator.  Encoding refuses a value longer than the field.
    """

    size: int

    @property
    def code(self) -> str:
        """The :mod:`struct` code, ``"<size>s"``."""
        return f"{self.size}s"

    def default(self) -> bytes:
        """The empty string."""
        return b""

    def check(self, value: object) -> str | None:
        """Why *value* is not ``bytes`` of at most :attr:`size`, or ``None``."""
        if not isinstance(value, bytes):
            return f"expected bytes, got {type(value).__name__}"
        if len(value) > self.size:
            return f"{len(value)} bytes do not fit {self.size}"
        return None


@attrs.frozen
class ZeroPadded(Octets):
    """Right-aligned octet string left-padded with ASCII ``'0'``.

    CMPP 2.0 FWD and route messages pad gateway codes this way (seed 002 §8.1:
    "若左补齐则补 '0'").  Decoding strips trailing NULs only, so a value of the
    full width round-trips exactly.
    """


@attrs.frozen
class Raw(Octets):
    """Fixed-width binary field (MD5 authenticators, BCD ids): never stripped."""

    def default(self) -> bytes:
        """:attr:`size` NUL bytes."""
        return _NUL * self.size


@attrs.frozen
class COctets:
    """C-Octet String: ASCII ending in one NUL, at most :attr:`max` octets with the NUL.

    Variable width (SMPP 3.4 §1: ``system_id`` max 16 means 15 characters; an
    empty value is a single NUL).  Decoding reads up to the first NUL and
    returns the bytes before it; encoding refuses a value that does not fit
    or holds a NUL.  Layouts with such fields are decoded field by field.
    """

    max: int

    def default(self) -> bytes:
        """The empty string."""
        return b""

    def check(self, value: object) -> str | None:
        """Why *value* is not NUL-free ``bytes`` shorter than :attr:`max`, or ``None``."""
        if not isinstance(value, bytes):
            return f"expected bytes, got {type(value).__name__}"
        if len(value) >= self.max:
            return f"{len(value)} bytes and the NUL do not fit {self.max}"
        if _NUL in value:
            return "a C-Octet String holds no NUL before its end"
        return None


@attrs.frozen
class CTime(COctets):
    """A time C-Octet String of exactly 1 octet (empty) or 17 (16 characters + NUL).

    SMPP 3.4 §7.1 (``schedule_delivery_time``, ``validity_period``,
    ``final_date``).  Decoding also takes the 12-character ``YYMMDDhhmmss``
    form some SMSCs answer with; encoding writes only the two spec forms.
    """

    max: int = 17
    #: Character counts accepted on decode; encoding takes the first and last.
    decode_lengths: tuple[int, ...] = (0, 12, 16)

    def check(self, value: object) -> str | None:
        """Why *value* is not empty or 16 characters without NUL, or ``None``."""
        why = super().check(value)
        if why is None and isinstance(value, bytes) and len(value) not in (0, self.max - 1):
            return f"{len(value)} characters: a time is empty or {self.max - 1}"
        return why


@attrs.frozen
class Repeated:
    """``count`` then that many fixed-width ``item`` strings (e.g. Dest_terminal_Id)."""

    item: Octets
    count: UInt

    def default(self) -> tuple[bytes, ...]:
        """No items."""
        return ()

    def check(self, value: object) -> str | None:
        """Why *value* is not a sequence of items that fit, or ``None``."""
        if not isinstance(value, tuple | list):
            return f"expected a tuple, got {type(value).__name__}"
        if len(value) > self.count.max_value:
            return f"{len(value)} items do not fit a count of {self.count.max_value}"
        for i, v in enumerate(value):
            why = self.item.check(v)
            if why:
                return f"item {i}: {why}"
        return None


@attrs.frozen
class Sized:
    """A length field then that many bytes (e.g. Msg_Length + Msg_Content)."""

    length: UInt

    def default(self) -> bytes:
        """The empty string."""
        return b""

    def check(self, value: object) -> str | None:
        """Why *value* is not ``bytes`` the length field can count, or ``None``."""
        if not isinstance(value, bytes):
            return f"expected bytes, got {type(value).__name__}"
        if len(value) > self.length.max_value:
            return f"{len(value)} bytes exceed the length field's {self.length.max_value}"
        return None


class Custom(Protocol):
    """A field with its own codec (TLV lists, nested bodies): variable width.

    Usually the last field, consuming the rest of the PDU; one elsewhere
    (SMPP submit_multi's destination list) must find its own end, and its
    layout is then decoded field by field.

    The generated encoder hands :meth:`encode` whatever the PDU attribute
    holds, so its argument is ``Any``: :meth:`check` says why a value of the
    wrong type does not fit.
    """

    def default(self) -> object:
        """The value an absent field decodes to."""

    def check(self, value: object) -> str | None:
        """Return why *value* cannot be encoded, or ``None`` when it can."""

    def encode(self, value: Any) -> bytes:
        """The field's bytes.

        Raise :class:`EncodeError` for a value that does not fit, or
        ``TypeError``, which the generated encoder turns into an
        :class:`EncodeError` naming the PDU and field.
        """

    def decode_at(self, buf: bytes, offset: int, end: int) -> tuple[Any, int]:
        """Decode from ``buf[offset:end]``; return the value and the new offset.

        Raise :class:`DecodeError` (without pdu; the caller fills it in).
        """


@attrs.frozen
class Trailing:
    """A fixed field at the end that some peers omit; decodes to its default when absent."""

    field: UInt | Octets

    def default(self) -> object:
        """The wrapped field's default, which an absent field decodes to."""
        return self.field.default()

    def check(self, value: object) -> str | None:
        """As the wrapped field checks."""
        return self.field.check(value)


#: A layout table: ``(attribute name, field codec)`` in wire order.
Fields = Sequence[tuple[str, FieldCodec]]


@attrs.frozen
class HeaderSpec:
    """How a protocol's header is laid out before the body.

    :ivar code: struct codes of the header fields after Total_Length and
        Command_Id (``"I"`` for CMPP and SMGP, ``"III"`` for SGIP).
    :ivar sequence_exprs: how the generated encoder spreads its ``seq``
        argument over the fields after :attr:`attributes`.
    :ivar attributes: PDU attributes the header carries, in its first fields
        after Command_Id (SMPP's ``command_status``); those fields are not part
        of the sequence id, and every PDU class of the codec has the attributes.
    """

    code: str
    sequence_exprs: tuple[str, ...]
    attributes: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        """The header's size in bytes, Total_Length and Command_Id included."""
        return struct.calcsize(">II" + self.code)
