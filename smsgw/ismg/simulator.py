"""The fake ISMG: accounts, SUBMIT handling, reports, MOs, faults and counters.

One :class:`Simulator` holds the state a test bench inspects and steers
(through :mod:`smsgw.ismg.control`); :class:`CmppServerHandler` is its
CMPP face on the session engine.  SGIP and SMGP listeners (issue 5) will be
further faces of the same object.
"""

from __future__ import annotations

import functools
import ipaddress
import random
from collections import defaultdict, deque
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import attrs
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from smsgw.interfaces import ISimulatorControl
from smsgw.ismg.policy import Policy
from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.auth import BEIJING
from smsgw.protocols.cmpp.codec import CMPP20, encode_report
from smsgw.protocols.cmpp.constants import Result
from smsgw.protocols.cmpp.msgid import MsgIdGenerator
from smsgw.protocols.cmpp.session import CmppAdapter, check_connect, refuse
from smsgw.protocols.codec import Header, ProtocolCodec
from smsgw.protocols.session import Session, SessionConfig, SessionFactory
from smsgw.ratelimit import TokenBucket
from smsgw.text import choose_fmt, concat_info, decode_text, parse_udh, split_text

#: How many SUBMITs the inspection API keeps (oldest dropped first).
SUBMIT_LOG_SIZE = 100_000
#: DELIVERs waiting for a session, per account, before the oldest is dropped.
OUTBOX_SIZE = 100_000
#: QUERY_RESP's counters (seed 002 §8.4.4.2).
_QUERY_COUNTERS = ("mt_tlmsg", "mt_tlusr", "mt_scs", "mt_wt", "mt_fl", "mo_scs", "mo_wt", "mo_fl")
#: Seconds between attempts to deliver to an account that has no live session.
REDELIVER_S = 5.0


@attrs.define
class Account:
    """An SP account on the simulator."""

    id: str
    secret: bytes
    max_sessions: int = 8
    allowed_ips: tuple[str, ...] = ()
    tps: float | None = None
    src_prefix: str = ""
    sessions: list[Session] = attrs.field(factory=list)
    bucket: TokenBucket | None = None
    outbox: deque[p.Deliver] = attrs.field(factory=lambda: deque(maxlen=OUTBOX_SIZE))
    counters: dict[str, int] = attrs.field(factory=lambda: defaultdict(int))
    next_session: int = 0


def _day(epoch_s: float) -> bytes:
    """The Beijing day ``YYYYMMDD`` of *epoch_s* (QUERY's Time field)."""
    return _day_of_second(int(epoch_s))


@functools.lru_cache(maxsize=64)
def _day_of_second(second: int) -> bytes:
    return datetime.fromtimestamp(second, UTC).astimezone(BEIJING).strftime("%Y%m%d").encode()


def _minute(epoch_s: float) -> bytes:
    return datetime.fromtimestamp(epoch_s, UTC).astimezone(BEIJING).strftime("%y%m%d%H%M").encode()


def _render_submit(account: str, msg_id: int, when: float, pdu: p.Submit) -> dict[str, Any]:
    """One SUBMIT as the control API shows it (DESIGN.md §4.4)."""
    payload = pdu.msg_content
    udh = None
    if pdu.tp_udhi & 0x41:
        try:
            _, payload = parse_udh(pdu.msg_content)
            udh = concat_info(pdu.msg_content, pdu.tp_udhi)
        except ValueError:
            payload = pdu.msg_content
    return {
        "account": account,
        "protocol": "cmpp2",
        "msg_id": str(msg_id),
        "src": _text(pdu.src_id),
        "dest": [_text(d) for d in pdu.dest_terminal_ids],
        "service_id": _text(pdu.service_id),
        "text": decode_text(payload, pdu.msg_fmt),
        "msg_fmt": pdu.msg_fmt,
        "pk_total": pdu.pk_total,
        "pk_number": pdu.pk_number,
        "udh_reference": udh.reference if udh else None,
        "registered_delivery": pdu.registered_delivery,
        "time": datetime.fromtimestamp(when, UTC).isoformat(),
    }


def _ip_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in allowed)


def _text(data: bytes) -> str:
    return data.decode("ascii", "replace")


