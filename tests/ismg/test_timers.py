"""Many keyed calls on one timer (:mod:`smsgw.ismg.timers`), on a ``Clock``."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from smsgw.ismg.timers import DueCalls


class DueCallsTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.calls = DueCalls(self.clock)
        self.ran: list[object] = []

    def test_runs_in_due_order_on_one_timer(self) -> None:
        """Calls run when due, earliest first, and only one reactor timer is ever pending."""
        self.calls.call_later(3, "c", self.ran.append, "c")
        self.calls.call_later(1, "a", self.ran.append, "a")
        self.calls.call_later(2, "b", self.ran.append, "b")
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)
        self.clock.advance(1)
        self.assertEqual(self.ran, ["a"])
        self.clock.advance(1.5)
        self.assertEqual(self.ran, ["a", "b"])
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)
        self.clock.advance(1)
        self.assertEqual(self.ran, ["a", "b", "c"])
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.assertEqual(len(self.calls), 0)

    def test_same_moment_runs_together_in_order_added(self) -> None:
        """Calls due at the same moment run in one timer run, in the order they were added."""
        for name in "xyz":
            self.calls.call_later(0, name, self.ran.append, name)
        self.clock.advance(0)
        self.assertEqual(self.ran, ["x", "y", "z"])

    def test_cancel(self) -> None:
        """A cancelled call never runs; cancelling the last one leaves no timer behind."""
        self.calls.call_later(1, "a", self.ran.append, "a")
        self.calls.call_later(2, "b", self.ran.append, "b")
        self.assertIn("a", self.calls)
        self.assertTrue(self.calls.cancel("a"))
        self.assertFalse(self.calls.cancel("a"))
        self.assertNotIn("a", self.calls)
        self.clock.advance(1)
        self.assertEqual(self.ran, [])
        self.assertTrue(self.calls.cancel("b"))
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.clock.advance(5)
        self.assertEqual(self.ran, [])

    def test_earlier_call_moves_the_timer(self) -> None:
        """A call due before the armed timer brings the timer forward."""
        self.calls.call_later(10, "late", self.ran.append, "late")
        self.calls.call_later(1, "soon", self.ran.append, "soon")
        self.clock.advance(1)
        self.assertEqual(self.ran, ["soon"])

    def test_same_key_keeps_both(self) -> None:
        """A key added twice runs both calls; the key names the newest, which cancel() drops."""
        self.calls.call_later(1, "k", self.ran.append, "old")
        self.calls.call_later(2, "k", self.ran.append, "new")
        self.calls.call_later(3, "k", self.ran.append, "newest")
        self.assertEqual(len(self.calls), 1)
        self.assertTrue(self.calls.cancel("k"))
        self.assertNotIn("k", self.calls)
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)
        self.clock.advance(6)
        self.assertEqual(self.ran, ["old", "new"])
        self.assertNotIn("k", self.calls)

    def test_failing_call_is_logged_and_others_run(self) -> None:
        """A call that raises is logged; the calls due with it still run."""

        def boom() -> None:
            raise ValueError("boom")

        self.calls.call_later(1, "bad", boom)
        self.calls.call_later(1, "good", self.ran.append, "good")
        self.clock.advance(1)
        self.assertEqual(self.ran, ["good"])
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1)

    def test_clear(self) -> None:
        """clear() drops every call and the timer."""
        self.calls.call_later(1, "a", self.ran.append, "a")
        self.calls.clear()
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.clock.advance(2)
        self.assertEqual(self.ran, [])

    @given(
        st.lists(
            st.tuples(
                st.sampled_from(["add", "cancel", "advance"]),
                st.integers(0, 7),
                st.integers(0, 20).map(lambda n: n / 4),
            ),
            max_size=60,
        )
    )
    def test_like_one_delayed_call_each(self, script: list[tuple[str, int, float]]) -> None:
        """Any script of adds, cancels and advances runs what one DelayedCall per key would."""
        clock_a, clock_b = Clock(), Clock()
        calls = DueCalls(clock_a)
        ran_a: list[tuple[int, float]] = []
        ran_b: list[tuple[int, float]] = []
        timers: dict[int, object] = {}  # key → its newest DelayedCall, as the simulator kept them

        def run_b(key: int, mine: list[object]) -> None:
            if timers.get(key) is mine[0]:
                del timers[key]
            ran_b.append((key, clock_b.seconds()))

        for op, key, value in script:
            if op == "add":
                calls.call_later(value, key, lambda k=key: ran_a.append((k, clock_a.seconds())))
                mine: list[object] = []
                mine.append(clock_b.callLater(value, run_b, key, mine))
                timers[key] = mine[0]
            elif op == "cancel":
                old = timers.pop(key, None)
                self.assertEqual(calls.cancel(key), old is not None)
                if old is not None:
                    old.cancel()  # type: ignore[attr-defined]
            else:
                clock_a.advance(value)
                clock_b.advance(value)
            self.assertEqual(sorted(ran_a), sorted(ran_b))
            self.assertEqual(set(calls), set(timers))
        clock_a.advance(100)
        clock_b.advance(100)
        self.assertEqual(sorted(ran_a), sorted(ran_b))
        self.assertEqual(clock_a.getDelayedCalls(), [])
