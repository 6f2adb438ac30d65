"""TLS to a carrier or vendor: the client endpoint and the HTTPS policy of an upstream.

An upstream's URL says ``tls=true`` (a session protocol over TLS; ``https://``
for an HTTP vendor), and may name ``tls_ca``: a PEM file of the certificate
authority to trust instead of the system's.  The server's certificate is
always checked against the upstream's host name (service-identity): there is
no switch to turn that off.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twisted.internet import ssl
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.web.client import BrowserLikePolicyForHTTPS
from twisted.web.iweb import IPolicyForHTTPS

from smsgw.config import ConfigError, UpstreamConfig

__all__ = ["client_endpoint", "https_policy", "trust_root"]


def trust_root(ca_path: str) -> Any:
    """The certificates to trust: the PEM file *ca_path*, or the system's when empty.

    :raises ConfigError: naming ``tls_ca``, when the file cannot be read as a PEM certificate.
    """
    if not ca_path:
        return ssl.platformTrust()
    try:
        return ssl.Certificate.loadPEM(Path(ca_path).read_bytes())
    except OSError as error:
        raise ConfigError(f"cannot read {ca_path}: {error.strerror}", key="tls_ca") from None
    except Exception:  # pyOpenSSL's errors for a file that is not a PEM certificate
        raise ConfigError(f"{ca_path} is not a PEM certificate", key="tls_ca") from None


def client_endpoint(reactor: Any, config: UpstreamConfig) -> IStreamClientEndpoint:
    """Where a session protocol's links to *config* connect: TCP, or TLS with ``tls=true``."""
    tcp = HostnameEndpoint(reactor, config.host, config.port)
    if not config.tls:
        return tcp
    options = ssl.optionsForClientTLS(config.host, trustRoot=trust_root(config.tls_ca))
    return wrapClientTLS(options, tcp)


def https_policy(config: UpstreamConfig) -> IPolicyForHTTPS:
    """The HTTPS policy of an HTTP vendor's requests: the upstream's ``tls_ca``, or the system's."""
    return BrowserLikePolicyForHTTPS(trustRoot=trust_root(config.tls_ca))
