"""The fake ISMG: accounts, SUBMIT handling, reports, MOs, faults and counters.

One :class:`Simulator` holds the state a test bench inspects and steers
(through :mod:`smsgw.ismg.control`).  Each wire protocol is a *face* on it:
:class:`CmppServerHandler` (CMPP 2.0 and 3.0) here, SGIP in
:mod:`smsgw.ismg.sgip`, SMGP in :mod:`smsgw.ismg.smgp`.  A face turns its
SUBMIT into a protocol-neutral :class:`Mt`, asks :meth:`Simulator.check`
whether to accept it, and builds the protocol's report and MO PDUs; the
simulator keeps the accounts, the policy, the logs, the counters and the
report timers, and pushes DELIVERs (retrying until they are answered).
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import random
from collections import defaultdict, deque
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

import attrs
from twisted.internet.defer import Deferred, succeed
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
from smsgw.text.longsms import Part

#: How many SUBMITs the inspection API keeps (oldest dropped first).
SUBMIT_LOG_SIZE = 100_000
#: DELIVERs waiting for a session, per account and protocol, before the oldest is dropped.
OUTBOX_SIZE = 100_000
#: QUERY_RESP's counters (seed 002 §8.4.4.2).
_QUERY_COUNTERS = ("mt_tlmsg", "mt_tlusr", "mt_scs", "mt_wt", "mt_fl", "mo_scs", "mo_wt", "mo_fl")
#: Seconds between attempts to deliver to an account that has no live session.
REDELIVER_S = 5.0


@attrs.define
class Account:
    """An SP account on the simulator, shared by every protocol's listener.

    :ivar sgip_callback: SGIP only: the client endpoint of the SP's own
        server, where the simulator sends Deliver and Report (sgip12.md §2).
    """

    id: str
    secret: bytes
    max_sessions: int = 8
    allowed_ips: tuple[str, ...] = ()
    tps: float | None = None
    src_prefix: str = ""
    sgip_callback: str | None = None
    sessions: list[Session] = attrs.field(factory=list)
    bucket: TokenBucket | None = None
    outbox: dict[str, deque[Any]] = attrs.field(factory=dict)
    counters: dict[str, int] = attrs.field(factory=lambda: defaultdict(int))
    next_session: int = 0


@attrs.frozen
class Mt:
    """One SUBMIT as the simulator sees it, whatever the protocol.

    :ivar msg_id: the id the SP correlates reports with, in its JSON form
        (CMPP decimal, SGIP ``node-time-seq``, SMGP hex).
    :ivar report_keys: per destination, the value the face puts in that
        destination's report (CMPP: Msg_Id + i; SGIP: the Submit's sequence).
    """

    protocol: str
    msg_id: str
    src: str
    dests: tuple[str, ...]
    content: bytes
    msg_fmt: int
    tp_udhi: int = 0
    pk_total: int = 1
    pk_number: int = 1
    report: bool = False
    service_id: str = ""
    report_keys: tuple[Any, ...] = ()
    #: SGIP ReportFlag 0: report only when the message failed.
    report_failures_only: bool = False


class Refusal(enum.Enum):
    """Why :meth:`Simulator.check` refused an MT; each face maps it to its code."""

    STRUCTURE = "structure"
    TOO_LONG = "too_long"
    SRC_ID = "src_id"
    THROTTLED = "throttled"
    FORCED = "forced"


class Face(Protocol):
    """What the simulator needs from one protocol's listener."""

    protocol: str

    def report_pdu(
        self, account: Account, mt: Mt, index: int, stat: str, submitted: float, done: float
    ) -> object:
        """The PDU that reports *stat* for ``mt.dests[index]``."""

    def mo_pdus(self, account: Account, sender: str, to: str, segments: list[Part]) -> list[Any]:
        """The PDUs that carry an MO (one per segment)."""

    def live_sessions(self, account: Account) -> list[Session]:
        """Bound sessions of *account* that may carry reports and MOs."""

    def connect(self, account: Account) -> Deferred[Session] | None:
        """Open a link to the SP for reports and MOs (SGIP), or ``None``."""


def _day(epoch_s: float) -> bytes:
    """The Beijing day ``YYYYMMDD`` of *epoch_s* (QUERY's Time field)."""
    return _day_of_second(int(epoch_s))


