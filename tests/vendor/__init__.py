"""Tests for :mod:`smsgw.vendor`: descriptions, codecs, the simulator and the client."""

from __future__ import annotations

from smsgw.vendor.description import Description
from smsgw.vendor.loader import builtin_dir, load_dir

_SHIPPED: dict[str, Description] | None = None


def shipped(name: str) -> Description:
    """A shipped vendor description, loaded once."""
    global _SHIPPED
    if _SHIPPED is None:
        _SHIPPED = load_dir(builtin_dir())
    return _SHIPPED[name]
