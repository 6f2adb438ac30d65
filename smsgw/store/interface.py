"""The message store's contract.

:class:`IMessageStore` is what the SP gateway, the HTTP API and the
callback pusher use; :class:`~smsgw.store.memory.MemoryStore` and
:class:`~smsgw.store.sqlite.SqliteStore` implement it and one contract test
suite (``tests/store/test_contract.py``) runs against both.

Rules every implementation keeps:

* **Persist, then acknowledge.**  A Deferred fires only once its change is
  durable (for SQLite: committed), so the caller may answer the application
  (``202`` in queue mode) or the carrier (DELIVER_RESP) in its callback.
  A failed Deferred means nothing of that call was stored.
* **Repeats are no-ops.**  A report for a segment that already has one, an
  inbound item with a ``dedup_key`` already stored, a SUBMIT_RESP recorded
  twice: nothing changes and no error is raised.
* **At least once.**  A segment claimed for sending (``submitting``) when
  the process died is put back in the queue by :meth:`requeue_submitting`
  at start-up, so a SUBMIT that was on the wire at the kill may be sent once
  more (the carrier gives it a second ``Msg_Id``).  Losing an accepted
  message is worse than a rare duplicate SMS.
* Calls are applied in the order they were made.  After :meth:`close`
  every call fails with :class:`StoreClosed`.

Errors are the classes below; anything else is a bug or an I/O failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from zope.interface import Attribute, Interface

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

    from smsgw.store.model import (
        CallbackAttempt,
        Inbound,
        InboundKind,
        Message,
        MoGroup,
        MoPart,
        ReportOutcome,
        SegmentKey,
        SegmentWork,
        SubmitRecord,
        Template,
    )

__all__ = [
    "DuplicateMessage",
    "IClusterStore",
    "IMessageStore",
    "InvalidTransition",
    "SchemaTooNew",
    "StoreClosed",
    "StoreError",
    "StoreUnavailable",
    "TemplateExists",
    "UnknownCallback",
    "UnknownSegment",
]


class StoreError(Exception):
    """Base class of the store's own errors."""


class StoreClosed(StoreError):
    """The store was closed; no call is accepted any more."""


class StoreUnavailable(StoreError):
    """The database could not be reached, or the connection was lost during the call.

    Nothing of the call was stored, unless the connection was lost while
    its transaction committed (then it may have been).  The next call
    connects again.
    """


class DuplicateMessage(StoreError):
    """A message with this id is already stored."""


class UnknownSegment(StoreError, KeyError):
    """No segment has this :class:`~smsgw.store.model.SegmentKey`."""


class UnknownCallback(StoreError, KeyError):
    """No callback attempt has this id."""


class InvalidTransition(StoreError):
    """The change does not fit the segment's or callback's current state."""


class TemplateExists(StoreError):
    """``put_template(..., replace=False)`` for a name already taken."""


class SchemaTooNew(StoreError):
    """The database was written by a newer smsgw than this one (a downgrade)."""


