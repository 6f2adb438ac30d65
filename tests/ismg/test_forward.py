"""ISMG-to-ISMG forwarding, CMPP_FWD (:mod:`smsgw.ismg.forward`; seed 002 §8.5, §8.8).

Two :class:`~smsgw.ismg.simulator.Simulator` objects, each with a
:class:`~smsgw.ismg.forward.Forwarder`: ISMG1 (``001001``) homes 139… and
serves SP 901234 (service code 1065001…), ISMG2 (``002002``) homes 138… and
serves SP 905678 (1065002…).  Most tests run in memory over
``twisted.test.iosim`` on one ``Clock``: the ISMG link is opened by hand and
put in ``Forwarder.links``, as :meth:`Forwarder.link` would.  The last
classes use the real reactor on ``127.0.0.1`` (ephemeral ports, bounded
waits, everything closed on cleanup): an SP :class:`~smsgw.sp.channel.Channel`
on ISMG1 reaching a number homed on ISMG2, routed by the static peers table
and by a GNS, an MO the other way, and ISMG2 not running.

Covered: the MT report comes back with the SP's own Msg_Id; a failed
forward (link down, no answer after N tries, an error result) is REJECTD at
once; MO status reports DELIVRD/REJECTD in the four cases of §8.5.4;
FWD_RESP 9 for a wrong forwarding decision and for loops (NodesCount above
:data:`MAX_NODES`, our own Source_Id); reports for unknown Msg_Ids or with
bad content; reports kept while no link is up; QUERY's counters; the link's
login; routes from the peers table, the GNS and the cache;
:meth:`Forwarder.close`; :func:`build_forwarder` and ``[[simulator.peer]]``
parsing.
"""

from __future__ import annotations

import random
from typing import Any

import attrs
from twisted.internet import reactor
from twisted.internet.defer import Deferred, DeferredList, succeed
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.logger import ILogObserver, LogLevel, formatEvent, globalLogPublisher
from twisted.python.failure import Failure
from twisted.test.iosim import IOPump, connectedServerAndClient
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface import provider

from smsgw.config import ConfigError, parse_config, parse_upstream_url
from smsgw.config.policy import Policy, ReportPolicy
from smsgw.gns.client import GnsClient
from smsgw.gns.routes import MoRoute, MtRoute, RouteTable
from smsgw.gns.server import GnsServer, IsmgAccount, mo_route_resp, mt_route_resp
from smsgw.ismg.forward import MAX_NODES, Forwarder, Peer, build_forwarder
from smsgw.ismg.simulator import Account, Simulator
from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.codec import decode_mo_report, decode_report, encode_report
from smsgw.protocols.cmpp.constants import FwdType, Result
from smsgw.protocols.cmpp.face import cmpp_factory
from smsgw.protocols.cmpp.session import CmppAdapter, LoginFailed, login
from smsgw.protocols.codec import Header
from smsgw.protocols.session import Session, SessionConfig, State
from smsgw.sp.channel import Channel
from smsgw.sp.clients import MoEvent, ReportEvent
from tests.clock import BoundedClock, flush_pumps
from tests.sp.test_channel import _LiveTestCase, closed_port, wait_until, within

ISMG1 = "001001"
ISMG2 = "002002"
SP1 = "901234"
SP2 = "905678"
SECRET = b"s3cret"
SRC1 = "1065001"
SRC2 = "1065002"
PEER_SECRET = b"ismg-peers"
#: A number homed on ISMG2 (138…) and one homed on ISMG1 (139…).
DEST2 = "13800138000"
DEST1 = "13900139000"
SUBSCRIBER1 = "13900001111"
#: 2024-03-05 06:07:08 UTC, 14:07:08 in Beijing.
NOW = 1709618828.0
TODAY = b"20240305"
#: Response timeout T and attempts N of every in-memory link.
T_S = 10.0
N = 3
#: Seconds between an MT reaching ISMG2 and its report.
REPORT_DELAY_S = 5.0
CONFIG = SessionConfig(response_timeout_s=T_S, attempts=N, keepalive_s=None)


class _Sp:
    """An SP's end of a link: records DELIVERs, answers them with :attr:`result`.

    :ivar result: the DELIVER_RESP Result, or ``None`` to never answer.
    """

    def __init__(self) -> None:
        self.delivers: list[p.Deliver] = []
        self.result: int | None = 0

    def session_started(self, session: Session) -> None:
        pass

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        if type(pdu) is not p.Deliver:
            return None
        self.delivers.append(pdu)
        return None if self.result is None else p.DeliverResp(pdu.msg_id, self.result)

    def session_ended(self, session: Session, reason: Failure) -> None:
        pass

    def reports(self) -> list[p.Report]:
        """The status reports received, decoded."""
        return [decode_report(d.msg_content) for d in self.delivers if d.registered_delivery]

    def mos(self) -> list[p.Deliver]:
        """The MOs received."""
        return [d for d in self.delivers if not d.registered_delivery]


def _submit(dest: str = DEST2, *, report: bool = True, **changes: Any) -> p.Submit:
    """A one-segment SUBMIT from SP1 to *dest*."""
    pdu = p.Submit(
        registered_delivery=1 if report else 0,
        service_id=b"TEST",
        msg_src=SP1.encode(),
        msg_fmt=0,
        src_id=(SRC1 + "88").encode(),
        dest_terminal_ids=(dest.encode(),),
        msg_content=b"hello across",
    )
    return attrs.evolve(pdu, **changes) if changes else pdu


def _peer(code: str, home: str, sp_code: str, port: int = 7930) -> Peer:
    return Peer(code, "127.0.0.1", port, PEER_SECRET, (home,), (sp_code,))


class _FwdSpy:
    """Records every FWD a forwarder receives (wraps its ``_fwd``)."""

    def __init__(self, forwarder: Forwarder) -> None:
        self.received: list[p.Fwd] = []
        self.answers: list[Any] = []
        original = forwarder._fwd

        def spy(session: Session, header: Header, pdu: p.Fwd) -> Any:
            self.received.append(pdu)
            answer = original(session, header, pdu)
            self.answers.append(answer)
            return answer

        forwarder._fwd = spy  # type: ignore[method-assign]

    def of_type(self, kind: FwdType) -> list[p.Fwd]:
        return [pdu for pdu in self.received if pdu.msg_fwd_type == kind]


