"""A Redis restart under running nodes: sending pauses and resumes, session slots are kept."""

from __future__ import annotations

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import LoopingCall, deferLater
from twisted.internet.threads import deferToThread

from smsgw.cluster import SharedBucket
from smsgw.config import parse_upstream_url
from smsgw.protocols.session import State
from smsgw.sp.channel import Channel
from tests.cluster.redisbase import RedisTestCase
from tests.sp.test_channel import SECRET, SP_ID, SRC, LiveSimulator, wait_until, within


async def take_times(bucket: SharedBucket, end: float, times: list[float]) -> None:
    """Take tokens as they come until reactor time *end*, noting when each was taken."""
    while reactor.seconds() < end:
        while bucket.try_take(1.0):
            times.append(reactor.seconds())
        await deferLater(reactor, min(bucket.delay_for(1.0), 0.05), lambda: None)


class RestartTests(RedisTestCase):
    async def test_restart_pauses_then_resumes_and_keeps_slots(self) -> None:
        """Redis down 1 s: takes stop then resume, the slot's holder keeps its link, cap held."""
        options = dict(lease_ttl_s=3.0, lease_poll_s=0.05, retry_s=0.1, timeout_s=0.5)
        node_a, node_b = self.node("a", **options), self.node("b", **options)
        live = LiveSimulator(self)
        most = [0]

        def sample() -> None:
            most[0] = max(most[0], sum(1 for s in live.sessions if s.state is not State.CLOSED))

        watch = LoopingCall(sample)
        watch.start(0.005)
        self.addCleanup(watch.stop)
        url = parse_upstream_url(
            f"cmpp://{SP_ID}:{SECRET}@127.0.0.1:{live.port_number}"
            f"?src_id={SRC}&response_timeout_s=2&keepalive_s=30&sessions=1"
        )
        a, b = [Channel(url, reactor, coordinator=node) for node in (node_a, node_b)]
        for channel in (a, b):
            self.addCleanup(lambda c=channel: within(c.stopService()) if c.running else None)
        a.startService()
        await wait_until(lambda: len(a.sessions) == 1, "node a's link")
        [link] = a.sessions
        b.startService()

        bucket = node_a.bucket("tps", 200.0, 10.0)
        times: list[float] = []
        taking = Deferred.fromCoroutine(take_times(bucket, reactor.seconds() + 3.3, times))
        await deferLater(reactor, 0.4, lambda: None)
        down_at = reactor.seconds()
        await deferToThread(self.server.restart, 1.0)
        up_at = reactor.seconds()
        await taking

        self.assertGreater(len([t for t in times if t < down_at]), 40)
        # Down: the stash is spent at once, and nothing new is granted.
        self.assertEqual([t for t in times if down_at + 0.5 < t < up_at - 0.15], [])
        self.assertGreater(len([t for t in times if t > up_at]), 100)
        self.assertTrue(bucket.reachable)
        # The slot's holder kept its link through the restart; b never got in.
        self.assertEqual(a.sessions, [link])
        self.assertIs(link.state, State.BOUND)
        self.assertEqual(b.sessions, [])
        self.assertEqual(most[0], 1)
