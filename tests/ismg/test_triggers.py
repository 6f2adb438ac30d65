"""Triggers (deterministic behaviour by destination number) on every binary face.

Each behaviour is checked on CMPP 2.0, CMPP 3.0, SGIP 1.2 and SMGP 3.0: a
server session of the protocol's listener on a ``StringTransport``, bound to
the test account, is fed encoded SUBMITs; its answers are decoded from the
transport, and the reports and MOs the simulator pushes are caught where
every face hands them over (:meth:`Simulator.deliver`).  One ``Clock`` runs
every delay.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, ClassVar

from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from smsgw.config.policy import FaultPolicy, Policy
from smsgw.ismg.model import Account, Face
from smsgw.ismg.simulator import Simulator
from smsgw.protocols.cmpp import pdus as cp
from smsgw.protocols.cmpp.codec import CMPP20
from smsgw.protocols.cmpp.codec import decode_report as cmpp_report
from smsgw.protocols.cmpp.codec30 import CMPP30
from smsgw.protocols.cmpp.constants import Result as CmppResult
from smsgw.protocols.cmpp.face import cmpp3_factory, cmpp_factory
from smsgw.protocols.codec import ProtocolCodec
from smsgw.protocols.session import Session, SessionFactory
from smsgw.protocols.sgip import pdus as gp
from smsgw.protocols.sgip.codec import SGIP12
from smsgw.protocols.sgip.constants import ReportState
from smsgw.protocols.sgip.constants import Result as SgipResult
from smsgw.protocols.sgip.face import sgip_factory
from smsgw.protocols.smgp import pdus as mp
from smsgw.protocols.smgp.codec import SMGP30
from smsgw.protocols.smgp.constants import Status as SmgpStatus
from smsgw.protocols.smgp.face import smgp_factory
from smsgw.protocols.smgp.report import decode_report as smgp_report
from smsgw.ratelimit import TokenBucket

SP_ID = "901234"
OTHER_ID = "901235"
SRC = "1065901234"
NOW = 1709618828.0


class Wire:
    """One protocol, spoken to the simulator's face by hand."""

    name: ClassVar[str]
    codec: ClassVar[ProtocolCodec]
    #: The Submit_Resp status of a throttled SUBMIT (the protocol's flow control).
    flow_control: ClassVar[int]

    def factory(self, sim: Simulator) -> SessionFactory:
        """The listener's session factory on *sim*."""
        raise NotImplementedError

    def sequence(self, n: int) -> Any:
        """The *n*-th request sequence number."""
        return n

    def submit(self, dests: tuple[str, ...], report: bool) -> object:
        """A one-segment SUBMIT from :data:`SRC` to *dests*."""
        raise NotImplementedError

    def status(self, response: Any) -> int:
        """A Submit_Resp's Result/Status."""
        return int(response.result)

    def report(self, pdu: Any) -> tuple[str, str]:
        """``(dest, stat)`` of a report PDU; SGIP has only delivered or not."""
        raise NotImplementedError

    def mo(self, pdu: Any) -> tuple[str, str, bytes]:
        """``(sender, to, content)`` of an MO PDU."""
        raise NotImplementedError


class CmppWire(Wire):
    name = "cmpp2"
    codec = CMPP20
    flow_control = int(CmppResult.FLOW_CONTROL)

    def factory(self, sim: Simulator) -> SessionFactory:
        return cmpp_factory(sim)

    def submit(self, dests: tuple[str, ...], report: bool) -> object:
        return cp.Submit(
            registered_delivery=int(report),
            msg_src=SP_ID.encode(),
            src_id=SRC.encode(),
            dest_terminal_ids=tuple(d.encode() for d in dests),
            msg_content=b"hello",
        )

    def report(self, pdu: Any) -> tuple[str, str]:
        report = cmpp_report(pdu.msg_content)
        return report.dest_terminal_id.decode(), report.stat.decode()

    def mo(self, pdu: Any) -> tuple[str, str, bytes]:
        return pdu.src_terminal_id.decode(), pdu.dest_id.decode(), pdu.msg_content


class Cmpp3Wire(CmppWire):
    name = "cmpp3"
    codec = CMPP30

    def factory(self, sim: Simulator) -> SessionFactory:
        return cmpp3_factory(sim)