class _InMemoryTestCase(SynchronousTestCase):
    """Two ISMGs with forwarders on one ``Clock``, and helpers to link them."""

    def setUp(self) -> None:
        self.clock = BoundedClock()
        self.clock.advance(NOW)
        self.pumps: list[IOPump] = []
        policy = Policy(reports=ReportPolicy(delay_s=(REPORT_DELAY_S, REPORT_DELAY_S)))
        self.sim1 = Simulator(
            self.clock,
            [Account(SP1, SECRET, src_prefix=SRC1)],
            gateway_code=1001,
            policy=policy,
            rng=random.Random(1),
        )
        self.sim2 = Simulator(
            self.clock,
            [Account(SP2, SECRET, src_prefix=SRC2)],
            gateway_code=2002,
            policy=policy,
            rng=random.Random(2),
        )
        self.sp_factory1 = cmpp_factory(self.sim1, CONFIG)
        self.sp_factory2 = cmpp_factory(self.sim2, CONFIG)
        self.f1 = Forwarder(
            self.sim1,
            home_prefixes=("139",),
            peers=(_peer(ISMG2, "138", SRC2, 7931),),
            config=CONFIG,
        )
        self.f2 = Forwarder(
            self.sim2,
            home_prefixes=("138",),
            peers=(_peer(ISMG1, "139", SRC1, 7930),),
            config=CONFIG,
        )
        self.spy1 = _FwdSpy(self.f1)
        self.spy2 = _FwdSpy(self.f2)

    def connect(self, server_factory: Any, handler: Any) -> tuple[Session, Session]:
        """A new in-memory connection: (client session with *handler*, server session)."""
        client, server, pump = connectedServerAndClient(
            lambda: server_factory.buildProtocol(None),
            lambda: Session(CmppAdapter(), handler, CONFIG, self.clock),
            clock=self.clock,
        )
        self.pumps.append(pump)
        return client, server

    def flush(self) -> None:
        """Move every byte on every link (and run ``callLater(0)`` calls)."""
        flush_pumps(self.pumps)

    def advance(self, seconds: float, step_s: float = 1.0) -> None:
        """Move the clock by *seconds*, *step_s* at a time, moving the bytes after each step."""
        while seconds > step_s:
            self.clock.advance(step_s)
            self.flush()
            seconds -= step_s
        self.clock.advance(seconds)
        self.flush()

    def sp(self, factory: Any, sp_id: str) -> tuple[Session, _Sp]:
        """A logged-in SP link to the simulator behind *factory*."""
        handler = _Sp()
        client, _ = self.connect(factory, handler)
        d = login(client, sp_id.encode(), SECRET)
        self.flush()
        self.assertEqual(self.successResultOf(d).status, 0)
        return client, handler

    def link_ismgs(
        self, source: Forwarder | None = None, target: Forwarder | None = None
    ) -> tuple[Session, Session]:
        """ISMG *source* (default 1) logged in to *target*'s (default 2), as ``link()`` does."""
        source = source or self.f1
        target = target or self.f2
        client, server = self.connect(target.factory(), source)
        d = login(client, source.code.encode(), PEER_SECRET)
        self.flush()
        self.assertEqual(self.successResultOf(d).status, 0)
        source.links[target.code] = client
        return client, server

    def send(self, session: Session, pdu: object) -> Deferred[Any]:
        d = session.send(pdu)
        self.flush()
        return d

    def submit(self, session: Session, pdu: p.Submit | None = None) -> p.SubmitResp:
        resp: p.SubmitResp = self.successResultOf(self.send(session, pdu or _submit()))
        self.assertEqual(resp.result, Result.OK)
        return resp

    def fwd_resp(self, session: Session, pdu: p.Fwd) -> p.FwdResp:
        """Send a raw FWD on *session*; its (immediate) FWD_RESP."""
        resp: p.FwdResp = self.successResultOf(self.send(session, pdu))
        return resp


def _mt_fwd(**changes: Any) -> p.Fwd:
    """A FWD type 0 from ISMG1 to ISMG2 for DEST2."""
    pdu = p.Fwd(
        source_id=ISMG1.encode(),
        destination_id=ISMG2.encode(),
        nodes_count=1,
        msg_fwd_type=FwdType.MT,
        msg_id=0x1234,
        registered_delivery=0,
        src_id=SRC1.encode(),
        dest_ids=(DEST2.encode(),),
        msg_content=b"raw",
    )
    return attrs.evolve(pdu, **changes) if changes else pdu


