"""Interop: PyPI's smpplib, an independent SMPP client, against the simulator's SMPP face.

smpplib is synchronous (blocking sockets), so it runs in a subprocess
(:mod:`tests.protocols.smpp.smpplib_esme`) while the reactor serves the face
on 127.0.0.1.  It binds as transceiver, submits, queries, gets the receipt
deliver_sm and an MO, and unbinds.  The module skips only when smpplib
cannot be imported (it is in the ``test`` extra of setup.cfg).
"""

from __future__ import annotations

import json
import os
import sys
from importlib.util import find_spec
from pathlib import Path

from twisted.internet.utils import getProcessOutputAndValue

from smsgw.protocols.smpp.constants import EsmClass, MessageState
from smsgw.protocols.smpp.face import IdForm, SmppFaceOptions
from smsgw.protocols.smpp.receipt import parse_receipt_text
from tests.protocols.smpp.facekit import PASSWORD, SRC, SYSTEM_ID, FaceTestCase, reactor

SCRIPT = Path(__file__).with_name("smpplib_esme.py")
MO_DEST = "4479000000009"


class SmpplibTests(FaceTestCase):
    """smpplib 2.2 binds, submits, queries and takes receipts and MOs from our SMSC."""

    if find_spec("smpplib") is None:
        skip = "smpplib (PyPI) is not installed: pip install 'smpplib>=2.2' (in the test extra)"

    async def _esme(self, *args: str) -> dict[str, object]:
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        d = getProcessOutputAndValue(
            sys.executable, [str(SCRIPT), str(self.port), *args], env=env, reactor=reactor
        )
        out, err, code = await d.addTimeout(30, reactor)
        self.assertEqual(code, 0, err.decode(errors="replace")[-2000:])
        seen: dict[str, object] = json.loads(out)
        return seen

    async def test_submit_receipt_query_mo(self) -> None:
        """Bind, submit_sm, query_sm, the receipt deliver_sm and an MO, unbind: all understood."""
        self.start(
            policy={
                "reports": {"delay_s": [0.2, 0.2]},
                "triggers": [{"match": "*0009", "mo_reply": "STOP", "no_report": True}],
            },
            options=SmppFaceOptions(message_id=IdForm.HEX),
        )
        seen = await self._esme(SYSTEM_ID, PASSWORD.decode(), SRC, "4479000000001", MO_DEST)
        self.assertEqual(seen["bind"], {"status": 0, "system_id": "SMSGW"})
        resps = seen["submit_resps"]
        assert isinstance(resps, list)
        self.assertEqual([r["status"] for r in resps], [0, 0])
        message_id = resps[0]["message_id"]
        self.assertEqual(message_id, "00000001")
        queries = seen["queries"]
        assert isinstance(queries, list)
        self.assertEqual(queries[0]["status"], 0)
        self.assertIn(queries[0]["message_state"], (MessageState.ENROUTE, MessageState.DELIVERED))
        delivers = seen["delivers"]
        assert isinstance(delivers, list)
        [receipt] = [d for d in delivers if d["esm_class"] == EsmClass.DELIVERY_RECEIPT]
        [mo] = [d for d in delivers if d["esm_class"] == 0]
        self.assertEqual(receipt["receipted_message_id"], message_id)
        self.assertEqual(receipt["message_state"], MessageState.DELIVERED)
        parsed = parse_receipt_text(receipt["short_message"])
        assert parsed is not None
        self.assertEqual((parsed.id, parsed.stat), (message_id, "DELIVRD"))
        self.assertEqual((mo["source_addr"], mo["short_message"]), (MO_DEST, "STOP"))
        self.assertEqual(seen["unbind"], {"command": "unbind_resp", "status": 0})
        counters = self.sim.stats()["accounts"][SYSTEM_ID]["protocols"]["smpp"]
        self.assertEqual((counters["submits"], counters["delivered"]), (2, 2))

    async def test_refused_bind(self) -> None:
        """A wrong password is refused with ESME_RINVPASWD, which smpplib reports."""
        self.start()
        d = getProcessOutputAndValue(
            sys.executable,
            [str(SCRIPT), str(self.port), SYSTEM_ID, "wrong", SRC, "4479000000001"],
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
            reactor=reactor,
        )
        _, err, code = await d.addTimeout(30, reactor)
        self.assertNotEqual(code, 0)
        self.assertIn(b"PDUError", err)
        self.assertIn(b"(14)", err)
