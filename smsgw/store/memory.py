"""An in-memory :class:`~smsgw.store.interface.IMessageStore` for unit tests.

Same contract as :class:`~smsgw.store.sqlite.SqliteStore` (the contract
suite runs against both) but nothing survives the process.  Every method
returns an already-fired Deferred, so ``successResultOf`` works on it in a
``SynchronousTestCase``.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import attrs
from twisted.internet.defer import Deferred, fail, succeed
from twisted.python.failure import Failure
from zope.interface import implementer

from smsgw.store.interface import (
    DuplicateMessage,
    IMessageStore,
    InvalidTransition,
    StoreClosed,
    TemplateExists,
    UnknownCallback,
    UnknownSegment,
)
from smsgw.store.matching import match_report
from smsgw.store.model import (
    CallbackAttempt,
    CallbackState,
    Inbound,
    InboundKind,
    Message,
    MoGroup,
    MoPart,
    ReportMatch,
    ReportOutcome,
    Segment,
    SegmentKey,
    SegmentState,
    SegmentWork,
    StatusReport,
    SubmitRecord,
    Template,
    validate_message,
)
from smsgw.store.payload import report_payload

__all__ = ["MemoryStore"]

_T = TypeVar("_T")

_SENDABLE = (SegmentState.QUEUED, SegmentState.SUBMITTING)


@attrs.frozen
class _Found:
    """A segment under a report's Msg_Id, for :func:`match_report`."""

    message_seq: int
    key: SegmentKey
    state: SegmentState
    stat: str | None


@attrs.define
class _State:
    """Everything the store holds; copied whole for all-or-nothing batches."""

    messages: dict[str, Message] = attrs.Factory(dict)
    #: message id -> insertion number (orders messages like SQLite's rowid).
    order: dict[str, int] = attrs.Factory(dict)
    #: (channel, msg_id) -> segments submitted under it.
    by_msg_id: dict[tuple[str, str], list[SegmentKey]] = attrs.Factory(dict)
    #: Reports whose Msg_Id no segment has yet.
    held: list[StatusReport] = attrs.Factory(list)
    inbound: list[Inbound] = attrs.Factory(list)
    fetched: set[int] = attrs.Factory(set)
    dedup: set[tuple[str, str, str]] = attrs.Factory(set)
    templates: dict[str, Template] = attrs.Factory(dict)
    callbacks: dict[int, CallbackAttempt] = attrs.Factory(dict)
    #: (group, part number) -> the part, in the order received.
    mo_parts: dict[tuple[MoGroup, int], MoPart] = attrs.Factory(dict)


