"""The :class:`~smsgw.store.interface.IMessageStore` contract, run against every backend.

:class:`ContractMixin` holds the tests; :class:`MemoryStoreTests`,
:class:`SqliteStoreTests` and :class:`PostgresStoreTests` run them (SQLite
with a real reactor and a fresh file per test, PostgreSQL on a real server
and an empty database per test).  :class:`ParityTests` drives both backends
with the same pseudo-random script and compares every answer.
"""

from __future__ import annotations

import json
import random
from typing import Any

import attrs
from twisted.internet import reactor
from twisted.internet.defer import Deferred, DeferredList
from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from smsgw.store.interface import (
    DuplicateMessage,
    IMessageStore,
    InvalidTransition,
    StoreClosed,
    TemplateExists,
    UnknownCallback,
    UnknownSegment,
)
from smsgw.store.memory import MemoryStore
from smsgw.store.model import (
    CallbackState,
    Inbound,
    InboundKind,
    Message,
    MessageStatus,
    Mode,
    MoGroup,
    MoPart,
    Recipient,
    ReportMatch,
    Segment,
    SegmentKey,
    SegmentState,
    SubmitRecord,
    Template,
    TemplateEngine,
)
from smsgw.store.sqlite import SqliteStore
from tests.cluster import shared

NOW = 1_700_000_000.0
A = "13800138000"
B = "13900139000"
C = "18900189000"

S = SegmentState
M = MessageStatus


def make_message(
    message_id: str = "m1",
    *,
    to: tuple[str, ...] = (A,),
    segments: int = 1,
    channel: str = "cm",
    created_at: float = NOW,
    send_at: float | None = None,
    report: bool = True,
    external_id: str | None = None,
    mode: Mode = Mode.QUEUE,
) -> Message:
    """A message to each number in *to*, each split into *segments* parts."""
    udhi = segments > 1
    return Message(
        id=message_id,
        created_at=created_at,
        recipients=[
            Recipient(
                number,
                channel,
                [
                    Segment(
                        n,
                        segments,
                        (b"\x05\x00\x03\x2a" + bytes([segments, n]) if udhi else b"")
                        + f"{message_id} {number} \u4f60\u597d {n}".encode("utf-16-be"),
                        msg_fmt=8,
                        tp_udhi=udhi,
                    )
                    for n in range(1, segments + 1)
                ],
            )
            for number in to
        ],
        mode=mode,
        send_at=send_at,
        report=report,
        src_ext="01",
        external_id=external_id,
    )


def key(message_id: str = "m1", recipient: int = 0, pk_number: int = 1) -> SegmentKey:
    return SegmentKey(message_id, recipient, pk_number)


