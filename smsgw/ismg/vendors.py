"""The ISMG simulator playing every HTTP vendor (``--vendor-http``).

One ``twisted.web`` site serves each loaded vendor description's endpoints
under ``/NAME/`` (``http://127.0.0.1:8088/batchsm/msg/HttpBatchSendSM``), each
a :class:`~smsgw.vendor.sim.VendorSimulator` whose accounts are the
simulator's (same id and secret; ``report_url``, ``mo_url``, ``balance`` and
``products`` from the account's configuration).

The simulator's behaviour applies to this traffic as to SUBMITs:

* every accepted number goes into the submit log (``protocol`` =
  ``http:NAME``) and the counters;
* the report policy picks each report's stat and delay;
* the faults: ``throttle_tps`` answers the vendor's too-fast code,
  ``submit_result`` the vendor's code of that value (else its first retry
  code), ``response_delay_s`` delays a send's answer, ``drop_response_ratio``
  closes the connection without answering a send, and
  ``disconnect_after_pdus`` closes a connection when that many requests came
  on it (the last one unanswered, as a CMPP session's last PDU);
* ``POST /v1/mo`` with ``"protocol": "NAME"`` (or ``"http:NAME"``) injects an
  MO the vendor's way (pushed, or held for pull);
* the triggers (:mod:`smsgw.config.triggers`) as on every binary face: the
  first number of a send that matches one decides the answer (``result``,
  ``throttle``, ``response_delay_s``, ``no_response`` holds the request
  open, ``close`` closes the connection), each number's trigger its report
  and its ``mo_reply`` (an MO the vendor's way, with no extension).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site
from zope.interface import implementer

from smsgw.config import AccountConfig
from smsgw.config.triggers import Trigger
from smsgw.ismg.model import Mt
from smsgw.vendor.description import Description, Situation
from smsgw.vendor.sim import (
    IVendorHooks,
    ReportChoice,
    VendorAccount,
    VendorSimulator,
    path_only_log_formatter,
)

if TYPE_CHECKING:
    from smsgw.ismg.simulator import Simulator

__all__ = [
    "PROTOCOL_PREFIX",
    "SimulatorHooks",
    "VendorHub",
    "vendor_account",
    "vendor_site",
]

PROTOCOL_PREFIX = "http:"
"""Vendor traffic's ``protocol`` in the submit log: ``http:NAME``."""


def vendor_account(config: AccountConfig, vendor: str) -> VendorAccount:
    """*config* as an account of *vendor*: ``{vendor}`` in its URLs becomes the name.

    Without ``products``, any product the SP names is opened with the balance.
    """

    def url(template: str | None) -> str | None:
        return None if template is None else template.replace("{vendor}", vendor)

    products = dict.fromkeys(config.products or ("",), config.balance)
    return VendorAccount(
        config.id,
        config.secret,
        products=products,
        report_url=url(config.report_url),
        mo_url=url(config.mo_url),
        tps=config.tps,
        open_balance=None if config.products else config.balance,
    )