@functools.lru_cache(maxsize=64)
def _day_of_second(second: int) -> bytes:
    return datetime.fromtimestamp(second, UTC).astimezone(BEIJING).strftime("%Y%m%d").encode()


def beijing(epoch_s: float, fmt: str) -> bytes:
    """*epoch_s* formatted in Beijing time, to the whole second (*fmt* has no ``%f``).

    Cached: every report carries two of these, and most share their second.
    """
    return _beijing_second(int(epoch_s), fmt)


@functools.lru_cache(maxsize=256)
def _beijing_second(second: int, fmt: str) -> bytes:
    return datetime.fromtimestamp(second, UTC).astimezone(BEIJING).strftime(fmt).encode()


def _render_submit(account: str, when: float, mt: Mt) -> dict[str, Any]:
    """One SUBMIT as the control API shows it (DESIGN.md §4.4)."""
    payload = mt.content
    udh = None
    if mt.tp_udhi & 0x41:
        try:
            _, payload = parse_udh(mt.content)
            udh = concat_info(mt.content, mt.tp_udhi)
        except ValueError:
            payload = mt.content
    return {
        "account": account,
        "protocol": mt.protocol,
        "msg_id": mt.msg_id,
        "src": mt.src,
        "dest": list(mt.dests),
        "service_id": mt.service_id,
        "text": decode_text(payload, mt.msg_fmt),
        "msg_fmt": mt.msg_fmt,
        "pk_total": mt.pk_total,
        "pk_number": mt.pk_number,
        "udh_reference": udh.reference if udh else None,
        "registered_delivery": 1 if mt.report else 0,
        "time": datetime.fromtimestamp(when, UTC).isoformat(),
    }


def _ip_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in allowed)


def text(data: bytes) -> str:
    """An octet-string field as text (numbers, codes)."""
    return data.decode("ascii", "replace")


