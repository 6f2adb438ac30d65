r"""Value classes of the message store (the message states are the HTTP API's).

Everything here is plain data: frozen ``attrs`` classes and ``StrEnum``\ s
whose values are the strings of the HTTP API and of the
SQLite columns.  No I/O and no Twisted.

A *message* is one API request.  It has one or more *recipients* (one
destination number each, with the channel chosen for it), and every
recipient has one or more *segments*: one SUBMIT each, with its own
``Msg_Id`` and its own status report.  The status of a recipient and of a
message is never stored as a fact of its own: it is derived from the
segment states by :func:`derive_status`, the one place that rule lives.

Times are POSIX seconds (``float``), as ``IReactorTime.seconds()`` gives
them; the HTTP layer formats them.
"""

from __future__ import annotations

import enum
import operator
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import attrs

__all__ = [
    "DELIVERED_STAT",
    "CallbackAttempt",
    "CallbackState",
    "Inbound",
    "InboundKind",
    "Message",
    "MessageStatus",
    "MoGroup",
    "MoPart",
    "Mode",
    "Recipient",
    "ReportMatch",
    "ReportOutcome",
    "Segment",
    "SegmentKey",
    "SegmentState",
    "SegmentWork",
    "StatusReport",
    "SubmitRecord",
    "Template",
    "TemplateEngine",
    "derive_status",
    "is_final",
    "new_message_id",
    "segment_state_for_stat",
    "validate_message",
]

#: The report Stat of a delivered message (CMPP 2.0 §8.4.5.1 Stat, SMGP 3.0
#: report ``stat:``).  Every other Stat is a final failure; SGIP 1.2 reports
#: (State 0 = delivered) are mapped to this text by the SGIP side.
DELIVERED_STAT = "DELIVRD"

_C = TypeVar("_C", bound=attrs.AttrsInstance)


class Mode(enum.StrEnum):
    """How the API request asked to be answered (``mode``)."""

    SYNC = "sync"
    ASYNC = "async"
    QUEUE = "queue"


class SegmentState(enum.StrEnum):
    """Where one segment (one SUBMIT) is.

    ``queued``: waiting to be claimed (``send_at`` may be in the future).
    ``submitting``: claimed by a sender, SUBMIT possibly on the wire.
    ``submitted``: SUBMIT_RESP Result 0 and a ``Msg_Id``; a report is awaited
    when the message asked for one, otherwise this state is final.
    ``delivered``/``undelivered``: the report's Stat was ``DELIVRD``/another.
    ``failed``: not accepted upstream (SUBMIT_RESP Result ≠ 0, no route,
    retries exhausted).  ``expired``: no report arrived in time.
    """

    QUEUED = "queued"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    EXPIRED = "expired"


class MessageStatus(enum.StrEnum):
    """A message's (or recipient's) status as the HTTP API shows it; see :func:`derive_status`."""

    QUEUED = "queued"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    PARTIALLY_DELIVERED = "partially_delivered"
    FAILED = "failed"
    EXPIRED = "expired"


class InboundKind(enum.StrEnum):
    """What an inbound item is: a phone's reply (MO) or a status report."""

    MO = "mo"
    REPORT = "report"


class TemplateEngine(enum.StrEnum):
    """The two template engines of the HTTP API's ``/v1/templates``."""

    SIMPLE = "simple"
    JINJA2 = "jinja2"


class ReportMatch(enum.StrEnum):
    """What :meth:`IMessageStore.record_report` did with a report.

    ``matched``: applied to its segment(s) (an inbound ``report`` item was
    written in the same transaction).  ``duplicate``: that report was already
    recorded (or is already held); nothing changed.  ``held``: no segment has
    that ``Msg_Id`` yet; the report is kept and applied when
    :meth:`~IMessageStore.segment_submitted` records it.
    """

    MATCHED = "matched"
    DUPLICATE = "duplicate"
    HELD = "held"


