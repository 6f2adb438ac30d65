"""SMGP 3.0 (``smgp://``) in the protocol registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smsgw.protocols.registry import ProtocolSpec, SimListener
from smsgw.protocols.smgp.constants import PORT_SP
from smsgw.protocols.smgp.extras import SmgpExtras

if TYPE_CHECKING:
    from twisted.internet.interfaces import IProtocolFactory

    from smsgw.config import SimulatorConfig, UpstreamConfig
    from smsgw.ismg.simulator import Simulator


def _client(config: UpstreamConfig) -> object:
    from smsgw.protocols.smgp.client import SmgpClient

    return SmgpClient(config)


def _factory(sim: Simulator, config: SimulatorConfig) -> IProtocolFactory:
    from smsgw.protocols.smgp.face import smgp_factory

    return smgp_factory(sim, config.smgp_code)


SMGP = ProtocolSpec(
    name="smgp",
    schemes=("smgp",),
    default_port=PORT_SP,
    extras=SmgpExtras,
    make_client=_client,
    carrier="telecom",
    sim=SimListener("smgp", "SMGP 3.0 endpoint (e.g. tcp:8890)", None, _factory),
)

SPECS = (SMGP,)