class MtForwardTests(_InMemoryTestCase):
    """An SP on ISMG1 sends to a number homed on ISMG2 (FWD type 0, report as type 2)."""

    def setUp(self) -> None:
        super().setUp()
        self.link, self.server_link = self.link_ismgs()
        self.sp1, self.h1 = self.sp(self.sp_factory1, SP1)

    def test_report_with_original_msg_id(self) -> None:
        """The SP's report carries the Msg_Id of its SUBMIT_RESP, after the report delay."""
        resp = self.submit(self.sp1)
        self.advance(REPORT_DELAY_S - 0.1)
        self.assertEqual(self.h1.reports(), [])
        self.advance(0.1)
        [report] = self.h1.reports()
        self.assertEqual((report.msg_id, report.stat), (resp.msg_id, b"DELIVRD"))
        self.assertEqual(report.dest_terminal_id, DEST2.encode())
        [deliver] = self.h1.delivers
        self.assertEqual(deliver.dest_id, (SRC1 + "88").encode())
        self.assertEqual(self.f1.forwarded, {})

    def test_fwd_fields(self) -> None:
        """The FWD type 0 carries codes, NodesCount 1, the SP's Msg_Id and the SUBMIT's fields."""
        resp = self.submit(self.sp1)
        [fwd] = self.spy2.of_type(FwdType.MT)
        self.assertEqual((fwd.source_id, fwd.destination_id), (ISMG1.encode(), ISMG2.encode()))
        self.assertEqual((fwd.nodes_count, fwd.msg_id), (1, resp.msg_id))
        self.assertEqual((fwd.registered_delivery, fwd.service_id), (1, b"TEST"))
        self.assertEqual((fwd.msg_src, fwd.src_id), (SP1.encode(), (SRC1 + "88").encode()))
        self.assertEqual((fwd.dest_ids, fwd.msg_content), ((DEST2.encode(),), b"hello across"))
        self.assertEqual(self.spy2.answers, [p.FwdResp(resp.msg_id, 1, 1, Result.OK)])

    def test_submits_on_ismg2(self) -> None:
        """ISMG2's submits() lists the forwarded MT under ``ismg:001001`` with the SP's Msg_Id."""
        resp = self.submit(self.sp1)
        [rec] = self.sim2.submits()
        self.assertEqual((rec["account"], rec["protocol"]), (f"ismg:{ISMG1}", "fwd"))
        self.assertEqual((rec["msg_id"], rec["dest"]), (str(resp.msg_id), [DEST2]))
        self.assertEqual((rec["text"], rec["src"]), ("hello across", SRC1 + "88"))
        self.assertEqual(rec["registered_delivery"], 1)
        [local] = self.sim1.submits()
        self.assertEqual(local["account"], SP1)

    def test_counters(self) -> None:
        """forwarding() counts the MT and its report on both ISMGs."""
        self.submit(self.sp1)
        self.assertEqual(self.sim1.forwarding()["waiting_reports"], 1)
        self.advance(REPORT_DELAY_S)
        one = self.sim1.forwarding()
        self.assertEqual((one["enabled"], one["code"], one["links"]), (True, ISMG1, [ISMG2]))
        self.assertEqual(one["waiting_reports"], 0)
        self.assertEqual(
            one["peers"][ISMG2],
            {"mt_forwarded": 1, "received_type_2": 1, "reports_returned": 1},
        )
        two = self.sim2.forwarding()
        self.assertEqual(two["peers"][ISMG1], {"received_type_0": 1})
        self.assertEqual(self.sim2.stats()["fwd_mt_delivered"], 1)
        by_protocol = self.sim1.stats()["accounts"][SP1]["protocols"]
        self.assertEqual((by_protocol["cmpp2"]["submits"], by_protocol["cmpp2"]["reports"]), (1, 1))

    def test_query_counters(self) -> None:
        """QUERY on ISMG1 counts a forwarded MT as waiting, then as delivered."""
        self.submit(self.sp1)
        self.assertEqual(self.query().mt_wt, 1)
        self.advance(REPORT_DELAY_S)
        totals = self.query()
        self.assertEqual((totals.mt_tlmsg, totals.mt_wt, totals.mt_scs), (1, 0, 1))
        by_service = self.query(b"TEST")
        self.assertEqual((by_service.mt_wt, by_service.mt_scs), (0, 1))

    def query(self, service_id: bytes = b"") -> p.QueryResp:
        return self.sim1.query(
            p.Query(time=TODAY, query_type=1 if service_id else 0, query_code=service_id)
        )

    def test_report_state_from_ismg2_policy(self) -> None:
        """ISMG2's report policy decides the Stat the SP gets."""
        self.sim2.set_policy(Policy(reports=ReportPolicy(states={"UNDELIV": 1.0})))
        resp = self.submit(self.sp1)
        self.advance(0)
        [report] = self.h1.reports()
        self.assertEqual((report.msg_id, report.stat), (resp.msg_id, b"UNDELIV"))

    def test_local_number_not_forwarded(self) -> None:
        """A number ISMG1 homes gets its report from ISMG1 itself, no FWD."""
        resp = self.submit(self.sp1, _submit(DEST1))
        self.advance(REPORT_DELAY_S)
        self.assertEqual(self.spy2.received, [])
        [report] = self.h1.reports()
        self.assertEqual(report.msg_id, resp.msg_id)

    def test_plus86_is_normalised(self) -> None:
        """+86 and 86 before a number homed on ISMG1 keep it local."""
        for dest in ("+86" + DEST1, "86" + DEST1):
            self.submit(self.sp1, _submit(dest))
        self.assertEqual(self.spy2.received, [])
        self.assertTrue(self.f1.homes("+86" + DEST1))
        self.assertFalse(self.f1.homes("+86" + DEST2))

    def test_group_send_splits(self) -> None:
        """A SUBMIT to a local and a remote number forwards only the remote one (Msg_Id + i)."""
        pdu = _submit(dest_terminal_ids=(DEST1.encode(), DEST2.encode()))
        resp = self.submit(self.sp1, pdu)
        [fwd] = self.spy2.of_type(FwdType.MT)
        self.assertEqual((fwd.msg_id, fwd.dest_ids), (resp.msg_id + 1, (DEST2.encode(),)))
        self.advance(REPORT_DELAY_S)
        reports = {r.dest_terminal_id: r.msg_id for r in self.h1.reports()}
        self.assertEqual(reports, {DEST1.encode(): resp.msg_id, DEST2.encode(): resp.msg_id + 1})

    def test_without_report(self) -> None:
        """An MT without a report is forwarded with Registered_Delivery 0 and waits for nothing."""
        self.submit(self.sp1, _submit(report=False))
        [fwd] = self.spy2.of_type(FwdType.MT)
        self.assertEqual(fwd.registered_delivery, 0)
        self.advance(REPORT_DELAY_S)
        self.assertEqual(self.h1.delivers, [])
        self.assertEqual(self.spy1.received, [])
        self.assertEqual(self.sim1.forwarding()["waiting_reports"], 0)

    def test_report_over_ismg2s_link(self) -> None:
        """With no link from ISMG1, the report still comes back over ISMG2's own link."""
        self.f1.links.clear()
        self.link_ismgs(self.f2, self.f1)
        self.f2.links.pop(ISMG1)
        self.link, _ = self.link_ismgs()
        resp = self.submit(self.sp1)
        self.advance(REPORT_DELAY_S)
        [report] = self.h1.reports()
        self.assertEqual(report.msg_id, resp.msg_id)

    def test_report_waits_for_the_link(self) -> None:
        """A report due while no link is up goes out once ISMG1 logs in again."""
        # ISMG2 knows ISMG1 only as a GNS-learned ISMG: no address to call back.
        self.f2.peers.clear()
        self.f2.default_secret = PEER_SECRET
        resp = self.submit(self.sp1)
        self.link.transport.loseConnection()  # type: ignore[union-attr]
        self.flush()
        self.assertEqual((self.f1.links, self.f2.links), ({}, {}))
        self.advance(REPORT_DELAY_S)
        self.assertEqual(len(self.f2.outbox[ISMG1]), 1)
        self.link_ismgs()
        [report] = self.h1.reports()
        self.assertEqual(report.msg_id, resp.msg_id)
        self.assertNotIn(ISMG1, self.f2.outbox)


class CloseTests(_InMemoryTestCase):
    """:meth:`Forwarder.close`: reports not due are dropped and every link terminated."""

    def test_close(self) -> None:
        """close() cancels ISMG2's pending report and terminates the links of both ends."""
        link, server = self.link_ismgs()
        sp1, _ = self.sp(self.sp_factory1, SP1)
        self.submit(sp1)
        [call] = self.f2.report_timers
        d = self.f2.close()
        self.flush()
        self.successResultOf(d)
        self.assertEqual(self.f2.report_timers, set())
        self.assertTrue(call.cancelled)
        self.assertIs(server.state, State.CLOSED)
        self.assertIs(link.state, State.CLOSED)
        self.assertEqual((self.f1.sessions, self.f2.sessions), (set(), set()))
        self.assertEqual((self.f1.links, self.f2.links), ({}, {}))

    def test_close_idle(self) -> None:
        """close() with nothing open fires at once."""
        self.successResultOf(self.f1.close())


class MtFailureTests(_InMemoryTestCase):
    """§8.5.4, MT flow, cases 1–3: the forward fails and the SP gets REJECTD at once."""

    def setUp(self) -> None:
        super().setUp()
        self.sp1, self.h1 = self.sp(self.sp_factory1, SP1)

    def assert_rejected(self, resp: p.SubmitResp) -> None:
        [report] = self.h1.reports()
        self.assertEqual((report.msg_id, report.stat), (resp.msg_id, b"REJECTD"))
        self.assertEqual(self.sim1.forwarding()["peers"]["*"], {"mt_forward_failed": 1})
        self.assertEqual(self.f1.forwarded, {})

    def test_wrong_gateway(self) -> None:
        """ISMG2 answers FWD_RESP 9 for a number it does not home; the SP gets REJECTD."""
        self.f1.peers = {ISMG2: _peer(ISMG2, "137", SRC2)}
        self.link_ismgs()
        resp = self.submit(self.sp1, _submit("13700137000"))
        self.assertEqual(self.spy2.answers[0].result, Result.WRONG_GATEWAY)
        self.assertEqual(self.sim2.forwarding()["peers"][ISMG1]["wrong_gateway"], 1)
        self.assertEqual(self.sim2.submits(), [])
        self.assert_rejected(resp)

    def test_no_route(self) -> None:
        """A number no peer homes (and no GNS) is REJECTD at once."""
        self.link_ismgs()
        resp = self.submit(self.sp1, _submit("13700137000"))
        self.assertEqual(self.spy2.received, [])
        self.assert_rejected(resp)

    def test_no_answer_after_n_tries(self) -> None:
        """A FWD unanswered N times (T each) is REJECTD after N×T, not before."""
        self.link_ismgs()
        self.f2._mt_in = lambda *args: None  # type: ignore[method-assign]
        resp = self.submit(self.sp1)
        self.advance(N * T_S - 0.1)
        self.assertEqual(self.h1.delivers, [])
        self.assertEqual(len(self.spy2.received), N)
        self.advance(0.1)
        self.assert_rejected(resp)

    def test_link_lost_while_waiting(self) -> None:
        """The link dropping before FWD_RESP gets the MT REJECTD."""
        link, _ = self.link_ismgs()
        self.f2._mt_in = lambda *args: None  # type: ignore[method-assign]
        resp = self.submit(self.sp1)
        link.transport.loseConnection()  # type: ignore[union-attr]
        self.flush()
        self.assert_rejected(resp)
        self.assertEqual(self.f1.links, {})

    def test_query_counts_failure(self) -> None:
        """QUERY on ISMG1 counts a forward that failed as a failed MT."""
        self.submit(self.sp1, _submit("13700137000"))
        resp = self.sim1.query(p.Query(time=TODAY, query_type=0))
        self.assertEqual((resp.mt_wt, resp.mt_fl), (0, 1))

    def test_no_report_wanted(self) -> None:
        """A failed forward of an MT without a report sends the SP nothing."""
        resp = self.submit(self.sp1, _submit("13700137000", report=False))
        self.assertNotEqual(resp.msg_id, 0)
        self.assertEqual(self.h1.delivers, [])
        self.assertEqual(self.sim1.forwarding()["peers"]["*"], {"mt_forward_failed": 1})