class SgipWire(Wire):
    name = "sgip"
    codec = SGIP12
    flow_control = int(SgipResult.FLOW_CONTROL_EXCEEDED)

    def factory(self, sim: Simulator) -> SessionFactory:
        return sgip_factory(sim)

    def sequence(self, n: int) -> tuple[int, int, int]:
        return (3075512345, 305140708, n)

    def submit(self, dests: tuple[str, ...], report: bool) -> object:
        return gp.Submit(
            sp_number=SRC.encode(),
            user_numbers=tuple(d.encode() for d in dests),
            report_flag=1 if report else 2,
            message_content=b"hello",
        )

    def report(self, pdu: Any) -> tuple[str, str]:
        delivered = pdu.state == ReportState.DELIVERED
        return pdu.user_number.decode(), "DELIVRD" if delivered else "failed"

    def mo(self, pdu: Any) -> tuple[str, str, bytes]:
        return pdu.user_number.decode(), pdu.sp_number.decode(), pdu.message_content


class SmgpWire(Wire):
    name = "smgp"
    codec = SMGP30
    flow_control = int(SmgpStatus.SYSTEM_BUSY)

    def factory(self, sim: Simulator) -> SessionFactory:
        return smgp_factory(sim)

    def submit(self, dests: tuple[str, ...], report: bool) -> object:
        return mp.Submit(
            need_report=int(report),
            src_term_id=SRC.encode(),
            dest_term_ids=tuple(d.encode() for d in dests),
            msg_format=0,
            msg_content=b"hello",
        )

    def status(self, response: Any) -> int:
        return int(response.status)

    def report(self, pdu: Any) -> tuple[str, str]:
        return pdu.src_term_id.decode(), smgp_report(pdu.msg_content).stat.decode()

    def mo(self, pdu: Any) -> tuple[str, str, bytes]:
        return pdu.src_term_id.decode(), pdu.dest_term_id.decode(), pdu.msg_content


WIRES: tuple[Wire, ...] = (CmppWire(), Cmpp3Wire(), SgipWire(), SmgpWire())


def _frames(data: bytes) -> list[bytes]:
    """*data* cut into frames by their 4-byte total length (every protocol here)."""
    frames = []
    while data:
        length = int.from_bytes(data[:4], "big")
        frames.append(data[:length])
        data = data[length:]
    return frames


class _Link:
    """A bound server session of one face, on a ``StringTransport``."""

    def __init__(self, wire: Wire, sim: Simulator, account: str) -> None:
        self.wire = wire
        self.transport = StringTransport()
        self.session: Session = wire.factory(sim).buildProtocol(None)
        self.session.makeConnection(self.transport)
        self.session.authenticated(account)
        self.seq = 0

    def submit(self, *dests: str, report: bool = True) -> None:
        """Send a SUBMIT to *dests*."""
        self.seq += 1
        pdu = self.wire.submit(dests, report)
        self.session.dataReceived(self.wire.codec.encode(pdu, self.wire.sequence(self.seq)))

    def responses(self) -> list[int]:
        """The statuses of the Submit_Resps written since the last call."""
        data = self.transport.value()
        self.transport.clear()
        pdus = [self.wire.codec.decode(frame)[1] for frame in _frames(data)]
        # Keepalives (ACTIVE_TEST, Unbind-less SGIP idle checks) are not answers.
        return [self.wire.status(pdu) for pdu in pdus if type(pdu).__name__ == "SubmitResp"]


