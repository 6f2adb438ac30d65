"""Client → simulator over real loopback sockets, for each shipped vendor and a
vendor file written in the test: send, reports by push and by pull, MOs, balance,
and the failures a real network gives (refused, timeout, HTML page)."""

from __future__ import annotations

from typing import Any

from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.internet.defer import Deferred, DeferredQueue
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site

from smsgw.vendor.answers import MoRecord, ReportRecord
from smsgw.vendor.client import VendorClient, VendorError
from smsgw.vendor.description import Description, Outcome
from smsgw.vendor.loader import load_string
from smsgw.vendor.sim import DefaultHooks, VendorAccount, VendorSimulator
from tests.vendor import shipped

NUMBERS = ("13800138000", "13900139000")
TIMEOUT_S = 8.0

FIFTH = """<?xml version="1.0" encoding="UTF-8"?>
<vendor name="fifth">
  <title>A vendor written in the test: JSON in, JSON out</title>
  <limits concurrency="2"/>
  <password form="md5-hex"/>
  <encoding transfer="url-utf8"/>
  <operation name="send" kind="send" path="/v2/sms" method="POST" body="json"
             max-numbers="3" separator=";">
    <param name="key" role="account"/>
    <param name="sig" role="password"/>
    <param name="to" role="mobiles"/>
    <param name="body" role="content"/>
    <param name="dlr" role="need-report" true="yes" false="no"/>
    <answer format="json" code="status" id="ticket"/>
  </operation>
  <operation name="credit" kind="balance" path="/v2/credit" method="POST" body="xml"
             xml-root="q">
    <param name="key" role="account"/>
    <param name="sig" role="password"/>
    <answer format="xml" code="status" id="credit"/>
  </operation>
  <codes>
    <code value="OK" outcome="accepted" sim="ok">fine</code>
    <code value="AUTH" outcome="auth" sim="bad-password">bad key</code>
    <code value="MANY" outcome="rejected" sim="too-many-numbers">too many</code>
    <code value="MISSING" outcome="rejected" sim="missing">missing</code>
    <code value="BROKE" outcome="balance" sim="no-balance">no credit</code>
  </codes>
  <reports push="true" delivered="delivered" failed="failed">
    <field role="msg-id" name="ticket"/>
    <field role="mobile" name="to"/>
    <field role="stat" name="state"/>
  </reports>
</vendor>
"""


def within(d: Deferred[Any], seconds: float = TIMEOUT_S) -> Deferred[Any]:
    """*d*, failed with TimeoutError after *seconds* of real time."""
    return d.addTimeout(seconds, reactor)


