"""The gateway on a store several nodes share (``IClusterStore``), with fakes and a Clock.

Two :class:`~smsgw.sp.gateway.Gateway` objects over one store stand for two
nodes: the real PostgreSQL side is in ``tests/cluster``.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred, fail, succeed
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from smsgw.store.interface import IClusterStore, StoreUnavailable
from smsgw.store.memory import MemoryStore
from smsgw.store.model import Inbound, InboundKind, Mode, MoGroup, MoPart
from smsgw.text import MsgFmt, split_text
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
        if self.reclaimed < 0:
            return fail(StoreUnavailable("PostgreSQL is down (test)"))
        return succeed(self.reclaimed)


class ReadsHeldStore(SharedStore):
    """A SharedStore whose reads of a group's parts are answered only on :meth:`answer`.

    Two nodes' reads then both see the group before either stores its message.
    """

    def __init__(self) -> None:
        super().__init__()
        self.held: list[tuple[Deferred[list[MoPart]], Deferred[list[MoPart]]]] = []

    def mo_group_parts(self, group: MoGroup) -> Deferred[list[MoPart]]:
        waiting: Deferred[list[MoPart]] = Deferred()
        self.held.append((super().mo_group_parts(group), waiting))
        return waiting

    def answer(self) -> None:
        held, self.held = self.held, []
        for read, waiting in held:
            read.chainDeferred(waiting)


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

    def test_reclaim_goes_on_after_a_failure(self) -> None:
        """A reclaim that fails (the store briefly down) is logged; the next one still runs."""
        store = SharedStore()
        store.reclaimed = -1
        h = GatewayHarness(self, store=store, reclaim_after_s=20.0)
        self.assertEqual(len(self.flushLoggedErrors(StoreUnavailable)), 1)
        store.reclaimed = 0
        h.clock.advance(5.0)
        self.assertEqual(len(store.reclaims), 2)

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


TEXT = "长短信测试" * 30


class LongMoTests(SynchronousTestCase):
    """A long MO whose parts arrive on two nodes sharing one store is stored once."""

    def setUp(self) -> None:
        self.parts = split_text(TEXT, MsgFmt.UCS2, 0x42)
        self.assertEqual(len(self.parts), 3)

    def nodes(self, store: SharedStore | None = None) -> tuple[GatewayHarness, GatewayHarness]:
        store = SharedStore() if store is None else store
        return GatewayHarness(self, store=store), GatewayHarness(self, store=store)

    def deliver(self, node: GatewayHarness, index: int, msg_id: str = "") -> Deferred[object]:
        part = self.parts[index]
        mobile = node.channel["mobile"]
        return mobile.mo(part.content, msg_fmt=8, tp_udhi=1, msg_id=msg_id or f"mo-{index}")

    def mos(self, node: GatewayHarness) -> list[Inbound]:
        items = node.inbound()
        self.assertEqual({i.kind for i in items} - {InboundKind.MO}, set())
        return items

    def test_parts_split_across_nodes(self) -> None:
        """Parts 1 and 3 on one node, 2 on the other: one whole MO, no part left held."""
        a, b = self.nodes()
        self.successResultOf(self.deliver(a, 0))
        self.successResultOf(self.deliver(b, 1))
        self.assertEqual(self.mos(a), [])
        self.successResultOf(self.deliver(a, 2))
        [item] = self.mos(a)
        self.assertEqual(item.fields["text"], TEXT)
        self.assertNotIn("missing_parts", item.fields)
        self.assertEqual(self.successResultOf(a.store.mo_parts()), [])

    def test_both_nodes_find_it_whole_at_once(self) -> None:
        """Both nodes read the group whole before either stores it: one MO is stored."""
        store = ReadsHeldStore()
        a, b = self.nodes(store)
        for node, index in ((a, 0), (b, 1)):
            d = self.deliver(node, index)
            store.answer()
            self.successResultOf(d)
        # The last part on both nodes (the carrier sent it again on another session).
        on_a, on_b = self.deliver(a, 2), self.deliver(b, 2, msg_id="mo-2-again")
        self.assertEqual(len(store.held), 2)
        store.answer()
        self.successResultOf(on_a)
        self.successResultOf(on_b)
        [item] = self.mos(a)
        self.assertEqual(item.fields["text"], TEXT)

    def test_no_incomplete_mo_after_a_peer_stored_it(self) -> None:
        """A node's timeout of a group a peer completed stores nothing more."""
        a, b = self.nodes()
        self.successResultOf(self.deliver(a, 0))
        self.successResultOf(self.deliver(b, 1))
        self.successResultOf(self.deliver(b, 2))
        self.assertEqual(len(self.mos(a)), 1)
        for node in (a, b):
            node.clock.advance(660)
        self.assertEqual(self.mos(a), [])

    def test_timeout_with_parts_on_both_nodes(self) -> None:
        """Given up on, a group with parts on both nodes is one MO missing only what is missing."""
        a, b = self.nodes()
        self.successResultOf(self.deliver(a, 0))
        self.successResultOf(self.deliver(b, 2))
        for node in (a, b):
            node.clock.advance(660)
        [item] = self.mos(a)
        self.assertEqual(item.fields["missing_parts"], [2])
        # 67 UCS2 characters a part: the first and the third (the last 16).
        self.assertEqual(item.fields["text"], TEXT[:67] + TEXT[134:])
        self.assertEqual(self.successResultOf(a.store.mo_parts()), [])

    def test_both_nodes_give_up_at_once(self) -> None:
        """Both nodes read a group given up on before either stores it: one MO is stored."""
        store = ReadsHeldStore()
        a, b = self.nodes(store)
        for node, index in ((a, 0), (b, 2)):
            d = self.deliver(node, index)
            store.answer()
            self.successResultOf(d)
        for node in (a, b):
            node.clock.advance(660)
        self.assertEqual(len(store.held), 2)
        store.answer()
        [item] = self.mos(a)
        self.assertEqual(item.fields["missing_parts"], [2])

    def test_restart_between_parts_on_two_nodes(self) -> None:
        """A node restarted between parts reads every node's back; the MO is still stored once."""
        a, b = self.nodes()
        self.successResultOf(self.deliver(a, 0))
        self.successResultOf(self.deliver(b, 1))
        a.stop()
        again = GatewayHarness(self, store=a.store)
        self.successResultOf(self.deliver(b, 2))
        [item] = self.mos(b)
        self.assertEqual(item.fields["text"], TEXT)
        for node in (again, b):
            node.clock.advance(660)
        self.assertEqual(self.mos(b), [])
