"""Login limits on a listener (:mod:`smsgw.protocols.admission`)."""

from __future__ import annotations

from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.admission import LoginLimits
from smsgw.protocols.cmpp.session import CmppAdapter
from smsgw.protocols.session import Session, SessionConfig, SessionFactory, State


class _Handler:
    def session_started(self, session: Session) -> None:
        pass

    def session_ended(self, session: Session, reason: Any) -> None:
        pass

    def locate_responder(self, kind: type) -> None:
        return None


def _addr(host: str) -> IPv4Address:
    return IPv4Address("TCP", host, 40000)


class LoginLimitsTests(SynchronousTestCase):
    """Links not logged in are capped in all and per address; logged-in ones do not count."""

    def setUp(self) -> None:
        self.clock = Clock()
        inner = SessionFactory(CmppAdapter, _Handler(), SessionConfig(), self.clock)  # type: ignore[arg-type]
        self.limits = LoginLimits(inner, max_unbound=3, max_unbound_per_peer=2, login_timeout_s=5)

    def connect(self, host: str) -> Session | None:
        session = self.limits.buildProtocol(_addr(host))
        if session is not None:
            session.makeConnection(StringTransport())
        return session

    def test_per_peer_cap(self) -> None:
        """A third link from one address waiting to log in is refused; another address is not."""
        first, second = self.connect("10.0.0.1"), self.connect("10.0.0.1")
        self.assertIsNotNone(first and second)
        self.assertIsNone(self.connect("10.0.0.1"))
        self.assertIsNotNone(self.connect("10.0.0.2"))
        self.assertEqual(self.limits.refused, 1)

    def test_total_cap(self) -> None:
        """Past max_unbound links waiting in all, any new connection is refused."""
        for host in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
            self.assertIsNotNone(self.connect(host))
        self.assertIsNone(self.connect("10.0.0.4"))

    def test_logged_in_and_closed_do_not_count(self) -> None:
        """A link that logged in, or closed, frees its place."""
        first, second = self.connect("10.0.0.1"), self.connect("10.0.0.1")
        assert first is not None and second is not None
        first.state = State.BOUND
        second.connectionLost(Exception("gone"))  # type: ignore[arg-type]
        self.assertIsNotNone(self.connect("10.0.0.1"))
        self.assertIsNotNone(self.connect("10.0.0.1"))

    def test_login_timeout(self) -> None:
        """The sessions get the shorter login time and are closed after it."""
        session = self.connect("10.0.0.1")
        assert session is not None
        self.assertEqual(session.config.login_timeout_s, 5)
        self.clock.advance(5)
        self.assertTrue(session.transport.disconnecting)  # type: ignore[union-attr]
        self.assertIsNotNone(self.connect("10.0.0.1"))

    def test_inner_reachable(self) -> None:
        """The listener's own attributes stay reachable through the limits."""
        self.assertIs(self.limits.handler, self.limits.inner.handler)
