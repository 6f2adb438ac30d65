"""SMPP 3.4 codec properties: hypothesis round trips for every PDU, and a total decoder.

The fuzz test decodes random and mutated frames and accepts only a PDU or a
:class:`DecodeError`: 200,000 of them (about 6 s of CPU), or
``SMSGW_SMPP_FUZZ_FRAMES`` to run more or fewer.
"""

from __future__ import annotations

import os
import random
import struct
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.codec import Header
from smsgw.protocols.errors import DecodeError
from smsgw.protocols.smpp import pdus as p
from smsgw.protocols.smpp.codec import SMPP34, DestList, UnsuccessList, decode, encode
from smsgw.protocols.smpp.tlv import Tlvs
from smsgw.protocols.tlv import Tlv
from smsgw.protocols.wire import Layout
from tests.strategies import field_strategy

_C21 = st.binary(max_size=20).map(lambda b: b.replace(b"\x00", b"1"))
_U8 = st.integers(0, 255)

TLVS = st.lists(st.builds(Tlv, st.integers(0, 0xFFFF), st.binary(max_size=40)), max_size=4).map(
    tuple
)
DESTS = st.lists(
    st.one_of(st.builds(p.SmeAddress, _U8, _U8, _C21), st.builds(p.DistributionList, _C21)),
    max_size=6,
).map(tuple)
UNSUCCESS = st.lists(
    st.builds(p.UnsuccessSme, _U8, _U8, _C21, st.integers(0, 2**32 - 1)), max_size=6
).map(tuple)


def _field(codec: Any) -> st.SearchStrategy[Any]:
    if isinstance(codec, Tlvs):
        return TLVS
    if isinstance(codec, DestList):
        return DESTS
    if isinstance(codec, UnsuccessList):
        return UNSUCCESS
    return field_strategy(codec)


def smpp_pdus(layout: Layout[Any]) -> st.SearchStrategy[Any]:
    """Instances of ``layout.cls`` with any command_status (requests too: it is on the wire)."""
    fields = {name: _field(codec) for name, codec in layout.fields}
    fields["command_status"] = st.one_of(st.just(0), st.integers(0, 2**32 - 1))
    return st.fixed_dictionaries(fields).map(lambda values: layout.cls(**values))


class PerClassRoundTripTests(SynchronousTestCase):
    """Every SMPP 3.4 PDU class round-trips through the codec (generated below)."""


def _round_trip_test(cls: type, layout: Layout[Any]) -> Any:
    def test(self: SynchronousTestCase, pdu: Any, seq: int) -> None:
        frame = encode(pdu, seq)
        header, decoded = decode(frame)
        self.assertEqual(header, Header(len(frame), layout.command_id, seq))
        self.assertIs(type(decoded), cls)
        self.assertEqual(decoded, pdu)

    test.__name__ = f"test_round_trip_{cls.__name__}"
    test.__qualname__ = f"PerClassRoundTripTests.{test.__name__}"
    test.__doc__ = f"{cls.__name__} round-trips with its header and command_status."
    return given(pdu=smpp_pdus(layout), seq=st.integers(0, 2**32 - 1))(test)


for _cls, _layout in SMPP34.layouts.items():
    _test = _round_trip_test(_cls, _layout)
    setattr(PerClassRoundTripTests, _test.__name__, _test)
del _cls, _layout, _test


def _frames() -> st.SearchStrategy[bytes]:
    layouts = sorted(SMPP34.layouts.values(), key=lambda layout: layout.name)
    return st.sampled_from(layouts).flatmap(smpp_pdus).map(lambda pdu: encode(pdu, 1))


def _decodes_or_raises(frame: bytes) -> None:
    try:
        decode(frame)
    except DecodeError as e:
        assert e.status is not None or e.kind.value == "framing", e


