"""Admission on a listener: a cap on links that have not logged in, and a short login time.

Without a cap, connections that never log in (an idle port scan, a broken or
hostile client) each hold a file descriptor for the whole login timeout; a
few hundred of them took every descriptor of a process limited to 128 and
locked valid logins out.  :class:`LoginLimits` wraps a listener's
:class:`~smsgw.protocols.session.SessionFactory`: it counts the links not
logged in yet, in all and per source address, closes a new connection at
once (``buildProtocol`` answers ``None``) when either cap is reached, and
gives the factory's sessions a shorter time to log in.  The sessions are the
factory's own, not wrapped: nothing changes on the SUBMIT path.
"""

from __future__ import annotations

from typing import Any

import attrs
from twisted.internet import protocol
from twisted.logger import Logger

from smsgw.protocols.session import Session, SessionFactory, State

__all__ = [
    "MAX_UNBOUND",
    "MAX_UNBOUND_PER_PEER",
    "SERVER_LOGIN_TIMEOUT_S",
    "LoginLimits",
]

#: Links not logged in yet, in all, before new connections are closed at once.
MAX_UNBOUND = 256
#: The same from one source address.
MAX_UNBOUND_PER_PEER = 32
#: Seconds a link to a listener has to log in.
SERVER_LOGIN_TIMEOUT_S = 10.0


class LoginLimits(protocol.Factory):
    """A listener's factory: *inner*'s sessions, admitted within the caps.

    :param inner: builds the sessions (its ``config.login_timeout_s`` is set
        to *login_timeout_s*).
    :param max_unbound: the most links not logged in yet; ``None``: no cap.
    :param max_unbound_per_peer: the same per source address; ``None``: no cap.
    :ivar refused: connections closed by the caps.
    """

    log = Logger()

    def __init__(
        self,
        inner: SessionFactory,
        *,
        max_unbound: int | None = MAX_UNBOUND,
        max_unbound_per_peer: int | None = MAX_UNBOUND_PER_PEER,
        login_timeout_s: float = SERVER_LOGIN_TIMEOUT_S,
    ) -> None:
        self.noisy = False
        self.inner = inner
        inner.config = attrs.evolve(inner.config, login_timeout_s=login_timeout_s)
        self.max_unbound = max_unbound
        self.max_unbound_per_peer = max_unbound_per_peer
        self.refused = 0
        self._unbound: dict[Session, str] = {}

    def __getattr__(self, name: str) -> Any:
        # The listener's own attributes (handler, config…) stay reachable.
        return getattr(self.inner, name)

    def doStart(self) -> None:
        """Start *inner* with the listener."""
        self.inner.doStart()

    def doStop(self) -> None:
        """Stop *inner* with the listener."""
        self.inner.doStop()

    def waiting(self) -> dict[Session, str]:
        """The links not logged in yet (and still open), with their source address."""
        self._unbound = {
            s: h for s, h in self._unbound.items() if s.state not in (State.BOUND, State.CLOSED)
        }
        return self._unbound

    def buildProtocol(self, addr: Any) -> Session | None:
        """*inner*'s session, or ``None`` (closed at once) when a cap is reached."""
        host = str(getattr(addr, "host", ""))
        waiting = self.waiting()
        from_peer = sum(1 for h in waiting.values() if h == host)
        if (self.max_unbound is not None and len(waiting) >= self.max_unbound) or (
            self.max_unbound_per_peer is not None and from_peer >= self.max_unbound_per_peer
        ):
            self.refused += 1
            if self.refused == 1 or self.refused % 1000 == 0:
                self.log.warn(
                    "refusing connections: {n} links not logged in ({peer_n} from {peer}); "
                    "{refused} refused so far",
                    n=len(waiting), peer_n=from_peer, peer=host, refused=self.refused,
                )  # fmt: skip
            return None  # the port closes the connection at once
        session = self.inner.buildProtocol(addr)
        waiting[session] = host
        return session
