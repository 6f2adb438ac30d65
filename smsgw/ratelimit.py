"""Token-bucket rate limiting, pure: the clock is injected.

Used by the simulator to throttle SUBMITs above a TPS (CMPP result 8) and by
the SP side for each channel's TPS limit.  Pass
``reactor.seconds`` or a :class:`twisted.internet.task.Clock`'s ``seconds``
as the clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["TokenBucket"]

_EPSILON = 1e-9
"""Tolerance for float rounding: a caller that waits exactly :meth:`delay_for`
seconds must then succeed in :meth:`try_take`."""


class TokenBucket:
    """A bucket of *burst* tokens refilled at *rate* tokens per second.

    The bucket starts full.  Over any span of ``t`` seconds at most
    ``rate * t + burst`` tokens are taken.

    :param rate: refill rate in tokens (messages) per second, finite and > 0.
    :param burst: capacity in tokens, finite and > 0; ``None`` means one
        second's worth, but at least one token.
    :param clock: returns the current time in seconds.
    :raises ValueError: for a rate or burst out of range.
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float],
    ) -> None:
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate must be a finite number > 0, got {rate!r}")
        if burst is None:
            burst = max(float(rate), 1.0)
        if not (math.isfinite(burst) and burst > 0):
            raise ValueError(f"burst must be a finite number > 0, got {burst!r}")
        self._rate = float(rate)
        self._burst = float(burst)
        self._clock = clock
        self._tokens = self._burst
        self._updated = clock()

    @property
    def rate(self) -> float:
        """Refill rate in tokens per second."""
        return self._rate

    @property
    def burst(self) -> float:
        """Capacity in tokens."""
        return self._burst

    @property
    def tokens(self) -> float:
        """Tokens available now (refilled up to the current time)."""
        self._refill()
        return self._tokens

    def _refill(self) -> None:
        now = self._clock()
        # A clock that steps backwards (wall-clock adjustments) adds nothing
        # rather than removing tokens or refilling twice later.
        if now > self._updated:
            self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
            self._updated = now

    def _check(self, n: float) -> None:
        if not (math.isfinite(n) and 0 < n <= self._burst):
            raise ValueError(f"n must be > 0 and at most the burst {self._burst!r}, got {n!r}")

    def try_take(self, n: float = 1.0) -> bool:
        """Take *n* tokens if they are available now.

        :param n: tokens wanted, > 0 and at most :attr:`burst`.
        :returns: ``True`` if taken, ``False`` (and nothing taken) otherwise.
        :raises ValueError: for *n* out of range (it could never succeed).
        """
        self._check(n)
        self._refill()
        if self._tokens + _EPSILON < n:
            return False
        self._tokens = max(0.0, self._tokens - n)
        return True

    def delay_for(self, n: float = 1.0) -> float:
        """Seconds until *n* tokens are available; 0 if they are now.

        Nothing is taken: call :meth:`try_take` after the delay.

        :param n: tokens wanted, > 0 and at most :attr:`burst`.
        :raises ValueError: for *n* out of range (it could never succeed).
        """
        self._check(n)
        self._refill()
        missing = n - self._tokens
        if missing <= _EPSILON:
            return 0.0
        return missing / self._rate
