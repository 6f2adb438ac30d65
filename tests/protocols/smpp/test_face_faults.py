"""The SMPP face's faults, through the simulator's generic policy and triggers, on loopback.

Throttling (0x58) and queue full (0x14) are trigger or fault results, a late
answer is a response delay beyond the ESME's timeout, unbind mid-window is
the ``terminate`` trigger and a generic_nack the ``nack`` trigger.
"""

from __future__ import annotations

import attrs
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater

from smsgw.protocols.dispatch import ResponseTimeout
from smsgw.protocols.session import State
from smsgw.protocols.smpp import pdus as p
from smsgw.protocols.smpp.constants import Status
from tests.protocols.smpp.facekit import CLIENT, DEST, SRC, SYSTEM_ID, FaceTestCase, reactor

#: An ESME that gives up on a response after half a second.
IMPATIENT = attrs.evolve(CLIENT, response_timeout_s=0.5)


def submit(dest: str = DEST) -> p.SubmitSm:
    """A submit_sm asking for a receipt."""
    return p.SubmitSm(source_addr=SRC.encode(), destination_addr=dest.encode(),
                      registered_delivery=1, short_message=b"x")  # fmt: skip


class FaultTests(FaceTestCase):
    """Each SMPP fault, mapped onto the simulator's policy."""

    def counters(self) -> dict[str, int]:
        """The account's smpp counters."""
        protocols = self.sim.stats()["accounts"][SYSTEM_ID]["protocols"]
        return dict(protocols["smpp"])

    async def test_throttled_and_queue_full(self) -> None:
        """A throttle trigger answers ESME_RTHROTTLED, result 20 ESME_RMSGQFUL; others pass."""
        self.start(
            policy={
                "triggers": [
                    {"match": "*0058", "throttle": True},
                    {"match": "*0014", "result": Status.ESME_RMSGQFUL},
                ]
            }
        )
        session, _ = await self.bound()
        throttled = await session.send(submit("4479000000058"))
        full = await session.send(submit("4479000000014"))
        fine = await session.send(submit())
        self.assertEqual(throttled.command_status, Status.ESME_RTHROTTLED)
        self.assertEqual(full.command_status, Status.ESME_RMSGQFUL)
        self.assertEqual(fine.command_status, 0)
        self.assertTrue(fine.message_id)
        counters = self.counters()
        self.assertEqual((counters["throttled"], counters["submits_refused"]), (1, 2))
        self.assertEqual(len(self.sim.submits()), 1)

    async def test_policy_throttle_tps(self) -> None:
        """The faults' throttle_tps gives ESME_RTHROTTLED beyond its budget."""
        self.start(policy={"faults": {"throttle_tps": 1}})
        session, _ = await self.bound()
        answers = [await session.send(submit()) for _ in range(3)]
        statuses = [a.command_status for a in answers]
        self.assertIn(Status.ESME_RTHROTTLED, statuses)

    async def test_late_response(self) -> None:
        """An answer delayed past the ESME's timeout fails it there; the late one is ignored."""
        self.start(policy={"triggers": [{"match": "*0001", "response_delay_s": 1.0}]})
        session, _ = await self.bound(config=IMPATIENT)
        d = session.send(submit())
        with self.assertRaises(ResponseTimeout):
            await d
        await deferLater(reactor, 0.7, lambda: None)
        self.assertEqual(session.state, State.BOUND)
        self.assertEqual(await session.send(p.EnquireLink()), p.EnquireLinkResp())
        self.assertEqual(len(self.sim.submits()), 1)

    async def test_unbind_mid_window(self) -> None:
        """The terminate trigger: the SMSC sends unbind with the ESME's submit unanswered."""
        self.start(policy={"triggers": [{"match": "*0009", "terminate": True}]})
        session, _ = await self.bound(config=IMPATIENT)
        answered = await session.send(submit())
        self.assertEqual(answered.command_status, 0)
        pending = session.send(submit("4479000000009"))
        with self.assertRaises(ResponseTimeout):
            await pending
        # Only the SMSC's unbind ends this link (the ESME has no idle timer):
        # answered once the ESME's own window has drained.
        closed: Deferred[None] = session.when_closed()
        await closed.addTimeout(5, reactor)
        [server] = self.server_sessions
        await server.when_closed().addTimeout(5, reactor)
        self.assertEqual(session.state, State.CLOSED)
        self.assertEqual(self.counters()["links_terminated"], 1)
        # Accepted, as with close and no_response: it is logged and reported.
        self.assertEqual(len(self.sim.submits()), 2)

    async def test_generic_nack(self) -> None:
        """The nack trigger answers generic_nack: ESME_RINVCMDID, or the trigger's result."""
        self.start(
            policy={
                "triggers": [
                    {"match": "*0003", "nack": True},
                    {"match": "*0008", "nack": True, "result": Status.ESME_RSYSERR},
                ]
            }
        )
        session, _ = await self.bound()
        plain = await session.send(submit("4479000000003"))
        with_status = await session.send(submit("4479000000008"))
        self.assertEqual(plain, p.GenericNack(command_status=Status.ESME_RINVCMDID))
        self.assertEqual(with_status, p.GenericNack(command_status=Status.ESME_RSYSERR))
        self.assertEqual(self.counters()["responses_nacked"], 2)
        self.assertEqual(self.sim.submits(), [])
        self.assertEqual(session.state, State.BOUND)

    async def test_no_response_and_close(self) -> None:
        """no_response leaves a submit unanswered; close drops the link instead of answering."""
        self.start(
            policy={
                "triggers": [
                    {"match": "*0004", "no_response": True},
                    {"match": "*0005", "close": True},
                ]
            }
        )
        session, _ = await self.bound(config=IMPATIENT)
        with self.assertRaises(ResponseTimeout):
            await session.send(submit("4479000000004"))
        d = session.send(submit("4479000000005"))
        d.addErrback(lambda _: None)
        closed: Deferred[None] = session.when_closed()
        await closed.addTimeout(5, reactor)
        self.assertEqual(self.counters()["links_closed"], 1)

    async def test_disconnect_after_pdus(self) -> None:
        """The disconnect_after_pdus fault drops an SMPP link like the others."""
        self.start(policy={"faults": {"disconnect_after_pdus": 2}})
        session, _ = await self.bound()
        d = session.send(submit())
        d.addErrback(lambda _: None)
        closed: Deferred[None] = session.when_closed()
        await closed.addTimeout(5, reactor)
        self.assertEqual(self.sim.submits(), [])

    async def test_refused_deliver_counted(self) -> None:
        """A deliver_sm_resp with an error status counts as refused, not delivered."""
        self.start(policy={"reports": {"delay_s": [0, 0]}})
        session, esme = await self.bound()
        esme.answer = Status.ESME_RX_T_APPN
        await session.send(submit())
        await self.next_deliver(esme)
        await session.send(p.EnquireLink())
        await deferLater(reactor, 0.05, lambda: None)
        counters = self.counters()
        self.assertEqual(counters.get("deliver_refused"), 1)
        self.assertNotIn("delivered", counters)
