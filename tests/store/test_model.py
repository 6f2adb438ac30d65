"""The store's value classes and the status rule (:mod:`smsgw.store.model`)."""

from __future__ import annotations

import pickle
from collections.abc import Callable

import attrs
from hypothesis import example, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.store.model import (
    CallbackAttempt,
    CallbackState,
    Inbound,
    InboundKind,
    Message,
    MessageStatus,
    Recipient,
    ReportMatch,
    ReportOutcome,
    Segment,
    SegmentKey,
    SegmentState,
    SegmentWork,
    SubmitRecord,
    Template,
    TemplateEngine,
    _pickled_by_fields,
    derive_status,
    is_final,
    new_message_id,
    segment_state_for_stat,
    validate_message,
)

S = SegmentState
M = MessageStatus

states = st.lists(st.sampled_from(SegmentState), min_size=1, max_size=12)

_PENDING = {S.QUEUED, S.SUBMITTING}


class DeriveStatusTests(SynchronousTestCase):
    """:func:`derive_status`: the HTTP API's message states."""

    def test_uniform(self) -> None:
        """Segments all in one state give the status of the same name."""
        for state in SegmentState:
            for n in (1, 2, 7):
                self.assertEqual(derive_status([state] * n), MessageStatus(state.value))

    def test_empty(self) -> None:
        """A message without segments has no status."""
        self.assertRaises(ValueError, derive_status, [])

    def test_table(self) -> None:
        """Mixed states, case by case."""
        cases = {
            (S.QUEUED, S.SUBMITTING): M.SUBMITTING,
            (S.QUEUED, S.DELIVERED): M.SUBMITTING,
            (S.SUBMITTING, S.SUBMITTED): M.SUBMITTING,
            (S.SUBMITTED, S.DELIVERED): M.SUBMITTED,
            (S.SUBMITTED, S.FAILED): M.SUBMITTED,
            (S.DELIVERED, S.UNDELIVERED): M.PARTIALLY_DELIVERED,
            (S.DELIVERED, S.FAILED): M.PARTIALLY_DELIVERED,
            (S.DELIVERED, S.EXPIRED): M.PARTIALLY_DELIVERED,
            (S.UNDELIVERED, S.FAILED): M.UNDELIVERED,
            (S.UNDELIVERED, S.EXPIRED): M.UNDELIVERED,
            (S.EXPIRED, S.FAILED): M.EXPIRED,
        }
        for segments, status in cases.items():
            self.assertEqual(derive_status(segments), status, segments)

    @given(states, st.randoms())
    def test_order_does_not_matter(self, segments: list[SegmentState], rnd: object) -> None:
        """The status depends on the states, not on the segments' order."""
        shuffled = list(segments)
        rnd.shuffle(shuffled)  # type: ignore[attr-defined]
        self.assertEqual(derive_status(shuffled), derive_status(segments))

    @given(states)
    def test_repetition_does_not_matter(self, segments: list[SegmentState]) -> None:
        """Doubling every segment leaves the status alone (only shares count)."""
        self.assertEqual(derive_status(segments * 2), derive_status(segments))

    @given(states)
    @example([S.DELIVERED, S.FAILED])
    def test_delivered_only_when_all_delivered(self, segments: list[SegmentState]) -> None:
        """``delivered`` exactly when every segment is; ``partially_delivered`` when some are."""
        status = derive_status(segments)
        delivered = segments.count(S.DELIVERED)
        self.assertEqual(status is M.DELIVERED, delivered == len(segments))
        settled = all(is_final(s) for s in segments)
        self.assertEqual(status is M.PARTIALLY_DELIVERED, settled and 0 < delivered < len(segments))

    @given(states)
    def test_final_only_when_every_segment_is(self, segments: list[SegmentState]) -> None:
        """The status is a final one exactly when no segment can change any more."""
        status = derive_status(segments)
        pending = {M.QUEUED, M.SUBMITTING, M.SUBMITTED}
        self.assertEqual(status not in pending, all(is_final(s) for s in segments))
        self.assertEqual(status in (M.QUEUED, M.SUBMITTING), any(s in _PENDING for s in segments))

    @given(states)
    def test_failure_kinds(self, segments: list[SegmentState]) -> None:
        """With nothing delivered: a carrier's "no" beats a timeout, which beats a refusal."""
        status = derive_status(segments)
        if status is M.UNDELIVERED:
            self.assertIn(S.UNDELIVERED, segments)
            self.assertNotIn(S.DELIVERED, segments)
        if status is M.EXPIRED:
            self.assertTrue(set(segments) <= {S.EXPIRED, S.FAILED})
            self.assertIn(S.EXPIRED, segments)
        if status is M.FAILED:
            self.assertEqual(set(segments), {S.FAILED})

    @given(states)
    def test_adding_a_pending_segment(self, segments: list[SegmentState]) -> None:
        """One more submitting (or queued) segment unsettles any message."""
        self.assertIs(derive_status([*segments, S.SUBMITTING]), M.SUBMITTING)
        self.assertIn(derive_status([*segments, S.QUEUED]), (M.QUEUED, M.SUBMITTING))

    def test_stat(self) -> None:
        """Only ``DELIVRD`` is delivery; every other Stat is a failure."""
        self.assertIs(segment_state_for_stat("DELIVRD"), S.DELIVERED)
        for stat in ("UNDELIV", "EXPIRED", "REJECTD", "DELETED", "UNKNOWN", "MA:0001", "delivrd"):
            self.assertIs(segment_state_for_stat(stat), S.UNDELIVERED)


