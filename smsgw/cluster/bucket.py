"""One TPS limit shared by every node: a token bucket in Redis, a small stash on each node.

The bucket itself is one Redis hash per channel, refilled and taken from
by one Lua script (:data:`TAKE_LUA`) on the server's clock
(``redis.call('TIME')``), so the nodes' clocks never matter.  Each node's
:class:`SharedBucket` keeps a few tokens it fetched in advance (a *chunk*,
about ``chunk_s`` seconds' worth) and refills that stash in the background,
so a SUBMIT never waits for a round trip to Redis; it has the synchronous
face of :class:`smsgw.ratelimit.TokenBucket` the channel uses.

Bound: over any span of ``t`` seconds all nodes together take at most
``rate * t + burst`` tokens from Redis; a stash holds at most one chunk and
its tokens expire ``stash_ttl_s`` after they came, so what the nodes spend
in a span is at most that plus one chunk per node.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

__all__ = ["TAKE_LUA", "Fetch", "SharedBucket"]

#: Take up to ARGV[3] whole tokens from the bucket KEYS[1] (rate ARGV[1]/s, capacity
#: ARGV[2]); reply ``{granted, seconds until the next token}``.  A missing bucket (new,
#: expired, or lost in a Redis restart) starts full.  Times are server microseconds.
TAKE_LUA = """
-- Redis 3.2 to 4 replicate a script whole, and then refuse a write after TIME.
if redis.replicate_commands then redis.replicate_commands() end
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000000)
  ts = now
end
local granted = math.min(want, math.floor(tokens + 1e-9))
if granted < 0 then granted = 0 end
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', string.format('%.9f', tokens),
           'ts', string.format('%.0f', ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 60000)
