"""Session caps across nodes: N slots per channel in Redis, one per open link.

A slot is a Redis key ``smsgw:{channel}:POOL:I`` (``I`` in ``0..N-1``) set
with ``NX`` and a TTL, holding the node's name and a token of the link.  A
node connects a link only while it holds a slot (:meth:`Leases.endpoint`
wraps the link's endpoint), renews its slots every ``renew_s``
(compare-and-renew, :data:`RENEW_LUA`) and deletes a slot when its link
closes (compare-and-delete, :data:`RELEASE_LUA`).  A slot another node now
holds, or one this node could not renew for a whole TTL (Redis out of
reach: the key may have expired and been taken), is lost, and its link is
dropped.

The slots are shared fairly: each script marks its node alive in the pool's
``nodes`` sorted set (server time; a node not heard of for a TTL is dropped)
and a node takes no more than ``ceil(N / nodes alive)``.  When a node joins,
the others find themselves over their share at their next renewal and give
their newest slots back (closing those links), so N links end up spread over
the nodes that want them, and a node that dies leaves its share to the others.

A Redis restart loses every slot.  The holders re-create theirs at their
next renewal; so that a waiting node does not take them first, the first
script to find the pool's marker key gone opens a grace period of one TTL
in which slots are only renewed, not acquired.  (A node that had never
reached this Redis before cannot tell a restart from a first start, and does
not open the grace period.)
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import attrs
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

__all__ = [
    "ACQUIRE_LUA",
    "LEAVE_LUA",
    "RELEASE_LUA",
    "RENEW_LUA",
    "Lease",
    "Leases",
    "ScriptRunner",
]

#: The part of both scripts that counts the nodes: ``live_share(nodes key, node, ttl ms,
#: N)`` marks *node* alive (a sorted set scored by server time, entries older than a TTL
#: dropped) and answers its fair share of the N slots, ``ceil(N / nodes alive)``.
_SHARE_LUA = """
if redis.replicate_commands then redis.replicate_commands() end
local function live_share(nodes, node, ttl, n)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZADD', nodes, now, node)
  redis.call('ZREMRANGEBYSCORE', nodes, '-inf', now - ttl)
  redis.call('PEXPIRE', nodes, 2 * ttl)
  return math.ceil(n / math.max(1, redis.call('ZCARD', nodes)))
end
"""

#: KEYS: marker, grace, nodes, slot 0..N-1; ARGV: holder, ttl ms, "1" if this node knew
#: the marker, node.  Reply: the slot taken, -1 when all are held, -2 in a grace period
#: after a restart, -3 when this node holds its share already.
ACQUIRE_LUA = (
    _SHARE_LUA
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SET', KEYS[1], '1')
  if ARGV[3] == '1' then redis.call('SET', KEYS[2], '1', 'PX', ARGV[2]) end
end
local share = live_share(KEYS[3], ARGV[4], tonumber(ARGV[2]), #KEYS - 3)
if redis.call('EXISTS', KEYS[2]) == 1 then return -2 end
local mine = ARGV[4] .. '/'
local held = 0
for i = 4, #KEYS do
  local holder = redis.call('GET', KEYS[i])
  if holder and string.sub(holder, 1, #mine) == mine then held = held + 1 end
end
if held >= share then return -3 end
for i = 4, #KEYS do
  if redis.call('SET', KEYS[i], ARGV[1], 'NX', 'PX', ARGV[2]) then return i - 4 end
end
return -1
"""
)