@implementer(IVendorHooks)
class SimulatorHooks:
    """Binds vendor traffic to a :class:`~smsgw.ismg.simulator.Simulator`:
    its submit log, counters, report policy, faults and triggers.

    :ivar trigger: the trigger :meth:`check` found for the send request being
        answered (read by the resource right after the vendor renders it).
    """

    log = Logger()

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.trigger: Trigger | None = None

    def take_trigger(self) -> Trigger | None:
        """The trigger :meth:`check` found last, and forget it."""
        trigger, self.trigger = self.trigger, None
        return trigger

    def check(self, vendor: str, account: str, numbers: tuple[str, ...]) -> Situation | int | None:
        sim = self.sim
        acct = sim.accounts[account]
        protocol = PROTOCOL_PREFIX + vendor
        self.trigger = trigger = sim.trigger_for(acct, numbers)
        if trigger is not None:
            sim.count(acct, "triggered", protocol=protocol)
            if trigger.throttle:
                sim.count(acct, "throttled", protocol=protocol)
            if trigger.result or trigger.throttle:
                # (HTTP has no nack: a nack trigger's send is taken and its
                # connection closed, as terminate's, see _FaultyVendor.)
                sim.count(acct, "submits_refused", protocol=protocol)
            return Situation.TOO_FAST if trigger.throttle else (trigger.result or None)
        if sim.policy_throttled():
            sim.count(acct, "throttled", protocol=protocol)
            sim.count(acct, "submits_refused", protocol=protocol)
            return Situation.TOO_FAST
        forced = sim.policy.faults.submit_result
        if forced:
            sim.count(acct, "submits_refused", protocol=protocol)
            return forced
        return None

    def submitted(
        self, vendor: str, account: str, msg_id: str, number: str, text: str, report: bool
    ) -> None:
        sim = self.sim
        mt = Mt(
            protocol=PROTOCOL_PREFIX + vendor,
            msg_id=msg_id,
            src="",
            dests=(number,),
            content=text.encode("utf-16-be"),
            msg_fmt=8,
            report=report,
        )
        sim.submit_log.append((account, sim.clock.seconds(), mt))
        sim.count(sim.accounts[account], "submits", protocol=mt.protocol)
        trigger = sim.policy.trigger_for(account, number)
        if trigger is not None and trigger.mo_reply is not None:
            sim.clock.callLater(trigger.mo_delay_s, self._mo_reply, vendor, account, number,
                                trigger.mo_reply)  # fmt: skip

    def _mo_reply(self, vendor: str, account: str, number: str, content: str) -> None:
        hub = self.sim.vendors
        try:
            hub.inject_mo(hub.vendors[vendor], account, number, "", content)
        except ValueError as error:
            self.log.warn("trigger: no MO reply from vendor {vendor}: {why}", vendor=vendor,
                          why=str(error))  # fmt: skip

    def report_for(self, vendor: str, account: str, number: str) -> ReportChoice | None:
        sim = self.sim
        reports = sim.policy.reports
        trigger = sim.policy.trigger_for(account, number)
        if trigger is not None and trigger.no_report:
            sim.count(sim.accounts[account], "reports_withheld", protocol=PROTOCOL_PREFIX + vendor)
            return None
        if trigger is not None and trigger.stat is not None:
            stat = trigger.stat
        else:
            stat = reports.draw_stat(number, sim.rng)
        if trigger is not None and trigger.report_delay_s is not None:
            delay = trigger.report_delay_s
        else:
            delay = reports.draw_delay(sim.rng)
        return ReportChoice(stat == "DELIVRD", stat, delay)

    def reported(self, vendor: str, account: str, delivered: bool) -> None:
        self.sim.count(self.sim.accounts[account], "reports", protocol=PROTOCOL_PREFIX + vendor)


class VendorHub:
    """Every vendor the simulator plays, by name.

    :param sim: the simulator (accounts, policy, logs).
    :param vendors: the descriptions, by name.
    :param accounts: the accounts' configuration; ``()`` serves the
        simulator's accounts with the default balance and no URLs.
    :param clock: the reactor (``callLater``, ``seconds``).
    :param http: a treq-like client for pushes, or ``None`` to hold everything
        for pull.
    """

    log = Logger()

    def __init__(
        self,
        sim: Simulator,
        vendors: Mapping[str, Description],
        accounts: Sequence[AccountConfig],
        clock: Any,
        http: Any,
    ) -> None:
        self.sim = sim
        self.clock = clock
        configs = list(accounts) or [
            AccountConfig(a.id, a.secret.decode("utf-8")) for a in sim.accounts.values()
        ]
        hooks = SimulatorHooks(sim)
        self.hooks = hooks
        self.vendors = {
            name: VendorSimulator(
                desc, [vendor_account(c, name) for c in configs], clock, http, hooks
            )
            for name, desc in sorted(vendors.items())
        }

    def vendor_for(self, protocol: str) -> VendorSimulator | None:
        """The vendor *protocol* names (``NAME`` or ``http:NAME``), if served."""
        name = protocol.removeprefix(PROTOCOL_PREFIX)
        return self.vendors.get(name)

    def inject_mo(
        self, vendor: VendorSimulator, account: str, sender: str, to: str, content: str
    ) -> dict[str, Any]:
        """An MO from *sender* to *account* at *vendor*; *to* is its extension field.

        :raises KeyError: for an unknown account.
        :raises ValueError: when the vendor has no MOs.
        """
        delivery = vendor.inject_mo(account, sender, content, to)
        self.sim.count(
            self.sim.accounts[account], "mos", protocol=PROTOCOL_PREFIX + vendor.desc.name
        )
        return {
            "protocol": PROTOCOL_PREFIX + vendor.desc.name,
            "segments": 1,
            "msg_ids": [],
            "delivery": delivery,
        }

    def stats(self) -> dict[str, Any]:
        """Per vendor: requests, pushes, and each account's balance and pending records."""
        out: dict[str, Any] = {}
        for name, vendor in self.vendors.items():
            accounts = {}
            for account_id, acct in vendor.accounts.items():
                reports, mos = vendor.pending_counts(account_id)
                accounts[account_id] = {
                    "balance": dict(acct.products),
                    "pending_reports": reports,
                    "pending_mos": mos,
                }
            out[name] = {
                "title": vendor.desc.title,
                "requests": vendor.requests,
                "pushed": vendor.pushed,
                "push_failures": vendor.push_failures,
                "reports_waiting": vendor.reports_waiting,
                "accounts": accounts,
            }
        return out

    def resource(self) -> Resource:
        """The root resource: each vendor under ``/NAME/``."""
        root = Resource()
        for name, vendor in self.vendors.items():
            root.putChild(name.encode("utf-8"), _FaultyVendor(self, vendor))
        return root


