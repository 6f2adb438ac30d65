"""Both SMPP halves together: the gateway's smpp channels against the simulator's SMSC face.

Real loopback sockets: the SP's :class:`Channel` binds to the face (trx, or
tx+rx), its messages are logged by the simulator and their receipts come
back matched (with the face writing hex ids and decimal receipt ids, and the
channel told so), a long message in each MT form arrives whole, and the
simulator's MOs in each long form are stored by the gateway whole.  The
ismg-sim service serves the face on ``--smpp``.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.task import deferLater

from smsgw.config import load_config, parse_upstream_url
from smsgw.protocols.smpp.face import IdForm, SmppFaceOptions
from smsgw.sp.channel import Channel
from smsgw.sp.gateway import Gateway, Item, Mode, SendRequest
from smsgw.sp.routing import Router, RouteSpec
from smsgw.store.memory import MemoryStore
from smsgw.store.model import InboundKind, Message, SegmentState
from smsgw.tap import Options, makeService
from tests.protocols.smpp.facekit import PASSWORD, SYSTEM_ID, FaceTestCase, reactor

SRC = "10690001"
DEST = "13800138000"
LONG = "Long message, part after part, in GSM 03.38: @ _ { } ~ " * 6


class GatewayTests(FaceTestCase):
    """The gateway sends through an smpp channel to the simulator's SMSC and gets receipts."""

    timeout = 30

    def gateway(self, query: str = "") -> Gateway:
        """A started gateway with one smpp channel to the face (numbers 138… routed to it)."""
        self.store = MemoryStore()
        url = (
            f"smpp://{SYSTEM_ID}:{PASSWORD.decode()}@127.0.0.1:{self.port}"
            f"?src_id={SRC}&response_timeout_s=5&{query}"
        )
        channels = {"intl": Channel(parse_upstream_url(url), reactor, name="intl")}
        router = Router([RouteSpec("intl", "smpp", routes=("138",))])
        gateway = Gateway(self.store, channels, router, reactor)
        gateway.startService()

        async def stop() -> None:
            if gateway.running:
                await gateway.stopService()

        self.addCleanup(stop)
        self.gw = gateway
        return gateway

    async def send(self, text: str) -> Message:
        accepted = await self.gw.accept(
            SendRequest(items=(Item(DEST),), content=text, mode=Mode.QUEUE)
        )
        return accepted.message

    async def wait_states(self, message: Message, *states: SegmentState) -> list[Any]:
        """Poll until every segment of *message* is in *states* (10 s at most)."""
        deadline = reactor.seconds() + 10.0
        while True:
            stored = await self.store.get_message(message.id)
            assert stored is not None
            segments = [s for r in stored.recipients for s in r.segments]
            if all(s.state in states for s in segments):
                return segments
            if reactor.seconds() > deadline:
                raise AssertionError(f"segments {[s.state for s in segments]}, not {states}")
            await deferLater(reactor, 0.02, lambda: None)

    async def test_hex_ids_decimal_receipts(self) -> None:
        """Hex submit ids and decimal receipt ids on the face, told to the channel: delivered."""
        self.start(options=SmppFaceOptions(message_id=IdForm.HEX, receipt_id_decimal=True))
        self.gateway("submit_id=hex&receipt_id=decimal")
        message = await self.send("Hi @home {ok}")
        [segment] = await self.wait_states(message, SegmentState.DELIVERED)
        [logged] = self.sim.submits()
        self.assertEqual(int(logged["msg_id"], 16), int(segment.msg_id))
        self.assertEqual((logged["protocol"], logged["dest"]), ("smpp", [DEST]))

    async def test_long_forms_and_tx_rx(self) -> None:
        """A long text in the udh, sar and payload forms, over tx+rx binds: each delivered."""
        self.start()
        sent = 0
        for form in ("udh", "sar", "payload"):
            self.gateway(f"bind=tx%2Brx&long={form}")
            message = await self.send(LONG)
            segments = await self.wait_states(message, SegmentState.DELIVERED)
            if form == "payload":
                self.assertEqual(len(segments), 1)
            else:
                self.assertGreater(len(segments), 1, form)
            sent += len(segments)
            await self.gw.stopService()
        logged = self.sim.submits()
        self.assertEqual(len(logged), sent)
        self.assertTrue(all(entry["protocol"] == "smpp" for entry in logged))

    async def test_mo_in_each_form(self) -> None:
        """The simulator's MOs in udh, sar and payload form are stored whole by the gateway."""
        self.start()
        self.gateway()
        await self._bound()
        for form in ("udh", "sar", "payload"):
            await self.sim.inject_mo(SYSTEM_ID, DEST, SRC, LONG, "smpp", form)
        deadline = reactor.seconds() + 10.0
        while True:
            items = await self.store.list_inbound(0, 10)
            texts = [i.fields["text"] for i in items if i.kind is InboundKind.MO]
            if len(texts) == 3 or reactor.seconds() > deadline:
                break
            await deferLater(reactor, 0.02, lambda: None)
        self.assertEqual(texts, [LONG] * 3)

    async def _bound(self) -> None:
        deadline = reactor.seconds() + 10.0
        while not self.sim.accounts[SYSTEM_ID].sessions:
            if reactor.seconds() > deadline:
                raise AssertionError("the channel did not bind")
            await deferLater(reactor, 0.02, lambda: None)


class ListenerTests(FaceTestCase):
    """``--smpp`` and the ``smpp`` key of ``[simulator]`` add the SMSC listener."""

    def test_option_and_key(self) -> None:
        """--smpp builds a listener named smpp; without it or the key there is none."""
        options = Options()
        options.parseOptions(["--role=ismg-sim", "--smpp", "tcp:0:interface=127.0.0.1"])
        top = makeService(options)
        self.assertIn("smpp", {service.name for service in top})
        options = Options()
        options.parseOptions(["--role=ismg-sim"])
        self.assertNotIn("smpp", {service.name for service in makeService(options)})
        path = self.mktemp()
        with open(path, "w") as f:
            f.write(
                '[simulator]\nsmpp = "tcp:2775:interface=127.0.0.1"\nsmpp_message_id = "uuid"\n'
            )
        listeners = load_config(path).simulator.listeners
        self.assertEqual(listeners["smpp"], "tcp:2775:interface=127.0.0.1")
