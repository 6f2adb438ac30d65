"""The simulator side of an HTTP vendor: a ``twisted.web`` resource built from a
description that serves the vendor's endpoints as the vendor would.

Accounts with passwords (every password form checked), balances per product
that go down per message part, the vendor's own error code for each bad input
(missing parameter, bad password, unknown product, too many numbers, too fast,
out of balance), message ids, and reports and MOs delivered the vendor's way:
pushed with treq to a URL the account configures, or held for pull.

What the ISMG simulator plugs in later (its submit log, report policy, MO
injection) goes through :class:`IVendorHooks`; :class:`DefaultHooks` works
standalone.  The clock is injected.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import attrs
from twisted.internet.defer import Deferred, DeferredSemaphore
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.http import combinedLogFormatter
from twisted.web.iweb import IAccessLogFormatter
from twisted.web.resource import Resource
from twisted.web.server import Request, Site
from zope.interface import Interface, implementer, provider

from smsgw.ratelimit import TokenBucket
from smsgw.vendor.answers import (
    MoRecord,
    ReportRecord,
    render_answer,
    render_balance,
    render_mo,
    render_pull,
    render_report,
)
from smsgw.vendor.codec import (
    VendorDecodeError,
    check_password,
    choose_operation,
    decode_request,
    request_args,
    url_quote,
)
from smsgw.vendor.description import (
    AnswerFormat,
    Code,
    Description,
    Kind,
    Operation,
    Outcome,
    Situation,
)

__all__ = [
    "DefaultHooks",
    "IVendorHooks",
    "ReportChoice",
    "VendorAccount",
    "VendorSimulator",
    "path_only_log_formatter",
    "render_template",
]

_NUMBER = re.compile(r"\+?[0-9]{5,21}")
_SEND_KINDS = (Kind.SEND, Kind.SEND_BATCH, Kind.SEND_TEMPLATE)
_TEMPLATE_KEYS = ("{A}", "{B}", "{C}", "{D}", "{E}")


def render_template(template: str, number: str, values: Iterable[str]) -> str:
    """1680 ``sendDIYSms``: ``{PHONE}`` is the number, ``{A}``…``{E}`` the values."""
    text = template.replace("{PHONE}", number)
    for key, value in zip(_TEMPLATE_KEYS, values, strict=False):
        text = text.replace(key, value)
    return text


@attrs.frozen
class ReportChoice:
    """What report a submitted message gets: delivered or not, the carrier's
    stat word (CMPP terms), and the delay before it is sent, in seconds."""

    delivered: bool
    stat: str
    delay_s: float


class IVendorHooks(Interface):
    """What the ISMG simulator plugs into a vendor simulator."""

    def check(vendor: str, account: str, numbers: tuple[str, ...]) -> Situation | int | None:
        """Whether to refuse a send request to *numbers* that passed the vendor's own checks.

        ``None`` accepts it; a :class:`Situation` (``TOO_FAST``) is answered
        with that situation's code; an ``int`` is a forced result, answered
        with the vendor's code of that value, else its first retry code.
        """

    def submitted(
        vendor: str, account: str, msg_id: str, number: str, text: str, report: bool
    ) -> None:
        """Record one accepted message (one number); *report*: a report was asked for."""

    def report_for(vendor: str, account: str, number: str) -> ReportChoice | None:
        """The report outcome and delay for a message to *number*; ``None`` for no report."""

    def reported(vendor: str, account: str, delivered: bool) -> None:
        """A report is going out (pushed or held for pull), after its delay."""


@implementer(IVendorHooks)
class DefaultHooks:
    """Standalone hooks: keep the submits, deliver every message after ``delay_s``."""

    def __init__(self, delay_s: float = 1.0) -> None:
        self.delay_s = delay_s
        self.submits: list[tuple[str, str, str, str, str]] = []

    def check(self, vendor: str, account: str, numbers: tuple[str, ...]) -> Situation | int | None:
        return None

    def submitted(
        self, vendor: str, account: str, msg_id: str, number: str, text: str, report: bool
    ) -> None:
        self.submits.append((vendor, account, msg_id, number, text))

    def report_for(self, vendor: str, account: str, number: str) -> ReportChoice | None:
        return ReportChoice(True, "DELIVRD", self.delay_s)

    def reported(self, vendor: str, account: str, delivered: bool) -> None:
        pass


@attrs.define
class VendorAccount:
    """One account at the simulated vendor.

    :ivar products: product id → balance in message parts; the first product is
        the default when a request names none.
    :ivar report_url: where reports are pushed (``None``: held for pull).
    :ivar mo_url: where MOs are pushed (``None``: held for pull).
    :ivar tps: overrides the description's flow-control budget.
    :ivar open_balance: when set, a product the account does not have yet is
        opened with this balance on first use (instead of "unknown product").
    """

    account: str
    secret: str
    products: dict[str, int] = attrs.field(factory=lambda: {"": 1_000_000})
    report_url: str | None = None
    mo_url: str | None = None
    tps: float | None = None
    open_balance: int | None = None


class _Refusal(Exception):
    def __init__(self, situation: Situation, detail: str = "", code: Code | None = None) -> None:
        self.situation = situation
        self.detail = detail
        self.code = code


class VendorSimulator:
    """One simulated vendor: accounts, balances, ids, reports and MOs.

    :param desc: the vendor's description.
    :param accounts: its accounts.
    :param clock: the reactor (``seconds``, ``callLater``).
    :param http: a treq-like client (``get(url)``) for pushes; ``None`` holds
        everything for pull.
    :param hooks: an :class:`IVendorHooks`.
    """

    log = Logger()
    push_timeout_s = 10.0
    #: Pushes in flight at once (a burst of reports queues behind them).
    push_concurrency = 16
    #: Attempts of one push before it is held for pull (or dropped).
    push_attempts = 3
    max_pending = 100_000

    def __init__(
        self,
        desc: Description,
        accounts: Iterable[VendorAccount],
        clock: Any,
        http: Any = None,
        hooks: IVendorHooks | None = None,
        first_id: int = 1_000_000_000_000,
    ) -> None:
        self.desc = desc
        self.accounts = {a.account: a for a in accounts}
        self.clock = clock
        self.http = http
        self.hooks: IVendorHooks = hooks if hooks is not None else DefaultHooks()
        self._next_id = first_id
        self._buckets: dict[str, TokenBucket] = {}
        self.pending: dict[str, deque[ReportRecord | MoRecord]] = {}
        self.pushed = 0
        self._pushing = DeferredSemaphore(self.push_concurrency)
        self.push_failures = 0
        self.requests = 0
        #: Reports scheduled and not yet due.
        self.reports_waiting = 0
        #: What was logged once: ignored constant parameters, undeliverable kinds.
        self._warned: set[tuple[str, ...]] = set()

    # -- state ------------------------------------------------------------------------

    def balance(self, account: str, product: str | None = None) -> int:
        """The balance left for an account's product (the default product if ``None``)."""
        acct = self.accounts[account]
        return acct.products[product if product is not None else next(iter(acct.products))]

    def _msg_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def _bucket(self, acct: VendorAccount) -> TokenBucket | None:
        tps = acct.tps if acct.tps is not None else self.desc.limits.tps
        if tps is None:
            return None
        bucket = self._buckets.get(acct.account)
        if bucket is None:
            bucket = self._buckets[acct.account] = TokenBucket(tps, clock=self.clock.seconds)
        return bucket

    # -- HTTP -------------------------------------------------------------------------

    def resource(self) -> Resource:
        """The vendor's endpoints as a leaf resource (mount it at the base URL)."""
        return _VendorResource(self)

    def site(self) -> Site:
        """A ``Site`` serving :meth:`resource` whose access log leaves out query strings."""
        return Site(self.resource(), logFormatter=path_only_log_formatter)

    def _ops_for(self, path: str) -> list[Operation]:
        return [op for op in self.desc.operations if op.path == path]

    def sends_at(self, path: str) -> bool:
        """Whether *path* (below the base URL) is one of the vendor's send operations."""
        return any(op.kind in _SEND_KINDS for op in self._ops_for(path))

    def pending_counts(self, account: str) -> tuple[int, int]:
        """(reports, MOs) held for *account* until it pulls them."""
        queue = self.pending.get(account, ())
        reports = sum(1 for rec in queue if isinstance(rec, ReportRecord))
        return reports, len(queue) - reports

    def _warn_once(self, key: tuple[str, ...], message: str, **fields: Any) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.log.warn(message, vendor=self.desc.name, **fields)

    def handle(self, method: str, path: str, query: bytes, body: bytes) -> tuple[int, bytes, str]:
        """Answer one request: (HTTP status, body, content type)."""
        self.requests += 1
        ops = self._ops_for(path)
        if not ops:
            return 404, b"not found", "text/plain"
        try:
            op = choose_operation(ops, query, body)
        except VendorDecodeError:
            op = ops[0]
        ctype = (
            "application/json"
            if op.answer.format is AnswerFormat.JSON
            else "text/xml"
            if op.answer.format is AnswerFormat.XML
            else "text/plain; charset=utf-8"
        )
        if op.method == "POST" and method != "POST":
            return 405, b"method not allowed", "text/plain"
        try:
            return 200, self._answer(op, query, body), ctype
        except _Refusal as refusal:
            return 200, self._refuse(op, refusal), ctype

    def _refuse(self, op: Operation, refusal: _Refusal) -> bytes:
        code = refusal.code or self.desc.code_for_situation(op, refusal.situation)
        if code is None and refusal.situation is Situation.UNKNOWN_ACCOUNT:
            code = self.desc.code_for_situation(op, Situation.BAD_PASSWORD)
        if code is None:
            code = next(
                (c for c in (*op.codes, *self.desc.codes) if c.outcome is not Outcome.ACCEPTED),
                None,
            )
        if code is None:  # a description that lists no failure code at all
            return f"error: {refusal.situation.value}".encode()
        return render_answer(
            self.desc, op, code, None, code.detail or refusal.detail or None, self.clock.seconds()
        )

    def _ok(self, op: Operation) -> Code:
        code = self.desc.code_for_situation(op, Situation.OK)
        assert code is not None
        return code

    def _answer(self, op: Operation, query: bytes, body: bytes) -> bytes:
        try:
            args = request_args(op, query, body)
            self._note_constants(op, args)
            req = decode_request(self.desc, op, args)
        except VendorDecodeError as e:
            if e.message == "missing":
                raise _Refusal(Situation.MISSING, e.field) from None
            raise _Refusal(Situation.BAD_CONTENT, e.field) from None
        acct = self.accounts.get(req.account)
        if acct is None:
            raise _Refusal(Situation.UNKNOWN_ACCOUNT)
        if not check_password(
            self.desc.password,
            acct.account,
            acct.secret,
            req.password,
            req.timestamp,
            req.raw_content,
        ):
            raise _Refusal(Situation.BAD_PASSWORD)
        product = req.values.product
        if product is None:
            product = next(iter(acct.products))
        elif product not in acct.products:
            if acct.open_balance is None:
                raise _Refusal(Situation.UNKNOWN_PRODUCT)
            acct.products[product] = acct.open_balance
        now = self.clock.seconds()
        if op.kind is Kind.BALANCE:
            amounts = (
                dict(acct.products)
                if op.answer.format is AnswerFormat.LINES
                else {product: acct.products[product]}
            )
            return render_balance(self.desc, op, self._ok(op), amounts, now)
        if op.kind is Kind.PULL:
            return self._pull(op, acct, req.values.fetch_size)
        return self._send(op, acct, product, req.values, now)

    def _send(
        self, op: Operation, acct: VendorAccount, product: str, values: Any, now: float
    ) -> bytes:
        numbers: tuple[str, ...] = values.numbers
        if not numbers:
            raise _Refusal(Situation.BAD_NUMBER)
        if len(numbers) > op.max_numbers:
            raise _Refusal(Situation.TOO_MANY_NUMBERS)
        if not all(_NUMBER.fullmatch(n) for n in numbers):
            raise _Refusal(Situation.BAD_NUMBER)
        if op.kind is Kind.SEND_BATCH:
            texts = list(values.texts)
        elif op.kind is Kind.SEND_TEMPLATE:
            texts = [
                render_template(values.text, n, v)
                for n, v in zip(numbers, values.values, strict=True)
            ]
        else:
            texts = [values.text] * len(numbers)
        if not all(texts):
            raise _Refusal(Situation.BAD_CONTENT)
        limits = self.desc.limits
        bucket = self._bucket(acct)
        cost = sum(limits.cost(1, t) for t in texts)
        if bucket is not None and not bucket.try_take(cost):
            raise _Refusal(Situation.TOO_FAST)
        self._check_hooks(op, acct, numbers)
        parts = sum(limits.parts(t) for t in texts)
        if acct.products[product] < parts:
            raise _Refusal(Situation.NO_BALANCE)
        acct.products[product] -= parts
        msg_id = self._msg_id()
        for number, text in zip(numbers, texts, strict=True):
            self.hooks.submitted(
                self.desc.name, acct.account, msg_id, number, text, values.need_report
            )
            if values.need_report and self.desc.reports is not None:
                choice = self.hooks.report_for(self.desc.name, acct.account, number)
                if choice is None:
                    continue
                self.reports_waiting += 1
                self.clock.callLater(
                    choice.delay_s, self._report, acct, msg_id, number, choice, values.external_id
                )
        return render_answer(self.desc, op, self._ok(op), msg_id, None, now)

    def _check_hooks(self, op: Operation, acct: VendorAccount, numbers: tuple[str, ...]) -> None:
        verdict = self.hooks.check(self.desc.name, acct.account, numbers)
        if verdict is None:
            return
        if isinstance(verdict, Situation):
            raise _Refusal(verdict)
        code = self.desc.code_for(op, str(verdict))
        if code is None or code.outcome is Outcome.ACCEPTED:
            code = next(
                (c for c in (*op.codes, *self.desc.codes) if c.outcome is Outcome.RETRY), None
            )
        raise _Refusal(Situation.TOO_FAST, code=code)

    def _note_constants(self, op: Operation, args: dict[str, bytes]) -> None:
        """Log once when a request sets a parameter the description holds constant
        (seed 001's ``rf=1``/``rf=2`` XML and JSON answers): the simulator
        answers in the description's form whatever the request asked."""
        for param in op.params:
            if param.role is not None or param.value is None:
                continue
            got = args.get(param.name)
            if got is not None and got.decode("utf-8", "replace") != param.value:
                self._warn_once(
                    ("constant", op.name, param.name),
                    "vendor {vendor}: {param}={value} is not simulated; answering the "
                    "{param}={expected} form",
                    param=param.name,
                    value=got.decode("utf-8", "replace")[:16],
                    expected=param.value,
                )

    # -- reports and MOs --------------------------------------------------------------

    def _report(
        self, acct: VendorAccount, msg_id: str, number: str, choice: ReportChoice, ext: str | None
    ) -> None:
        spec = self.desc.reports
        assert spec is not None
        self.reports_waiting -= 1
        self.hooks.reported(self.desc.name, acct.account, choice.delivered)
        if choice.delivered:
            stat = spec.delivered_word
        else:
            stat = spec.failed or choice.stat
        rec = ReportRecord(
            msg_id=msg_id,
            number=number,
            stat=stat,
            delivered=choice.delivered,
            done_at=self.clock.seconds(),
            error="" if choice.delivered else choice.stat,
            external_id=ext,
        )
        self._deliver(acct, rec, acct.report_url if spec.push else None, spec.pull is not None)

    def inject_mo(self, account: str, number: str, text: str, extension: str = "") -> str:
        """An MO from *number* to *account*: pushed, or held for pull.

        :returns: how it goes: ``push``, ``pull`` or ``undeliverable``.
        :raises KeyError: for an unknown account.
        :raises ValueError: when the vendor has no MOs.
        """
        acct = self.accounts[account]
        spec = self.desc.mos
        if spec is None:
            raise ValueError(f"vendor {self.desc.name} has no MOs")
        rec = MoRecord(number, text, extension, self.clock.seconds())
        return self._deliver(acct, rec, acct.mo_url if spec.push else None, spec.pull is not None)

    def _deliver(
        self, acct: VendorAccount, rec: ReportRecord | MoRecord, url: str | None, pullable: bool
    ) -> str:
        if url is not None and self.http is not None:
            self._push(acct, rec, url, pullable)
            return "push"
        if pullable:
            self._hold(acct, rec)
            return "pull"
        kind = "report" if isinstance(rec, ReportRecord) else "MO"
        self._warn_once(
            ("undeliverable", acct.account, kind),
            "vendor {vendor}: {account} has no URL for {kind}s and the vendor has no pull; "
            "they are dropped (logged once)",
            account=acct.account,
            kind=kind,
        )
        return "undeliverable"

    def _hold(self, acct: VendorAccount, rec: ReportRecord | MoRecord) -> None:
        queue = self.pending.setdefault(acct.account, deque())
        if len(queue) < self.max_pending:
            queue.append(rec)

    def _push(
        self, acct: VendorAccount, rec: ReportRecord | MoRecord, url: str, pullable: bool
    ) -> None:
        """Push *rec* to *url*, at most :attr:`push_concurrency` at once (the rest queue),
        retried :attr:`push_attempts` times with back-off, then held for pull or dropped."""
        pairs = (
            render_report(self.desc, rec, (acct.account, acct.secret))
            if isinstance(rec, ReportRecord)
            else render_mo(self.desc, rec)
        )
        query = "&".join(f"{quote(k, safe='')}={url_quote(v)}" for k, v in pairs)
        full = f"{url}{'&' if '?' in url else '?'}{query}"
        self._push_attempt(acct, rec, full, pullable, 1)

    def _push_attempt(
        self, acct: VendorAccount, rec: ReportRecord | MoRecord, full: str, pullable: bool,
        attempt: int,
    ) -> None:  # fmt: skip
        def one() -> Deferred[Any]:
            d: Deferred[Any] = self.http.get(full)
            d.addTimeout(self.push_timeout_s, self.clock)
            return d.addCallback(lambda response: response.content())

        def pushed(_: object) -> None:
            self.pushed += 1

        def failed(reason: Failure) -> None:
            if attempt < self.push_attempts:
                self.clock.callLater(
                    float(2 ** (attempt - 1)),
                    self._push_attempt, acct, rec, full, pullable, attempt + 1,
                )  # fmt: skip
                return
            self.push_failures += 1
            self.log.warn(
                "vendor {vendor}: push to {account}'s URL failed {n} times: {reason}",
                vendor=self.desc.name,
                account=acct.account,
                n=attempt,
                reason=reason.getErrorMessage(),
            )
            if pullable:
                self._hold(acct, rec)

        self._pushing.run(one).addCallbacks(pushed, failed)

    def _pull(self, op: Operation, acct: VendorAccount, fetch_size: int | None) -> bytes:
        queue = self.pending.get(acct.account)
        size = fetch_size if fetch_size and fetch_size > 0 else 100
        records: list[ReportRecord | MoRecord] = []
        while queue and len(records) < size:
            records.append(queue.popleft())
        return render_pull(self.desc, records)


@provider(IAccessLogFormatter)
def path_only_log_formatter(timestamp: str, request: Request) -> str:
    """Twisted's combined access-log line without the query string: vendor
    requests carry the account's password in it (seed 001 ``pw``, 1680 ``password``)."""
    path, _, query = (request.uri or b"").partition(b"?")
    original = request.uri
    request.uri = path + (b"?..." if query else b"")
    try:
        return str(combinedLogFormatter(timestamp, request))
    finally:
        request.uri = original


class _VendorResource(Resource):
    isLeaf = True

    def __init__(self, sim: VendorSimulator) -> None:
        super().__init__()
        self.sim = sim

    def render(self, request: Request) -> bytes:
        uri: bytes = request.uri
        _, _, query = uri.partition(b"?")
        if request.content is not None:
            request.content.seek(0)
        body = request.content.read() if request.content is not None else b""
        # A leaf: postpath is the path below where the resource is mounted.
        path = "/" + "/".join(p.decode("utf-8", "replace") for p in request.postpath or [])
        method = (request.method or b"GET").decode("ascii", "replace")
        status, answer, ctype = self.sim.handle(method, path, query, body)
        request.setResponseCode(status)
        request.setHeader(b"content-type", ctype.encode("ascii"))
        return answer
