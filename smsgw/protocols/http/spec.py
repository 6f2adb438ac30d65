"""HTTP vendors (``http://``, ``https://``) in the protocol registry.

They have no session client and no simulator listener of their own: the
channel is built whole (``make_channel``), and the ismg-sim plays every
vendor on its ``--vendor-http`` listener.  A vendor serves every carrier's
numbers (``carrier="any"``): after ``routes`` and the carrier channels, the
first HTTP channel takes the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from smsgw.protocols.http.extras import VendorExtras
from smsgw.protocols.registry import ProtocolSpec

if TYPE_CHECKING:
    from smsgw.config import UpstreamConfig


def _channel(config: UpstreamConfig, reactor: Any, setup: Any) -> Any:
    from smsgw.vendor.channel import vendor_channel

    return vendor_channel(config, reactor, setup)


def _spec(scheme: str, port: int) -> ProtocolSpec:
    return ProtocolSpec(
        name=scheme,
        schemes=(scheme,),
        default_port=port,
        extras=VendorExtras,
        make_client=None,
        make_channel=_channel,
        url_path=True,
        carrier="any",
    )


HTTP = _spec("http", 80)
HTTPS = _spec("https", 443)

SPECS = (HTTP, HTTPS)
