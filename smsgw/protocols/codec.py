"""One protocol version's codec: a header layout plus a table of PDU layouts."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, NamedTuple

from attrs import AttrsInstance
from typing_extensions import TypeVar

from smsgw.protocols.errors import (
    DecodeError,
    EncodeError,
    ErrorKind,
    TrailingBytesError,
    TruncatedError,
    UnknownCommandError,
)
from smsgw.protocols.wire import Fields, HeaderSpec, Layout, accelerate_codec


class Header(NamedTuple):
    """A decoded PDU header.

    ``sequence_id`` is an ``int`` for CMPP and SMGP and a ``(node_id,
    timestamp, counter)`` tuple for SGIP.  A ``NamedTuple`` rather than an
    attrs class because one is built for every frame (see docs/benchmarks.md).
    """

    length: int
    command_id: int
    sequence_id: Any


_new_header = tuple.__new__

#: The PDUs a codec decodes to: the protocol's PDU union (e.g.
#: :data:`smsgw.protocols.cmpp.pdus.CmppPdu`).  ``object`` where a caller
#: takes any protocol's codec.
P = TypeVar("P", covariant=True, default=object)


class ProtocolCodec(Generic[P]):
    """Encode and decode the PDUs of one protocol version.

    Generic in the PDU union it decodes to, which its ``pdus`` table should
    list; :meth:`encode` takes any object, as a PDU this version lacks is an
    :class:`EncodeError`, not a type error (CMPP 2.0 and 3.0 share classes).

    :param name: e.g. ``"CMPP 2.0"``, used in error messages.
    :param header: the header layout after Total_Length and Command_Id.
    :param pdus: ``(command id, PDU class, fields)`` for every PDU.
    :param statuses: the status code this protocol answers each
        :class:`ErrorKind` with (CMPP: structure 1, command 2, length 4).
    :param max_length: the largest Total_Length accepted.
    """

    def __init__(
        self,
        name: str,
        header: HeaderSpec,
        pdus: Iterable[tuple[int, type[AttrsInstance], Fields]],
        statuses: Mapping[ErrorKind, int],
        max_length: int,
    ) -> None:
        self.name = name
        self.header = header
        self.header_size = header.size
        self.max_length = max_length
        self.statuses = dict(statuses)
        self._header_struct = struct.Struct(">II" + header.code)
        self._sgip_like = len(header.sequence_exprs) > 1
        #: Header fields that are PDU attributes (SMPP's command_status) come
        #: before the sequence id; the layouts' decoders read them.
        self._sequence_at = 2 + len(header.attributes)
        self.layouts: dict[type, Layout[Any]] = {}
        self.by_command: dict[int, Layout[Any]] = {}
        self._encoders: dict[type, Callable[[Any, Any], bytes]] = {}
        self._decoders: dict[int, Callable[[bytes, int, int], P]] = {}
        for command_id, cls, fields in pdus:
            layout: Layout[Any] = Layout(cls, fields, command_id=command_id, header=header)
            if cls in self.layouts:
                raise TypeError(f"{name}: {cls.__name__} listed twice")
            if command_id in self.by_command:
                raise TypeError(f"{name}: command id {command_id:#010x} listed twice")
            self.layouts[cls] = layout
            self.by_command[command_id] = layout
            self._encoders[cls] = layout.encode
            self._decoders[command_id] = layout.decode
        # With the C accelerator, encode and decode are C functions that handle
        # the common case and call py_encode / py_decode for everything else.
        programs = [layout.program for layout in self.layouts.values() if layout.accelerated]
        accel = accelerate_codec(
            header, Header, programs, max_length, self.py_encode, self.py_decode
        )
        self.accelerated = accel is not None
        if accel is not None:
            self.encode = accel.encode  # type: ignore[method-assign]
            self.decode = accel.decode  # type: ignore[method-assign]

    def command_id(self, pdu_class: type) -> int:
        """The command id of *pdu_class* in this protocol version."""
        cid = self.layouts[pdu_class].command_id
        assert cid is not None
        return cid

    def py_encode(self, pdu: object, sequence_id: Any) -> bytes:
        """Encode *pdu* as one whole frame with *sequence_id* in its header.

        :raises EncodeError: a field does not fit, or this version has no
            such PDU.
        """
        try:
            enc = self._encoders[type(pdu)]
        except KeyError:
            raise EncodeError(
                f"{self.name} has no {type(pdu).__name__} PDU", pdu=type(pdu).__name__
            ) from None
        frame: bytes = enc(pdu, sequence_id)
        if len(frame) > self.max_length:
            raise EncodeError(
                f"{len(frame)} bytes exceed {self.name}'s limit of {self.max_length}",
                pdu=type(pdu).__name__,
            )
        return frame

    def py_decode(self, frame: bytes) -> tuple[Header, P]:
        """Decode one whole frame into ``(header, pdu)``.

        :raises DecodeError: with ``status`` set to this protocol's answer.
        """
        try:
            values = self._header_struct.unpack_from(frame)
        except struct.error:
            # Name the header field the frame ends in: length, command_id or sequence_id.
            raise self._status(
                TruncatedError(
                    f"frame of {len(frame)} bytes is shorter than the header",
                    field=Header._fields[min(len(frame) // 4, 2)],
                )
            ) from None
        at = self._sequence_at
        if self._sgip_like:
            header = _new_header(Header, (values[0], values[1], values[at:]))
        elif at == 2:
            header = _new_header(Header, values)
        else:
            header = _new_header(Header, (values[0], values[1], values[at]))
        dec = self._decoders.get(header[1])
        if dec is None or header[0] != len(frame):
            raise self._bad_header(header, len(frame))
        try:
            return header, dec(frame, self.header_size, header[0])
        except DecodeError as e:
            e.command_id = header.command_id
            e.sequence_id = header.sequence_id
            raise self._status(e) from None

    #: The pure-Python methods; an accelerated instance shadows them (see __init__).
    encode = py_encode
    decode = py_decode

    def _bad_header(self, header: Header, size: int) -> DecodeError:
        if header.length != size:
            # A length error (status 4 in CMPP), not a FramingError: the framer
            # has already cut this frame, so the stream is still in step.
            layout = self.by_command.get(header.command_id)
            kind = TruncatedError if size < header.length else TrailingBytesError
            error: DecodeError = kind(
                f"length field says {header.length}, frame has {size} bytes",
                pdu=layout.name if layout is not None else None,
                field="length",
            )
        else:
            error = UnknownCommandError(
                f"unknown {self.name} command id {header.command_id:#010x}", field="command_id"
            )
        error.command_id = header.command_id
        error.sequence_id = header.sequence_id
        return self._status(error)

    def _status(self, error: DecodeError) -> DecodeError:
        if error.status is None:
            error.status = self.statuses.get(error.kind)
        return error