class MoForwardTests(_InMemoryTestCase):
    """A subscriber of ISMG1 sends to an SP attached to ISMG2 (FWD type 1, report as type 3)."""

    def setUp(self) -> None:
        super().setUp()
        self.link, _ = self.link_ismgs()
        self.to = SRC2 + "01"

    def inject(self, content: str = "MO across") -> dict[str, Any]:
        d = self.sim1.inject_mo(None, SUBSCRIBER1, self.to, content)
        self.flush()
        result: dict[str, Any] = self.successResultOf(d)
        return result

    def mo_report(self) -> tuple[p.Fwd, p.MoReport]:
        """The one MO status report ISMG1 received, and its content."""
        [fwd] = self.spy1.of_type(FwdType.MO_REPORT)
        self.assertEqual(self.spy1.answers[-1], p.FwdResp(fwd.msg_id, 1, 1, Result.OK))
        return fwd, decode_mo_report(fwd.msg_content)

    def test_delivered(self) -> None:
        """The SP on ISMG2 gets the DELIVER; ISMG1 gets FWD type 3 with DELIVRD."""
        _, h2 = self.sp(self.sp_factory2, SP2)
        result = self.inject()
        [forwarded] = result["forwarded"]
        self.assertEqual(result["protocol"], "fwd")
        self.assertEqual((forwarded["forwarded_to"], forwarded["result"]), (ISMG2, 0))
        [mo] = h2.mos()
        self.assertEqual((mo.src_terminal_id, mo.dest_id), (SUBSCRIBER1.encode(), self.to.encode()))
        self.assertEqual(mo.msg_content, b"MO across")
        fwd, report = self.mo_report()
        self.assertEqual(str(fwd.msg_id), forwarded["msg_id"])
        self.assertEqual((fwd.source_id, fwd.destination_id), (ISMG2.encode(), ISMG1.encode()))
        self.assertEqual((report.msg_id, report.stat), (mo.msg_id, b"DELIVRD"))
        self.assertEqual(report.dest_id, self.to.encode())
        self.assertEqual(
            self.sim1.forwarding()["peers"][ISMG2],
            {"mo_forwarded": 1, "received_type_3": 1, "mo_report_DELIVRD": 1},
        )
        self.assertEqual(self.sim2.forwarding()["peers"][ISMG1], {"received_type_1": 1})
        self.assertEqual(self.sim2.stats()["accounts"][SP2]["protocols"]["cmpp2"]["mos"], 1)

    def test_fwd_fields(self) -> None:
        """The FWD type 1 carries the sender as Src_Id and the service code as Dest_Id."""
        self.sp(self.sp_factory2, SP2)
        self.inject("验证码")
        [fwd] = self.spy2.of_type(FwdType.MO)
        self.assertEqual((fwd.source_id, fwd.destination_id), (ISMG1.encode(), ISMG2.encode()))
        self.assertEqual((fwd.nodes_count, fwd.src_id), (1, SUBSCRIBER1.encode()))
        self.assertEqual((fwd.dest_ids, fwd.msg_fmt), ((self.to.encode(),), 8))
        self.assertEqual(fwd.msg_content, "验证码".encode("utf-16-be"))

    def test_sp_refuses(self) -> None:
        """The SP answering DELIVER_RESP with a non-zero Result gives REJECTD (case 3)."""
        _, h2 = self.sp(self.sp_factory2, SP2)
        h2.result = Result.COMMAND_ERROR
        self.inject()
        self.assertEqual(len(h2.mos()), 1)
        self.assertEqual(self.mo_report()[1].stat, b"REJECTD")

    def test_sp_not_connected(self) -> None:
        """With the SP not connected, REJECTD comes back at once (case 1)."""
        result = self.inject()
        self.assertEqual(result["forwarded"][0]["result"], Result.OK)
        self.assertEqual(self.mo_report()[1].stat, b"REJECTD")
        self.assertEqual(self.sim1.forwarding()["peers"][ISMG2]["mo_report_REJECTD"], 1)

    def test_no_answer_after_n_tries(self) -> None:
        """The SP never answering gives REJECTD after N×T (case 2), not before."""
        _, h2 = self.sp(self.sp_factory2, SP2)
        h2.result = None
        self.inject()
        self.advance(N * T_S - 0.1)
        self.assertEqual(self.spy1.of_type(FwdType.MO_REPORT), [])
        self.assertEqual(len(h2.mos()), N)
        self.advance(0.1)
        self.assertEqual(self.mo_report()[1].stat, b"REJECTD")

    def test_long_mo(self) -> None:
        """A long MO is forwarded segment by segment, each with its own MO report."""
        _, h2 = self.sp(self.sp_factory2, SP2)
        result = self.inject("x" * 200)
        self.assertEqual(result["segments"], 2)
        self.assertEqual([f["result"] for f in result["forwarded"]], [0, 0])
        self.assertEqual([m.tp_udhi for m in h2.mos()], [1, 1])
        stats = [decode_mo_report(f.msg_content).stat for f in self.spy1.of_type(FwdType.MO_REPORT)]
        self.assertEqual(stats, [b"DELIVRD", b"DELIVRD"])

    def test_local_sp_not_forwarded(self) -> None:
        """An MO for an SP attached to ISMG1 itself is delivered locally."""
        _, h1 = self.sp(self.sp_factory1, SP1)
        result = self.sim1.inject_mo(None, SUBSCRIBER1, SRC1 + "9", "local")
        self.flush()
        self.assertEqual(self.successResultOf(result)["protocol"], "cmpp2")
        self.assertEqual(len(h1.mos()), 1)
        self.assertEqual(self.spy2.received, [])

    def test_wrong_gateway(self) -> None:
        """ISMG2 answers FWD_RESP 9 for an MO to an SP it does not have, and sends no report."""
        self.f1.peers = {ISMG2: attrs.evolve(self.f1.peers[ISMG2], sp_codes=("1065003",))}
        self.to = "1065003"
        result = self.inject()
        self.assertEqual(result["forwarded"][0]["result"], Result.WRONG_GATEWAY)
        self.assertEqual(self.sim2.forwarding()["peers"][ISMG1]["wrong_gateway"], 1)
        self.assertEqual(self.spy1.received, [])

    def test_no_route(self) -> None:
        """An MO to a service code no ISMG serves fails (no GNS to ask)."""
        d = self.sim1.inject_mo(None, SUBSCRIBER1, "1065009", "x")
        self.flush()
        failure = self.failureResultOf(d, KeyError)
        self.assertIn("no MO route", str(failure.value))
        self.assertEqual(self.spy2.received, [])


