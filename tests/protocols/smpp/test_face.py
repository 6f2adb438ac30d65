"""The simulator's SMPP face over real loopback sockets, the engine's ESME on the other end.

Binds of every kind and their refusals, submit_sm / data_sm / submit_multi
and the receipts in each id form, date width, key case and TLV mode,
query_sm / cancel_sm / replace_sm answered from the simulator's state, and
MOs in the three long-message forms.
"""

from __future__ import annotations

import uuid
from typing import Any

from twisted.internet.defer import gatherResults

from smsgw.ismg.control import control_resource
from smsgw.ismg.simulator import Account
from smsgw.protocols.session import LoginRefused, State
from smsgw.protocols.smpp import pdus as p
from smsgw.protocols.smpp.constants import (
    INTERFACE_VERSION,
    BindKind,
    EsmClass,
    MessageState,
    Status,
    Tag,
)
from smsgw.protocols.smpp.content import body_of, decode_sm
from smsgw.protocols.smpp.face import IdForm, LongForm, ReceiptParts, SmppFaceOptions
from smsgw.protocols.smpp.receipt import KeyCase, parse_receipt_text, receipt_of
from smsgw.protocols.smpp.session import bind
from smsgw.protocols.smpp.tlv import get, sar
from smsgw.text import parse_udh
from smsgw.text.gsm0338 import encode_gsm
from tests.protocols.smpp.facekit import DEST, PASSWORD, SRC, SYSTEM_ID, FaceTestCase
from tests.web import StubJsonClient

LONG_TEXT = "The quick brown fox jumps over the lazy dog @ 100 £ " * 5


def submit(dest: str = DEST, *, report: int = 1, text: bytes = b"hello") -> p.SubmitSm:
    """A submit_sm from :data:`SRC` asking for a receipt (registered_delivery *report*)."""
    return p.SubmitSm(
        source_addr=SRC.encode(),
        destination_addr=dest.encode(),
        registered_delivery=report,
        short_message=text,
    )


class BindTests(FaceTestCase):
    """Binds checked against the simulator's accounts, with SMPP's refusal statuses."""

    async def test_every_bind_kind(self) -> None:
        """Transmitter, receiver and transceiver binds are accepted, each in its own mode."""
        self.start(accounts=[Account(SYSTEM_ID, PASSWORD, max_sessions=3)])
        for kind, mode in (
            (p.BindTransmitter, BindKind.TRANSMITTER),
            (p.BindReceiver, BindKind.RECEIVER),
            (p.BindTransceiver, BindKind.TRANSCEIVER),
        ):
            session, _ = await self.bound(kind)
            self.assertEqual((session.state, session.mode), (State.BOUND, mode))
        self.assertEqual(self.sim.stats()["accounts"][SYSTEM_ID]["sessions"], 3)

    async def test_bind_response(self) -> None:
        """The bind response names the SMSC and carries sc_interface_version 0x34."""
        self.start(options=SmppFaceOptions(system_id=b"SIMSMSC"))
        session, _ = await self.connect()
        resp = await bind(session, p.BindTransceiver(SYSTEM_ID.encode(), PASSWORD))
        self.assertEqual(resp.system_id, b"SIMSMSC")
        self.assertEqual(get(resp.tlvs, Tag.SC_INTERFACE_VERSION), INTERFACE_VERSION)

    async def _refused(self, **kwargs: Any) -> int:
        try:
            await self.bound(**kwargs)
        except LoginRefused as refused:
            return refused.status
        raise AssertionError("the bind was accepted")

    async def test_refusals(self) -> None:
        """Unknown system_id, wrong password and wrong system_type get their own statuses."""
        self.start(accounts=[Account(SYSTEM_ID, PASSWORD, system_type="VMA")])
        self.assertEqual(await self._refused(system_id="nobody"), Status.ESME_RINVSYSID)
        self.assertEqual(await self._refused(password=b"wrong"), Status.ESME_RINVPASWD)
        self.assertEqual(await self._refused(system_type=b"OTHER"), Status.ESME_RINVSYSTYP)
        session, _ = await self.bound(system_type=b"VMA")
        self.assertTrue(session.bound)

    async def test_session_cap_and_allow_list(self) -> None:
        """Beyond max_sessions, or from an address not allowed, a bind gets ESME_RBINDFAIL."""
        self.start(
            accounts=[
                Account(SYSTEM_ID, PASSWORD, max_sessions=1),
                Account("far", b"pw", allowed_ips=("10.0.0.0/8",)),
            ]
        )
        await self.bound()
        self.assertEqual(await self._refused(), Status.ESME_RBINDFAIL)
        refused = await self._refused(system_id="far", password=b"pw")
        self.assertEqual(refused, Status.ESME_RBINDFAIL)

    async def test_submit_on_receiver_bind(self) -> None:
        """submit_sm on a receiver bind is refused with ESME_RINVBNDSTS; the link stays."""
        self.start()
        session, _ = await self.bound(p.BindReceiver)
        resp = await session.send(submit())
        self.assertEqual(resp.command_status, Status.ESME_RINVBNDSTS)
        self.assertEqual(self.sim.submits(), [])
        self.assertEqual(await session.send(p.EnquireLink()), p.EnquireLinkResp())


