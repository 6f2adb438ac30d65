"""Message text <-> bytes for the ``Msg_Fmt`` field (CMPP 2.0 notes section 9).

Message text travels as ``bytes`` plus its ``Msg_Fmt`` everywhere below this
module; this is the one place that turns it into ``str``.
Pure functions, no Twisted imports.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "MsgFmt",
    "TextEncodeError",
    "choose_fmt",
    "decode_text",
    "encode_text",
    "gb_codec",
    "max_single_length",
]


class MsgFmt(IntEnum):
    """``Msg_Fmt`` values of CMPP 2.0 (notes section 9 and section 12)."""

    ASCII = 0
    WRITE_CARD = 3
    BINARY = 4
    UCS2 = 8
    GB = 15


class TextEncodeError(ValueError):
    """Text cannot be encoded in the requested ``Msg_Fmt``.

    :ivar text: the text that was to be encoded.
    :ivar fmt: the requested ``Msg_Fmt`` value.
    :ivar position: index in ``text`` of the first offending character, or
        ``None`` when the format takes no text at all.
    """

    def __init__(self, message: str, text: str, fmt: int, position: int | None) -> None:
        super().__init__(message)
        self.text = text
        self.fmt = fmt
        self.position = position


def _fmt_name(fmt: int) -> str:
    """Name a ``Msg_Fmt`` value for error messages, e.g. ``"Msg_Fmt 8 (UCS2)"``."""
    try:
        return f"Msg_Fmt {fmt} ({MsgFmt(fmt).name})"
    except ValueError:
        return f"Msg_Fmt {fmt}"


def _unencodable(text: str, fmt: int, exc: UnicodeEncodeError) -> TextEncodeError:
    """Build the :class:`TextEncodeError` for a codec failure on ``text``."""
    char = text[exc.start]
    return TextEncodeError(
        f"cannot encode character {char!r} (U+{ord(char):04X}) at position {exc.start} "
        f"in {_fmt_name(fmt)}",
        text,
        fmt,
        exc.start,
    )


def gb_codec(text: str) -> str:
    """Python codec that :func:`encode_text` uses for ``text`` in ``Msg_Fmt`` 15.

    ``"gbk"`` when every character is in GBK (what SMSGate and smsj send),
    otherwise ``"gb18030"`` (as gocmpp). GB18030 encodes every GBK character with
    the same bytes as GBK, so receivers decode either with ``gb18030``
    (CMPP 2.0 notes section 9). Both codecs are stateless: encoding character by
    character gives the same bytes as encoding the whole text.

    :param text: the message text.
    :returns: a Python codec name.
    """
    try:
        text.encode("gbk")
    except UnicodeEncodeError:
        return "gb18030"
    return "gbk"


def encode_text(text: str, fmt: int) -> bytes:
    """Encode message text for ``Msg_Content`` (CMPP 2.0 notes section 9).

    * ``0`` (ASCII): strict ASCII, one byte per character.
    * ``8`` (UCS2): ``utf-16-be`` without BOM; characters outside the BMP become
      surrogate pairs (4 bytes).
    * ``15`` (GB): ``gbk``; if any character is not in GBK, the whole text is
      encoded with ``gb18030`` instead (a superset, and what receivers decode
      with).
    * ``3`` / ``4`` (write-card, binary) and any other value take bytes, not text.

    :param text: the message text.
    :param fmt: the ``Msg_Fmt`` value.
    :returns: the encoded bytes, not split or length-checked.
    :raises TextEncodeError: a character has no encoding in ``fmt`` (lone
        surrogates never have one), or ``fmt`` is not a text format.
    """
    if fmt == MsgFmt.ASCII:
        codec = "ascii"
    elif fmt == MsgFmt.UCS2:
        codec = "utf-16-be"
    elif fmt == MsgFmt.GB:
        codec = gb_codec(text)
    else:
        raise TextEncodeError(
            f"{_fmt_name(fmt)} is not a text format; pass the payload as bytes",
            text,
            fmt,
            None,
        )
    try:
        return text.encode(codec)
    except UnicodeEncodeError as exc:
        raise _unencodable(text, fmt, exc) from None


def _decode_codec(fmt: int) -> str:
    """Python codec used to decode ``Msg_Fmt`` value ``fmt``.

    Unknown values (GSM 03.38 data coding schemes passed through on MO) follow
    smsj's rule on bits 3-2 (CMPP 2.0 notes section 9): ``00`` ASCII/GSM and
    ``01`` 8-bit are kept byte for byte (latin-1), ``10`` is UCS2, ``11`` GB.
    """
    if fmt in (MsgFmt.ASCII, MsgFmt.WRITE_CARD, MsgFmt.BINARY):
        return "latin-1"
    if fmt == MsgFmt.UCS2:
        return "utf-16-be"
    if fmt == MsgFmt.GB:
        return "gb18030"
    alphabet = (fmt >> 2) & 0b11
    if alphabet == 0b10:
        return "utf-16-be"
    if alphabet == 0b11:
        return "gb18030"
    return "latin-1"


def decode_text(data: bytes, fmt: int) -> str:
    """Decode ``Msg_Content`` bytes to text (CMPP 2.0 notes section 9).

    Total: never raises, whatever the bytes and whatever the integer ``fmt``.
    ASCII, write-card and binary map byte for byte (latin-1, lossless); UCS2 and
    GB replace undecodable input (e.g. an odd trailing byte) with U+FFFD.

    :param data: the message bytes, without any UDH.
    :param fmt: the ``Msg_Fmt`` value as received (any integer).
    :returns: the decoded text.
    """
    return bytes(data).decode(_decode_codec(fmt), "replace")


def choose_fmt(text: str, *, prefer_gb: bool = False) -> MsgFmt:
    """Pick the ``Msg_Fmt`` for outgoing text (CMPP 2.0 notes section 9).

    ASCII for pure-ASCII text, otherwise UCS2 as SMSGate does; with
    ``prefer_gb``, GB when every character has a GB18030 encoding.

    :param text: the message text.
    :param prefer_gb: prefer ``Msg_Fmt`` 15 to 8 for non-ASCII text.
    """
    if text.isascii():
        return MsgFmt.ASCII
    if prefer_gb:
        try:
            text.encode("gb18030")
        except UnicodeEncodeError:
            return MsgFmt.UCS2
        return MsgFmt.GB
    return MsgFmt.UCS2


def max_single_length(fmt: int) -> int:
    """Most bytes of ``Msg_Content`` in one message sent without splitting.

    159 for ASCII (the CMPP 2.0 seed's ``Msg_Length < 160``), 140 for every
    other format (CMPP 2.0 notes section 9).

    :param fmt: the ``Msg_Fmt`` value.
    :returns: a byte count.
    """
    return 159 if fmt == MsgFmt.ASCII else 140