class LoopbackCase(TestCase):
    """A simulator and a push receiver on loopback ports, and a client."""

    def start(self, desc: Description, *, push: bool = True) -> None:
        self.desc = desc
        self.sim_clock = Clock()
        self.sim_clock.advance(1_700_000_000)
        pool = HTTPConnectionPool(reactor, persistent=False)
        self.addCleanup(pool.closeCachedConnections)
        self.http = HTTPClient(Agent(reactor, pool=pool))
        self.events: DeferredQueue[ReportRecord | MoRecord] = DeferredQueue()
        # The client's push receiver: /report and /mo.
        self.client = VendorClient(desc, "acct", "s3cret", "http://127.0.0.1:1", self.http, reactor)
        root = Resource()
        root.putChild(b"report", self.client.push_resource("report", self.events.put))
        if desc.mos is not None:
            root.putChild(b"mo", self.client.push_resource("mo", self.events.put))
        receiver = reactor.listenTCP(0, Site(root), interface="127.0.0.1")
        self.addCleanup(receiver.stopListening)
        base = f"http://127.0.0.1:{receiver.getHost().port}"
        account = VendorAccount(
            "acct",
            "s3cret",
            products={"p1": 1000},
            report_url=f"{base}/report" if push else None,
            mo_url=f"{base}/mo" if push else None,
        )
        self.hooks = DefaultHooks(1.0)
        self.sim = VendorSimulator(desc, [account], self.sim_clock, self.http, self.hooks)
        port = reactor.listenTCP(0, self.sim.site(), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.client.base_url = f"http://127.0.0.1:{port.getHost().port}"
        self.client.product = "p1"

    async def send_and_report(self) -> None:
        """Send to two numbers; each gets a delivered report pushed back."""
        results = await within(self.client.send(NUMBERS, "验证码 1234", report=True))
        [batch] = results
        self.assertEqual(
            (batch.accepted, batch.outcome, batch.numbers), (True, Outcome.ACCEPTED, NUMBERS)
        )
        self.assertEqual(len(set(batch.msg_ids)), 1)
        self.sim_clock.advance(1.0)
        got = [await within(self.events.get()) for _ in NUMBERS]
        self.assertEqual(sorted(r.number for r in got), sorted(NUMBERS))
        for rec in got:
            assert isinstance(rec, ReportRecord)
            self.assertEqual((rec.msg_id, rec.delivered), (batch.msg_ids[0], True))

    async def balance_goes_down(self) -> None:
        """The balance query sees the parts the sends used."""
        result = await within(self.client.balance())
        self.assertTrue(result.ok, result.reason)
        self.assertEqual(sum(result.amounts.values()), self.sim.balance("acct", "p1"))
        self.assertLess(self.sim.balance("acct", "p1"), 1000)

    async def mo_pushed(self) -> None:
        """An injected MO arrives at the push resource."""
        self.sim.inject_mo("acct", NUMBERS[0], "退订", "01")
        mo = await within(self.events.get())
        self.assertEqual((mo.number, mo.text), (NUMBERS[0], "退订"))


class SompTests(LoopbackCase):
    """Seed 001's /mt /mo gateway."""

    async def test_push(self) -> None:
        """Send, report and MO by push."""
        self.start(shipped("somp"))
        await self.send_and_report()
        await self.mo_pushed()

    async def test_pull(self) -> None:
        """Send, then the report and an MO by /mo pull."""
        self.start(shipped("somp"), push=False)
        [batch] = await within(self.client.send(NUMBERS[:1], "abc"))
        self.sim_clock.advance(1.0)
        self.sim.inject_mo("acct", NUMBERS[0], "您好", "8888")
        records = await within(self.client.pull())
        report, mo = records
        assert isinstance(report, ReportRecord) and isinstance(mo, MoRecord)
        self.assertEqual((report.msg_id, report.delivered), (batch.msg_ids[0], True))
        self.assertEqual((mo.text, mo.extension), ("您好", "8888"))
        self.assertEqual(await within(self.client.pull()), [])

    async def test_batches(self) -> None:
        """250 numbers go as requests of 100, 100 and 50."""
        self.start(shipped("somp"), push=False)
        numbers = [f"138{i:08d}" for i in range(250)]
        results = await within(self.client.send(numbers, "hello", report=False))
        self.assertEqual([len(r.numbers) for r in results], [100, 100, 50])
        self.assertTrue(all(r.accepted for r in results))
        self.assertEqual(self.sim.balance("acct", "p1"), 750)

    async def test_mass_send(self) -> None:
        """Different text per number (mobile#ex#text records)."""
        self.start(shipped("somp"), push=False)
        [batch] = await within(self.client.send_batch([(NUMBERS[0], "甲"), (NUMBERS[1], "乙")]))
        self.assertTrue(batch.accepted, batch.reason)
        self.assertEqual(
            [s[3:] for s in self.hooks.submits], [(NUMBERS[0], "甲"), (NUMBERS[1], "乙")]
        )

    async def test_no_balance_operation(self) -> None:
        """somp has no balance query over HTTP: the result says so."""
        self.start(shipped("somp"))
        result = await within(self.client.balance())
        self.assertFalse(result.ok)
        self.assertIn("no balance", result.reason)

    async def test_bad_password(self) -> None:
        """A wrong password is an auth failure, not retried, with the vendor's text."""
        self.start(shipped("somp"))
        self.client._secret = "wrong"
        [batch] = await within(self.client.send(NUMBERS[:1], "x"))
        self.assertEqual((batch.accepted, batch.retry, batch.code), (False, False, "9101"))
        self.assertEqual(batch.reason, "验证失败")
        with self.assertRaises(VendorError):
            await within(self.client.pull())


class BatchsmTests(LoopbackCase):
    """Seed 002's HttpBatchSendSM."""

    async def test_push_and_balance(self) -> None:
        """Send, reports pushed, per-product balance."""
        self.start(shipped("batchsm"))
        await self.send_and_report()
        await self.balance_goes_down()


class Kx1680Tests(LoopbackCase):
    """Seed 003's 1680 API."""

    async def test_push_balance_mo(self) -> None:
        """Send, report and MO pushed, balance.do."""
        self.start(shipped("kx1680"))
        await self.send_and_report()
        await self.balance_goes_down()
        await self.mo_pushed()

    async def test_pack_and_template(self) -> None:
        """sendPackSms and sendDIYSms are accepted."""
        self.start(shipped("kx1680"))
        [pack] = await within(
            self.client.send_batch([(NUMBERS[0], "一"), (NUMBERS[1], "二")], report=False)
        )
        [diy] = await within(
            self.client.send_template("{A}好", [(NUMBERS[0], ["李"])], report=False)
        )
        self.assertEqual((pack.accepted, diy.accepted), (True, True))
        # sendPackSms and sendDIYSms answer "1" alone: no message id to match by.
        self.assertEqual((pack.msg_ids, diy.msg_ids), ((None, None), (None,)))


class GenericTests(LoopbackCase):
    """Seed 000's success:/error: vendor."""

    async def test_push_balance_mo(self) -> None:
        """Send, report and MO pushed, balance."""
        self.start(shipped("generic"))
        await self.send_and_report()
        await self.balance_goes_down()
        await self.mo_pushed()


class FifthVendorTests(LoopbackCase):
    """Adding a vendor is a new XML file only."""

    async def test_written_in_the_test(self) -> None:
        """A JSON/XML vendor described in this test sends, reports and answers balance."""
        path = self.mktemp()
        with open(path, "w", encoding="utf-8") as f:
            f.write(FIFTH)
        with open(path, "rb") as f:
            desc = load_string(f.read(), path)
        self.start(desc)
        await self.send_and_report()
        await self.balance_goes_down()
        results = await within(
            self.client.send([f"1380000000{i}" for i in range(7)], "x", report=False)
        )
        self.assertEqual([len(r.numbers) for r in results], [3, 3, 1])


class Slow(Resource):
    """Never answers (for the timeout test)."""

    isLeaf = True

    def render(self, request: Any) -> Any:
        return NOT_DONE_YET


class Html(Resource):
    """A proxy's HTML error page."""

    isLeaf = True

    def __init__(self, code: int) -> None:
        super().__init__()
        self.code = code

    def render(self, request: Any) -> bytes:
        request.setResponseCode(self.code)
        return b"<!DOCTYPE html><html><body>Bad Gateway</body></html>"


class FailureTests(TestCase):
    """Network failures are classified, never raised."""

    def client_for(self, port: int, timeout_s: float = 5.0) -> VendorClient:
        pool = HTTPConnectionPool(reactor, persistent=False)
        self.addCleanup(pool.closeCachedConnections)
        http = HTTPClient(Agent(reactor, pool=pool))
        return VendorClient(
            shipped("batchsm"),
            "a",
            "pw",
            f"http://127.0.0.1:{port}",
            http,
            reactor,
            timeout_s=timeout_s,
        )

    def serve(self, resource: Resource) -> int:
        port = reactor.listenTCP(0, Site(resource), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        return int(port.getHost().port)

    async def test_refused(self) -> None:
        """A refused connection may be retried."""
        port = reactor.listenTCP(0, Site(Resource()), interface="127.0.0.1")
        number = port.getHost().port
        await port.stopListening()
        [batch] = await within(self.client_for(number).send(NUMBERS, "x"))
        self.assertEqual((batch.accepted, batch.retry), (False, True))
        self.assertIn("cannot connect", batch.reason)

    async def test_timeout(self) -> None:
        """No answer within the timeout may be retried."""
        [batch] = await within(self.client_for(self.serve(Slow()), 0.2).send(NUMBERS, "x"))
        self.assertEqual((batch.retry, batch.reason), (True, "timeout"))

    async def test_password_never_logged(self) -> None:
        """A failed request logs the vendor, account and reason, never the password."""
        from twisted.logger import globalLogPublisher

        events: list[dict[str, Any]] = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        client = self.client_for(self.serve(Html(502)))
        client._secret = "Sup3rS3cret"
        await within(client.send(NUMBERS, "x"))
        await within(client.balance())
        self.assertTrue(events)
        from twisted.logger import formatEvent

        ours = [e for e in events if str(e.get("log_namespace", "")).startswith("smsgw.")]
        self.assertTrue(ours)
        for event in ours:
            self.assertNotIn("Sup3rS3cret", formatEvent(event) + repr(event))

    async def test_html_502(self) -> None:
        """A 502 HTML page may be retried; a 200 HTML page may not."""
        [batch] = await within(self.client_for(self.serve(Html(502))).send(NUMBERS, "x"))
        self.assertEqual(batch.retry, True)
        self.assertIn("HTML", batch.reason)
        [batch] = await within(self.client_for(self.serve(Html(200))).send(NUMBERS, "x"))
        self.assertEqual(batch.retry, False)
