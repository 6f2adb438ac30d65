"""SP role → HTTP vendor channel → simulated vendor → reports and MOs back, over loopback.

A whole ``--role=sp`` tree (SQLite, gateway, HTTP API) with one channel per
shipped vendor, each talking to a :class:`~smsgw.vendor.sim.VendorSimulator`
of that vendor on a real loopback port.  Reports and MOs come back by push
(to the SP's ``/push/CHANNEL/…``) for every vendor, and by pull for seed
001's ``/mo``; the balance is asked through each vendor's file.  Every wait
is bounded.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.resource import Resource
from twisted.web.server import Site

from smsgw.config import Config, parse_upstream_url
from smsgw.roles.sp import SpService
from smsgw.vendor.sim import DefaultHooks, VendorAccount, VendorSimulator
from tests.sp.test_channel import peek, within
from tests.vendor import shipped

LOOPBACK = "tcp:0:interface=127.0.0.1"

#: channel → (vendor, number routed to it, reports pushed)
CHANNELS = {
    "somp": ("somp", "13800138001", True),
    "somp-pull": ("somp", "13800138002", False),
    "batchsm": ("batchsm", "13900139001", True),
    "kx1680": ("kx1680", "13700137001", True),
    "generic": ("generic", "13600136001", True),
}


class VendorEndToEndTests(TestCase):
    """Every shipped vendor, through a real SP and a real HTTP simulator."""

    timeout = 30

    async def setUp(self) -> None:  # type: ignore[override]
        pool = HTTPConnectionPool(reactor, persistent=False)
        self.addCleanup(pool.closeCachedConnections)
        self.http = HTTPClient(Agent(reactor, pool=pool))
        # The vendors, each under /NAME on one simulator port.
        self.sims: dict[str, VendorSimulator] = {}
        root = Resource()
        for vendor in ("somp", "batchsm", "kx1680", "generic"):
            accounts = [VendorAccount("acct", "secret"), VendorAccount("pull", "secret")]
            sim = VendorSimulator(
                shipped(vendor), accounts, reactor, self.http, DefaultHooks(delay_s=0.05)
            )
            self.sims[vendor] = sim
            root.putChild(vendor.encode(), sim.resource())
        from twisted.internet.endpoints import serverFromString

        port = await serverFromString(reactor, LOOPBACK).listen(Site(root))
        self.addCleanup(port.stopListening)
        sim_port = port.getHost().port
        upstreams = []
        for channel, (vendor, number, pushed) in CHANNELS.items():
            account = "acct" if pushed else "pull"
            url = parse_upstream_url(
                f"http://{account}:secret@127.0.0.1:{sim_port}/{vendor}"
                f"?vendor={vendor}&pull=1&balance_cache=0&src_id=10690"
            )
            upstreams.append(
                url.__class__(**{**_fields(url), "name": channel, "routes": (number,)})
            )
        self.service = SpService(Config(), upstreams, LOOPBACK, self.mktemp(), reactor)
        self.service.startService()

        async def stop() -> None:
            if self.service.running:
                await within(self.service.stopService())

        self.addCleanup(stop)
        await within(peek(self.service.ready))
        web = self.service._web
        assert web is not None
        sp_port = (await within(peek(web._waitingForPort))).getHost().port  # type: ignore[attr-defined]
        self.base = f"http://127.0.0.1:{sp_port}"
        for vendor, sim in self.sims.items():
            # The push URLs the vendor's portal would hold for the "acct" account.
            sim.accounts["acct"].report_url = f"{self.base}/push/{vendor}/report"
            sim.accounts["acct"].mo_url = f"{self.base}/push/{vendor}/mo"

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs["data"] = json.dumps(body).encode()
            kwargs["headers"] = {b"Content-Type": [b"application/json"]}
        response = await within(self.http.request(method, self.base + path, **kwargs))
        text = await within(response.text("utf-8"))
        return response.code, json.loads(text) if text else None

    async def poll(self, check: Callable[[], Awaitable[Any]], what: str) -> Any:
        """Await *check()* every 50 ms until it is truthy; fail after 10 s."""
        deadline = reactor.seconds() + 10.0
        while True:
            got = await check()
            if got:
                return got
            if reactor.seconds() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await deferLater(reactor, 0.05, lambda: None)

    async def inbound(self) -> list[dict[str, Any]]:
        code, body = await self.call("GET", "/v1/inbound?limit=1000")
        self.assertEqual(code, 200)
        items: list[dict[str, Any]] = body["items"]
        return items

    async def test_send_report_mo_each_vendor(self) -> None:
        """Each vendor: the message is sent, its report comes back, an MO arrives."""
        sent = {}
        for channel, (_, number, _) in CHANNELS.items():
            code, body = await self.call(
                "POST", "/v1/sms", {"to": number, "content": f"验证码 1234 {channel}"}
            )
            self.assertEqual(code, 202, body)
            sent[channel] = body["id"]
        seen: dict[str, dict[str, Any]] = {}

        async def reports() -> bool:
            for item in await self.inbound():
                if item["type"] == "report":
                    seen[item["channel"]] = item
            return len(seen) == len(CHANNELS)

        await self.poll(reports, "a report from every vendor")
        for channel, (_, number, _) in CHANNELS.items():
            report = seen[channel]
            self.assertEqual((report["message_id"], report["to"]), (sent[channel], number))
            self.assertEqual(report["segment_status"], "delivered", report)
            code, view = await self.call("GET", f"/v1/sms/{sent[channel]}")
            self.assertEqual(view["status"], "delivered", view)
        texts = {
            (v, s[3], s[4])
            for v, sim in self.sims.items()
            for s in sim.hooks.submits  # type: ignore[attr-defined]
        }
        for channel, (vendor, number, _) in CHANNELS.items():
            self.assertIn((vendor, number, f"验证码 1234 {channel}"), texts)
        # MOs: pushed for four vendors, pulled for somp's pull account.
        for channel, (vendor, number, pushed) in CHANNELS.items():
            if self.sims[vendor].desc.mos is not None:
                self.sims[vendor].inject_mo(
                    "acct" if pushed else "pull", number, f"TD {channel}", "7"
                )
        mos: dict[str, dict[str, Any]] = {}

        async def got_mos() -> bool:
            for item in await self.inbound():
                if item["type"] == "mo":
                    mos[item["channel"]] = item
            wanted = {c for c, (v, _, _) in CHANNELS.items() if self.sims[v].desc.mos is not None}
            return set(mos) >= wanted

        await self.poll(got_mos, "an MO from every vendor that has MOs")
        for channel, item in mos.items():
            self.assertEqual((item["text"], item["to"]), (f"TD {channel}", "106907"))

    async def test_balance_each_vendor(self) -> None:
        """GET /v1/balance asks every vendor that has a balance query, through its file."""
        code, body = await self.call("GET", "/v1/balance")
        self.assertEqual(code, 200)
        by_channel = {c["channel"]: c for c in body["channels"]}
        self.assertEqual(set(by_channel), set(CHANNELS))
        for channel, (vendor, _, _) in CHANNELS.items():
            entry = by_channel[channel]
            self.assertEqual(entry["protocol"], f"http:{vendor}")
            if any(op.kind.value == "balance" for op in self.sims[vendor].desc.operations):
                self.assertEqual(entry["balance"], 1_000_000, entry)
            else:
                self.assertIsNone(entry["balance"])
                self.assertIn("no balance", entry["reason"])
        # A message spends a part; the next (uncached) query sees it.
        code, sent = await self.call("POST", "/v1/sms", {"to": "13900139001", "content": "x"})

        async def spent() -> Any:
            _code, body = await self.call("GET", "/v1/balance?channel=batchsm")
            return body["channels"][0]["balance"] == 999_999

        await self.poll(spent, "the balance to go down")

        async def reported() -> bool:
            return any(i["message_id"] == sent["id"] for i in await self.inbound())

        await self.poll(reported, "its report (the vendor's push is over)")

    async def test_refusal_fails_the_message(self) -> None:
        """A vendor's permanent refusal fails the message with the vendor's code and text."""
        self.sims["batchsm"].accounts["acct"].secret = "changed"
        code, body = await self.call("POST", "/v1/sms", {"to": "13900139001", "content": "x"})
        self.assertEqual(code, 202)

        async def failed() -> Any:
            _code, view = await self.call("GET", f"/v1/sms/{body['id']}")
            return view if view["status"] == "failed" else None

        view = await self.poll(failed, "the message to fail")
        [segment] = view["recipients"][0]["segments"]
        self.assertIn("batchsm vendor code", segment["error"])


def _fields(config: Any) -> dict[str, Any]:
    import attrs

    return attrs.asdict(config, recurse=False)
