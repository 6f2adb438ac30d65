"""TLS over real loopback sockets, with a certificate authority made for the test (issue 14).

CMPP over TLS in both roles (the ismg-sim listening on an ``ssl:`` endpoint,
the SP's channel with ``tls=true``), the SP's HTTP API over HTTPS, and an
HTTP vendor channel to a simulated vendor over HTTPS.  The server's name is
checked against the upstream's host by default: a certificate for another
name, or from an authority the client does not trust, gets no link.
"""

from __future__ import annotations

import json
from typing import Any

from OpenSSL import SSL
from service_identity.exceptions import VerificationError
from treq.client import HTTPClient
from twisted.application.internet import StreamServerEndpointService
from twisted.internet import reactor
from twisted.internet.defer import Deferred, DeferredQueue
from twisted.internet.endpoints import connectProtocol, serverFromString
from twisted.internet.interfaces import ISSLTransport
from twisted.internet.protocol import Protocol
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath
from twisted.trial.unittest import TestCase
from twisted.web.client import Agent, BrowserLikePolicyForHTTPS, HTTPConnectionPool

from smsgw.config import Config, ConfigError, parse_upstream_url
from smsgw.roles.sp import SpService, check_upstreams
from smsgw.sp.channel import Channel
from smsgw.sp.clients import ReportEvent
from smsgw.sp.tls import client_endpoint, trust_root
from smsgw.vendor.channel import VendorChannel
from smsgw.vendor.sim import DefaultHooks, VendorAccount, VendorSimulator
from tests.ismg.test_protocols_live import IsmgSim, close_sessions, one_segment, track_sessions
from tests.sp.test_channel import closed_port, peek, within
from tests.tlspki import Pki, make_pki
from tests.vendor import shipped

ACCOUNT, SECRET = "901234", "s3cret"
DEST = "13800138000"


class _Closed(Protocol):
    """A client that records why its connection closed."""

    def __init__(self) -> None:
        self.closed: Deferred[None] = Deferred()
        self.reason: Failure | None = None

    def connectionMade(self) -> None:
        # TLS checks the server's certificate during the handshake, which writing starts.
        self.transport.write(b"\x00")

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        self.reason = reason
        self.closed.callback(None)


class CmppOverTlsTests(TestCase):
    """The ismg-sim serves CMPP on an ``ssl:`` endpoint; the SP's channel logs in over TLS."""

    timeout = 20

    async def setUp(self) -> None:  # type: ignore[override]
        self.pki = make_pki(self.mktemp())
        text = (
            "[simulator]\n"
            f'cmpp = "ssl:0:interface=127.0.0.1:privateKey={self.pki.server}"\n'
            'control = "tcp:0:interface=127.0.0.1"\n'
            "[simulator.policy.reports]\ndelay_s = [0.01, 0.02]\n"
            f'[[simulator.account]]\nid = "{ACCOUNT}"\nsecret = "{SECRET}"\n'
        )
        sim = await IsmgSim.start(self, 0, config_text=text)
        self.port = sim.ports["cmpp"]

    def url(self, host: str, query: str = "") -> str:
        return (
            f"cmpp://{ACCOUNT}:{SECRET}@{host}:{self.port}"
            f"?src_id=1065901234&service_id=TEST&response_timeout_s=2&tls=true{query}"
        )

    async def test_submit_and_report_over_tls(self) -> None:
        """A SUBMIT over TLS gets its id, and its report comes back on the same TLS link."""
        events: DeferredQueue[Any] = DeferredQueue()
        config = parse_upstream_url(self.url("localhost", f"&tls_ca={self.pki.ca}"))
        channel = Channel(config, reactor, on_event=events.put, name="tls")
        channel.startService()
        self.addCleanup(lambda: within(channel.stopService()))
        result = await within(channel.submit_segment((DEST,), one_segment(), report=True))
        self.assertEqual(result.result, 0)
        report = await within(events.get())
        self.assertIsInstance(report, ReportEvent)
        self.assertEqual(report.msg_id, result.msg_id)
        transport = channel.sessions[0].transport
        self.assertIsNotNone(transport.getPeerCertificate())  # type: ignore[union-attr]

    async def refusal(self, host: str, ca: str) -> BaseException:
        """Why a TLS link to the simulator as *host*, trusting *ca*, gets nowhere."""
        config = parse_upstream_url(self.url(host, f"&tls_ca={ca}" if ca else ""))
        try:
            client = await within(connectProtocol(client_endpoint(reactor, config), _Closed()))
        except Exception as error:  # the handshake failed before the link was handed over
            return error
        await within(client.closed)
        assert client.reason is not None
        return client.reason.value

    async def test_wrong_host_name_refused(self) -> None:
        """The certificate names localhost: a link to 127.0.0.1 fails its check."""
        error = await self.refusal("127.0.0.1", self.pki.ca)
        self.assertIsInstance(error, VerificationError)
        self.assertIn("127.0.0.1", str(error))
        self.flushLoggedErrors(VerificationError)

    async def test_untrusted_authority_refused(self) -> None:
        """A certificate from an authority the client does not trust gets no link."""
        other = make_pki(self.mktemp())
        error = await self.refusal("localhost", other.ca)
        self.assertIn("certificate verify failed", str(error))
        self.flushLoggedErrors(SSL.Error)


