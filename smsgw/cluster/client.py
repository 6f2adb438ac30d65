"""Redis for Twisted: redis-py's blocking client run in a small thread pool of its own.

Every call runs in one of the pool's threads (:func:`deferToThreadPool`)
and its result fires on the reactor thread.  Lua scripts are registered
with redis-py's ``register_script``, which sends ``EVALSHA`` and, when the
server answers ``NOSCRIPT`` (a Redis restart flushed its script cache),
loads the script again and retries.

Why redis-py and not the Twisted-native txredisapi: redis-py is the
client Redis itself maintains (frequent releases, RESP3, current commands,
``Script`` objects that survive a flushed script cache); txredisapi is kept
by a few volunteers and lags the server's features.  The coordination
traffic is a few calls per channel every few tens of milliseconds, so a
pool of threads costs nothing that matters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.commands.core import Script
from redis.retry import Retry
from twisted.internet.defer import Deferred, DeferredList, fail
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

__all__ = ["RedisClient", "ScriptArg"]

T = TypeVar("T")

#: What a script takes as a key or an argument.
ScriptArg = str | bytes | int | float


class RedisClient:
    """One Redis server, called from the reactor thread, answered there.

    :param url: ``redis://host:port/db`` (redis-py's ``from_url`` syntax).
    :param reactor: runs the pool's results back on its thread; the pool is
        stopped when the reactor shuts down, if :meth:`close` was not called.
    :param threads: the most calls in flight at once.
    :param timeout_s: socket connect and read timeout of each call, in
        seconds: a call to an unreachable server fails within about that.
    """

    def __init__(self, url: str, reactor: Any, *, threads: int = 4, timeout_s: float = 2.0) -> None:
        self.reactor = reactor
        # One quick retry (no sleep): a pooled connection that a Redis restart
        # closed fails once and is replaced; more would only hold a thread.
        self.redis = redis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 1),
            max_connections=threads + 1,
        )
        self._pool = ThreadPool(minthreads=0, maxthreads=threads, name="smsgw-redis")
        self._pool.start()
        self._in_flight: set[Deferred[Any]] = set()
        self._closed = False
        self._trigger = reactor.addSystemEventTrigger("during", "shutdown", self._stop_pool)

    def script(self, lua: str) -> Script:
        """A Lua script, run by :meth:`run` (EVALSHA, reloaded after a flushed cache)."""
        return self.redis.register_script(lua)

    def call(self, f: Callable[..., T], *args: Any, **kwargs: Any) -> Deferred[T]:
        """Run the blocking ``f(*args, **kwargs)`` in the pool; fire with its result.

        :raises RuntimeError: (as a failed Deferred) once the client is closed.
        """
        if self._closed:
            return fail(RuntimeError("Redis client closed"))
        d: Deferred[T] = deferToThreadPool(self.reactor, self._pool, f, *args, **kwargs)
        self._in_flight.add(d)

        def done(result: object) -> object:
            self._in_flight.discard(d)
            return result

        d.addBoth(done)
        return d

    def run(
        self, script: Script, keys: Sequence[ScriptArg], args: Sequence[ScriptArg] = ()
    ) -> Deferred[Any]:
        """Run *script* with *keys* and *args* in the pool; fire with its reply."""
        return self.call(script, keys=list(keys), args=list(args))

    def close(self) -> Deferred[None]:
        """Wait for the calls in flight (each bounded by the timeout), then stop the pool."""
        self._closed = True
        pending = list(self._in_flight)

        def stop(_: object) -> None:
            if self._trigger is not None:
                self.reactor.removeSystemEventTrigger(self._trigger)
                self._trigger = None
            self._stop_pool()

        return DeferredList(pending, consumeErrors=True).addCallback(stop)

    def _stop_pool(self) -> None:
        if self._pool.started:
            self._pool.stop()
            self.redis.close()