class ReceiptTests(FaceTestCase):
    """submit_sm answered with an id in the configured form, then its receipt deliver_sm."""

    async def _receipt(self, options: SmppFaceOptions) -> tuple[str, p.DeliverSm]:
        self.start(options=options)
        session, esme = await self.bound()
        resp = await session.send(submit())
        self.assertEqual(resp.command_status, 0)
        receipt = await self.next_deliver(esme)
        return resp.message_id.decode(), receipt

    async def test_default_receipt(self) -> None:
        """Decimal ids; the text (10-digit dates, lower-case keys) and both TLVs."""
        message_id, pdu = await self._receipt(SmppFaceOptions())
        self.assertEqual(message_id, "1")
        self.assertEqual(pdu.esm_class, EsmClass.DELIVERY_RECEIPT)
        self.assertEqual((pdu.source_addr, pdu.destination_addr), (DEST.encode(), SRC.encode()))
        text = pdu.short_message.decode()
        self.assertRegex(text, r"^id:1 sub:001 dlvrd:001 submit date:\d{10} done date:\d{10} "
                               r"stat:DELIVRD err:000 text:$")  # fmt: skip
        self.assertEqual(get(pdu.tlvs, Tag.RECEIPTED_MESSAGE_ID), b"1")
        self.assertEqual(get(pdu.tlvs, Tag.MESSAGE_STATE), MessageState.DELIVERED)
        receipt = receipt_of(pdu)
        assert receipt is not None
        self.assertEqual((receipt.message_id, receipt.state), ("1", MessageState.DELIVERED))
        stats = self.sim.stats()["accounts"][SYSTEM_ID]["protocols"]["smpp"]
        self.assertEqual((stats["submits"], stats["reports"]), (1, 1))
        [logged] = self.sim.submits()
        self.assertEqual(
            (logged["protocol"], logged["msg_id"], logged["text"]), ("smpp", "1", "hello")
        )

    async def test_gsm_text_logged(self) -> None:
        """/v1/submits shows a data_coding 0 message as GSM 03.38 text, a UDH left out."""
        self.start()
        session, _ = await self.bound()
        body = encode_gsm("@home_{ok} £5")
        await session.send(submit(report=0, text=body))
        udh = bytes((5, 0, 3, 9, 2, 1))
        await session.send(
            p.SubmitSm(source_addr=SRC.encode(), destination_addr=DEST.encode(),
                       esm_class=EsmClass.UDHI, short_message=udh + body)
        )  # fmt: skip
        texts = [(s["text"], s["pk_total"]) for s in self.sim.submits()]
        self.assertEqual(texts, [("@home_{ok} £5", 1), ("@home_{ok} £5", 2)])

    async def test_hex_ids_twelve_digits_upper_keys(self) -> None:
        """Hex ids, 12-digit dates and upper-case keys; the TLV keeps the id as answered."""
        options = SmppFaceOptions(message_id=IdForm.HEX, date_digits=12, key_case=KeyCase.UPPER)
        message_id, pdu = await self._receipt(options)
        self.assertEqual(message_id, "00000001")
        text = pdu.short_message.decode()
        self.assertTrue(text.startswith("ID:00000001 SUB:001 "), text)
        self.assertRegex(text, r"SUBMIT DATE:\d{12} DONE DATE:\d{12} ")
        parsed = parse_receipt_text(text)
        assert parsed is not None and parsed.submit_date is not None
        self.assertEqual(get(pdu.tlvs, Tag.RECEIPTED_MESSAGE_ID), b"00000001")

    async def test_hex_ids_reported_in_decimal(self) -> None:
        """With receipt ids in decimal, a hex id 0000000A is reported as id:10."""
        options = SmppFaceOptions(message_id=IdForm.HEX, receipt_id_decimal=True)
        self.start(options=options)
        session, esme = await self.bound()
        for _ in range(10):
            resp = await session.send(submit())
        self.assertEqual(resp.message_id, b"0000000A")
        receipts = [await self.next_deliver(esme) for _ in range(10)]
        self.assertTrue(receipts[-1].short_message.startswith(b"id:10 "))
        self.assertEqual(get(receipts[-1].tlvs, Tag.RECEIPTED_MESSAGE_ID), b"0000000A")

    async def test_uuid_text_only_title_keys(self) -> None:
        """UUID ids, title-case keys, and a receipt with the text only (no TLVs)."""
        options = SmppFaceOptions(
            message_id=IdForm.UUID, key_case=KeyCase.TITLE, receipt=ReceiptParts.TEXT
        )
        message_id, pdu = await self._receipt(options)
        self.assertEqual(str(uuid.UUID(message_id)), message_id)
        self.assertTrue(pdu.short_message.startswith(f"Id:{message_id} Sub:001".encode()))
        self.assertEqual(pdu.tlvs, ())

    async def test_tlvs_only(self) -> None:
        """A receipt with the TLVs only has no text, and still reads as a receipt."""
        message_id, pdu = await self._receipt(SmppFaceOptions(receipt=ReceiptParts.TLVS))
        self.assertEqual(pdu.short_message, b"")
        receipt = receipt_of(pdu)
        assert receipt is not None
        self.assertEqual((receipt.message_id, receipt.state), (message_id, MessageState.DELIVERED))

    async def test_failed_state_from_policy(self) -> None:
        """A trigger's stat UNDELIV gives message_state 5, stat:UNDELIV and a non-zero err."""
        self.start(policy={"triggers": [{"match": "*0001", "stat": "UNDELIV"}]})
        session, esme = await self.bound()
        await session.send(submit())
        pdu = await self.next_deliver(esme)
        self.assertEqual(get(pdu.tlvs, Tag.MESSAGE_STATE), MessageState.UNDELIVERABLE)
        self.assertIn(b"stat:UNDELIV err:001", pdu.short_message)

    async def test_receipts_go_to_the_receiver(self) -> None:
        """With a transmitter and a receiver bind, the receipt comes on the receiver."""
        self.start()
        tx, tx_esme = await self.bound(p.BindTransmitter)
        _, rx_esme = await self.bound(p.BindReceiver)
        resp = await tx.send(submit())
        pdu = await self.next_deliver(rx_esme)
        self.assertEqual(get(pdu.tlvs, Tag.RECEIPTED_MESSAGE_ID), resp.message_id)
        self.assertEqual(tx_esme.requests, [])

    async def test_no_receipt_unless_asked(self) -> None:
        """registered_delivery 0 gets no receipt; 2 (failures only) none for DELIVRD."""
        self.start()
        session, esme = await self.bound()
        await session.send(submit(report=0))
        await session.send(submit(report=2))
        await session.send(p.EnquireLink())
        self.assertEqual(esme.requests, [])

    async def test_data_sm(self) -> None:
        """data_sm with message_payload is answered with data_sm_resp, then a receipt."""
        self.start()
        session, esme = await self.bound()
        body = LONG_TEXT.encode("latin-1")
        resp = await session.send(
            p.DataSm(
                source_addr=SRC.encode(),
                destination_addr=DEST.encode(),
                registered_delivery=1,
                data_coding=3,
                tlvs=((p.Tlv(Tag.MESSAGE_PAYLOAD, body)),),
            )
        )
        self.assertIsInstance(resp, p.DataSmResp)
        self.assertEqual((resp.command_status, resp.message_id), (0, b"1"))
        pdu = await self.next_deliver(esme)
        self.assertIsInstance(pdu, p.DeliverSm)
        self.assertEqual(get(pdu.tlvs, Tag.RECEIPTED_MESSAGE_ID), b"1")

    async def test_window_of_submits(self) -> None:
        """Eight submits in flight at once each get their own id and receipt."""
        self.start()
        session, esme = await self.bound()
        answers = await gatherResults([session.send(submit()) for _ in range(8)])
        ids = sorted(int(a.message_id) for a in answers)
        self.assertEqual(ids, list(range(1, 9)))
        receipts = [await self.next_deliver(esme) for _ in range(8)]
        got = sorted(int(get(r.tlvs, Tag.RECEIPTED_MESSAGE_ID) or 0) for r in receipts)
        self.assertEqual(got, ids)


