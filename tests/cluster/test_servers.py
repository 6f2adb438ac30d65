"""The test servers themselves: they start, answer, restart and stop."""

from __future__ import annotations

import os

from twisted.trial.unittest import SynchronousTestCase

from smsgw import servers

_MISSING = servers.missing()


class ServersTests(SynchronousTestCase):
    skip = f"missing: {', '.join(_MISSING)}" if _MISSING else None

    def test_redis_restart_loses_keys_and_keeps_port(self) -> None:
        import redis

        server = servers.RedisServer().start()
        self.addCleanup(server.stop)
        client = redis.Redis.from_url(server.url)
        self.addCleanup(client.close)
        client.set("k", b"v")
        self.assertEqual(client.get("k"), b"v")
        server.restart()
        self.assertIsNone(client.get("k"))

    def test_postgres_starts_empty_resets_and_stops(self) -> None:
        import psycopg

        server = servers.PostgresServer().start()
        self.addCleanup(server.stop)
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (x int)")
        server.reset()
        with psycopg.connect(server.url, autocommit=True) as conn:
            row = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 't'").fetchone()
            self.assertEqual(row, (0,))
        folder = server.folder
        server.stop()
        self.assertFalse(os.path.exists(folder))
