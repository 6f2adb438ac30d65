"""SMPP 3.4 (``smpp://``) in the protocol registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smsgw.protocols.registry import ProtocolSpec
from smsgw.protocols.smpp.constants import PORT
from smsgw.protocols.smpp.extras import SmppExtras

if TYPE_CHECKING:
    from smsgw.config import UpstreamConfig


def _client(config: UpstreamConfig) -> object:
    from smsgw.protocols.smpp.client import SmppClient

    return SmppClient(config)


#: An international protocol: no carrier of its own (``carrier=None``), so an
#: smpp channel serves exactly the numbers its routes give it.
SMPP = ProtocolSpec(
    name="smpp",
    schemes=("smpp",),
    default_port=PORT,
    extras=SmppExtras,
    make_client=_client,
    carrier=None,
    sim=None,
)

SPECS = (SMPP,)
