"""Listening endpoints (:mod:`smsgw.config.endpoints`): loopback unless an interface is named."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from smsgw.config.endpoints import (
    DemoBeyondLoopback,
    check_demo_listen,
    interface_of,
    is_local,
    listen_endpoint,
)


class ListenEndpointTests(SynchronousTestCase):
    """listen_endpoint adds a loopback interface where none is named."""

    def test_loopback_added(self) -> None:
        """tcp, ssl and tcp6 endpoints without an interface get the loopback one."""
        for given, expected in [
            ("tcp:7890", "tcp:7890:interface=127.0.0.1"),
            ("tcp:port=7890", "tcp:port=7890:interface=127.0.0.1"),
            ("TCP:0", "TCP:0:interface=127.0.0.1"),
            ("ssl:8443:privateKey=k.pem", "ssl:8443:privateKey=k.pem:interface=127.0.0.1"),
            ("tcp6:7890", "tcp6:7890:interface=\\:\\:1"),
        ]:
            with self.subTest(given=given):
                self.assertEqual(listen_endpoint(given), expected)

    def test_kept(self) -> None:
        """Endpoints naming an interface, and other types, are unchanged."""
        for given in (
            "tcp:7890:interface=0.0.0.0",
            "tcp:7890:interface=\\:\\:",
            "tcp:interface=10.0.0.1:port=7890",
            "unix:/tmp/s.sock",
            "systemd:domain=INET:index=0",
        ):
            with self.subTest(given=given):
                self.assertEqual(listen_endpoint(given), given)

    def test_interface_of(self) -> None:
        """The interface is unescaped; an escaped colon does not split a field."""
        self.assertEqual(interface_of("tcp:1:interface=\\:\\:1"), "::1")
        self.assertIsNone(interface_of("tcp:1"))

    def test_is_local(self) -> None:
        """Loopback addresses, localhost, unix and systemd are local; the rest is not."""
        for endpoint, local in [
            ("tcp:1", True),
            ("tcp6:1", True),
            ("tcp:1:interface=127.0.0.1", True),
            ("tcp:1:interface=127.1.2.3", True),
            ("tcp:1:interface=localhost", True),
            ("tcp:1:interface=\\:\\:1", True),
            ("unix:/tmp/s", True),
            ("tcp:1:interface=0.0.0.0", False),
            ("tcp:1:interface=\\:\\:", False),
            ("tcp:1:interface=192.168.1.2", False),
            ("tcp:1:interface=gateway.example", False),
        ]:
            with self.subTest(endpoint=endpoint):
                self.assertEqual(is_local(endpoint), local)


class DemoListenTests(SynchronousTestCase):
    """check_demo_listen keeps a demo account on loopback."""

    def test_demo_beyond_loopback(self) -> None:
        """A demo account and one endpoint beyond loopback: refused, naming the endpoint."""
        endpoints = ["tcp:1", "tcp:2:interface=0.0.0.0"]
        with self.assertRaises(DemoBeyondLoopback) as caught:
            check_demo_listen("ismg-sim", "901234", endpoints)
        self.assertIn("tcp:2:interface=0.0.0.0", str(caught.exception))
        self.assertIn("ismg-sim", str(caught.exception))

    def test_allowed(self) -> None:
        """Configured accounts may listen anywhere; the demo one on loopback."""
        check_demo_listen("ismg-sim", None, ["tcp:2:interface=0.0.0.0"])
        check_demo_listen("ismg-sim", "901234", ["tcp:1", "unix:/tmp/x"])