class _Case(SynchronousTestCase):
    """A simulator with two accounts on a ``Clock``; pushed PDUs are recorded."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(NOW)
        self.sim = Simulator(
            self.clock,
            [Account(SP_ID, b"s3cret"), Account(OTHER_ID, b"s3cret")],
            rng=random.Random(3),
        )
        self.pushed: list[tuple[str, str, Any]] = []

        def deliver(account: Account, face: Face, pdu: Any) -> None:
            self.pushed.append((account.id, face.protocol, pdu))

        self.patch(self.sim, "deliver", deliver)

    def with_triggers(self, *triggers: dict[str, Any], faults: FaultPolicy | None = None) -> None:
        """Install a policy with *triggers* (and *faults*)."""
        policy = Policy.from_json({"triggers": list(triggers)})
        if faults is not None:
            policy = Policy(faults=faults, triggers=policy.triggers)
        self.sim.set_policy(policy)

    def each_wire(self, check: Callable[[Wire], None]) -> None:
        """Run *check* for every protocol, on a fresh simulator state each time."""
        policy = self.sim.policy
        for wire in WIRES:
            self.setUp()
            self.sim.set_policy(policy)
            with self.subTest(protocol=wire.name):
                check(wire)

    def link(self, wire: Wire, account: str = SP_ID) -> _Link:
        return _Link(wire, self.sim, account)

    def reports(self, wire: Wire) -> list[tuple[str, str]]:
        return [wire.report(pdu) for _, _, pdu in self.pushed if not _is_mo(pdu)]

    def mos(self, wire: Wire) -> list[tuple[str, str, bytes]]:
        return [wire.mo(pdu) for _, _, pdu in self.pushed if _is_mo(pdu)]


def _is_mo(pdu: Any) -> bool:
    if isinstance(pdu, cp.Deliver):
        return pdu.registered_delivery == 0
    if isinstance(pdu, mp.Deliver):
        return pdu.is_report == 0
    return isinstance(pdu, gp.Deliver)


class ResponseTriggerTests(_Case):
    """Triggers on the SUBMIT's response, on every protocol."""

    def test_result(self) -> None:
        """``result`` answers that code and accepts nothing (no report)."""
        self.with_triggers({"match": "*0003", "result": 9})

        def check(wire: Wire) -> None:
            link = self.link(wire)
            link.submit("13800000003")
            link.submit("13800000004")
            self.assertEqual(link.responses(), [9, 0])
            self.clock.advance(60)
            self.assertEqual(self.reports(wire), [("13800000004", "DELIVRD")])
            self.assertEqual(self.sim.accounts[SP_ID].counters["submits_refused"], 1)

        self.each_wire(check)

    def test_throttle(self) -> None:
        """``throttle`` answers the protocol's flow-control code."""
        self.with_triggers({"match": "*0004", "throttle": True})

        def check(wire: Wire) -> None:
            link = self.link(wire)
            link.submit("13800000004")
            self.assertEqual(link.responses(), [wire.flow_control])
            self.assertEqual(self.sim.accounts[SP_ID].counters["throttled"], 1)

        self.each_wire(check)

    def test_response_delay(self) -> None:
        """``response_delay_s`` answers after that many seconds, not before."""
        self.with_triggers({"match": "*0005", "response_delay_s": 3})

        def check(wire: Wire) -> None:
            link = self.link(wire)
            link.submit("13800000005")
            link.submit("13800000006")
            self.assertEqual(link.responses(), [0])
            self.clock.advance(2.9)
            self.assertEqual(link.responses(), [])
            self.clock.advance(0.1)
            self.assertEqual(link.responses(), [0])

        self.each_wire(check)

    def test_no_response(self) -> None:
        """``no_response`` never answers, but accepts the SUBMIT (its report comes)."""
        self.with_triggers({"match": "*0006", "no_response": True})

        def check(wire: Wire) -> None:
            link = self.link(wire)
            link.submit("13800000006")
            self.clock.advance(10)
            self.assertEqual(link.responses(), [])
            self.assertFalse(self.transport_closed(link))
            self.assertEqual(self.reports(wire), [("13800000006", "DELIVRD")])
            self.assertEqual(len(self.sim.submits(SP_ID)), 1)

        self.each_wire(check)

    def test_close(self) -> None:
        """``close`` closes the link instead of answering."""
        self.with_triggers({"match": "*0007", "close": True})

        def check(wire: Wire) -> None:
            link = self.link(wire)
            link.submit("13800000008")
            self.assertEqual(link.responses(), [0])
            link.submit("13800000007")
            self.assertEqual(link.responses(), [])
            self.assertTrue(self.transport_closed(link))
            self.assertEqual(self.sim.accounts[SP_ID].counters["links_closed"], 1)

        self.each_wire(check)

    def transport_closed(self, link: _Link) -> bool:
        return bool(link.transport.disconnecting)

    def test_faults_replaced(self) -> None:
        """A matching trigger replaces the faults; other numbers still get them."""
        self.with_triggers(
            {"match": "*0001"}, faults=FaultPolicy(submit_result=13, response_delay_s=2)
        )

        def check(wire: Wire) -> None:
            link = self.link(wire)
            link.submit("13800000001")
            link.submit("13800000002")
            self.assertEqual(link.responses(), [0])
            self.clock.advance(2)
            self.assertEqual(link.responses(), [13])

        self.each_wire(check)

    def test_checks_before_triggers(self) -> None:
        """The account's own ``tps`` still refuses before a trigger is looked at."""
        self.with_triggers({"match": "*0003", "result": 9})

        def check(wire: Wire) -> None:
            self.sim.accounts[SP_ID].bucket = TokenBucket(1, clock=self.clock.seconds)
            link = self.link(wire)
            link.submit("13800000003")
            link.submit("13800000003")
            self.assertEqual(link.responses(), [9, wire.flow_control])

        self.each_wire(check)

    def test_first_matching_destination_decides(self) -> None:
        """With several destinations, the first one that matches a trigger decides."""
        self.with_triggers({"match": "*0003", "result": 9}, {"match": "*0004", "throttle": True})

        def check(wire: Wire) -> None:
            link = self.link(wire)
            link.submit("13800000001", "13800000004", "13800000003")
            self.assertEqual(link.responses(), [wire.flow_control])

        self.each_wire(check)

    def test_account_triggers_first(self) -> None:
        """An account's trigger is checked before the global ones; other accounts skip it."""
        self.with_triggers(
            {"match": "*", "result": 10},
            {"match": "*0003", "account": SP_ID, "result": 9},
        )

        def check(wire: Wire) -> None:
            mine, other = self.link(wire), self.link(wire, OTHER_ID)
            mine.submit("13800000003")
            mine.submit("13800000004")
            other.submit("13800000003")
            self.assertEqual(mine.responses(), [9, 10])
            self.assertEqual(other.responses(), [10])

        self.each_wire(check)


