"""The SP gateway with smpp:// channels against a scripted SMSC, over real loopback sockets.

The SMSC (:mod:`tests.protocols.smpp.smsc`) is the engine in the server
role; the SP side is the real :class:`~smsgw.sp.gateway.Gateway` over a
:class:`~smsgw.store.memory.MemoryStore` with :class:`~smsgw.sp.channel.Channel`
channels, as the ``sp`` role builds them.  The generic parts (routing,
the three send modes, templates, callbacks, limits) are the same code for
every protocol; these tests show them working for smpp channels.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase

from smsgw.config import parse_upstream_url
from smsgw.protocols.smpp import pdus as p
from smsgw.protocols.smpp.constants import BindKind, EsmClass, MessageState, Status, Tag
from smsgw.protocols.smpp.content import body_of
from smsgw.protocols.smpp.tlv import encode_value, sar
from smsgw.protocols.tlv import Tlv
from smsgw.sp.channel import Channel
from smsgw.sp.gateway import Gateway, Item, Mode, SendRequest
from smsgw.sp.routing import Router, RouteSpec
from smsgw.store.memory import MemoryStore
from smsgw.store.model import InboundKind, Message, SegmentState, Template, TemplateEngine
from smsgw.text.gsm0338 import decode_gsm, encode_gsm
from tests.protocols.smpp.smsc import PASSWORD, SYSTEM_ID, ScriptedSmsc, listen_smsc, reactor
from tests.sp import test_channel as sp_tests

DEST = "13800138000"
SRC = "10690001"


def tlv(tag: int, value: int | bytes) -> Tlv:
    return Tlv(tag, encode_value(tag, value))


async def wait_until(predicate: Any, what: str) -> None:
    """Poll *predicate* for 10 s at most (loopback under a loaded machine)."""
    await sp_tests.wait_until(predicate, what, timeout_s=10.0)


class SmppGatewayTests(TestCase):
    """SUBMITs, receipts and MOs through the gateway and its smpp channels."""

    timeout = 30

    def start(self, smsc: ScriptedSmsc, **queries: str) -> Gateway:
        """A started gateway with one smpp channel per *queries* item (name -> URL query)."""
        port = listen_smsc(self, smsc)
        self.store = MemoryStore()
        channels = {}
        for name, query in queries.items():
            url = (
                f"smpp://{SYSTEM_ID}:{PASSWORD}@127.0.0.1:{port}"
                f"?src_id={SRC}&response_timeout_s=2&{query}"
            )
            channels[name] = Channel(parse_upstream_url(url), reactor, name=name)
        # The first channel takes the test numbers; the others are picked by name.
        routes = [
            RouteSpec(name, "smpp", routes=("138",) if i == 0 else ())
            for i, name in enumerate(queries)
        ]
        gateway = Gateway(self.store, channels, Router(routes), reactor)
        gateway.startService()

        async def stop() -> None:
            if gateway.running:
                await gateway.stopService()

        self.addCleanup(stop)
        self.gateway = gateway
        return gateway

    async def send(self, text: str, *, to: str = DEST, channel: str | None = None) -> Message:
        accepted = await self.gateway.accept(
            SendRequest(items=(Item(to),), content=text, mode=Mode.QUEUE, channel=channel)
        )
        return accepted.message

    async def states(self, message: Message) -> list[SegmentState]:
        stored = await self.store.get_message(message.id)
        assert stored is not None
        return [s.state for r in stored.recipients for s in r.segments]

    async def wait_states(self, message: Message, *states: SegmentState) -> None:
        """Poll until every segment of *message* is in *states* (10 s at most)."""
        deadline = reactor.seconds() + 10.0
        seen = await self.states(message)
        while not all(s in states for s in seen):
            if reactor.seconds() > deadline:
                raise AssertionError(f"segments {seen}, waiting for {states}")
            await deferLater(reactor, 0.01, lambda: None)
            seen = await self.states(message)

    async def msg_id(self, message: Message) -> str | None:
        stored = await self.store.get_message(message.id)
        assert stored is not None
        return stored.recipients[0].segments[0].msg_id

    async def test_trx_gsm_text_and_text_receipt(self) -> None:
        """A GSM text goes as data_coding 0; a hex submit id meets its decimal text receipt."""
        smsc = ScriptedSmsc(hex_ids=True, first_id=0xBEEF)
        self.start(smsc, intl="submit_id=hex&receipt_id=decimal")
        text = "Hi @home_{ok} ~"
        message = await self.send(text)
        await wait_until(lambda: smsc.accepted, "the submit_sm")
        [(message_id, pdu)] = smsc.accepted
        self.assertEqual(message_id, "BEEF")
        self.assertEqual((pdu.data_coding, decode_gsm(pdu.short_message)), (0, text))
        self.assertEqual((pdu.destination_addr, pdu.registered_delivery), (DEST.encode(), 1))
        self.assertEqual(smsc.binds(), [BindKind.TRANSCEIVER])
        await self.wait_states(message, SegmentState.SUBMITTED)
        stored = await self.store.get_message(message.id)
        assert stored is not None
        self.assertEqual(stored.recipients[0].segments[0].msg_id, str(0xBEEF))
        text_receipt = (
            f"ID:{0xBEEF} SUB:001 DLVRD:001 SUBMIT DATE:2612071830 DONE DATE:2612071831"
            " STAT:DELIVRD ERR:000 TEXT:Hi"
        )
        resp = await smsc.deliver(
            p.DeliverSm(
                source_addr=DEST.encode(),
                destination_addr=SRC.encode(),
                esm_class=EsmClass.DELIVERY_RECEIPT,
                short_message=text_receipt.encode(),
            )
        )
        self.assertEqual(resp.command_status, 0)
        await self.wait_states(message, SegmentState.DELIVERED)

    async def test_tx_rx_and_tlv_only_receipt(self) -> None:
        """bind=tx+rx: submits only on the transmitter; a TLV-only receipt on the receiver."""
        smsc = ScriptedSmsc()
        self.start(smsc, intl="bind=tx%2Brx&sessions=2")
        await wait_until(lambda: len(smsc.binds()) == 4, "two transmitters and two receivers")
        channel = self.gateway.channels["intl"]
        await wait_until(lambda: len(channel.links()) == 4, "the four links logged in")
        self.assertEqual(sorted(kind.value for kind in smsc.binds()), ["rx", "rx", "tx", "tx"])
        messages = [await self.send(f"message {n}") for n in range(4)]
        await wait_until(lambda: len(smsc.accepted) == 4, "four submit_sm")
        self.assertEqual({kind for kind, _ in smsc.submits}, {BindKind.TRANSMITTER})
        for message in messages:
            await self.wait_states(message, SegmentState.SUBMITTED)
        message_id, _ = smsc.accepted[0]
        resp = await smsc.deliver(
            p.DeliverSm(
                source_addr=DEST.encode(),
                esm_class=EsmClass.DELIVERY_RECEIPT,
                tlvs=(
                    tlv(Tag.RECEIPTED_MESSAGE_ID, message_id.encode()),
                    tlv(Tag.MESSAGE_STATE, MessageState.UNDELIVERABLE),
                ),
            )
        )
        self.assertEqual(resp.command_status, 0)
        [reported] = [m for m in messages if await self.msg_id(m) == message_id]
        await self.wait_states(reported, SegmentState.UNDELIVERED)

    async def test_modes_template_and_src_ext(self) -> None:
        """sync, async and queue modes, a template and src_ext all reach the SMSC."""
        smsc = ScriptedSmsc()
        self.start(smsc, intl="")
        await self.store.put_template(
            Template("code", TemplateEngine.SIMPLE, "Your code is {code}", 0.0, 0.0)
        )
        sync = await self.gateway.accept(
            SendRequest(items=(Item(DEST),), content="sync", mode=Mode.SYNC, report=False)
        )
        self.assertTrue(sync.complete)
        self.assertEqual(await self.states(sync.message), [SegmentState.SUBMITTED])
        templated = SendRequest(items=(Item(DEST),), template="code", params={"code": "4711"},
                                mode=Mode.ASYNC, src_ext="99")  # fmt: skip
        await self.gateway.accept(templated)
        await self.send("queued")
        await wait_until(lambda: len(smsc.accepted) == 3, "three submit_sm")
        texts = {decode_gsm(pdu.short_message): pdu for _, pdu in smsc.accepted}
        self.assertEqual(set(texts), {"sync", "Your code is 4711", "queued"})
        self.assertEqual(texts["Your code is 4711"].source_addr, (SRC + "99").encode())
        self.assertEqual(texts["sync"].registered_delivery, 0)

    async def test_tps_limit(self) -> None:
        """tps=10: a burst of ten, then one submit_sm every 0.1 s."""
        smsc = ScriptedSmsc()
        self.start(smsc, intl="tps=10")
        await wait_until(lambda: smsc.binds(), "the bind")
        for n in range(15):
            await self.send(f"limited {n}")
        await wait_until(lambda: len(smsc.accepted) == 15, "fifteen submit_sm")
        self.assertGreaterEqual(smsc.times[-1] - smsc.times[0], 0.35)

    async def test_flow_control_keeps_order(self) -> None:
        """0x58, 0x14 and 0x08 are sent again after a pause, in their order; then accepted."""
        smsc = ScriptedSmsc()
        smsc.statuses = [
            Status.ESME_RTHROTTLED,
            Status.ESME_RTHROTTLED,
            Status.ESME_RMSGQFUL,
            Status.ESME_RSYSERR,
        ]
        self.start(smsc, intl="window=1")
        await wait_until(lambda: smsc.binds(), "the bind")
        messages = [await self.send(f"in order {n}") for n in range(3)]
        await wait_until(lambda: len(smsc.accepted) == 3, "three accepted")
        order = [decode_gsm(pdu.short_message) for _, pdu in smsc.accepted]
        self.assertEqual(order, [f"in order {n}" for n in range(3)])
        self.assertEqual(len(smsc.submits), 7)
        for message in messages:
            await self.wait_states(message, SegmentState.SUBMITTED)

    async def test_final_error_named(self) -> None:
        """Any other status fails the segment, with the code and its name stored."""
        smsc = ScriptedSmsc()
        smsc.statuses = [Status.ESME_RSUBMITFAIL]
        self.start(smsc, intl="")
        message = await self.send("refused")
        await self.wait_states(message, SegmentState.FAILED)
        stored = await self.store.get_message(message.id)
        assert stored is not None
        [segment] = stored.recipients[0].segments
        self.assertEqual(segment.result, 0x45)
        self.assertEqual(segment.error, "result 69 (ESME_RSUBMITFAIL)")
        self.assertEqual(len(smsc.submits), 1)

    async def test_long_mt_three_forms(self) -> None:
        """A 300-character text as UDH parts, as SAR parts and whole in message_payload."""
        smsc = ScriptedSmsc()
        self.start(smsc, udh="long=udh", sar="long=sar", payload="long=payload")
        await wait_until(lambda: len(smsc.binds()) == 3, "three binds")
        text = ("long message {%d} " * 30 % tuple(range(30)))[:300]
        for name in ("udh", "sar", "payload"):
            await self.send(text, channel=name)
        await wait_until(lambda: len(smsc.accepted) == 3 + 3 + 1, "every submit_sm")
        udh = [pdu for _, pdu in smsc.accepted if pdu.esm_class & EsmClass.UDHI]
        sars = [pdu for _, pdu in smsc.accepted if sar(pdu.tlvs)]
        whole = [pdu for _, pdu in smsc.accepted if not pdu.short_message]
        self.assertEqual((len(udh), len(sars), len(whole)), (3, 3, 1))
        by_udh = sorted(udh, key=lambda pdu: pdu.short_message[5])
        self.assertEqual("".join(decode_gsm(pdu.short_message[6:]) for pdu in by_udh), text)
        by_sar = sorted(sars, key=lambda pdu: sar(pdu.tlvs) or (0, 0, 0))
        self.assertEqual("".join(decode_gsm(pdu.short_message) for pdu in by_sar), text)
        self.assertEqual(decode_gsm(body_of(whole[0])), text)

    async def test_long_mo_three_forms_and_gsm(self) -> None:
        """Long MOs as UDH, SAR and message_payload, and a GSM 03.38 MO, are stored whole."""
        smsc = ScriptedSmsc()
        self.start(smsc, intl="")
        await wait_until(lambda: smsc.binds(), "the bind")
        first, second = "@£¡ç€ part one, ", "part two"
        udh = bytes([9, 0x70, 1, 0, 8, 4, 0x12, 0x34, 2])

        def mo(body: bytes, **kwargs: Any) -> p.DeliverSm:
            return p.DeliverSm(source_addr=DEST.encode(), destination_addr=SRC.encode(),
                               short_message=body, **kwargs)  # fmt: skip

        pdus: list[p.DeliverSm | p.DataSm] = [
            mo(udh + b"\x01" + encode_gsm(first), esm_class=0x40),
            mo(udh + b"\x02" + encode_gsm(second), esm_class=0x40),
        ]
        for n, body in ((2, second), (1, first)):
            pdus.append(
                mo(
                    encode_gsm(body),
                    tlvs=(
                        tlv(Tag.SAR_MSG_REF_NUM, 9),
                        tlv(Tag.SAR_TOTAL_SEGMENTS, 2),
                        tlv(Tag.SAR_SEGMENT_SEQNUM, n),
                    ),
                )
            )
        pdus.append(
            p.DataSm(
                source_addr=DEST.encode(),
                destination_addr=SRC.encode(),
                tlvs=(tlv(Tag.MESSAGE_PAYLOAD, encode_gsm(first + second)),),
            )
        )
        pdus.append(mo(encode_gsm("@£¡ç€")))
        for pdu in pdus:
            resp = await smsc.deliver(pdu)
            self.assertEqual(resp.command_status, 0)
        items = await self.store.list_inbound(0, 10)
        texts = [i.fields["text"] for i in items if i.kind is InboundKind.MO]
        self.assertEqual(texts, [first + second] * 3 + ["@£¡ç€"])