class MultiTests(FaceTestCase):
    """submit_multi: one id, per-destination failures in unsuccess_sme."""

    async def test_failures_listed(self) -> None:
        """A triggered destination, a bad address and a list fail alone; the rest get receipts."""
        self.start(policy={**FAST(), "triggers": [{"match": "*0002", "result": 11}]})
        session, esme = await self.bound()
        dests = (
            p.SmeAddress(1, 1, b"4479000000001"),
            p.SmeAddress(1, 1, b"4479000000002"),
            p.SmeAddress(1, 1, b"not-a-number"),
            p.DistributionList(b"friends"),
            p.SmeAddress(1, 1, b"4479000000003"),
        )
        resp = await session.send(
            p.SubmitMulti(
                source_addr=SRC.encode(),
                dests=dests,
                registered_delivery=1,
                short_message=b"hi all",
            )
        )
        self.assertEqual((resp.command_status, resp.message_id), (0, b"1"))
        failed = {(u.address, u.error_status_code) for u in resp.unsuccess}
        self.assertEqual(
            failed,
            {
                (b"4479000000002", 11),
                (b"not-a-number", Status.ESME_RINVDSTADR),
                (b"friends", Status.ESME_RINVDLNAME),
            },
        )
        receipts = [await self.next_deliver(esme) for _ in range(2)]
        self.assertEqual(
            sorted(r.source_addr for r in receipts), [b"4479000000001", b"4479000000003"]
        )
        self.assertTrue(all(get(r.tlvs, Tag.RECEIPTED_MESSAGE_ID) == b"1" for r in receipts))
        [logged] = self.sim.submits()
        self.assertEqual(logged["dest"], ["4479000000001", "4479000000003"])

    async def test_all_failed(self) -> None:
        """When every destination fails the answer is ESME_RSUBMITFAIL and nothing is logged."""
        self.start()
        session, _ = await self.bound()
        resp = await session.send(
            p.SubmitMulti(source_addr=SRC.encode(), dests=(p.DistributionList(b"x"),))
        )
        self.assertEqual(resp.command_status, Status.ESME_RSUBMITFAIL)
        self.assertEqual(self.sim.submits(), [])