def _message(**changes: object) -> Message:
    recipients = changes.pop("recipients", None) or [
        Recipient("13800138000", "cm", [Segment(1, 2, b"a"), Segment(2, 2, b"b")])
    ]
    return Message("m1", 1.0, recipients, **changes)  # type: ignore[arg-type]


class MessageTests(SynchronousTestCase):
    """:class:`Message` helpers and :func:`validate_message`."""

    def test_status_properties(self) -> None:
        """A message's and a recipient's status are derived from their segments."""
        message = _message(
            recipients=[
                Recipient("13800138000", "cm", [Segment(1, 1, b"a", state=S.DELIVERED)]),
                Recipient("13900139000", "cm", [Segment(1, 1, b"b", state=S.FAILED)]),
            ]
        )
        self.assertEqual(message.recipients[0].status, M.DELIVERED)
        self.assertEqual(message.recipients[1].status, M.FAILED)
        self.assertEqual(message.status, M.PARTIALLY_DELIVERED)

    def test_segment_lookup(self) -> None:
        """``Message.segment`` finds a segment by key and refuses keys of other shapes."""
        message = _message()
        self.assertEqual(message.segment(SegmentKey("m1", 0, 2)).content, b"b")
        for key in (SegmentKey("m2", 0, 1), SegmentKey("m1", 1, 1), SegmentKey("m1", 0, 3),
                    SegmentKey("m1", 0, 0), SegmentKey("m1", -1, 1)):  # fmt: skip
            self.assertRaises(KeyError, message.segment, key)

    def test_due_at(self) -> None:
        """``due_at`` is ``send_at`` when scheduled, else ``created_at``."""
        self.assertEqual(_message().due_at, 1.0)
        self.assertEqual(_message(send_at=5.0).due_at, 5.0)

    def test_validate_accepts(self) -> None:
        """A well-formed message passes, at each limit: 21 digits, 255 segments, each new state."""
        at_limits: dict[str, Message] = {
            "as built": _message(),
            "one digit": _message(recipients=[Recipient("1", "cm", [Segment(1, 1, b"")])]),
            "21 digits": _message(recipients=[Recipient("1" * 21, "cm", [Segment(1, 1, b"")])]),
            "E.164": _message(recipients=[Recipient("+447900000001", "i", [Segment(1, 1, b"")])]),
            "255 segments": _message(
                recipients=[
                    Recipient("13800138000", "cm", [Segment(n, 255, b"") for n in range(1, 256)])
                ]
            ),
        }
        for state in (SegmentState.QUEUED, SegmentState.SUBMITTING, SegmentState.FAILED):
            segment = Segment(1, 1, b"", state=state)
            at_limits[str(state)] = _message(recipients=[Recipient("1", "cm", [segment])])
        for name, message in at_limits.items():
            try:
                validate_message(message)
            except ValueError as e:
                self.fail(f"{name}: refused: {e}")

    def test_validate_refuses(self) -> None:
        """Each broken invariant is refused with a ValueError naming it."""
        bad: dict[str, Callable[[], Message]] = {
            "no recipients": lambda: Message("m1", 1.0, []),
            "id is empty": lambda: Message("", 1.0, _message().recipients),
            "not a number": lambda: _message(
                recipients=[Recipient("+8613800138000", "cm", [Segment(1, 1, b"")])]
            ),
            "is not a number": lambda: _message(
                recipients=[Recipient("+4412", "i", [Segment(1, 1, b"")])]
            ),
            "no channel": lambda: _message(
                recipients=[Recipient("13800138000", "", [Segment(1, 1, b"")])]
            ),
            "segments": lambda: _message(recipients=[Recipient("13800138000", "cm", [])]),
            "says 2/2": lambda: _message(
                recipients=[
                    Recipient("13800138000", "cm", [Segment(2, 2, b""), Segment(1, 2, b"")])
                ]
            ),
            "says 1/3": lambda: _message(
                recipients=[Recipient("13800138000", "cm", [Segment(1, 3, b"")])]
            ),
            "cannot be submitted": lambda: _message(
                recipients=[Recipient("13800138000", "cm", [Segment(1, 1, b"", state=S.SUBMITTED)])]
            ),
        }
        for words, make in bad.items():
            error = self.assertRaises(ValueError, validate_message, make())
            self.assertIn(words, str(error))


