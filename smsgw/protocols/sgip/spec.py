"""SGIP 1.2 (``sgip://``) in the protocol registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smsgw.protocols.registry import ProtocolSpec, SimListener
from smsgw.protocols.sgip.constants import PORT_SMG
from smsgw.protocols.sgip.extras import SgipExtras

if TYPE_CHECKING:
    from twisted.internet.interfaces import IProtocolFactory

    from smsgw.config import SimulatorConfig, UpstreamConfig
    from smsgw.ismg.simulator import Simulator


def _client(config: UpstreamConfig) -> object:
    from smsgw.protocols.sgip.client import SgipClient

    return SgipClient(config)


def _factory(sim: Simulator, config: SimulatorConfig) -> IProtocolFactory:
    from smsgw.protocols.sgip.face import sgip_factory

    return sgip_factory(sim, config.sgip_node_id)


SGIP = ProtocolSpec(
    name="sgip",
    schemes=("sgip",),
    default_port=PORT_SMG,
    extras=SgipExtras,
    make_client=_client,
    carrier="unicom",
    sim=SimListener("sgip", "SGIP 1.2 endpoint (e.g. tcp:8801)", None, _factory),
)

SPECS = (SGIP,)