class SgipOverTlsTests(TestCase):
    """SGIP over TLS both ways: the SP's links to the SMG, the SMG's to the SP's server."""

    timeout = 20

    async def test_submit_and_report_both_ways(self) -> None:
        """A Submit goes over the SP's TLS link; its Report comes over the SMG's TLS link back."""
        pki = make_pki(self.mktemp())
        trust = FilePath(self.mktemp())
        trust.makedirs()
        FilePath(pki.ca).copyTo(trust.child("ca.pem"))
        sp_port = await closed_port()
        text = (
            "[simulator]\n"
            'cmpp = "tcp:0:interface=127.0.0.1"\n'
            f'sgip = "ssl:0:interface=127.0.0.1:privateKey={pki.server}"\n'
            'control = "tcp:0:interface=127.0.0.1"\n'
            "[simulator.policy.reports]\ndelay_s = [0.01, 0.02]\n"
            f'[[simulator.account]]\nid = "{ACCOUNT}"\nsecret = "{SECRET}"\n'
            f'sgip_callback = "tls:host=localhost:port={sp_port}:trustRoots={trust.path}"\n'
        )
        sim = await IsmgSim.start(self, sp_port, config_text=text)
        url = (
            f"sgip://{ACCOUNT}:{SECRET}@localhost:{sim.ports['sgip']}"
            f"?src_id=1065501234&response_timeout_s=2&node_id=3075512345"
            f"&tls=true&tls_ca={pki.ca}"
            f"&listen=ssl:{sp_port}:interface=127.0.0.1:privateKey={pki.server}"
        )
        events: DeferredQueue[Any] = DeferredQueue()
        channel = Channel(parse_upstream_url(url), reactor, on_event=events.put, name="sgip")
        accepted: list[Any] = []
        [listener] = [s for s in channel if isinstance(s, StreamServerEndpointService)]
        track_sessions(listener.factory.inner, accepted)
        channel.startService()

        async def stop() -> None:
            await within(channel.stopService())
            await close_sessions(accepted)

        self.addCleanup(stop)
        result = await within(channel.submit_segment((DEST,), one_segment(), report=True))
        self.assertEqual(result.result, 0)
        report = await within(events.get())
        self.assertIsInstance(report, ReportEvent)
        self.assertEqual(report.msg_id, result.msg_id)
        # The report came in on a link the SMG opened to the SP's TLS server.
        [link] = [s for s in accepted if s.transport is not None]
        self.assertIsNotNone(link.transport.getHost())
        self.assertTrue(ISSLTransport.providedBy(link.transport))


def _https_client(testcase: TestCase, pki: Pki) -> HTTPClient:
    pool = HTTPConnectionPool(reactor, persistent=False)
    testcase.addCleanup(pool.closeCachedConnections)
    policy = BrowserLikePolicyForHTTPS(trustRoot=trust_root(pki.ca))
    return HTTPClient(Agent(reactor, contextFactory=policy, pool=pool))


class HttpsApiTests(TestCase):
    """The SP's HTTP API on an ``ssl:`` endpoint, called by a client that checks the name."""

    timeout = 20

    async def test_send_over_https(self) -> None:
        """POST /v1/sms over HTTPS is accepted; /healthz answers."""
        pki = make_pki(self.mktemp())
        listen = f"ssl:0:interface=127.0.0.1:privateKey={pki.server}"
        service = SpService(Config(), [], listen, self.mktemp(), reactor)
        service.startService()
        self.addCleanup(lambda: within(service.stopService()))
        await within(peek(service.ready))
        web: Any = service._web
        port = (await within(peek(web._waitingForPort))).getHost().port
        http = _https_client(self, pki)
        base = f"https://localhost:{port}"
        response = await within(http.get(f"{base}/healthz"))
        self.assertEqual(response.code, 200)
        await response.content()
        body = json.dumps({"to": [DEST], "content": "over TLS", "mode": "async"}).encode()
        response = await within(
            http.post(f"{base}/v1/sms", body, headers={"Content-Type": ["application/json"]})
        )
        answer = json.loads(await within(response.content()))
        self.assertEqual(response.code, 202, answer)
        self.assertIn("id", answer)


