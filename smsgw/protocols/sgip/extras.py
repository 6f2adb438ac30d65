"""SGIP 1.2's own upstream URL keys (its registry spec's typed extras)."""

from __future__ import annotations

import attrs

from smsgw.protocols.registry import Extras, endpoint_key, extra_field, int_key, text_key

__all__ = ["SgipExtras"]


@attrs.frozen(kw_only=True)
class SgipExtras(Extras):
    """SGIP's URL keys.

    :ivar node_id: the SP's own node id in every sequence number
        (sgip12.md §3.1: ``3AAAAQQQQQ``).
    :ivar corp_id: the SP's corporation code in each Submit (5 characters at most).
    :ivar listen: a server endpoint for the SP's own server, where the SMG
        binds and sends Deliver and Report (sgip12.md §2); ``None`` for none.
    """

    node_id: int = extra_field(3000000000, int_key(0, 0xFFFFFFFF))
    corp_id: str = extra_field("", text_key(max_length=5, ascii_only=True))
    listen: str | None = extra_field(None, endpoint_key)
