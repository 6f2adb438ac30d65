"""The fake ISMG: accounts, SUBMIT handling, reports, MOs, faults and counters.

One :class:`Simulator` holds the state a test bench inspects and steers
(through :mod:`smsgw.ismg.control`).  Each wire protocol is a *face* on it,
in that protocol's folder (``smsgw/protocols/<name>/face.py``), whose
listener the registry's :class:`~smsgw.protocols.registry.SimListener`
builds and adds to :attr:`Simulator.faces`.  A face turns its SUBMIT into a
protocol-neutral :class:`~smsgw.ismg.model.Mt`, asks :meth:`Simulator.check`
whether to accept it, and builds the protocol's report and MO PDUs; the
simulator keeps the accounts, the policy, the logs, the counters and the
report timers, and pushes DELIVERs (retrying until they are answered).
"""

from __future__ import annotations

import ipaddress
import random
from collections import OrderedDict, defaultdict, deque
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from smsgw.config.policy import Policy
from smsgw.config.triggers import Trigger
from smsgw.interfaces import ISimulatorControl
from smsgw.ismg.model import Account, Face, Mt, Refusal, beijing, beijing_day, text
from smsgw.ismg.timers import DueCalls
from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.msgid import MsgIdGenerator
from smsgw.protocols.errors import DecodeError
from smsgw.protocols.session import Session
from smsgw.ratelimit import TokenBucket
from smsgw.text import choose_fmt, concat_info, decode_text, parse_udh, split_text

#: The model's names stay importable from here.
__all__ = [
    "Account",
    "Face",
    "Mt",
    "Refusal",
    "Simulator",
    "beijing",
    "demo_accounts",
    "text",
]

#: How many SUBMITs the inspection API keeps (oldest dropped first).
SUBMIT_LOG_SIZE = 100_000
#: DELIVERs waiting for a session, per account and protocol, before the oldest is dropped.
OUTBOX_SIZE = 100_000
#: QUERY_RESP's counters (seed 002 §8.4.4.2).
_QUERY_COUNTERS = ("mt_tlmsg", "mt_tlusr", "mt_scs", "mt_wt", "mt_fl", "mo_scs", "mo_wt", "mo_fl")
#: Seconds between attempts to deliver to an account that has no live session.
REDELIVER_S = 5.0


