"""An upstream account seen from the SP: N sessions, one TPS limit, any protocol.

:class:`Channel` keeps ``sessions`` links to one carrier gateway logged in
(each under a :class:`~twisted.application.internet.ClientService`, which
reconnects with back-off), spreads SUBMITs over them within the account's
TPS, backs off and retries on flow control and on link loss, and hands
every inbound DELIVER/Report/MO to callbacks, which must have stored it
before the response goes back ("persist, then acknowledge").  What differs
between protocols lives in :mod:`smsgw.sp.clients`, including the services a
protocol adds to its channel for links the carrier opens to the SP (SGIP's
own server, where the SMG delivers MOs and Reports: SGIP 1.2 §2).
It implements :class:`~smsgw.sp.interfaces.IChannel`, all the gateway and
the HTTP API see of it.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, cast

import attrs
from twisted.application.internet import ClientService, backoffPolicy
from twisted.application.service import MultiService
from twisted.internet.defer import (
    Deferred,
    DeferredList,
    maybeDeferred,
    succeed,
)
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.interfaces import ITCPTransport
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from smsgw.config import UpstreamConfig
from smsgw.protocols.dispatch import ResponseTimeout, SessionClosed
from smsgw.protocols.session import Session, SessionConfig, SessionFactory
from smsgw.ratelimit import TokenBucket
from smsgw.sp.clients import Client, Event, InboundResponder, client_for
from smsgw.sp.interfaces import Balance, IChannel, Link, SegmentResult
from smsgw.sp.tls import client_endpoint
from smsgw.text import choose_fmt, split_text
from smsgw.text.longsms import Part, PartLike

if TYPE_CHECKING:
    from smsgw.cluster import Coordinator, SharedBucket

#: Called with every inbound DELIVER, Report or UserRpt (and the link); may return a Deferred.
DeliverHandler = Callable[[Any, Session], Any]
#: Called with every inbound report or MO, normalised; may return a Deferred.
EventHandler = Callable[[Event], Any]

#: Failures after which a SUBMIT is tried again on another (or the next) link.
_LINK_FAILURES = (ConnectionLost, ConnectionDone, SessionClosed, ResponseTimeout)


def _ignore(pdu: Any, session: Session) -> None:
    """The default ``on_deliver``: nothing to do before ``on_event``."""


def _throttled(result: int) -> str:
    return f"flow control (result {result})"


class SubmitFailed(Exception):
    """A SUBMIT that could not be delivered to the gateway after every retry."""


__all__ = ["Channel", "CmppChannel", "SegmentResult", "SubmitFailed"]


class _InboundHandler(InboundResponder):
    """The channel's own links: inbound requests answered once stored, and the
    links' start and end reported to the channel."""

    def session_started(self, session: Session) -> None:
        self.channel._connected(session)

    def session_ended(self, session: Session, reason: Failure) -> None:
        self.channel._lost(session)