def FAST() -> dict[str, Any]:
    """Receipts at once."""
    return {"reports": {"delay_s": [0, 0]}}


class StateTests(FaceTestCase):
    """query_sm, cancel_sm and replace_sm see the simulator's report timers and outcomes."""

    SLOW = {"reports": {"delay_s": [30, 30]}}

    async def test_query_pending_then_cancelled(self) -> None:
        """A waiting receipt is ENROUTE; cancel_sm drops it and query_sm then says DELETED."""
        self.start(policy=self.SLOW)
        session, _ = await self.bound()
        message_id = (await session.send(submit())).message_id
        query = p.QuerySm(message_id, source_addr=SRC.encode())
        resp = await session.send(query)
        self.assertEqual((resp.command_status, resp.message_state), (0, MessageState.ENROUTE))
        self.assertEqual(resp.final_date, b"")
        cancelled = await session.send(p.CancelSm(message_id=message_id, source_addr=SRC.encode()))
        self.assertEqual(cancelled.command_status, 0)
        resp = await session.send(query)
        self.assertEqual(resp.message_state, MessageState.DELETED)
        self.assertRegex(resp.final_date.decode(), r"^\d{12}000\+$")
        self.assertEqual(len(self.sim.pending_reports), 0)
        again = await session.send(p.CancelSm(message_id=message_id, source_addr=SRC.encode()))
        self.assertEqual(again.command_status, Status.ESME_RCANCELFAIL)

    async def test_query_delivered(self) -> None:
        """Once the receipt is sent, query_sm gives its state and final date."""
        self.start()
        session, esme = await self.bound()
        message_id = (await session.send(submit())).message_id
        await self.next_deliver(esme)
        resp = await session.send(p.QuerySm(message_id, source_addr=SRC.encode()))
        self.assertEqual(resp.message_state, MessageState.DELIVERED)
        self.assertEqual(resp.message_id, message_id)
        self.assertEqual(len(resp.final_date), 16)

    async def test_query_unknown_or_foreign(self) -> None:
        """An unknown id, another source_addr or another account's message: ESME_RQUERYFAIL."""
        self.start(accounts=[Account(SYSTEM_ID, PASSWORD), Account("other", b"pw")])
        session, _ = await self.bound()
        other, _ = await self.bound(system_id="other", password=b"pw")
        message_id = (await session.send(submit())).message_id
        for link, query in (
            (session, p.QuerySm(b"999")),
            (session, p.QuerySm(message_id, source_addr=b"99999")),
            (other, p.QuerySm(message_id)),
        ):
            resp = await link.send(query)
            self.assertEqual(resp.command_status, Status.ESME_RQUERYFAIL)
        self.assertEqual((await session.send(p.QuerySm(message_id))).command_status, 0)

    async def test_query_without_receipt(self) -> None:
        """A message sent without a receipt has no outcome here: ACCEPTED."""
        self.start()
        session, _ = await self.bound()
        message_id = (await session.send(submit(report=0))).message_id
        resp = await session.send(p.QuerySm(message_id))
        self.assertEqual(resp.message_state, MessageState.ACCEPTED)

    async def test_cancel_by_source_and_destination(self) -> None:
        """cancel_sm without message_id cancels every pending message from source to dest."""
        self.start(policy=self.SLOW)
        session, _ = await self.bound()
        for dest in (DEST, DEST, "4479000000009"):
            await session.send(submit(dest))
        resp = await session.send(
            p.CancelSm(source_addr=SRC.encode(), destination_addr=DEST.encode())
        )
        self.assertEqual(resp.command_status, 0)
        self.assertEqual(len(self.sim.pending_reports), 1)
        self.assertEqual(self.sim.totals["cancelled"], 2)

    async def test_replace_pending(self) -> None:
        """replace_sm changes a pending message's text (in /v1/submits); a sent one cannot be."""
        self.start(policy=self.SLOW)
        session, _ = await self.bound()
        message_id = (await session.send(submit())).message_id
        resp = await session.send(
            p.ReplaceSm(message_id, source_addr=SRC.encode(), short_message=b"changed")
        )
        self.assertEqual(resp.command_status, 0)
        [logged] = self.sim.submits()
        self.assertEqual(logged["text"], "changed")
        self.sim.cancel(message_id.decode(), "smpp")
        resp = await session.send(p.ReplaceSm(message_id, short_message=b"late"))
        self.assertEqual(resp.command_status, Status.ESME_RREPLACEFAIL)