def _render_submit(account: str, when: float, mt: Mt) -> dict[str, Any]:
    """One SUBMIT as the control API shows it."""
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
        #: The reports waiting for their delay, keyed by (protocol family, report id).
        self.pending_reports = DueCalls(clock, after_run=self._release_writes)
        #: Links whose writes are held while the reports due in one timer run go out.
        self._held: list[Session] = []
        #: (protocol family, report id) → the report's Stat (``DELETED`` when
        #: cancelled) and when it was decided, for :meth:`report_state`.
        self.outcomes: OrderedDict[tuple[str, str], tuple[str, float]] = OrderedDict()
        #: (day, service id or b"") → QUERY_RESP counters.
        self.daily: dict[tuple[bytes, bytes], dict[str, int]] = defaultdict(
            lambda: defaultdict(int)
        )
        self.totals: dict[str, int] = defaultdict(int)
        #: (account id, protocol) → that account's counters on that protocol.
        self.by_protocol: dict[tuple[str, str], dict[str, int]] = defaultdict(
            lambda: defaultdict(int)
        )
        self.faces: dict[str, Face] = {}
        #: ISMG-to-ISMG forwarding (:class:`smsgw.ismg.forward.Forwarder`), if set up.
        self.forwarder: Any = None
        #: The HTTP vendors played (:class:`smsgw.ismg.vendors.VendorHub`), if set up.
        self.vendors: Any = None
        self._throttle: TokenBucket | None = None
        self._mo_reference = self.rng.randrange(256)
        for account in self.accounts.values():
            if account.tps:
                account.bucket = TokenBucket(account.tps, clock=clock.seconds)
        self.set_policy(self.policy)

    # -- ISimulatorControl ----------------------------------------------

    def submits(
        self, account: str | None = None, dest: str | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        out = [
            rec
            for rec in self.submit_log
            if (account is None or rec[0] == account) and (dest is None or dest in rec[2].dests)
        ]
        return [self._render(*rec) for rec in (out[-limit:] if limit else out)]

    def _render(self, account: str, when: float, mt: Mt) -> dict[str, Any]:
        """One SUBMIT as JSON; a face with ``submit_text`` (SMPP's GSM 03.38) decodes its text."""
        out = _render_submit(account, when, mt)
        text_of = getattr(self.faces.get(mt.protocol), "submit_text", None)
        if text_of is not None:
            out["text"] = text_of(mt)
        return out

    def inject_mo(
        self,
        account: str | None,
        sender: str,
        to: str,
        content: str,
        protocol: str | None = None,
        long: str | None = None,
    ) -> Deferred[Any]:
        """Send an MO to *account*, over *protocol* or the one it is logged in with.

        With no *account*, the SP is found by its service code (*to* starts
        with the account's ``src_prefix``); an SP attached to another ISMG
        gets it forwarded (FWD type 1) when forwarding is set up.

        :param long: how a long MO is carried, one of the face's
            ``mo_long_forms`` (SMPP: ``udh``, ``sar``, ``payload``); ``None``
            for the face's own choice.
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
        vendor = (
            None if protocol is None or self.vendors is None else self.vendors.vendor_for(protocol)
        )
        if vendor is not None:
            return succeed(self.vendors.inject_mo(vendor, account, sender, to, content))
        face = self._face_for(acct, protocol)
        if long is not None and long not in getattr(face, "mo_long_forms", ()):
            raise ValueError(f"{face.protocol} has no long-message form {long!r}")
        pdus = self._send_mo(acct, face, sender, to, content, long)
        ids = [_json_msg_id(getattr(pdu, "msg_id", "")) for pdu in pdus]
        return succeed({"protocol": face.protocol, "segments": len(pdus), "msg_ids": ids})

    def _send_mo(
        self,
        account: Account,
        face: Face,
        sender: str,
        to: str,
        content: str,
        long: str | None = None,
    ) -> list[Any]:
        """Split *content* into MO PDUs of *face* and deliver them to *account*."""
        fmt = choose_fmt(content)
        self._mo_reference = (self._mo_reference + 1) & 0xFF
        segments = split_text(content, fmt, self._mo_reference)
        if long is None:
            pdus = face.mo_pdus(account, sender, to, segments)
        else:
            pdus = face.mo_pdus(account, sender, to, segments, long=long)  # type: ignore[call-arg]
        self._count(account, "mos", protocol=face.protocol)
        self.daily[beijing_day(self.clock.seconds()), b""]["mo_wt"] += 1
        for pdu in pdus:
            self.deliver(account, face, pdu)
        return pdus

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

    def vendors_info(self) -> dict[str, Any]:
        return {"vendors": self.vendors.stats() if self.vendors is not None else {}}

    def stats(self) -> dict[str, Any]:
        """The counters: totals, and per account (and per protocol within an account)."""
        return {
            "sessions": sum(len(a.sessions) for a in self.accounts.values()),
            "reports_pending": len(self.pending_reports),
            "protocols": sorted(self.faces),
            "vendors": sorted(self.vendors.vendors) if self.vendors is not None else [],
            **self.totals,
            "accounts": {
                a.id: {
                    "sessions": len(a.sessions),
                    "outbox": sum(len(q) for q in a.outbox.values()),
                    **a.counters,
                    "protocols": self._protocol_stats(a),
                }
                for a in self.accounts.values()
            },
        }

    def _protocol_stats(self, account: Account) -> dict[str, dict[str, int]]:
        """*account*'s counters per protocol, with its bound sessions on each face."""
        out: dict[str, dict[str, int]] = {}
        for name, face in self.faces.items():
            sessions = len(face.live_sessions(account))
            if sessions:
                out[name] = {"sessions": sessions}
        for (account_id, protocol), counters in self.by_protocol.items():
            if account_id == account.id:
                out.setdefault(protocol, {"sessions": 0}).update(counters)
        return dict(sorted(out.items()))

    # -- MT ------------------------------------------------------------

    def _count(self, account: Account, name: str, n: int = 1, *, protocol: str = "") -> None:
        account.counters[name] += n
        self.totals[name] += n
        if protocol:
            self.by_protocol[account.id, protocol][name] += n

    def count(self, account: Account | None, name: str, n: int = 1, *, protocol: str = "") -> None:
        """Add *n* to *account*'s counter *name* and to the totals (only those without one).

        :param protocol: also count it under this protocol of *account*
            (``cmpp2``, ``sgip``, ``http:NAME``...); ``""`` for none.
        """
        if account is None:
            self.totals[name] += n
        else:
            self._count(account, name, n, protocol=protocol)

    def policy_throttled(self) -> bool:
        """Take one request from the ``throttle_tps`` fault's budget: True when none is left."""
        return self._throttle is not None and not self._throttle.try_take()

    def trigger_for(self, account: Account, dests: Iterable[str]) -> Trigger | None:
        """The trigger deciding a SUBMIT's response: the first of *dests* that matches one.

        (Each destination's report and MO reply follow its own trigger.)
        """
        policy = self.policy
        if not policy.triggers:
            return None
        for dest in dests:
            trigger = policy.trigger_for(account.id, dest)
            if trigger is not None:
                return trigger
        return None

    def check(self, account: Account, mt: Mt) -> tuple[Refusal, int] | None:
        """``None`` to accept *mt*, else why not (and the forced code, if any).

        A matching trigger (:meth:`trigger_for`) replaces the faults'
        ``throttle_tps`` and ``submit_result``; the structure checks and the
        account's own ``tps`` still come first.
        """
        n = len(mt.dests)
        refusal = None
        if n == 0 or n > 100 or not 1 <= mt.pk_number <= mt.pk_total:
            refusal = Refusal.STRUCTURE
        elif len(mt.content) > (mt.max_content or (159 if mt.msg_fmt == 0 else 140)):
            refusal = Refusal.TOO_LONG
        elif account.src_prefix and not mt.src.startswith(account.src_prefix):
            refusal = Refusal.SRC_ID
        elif account.bucket is not None and not account.bucket.try_take():
            refusal = Refusal.THROTTLED
        elif (trigger := self.trigger_for(account, mt.dests)) is not None:
            self._count(account, "triggered", protocol=mt.protocol)
            if trigger.throttle:
                refusal = Refusal.THROTTLED
            elif trigger.result or trigger.nack:
                # A nacked SUBMIT is refused too: the response built is replaced by
                # the nack (respond()), so its code only has to be non-zero.
                self._count(account, "submits_refused", protocol=mt.protocol)
                return Refusal.FORCED, trigger.result or 1
        elif self._throttle is not None and not self._throttle.try_take():
            refusal = Refusal.THROTTLED
        elif self.policy.faults.submit_result:
            self._count(account, "submits_refused", protocol=mt.protocol)
            return Refusal.FORCED, self.policy.faults.submit_result
        if refusal is Refusal.THROTTLED:
            self._count(account, "throttled", protocol=mt.protocol)
        if refusal is not None:
            self._count(account, "submits_refused", protocol=mt.protocol)
            return refusal, 0
        return None

    def fault_disconnect(self, session: Session) -> bool:
        """Apply the ``disconnect_after_pdus`` fault: True when *session* was dropped."""
        limit = self.policy.faults.disconnect_after_pdus
        if not limit or session.frames_received < limit:
            return False
        self.log.info("fault: dropping {peer} after {n} PDUs", peer=session.peer, n=limit)
        # Not abortConnection: the answers to the PDUs before the limit are
        # written (or held for this read's write) and must still go out.
        session.lose_connection()
        return True

    def respond(
        self,
        account: Account,
        response: object,
        *,
        mt: Mt | None = None,
        session: Session | None = None,
    ) -> object | Deferred[Any] | None:
        """Apply a trigger, else the response faults (drop, delay), to a SUBMIT's response.

        :param mt: the SUBMIT answered, to find its trigger (:meth:`trigger_for`).
        :param session: the link it came on, which a ``close`` trigger closes.
        :returns: the response, a Deferred of it, or ``None`` for no answer.
        """
        if mt is not None and (trigger := self.trigger_for(account, mt.dests)) is not None:
            return self._triggered_response(account, trigger, response, mt.protocol, session)
        faults = self.policy.faults
        if faults.drop_response_ratio and self.rng.random() < faults.drop_response_ratio:
            self._count(account, "responses_dropped")
            return None
        if faults.response_delay_s:
            return deferLater(self.clock, faults.response_delay_s, lambda: response)
        return response

    def _triggered_response(
        self,
        account: Account,
        trigger: Trigger,
        response: object,
        protocol: str,
        session: Session | None,
    ) -> object | Deferred[Any] | None:
        if trigger.close:
            self._count(account, "links_closed", protocol=protocol)
            if session is not None and session.transport is not None:
                self.log.info("trigger: closing {peer} instead of answering", peer=session.peer)
                session.lose_connection()
            return None
        if trigger.no_response:
            self._count(account, "responses_dropped", protocol=protocol)
            return None
        if trigger.terminate:
            # The SUBMIT is accepted but not answered: the link ends with the
            # protocol's own terminate request (SMPP unbind, CMPP_TERMINATE),
            # with the peer's window still open.
            self._count(account, "links_terminated", protocol=protocol)
            if session is not None and session.transport is not None:
                self.log.info("trigger: terminating {peer} instead of answering",
                              peer=session.peer)  # fmt: skip
                session.terminate()
            return None
        if trigger.nack:
            self._count(account, "responses_nacked", protocol=protocol)
            return self._nack(trigger, session)
        if trigger.response_delay_s:
            return deferLater(self.clock, trigger.response_delay_s, lambda: response)
        return response

    def _nack(self, trigger: Trigger, session: Session | None) -> object | None:
        """The protocol's answer to a request it cannot read (SMPP generic_nack).

        It carries the trigger's ``result`` (else the protocol's "unknown
        command"); a protocol with no such answer has its link closed.
        """
        if session is None:
            return None
        error = DecodeError("nack trigger", status=trigger.result or None)
        nack = session.adapter.error_response(error)
        if nack is None:
            session.lose_connection()
        return nack

    def accept(self, account: Account, mt: Mt, face: Face) -> None:
        """Log an accepted MT, count it, and schedule its reports."""
        now = self.clock.seconds()
        # Rendered to JSON only when the control API asks (see submits()).
        self.submit_log.append((account.id, now, mt))
        self._count(account, "submits", protocol=mt.protocol)
        n = len(mt.dests)
        day = beijing_day(now)
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
                continue
            trigger = self.policy.trigger_for(account.id, mt.dests[index])
            if mt.report:
                self._schedule_report(account, mt, index, face, now, trigger)
            if trigger is not None and trigger.mo_reply is not None and mt.pk_number == 1:
                self.clock.callLater(trigger.mo_delay_s, self._send_mo, account, face,
                                     mt.dests[index], mt.src, trigger.mo_reply)  # fmt: skip

    def _schedule_report(
        self,
        account: Account,
        mt: Mt,
        index: int,
        face: Face,
        submitted: float,
        trigger: Trigger | None = None,
    ) -> None:
        """Send ``mt.dests[index]``'s report after a delay; *trigger* may fix both or forbid it."""
        reports = self.policy.reports
        if trigger is not None and trigger.no_report:
            self._count(account, "reports_withheld", protocol=face.protocol)
            return
        if trigger is not None and trigger.stat is not None:
            stat = trigger.stat
        else:
            stat = reports.draw_stat(mt.dests[index], self.rng)
        if trigger is not None and trigger.report_delay_s is not None:
            delay = trigger.report_delay_s
        else:
            delay = reports.draw_delay(self.rng)
        key = (face.protocol[:4], str(mt.report_keys[index] if mt.report_keys else mt.msg_id))
        self.pending_reports.call_later(
            delay, key, self._report_due, key, account, mt, index, face, stat, submitted
        )

    def _report_due(
        self,
        key: tuple[str, str],
        account: Account,
        mt: Mt,
        index: int,
        face: Face,
        stat: str,
        submitted: float,
    ) -> None:
        """A report's delay is over: count its outcome and send it."""
        now = self.clock.seconds()
        self._decided(key, stat, now)
        ok = stat == "DELIVRD"
        day = beijing_day(submitted)
        for k in ((day, b""), (day, mt.service_id.encode("ascii", "replace"))):
            counters = self.daily[k]
            counters["mt_wt"] -= 1
            counters["mt_scs" if ok else "mt_fl"] += 1
        if ok and mt.report_failures_only:
            return
        self._count(account, "reports", protocol=face.protocol)
        self.deliver(account, face, face.report_pdu(account, mt, index, stat, submitted, now))

    def cancel(self, msg_id: int | str, family: str = "cmpp") -> bool:
        """Drop the report of *msg_id* if it has not been sent yet (CMPP_CANCEL, cancel_sm)."""
        key = (family, str(msg_id))
        if not self.pending_reports.cancel(key):
            return False
        self.totals["cancelled"] += 1
        self._decided(key, "DELETED", self.clock.seconds())
        return True

    def _decided(self, key: tuple[str, str], stat: str, when: float) -> None:
        self.outcomes[key] = (stat, when)
        if len(self.outcomes) > SUBMIT_LOG_SIZE:
            self.outcomes.popitem(last=False)

    def report_state(self, msg_id: int | str, family: str) -> tuple[str, float | None] | None:
        """Where a report of *msg_id* stands (SMPP query_sm): from the real timers and outcomes.

        :returns: ``("ENROUTE", None)`` while its report waits, ``(stat, when)``
            once sent (``DELETED`` once cancelled), ``None`` when unknown (no
            report was asked, or it is too old).
        """
        key = (family, str(msg_id))
        if key in self.pending_reports:
            return "ENROUTE", None
        return self.outcomes.get(key)

    def replace_logged(self, old: Mt, new: Mt) -> bool:
        """Put *new* in place of *old* in the SUBMIT log (SMPP replace_sm); False if gone."""
        for i in range(len(self.submit_log) - 1, -1, -1):
            account, when, mt = self.submit_log[i]
            if mt is old:
                self.submit_log[i] = (account, when, new)
                return True
        return False

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
        if self.pending_reports.running and session.hold_writes():
            # The reports due in this timer run leave in one write per link.
            self._held.append(session)
        delivery = _Delivery(self, account, face, pdu)
        session.send_then(pdu, delivery.answered, delivery.failed)

    def _release_writes(self) -> None:
        held, self._held = self._held, []
        for session in held:
            session.release_writes()

    def _connect_failed(self, failure: Failure, account: Account, face: Face) -> None:
        self.log.warn("{protocol}: cannot reach {account}: {why}", protocol=face.protocol,
                      account=account.id, why=failure.getErrorMessage())  # fmt: skip
        self.clock.callLater(REDELIVER_S, self.flush, account, face)

    def _delivered(self, resp: Any, account: Account, face: Face, pdu: Any) -> None:
        # CMPP Result, SGIP/SMGP Status, SMPP command_status.
        status = getattr(resp, "result", getattr(resp, "status", None))
        if status is None:
            status = getattr(resp, "command_status", 0)
        is_mo = _is_mo(pdu)
        day = self.daily[beijing_day(self.clock.seconds()), b""]
        if status != 0:
            self._count(account, "deliver_refused", protocol=face.protocol)
            if is_mo:
                day["mo_wt"] -= 1
                day["mo_fl"] += 1
            return
        self._count(account, "delivered", protocol=face.protocol)
        if is_mo:
            day["mo_wt"] -= 1
            day["mo_scs"] += 1

    def _deliver_failed(self, failure: Failure, account: Account, face: Face, pdu: Any) -> None:
        # Not answered (timeout after N attempts, or the link went away):
        # keep it for the next live session.
        self._count(account, "deliver_retries", protocol=face.protocol)
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
        """0 when *session* may log in to *account*; 2 for its IP, 5 for too many.

        Each refusal counts in ``logins_refused``.
        """
        host = session.peer.rsplit(":", 1)[0]
        code = 0
        if account.allowed_ips and not _ip_allowed(host, account.allowed_ips):
            code = 2
        elif len(account.sessions) >= account.max_sessions:
            code = 5
        if code:
            self._count(account, "logins_refused")
        return code

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
    """A pushed PDU's message id as JSON shows it: SMGP's 10 bytes in hex."""
    return msg_id.hex() if isinstance(msg_id, bytes) else str(msg_id)


class _Delivery:
    """One report or MO on its way to the SP: :meth:`Simulator._send`'s callbacks."""

    __slots__ = ("account", "face", "pdu", "sim")

    def __init__(self, sim: Simulator, account: Account, face: Face, pdu: Any) -> None:
        self.sim, self.account, self.face, self.pdu = sim, account, face, pdu

    def answered(self, resp: Any) -> None:
        self.sim._delivered(resp, self.account, self.face, self.pdu)

    def failed(self, failure: Failure) -> None:
        self.sim._deliver_failed(failure, self.account, self.face, self.pdu)


def _is_mo(pdu: Any) -> bool:
    """Whether a pushed PDU is an MO (not a report), for the QUERY counters."""
    if type(pdu) is p.Deliver:
        return pdu.registered_delivery == 0
    if type(pdu).__name__ == "DeliverSm":
        # SMPP: message type 0 in esm_class bits 5-2 is an MO, 0x04 a receipt.
        return not getattr(pdu, "esm_class", 0) & 0x3C
    return bool(getattr(pdu, "is_mo", False)) or (
        type(pdu).__name__ == "Deliver" and not getattr(pdu, "is_report", 0)
    )


def demo_accounts() -> list[Account]:
    """The account a simulator started with no configuration serves."""
    return [Account("901234", b"123456")]
