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
        rate, burst, span_s = 300.0, 15.0, 3.0
        a = self.node("a").bucket("ch", rate, burst)
        b = self.node("b").bucket("ch", rate, burst)
        end = reactor.seconds() + span_s
        runs = [Deferred.fromCoroutine(take_until(bucket, end)) for bucket in (a, b)]
        got_a, got_b = [await d for d in runs]
        total = got_a + got_b
        self.assertLessEqual(total, rate * span_s + burst)
        self.assertGreaterEqual(total, 0.95 * rate * span_s)
        self.assertGreater(min(got_a, got_b), total * 0.1)