@implementer(IChannel)
class Channel(MultiService):
    """One upstream account: ``sessions`` logged-in links and a TPS limit.

    :param config: the parsed upstream URL.
    :param reactor: provides TCP and time.
    :param on_deliver: called with every inbound DELIVER (SGIP: Report, UserRpt); its result (or
        Deferred) must come after the PDU is safely stored.
    :param on_event: called with the normalised :class:`ReportEvent` or
        :class:`MoEvent`, under the same rule.
    :param name: the channel's name in logs and routing.
    :param coordinator: several nodes' shared state (:mod:`smsgw.cluster`): with
        one, the TPS limit is shared by every node and each link connects only
        while it holds one of the channel's ``sessions`` slots (receiver links
        have slots of their own, as they have ``sessions`` links of their own).
    """

    log = Logger()

    #: Back-off after a flow-control result: first delay, cap, factor.
    throttle_backoff_s = (0.05, 5.0, 2.0)
    #: Attempts of one SUBMIT across link failures and flow control.
    max_attempts = 8

    def __init__(
        self,
        config: UpstreamConfig,
        reactor: Any,
        on_deliver: DeliverHandler | None = None,
        *,
        name: str | None = None,
        endpoint: Any = None,
        on_event: EventHandler | None = None,
        coordinator: Coordinator | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.setName(name or config.name or f"{config.scheme}:{config.account}")
        self.reactor = reactor
        self.clock = reactor
        self.client: Client = client_for(config)
        self.on_deliver: DeliverHandler = on_deliver or _ignore
        self.on_event: EventHandler = on_event or (lambda event: None)
        #: The logged-in links (the sessions themselves, not ClientService's proxies).
        self.sessions: list[Session] = []
        #: Links connected and not logged in yet, by transport (see :meth:`_login`).
        self._connecting: dict[Any, Session] = {}
        self._next = 0
        self._stopping = False
        #: No new SUBMIT before this time: flow control (see _pause).
        self._paused_until = 0.0
        #: SUBMITs waiting for the pause to end, released first come first.
        self._gate: list[Deferred[None]] = []
        self._gate_call: Any = None
        self.bucket: TokenBucket | SharedBucket | None = None
        if config.tps and coordinator is not None:
            self.bucket = coordinator.bucket(self.name or "", config.tps)
        elif config.tps:
            self.bucket = TokenBucket(config.tps, clock=reactor.seconds)
        self.session_config = SessionConfig(
            window=config.window,
            response_timeout_s=config.response_timeout_s,
            attempts=config.retries,
            keepalive_s=config.keepalive_s,
        )
        self.session_config = attrs.evolve(
            self.session_config, **self.client.session_config_overrides()
        )
        self._waiting: list[Deferred[Session]] = []
        self._reference = itertools.count(1)
        #: Logins refused in a row; drives the reconnect back-off (see _login).
        self.login_failures = 0
        self._backoff = backoffPolicy(initialDelay=0.5, maxDelay=30.0)
        factory = SessionFactory(
            self.client.adapter, _InboundHandler(self), self.session_config, reactor
        )
        #: The receiver links (see Client.receiver_login): inbound only, never picked.
        self.receivers: list[Session] = []
        logins: list[tuple[Callable[[Session], Deferred[Any]], list[Session]]] = [
            (self.client.login, self.sessions)
        ]
        receiver_login = getattr(self.client, "receiver_login", None)
        if receiver_login is not None:
            logins.append((receiver_login, self.receivers))
        for (login, links), pool in zip(logins, ("links", "receivers"), strict=False):
            for _ in range(config.sessions):
                connect_to = endpoint or client_endpoint(reactor, config)
                if coordinator is not None:
                    leases = coordinator.leases(self.name or "", config.sessions, pool)
                    connect_to = leases.endpoint(connect_to)
                svc = ClientService(
                    connect_to,
                    factory,
                    retryPolicy=self._retry_delay,
                    clock=reactor,
                    prepareConnection=functools.partial(self._prepare, login, links),
                )
                svc.setServiceParent(self)
        # The client hook for links the carrier opens to us (SGIP's second
        # connection; later SMPP's outbind): whatever services the protocol
        # needs run under the channel, and deliver through inbound().
        services = getattr(self.client, "services", None)
        for extra in services(self) if services is not None else ():
            extra.setServiceParent(self)

    # -- links -------------------------------------------------------------

    def _retry_delay(self, failed_attempts: int) -> float:
        return float(self._backoff(max(failed_attempts, self.login_failures)))

    def _prepare(
        self, login: Callable[[Session], Deferred[Any]], links: list[Session], p: object
    ) -> Deferred[Any]:
        return self._login(cast(Session, p), login, links)

    def _connected(self, session: Session) -> None:
        self._connecting[session.transport] = session

    def _login(
        self,
        session: Session,
        login: Callable[[Session], Deferred[Any]] | None = None,
        links: list[Session] | None = None,
    ) -> Deferred[Any]:
        """``prepareConnection``: log in; a refused login closes the link itself.

        The returned Deferred never fails: ClientService (Twisted 26) cannot
        handle a connection that closes after its ``prepareConnection``
        failed (it logs an ``automat.NoTransition``), so a refusal is a
        connection that ends at once, and :meth:`_retry_delay` backs off by
        the count of refusals in a row.  Nor may ClientService be stopped
        while a login is in progress (see :meth:`stopService`).

        :param login: the client's ``login``, or its ``receiver_login``;
        :param links: where the logged-in link goes: :attr:`sessions`, or
            :attr:`receivers` for a receiver link.
        """
        login = login or self.client.login
        links = self.sessions if links is None else links

        def ok(resp: Any) -> None:
            self.login_failures = 0
            # ClientService hands over a proxy whose every attribute costs a
            # __getattr__ call; the SUBMIT path uses the session itself.
            link = self._connecting.pop(session.transport, session)
            links.append(link)
            kind = "links" if links is self.sessions else "receiver links"
            self.log.info("{channel}: logged in ({n} {kind})", channel=self.name,
                          n=len(links), kind=kind)  # fmt: skip
            if links is not self.sessions:
                return
            waiting, self._waiting = self._waiting, []
            for w in waiting:
                w.callback(link)

        def failed(f: Failure) -> None:
            if self._stopping:
                return None  # closed by stopService (see there)
            self.login_failures += 1
            self.log.error("{channel}: login failed ({n} in a row): {why}", channel=self.name,
                           n=self.login_failures, why=f.getErrorMessage())  # fmt: skip
            session.lose_connection()

        if self._stopping:
            if session.transport is not None:
                cast(ITCPTransport, session.transport).abortConnection()
            return succeed(None)
        return login(session).addCallbacks(ok, failed)

    def _lost(self, session: Session) -> None:
        self._connecting.pop(session.transport, None)
        if session in self.sessions:
            self.sessions.remove(session)
            self.log.warn("{channel}: link lost ({n} left)", channel=self.name,
                          n=len(self.sessions))  # fmt: skip
        elif session in self.receivers:
            self.receivers.remove(session)
            self.log.warn("{channel}: receiver link lost ({n} left)", channel=self.name,
                          n=len(self.receivers))  # fmt: skip

    def inbound(self, session: Session, pdu: Any) -> Any:
        """Hand an inbound request to the callbacks; answer it once they took it.

        :return: the response PDU (or a Deferred of it) for the session to send.
        """
        event = self.client.event(self.name or "", pdu)
        if self.on_deliver is _ignore:
            # The gateway's case, once per report: at most one Deferred, and
            # none when the callback stored the event before it returned.
            if event is None:
                return self.client.ack(pdu, True)
            try:
                result = self.on_event(event)
            except Exception:
                return self._not_stored(Failure(), pdu)
            if result is None:
                return self.client.ack(pdu, True)
            # A Deferred, a coroutine (an async callback) or a value: as maybeDeferred takes them.
            d = maybeDeferred(lambda: result)
        else:
            d = maybeDeferred(self.on_deliver, pdu, session)
            if event is not None:
                d.addCallback(lambda _: self.on_event(event))
        return d.addCallbacks(self._stored, self._not_stored, callbackArgs=(pdu,),
                              errbackArgs=(pdu,))  # fmt: skip

    def _stored(self, _: object, pdu: Any) -> object | None:
        return self.client.ack(pdu, True)

    def _not_stored(self, f: Failure, pdu: Any) -> object | None:
        # Not stored: say so, and the gateway will send it again later.
        self.log.failure("{channel}: inbound {pdu} not stored", f, channel=self.name,
                         pdu=type(pdu).__name__)  # fmt: skip
        return self.client.ack(pdu, False)

    def session(self) -> Deferred[Session]:
        """A logged-in link (the least busy), when there is one."""
        session = self._pick()
        if session is not None:
            return succeed(session)
        d: Deferred[Session] = Deferred(lambda d: self._waiting.remove(d))
        self._waiting.append(d)
        return d

    def _pick(self) -> Session | None:
        """The least busy logged-in link, taking turns among equals; None when there is none."""
        sessions = self.sessions
        n = len(sessions)
        if n == 1:
            only = sessions[0]
            return only if only.bound else None
        best = None
        load = 1 << 30
        start = self._next = (self._next + 1) % n if n else 0
        for i in range(n):
            s = sessions[(start + i) % n]
            if s.bound:
                d = s.dispatcher
                busy = d.in_flight + d.queued
                if busy < load:
                    best, load = s, busy
                    if not busy:
                        break
        return best

    def startService(self) -> None:
        self._stopping = False
        super().startService()

    def stopService(self) -> Deferred[None]:
        """Close the links still logging in, then terminate the others, then stop.

        ClientService (Twisted 26) has no transition for a stop during its
        ``prepareConnection``: stopping it then cancels the login, and
        whatever the login does next (succeed, fail) or the link's end is an
        ``automat.NoTransition``.  So links still logging in are closed
        first, which fails their login while ClientService still counts the
        connection as its own (it then waits to reconnect, and stops
        cleanly); new ones are closed as they come.
        """
        self._stopping = True
        return self._drain_logins().addCallback(lambda _: self._stop_links())

    def _drain_logins(self) -> Deferred[None]:
        pending = list(self._connecting.values())
        if not pending:
            return succeed(None)
        for session in pending:
            if session.transport is not None:
                cast(ITCPTransport, session.transport).abortConnection()
        return DeferredList([s.when_closed() for s in pending]).addCallback(
            lambda _: self._drain_logins()
        )

    def _stop_links(self) -> Deferred[None]:
        terminating = [s.terminate() for s in [*self.sessions, *self.receivers]]
        waiting, self._waiting = self._waiting, []
        for w in waiting:
            w.errback(SessionClosed("channel stopped"))
        d = DeferredList(terminating, consumeErrors=True)
        d.addBoth(lambda _: super(Channel, self).stopService())
        return d  # type: ignore[return-value]

    # -- IChannel ----------------------------------------------------------

    def segments(self, text: str) -> list[Part]:
        """*text* in UDH segments, in the Msg_Fmt it needs (GBK with ``charset=gbk``).

        A client with a ``segments(text, reference)`` of its own splits instead
        (SMPP counts GSM 03.38 septets).
        """
        split = getattr(self.client, "segments", None)
        if split is not None:
            return cast(list[Part], split(text, next(self._reference)))
        fmt = choose_fmt(text, prefer_gb=self.config.extra.prefer_gb)
        return split_text(text, fmt, next(self._reference) & 0xFF)

    def max_dests(self, report: bool) -> int:
        """1 with a report wanted (group sends carry no reports: seed 002), else 99.

        A client's own ``max_dests(report)`` says instead (SMPP: always 1).
        """
        own = getattr(self.client, "max_dests", None)
        if own is not None:
            return int(own(report))
        return 1 if report else 99

    def capacity(self) -> int:
        """Two windows per configured session."""
        return max(1, self.config.sessions * self.config.window * 2)

    def ready(self) -> bool:
        """Whether a link is logged in."""
        return bool(self.sessions)

    def links(self) -> list[Link]:
        """The logged-in links the channel opened, its receiver links included."""
        return [Link(s.peer) for s in [*self.sessions, *self.receivers]]

    def balance(self) -> Deferred[Balance]:
        """None of CMPP, SGIP and SMGP carries an account balance."""
        scheme = self.config.scheme
        return succeed(Balance(scheme, None, f"{scheme} has no balance query"))

    # -- sending -----------------------------------------------------------

    async def submit_with_id(
        self,
        pdu: Any,
        *,
        _attempts: int | None = None,
        _last: str = "no attempt",
        _throttled_first: bool = False,
    ) -> tuple[str, int, Any]:
        """Send one SUBMIT within the TPS limit; retry on flow control and link loss.

        :return: ``(msg id, result, response)``, the id normalised as text.
        :raises SubmitFailed: after :attr:`max_attempts`.
        """
        delay, cap, factor = self.throttle_backoff_s
        flow_control = self.client.flow_control
        last = _last
        if _throttled_first:
            # The first attempt (see _submit_once) was throttled: back off as below.
            await self._gate_opens()
            delay = min(cap, delay * factor)
        for _ in range(self.max_attempts if _attempts is None else _attempts):
            if self._gate or self.clock.seconds() < self._paused_until:
                await self._gate_opens()
            if self.bucket is not None:
                wait = self.bucket.delay_for(1.0)
                while wait > 0:
                    await deferLater(self.clock, wait, lambda: None)
                    wait = self.bucket.delay_for(1.0)
                self.bucket.try_take(1.0)
            session = self._pick() or await self.session()
            sent: list[Hashable] = []
            try:
                resp = await session.send(pdu, sent.append)
            except _LINK_FAILURES as e:
                last = self._not_answered(e)
                continue
            msg_id, result = self.client.outcome(resp, sent[0] if sent else None)
            if result not in flow_control:
                return msg_id, result, resp
            last = _throttled(result)
            self._pause(delay)
            await self._gate_opens()
            delay = min(cap, delay * factor)
        raise SubmitFailed(f"SUBMIT failed after {self.max_attempts} attempts: {last}")

    def _pause(self, delay: float) -> None:
        """Flow control: no new SUBMIT goes out for *delay* seconds.

        The throttled SUBMITs are sent again after the same back-off, in the
        order they were throttled, and SUBMITs that come meanwhile wait
        behind them instead of overtaking them on the link.
        """
        self._paused_until = max(self._paused_until, self.clock.seconds() + delay)
        left = self._paused_until - self.clock.seconds()
        if self._gate_call is not None and self._gate_call.active():
            self._gate_call.reset(left)
        else:
            self._gate_call = self.clock.callLater(left, self._open_gate)

    def _gate_opens(self) -> Deferred[None]:
        """Fires when the pause is over, after every SUBMIT that began waiting before this one.

        One timer releases the waiting SUBMITs in the order they came, so
        that their resends cannot swap places on a tie of two timers.
        """
        d: Deferred[None] = Deferred()
        self._gate.append(d)
        if self._gate_call is None or not self._gate_call.active():
            self._gate_call = self.clock.callLater(
                max(0.0, self._paused_until - self.clock.seconds()), self._open_gate
            )
        return d

    def _open_gate(self) -> None:
        left = self._paused_until - self.clock.seconds()
        if left > 0:
            self._gate_call = self.clock.callLater(left, self._open_gate)
            return
        self._gate_call = None
        waiting, self._gate = self._gate, []
        for d in waiting:
            d.callback(None)

    def _not_answered(self, e: BaseException) -> str:
        last = f"{type(e).__name__}: {e}"
        self.log.warn("{channel}: SUBMIT not answered ({why}); retrying",
                      channel=self.name, why=last)  # fmt: skip
        return last

    def _submit_once(self, job: _SubmitJob) -> None:
        """:meth:`submit_with_id` with its first attempt made without a coroutine.

        The SUBMIT hot path: when a link is up and the TPS limit allows, the
        SUBMIT goes out now with plain callables (:meth:`Session.send_then`,
        no Deferred until the job's own); anything else (no link, no token,
        flow control, a lost link) continues in :meth:`submit_with_id` with
        the attempts left, exactly as if it had run from the start.
        """
        session = self._pick()
        if (
            session is None
            or self._gate
            or self.clock.seconds() < self._paused_until
            or (self.bucket is not None and not self.bucket.try_take(1.0))
        ):
            job.continue_with(self.submit_with_id(job.pdu))
            return
        try:
            session.send_then(job.pdu, job.answered, job.failed, job.sent)
        except Exception:
            job.done.errback()  # as the coroutine would fail (e.g. a PDU that does not encode)

    async def submit(self, pdu: Any) -> Any:
        """Send one SUBMIT PDU as given; return the gateway's response PDU."""
        complete = getattr(self.client, "complete_submit", None)
        if complete is not None:
            pdu = complete(pdu)
        _, _, resp = await self.submit_with_id(pdu)
        return resp

    def submit_segment(
        self, dests: tuple[str, ...], segment: PartLike, *, report: bool = True, src_ext: str = ""
    ) -> Deferred[SegmentResult]:
        """SUBMIT one segment to *dests*; fire with its :class:`SegmentResult`."""
        src = (self.config.src_id or "") + src_ext
        job = _SubmitJob(self, self.client.submit_pdu(dests, segment, report=report, src=src))
        job.dests = dests
        job.segment = segment
        self._submit_once(job)
        return job.done

    def submit_text(
        self,
        dests: list[str],
        text: str,
        *,
        report: bool = True,
        src_ext: str = "",
    ) -> Deferred[list[SegmentResult]]:
        """Split *text*, SUBMIT every segment to *dests*; fire with every segment's result.

        With a report wanted, each destination gets its own SUBMIT (seed 002:
        group sends carry no reports); otherwise up to 99 per SUBMIT.
        """
        segments = self.segments(text)
        size = self.max_dests(report)
        groups = [tuple(dests[i : i + size]) for i in range(0, len(dests), size)]
        jobs = [
            self.submit_segment(group, seg, report=report, src_ext=src_ext)
            for group in groups
            for seg in segments
        ]
        results = DeferredList(jobs, fireOnOneErrback=True, consumeErrors=True)
        results.addCallback(lambda rs: [r for _, r in rs])

        def first_failure(f: Failure) -> Failure:
            sub = getattr(f.value, "subFailure", None)
            return sub if isinstance(sub, Failure) else f

        results.addErrback(first_failure)
        return results  # type: ignore[return-value]


class _SubmitJob:
    """One SUBMIT's first attempt on the hot path: its callbacks, without a Deferred chain.

    :attr:`done` is the only Deferred: it fires with the
    :class:`SegmentResult` (for :meth:`Channel.submit_segment`).  Flow
    control and a lost link hand the rest of the attempts to
    :meth:`Channel.submit_with_id`.
    """

    __slots__ = ("channel", "dests", "done", "pdu", "segment", "sequence")

    def __init__(self, channel: Channel, pdu: Any) -> None:
        self.channel = channel
        self.pdu = pdu
        self.sequence: Hashable | None = None
        self.dests: tuple[str, ...] = ()
        self.segment: PartLike | None = None
        self.done: Deferred[SegmentResult] = Deferred()

    def sent(self, sequence: Hashable) -> None:
        if self.sequence is None:
            self.sequence = sequence

    def answered(self, resp: Any) -> None:
        channel = self.channel
        msg_id, result = channel.client.outcome(resp, self.sequence)
        if result not in channel.client.flow_control:
            self.finish((msg_id, result, resp))
            return
        channel._pause(channel.throttle_backoff_s[0])
        self.continue_with(
            channel.submit_with_id(
                self.pdu,
                _attempts=channel.max_attempts - 1,
                _last=_throttled(result),
                _throttled_first=True,
            )
        )

    def failed(self, f: Failure) -> None:
        if f.check(*_LINK_FAILURES) is None:
            self.done.errback(f)
            return
        channel = self.channel
        last = channel._not_answered(cast(BaseException, f.value))
        self.continue_with(
            channel.submit_with_id(self.pdu, _attempts=channel.max_attempts - 1, _last=last)
        )

    def continue_with(self, attempts: Any) -> None:
        Deferred.fromCoroutine(attempts).addCallbacks(self.finish, self.done.errback)

    def finish(self, outcome: tuple[str, int, Any]) -> None:
        segment = self.segment
        assert segment is not None
        _, result, _ = outcome
        name = getattr(self.channel.client, "result_name", None)
        self.done.callback(
            SegmentResult(
                self.dests,
                segment.pk_number,
                segment.pk_total,
                outcome[0],
                result,
                reason=f"result {result} ({name(result)})" if result and name is not None else "",
            )
        )


#: The name issue 3 introduced; a CMPP channel is a :class:`Channel` with a CMPP client.
CmppChannel = Channel
