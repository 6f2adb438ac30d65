"""The fake ISMG's CMPP 2.0 face, in memory (:mod:`smsgw.ismg.simulator`).

An SP client (:class:`Session` + :class:`CmppAdapter` + a small handler,
logging in with :func:`login`) talks to ``cmpp_factory(Simulator(...))``
over ``twisted.test.iosim``; every timer runs on one ``Clock``.  Covers
MT, MO, long text, the control API's policy and faults, and the CONNECT,
SUBMIT, DELIVER, QUERY and CANCEL exchanges of seed 002 §8.4.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from twisted.test.iosim import FakeTransport, IOPump, connectedServerAndClient
from twisted.trial.unittest import SynchronousTestCase

from smsgw.config.policy import FaultPolicy, Policy, PrefixRule, ReportPolicy
from smsgw.ismg.simulator import Account, Simulator, beijing, demo_accounts
from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.auth import BEIJING
from smsgw.protocols.cmpp.codec import CMPP20, decode_report
from smsgw.protocols.cmpp.constants import CommandId, ConnectStatus, Result
from smsgw.protocols.cmpp.face import CmppServerHandler, cmpp_factory
from smsgw.protocols.cmpp.msgid import unpack_msg_id
from smsgw.protocols.cmpp.session import CmppAdapter, LoginFailed, login
from smsgw.protocols.codec import Header
from smsgw.protocols.errors import DecodeError
from smsgw.protocols.session import Session, SessionConfig, State
from smsgw.text import Reassembler, decode_text
from tests.clock import BoundedClock, flush_pumps

SP_ID = "901234"
SECRET = b"s3cret"
OTHER_ID = "901235"
GATEWAY = 2047
#: 2024-03-05 06:07:08 UTC, 14:07:08 in Beijing.
NOW = 1709618828.0
TODAY = b"20240305"
DEST = "13800138000"
SRC = "1065901234"
#: The server's response timeout T for DELIVERs, and its attempts N.
T_S = 10.0
N = 3


class _Sp:
    """The SP side of a link: records every DELIVER, answers it unless told not to.

    :ivar skip: how many DELIVERs to leave unanswered before answering.
    :ivar answer: ``False`` to never answer a DELIVER.
    """

    def __init__(self) -> None:
        self.delivers: list[p.Deliver] = []
        self.skip = 0
        self.answer = True

    def session_started(self, session: Session) -> None:
        pass

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        if type(pdu) is not p.Deliver:
            return None
        self.delivers.append(pdu)
        if not self.answer:
            return None
        if self.skip > 0:
            self.skip -= 1
            return None
        return p.DeliverResp(pdu.msg_id, 0)

    def session_ended(self, session: Session, reason: Failure) -> None:
        pass

    def reports(self) -> list[p.Report]:
        """The status reports received, decoded."""
        return [decode_report(d.msg_content) for d in self.delivers if d.registered_delivery]


@attrs.define
class _Link:
    """One SP client connected to the simulator."""

    client: Session
    server: Session
    pump: IOPump
    sp: _Sp


def _submit(dest: str = DEST, *, report: bool = True, **changes: Any) -> p.Submit:
    """A one-segment SUBMIT to *dest* from the test account."""
    pdu = p.Submit(
        registered_delivery=1 if report else 0,
        service_id=b"TEST",
        msg_src=SP_ID.encode(),
        msg_fmt=15,
        src_id=SRC.encode(),
        dest_terminal_ids=(dest.encode(),),
        msg_content="验证码 1234".encode("gbk"),
    )
    return attrs.evolve(pdu, **changes) if changes else pdu


def _frame(command_id: int, sequence_id: int, body: bytes) -> bytes:
    """A raw CMPP frame whose length field matches *body*."""
    head = (12 + len(body)).to_bytes(4, "big") + command_id.to_bytes(4, "big")
    return head + sequence_id.to_bytes(4, "big") + body


def _beijing(epoch_s: float, fmt: str) -> bytes:
    return datetime.fromtimestamp(epoch_s, UTC).astimezone(BEIJING).strftime(fmt).encode()


class BeijingTests(SynchronousTestCase):
    """Report times in Beijing time, cached per second."""

    @given(
        st.integers(min_value=0, max_value=4_102_444_800),
        st.floats(min_value=0, max_value=0.999),
        st.sampled_from(["%y%m%d%H%M", "%Y%m%d%H%M%S"]),
    )
    def test_same_as_datetime(self, second: int, fraction: float, fmt: str) -> None:
        """The cached form equals formatting the exact time (the fraction is dropped)."""
        exact = _beijing(second + fraction, fmt)
        self.assertEqual(exact, _beijing(second, fmt))
        self.assertEqual(beijing(second + fraction, fmt), exact)
        self.assertEqual(beijing(second + fraction, fmt), exact)


class _SimulatorTestCase(SynchronousTestCase):
    """A simulator on a ``Clock`` and helpers to connect SP clients to it."""

    def setUp(self) -> None:
        self.clock = BoundedClock()
        self.clock.advance(NOW)
        self.links: list[_Link] = []
        self.make_sim()

    def make_sim(
        self, *accounts: Account, policy: Policy | None = None, keepalive_s: float | None = None
    ) -> Simulator:
        """(Re)build the simulator with *accounts* (default: the two test accounts).

        :param keepalive_s: the server's ACTIVE_TEST period; ``None`` for none.
        """
        self.sim = Simulator(
            self.clock,
            accounts or [Account(SP_ID, SECRET), Account(OTHER_ID, SECRET)],
            gateway_code=GATEWAY,
            policy=policy,
            rng=random.Random(7),
        )
        self.factory = cmpp_factory(
            self.sim, SessionConfig(response_timeout_s=T_S, attempts=N, keepalive_s=keepalive_s)
        )
        return self.sim

    def connect(self, peer_host: str | None = None) -> _Link:
        """A new TCP connection (not logged in) from *peer_host*."""
        sp = _Sp()
        config = SessionConfig(response_timeout_s=T_S, attempts=N, keepalive_s=None)

        def server_transport(protocol: Any) -> FakeTransport:
            peer = IPv4Address("TCP", peer_host, 40000) if peer_host else None
            return FakeTransport(protocol, isServer=True, peerAddress=peer)

        client, server, pump = connectedServerAndClient(
            lambda: self.factory.buildProtocol(None),
            lambda: Session(CmppAdapter(), sp, config, self.clock),
            serverTransportFactory=server_transport,
            clock=self.clock,
        )
        link = _Link(client, server, pump, sp)
        self.links.append(link)
        return link

    def flush(self) -> None:
        """Move every byte on every link (fires ``callLater(0)`` calls too)."""
        flush_pumps([link.pump for link in self.links])

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.flush()

    def try_login(
        self, sp_id: str = SP_ID, secret: bytes = SECRET, *, peer_host: str | None = None,
        version: int = 0x20,
    ) -> tuple[_Link, Deferred[p.ConnectResp]]:  # fmt: skip
        link = self.connect(peer_host)
        d = login(link.client, sp_id.encode(), secret, version=version)
        self.flush()
        return link, d

    def logged_in(self, sp_id: str = SP_ID, **kwargs: Any) -> _Link:
        """A bound link for *sp_id*."""
        link, d = self.try_login(sp_id, **kwargs)
        self.assertEqual(self.successResultOf(d).status, 0)
        return link

    def send(self, link: _Link, pdu: object) -> Deferred[Any]:
        d = link.client.send(pdu)
        self.flush()
        return d

    def submit(self, link: _Link, pdu: p.Submit | None = None) -> p.SubmitResp:
        """SUBMIT *pdu* and return its (immediate) SUBMIT_RESP."""
        resp: p.SubmitResp = self.successResultOf(self.send(link, pdu or _submit()))
        return resp

    def assert_refused(self, d: Deferred[Any], link: _Link, status: int) -> None:
        failure = self.failureResultOf(d, LoginFailed)
        self.assertEqual(failure.value.status, status)
        self.assertIs(link.client.state, State.CLOSED)
        self.assertIs(link.server.state, State.CLOSED)
        self.assertEqual(self.sim.stats()["sessions"], 0)


class ConnectTests(_SimulatorTestCase):
    """CMPP_CONNECT against the simulator's accounts (seed 002 §8.4.1)."""

    def test_ok(self) -> None:
        """The right secret binds the link; the simulator counts the session."""
        link = self.logged_in()
        self.assertTrue(link.server.bound)
        self.assertEqual(link.server.account, SP_ID)
        stats = self.sim.stats()
        self.assertEqual(stats["sessions"], 1)
        self.assertEqual(stats["accounts"][SP_ID]["sessions"], 1)
        self.assertEqual(stats["logins"], 1)

    def test_unknown_sp(self) -> None:
        """An unknown Source_Addr is refused with status 2."""
        link, d = self.try_login("999999")
        self.assert_refused(d, link, ConnectStatus.BAD_SOURCE_ADDR)

    def test_bad_secret(self) -> None:
        """A wrong secret is refused with status 3."""
        link, d = self.try_login(secret=b"wrong")
        self.assert_refused(d, link, ConnectStatus.AUTH_ERROR)

    def test_version_30(self) -> None:
        """Version 0x30 on the 2.0 listener is refused with status 4."""
        link, d = self.try_login(version=0x30)
        self.assert_refused(d, link, ConnectStatus.VERSION_TOO_HIGH)

    def test_over_max_sessions(self) -> None:
        """A login beyond the account's max_sessions is refused with status 5, and counted."""
        self.make_sim(Account(SP_ID, SECRET, max_sessions=1))
        first = self.logged_in()
        self.assertNotIn("logins_refused", self.sim.stats())
        link, d = self.try_login()
        failure = self.failureResultOf(d, LoginFailed)
        self.assertEqual(failure.value.status, 5)
        self.assertIs(link.client.state, State.CLOSED)
        self.assertTrue(first.client.bound)
        self.assertEqual(self.sim.stats()["sessions"], 1)
        self.assertEqual(self.sim.stats()["logins_refused"], 1)
        self.assertEqual(self.sim.stats()["accounts"][SP_ID]["logins_refused"], 1)

    def test_session_slot_freed(self) -> None:
        """Once a session is gone its max_sessions slot can be used again."""
        self.make_sim(Account(SP_ID, SECRET, max_sessions=1))
        first = self.logged_in()
        closed = first.client.terminate()
        self.flush()
        self.successResultOf(closed)
        self.assertEqual(self.sim.stats()["sessions"], 0)
        self.logged_in()

    def test_ip_outside_allowed(self) -> None:
        """A peer outside allowed_ips is refused with status 2."""
        self.make_sim(Account(SP_ID, SECRET, allowed_ips=("10.0.0.0/8",)))
        link, d = self.try_login(peer_host="192.168.1.1")
        self.assert_refused(d, link, ConnectStatus.BAD_SOURCE_ADDR)

    def test_ip_inside_allowed(self) -> None:
        """A peer inside allowed_ips logs in."""
        self.make_sim(Account(SP_ID, SECRET, allowed_ips=("10.0.0.0/8", "127.0.0.1")))
        self.logged_in(peer_host="10.1.2.3")

    def test_request_before_connect(self) -> None:
        """A SUBMIT before CONNECT closes the link unanswered."""
        link = self.connect()
        d = self.send(link, _submit())
        self.failureResultOf(d)
        self.assertIs(link.client.state, State.CLOSED)
        self.assertEqual(self.sim.totals["submits"], 0)

    def test_second_connect(self) -> None:
        """A second CONNECT on a bound link is answered with status 1."""
        link = self.logged_in()
        resp = self.successResultOf(self.send(link, p.Connect(SP_ID.encode())))
        self.assertEqual(resp.status, 1)
        self.assertTrue(link.server.bound)

    def test_demo_account(self) -> None:
        """The demo account logs in with its documented secret."""
        [demo] = demo_accounts()
        self.make_sim(*demo_accounts())
        self.logged_in(demo.id, secret=demo.secret)


