"""A counted list of fixed-width records, as a custom field codec (sgip12.md §6, §8).

SGIP has two bodies that end in a count and then that many multi-field
records: QueryRoute_Resp (Count, 4 bytes, × 87-byte route entries) and
Trace_Resp (Count, 1 byte, × 47-byte node records).  The
:mod:`~smsgw.protocols.wire` built-ins repeat single strings only, so
:class:`Records` implements the :class:`~smsgw.protocols.wire.Custom`
protocol: it must be the last field of its layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic

from smsgw.protocols.errors import DecodeError, EncodeError, TruncatedError
from smsgw.protocols.wire import Layout, Octets, T, UInt


class Records(Generic[T]):
    """``count`` then that many records of the fixed-width *layout*.

    The value is a tuple of ``layout.cls`` instances.  Decoding checks the
    count against the bytes left before building anything, so a huge count
    costs nothing.

    :param layout: a header-less layout of fixed-width fields only (``UInt``
        and ``Octets``).
    :param count: the count field before the records.
    :raises TypeError: *layout* has a variable-width field.
    """

    __slots__ = ("count", "layout", "record_size")

    def __init__(self, layout: Layout[T], count: UInt) -> None:
        for name, codec in layout.fields:
            if not isinstance(codec, UInt | Octets):
                raise TypeError(f"{layout.name}: record field {name!r} is not fixed-width")
        self.layout = layout
        self.count = count
        self.record_size = layout.fixed_size

    def __repr__(self) -> str:
        return f"Records({self.layout.name}, count={self.count.size} bytes)"

    def default(self) -> tuple[T, ...]:
        """No records."""
        return ()

    def check(self, value: object) -> str | None:
        """Why *value* is not a sequence of records that encode, or ``None``."""
        if not isinstance(value, tuple | list):
            return f"expected a tuple, got {type(value).__name__}"
        if len(value) > self.count.max_value:
            return f"{len(value)} records do not fit a count of {self.count.max_value}"
        cls = self.layout.cls
        for i, record in enumerate(value):
            if not isinstance(record, cls):
                return f"record {i}: expected {cls.__name__}, got {type(record).__name__}"
            for name, codec in self.layout.fields:
                why = codec.check(getattr(record, name))
                if why:
                    return f"record {i}.{name}: {why}"
        return None

    def encode(self, value: Sequence[T]) -> bytes:
        """The count then each record.

        A record that does not encode raises ``TypeError``: the layout's
        generated encoder turns that into an
        :class:`~smsgw.protocols.errors.EncodeError` naming the PDU and
        this field, with :meth:`check`'s reason.
        """
        try:
            pack = self.layout.pack
            return len(value).to_bytes(self.count.size, "big") + b"".join(
                [pack(record) for record in value]
            )
        except EncodeError as e:
            raise TypeError(str(e)) from e

    def decode_at(self, buf: bytes, offset: int, end: int) -> tuple[tuple[T, ...], int]:
        """Decode the count and the records from ``buf[offset:end]``.

        :raises TruncatedError: the count or the records run past *end*.
        """
        size = self.count.size
        if end - offset < size:
            raise TruncatedError(f"needs {size} bytes for the count, {end - offset} left")
        n = int.from_bytes(buf[offset : offset + size], "big")
        offset += size
        width = self.record_size
        need = n * width
        if end - offset < need:
            raise TruncatedError(
                f"{n} records of {width} bytes need {need} bytes, {end - offset} left"
            )
        decode = self.layout.decode
        records = []
        for i in range(n):
            try:
                records.append(decode(buf, offset, offset + width))
            except DecodeError as e:  # pragma: no cover - fixed-width records always fit
                e.field = f"[{i}].{e.field}" if e.field else f"[{i}]"
                raise
            offset += width
        return tuple(records), offset
