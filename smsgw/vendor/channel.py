"""An HTTP vendor as an SP channel: :class:`VendorChannel` implements
:class:`~smsgw.sp.interfaces.IChannel` over a :class:`~smsgw.vendor.client.VendorClient`.

The gateway hands it one segment at a time, as it does a binary channel;
here a "segment" is the whole text (the vendor splits long text itself) and
its destinations are a batch of up to the vendor's ``max-numbers``.  The
channel keeps the account's rate limit in the vendor's own unit (requests,
numbers, or numbers × parts: the 1680 rule), retries "too fast" / "busy" /
transport failures with back-off, never retries a permanent rejection (the
segment fails with the vendor's code and text), and turns the vendor's
reports and MOs, pushed to ``/push/CHANNEL/…`` or pulled every few seconds,
into the gateway's neutral events.

A vendor is named by the upstream URL (``?vendor=NAME``) or recognised by
the URL's host and path against the files' ``<match>`` (seed 000's
"厂商动态识别").
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from twisted.application.internet import TimerService
from twisted.application.service import MultiService
from twisted.internet.defer import Deferred, DeferredList, maybeDeferred, succeed
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from zope.interface import implementer

from smsgw.config import UpstreamConfig
from smsgw.protocols.http.extras import VendorExtras
from smsgw.protocols.registry import extras_as
from smsgw.ratelimit import TokenBucket
from smsgw.sp.clients import Event, MoEvent, ReportEvent
from smsgw.sp.interfaces import Balance, ChannelSetup, IChannel, Link, SegmentResult
from smsgw.text import decode_text
from smsgw.text.longsms import Part, PartLike
from smsgw.vendor.answers import MoRecord, ReportRecord
from smsgw.vendor.catalogue import load_vendors
from smsgw.vendor.client import BatchResult, VendorClient, VendorError
from smsgw.vendor.description import Description, Kind
from smsgw.vendor.loader import find_vendor

__all__ = ["UnknownVendor", "VendorChannel", "VendorRefused", "resolve_vendor", "vendor_channel"]

#: Msg_Fmt of the one segment a vendor channel makes: UCS2 holds any text losslessly.
_UCS2 = 8
#: Most segments the gateway may have in flight on one vendor channel.
_MAX_CAPACITY = 10_000
#: Records asked for per pull.
PULL_SIZE = 2000


class UnknownVendor(ValueError):
    """An HTTP upstream whose vendor is not loaded, or that no vendor file matches."""


class VendorRefused(Exception):
    """Every number of a segment was refused (or could not be sent after every retry).

    The gateway stores the message as the reason the segment failed.
    """


@functools.lru_cache(maxsize=8)
def _vendors(dirs: tuple[str, ...]) -> Mapping[str, Description]:
    return load_vendors(dirs)


def resolve_vendor(
    config: UpstreamConfig, vendors: Mapping[str, Description]
) -> tuple[Description, str]:
    """The vendor of an HTTP upstream and its base URL.

    Named by ``vendor=``, or recognised by host and path; a URL path that
    ends with the vendor's ``<match path>`` loses it (the rest is the base).

    :raises UnknownVendor: naming the channel and the vendors known.
    """
    extras = extras_as(config.extra, VendorExtras)
    host = f"[{config.host}]" if ":" in config.host else config.host
    origin = f"{config.scheme}://{host}:{config.port}"
    path = config.path
    if extras.vendor:
        desc = vendors.get(extras.vendor)
        if desc is None:
            raise UnknownVendor(
                f"channel {config.name}: no vendor file {extras.vendor!r} "
                f"(known: {', '.join(sorted(vendors))})"
            )
    else:
        found = find_vendor(vendors.values(), origin + path)
        if found is None:
            raise UnknownVendor(
                f"channel {config.name}: no vendor file's <match> recognises "
                f"{config.host}{path}; name one with vendor=NAME "
                f"(known: {', '.join(sorted(vendors))})"
            )
        desc = found
    if desc.match_path and path.endswith(desc.match_path) and path != desc.match_path:
        path = path[: -len(desc.match_path)]
    elif desc.match_path and path == desc.match_path:
        path = ""
    return desc, origin + path


def vendor_channel(config: UpstreamConfig, reactor: Any, setup: ChannelSetup) -> VendorChannel:
    """The registry's ``make_channel`` for ``http://`` and ``https://`` upstreams."""
    desc, base_url = resolve_vendor(config, _vendors(tuple(setup.vendor_dirs)))
    return VendorChannel(config, reactor, desc, base_url, name=setup.name, http=setup.http)