class SubmitTests(_SimulatorTestCase):
    """SUBMIT, SUBMIT_RESP and the status report."""

    def setUp(self) -> None:
        super().setUp()
        self.make_sim(policy=Policy(reports=ReportPolicy(delay_s=(5.0, 5.0))))
        self.link = self.logged_in()

    def test_msg_id_layout(self) -> None:
        """SUBMIT_RESP carries Result 0 and a spec-layout Msg_Id with the simulator's code."""
        resp = self.submit(self.link)
        self.assertEqual(resp.result, Result.OK)
        parts = unpack_msg_id(resp.msg_id)
        self.assertEqual(parts.gateway, GATEWAY)
        when = datetime.fromtimestamp(self.clock.seconds(), UTC).astimezone(BEIJING)
        self.assertEqual(
            (parts.month, parts.day, parts.hour, parts.minute, parts.second),
            (when.month, when.day, when.hour, when.minute, when.second),
        )

    def test_reports_due_together_leave_in_one_write(self) -> None:
        """Reports due in the same timer run reach a link in one transport write, all answered."""
        for _ in range(5):
            self.submit(self.link)
        transport = self.link.server.transport
        before = len(transport.stream)  # type: ignore[union-attr]
        self.clock.advance(5.0)
        self.assertEqual(len(transport.stream) - before, 1)  # type: ignore[union-attr]
        self.flush()
        self.assertEqual(len(self.link.sp.reports()), 5)
        self.assertEqual(self.sim.totals["delivered"], 5)

    def test_msg_ids_unique(self) -> None:
        """Every accepted SUBMIT gets its own Msg_Id."""
        ids = {self.submit(self.link).msg_id for _ in range(50)}
        self.assertEqual(len(ids), 50)

    def test_report_after_delay(self) -> None:
        """The report arrives after the policy delay and names the SUBMIT_RESP's Msg_Id."""
        resp = self.submit(self.link)
        self.advance(4.9)
        self.assertEqual(self.link.sp.delivers, [])
        self.advance(0.2)
        [deliver] = self.link.sp.delivers
        self.assertEqual(deliver.registered_delivery, 1)
        self.assertEqual(deliver.dest_id, SRC.encode())
        self.assertEqual(deliver.src_terminal_id, DEST.encode())
        self.assertEqual(deliver.service_id, b"TEST")
        self.assertEqual(unpack_msg_id(deliver.msg_id).gateway, GATEWAY)
        report = decode_report(deliver.msg_content)
        self.assertEqual(report.msg_id, resp.msg_id)
        self.assertEqual(report.stat, b"DELIVRD")
        self.assertEqual(report.dest_terminal_id, DEST.encode())
        self.assertEqual(report.submit_time, _beijing(NOW, "%y%m%d%H%M"))
        self.assertEqual(report.done_time, _beijing(self.clock.seconds(), "%y%m%d%H%M"))
        stats = self.sim.stats()
        self.assertEqual((stats["reports"], stats["delivered"]), (1, 1))
        self.assertEqual(stats["reports_pending"], 0)

    def test_no_report_unless_registered(self) -> None:
        """A SUBMIT with Registered_Delivery 0 gets no report."""
        self.submit(self.link, _submit(report=False))
        self.advance(60)
        self.assertEqual(self.link.sp.delivers, [])

    def test_states_undeliv(self) -> None:
        """With states set to UNDELIV only, every report's Stat is UNDELIV."""
        self.sim.set_policy(Policy(reports=ReportPolicy(states={"UNDELIV": 1.0})))
        for _ in range(5):
            self.submit(self.link)
        self.advance(0)
        self.assertEqual([r.stat for r in self.link.sp.reports()], [b"UNDELIV"] * 5)

    def test_prefix_rule(self) -> None:
        """A prefix rule decides the Stat for matching destinations only."""
        rule = PrefixRule(prefix="1390000", stat="REJECTD")
        self.sim.set_policy(Policy(reports=ReportPolicy(rules=(rule,))))
        matching = self.submit(self.link, _submit("8613900001234")).msg_id
        other = self.submit(self.link, _submit(DEST)).msg_id
        self.advance(0)
        stats = {r.msg_id: r.stat for r in self.link.sp.reports()}
        self.assertEqual(stats, {matching: b"REJECTD", other: b"DELIVRD"})

    def test_report_retried_until_answered(self) -> None:
        """A report left unanswered is sent again after T, and counted once answered."""
        self.link.sp.skip = 1
        resp = self.submit(self.link)
        self.advance(5.0)
        self.assertEqual(len(self.link.sp.delivers), 1)
        self.assertEqual(self.sim.stats().get("delivered", 0), 0)
        self.advance(T_S - 0.1)
        self.assertEqual(len(self.link.sp.delivers), 1)
        self.advance(0.2)
        first, second = self.link.sp.delivers
        self.assertEqual(first, second)
        self.assertEqual(decode_report(second.msg_content).msg_id, resp.msg_id)
        self.assertEqual(self.sim.stats()["delivered"], 1)
        self.advance(10 * T_S)
        self.assertEqual(len(self.link.sp.delivers), 2)

    def test_report_kept_after_n_attempts(self) -> None:
        """A report unanswered N times is kept and sent again later."""
        self.link.sp.answer = False
        self.submit(self.link)
        self.advance(5.0)
        for _ in range(N):
            self.advance(T_S)
        self.assertEqual(len(self.link.sp.delivers), N)
        self.assertEqual(self.sim.stats()["deliver_retries"], 1)
        self.link.sp.answer = True
        self.advance(60)
        self.assertEqual(len(self.link.sp.delivers), N + 1)
        self.assertEqual(self.sim.stats()["delivered"], 1)

    def test_report_waits_for_a_session(self) -> None:
        """A report due while the SP is offline is delivered when it logs in again."""
        resp = self.submit(self.link)
        closed = self.link.client.terminate()
        self.flush()
        self.successResultOf(closed)
        self.advance(5.0)
        self.assertEqual(self.sim.stats()["accounts"][SP_ID]["outbox"], 1)
        again = self.logged_in()
        self.assertEqual([r.msg_id for r in again.sp.reports()], [resp.msg_id])

    def test_group_send_reports(self) -> None:
        """A SUBMIT to several numbers gets one report per number, Msg_Id + i."""
        dests = (b"13800000001", b"13800000002", b"13800000003")
        resp = self.submit(self.link, _submit(dest_terminal_ids=dests))
        self.advance(5.0)
        got = {r.dest_terminal_id: r.msg_id for r in self.link.sp.reports()}
        self.assertEqual(got, {d: resp.msg_id + i for i, d in enumerate(dests)})

    def test_submit_log(self) -> None:
        """The inspection API lists the SUBMIT with its account, Msg_Id and text."""
        resp = self.submit(self.link)
        [rec] = self.sim.submits(account=SP_ID, dest=DEST)
        self.assertEqual(rec["msg_id"], str(resp.msg_id))
        self.assertEqual((rec["account"], rec["dest"], rec["text"]), (SP_ID, [DEST], "验证码 1234"))
        self.assertEqual(self.sim.submits(account=OTHER_ID), [])
        self.assertEqual(self.sim.submits(dest="13900000000"), [])

    def test_active_test(self) -> None:
        """ACTIVE_TEST is answered and leaves the link bound."""
        self.successResultOf(self.send(self.link, p.ActiveTest()))
        self.assertTrue(self.link.server.bound)

    def test_deliver_from_sp_refused(self) -> None:
        """A DELIVER sent by the SP is answered with Result 2."""
        resp = self.successResultOf(self.send(self.link, p.Deliver(msg_id=5)))
        self.assertEqual((resp.msg_id, resp.result), (5, Result.COMMAND_ERROR))