class ReportTriggerTests(_Case):
    """Triggers on reports and MO replies, on every protocol."""

    def test_stat_and_delay(self) -> None:
        """``stat`` and ``report_delay_s`` fix that destination's report."""
        self.with_triggers(
            {"match": "*0001", "stat": "DELIVRD", "report_delay_s": 1},
            {"match": "*0002", "stat": "UNDELIV", "report_delay_s": 5},
        )

        def check(wire: Wire) -> None:
            link = self.link(wire)
            link.submit("13800000002")
            link.submit("13800000001")
            self.clock.advance(4.9)
            self.assertEqual(self.reports(wire), [("13800000001", "DELIVRD")])
            self.clock.advance(0.1)
            failed = "failed" if wire.name == "sgip" else "UNDELIV"
            self.assertEqual(self.reports(wire)[1:], [("13800000002", failed)])

        self.each_wire(check)

    def test_reports_per_destination(self) -> None:
        """A SUBMIT to several numbers gets each number's own report."""
        self.with_triggers(
            {"match": "*0002", "stat": "UNDELIV"}, {"match": "*0008", "no_report": True}
        )

        def check(wire: Wire) -> None:
            link = self.link(wire)
            link.submit("13800000001", "13800000002", "13800000008")
            self.clock.advance(60)
            failed = "failed" if wire.name == "sgip" else "UNDELIV"
            self.assertEqual(
                sorted(self.reports(wire)),
                [("13800000001", "DELIVRD"), ("13800000002", failed)],
            )

        self.each_wire(check)

    def test_no_report(self) -> None:
        """``no_report`` answers the SUBMIT but never reports."""
        self.with_triggers({"match": "*0008", "no_report": True})

        def check(wire: Wire) -> None:
            link = self.link(wire)
            link.submit("13800000008")
            self.clock.advance(3600)
            self.assertEqual(link.responses(), [0])
            self.assertEqual(self.reports(wire), [])
            self.assertEqual(self.sim.accounts[SP_ID].counters["reports_withheld"], 1)

        self.each_wire(check)

    def test_mo_reply(self) -> None:
        """``mo_reply`` sends an MO from the destination to the SUBMIT's source number."""
        self.with_triggers({"match": "*0009", "mo_reply": "TD", "mo_delay_s": 2})

        def check(wire: Wire) -> None:
            link = self.link(wire)
            link.submit("13800000009", report=False)
            link.submit("13800000001", report=False)
            self.clock.advance(1.9)
            self.assertEqual(self.mos(wire), [])
            self.clock.advance(0.1)
            self.assertEqual(self.mos(wire), [("13800000009", SRC, b"TD")])
            self.assertEqual(self.reports(wire), [])

        self.each_wire(check)

    def test_stat_drawn_when_not_given(self) -> None:
        """A trigger without ``stat`` leaves the report to the report policy (its rules)."""
        self.sim.set_policy(
            Policy.from_json(
                {
                    "reports": {"rules": [{"prefix": "1380000", "stat": "EXPIRED"}]},
                    "triggers": [{"match": "*0005", "response_delay_s": 1}],
                }
            )
        )

        def check(wire: Wire) -> None:
            link = self.link(wire)
            link.submit("13800000005")
            self.clock.advance(2)
            stat = "failed" if wire.name == "sgip" else "EXPIRED"
            self.assertEqual(self.reports(wire), [("13800000005", stat)])

        self.each_wire(check)
