"""SMGP 3.0 (``smgp://``) in the protocol registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from smsgw.protocols.registry import Extras, ProtocolSpec, SimListener, extra_field, int_key
from smsgw.protocols.smgp.constants import PORT_SP

if TYPE_CHECKING:
    from twisted.internet.interfaces import IProtocolFactory

    from smsgw.config import SimulatorConfig, UpstreamConfig
    from smsgw.ismg.simulator import Simulator


@attrs.frozen(kw_only=True)
class SmgpExtras(Extras):
    """SMGP's URL keys.

    :ivar login_mode: the Login's LoginMode (smgp30.md §6): 0 send, 1
        receive, 2 transmit (the default: MT, MO and reports on one link).
    """

    login_mode: int = extra_field(2, int_key(0, 2))


def _client(config: UpstreamConfig) -> object:
    from smsgw.sp.clients import SmgpClient

    return SmgpClient(config)


def _factory(sim: Simulator, config: SimulatorConfig) -> IProtocolFactory:
    return sim.smgp_factory(config.smgp_code)  # type: ignore[no-any-return]


SMGP = ProtocolSpec(
    name="smgp",
    schemes=("smgp",),
    default_port=PORT_SP,
    extras=SmgpExtras,
    make_client=_client,
    sim=SimListener("smgp", "SMGP 3.0 endpoint (e.g. tcp:8890)", None, _factory),
)

SPECS = (SMGP,)
