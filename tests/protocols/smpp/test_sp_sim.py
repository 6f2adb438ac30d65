"""Both SMPP halves together: the SP gateway's smpp channel against the simulator's SMPP face.

Over real loopback sockets: the face answers in hex and writes the
receipt's ``id:`` in decimal, the channel is told so (``submit_id=hex``,
``receipt_id=decimal``), and a GSM text and a long Chinese text are
delivered; an MO the simulator injects in SAR form is stored whole.
"""

from __future__ import annotations

from twisted.internet.task import deferLater

from smsgw.config import parse_upstream_url
from smsgw.protocols.smpp.face import SmppFaceOptions
from smsgw.protocols.smpp.receipt import IdForm
from smsgw.sp.channel import Channel
from smsgw.sp.gateway import Gateway, Item, SendRequest
from smsgw.sp.routing import Router, RouteSpec
from smsgw.store.memory import MemoryStore
from smsgw.store.model import InboundKind, Message, SegmentState
from tests.protocols.smpp.facekit import PASSWORD, SYSTEM_ID, FaceTestCase, reactor
from tests.sp import test_channel as sp_tests

DEST = "13800138000"
SRC = "10690001"


class SpAgainstSimulatorTests(FaceTestCase):
    """The gateway's smpp channel and the simulator's SMSC face."""

    timeout = 30

    async def states(self, message: Message) -> list[SegmentState]:
        stored = await self.store.get_message(message.id)
        assert stored is not None
        return [s.state for r in stored.recipients for s in r.segments]

    async def wait_delivered(self, message: Message) -> None:
        deadline = reactor.seconds() + 10.0
        while set(await self.states(message)) != {SegmentState.DELIVERED}:
            self.assertLess(reactor.seconds(), deadline, await self.states(message))
            await deferLater(reactor, 0.02, lambda: None)

    async def test_submit_receipt_and_mo(self) -> None:
        """Hex ids, decimal receipt ids: delivered; a SAR MO from the simulator is stored whole."""
        options = SmppFaceOptions(message_id=IdForm.HEX, receipt_id_decimal=True)
        self.start(options=options)
        self.store = MemoryStore()
        url = (
            f"smpp://{SYSTEM_ID}:{PASSWORD.decode()}@127.0.0.1:{self.port}?src_id={SRC}"
            "&response_timeout_s=5&submit_id=hex&receipt_id=decimal"
        )
        channel = Channel(parse_upstream_url(url), reactor, name="intl")
        router = Router([RouteSpec("intl", "smpp", ("138",))])
        gateway = Gateway(self.store, {"intl": channel}, router, reactor)
        gateway.startService()
        self.addCleanup(gateway.stopService)
        await sp_tests.wait_until(channel.ready, "the bind", timeout_s=10.0)
        messages = []
        for text in ("Hello @home {1}", "长短信" * 40):
            accepted = await gateway.accept(SendRequest(items=(Item(DEST),), content=text))
            messages.append(accepted.message)
        for message in messages:
            await self.wait_delivered(message)
        stored = await self.store.get_message(messages[0].id)
        assert stored is not None
        msg_id = stored.recipients[0].segments[0].msg_id
        self.assertTrue(msg_id and msg_id.isdigit(), msg_id)

        long_mo = "上行" * 100
        await self.sim.inject_mo(SYSTEM_ID, DEST, SRC, long_mo, "smpp", "sar")

        async def mo_texts() -> list[str]:
            items = await self.store.list_inbound(0, 10)
            return [i.fields["text"] for i in items if i.kind is InboundKind.MO]

        deadline = reactor.seconds() + 10.0
        while await mo_texts() != [long_mo]:
            self.assertLess(reactor.seconds(), deadline, await mo_texts())
            await deferLater(reactor, 0.02, lambda: None)