class FwdInTests(_InMemoryTestCase):
    """What ISMG2 answers to FWDs it should not take, and to stray reports."""

    def setUp(self) -> None:
        super().setUp()
        self.link, _ = self.link_ismgs()
        self.events: list[dict[str, Any]] = []

        @provider(ILogObserver)
        def observe(event: dict[str, Any]) -> None:
            self.events.append(event)

        globalLogPublisher.addObserver(observe)
        self.addCleanup(globalLogPublisher.removeObserver, observe)

    def warnings(self) -> list[str]:
        return [formatEvent(e) for e in self.events if e.get("log_level") is LogLevel.warn]

    def test_too_many_nodes(self) -> None:
        """NodesCount above MAX_NODES is refused with 9 and counted as a loop."""
        resp = self.fwd_resp(self.link, _mt_fwd(nodes_count=MAX_NODES + 1))
        self.assertEqual((resp.msg_id, resp.result), (0x1234, Result.WRONG_GATEWAY))
        self.assertEqual(self.f2.counters[ISMG1]["loops_refused"], 1)
        self.assertEqual(self.sim2.submits(), [])

    def test_max_nodes_accepted(self) -> None:
        """NodesCount equal to MAX_NODES is still accepted."""
        resp = self.fwd_resp(self.link, _mt_fwd(nodes_count=MAX_NODES))
        self.assertEqual(resp.result, Result.OK)
        self.assertEqual(len(self.sim2.submits()), 1)

    def test_own_source_id(self) -> None:
        """A FWD whose Source_Id is ISMG2's own code is refused with 9 and counted as a loop."""
        for kind in FwdType:
            pdu = _mt_fwd(source_id=ISMG2.encode(), msg_fwd_type=kind)
            self.assertEqual(self.fwd_resp(self.link, pdu).result, Result.WRONG_GATEWAY)
        self.assertEqual(self.f2.counters[ISMG2]["loops_refused"], len(FwdType))
        self.assertEqual(self.sim2.submits(), [])

    def test_mt_to_wrong_ismg(self) -> None:
        """An MT for a number ISMG2 does not home, or with no Dest_Id, is refused with 9."""
        for dests in ((DEST1.encode(),), ()):
            resp = self.fwd_resp(self.link, _mt_fwd(dest_ids=dests))
            self.assertEqual(resp.result, Result.WRONG_GATEWAY)
        self.assertEqual(self.f2.counters[ISMG1]["wrong_gateway"], 2)

    def test_unknown_type(self) -> None:
        """An unknown Msg_Fwd_Type is answered with 1 (structure error)."""
        self.assertEqual(self.fwd_resp(self.link, _mt_fwd(msg_fwd_type=7)).result, 1)

    def test_report_for_unknown_msg_id(self) -> None:
        """A FWD type 2 for a Msg_Id nobody waits for is answered 0, logged, and dropped."""
        _, h1 = self.sp(self.sp_factory1, SP1)
        content = encode_report(
            p.Report(
                msg_id=0xDEAD,
                stat=b"DELIVRD",
                submit_time=b"2403051407",
                done_time=b"2403051407",
                dest_terminal_id=DEST2.encode(),
            )
        )
        pdu = _mt_fwd(
            source_id=ISMG2.encode(),
            destination_id=ISMG1.encode(),
            msg_fwd_type=FwdType.MT_REPORT,
            msg_id=0xDEAD,
            msg_content=content,
        )
        [_, server] = self.link_ismgs(self.f2, self.f1)
        resp = self.fwd_resp(self.f2.links[ISMG1], pdu)
        self.assertEqual((resp.msg_id, resp.result), (0xDEAD, Result.OK))
        self.assertEqual(h1.delivers, [])
        self.assertTrue(any("unknown Msg_Id 57005" in w for w in self.warnings()))
        self.assertEqual(self.f1.counters[ISMG2], {"received_type_2": 1})
        self.assertTrue(server.bound)

    def test_bad_report_content(self) -> None:
        """A FWD type 2 or 3 whose content does not decode gets 1; the link stays up."""
        self.link_ismgs(self.f2, self.f1)
        for kind in (FwdType.MT_REPORT, FwdType.MO_REPORT):
            pdu = _mt_fwd(source_id=ISMG2.encode(), msg_fwd_type=kind, msg_content=b"short")
            resp = self.fwd_resp(self.f2.links[ISMG1], pdu)
            self.assertEqual(resp.result, Result.STRUCTURE_ERROR)
        self.assertTrue(self.f2.links[ISMG1].bound)
        self.assertEqual(len([w for w in self.warnings() if "content" in w]), 2)

    def test_mo_report_counted(self) -> None:
        """A FWD type 3 is answered 0 and counted by its Stat."""
        from smsgw.protocols.cmpp.codec import encode_mo_report

        self.link_ismgs(self.f2, self.f1)
        content = encode_mo_report(
            p.MoReport(
                msg_id=1,
                stat=b"REJECTD",
                deliver_time=b"2403051407",
                deliver_resp_time=b"2403051407",
                dest_id=SRC1.encode(),
            )
        )
        pdu = _mt_fwd(source_id=ISMG2.encode(), msg_fwd_type=FwdType.MO_REPORT, msg_content=content)
        self.assertEqual(self.fwd_resp(self.f2.links[ISMG1], pdu).result, Result.OK)
        self.assertEqual(self.f1.counters[ISMG2]["mo_report_REJECTD"], 1)


class LoginTests(_InMemoryTestCase):
    """The FWD listener's CMPP_CONNECT: peers by their own secret, others by the default."""

    def try_login(self, code: str, secret: bytes) -> tuple[Session, Deferred[p.ConnectResp]]:
        client, _ = self.connect(self.f2.factory(), self.f1)
        d = login(client, code.encode(), secret)
        self.flush()
        return client, d

    def test_peer(self) -> None:
        """A peer with the right secret is bound and becomes ISMG2's link to it."""
        _, d = self.try_login(ISMG1, PEER_SECRET)
        self.assertEqual(self.successResultOf(d).status, 0)
        self.assertEqual(self.f2.links[ISMG1].account, ISMG1)
        self.assertEqual(self.sim2.forwarding()["links"], [ISMG1])

    def test_bad_secret(self) -> None:
        """A wrong secret is refused (Status 3) and the link closed."""
        client, d = self.try_login(ISMG1, b"wrong")
        self.assertEqual(self.failureResultOf(d, LoginFailed).value.status, 3)
        self.assertIs(client.state, State.CLOSED)
        self.assertEqual(self.f2.links, {})

    def test_unknown_ismg(self) -> None:
        """An ISMG neither in the peers table nor covered by a default secret is refused (2)."""
        _, d = self.try_login("003003", PEER_SECRET)
        self.assertEqual(self.failureResultOf(d, LoginFailed).value.status, 2)

    def test_default_secret(self) -> None:
        """With a default peer secret, an ISMG learned from the GNS may log in."""
        self.f2.default_secret = PEER_SECRET
        _, d = self.try_login("003003", PEER_SECRET)
        self.assertEqual(self.successResultOf(d).status, 0)
        self.assertIn("003003", self.f2.links)

    def test_request_before_login(self) -> None:
        """A FWD before CONNECT closes the link."""
        client, _ = self.connect(self.f2.factory(), self.f1)
        d = client.send(_mt_fwd())
        self.flush()
        self.failureResultOf(d)
        self.assertIs(client.state, State.CLOSED)

    def test_link_gone(self) -> None:
        """A closed link leaves both forwarders' link tables."""
        client, _ = self.link_ismgs()
        client.transport.loseConnection()  # type: ignore[union-attr]
        self.flush()
        self.assertEqual((self.f1.links, self.f2.links), ({}, {}))


