"""Which segments a status report belongs to: one decision for every store.

A report names ``(channel, msg_id)`` and sometimes its destination number.
The store looks up the segments submitted under that id (its
*candidates*) and :func:`match_report` decides, with no I/O:

* none: the report overtook its SUBMIT_RESP, and is **held** until
  :meth:`~smsgw.store.interface.IMessageStore.segment_submitted` records
  that id; a copy of a report already held is a **duplicate**;
* an id reused by the upstream (two messages under one ``Msg_Id``): the
  **newest message owns it**, the older one's segments are left alone;
* of the owner's segments, those still awaiting a report (``submitted``,
  or ``expired``: a late report still counts) and without one get it
  (**matched**); when none is left the report is a **duplicate**, a no-op.

The SQLite and in-memory stores (and any later one) call it, so the rule
lives here only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, Protocol, TypeVar

import attrs

from smsgw.store.model import ReportMatch, SegmentKey, SegmentState

__all__ = ["Candidate", "Decision", "match_report"]

#: Segments a report may still be written into.
_REPORTABLE = frozenset({SegmentState.SUBMITTED, SegmentState.EXPIRED})


class Candidate(Protocol):
    """A segment submitted under the report's id, as the store found it."""

    @property
    def message_seq(self) -> int:
        """Its message's insertion order (larger is newer)."""

    @property
    def key(self) -> SegmentKey:
        """The segment."""

    @property
    def state(self) -> SegmentState:
        """Its state before the report."""

    @property
    def stat(self) -> str | None:
        """The report it already has, if any."""


C = TypeVar("C", bound=Candidate)


@attrs.frozen
class Decision(Generic[C]):
    """What to do with a report.

    :ivar match: ``matched``, ``duplicate`` or ``held``.
    :ivar owner: the owning (newest) message's candidates, by recipient and
        Pk_number; empty for ``held`` and a duplicate of a held report.
    :ivar apply: the candidates to write the report into (``matched`` only).
    """

    match: ReportMatch
    owner: tuple[C, ...] = ()
    apply: tuple[C, ...] = ()


def match_report(candidates: Iterable[C], already_held: Callable[[], bool]) -> Decision[C]:
    """Decide what a report does to *candidates* (see the module docstring).

    :param candidates: the segments submitted under the report's
        ``(channel, msg_id)`` (and destination, when the report gives one),
        failed ones excluded, in any order.
    :param already_held: asked only when there is no candidate: whether a
        copy of this report is held already.
    """
    found = list(candidates)
    if not found:
        return Decision(ReportMatch.DUPLICATE if already_held() else ReportMatch.HELD)
    newest = max(c.message_seq for c in found)
    owner = tuple(
        sorted(
            (c for c in found if c.message_seq == newest),
            key=lambda c: (c.key.recipient, c.key.pk_number),
        )
    )
    fresh = tuple(c for c in owner if c.stat is None and c.state in _REPORTABLE)
    if not fresh:
        return Decision(ReportMatch.DUPLICATE, owner)
    return Decision(ReportMatch.MATCHED, owner, fresh)
