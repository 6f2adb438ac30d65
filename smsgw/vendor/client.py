"""The client side of an HTTP vendor, without the gateway: send (in batches up to
the vendor's limit), balance, pull, and a resource for pushed reports and MOs.

Every failure is classified (:func:`classify_failure`): a timeout, a refused or
reset connection, a 5xx or 429 answer, or a "too fast"/"busy" code may be
retried; an HTML page or unreadable answer on a 2xx, an unknown code, or a
permanent code is not.  The reason is kept; the password is never logged (the
request URL may hold it, so it is never logged either).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
from OpenSSL import SSL
from service_identity.exceptions import VerificationError
from twisted.internet.defer import (
    CancelledError,
    Deferred,
    DeferredSemaphore,
    gatherResults,
)
from twisted.internet.defer import (
    TimeoutError as DeferredTimeoutError,
)
from twisted.internet.error import ConnectError, ConnectionClosed, DNSLookupError
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.client import ResponseFailed
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

from smsgw.vendor.answers import (
    BalanceAnswer,
    MoRecord,
    ReportRecord,
    parse_answer,
    parse_balance,
    parse_mo,
    parse_pull,
    parse_report,
)
from smsgw.vendor.codec import (
    AnswerError,
    HttpRequest,
    SendValues,
    VendorDecodeError,
    VendorEncodeError,
    build_request,
    parse_query,
)
from smsgw.vendor.description import Description, Inbound, Kind, Operation, Outcome

__all__ = [
    "BalanceResult",
    "BatchResult",
    "PushResource",
    "VendorClient",
    "VendorError",
    "classify_failure",
]


@attrs.frozen
class BatchResult:
    """The result of one request: its numbers, and per number the vendor's msg id.

    :ivar accepted: whether the vendor took the request.
    :ivar retry: on failure, whether sending the numbers again may succeed.
    :ivar outcome: the code's outcome, ``None`` when there was no readable answer.
    :ivar code: the vendor's code as text, ``None`` when there was none.
    :ivar reason: the vendor's text for the code (and its detail), or what went wrong.
    :ivar msg_ids: one per number, in order (``None`` where the vendor gave none).
    """

    numbers: tuple[str, ...]
    accepted: bool
    retry: bool
    outcome: Outcome | None
    code: str | None
    reason: str
    msg_ids: tuple[str | None, ...]


@attrs.frozen
class BalanceResult:
    """Balance by product ("" when the vendor gives one amount), or the failure."""

    ok: bool
    amounts: dict[str, int]
    code: str | None
    reason: str
    retry: bool = False


class VendorError(Exception):
    """A request that failed (balance, pull): the classified reason."""

    def __init__(self, reason: str, *, retry: bool, code: str | None = None) -> None:
        self.reason = reason
        self.retry = retry
        self.code = code
        super().__init__(reason)


def tls_failure(error: BaseException) -> str | None:
    """What a TLS handshake error says, in a few words; ``None`` for any other error."""
    if isinstance(error, VerificationError):
        return "the certificate does not name the host"
    if isinstance(error, SSL.Error):
        details = error.args[0] if error.args else None
        if isinstance(details, list) and details and isinstance(details[-1], tuple):
            return str(details[-1][-1])
        return "TLS error"
    return None


def classify_failure(failure: Failure) -> tuple[bool, str]:
    """(retry, reason) for a failed request.

    Transport failures (timeout, refused, reset, DNS) and 5xx/429 answers may be
    retried; an unreadable 2xx answer, an HTML page on a 2xx or 4xx, an unknown
    code or a value we cannot encode may not: sending again could duplicate a
    message the vendor did take, or fail the same way.
    """
    error = failure.value
    if isinstance(error, DeferredTimeoutError | CancelledError):
        return True, "timeout"
    if isinstance(error, AnswerError):
        return error.retry, f"unreadable answer: {error}"
    if isinstance(error, VendorEncodeError):
        return False, f"cannot encode: {error}"
    if isinstance(error, DNSLookupError):
        return True, "DNS lookup failed"
    if isinstance(error, ConnectError):
        return True, f"cannot connect: {error.__class__.__name__}"
    if isinstance(error, ResponseFailed) and any(
        r.check(CancelledError, DeferredTimeoutError) for r in error.reasons
    ):
        # A request cancelled by our timeout fails as ResponseNeverReceived.
        return True, "timeout"
    if isinstance(error, ResponseFailed):
        for reason in error.reasons:
            tls = tls_failure(reason.value)
            if tls is not None:
                return True, f"TLS handshake failed: {tls}"
    if isinstance(error, ResponseFailed | ConnectionClosed):
        return True, f"connection lost: {error.__class__.__name__}"
    return False, f"unexpected error: {error.__class__.__name__}"


class VendorClient:
    """Talk to one vendor account.

    :param description: the vendor's description.
    :param account: the account name.
    :param secret: the password (never logged).
    :param base_url: scheme, host and port (and path prefix) of the vendor.
    :param http: a treq ``HTTPClient`` (``request(method, url, data=, headers=)``).
    :param clock: the reactor, for timeouts and timestamps.
    :param product: the product id to send with (seed 002, 1680).
    :param consecutive_ids: seed 001's account option: a request to n numbers
        gets ids ``id+0`` … ``id+n-1`` instead of one id for all.
    :param concurrency: most requests at once (the description's by default).
    """

    log = Logger()

    def __init__(
        self,
        description: Description,
        account: str,
        secret: str,
        base_url: str,
        http: Any,
        clock: Any,
        *,
        timeout_s: float = 30.0,
        product: str | None = None,
        signature: str | None = None,
        consecutive_ids: bool = False,
        concurrency: int | None = None,
    ) -> None:
        self.description = description
        self.account = account
        self._secret = secret
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.clock = clock
        self.timeout_s = timeout_s
        self.product = product
        self.signature = signature
        self.consecutive_ids = consecutive_ids
        self._semaphore = DeferredSemaphore(concurrency or description.limits.concurrency)

    def __repr__(self) -> str:
        return f"<VendorClient {self.description.name} {self.account}@{self.base_url}>"

    def max_numbers(self, kind: Kind = Kind.SEND) -> int:
        """Numbers per request for *kind* (1 when the vendor lacks it)."""
        op = self.description.operation(kind)
        return op.max_numbers if op is not None else 1

    # -- HTTP -------------------------------------------------------------------------

    async def _exchange(self, op: Operation, values: SendValues) -> tuple[int, bytes]:
        """One request to *op*: (status, body), within the concurrency limit and timeout."""
        req: HttpRequest = build_request(
            self.description, op, self.base_url, self.account, self._secret, values,
            self.clock.seconds(),
        )  # fmt: skip
        headers = {k: [v] for k, v in req.headers.items()}
        await self._semaphore.acquire()
        try:
            d = self.http.request(req.method, req.url, data=req.body, headers=headers)
            d.addTimeout(self.timeout_s, self.clock)
            response = await d
            content: Deferred[bytes] = response.content()
            content.addTimeout(self.timeout_s, self.clock)
            body = await content
            return int(response.code), body
        finally:
            self._semaphore.release()

    def _failed(self, op: Operation) -> tuple[bool, str]:
        """Classify the exception being handled, and log it (without the password)."""
        failure = Failure()
        retry, reason = classify_failure(failure)
        self.log.warn(
            "vendor {vendor} account {account}: {operation} failed ({retry}): {reason}",
            vendor=self.description.name,
            account=self.account,
            operation=op.name,
            retry="retry" if retry else "permanent",
            reason=reason,
        )
        if reason.startswith("unexpected error"):
            self.log.failure(
                "vendor {vendor}: unexpected error", failure, vendor=self.description.name
            )
        return retry, reason

    # -- send -------------------------------------------------------------------------

    def _ids(self, batch_id: str | None, count: int) -> tuple[str | None, ...]:
        if batch_id is None:
            return (None,) * count
        if self.consecutive_ids and batch_id.isdigit():
            return tuple(str(int(batch_id) + i) for i in range(count))
        return (batch_id,) * count

    async def _one(self, op: Operation, values: SendValues) -> BatchResult:
        numbers = values.numbers
        try:
            status, body = await self._exchange(op, values)
            answer = parse_answer(self.description, op, status, body)
        except Exception:
            retry, reason = self._failed(op)
            return BatchResult(numbers, False, retry, None, None, reason, (None,) * len(numbers))
        accepted = answer.outcome is Outcome.ACCEPTED
        reason = answer.text + (f": {answer.detail}" if answer.detail else "")
        return BatchResult(
            numbers,
            accepted,
            answer.outcome.retryable,
            answer.outcome,
            answer.code,
            reason,
            self._ids(answer.msg_id if accepted else None, len(numbers)),
        )

    async def _send(self, kind: Kind, values: SendValues, rows: int) -> list[BatchResult]:
        op = self.description.operation(kind)
        if op is None:
            reason = f"vendor {self.description.name} has no {kind.value} operation"
            return [BatchResult(values.numbers, False, False, None, None, reason, (None,) * rows)]
        values = attrs.evolve(
            values,
            product=values.product or self.product,
            signature=values.signature or self.signature,
        )
        parts = []
        for start in range(0, rows, op.max_numbers):
            end = start + op.max_numbers
            part = attrs.evolve(
                values,
                numbers=values.numbers[start:end],
                texts=values.texts[start:end],
                values=values.values[start:end],
                external_ids=values.external_ids[start:end],
            )
            parts.append(Deferred.fromCoroutine(self._one(op, part)))
        results: list[BatchResult] = await gatherResults(parts)
        return results

    def send(
        self,
        numbers: Sequence[str],
        text: str,
        *,
        report: bool = True,
        extension: str | None = None,
        external_id: str | None = None,
        schedule_s: float | None = None,
    ) -> Deferred[list[BatchResult]]:
        """Send *text* to *numbers*, in requests of at most the vendor's limit.

        Never fails: each request's result says whether it was accepted, and
        if not whether to retry and why.
        """
        values = SendValues(
            numbers=tuple(numbers),
            text=text,
            need_report=report,
            extension=extension,
            external_id=external_id,
            schedule_s=schedule_s,
        )
        return Deferred.fromCoroutine(self._send(Kind.SEND, values, len(numbers)))

    def send_batch(
        self, pairs: Sequence[tuple[str, str]], *, report: bool = True, extension: str | None = None
    ) -> Deferred[list[BatchResult]]:
        """A text per number (seed 001 records, 1680 ``sendPackSms``)."""
        values = SendValues(
            numbers=tuple(n for n, _ in pairs),
            texts=tuple(t for _, t in pairs),
            need_report=report,
            extension=extension,
        )
        return Deferred.fromCoroutine(self._send(Kind.SEND_BATCH, values, len(pairs)))

    def send_template(
        self, template: str, rows: Sequence[tuple[str, Sequence[str]]], *, report: bool = True
    ) -> Deferred[list[BatchResult]]:
        """One template, values per number (1680 ``sendDIYSms``: ``{PHONE}``, ``{A}``…)."""
        values = SendValues(
            numbers=tuple(n for n, _ in rows),
            text=template,
            values=tuple(tuple(v) for _, v in rows),
            need_report=report,
        )
        return Deferred.fromCoroutine(self._send(Kind.SEND_TEMPLATE, values, len(rows)))

    # -- balance and pull -------------------------------------------------------------

    def balance(self) -> Deferred[BalanceResult]:
        """The account's balance by product; never fails (the result says why not)."""
        return Deferred.fromCoroutine(self._balance())

    async def _balance(self) -> BalanceResult:
        op = self.description.operation(Kind.BALANCE)
        if op is None:
            return BalanceResult(
                False, {}, None, f"vendor {self.description.name} has no balance query"
            )
        try:
            status, body = await self._exchange(op, SendValues(product=self.product))
            got: BalanceAnswer = parse_balance(self.description, op, status, body)
        except Exception:
            retry, reason = self._failed(op)
            return BalanceResult(False, {}, None, reason, retry)
        answer = got.answer
        ok = answer.outcome is Outcome.ACCEPTED
        return BalanceResult(ok, got.amounts, answer.code, answer.text, answer.outcome.retryable)

    def pull(self, fetch_size: int = 100) -> Deferred[list[ReportRecord | MoRecord]]:
        """Fetch pending reports and MOs (seed 001 ``/mo``).

        :raises VendorError: (in the Deferred) with the classified reason.
        """
        return Deferred.fromCoroutine(self._pull(fetch_size))

    async def _pull(self, fetch_size: int) -> list[ReportRecord | MoRecord]:
        op = self.description.operation(Kind.PULL)
        if op is None:
            raise VendorError(f"vendor {self.description.name} has no pull operation", retry=False)
        try:
            status, body = await self._exchange(op, SendValues(fetch_size=fetch_size))
            got = parse_pull(self.description, op, status, body)
        except Exception:
            retry, reason = self._failed(op)
            raise VendorError(reason, retry=retry) from None
        answer = got.answer
        if answer.outcome is not Outcome.ACCEPTED:
            raise VendorError(answer.text, retry=answer.outcome.retryable, code=answer.code)
        return list(got.records)

    def push_resource(
        self, kind: str, on_event: Callable[[ReportRecord | MoRecord], object]
    ) -> Resource:
        """A resource for the vendor's pushed ``"report"`` or ``"mo"`` requests."""
        return PushResource(self.description, kind, on_event)


class PushResource(Resource):
    """Receives pushed reports or MOs (GET query or POST form) as neutral records.

    A vendor that pushes both to one URL with a kind field (seed 001 ``op``)
    can use ``kind="any"``.  A request that cannot be read is answered 400 with
    the field at fault, never a traceback.
    """

    isLeaf = True
    log = Logger()

    def __init__(
        self, desc: Description, kind: str, on_event: Callable[[ReportRecord | MoRecord], object]
    ) -> None:
        super().__init__()
        if kind not in ("report", "mo", "any"):
            raise ValueError(f"kind must be report, mo or any, not {kind!r}")
        self.desc = desc
        self.kind = kind
        self.on_event = on_event
        self.received = 0
        self.refused = 0

    def _which(self, args: dict[str, bytes]) -> str:
        if self.kind != "any":
            return self.kind
        for name, spec in (("report", self.desc.reports), ("mo", self.desc.mos)):
            field = spec.field("kind") if spec is not None else None
            if (
                spec is not None
                and field is not None
                and args.get(field.name, b"").decode("utf-8", "replace") == (spec.kind_value or "")
            ):
                return name
        raise VendorDecodeError("kind", "neither a report nor an MO")

    def render_GET(self, request: Request) -> bytes | int:
        """A push as a query string."""
        return self._take(request)

    def render_POST(self, request: Request) -> bytes | int:
        """A push as a form (or a query string)."""
        return self._take(request)

    def _take(self, request: Request) -> bytes | int:
        _, _, query = request.uri.partition(b"?")
        if request.content is not None:
            request.content.seek(0)
        body = request.content.read() if request.content is not None else b""
        args: dict[str, bytes] = {}
        for name, value in [*parse_query(query), *parse_query(body)]:
            args.setdefault(name.decode("utf-8", "replace"), value)
        try:
            which = self._which(args)
            spec: Inbound | None = self.desc.reports if which == "report" else self.desc.mos
            record = (
                parse_report(self.desc, args) if which == "report" else parse_mo(self.desc, args)
            )
        except VendorDecodeError as e:
            self.refused += 1
            self.log.warn(
                "vendor {vendor}: unreadable push: {field}: {message}",
                vendor=self.desc.name,
                field=e.field,
                message=e.message,
            )
            request.setResponseCode(400)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return f"{e.field}: {e.message}".encode()
        self.received += 1
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        answer = (spec.push_answer if spec is not None else "ok").encode("utf-8")
        stored = self.on_event(record)
        if not isinstance(stored, Deferred):
            return answer
        # Persist, then acknowledge: the vendor hears "ok" only once the record
        # is stored, and a 500 (it pushes again) when it could not be.
        gone: list[bool] = []
        request.notifyFinish().addErrback(lambda _: gone.append(True))

        def answered(body: bytes) -> None:
            if not gone:
                request.write(body)
                request.finish()

        def failed(reason: Failure) -> None:
            self.log.failure("vendor {vendor}: a pushed record was not stored", reason,
                             vendor=self.desc.name)  # fmt: skip
            request.setResponseCode(500)
            answered(b"not stored")

        stored.addCallbacks(lambda _: answered(answer), failed)
        return NOT_DONE_YET