class MoTests(_SimulatorTestCase):
    """MO injection arrives as DELIVER."""

    def setUp(self) -> None:
        super().setUp()
        self.link = self.logged_in()

    def test_short_mo(self) -> None:
        """A short MO is one DELIVER with Registered_Delivery 0 and the text."""
        result = self.successResultOf(self.sim.inject_mo(SP_ID, DEST, SRC, "TD"))
        self.assertEqual(result["segments"], 1)
        self.flush()
        [deliver] = self.link.sp.delivers
        self.assertEqual(deliver.registered_delivery, 0)
        self.assertEqual(deliver.src_terminal_id, DEST.encode())
        self.assertEqual(deliver.dest_id, SRC.encode())
        self.assertEqual(str(deliver.msg_id), result["msg_ids"][0])
        self.assertEqual(decode_text(deliver.msg_content, deliver.msg_fmt), "TD")

    def test_long_mo_reassembles(self) -> None:
        """A long MO arrives as several DELIVERs with UDH that Reassembler joins."""
        text = "您好，这是一条很长的上行短信，用来测试长短信的拆分与重组。" * 6
        result = self.successResultOf(self.sim.inject_mo(SP_ID, DEST, SRC, text))
        self.flush()
        delivers = self.link.sp.delivers
        self.assertGreater(len(delivers), 1)
        self.assertEqual(len(delivers), result["segments"])
        self.assertTrue(all(d.tp_udhi == 1 for d in delivers))
        reassembler = Reassembler()
        whole = [
            reassembler.add(
                (d.src_terminal_id, d.dest_id), d.msg_content, d.tp_udhi, d.msg_fmt, 0.0
            )
            for d in reversed(delivers)
        ]
        self.assertEqual(whole[:-1], [None] * (len(delivers) - 1))
        assert whole[-1] is not None
        self.assertEqual(whole[-1].text, text)

    def test_mo_counted_in_query(self) -> None:
        """An answered MO moves from mo_wt to mo_scs in QUERY."""
        self.sim.inject_mo(SP_ID, DEST, SRC, "TD")
        self.flush()
        resp = self.successResultOf(self.send(self.link, p.Query(time=TODAY)))
        self.assertEqual((resp.mo_scs, resp.mo_wt, resp.mo_fl), (1, 0, 0))

    def test_mo_for_offline_account(self) -> None:
        """An MO for an account with no session waits in its outbox."""
        self.sim.inject_mo(OTHER_ID, DEST, SRC, "TD")
        self.flush()
        self.assertEqual(self.link.sp.delivers, [])
        self.assertEqual(self.sim.stats()["accounts"][OTHER_ID]["outbox"], 1)
        other = self.logged_in(OTHER_ID)
        self.assertEqual(len(other.sp.delivers), 1)

    def test_unknown_account(self) -> None:
        """An MO for an unknown account raises KeyError."""
        self.assertRaises(KeyError, self.sim.inject_mo, "000000", DEST, SRC, "TD")

    def test_empty_content(self) -> None:
        """An MO with no content raises ValueError."""
        self.assertRaises(ValueError, self.sim.inject_mo, SP_ID, DEST, SRC, "")