local wait = 0
if tokens < 1 then wait = (1 - tokens) / rate end
return {granted, string.format('%.6f', wait)}
"""

#: Asks the shared bucket for up to N tokens; fires with ``(granted, seconds until the next)``.
Fetch = Callable[[int], "Deferred[tuple[int, float]]"]

_EPSILON = 1e-9


class SharedBucket:
    """A node's face of a bucket shared through Redis: :class:`TokenBucket`'s methods.

    :meth:`try_take` and :meth:`delay_for` answer at once from the local
    stash and start a fetch when it runs low.  While the shared bucket cannot
    be reached nothing new is granted (the stash runs dry, SUBMITs wait) and a
    fetch is tried again every ``retry_s``; after a Redis restart the bucket
    starts full again.

    :param fetch: asks the shared bucket for tokens (see :data:`Fetch`).
    :param rate: tokens (messages) per second for all nodes together, > 0.
    :param burst: the shared bucket's capacity; ``None``: one second's worth, at least 1.
    :param clock: ``seconds()`` and ``callLater`` (the reactor, or a ``Clock``).
    :param name: the channel, for the log.
    :param chunk_s: a fetch asks for this many seconds' worth (at least 1 token,
        at most the burst).
    :param retry_s: wait before fetching again after a failed fetch.
    :param stash_ttl_s: fetched tokens not spent within this many seconds are dropped.
    :param poll_s: the least :meth:`delay_for` answers when tokens are missing.
    """

    log = Logger()

    def __init__(
        self,
        fetch: Fetch,
        rate: float,
        burst: float | None = None,
        *,
        clock: Any,
        name: str = "",
        chunk_s: float = 0.05,
        retry_s: float = 0.5,
        stash_ttl_s: float = 1.0,
        poll_s: float = 0.005,
    ) -> None:
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate must be a finite number > 0, got {rate!r}")
        if burst is None:
            burst = max(float(rate), 1.0)
        if not (math.isfinite(burst) and burst >= 1):
            raise ValueError(f"burst must be a finite number >= 1, got {burst!r}")
        self._fetch_tokens = fetch
        self._rate = float(rate)
        self._burst = float(burst)
        self.clock = clock
        self.name = name
        #: Tokens a fetch asks for at most (whole tokens: the script grants whole ones).
        self.chunk = max(1, min(int(burst), int(rate * chunk_s)))
        self.retry_s = retry_s
        self.stash_ttl_s = stash_ttl_s
        self.poll_s = poll_s
        self._stash = 0.0
        self._stash_until = 0.0
        #: No fetch before this time (the bucket was empty, or unreachable).
        self._next_fetch = 0.0
        self._fetching = False
        self._call: Any = None
        #: Whether the last fetch reached the shared bucket.
        self.reachable = True

    @property
    def rate(self) -> float:
        """Refill rate in tokens per second, for all nodes together."""
        return self._rate

    @property
    def burst(self) -> float:
        """The shared bucket's capacity in tokens."""
        return self._burst

    @property
    def tokens(self) -> float:
        """Tokens in this node's stash now."""
        self._expire()
        return self._stash

    def _check(self, n: float) -> None:
        if not (math.isfinite(n) and 0 < n <= self._burst):
            raise ValueError(f"n must be > 0 and at most the burst {self._burst!r}, got {n!r}")

    def _expire(self) -> None:
        if self._stash and self.clock.seconds() >= self._stash_until:
            self._stash = 0.0

    def try_take(self, n: float = 1.0) -> bool:
        """Take *n* tokens from the stash if they are there now; refill it in the background.

        :returns: ``True`` if taken, ``False`` (and nothing taken) otherwise.
        :raises ValueError: for *n* out of range (it could never succeed).
        """
        self._check(n)
        self._expire()
        if self._stash + _EPSILON < n:
            self._want()
            return False
        self._stash = max(0.0, self._stash - n)
        if self._stash < self.chunk / 2:
            self._want()
        return True

    def delay_for(self, n: float = 1.0) -> float:
        """Seconds to wait before asking again; 0 if *n* tokens can be taken now.

        Unlike a local bucket the answer is an estimate (other nodes take from
        the same bucket): after the delay, ask again.

        :raises ValueError: for *n* out of range (it could never succeed).
        """
        self._check(n)
        self._expire()
        if self._stash + _EPSILON >= n:
            return 0.0
        self._want()
        now: float = self.clock.seconds()
        return max(self.poll_s, self._next_fetch - now + self.poll_s)

    def stop(self) -> None:
        """Cancel a scheduled fetch (one in flight still lands in the stash)."""
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None

    # -- fetching ------------------------------------------------------------

    def _want(self) -> None:
        """Fetch now, or schedule a fetch for when the shared bucket should have tokens."""
        if self._fetching or (self._call is not None and self._call.active()):
            return
        left = self._next_fetch - self.clock.seconds()
        if left > 0:
            self._call = self.clock.callLater(left, self._fetch)
        else:
            self._fetch()

    def _fetch(self) -> None:
        self._call = None
        self._expire()
        want = max(1, self.chunk - math.floor(self._stash))
        self._fetching = True
        self._fetch_tokens(want).addCallbacks(self._fetched, self._failed)

    def _fetched(self, reply: tuple[int, float]) -> None:
        granted, wait_s = reply
        self._fetching = False
        now = self.clock.seconds()
        if not self.reachable:
            self.reachable = True
            self.log.info("{channel}: shared TPS bucket reachable again", channel=self.name)
        if granted > 0:
            self._stash += granted
            self._stash_until = now + self.stash_ttl_s
        # An empty bucket: not before the next token; a short grant: let others have a turn.
        if granted == 0:
            self._next_fetch = now + max(wait_s, self.poll_s)
        elif granted < self.chunk:
            self._next_fetch = now + max(wait_s, self.chunk / self._rate / 2)
        else:
            self._next_fetch = now

    def _failed(self, f: Failure) -> None:
        self._fetching = False
        self._next_fetch = self.clock.seconds() + self.retry_s
        if self.reachable:
            self.reachable = False
            self.log.warn(
                "{channel}: shared TPS bucket unreachable, sending paused: {why}",
                channel=self.name,
                why=f.getErrorMessage(),
            )
