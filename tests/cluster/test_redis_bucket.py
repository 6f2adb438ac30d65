"""Shared TPS buckets on a real Redis: two nodes together keep one limit."""

from __future__ import annotations

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater

from smsgw.cluster import SharedBucket
from tests.cluster.redisbase import RedisTestCase


async def take_until(bucket: SharedBucket, end: float) -> int:
    """Take tokens as fast as *bucket* grants them until reactor time *end*; how many."""
    taken = 0
    while reactor.seconds() < end:
        while bucket.try_take(1.0):
            taken += 1
        wait = bucket.delay_for(1.0)
        if wait > 0:
            await deferLater(reactor, min(wait, max(0.0, end - reactor.seconds())), lambda: None)
    return taken


class SharedBucketTests(RedisTestCase):
    async def test_two_nodes_share_one_rate(self) -> None:
        """Two nodes taking flat out for 3 s get 300/s together (within 5 %), each a share."""
        # A burst of 0.1 s: a node the loaded test machine stalls that long loses nothing.
        rate, burst, span_s = 300.0, 30.0, 3.0
        a = self.node("a").bucket("ch", rate, burst)
        b = self.node("b").bucket("ch", rate, burst)
        end = reactor.seconds() + span_s
        runs = [Deferred.fromCoroutine(take_until(bucket, end)) for bucket in (a, b)]
        got_a, got_b = [await d for d in runs]
        total = got_a + got_b
        self.assertLessEqual(total, rate * span_s + burst)
        self.assertLess(abs(total / span_s - rate), 0.05 * rate)
        self.assertGreater(min(got_a, got_b), total * 0.1)

    async def test_server_clock_and_burst(self) -> None:
        """A new bucket grants its burst at once, then what the server's clock refilled."""
        node = self.node("a")
        fetch = node.bucket("ch", 100.0, 10.0)._fetch_tokens
        granted, wait_s = await fetch(50)
        self.assertEqual((granted, wait_s), (10, 0.01))
        granted, wait_s = await fetch(50)
        self.assertLessEqual(granted, 1)
        await deferLater(reactor, 0.2, lambda: None)
        granted, _ = await fetch(50)
        self.assertTrue(10 <= granted <= 12, granted)

    async def test_flushed_script_cache_reloaded(self) -> None:
        """After SCRIPT FLUSH (as after a restart) the script is loaded again and answers."""
        node = self.node("a")
        fetch = node.bucket("ch", 100.0, 10.0)._fetch_tokens
        await fetch(1)
        node.client.redis.script_flush()
        granted, _ = await fetch(1)
        self.assertEqual(granted, 1)