class ContractMixin:
    """Every behaviour :class:`IMessageStore` promises; mixed into a trial ``TestCase``."""

    store: Any

    # provided by TestCase
    assertEqual: Any
    assertIs: Any
    assertIsNone: Any
    assertTrue: Any
    assertFalse: Any
    assertIn: Any
    assertNotIn: Any
    assertLess: Any
    assertRaises: Any
    addCleanup: Any
    fail: Any

    async def make_store(self) -> Any:
        raise NotImplementedError

    async def setUp(self) -> None:
        self.store = await self.make_store()
        self.addCleanup(self.store.close)

    async def assert_fails(self, d: Deferred[Any], *errors: type[BaseException]) -> BaseException:
        """Await *d* and check it fails with one of *errors*; the exception."""
        try:
            result = await d
        except errors as e:
            return e
        self.fail(f"{d!r} succeeded with {result!r}; expected {errors}")
        raise AssertionError  # not reached

    async def submitted(self, message: Message, msg_ids: dict[SegmentKey, str]) -> None:
        """Store *message*, claim it and record the SUBMIT_RESPs in *msg_ids*."""
        await self.store.add_message(message)
        await self.store.claim_due(message.due_at, 1000)
        for k, msg_id in msg_ids.items():
            await self.store.segment_submitted(k, 0, msg_id, NOW + 1)

    # -- interface ---------------------------------------------------------

    async def test_interface(self) -> None:
        """The store provides IMessageStore."""
        self.assertTrue(verifyObject(IMessageStore, self.store))

    # -- messages ----------------------------------------------------------

    async def test_add_get(self) -> None:
        """A stored message comes back equal: recipients, segments, bytes and flags."""
        message = make_message(to=(A, B), segments=3, external_id="x1", send_at=NOW + 60)
        self.assertIsNone(await self.store.add_message(message))
        got = await self.store.get_message("m1")
        self.assertEqual(got, message)
        self.assertEqual(got.status, M.QUEUED)
        self.assertEqual(
            got.recipients[1].segments[2].content, message.recipients[1].segments[2].content
        )

    async def test_add_all_fields(self) -> None:
        """Every field of a message survives, including None and False values."""
        message = Message(
            "m2",
            NOW,
            [
                Recipient(
                    A,
                    "ct",
                    [Segment(1, 1, b"\x00\xff\x00", msg_fmt=15, state=S.FAILED, error="no route")],
                )
            ],
            mode=Mode.SYNC,
            channel="ct",
            report=False,
            src_ext="",
        )
        await self.store.add_message(message)
        got = await self.store.get_message("m2")
        self.assertEqual(got, message)
        self.assertEqual(got.status, M.FAILED)

    async def test_get_unknown(self) -> None:
        """An unknown id gives None."""
        self.assertIsNone(await self.store.get_message("nope"))

    async def test_duplicate_id(self) -> None:
        """A second message with the same id is refused; the first stays."""
        await self.store.add_message(make_message())
        await self.assert_fails(self.store.add_message(make_message(to=(B,))), DuplicateMessage)
        self.assertEqual((await self.store.get_message("m1")).recipients[0].to, A)

    async def test_invalid_message(self) -> None:
        """A message breaking the model's invariants is refused and not stored."""
        bad = Message("m1", NOW, [Recipient(A, "cm", [Segment(1, 2, b"")])])
        await self.assert_fails(self.store.add_message(bad), ValueError)
        self.assertIsNone(await self.store.get_message("m1"))

    async def test_add_messages(self) -> None:
        """add_messages stores every message."""
        messages = [make_message(f"m{i}", to=(A, B)) for i in range(20)]
        await self.store.add_messages(messages)
        for message in messages:
            self.assertEqual(await self.store.get_message(message.id), message)
        self.assertEqual(await self.store.queue_depth(), 40)

    async def test_add_messages_all_or_nothing(self) -> None:
        """One bad message in add_messages stores none of them."""
        await self.store.add_message(make_message("m5"))
        messages = [make_message(f"m{i}") for i in range(10)]
        await self.assert_fails(self.store.add_messages(messages), DuplicateMessage)
        self.assertIsNone(await self.store.get_message("m0"))
        self.assertIsNone(await self.store.get_message("m9"))
        invalid = [make_message("n1"), Message("n2", NOW, [])]
        await self.assert_fails(self.store.add_messages(invalid), ValueError)
        self.assertIsNone(await self.store.get_message("n1"))
        self.assertEqual(await self.store.queue_depth(), 1)

    async def test_find_by_external_id(self) -> None:
        """The newest message with the external id inside the window is found."""
        await self.store.add_message(make_message("m1", external_id="e", created_at=NOW))
        await self.store.add_message(make_message("m2", external_id="e", created_at=NOW + 10))
        await self.store.add_message(make_message("m3", external_id="f", created_at=NOW + 20))
        self.assertEqual((await self.store.find_by_external_id("e", NOW - 100)).id, "m2")
        self.assertEqual((await self.store.find_by_external_id("e", NOW + 10)).id, "m2")
        self.assertIsNone(await self.store.find_by_external_id("e", NOW + 11))
        self.assertIsNone(await self.store.find_by_external_id("g", 0))

    async def test_find_by_external_id_same_time(self) -> None:
        """Two messages with the same external id and time: the later stored wins."""
        await self.store.add_message(make_message("m1", external_id="e"))
        await self.store.add_message(make_message("m2", external_id="e"))
        self.assertEqual((await self.store.find_by_external_id("e", NOW)).id, "m2")

    # -- the send queue ----------------------------------------------------

    async def test_claim_due(self) -> None:
        """Due segments are claimed once, marked submitting, with what a SUBMIT needs."""
        message = make_message(to=(A, B), segments=2)
        await self.store.add_message(message)
        work = await self.store.claim_due(NOW, 10)
        self.assertEqual([w.key for w in work], [key("m1", r, n) for r in (0, 1) for n in (1, 2)])
        w = work[3]
        segment = message.recipients[1].segments[1]
        self.assertEqual(
            (w.to, w.channel, w.pk_number, w.pk_total, w.content, w.msg_fmt, w.tp_udhi),
            (B, "cm", 2, 2, segment.content, 8, True),
        )
        self.assertEqual((w.report, w.src_ext, w.attempts), (True, "01", 1))
        self.assertEqual(await self.store.claim_due(NOW + 1000, 10), [])
        got = await self.store.get_message("m1")
        self.assertEqual(got.status, M.SUBMITTING)
        self.assertEqual({s.state for r in got.recipients for s in r.segments}, {S.SUBMITTING})
        self.assertEqual(got.recipients[0].segments[0].attempts, 1)

    async def test_claim_scheduled(self) -> None:
        """A segment with send_at in the future is claimed only once it is due."""
        await self.store.add_message(make_message("later", send_at=NOW + 60))
        await self.store.add_message(make_message("now"))
        self.assertEqual([w.key.message_id for w in await self.store.claim_due(NOW, 10)], ["now"])
        self.assertEqual(await self.store.claim_due(NOW + 59.9, 10), [])
        self.assertEqual(
            [w.key.message_id for w in await self.store.claim_due(NOW + 60, 10)], ["later"]
        )

    async def test_claim_order_and_limit(self) -> None:
        """Oldest due first, a long message's segments in order, at most *limit* per call."""
        await self.store.add_message(make_message("m3", created_at=NOW + 3))
        await self.store.add_message(make_message("m1", created_at=NOW + 1, segments=3))
        await self.store.add_message(make_message("m2", created_at=NOW + 2))
        await self.store.add_message(make_message("m0", created_at=NOW, send_at=NOW + 2.5))
        first = await self.store.claim_due(NOW + 10, 4)
        self.assertEqual(
            [(w.key.message_id, w.pk_number) for w in first],
            [("m1", 1), ("m1", 2), ("m1", 3), ("m2", 1)],
        )
        rest = await self.store.claim_due(NOW + 10, 4)
        self.assertEqual([w.key.message_id for w in rest], ["m0", "m3"])
        self.assertEqual(await self.store.claim_due(NOW + 10, 0), [])

    async def test_claim_by_channel(self) -> None:
        """With a channel, only that channel's segments are claimed."""
        await self.store.add_message(make_message("m1", channel="cu"))
        await self.store.add_message(make_message("m2", channel="cm"))
        work = await self.store.claim_due(NOW, 10, channel="cm")
        self.assertEqual([(w.key.message_id, w.channel) for w in work], [("m2", "cm")])
        self.assertEqual(await self.store.queue_depth(), 1)
        self.assertEqual(await self.store.claim_due(NOW, 10, "ct"), [])

    async def test_queue_depth(self) -> None:
        """queue_depth counts queued segments, scheduled ones included."""
        self.assertEqual(await self.store.queue_depth(), 0)
        await self.store.add_message(make_message("m1", segments=2))
        await self.store.add_message(make_message("m2", send_at=NOW + 3600))
        self.assertEqual(await self.store.queue_depth(), 3)
        await self.store.claim_due(NOW, 1)
        self.assertEqual(await self.store.queue_depth(), 2)
        await self.store.requeue_submitting()
        self.assertEqual(await self.store.queue_depth(), 3)

    async def test_submitted(self) -> None:
        """Result 0 makes a segment submitted under its msg id."""
        await self.store.add_message(make_message())
        await self.store.claim_due(NOW, 10)
        self.assertEqual(await self.store.segment_submitted(key(), 0, "123456789", NOW + 1), [])
        got = await self.store.get_message("m1")
        segment = got.recipients[0].segments[0]
        self.assertEqual(
            (segment.state, segment.result, segment.msg_id, segment.submitted_at),
            (S.SUBMITTED, 0, "123456789", NOW + 1),
        )
        self.assertEqual(got.status, M.SUBMITTED)

    async def test_submitted_refused(self) -> None:
        """A non-zero Result fails the segment and keeps the Result."""
        await self.store.add_message(make_message())
        await self.store.claim_due(NOW, 10)
        await self.store.segment_submitted(key(), 8, None, NOW + 1)
        got = await self.store.get_message("m1")
        segment = got.recipients[0].segments[0]
        self.assertEqual((segment.state, segment.result, segment.error), (S.FAILED, 8, "result 8"))
        self.assertEqual(got.status, M.FAILED)
        await self.store.segment_submitted(key(), 8, None, NOW + 2)  # a repeat

    async def test_submitted_refused_named(self) -> None:
        """A refusal's error text, when the protocol names it, is stored as given."""
        await self.store.add_message(make_message())
        await self.store.claim_due(NOW, 10)
        record = SubmitRecord(key(), 69, None, NOW + 1, "result 69 (ESME_RSUBMITFAIL)")
        await self.store.segment_submitted_many([record])
        got = await self.store.get_message("m1")
        segment = got.recipients[0].segments[0]
        self.assertEqual(
            (segment.state, segment.result, segment.error),
            (S.FAILED, 69, "result 69 (ESME_RSUBMITFAIL)"),
        )

    async def test_submitted_from_queued(self) -> None:
        """A sender holding a segment without claim_due (sync mode) may record it."""
        message = make_message()
        await self.store.add_message(message)
        await self.store.segment_submitted(key(), 0, "1", NOW)
        self.assertEqual((await self.store.get_message("m1")).status, M.SUBMITTED)

    async def test_submitted_repeat(self) -> None:
        """Recording the same SUBMIT_RESP twice is a no-op; a different one is refused."""
        await self.submitted(make_message(), {key(): "77"})
        self.assertEqual(await self.store.segment_submitted(key(), 0, "77", NOW + 5), [])
        segment = (await self.store.get_message("m1")).recipients[0].segments[0]
        self.assertEqual(segment.submitted_at, NOW + 1)
        await self.assert_fails(
            self.store.segment_submitted(key(), 0, "78", NOW + 5), InvalidTransition
        )
        await self.assert_fails(
            self.store.segment_submitted(key(), 8, None, NOW + 5), InvalidTransition
        )

    async def test_submitted_needs_msg_id(self) -> None:
        """Result 0 without a msg id is refused and changes nothing."""
        await self.store.add_message(make_message())
        await self.assert_fails(self.store.segment_submitted(key(), 0, None, NOW), ValueError)
        self.assertEqual((await self.store.get_message("m1")).status, M.QUEUED)

    async def test_unknown_segment(self) -> None:
        """Changes to a segment that does not exist fail with UnknownSegment."""
        await self.store.add_message(make_message(segments=2))
        for k in (key("m2"), key("m1", 1, 1), key("m1", 0, 3), key("m1", 0, 0)):
            await self.assert_fails(self.store.segment_submitted(k, 0, "1", NOW), UnknownSegment)
            await self.assert_fails(self.store.segment_failed(k, "x", NOW), UnknownSegment)

    async def test_submitted_many(self) -> None:
        """segment_submitted_many records every SUBMIT_RESP."""
        await self.store.add_message(make_message(to=(A, B, C)))
        await self.store.claim_due(NOW, 10)
        records = [SubmitRecord(key("m1", r), 0, f"id{r}", NOW + r) for r in range(3)]
        self.assertEqual(await self.store.segment_submitted_many(records), [])
        got = await self.store.get_message("m1")
        self.assertEqual([r.segments[0].msg_id for r in got.recipients], ["id0", "id1", "id2"])
        self.assertEqual(got.status, M.SUBMITTED)

    async def test_submitted_many_all_or_nothing(self) -> None:
        """One bad record in segment_submitted_many records none of them."""
        await self.store.add_message(make_message(to=(A, B)))
        await self.store.claim_due(NOW, 10)
        records = [SubmitRecord(key("m1", 0), 0, "1", NOW), SubmitRecord(key("m1", 5), 0, "2", NOW)]
        await self.assert_fails(self.store.segment_submitted_many(records), UnknownSegment)
        got = await self.store.get_message("m1")
        self.assertEqual(got.recipients[0].segments[0].state, S.SUBMITTING)
        self.assertIsNone(got.recipients[0].segments[0].msg_id)

    async def test_status_after_failed_call(self) -> None:
        """Calls made together with a failing one see the message as if it was never made."""
        await self.store.add_message(make_message(to=(A, B, C)))
        await self.store.claim_due(NOW, 10)
        bad = [SubmitRecord(key("m1", 1), 0, "id1", NOW), SubmitRecord(key("m9"), 0, "x", NOW)]
        calls = [
            self.store.segment_submitted(key("m1", 0), 0, "id0", NOW),
            self.store.segment_submitted_many(bad),
            self.store.segment_submitted(key("m1", 2), 0, "id2", NOW),
            self.store.record_report("cm", "id0", "DELIVRD", NOW + 1),
        ]
        results = await DeferredList(calls, consumeErrors=True)
        self.assertFalse(results[1][0])
        results[1][1].trap(UnknownSegment)
        self.assertEqual(results[3][1].message_status, M.SUBMITTING)
        self.assertEqual((await self.store.get_message("m1")).status, M.SUBMITTING)
        await self.store.segment_submitted(key("m1", 1), 0, "id1", NOW)
        for msg_id in ("id1", "id2"):
            outcome = await self.store.record_report("cm", msg_id, "DELIVRD", NOW + 1)
        self.assertEqual(outcome.message_status, M.DELIVERED)
        self.assertEqual((await self.store.get_message("m1")).status, M.DELIVERED)

    async def test_submitted_together_mixed(self) -> None:
        """SUBMIT_RESPs made together (one transaction in SQLite) give what one by one gives.

        Accepted, refused, a repeat, a many with a shared Msg_Id (from
        queued), and one for a segment claimed in between.
        """
        await self.store.add_message(make_message(to=(A, B, C)))
        await self.store.add_message(make_message("m2", to=(A, B)))
        await self.store.add_message(make_message("m3"))
        await self.store.claim_due(NOW, 3)
        calls = [
            self.store.segment_submitted(key("m1", 0), 0, "x0", NOW + 1),
            self.store.segment_submitted_many(
                [SubmitRecord(key("m1", 1), 8, None, NOW + 1),
                 SubmitRecord(key("m2", 0), 0, "s", NOW + 1),
                 SubmitRecord(key("m2", 1), 0, "s", NOW + 1)]
            ),
            self.store.segment_submitted(key("m1", 0), 0, "x0", NOW + 2),
            self.store.claim_due(NOW, 10),
            self.store.segment_submitted(key("m3"), 0, "x3", NOW + 2),
            self.store.segment_submitted(key("m1", 2), 0, "x2", NOW + 2),
        ]  # fmt: skip
        results = await DeferredList(calls, consumeErrors=True)
        self.assertEqual([r for _, r in results], [[], [], [], results[3][1], [], []])
        self.assertEqual([w.key for w in results[3][1]], [key("m3")])
        one = await self.store.get_message("m1")
        self.assertEqual(
            [(r.segments[0].state, r.segments[0].msg_id) for r in one.recipients],
            [(S.SUBMITTED, "x0"), (S.FAILED, None), (S.SUBMITTED, "x2")],
        )
        self.assertEqual(one.recipients[0].segments[0].submitted_at, NOW + 1)
        self.assertEqual(one.status, M.SUBMITTED)
        self.assertEqual((await self.store.get_message("m2")).status, M.SUBMITTED)
        self.assertEqual((await self.store.get_message("m3")).status, M.SUBMITTED)
        outcome = await self.store.record_report("cm", "s", "DELIVRD", NOW + 3)
        self.assertEqual(
            (outcome.keys, outcome.message_status), ((key("m2", 0), key("m2", 1)), M.DELIVERED)
        )

    async def test_submitted_together_one_fails(self) -> None:
        """Among SUBMIT_RESPs made together, a refused call changes nothing; the others count."""
        await self.store.add_message(make_message(to=(A, B)))
        await self.store.claim_due(NOW, 10)
        calls = [
            self.store.segment_submitted(key("m1", 0), 0, "x0", NOW),
            self.store.segment_submitted(key("m1", 0), 0, "other", NOW),
            self.store.segment_submitted(key("m1", 1), 0, "x1", NOW),
        ]
        results = await DeferredList(calls, consumeErrors=True)
        self.assertEqual([ok for ok, _ in results], [True, False, True])
        results[1][1].trap(InvalidTransition)
        got = await self.store.get_message("m1")
        self.assertEqual([r.segments[0].msg_id for r in got.recipients], ["x0", "x1"])
        self.assertEqual(got.status, M.SUBMITTED)

    async def test_together_after_requeue(self) -> None:
        """SUBMIT_RESPs and reports made together still land after a requeue or an expiry."""
        await self.store.add_message(make_message(to=(A, B, C)))
        await self.store.claim_due(NOW, 10)
        await self.store.segment_submitted(key("m1", 2), 0, "r2", NOW + 1)
        await self.store.requeue_submitting()
        await self.store.expire_reports(NOW + 2)
        calls = [
            self.store.segment_submitted(key("m1", 0), 0, "r0", NOW + 3),
            self.store.segment_submitted(key("m1", 1), 0, "r1", NOW + 3),
        ]
        self.assertEqual([await d for d in calls], [[], []])
        late = [
            self.store.record_report("cm", "r2", "DELIVRD", NOW + 4),
            self.store.record_report("cm", "r0", "DELIVRD", NOW + 4),
        ]
        outcomes = [await d for d in late]
        self.assertEqual(
            [(o.match, o.message_status) for o in outcomes],
            [(ReportMatch.MATCHED, M.SUBMITTED), (ReportMatch.MATCHED, M.SUBMITTED)],
        )
        got = await self.store.get_message("m1")
        self.assertEqual(
            [r.segments[0].state for r in got.recipients],
            [S.DELIVERED, S.SUBMITTED, S.DELIVERED],
        )

    async def test_together_after_a_failing_call(self) -> None:
        """A SUBMIT_RESP and a report made together right after a failing call both count.

        A report is held meanwhile, so the SUBMIT_RESP also looks for it.
        """
        await self.store.add_message(make_message(to=(A, B)))
        await self.store.claim_due(NOW, 10)
        await self.store.segment_submitted(key("m1", 1), 0, "r1", NOW + 1)
        await self.store.record_report("cm", "early", "DELIVRD", NOW + 1)
        calls = [
            self.store.segment_failed(key("m9"), "x", NOW + 2),
            self.store.segment_submitted(key("m1", 0), 0, "r0", NOW + 2),
            self.store.record_report("cm", "r1", "DELIVRD", NOW + 2),
        ]
        results = await DeferredList(calls, consumeErrors=True)
        results[0][1].trap(UnknownSegment)
        self.assertEqual(results[1][1], [])
        self.assertEqual(
            (results[2][1].match, results[2][1].message_status),
            (ReportMatch.MATCHED, M.SUBMITTED),
        )

    async def test_reports_together(self) -> None:
        """Reports made together (one transaction in SQLite) give what one by one gives.

        Matched ones, one that matches nothing (held), a duplicate, and one
        for the same message in between; their items come in the reports'
        order.
        """
        await self.submitted(
            make_message(to=(A, B, C)), {key("m1", 0): "r0", key("m1", 1): "r1", key("m1", 2): "r2"}
        )
        calls = [
            self.store.record_report("cm", "r0", "DELIVRD", NOW + 2),
            self.store.record_report("cm", "nobody", "DELIVRD", NOW + 2),
            self.store.record_report("cm", "r1", "UNDELIV", NOW + 2),
            self.store.record_report("cm", "r1", "DELIVRD", NOW + 3),
            self.store.record_report("cm", "r2", "DELIVRD", NOW + 2, to=C),
        ]
        outcomes = [await d for d in calls]
        self.assertEqual(
            [(o.match, o.message_status) for o in outcomes],
            [
                (ReportMatch.MATCHED, M.SUBMITTED),
                (ReportMatch.HELD, None),
                (ReportMatch.MATCHED, M.SUBMITTED),
                (ReportMatch.DUPLICATE, M.SUBMITTED),
                (ReportMatch.MATCHED, M.PARTIALLY_DELIVERED),
            ],
        )
        got = await self.store.get_message("m1")
        self.assertEqual(
            [r.segments[0].state for r in got.recipients],
            [S.DELIVERED, S.UNDELIVERED, S.DELIVERED],
        )
        self.assertEqual(got.status, M.PARTIALLY_DELIVERED)
        items = await self.store.fetch_inbound(10)
        self.assertEqual(
            [(i.fields["msg_id"], i.fields["stat"], i.fields["message_status"]) for i in items],
            [
                ("r0", "DELIVRD", "submitted"),
                ("r1", "UNDELIV", "submitted"),
                ("r2", "DELIVRD", "partially_delivered"),
            ],
        )
        self.assertEqual(sorted(i.id for i in items), [i.id for i in items])
        # The held one is matched by the SUBMIT_RESP it overtook.
        await self.store.add_message(make_message("m2"))
        await self.store.claim_due(NOW, 10)
        [held] = await self.store.segment_submitted(key("m2"), 0, "nobody", NOW + 4)
        self.assertEqual((held.match, held.message_status), (ReportMatch.MATCHED, M.DELIVERED))

    async def test_reports_together_with_pushes(self) -> None:
        """Reports made together each write their item and, with a URL, their push."""
        await self.submitted(make_message(to=(A, B)), {key("m1", 0): "r0", key("m1", 1): "r1"})
        url = "http://app.example/reports"
        calls = [
            self.store.record_report("cm", "r0", "DELIVRD", NOW + 2, callback_url=url),
            self.store.record_report("cm", "r1", "DELIVRD", NOW + 2),
        ]
        for d in calls:
            await d
        items = await self.store.fetch_inbound(10)
        [push] = await self.store.due_callbacks(NOW + 10, 10)
        self.assertEqual([i.fields["msg_id"] for i in items], ["r0", "r1"])
        self.assertEqual((push.url, json.loads(push.payload)), (url, dict(items[0].fields)))

    async def test_failed(self) -> None:
        """segment_failed is final and keeps the reason; failing again is a no-op."""
        await self.store.add_message(make_message(segments=2))
        await self.store.claim_due(NOW, 1)
        await self.store.segment_failed(key(), "no route", NOW + 1)
        await self.store.segment_failed(key("m1", 0, 2), "too long", NOW + 1)  # still queued
        await self.store.segment_failed(key(), "again", NOW + 2)
        got = await self.store.get_message("m1")
        segments = got.recipients[0].segments
        self.assertEqual(
            [(s.state, s.error) for s in segments], [(S.FAILED, "no route"), (S.FAILED, "too long")]
        )
        self.assertEqual(got.status, M.FAILED)
        self.assertEqual(await self.store.claim_due(NOW + 10, 10), [])

    async def test_failed_after_submitted(self) -> None:
        """A submitted segment cannot be failed."""
        await self.submitted(make_message(), {key(): "1"})
        await self.assert_fails(self.store.segment_failed(key(), "late", NOW), InvalidTransition)

    async def test_requeue_submitting(self) -> None:
        """Claimed segments go back to queued at start-up and are claimed again."""
        await self.store.add_message(make_message(to=(A, B)))
        await self.store.add_message(make_message("m2", send_at=NOW + 60))
        await self.store.claim_due(NOW, 10)
        await self.store.segment_submitted(key("m1", 1), 0, "5", NOW)
        self.assertEqual(await self.store.requeue_submitting(), 1)
        self.assertEqual((await self.store.get_message("m1")).status, M.SUBMITTING)
        self.assertEqual(await self.store.requeue_submitting(), 0)
        again = await self.store.claim_due(NOW, 10)
        self.assertEqual([(w.key, w.attempts) for w in again], [(key("m1", 0), 2)])

    async def test_status_submitting(self) -> None:
        """A message part sent and part queued is submitting."""
        await self.store.add_message(make_message(segments=2))
        await self.store.claim_due(NOW, 1)
        await self.store.segment_submitted(key(), 0, "1", NOW)
        await self.store.requeue_submitting()
        self.assertEqual((await self.store.get_message("m1")).status, M.SUBMITTING)

    # -- status reports ----------------------------------------------------

    async def test_report_delivered(self) -> None:
        """A DELIVRD report matched by (channel, msg id) delivers the segment and the message."""
        await self.submitted(make_message(), {key(): "42"})
        outcome = await self.store.record_report(
            "cm", "42", "DELIVRD", NOW + 5, b"raw", now=NOW + 6
        )
        self.assertEqual(
            (outcome.match, outcome.channel, outcome.msg_id, outcome.stat),
            (ReportMatch.MATCHED, "cm", "42", "DELIVRD"),
        )
        self.assertEqual(
            (outcome.message_id, outcome.keys, outcome.message_status),
            ("m1", (key(),), M.DELIVERED),
        )
        got = await self.store.get_message("m1")
        segment = got.recipients[0].segments[0]
        self.assertEqual(
            (segment.state, segment.stat, segment.done_at, segment.reported_at),
            (S.DELIVERED, "DELIVRD", NOW + 5, NOW + 6),
        )
        self.assertEqual(got.status, M.DELIVERED)

    async def test_report_undelivered(self) -> None:
        """Any other Stat makes the segment undelivered."""
        await self.submitted(make_message(), {key(): "42"})
        outcome = await self.store.record_report("cm", "42", "UNDELIV", NOW + 5)
        self.assertEqual(outcome.message_status, M.UNDELIVERED)
        segment = (await self.store.get_message("m1")).recipients[0].segments[0]
        self.assertEqual((segment.state, segment.reported_at), (S.UNDELIVERED, NOW + 5))

    async def test_report_writes_inbound(self) -> None:
        """A matched report leaves one inbound report item for the application."""
        await self.submitted(make_message(external_id="x"), {key(): "42"})
        await self.store.record_report("cm", "42", "DELIVRD", NOW + 5, now=NOW + 6)
        items = await self.store.fetch_inbound(10)
        self.assertEqual(len(items), 1)
        item = items[0]
        self.assertEqual(
            (item.kind, item.channel, item.created_at), (InboundKind.REPORT, "cm", NOW + 6)
        )
        self.assertEqual(
            item.fields,
            {
                "type": "report",
                "channel": "cm",
                "message_id": "m1",
                "external_id": "x",
                "to": A,
                "msg_id": "42",
                "pk_number": 1,
                "pk_total": 1,
                "stat": "DELIVRD",
                "err": "",
                "segment_status": "delivered",
                "message_status": "delivered",
                "done_at": NOW + 5,
                "received_at": NOW + 6,
            },
        )
        self.assertEqual(await self.store.due_callbacks(NOW + 100, 10), [])

    async def test_report_and_push_together(self) -> None:
        """With a callback URL the report's push is stored with it: the item's JSON, due now."""
        await self.submitted(make_message(), {key(): "42"})
        await self.store.record_report(
            "cm", "42", "DELIVRD", NOW + 5, now=NOW + 6, callback_url="http://app/r"
        )
        [item] = await self.store.fetch_inbound(10)
        [push] = await self.store.due_callbacks(NOW + 6, 10)
        self.assertEqual(
            (push.kind, push.url, push.state, push.next_at),
            (InboundKind.REPORT, "http://app/r", CallbackState.PENDING, NOW + 6),
        )
        self.assertEqual(json.loads(push.payload), item.fields)
        # A duplicate is neither stored nor pushed again.
        await self.store.record_report("cm", "42", "DELIVRD", NOW + 7, callback_url="http://app/r")
        self.assertEqual(len(await self.store.due_callbacks(NOW + 100, 10)), 1)

    async def test_report_segment_and_message_status(self) -> None:
        """A report on one segment of a long message names the segment's and message's states."""
        await self.submitted(make_message(segments=2), {key(): "s1", key(pk_number=2): "s2"})
        await self.store.record_report("cm", "s1", "DELIVRD", NOW + 5, err="000")
        [item] = await self.store.fetch_inbound(10)
        self.assertEqual(
            (item.fields["segment_status"], item.fields["message_status"], item.fields["err"]),
            ("delivered", "submitted", "000"),
        )
        self.assertEqual((item.fields["pk_number"], item.fields["pk_total"]), (1, 2))

    async def test_report_delivered_as_said(self) -> None:
        """The caller's delivered decides the segment's state, whatever the Stat's word."""
        await self.submitted(make_message(segments=2), {key(): "s1", key(pk_number=2): "s2"})
        await self.store.record_report("cm", "s1", "0", NOW + 5, delivered=True)
        await self.store.record_report("cm", "s2", "DELIVRD", NOW + 5, delivered=False)
        segments = (await self.store.get_message("m1")).recipients[0].segments
        self.assertEqual(
            [(s.state, s.stat) for s in segments],
            [(S.DELIVERED, "0"), (S.UNDELIVERED, "DELIVRD")],
        )

    async def test_report_duplicate(self) -> None:
        """A second report for the same msg id changes nothing and adds no inbound item."""
        await self.submitted(make_message(), {key(): "42"})
        await self.store.record_report("cm", "42", "DELIVRD", NOW + 5)
        outcome = await self.store.record_report("cm", "42", "UNDELIV", NOW + 9)
        self.assertEqual(
            (outcome.match, outcome.message_id, outcome.keys, outcome.message_status),
            (ReportMatch.DUPLICATE, "m1", (key(),), M.DELIVERED),
        )
        segment = (await self.store.get_message("m1")).recipients[0].segments[0]
        self.assertEqual((segment.stat, segment.done_at), ("DELIVRD", NOW + 5))
        self.assertEqual(len(await self.store.fetch_inbound(10)), 1)

    async def test_report_long_message(self) -> None:
        """A long message is delivered when every segment is, partially when some fail."""
        await self.submitted(
            make_message(segments=3), {key(pk_number=n): f"s{n}" for n in (1, 2, 3)}
        )
        statuses = []
        for n, stat in ((1, "DELIVRD"), (2, "DELIVRD"), (3, "UNDELIV")):
            outcome = await self.store.record_report("cm", f"s{n}", stat, NOW + 5)
            statuses.append(outcome.message_status)
        self.assertEqual(statuses, [M.SUBMITTED, M.SUBMITTED, M.PARTIALLY_DELIVERED])
        got = await self.store.get_message("m1")
        self.assertEqual(got.status, M.PARTIALLY_DELIVERED)
        self.assertEqual(got.recipients[0].status, M.PARTIALLY_DELIVERED)

    async def test_report_recipient_status(self) -> None:
        """Each recipient's status follows its own segments."""
        await self.submitted(
            make_message(to=(A, B)), {key(recipient=0): "a", key(recipient=1): "b"}
        )
        await self.store.record_report("cm", "a", "DELIVRD", NOW)
        got = await self.store.get_message("m1")
        self.assertEqual([r.status for r in got.recipients], [M.DELIVERED, M.SUBMITTED])
        self.assertEqual(got.status, M.SUBMITTED)

    async def test_report_before_submit_resp(self) -> None:
        """A report that overtakes its SUBMIT_RESP is held, then applied by segment_submitted."""
        await self.store.add_message(make_message())
        await self.store.claim_due(NOW, 10)
        held = await self.store.record_report("cm", "42", "DELIVRD", NOW + 2, b"raw", now=NOW + 3)
        self.assertEqual(
            (held.match, held.message_id, held.keys, held.message_status),
            (ReportMatch.HELD, None, (), None),
        )
        self.assertEqual((await self.store.get_message("m1")).status, M.SUBMITTING)
        self.assertEqual(await self.store.fetch_inbound(10), [])
        outcomes = await self.store.segment_submitted(key(), 0, "42", NOW + 4)
        self.assertEqual(len(outcomes), 1)
        outcome = outcomes[0]
        self.assertEqual(
            (outcome.match, outcome.channel, outcome.msg_id, outcome.stat),
            (ReportMatch.MATCHED, "cm", "42", "DELIVRD"),
        )
        self.assertEqual(
            (outcome.message_id, outcome.keys, outcome.message_status),
            ("m1", (key(),), M.DELIVERED),
        )
        got = await self.store.get_message("m1")
        segment = got.recipients[0].segments[0]
        self.assertEqual(
            (segment.state, segment.msg_id, segment.stat, segment.done_at, segment.reported_at),
            (S.DELIVERED, "42", "DELIVRD", NOW + 2, NOW + 3),
        )
        items = await self.store.fetch_inbound(10)
        self.assertEqual(
            [(i.kind, i.fields["msg_id"], i.created_at) for i in items],
            [(InboundKind.REPORT, "42", NOW + 4)],
        )
        # Matched once: the hold is gone.
        self.assertEqual(
            (await self.store.record_report("cm", "42", "DELIVRD", NOW + 2)).match,
            ReportMatch.DUPLICATE,
        )

    async def test_held_report_keeps_what_it_said(self) -> None:
        """A held report is applied with its delivered and err, and pushed with its item."""
        await self.store.add_message(make_message())
        await self.store.claim_due(NOW, 10)
        await self.store.record_report(
            "cm", "42", "XX", NOW + 2, now=NOW + 3, delivered=True, err="007"
        )
        self.assertEqual(await self.store.due_callbacks(NOW + 100, 10), [])
        [outcome] = await self.store.segment_submitted(
            key(), 0, "42", NOW + 4, callback_url="http://app/r"
        )
        self.assertEqual(outcome.message_status, M.DELIVERED)
        [item] = await self.store.fetch_inbound(10)
        self.assertEqual(
            (item.fields["stat"], item.fields["err"], item.fields["segment_status"]),
            ("XX", "007", "delivered"),
        )
        self.assertEqual(item.fields["received_at"], NOW + 3)
        [push] = await self.store.due_callbacks(NOW + 4, 10)
        self.assertEqual((push.url, json.loads(push.payload)), ("http://app/r", item.fields))

    async def test_held_report_pushed_from_submitted_many(self) -> None:
        """segment_submitted_many pushes the held reports it matches to its callback URL."""
        await self.store.add_message(make_message())
        await self.store.claim_due(NOW, 10)
        await self.store.record_report("cm", "42", "DELIVRD", NOW + 2)
        [outcome] = await self.store.segment_submitted_many(
            [SubmitRecord(key(), 0, "42", NOW + 4)], callback_url="http://app/r"
        )
        self.assertEqual(outcome.match, ReportMatch.MATCHED)
        [push] = await self.store.due_callbacks(NOW + 4, 10)
        self.assertEqual(json.loads(push.payload)["msg_id"], "42")

    async def test_report_after_submit_resp(self) -> None:
        """The usual order: SUBMIT_RESP first, then the report matches at once."""
        await self.store.add_message(make_message())
        await self.store.claim_due(NOW, 10)
        self.assertEqual(await self.store.segment_submitted(key(), 0, "42", NOW + 1), [])
        outcome = await self.store.record_report("cm", "42", "DELIVRD", NOW + 2)
        self.assertEqual(outcome.match, ReportMatch.MATCHED)
        self.assertEqual(len(await self.store.fetch_inbound(10)), 1)

    async def test_held_duplicate(self) -> None:
        """A held report repeated is a duplicate, and is applied once."""
        await self.store.add_message(make_message())
        await self.store.claim_due(NOW, 10)
        await self.store.record_report("cm", "42", "DELIVRD", NOW)
        again = await self.store.record_report("cm", "42", "DELIVRD", NOW)
        self.assertEqual((again.match, again.message_id), (ReportMatch.DUPLICATE, None))
        self.assertEqual(len(await self.store.segment_submitted(key(), 0, "42", NOW)), 1)
        self.assertEqual(len(await self.store.fetch_inbound(10)), 1)

    async def test_held_submit_failed(self) -> None:
        """A refused SUBMIT_RESP does not take a held report."""
        await self.store.add_message(make_message())
        await self.store.claim_due(NOW, 10)
        await self.store.record_report("cm", "42", "DELIVRD", NOW)
        self.assertEqual(await self.store.segment_submitted(key(), 9, "42", NOW), [])
        self.assertEqual((await self.store.get_message("m1")).status, M.FAILED)

    async def test_report_other_channel(self) -> None:
        """The same msg id on another channel does not match."""
        await self.submitted(make_message(channel="cm"), {key(): "42"})
        outcome = await self.store.record_report("cu", "42", "DELIVRD", NOW)
        self.assertEqual(outcome.match, ReportMatch.HELD)
        self.assertEqual((await self.store.get_message("m1")).status, M.SUBMITTED)

    async def test_report_failed_segment(self) -> None:
        """A segment whose SUBMIT was refused takes no report, even under the same msg id."""
        await self.store.add_message(make_message())
        await self.store.claim_due(NOW, 10)
        await self.store.segment_submitted(key(), 9, "42", NOW)
        outcome = await self.store.record_report("cm", "42", "DELIVRD", NOW)
        self.assertEqual(outcome.match, ReportMatch.HELD)
        self.assertEqual((await self.store.get_message("m1")).status, M.FAILED)

    async def test_report_shared_msg_id(self) -> None:
        """One SUBMIT to several numbers shares a msg id; ``to`` picks the recipient."""
        await self.submitted(make_message(to=(A, B, C)), {key(recipient=r): "99" for r in range(3)})
        outcome = await self.store.record_report("cm", "99", "DELIVRD", NOW, to=B)
        self.assertEqual((outcome.match, outcome.keys), (ReportMatch.MATCHED, (key(recipient=1),)))
        got = await self.store.get_message("m1")
        self.assertEqual(
            [r.status for r in got.recipients], [M.SUBMITTED, M.DELIVERED, M.SUBMITTED]
        )
        # Without ``to`` it applies to every segment still waiting.
        outcome = await self.store.record_report("cm", "99", "UNDELIV", NOW)
        self.assertEqual(outcome.keys, (key(recipient=0), key(recipient=2)))
        self.assertEqual(outcome.message_status, M.PARTIALLY_DELIVERED)
        self.assertEqual(len(await self.store.fetch_inbound(10)), 3)
        again = await self.store.record_report("cm", "99", "UNDELIV", NOW, to=C)
        self.assertEqual((again.match, again.keys), (ReportMatch.DUPLICATE, (key(recipient=2),)))

    async def test_held_shared_msg_id(self) -> None:
        """A held report with ``to`` waits for that recipient's SUBMIT_RESP."""
        await self.store.add_message(make_message(to=(A, B)))
        await self.store.claim_due(NOW, 10)
        await self.store.record_report("cm", "99", "DELIVRD", NOW, to=B)
        self.assertEqual(await self.store.segment_submitted(key(recipient=0), 0, "99", NOW), [])
        outcomes = await self.store.segment_submitted(key(recipient=1), 0, "99", NOW)
        self.assertEqual([o.keys for o in outcomes], [(key(recipient=1),)])
        got = await self.store.get_message("m1")
        self.assertEqual([r.status for r in got.recipients], [M.SUBMITTED, M.DELIVERED])

    async def test_msg_id_reused(self) -> None:
        """When the upstream reuses a msg id, the newest message gets the report."""
        await self.submitted(make_message("old"), {key("old"): "7"})
        await self.store.record_report("cm", "7", "DELIVRD", NOW)
        await self.submitted(make_message("new"), {key("new"): "7"})
        outcome = await self.store.record_report("cm", "7", "UNDELIV", NOW)
        self.assertEqual((outcome.match, outcome.message_id), (ReportMatch.MATCHED, "new"))
        self.assertEqual((await self.store.get_message("old")).status, M.DELIVERED)

    async def test_msg_id_reused_out_of_order(self) -> None:
        """The newest message owns a reused msg id even when its SUBMIT_RESP came first."""
        await self.store.add_message(make_message("old"))
        await self.store.add_message(make_message("new", created_at=NOW + 1))
        await self.store.claim_due(NOW + 1, 10)
        await self.store.segment_submitted(key("new"), 0, "7", NOW + 2)
        await self.store.segment_submitted(key("old"), 0, "7", NOW + 3)
        outcome = await self.store.record_report("cm", "7", "DELIVRD", NOW + 4)
        self.assertEqual((outcome.match, outcome.message_id), (ReportMatch.MATCHED, "new"))
        self.assertEqual((await self.store.get_message("old")).status, M.SUBMITTED)

    async def test_msg_id_twice_in_a_message(self) -> None:
        """Two SUBMITs of one message answered with the same msg id: the report is both's."""
        await self.submitted(
            make_message(segments=2), {key(pk_number=1): "5", key(pk_number=2): "5"}
        )
        outcome = await self.store.record_report("cm", "5", "DELIVRD", NOW + 2)
        self.assertEqual(outcome.keys, (key(pk_number=1), key(pk_number=2)))
        self.assertEqual((await self.store.get_message("m1")).status, M.DELIVERED)

    async def test_report_after_requeue(self) -> None:
        """A segment claimed, requeued and claimed again is recorded and reported once."""
        await self.store.add_message(make_message())
        await self.store.claim_due(NOW, 10)
        self.assertEqual(await self.store.requeue_submitting(), 1)
        self.assertEqual(len(await self.store.claim_due(NOW, 10)), 1)
        await self.store.segment_submitted(key(), 0, "8", NOW + 1)
        outcome = await self.store.record_report("cm", "8", "DELIVRD", NOW + 2, to=B)
        self.assertEqual(outcome.match, ReportMatch.HELD)
        outcome = await self.store.record_report("cm", "8", "DELIVRD", NOW + 2, to=A)
        self.assertEqual((outcome.match, outcome.keys), (ReportMatch.MATCHED, (key(),)))
        again = await self.store.record_report("cm", "8", "DELIVRD", NOW + 3)
        self.assertEqual(again.match, ReportMatch.DUPLICATE)

    async def test_drop_held_reports(self) -> None:
        """Held reports older than the cut are forgotten and match nothing later."""
        await self.store.add_message(make_message(to=(A, B)))
        await self.store.claim_due(NOW, 10)
        await self.store.record_report("cm", "1", "DELIVRD", NOW, now=NOW + 1)
        await self.store.record_report("cm", "2", "DELIVRD", NOW, now=NOW + 3)
        self.assertEqual(await self.store.drop_held_reports(NOW + 2), 1)
        self.assertEqual(await self.store.drop_held_reports(NOW + 2), 0)
        self.assertEqual(await self.store.segment_submitted(key(recipient=0), 0, "1", NOW), [])
        self.assertEqual(len(await self.store.segment_submitted(key(recipient=1), 0, "2", NOW)), 1)

    async def test_expire_reports(self) -> None:
        """Segments waiting too long for a report expire; no-report messages stay submitted."""
        await self.submitted(
            make_message("m1", segments=2), {key("m1", 0, 1): "1", key("m1", 0, 2): "2"}
        )
        await self.submitted(make_message("m2", report=False), {key("m2"): "3"})
        await self.store.add_message(make_message("m3"))
        await self.store.claim_due(NOW, 10)
        await self.store.segment_submitted(key("m3"), 0, "4", NOW + 100)
        await self.store.record_report("cm", "2", "DELIVRD", NOW + 2)
        self.assertEqual(await self.store.expire_reports(NOW + 1), 0)  # submitted at NOW + 1
        self.assertEqual(await self.store.expire_reports(NOW + 50), 1)
        self.assertEqual(await self.store.expire_reports(NOW + 50), 0)
        m1 = await self.store.get_message("m1")
        self.assertEqual([s.state for s in m1.recipients[0].segments], [S.EXPIRED, S.DELIVERED])
        self.assertEqual(m1.status, M.PARTIALLY_DELIVERED)
        self.assertEqual((await self.store.get_message("m2")).status, M.SUBMITTED)
        self.assertEqual((await self.store.get_message("m3")).status, M.SUBMITTED)

    async def test_expired_status(self) -> None:
        """A message whose only segment expired is expired."""
        await self.submitted(make_message(), {key(): "1"})
        self.assertEqual(await self.store.expire_reports(NOW + 60), 1)
        self.assertEqual((await self.store.get_message("m1")).status, M.EXPIRED)

    async def test_late_report(self) -> None:
        """A report arriving after expiry still counts."""
        await self.submitted(make_message(), {key(): "1"})
        await self.store.expire_reports(NOW + 60)
        outcome = await self.store.record_report("cm", "1", "DELIVRD", NOW + 70)
        self.assertEqual(
            (outcome.match, outcome.message_status), (ReportMatch.MATCHED, M.DELIVERED)
        )

    # -- inbound items -----------------------------------------------------

    async def test_inbound(self) -> None:
        """Inbound items are fetched oldest first, each once, *limit* at a time."""
        ids = []
        for i in range(5):
            item = Inbound(
                InboundKind.MO, "cm", {"from": A, "content": f"\u56de\u590d {i}"}, NOW + i
            )
            ids.append(await self.store.add_inbound(item))
        self.assertEqual(ids, sorted(ids))
        first = await self.store.fetch_inbound(3)
        self.assertEqual(
            [i.fields["content"] for i in first],
            ["\u56de\u590d 0", "\u56de\u590d 1", "\u56de\u590d 2"],
        )
        self.assertEqual([i.id for i in first], ids[:3])
        self.assertEqual(
            first[0],
            Inbound(InboundKind.MO, "cm", {"from": A, "content": "\u56de\u590d 0"}, NOW, id=ids[0]),
        )
        rest = await self.store.fetch_inbound(10)
        self.assertEqual([i.id for i in rest], ids[3:])
        self.assertEqual(await self.store.fetch_inbound(10), [])

    async def add_mos(self, count: int) -> list[int]:
        """Store *count* MOs; their ids."""
        ids = []
        for i in range(count):
            item_id = await self.store.add_inbound(Inbound(InboundKind.MO, "cm", {"n": i}, NOW + i))
            assert item_id is not None
            ids.append(item_id)
        return ids

    async def test_inbound_cursor(self) -> None:
        """list_inbound pages by id after a cursor, fetched or not, and marks nothing."""
        ids = await self.add_mos(5)
        page = await self.store.list_inbound(0, 2)
        self.assertEqual([i.id for i in page], ids[:2])
        self.assertEqual([i.fields["n"] for i in page], [0, 1])
        page = await self.store.list_inbound(ids[1], 10)
        self.assertEqual([i.id for i in page], ids[2:])
        self.assertEqual(await self.store.list_inbound(ids[-1], 10), [])
        # Reading with a cursor marks nothing; fetched items are still listed.
        self.assertEqual([i.id for i in await self.store.fetch_inbound(3)], ids[:3])
        self.assertEqual([i.id for i in await self.store.list_inbound(0, 10)], ids)
        self.assertEqual(await self.store.list_inbound(0, 0), [])

    async def test_inbound_ack(self) -> None:
        """ack_inbound marks every item up to an id fetched, counting the ones newly marked."""
        ids = await self.add_mos(4)
        await self.store.fetch_inbound(1)
        self.assertEqual(await self.store.ack_inbound(ids[2]), 2)
        self.assertEqual(await self.store.ack_inbound(ids[2]), 0)
        self.assertEqual([i.id for i in await self.store.fetch_inbound(10)], ids[3:])
        self.assertEqual(await self.store.ack_inbound(ids[-1] + 100), 0)
        self.assertEqual(await self.store.ack_inbound(0), 0)

    async def test_inbound_dedup(self) -> None:
        """An item with a dedup key already stored is not added again."""
        mo = Inbound(InboundKind.MO, "cm", {"content": "x"}, NOW, dedup_key="123")
        self.assertIsNotNone(await self.store.add_inbound(mo))
        self.assertIsNone(await self.store.add_inbound(mo))
        other_channel = Inbound(InboundKind.MO, "cu", {"content": "x"}, NOW, dedup_key="123")
        other_kind = Inbound(InboundKind.REPORT, "cm", {}, NOW, dedup_key="123")
        no_key = Inbound(InboundKind.MO, "cm", {}, NOW)
        for item in (other_channel, other_kind, no_key, no_key):
            self.assertIsNotNone(await self.store.add_inbound(item))
        self.assertEqual(len(await self.store.fetch_inbound(10)), 5)
        self.assertIsNone(await self.store.add_inbound(mo))  # fetched, still known

    async def test_inbound_and_push_together(self) -> None:
        """With a callback URL an item's push (its fields as JSON) is stored with it, once."""
        mo = Inbound(InboundKind.MO, "cm", {"from": A, "text": "\u56de"}, NOW, dedup_key="9")
        self.assertIsNotNone(await self.store.add_inbound(mo, callback_url="http://app/mo"))
        self.assertIsNone(await self.store.add_inbound(mo, callback_url="http://app/mo"))
        [push] = await self.store.due_callbacks(NOW, 10)
        self.assertEqual(
            (push.kind, push.url, json.loads(push.payload)),
            (InboundKind.MO, "http://app/mo", {"from": A, "text": "\u56de"}),
        )
        self.assertIn("\u56de", push.payload)  # not escaped

    async def test_inbound_fields_json(self) -> None:
        """Inbound fields are kept as JSON: nested values survive; non-JSON data is refused."""
        fields = {"a": [1, 2.5, None, True], "b": {"c": "\u00e9"}}
        await self.store.add_inbound(Inbound(InboundKind.MO, "cm", fields, NOW))
        self.assertEqual((await self.store.fetch_inbound(1))[0].fields, fields)
        bad = Inbound(InboundKind.MO, "cm", {"raw": b"\x00"}, NOW)
        await self.assert_fails(self.store.add_inbound(bad), TypeError)

    async def test_mo_parts_held_in_order(self) -> None:
        """Parts of long MOs are held in the order received; a repeated part is kept once."""
        first, second = MoGroup("cm", A, "10690", 7, 3), MoGroup("cm", A, "10690", 8, 2)
        parts = [
            MoPart(first, 2, b"\x05\x00\x03\x07\x03\x02bb", 1, 0, NOW, "m2"),
            MoPart(second, 1, b"\x05\x00\x03\x08\x02\x01x", 1, 8, NOW + 1),
            MoPart(first, 1, b"\x05\x00\x03\x07\x03\x01aa", 1, 0, NOW + 2, "m1"),
        ]
        for part in parts:
            self.assertTrue(await self.store.add_mo_part(part))
        again = MoPart(first, 2, b"other", 1, 0, NOW + 3, "m2b")
        self.assertFalse(await self.store.add_mo_part(again))
        self.assertEqual(await self.store.mo_parts(), parts)

    async def test_mo_parts_deleted_with_their_message(self) -> None:
        """The item of a whole long MO deletes its group's parts in one step, and no others."""
        done, open_ = MoGroup("cm", A, "10690", 7, 2), MoGroup("cm", A, "10690", 7, 3)
        for group in (done, open_):
            await self.store.add_mo_part(MoPart(group, 1, b"p", 1, 0, NOW))
        mo = Inbound(InboundKind.MO, "cm", {"text": "whole"}, NOW, dedup_key="m")
        self.assertIsNotNone(await self.store.add_inbound(mo, parts=done))
        self.assertEqual([p.group for p in await self.store.mo_parts()], [open_])
        # A repeat of the item (already stored) still deletes the parts it names.
        await self.store.add_mo_part(MoPart(done, 2, b"q", 1, 0, NOW))
        self.assertIsNone(await self.store.add_inbound(mo, parts=done))
        self.assertEqual([p.group for p in await self.store.mo_parts()], [open_])

    async def test_mo_group_parts(self) -> None:
        """A group's held parts are read alone, in the order received; none once it is stored."""
        group, other = MoGroup("cm", A, "10690", 7, 3), MoGroup("cm", A, "10690", 7, 2)
        second = MoPart(group, 2, b"\x05\x00\x03\x07\x03\x02b", 1, 0, NOW, "m2")
        first = MoPart(group, 1, b"\x05\x00\x03\x07\x03\x01a", 1, 0, NOW + 1, "m1")
        for part in (second, MoPart(other, 1, b"x", 1, 0, NOW), first):
            await self.store.add_mo_part(part)
        self.assertEqual(await self.store.mo_group_parts(group), [second, first])
        self.assertEqual(await self.store.mo_group_parts(MoGroup("cm", A, "10690", 8, 3)), [])
        mo = Inbound(InboundKind.MO, "cm", {"text": "ab"}, NOW)
        await self.store.add_inbound(mo, parts=group)
        self.assertEqual(await self.store.mo_group_parts(group), [])

    async def test_held_parts_are_the_ticket(self) -> None:
        """An item naming a group is added only by the call that deletes some of its parts."""
        group = MoGroup("cm", A, "10690", 7, 2)
        await self.store.add_mo_part(MoPart(group, 1, b"p", 1, 0, NOW))
        first = Inbound(InboundKind.MO, "cm", {"text": "p"}, NOW, dedup_key="m1")
        again = Inbound(InboundKind.MO, "cm", {"text": "p"}, NOW, dedup_key="m2")
        url = "http://app/mo"
        self.assertIsNotNone(await self.store.add_inbound(first, parts=group, callback_url=url))
        self.assertIsNone(await self.store.add_inbound(again, parts=group, callback_url=url))
        self.assertEqual([i.dedup_key for i in await self.store.fetch_inbound(10)], ["m1"])
        self.assertEqual(len(await self.store.due_callbacks(NOW, 10)), 1)

    async def test_inbound_refused_keeps_key_free(self) -> None:
        """A refused item does not use up its dedup key."""
        bad = Inbound(InboundKind.MO, "cm", {"raw": b"\x00"}, NOW, dedup_key="7")
        await self.assert_fails(self.store.add_inbound(bad), TypeError)
        good = Inbound(InboundKind.MO, "cm", {"raw": "00"}, NOW, dedup_key="7")
        self.assertIsNotNone(await self.store.add_inbound(good))

    # -- templates ---------------------------------------------------------

    async def test_templates(self) -> None:
        """Templates are created, read, listed by name, replaced and deleted."""
        t1 = Template("otp", TemplateEngine.SIMPLE, "code {A}", NOW, NOW)
        t2 = Template("hello", TemplateEngine.JINJA2, "hi {{ name }}", NOW + 1, NOW + 1)
        self.assertTrue(await self.store.put_template(t1))
        self.assertTrue(await self.store.put_template(t2))
        self.assertEqual(await self.store.get_template("otp"), t1)
        self.assertIsNone(await self.store.get_template("nope"))
        self.assertEqual(await self.store.list_templates(), [t2, t1])
        new = Template("otp", TemplateEngine.JINJA2, "code {{ A }}", NOW + 9, NOW + 9)
        self.assertFalse(await self.store.put_template(new))
        self.assertEqual(
            await self.store.get_template("otp"),
            Template("otp", TemplateEngine.JINJA2, "code {{ A }}", NOW, NOW + 9),
        )
        self.assertTrue(await self.store.delete_template("otp"))
        self.assertFalse(await self.store.delete_template("otp"))
        self.assertEqual(await self.store.list_templates(), [t2])

    async def test_template_no_replace(self) -> None:
        """put_template(replace=False) refuses a taken name and keeps the old one."""
        t1 = Template("otp", TemplateEngine.SIMPLE, "a", NOW, NOW)
        await self.store.put_template(t1, replace=False)
        t2 = Template("otp", TemplateEngine.SIMPLE, "b", NOW, NOW)
        await self.assert_fails(self.store.put_template(t2, replace=False), TemplateExists)
        self.assertEqual(await self.store.get_template("otp"), t1)

    # -- callbacks ---------------------------------------------------------

    async def test_callbacks(self) -> None:
        """A callback is due at next_at, retried after a failure, then done."""
        cid = await self.store.add_callback(InboundKind.REPORT, "http://app/r", '{"a":1}', NOW)
        self.assertEqual(await self.store.due_callbacks(NOW - 1, 10), [])
        (due,) = await self.store.due_callbacks(NOW, 10)
        self.assertEqual(
            (due.id, due.kind, due.url, due.payload, due.state, due.next_at, due.attempts),
            (cid, InboundKind.REPORT, "http://app/r", '{"a":1}', CallbackState.PENDING, NOW, 0),
        )
        await self.store.callback_failed(cid, "503", NOW + 30)
        self.assertEqual(await self.store.due_callbacks(NOW + 29, 10), [])
        (due,) = await self.store.due_callbacks(NOW + 30, 10)
        self.assertEqual((due.attempts, due.last_error), (1, "503"))
        await self.store.callback_done(cid, NOW + 31)
        done = await self.store.get_callback(cid)
        self.assertEqual(
            (done.state, done.attempts, done.next_at, done.done_at, done.last_error),
            (CallbackState.DONE, 2, None, NOW + 31, "503"),
        )
        self.assertEqual(await self.store.due_callbacks(NOW + 1000, 10), [])
        await self.assert_fails(self.store.callback_done(cid, NOW), InvalidTransition)
        await self.assert_fails(self.store.callback_failed(cid, "x", None), InvalidTransition)

    async def test_callback_gives_up(self) -> None:
        """callback_failed without next_at records a final failure."""
        cid = await self.store.add_callback(InboundKind.MO, "http://app/mo", "{}", NOW)
        await self.store.callback_failed(cid, "timeout", None)
        failed = await self.store.get_callback(cid)
        self.assertEqual(
            (failed.state, failed.attempts, failed.next_at, failed.last_error),
            (CallbackState.FAILED, 1, None, "timeout"),
        )
        self.assertEqual(await self.store.due_callbacks(NOW + 1000, 10), [])

    async def test_callbacks_order(self) -> None:
        """Due callbacks come oldest next_at first, at most *limit*."""
        ids = [
            await self.store.add_callback(InboundKind.MO, "http://a", "[]", NOW + t)
            for t in (3, 1, 2, 1)
        ]
        due = await self.store.due_callbacks(NOW + 10, 3)
        self.assertEqual([c.id for c in due], [ids[1], ids[3], ids[2]])

    async def test_callback_errors(self) -> None:
        """Unknown ids and non-JSON payloads are refused."""
        await self.assert_fails(self.store.callback_done(12345, NOW), UnknownCallback)
        await self.assert_fails(self.store.callback_failed(12345, "x", None), UnknownCallback)
        self.assertIsNone(await self.store.get_callback(12345))
        await self.assert_fails(
            self.store.add_callback(InboundKind.MO, "http://a", "{not json", NOW), ValueError
        )

    # -- life --------------------------------------------------------------

    async def test_close(self) -> None:
        """After close every call fails with StoreClosed; closing again is fine."""
        await self.store.add_message(make_message())
        await self.store.close()
        await self.store.close()
        await self.assert_fails(self.store.get_message("m1"), StoreClosed)
        await self.assert_fails(self.store.add_message(make_message("m2")), StoreClosed)