def _http_client(reactor: Any, concurrency: int, config: UpstreamConfig) -> Any:
    """A treq client with a pool of its own; HTTPS trusts the upstream's ``tls_ca`` if given."""
    import treq
    from twisted.web.client import Agent, HTTPConnectionPool

    from smsgw.sp.tls import https_policy

    pool = HTTPConnectionPool(reactor, persistent=True)
    pool.maxPersistentPerHost = concurrency
    agent = Agent(reactor, contextFactory=https_policy(config), pool=pool)
    return treq.client.HTTPClient(agent), pool


def _code(batch: BatchResult) -> int:
    """The vendor's code as the segment's result (never 0 for a refusal)."""
    try:
        code = int(batch.code) if batch.code is not None else 1
    except ValueError:
        code = 1
    return code or 1


@implementer(IChannel)
class VendorChannel(MultiService):
    """One account at an HTTP vendor.

    :param config: the upstream (``tps`` in the vendor's unit, else the file's).
    :param description: the vendor's description.
    :param base_url: where its operation paths are appended.
    :param http: a treq ``HTTPClient``; ``None`` makes one with its own pool.
    """

    log = Logger()

    #: Back-off after a retryable refusal or failure: first delay, cap, factor.
    throttle_backoff_s = (0.5, 30.0, 2.0)
    #: Attempts of one request across retryable failures.
    max_attempts = 8

    def __init__(
        self,
        config: UpstreamConfig,
        reactor: Any,
        description: Description,
        base_url: str,
        *,
        name: str | None = None,
        http: Any = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.setName(name or config.name or config.account)
        self.clock = reactor
        self.description = description
        self.base_url = base_url
        extras = extras_as(config.extra, VendorExtras)
        self.extras = extras
        self.concurrency = extras.concurrency or description.limits.concurrency
        self._pool = None
        if http is None:
            http, self._pool = _http_client(reactor, self.concurrency, config)
        self.client = VendorClient(
            description,
            config.account,
            config.secret,
            base_url,
            http,
            reactor,
            timeout_s=float(extras.timeout),
            product=extras.product or None,
            signature=extras.signature or None,
            consecutive_ids=bool(extras.consecutive_ids),
            concurrency=self.concurrency,
        )
        send = description.operation(Kind.SEND)
        limit = send.max_numbers if send is not None else 1
        self.batch = min(limit, extras.batch) if extras.batch else limit
        tps = config.tps or description.limits.tps
        self.bucket = TokenBucket(tps, clock=reactor.seconds) if tps else None
        self.on_event: Any = lambda event: None
        self._balance: Balance | None = None
        self._balance_waiting: list[Deferred[Balance]] | None = None
        self._running_pull = False
        pulled = any(
            spec is not None and spec.pull is not None
            for spec in (description.reports, description.mos)
        )
        if extras.pull and pulled and description.operation(Kind.PULL) is not None:
            timer = TimerService(extras.pull, self.pull_once)
            timer.clock = reactor
            timer.setServiceParent(self)

    def __repr__(self) -> str:
        return f"<VendorChannel {self.name} {self.description.name}>"

    @property
    def protocol(self) -> str:
        """``http:VENDOR``, as the balance and the logs name it."""
        return f"{self.config.scheme}:{self.description.name}"

    def stopService(self) -> Deferred[None]:
        d: Deferred[None] = maybeDeferred(super().stopService)
        if self._pool is not None:
            pool = self._pool
            d.addCallback(lambda _: pool.closeCachedConnections())
        return d

    # -- IChannel ----------------------------------------------------------------------

    def segments(self, text: str) -> list[Part]:
        """One segment with the whole text: the vendor splits (and bills) long text itself."""
        return [Part(1, 1, False, text.encode("utf-16-be"), _UCS2)]

    def max_dests(self, report: bool) -> int:
        """The vendor's numbers per request (or the upstream's ``batch``)."""
        return self.batch

    def capacity(self) -> int:
        """A full batch for each concurrent request, within bounds."""
        return max(1, min(_MAX_CAPACITY, self.batch * self.concurrency))

    def ready(self) -> bool:
        """HTTP has no link to wait for: ready while running."""
        return bool(self.running)

    def links(self) -> list[Link]:
        """The vendor's address, as the one "link"."""
        return [Link(f"{self.config.host}:{self.config.port}")] if self.running else []

    def submit_segment(
        self, dests: tuple[str, ...], segment: PartLike, *, report: bool = True, src_ext: str = ""
    ) -> Deferred[SegmentResult]:
        """Send the text to *dests*; fire with every number's id, or fail with the refusal."""
        text = decode_text(segment.content, segment.msg_fmt)
        return Deferred.fromCoroutine(self._submit(dests, text, report, src_ext, segment))

    def balance(self) -> Deferred[Balance]:
        """The vendor's answer, reused for ``balance_cache`` seconds; one query at a time."""
        now = self.clock.seconds()
        cached = self._balance
        if (
            cached is not None
            and cached.cached_at is not None
            and now - cached.cached_at < self.extras.balance_cache
        ):
            return succeed(cached)
        if self._balance_waiting is not None:
            waiter: Deferred[Balance] = Deferred()
            self._balance_waiting.append(waiter)
            return waiter
        self._balance_waiting = []
        return self.client.balance().addCallbacks(
            self._balance_answered, self._balance_failed, callbackArgs=(now,)
        )

    def _balance_failed(self, failure: Failure) -> Failure:
        """An unexpected error (the client's answers never fail): tell the waiters too."""
        waiting, self._balance_waiting = self._balance_waiting or [], None
        for waiter in waiting:
            waiter.errback(failure)
        return failure

    def _balance_answered(self, result: Any, asked_at: float) -> Balance:
        if result.ok:
            amounts = {k: float(v) for k, v in result.amounts.items()}
            product = self.extras.product
            if product in amounts:
                amount: float | None = amounts[product]
            elif len(amounts) == 1:
                amount = next(iter(amounts.values()))
            else:
                amount = sum(amounts.values()) if amounts else None
            balance = Balance(self.protocol, amount, None, amounts, asked_at)
            self._balance = balance
        else:
            code = f"vendor code {result.code}: " if result.code is not None else ""
            balance = Balance(self.protocol, None, f"{code}{result.reason}")
        waiting, self._balance_waiting = self._balance_waiting or [], None
        for waiter in waiting:
            waiter.callback(balance)
        return balance

    # -- sending -----------------------------------------------------------------------

    def _chunks(self, dests: Sequence[str], text: str) -> list[tuple[str, ...]]:
        """*dests* cut so that no request costs more than the rate limit's burst."""
        limits = self.description.limits
        if self.bucket is None or limits.count == "requests":
            return [tuple(dests)]
        size = max(1, int(self.bucket.burst // limits.cost(1, text)))
        return [tuple(dests[i : i + size]) for i in range(0, len(dests), size)]

    async def _take(self, cost: float) -> None:
        bucket = self.bucket
        if bucket is None:
            return
        cost = min(cost, bucket.burst)
        wait = bucket.delay_for(cost)
        while wait > 0:
            await deferLater(self.clock, wait, lambda: None)
            wait = bucket.delay_for(cost)
        bucket.try_take(cost)

    async def _submit(
        self,
        dests: tuple[str, ...],
        text: str,
        report: bool,
        src_ext: str,
        segment: PartLike,
    ) -> SegmentResult:
        msg_ids: list[str] = []
        results: list[int] = []
        refusal = ""
        limits = self.description.limits
        for chunk in self._chunks(dests, text):
            await self._take(limits.cost(len(chunk), text))
            batch = await self._send(chunk, text, report, src_ext)
            if batch.accepted:
                msg_ids.extend(i or "" for i in batch.msg_ids)
                results.extend([0] * len(chunk))
            else:
                code = f"vendor code {batch.code}: " if batch.code is not None else ""
                refusal = refusal or f"{self.description.name} {code}{batch.reason}"
                msg_ids.extend([""] * len(chunk))
                results.extend([_code(batch)] * len(chunk))
        if not any(r == 0 for r in results):
            raise VendorRefused(refusal)
        same_id = all(i == msg_ids[0] for i in msg_ids)
        mixed = any(results)
        return SegmentResult(
            dests,
            segment.pk_number,
            segment.pk_total,
            msg_ids[0],
            0 if not mixed else next(r for r in results if r),
            msg_ids=() if same_id else tuple(msg_ids),
            results=tuple(results) if mixed else (),
        )

    async def _send(
        self, numbers: tuple[str, ...], text: str, report: bool, src_ext: str
    ) -> BatchResult:
        """One request, retried with back-off while the failure may pass."""
        delay, cap, factor = self.throttle_backoff_s
        batch: BatchResult | None = None
        for attempt in range(1, self.max_attempts + 1):
            results = await self.client.send(
                numbers, text, report=report, extension=src_ext or None
            )
            # The channel's batches never exceed the vendor's max-numbers: one request.
            batch = results[0]
            if batch.accepted or not batch.retry:
                return batch
            self.log.warn(
                "{channel}: vendor {vendor} answered {code} ({reason}); attempt {attempt} "
                "of {attempts}, next in {delay} s",
                channel=self.name,
                vendor=self.description.name,
                code=batch.code,
                reason=batch.reason,
                attempt=attempt,
                attempts=self.max_attempts,
                delay=delay,
            )
            if attempt < self.max_attempts:
                await deferLater(self.clock, delay, lambda: None)
                delay = min(cap, delay * factor)
        assert batch is not None
        return batch

    # -- reports and MOs ---------------------------------------------------------------

    def event_of(self, record: ReportRecord | MoRecord) -> Event:
        """The gateway's neutral event for a vendor's record."""
        if isinstance(record, ReportRecord):
            return ReportEvent(
                self.name or "",
                record.msg_id,
                record.stat,
                record.number,
                delivered=record.delivered,
                final=record.final,
                done_at=record.done_at,
                err=record.error,
            )
        return MoEvent(
            self.name or "",
            record.number,
            self.config.src_id + record.extension,
            record.text.encode("utf-16-be"),
            _UCS2,
        )

    def deliver(self, record: ReportRecord | MoRecord) -> Deferred[Any]:
        """Hand *record* to the gateway; fires once it is stored."""
        return maybeDeferred(self.on_event, self.event_of(record))

    def push_resource(self) -> Resource | None:
        """``report`` and ``mo`` children for the vendor's pushes (under
        ``push_token`` when set), or None for a vendor that pushes nothing."""
        kinds = [
            (name, spec)
            for name, spec in (("report", self.description.reports), ("mo", self.description.mos))
            if spec is not None and spec.push
        ]
        if not kinds:
            return None
        top = Resource()
        parent = top
        if self.extras.push_token:
            parent = Resource()
            top.putChild(self.extras.push_token.encode("utf-8"), parent)
        for name, _ in kinds:
            parent.putChild(name.encode("ascii"), self.client.push_resource(name, self.deliver))
        return top

    async def pull_once(self) -> None:
        """Pull and store pending reports and MOs, until the vendor has no full page left.

        The next page is asked for while the last one is being stored (one
        page of records waits for its commit at a time).  A pull takes the
        records off the vendor (seed 001 ``/mo`` has no acknowledgement): one
        the store refuses is logged as lost.
        """
        if self._running_pull:
            return
        self._running_pull = True
        storing: Deferred[Any] | None = None
        try:
            while self.running:
                try:
                    records = await self.client.pull(PULL_SIZE)
                except VendorError as e:
                    self.log.warn("{channel}: pull failed: {reason}", channel=self.name,
                                  reason=e.reason)  # fmt: skip
                    return
                if storing is not None:
                    await storing
                # A page at once: the store commits it together.
                page = [self.deliver(r) for r in records]
                storing = DeferredList(page, consumeErrors=True).addCallback(self._lost)
                if len(records) < PULL_SIZE:
                    return
        finally:
            if storing is not None:
                await storing
            self._running_pull = False

    def _lost(self, outcomes: list[tuple[bool, Any]]) -> None:
        for ok, value in outcomes:
            if not ok:
                self.log.failure("{channel}: a pulled record was not stored (lost)", value,
                                 channel=self.name)  # fmt: skip
