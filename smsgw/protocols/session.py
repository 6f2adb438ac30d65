"""The session engine: one TCP link of any of the carrier protocols.

Written once and shared by CMPP, SGIP and SMGP through a small
:class:`Adapter` per protocol (its codec, sequence numbers, keepalive and
terminate PDUs, and the error response for a request that did not decode).
What a link *does* with requests (accept a SUBMIT, take a DELIVER) belongs
to a :class:`SessionHandler` for the role: the fake ISMG or the SP client.

The engine owns the login and which request is legal when.  The protocol's
:class:`~smsgw.protocols.legality.Legality` table (on its adapter) says, for
the link's :class:`Role`, :class:`State` and login mode, whether a request is
served, answered with the protocol's own error response, or closes the link;
a server role only *authenticates* a login (:meth:`SessionHandler.authenticate`
returns a :class:`LoginResult`), and the engine answers it, closes the link on
a refusal and binds it on success.  A client logs in with :meth:`Session.log_in`,
which fails with the one :class:`LoginRefused`.

Layers, one way: :class:`~smsgw.protocols.framing.Framer` →
codec → :class:`~smsgw.protocols.dispatch.Dispatcher` → :class:`Session`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any

from twisted.internet import protocol
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsgw.protocols.codec import Header, ProtocolCodec
from smsgw.protocols.dispatch import Dispatcher, ResponseTimeout, SessionClosed
from smsgw.protocols.errors import DecodeError, EncodeError, FramingError
from smsgw.protocols.framing import Framer
from smsgw.protocols.link import (
    _CLOSE,
    _TRANSITIONS,
    RESPONSE_BIT,
    Adapter,
    Event,
    IllegalTransition,
    LoginRefused,
    LoginResult,
    PduAdapter,
    Role,
    Rule,
    SessionConfig,
    SessionHandler,
    State,
    Verdict,
)

__all__ = [
    "RESPONSE_BIT",
    "Adapter",
    "Event",
    "IllegalTransition",
    "LoginRefused",
    "LoginResult",
    "PduAdapter",
    "Role",
    "Rule",
    "Session",
    "SessionConfig",
    "SessionFactory",
    "SessionHandler",
    "State",
    "Verdict",
]


class Session(protocol.Protocol):
    """One link: framing, decoding, request/response matching, timers.

    :param adapter: the protocol's :class:`Adapter`.
    :param handler: the role's :class:`SessionHandler`.
    :param config: the link's :class:`SessionConfig`.
    :param clock: the reactor or a ``Clock``; every timer runs on it.
    :param role: which end of the login this link is; by default the
        handler's ``role``, else :attr:`Role.CLIENT`.
    """

    log = Logger()

    def __init__(
        self,
        adapter: Adapter,
        handler: SessionHandler,
        config: SessionConfig,
        clock: IReactorTime,
        *,
        role: Role | None = None,
    ) -> None:
        self.adapter = adapter
        self.handler = handler
        self.config = config
        self.clock = clock
        self.state = State.CONNECTING
        self.framer = Framer(adapter.codec.header_size, adapter.codec.max_length)
        self.dispatcher = Dispatcher(
            clock,
            self._write_request,
            adapter.next_sequence,
            window=config.window,
            timeout_s=config.response_timeout_s,
            attempts=config.attempts,
        )
        #: Set by the role once the peer has logged in (account name, etc.).
        self.account: Any = None
        #: The login's kind (SMGP LoginMode, SMPP bind kind), once logged in.
        self.mode: Hashable = None
        #: Which end of the login this link is (from the handler).
        self.role: Role = role if role is not None else getattr(handler, "role", Role.CLIENT)
        #: A peer's login is being checked (an authenticator that returned a Deferred).
        self._login_pending = False
        self.peer: str = "?"
        self.last_activity = 0.0
        self.frames_received = 0
        self._timer: IDelayedCall | None = None
        self._close_waiters: list[Deferred[None]] = []
        self._closing = False
        #: The keepalive request waiting for its answer, if any.
        self._keepalive: Deferred[Any] | None = None
        #: Set once we drop the link: frames still buffered are not handled.
        self._aborted = False
        #: Our TERMINATE is on the wire (everything before it has drained).
        self._terminate_sent = False
        #: While a read is handled: the frames it writes, sent as one write at its end.
        self._out: list[bytes] | None = None
        #: The legality row of the state and mode below (see :meth:`_request`).
        self._rules: Mapping[type, Rule] = {}
        self._rules_for: State | None = None
        self._rules_mode: Hashable = None

    @property
    def codec(self) -> ProtocolCodec:
        """The adapter's codec, read on every use.

        Not cached: a CMPP 3.0 listener switches its adapter to the 2.0 codec
        when a 2.0 client logs in (:mod:`smsgw.protocols.cmpp.negotiate`), and
        the CONNECT_RESP and every frame after it must use the new codec.
        """
        return self.adapter.codec

    # -- state -----------------------------------------------------------

    def _transition(self, event: Event) -> None:
        try:
            self.state = _TRANSITIONS[self.state, event]
        except KeyError:
            raise IllegalTransition(f"{event.value} in state {self.state.value}") from None

    def authenticated(self, account: Any = None, mode: Hashable = None) -> None:
        """The login succeeded: the link is bound and keepalives start.

        :param mode: the login's kind (see :attr:`LoginResult.mode`).
        """
        self._transition(Event.AUTHENTICATED)
        self.account = account
        self.mode = mode
        self._arm_timer()

    def log_in(self, request: object, accept: Callable[[Any], LoginResult]) -> Deferred[Any]:
        """Client side: send the login *request*; bind the link when it is accepted.

        *accept* turns the login response into a :class:`LoginResult` (it may
        switch the codec, as SMGP 1.3 negotiation does).  Fires with the
        response.

        :raises LoginRefused: (in the Deferred) for a non-zero status; the
            link is closed.
        """

        def answered(response: Any) -> Any:
            result = accept(response)
            if not result.accepted:
                self.lose_connection()
                raise LoginRefused(result.status, self.adapter.login_status_text(result.status))
            self.authenticated(result.identity, result.mode)
            return response

        return self.send(request).addCallback(answered)

    @property
    def bound(self) -> bool:
        return self.state is State.BOUND

    def when_closed(self) -> Deferred[None]:
        """A Deferred that fires once the connection is gone."""
        d: Deferred[None] = Deferred()
        if self.state is State.CLOSED:
            d.callback(None)
        else:
            self._close_waiters.append(d)
        return d

    # -- Twisted protocol ------------------------------------------------

    def connectionMade(self) -> None:
        self._transition(Event.CONNECTED)
        # Small request/response PDUs: Nagle plus delayed ACKs would stall
        # each window for tens of milliseconds.
        set_no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            set_no_delay(True)
        peer = self.transport.getPeer()  # type: ignore[union-attr]
        self.peer = f"{getattr(peer, 'host', '?')}:{getattr(peer, 'port', '?')}"
        self.last_activity = self.clock.seconds()
        self._timer = self.clock.callLater(self.config.login_timeout_s, self._login_timeout)
        self.handler.session_started(self)

    def dataReceived(self, data: bytes) -> None:
        try:
            frames = self.framer.feed(data)
        except FramingError as e:
            self.log.warn("closing {peer}: bad framing: {error}", peer=self.peer, error=str(e))
            self._abort()
            return
        if not frames:
            return
        self.last_activity = self.clock.seconds()
        if self._out is not None:  # a read handled inside another: the outer one flushes
            self._frames(frames)
            return
        # The frames every request and response of this read writes go out as
        # one transport write at its end (buffered writes: one write call, not
        # one per frame).
        self._out = []
        try:
            self._frames(frames)
        finally:
            out, self._out = self._out, None
            if out and self.transport is not None and not self._aborted:
                self.transport.write(out[0] if len(out) == 1 else b"".join(out))

    def _frames(self, frames: list[bytes]) -> None:
        adapter = self.adapter
        for frame in frames:
            if self.state is State.CLOSED or self._aborted:
                return
            self.frames_received += 1
            try:
                # Per frame: handling the previous frame (a CONNECT) may have
                # switched the adapter's codec.
                header, pdu = adapter.codec.decode(frame)
            except DecodeError as e:
                self._bad_frame(e)
                continue
            if header.command_id & RESPONSE_BIT:
                if not self.dispatcher.response(header.sequence_id, pdu):
                    self.log.debug(
                        "{peer}: unexpected {pdu} seq {seq}",
                        peer=self.peer,
                        pdu=type(pdu).__name__,
                        seq=header.sequence_id,
                    )
            else:
                self._request(header, pdu)
        if self.framer.error is not None and not self._aborted:
            # The good frames before a bad length field were handled above.
            self.log.warn("closing {peer}: bad framing: {error}", peer=self.peer,
                          error=str(self.framer.error))  # fmt: skip
            self._abort()

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        self._transition(Event.LOST)
        self._cancel_timer()
        self.dispatcher.close(reason)
        try:
            self.handler.session_ended(self, reason)
        finally:
            waiters, self._close_waiters = self._close_waiters, []
            for waiter in waiters:
                waiter.callback(None)

    # -- sending ---------------------------------------------------------

    def send(self, pdu: object, on_sent: Callable[[Hashable], None] | None = None) -> Deferred[Any]:
        """Send a request; fire with its response PDU.

        *on_sent* is called with the request's sequence number once it is
        written (see :meth:`Dispatcher.send`).

        Fails with :class:`SessionClosed` once the link is closing,
        :class:`ResponseTimeout` after N unanswered attempts, or the reason
        the connection was lost.
        """
        if self._closing or self.state in (State.CLOSING, State.CLOSED):
            return _failed(SessionClosed(f"link to {self.peer} is {self.state.value}"))
        d = self.dispatcher.send(pdu, on_sent)
        if self.config.short:
            d.addBoth(self._short_done)
        return d

    def send_then(
        self,
        pdu: object,
        on_answer: Callable[[Any], object],
        on_error: Callable[[Failure], object],
        on_sent: Callable[[Hashable], None] | None = None,
    ) -> None:
        """:meth:`send` with plain callables instead of a Deferred.

        Exactly one of *on_answer* (with the response PDU) and *on_error*
        (with the failure :meth:`send`'s Deferred would carry) is called,
        once; see :meth:`Dispatcher.send_then`.
        """
        if self._closing or self.state in (State.CLOSING, State.CLOSED):
            on_error(Failure(SessionClosed(f"link to {self.peer} is {self.state.value}")))
            return
        if self.config.short:
            answer, error = on_answer, on_error

            def on_answer(pdu: Any) -> object:
                self._short_done(None)
                return answer(pdu)

            def on_error(failure: Failure) -> object:
                self._short_done(None)
                return error(failure)

        self.dispatcher.send_then(pdu, on_answer, on_error, on_sent)

    def respond(self, pdu: object, sequence_id: Hashable) -> None:
        """Write a response PDU with the request's sequence number."""
        if self.transport is None or self.state is State.CLOSED:
            return
        try:
            frame = self.codec.encode(pdu, sequence_id)
        except EncodeError as e:
            # Our own answer does not fit the wire: a bug, but one link's.
            self.log.error("{peer}: cannot encode {pdu}: {error}", peer=self.peer,
                           pdu=type(pdu).__name__, error=str(e))  # fmt: skip
            self._abort()
            return
        self._emit(frame)

    def _write_request(self, pdu: object, sequence_id: Hashable) -> None:
        if self.transport is not None and self.state is not State.CLOSED:
            self._emit(self.codec.encode(pdu, sequence_id))

    def _emit(self, frame: bytes) -> None:
        out = self._out
        if out is None:
            self.transport.write(frame)  # type: ignore[union-attr]
        else:
            out.append(frame)

    def _flush(self) -> None:
        """Write the frames held while a read is handled, as one write."""
        out = self._out
        if out:
            self._out = []
            if self.transport is not None:
                self.transport.write(out[0] if len(out) == 1 else b"".join(out))

    def hold_writes(self) -> bool:
        """Hold what the link writes from now on until :meth:`release_writes`.

        For a burst of frames written outside a read (the simulator's reports
        due in one timer run): one transport write instead of one per frame.
        :return: False when writes are already held (inside a read, or held
            by someone else, who releases them): do not release them then.
        """
        if self._out is not None:
            return False
        self._out = []
        return True

    def release_writes(self) -> None:
        """Write what :meth:`hold_writes` held, as one write, and stop holding."""
        self._flush()
        self._out = None

    def lose_connection(self) -> None:
        """Close in order: what is written (or held for this read's write) goes out first."""
        self._flush()
        if self.transport is not None:
            self.transport.loseConnection()

    # -- requests --------------------------------------------------------

    def _request(self, header: Header, pdu: Any) -> None:
        adapter = self.adapter
        legality = adapter.legality
        if legality is not None:
            state, mode = self.state, self.mode
            if self._rules_for is not state or self._rules_mode is not mode:
                self._rules = legality.row(self.role, state, mode)
                self._rules_for, self._rules_mode = state, mode
            rule = self._rules.get(type(pdu), _CLOSE)
            if rule.verdict is Verdict.CLOSE:
                self.log.warn("closing {peer}: {pdu} is not legal in state {state}",
                              peer=self.peer, pdu=type(pdu).__name__,
                              state=self.state.value)  # fmt: skip
                self._close_now()
                return
            if rule.verdict is Verdict.REFUSE:
                self.log.info("{peer}: {pdu} refused in state {state} (status {status})",
                              peer=self.peer, pdu=type(pdu).__name__,
                              state=self.state.value, status=rule.status)  # fmt: skip
                self.refuse(pdu, header.sequence_id, rule.status)
                return
            if self.role is Role.SERVER and isinstance(pdu, legality.login):
                self._peer_login(header, pdu)
                return
        if adapter.is_keepalive(pdu):
            self.respond(adapter.keepalive_response(pdu), header.sequence_id)
            return
        if adapter.is_terminate(pdu):
            self._peer_terminated(header.sequence_id)
            return
        try:
            result = self.handler.handle_request(self, header, pdu)
        except Exception:
            self.log.failure(
                "{peer}: handler failed on {pdu}", peer=self.peer, pdu=type(pdu).__name__
            )
            self._abort()
            return
        if result is None:
            return
        # Not isinstance(result, Deferred) first: Deferred is an Awaitable, and
        # an ABC's isinstance costs more than the rest of this branch.
        if _is_deferred(type(result)):
            result.addCallback(self._respond_later, header.sequence_id)
            result.addErrback(self._handler_failed, pdu)
        else:
            self.respond(result, header.sequence_id)

    def refuse(self, pdu: object, sequence_id: Hashable, status: int) -> None:
        """Answer *pdu* with the protocol's error response carrying *status*.

        A request whose response has no status to carry closes the link instead.
        """
        response = self.adapter.refusal(pdu, status)
        if response is None:
            self.log.warn("closing {peer}: {pdu} cannot be refused with a response",
                          peer=self.peer, pdu=type(pdu).__name__)  # fmt: skip
            self._close_now()
            return
        self.respond(response, sequence_id)

    def _close_now(self) -> None:
        """Close in order (what is written goes out) and handle no more frames."""
        self._aborted = True
        if self.state is not State.CLOSED:
            self.lose_connection()

    # -- the login phase (server side) -----------------------------------

    def _peer_login(self, header: Header, pdu: Any) -> None:
        if self._login_pending:
            # A second login while the first is being checked: one at a time.
            self.log.warn("closing {peer}: a second login before the first was answered",
                          peer=self.peer)  # fmt: skip
            self._close_now()
            return
        self._login_pending = True
        authenticate = self.handler.authenticate  # type: ignore[attr-defined]
        d = maybeDeferred(authenticate, self, pdu)
        d.addCallback(self._login_decided, header.sequence_id)
        d.addErrback(self._handler_failed, pdu)

    def _login_decided(self, result: LoginResult | None, sequence_id: Hashable) -> None:
        self._login_pending = False
        if result is None or self.state is not State.AUTHENTICATING or self._aborted:
            # None: the role dropped the link itself (a simulated fault).
            return
        self.respond(result.response, sequence_id)
        if not result.accepted:
            # The role logs the refusal with what it knows (the account).
            self.log.debug("refused login from {peer}: status {status}", peer=self.peer,
                           status=result.status)  # fmt: skip
            self._close_now()
            return
        self.authenticated(result.identity, result.mode)
        logged_in = getattr(self.handler, "logged_in", None)
        if logged_in is not None:
            logged_in(self)

    def _respond_later(self, response: object, sequence_id: Hashable) -> None:
        if response is not None:
            self.respond(response, sequence_id)

    def _handler_failed(self, failure: Failure, pdu: object) -> None:
        self.log.failure(
            "{peer}: handler failed on {pdu}",
            failure=failure,
            peer=self.peer,
            pdu=type(pdu).__name__,
        )
        self._abort()

    def _bad_frame(self, error: DecodeError) -> None:
        cid = error.command_id
        if cid is not None and cid & RESPONSE_BIT:
            # A response we cannot read fails its request, and only that.
            self.log.warn("{peer}: bad response: {error}", peer=self.peer, error=str(error))
            if error.sequence_id is not None:
                self.dispatcher.fail(error.sequence_id, error)
            return
        response = self.adapter.error_response(error) if cid is not None else None
        if response is not None and error.sequence_id is not None:
            self.log.warn(
                "{peer}: rejected request: {error} (status {status})",
                peer=self.peer,
                error=str(error),
                status=error.status,
            )
            self.respond(response, error.sequence_id)
            if self.state is State.AUTHENTICATING:
                # A login that does not decode is refused, and the link closes.
                self.lose_connection()
        else:
            self.log.warn("closing {peer}: {error}", peer=self.peer, error=str(error))
            self._abort()

    # -- timers ----------------------------------------------------------

    def _cancel_timer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _login_timeout(self) -> None:
        self._timer = None
        if self.state is State.AUTHENTICATING:
            self.log.warn("closing {peer}: no login within {t} s", peer=self.peer,
                          t=self.config.login_timeout_s)  # fmt: skip
            self._abort()

    def _arm_timer(self) -> None:
        """Keepalive and idle checks share one timer, armed for the earliest."""
        self._cancel_timer()
        periods = [p for p in (self.config.keepalive_s, self.config.idle_timeout_s) if p]
        if periods and self.state is State.BOUND:
            due = self.last_activity + min(periods) - self.clock.seconds()
            self._timer = self.clock.callLater(max(0.0, due), self._tick)

    def _tick(self) -> None:
        self._timer = None
        if self.state is not State.BOUND:
            return
        idle = self.clock.seconds() - self.last_activity
        if self.config.idle_timeout_s and idle >= self.config.idle_timeout_s:
            self.log.info("closing idle link {peer}", peer=self.peer)
            self.lose_connection()
            return
        keepalive = self.adapter.keepalive()
        if self.config.keepalive_s and keepalive is not None and idle >= self.config.keepalive_s:
            # Only one keepalive at a time: the idle clock restarts now, and
            # the request's own T/N retransmissions count the missed answers.
            self.last_activity = self.clock.seconds()
            if self._keepalive is None:
                self._keepalive = d = self.dispatcher.send(keepalive)
                d.addBoth(self._keepalive_done)
                d.addErrback(self._keepalive_failed)
        self._arm_timer()

    def _keepalive_done(self, result: object) -> object:
        self._keepalive = None
        return result

    def _keepalive_failed(self, failure: Failure) -> None:
        if failure.check(ResponseTimeout) and self.state is not State.CLOSED:
            self.log.warn("closing {peer}: keepalive unanswered", peer=self.peer)
            self._abort()

    # -- closing ---------------------------------------------------------

    def terminate(self) -> Deferred[None]:
        """Close in order: let in-flight requests finish, send TERMINATE, close.

        Fires once the connection is gone.
        """
        if self.state in (State.CLOSING, State.CLOSED) or self._closing:
            return self.when_closed()
        self._closing = True
        self._transition(Event.TERMINATE)
        self._cancel_timer()

        def _send_terminate(_: object) -> Deferred[Any] | None:
            if self.state is State.CLOSED:
                return None
            self._terminate_sent = True
            return self.dispatcher.send(self.adapter.terminate())

        def _close(_: object) -> None:
            if self.state is not State.CLOSED:
                self.lose_connection()

        d = self.dispatcher.drained()
        d.addCallback(_send_terminate)
        d.addBoth(_close)
        return self.when_closed()

    def _peer_terminated(self, sequence_id: Hashable) -> None:
        self._closing = True
        if self.state is not State.CLOSING:
            self._transition(Event.TERMINATE)
        self._cancel_timer()

        def _answer(_: object) -> None:
            self.respond(self.adapter.terminate_response(), sequence_id)
            self.lose_connection()

        if self._terminate_sent:
            # Both ends terminated at once: only our TERMINATE is in flight,
            # and the peer answers it only after we answer its own.  Waiting
            # for it would stall both ends until N×T.
            _answer(None)
        else:
            self.dispatcher.drained().addCallback(_answer)

    def _short_done(self, result: object) -> object:
        # Only once bound: the login's answer is not the short link's one
        # request, and terminating here would make the login's own callback
        # (``authenticated``) an illegal transition out of CLOSING.
        if (
            self.state is State.BOUND
            and self.dispatcher.in_flight == 0
            and self.dispatcher.queued == 0
        ):
            self.terminate()
        return result

    def _abort(self) -> None:
        self._aborted = True
        if self.transport is not None and self.state is not State.CLOSED:
            self.transport.abortConnection()  # type: ignore[attr-defined]


_DEFERRED_CLASSES: dict[type, bool] = {}


def _is_deferred(kind: type) -> bool:
    """``issubclass(kind, Deferred)``, remembered per class."""
    known = _DEFERRED_CLASSES.get(kind)
    if known is None:
        known = _DEFERRED_CLASSES[kind] = issubclass(kind, Deferred)
    return known


def _failed(error: BaseException) -> Deferred[Any]:
    return maybeDeferred(_raise, error)


def _raise(error: BaseException) -> None:
    raise error


class SessionFactory(protocol.Factory):
    """Builds :class:`Session` objects for one role and protocol.

    :param adapter_factory: makes a fresh :class:`Adapter` per link.
    :param handler: the role's :class:`SessionHandler` (shared by links).
    """

    def __init__(
        self,
        adapter_factory: Any,
        handler: SessionHandler,
        config: SessionConfig,
        clock: IReactorTime,
    ) -> None:
        self.noisy = False
        self.adapter_factory = adapter_factory
        self.handler = handler
        self.config = config
        self.clock = clock

    def buildProtocol(self, addr: Any) -> Session:
        return Session(self.adapter_factory(), self.handler, self.config, self.clock)
