"""GSM 03.38 default alphabet with its extension table, one septet per octet.

SMPP's data_coding 0 is "SMSC default alphabet", in practice GSM 03.38
7-bit carried unpacked, one septet per octet (smpp34.md §5).  Characters of
the extension table (``€``, ``^``, ``{`` ``}`` ``\\`` ``[`` ``~`` ``]`` ``|``
and form feed) take two septets: ESC (0x1B) then their code.

The table is the Unicode mapping of ETSI GSM 03.38 (unicode.org
``MAPPINGS/ETSI/GSM0338.TXT``): 0x09 is ``ç``, whose glyph in the ETSI
table is drawn as a capital; ``Ç`` is encoded to 0x09 too.  Pure functions.
"""

from __future__ import annotations

from smsgw.text.encoding import TextEncodeError

__all__ = [
    "DATA_CODING_GSM",
    "ESCAPE",
    "decode_gsm",
    "encode_gsm",
    "gsm_length",
    "is_gsm",
]

#: SMPP data_coding 0: the SMSC default alphabet.
DATA_CODING_GSM = 0
#: The escape to the extension table.
ESCAPE = 0x1B

#: Septet -> character of the default alphabet (0x1B is the escape).
BASIC = (
    "@£$¥èéùìòç\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
#: Septet after ESC -> character of the extension table.
EXTENSION = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

_ENCODE: dict[str, bytes] = {ch: bytes([i]) for i, ch in enumerate(BASIC) if i != ESCAPE}
_ENCODE.update({ch: bytes([ESCAPE, code]) for code, ch in EXTENSION.items()})
#: ETSI draws 0x09 as a capital C-cedilla: take it too.
_ENCODE["Ç"] = b"\x09"
#: A lone ESC at the end, or ESC before the escape again: a space (23.038 note 1).
_NBSP = "\u00a0"


def encode_gsm(text: str) -> bytes:
    """*text* as unpacked GSM 03.38 septets, one per octet.

    :raises TextEncodeError: a character has no GSM 03.38 form; its
        ``position`` is the index of the first such character.
    """
    table = _ENCODE
    try:
        return b"".join([table[ch] for ch in text])
    except KeyError:
        position = next(i for i, ch in enumerate(text) if ch not in table)
        raise TextEncodeError(
            f"{text[position]!r} (U+{ord(text[position]):04X}) at {position} is not in"
            " the GSM 03.38 alphabet",
            text,
            DATA_CODING_GSM,
            position,
        ) from None


def decode_gsm(data: bytes) -> str:
    """Unpacked GSM 03.38 septets as text.  Total: never raises.

    ESC before a code the extension table lacks gives the default
    alphabet's character for that code (3GPP 23.038 §6.2.1.1); a lone ESC
    gives a no-break space; an octet above 0x7F (not a septet) gives U+FFFD.
    """
    out: list[str] = []
    escaped = False
    for octet in data:
        if octet > 0x7F:
            out.append("\ufffd")
            escaped = False
        elif escaped:
            escaped = False
            if octet == ESCAPE:
                out.append(_NBSP)
            else:
                out.append(EXTENSION.get(octet, BASIC[octet]))
        elif octet == ESCAPE:
            escaped = True
        else:
            out.append(BASIC[octet])
    if escaped:
        out.append(_NBSP)
    return "".join(out)


def is_gsm(text: str) -> bool:
    """Whether every character of *text* has a GSM 03.38 form."""
    table = _ENCODE
    return all(ch in table for ch in text)


def gsm_length(text: str) -> int | None:
    """Septets *text* takes (extension characters count two), or ``None`` if it is not GSM."""
    table = _ENCODE
    try:
        return sum(len(table[ch]) for ch in text)
    except KeyError:
        return None