class ProtocolCounterTests(_SimulatorTestCase):
    """``stats()`` counts per account and, within it, per protocol."""

    def test_per_protocol(self) -> None:
        """SUBMITs, reports, MOs and DELIVER answers count under the protocol they used."""
        link = self.logged_in()
        self.submit(link)
        self.advance(10)
        self.successResultOf(self.sim.inject_mo(SP_ID, DEST, SRC, "TD"))
        self.flush()
        accounts = self.sim.stats()["accounts"]
        self.assertEqual(
            accounts[SP_ID]["protocols"],
            {"cmpp2": {"sessions": 1, "submits": 1, "reports": 1, "mos": 1, "delivered": 2}},
        )
        self.assertEqual(accounts[OTHER_ID]["protocols"], {})

    def test_refused_and_sessions_gone(self) -> None:
        """A throttled SUBMIT counts under its protocol; the counts stay once the link is gone."""
        self.sim.set_policy(Policy(faults=FaultPolicy(throttle_tps=1)))
        link = self.logged_in()
        self.submit(link, _submit(report=False))
        self.submit(link, _submit(report=False))
        link.client.transport.loseConnection()  # type: ignore[union-attr]
        self.flush()
        [counters] = self.sim.stats()["accounts"][SP_ID]["protocols"].values()
        self.assertEqual(
            counters, {"sessions": 0, "submits": 1, "throttled": 1, "submits_refused": 1}
        )


