"""The object several SP nodes coordinate through: shared TPS buckets and session leases.

One :class:`Coordinator` per node (process), on one Redis server.  A channel
asks it for its :class:`~smsgw.cluster.bucket.SharedBucket` and its
:class:`~smsgw.cluster.leases.Leases`; every key is under
``smsgw:{CHANNEL}:`` (the braces are a Redis Cluster hash tag: a channel's
keys live in one slot, as its multi-key scripts need).
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, DeferredList

from smsgw.cluster.bucket import TAKE_LUA, SharedBucket
from smsgw.cluster.client import RedisClient
from smsgw.cluster.leases import ACQUIRE_LUA, LEAVE_LUA, RELEASE_LUA, RENEW_LUA, Leases

__all__ = ["Coordinator"]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class Coordinator:
    """This node's link to the shared state in Redis.

    :param url: ``redis://host:port/db``.
    :param reactor: the reactor (time, threads).
    :param node: this node's name, unique among the nodes (in the slots' values, the log).
    :param lease_ttl_s: a session slot's time to live; renewed every third of it.
    :param lease_poll_s: while a channel's slots are all taken, try again this often.
    :param chunk_s: a bucket's node fetches this many seconds' worth of tokens at a time.
    :param retry_s: after a failed fetch, a bucket tries again after this.
    :param timeout_s: connect and read timeout of one Redis call.
    :param threads: Redis calls in flight at once.
    """

    def __init__(
        self,
        url: str,
        reactor: Any,
        node: str,
        *,
        lease_ttl_s: float = 10.0,
        lease_poll_s: float = 0.5,
        chunk_s: float = 0.05,
        retry_s: float = 0.5,
        timeout_s: float = 2.0,
        threads: int = 4,
    ) -> None:
        self.url = url
        self.reactor = reactor
        self.node = node
        self.lease_ttl_s = lease_ttl_s
        self.lease_poll_s = lease_poll_s
        self.chunk_s = chunk_s
        self.retry_s = retry_s
        self.client = RedisClient(url, reactor, threads=threads, timeout_s=timeout_s)
        self._scripts = {
            "take": self.client.script(TAKE_LUA),
            "acquire": self.client.script(ACQUIRE_LUA),
            "renew": self.client.script(RENEW_LUA),
            "release": self.client.script(RELEASE_LUA),
            "leave": self.client.script(LEAVE_LUA),
        }
        self._buckets: dict[str, SharedBucket] = {}
        self._leases: dict[tuple[str, str], Leases] = {}

    def _run(self, script: str, keys: list[str], args: list[str]) -> Deferred[Any]:
        return self.client.run(self._scripts[script], keys, args)

    def bucket(self, channel: str, rate: float, burst: float | None = None) -> SharedBucket:
        """The TPS limit *rate* of *channel*, shared by every node (one per channel).

        Every node must give the same *rate* and *burst*: each call to the
        script refills the bucket with what its caller says.
        """
        if channel in self._buckets:
            return self._buckets[channel]
        key = f"smsgw:{{{channel}}}:bucket"
        rate_arg, burst_arg = repr(float(rate)), repr(float(burst or max(rate, 1.0)))

        def fetch(want: int) -> Deferred[tuple[int, float]]:
            d = self._run("take", [key], [rate_arg, burst_arg, str(want)])
            return d.addCallback(lambda reply: (int(reply[0]), float(_text(reply[1]))))

        bucket = SharedBucket(fetch, rate, burst, clock=self.reactor, name=channel,
                              chunk_s=self.chunk_s, retry_s=self.retry_s)  # fmt: skip
        self._buckets[channel] = bucket
        return bucket

    def leases(self, channel: str, slots: int, pool: str = "links") -> Leases:
        """*slots* session slots of *channel*'s *pool* of links, across every node."""
        found = self._leases.get((channel, pool))
        if found is not None:
            return found
        leases = Leases(self._run, channel, slots, self.node, clock=self.reactor, pool=pool,
                        ttl_s=self.lease_ttl_s, poll_s=self.lease_poll_s)  # fmt: skip
        self._leases[(channel, pool)] = leases
        return leases

    def close(self) -> Deferred[None]:
        """Stop fetching and renewing, give back the slots still held, close the client.

        Close the channels first: their links' ends release their slots.
        """
        for bucket in self._buckets.values():
            bucket.stop()
        releases: list[Deferred[None]] = []
        for leases in self._leases.values():
            leases.stop()
            releases.extend(leases.release(lease) for lease in list(leases.held))
        d = DeferredList(releases, consumeErrors=True)
        d.addCallback(lambda _: self.client.close())
        return d  # type: ignore[return-value]
