"""Push reports and MOs to the application (``[callbacks] report_url``, ``mo_url``).

Each push is a row of the store, written in the same transaction as its
inbound item (the gateway passes the URL to ``record_report``,
``segment_submitted_many`` and ``add_inbound``; :meth:`CallbackSender.enqueue`
adds one alone).  The sender POSTs the stored JSON as it is, with treq: an
explicit timeout, a bounded connection pool, retries on the clock with
exponential back-off, and the final failure recorded in the store.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsgw.store.model import InboundKind


class CallbackSender:
    """Deliver stored callbacks; retry with back-off; give up after ``max_attempts``.

    :param store: the message store (callbacks are rows in it).
    :param clock: the reactor.
    :param urls: ``InboundKind`` → URL (a kind without one is not pushed).
    :param http: a treq-like object with ``post(url, data=, headers=, timeout=)``.
    """

    log = Logger()

    timeout_s = 10.0
    max_attempts = 10
    backoff_s = (1.0, 3600.0)
    poll_s = 0.5
    batch = 50

    def __init__(
        self, store: Any, clock: Any, urls: dict[InboundKind, str], http: Any, metrics: Any = None
    ) -> None:
        self.store = store
        self.clock = clock
        self.urls = urls
        self.http = http
        self.metrics = metrics
        self._loop: LoopingCall | None = None
        self._busy: set[int] = set()

    def enqueue(self, kind: InboundKind, payload: dict[str, Any]) -> Deferred[Any]:
        """Store a callback for *kind* (if a URL is configured) and try it soon."""
        url = self.urls.get(kind)
        if url is None:
            return succeed(None)
        body = json.dumps(payload, ensure_ascii=False)
        return self.store.add_callback(kind, url, body, self.clock.seconds())

    def start(self) -> None:
        self._loop = LoopingCall(self.poll)
        self._loop.clock = self.clock
        self._loop.start(self.poll_s, now=False).addErrback(
            lambda f: self.log.failure("callback loop stopped", f)
        )

    def stop(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()

    def poll(self) -> Deferred[None]:
        """Send every due callback that is not already being sent."""
        d = self.store.due_callbacks(self.clock.seconds(), self.batch)
        d.addCallback(self._send_all)
        return d

    def _send_all(self, attempts: list[Any]) -> None:
        for attempt in attempts:
            if attempt.id in self._busy:
                continue
            self._busy.add(attempt.id)
            d = self.http.post(
                attempt.url,
                data=attempt.payload.encode("utf-8"),
                headers={b"Content-Type": [b"application/json; charset=utf-8"]},
                timeout=self.timeout_s,
            )
            d.addCallback(self._answered, attempt)
            d.addErrback(self._failed, attempt)
            d.addBoth(lambda _, i=attempt.id: self._busy.discard(i))

    def _answered(self, response: Any, attempt: Any) -> Deferred[Any]:
        # Read (and drop) the body so the connection goes back to the pool.
        d = response.content() if hasattr(response, "content") else succeed(b"")

        def done(_: object) -> Deferred[Any]:
            if 200 <= response.code < 300:
                if self.metrics is not None:
                    self.metrics.callbacks_sent.labels(kind=str(attempt.kind)).inc()
                return self.store.callback_done(attempt.id, self.clock.seconds())  # type: ignore[no-any-return]
            return self._failed(Failure(RuntimeError(f"HTTP {response.code}")), attempt)

        return d.addCallback(done)

    def _failed(self, failure: Failure, attempt: Any) -> Deferred[Any]:
        if self.metrics is not None:
            self.metrics.callback_failures.labels(kind=str(attempt.kind)).inc()
        tries = attempt.attempts + 1
        first, cap = self.backoff_s
        next_at = (
            None if tries >= self.max_attempts
            else self.clock.seconds() + min(cap, first * 2 ** (tries - 1))
        )  # fmt: skip
        self.log.warn("callback {id} to {url} failed ({n}): {why}", id=attempt.id,
                      url=attempt.url, n=tries, why=failure.getErrorMessage())  # fmt: skip
        return self.store.callback_failed(  # type: ignore[no-any-return]
            attempt.id, failure.getErrorMessage(), next_at
        )
