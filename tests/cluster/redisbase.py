"""One real Redis server per test class (smsgw.servers), emptied before every test.

trial has no ``setUpClass``: a class's server starts with its first test and
stops when the test process exits.
"""

from __future__ import annotations

import atexit
from typing import Any

from twisted.internet import reactor
from twisted.trial.unittest import TestCase

from smsgw import servers
from smsgw.cluster import Coordinator

#: What these tests need and this machine lacks (PostgreSQL is not needed here).
MISSING = [m for m in servers.missing() if "redis" in m.lower()]


class RedisTestCase(TestCase):
    """A Redis server for the class; FLUSHALL before each test; nodes closed after it."""

    skip = f"missing: {', '.join(MISSING)}" if MISSING else None
    timeout = 10
    #: Each class's server, by class.
    _servers: dict[type, servers.RedisServer] = {}

    @property
    def server(self) -> servers.RedisServer:
        """This class's server, started by its first test."""
        cls = type(self)
        if cls not in self._servers:
            server = self._servers[cls] = servers.RedisServer().start()
            atexit.register(server.stop)
        return self._servers[cls]

    def setUp(self) -> None:
        import redis

        client = redis.Redis.from_url(self.server.url)
        try:
            client.flushall()
        finally:
            client.close()

    def node(self, name: str, **kwargs: Any) -> Coordinator:
        """A coordinator for node *name* on this class's Redis, closed on cleanup."""
        coordinator = Coordinator(self.server.url, reactor, name, **kwargs)
        self.addCleanup(coordinator.close)
        return coordinator
