"""The gateway on a store several nodes share (``IClusterStore``), with fakes and a Clock.

Two :class:`~smsgw.sp.gateway.Gateway` objects over one store stand for two
nodes: the real PostgreSQL side is in ``tests/cluster``.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred, succeed
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from smsgw.store.interface import IClusterStore
from smsgw.store.memory import MemoryStore
from smsgw.store.model import Mode
from tests.sp.test_gateway import MOBILE, START, FakeChannel, GatewayHarness, request


@implementer(IClusterStore)
class SharedStore(MemoryStore):
    """A MemoryStore that says it is shared, and records the reclaims asked of it."""

    node = "a"

    def __init__(self) -> None:
        super().__init__()
        self.reclaims: list[float] = []
        self.reclaimed = 0

    def reclaim_stale(self, older_than: float) -> Deferred[int]:
        self.reclaims.append(older_than)
        return succeed(self.reclaimed)


class SharedStoreTests(SynchronousTestCase):
    def test_reclaims_every_quarter_of_the_visibility_timeout(self) -> None:
        """On a shared store the gateway asks for claims older than the visibility timeout,
        every quarter of it; on a store of its own it never does."""
        store = SharedStore()
        h = GatewayHarness(self, store=store, reclaim_after_s=20.0)
        self.assertEqual(store.reclaims, [START - 20.0])
        store.reclaimed = 3
        h.clock.advance(5.0)
        self.assertEqual(store.reclaims, [START - 20.0, START + 5.0 - 20.0])
        alone = GatewayHarness(self, reclaim_after_s=20.0)
        self.assertFalse(alone.gateway.shared)

    def test_sync_answered_when_a_peer_sends(self) -> None:
        """sync: a request accepted by a node without a session completes when another node
        sends its segments (it asks the store, since the peer's SUBMIT_RESP is not its own)."""
        store = SharedStore()
        unlinked = FakeChannel("mobile")
        unlinked.sessions = []  # no session: this node sends nothing
        idle = GatewayHarness(self, [unlinked], store=store)
        sending = GatewayHarness(self, [FakeChannel("mobile")], store=store)
        d = idle.accept(request(MOBILE, mode=Mode.SYNC))
        self.assertNoResult(d)
        sending.clock.advance(sending.gateway.pump_interval_s)
        mobile = sending.channel["mobile"]
        self.assertEqual(len(mobile.calls), 1)
        idle.clock.advance(idle.gateway.pump_interval_s)
        self.assertNoResult(d)
        mobile.answer_all()
        idle.clock.advance(idle.gateway.pump_interval_s)
        accepted = self.successResultOf(d)
        self.assertTrue(accepted.complete)
        self.assertEqual(idle.channel["mobile"].calls, [])
