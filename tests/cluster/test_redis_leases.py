"""Session caps across nodes on a real Redis: two nodes' channels to one simulator."""

from __future__ import annotations

from typing import Any

import redis
from twisted.internet import reactor
from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.task import LoopingCall, deferLater

from smsgw.cluster import Coordinator, SharedBucket
from smsgw.config import parse_upstream_url
from smsgw.protocols.session import State
from smsgw.sp.channel import Channel
from tests.cluster.redisbase import RedisTestCase
from tests.sp.test_channel import SECRET, SP_ID, SRC, LiveSimulator, submit_pdu, wait_until, within

#: The key of the channel's first slot (the channel is named after its account).
SLOT_0 = f"smsgw:{{{SP_ID}}}:links:0"


def open_links(live: LiveSimulator) -> int:
    """The simulator's connections still open, logged in or not."""
    return sum(1 for s in live.sessions if s.state is not State.CLOSED)


class SessionCapTests(RedisTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.live = LiveSimulator(self)
        #: The most connections the simulator had open at once, sampled every 5 ms.
        self.most = 0

        def sample() -> None:
            self.most = max(self.most, open_links(self.live))

        watch = LoopingCall(sample)
        watch.start(0.005)
        self.addCleanup(watch.stop)

    def channel(self, coordinator: Coordinator, sessions: int, query: str = "") -> Channel:
        """A started channel of node *coordinator* with *sessions* links wanted."""
        url = parse_upstream_url(
            f"cmpp://{SP_ID}:{SECRET}@127.0.0.1:{self.live.port_number}"
            f"?src_id={SRC}&response_timeout_s=2&keepalive_s=30&sessions={sessions}{query}"
        )
        channel = Channel(url, reactor, coordinator=coordinator)
        channel.startService()

        async def stop() -> None:
            if channel.running:
                await within(channel.stopService())

        self.addCleanup(stop)
        return channel

    async def test_cap_held_across_nodes_and_freed_slot_taken(self) -> None:
        """Two nodes wanting 2 links each under a cap of 2: 2 in all; a freed slot goes over."""
        a = self.channel(self.node("a", lease_poll_s=0.05), 2)
        await wait_until(lambda: len(a.sessions) == 2, "node a's two links")
        b = self.channel(self.node("b", lease_poll_s=0.05), 2)
        await deferLater(reactor, 0.5, lambda: None)
        self.assertEqual((len(a.sessions), len(b.sessions)), (2, 0))
        await within(a.stopService())
        await wait_until(lambda: len(b.sessions) == 2, "node b to take both slots")
        self.assertEqual(self.most, 2)

    async def test_slots_spread_over_the_nodes(self) -> None:
        """A node holding both slots gives one back when a second node wants links: one each,
        never more than 2 open; when the second stops, the first takes both again."""
        a = self.channel(self.node("a", lease_ttl_s=0.6, lease_poll_s=0.05), 2)
        await wait_until(lambda: len(a.sessions) == 2, "node a's two links")
        b = self.channel(self.node("b", lease_ttl_s=0.6, lease_poll_s=0.05), 2)
        await wait_until(lambda: len(b.sessions) == 1, "node b's share")
        await deferLater(reactor, 0.5, lambda: None)
        self.assertEqual((len(a.sessions), len(b.sessions)), (1, 1))
        await within(b.stopService())
        await wait_until(lambda: len(a.sessions) == 2, "node a to take the freed slot")
        self.assertEqual(self.most, 2)

    async def test_lease_lost_at_renewal_drops_link(self) -> None:
        """A slot found held by another node at renewal drops that link, which waits again."""
        a = self.channel(self.node("a", lease_ttl_s=0.6, lease_poll_s=0.05), 1)
        await wait_until(lambda: len(a.sessions) == 1, "node a's link")
        [session] = a.sessions
        client = redis.Redis.from_url(self.server.url)
        self.addCleanup(client.close)
        # Another node took the slot (as after an expiry): a's renewal finds it.
        client.set(SLOT_0, b"other/1", px=2000)
        await wait_until(lambda: session.state is State.CLOSED, "the link to be dropped")
        await deferLater(reactor, 0.3, lambda: None)
        self.assertEqual(a.sessions, [])
        client.delete(SLOT_0)
        await wait_until(lambda: len(a.sessions) == 1, "the link back once the slot is free")
        self.assertEqual(self.most, 1)

    async def test_stop_while_waiting_for_a_slot(self) -> None:
        """A channel waiting for a slot stops at once and leaves no slot taken."""
        a = self.channel(self.node("a", lease_poll_s=0.05), 1)
        await wait_until(lambda: len(a.sessions) == 1, "node a's link")
        b = self.channel(self.node("b", lease_poll_s=0.05), 1)
        await deferLater(reactor, 0.2, lambda: None)
        await within(b.stopService(), 2.0)
        client = redis.Redis.from_url(self.server.url)
        self.addCleanup(client.close)
        holder: Any = client.get(SLOT_0)
        self.assertTrue(holder.startswith(b"a/"))

    async def test_channel_sends_within_shared_tps(self) -> None:
        """A channel with a coordinator takes its TPS from the shared bucket and still sends."""
        a = self.channel(self.node("a"), 1, "&tps=50")
        self.assertIsInstance(a.bucket, SharedBucket)
        await within(a.session())
        started = reactor.seconds()
        sends = [Deferred.fromCoroutine(a.submit(submit_pdu())) for _ in range(75)]
        results = await within(DeferredList(sends, fireOnOneErrback=True))
        # The burst (50) at once, then 25 more at 50/s.
        self.assertGreaterEqual(reactor.seconds() - started, 0.4)
        self.assertEqual({r.result for _, r in results}, {0})
        self.assertEqual(len(self.live.sim.submits()), 75)


class GraceTests(RedisTestCase):
    async def test_lost_keys_kept_for_their_holders(self) -> None:
        """Keys lost (a restart): a waiting node gets nothing, the holder re-creates its slot."""
        a = self.node("a", lease_ttl_s=0.9).leases("ch", 1)
        b = self.node("b", lease_ttl_s=0.9, lease_poll_s=0.05).leases("ch", 1)
        lease = await within(a.acquire())
        waiting = b.acquire()
        self.addCleanup(waiting.cancel)
        await deferLater(reactor, 0.1, lambda: None)
        self.assertEqual(b.waiting, 1)
        client = redis.Redis.from_url(self.server.url)
        self.addCleanup(client.close)
        client.flushall()
        # b tries every 50 ms; a renews every 300 ms: b comes first, and must be refused.
        await deferLater(reactor, 1.2, lambda: None)
        self.assertEqual(a.held, [lease])
        self.assertEqual(client.get(lease.key), lease.holder.encode())
        self.assertNoResult(waiting)
        await within(a.release(lease))
        got = await within(waiting)
        self.assertEqual(got.slot, 0)
        await b.release(got)