@implementer(IMessageStore)
class MemoryStore:
    """:class:`IMessageStore` in dictionaries."""

    def __init__(self) -> None:
        self._state = _State()
        self._message_ids = itertools.count(1)
        self._inbound_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._closed = False

    # -- plumbing ----------------------------------------------------------

    def _call(self, fn: Callable[..., _T], *args: Any) -> Deferred[_T]:
        if self._closed:
            return fail(StoreClosed("the store is closed"))
        try:
            return succeed(fn(*args))
        except Exception:
            return fail(Failure())

    def _atomic(self, fn: Callable[..., _T], *args: Any) -> Deferred[_T]:
        """Run *fn*; on error put everything back as it was."""
        saved = copy.deepcopy(self._state)

        def guarded(*a: Any) -> _T:
            try:
                return fn(*a)
            except Exception:
                self._state = saved
                raise

        return self._call(guarded, *args)

    def _message(self, key: SegmentKey) -> tuple[Message, Segment]:
        message = self._state.messages.get(key.message_id)
        if message is None:
            raise UnknownSegment(key)
        try:
            return message, message.segment(key)
        except KeyError:
            raise UnknownSegment(key) from None

    def _update(self, key: SegmentKey, **changes: Any) -> Message:
        """Replace one segment's fields; the new message."""
        message, segment = self._message(key)
        recipients = list(message.recipients)
        recipient = recipients[key.recipient]
        segments = list(recipient.segments)
        segments[key.pk_number - 1] = attrs.evolve(segment, **changes)
        recipients[key.recipient] = attrs.evolve(recipient, segments=tuple(segments))
        message = attrs.evolve(message, recipients=tuple(recipients))
        self._state.messages[message.id] = message
        return message

    def _keys(self, message: Message) -> list[SegmentKey]:
        return [
            SegmentKey(message.id, index, segment.pk_number)
            for index, recipient in enumerate(message.recipients)
            for segment in recipient.segments
        ]

    # -- messages ----------------------------------------------------------

    def _add(self, message: Message) -> None:
        validate_message(message)
        if message.id in self._state.messages:
            raise DuplicateMessage(message.id)
        self._state.messages[message.id] = message
        self._state.order[message.id] = next(self._message_ids)

    def add_message(self, message: Message) -> Deferred[None]:
        return self._call(self._add, message)

    def add_messages(self, messages: Sequence[Message]) -> Deferred[None]:
        def add_all() -> None:
            for message in messages:
                self._add(message)

        return self._atomic(add_all)

    def get_message(self, message_id: str) -> Deferred[Message | None]:
        return self._call(self._state.messages.get, message_id)

    def find_by_external_id(self, external_id: str, since: float) -> Deferred[Message | None]:
        def find() -> Message | None:
            found = [
                m
                for m in self._state.messages.values()
                if m.external_id == external_id and m.created_at >= since
            ]
            return max(found, key=lambda m: (m.created_at, self._state.order[m.id]), default=None)

        return self._call(find)

    # -- the send queue ----------------------------------------------------

    def claim_due(
        self, now: float, limit: int, channel: str | None = None
    ) -> Deferred[list[SegmentWork]]:
        def claim() -> list[SegmentWork]:
            due = []
            for message in self._state.messages.values():
                if message.due_at > now:
                    continue
                for key in self._keys(message):
                    recipient = message.recipients[key.recipient]
                    segment = message.segment(key)
                    if segment.state is SegmentState.QUEUED and channel in (
                        None,
                        recipient.channel,
                    ):
                        due.append((message.due_at, self._state.order[message.id], key))
            due.sort(key=lambda t: (t[0], t[1], t[2].recipient, t[2].pk_number))
            work = []
            for _, _, key in due[: max(limit, 0)]:
                _, segment = self._message(key)
                message = self._update(
                    key, state=SegmentState.SUBMITTING, attempts=segment.attempts + 1
                )
                recipient = message.recipients[key.recipient]
                segment = message.segment(key)
                work.append(
                    SegmentWork(
                        key=key,
                        to=recipient.to,
                        channel=recipient.channel,
                        pk_number=segment.pk_number,
                        pk_total=segment.pk_total,
                        content=segment.content,
                        msg_fmt=segment.msg_fmt,
                        tp_udhi=segment.tp_udhi,
                        report=message.report,
                        src_ext=message.src_ext,
                        attempts=segment.attempts,
                    )
                )
            return work

        return self._call(claim)

    def _submitted(self, record: SubmitRecord, callback_url: str | None) -> list[ReportOutcome]:
        # Every check comes before the first change, so a failed call changes nothing.
        message, segment = self._message(record.key)
        if segment.state not in _SENDABLE:
            if (segment.result, segment.msg_id) == (record.result, record.msg_id):
                return []
            raise InvalidTransition(f"{record.key}: SUBMIT_RESP for a {segment.state} segment")
        if record.result != 0:
            self._update(
                record.key,
                state=SegmentState.FAILED,
                result=record.result,
                msg_id=record.msg_id,
                error=record.error or f"result {record.result}",
                submitted_at=record.now,
            )
            return []
        if record.msg_id is None:
            raise ValueError(f"{record.key}: Result 0 without a msg_id")
        message = self._update(
            record.key,
            state=SegmentState.SUBMITTED,
            result=0,
            msg_id=record.msg_id,
            submitted_at=record.now,
        )
        channel = message.recipients[record.key.recipient].channel
        to = message.recipients[record.key.recipient].to
        self._state.by_msg_id.setdefault((channel, record.msg_id), []).append(record.key)
        held = next(
            (
                h
                for h in self._state.held
                if (h.channel, h.msg_id) == (channel, record.msg_id) and h.to in (None, to)
            ),
            None,
        )
        if held is None:
            return []
        # The report that overtook its SUBMIT_RESP, and any copy of it for this number.
        self._state.held = [
            h
            for h in self._state.held
            if h is not held and (h.channel, h.msg_id, h.to) != (channel, record.msg_id, to)
        ]
        return [self._apply_report(held, message.id, [record.key], record.now, callback_url)]

    def segment_submitted(
        self,
        key: SegmentKey,
        result: int,
        msg_id: str | None,
        now: float,
        *,
        callback_url: str | None = None,
    ) -> Deferred[list[ReportOutcome]]:
        return self._call(self._submitted, SubmitRecord(key, result, msg_id, now), callback_url)

    def segment_submitted_many(
        self, records: Sequence[SubmitRecord], *, callback_url: str | None = None
    ) -> Deferred[list[ReportOutcome]]:
        def submit_all() -> list[ReportOutcome]:
            return [o for record in records for o in self._submitted(record, callback_url)]

        return self._atomic(submit_all)

    def segment_failed(self, key: SegmentKey, reason: str, now: float) -> Deferred[None]:
        def failed() -> None:
            _, segment = self._message(key)
            if segment.state is SegmentState.FAILED:
                return
            if segment.state not in _SENDABLE:
                raise InvalidTransition(f"{key}: cannot fail a {segment.state} segment")
            self._update(key, state=SegmentState.FAILED, error=reason, submitted_at=now)

        return self._call(failed)

    def requeue_submitting(self) -> Deferred[int]:
        def requeue() -> int:
            count = 0
            for message in list(self._state.messages.values()):
                for key in self._keys(message):
                    if message.segment(key).state is SegmentState.SUBMITTING:
                        self._update(key, state=SegmentState.QUEUED)
                        count += 1
            return count

        return self._call(requeue)

    def queue_depth(self) -> Deferred[int]:
        def depth() -> int:
            return sum(
                s.state is SegmentState.QUEUED
                for m in self._state.messages.values()
                for r in m.recipients
                for s in r.segments
            )

        return self._call(depth)

    # -- status reports ----------------------------------------------------

    def _apply_report(
        self,
        report: StatusReport,
        message_id: str,
        keys: list[SegmentKey],
        now: float,
        callback_url: str | None,
    ) -> ReportOutcome:
        """Set *report* on *keys*; one inbound ``report`` item (and push) per segment."""
        state = SegmentState.DELIVERED if report.delivered else SegmentState.UNDELIVERED
        message = self._state.messages[message_id]
        for key in keys:
            message = self._update(
                key,
                state=state,
                stat=report.stat,
                done_at=report.done_at,
                reported_at=report.received_at,
            )
        for key in keys:
            recipient = message.recipients[key.recipient]
            fields = report_payload(
                channel=report.channel,
                message_id=message.id,
                external_id=message.external_id,
                to=recipient.to,
                msg_id=report.msg_id,
                pk_number=key.pk_number,
                pk_total=len(recipient.segments),
                stat=report.stat,
                err=report.err,
                segment_status=str(state),
                message_status=str(message.status),
                done_at=report.done_at,
                received_at=report.received_at,
            )
            self._put_inbound(
                Inbound(InboundKind.REPORT, report.channel, fields, now), callback_url
            )
        return ReportOutcome(
            ReportMatch.MATCHED,
            report.channel,
            report.msg_id,
            report.stat,
            message.id,
            keys,
            message.status,
        )

    def record_report(
        self,
        channel: str,
        msg_id: str,
        stat: str,
        done_at: float,
        raw: bytes = b"",
        *,
        to: str | None = None,
        now: float | None = None,
        delivered: bool | None = None,
        err: str = "",
        callback_url: str | None = None,
    ) -> Deferred[ReportOutcome]:
        report = StatusReport.of(
            channel, msg_id, stat, done_at, raw, to=to, now=now, delivered=delivered, err=err
        )

        def record() -> ReportOutcome:
            found = []
            for k in self._state.by_msg_id.get((channel, msg_id), []):
                message, segment = self._message(k)
                if to is None or message.recipients[k.recipient].to == to:
                    found.append(_Found(self._state.order[k.message_id], k, segment.state,
                                        segment.stat))  # fmt: skip
            decision = match_report(
                found,
                lambda: any((h.channel, h.msg_id, h.to) == (channel, msg_id, to)
                            for h in self._state.held),
            )  # fmt: skip
            if decision.match is ReportMatch.HELD:
                self._state.held.append(report)
            if not decision.owner:
                return ReportOutcome(decision.match, channel, msg_id, stat)
            owner = decision.owner[0].key.message_id
            if decision.match is ReportMatch.DUPLICATE:
                return ReportOutcome(
                    ReportMatch.DUPLICATE,
                    channel,
                    msg_id,
                    stat,
                    owner,
                    [c.key for c in decision.owner],
                    self._state.messages[owner].status,
                )
            keys = [c.key for c in decision.apply]
            return self._apply_report(report, owner, keys, report.received_at, callback_url)

        return self._call(record)

    def drop_held_reports(self, older_than: float) -> Deferred[int]:
        def drop() -> int:
            before = len(self._state.held)
            self._state.held = [h for h in self._state.held if h.received_at >= older_than]
            return before - len(self._state.held)

        return self._call(drop)

    def expire_reports(self, older_than: float) -> Deferred[int]:
        def expire() -> int:
            count = 0
            for message in list(self._state.messages.values()):
                if not message.report:
                    continue
                for key in self._keys(message):
                    segment = message.segment(key)
                    if (
                        segment.state is SegmentState.SUBMITTED
                        and segment.stat is None
                        and segment.submitted_at is not None
                        and segment.submitted_at < older_than
                    ):
                        self._update(key, state=SegmentState.EXPIRED)
                        count += 1
            return count

        return self._call(expire)

    # -- inbound items -----------------------------------------------------

    def _put_inbound(self, item: Inbound, callback_url: str | None = None) -> int | None:
        # Kept as SQLite keeps it: a JSON copy of the fields (so non-JSON data fails here too).
        text = json.dumps(dict(item.fields), ensure_ascii=False)
        fields = json.loads(text)
        kind = InboundKind(item.kind)
        if item.dedup_key is not None:
            dedup = (str(kind), item.channel, item.dedup_key)
            if dedup in self._state.dedup:
                return None
            self._state.dedup.add(dedup)
        item_id = next(self._inbound_ids)
        self._state.inbound.append(attrs.evolve(item, kind=kind, id=item_id, fields=fields))
        if callback_url is not None:
            self._add_callback(kind, callback_url, text, item.created_at)
        return item_id

    def add_inbound(
        self, item: Inbound, *, callback_url: str | None = None, parts: MoGroup | None = None
    ) -> Deferred[int | None]:
        def put() -> int | None:
            if parts is not None:
                held = [k for k in self._state.mo_parts if k[0] == parts]
                for key in held:
                    del self._state.mo_parts[key]
                if not held:
                    return None  # no ticket: the group was stored already
            return self._put_inbound(item, callback_url)

        return self._atomic(put)

    def add_mo_part(self, part: MoPart) -> Deferred[bool]:
        def add() -> bool:
            key = (part.group, part.number)
            if key in self._state.mo_parts:
                return False
            self._state.mo_parts[key] = part
            return True

        return self._call(add)

    def mo_parts(self) -> Deferred[list[MoPart]]:
        return self._call(lambda: list(self._state.mo_parts.values()))

    def mo_group_parts(self, group: MoGroup) -> Deferred[list[MoPart]]:
        return self._call(lambda: [p for p in self._state.mo_parts.values() if p.group == group])

    def fetch_inbound(self, limit: int) -> Deferred[list[Inbound]]:
        def fetch() -> list[Inbound]:
            items = [i for i in self._state.inbound if i.id not in self._state.fetched]
            items = items[: max(limit, 0)]
            self._state.fetched.update(i.id for i in items if i.id is not None)
            return items

        return self._call(fetch)

    def list_inbound(self, after: int, limit: int) -> Deferred[list[Inbound]]:
        def listed() -> list[Inbound]:
            items = [i for i in self._state.inbound if i.id is not None and i.id > after]
            return items[: max(limit, 0)]

        return self._call(listed)

    def ack_inbound(self, through: int) -> Deferred[int]:
        def ack() -> int:
            ids = {i.id for i in self._state.inbound if i.id is not None and i.id <= through}
            new = ids - self._state.fetched
            self._state.fetched.update(new)
            return len(new)

        return self._call(ack)

    # -- templates ---------------------------------------------------------

    def put_template(self, template: Template, replace: bool = True) -> Deferred[bool]:
        def put() -> bool:
            old = self._state.templates.get(template.name)
            if old is not None and not replace:
                raise TemplateExists(template.name)
            if old is not None:
                template_ = attrs.evolve(template, created_at=old.created_at)
            else:
                template_ = template
            self._state.templates[template.name] = template_
            return old is None

        return self._call(put)

    def get_template(self, name: str) -> Deferred[Template | None]:
        return self._call(self._state.templates.get, name)

    def list_templates(self) -> Deferred[list[Template]]:
        return self._call(lambda: sorted(self._state.templates.values(), key=lambda t: t.name))

    def delete_template(self, name: str) -> Deferred[bool]:
        return self._call(lambda: self._state.templates.pop(name, None) is not None)

    # -- callback attempts -------------------------------------------------

    def _add_callback(self, kind: InboundKind, url: str, payload: str, next_at: float) -> int:
        json.loads(payload)
        callback_id = next(self._callback_ids)
        self._state.callbacks[callback_id] = CallbackAttempt(
            callback_id, InboundKind(kind), url, payload, CallbackState.PENDING, next_at
        )
        return callback_id

    def add_callback(
        self, kind: InboundKind, url: str, payload: str, next_at: float
    ) -> Deferred[int]:
        return self._call(self._add_callback, kind, url, payload, next_at)

    def get_callback(self, callback_id: int) -> Deferred[CallbackAttempt | None]:
        return self._call(self._state.callbacks.get, callback_id)

    def due_callbacks(self, now: float, limit: int) -> Deferred[list[CallbackAttempt]]:
        def due() -> list[CallbackAttempt]:
            pending = [
                c
                for c in self._state.callbacks.values()
                if c.state is CallbackState.PENDING and c.next_at is not None and c.next_at <= now
            ]
            pending.sort(key=lambda c: (c.next_at, c.id))
            return pending[: max(limit, 0)]

        return self._call(due)

    def _pending_callback(self, callback_id: int) -> CallbackAttempt:
        callback = self._state.callbacks.get(callback_id)
        if callback is None:
            raise UnknownCallback(callback_id)
        if callback.state is not CallbackState.PENDING:
            raise InvalidTransition(f"callback {callback_id} is {callback.state}")
        return callback

    def callback_done(self, callback_id: int, now: float) -> Deferred[None]:
        def done() -> None:
            callback = self._pending_callback(callback_id)
            self._state.callbacks[callback_id] = attrs.evolve(
                callback,
                state=CallbackState.DONE,
                attempts=callback.attempts + 1,
                next_at=None,
                done_at=now,
            )

        return self._call(done)

    def callback_failed(
        self, callback_id: int, error: str, next_at: float | None
    ) -> Deferred[None]:
        def failed() -> None:
            callback = self._pending_callback(callback_id)
            self._state.callbacks[callback_id] = attrs.evolve(
                callback,
                state=CallbackState.PENDING if next_at is not None else CallbackState.FAILED,
                attempts=callback.attempts + 1,
                next_at=next_at,
                last_error=error,
            )

        return self._call(failed)

    # -- life --------------------------------------------------------------

    def close(self) -> Deferred[None]:
        self._closed = True
        return succeed(None)
