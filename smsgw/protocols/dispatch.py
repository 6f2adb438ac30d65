"""Request/response matching for one link: sequence numbers, window, timeouts.

The model is AMP's ``BoxDispatcher`` (twisted.protocols.amp): every request
gets a Deferred keyed by its sequence number, and losing the link fails
every one of them with the real reason.  On top of that the carrier
protocols want a sliding window (at most W requests without a response) and
a response timeout T after which the same frame is sent again, N attempts
in all (CMPP 2.0 seed 002 §6.3.1; cmpp20-notes.md §11).

All requests share one timeout, so the pending table (a dict, which keeps
insertion order) is also ordered by deadline: one ``DelayedCall`` armed for
the oldest request serves them all, instead of one timer per request.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

_log = Logger()


class ResponseTimeout(Exception):
    """No response came after every attempt.

    :ivar pdu: the request.
    :ivar attempts: how many times it was sent.
    """

    def __init__(self, pdu: object, attempts: int, timeout_s: float) -> None:
        super().__init__(
            f"no response to {type(pdu).__name__} after {attempts} attempts of {timeout_s:g} s each"
        )
        self.pdu = pdu
        self.attempts = attempts


class SessionClosed(Exception):
    """The link is closing or closed: the request was not (or no longer) sent."""


class _Pending:
    """One request in the window.

    Its outcome goes to a Deferred (:meth:`Dispatcher.send`) or to plain
    callables (:meth:`Dispatcher.send_then`, the hot path).
    """

    __slots__ = (
        "attempts", "deadline", "deferred", "dispatcher", "on_answer", "on_error", "on_sent",
        "pdu", "sequence",
    )  # fmt: skip

    def __init__(
        self,
        dispatcher: Dispatcher,
        pdu: object,
        on_sent: Callable[[Hashable], None] | None,
        on_answer: Callable[[object], object] | None = None,
        on_error: Callable[[Failure], object] | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.pdu = pdu
        self.on_sent = on_sent
        self.sequence: Hashable | None = None
        self.attempts = 0
        self.deadline = 0.0
        self.on_answer = on_answer
        self.on_error = on_error
        self.deferred: Deferred[object] | None = (
            Deferred(self._cancel) if on_answer is None else None
        )

    def _cancel(self, _: Deferred[object]) -> None:
        self.dispatcher._forget(self)

    def answer(self, pdu: object) -> None:
        if self.deferred is not None:
            self.deferred.callback(pdu)
            return
        try:
            self.on_answer(pdu)  # type: ignore[misc]
        except Exception:
            # As a Deferred would: one request's callback failing is that
            # request's problem, never the link's.
            _log.failure("callback of {pdu} failed", pdu=type(self.pdu).__name__)

    def fail(self, failure: Failure) -> None:
        if self.deferred is not None:
            self.deferred.errback(failure)
            return
        try:
            self.on_error(failure)  # type: ignore[misc]
        except Exception:
            _log.failure("errback of {pdu} failed", pdu=type(self.pdu).__name__)


class Dispatcher:
    """Sequence allocation, the pending table and the window of one link.

    :param clock: the reactor (or a ``Clock``) that runs the timeout.
    :param write: ``write(pdu, sequence)`` puts one request on the wire.
    :param next_sequence: returns the next sequence number (wrapping).
    :param window: W, requests in flight without a response.
    :param timeout_s: T, seconds to wait for a response before resending.
    :param attempts: N, transmissions in all before the request fails.
    """

    def __init__(
        self,
        clock: IReactorTime,
        write: Callable[[object, Hashable], None],
        next_sequence: Callable[[], Hashable],
        *,
        window: int = 16,
        timeout_s: float = 60.0,
        attempts: int = 3,
    ) -> None:
        if window < 1 or attempts < 1 or timeout_s <= 0:
            raise ValueError("window and attempts must be >= 1 and timeout_s > 0")
        self._clock = clock
        self._write = write
        self._next_sequence = next_sequence
        self.window = window
        self.timeout_s = timeout_s
        self.attempts = attempts
        self._pending: dict[Hashable, _Pending] = {}
        self._queue: deque[_Pending] = deque()
        self._timer: IDelayedCall | None = None
        self._closed: Failure | None = None
        self._drain_waiters: list[Deferred[None]] = []

    @property
    def in_flight(self) -> int:
        """Requests sent and not yet answered."""
        return len(self._pending)

    @property
    def queued(self) -> int:
        """Requests waiting for a free place in the window."""
        return len(self._queue)

    def send(
        self, pdu: object, on_sent: Callable[[Hashable], None] | None = None
    ) -> Deferred[object]:
        """Send *pdu* as soon as the window allows; fire with its response PDU.

        Fails with :class:`ResponseTimeout` after N unanswered attempts, with
        the encoder's error if *pdu* cannot be encoded, or with the reason
        the link was lost.  Cancelling the Deferred frees its place in the
        window.

        :param on_sent: called with the sequence number when the request is
            first written (SGIP's Reports refer to a Submit by it).
        """
        entry = _Pending(self, pdu, on_sent)
        self._enter(entry)
        return entry.deferred  # type: ignore[return-value]

    def send_then(
        self,
        pdu: object,
        on_answer: Callable[[object], object],
        on_error: Callable[[Failure], object],
        on_sent: Callable[[Hashable], None] | None = None,
    ) -> None:
        """:meth:`send` without a Deferred: plain callables for the outcome.

        *on_answer* gets the response PDU, or *on_error* the failure
        :meth:`send`'s Deferred would carry: one call, once.  An exception
        they raise is logged, as a Deferred's callback's would be.  The
        SUBMIT hot path uses this: a Deferred and its callback chain per
        request cost more than the rest of the request's bookkeeping.
        Unlike :meth:`send`'s, the request cannot be cancelled.
        """
        self._enter(_Pending(self, pdu, on_sent, on_answer, on_error))

    def _enter(self, entry: _Pending) -> None:
        if self._closed is not None:
            entry.fail(self._closed)
        elif len(self._pending) < self.window and not self._queue:
            self._transmit(entry)
        else:
            self._queue.append(entry)

    def response(self, sequence: Hashable, pdu: object) -> bool:
        """A response arrived: fire its request's Deferred.

        :return: ``False`` when no request is waiting for *sequence*.
        """
        entry = self._pending.pop(sequence, None)
        if entry is None:
            return False
        entry.answer(pdu)
        self._pump()
        return True

    def fail(self, sequence: Hashable, reason: BaseException) -> bool:
        """Fail the request waiting for *sequence* (e.g. its response did not decode)."""
        entry = self._pending.pop(sequence, None)
        if entry is None:
            return False
        entry.fail(Failure(reason))
        self._pump()
        return True

    def drained(self) -> Deferred[None]:
        """A Deferred that fires once nothing is in flight or queued."""
        d: Deferred[None] = Deferred()
        if not self._pending and not self._queue:
            d.callback(None)
        else:
            self._drain_waiters.append(d)
        return d

    def close(self, reason: Failure | BaseException) -> None:
        """Fail everything pending or queued, and every later :meth:`send`."""
        failure = reason if isinstance(reason, Failure) else Failure(reason)
        self._closed = failure
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        entries = [*self._pending.values(), *self._queue]
        self._pending.clear()
        self._queue.clear()
        for entry in entries:
            entry.fail(failure)
        self._fire_drained()

    # -- internals -------------------------------------------------------

    def _transmit(self, entry: _Pending) -> None:
        seq = self._next_sequence()
        while seq in self._pending:  # wrapped onto a request still in flight
            seq = self._next_sequence()
        entry.sequence = seq
        entry.attempts = 1
        entry.deadline = self._clock.seconds() + self.timeout_s
        self._pending[seq] = entry
        try:
            self._write(entry.pdu, seq)
        except Exception:
            # Nothing went out: free the place and fail this request alone.
            del self._pending[seq]
            entry.fail(Failure())
            return
        if self._timer is None:
            self._timer = self._clock.callLater(self.timeout_s, self._expire)
        if entry.on_sent is not None:
            entry.on_sent(seq)

    def _pump(self) -> None:
        queue = self._queue
        while queue and len(self._pending) < self.window:
            self._transmit(queue.popleft())
        if not self._pending and not queue:
            self._fire_drained()

    def _fire_drained(self) -> None:
        waiters, self._drain_waiters = self._drain_waiters, []
        for d in waiters:
            d.callback(None)

    def _forget(self, entry: _Pending) -> None:
        if entry.sequence is not None and self._pending.get(entry.sequence) is entry:
            del self._pending[entry.sequence]
            self._pump()
        else:
            try:
                self._queue.remove(entry)
            except ValueError:
                pass

    def _expire(self) -> None:
        self._timer = None
        now = self._clock.seconds()
        due = []
        for entry in self._pending.values():
            if entry.deadline > now:
                break
            due.append(entry)
        for entry in due:
            seq = entry.sequence
            del self._pending[seq]
            if entry.attempts < self.attempts:
                entry.attempts += 1
                entry.deadline = now + self.timeout_s
                self._pending[seq] = entry  # to the back: the order stays by deadline
                self._write(entry.pdu, seq)
            else:
                entry.fail(Failure(ResponseTimeout(entry.pdu, entry.attempts, self.timeout_s)))
        self._pump()
        if self._pending and self._timer is None and self._closed is None:
            first = next(iter(self._pending.values()))
            self._timer = self._clock.callLater(max(0.0, first.deadline - now), self._expire)