class _FakeGns:
    """A GNS answering from a :class:`RouteTable`, counting the questions."""

    def __init__(self, mt: list[MtRoute], mo: list[MoRoute]) -> None:
        self.table = RouteTable(mt, mo)
        self.asked: list[str] = []

    def mt_route(self, number: str) -> Deferred[p.MtRouteResp]:
        self.asked.append(number)
        return succeed(mt_route_resp(self.table.find_mt(number)))

    def mo_route(self, sp_code: str, service_id: bytes, service_code: int) -> Deferred[Any]:
        self.asked.append(sp_code)
        return succeed(mo_route_resp(self.table.find_mo(sp_code)))


class GnsRouteTests(_InMemoryTestCase):
    """Routes the peers table does not give are asked of the GNS, and MT routes cached."""

    def setUp(self) -> None:
        super().setUp()
        self.gns = _FakeGns(
            [MtRoute(0, ISMG2, "127.0.0.1", 7931, "138", "138", "021")],
            [MoRoute(0, ISMG2, "127.0.0.1", 7931, SRC2)],
        )
        self.f1.peers = {}
        self.f1.gns = self.gns
        self.link_ismgs()
        self.sp1, self.h1 = self.sp(self.sp_factory1, SP1)

    def test_mt_via_gns(self) -> None:
        """An MT is routed by CMPP_MT_ROUTE and its report comes back with the SP's Msg_Id."""
        resp = self.submit(self.sp1)
        self.advance(REPORT_DELAY_S)
        [report] = self.h1.reports()
        self.assertEqual((report.msg_id, report.stat), (resp.msg_id, b"DELIVRD"))
        self.assertEqual(self.gns.asked, [DEST2])

    def test_mt_route_cached(self) -> None:
        """A second number of the same segment is not asked of the GNS again."""
        self.submit(self.sp1)
        self.submit(self.sp1, _submit("13811112222"))
        self.assertEqual(self.gns.asked, [DEST2])
        self.assertEqual(len(self.spy2.of_type(FwdType.MT)), 2)
        self.assertEqual(list(self.f1.route_cache), ["138"])

    def test_no_gns_route(self) -> None:
        """A number the GNS has no route for is REJECTD at once."""
        resp = self.submit(self.sp1, _submit("13700137000"))
        [report] = self.h1.reports()
        self.assertEqual((report.msg_id, report.stat), (resp.msg_id, b"REJECTD"))

    def test_mo_via_gns(self) -> None:
        """An MO is routed by CMPP_MO_ROUTE."""
        self.sp(self.sp_factory2, SP2)
        d = self.sim1.inject_mo(None, SUBSCRIBER1, SRC2 + "7", "hi")
        self.flush()
        [forwarded] = self.successResultOf(d)["forwarded"]
        self.assertEqual((forwarded["forwarded_to"], forwarded["result"]), (ISMG2, 0))
        self.assertEqual(self.gns.asked, [SRC2 + "7"])

    def test_peers_table_first(self) -> None:
        """The peers table wins over the GNS, the longest prefix first."""
        self.f1.peers = {
            ISMG2: _peer(ISMG2, "138", SRC2),
            "003003": _peer("003003", "13800", SRC2),
        }
        route = self.successResultOf(self.f1.mt_route(DEST2))
        self.assertEqual(route.code, "003003")
        route = self.successResultOf(self.f1.mt_route("13811112222"))
        self.assertEqual(route.code, ISMG2)
        self.assertEqual(self.gns.asked, [])

    def test_no_secret_for_gns_route(self) -> None:
        """A GNS route to an ISMG with no shared secret and no link fails the MT (REJECTD)."""
        self.f1.links.clear()
        resp = self.submit(self.sp1)
        [report] = self.h1.reports()
        self.assertEqual((report.msg_id, report.stat), (resp.msg_id, b"REJECTD"))


class BuildForwarderTests(SynchronousTestCase):
    """:func:`build_forwarder` from a ``[simulator]`` table."""

    def sim(self) -> Simulator:
        return Simulator(BoundedClock(), [Account(SP1, SECRET)], gateway_code=1001)

    def test_off(self) -> None:
        """No fwd, peers, gns or home_prefixes: no forwarder."""
        config = parse_config("[simulator]\n").simulator
        sim = self.sim()
        self.assertIsNone(build_forwarder(sim, config, BoundedClock()))
        self.assertEqual(sim.forwarding(), {"enabled": False})

    def test_from_config(self) -> None:
        """Home prefixes, peers (secrets as bytes), the default secret and a GNS client."""
        config = parse_config(
            '[simulator]\nfwd = "tcp:0"\nhome_prefixes = ["139", "150"]\n'
            'gns = "tcp:host=127.0.0.1:port=9168"\ngns_secret = "g"\npeer_secret = "pp"\n'
            '[[simulator.peer]]\ncode = "002002"\nport = 7931\nsecret = "ps"\n'
            'prefixes = ["138"]\nsp_codes = ["1065002"]\n'
        ).simulator
        sim = self.sim()
        forwarder = build_forwarder(sim, config, BoundedClock())
        assert forwarder is not None
        self.assertIs(sim.forwarder, forwarder)
        self.assertEqual((forwarder.code, forwarder.home_prefixes), (ISMG1, ("139", "150")))
        self.assertEqual(
            forwarder.peers,
            {ISMG2: Peer(ISMG2, "127.0.0.1", 7931, b"ps", ("138",), ("1065002",))},
        )
        self.assertEqual(forwarder.default_secret, b"pp")
        self.assertIsInstance(forwarder.gns, GnsClient)
        self.assertEqual((forwarder.gns.source_id, forwarder.gns.secret), (b"001001", b"g"))


