"""CMPP 2.0 (``cmpp://``) and CMPP 3.0 (``cmpp3://``) in the protocol registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smsgw.protocols.cmpp.constants import PORT_SP_LONG
from smsgw.protocols.cmpp.extras import CmppExtras
from smsgw.protocols.registry import ProtocolSpec, SimListener

if TYPE_CHECKING:
    from twisted.internet.interfaces import IProtocolFactory

    from smsgw.config import SimulatorConfig, UpstreamConfig
    from smsgw.ismg.simulator import Simulator


def _client(config: UpstreamConfig) -> object:
    from smsgw.protocols.cmpp.client import CmppClient

    return CmppClient(config)


def _cmpp_factory(sim: Simulator, config: SimulatorConfig) -> IProtocolFactory:
    from smsgw.protocols.cmpp.face import cmpp_factory

    return cmpp_factory(sim)


def _cmpp3_factory(sim: Simulator, config: SimulatorConfig) -> IProtocolFactory:
    from smsgw.protocols.cmpp.face import cmpp3_factory

    return cmpp3_factory(sim)


CMPP = ProtocolSpec(
    name="cmpp",
    schemes=("cmpp",),
    default_port=PORT_SP_LONG,
    extras=CmppExtras,
    make_client=_client,
    carrier="mobile",
    sim=SimListener(
        "cmpp", "CMPP 2.0 endpoint", f"tcp:{PORT_SP_LONG}:interface=127.0.0.1", _cmpp_factory
    ),
)

CMPP3 = ProtocolSpec(
    name="cmpp3",
    schemes=("cmpp3",),
    default_port=PORT_SP_LONG,
    extras=CmppExtras,
    make_client=_client,
    carrier="mobile",
    sim=SimListener(
        "cmpp3",
        "CMPP 3.0 endpoint, 2.0 clients answered as 2.0 (e.g. tcp:7891)",
        None,
        _cmpp3_factory,
    ),
)

SPECS = (CMPP, CMPP3)
