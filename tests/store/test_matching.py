"""The one report-matching rule every store calls (:mod:`smsgw.store.matching`)."""

from __future__ import annotations

from random import Random

import attrs
from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.store.matching import Decision, match_report
from smsgw.store.model import ReportMatch, SegmentKey, SegmentState

S = SegmentState


@attrs.frozen
class Found:
    """A candidate segment as a store would hand it over."""

    message_seq: int
    key: SegmentKey
    state: SegmentState
    stat: str | None = None


def found(
    seq: int, recipient: int = 0, pk: int = 1, state: S = S.SUBMITTED, stat: str | None = None
) -> Found:
    return Found(seq, SegmentKey(f"m{seq}", recipient, pk), state, stat)


def never() -> bool:
    raise AssertionError("asked whether a report is held though a segment was found")


#: Candidates: a few messages, each with a few segments in any state, some already reported.
candidates = st.lists(
    st.builds(
        found,
        st.integers(1, 4),
        st.integers(0, 2),
        st.integers(1, 3),
        st.sampled_from([s for s in S if s is not S.FAILED]),
        st.sampled_from([None, None, "DELIVRD", "UNDELIV"]),
    ),
    unique_by=lambda c: c.key,
    max_size=12,
)


class MatchReportTests(SynchronousTestCase):
    """held, duplicate, matched; the newest message owns a reused id."""

    def test_nothing_found_is_held(self) -> None:
        """No segment under the id: the report is held, or a duplicate when already held."""
        self.assertEqual(match_report([], lambda: False), Decision(ReportMatch.HELD))
        self.assertEqual(match_report([], lambda: True), Decision(ReportMatch.DUPLICATE))

    def test_matched(self) -> None:
        """A segment awaiting its report gets it."""
        one = found(1)
        self.assertEqual(match_report([one], never), Decision(ReportMatch.MATCHED, (one,), (one,)))

    def test_late_report_after_expiry(self) -> None:
        """An expired segment still takes its (late) report."""
        one = found(1, state=S.EXPIRED)
        self.assertEqual(match_report([one], never).apply, (one,))

    def test_second_report_is_duplicate(self) -> None:
        """A segment that has its report already: duplicate, nothing to write."""
        one = found(1, state=S.DELIVERED, stat="DELIVRD")
        self.assertEqual(match_report([one], never), Decision(ReportMatch.DUPLICATE, (one,)))

    def test_newest_message_owns_a_reused_id(self) -> None:
        """Two messages under one id: the newer one's segment gets it, the older is left alone."""
        old, new = found(1), found(2)
        decision = match_report([new, old], never)
        self.assertEqual((decision.match, decision.apply), (ReportMatch.MATCHED, (new,)))

    def test_newest_owner_even_when_done(self) -> None:
        """The newest message owns the id even when its segment has its report: duplicate."""
        old, new = found(1), found(2, state=S.DELIVERED, stat="DELIVRD")
        self.assertEqual(match_report([old, new], never), Decision(ReportMatch.DUPLICATE, (new,)))

    def test_one_submit_many_segments(self) -> None:
        """Segments of one message under one id all take it, in recipient and Pk order."""
        a, b = found(1, recipient=1), found(1, recipient=0)
        self.assertEqual(match_report([a, b], never).apply, (b, a))

    @given(candidates)
    def test_rule(self, found_: list[Found]) -> None:
        """For any candidates: only the newest message's segments, awaiting a report, get it."""
        decision = match_report(found_, lambda: False)
        if not found_:
            self.assertEqual(decision, Decision(ReportMatch.HELD))
            return
        newest = max(c.message_seq for c in found_)
        owner = [c for c in found_ if c.message_seq == newest]
        self.assertEqual(set(decision.owner), set(owner))
        self.assertEqual(
            list(decision.owner), sorted(owner, key=lambda c: (c.key.recipient, c.key.pk_number))
        )
        self.assertTrue(set(decision.apply) <= set(decision.owner))
        for c in decision.owner:
            awaiting = c.stat is None and c.state in (S.SUBMITTED, S.EXPIRED)
            self.assertEqual(c in decision.apply, awaiting, c)
        expected = ReportMatch.MATCHED if decision.apply else ReportMatch.DUPLICATE
        self.assertEqual(decision.match, expected)

    @given(candidates, st.randoms())
    def test_order_does_not_matter(self, found_: list[Found], random: Random) -> None:
        """The decision is the same whatever order the store found the candidates in."""
        shuffled = list(found_)
        random.shuffle(shuffled)
        self.assertEqual(match_report(found_, lambda: False), match_report(shuffled, lambda: False))

    @given(candidates)
    def test_applying_twice_is_a_duplicate(self, found_: list[Found]) -> None:
        """Once applied, the same report again is a duplicate (repeats are no-ops)."""
        first = match_report(found_, lambda: False)
        if first.match is not ReportMatch.MATCHED:
            return
        after = [
            attrs.evolve(c, state=S.DELIVERED, stat="DELIVRD") if c in first.apply else c
            for c in found_
        ]
        self.assertEqual(match_report(after, never).match, ReportMatch.DUPLICATE)