class MoTests(FaceTestCase):
    """MOs injected into the simulator reach the ESME in the three long-message forms."""

    async def _mo(
        self, text: str, long: str | None, options: SmppFaceOptions | None = None
    ) -> list[Any]:
        self.start(options=options)
        _, esme = await self.bound(p.BindReceiver)
        result = await self.sim.inject_mo(SYSTEM_ID, "4479000000005", SRC, text, "smpp", long)
        pdus = [await self.next_deliver(esme) for _ in range(result["segments"])]
        self.assertTrue(all(pdu.esm_class & EsmClass.TYPE_MASK == 0 for pdu in pdus))
        self.assertEqual(self.sim.stats()["accounts"][SYSTEM_ID]["protocols"]["smpp"]["mos"], 1)
        return pdus

    async def test_udh(self) -> None:
        """A long MO as UDH parts (esm_class 0x40) in GSM 03.38 (``@``, ``£``) joins back."""
        pdus = await self._mo(LONG_TEXT, "udh")
        self.assertGreater(len(pdus), 1)
        body = b""
        for pdu in pdus:
            self.assertEqual((pdu.esm_class, pdu.data_coding), (EsmClass.UDHI, 0))
            body += parse_udh(pdu.short_message)[1]
        self.assertEqual(decode_sm(body, 0), LONG_TEXT)

    async def test_sar(self) -> None:
        """A long MO as SAR TLVs: one reference, parts numbered 1..N."""
        pdus = await self._mo(LONG_TEXT, "sar")
        numbers = [sar(pdu.tlvs) for pdu in pdus]
        self.assertEqual({n[0] for n in numbers if n}, {numbers[0][0]} if numbers[0] else set())
        self.assertEqual([n[2] for n in numbers if n], list(range(1, len(pdus) + 1)))
        self.assertEqual(decode_sm(b"".join(pdu.short_message for pdu in pdus), 0), LONG_TEXT)

    async def test_payload(self) -> None:
        """A long MO in one deliver_sm's message_payload."""
        [pdu] = await self._mo(LONG_TEXT, "payload")
        self.assertEqual(pdu.short_message, b"")
        self.assertEqual(decode_sm(body_of(pdu), pdu.data_coding), LONG_TEXT)

    async def test_configured_form_and_ucs2(self) -> None:
        """Without a form asked, the configured one; Chinese text goes as UCS2 (8)."""
        text = "你好，世界" * 20
        pdus = await self._mo(text, None, SmppFaceOptions(mo_long=LongForm.PAYLOAD))
        [pdu] = pdus
        self.assertEqual(pdu.data_coding, 8)
        self.assertEqual(decode_sm(body_of(pdu), 8), text)

    async def test_ascii_outside_gsm(self) -> None:
        """ASCII text with a character GSM 03.38 lacks (a backquote) goes as data_coding 1."""
        [pdu] = await self._mo("`quoted`", None)
        self.assertEqual((pdu.data_coding, pdu.short_message), (1, b"`quoted`"))

    async def test_unknown_form_refused(self) -> None:
        """A long form the face does not have is a ValueError (400 in the control API)."""
        self.start()
        with self.assertRaises(ValueError):
            self.sim.inject_mo(SYSTEM_ID, "4479000000005", SRC, "hi", "smpp", "pigeon")


