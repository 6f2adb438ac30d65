"""SGIP 1.2 (``sgip://``) in the protocol registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from smsgw.protocols.registry import (
    Extras,
    ProtocolSpec,
    SimListener,
    endpoint_key,
    extra_field,
    int_key,
    text_key,
)
from smsgw.protocols.sgip.constants import PORT_SMG

if TYPE_CHECKING:
    from twisted.internet.interfaces import IProtocolFactory

    from smsgw.config import SimulatorConfig, UpstreamConfig
    from smsgw.ismg.simulator import Simulator


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


def _client(config: UpstreamConfig) -> object:
    from smsgw.sp.clients import SgipClient

    return SgipClient(config)


def _factory(sim: Simulator, config: SimulatorConfig) -> IProtocolFactory:
    return sim.sgip_factory(config.sgip_node_id)  # type: ignore[no-any-return]


SGIP = ProtocolSpec(
    name="sgip",
    schemes=("sgip",),
    default_port=PORT_SMG,
    extras=SgipExtras,
    make_client=_client,
    sim=SimListener("sgip", "SGIP 1.2 endpoint (e.g. tcp:8801)", None, _factory),
)

SPECS = (SGIP,)
