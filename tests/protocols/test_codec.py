"""The frame length limit of :class:`smsgw.protocols.codec.ProtocolCodec`, on every codec.

A frame of exactly a protocol's ``MAX_LENGTH`` is legal and encodes; one byte
more is an :class:`EncodeError`.  SMGP's Submit always takes the Python
encoder (its TLV list is a custom field, which stays out of the C
accelerator); the CMPP and SGIP ones take the C encoder when it is built.
``./dev test`` runs this module once with it and once with
``SMSGW_PURE_PYTHON=1``, so both paths are pinned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.cmpp import pdus as cp
from smsgw.protocols.cmpp.codec import CMPP20
from smsgw.protocols.cmpp.codec30 import CMPP30
from smsgw.protocols.codec import ProtocolCodec
from smsgw.protocols.errors import EncodeError
from smsgw.protocols.sgip import pdus as gp
from smsgw.protocols.sgip.codec import SGIP12
from smsgw.protocols.smgp import pdus as mp
from smsgw.protocols.smgp.codec import SMGP30
from smsgw.protocols.smgp.tlv import Tlv
from tests.protocols.test_wire_accel import ACCEL, SKIP

#: Per case: the codec, a sequence id, and a Submit whose frame is
#: ``max_length + extra`` bytes long (the sizes are each version's fixed
#: part plus ``n`` receivers and ``m`` content bytes).
CASES: dict[str, tuple[ProtocolCodec, Any, Callable[[int], object]]] = {
    # 138 + 21 * 188 + 10 = 4096
    "cmpp20": (CMPP20, 7, lambda extra: cp.Submit(dest_terminal_ids=(b"1",) * 188,
                                                  msg_content=b"x" * (10 + extra))),
    # 163 + 32 * 122 + 29 = 4096
    "cmpp30": (CMPP30, 7, lambda extra: cp.Submit(dest_terminal_ids=(b"1",) * 122,
                                                  msg_content=b"x" * (29 + extra))),
    # 143 + 1905 = 2048
    "sgip": (SGIP12, (1, 2, 3), lambda extra: gp.Submit(message_content=b"x" * (1905 + extra))),
    # 126 + 21 * 188 + 22 = 4096
    "smgp": (SMGP30, 7, lambda extra: mp.Submit(dest_term_ids=(b"1",) * 188,
                                                msg_content=b"x" * (22 + extra))),
    # 126 + 4 + 3966 = 4096, through the Python encoder whatever ACCELERATED says
    "smgp-tlv": (SMGP30, 7, lambda extra: mp.Submit(tlvs=(Tlv(0x4000, b"t" * (3966 + extra)),))),
}  # fmt: skip


class MaxLengthTests(SynchronousTestCase):
    """Each protocol's MAX_LENGTH: exactly that many bytes encode, one more does not."""

    def test_exactly_max_length(self) -> None:
        """A Submit of exactly MAX_LENGTH bytes encodes and decodes back."""
        for name, (codec, seq, submit) in CASES.items():
            pdu = submit(0)
            frame = codec.encode(pdu, seq)
            self.assertEqual(len(frame), codec.max_length, name)
            header, decoded = codec.decode(frame)
            self.assertEqual((header.length, header.sequence_id), (codec.max_length, seq), name)
            self.assertEqual(decoded, pdu, name)

    def test_one_byte_over(self) -> None:
        """A Submit one byte over MAX_LENGTH is an EncodeError naming the limit and the PDU."""
        for name, (codec, seq, submit) in CASES.items():
            e = self.assertRaises(EncodeError, codec.encode, submit(1), seq)
            self.assertIn(f"{codec.max_length + 1} bytes exceed", str(e), name)
            self.assertIn(str(codec.max_length), str(e), name)
            self.assertEqual(e.pdu, "Submit", name)

    def test_python_encoder_limit(self) -> None:
        """The Python encoder (py_encode) takes MAX_LENGTH bytes and refuses one more."""
        for name, (codec, seq, submit) in CASES.items():
            self.assertEqual(len(codec.py_encode(submit(0), seq)), codec.max_length, name)
            self.assertRaises(EncodeError, codec.py_encode, submit(1), seq)


class AcceleratedMaxLengthTests(SynchronousTestCase):
    """The C encoder answers a MAX_LENGTH frame itself and hands a longer one to Python."""

    skip = SKIP

    def c_cases(self) -> list[tuple[str, tuple[ProtocolCodec, Any, Callable[[int], object]]]]:
        """The cases whose Submit layout has a C program (SMGP's has TLVs: none)."""
        cases = [
            (name, case)
            for name, case in CASES.items()
            if ACCEL[case[0].name].programs.get(type(case[2](0))) is not None
        ]
        self.assertEqual([name for name, _ in cases], ["cmpp20", "cmpp30", "sgip"])
        return cases

    def test_c_encodes_max_length_itself(self) -> None:
        """A strict C codec (no Python fallback) encodes a frame of exactly MAX_LENGTH."""
        for name, (codec, seq, submit) in self.c_cases():
            strict = ACCEL[codec.name].strict
            self.assertEqual(strict.encode(submit(0), seq), codec.encode(submit(0), seq), name)

    def test_c_hands_over_long_frames(self) -> None:
        """Over MAX_LENGTH the C encoder falls back to Python, which refuses the frame."""
        for _name, (codec, seq, submit) in self.c_cases():
            self.assertRaises(EncodeError, ACCEL[codec.name].c.encode, submit(1), seq)