class TotalityTests(SynchronousTestCase):
    """The decoder returns a PDU or raises DecodeError, whatever the bytes."""

    def test_every_class_listed(self) -> None:
        """The codec has the 27 PDUs of smpp34.md §3 (26 plus generic_nack)."""
        self.assertEqual(len(SMPP34.layouts), 27)

    @given(st.binary(max_size=200))
    @example(b"")
    @example(b"\x00\x00\x00\x10\x80\x00\x00\x00")
    def test_arbitrary_bytes(self, data: bytes) -> None:
        """Any bytes either decode or raise DecodeError."""
        _decodes_or_raises(data)

    @given(
        st.sampled_from(sorted(SMPP34.by_command)),
        st.integers(0, 2**32 - 1),
        st.binary(max_size=120),
    )
    def test_arbitrary_body_known_command(self, command_id: int, status: int, body: bytes) -> None:
        """Any body under a known command id decodes or raises DecodeError with a status."""
        _decodes_or_raises(struct.pack(">IIII", 16 + len(body), command_id, status, 3) + body)

    @given(_frames(), st.data())
    def test_mutated_frames(self, frame: bytes, data: st.DataObject) -> None:
        """A valid frame with bytes flipped, cut or added decodes or raises DecodeError."""
        buf = bytearray(frame)
        for _ in range(data.draw(st.integers(1, 4))):
            at = data.draw(st.integers(4, max(4, len(buf) - 1)))
            if at < len(buf):
                buf[at] = data.draw(_U8)
        cut = data.draw(st.integers(16, len(buf)))
        out = bytes(buf[:cut]) + data.draw(st.binary(max_size=8))
        _decodes_or_raises(struct.pack(">I", len(out)) + out[4:])

    def test_fuzz(self) -> None:
        """200,000 random and mutated frames each decode or raise DecodeError."""
        count = int(os.environ.get("SMSGW_SMPP_FUZZ_FRAMES", "200000"))
        self.assertEqual(fuzz(count, seed=18), count)


def _seeds() -> list[bytes]:
    """One valid frame per PDU class, with its variable fields filled."""
    tlvs = (Tlv(0x001E, b"abc\x00"), Tlv(0x0427, b"\x02"))
    out = []
    for cls in SMPP34.layouts:
        values: dict[str, Any] = {}
        for name, codec in SMPP34.layouts[cls].fields:
            if isinstance(codec, Tlvs):
                values[name] = tlvs
            elif isinstance(codec, DestList):
                values[name] = (p.SmeAddress(1, 1, b"8613800138000"), p.DistributionList(b"dl"))
            elif isinstance(codec, UnsuccessList):
                values[name] = (p.UnsuccessSme(1, 1, b"86138", 11),)
            elif name in ("schedule_delivery_time", "validity_period", "final_date"):
                values[name] = b"240305060708000+"
            elif isinstance(codec.default(), bytes):
                values[name] = b"42"
        out.append(encode(cls(**values), 7))
    return out


def fuzz(count: int, seed: int) -> int:
    """Decode *count* random and mutated frames; return how many were tried.

    :raises AssertionError: an exception other than DecodeError escaped.
    """
    rnd = random.Random(seed)
    seeds = _seeds()
    commands = [*sorted(SMPP34.by_command), 0x99, 0x80000099]
    for i in range(count):
        kind = i % 3
        if kind == 0:  # random body under a header of any command
            body = rnd.randbytes(rnd.randrange(0, 80))
            frame = (
                struct.pack(">IIII", 16 + len(body), rnd.choice(commands), rnd.getrandbits(32), i)
                + body
            )
        else:  # a valid frame, mutated: flipped bytes, a cut, extra bytes
            buf = bytearray(rnd.choice(seeds))
            for _ in range(rnd.randrange(1, 5)):
                buf[rnd.randrange(4, len(buf))] = rnd.randrange(256)
            if kind == 2:
                buf = buf[: rnd.randrange(16, len(buf) + 1)] + rnd.randbytes(rnd.randrange(0, 6))
            buf[:4] = struct.pack(">I", len(buf))
            frame = bytes(buf)
        try:
            decode(frame)
        except DecodeError:
            pass
    return count