class MemoryStoreTests(ContractMixin, TestCase):
    """The contract against :class:`MemoryStore`."""

    async def make_store(self) -> MemoryStore:
        return MemoryStore()

    def test_already_fired(self) -> None:
        """MemoryStore's Deferreds have fired when returned."""
        store = MemoryStore()
        self.assertIsNone(self.successResultOf(store.add_message(make_message())))
        self.assertEqual(self.successResultOf(store.get_message("m1")), make_message())


class SqliteStoreTests(ContractMixin, TestCase):
    """The contract against :class:`SqliteStore` on a fresh file."""

    async def make_store(self) -> SqliteStore:
        return await SqliteStore.open(self.mktemp(), reactor=reactor)


class SqliteProcessStoreTests(ContractMixin, TestCase):
    """The contract against :class:`SqliteStore` with a database process."""

    async def make_store(self) -> SqliteStore:
        return await SqliteStore.open(self.mktemp(), reactor=reactor, process=True)


class PostgresStoreTests(ContractMixin, TestCase):
    """The contract against :class:`PostgresStore` on an empty database of a real server."""

    skip = shared.SKIP

    async def make_store(self) -> Any:
        from smsgw.store.postgres import PostgresStore

        return await PostgresStore.open(shared.postgres().url, reactor, node="n1")


