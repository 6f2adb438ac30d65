"""Which shapes the C accelerator runs: plain slotted classes, known headers, unsigned counts.

Pure tests on classes and field codecs, used by :mod:`smsgw.protocols.wire`
when it decides whether a layout or a codec gets a C program.
"""

from __future__ import annotations

import attrs

from smsgw.protocols.fields import HeaderSpec, UInt

__all__ = ["count_ok", "header_mode", "plain_slotted"]

#: ``object.__setattr__``, typed so that comparing a class's own with it type-checks.
_OBJECT_SETATTR: object = object.__setattr__


def plain_slotted(cls: type) -> bool:
    """Whether ``cls.__init__`` only stores its arguments into slots."""
    return (
        "__slots__" in cls.__dict__
        and cls.__setattr__ is _OBJECT_SETATTR
        and not hasattr(cls, "__attrs_post_init__")
        and not hasattr(cls, "__attrs_pre_init__")
        and all(
            a.validator is None and a.converter is None and a.init and a.alias == a.name
            for a in attrs.fields(cls)
        )
    )


def header_mode(hdr: HeaderSpec) -> int | None:
    """The C code's header mode for *hdr*, or ``None`` for a shape it does not know.

    1: one uint32 sequence; 3: three (SGIP); 2: a uint32 PDU attribute, then
    a uint32 sequence (SMPP's command_status and sequence_number).
    """
    shape = (hdr.code, hdr.sequence_exprs, len(hdr.attributes))
    if shape == ("I", ("seq",), 0):
        return 1
    if shape == ("III", ("seq[0]", "seq[1]", "seq[2]"), 0):
        return 3
    if shape == ("II", ("seq",), 1):
        return 2
    return None


def count_ok(count: UInt) -> bool:
    """Whether the C code reads *count* (a Repeated count or a Sized length): unsigned, 1/2/4."""
    return type(count) is UInt and not count.signed and count.size in (1, 2, 4)