class QueryCancelTests(_SimulatorTestCase):
    """CMPP_QUERY counters and CMPP_CANCEL (seed 002 §8.4.4, §8.4.6)."""

    def setUp(self) -> None:
        super().setUp()
        self.make_sim(policy=Policy(reports=ReportPolicy(delay_s=(10.0, 10.0))))
        self.link = self.logged_in()

    def query(self, query_type: int = 0, code: bytes = b"", day: bytes = TODAY) -> p.QueryResp:
        pdu = p.Query(time=day, query_type=query_type, query_code=code)
        resp: p.QueryResp = self.successResultOf(self.send(self.link, pdu))
        return resp

    def counters(self, resp: p.QueryResp) -> tuple[int, ...]:
        return (resp.mt_tlmsg, resp.mt_tlusr, resp.mt_scs, resp.mt_wt, resp.mt_fl)

    def test_totals(self) -> None:
        """3 SUBMITs with reports and 2 without: 5 messages, 3 waiting, 2 done."""
        for _ in range(3):
            self.submit(self.link)
        for _ in range(2):
            self.submit(self.link, _submit(report=False))
        resp = self.query()
        self.assertEqual((resp.time, resp.query_type), (TODAY, 0))
        self.assertEqual(self.counters(resp), (5, 5, 2, 3, 0))

    def test_totals_after_reports(self) -> None:
        """Once the reports are out, DELIVRD counts as success and UNDELIV as failure."""
        rule = PrefixRule(prefix="13900", stat="UNDELIV")
        self.sim.set_policy(Policy(reports=ReportPolicy(rules=(rule,))))
        self.submit(self.link)
        self.submit(self.link)
        self.submit(self.link, _submit("13900000001"))
        self.submit(self.link, _submit(report=False))
        self.advance(0)
        self.assertEqual(self.counters(self.query()), (4, 4, 3, 0, 1))

    def test_by_service_id(self) -> None:
        """Query_Type 1 counts only the given Service_Id."""
        self.submit(self.link)
        self.submit(self.link, _submit(service_id=b"OTHER", report=False))
        self.assertEqual(self.counters(self.query(1, b"OTHER")), (1, 1, 1, 0, 0))
        self.assertEqual(self.counters(self.query(1, b"TEST")), (1, 1, 0, 1, 0))
        self.assertEqual(self.counters(self.query(1, b"NONE")), (0, 0, 0, 0, 0))

    def test_other_day(self) -> None:
        """Another day's QUERY is all zeros."""
        self.submit(self.link)
        self.assertEqual(self.counters(self.query(day=b"20240304")), (0, 0, 0, 0, 0))

    def test_cancel_before_report(self) -> None:
        """CANCEL before the report: Success_Id 0 and no report is ever sent."""
        resp = self.submit(self.link)
        cancel = self.successResultOf(self.send(self.link, p.Cancel(resp.msg_id)))
        self.assertEqual(cancel.success_id, 0)
        self.advance(60)
        self.assertEqual(self.link.sp.delivers, [])
        self.assertEqual(self.sim.stats()["cancelled"], 1)
        self.assertEqual(self.sim.stats()["reports_pending"], 0)

    def test_cancel_after_report(self) -> None:
        """CANCEL after the report was sent: Success_Id 1."""
        resp = self.submit(self.link)
        self.advance(10)
        self.assertEqual(len(self.link.sp.delivers), 1)
        cancel = self.successResultOf(self.send(self.link, p.Cancel(resp.msg_id)))
        self.assertEqual(cancel.success_id, 1)

    def test_cancel_unknown(self) -> None:
        """CANCEL of a Msg_Id the simulator never issued: Success_Id 1."""
        cancel = self.successResultOf(self.send(self.link, p.Cancel(12345)))
        self.assertEqual(cancel.success_id, 1)


