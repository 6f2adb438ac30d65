"""HTTP vendors (``http://``, ``https://``) in the protocol registry.

They have no session client and no simulator listener of their own: the
channel is built whole (``make_channel``), and the ismg-sim plays every
vendor on its ``--vendor-http`` listener.  Numbers reach them only through
``routes`` (or an explicit ``channel`` in a request).
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


HTTP = ProtocolSpec(
    name="http",
    schemes=("http",),
    default_port=80,
    extras=VendorExtras,
    make_client=None,
    make_channel=_channel,
    url_path=True,
)

HTTPS = ProtocolSpec(
    name="https",
    schemes=("https",),
    default_port=443,
    extras=VendorExtras,
    make_client=None,
    make_channel=_channel,
    url_path=True,
)

SPECS = (HTTP, HTTPS)