class CallbackState(enum.StrEnum):
    """A callback push: still to be tried, done, or given up (final failure)."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


_FINAL_SEGMENT = frozenset(
    {
        SegmentState.DELIVERED,
        SegmentState.UNDELIVERED,
        SegmentState.FAILED,
        SegmentState.EXPIRED,
    }
)


def derive_status(states: Iterable[SegmentState]) -> MessageStatus:
    """The status of a message (or of one recipient) from its segments' states.

    In order: all queued → ``queued``; any still queued or submitting →
    ``submitting``; any awaiting its report → ``submitted``; all delivered →
    ``delivered``; some delivered → ``partially_delivered``; none delivered
    and any report said undelivered → ``undelivered``; otherwise any report
    wait ran out → ``expired``; otherwise (every SUBMIT refused) ``failed``.

    Pure and order-independent.

    :raises ValueError: for no segments at all.
    """
    counts = Counter(states)
    total = sum(counts.values())
    if not total:
        raise ValueError("a message has at least one segment")
    if counts[SegmentState.QUEUED] == total:
        return MessageStatus.QUEUED
    if counts[SegmentState.QUEUED] or counts[SegmentState.SUBMITTING]:
        return MessageStatus.SUBMITTING
    if counts[SegmentState.SUBMITTED]:
        return MessageStatus.SUBMITTED
    delivered = counts[SegmentState.DELIVERED]
    if delivered == total:
        return MessageStatus.DELIVERED
    if delivered:
        return MessageStatus.PARTIALLY_DELIVERED
    if counts[SegmentState.UNDELIVERED]:
        return MessageStatus.UNDELIVERED
    if counts[SegmentState.EXPIRED]:
        return MessageStatus.EXPIRED
    return MessageStatus.FAILED


def segment_state_for_stat(stat: str) -> SegmentState:
    """``delivered`` for the Stat ``DELIVRD``, ``undelivered`` for any other final Stat."""
    return SegmentState.DELIVERED if stat == DELIVERED_STAT else SegmentState.UNDELIVERED


def is_final(state: SegmentState) -> bool:
    """True when nothing more will happen to a segment in *state* (a late report aside)."""
    return state in _FINAL_SEGMENT


def new_message_id(now: float) -> str:
    """A new message id: 32 lower-case hex digits that sort by creation time.

    12 digits of milliseconds since the epoch, then 80 random bits, so ids made
    in the same millisecond do not collide and a listing by id is a listing by
    time.
    """
    return f"{int(now * 1000):012x}{os.urandom(10).hex()}"


def _segments(value: Iterable[Segment]) -> tuple[Segment, ...]:
    return tuple(value)


def _pickled_by_fields(cls: type[_C]) -> type[_C]:
    """Pickle *cls* as a call with its fields' values, in order.

    attrs pickles a slotted class's state as a dict built per object, about
    twice the time of this tuple; the SQLite store's database process gets
    and returns these by the thousand.  The call runs ``__init__``, so
    converters and validators see the values again.
    """
    fields = attrs.fields(cls)
    if any(f.kw_only or not f.init for f in fields) or len(fields) < 2:
        raise TypeError(f"{cls.__name__}: fields must be positional, at least two")
    values = operator.attrgetter(*(f.name for f in fields))

    def __reduce__(self: _C) -> tuple[type[_C], tuple[Any, ...]]:
        return (cls, values(self))

    cls.__reduce__ = __reduce__  # type: ignore[assignment,method-assign]
    return cls


def _recipients(value: Iterable[Recipient]) -> tuple[Recipient, ...]:
    return tuple(value)


def _keys(value: Iterable[SegmentKey]) -> tuple[SegmentKey, ...]:
    return tuple(value)


@_pickled_by_fields
@attrs.frozen
class SegmentKey:
    """Names one segment: the message, the recipient's index in it, ``Pk_number``.

    :ivar recipient: 0-based position in :attr:`Message.recipients`.
    :ivar pk_number: 1-based segment number (CMPP 2.0 §8.4.3.1 Pk_number).
    """

    message_id: str
    recipient: int
    pk_number: int


@_pickled_by_fields
@attrs.frozen
class Segment:
    """One SUBMIT of one recipient, with what came back for it.

    :ivar content: the ``Msg_Content`` octets exactly as sent, UDH included
        when ``tp_udhi`` is set, so that a restart resends the same bytes.
    :ivar msg_fmt: Msg_Fmt of ``content`` (0, 8, 15…).
    :ivar result: the SUBMIT_RESP Result (None until answered).
    :ivar msg_id: the upstream's message id in its printable form: CMPP
        decimal, SGIP ``node-time-seq``, SMGP hex.
    :ivar stat: the report's Stat (``DELIVRD``, ``UNDELIV``…), None until one came.
    :ivar error: why it failed, for ``failed`` segments.
    :ivar attempts: how many times it was claimed for sending.
    :ivar submitted_at: when the SUBMIT_RESP (or the failure) was recorded.
    :ivar done_at: the report's Done_time, as the caller converted it.
    :ivar reported_at: when the report was received.
    """

    pk_number: int
    pk_total: int
    content: bytes
    msg_fmt: int = 0
    tp_udhi: bool = False
    state: SegmentState = SegmentState.QUEUED
    result: int | None = None
    msg_id: str | None = None
    stat: str | None = None
    error: str | None = None
    attempts: int = 0
    submitted_at: float | None = None
    done_at: float | None = None
    reported_at: float | None = None


@_pickled_by_fields
@attrs.frozen
class Recipient:
    """One destination of a message.

    :ivar to: the normalised number (11 digits, no ``+86``/``86``).
    :ivar channel: the upstream chosen for it (by number segment or request).
    """

    to: str
    channel: str
    segments: tuple[Segment, ...] = attrs.field(converter=_segments)

    @property
    def status(self) -> MessageStatus:
        """Derived from the segments (:func:`derive_status`)."""
        return derive_status(s.state for s in self.segments)


@_pickled_by_fields
@attrs.frozen
class Message:
    """One API request (``POST /v1/sms``) and its current state.

    :ivar id: the gateway's id (:func:`new_message_id`).
    :ivar send_at: scheduled time, None for "now".
    :ivar channel: the channel the request named, None when routed by number.
    :ivar report: whether status reports were requested.
    :ivar src_ext: digits appended to the channel's source number.
    :ivar external_id: the application's idempotency key, if given.
    """

    id: str
    created_at: float
    recipients: tuple[Recipient, ...] = attrs.field(converter=_recipients)
    mode: Mode = Mode.QUEUE
    send_at: float | None = None
    channel: str | None = None
    report: bool = True
    src_ext: str = ""
    external_id: str | None = None

    @property
    def status(self) -> MessageStatus:
        """Derived from every segment of every recipient (:func:`derive_status`)."""
        return derive_status(s.state for r in self.recipients for s in r.segments)

    @property
    def due_at(self) -> float:
        """When its queued segments may be sent: ``send_at``, else ``created_at``."""
        return self.created_at if self.send_at is None else self.send_at

    def segment(self, key: SegmentKey) -> Segment:
        """The segment *key* names.

        :raises KeyError: when this message has no such segment.
        """
        if key.message_id != self.id or not 0 <= key.recipient < len(self.recipients):
            raise KeyError(key)
        segments = self.recipients[key.recipient].segments
        if not 1 <= key.pk_number <= len(segments):
            raise KeyError(key)
        return segments[key.pk_number - 1]


_ADDABLE = frozenset({SegmentState.QUEUED, SegmentState.SUBMITTING, SegmentState.FAILED})
_DIGITS = re.compile(r"[0-9]{1,21}")


def validate_message(message: Message) -> None:
    """Check what the store relies on before it keeps *message*.

    At least one recipient, ``to`` made of 1-21 digits (CMPP Dest_terminal_Id
    is 21 octets), every recipient's segments numbered ``1..Pk_total`` in
    order with the same ``Pk_total`` (1-255), and new segments only
    ``queued``, ``submitting`` (a sender already holds them) or ``failed``
    (e.g. no route).

    :raises ValueError: naming the first thing wrong.
    """
    if not message.id:
        raise ValueError("message id is empty")
    if not message.recipients:
        raise ValueError(f"message {message.id}: no recipients")
    for index, recipient in enumerate(message.recipients):
        where = f"message {message.id} recipient {index}"
        if not _DIGITS.fullmatch(recipient.to):
            raise ValueError(f"{where}: 'to' is not a number: {recipient.to!r}")
        if not recipient.channel:
            raise ValueError(f"{where}: no channel")
        total = len(recipient.segments)
        if not 1 <= total <= 255:
            raise ValueError(f"{where}: {total} segments (1-255 allowed)")
        for number, segment in enumerate(recipient.segments, 1):
            if segment.pk_number != number or segment.pk_total != total:
                raise ValueError(
                    f"{where}: segment {number} says {segment.pk_number}/{segment.pk_total}"
                )
            if segment.state not in _ADDABLE:
                raise ValueError(f"{where}: a new segment cannot be {segment.state}")


@_pickled_by_fields
@attrs.frozen
class SegmentWork:
    """A segment handed to a sender by :meth:`IMessageStore.claim_due`: all it needs to SUBMIT."""

    key: SegmentKey
    to: str
    channel: str
    pk_number: int
    pk_total: int
    content: bytes
    msg_fmt: int
    tp_udhi: bool
    report: bool
    src_ext: str
    #: Claims so far, this one included (more than 1 after a restart).
    attempts: int


@_pickled_by_fields
@attrs.frozen
class SubmitRecord:
    """One SUBMIT_RESP for :meth:`IMessageStore.segment_submitted_many`.

    :ivar result: the SUBMIT_RESP Result; 0 is accepted, anything else fails
        the segment.
    :ivar msg_id: the printable message id (may be None when Result ≠ 0).
    :ivar now: when the response arrived.
    :ivar error: the failed segment's error text when Result ≠ 0 (``None``:
        ``result N``); SMPP names the status (``result 69 (ESME_RSUBMITFAIL)``).
    """

    key: SegmentKey
    result: int
    msg_id: str | None
    now: float
    error: str | None = None


@_pickled_by_fields
@attrs.frozen
class StatusReport:
    """A final status report as the gateway hands it to :meth:`IMessageStore.record_report`.

    :ivar stat: the carrier's own state word, kept for the application.
    :ivar delivered: whether it says delivered (the segment becomes
        ``delivered``, else ``undelivered``); the SP client decided it.
    :ivar done_at: the report's time as the carrier gave it (POSIX seconds).
    :ivar received_at: when it reached the gateway.
    :ivar to: its destination number, when one SUBMIT had several.
    :ivar err: the carrier's error code as text.
    :ivar raw: the report as received, kept with a held report.
    """

    channel: str
    msg_id: str
    stat: str
    delivered: bool
    done_at: float
    received_at: float
    to: str | None = None
    err: str = ""
    raw: bytes = b""

    @classmethod
    def of(
        cls,
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
    ) -> StatusReport:
        """The report :meth:`IMessageStore.record_report`'s arguments describe.

        *delivered* defaults to whether *stat* is ``DELIVRD``, *now* to *done_at*.
        """
        return cls(
            channel,
            msg_id,
            stat,
            stat == DELIVERED_STAT if delivered is None else delivered,
            done_at,
            done_at if now is None else now,
            to,
            err,
            bytes(raw),
        )


@_pickled_by_fields
@attrs.frozen
class ReportOutcome:
    """What happened to a status report (:class:`ReportMatch`) and where it went.

    For ``matched`` and for a ``duplicate`` of an already matched report,
    ``message_id``, ``keys`` (the segments it applies to; several when one
    SUBMIT had several destinations) and ``message_status`` (after the
    report) are set; for ``held`` and a duplicate of a held report they are
    empty.
    """

    match: ReportMatch
    channel: str
    msg_id: str
    stat: str
    message_id: str | None = None
    keys: tuple[SegmentKey, ...] = attrs.field(default=(), converter=_keys)
    message_status: MessageStatus | None = None


@_pickled_by_fields
@attrs.frozen
class Inbound:
    """An item for the application: an MO or a status report (``GET /v1/inbound``).

    :ivar fields: JSON-able data, built by :mod:`smsgw.store.payload` (the
        same dictionary is the body of the item's callback push).
    :ivar dedup_key: e.g. the DELIVER's ``Msg_Id``: adding a second item
        with the same ``(kind, channel, dedup_key)`` is a no-op, so a DELIVER
        sent again after a lost DELIVER_RESP is stored once.
    :ivar id: assigned by the store, increasing in insertion order.
    """

    kind: InboundKind
    channel: str
    fields: Mapping[str, Any]
    created_at: float
    dedup_key: str | None = None
    id: int | None = None


@_pickled_by_fields
@attrs.frozen
class MoGroup:
    """The parts of one long MO: carrier channel, both numbers, the UDH's reference and total."""

    channel: str
    sender: str
    to: str
    reference: int
    total: int


@_pickled_by_fields
@attrs.frozen
class MoPart:
    """One received part of a long MO, held until the message is whole or given up on.

    Held in the store so that a restart loses no part whose DELIVER was
    answered: the gateway reads them back into its reassembler at start.

    :ivar number: the part's number (1-based) in the UDH.
    :ivar content: ``Msg_Content`` as received, UDH included.
    :ivar msg_id: the DELIVER's ``Msg_Id`` as text (``""`` when it has none).
    """

    group: MoGroup
    number: int
    content: bytes
    tp_udhi: int
    msg_fmt: int
    received_at: float
    msg_id: str = ""


@_pickled_by_fields
@attrs.frozen
class Template:
    """A named message template (``/v1/templates``)."""

    name: str
    engine: TemplateEngine
    body: str
    created_at: float
    updated_at: float


@_pickled_by_fields
@attrs.frozen
class CallbackAttempt:
    """A push of an inbound item to the application's URL, retried until done or given up.

    :ivar payload: the JSON text to POST.
    :ivar attempts: finished tries so far.
    :ivar next_at: when to try (again); None once done or given up.
    """

    id: int
    kind: InboundKind
    url: str
    payload: str
    state: CallbackState
    next_at: float | None
    attempts: int = 0
    last_error: str | None = None
    done_at: float | None = None
