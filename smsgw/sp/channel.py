"""An upstream CMPP account seen from the SP: N sessions, one TPS limit.

:class:`CmppChannel` keeps ``sessions`` links to one ISMG logged in (each
under a :class:`~twisted.application.internet.ClientService`, which
reconnects with back-off), spreads SUBMITs over them within the account's
TPS, backs off and retries on flow control (Result 8) and on link loss, and
hands every inbound DELIVER (status reports and MOs) to a callback, which
must have stored it before the DELIVER_RESP goes back.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import attrs
from twisted.application.internet import ClientService, backoffPolicy
from twisted.application.service import MultiService
from twisted.internet.defer import Deferred, DeferredList, maybeDeferred
from twisted.internet.endpoints import HostnameEndpoint
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsgw.config import UpstreamConfig
from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.constants import Result
from smsgw.protocols.cmpp.session import CmppAdapter, login
from smsgw.protocols.codec import Header
from smsgw.protocols.dispatch import ResponseTimeout, SessionClosed
from smsgw.protocols.session import Session, SessionConfig, SessionFactory
from smsgw.ratelimit import TokenBucket
from smsgw.text import choose_fmt, split_text

#: What an inbound DELIVER is handed to; may return a Deferred (store first).
DeliverHandler = Callable[[p.Deliver, Session], Any]

#: Failures after which a SUBMIT is tried again on another (or the next) link.
_LINK_FAILURES = (ConnectionLost, ConnectionDone, SessionClosed, ResponseTimeout)


class SubmitFailed(Exception):
    """A SUBMIT that could not be delivered to the ISMG after every retry."""


@attrs.frozen
class SegmentResult:
    """What the ISMG answered for one segment (one SUBMIT)."""

    dest: tuple[str, ...]
    pk_number: int
    pk_total: int
    msg_id: int
    result: int


class _ClientHandler:
    """The SP side of a CMPP link: answer DELIVERs once the channel took them."""

    def __init__(self, channel: CmppChannel) -> None:
        self.channel = channel

    def session_started(self, session: Session) -> None:
        pass

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        if type(pdu) is p.Deliver:
            d = maybeDeferred(self.channel.on_deliver, pdu, session)
            d.addCallbacks(
                lambda _: p.DeliverResp(pdu.msg_id, 0),
                lambda f: self.channel._deliver_not_taken(f, pdu),
            )
            return d
        self.channel.log.warn("{peer}: unexpected {pdu}", peer=session.peer,
                              pdu=type(pdu).__name__)  # fmt: skip
        return None

    def session_ended(self, session: Session, reason: Failure) -> None:
        self.channel._lost(session)


class CmppChannel(MultiService):
    """One upstream CMPP 2.0 account: ``sessions`` logged-in links and a TPS limit.

    :param config: the parsed upstream URL.
    :param reactor: provides TCP and time (a ``MemoryReactorClock`` in tests).
    :param on_deliver: called with every DELIVER; its result (or Deferred)
        must come after the DELIVER is safely stored.
    :param name: the channel's name in logs and routing.
    """

    log = Logger()

    #: Back-off after Result 8 (flow control): first delay, cap, factor.
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
    ) -> None:
        super().__init__()
        self.config = config
        self.setName(name or f"{config.scheme}:{config.account}@{config.host}:{config.port}")
        self.reactor = reactor
        self.clock: IReactorTime = reactor
        self.on_deliver: DeliverHandler = on_deliver or (lambda d, s: None)
        self.sessions: list[Session] = []
        self.bucket = TokenBucket(config.tps, clock=reactor.seconds) if config.tps else None
        self.session_config = SessionConfig(
            window=config.window,
            response_timeout_s=config.response_timeout_s,
            attempts=config.retries,
            keepalive_s=config.keepalive_s,
        )
        self._waiting: list[Deferred[Session]] = []
        self._reference = itertools.count(1)
        self._next = 0
        factory = SessionFactory(CmppAdapter, _ClientHandler(self), self.session_config, reactor)
        for _ in range(config.sessions):
            ep = endpoint or HostnameEndpoint(reactor, config.host, config.port)
            svc = ClientService(
                ep,
                factory,
                retryPolicy=backoffPolicy(initialDelay=0.5, maxDelay=30.0),
                clock=reactor,
                prepareConnection=self._login,
            )
            svc.setServiceParent(self)

    # -- links -------------------------------------------------------------

    def _login(self, session: Session) -> Deferred[Any]:
        cfg = self.config
        d = login(session, cfg.account.encode("ascii"), cfg.secret.encode("utf-8"))

        def ok(resp: p.ConnectResp) -> None:
            self.sessions.append(session)
            self.log.info("{channel}: logged in ({n} links)", channel=self.name,
                          n=len(self.sessions))  # fmt: skip
            waiting, self._waiting = self._waiting, []
            for w in waiting:
                w.callback(session)

        def failed(f: Failure) -> Failure:
            self.log.error("{channel}: login failed: {why}", channel=self.name,
                           why=f.getErrorMessage())  # fmt: skip
            return f

        return d.addCallbacks(ok, failed)

    def _lost(self, session: Session) -> None:
        if session in self.sessions:
            self.sessions.remove(session)
            self.log.warn("{channel}: link lost ({n} left)", channel=self.name,
                          n=len(self.sessions))  # fmt: skip

    def _deliver_not_taken(self, failure: Failure, pdu: p.Deliver) -> p.DeliverResp:
        # Not stored: say so, and the ISMG will send it again later.
        self.log.failure("{channel}: DELIVER not stored", failure, channel=self.name)
        return p.DeliverResp(pdu.msg_id, Result.WRONG_GATEWAY)

    def session(self) -> Deferred[Session]:
        """A logged-in link with room in its window (the least busy), when there is one."""
        live = [s for s in self.sessions if s.bound]
        if live:
            best = min(live, key=lambda s: s.dispatcher.in_flight + s.dispatcher.queued)
            return _succeed(best)
        d: Deferred[Session] = Deferred(lambda d: self._waiting.remove(d))
        self._waiting.append(d)
        return d

    def stopService(self) -> Deferred[None]:
        terminating = [s.terminate() for s in list(self.sessions)]
        waiting, self._waiting = self._waiting, []
        for w in waiting:
            w.errback(SessionClosed("channel stopped"))
        d = DeferredList(terminating, consumeErrors=True)
        d.addBoth(lambda _: super(CmppChannel, self).stopService())
        return d  # type: ignore[return-value]

    # -- sending -----------------------------------------------------------

    async def submit(self, pdu: p.Submit) -> p.SubmitResp:
        """Send one SUBMIT within the TPS limit; retry on flow control and link loss.

        :raises SubmitFailed: after :attr:`max_attempts`.
        """
        if not (pdu.src_id and pdu.service_id and pdu.msg_src):
            pdu = self._fill_defaults(pdu)
        delay, cap, factor = self.throttle_backoff_s
        last = "no attempt"
        for _ in range(self.max_attempts):
            if self.bucket is not None:
                wait = self.bucket.delay_for(1.0)
                while wait > 0:
                    await deferLater(self.clock, wait, lambda: None)
                    wait = self.bucket.delay_for(1.0)
                self.bucket.try_take(1.0)
            live = self.sessions
            if len(live) == 1 and live[0].bound:
                session = live[0]
            else:
                session = await self.session()
            try:
                resp: p.SubmitResp = await session.send(pdu)
            except _LINK_FAILURES as e:
                last = f"{type(e).__name__}: {e}"
                self.log.warn("{channel}: SUBMIT not answered ({why}); retrying",
                              channel=self.name, why=last)  # fmt: skip
                continue
            if resp.result != Result.FLOW_CONTROL:
                return resp
            last = "flow control (Result 8)"
            await deferLater(self.clock, delay, lambda: None)
            delay = min(cap, delay * factor)
        raise SubmitFailed(f"SUBMIT failed after {self.max_attempts} attempts: {last}")

    def _fill_defaults(self, pdu: p.Submit) -> p.Submit:
        """Fill Src_Id, Service_Id and Msg_src from the upstream URL where empty."""
        cfg = self.config
        changes: dict[str, bytes] = {}
        if cfg.src_id and not pdu.src_id:
            changes["src_id"] = cfg.src_id.encode("ascii")
        if cfg.service_id and not pdu.service_id:
            changes["service_id"] = cfg.service_id.encode("ascii")
        if not pdu.msg_src:
            changes["msg_src"] = cfg.account.encode("ascii")
        return attrs.evolve(pdu, **changes) if changes else pdu

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
        group sends carry no reports); otherwise up to 100 per SUBMIT.
        """
        fmt = choose_fmt(text)
        segments = split_text(text, fmt, next(self._reference) & 0xFF)
        groups = (
            [dests[i : i + 1] for i in range(len(dests))]
            if report
            else [dests[i : i + 99] for i in range(0, len(dests), 99)]
        )
        src = (self.config.src_id or "") + src_ext
        jobs = []
        for group in groups:
            for seg in segments:
                pdu = p.Submit(
                    service_id=self.config.service_id.encode("ascii"),
                    msg_src=self.config.account.encode("ascii"),
                    pk_total=seg.pk_total,
                    pk_number=seg.pk_number,
                    registered_delivery=1 if report else 0,
                    tp_udhi=seg.tp_udhi,
                    msg_fmt=seg.msg_fmt,
                    src_id=src.encode("ascii"),
                    dest_terminal_ids=tuple(d.encode("ascii") for d in group),
                    msg_content=seg.content,
                )
                d = Deferred.fromCoroutine(self.submit(pdu))
                d.addCallback(
                    lambda r, g=tuple(group), s=seg: SegmentResult(
                        g, s.pk_number, s.pk_total, r.msg_id, r.result
                    )
                )
                jobs.append(d)
        results = DeferredList(jobs, fireOnOneErrback=True, consumeErrors=True)
        results.addCallback(lambda rs: [r for _, r in rs])
        results.addErrback(lambda f: f.value.subFailure if hasattr(f.value, "subFailure") else f)
        return results


def _succeed(value: Session) -> Deferred[Session]:
    d: Deferred[Session] = Deferred()
    d.callback(value)
    return d