class FaultTests(_SimulatorTestCase):
    """Fault injection and validation."""

    def setUp(self) -> None:
        super().setUp()
        self.link = self.logged_in()

    def results(self, count: int) -> list[int]:
        return [self.submit(self.link).result for _ in range(count)]

    def test_throttle_tps(self) -> None:
        """Above FaultPolicy.throttle_tps SUBMITs get Result 8, and pass again later."""
        self.sim.set_policy(Policy(faults=FaultPolicy(throttle_tps=2)))
        self.assertEqual(self.results(3), [0, 0, Result.FLOW_CONTROL])
        self.assertEqual(self.sim.stats()["throttled"], 1)
        self.assertEqual(self.sim.stats()["submits"], 2)
        self.clock.advance(1.0)
        self.assertEqual(self.results(1), [0])

    def test_throttled_has_no_msg_id(self) -> None:
        """A throttled SUBMIT's response carries Msg_Id 0 and no report follows."""
        self.sim.set_policy(Policy(faults=FaultPolicy(throttle_tps=1)))
        self.submit(self.link)
        resp = self.submit(self.link)
        self.assertEqual((resp.msg_id, resp.result), (0, Result.FLOW_CONTROL))
        self.advance(1)
        self.assertEqual(len(self.link.sp.delivers), 1)

    def test_account_tps(self) -> None:
        """Above the account's tps SUBMITs get Result 8."""
        self.make_sim(Account(SP_ID, SECRET, tps=1))
        self.link = self.logged_in()
        self.assertEqual(self.results(2), [0, Result.FLOW_CONTROL])
        self.clock.advance(1.0)
        self.assertEqual(self.results(1), [0])

    def test_submit_result(self) -> None:
        """A forced submit_result is every SUBMIT's Result."""
        self.sim.set_policy(Policy(faults=FaultPolicy(submit_result=13)))
        resp = self.submit(self.link)
        self.assertEqual((resp.msg_id, resp.result), (0, 13))
        self.assertEqual(self.sim.submits(), [])
        self.assertEqual(self.sim.stats()["reports_pending"], 0)
        self.advance(60)
        self.assertEqual(self.link.sp.delivers, [])

    def test_drop_response(self) -> None:
        """With drop_response_ratio 1 the SUBMIT is never answered."""
        self.sim.set_policy(Policy(faults=FaultPolicy(drop_response_ratio=1)))
        d = self.send(self.link, _submit())
        self.assertNoResult(d)
        self.assertEqual(self.sim.stats()["responses_dropped"], 1)
        self.assertTrue(self.link.client.bound)

    def test_response_delay(self) -> None:
        """response_delay_s holds the SUBMIT_RESP back that long."""
        self.sim.set_policy(Policy(faults=FaultPolicy(response_delay_s=2.0)))
        d = self.send(self.link, _submit())
        self.advance(1.9)
        self.assertNoResult(d)
        self.advance(0.2)
        self.assertEqual(self.successResultOf(d).result, 0)

    def test_disconnect_after_pdus(self) -> None:
        """disconnect_after_pdus drops the link on that PDU, unanswered."""
        self.sim.set_policy(Policy(faults=FaultPolicy(disconnect_after_pdus=3)))
        self.assertEqual(self.results(1), [0])  # CONNECT was PDU 1
        d = self.send(self.link, _submit())
        self.failureResultOf(d)
        self.assertIs(self.link.client.state, State.CLOSED)
        self.assertIs(self.link.server.state, State.CLOSED)
        self.assertEqual(self.sim.stats()["sessions"], 0)
        self.assertEqual(self.sim.stats()["submits"], 1)

    def test_no_destination(self) -> None:
        """A SUBMIT with no destination gets Result 1."""
        resp = self.submit(self.link, _submit(dest_terminal_ids=()))
        self.assertEqual(resp.result, Result.STRUCTURE_ERROR)

    def test_too_many_destinations(self) -> None:
        """A SUBMIT to 101 numbers gets Result 1."""
        dests = tuple(b"138%08d" % i for i in range(101))
        resp = self.submit(self.link, _submit(dest_terminal_ids=dests))
        self.assertEqual(resp.result, Result.STRUCTURE_ERROR)

    def test_bad_pk_number(self) -> None:
        """Pk_Number above Pk_Total gets Result 1."""
        resp = self.submit(self.link, _submit(pk_total=2, pk_number=3))
        self.assertEqual(resp.result, Result.STRUCTURE_ERROR)

    def test_ucs2_too_long(self) -> None:
        """141 bytes of UCS2 content get Result 6; 140 are accepted."""
        long = self.submit(self.link, _submit(msg_fmt=8, msg_content=b"\x4e\x2d" * 70 + b"x"))
        self.assertEqual(long.result, Result.TOO_LONG)
        fits = self.submit(self.link, _submit(msg_fmt=8, msg_content=b"\x4e\x2d" * 70))
        self.assertEqual(fits.result, Result.OK)

    def test_ascii_limit(self) -> None:
        """ASCII content may be 159 bytes; 160 get Result 6."""
        fits = self.submit(self.link, _submit(msg_fmt=0, msg_content=b"a" * 159))
        long = self.submit(self.link, _submit(msg_fmt=0, msg_content=b"a" * 160))
        self.assertEqual((fits.result, long.result), (Result.OK, Result.TOO_LONG))

    def test_src_prefix(self) -> None:
        """A Src_Id outside the account's src_prefix gets Result 10."""
        self.make_sim(Account(SP_ID, SECRET, src_prefix="1065901"))
        self.link = self.logged_in()
        bad = self.submit(self.link, _submit(src_id=b"1065801234"))
        good = self.submit(self.link, _submit(src_id=b"106590123401"))
        self.assertEqual((bad.result, good.result), (Result.SRC_ID_ERROR, Result.OK))