@implementer(ISimulatorControl)
class Simulator:
    """State and behaviour of one fake ISMG.

    :param clock: reactor or ``Clock``; all delays run on it.
    :param accounts: the SP accounts it accepts.
    :param gateway_code: the ISMG code in its Msg_Ids (``001001`` → 1001).
    :param policy: reports and faults; replaced through :meth:`set_policy`.
    :param rng: the random source for report states, delays and drops.
    """

    log = Logger()

    def __init__(
        self,
        clock: IReactorTime,
        accounts: Iterable[Account],
        *,
        gateway_code: int = 1001,
        policy: Policy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.clock = clock
        self.accounts = {a.id: a for a in accounts}
        self.policy = policy or Policy()
        self.rng = rng or random.Random()
        self.next_msg_id = MsgIdGenerator(gateway_code, clock.seconds)
        self.submit_log: deque[tuple[str, int, float, p.Submit]] = deque(maxlen=SUBMIT_LOG_SIZE)
        self.pending_reports: dict[int, IDelayedCall] = {}
        #: (day, service id or b"") → QUERY_RESP counters.
        self.daily: dict[tuple[bytes, bytes], dict[str, int]] = defaultdict(
            lambda: defaultdict(int)
        )
        self.totals: dict[str, int] = defaultdict(int)
        self._throttle: TokenBucket | None = None
        self._mo_reference = self.rng.randrange(256)
        for account in self.accounts.values():
            if account.tps:
                account.bucket = TokenBucket(account.tps, clock=clock.seconds)
        self.set_policy(self.policy)

    # -- listeners -----------------------------------------------------

    def cmpp_factory(
        self, config: SessionConfig | None = None, codec: ProtocolCodec = CMPP20
    ) -> SessionFactory:
        """A factory for CMPP 2.0 server sessions on this simulator."""
        handler = CmppServerHandler(self)
        return SessionFactory(
            lambda: CmppAdapter(codec), handler, config or SessionConfig(), self.clock
        )

    # -- ISimulatorControl ----------------------------------------------

    def submits(
        self, account: str | None = None, dest: str | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        wanted = dest.encode("ascii", "replace") if dest is not None else None
        out = [
            rec
            for rec in self.submit_log
            if (account is None or rec[0] == account)
            and (wanted is None or wanted in rec[3].dest_terminal_ids)
        ]
        return [_render_submit(*rec) for rec in (out[-limit:] if limit else out)]

    def inject_mo(self, account: str, sender: str, to: str, content: str) -> Deferred[Any]:
        acct = self.accounts[account]
        if not content:
            raise ValueError("content is empty")
        fmt = choose_fmt(content)
        self._mo_reference = (self._mo_reference + 1) & 0xFF
        ids = []
        for seg in split_text(content, fmt, self._mo_reference):
            msg_id = self.next_msg_id()
            ids.append(str(msg_id))
            deliver = p.Deliver(
                msg_id=msg_id,
                dest_id=to.encode("ascii"),
                tp_udhi=seg.tp_udhi,
                msg_fmt=seg.msg_fmt,
                src_terminal_id=sender.encode("ascii"),
                registered_delivery=0,
                msg_content=seg.content,
            )
            self._count(acct, "mos")
            self.daily[_day(self.clock.seconds()), b""]["mo_wt"] += 1
            self._deliver(acct, deliver)
        d: Deferred[Any] = Deferred()
        d.callback({"segments": len(ids), "msg_ids": ids})
        return d

    def get_policy(self) -> dict[str, Any]:
        return self.policy.to_json()

    def set_policy(self, policy: Policy) -> None:
        self.policy = policy
        tps = policy.faults.throttle_tps
        self._throttle = TokenBucket(tps, clock=self.clock.seconds) if tps else None

    def stats(self) -> dict[str, Any]:
        return {
            "sessions": sum(len(a.sessions) for a in self.accounts.values()),
            "reports_pending": len(self.pending_reports),
            **self.totals,
            "accounts": {
                a.id: {"sessions": len(a.sessions), "outbox": len(a.outbox), **a.counters}
                for a in self.accounts.values()
            },
        }

    # -- behaviour -----------------------------------------------------

    def _count(self, account: Account, name: str, n: int = 1) -> None:
        account.counters[name] += n
        self.totals[name] += n

    def submit(self, session: Session, pdu: p.Submit) -> p.SubmitResp | Deferred[Any] | None:
        """Accept (or refuse) one SUBMIT; schedule its reports."""
        account: Account = self.accounts[session.account]
        faults = self.policy.faults
        result = self._validate(account, pdu)
        if result == Result.OK and (
            (account.bucket is not None and not account.bucket.try_take())
            or (self._throttle is not None and not self._throttle.try_take())
        ):
            result = Result.FLOW_CONTROL
            self._count(account, "throttled")
        if result == Result.OK and faults.submit_result:
            result = faults.submit_result
        msg_id = self.next_msg_id() if result == Result.OK else 0
        if result == Result.OK:
            self._accept(account, pdu, msg_id)
        else:
            self._count(account, "submits_refused")
        response = p.SubmitResp(msg_id, result)
        if faults.drop_response_ratio and self.rng.random() < faults.drop_response_ratio:
            self._count(account, "responses_dropped")
            return None
        if faults.response_delay_s:
            return deferLater(self.clock, faults.response_delay_s, lambda: response)
        return response

    def _validate(self, account: Account, pdu: p.Submit) -> int:
        n = len(pdu.dest_terminal_ids)
        if n == 0 or n > 100 or not 1 <= pdu.pk_number <= pdu.pk_total:
            return Result.STRUCTURE_ERROR
        limit = 159 if pdu.msg_fmt == 0 else 140
        if len(pdu.msg_content) > limit:
            return Result.TOO_LONG
        if pdu.registered_delivery not in (0, 1, 2):
            return Result.STRUCTURE_ERROR
        if account.src_prefix and not pdu.src_id.decode("ascii", "replace").startswith(
            account.src_prefix
        ):
            return Result.SRC_ID_ERROR
        return Result.OK

    def _accept(self, account: Account, pdu: p.Submit, msg_id: int) -> None:
        now = self.clock.seconds()
        # Rendered to JSON only when the control API asks (see submits()).
        self.submit_log.append((account.id, msg_id, now, pdu))
        self._count(account, "submits")
        n = len(pdu.dest_terminal_ids)
        day = _day(now)
        reported = pdu.registered_delivery == 1
        for key in ((day, b""), (day, pdu.service_id)):
            counters = self.daily[key]
            counters["mt_tlmsg"] += 1
            counters["mt_tlusr"] += n
            counters["mt_wt" if reported else "mt_scs"] += n
        if reported:
            for i, dest in enumerate(pdu.dest_terminal_ids):
                # CMPP 2.1/3.0 group sends: the reports carry Msg_Id + i.
                self._schedule_report(account, pdu, (msg_id + i) & (2**64 - 1), _text(dest), now)

    def _schedule_report(
        self, account: Account, pdu: p.Submit, msg_id: int, dest: str, submitted: float
    ) -> None:
        reports = self.policy.reports
        stat = reports.draw_stat(dest, self.rng)
        delay = reports.draw_delay(self.rng)

        def send() -> None:
            del self.pending_reports[msg_id]
            now = self.clock.seconds()
            content = encode_report(
                p.Report(
                    msg_id=msg_id,
                    stat=stat.encode("ascii"),
                    submit_time=_minute(submitted),
                    done_time=_minute(now),
                    dest_terminal_id=dest.encode("ascii"),
                    smsc_sequence=msg_id & 0xFFFF,
                )
            )
            deliver = p.Deliver(
                msg_id=self.next_msg_id(),
                dest_id=pdu.src_id,
                service_id=pdu.service_id,
                src_terminal_id=dest.encode("ascii"),
                registered_delivery=1,
                msg_content=content,
            )
            ok = stat == "DELIVRD"
            for key in ((_day(submitted), b""), (_day(submitted), pdu.service_id)):
                day = self.daily[key]
                day["mt_wt"] -= 1
                day["mt_scs" if ok else "mt_fl"] += 1
            self._count(account, "reports")
            self._deliver(account, deliver)

        self.pending_reports[msg_id] = self.clock.callLater(delay, send)

    def cancel(self, msg_id: int) -> bool:
        """Drop the report of *msg_id* if it has not been sent yet."""
        call = self.pending_reports.pop(msg_id, None)
        if call is None:
            return False
        call.cancel()
        self.totals["cancelled"] += 1
        return True

    def query(self, pdu: p.Query) -> p.QueryResp:
        """CMPP_QUERY: the day's counters, totals or for one Service_Id."""
        code = pdu.query_code if pdu.query_type == 1 else b""
        day = self.daily.get((pdu.time, code), {})
        return p.QueryResp(
            time=pdu.time,
            query_type=pdu.query_type,
            query_code=pdu.query_code,
            **{k: max(0, day.get(k, 0)) for k in _QUERY_COUNTERS},
        )

    # -- DELIVER to the SP, retried until answered -----------------------

    def _deliver(self, account: Account, deliver: p.Deliver) -> None:
        live = [s for s in account.sessions if s.bound]
        if not live:
            account.outbox.append(deliver)
            return
        account.next_session = (account.next_session + 1) % len(live)
        session = live[account.next_session]
        d = session.send(deliver)
        d.addCallbacks(
            self._delivered,
            self._deliver_failed,
            callbackArgs=(account, deliver),
            errbackArgs=(account, deliver),
        )

    def _delivered(self, resp: p.DeliverResp, account: Account, deliver: p.Deliver) -> None:
        is_mo = deliver.registered_delivery == 0
        if resp.result != 0:
            self._count(account, "deliver_refused")
            if is_mo:
                self.daily[_day(self.clock.seconds()), b""]["mo_wt"] -= 1
                self.daily[_day(self.clock.seconds()), b""]["mo_fl"] += 1
            return
        self._count(account, "delivered")
        if is_mo:
            self.daily[_day(self.clock.seconds()), b""]["mo_wt"] -= 1
            self.daily[_day(self.clock.seconds()), b""]["mo_scs"] += 1

    def _deliver_failed(self, failure: Failure, account: Account, deliver: p.Deliver) -> None:
        # Not answered (timeout after N attempts, or the link went away):
        # keep it for the next live session.
        self._count(account, "deliver_retries")
        account.outbox.append(deliver)
        self.clock.callLater(REDELIVER_S, self._flush, account)

    def _flush(self, account: Account) -> None:
        pending = list(account.outbox)
        account.outbox.clear()
        for deliver in pending:
            self._deliver(account, deliver)

    # -- sessions --------------------------------------------------------

    def admit(self, account: Account, session: Session) -> int:
        """0 when *session* may log in to *account*; else the CONNECT status."""
        host = session.peer.rsplit(":", 1)[0]
        if account.allowed_ips and not _ip_allowed(host, account.allowed_ips):
            return 2
        if len(account.sessions) >= account.max_sessions:
            return 5
        return 0

    def session_bound(self, account: Account, session: Session) -> None:
        account.sessions.append(session)
        self.totals["logins"] += 1
        if account.outbox:
            self._flush(account)

    def session_gone(self, session: Session) -> None:
        account = self.accounts.get(session.account) if session.account else None
        if account is not None and session in account.sessions:
            account.sessions.remove(session)


class CmppServerHandler:
    """The ISMG side of CMPP 2.0 on the session engine."""

    log = Logger()

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def session_started(self, session: Session) -> None:
        self.log.info("CMPP connection from {peer}", peer=session.peer)

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        sim = self.sim
        limit = sim.policy.faults.disconnect_after_pdus
        if limit and session.frames_received >= limit:
            self.log.info("fault: dropping {peer} after {n} PDUs", peer=session.peer, n=limit)
            session.transport.abortConnection()  # type: ignore[union-attr]
            return None
        kind = type(pdu)
        if not session.bound:
            if kind is not p.Connect:
                self.log.warn("closing {peer}: {pdu} before CONNECT", peer=session.peer,
                              pdu=kind.__name__)  # fmt: skip
                session.transport.loseConnection()  # type: ignore[union-attr]
                return None
            return self._connect(session, header, pdu)
        if kind is p.Submit:
            return sim.submit(session, pdu)
        if kind is p.Query:
            return sim.query(pdu)
        if kind is p.Cancel:
            return p.CancelResp(0 if sim.cancel(pdu.msg_id) else 1)
        if kind is p.Connect:
            return p.ConnectResp(status=1)
        if kind is p.Deliver:
            return p.DeliverResp(pdu.msg_id, Result.COMMAND_ERROR)
        self.log.warn("{peer}: {pdu} is not served on this port", peer=session.peer,
                      pdu=kind.__name__)  # fmt: skip
        return None

    def _connect(self, session: Session, header: Header, pdu: p.Connect) -> Any:
        sim = self.sim
        secrets = {a.id: a.secret for a in sim.accounts.values()}
        check = check_connect(pdu, secrets)
        status = check.status
        account = sim.accounts.get(check.account or "")
        if status == 0 and account is not None:
            status = sim.admit(account, session)
        if status != 0 or account is None:
            self.log.warn(
                "refused CONNECT from {peer} for {account}: status {status}",
                peer=session.peer,
                account=_text(pdu.source_addr),
                status=status,
            )
            refuse(session, p.ConnectResp(status, version=check.response.version),
                   header.sequence_id)  # fmt: skip
            return None
        session.authenticated(account.id)
        sim.session_bound(account, session)
        self.log.info("{account} logged in from {peer}", account=account.id, peer=session.peer)
        return check.response

    def session_ended(self, session: Session, reason: Failure) -> None:
        self.sim.session_gone(session)


def demo_accounts() -> list[Account]:
    """The account a simulator started with no configuration serves."""
    return [Account("901234", b"123456")]
