"""Properties of the SMPP face, synchronously (StringTransport, Clock): what it parses and writes.

Any submit_sm an ESME may send (any esm_class, data_coding, bytes, SAR
values) is answered with a submit_sm_resp and nothing else; and an MO of any
text comes back whole from its parts in each of the three long forms.
"""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from smsgw.config.policy import Policy
from smsgw.ismg.simulator import Account, Simulator
from smsgw.protocols.session import Session
from smsgw.protocols.smpp import pdus as p
from smsgw.protocols.smpp.codec import SMPP34
from smsgw.protocols.smpp.constants import Status, Tag
from smsgw.protocols.smpp.content import decode_sm, reassembly_input
from smsgw.protocols.smpp.face import LongForm, SmppFace, smpp_factory
from smsgw.protocols.smpp.tlv import Tlv, put
from smsgw.text import choose_fmt, split_text
from smsgw.text.longsms import Reassembler
from tests.protocols.smpp.roles import written

SYSTEM_ID, PASSWORD = "esme01", b"pw0001"


def _bound() -> tuple[Simulator, Session, StringTransport]:
    clock = Clock()
    sim = Simulator(clock, [Account(SYSTEM_ID, PASSWORD)], policy=Policy(), rng=random.Random(3))
    session = smpp_factory(sim).buildProtocol(None)
    transport = StringTransport()
    session.makeConnection(transport)
    session.dataReceived(SMPP34.encode(p.BindTransmitter(SYSTEM_ID.encode(), PASSWORD), 1))
    [(_, resp)] = written(transport)
    assert resp.command_status == 0, resp
    return sim, session, transport


_SAR = st.tuples(st.integers(0, 0xFFFF), st.integers(0, 255), st.integers(0, 255))


class SubmitParsingTests(SynchronousTestCase):
    """Whatever a submit_sm holds, the face answers it with one submit_sm_resp."""

    @given(
        esm_class=st.integers(0, 255),
        data_coding=st.sampled_from([0, 1, 3, 4, 8, 15, 0xF0]),
        body=st.binary(max_size=254),
        registered=st.integers(0, 255),
        sar=st.none() | _SAR,
        payload=st.none() | st.binary(max_size=600),
    )
    def test_any_submit_answered(
        self,
        esm_class: int,
        data_coding: int,
        body: bytes,
        registered: int,
        sar: tuple[int, int, int] | None,
        payload: bytes | None,
    ) -> None:
        """Any esm_class, coding, bytes, SAR or payload: one submit_sm_resp, the link kept."""
        sim, session, transport = _bound()
        tlvs: tuple[Tlv, ...] = ()
        if sar is not None:
            for tag, value in zip(
                (Tag.SAR_MSG_REF_NUM, Tag.SAR_TOTAL_SEGMENTS, Tag.SAR_SEGMENT_SEQNUM),
                sar,
                strict=True,
            ):
                tlvs = put(tlvs, tag, value)
        if payload is not None:
            tlvs = put(tlvs, Tag.MESSAGE_PAYLOAD, payload)
            body = b""
        pdu = p.SubmitSm(
            source_addr=b"12345",
            destination_addr=b"4479000000001",
            esm_class=esm_class,
            data_coding=data_coding,
            registered_delivery=registered,
            short_message=body,
            tlvs=tlvs,
        )
        session.dataReceived(SMPP34.encode(pdu, 7))
        [(sequence, resp)] = written(transport)
        self.assertEqual(sequence, 7)
        self.assertIsInstance(resp, p.SubmitSmResp)
        if resp.command_status == 0:
            self.assertEqual(len(sim.submits()), 1)
        else:
            self.assertIn(resp.command_status, (Status.ESME_RSUBMITFAIL, Status.ESME_RINVMSGLEN))
            self.assertEqual(sim.submits(), [])
        self.assertFalse(transport.disconnecting)


class MoFormTests(SynchronousTestCase):
    """An MO's parts, in each form, join back to its text through the one Reassembler."""

    @given(
        text=st.text(
            alphabet=st.sampled_from("abcXYZ019 @£$¥èéñÄ{}[]~^|€\\`中文😀"),
            min_size=1,
            max_size=400,
        ),
        form=st.sampled_from(list(LongForm)),
        reference=st.integers(0, 255),
    )
    def test_round_trip(self, text: str, form: LongForm, reference: int) -> None:
        """GSM, ASCII and UCS2 text in UDH, SAR or payload form reassembles to itself."""
        sim = Simulator(Clock(), [Account(SYSTEM_ID, PASSWORD)])
        face = SmppFace(sim)
        segments = split_text(text, choose_fmt(text), reference)
        pdus = face.mo_pdus(sim.accounts[SYSTEM_ID], "4479000000001", "12345", segments,
                            long=form.value)  # fmt: skip
        reassembler = Reassembler()
        whole = None
        for pdu in pdus:
            content, udhi = reassembly_input(pdu)
            done = reassembler.add("k", content, udhi, pdu.data_coding, 0.0)
            if done is not None:
                whole = done
        assert whole is not None
        self.assertEqual(decode_sm(whole.payload, pdus[0].data_coding), text)
        if form is LongForm.PAYLOAD:
            self.assertEqual(len(pdus), 1)