class IsolationTests(_SimulatorTestCase):
    """A misbehaving SP does not disturb another session."""

    def test_silent_client(self) -> None:
        """A client that never answers DELIVER leaves another session's SUBMITs alone."""
        silent = self.logged_in()
        silent.sp.answer = False
        other = self.logged_in(OTHER_ID)
        for _ in range(5):
            self.submit(silent)
        for _ in range(N + 1):
            self.advance(T_S)
            self.assertEqual(self.submit(other, _submit(msg_src=OTHER_ID.encode())).result, 0)
        self.assertGreaterEqual(len(silent.sp.delivers), 5 * N)
        self.assertTrue(silent.server.bound)
        self.assertEqual(len(other.sp.delivers), 4)
        self.assertEqual(self.sim.stats()["accounts"][OTHER_ID]["delivered"], 4)

    def test_malformed_active_test_resp(self) -> None:
        """A malformed ACTIVE_TEST_RESP leaves its link and another session's SUBMITs alone."""
        self.make_sim(keepalive_s=30.0)
        rude = self.logged_in()
        other = self.logged_in(OTHER_ID)
        answered: list[int] = []
        respond = rude.client.respond

        def malformed_respond(pdu: object, sequence_id: Any) -> None:
            if type(pdu) is not p.ActiveTestResp:
                respond(pdu, sequence_id)
                return
            # A body of 3 bytes where ACTIVE_TEST_RESP has at most 1.
            frame = _frame(CommandId.ACTIVE_TEST_RESP, sequence_id, b"\x00\x01\x02")
            self.assertRaises(DecodeError, CMPP20.decode, frame)
            answered.append(sequence_id)
            assert rude.client.transport is not None
            rude.client.transport.write(frame)

        rude.client.respond = malformed_respond  # type: ignore[method-assign]
        self.advance(30.0)
        self.assertEqual(len(answered), 1)
        self.assertEqual(rude.server.dispatcher.in_flight, 0)
        self.assertEqual(self.submit(other).result, 0)
        self.assertEqual(self.submit(rude).result, 0)
        self.assertTrue(rude.server.bound)
        self.assertTrue(other.server.bound)

    def test_abrupt_close_keeps_others(self) -> None:
        """A client that drops its link leaves another session's SUBMITs alone."""
        gone = self.logged_in()
        other = self.logged_in(OTHER_ID)
        self.submit(gone)
        assert gone.client.transport is not None
        gone.client.transport.loseConnection()
        self.flush()
        self.assertEqual(self.sim.stats()["sessions"], 1)
        self.assertEqual(self.submit(other).result, 0)

    def test_handler_is_shared(self) -> None:
        """One handler serves every session of a factory."""
        first = self.logged_in()
        second = self.logged_in(OTHER_ID)
        self.assertIs(first.server.handler, second.server.handler)
        self.assertIsInstance(first.server.handler, CmppServerHandler)