class ParityTests(TestCase):
    """Both backends answer a long pseudo-random script identically."""

    async def play(self, store: Any, seed: int, together: bool = False) -> list[Any]:
        """Run a script of store calls chosen by *seed*; every answer (or error class).

        *together*: the calls are made in groups of up to 8 before any is
        awaited (one transaction each in SQLite).
        """
        rnd = random.Random(seed)
        answers: list[Any] = []
        keys: list[SegmentKey] = []
        msg_ids = [str(n) for n in range(12)]
        now = NOW
        group: list[Deferred[Any]] = []
        size = [rnd.randint(1, 8)]

        async def answer(d: Deferred[Any]) -> None:
            try:
                answers.append(await d)
            except Exception as e:
                answers.append(type(e))

        async def call(d: Deferred[Any]) -> None:
            group.append(d)
            if not together or len(group) >= size[0]:
                await flush()

        async def flush() -> None:
            calls = group[:]
            del group[:]
            size[0] = rnd.randint(1, 8)
            for d in calls:
                await answer(d)

        for step in range(160):
            now += rnd.choice((0, 0.5, 2))
            op = rnd.randrange(10)
            if op < 2:
                mid = f"m{step}"
                to = tuple(rnd.sample((A, B, C), rnd.randint(1, 3)))
                segments = rnd.randint(1, 3)
                send_at = rnd.choice((None, None, now + 3))
                await call(
                    store.add_message(
                        make_message(
                            mid,
                            to=to,
                            segments=segments,
                            created_at=now,
                            send_at=send_at,
                            report=rnd.random() < 0.8,
                        )
                    )
                )
                keys += [key(mid, r, n) for r in range(len(to)) for n in range(1, segments + 1)]
            elif op == 2:
                await call(store.claim_due(now, rnd.randint(0, 5)))
            elif op in (3, 4) and keys:
                result = rnd.choice((0, 0, 0, 8))
                await call(
                    store.segment_submitted(rnd.choice(keys), result, rnd.choice(msg_ids), now)
                )
            elif op == 5 and keys:
                await call(store.segment_failed(rnd.choice(keys), "x", now))
            elif op == 6:
                to = rnd.choice((None, A, B))
                await call(
                    store.record_report(
                        "cm", rnd.choice(msg_ids), rnd.choice(("DELIVRD", "UNDELIV")), now, to=to
                    )
                )
            elif op == 7:
                await call(store.expire_reports(now - 3))
            elif op == 8:
                await call(
                    store.requeue_submitting() if rnd.random() < 0.2 else store.queue_depth()
                )
            else:
                await call(store.fetch_inbound(rnd.randint(1, 3)))
        await flush()
        for k in keys:
            if k.pk_number == 1 and k.recipient == 0:
                await call(store.get_message(k.message_id))
        return answers

    async def test_same_answers(self) -> None:
        """MemoryStore and SqliteStore give the same answers to the same calls."""
        for seed in range(6):
            memory = MemoryStore()
            sqlite = await SqliteStore.open(self.mktemp(), reactor=reactor)
            self.addCleanup(sqlite.close)
            expected = await self.play(memory, seed)
            got = await self.play(sqlite, seed)
            self.assertEqual(len(got), len(expected))
            for step, (a, b) in enumerate(zip(expected, got, strict=True)):
                self.assertEqual(b, a, f"seed {seed} answer {step}")

    async def test_same_answers_together(self) -> None:
        """Calls made in groups (shared transactions and statements in SQLite) answer the same."""
        for seed in range(6):
            memory = MemoryStore()
            for process in (False, True):
                sqlite = await SqliteStore.open(self.mktemp(), reactor=reactor, process=process)
                self.addCleanup(sqlite.close)
                expected = await self.play(memory if not process else MemoryStore(), seed, True)
                got = await self.play(sqlite, seed, True)
                self.assertGreater(sqlite.batched_calls, sqlite.batches)
                for step, (a, b) in enumerate(zip(expected, got, strict=True)):
                    self.assertEqual(b, a, f"seed {seed} answer {step} process {process}")
                self.assertEqual(len(got), len(expected))


