"""The SP gateway: accept messages, send them through channels, take reports and MOs back.

Flow: :meth:`Gateway.accept` validates a request, renders
each recipient's text, splits it, picks the channel by number segment and
writes the message to the store.  The pump claims due segments per channel
(never more than the channel can have in flight), SUBMITs them (report-less
segments to up to 99 numbers at once) and records every SUBMIT_RESP.
Reports and MOs arrive as channel events; they are stored before the
DELIVER_RESP goes back, and pushed to the application's callbacks.

Modes: ``queue`` answers once the message is committed; ``async`` answers at
once and commits in the background (a crash in those milliseconds can lose
it); ``sync`` answers after every segment's SUBMIT_RESP.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, cast

import attrs
from twisted.application.service import MultiService
from twisted.internet.defer import Deferred, DeferredList, succeed
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsgw.sp.clients import Event, MoEvent, ReportEvent
from smsgw.sp.interfaces import IChannel, SegmentResult
from smsgw.sp.mo import MoInbox
from smsgw.sp.numbers import InvalidNumber, normalize_recipient
from smsgw.sp.routing import NoRoute, Router
from smsgw.sp.templates import TemplateError, render
from smsgw.store.interface import IClusterStore, IMessageStore
from smsgw.store.model import (
    InboundKind,
    Message,
    Mode,
    Recipient,
    Segment,
    SegmentState,
    SegmentWork,
    SubmitRecord,
    new_message_id,
)
from smsgw.text import TextEncodeError

if TYPE_CHECKING:
    from smsgw.metrics import Metrics
    from smsgw.sp.callbacks import CallbackSender

#: Most segments one recipient's text may take.
MAX_SEGMENTS = 10
#: How long a repeated external_id returns the first message.
IDEMPOTENCY_WINDOW_S = 24 * 3600.0


class RequestError(ValueError):
    """A send request the gateway refuses; ``field`` names what is wrong."""

    def __init__(self, code: str, message: str, field: str | None = None, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.status = status


@attrs.frozen
class Item:
    """One recipient of a request, with its own content or params if given."""

    to: str
    content: str | None = None
    params: Mapping[str, Any] | None = None


@attrs.frozen
class SendRequest:
    """A validated-in-shape ``POST /v1/sms`` body."""

    items: tuple[Item, ...]
    content: str | None = None
    template: str | None = None
    params: Mapping[str, Any] = attrs.field(factory=dict)
    report: bool = True
    src_ext: str = ""
    mode: Mode = Mode.QUEUE
    send_at: float | None = None
    channel: str | None = None
    external_id: str | None = None
    #: Whether the recipients came as ``items`` (errors then name ``items[i]``), not ``to``.
    from_items: bool = False


@attrs.frozen
class Accepted:
    """What :meth:`Gateway.accept` did: the message and the recipients it refused."""

    message: Message
    rejected: tuple[tuple[str, str], ...] = ()
    #: True when an earlier message with the same external_id was returned.
    repeated: bool = False
    #: sync mode: False when the wait for SUBMIT_RESPs timed out.
    complete: bool = True


class Gateway(MultiService):
    """Accept, queue, send, correlate: the SP role's core.

    :param store: an :class:`~smsgw.store.interface.IMessageStore`.
    :param channels: name → :class:`~smsgw.sp.interfaces.IChannel`; the
        gateway becomes their event handler and their service parent.
    :param router: picks the channel of each number.
    :param clock: the reactor.
    :param callbacks: a :class:`~smsgw.sp.callbacks.CallbackSender` or None.
    :param metrics: a :class:`~smsgw.metrics.Metrics` or None.
    """

    log = Logger()

    pump_interval_s = 0.2
    #: Claims one channel may have waiting for the store at once.
    max_claims = 2
    expire_interval_s = 60.0

    def __init__(
        self,
        store: IMessageStore,
        channels: Mapping[str, IChannel],
        router: Router,
        clock: IReactorTime,
        *,
        callbacks: CallbackSender | None = None,
        metrics: Metrics | None = None,
        report_wait_s: float = 48 * 3600.0,
        sync_timeout_s: float = 30.0,
        reclaim_after_s: float = 60.0,
    ) -> None:
        super().__init__()
        self.store = store
        self.channels = dict(channels)
        self.router = router
        self.clock = clock
        self.callbacks = callbacks
        self.metrics = metrics
        self.report_wait_s = report_wait_s
        self.sync_timeout_s = sync_timeout_s
        #: On a store shared by several nodes (IClusterStore): a segment claimed
        #: this long ago and still ``submitting`` is requeued for any node.
        self.reclaim_after_s = reclaim_after_s
        self.shared = IClusterStore.providedBy(store)
        self.in_flight: dict[str, int] = defaultdict(int)
        #: MOs, long ones reassembled from their parts (several nodes: from every node's).
        self.mo = MoInbox(store, clock, self._callback_url, shared=self.shared)
        self._waiters: dict[str, list[tuple[int, Deferred[None]]]] = defaultdict(list)
        self._done_segments: dict[str, int] = defaultdict(int)
        self._claiming: dict[str, int] = defaultdict(int)
        self._depth_at = float("-inf")
        self._children: dict[tuple[Any, ...], Any] = {}
        self._loops: list[LoopingCall] = []
        #: Each loop's Deferred: fires once the loop is stopped and its last run is over.
        self._loops_done: list[Deferred[LoopingCall | None]] = []
        for channel in self.channels.values():
            channel.on_event = self._event
            channel.setServiceParent(self)

    # -- life --------------------------------------------------------------

    def startService(self) -> None:
        super().startService()
        d = Deferred.fromCoroutine(self._restore_then_requeue())
        d.addCallback(self._started)
        d.addErrback(lambda f: self.log.failure("gateway: cannot start the queue", f))

    async def _restore_then_requeue(self) -> int:
        """Read back held MO parts, then requeue what was in flight; how many segments."""
        await self.mo.restore()
        if not self.running:  # stopped meanwhile: the store may be closed
            return 0
        return await self.store.requeue_submitting()

    def _started(self, requeued: int) -> None:
        if not self.running:
            # Stopped before the store answered: starting the loops now would
            # leave them running against a closed store.
            return
        if requeued:
            self.log.warn(
                "gateway: {n} segments were in flight at the last stop; they are sent again",
                n=requeued,
            )
        loops: list[tuple[Callable[[], object], float]] = [
            (self.kick, self.pump_interval_s),
            (self._survives(self._expire), self.expire_interval_s),
        ]
        if self.shared:
            loops += [
                (self._survives(self._reclaim), self.reclaim_after_s / 4),
                (self._survives(self._poll_waiters), self.pump_interval_s),
            ]
        for fn, period in loops:
            loop = LoopingCall(fn)
            loop.clock = self.clock
            done = loop.start(period, now=True).addErrback(
                lambda f: self.log.failure("gateway loop failed", f)
            )
            self._loops.append(loop)
            self._loops_done.append(done)

    def stopService(self) -> Deferred[None]:
        """Stop the loops, wait for a run still in progress (it uses the store), then stop."""
        for loop in self._loops:
            if loop.running:
                loop.stop()
        done, self._loops_done = self._loops_done, []
        self._loops.clear()
        d = DeferredList(done)
        d.addCallback(lambda _: super(Gateway, self).stopService())
        return d  # type: ignore[return-value]

    # -- accepting ---------------------------------------------------------

    async def accept(self, request: SendRequest) -> Accepted:
        """Validate, render, split, route and store one request.

        :raises RequestError: naming the field, when nothing can be sent.
        """
        now = self.clock.seconds()
        if request.external_id:
            earlier = await self.store.find_by_external_id(
                request.external_id, now - IDEMPOTENCY_WINDOW_S
            )
            if earlier is not None:
                return Accepted(earlier, repeated=True)
        if request.send_at is not None and request.send_at < now - 1:
            raise RequestError("bad_field", "send_at is in the past", "send_at")
        if request.mode is Mode.SYNC and request.send_at is not None and request.send_at > now:
            raise RequestError("bad_field", "sync mode cannot wait for send_at", "mode")
        if request.channel is not None and request.channel not in self.channels:
            raise RequestError("unknown_channel", f"no channel {request.channel!r}", "channel")
        template = None
        if request.template is not None:
            template = await self.store.get_template(request.template)
            if template is None:
                raise RequestError(
                    "unknown_template", f"no template {request.template!r}", "template", 404
                )
        recipients: list[Recipient] = []
        rejected: list[tuple[str, str]] = []
        split: dict[tuple[str, str], tuple[Segment, ...]] = {}
        for i, item in enumerate(request.items):
            try:
                recipients.append(self._recipient(request, item, template, split))
            except (InvalidNumber, NoRoute) as e:
                rejected.append((item.to, str(e)))
            except TemplateError as e:
                field = e.field or "params"
                if request.from_items and item.params is not None:
                    field = f"items[{i}].{field}"
                raise RequestError("bad_template_params", str(e), field) from None
        if not recipients:
            field = "items" if request.from_items else "to"
            raise RequestError(
                "no_valid_recipient",
                "no recipient can be sent to: "
                + "; ".join(f"{to}: {why}" for to, why in rejected[:5]),
                field,
            )
        message = Message(
            id=new_message_id(now),
            created_at=now,
            recipients=tuple(recipients),
            mode=request.mode,
            send_at=request.send_at,
            channel=request.channel,
            report=request.report,
            src_ext=request.src_ext,
            external_id=request.external_id,
        )
        if self.metrics is not None:
            self._metric(self.metrics.accepted, str(request.mode)).inc()
        if request.mode is Mode.ASYNC:
            # Answer first; the write commits in the background.
            self.store.add_message(message).addCallbacks(
                lambda _: self.kick(),
                lambda f: self.log.failure("async message {id} not stored", f, id=message.id),
            )
            return Accepted(message, tuple(rejected))
        await self.store.add_message(message)
        self.kick()
        if request.mode is Mode.SYNC:
            complete = await self._wait_submitted(message)
            stored = await self.store.get_message(message.id)
            return Accepted(stored or message, tuple(rejected), complete=complete)
        return Accepted(message, tuple(rejected))

    def _recipient(
        self,
        request: SendRequest,
        item: Item,
        template: Any,
        split: dict[tuple[str, str], tuple[Segment, ...]],
    ) -> Recipient:
        """*item* as a recipient; *split* keeps the request's one-segment texts already split."""
        to = normalize_recipient(item.to)
        channel = self.router.choose(to, request.channel)
        if item.content is not None:
            text = item.content
        elif request.content is not None and template is None:
            text = request.content
        else:
            params = {**request.params, **(item.params or {})}
            text = render(str(template.engine), template.body, params, to)
        if not text:
            raise RequestError("bad_field", "the content is empty", "content")
        segments = split.get((text, channel))
        if segments is not None:
            return Recipient(to=to, channel=channel, segments=segments)
        try:
            parts = self.channels[channel].segments(text)
        except ValueError as e:
            # More than a UDH's 255 segments, or a text the channel's Msg_Fmt
            # cannot encode: the request's fault, never a 500.
            code = "bad_field" if isinstance(e, TextEncodeError) else "too_long"
            raise RequestError(code, f"the text cannot be sent: {e}", "content") from None
        if len(parts) > MAX_SEGMENTS:
            raise RequestError(
                "too_long",
                f"the text takes {len(parts)} segments; at most {MAX_SEGMENTS}",
                "content",
            )
        segments = tuple(
            Segment(
                pk_number=s.pk_number,
                pk_total=s.pk_total,
                content=s.content,
                msg_fmt=s.msg_fmt,
                tp_udhi=s.tp_udhi,
            )
            for s in parts
        )
        if len(segments) == 1:
            # No UDH, hence no reference number: every recipient of the channel
            # gets the same bytes (and Segment is frozen, so they may share it).
            split[text, channel] = segments
        return Recipient(to=to, channel=channel, segments=segments)

    def _wait_submitted(self, message: Message) -> Deferred[bool]:
        total = sum(len(r.segments) for r in message.recipients)
        d: Deferred[None] = Deferred()
        self._waiters[message.id].append((total, d))
        self._check_waiters(message.id)
        d.addTimeout(self.sync_timeout_s, self.clock)
        result: Deferred[bool] = Deferred()
        d.addCallbacks(lambda _: result.callback(True), lambda f: result.callback(False))
        return result

    def _check_waiters(self, message_id: str) -> None:
        done = self._done_segments.get(message_id, 0)
        waiters = self._waiters.get(message_id)
        if not waiters:
            return
        still = []
        for total, d in waiters:
            if done >= total:
                if not d.called:
                    d.callback(None)
            else:
                still.append((total, d))
        if still:
            self._waiters[message_id] = still
        else:
            self._waiters.pop(message_id, None)
            self._done_segments.pop(message_id, None)

    # -- the pump ----------------------------------------------------------

    def capacity(self, channel: IChannel) -> int:
        """Segments the gateway lets one channel have in flight."""
        return max(1, channel.capacity())

    def kick(self) -> None:
        """Claim and send whatever is due, now.

        Each claim reserves its slots in :attr:`in_flight` before it asks the
        store, so claims may overlap (a store round trip takes a commit)
        without exceeding :meth:`capacity`; a channel claims only once half
        its slots are free (or none is in flight), so that claims stay large.
        """
        now = self.clock.seconds()
        for name, channel in self.channels.items():
            capacity = self.capacity(channel)
            in_flight = self.in_flight[name]
            free = capacity - in_flight
            if free <= 0 or not channel.ready() or (in_flight and free < capacity // 2):
                continue
            if self._claiming[name] >= self.max_claims:
                continue
            self.in_flight[name] += free
            self._claiming[name] += 1
            d = self.store.claim_due(now, free, channel=name)
            d.addBoth(self._claimed, channel, free)
        if self.metrics is not None and now - self._depth_at >= self.pump_interval_s:
            # A COUNT over the queue index: not on every kick (every SUBMIT_RESP kicks).
            self._depth_at = now
            self.store.queue_depth().addCallbacks(
                self.metrics.queue_depth.set,
                lambda f: self.log.failure("gateway: queue depth", f),
            )

    def _claimed(
        self, works: list[SegmentWork] | Failure, channel: IChannel, reserved: int
    ) -> None:
        self._claiming[channel.name] -= 1
        self.in_flight[channel.name] -= reserved
        if isinstance(works, Failure):
            self.log.failure("gateway: claiming from the queue failed", works)
            return
        for group in _group(works, channel.max_dests):
            self._send(channel, group)
        if not works and self.metrics is not None:
            self._metric(self.metrics.in_flight, channel.name).set(self.in_flight[channel.name])

    def _send(self, channel: IChannel, group: list[SegmentWork]) -> None:
        name = channel.name
        first = group[0]
        self.in_flight[name] += len(group)
        if self.metrics is not None:
            self._metric(self.metrics.in_flight, name).set(self.in_flight[name])
        # The work as the store handed it out is what the client builds the SUBMIT from.
        d = channel.submit_segment(
            tuple(w.to for w in group), first, report=first.report, src_ext=first.src_ext
        )
        # Plain callbacks, not coroutines: this runs for every SUBMIT.
        recorded: Deferred[None] = d.addCallbacks(
            self._submitted,
            lambda f: Deferred.fromCoroutine(self._not_submitted(f, channel, group)),
            callbackArgs=(channel, group),
        )
        recorded.addErrback(self._not_recorded)

    def _not_recorded(self, failure: Failure) -> None:
        self.log.failure("gateway: recording a SUBMIT failed", failure)

    def _submitted(
        self, result: SegmentResult, channel: IChannel, group: list[SegmentWork]
    ) -> None:
        """Record a SUBMIT_RESP; its store write ends its own chain (one Deferred a SUBMIT)."""
        now = self.clock.seconds()
        if result.msg_ids or result.results:
            records = []
            for i, w in enumerate(group):
                msg_id, code = result.outcome(i)
                reason = result.reason if code == result.result and result.reason else None
                accepted = msg_id if code == 0 else None
                records.append(SubmitRecord(w.key, code, accepted, now, reason))
        else:
            shared = result.msg_id if result.result == 0 else None
            reason = result.reason or None
            records = [SubmitRecord(w.key, result.result, shared, now, reason) for w in group]
        # A report held for this Msg_Id is matched, stored and its push written in this commit.
        d = self.store.segment_submitted_many(
            records, callback_url=self._callback_url(InboundKind.REPORT)
        )
        # The SUBMIT is answered: its slot is free for the next claim while the
        # record commits (the segment stays ``submitting`` until then).
        self._release(channel, group)

        def recorded(outcomes: object) -> None:
            self._recorded(group)
            if isinstance(outcomes, Failure):
                self._not_recorded(outcomes)
            elif self.metrics is not None:
                self._metric(self.metrics.submitted, channel.name, str(result.result)).inc(
                    len(group)
                )

        d.addBoth(recorded)

    async def _not_submitted(
        self, failure: Failure, channel: IChannel, group: list[SegmentWork]
    ) -> None:
        now = self.clock.seconds()
        reason = failure.getErrorMessage()
        self.log.warn("{channel}: SUBMIT failed: {why}", channel=channel.name, why=reason)
        self._release(channel, group)
        try:
            for w in group:
                await self.store.segment_failed(w.key, reason, now)
        finally:
            self._recorded(group)

    def _release(self, channel: IChannel, group: list[SegmentWork]) -> None:
        """*group*'s SUBMIT is over: free its slots and claim more."""
        self.in_flight[channel.name] -= len(group)
        if self.metrics is not None:
            self._metric(self.metrics.in_flight, channel.name).set(self.in_flight[channel.name])
        self.kick()

    def _recorded(self, group: list[SegmentWork]) -> None:
        """*group*'s outcome is stored: sync-mode requests waiting for it may answer."""
        for w in group:
            self._done_segments[w.key.message_id] += 1
            self._check_waiters(w.key.message_id)

    def _survives(
        self, job: Callable[[], Coroutine[Any, Any, None]]
    ) -> Callable[[], Deferred[None]]:
        """*job* for a LoopingCall that goes on after a failed run (a store briefly down).

        A LoopingCall stops for good when a run fails; the failure is logged
        here instead, and the next run comes at its time.
        """

        name = getattr(job, "__name__", "a loop")

        def failed(f: Failure) -> None:
            self.log.failure("gateway: {job} failed; again at its next run", f, job=name)

        def run() -> Deferred[None]:
            return Deferred.fromCoroutine(job()).addErrback(failed)

        return run

    async def _reclaim(self) -> None:
        """Several nodes: requeue segments a peer claimed too long ago (it died mid-window)."""
        store = cast(IClusterStore, self.store)
        n = await store.reclaim_stale(self.clock.seconds() - self.reclaim_after_s)
        if n:
            self.log.warn(
                "gateway: {n} segments claimed over {s} s ago by a node that never sent them "
                "back are queued again (they may be sent twice)",
                n=n,
                s=self.reclaim_after_s,
            )

    async def _poll_waiters(self) -> None:
        """Several nodes: a sync request's segments may be sent by a peer; ask the store."""
        for message_id in list(self._waiters):
            message = await self.store.get_message(message_id)
            if message is None:
                continue
            done = sum(
                1
                for r in message.recipients
                for seg in r.segments
                if seg.state not in (SegmentState.QUEUED, SegmentState.SUBMITTING)
            )
            if done > self._done_segments.get(message_id, 0):
                self._done_segments[message_id] = done
                self._check_waiters(message_id)

    async def _expire(self) -> None:
        now = self.clock.seconds()
        expired = await self.store.expire_reports(now - self.report_wait_s)
        await self.store.drop_held_reports(now - self.report_wait_s)
        if expired:
            self.log.info("gateway: {n} segments expired without a report", n=expired)
        await self.mo.expire(now)

    # -- reports and MOs ----------------------------------------------------

    def _event(self, event: Event) -> Deferred[None]:
        if isinstance(event, ReportEvent):
            return self._report(event)  # the hot path: no coroutine
        return Deferred.fromCoroutine(self.on_event(event))

    def _callback_url(self, kind: InboundKind) -> str | None:
        """Where items of *kind* are pushed, or None."""
        return None if self.callbacks is None else self.callbacks.urls.get(kind)

    def _report(self, event: ReportEvent) -> Deferred[None]:
        """Store a report (final ones only) with its push; fires once both are committed.

        The channel sends DELIVER_RESP only then: a crash before it loses
        nothing (the carrier sends the report again), and after it the
        inbound item and the push row are both on disk.
        """
        now = self.clock.seconds()
        if self.metrics is not None:
            self._metric(self.metrics.reports, event.channel, event.stat).inc()
        if not event.final:
            return succeed(None)
        d = self.store.record_report(
            event.channel,
            event.msg_id,
            event.stat,
            now if event.done_at is None else event.done_at,
            to=event.dest or None,
            now=now,
            delivered=event.delivered,
            err=event.err,
            callback_url=self._callback_url(InboundKind.REPORT),
        )
        stored: Deferred[None] = d.addCallback(_nothing)
        return stored

    async def on_event(self, event: Event) -> None:
        """Store a report or MO; the channel answers the gateway only after this."""
        now = self.clock.seconds()
        if isinstance(event, ReportEvent):
            await self._report(event)
        elif isinstance(event, MoEvent):
            await self.mo.part(event, now)

    def _metric(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, looked up once (labels() is slow on the hot paths)."""
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child


def _nothing(_: object) -> None:
    return None


def _group(works: list[SegmentWork], max_dests: Callable[[bool], int]) -> list[list[SegmentWork]]:
    """Segments with the same bytes go out together, as many numbers a SUBMIT as the channel takes.

    :param max_dests: the channel's :meth:`~smsgw.sp.interfaces.IChannel.max_dests`.
    """
    groups: list[list[SegmentWork]] = []
    shared: dict[tuple[Any, ...], list[SegmentWork]] = {}
    limits = {True: max_dests(True), False: max_dests(False)}
    for w in works:
        limit = limits[w.report]
        if limit <= 1:
            groups.append([w])
            continue
        key = (w.channel, w.content, w.msg_fmt, w.tp_udhi, w.pk_number, w.pk_total, w.src_ext,
               w.report)  # fmt: skip
        group = shared.get(key)
        if group is None or len(group) >= limit:
            group = shared[key] = []
            groups.append(group)
        group.append(w)
    return groups