#: KEYS: marker, grace, nodes, the slots held; ARGV: ttl ms, node, N, then each slot's
#: holder.  Reply: per slot 1 (renewed, or re-created after a restart) or 0 (another
#: holds it), then how many of the renewed ones are over this node's share.
RENEW_LUA = (
    _SHARE_LUA
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SET', KEYS[1], '1')
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
end
local share = live_share(KEYS[3], ARGV[2], tonumber(ARGV[1]), tonumber(ARGV[3]))
local out = {}
local kept = 0
for i = 4, #KEYS do
  local holder = ARGV[i]
  local now = redis.call('GET', KEYS[i])
  if now == holder then
    redis.call('PEXPIRE', KEYS[i], ARGV[1])
    out[#out + 1] = 1
    kept = kept + 1
  elseif not now then
    redis.call('SET', KEYS[i], holder, 'PX', ARGV[1])
    out[#out + 1] = 1
    kept = kept + 1
  else
    out[#out + 1] = 0
  end
end
out[#out + 1] = math.max(0, kept - share)
return out
"""
)

#: KEYS[1]: the pool's nodes; ARGV[1]: this node, which wants no link of the pool now.
LEAVE_LUA = """
return redis.call('ZREM', KEYS[1], ARGV[1])
"""

#: KEYS[1]: a slot; ARGV[1]: its holder.  Deletes the slot only if still held by it.
RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

#: Runs one of the scripts above by name (``acquire``, ``renew``, ``release``) with keys and args.
ScriptRunner = Callable[[str, list[str], list[str]], "Deferred[Any]"]


@attrs.define(eq=False)
class Lease:
    """One slot held by this node for one link.

    :ivar slot: the slot's number, ``0..N-1``.
    :ivar holder: the value of the slot's key: ``node/token``.
    :ivar confirmed: clock time at which the last successful renewal (or the
        acquisition) was sent: the key lives at least until this plus the TTL.
    """

    slot: int
    key: str
    holder: str
    confirmed: float
    released: bool = False
    _on_lost: list[Callable[[], object]] = attrs.field(factory=list)

    def when_lost(self, f: Callable[[], object]) -> None:
        """Call *f* if the lease is lost (not when it is released)."""
        self._on_lost.append(f)


class Leases:
    """The N slots of one channel's pool of links, seen from one node.

    :param run: runs a script (see :data:`ScriptRunner`).
    :param channel: the channel's name (in the keys and the log).
    :param slots: N, the links all nodes together may open.
    :param node: this node's name (in the keys' values and the log).
    :param clock: ``seconds()`` and ``callLater`` (the reactor, or a ``Clock``).
    :param pool: which links: ``links`` (the channel's), ``receivers`` (SMPP bind_receiver).
    :param ttl_s: a slot's time to live without renewal.
    :param renew_s: renewal period; ``None``: a third of the TTL.
    :param poll_s: while every slot is taken, try again this often.
    """

    log = Logger()

    def __init__(
        self,
        run: ScriptRunner,
        channel: str,
        slots: int,
        node: str,
        *,
        clock: Any,
        pool: str = "links",
        ttl_s: float = 10.0,
        renew_s: float | None = None,
        poll_s: float = 0.5,
    ) -> None:
        if slots < 1:
            raise ValueError(f"slots must be at least 1, got {slots!r}")
        self._run = run
        self.channel = channel
        self.slots = slots
        self.node = node
        self.clock = clock
        self.pool = pool
        self.ttl_s = ttl_s
        self.renew_s = ttl_s / 3 if renew_s is None else renew_s
        self.poll_s = poll_s
        prefix = f"smsgw:{{{channel}}}:{pool}"
        self._marker = f"{prefix}:up"
        self._grace = f"{prefix}:grace"
        self._nodes = f"{prefix}:nodes"
        self._keys = [f"{prefix}:{i}" for i in range(slots)]
        #: Whether a script of this pool has reached this Redis (see the module's doc).
        self._known = False
        self.held: list[Lease] = []
        #: Links waiting for a slot now.
        self.waiting = 0
        self._waiting_why = ""
        self._renewal = LoopingCall(self._renew)
        self._renewal.clock = clock
        self._renewing = False

    @property
    def _ttl_ms(self) -> str:
        return str(max(1, round(self.ttl_s * 1000)))

    # -- acquiring -----------------------------------------------------------

    def acquire(self) -> Deferred[Lease]:
        """A slot, when one is free: tries every ``poll_s`` until then; cancellable.

        Never fails but by cancellation: an unreachable Redis is tried again
        like a full pool.
        """
        state: dict[str, Any] = {"call": None, "cancelled": False, "waiting": False}

        def cancel(_: Deferred[Lease]) -> None:
            state["cancelled"] = True
            if state["waiting"]:
                self.waiting -= 1
            if state["call"] is not None and state["call"].active():
                state["call"].cancel()
            self._maybe_leave()

        result: Deferred[Lease] = Deferred(cancel)

        def attempt() -> None:
            state["call"] = None
            sent = self.clock.seconds()
            holder = f"{self.node}/{secrets.token_hex(4)}"
            known = "1" if self._known else "0"
            d = self._run("acquire", [self._marker, self._grace, self._nodes, *self._keys],
                          [holder, self._ttl_ms, known, self.node])  # fmt: skip
            d.addCallbacks(lambda reply: answered(int(reply), holder, sent), failed)

        def answered(slot: int, holder: str, sent: float) -> None:
            self._known = True
            if slot >= 0:
                lease = Lease(slot, self._keys[slot], holder, sent)
                if state["cancelled"]:
                    self._release_key(lease)
                    return
                self.held.append(lease)
                if not self._renewal.running:
                    self._renewal.start(self.renew_s, now=False)
                if state["waiting"]:
                    self.waiting -= 1
                    self.log.info("{channel}: node {node} got {pool} slot {slot} of {slots}",
                                  channel=self.channel, node=self.node, pool=self.pool,
                                  slot=slot, slots=self.slots)  # fmt: skip
                result.callback(lease)
                return
            wait(
                {-2: "a Redis restart's grace period", -3: "it holds its share already"}.get(
                    slot, f"all {self.slots} taken"
                )
            )

        def failed(f: Failure) -> None:
            wait(f"Redis: {f.getErrorMessage()}")

        def wait(why: str) -> None:
            if not state["waiting"]:
                state["waiting"] = True
                self.waiting += 1
                if self.waiting == 1 or why != self._waiting_why:
                    self.log.info("{channel}: node {node} waits for a slot of its {pool} ({why})",
                                  channel=self.channel, node=self.node, pool=self.pool,
                                  why=why)  # fmt: skip
            self._waiting_why = why
            if not state["cancelled"]:
                state["call"] = self.clock.callLater(self.poll_s, attempt)

        attempt()
        return result

    # -- holding -------------------------------------------------------------

    def _renew(self) -> Deferred[None] | None:
        if self._renewing or not self.held:
            if not self.held and self._renewal.running:
                self._renewal.stop()
            return None
        self._renewing = True
        leases = list(self.held)
        sent = self.clock.seconds()
        keys = [self._marker, self._grace, self._nodes, *(lease.key for lease in leases)]
        d = self._run("renew", keys, [self._ttl_ms, self.node, str(self.slots),
                                      *(lease.holder for lease in leases)])  # fmt: skip

        def renewed(reply: list[Any]) -> None:
            self._known = True
            *answers, over = reply
            for lease, ok in zip(leases, answers, strict=True):
                if int(ok):
                    lease.confirmed = sent
                else:
                    self._lose(lease, "another node holds it")
            # More nodes than when these were taken: give the newest back, one
            # renewal at a time, so that every node gets its share.
            for lease in list(reversed(self.held))[: int(over)]:
                self._lose(lease, "over this node's share now that more nodes want links")
                self._release_key(lease)

        def failed(f: Failure) -> None:
            for lease in leases:
                if self.clock.seconds() - lease.confirmed >= self.ttl_s:
                    self._lose(lease, f"not renewed for {self.ttl_s} s: {f.getErrorMessage()}")

        def done(_: object) -> None:
            self._renewing = False

        d.addCallbacks(renewed, failed).addBoth(done)
        return None  # the LoopingCall goes on whatever this renewal does

    def _lose(self, lease: Lease, why: str) -> None:
        if lease.released or lease not in self.held:
            return
        self.held.remove(lease)
        lease.released = True
        self.log.warn("{channel}: node {node} lost {pool} slot {slot} ({why}); dropping its link",
                      channel=self.channel, node=self.node, pool=self.pool, slot=lease.slot,
                      why=why)  # fmt: skip
        for f in lease._on_lost:
            f()

    def release(self, lease: Lease) -> Deferred[None]:
        """Give the slot back (compare-and-delete); fires once Redis answered or failed.

        A release Redis does not get leaves the key to expire after its TTL.
        """
        if lease.released:
            return succeed(None)
        lease.released = True
        if lease in self.held:
            self.held.remove(lease)
        d = self._release_key(lease)
        self._maybe_leave()
        return d

    def _maybe_leave(self) -> None:
        """Holding no slot and waiting for none: no longer count in the pool's fair share."""
        if self.held or self.waiting:
            return

        def failed(f: Failure) -> None:
            self.log.info("{channel}: node {node} not taken off the {pool}' nodes ({why}); "
                          "it ages out", channel=self.channel, node=self.node, pool=self.pool,
                          why=f.getErrorMessage())  # fmt: skip

        self._run("leave", [self._nodes], [self.node]).addErrback(failed)

    def _release_key(self, lease: Lease) -> Deferred[None]:
        def failed(f: Failure) -> None:
            self.log.warn("{channel}: {pool} slot {slot} not released ({why}); it expires",
                          channel=self.channel, pool=self.pool, slot=lease.slot,
                          why=f.getErrorMessage())  # fmt: skip

        d = self._run("release", [lease.key], [lease.holder])
        return d.addCallbacks(lambda _: None, failed)

    def stop(self) -> None:
        """Stop renewing (the slots still held then expire after their TTL)."""
        if self._renewal.running:
            self._renewal.stop()
        self._maybe_leave()

    # -- links ---------------------------------------------------------------

    def endpoint(self, inner: IStreamClientEndpoint) -> IStreamClientEndpoint:
        """*inner*, connecting only once a slot is held (see :class:`LeasedEndpoint`)."""
        return LeasedEndpoint(inner, self)


@implementer(IStreamClientEndpoint)
class LeasedEndpoint:
    """An endpoint whose ``connect`` first waits for a slot, and holds it while connected.

    The protocol must have ``when_closed() -> Deferred`` (a
    :class:`~smsgw.protocols.session.Session` does): the slot is released when
    it fires.  A lost slot aborts the connection.  Cancelling ``connect``
    (``ClientService`` stopping) gives up the wait, or the slot.
    """

    def __init__(self, inner: IStreamClientEndpoint, leases: Leases) -> None:
        self.inner = inner
        self.leases = leases

    def __repr__(self) -> str:
        return f"<{self.inner!r} with a slot of {self.leases.channel}'s {self.leases.pool}>"

    def connect(self, factory: Any) -> Deferred[Any]:
        return Deferred.fromCoroutine(self._connect(factory))

    async def _connect(self, factory: Any) -> Any:
        lease = await self.leases.acquire()
        try:
            proto: Any = await self.inner.connect(factory)
        except BaseException:
            self.leases.release(lease)
            raise

        def drop() -> None:
            transport = proto.transport
            if transport is not None:
                abort = getattr(transport, "abortConnection", None)
                (abort or transport.loseConnection)()

        lease.when_lost(drop)
        closed: Deferred[None] = proto.when_closed()
        closed.addBoth(lambda _: self.leases.release(lease))
        return proto
