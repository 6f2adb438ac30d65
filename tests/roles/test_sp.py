"""The SP role's service tree (:class:`smsgw.roles.sp.SpService`) end to end on loopback.

No upstream is configured, so the service starts its built-in simulator;
a real HTTP client sends through the API to the SQLite-backed gateway and
reads the delivery back (an MT and its report).  Everything
listens on ``127.0.0.1`` and every wait is bounded.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.client import Agent, HTTPConnectionPool

from smsgw.config import ApiKeyConfig, Config
from smsgw.roles.sp import SpService, UnsafeListen, check_listen
from smsgw.store.interface import StoreClosed
from smsgw.web.limits import ApiSite
from tests.sp.test_channel import peek, within

LOOPBACK = "tcp:0:interface=127.0.0.1"
MOBILE = "13800138000"


class SpServiceTests(TestCase):
    """A whole ``--role=sp`` tree over a temp SQLite file and the built-in simulator."""

    timeout = 10

    async def setUp(self) -> None:  # type: ignore[override]
        self.db = self.mktemp()
        self.service = SpService(Config(), [], LOOPBACK, self.db, reactor)
        self.service.startService()

        async def stop() -> None:
            if self.service.running:
                await within(self.service.stopService())

        self.addCleanup(stop)
        await within(peek(self.service.ready))
        web = self.service._web
        assert web is not None
        port = await within(peek(web._waitingForPort))  # type: ignore[attr-defined]
        self.base = f"http://127.0.0.1:{port.getHost().port}"
        pool = HTTPConnectionPool(reactor, persistent=False)
        self.http = HTTPClient(Agent(reactor, pool=pool))
        self.addCleanup(pool.closeCachedConnections)

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One request to the API; its status and JSON body."""
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs["data"] = json.dumps(body).encode()
            kwargs["headers"] = {b"Content-Type": [b"application/json"]}
        response = await within(self.http.request(method, self.base + path, **kwargs))
        text = await within(response.text("utf-8"))
        return response.code, json.loads(text) if text else None

    async def test_send_and_deliver(self) -> None:
        """POST /v1/sms reaches delivered through the built-in simulator; the report is inbound."""
        self.assertIsNotNone(self.service.simulator)
        code, body = await self.call("POST", "/v1/sms", {"to": MOBILE, "content": "hello"})
        self.assertEqual(code, 202, body)
        message_id = body["id"]

        async def delivered() -> bool:
            code, view = await self.call("GET", f"/v1/sms/{message_id}")
            return code == 200 and view["status"] == "delivered"

        await self._poll(delivered, "the message to be delivered")
        [submit] = self.service.simulator.submits()
        self.assertEqual(submit["text"], "hello")
        code, inbound = await self.call("GET", "/v1/inbound")
        self.assertEqual(code, 200)
        [report] = inbound["items"]
        self.assertEqual(
            (report["type"], report["message_id"], report["stat"], report["to"]),
            ("report", message_id, "DELIVRD", MOBILE),
        )
        code, health = await self.call("GET", "/healthz")
        self.assertEqual((code, health["ok"]), (200, True))

    def test_api_site(self) -> None:
        """The SP API is served by an ApiSite (no form parsing, access lines at debug)."""
        web = self.service._web
        assert web is not None
        self.assertIsInstance(web.factory.wrappedFactory, ApiSite)

    async def test_stop_closes_store(self) -> None:
        """stopService stops the simulator's listener and closes the store."""
        store = self.service.store
        await within(self.service.stopService())
        failure = self.failureResultOf(store.get_message("x"))
        failure.trap(StoreClosed)
        self.assertFalse(self.service._sim_port.connected)
        self.assertFalse(self.service.running)

    async def _poll(self, check: Callable[[], Awaitable[bool]], what: str) -> None:
        """Await *check()* every 50 ms until it is true; fail after 8 s."""
        deadline = reactor.seconds() + 8.0
        while not await check():
            if reactor.seconds() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await deferLater(reactor, 0.05, lambda: None)