class PostgresParityTests(ParityTests):
    """MemoryStore and PostgresStore answer the same pseudo-random scripts identically."""

    skip = shared.SKIP

    async def test_same_answers(self) -> None:
        """MemoryStore and PostgresStore give the same answers to the same calls."""
        await self.compare(together=False)

    async def test_same_answers_together(self) -> None:
        """Calls made in groups (shared transactions and statements) answer the same."""
        await self.compare(together=True)

    async def compare(self, together: bool) -> None:
        from smsgw.store.postgres import PostgresStore

        for seed in range(3):
            store = await PostgresStore.open(shared.postgres().url, reactor, node="n1")
            try:
                expected = await self.play(MemoryStore(), seed, together)
                got = await self.play(store, seed, together)
            finally:
                await store.close()
            self.assertEqual(len(got), len(expected))
            for step, (a, b) in enumerate(zip(expected, got, strict=True)):
                self.assertEqual(_without_ids(b), _without_ids(a), f"seed {seed} answer {step}")


def _without_ids(answer: Any) -> Any:
    """*answer* with its inbound items' ids left out.

    PostgreSQL's ids come from a sequence, which a rolled-back transaction
    does not give back: they grow as SQLite's do, with gaps.
    """
    if isinstance(answer, list) and answer and isinstance(answer[0], Inbound):
        return [attrs.evolve(item, id=None) for item in answer]
    return answer
