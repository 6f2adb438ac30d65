"""SharedBucket's node side on a Clock: the stash, its fetches, outages (no Redis here)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from smsgw.cluster.bucket import SharedBucket


class Fetches:
    """The fetches a bucket made, each a Deferred the test answers."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, Deferred[tuple[int, float]]]] = []

    def __call__(self, want: int) -> Deferred[tuple[int, float]]:
        d: Deferred[tuple[int, float]] = Deferred()
        self.asked.append((want, d))
        return d

    def answer(self, granted: int, wait_s: float = 0.0) -> None:
        _, d = self.asked[-1]
        d.callback((granted, wait_s))


class SharedBucketTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.fetches = Fetches()
        self.bucket = SharedBucket(self.fetches, 100.0, 20.0, clock=self.clock, name="ch")

    def test_chunk_size(self) -> None:
        """A fetch asks for chunk_s seconds' worth: at least 1 token, at most the burst."""
        self.assertEqual(self.bucket.chunk, 5)
        slow = SharedBucket(self.fetches, 1.0, clock=self.clock)
        self.assertEqual((slow.chunk, slow.burst), (1, 1.0))
        fast = SharedBucket(self.fetches, 10_000.0, 50.0, clock=self.clock)
        self.assertEqual(fast.chunk, 50)

    def test_bad_arguments(self) -> None:
        """A rate or burst out of range, or a take larger than the burst, is refused."""
        for rate, burst in ((0.0, None), (float("inf"), None), (10.0, 0.5)):
            with self.assertRaises(ValueError):
                SharedBucket(self.fetches, rate, burst, clock=self.clock)
        with self.assertRaises(ValueError):
            self.bucket.try_take(21.0)

    def test_starts_empty_and_fetches(self) -> None:
        """The stash starts empty: the first take fails and starts one fetch of a chunk."""
        self.assertFalse(self.bucket.try_take())
        self.assertFalse(self.bucket.try_take())
        self.assertEqual([want for want, _ in self.fetches.asked], [5])
        self.fetches.answer(5)
        self.assertEqual(self.bucket.delay_for(), 0.0)
        self.assertTrue(self.bucket.try_take())
        self.assertEqual(self.bucket.tokens, 4.0)

    def test_refills_in_the_background(self) -> None:
        """Below half a chunk, a take starts the next fetch for what is missing."""
        self.bucket.try_take()
        self.fetches.answer(5)
        for _ in range(2):
            self.assertTrue(self.bucket.try_take())
        self.assertEqual(len(self.fetches.asked), 1)
        self.assertTrue(self.bucket.try_take())
        self.assertEqual([want for want, _ in self.fetches.asked], [5, 3])

    def test_empty_shared_bucket_waits(self) -> None:
        """An empty shared bucket: no fetch before its next token, and delay_for says so."""
        self.bucket.try_take()
        self.fetches.answer(0, 0.2)
        self.assertAlmostEqual(self.bucket.delay_for(), 0.2 + self.bucket.poll_s)
        self.clock.advance(0.1)
        self.assertFalse(self.bucket.try_take())
        self.assertEqual(len(self.fetches.asked), 1)
        self.clock.advance(0.1)
        self.assertEqual(len(self.fetches.asked), 2)
        self.fetches.answer(5)
        self.assertTrue(self.bucket.try_take())

    def test_short_grant_spaces_fetches(self) -> None:
        """A grant short of a chunk: the next fetch waits half a chunk's time."""
        self.bucket.try_take()
        self.fetches.answer(1, 0.01)
        self.assertTrue(self.bucket.try_take())
        self.assertFalse(self.bucket.try_take())
        self.assertEqual(len(self.fetches.asked), 1)
        self.clock.advance(0.025)
        self.assertEqual(len(self.fetches.asked), 2)

    def test_unreachable_grants_nothing_then_resumes(self) -> None:
        """A failed fetch: nothing taken, a retry after retry_s, then tokens again."""
        self.bucket.try_take()
        self.fetches.asked[-1][1].errback(ConnectionError("refused"))
        self.assertFalse(self.bucket.reachable)
        self.assertFalse(self.bucket.try_take())
        self.assertGreaterEqual(self.bucket.delay_for(), self.bucket.retry_s)
        self.assertEqual(len(self.fetches.asked), 1)
        self.clock.advance(self.bucket.retry_s)
        self.assertEqual(len(self.fetches.asked), 2)
        self.fetches.answer(5)
        self.assertTrue(self.bucket.reachable)
        self.assertTrue(self.bucket.try_take())

    def test_stash_expires(self) -> None:
        """Tokens not spent within stash_ttl_s are dropped."""
        self.bucket.try_take()
        self.fetches.answer(5)
        self.clock.advance(self.bucket.stash_ttl_s)
        self.assertEqual(self.bucket.tokens, 0.0)

    def test_stop_cancels_scheduled_fetch(self) -> None:
        """stop() cancels a fetch waiting for its time."""
        self.bucket.try_take()
        self.fetches.answer(0, 0.5)
        self.bucket.try_take()
        self.bucket.stop()
        self.clock.advance(1.0)
        self.assertEqual(len(self.fetches.asked), 1)
        self.assertEqual(self.clock.getDelayedCalls(), [])


#: One step: take n tokens, ask delay_for, advance the clock, or answer the open fetch.
_steps = st.one_of(
    st.tuples(st.just("take"), st.integers(1, 3)),
    st.tuples(st.just("delay"), st.integers(1, 3)),
    st.tuples(st.just("advance"), st.floats(0.0, 0.5)),
    st.tuples(st.just("grant"), st.integers(0, 10)),
    st.tuples(st.just("fail"), st.just(0)),
)


class SharedBucketPropertyTests(SynchronousTestCase):
    @given(st.lists(_steps, max_size=60))
    def test_never_spends_more_than_granted(self, steps: list[tuple[str, float]]) -> None:
        """Whatever happens, takes never exceed grants, and delay_for 0 means a take succeeds."""
        clock = Clock()
        fetches = Fetches()
        bucket = SharedBucket(fetches, 100.0, 10.0, clock=clock)
        granted = taken = 0
        for kind, value in steps:
            open_fetch = fetches.asked and not fetches.asked[-1][1].called
            if kind == "take":
                if bucket.try_take(value):
                    taken += int(value)
            elif kind == "delay":
                if bucket.delay_for(value) == 0:
                    self.assertTrue(bucket.try_take(value))
                    taken += int(value)
            elif kind == "advance":
                clock.advance(value)
            elif open_fetch and kind == "grant":
                want = fetches.asked[-1][0]
                grant = min(int(value), want)
                granted += grant
                fetches.answer(grant, 0.01)
            elif open_fetch:
                fetches.asked[-1][1].errback(ConnectionError("refused"))
            self.assertLessEqual(taken, granted)
            self.assertLessEqual(bucket.tokens, bucket.chunk)