class HttpsVendorTests(TestCase):
    """A vendor channel to a simulated vendor served over HTTPS."""

    timeout = 20

    async def start(self, ca: str) -> VendorChannel:
        pki = self.pki
        desc = shipped("batchsm")
        account = VendorAccount("acct", "s3cret", products={"p1": 1000})
        pool = HTTPConnectionPool(reactor, persistent=False)
        self.addCleanup(pool.closeCachedConnections)
        clock = Clock()
        sim = VendorSimulator(desc, [account], clock, HTTPClient(Agent(reactor, pool=pool)),
                              DefaultHooks(1.0))  # fmt: skip
        endpoint = serverFromString(reactor, f"ssl:0:interface=127.0.0.1:privateKey={pki.server}")
        port = await within(endpoint.listen(sim.site()))
        self.addCleanup(port.stopListening)
        query = f"?vendor=batchsm&tls_ca={ca}" if ca else "?vendor=batchsm"
        url = f"https://acct:s3cret@localhost:{port.getHost().port}/{query}"
        config = parse_upstream_url(url)
        channel = VendorChannel(config, reactor, desc, f"https://localhost:{port.getHost().port}")
        channel.max_attempts = 1
        channel.startService()
        self.addCleanup(lambda: within(channel.stopService()))
        return channel

    async def test_balance_over_https(self) -> None:
        """The channel trusts tls_ca and checks the name: the vendor's balance comes back."""
        self.pki = make_pki(self.mktemp())
        channel = await self.start(self.pki.ca)
        balance = await within(channel.balance())
        self.assertEqual(balance.balance, 1000, balance.reason)

    async def test_untrusted_vendor_refused(self) -> None:
        """Without tls_ca the system's authorities do not know the test's: no answer is used."""
        self.pki = make_pki(self.mktemp())
        channel = await self.start("")
        balance = await within(channel.balance())
        self.assertIsNone(balance.balance)
        self.assertIn("TLS handshake failed: certificate verify failed", str(balance.reason))
        self.flushLoggedErrors(SSL.Error)


class TlsSettingsTests(TestCase):
    """The ``tls`` and ``tls_ca`` URL keys: read, written back, and checked at start."""

    def test_read_and_redacted(self) -> None:
        """tls=true and tls_ca are read and come back in the redacted URL."""
        config = parse_upstream_url("cmpp://a:b@localhost:7890?tls=true&tls_ca=/etc/ca.pem")
        self.assertEqual((config.tls, config.tls_ca), (True, "/etc/ca.pem"))
        again = parse_upstream_url(config.redacted().replace("***", "b"))
        self.assertEqual((again.tls, again.tls_ca), (True, "/etc/ca.pem"))
        self.assertFalse(parse_upstream_url("cmpp://a:b@localhost:7890").tls)

    def test_bad_values(self) -> None:
        """A bad tls value, and tls on an HTTP vendor, are errors naming the key."""
        for url, key in (
            ("cmpp://a:b@h:1?tls=yes", "tls"),
            ("http://a:b@h:1/?vendor=somp&tls=true", "tls"),
        ):
            with self.subTest(url=url):
                error = self.assertRaises(ConfigError, parse_upstream_url, url)
                self.assertEqual(error.key, key)

    def test_unreadable_ca_refused_at_start(self) -> None:
        """A tls_ca that is missing, or not a certificate, stops the start naming the channel."""
        not_pem = FilePath(self.mktemp())
        not_pem.setContent(b"not a certificate")
        for path, reason in ((self.mktemp(), "cannot read"), (not_pem.path, "not a PEM")):
            upstream = parse_upstream_url(f"cmpp://a:b@h:1?tls=true&tls_ca={path}")
            error = self.assertRaises(ConfigError, check_upstreams, Config(), [upstream])
            self.assertEqual(error.key, "a: tls_ca")
            self.assertIn(reason, error.reason)