class IMessageStore(Interface):
    """The SP gateway's durable state.

    Messages, the send queue, the Msg_Id map, held reports, inbound items,
    templates and callback attempts.

    Every method returns a ``Deferred``.
    """

    # -- messages ----------------------------------------------------------

    def add_message(message: Message) -> Deferred[None]:
        """Store a new message with its recipients and segments.

        Fires once the message is durable: queue mode answers the
        application only then.  Its ``queued`` segments become claimable at
        ``send_at`` (or at once).

        :raises ValueError: when :func:`~smsgw.store.model.validate_message` refuses it.
        :raises DuplicateMessage: when the id is taken.
        """

    def add_messages(messages: Sequence[Message]) -> Deferred[None]:
        """Store many messages in one transaction: all of them, or (on any error) none."""

    def get_message(message_id: str) -> Deferred[Message | None]:
        """The message with its recipients and segments as they are now, or None."""

    def find_by_external_id(external_id: str, since: float) -> Deferred[Message | None]:
        """The newest message with this ``external_id`` created at or after *since*, or None.

        The idempotency check of ``POST /v1/sms``: a request repeating an
        ``external_id`` within the window gets the first message back.
        """

    # -- the send queue ----------------------------------------------------

    def claim_due(
        now: float, limit: int, channel: str | None = None
    ) -> Deferred[list[SegmentWork]]:
        """Atomically take up to *limit* due ``queued`` segments and mark them ``submitting``.

        Due means ``send_at`` (or, without one, ``created_at``) ≤ *now*.
        Oldest due first, a message's segments in recipient and
        ``Pk_number`` order.  With *channel*, only that channel's segments.
        Each claim counts in :attr:`~smsgw.store.model.SegmentWork.attempts`.
        """

    def segment_submitted(
        key: SegmentKey,
        result: int,
        msg_id: str | None,
        now: float,
        *,
        callback_url: str | None = None,
    ) -> Deferred[list[ReportOutcome]]:
        """Record a segment's SUBMIT_RESP.

        Result 0 makes it ``submitted`` under *msg_id* (then reports match
        it by ``(channel, msg_id)``); any other Result makes it ``failed``.
        A report held for that ``(channel, msg_id)`` (it overtook the
        SUBMIT_RESP) is applied now, as :meth:`record_report` applies one
        (its inbound item, and its push to *callback_url*, in the same
        transaction): the Deferred fires with its ``matched`` outcome(s),
        usually an empty list.  Recording the same *msg_id* again is a no-op.

        :raises UnknownSegment: no such segment.
        :raises InvalidTransition: the segment is neither ``queued`` nor
            ``submitting`` (and the call is not a repeat).
        """

    def segment_submitted_many(
        records: Sequence[SubmitRecord], *, callback_url: str | None = None
    ) -> Deferred[list[ReportOutcome]]:
        """:meth:`segment_submitted` for many segments in one transaction (all or none)."""

    def segment_failed(key: SegmentKey, reason: str, now: float) -> Deferred[None]:
        """Mark a ``queued`` or ``submitting`` segment ``failed`` for *reason* (final).

        Failing a failed segment again is a no-op.

        :raises UnknownSegment: no such segment.
        :raises InvalidTransition: the segment was already submitted.
        """

    def requeue_submitting() -> Deferred[int]:
        """At start-up: put every ``submitting`` segment back to ``queued``; how many.

        Those are the segments a crash left claimed; their SUBMIT may or may
        not have reached the carrier, so they may be sent once more (at
        least once, never lost).  Call it before the first :meth:`claim_due`.
        """

    def queue_depth() -> Deferred[int]:
        """How many segments are ``queued`` (due or scheduled)."""

    # -- status reports ----------------------------------------------------

    def record_report(
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
        """Apply a status report to the segment submitted on *channel* under *msg_id*.

        A delivered report makes the segment ``delivered``, any other
        ``undelivered`` (a late report also replaces ``expired``).  With a
        match, an inbound ``report`` item (its fields from
        :func:`~smsgw.store.payload.report_payload`) and, with
        *callback_url*, its push (a callback row with the same JSON) are
        written in the same transaction, so the application is told exactly
        once and a crash cannot keep the one without the other.  Which
        segments match is :func:`~smsgw.store.matching.match_report`'s
        decision: a second report for the same segment is a ``duplicate``
        no-op, a report for an unknown *msg_id* is ``held`` and matched
        when :meth:`segment_submitted` records that id.

        Record only final reports; call it before sending DELIVER_RESP.

        :param stat: the carrier's state word, kept for the application.
        :param done_at: the report's Done_time (POSIX seconds).
        :param raw: the report as received, kept with a held report.
        :param to: the report's destination number; give it when one SUBMIT
            had several destinations (they share one ``Msg_Id``).
        :param now: when it was received (default *done_at*).
        :param delivered: whether the report says delivered; by default,
            whether *stat* is ``DELIVRD``.
        :param err: the carrier's error code, kept for the application.
        :param callback_url: where to push the report, if anywhere.
        """

    def drop_held_reports(older_than: float) -> Deferred[int]:
        """Forget held reports received before *older_than* (their SUBMIT never matched)."""

    def expire_reports(older_than: float) -> Deferred[int]:
        """Mark ``expired`` every ``submitted`` segment awaiting a report since before *older_than*.

        Only messages that asked for reports; for the others ``submitted``
        is final.  Returns how many segments expired.
        """

    # -- inbound items -----------------------------------------------------

    def add_inbound(
        item: Inbound, *, callback_url: str | None = None, parts: MoGroup | None = None
    ) -> Deferred[int | None]:
        """Store an MO (or another item) for the application; its new id.

        With *callback_url*, its push (a callback row whose JSON is the
        item's fields) is written in the same transaction.  None when an
        item with the same ``(kind, channel, dedup_key)`` is already stored
        (a DELIVER sent again): nothing is added, nothing pushed.  The
        item's own ``id`` is ignored.

        With *parts*, the held parts of that long MO (:meth:`add_mo_part`)
        are deleted in the same transaction, and they are its ticket: the
        item is added only if at least one part was deleted (None
        otherwise).  So when several nodes find the same group whole (or
        give up on it) at once, one item is stored: the others' deletes
        find nothing once the first one committed.
        """

    def add_mo_part(part: MoPart) -> Deferred[bool]:
        """Hold one part of a long MO until its message is whole; False for a repeat.

        A part is a repeat when the store already holds the same number of the
        same :class:`MoGroup` (a DELIVER sent again): the first copy is kept.
        """

    def mo_parts() -> Deferred[list[MoPart]]:
        """Every part held, in the order received (the gateway reads them at start)."""

    def mo_group_parts(group: MoGroup) -> Deferred[list[MoPart]]:
        """The parts of *group* held, in the order received (any node's, on a shared store)."""

    def fetch_inbound(limit: int) -> Deferred[list[Inbound]]:
        """The oldest *limit* items not fetched yet, now marked fetched (``GET /v1/inbound``)."""

    def list_inbound(after: int, limit: int) -> Deferred[list[Inbound]]:
        """Up to *limit* items whose id is above *after*, oldest first, fetched or not.

        Nothing is marked: the reader keeps the last id as its cursor
        (``GET /v1/inbound?after=CURSOR``) and acknowledges with :meth:`ack_inbound`.
        """

    def ack_inbound(through: int) -> Deferred[int]:
        """Mark fetched every item whose id is at most *through*; how many were not yet.

        ``POST /v1/inbound/ack``: acknowledged items no longer come from
        :meth:`fetch_inbound`; :meth:`list_inbound` still lists them.
        """

    # -- templates ---------------------------------------------------------

    def put_template(template: Template, replace: bool = True) -> Deferred[bool]:
        """Create or replace a template; True when it is new.

        Replacing keeps the stored ``created_at``.

        :raises TemplateExists: with ``replace=False`` for a taken name.
        """

    def get_template(name: str) -> Deferred[Template | None]:
        """The template called *name*, or None."""

    def list_templates() -> Deferred[list[Template]]:
        """Every template, by name."""

    def delete_template(name: str) -> Deferred[bool]:
        """Delete a template; True when it existed."""

    # -- callback attempts -------------------------------------------------

    def add_callback(kind: InboundKind, url: str, payload: str, next_at: float) -> Deferred[int]:
        """Schedule a push of *payload* (JSON text) to *url* at *next_at*; its id.

        :raises ValueError: when *payload* is not JSON.
        """

    def get_callback(callback_id: int) -> Deferred[CallbackAttempt | None]:
        """One callback attempt record, or None."""

    def due_callbacks(now: float, limit: int) -> Deferred[list[CallbackAttempt]]:
        """Pending pushes due at *now*, oldest ``next_at`` first (not claimed: one pusher polls)."""

    def callback_done(callback_id: int, now: float) -> Deferred[None]:
        """The push succeeded.

        :raises UnknownCallback: no such id.
        :raises InvalidTransition: it is not pending.
        """

    def callback_failed(callback_id: int, error: str, next_at: float | None) -> Deferred[None]:
        """A try failed: retry at *next_at*, or with None give up (recorded as ``failed``).

        :raises UnknownCallback: no such id.
        :raises InvalidTransition: it is not pending.
        """

    # -- life --------------------------------------------------------------

    def close() -> Deferred[None]:
        """Finish what was asked, then release the database; later calls fail."""


class IClusterStore(Interface):
    """A store several SP processes (nodes) share; :class:`~smsgw.store.postgres.PostgresStore`.

    Its :meth:`IMessageStore.claim_due` records which node claimed each
    segment and when; :meth:`IMessageStore.requeue_submitting` (at start-up)
    puts back only this node's claims, never a live peer's in-flight work.
    A node that dies without starting again leaves its claims to
    :meth:`reclaim_stale`, which every node calls now and then.
    """

    node = Attribute("This process's node name (str), stable across its restarts.")

    def reclaim_stale(older_than: float) -> Deferred[int]:
        """Put back in the queue every ``submitting`` segment claimed before *older_than*.

        Whoever claimed it: *older_than* is now minus the visibility
        timeout, longer than a SUBMIT and its SUBMIT_RESP take.  A claim
        that old belongs to a node that died or lost its database, so its
        segment may be sent once more (at least once; the duplicates are
        bounded by what was in flight).  Returns how many were put back.
        """
