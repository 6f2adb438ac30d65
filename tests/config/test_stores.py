"""``--store``, ``--redis``, ``--node`` and the ``[store] url`` / ``[cluster]`` tables."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from smsgw.config import ConfigError, parse_config
from smsgw.config.stores import default_node, parse_redis_url, parse_store_url
from smsgw.roles.sp import store_target, with_cluster_options

PG = "postgresql://smsgw:secret@127.0.0.1:5432/smsgw"


class ParseStoreUrlTests(SynchronousTestCase):
    def test_sqlite_forms(self) -> None:
        """``sqlite:PATH`` and a bare path are the SQLite file; neither is shared."""
        for text in ("sqlite:/tmp/a.db", "/tmp/a.db"):
            target = parse_store_url(text)
            self.assertEqual((target.kind, target.location), ("sqlite", "/tmp/a.db"))
            self.assertFalse(target.shared)

    def test_postgresql_is_shared_and_redacted(self) -> None:
        """A PostgreSQL URL is kept whole, is shared, and is logged without its password."""
        target = parse_store_url(PG)
        self.assertEqual((target.kind, target.location), ("postgresql", PG))
        self.assertTrue(target.shared)
        self.assertEqual(target.redacted(), "postgresql://smsgw@127.0.0.1:5432/smsgw")
        self.assertNotIn("secret", repr(target))

    def test_refused(self) -> None:
        """Other schemes, an empty path, no database and a bad port are refused, saying why."""
        for text, words in (
            ("mysql://h/db", "expected sqlite:PATH"),
            ("sqlite:", "needs a file path"),
            ("postgresql://h", "DATABASE"),
            ("postgresql://h:x/db", "port"),
        ):
            with self.assertRaises(ValueError) as e:
                parse_store_url(text)
            self.assertIn(words, str(e.exception))

    def test_redis_url(self) -> None:
        """redis:// and rediss:// with a host pass; anything else is refused."""
        self.assertEqual(parse_redis_url("redis://127.0.0.1:6379/0"), "redis://127.0.0.1:6379/0")
        for bad in ("http://h", "redis://", "redis://h:p/0"):
            self.assertRaises(ValueError, parse_redis_url, bad)

    def test_default_node(self) -> None:
        """The default node name is the host name and the HTTP port (stable across restarts)."""
        self.assertTrue(default_node("tcp:8080:interface=127.0.0.1").endswith(":8080"))


class ConfigTablesTests(SynchronousTestCase):
    def test_store_url_and_cluster(self) -> None:
        """``[store] url`` and ``[cluster]`` are read; path and url together are refused."""
        config = parse_config(
            f'[store]\nurl = "{PG}"\n[cluster]\nredis = "redis://127.0.0.1:6379/0"\n'
            'node = "a"\nvisibility_timeout_s = 30\n'
        )
        self.assertEqual(store_target(config.store).kind, "postgresql")
        self.assertEqual(config.cluster.node, "a")
        self.assertEqual(config.cluster.visibility_timeout_s, 30.0)
        self.assertNotIn("6379", repr(config.cluster))
        with self.assertRaises(ConfigError) as e:
            parse_config(f'[store]\nurl = "{PG}"\npath = "x.db"\n')
        self.assertIn("store.url", str(e.exception))
        with self.assertRaises(ConfigError) as e:
            parse_config('[cluster]\nredis = "http://x"\n')
        self.assertIn("cluster.redis", str(e.exception))

    def test_default_is_the_sqlite_file(self) -> None:
        """With no url, the store is the SQLite file at ``[store] path``."""
        target = store_target(parse_config("").store)
        self.assertEqual((target.kind, target.location), ("sqlite", "smsgw.sqlite3"))


class WithClusterOptionsTests(SynchronousTestCase):
    def test_options_override_the_file(self) -> None:
        """--store, --redis and --node replace the file's values; --db means sqlite:PATH."""
        config = parse_config('[store]\npath = "file.db"\n')
        got = with_cluster_options(
            {"store": PG, "redis": "redis://127.0.0.1:1/0", "node": "n1"}, config
        )
        self.assertEqual(store_target(got.store).location, PG)
        self.assertEqual((got.cluster.redis, got.cluster.node), ("redis://127.0.0.1:1/0", "n1"))
        got = with_cluster_options({"db": "other.db"}, config)
        self.assertEqual(store_target(got.store).location, "other.db")

    def test_refusals(self) -> None:
        """Both --store and --db, a bad URL, and Redis beside an SQLite store are refused."""
        config = parse_config("")
        for options, words in (
            ({"store": PG, "db": "x.db"}, "give one of them"),
            ({"store": "ftp://x"}, "--store"),
            ({"store": PG, "redis": "x"}, "--redis"),
            ({"redis": "redis://127.0.0.1:1/0"}, "needs a store the nodes share"),
        ):
            with self.assertRaises(ValueError) as e:
                with_cluster_options(options, config)
            self.assertIn(words, str(e.exception))
