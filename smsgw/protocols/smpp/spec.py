"""SMPP 3.4 (``smpp://``) in the protocol registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smsgw.protocols.registry import ProtocolSpec, SimListener
from smsgw.protocols.smpp.constants import PORT
from smsgw.protocols.smpp.extras import SmppExtras

if TYPE_CHECKING:
    from twisted.internet.interfaces import IProtocolFactory

    from smsgw.config import SimulatorConfig, UpstreamConfig
    from smsgw.ismg.simulator import Simulator


def _client(config: UpstreamConfig) -> object:
    from smsgw.protocols.smpp.client import SmppClient

    return SmppClient(config)


def _factory(sim: Simulator, config: SimulatorConfig) -> IProtocolFactory:
    from smsgw.protocols.smpp.face import SmppFaceOptions, smpp_factory

    return smpp_factory(sim, SmppFaceOptions.from_config(config))


#: An international protocol: no carrier of its own (``carrier=None``), so an
#: smpp channel serves exactly the numbers its routes give it.
SMPP = ProtocolSpec(
    name="smpp",
    schemes=("smpp",),
    default_port=PORT,
    extras=SmppExtras,
    make_client=_client,
    carrier=None,
    sim=SimListener("smpp", "SMPP 3.4 endpoint (e.g. tcp:2775)", None, _factory),
)

SPECS = (SMPP,)