class ControlTests(FaceTestCase):
    """The control API injects SMPP MOs and shows SMPP traffic like the other protocols'."""

    async def test_mo_in_a_long_form(self) -> None:
        """POST /v1/mo with protocol smpp and long sar reaches the ESME as SAR parts."""
        self.start()
        _, esme = await self.bound(p.BindReceiver)
        client = StubJsonClient(self, control_resource(self.sim))
        body = {"account": SYSTEM_ID, "from": "4479000000005", "to": SRC, "content": LONG_TEXT,
                "protocol": "smpp", "long": "sar"}  # fmt: skip
        response = client.request("POST", "/v1/mo", json=body)
        self.assertEqual(response.status, 202)
        segments = response.json()["segments"]
        pdus = [await self.next_deliver(esme) for _ in range(segments)]
        self.assertTrue(all(sar(pdu.tlvs) is not None for pdu in pdus))
        bad = client.request("POST", "/v1/mo", json={**body, "long": "pigeon"})
        self.assertEqual((bad.status, bad.json()["error"]), (400, "bad_mo"))

    async def test_submits_and_stats(self) -> None:
        """GET /v1/submits lists SMPP submits; /v1/stats counts them under smpp."""
        self.start()
        session, esme = await self.bound()
        await session.send(submit())
        await self.next_deliver(esme)
        client = StubJsonClient(self, control_resource(self.sim))
        [logged] = client.request("GET", "/v1/submits").json()["submits"]
        self.assertEqual((logged["protocol"], logged["dest"]), ("smpp", [DEST]))
        stats = client.request("GET", "/v1/stats").json()
        self.assertIn("smpp", stats["protocols"])
        counters = stats["accounts"][SYSTEM_ID]["protocols"]["smpp"]
        self.assertEqual((counters["sessions"], counters["submits"]), (1, 1))
