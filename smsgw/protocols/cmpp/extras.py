"""CMPP 2.0/3.0's own upstream URL keys (its registry spec's typed extras)."""

from __future__ import annotations

import attrs

from smsgw.protocols.registry import Extras

__all__ = ["CmppExtras"]


@attrs.frozen(kw_only=True)
class CmppExtras(Extras):
    """CMPP's URL keys: the common ones only (``charset``)."""
