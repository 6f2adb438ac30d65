"""Tests for :mod:`smsgw.ratelimit`."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.ratelimit import TokenBucket
from tests.clock import BoundedClock


class TokenBucketTests(SynchronousTestCase):
    """TokenBucket allows a burst, then the rate."""

    def setUp(self) -> None:
        self.clock = BoundedClock()

    def test_starts_full(self) -> None:
        """A new bucket allows its burst at once, then refuses."""
        bucket = TokenBucket(10, 3, clock=self.clock.seconds)
        self.assertEqual([bucket.try_take() for _ in range(4)], [True, True, True, False])

    def test_refill(self) -> None:
        """Tokens come back at the rate."""
        bucket = TokenBucket(10, 1, clock=self.clock.seconds)
        self.assertTrue(bucket.try_take())
        self.clock.advance(0.05)
        self.assertFalse(bucket.try_take())
        self.clock.advance(0.05)
        self.assertTrue(bucket.try_take())

    def test_refill_capped(self) -> None:
        """A long idle period refills no more than the burst."""
        bucket = TokenBucket(10, 2, clock=self.clock.seconds)
        self.clock.advance(1000)
        self.assertEqual(bucket.tokens, 2.0)
        self.assertEqual([bucket.try_take() for _ in range(3)], [True, True, False])

    def test_default_burst(self) -> None:
        """Without a burst the bucket holds one second's worth."""
        self.assertEqual(TokenBucket(50, clock=self.clock.seconds).burst, 50.0)

    def test_default_burst_slow(self) -> None:
        """Below one token per second the default burst is one token."""
        bucket = TokenBucket(0.5, clock=self.clock.seconds)
        self.assertEqual(bucket.burst, 1.0)
        self.assertTrue(bucket.try_take())
        self.assertEqual(bucket.delay_for(), 2.0)

    def test_take_many(self) -> None:
        """try_take(n) takes n tokens or none."""
        bucket = TokenBucket(1, 5, clock=self.clock.seconds)
        self.assertTrue(bucket.try_take(3))
        self.assertFalse(bucket.try_take(3))
        self.assertEqual(bucket.tokens, 2.0)

    def test_delay_for(self) -> None:
        """delay_for says how long until n tokens are there, taking nothing."""
        bucket = TokenBucket(4, 2, clock=self.clock.seconds)
        self.assertEqual(bucket.delay_for(2), 0.0)
        self.assertTrue(bucket.try_take(2))
        self.assertEqual(bucket.delay_for(), 0.25)
        self.assertEqual(bucket.delay_for(2), 0.5)
        self.assertEqual(bucket.delay_for(2), 0.5)
        self.clock.advance(0.25)
        self.assertEqual(bucket.delay_for(2), 0.25)

    def test_wait_then_take(self) -> None:
        """Waiting delay_for seconds is enough for try_take, despite float rounding."""
        bucket = TokenBucket(3, 1, clock=self.clock.seconds)
        for _ in range(1000):
            if not bucket.try_take():
                self.clock.advance(bucket.delay_for())
                self.assertTrue(bucket.try_take())
        self.assertApproximates(self.clock.seconds(), 999 / 3, 1e-6)

    def test_clock_backwards(self) -> None:
        """A clock stepping back adds no tokens, and later time counts from the newest reading."""
        now = [100.0]
        bucket = TokenBucket(1, 1, clock=lambda: now[0])
        self.assertTrue(bucket.try_take())
        now[0] = 50.0
        self.assertFalse(bucket.try_take())
        now[0] = 100.5
        self.assertFalse(bucket.try_take())
        now[0] = 101.0
        self.assertTrue(bucket.try_take())

    def test_bad_arguments(self) -> None:
        """Rates, bursts and amounts that make no sense are ValueErrors."""
        for rate in (0, -1, float("inf"), float("nan")):
            self.assertRaises(ValueError, TokenBucket, rate, clock=self.clock.seconds)
        for burst in (0, -1, float("inf"), float("nan")):
            self.assertRaises(ValueError, TokenBucket, 1, burst, clock=self.clock.seconds)
        bucket = TokenBucket(1, 2, clock=self.clock.seconds)
        for n in (0, -1, 2.5, float("nan")):
            self.assertRaises(ValueError, bucket.try_take, n)
            self.assertRaises(ValueError, bucket.delay_for, n)

    @given(
        rate=st.floats(min_value=0.1, max_value=1000),
        burst=st.floats(min_value=1, max_value=100),
        steps=st.lists(
            st.tuples(st.floats(min_value=0, max_value=2), st.floats(min_value=0.01, max_value=1)),
            max_size=200,
        ),
    )
    def test_never_over_rate(
        self, rate: float, burst: float, steps: list[tuple[float, float]]
    ) -> None:
        """In t seconds no more than rate * t + burst tokens are ever taken."""
        clock = BoundedClock()
        bucket = TokenBucket(rate, burst, clock=clock.seconds)
        taken = 0.0
        for advance, n in steps:
            clock.advance(advance)
            if bucket.try_take(n):
                taken += n
            self.assertLessEqual(taken, rate * clock.seconds() + burst + 1e-6)
            self.assertGreaterEqual(bucket.delay_for(n), 0.0)

    @given(
        rate=st.floats(min_value=0.1, max_value=1000),
        burst=st.floats(min_value=1, max_value=100),
        n=st.floats(min_value=0.01, max_value=1),
    )
    def test_delay_is_enough(self, rate: float, burst: float, n: float) -> None:
        """After an empty bucket waits delay_for(n), try_take(n) succeeds."""
        clock = BoundedClock()
        bucket = TokenBucket(rate, burst, clock=clock.seconds)
        while bucket.try_take(n):
            pass
        delay = bucket.delay_for(n)
        self.assertGreater(delay, 0.0)
        clock.advance(delay)
        self.assertEqual(bucket.delay_for(n), 0.0)
        self.assertTrue(bucket.try_take(n))
