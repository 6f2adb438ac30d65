"""Errors raised by the wire codecs of every protocol.

Decoding failures form one hierarchy rooted at :class:`DecodeError`.  Each
error names the PDU and the field it was reading and, once the protocol codec
has seen it, carries the status code the protocol answers such input with
(CMPP: 1 structure error, 2 command error, 4 length error).
"""

from __future__ import annotations

import enum


class ErrorKind(enum.Enum):
    """What kind of badness a decoder met; each protocol maps it to a status."""

    #: A field's value breaks the structure (a count beyond the bytes, a bad
    #: nested layout).
    STRUCTURE = "structure"
    #: The command id is not one this protocol version defines.
    COMMAND = "command"
    #: The PDU is shorter or longer than its fields say.
    LENGTH = "length"
    #: The frame's length field itself is out of range; the link must close.
    FRAMING = "framing"


class DecodeError(Exception):
    """Bytes that do not decode; names the PDU and field, carries the status.

    :ivar pdu: the PDU (or structure) name being decoded, or ``None`` when
        the command itself is unknown.
    :ivar field: the field being read when decoding failed, or ``None``.
    :ivar status: the protocol's status code to answer with, filled in by the
        protocol codec; ``None`` when the link should simply be closed.
    """

    kind = ErrorKind.STRUCTURE

    def __init__(
        self,
        message: str,
        *,
        pdu: str | None = None,
        field: str | None = None,
        status: int | None = None,
        command_id: int | None = None,
        sequence_id: object = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.pdu = pdu
        self.field = field
        self.status = status
        self.command_id = command_id
        self.sequence_id = sequence_id

    def __str__(self) -> str:
        where = ".".join(p for p in (self.pdu, self.field) if p)
        return f"{where}: {self.message}" if where else self.message


class TruncatedError(DecodeError):
    """The PDU ends before a field it must contain."""

    kind = ErrorKind.LENGTH


class TrailingBytesError(DecodeError):
    """The PDU carries bytes after its last field."""

    kind = ErrorKind.LENGTH


class FieldValueError(DecodeError):
    """A field holds a value the layout cannot accept (e.g. a bad nested body)."""

    kind = ErrorKind.STRUCTURE


class UnknownCommandError(DecodeError):
    """The header's command id is not defined by this protocol version."""

    kind = ErrorKind.COMMAND


class FramingError(DecodeError):
    """The frame length field is below the header size or above the maximum.

    The byte stream cannot be resynchronised after this: close the link.
    """

    kind = ErrorKind.FRAMING


class EncodeError(ValueError):
    """A PDU value does not fit its wire field (too long, out of range, wrong type)."""

    def __init__(self, message: str, *, pdu: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pdu = pdu
        self.field = field

    def __str__(self) -> str:
        where = ".".join(p for p in (self.pdu, self.field) if p)
        return f"{where}: {self.message}" if where else self.message
