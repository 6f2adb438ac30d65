"""Length-prefixed framing shared by CMPP, SGIP and SMGP.

Every one of these protocols starts a PDU with a 4-byte big-endian length
that counts the whole PDU, itself included.  :class:`Framer` is the pure
part of ``IntNStringReceiver`` (twisted.protocols.basic): bytes in any
chunking go in, whole frames come out, and a length outside
``[min_length, max_length]`` is a :class:`FramingError` after which the
stream cannot be trusted and the link must close.
"""

from __future__ import annotations

from struct import Struct

from smsgw.protocols.errors import FramingError

_LENGTH = Struct(">I")


class Framer:
    """Split a byte stream into whole length-prefixed frames.

    :param min_length: the smallest legal length (the protocol's header size).
    :param max_length: the largest legal length.
    """

    __slots__ = ("_broken", "_buffer", "max_length", "min_length")

    def __init__(self, min_length: int = 12, max_length: int = 4096) -> None:
        self.min_length = min_length
        self.max_length = max_length
        self._buffer = b""
        self._broken: FramingError | None = None

    @property
    def buffered(self) -> int:
        """Bytes received that do not make a whole frame yet."""
        return len(self._buffer)

    @property
    def error(self) -> FramingError | None:
        """The framing error met so far, if any: the link must close."""
        return self._broken

    def feed(self, data: bytes) -> list[bytes]:
        """Add *data*; return every frame it completes, in order.

        Frames before a bad length field are still returned (check
        :attr:`error` afterwards), as ``IntNStringReceiver`` delivers them.

        :raises FramingError: a length field is out of range and no whole
            frame came before it; every later call raises it again.
        """
        if self._broken is not None:
            raise self._broken
        buf = self._buffer + data if self._buffer else data
        frames: list[bytes] = []
        off = 0
        end = len(buf)
        unpack = _LENGTH.unpack_from
        while end - off >= 4:
            (length,) = unpack(buf, off)
            if length < self.min_length or length > self.max_length:
                self._broken = FramingError(
                    f"length field {length} is outside {self.min_length}..{self.max_length}",
                    field="length",
                )
                self._buffer = b""
                if frames:
                    return frames
                raise self._broken
            if end - off < length:
                break
            frames.append(buf[off : off + length])
            off += length
        self._buffer = buf[off:] if off else buf
        return frames