def vendor_site(
    sim: Simulator,
    vendors: Mapping[str, Description],
    accounts: Sequence[AccountConfig],
    reactor: Any,
    http: Any,
) -> Site:
    """A ``Site`` serving every vendor in *vendors* for *sim* (see :class:`VendorHub`).

    The hub is attached as ``sim.vendors``, which routes vendor MOs and lists
    the vendors in the control API.  The access log leaves out query strings
    (vendor requests carry passwords in them).
    """
    hub = VendorHub(sim, vendors, accounts, reactor, http)
    sim.vendors = hub
    site = Site(hub.resource(), logFormatter=path_only_log_formatter)
    site.noisy = False
    return site


class _FaultyVendor(Resource):
    """One vendor's endpoints with the simulator's response faults applied."""

    isLeaf = True
    log = Logger()

    def __init__(self, hub: VendorHub, vendor: VendorSimulator) -> None:
        super().__init__()
        self.hub = hub
        self.vendor = vendor
        self.inner = vendor.resource()
        #: Requests seen per connection, for ``disconnect_after_pdus``.
        self.seen: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()

    def render(self, request: Request) -> bytes | int:
        sim = self.hub.sim
        faults = sim.policy.faults
        limit = faults.disconnect_after_pdus
        channel = request.channel
        seen = self.seen.get(channel, 0) + 1
        self.seen[channel] = seen
        if limit and seen >= limit:
            self.log.info(
                "fault: vendor {vendor}: dropping a connection after {n} requests",
                vendor=self.vendor.desc.name,
                n=limit,
            )
            request.transport.loseConnection()  # type: ignore[union-attr]
            return NOT_DONE_YET
        hooks = self.hub.hooks
        hooks.take_trigger()
        body: bytes = self.inner.render(request)
        trigger = hooks.take_trigger()
        path = "/" + "/".join(p.decode("utf-8", "replace") for p in request.postpath or [])
        if not self.vendor.sends_at(path):
            return body
        if trigger is not None:
            if trigger.close or trigger.terminate or trigger.nack:
                # HTTP has no terminate request and no generic nack: closed too.
                sim.count(self._account(request), "links_closed")
                request.transport.loseConnection()  # type: ignore[union-attr]
                return NOT_DONE_YET
            if trigger.no_response:
                # Held open, never answered: the client's own timeout ends it.
                sim.count(self._account(request), "responses_dropped")
                return NOT_DONE_YET
            delay = trigger.response_delay_s
        elif faults.draw_drop(sim.rng):
            sim.count(self._account(request), "responses_dropped")
            request.transport.loseConnection()  # type: ignore[union-attr]
            return NOT_DONE_YET
        else:
            delay = faults.response_delay_s
        if delay:
            call = self.hub.clock.callLater(delay, _finish, request, body)
            request.notifyFinish().addErrback(lambda _: _cancel(call))
            return NOT_DONE_YET
        return body

    def _account(self, request: Request) -> Any:
        """The simulator account a request names, if it is one (for counters)."""
        sim = self.hub.sim
        for value in (request.args or {}).values():
            for item in value:
                account = sim.accounts.get(item.decode("utf-8", "replace"))
                if account is not None:
                    return account
        return None


def _finish(request: Request, body: bytes) -> None:
    request.write(body)
    request.finish()


def _cancel(call: IDelayedCall) -> None:
    if call.active():
        call.cancel()
