"""Leases' node side on a Clock: waiting, cancelling, renewing, losing (no Redis here)."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from smsgw.cluster.leases import Lease, Leases


class Scripts:
    """The script calls made, each a Deferred the test answers."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str], list[str], Deferred[Any]]] = []

    def __call__(self, name: str, keys: list[str], args: list[str]) -> Deferred[Any]:
        d: Deferred[Any] = Deferred()
        self.calls.append((name, keys, args, d))
        return d

    def names(self) -> list[str]:
        return [name for name, *_ in self.calls]

    def answer(self, reply: Any) -> None:
        self.calls[-1][3].callback(reply)


class LeasesTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.scripts = Scripts()
        self.leases = Leases(self.scripts, "ch", 2, "n1", clock=self.clock, ttl_s=3.0, poll_s=0.5)

    def acquired(self) -> Lease:
        d = self.leases.acquire()
        self.scripts.answer(1)
        lease: Lease = self.successResultOf(d)
        return lease

    def test_keys_and_holder(self) -> None:
        """Acquire names the channel's slot keys (hash-tagged) and a holder of this node."""
        lease = self.acquired()
        name, keys, args, _ = self.scripts.calls[0]
        self.assertEqual(name, "acquire")
        self.assertEqual(keys, ["smsgw:{ch}:links:up", "smsgw:{ch}:links:grace",
                                "smsgw:{ch}:links:nodes", "smsgw:{ch}:links:0",
                                "smsgw:{ch}:links:1"])  # fmt: skip
        self.assertEqual(args[1:], ["3000", "0", "n1"])
        self.assertTrue(lease.holder.startswith("n1/"))
        self.assertEqual((lease.slot, lease.key), (1, "smsgw:{ch}:links:1"))
        self.assertEqual(self.leases.held, [lease])

    def test_waits_while_all_taken(self) -> None:
        """All slots taken: tried again every poll_s; fires once one is free."""
        d = self.leases.acquire()
        self.scripts.answer(-1)
        self.assertNoResult(d)
        self.assertEqual(self.leases.waiting, 1)
        self.clock.advance(0.5)
        self.assertEqual(self.scripts.names(), ["acquire", "acquire"])
        self.assertEqual(self.scripts.calls[1][2][2], "1")  # it knows this Redis now
        self.scripts.answer(0)
        self.assertEqual(self.successResultOf(d).slot, 0)
        self.assertEqual(self.leases.waiting, 0)

    def test_unreachable_is_waited_out(self) -> None:
        """A failed acquire is tried again like a full pool, never failed."""
        d = self.leases.acquire()
        self.scripts.calls[-1][3].errback(ConnectionError("refused"))
        self.assertNoResult(d)
        self.clock.advance(0.5)
        self.scripts.answer(0)
        self.successResultOf(d)

    def test_cancel_while_waiting(self) -> None:
        """Cancelled while waiting: no more attempts; a slot that comes after is given back."""
        d = self.leases.acquire()
        self.scripts.answer(-1)
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.clock.advance(5)
        # Wanting no link now, the node leaves the pool's fair share.
        self.assertEqual(self.scripts.names(), ["acquire", "leave"])
        d = self.leases.acquire()
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.scripts.calls[2][3].callback(0)
        self.assertEqual(self.scripts.names(), ["acquire", "leave", "acquire", "leave", "release"])
        self.assertEqual((self.leases.held, self.leases.waiting), ([], 0))

    def test_renewed_every_third_of_ttl(self) -> None:
        """Held slots are renewed together every ttl/3; a confirmed renewal moves `confirmed`."""
        lease = self.acquired()
        self.clock.advance(1.0)
        name, keys, args, _ = self.scripts.calls[-1]
        self.assertEqual(
            (name, keys[3:], args), ("renew", [lease.key], ["3000", "n1", "2", lease.holder])
        )
        self.scripts.answer([1, 0])
        self.assertEqual(lease.confirmed, 1.0)

    def test_taken_by_another_is_lost(self) -> None:
        """A renewal finding the slot held by another loses the lease and calls when_lost."""
        lease = self.acquired()
        lost: list[bool] = []
        lease.when_lost(lambda: lost.append(True))
        self.clock.advance(1.0)
        self.scripts.answer([0, 0])
        self.assertEqual((lost, self.leases.held), ([True], []))
        self.successResultOf(self.leases.release(lease))
        self.assertNotIn("release", self.scripts.names())

    def test_waits_at_its_share(self) -> None:
        """-3 (this node holds its share): waits like a full pool, tries again every poll_s."""
        d = self.leases.acquire()
        self.scripts.answer(-3)
        self.assertNoResult(d)
        self.assertEqual(self.leases.waiting, 1)
        self.clock.advance(0.5)
        self.scripts.answer(1)
        self.assertEqual(self.successResultOf(d).slot, 1)

    def test_over_share_gives_the_newest_back(self) -> None:
        """A renewal saying one slot is over the share loses the newest lease and deletes
        its key, so the node that waits can take it; the older lease is kept."""
        old, new = self.acquired(), self.acquired()
        lost: list[str] = []
        old.when_lost(lambda: lost.append("old"))
        new.when_lost(lambda: lost.append("new"))
        self.clock.advance(1.0)
        self.scripts.answer([1, 1, 1])
        self.assertEqual((lost, self.leases.held), (["new"], [old]))
        name, keys, args, _ = self.scripts.calls[-1]
        self.assertEqual((name, keys, args), ("release", [new.key], [new.holder]))
        self.assertEqual(old.confirmed, 1.0)

    def test_unconfirmed_for_ttl_is_lost(self) -> None:
        """Renewals failing for a whole TTL lose the lease; shorter outages do not."""
        lease = self.acquired()
        lost: list[bool] = []
        lease.when_lost(lambda: lost.append(True))
        for _ in range(2):
            self.clock.advance(1.0)
            self.scripts.calls[-1][3].errback(ConnectionError("refused"))
        self.assertEqual(lost, [])
        self.clock.advance(1.0)
        self.scripts.calls[-1][3].errback(ConnectionError("refused"))
        self.assertEqual(lost, [True])

    def test_release_and_stop_renewing(self) -> None:
        """Released: compare-and-delete sent, no more renewals once none is held."""
        lease = self.acquired()
        d = self.leases.release(lease)
        name, keys, args, _ = self.scripts.calls[1]
        self.assertEqual((name, keys, args), ("release", [lease.key], [lease.holder]))
        self.scripts.calls[1][3].callback(1)
        self.successResultOf(d)
        self.assertEqual(self.scripts.calls[2][:3], ("leave", ["smsgw:{ch}:links:nodes"], ["n1"]))
        self.clock.advance(10)
        self.assertEqual(self.scripts.names(), ["acquire", "release", "leave"])
        self.assertEqual(self.clock.getDelayedCalls(), [])
