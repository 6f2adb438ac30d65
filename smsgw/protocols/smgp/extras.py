"""SMGP 3.0's own upstream URL keys (its registry spec's typed extras)."""

from __future__ import annotations

import attrs

from smsgw.protocols.registry import Extras, extra_field, int_key

__all__ = ["SmgpExtras"]


@attrs.frozen(kw_only=True)
class SmgpExtras(Extras):
    """SMGP's URL keys.

    :ivar login_mode: the Login's LoginMode (smgp30.md §6): 0 send, 1
        receive, 2 transmit (the default: MT, MO and reports on one link).
    """

    login_mode: int = extra_field(2, int_key(0, 2))