@implementer(ISimulatorControl)
class Simulator:
    """State and behaviour of one fake carrier gateway.

    :param clock: reactor or ``Clock``; all delays run on it.
    :param accounts: the SP accounts it accepts (on every protocol).
    :param gateway_code: the ISMG code in CMPP Msg_Ids (``001001`` → 1001).
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
        self.gateway_code = gateway_code
        self.next_msg_id = MsgIdGenerator(gateway_code, clock.seconds)
        self.submit_log: deque[tuple[str, float, Mt]] = deque(maxlen=SUBMIT_LOG_SIZE)
        #: (protocol family, report id) → the timer that will send that report.
        self.pending_reports: dict[tuple[str, str], IDelayedCall] = {}
        #: (day, service id or b"") → QUERY_RESP counters.
        self.daily: dict[tuple[bytes, bytes], dict[str, int]] = defaultdict(
            lambda: defaultdict(int)
        )
        self.totals: dict[str, int] = defaultdict(int)
        self.faces: dict[str, Face] = {}
        #: ISMG-to-ISMG forwarding (:class:`smsgw.ismg.forward.Forwarder`), if set up.
        self.forwarder: Any = None
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
        handler = CmppServerHandler(self, "cmpp2")
        self.faces.setdefault("cmpp2", handler)
        return SessionFactory(
            lambda: CmppAdapter(codec), handler, config or SessionConfig(), self.clock
        )

    def cmpp3_factory(self, config: SessionConfig | None = None) -> SessionFactory:
        """CMPP 3.0 server sessions; a 2.0 client is answered as 2.0 (cmpp30.md)."""
        from smsgw.protocols.cmpp.negotiate import VersionedCmppAdapter

        handler = CmppServerHandler(self, "cmpp3")
        self.faces.setdefault("cmpp3", handler)
        return SessionFactory(VersionedCmppAdapter, handler, config or SessionConfig(), self.clock)

    def sgip_factory(self, node_id: int = 107551, config: SessionConfig | None = None) -> Any:
        """SGIP 1.2 server sessions (the SMG side)."""
        from smsgw.ismg.sgip import SgipFace

        face = SgipFace(self, node_id)
        self.faces["sgip"] = face
        return face.factory(config)

    def smgp_factory(self, smgw_code: int = 100610, config: SessionConfig | None = None) -> Any:
        """SMGP 3.0 server sessions (the SMGW side)."""
        from smsgw.ismg.smgp import SmgpFace

        face = SmgpFace(self, smgw_code)
        self.faces["smgp"] = face
        return face.factory(config)

    # -- ISimulatorControl ----------------------------------------------

    def submits(
        self, account: str | None = None, dest: str | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        out = [
            rec
            for rec in self.submit_log
            if (account is None or rec[0] == account) and (dest is None or dest in rec[2].dests)
        ]
        return [_render_submit(*rec) for rec in (out[-limit:] if limit else out)]

    def inject_mo(
        self,
        account: str | None,
        sender: str,
        to: str,
        content: str,
        protocol: str | None = None,
    ) -> Deferred[Any]:
        """Send an MO to *account*, over *protocol* or the one it is logged in with.

        With no *account*, the SP is found by its service code (*to* starts
        with the account's ``src_prefix``); an SP attached to another ISMG
        gets it forwarded (FWD type 1) when forwarding is set up.
        """
        if not content:
            raise ValueError("content is empty")
        if account is None:
            local = [
                a for a in self.accounts.values() if a.src_prefix and to.startswith(a.src_prefix)
            ]
            if local:
                account = local[0].id
            elif self.forwarder is not None:
                return self._forward_mo(sender, to, content)
            else:
                raise KeyError(to)
        acct = self.accounts[account]
        face = self._face_for(acct, protocol)
        fmt = choose_fmt(content)
        self._mo_reference = (self._mo_reference + 1) & 0xFF
        segments = split_text(content, fmt, self._mo_reference)
        pdus = face.mo_pdus(acct, sender, to, segments)
        self._count(acct, "mos")
        self.daily[_day(self.clock.seconds()), b""]["mo_wt"] += 1
        for pdu in pdus:
            self.deliver(acct, face, pdu)
        ids = [_json_msg_id(getattr(pdu, "msg_id", "")) for pdu in pdus]
        return succeed({"protocol": face.protocol, "segments": len(pdus), "msg_ids": ids})

    def _forward_mo(self, sender: str, to: str, content: str) -> Deferred[Any]:
        from twisted.internet.defer import FirstError, gatherResults

        self._mo_reference = (self._mo_reference + 1) & 0xFF
        segments = split_text(content, choose_fmt(content), self._mo_reference)
        forwarder = self.forwarder
        d = gatherResults(
            [forwarder.forward_mo(sender, to, s.content, s.msg_fmt, s.tp_udhi) for s in segments],
            consumeErrors=True,
        )
        # The first segment's own error (KeyError: no route), not FirstError.
        d.addErrback(lambda f: f.value.subFailure if isinstance(f.value, FirstError) else f)
        return d.addCallback(lambda rs: {"protocol": "fwd", "segments": len(rs), "forwarded": rs})

    def forwarding(self) -> dict[str, Any]:
        """Per-ISMG forwarding counters, or ``{"enabled": false}``."""
        if self.forwarder is None:
            return {"enabled": False}
        return {"enabled": True, **self.forwarder.stats()}

    def _face_for(self, account: Account, protocol: str | None) -> Face:
        if protocol is not None:
            try:
                return self.faces[protocol]
            except KeyError:
                raise ValueError(f"protocol {protocol!r} is not served here") from None
        for face in self.faces.values():
            if face.live_sessions(account):
                return face
        if not self.faces:
            raise ValueError("no listener is running")
        return next(iter(self.faces.values()))

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
            "protocols": sorted(self.faces),
            **self.totals,
            "accounts": {
                a.id: {
                    "sessions": len(a.sessions),
                    "outbox": sum(len(q) for q in a.outbox.values()),
                    **a.counters,
                }
                for a in self.accounts.values()
            },
        }

    # -- MT ------------------------------------------------------------

    def _count(self, account: Account, name: str, n: int = 1) -> None:
        account.counters[name] += n
        self.totals[name] += n

    def check(self, account: Account, mt: Mt) -> tuple[Refusal, int] | None:
        """``None`` to accept *mt*, else why not (and the forced code, if any)."""
        n = len(mt.dests)
        refusal = None
        if n == 0 or n > 100 or not 1 <= mt.pk_number <= mt.pk_total:
            refusal = Refusal.STRUCTURE
        elif len(mt.content) > (159 if mt.msg_fmt == 0 else 140):
            refusal = Refusal.TOO_LONG
        elif account.src_prefix and not mt.src.startswith(account.src_prefix):
            refusal = Refusal.SRC_ID
        elif (account.bucket is not None and not account.bucket.try_take()) or (
            self._throttle is not None and not self._throttle.try_take()
        ):
            refusal = Refusal.THROTTLED
            self._count(account, "throttled")
        elif self.policy.faults.submit_result:
            self._count(account, "submits_refused")
            return Refusal.FORCED, self.policy.faults.submit_result
        if refusal is not None:
            self._count(account, "submits_refused")
            return refusal, 0
        return None

    def fault_disconnect(self, session: Session) -> bool:
        """Apply the ``disconnect_after_pdus`` fault: True when *session* was dropped."""
        limit = self.policy.faults.disconnect_after_pdus
        if not limit or session.frames_received < limit:
            return False
        self.log.info("fault: dropping {peer} after {n} PDUs", peer=session.peer, n=limit)
        # loseConnection, not abortConnection: the answers to the PDUs
        # before the limit are already written and must still go out.
        session.transport.loseConnection()  # type: ignore[union-attr]
        return True

    def respond(self, account: Account, response: object) -> object | Deferred[Any] | None:
        """Apply the response faults (drop, delay) to a SUBMIT's response."""
        faults = self.policy.faults
        if faults.drop_response_ratio and self.rng.random() < faults.drop_response_ratio:
            self._count(account, "responses_dropped")
            return None
        if faults.response_delay_s:
            return deferLater(self.clock, faults.response_delay_s, lambda: response)
        return response

    def accept(self, account: Account, mt: Mt, face: Face) -> None:
        """Log an accepted MT, count it, and schedule its reports."""
        now = self.clock.seconds()
        # Rendered to JSON only when the control API asks (see submits()).
        self.submit_log.append((account.id, now, mt))
        self._count(account, "submits")
        n = len(mt.dests)
        day = _day(now)
        service = mt.service_id.encode("ascii", "replace")
        for key in ((day, b""), (day, service)):
            counters = self.daily[key]
            counters["mt_tlmsg"] += 1
            counters["mt_tlusr"] += n
            counters["mt_wt" if mt.report else "mt_scs"] += n
        forwarder = self.forwarder
        for index in range(n):
            if (
                forwarder is not None
                and mt.protocol.startswith("cmpp")
                and not forwarder.homes(mt.dests[index])
            ):
                forwarder.forward_mt(account, mt, index, face)
            elif mt.report:
                self._schedule_report(account, mt, index, face, now)

    def _schedule_report(
        self, account: Account, mt: Mt, index: int, face: Face, submitted: float
    ) -> None:
        reports = self.policy.reports
        stat = reports.draw_stat(mt.dests[index], self.rng)
        delay = reports.draw_delay(self.rng)
        ok = stat == "DELIVRD"
        key = (face.protocol[:4], str(mt.report_keys[index] if mt.report_keys else mt.msg_id))

        def send() -> None:
            self.pending_reports.pop(key, None)
            now = self.clock.seconds()
            day = _day(submitted)
            for k in ((day, b""), (day, mt.service_id.encode("ascii", "replace"))):
                counters = self.daily[k]
                counters["mt_wt"] -= 1
                counters["mt_scs" if ok else "mt_fl"] += 1
            if ok and mt.report_failures_only:
                return
            self._count(account, "reports")
            self.deliver(account, face, face.report_pdu(account, mt, index, stat, submitted, now))

        self.pending_reports[key] = self.clock.callLater(delay, send)

    def cancel(self, msg_id: int, family: str = "cmpp") -> bool:
        """Drop the report of *msg_id* if it has not been sent yet (CMPP_CANCEL)."""
        call = self.pending_reports.pop((family, str(msg_id)), None)
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

    # -- reports and MOs to the SP, retried until answered ---------------

    def deliver(self, account: Account, face: Face, pdu: Any) -> None:
        """Send *pdu* to one of *account*'s sessions of *face*, or keep it for later."""
        live = face.live_sessions(account)
        if live:
            account.next_session = (account.next_session + 1) % len(live)
            self._send(account, face, live[account.next_session], pdu)
            return
        outbox = account.outbox.setdefault(face.protocol, deque(maxlen=OUTBOX_SIZE))
        outbox.append(pdu)
        if len(outbox) == 1:
            connecting = face.connect(account)
            if connecting is not None:
                connecting.addCallbacks(
                    lambda _: self.flush(account, face),
                    lambda f: self._connect_failed(f, account, face),
                )

    def _send(self, account: Account, face: Face, session: Session, pdu: Any) -> None:
        d = session.send(pdu)
        d.addCallbacks(
            self._delivered,
            self._deliver_failed,
            callbackArgs=(account, pdu),
            errbackArgs=(account, face, pdu),
        )

    def _connect_failed(self, failure: Failure, account: Account, face: Face) -> None:
        self.log.warn("{protocol}: cannot reach {account}: {why}", protocol=face.protocol,
                      account=account.id, why=failure.getErrorMessage())  # fmt: skip
        self.clock.callLater(REDELIVER_S, self.flush, account, face)

    def _delivered(self, resp: Any, account: Account, pdu: Any) -> None:
        status = getattr(resp, "result", getattr(resp, "status", 0))
        is_mo = _is_mo(pdu)
        day = self.daily[_day(self.clock.seconds()), b""]
        if status != 0:
            self._count(account, "deliver_refused")
            if is_mo:
                day["mo_wt"] -= 1
                day["mo_fl"] += 1
            return
        self._count(account, "delivered")
        if is_mo:
            day["mo_wt"] -= 1
            day["mo_scs"] += 1

    def _deliver_failed(self, failure: Failure, account: Account, face: Face, pdu: Any) -> None:
        # Not answered (timeout after N attempts, or the link went away):
        # keep it for the next live session.
        self._count(account, "deliver_retries")
        outbox = account.outbox.setdefault(face.protocol, deque(maxlen=OUTBOX_SIZE))
        outbox.append(pdu)
        if len(outbox) == 1:
            self.clock.callLater(REDELIVER_S, self.flush, account, face)

    def flush(self, account: Account, face: Face) -> None:
        """Try again to deliver what waits in *account*'s outbox for *face*."""
        outbox = account.outbox.get(face.protocol)
        if not outbox:
            return
        pending = list(outbox)
        outbox.clear()
        for pdu in pending:
            self.deliver(account, face, pdu)

    # -- sessions --------------------------------------------------------

    def admit(self, account: Account, session: Session) -> int:
        """0 when *session* may log in to *account*; 2 for its IP, 5 for too many."""
        host = session.peer.rsplit(":", 1)[0]
        if account.allowed_ips and not _ip_allowed(host, account.allowed_ips):
            return 2
        if len(account.sessions) >= account.max_sessions:
            return 5
        return 0

    def session_bound(self, account: Account, session: Session, face: Face | None = None) -> None:
        account.sessions.append(session)
        self.totals["logins"] += 1
        for f in [face] if face is not None else list(self.faces.values()):
            if account.outbox.get(f.protocol):
                self.flush(account, f)

    def session_gone(self, session: Session) -> None:
        account = self.accounts.get(session.account) if session.account else None
        if account is not None and session in account.sessions:
            account.sessions.remove(session)


def _json_msg_id(msg_id: object) -> str:
    """A pushed PDU's message id as JSON shows it (DESIGN.md §4.3): SMGP's 10 bytes in hex."""
    return msg_id.hex() if isinstance(msg_id, bytes) else str(msg_id)


def _is_mo(pdu: Any) -> bool:
    """Whether a pushed PDU is an MO (not a report), for the QUERY counters."""
    if type(pdu) is p.Deliver:
        return pdu.registered_delivery == 0
    return bool(getattr(pdu, "is_mo", False)) or (
        type(pdu).__name__ == "Deliver" and not getattr(pdu, "is_report", 0)
    )


class CmppServerHandler:
    """The ISMG side of CMPP (2.0, or 3.0 with 2.0 clients answered as 2.0)."""

    log = Logger()

    def __init__(self, sim: Simulator, protocol: str = "cmpp2") -> None:
        self.sim = sim
        self.protocol = protocol

    # -- Face --------------------------------------------------------------

    def live_sessions(self, account: Account) -> list[Session]:
        return [s for s in account.sessions if s.bound and s.handler is self]

    def connect(self, account: Account) -> None:
        return None

    def report_pdu(
        self, account: Account, mt: Mt, index: int, stat: str, submitted: float, done: float
    ) -> p.Deliver:
        dest = mt.dests[index]
        msg_id = mt.report_keys[index]
        content = encode_report(
            p.Report(
                msg_id=msg_id,
                stat=stat.encode("ascii"),
                submit_time=beijing(submitted, "%y%m%d%H%M"),
                done_time=beijing(done, "%y%m%d%H%M"),
                dest_terminal_id=dest.encode("ascii"),
                smsc_sequence=msg_id & 0xFFFF,
            ),
            dest_width=32 if self.protocol == "cmpp3" else 21,
        )
        return p.Deliver(
            msg_id=self.sim.next_msg_id(),
            dest_id=mt.src.encode("ascii"),
            service_id=mt.service_id.encode("ascii"),
            src_terminal_id=dest.encode("ascii"),
            registered_delivery=1,
            msg_content=content,
        )

    def mo_pdus(
        self, account: Account, sender: str, to: str, segments: list[Part]
    ) -> list[p.Deliver]:
        return [
            p.Deliver(
                msg_id=self.sim.next_msg_id(),
                dest_id=to.encode("ascii"),
                tp_udhi=seg.tp_udhi,
                msg_fmt=seg.msg_fmt,
                src_terminal_id=sender.encode("ascii"),
                registered_delivery=0,
                msg_content=seg.content,
            )
            for seg in segments
        ]

    # -- SessionHandler ----------------------------------------------------

    def session_started(self, session: Session) -> None:
        self.log.info("{protocol} connection from {peer}", protocol=self.protocol,
                      peer=session.peer)  # fmt: skip

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        sim = self.sim
        if sim.fault_disconnect(session):
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
            return self._submit(session, pdu)
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

    _REFUSALS = {
        Refusal.STRUCTURE: Result.STRUCTURE_ERROR,
        Refusal.TOO_LONG: Result.TOO_LONG,
        Refusal.SRC_ID: Result.SRC_ID_ERROR,
        Refusal.THROTTLED: Result.FLOW_CONTROL,
    }

    def _submit(self, session: Session, pdu: p.Submit) -> Any:
        sim = self.sim
        account = sim.accounts[session.account]
        msg_id = sim.next_msg_id()
        mt = Mt(
            protocol=self.protocol if session.codec is not CMPP20 else "cmpp2",
            msg_id=str(msg_id),
            src=text(pdu.src_id),
            dests=tuple(text(d) for d in pdu.dest_terminal_ids),
            content=pdu.msg_content,
            msg_fmt=pdu.msg_fmt,
            tp_udhi=pdu.tp_udhi,
            pk_total=pdu.pk_total,
            pk_number=pdu.pk_number,
            report=pdu.registered_delivery == 1,
            service_id=text(pdu.service_id),
            # CMPP 2.1/3.0 group sends: the reports carry Msg_Id + i.
            report_keys=tuple(
                (msg_id + i) & 0xFFFFFFFFFFFFFFFF for i in range(len(pdu.dest_terminal_ids))
            ),
        )
        refused = sim.check(account, mt)
        if refused is None:
            sim.accept(account, mt, self)
            response = p.SubmitResp(msg_id, Result.OK)
        else:
            reason, forced = refused
            response = p.SubmitResp(0, forced or self._REFUSALS[reason])
        return sim.respond(account, response)

    def _connect(self, session: Session, header: Header, pdu: p.Connect) -> Any:
        sim = self.sim
        secrets = {a.id: a.secret for a in sim.accounts.values()}
        if self.protocol == "cmpp3":
            from smsgw.protocols.cmpp.negotiate import check_connect_negotiated

            check, codec = check_connect_negotiated(pdu, secrets)
            session.adapter.codec = codec  # type: ignore[attr-defined]
        else:
            check = check_connect(pdu, secrets)
        status = check.status
        account = sim.accounts.get(check.account or "")
        if status == 0 and account is not None:
            status = sim.admit(account, session)
        if status != 0 or account is None:
            self.log.warn(
                "refused CONNECT from {peer} for {account}: status {status}",
                peer=session.peer,
                account=text(pdu.source_addr),
                status=status,
            )
            response = attrs.evolve(check.response, status=status, authenticator_ismg=bytes(16))
            refuse(session, response, header.sequence_id)
            return None
        session.authenticated(account.id)
        sim.session_bound(account, session, self)
        self.log.info("{account} logged in from {peer}", account=account.id, peer=session.peer)
        return check.response

    def session_ended(self, session: Session, reason: Failure) -> None:
        self.sim.session_gone(session)


def demo_accounts() -> list[Account]:
    """The account a simulator started with no configuration serves."""
    return [Account("901234", b"123456")]