class CheckListenTests(SynchronousTestCase):
    """The API is not served beyond loopback without API keys."""

    def test_bare_port_is_loopback(self) -> None:
        """tcp:8080 names no interface, so it binds 127.0.0.1: no API key is needed."""
        self.assertIsNone(check_listen("tcp:8080", ()))
        self.assertIsNone(check_listen("ssl:8443", ()))

    def test_refuses_public_interface_without_keys(self) -> None:
        """An explicit non-loopback interface is refused too."""
        self.assertRaises(UnsafeListen, check_listen, "tcp:8080:interface=0.0.0.0", ())

    def test_allows_with_keys(self) -> None:
        """Every interface is allowed once API keys are configured."""
        keys = [ApiKeyConfig("k", "app")]
        for endpoint in (
            "tcp:8080:interface=0.0.0.0",
            "ssl:8443:interface=0.0.0.0",
            "tcp6:8080:interface=\\:\\:",
        ):
            self.assertRaises(UnsafeListen, check_listen, endpoint, ())
            self.assertIsNone(check_listen(endpoint, keys), endpoint)

    def test_allows_loopback(self) -> None:
        """Loopback endpoints need no key."""
        for endpoint in (
            "tcp:8080:interface=127.0.0.1",
            "tcp:port=8080:interface=localhost",
            "tcp:8080:interface=\\:\\:1",
            "tcp6:8080:interface=\\:\\:1",
            "unix:/tmp/smsgw.sock",
            "systemd:domain=INET:index=0",
        ):
            self.assertIsNone(check_listen(endpoint, ()), endpoint)
        # Any address of 127.0.0.0/8 is loopback; a name that merely starts so is not.
        self.assertIsNone(check_listen("tcp:8080:interface=127.0.0.10", ()))
        for endpoint in ("tcp:8080:interface=localhost.example", "tcp:8080:interface=10.0.0.1"):
            self.assertRaises(UnsafeListen, check_listen, endpoint, ())

    def test_service_refuses_at_construction(self) -> None:
        """SpService itself refuses every interface without keys, and accepts it with keys."""
        public = "tcp:8080:interface=0.0.0.0"
        self.assertRaises(UnsafeListen, SpService, Config(), [], public, "x.db", reactor)
        config = Config(api_keys=(ApiKeyConfig("k", "app"),))
        SpService(config, [], public, "x.db", reactor)


class CompatServiceTests(TestCase):
    """``compat_http``: the seed-001-compatible /mt /mo API beside the JSON API."""

    timeout = 10

    async def test_mt_and_mo(self) -> None:
        """/mt sends through the built-in simulator; /mo gives the report back once."""
        config = Config(api_keys=(ApiKeyConfig("k-1", "app"),))
        service = SpService(config, [], LOOPBACK, self.mktemp(), reactor, compat_http=LOOPBACK)
        service.startService()

        async def stop() -> None:
            if service.running:
                await within(service.stopService())

        self.addCleanup(stop)
        await within(peek(service.ready))
        assert service._compat is not None
        port = await within(peek(service._compat._waitingForPort))  # type: ignore[attr-defined]
        base = f"http://127.0.0.1:{port.getHost().port}"
        pool = HTTPConnectionPool(reactor, persistent=False)
        self.addCleanup(pool.closeCachedConnections)
        http = HTTPClient(Agent(reactor, pool=pool))

        async def get(path: str) -> str:
            response = await within(http.get(base + path))
            text: str = await within(response.text("utf-8"))
            return text

        answer = await get(f"/mt?un=app&pw=k-1&da={MOBILE}&sm=414243&dc=15&rd=1")
        self.assertTrue(answer.startswith("r=0&id="), answer)
        message_id = answer.split("id=")[1]
        deadline = reactor.seconds() + 8.0
        while not (lines := await get("/mo?un=app&pw=k-1&fs=10")):
            if reactor.seconds() > deadline:
                raise AssertionError("timed out waiting for the report")
            await deferLater(reactor, 0.05, lambda: None)
        self.assertIn(f"op=dr&id={message_id}&sa={MOBILE}&su=DELIVRD", lines)
        self.assertEqual(await get("/mo?un=app&pw=k-1"), "")
        self.assertEqual(await get("/mt?un=app&pw=nope&da=1&sm=41"), "r=9101")

    def test_refused_beyond_loopback_without_keys(self) -> None:
        """compat_http beyond loopback needs API keys, like the JSON API."""
        public = "tcp:8090:interface=0.0.0.0"
        self.assertRaises(UnsafeListen, SpService, Config(), [], LOOPBACK, "x.db", reactor, public)
