"""How a channel answers an inbound report once ``on_event`` has it (issue 20's hot path).

:meth:`Channel.inbound` is called directly with a CMPP 2.0 report DELIVER;
nothing is connected (the channel is never started).
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from smsgw.config import parse_upstream_url
from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.codec import encode_report
from smsgw.sp.channel import Channel
from smsgw.sp.clients import ReportEvent

_REPORT = p.Deliver(
    msg_id=1,
    dest_id=b"10690001",
    src_terminal_id=b"13800138000",
    registered_delivery=1,
    msg_content=encode_report(
        p.Report(
            msg_id=42,
            stat=b"DELIVRD",
            submit_time=b"2612070000",
            done_time=b"2612070001",
            dest_terminal_id=b"13800138000",
        )
    ),
)


def _channel(on_event: Any) -> Channel:
    url = parse_upstream_url("cmpp://901234:secret@127.0.0.1:7890")
    return Channel(url, Clock(), on_event=on_event, name="t")


class InboundTests(SynchronousTestCase):
    def test_stored_at_once(self) -> None:
        """on_event that returns nothing has stored the event: the answer comes back at once."""
        events: list[object] = []
        answer = _channel(events.append).inbound(None, _REPORT)  # type: ignore[arg-type]
        self.assertEqual(answer, p.DeliverResp(1, 0))
        self.assertIsInstance(events[0], ReportEvent)
        self.assertEqual(events[0].msg_id, "42")  # type: ignore[attr-defined]

    def test_raises(self) -> None:
        """on_event that raises: the DELIVER is answered 'not stored' (9) and the error logged."""

        def broken(event: object) -> None:
            raise OSError("disk full")

        answer = _channel(broken).inbound(None, _REPORT)  # type: ignore[arg-type]
        self.assertEqual(answer, p.DeliverResp(1, 9))
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)

    def test_deferred(self) -> None:
        """on_event's Deferred: answered only once it fires, 9 when it fails."""
        stored: Deferred[None] = Deferred()
        answer = _channel(lambda e: stored).inbound(None, _REPORT)  # type: ignore[arg-type]
        self.assertNoResult(answer)
        stored.callback(None)
        self.assertEqual(self.successResultOf(answer), p.DeliverResp(1, 0))
        failing: Deferred[None] = Deferred()
        answer = _channel(lambda e: failing).inbound(None, _REPORT)  # type: ignore[arg-type]
        failing.errback(OSError("disk full"))
        self.assertEqual(self.successResultOf(answer), p.DeliverResp(1, 9))
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)

    def test_coroutine(self) -> None:
        """An async on_event runs to the end before the DELIVER is answered."""
        stored: Deferred[None] = Deferred()
        seen: list[object] = []

        async def store(event: object) -> None:
            await stored
            seen.append(event)

        answer = _channel(store).inbound(None, _REPORT)  # type: ignore[arg-type]
        self.assertNoResult(answer)
        stored.callback(None)
        self.assertEqual(self.successResultOf(answer), p.DeliverResp(1, 0))
        self.assertEqual(len(seen), 1)