class MessageIdTests(SynchronousTestCase):
    """:func:`new_message_id`."""

    @given(st.floats(0, 2**40 / 1000), st.floats(0, 2**40 / 1000))
    def test_sorts_by_time(self, a: float, b: float) -> None:
        """Ids made at different milliseconds sort like their times; all are 32 hex digits."""
        id_a, id_b = new_message_id(a), new_message_id(b)
        self.assertRegex(id_a, r"\A[0-9a-f]{32}\Z")
        if int(a * 1000) < int(b * 1000):
            self.assertLess(id_a, id_b)

    def test_unique(self) -> None:
        """Ids made in the same millisecond differ."""
        self.assertEqual(len({new_message_id(1.0) for _ in range(1000)}), 1000)


class PickleTests(SynchronousTestCase):
    """Model objects cross to the store's database process pickled, as their fields."""

    def test_round_trip(self) -> None:
        """Every value class comes back equal, nested values and enums included."""
        key = SegmentKey("m1", 1, 2)
        values = [
            _message(),
            key,
            SegmentWork(key, "13800138000", "cm", 2, 2, b"hi", 8, True, True, "01", 1),
            SubmitRecord(key, 0, "123", 5.0),
            ReportOutcome(
                ReportMatch.MATCHED, "cm", "1", "DELIVRD", "m1", [key], MessageStatus.DELIVERED
            ),
            Inbound(InboundKind.MO, "cm", {"content": "好", "n": [1]}, 5.0, "d", 7),
            Template("t", TemplateEngine.JINJA2, "{{ a }}", 1.0, 2.0),
            CallbackAttempt(3, InboundKind.REPORT, "http://a", "{}", CallbackState.PENDING, 9.0),
        ]
        for value in values:
            again = pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
            self.assertEqual(again, value)
            self.assertIs(type(again), type(value))
        self.assertEqual(pickle.loads(pickle.dumps(values[4])).keys, (key,))

    def test_fields_must_be_positional(self) -> None:
        """A class the tuple form cannot rebuild is refused when it is made."""

        @attrs.frozen
        class KwOnly:
            a: int
            b: int = attrs.field(kw_only=True)

        self.assertRaises(TypeError, _pickled_by_fields, KwOnly)