class PeerConfigTests(SynchronousTestCase):
    """``[[simulator.peer]]`` errors name the key."""

    def error(self, peer: str) -> ConfigError:
        text = f'[simulator]\n[[simulator.peer]]\nsecret = "x"\n{peer}\n'
        with self.assertRaises(ConfigError) as caught:
            parse_config(text, "net.toml")
        return caught.exception

    def test_bad_code(self) -> None:
        """A code that is not 6 digits names simulator.peer[0].code."""
        for code in ('"2002"', '"00200a"', "2002"):
            e = self.error(f"code = {code}")
            self.assertEqual(e.key, "simulator.peer[0].code")
        self.assertIn("6 digits", str(self.error('code = "2002"')))

    def test_port_out_of_range(self) -> None:
        """A port of 0 or above 65535 names simulator.peer[0].port."""
        for port in (0, 65536, -1):
            e = self.error(f'code = "002002"\nport = {port}')
            self.assertEqual(e.key, "simulator.peer[0].port")
            self.assertTrue(str(e).startswith("net.toml: simulator.peer[0].port: "))

    def test_missing_code(self) -> None:
        """A peer without a code names simulator.peer[0].code as required."""
        e = self.error("")
        self.assertEqual((e.key, e.reason), ("simulator.peer[0].code", "required"))

    def test_bad_prefixes(self) -> None:
        """Prefixes that are not digits name simulator.peer[0].prefixes."""
        e = self.error('code = "002002"\nprefixes = ["13x"]')
        self.assertEqual(e.key, "simulator.peer[0].prefixes[0]")

    def test_unknown_key(self) -> None:
        """An unknown key in a peer is refused by name."""
        e = self.error('code = "002002"\nhomes = ["138"]')
        self.assertEqual(e.key, "simulator.peer[0].homes")

    def test_secret_not_quoted(self) -> None:
        """The secret never appears in the error or the parsed value's repr."""
        text = '[simulator]\n[[simulator.peer]]\ncode = "002002"\nsecret = "hush-hush"\n'
        peer = parse_config(text).simulator.peers[0]
        self.assertNotIn("hush-hush", repr(peer))
        e = self.error('code = "002002"\nport = 0\nsecret2 = "hush-hush"')
        self.assertNotIn("hush-hush", str(e))

    def test_defaults(self) -> None:
        """host defaults to 127.0.0.1 and port to 7930."""
        text = '[simulator]\n[[simulator.peer]]\ncode = "002002"\nsecret = "x"\n'
        peer = parse_config(text).simulator.peers[0]
        self.assertEqual((peer.host, peer.port, peer.prefixes), ("127.0.0.1", 7930, ()))


# -- real loopback -------------------------------------------------------------------------


def _channel(testcase: _LiveTestCase, port: int, account: str, src: str) -> Channel:
    """A started CMPP channel for *account* on 127.0.0.1:*port*; stopped on cleanup."""
    url = parse_upstream_url(
        f"cmpp://{account}:{SECRET.decode()}@127.0.0.1:{port}"
        f"?src_id={src}&service_id=TEST&response_timeout_s=2&keepalive_s=30"
    )
    events: list[Any] = []
    channel = Channel(url, reactor, on_event=events.append, name=account)
    channel.events = events  # type: ignore[attr-defined]
    channel.startService()

    async def stop() -> None:
        if channel.running:
            await within(channel.stopService())

    testcase.addCleanup(stop)
    return channel


def _events(channel: Channel, kind: type) -> list[Any]:
    return [e for e in channel.events if isinstance(e, kind)]  # type: ignore[attr-defined]


class _LiveIsmg:
    """One ISMG on loopback: a simulator (CMPP on an ephemeral port) and its FWD listener."""

    def __init__(self, testcase: TestCase, code: int, account: str, src: str, home: str) -> None:
        self.sim = Simulator(
            reactor, [Account(account, SECRET, src_prefix=src)], gateway_code=code, policy=Policy()
        )
        self.forwarder = Forwarder(self.sim, home_prefixes=(home,), config=LIVE_CONFIG)
        self.spy = _FwdSpy(self.forwarder)
        self.cmpp = reactor.listenTCP(0, cmpp_factory(self.sim, LIVE_CONFIG), interface="127.0.0.1")
        self.fwd: Any = reactor.listenTCP(0, self.forwarder.factory(), interface="127.0.0.1")
        self.fwd_port: int = self.fwd.getHost().port
        testcase.addCleanup(self.close)

    @property
    def code(self) -> str:
        return self.forwarder.code

    def peer(self, home: str, sp_code: str, port: int | None = None) -> Peer:
        """This ISMG as the other one's peers table names it."""
        return Peer(self.code, "127.0.0.1", port or self.fwd_port, PEER_SECRET, (home,), (sp_code,))

    async def stop_fwd(self) -> None:
        """Stop the FWD listener and drop every ISMG link: this ISMG is down for forwarding."""
        if self.fwd is not None:
            await self.fwd.stopListening()
            self.fwd = None
        await within(self.forwarder.close())

    async def close(self) -> None:
        await self.stop_fwd()
        await self.cmpp.stopListening()
        sessions = [s for a in self.sim.accounts.values() for s in a.sessions]
        for session in sessions:
            session.transport.abortConnection()  # type: ignore[union-attr]
        await within(DeferredList([s.when_closed() for s in sessions]))


#: Links of the loopback tests: answers within 2 s, no keepalive.
LIVE_CONFIG = SessionConfig(response_timeout_s=2.0, attempts=2, keepalive_s=None)


class LiveForwardTests(_LiveTestCase):
    """Two ISMGs on loopback, SP channels on both; routes from the peers table."""

    async def setUp(self) -> None:  # type: ignore[override]
        super().setUp()
        self.ismg1 = _LiveIsmg(self, 1001, SP1, SRC1, "139")
        self.ismg2 = _LiveIsmg(self, 2002, SP2, SRC2, "138")
        self.ismg1.forwarder.peers = {ISMG2: self.ismg2.peer("138", SRC2)}
        self.ismg2.forwarder.peers = {ISMG1: self.ismg1.peer("139", SRC1)}
        self.sp1 = _channel(self, self.ismg1.cmpp.getHost().port, SP1, SRC1 + "88")
        self.sp2 = _channel(self, self.ismg2.cmpp.getHost().port, SP2, SRC2 + "01")
        await within(self.sp1.session())
        await within(self.sp2.session())

    async def send_across(self, dest: str = DEST2) -> tuple[Any, ReportEvent]:
        """Send one text from SP1 to *dest*; its SegmentResult and its report."""
        [result] = await within(self.sp1.submit_text([dest], "hello across", report=True))
        self.assertEqual(result.result, Result.OK)
        await wait_until(lambda: _events(self.sp1, ReportEvent), "the report")
        [report] = _events(self.sp1, ReportEvent)
        return result, report

    async def test_mt_across(self) -> None:
        """The SP gets the report with its original Msg_Id; ISMG2 logs the MT; FWD_RESP 0."""
        result, report = await self.send_across()
        self.assertEqual(
            (report.msg_id, report.stat, report.dest), (result.msg_id, "DELIVRD", DEST2)
        )
        [rec] = self.ismg2.sim.submits(account=f"ismg:{ISMG1}")
        self.assertEqual(
            (rec["msg_id"], rec["dest"], rec["text"]), (result.msg_id, [DEST2], "hello across")
        )
        self.assertEqual([a.result for a in self.ismg2.spy.answers], [Result.OK])
        one = self.ismg1.sim.forwarding()
        self.assertEqual(
            one["peers"][ISMG2], {"mt_forwarded": 1, "received_type_2": 1, "reports_returned": 1}
        )
        self.assertEqual(one["links"], [ISMG2])
        self.assertEqual(self.ismg2.sim.forwarding()["peers"][ISMG1], {"received_type_0": 1})

    async def test_mo_across(self) -> None:
        """An MO to SP2's service code reaches SP2; ISMG1 gets the MO report DELIVRD."""
        to = SRC2 + "01"
        result = await within(self.ismg1.sim.inject_mo(None, SUBSCRIBER1, to, "MO across"))
        self.assertEqual(result["forwarded"][0]["result"], Result.OK)
        await wait_until(lambda: _events(self.sp2, MoEvent), "the MO")
        [mo] = _events(self.sp2, MoEvent)
        self.assertEqual((mo.sender, mo.to, mo.content), (SUBSCRIBER1, to, b"MO across"))
        await wait_until(lambda: self.ismg1.spy.of_type(FwdType.MO_REPORT), "the MO report")
        [fwd] = self.ismg1.spy.of_type(FwdType.MO_REPORT)
        report = decode_mo_report(fwd.msg_content)
        self.assertEqual((str(report.msg_id), report.stat), (mo.msg_id, b"DELIVRD"))
        self.assertEqual(str(fwd.msg_id), result["forwarded"][0]["msg_id"])

    async def test_mo_sp_offline(self) -> None:
        """An MO for SP2 while it is not connected is REJECTD at once."""
        await within(self.sp2.stopService())
        await wait_until(lambda: self.ismg2.sim.stats()["sessions"] == 0, "SP2's link to go")
        await within(self.ismg1.sim.inject_mo(None, SUBSCRIBER1, SRC2, "nobody home"))
        await wait_until(lambda: self.ismg1.spy.of_type(FwdType.MO_REPORT), "the MO report", 1.0)
        [fwd] = self.ismg1.spy.of_type(FwdType.MO_REPORT)
        self.assertEqual(decode_mo_report(fwd.msg_content).stat, b"REJECTD")

    async def test_ismg2_stopped(self) -> None:
        """With ISMG2's FWD listener stopped and links dropped, the next MT is REJECTD at once."""
        await self.send_across()
        self.sp1.events.clear()  # type: ignore[attr-defined]
        await self.ismg2.stop_fwd()
        await wait_until(lambda: not self.ismg1.forwarder.links, "ISMG1's link to go")
        started = reactor.seconds()
        result, report = await self.send_across()
        self.assertEqual((report.msg_id, report.stat), (result.msg_id, "REJECTD"))
        # Well before one response timeout: the connection was refused.
        self.assertLess(reactor.seconds() - started, LIVE_CONFIG.response_timeout_s)
        self.assertEqual(self.ismg1.sim.forwarding()["peers"]["*"], {"mt_forward_failed": 1})

    async def test_ismg2_not_running(self) -> None:
        """A peer whose FWD port has nobody listening: REJECTD at once."""
        port = await closed_port()
        self.ismg1.forwarder.peers = {ISMG2: self.ismg2.peer("138", SRC2, port)}
        started = reactor.seconds()
        result, report = await self.send_across()
        self.assertEqual((report.msg_id, report.stat), (result.msg_id, "REJECTD"))
        self.assertLess(reactor.seconds() - started, LIVE_CONFIG.response_timeout_s)
        self.assertEqual(self.ismg2.sim.submits(), [])


class LiveGnsTests(_LiveTestCase):
    """The same across, with ISMG1 asking a GNS on loopback (CMPP_MT_ROUTE, CMPP_MO_ROUTE)."""

    async def setUp(self) -> None:  # type: ignore[override]
        super().setUp()
        self.ismg1 = _LiveIsmg(self, 1001, SP1, SRC1, "139")
        self.ismg2 = _LiveIsmg(self, 2002, SP2, SRC2, "138")
        port1, port2 = self.ismg1.fwd_port, self.ismg2.fwd_port
        table = RouteTable(
            [MtRoute(0, ISMG2, "127.0.0.1", port2, "138", "138", "021")],
            [
                MoRoute(0, ISMG2, "127.0.0.1", port2, SRC2),
                MoRoute(1, ISMG1, "127.0.0.1", port1, SRC1),
            ],
        )
        accounts = [IsmgAccount(ISMG1, b"gns-secret"), IsmgAccount(ISMG2, b"gns-secret")]
        self.gns = GnsServer(reactor, table, accounts)
        gns_port = reactor.listenTCP(0, self.gns.factory(), interface="127.0.0.1")
        self.addCleanup(self.stop_gns, gns_port)
        number = gns_port.getHost().port
        # Neither ISMG knows the other from a peers table: the GNS's routes and
        # the default peer secret are all they have.
        for ismg in (self.ismg1, self.ismg2):
            ismg.forwarder.gns = GnsClient(
                lambda: TCP4ClientEndpoint(reactor, "127.0.0.1", number),
                ismg.code,
                b"gns-secret",
                reactor,
            )
            ismg.forwarder.default_secret = PEER_SECRET
        self.sp1 = _channel(self, self.ismg1.cmpp.getHost().port, SP1, SRC1 + "88")
        self.sp2 = _channel(self, self.ismg2.cmpp.getHost().port, SP2, SRC2 + "01")
        await within(self.sp1.session())
        await within(self.sp2.session())

    async def stop_gns(self, port: Any) -> None:
        await port.stopListening()
        sessions = list(self.gns.sessions)
        for session in sessions:
            session.transport.abortConnection()
        await within(DeferredList([s.when_closed() for s in sessions]))

    async def test_mt_via_gns(self) -> None:
        """The route comes from the GNS; the report keeps the SP's Msg_Id; the route is cached."""
        [result] = await within(self.sp1.submit_text([DEST2], "via gns", report=True))
        await wait_until(lambda: _events(self.sp1, ReportEvent), "the report")
        [report] = _events(self.sp1, ReportEvent)
        self.assertEqual((report.msg_id, report.stat), (result.msg_id, "DELIVRD"))
        [rec] = self.ismg2.sim.submits()
        self.assertEqual(rec["msg_id"], result.msg_id)
        self.assertEqual(self.gns.stats()["mt_route"], 1)
        self.assertIn("138", self.ismg1.forwarder.route_cache)
        self.assertEqual(self.ismg1.sim.forwarding()["peers"][ISMG2]["reports_returned"], 1)

    async def test_mo_via_gns(self) -> None:
        """An MO is routed by the GNS and reaches SP2 on ISMG2."""
        result = await within(self.ismg1.sim.inject_mo(None, SUBSCRIBER1, SRC2 + "01", "up"))
        self.assertEqual(result["forwarded"][0]["forwarded_to"], ISMG2)
        await wait_until(lambda: _events(self.sp2, MoEvent), "the MO")
        await wait_until(lambda: self.ismg1.spy.of_type(FwdType.MO_REPORT), "the MO report")
        self.assertEqual(self.gns.stats()["mo_route"], 1)

    async def test_queued_report_goes_out_on_own_link(self) -> None:
        """A report kept while no link was up goes out once ISMG2 opens a link itself."""
        self.ismg2.sim.set_policy(Policy(reports=ReportPolicy(delay_s=(0.3, 0.3))))
        [result] = await within(self.sp1.submit_text([DEST2], "then silence", report=True))
        await wait_until(lambda: self.ismg2.forwarder.report_timers, "the MT to reach ISMG2")
        await within(self.ismg1.forwarder.close())
        await wait_until(lambda: self.ismg2.forwarder.outbox[ISMG1], "the report to be kept")
        self.assertEqual(_events(self.sp1, ReportEvent), [])
        # An MO for SP1: ISMG2 asks the GNS and logs in to ISMG1's FWD listener.
        await within(self.ismg2.sim.inject_mo(None, "13800001111", SRC1 + "88", "hi"))
        await wait_until(lambda: _events(self.sp1, ReportEvent), "the kept report")
        [report] = _events(self.sp1, ReportEvent)
        self.assertEqual((report.msg_id, report.stat), (result.msg_id, "DELIVRD"))
        await wait_until(lambda: _events(self.sp1, MoEvent), "the MO")
        self.assertNotIn(ISMG1, self.ismg2.forwarder.outbox)
