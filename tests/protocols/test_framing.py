"""Tests for :mod:`smsgw.protocols.framing` (cmpp20-notes.md section 1)."""

from __future__ import annotations

import struct
from itertools import pairwise

from hypothesis import example, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.cmpp import CMPP20
from smsgw.protocols.errors import DecodeError, FramingError
from smsgw.protocols.framing import Framer
from tests.strategies import frames_strategy


def frame(length: int, fill: bytes = b"\xab") -> bytes:
    """A frame of *length* bytes: its length field then filler."""
    return struct.pack(">I", length) + fill * (length - 4)


@st.composite
def raw_frames(draw: st.DrawFn, min_length: int = 12, max_length: int = 4096) -> bytes:
    """A frame of any legal length with arbitrary contents after the length field."""
    length = draw(st.integers(min_length, max_length))
    return struct.pack(">I", length) + draw(st.binary(min_size=length - 4, max_size=length - 4))


@st.composite
def chunked(draw: st.DrawFn) -> tuple[list[bytes], list[bytes]]:
    """Frames, and their concatenation cut at arbitrary points (empty chunks included)."""
    frames = draw(
        st.lists(st.one_of(frames_strategy(CMPP20), raw_frames(max_length=300)), max_size=8)
    )
    stream = b"".join(frames)
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=40)))
    bounds = [0, *cuts, len(stream)]
    return frames, [stream[a:b] for a, b in pairwise(bounds)]


def feed_all(framer: Framer, chunks: list[bytes]) -> list[bytes]:
    """Feed every chunk in turn; return all the frames that came out, in order."""
    out: list[bytes] = []
    for chunk in chunks:
        out.extend(framer.feed(chunk))
    return out


class ChunkingTests(SynchronousTestCase):
    """The same frames come out however the stream is cut."""

    @given(chunked())
    @example(([frame(12)], [b"", frame(12)[:3], b"", frame(12)[3:], b""]))
    @example(([frame(12), frame(13)], [frame(12) + frame(13)[:4], frame(13)[4:]]))
    def test_any_chunking(self, case: tuple[list[bytes], list[bytes]]) -> None:
        """Concatenated frames cut into any chunks come out as exactly those frames."""
        frames, chunks = case
        framer = Framer()
        self.assertEqual(feed_all(framer, chunks), frames)
        self.assertEqual(framer.buffered, 0)

    @given(st.lists(frames_strategy(CMPP20), min_size=1, max_size=4))
    def test_one_byte_chunks(self, frames: list[bytes]) -> None:
        """Frames fed one byte at a time come out whole, each on its last byte."""
        stream = b"".join(frames)
        framer = Framer()
        out: list[bytes] = []
        ends = {sum(map(len, frames[: i + 1])) for i in range(len(frames))}
        for i in range(len(stream)):
            got = framer.feed(stream[i : i + 1])
            self.assertEqual(len(got), 1 if i + 1 in ends else 0)
            out.extend(got)
        self.assertEqual(out, frames)
        self.assertEqual(framer.buffered, 0)

    @given(st.lists(frames_strategy(CMPP20), max_size=6))
    def test_one_chunk(self, frames: list[bytes]) -> None:
        """Many frames in a single chunk all come out of one feed."""
        framer = Framer()
        self.assertEqual(framer.feed(b"".join(frames)), frames)

    @given(frames_strategy(CMPP20))
    def test_frames_decode(self, data: bytes) -> None:
        """Frames the framer cuts from the stream decode with the CMPP codec."""
        framer = Framer()
        (out,) = framer.feed(data)
        header, _ = CMPP20.decode(out)
        self.assertEqual(header.length, len(out))

    def test_limits_accepted(self) -> None:
        """Lengths of exactly the minimum and the maximum are legal."""
        framer = Framer()
        self.assertEqual(framer.feed(frame(12) + frame(4096)), [frame(12), frame(4096)])

    def test_custom_limits(self) -> None:
        """min_length and max_length are configurable (e.g. SGIP's 20-byte header)."""
        framer = Framer(min_length=20, max_length=100)
        self.assertEqual(framer.feed(frame(20) + frame(100)), [frame(20), frame(100)])
        self.assertRaises(FramingError, Framer(min_length=20).feed, frame(19))
        self.assertRaises(FramingError, Framer(max_length=100).feed, frame(101))

    def test_empty_feed(self) -> None:
        """Feeding nothing returns nothing and buffers nothing."""
        framer = Framer()
        self.assertEqual(framer.feed(b""), [])
        self.assertEqual(framer.buffered, 0)


class BufferingTests(SynchronousTestCase):
    """Partial frames wait in the buffer."""

    def test_partial_length_field(self) -> None:
        """Fewer than 4 bytes are buffered without judging the length."""
        framer = Framer()
        self.assertEqual(framer.feed(b"\x00\x00"), [])
        self.assertEqual(framer.buffered, 2)
        self.assertEqual(framer.feed(b"\x00"), [])
        self.assertEqual(framer.buffered, 3)
        self.assertEqual(framer.feed(b"\x0c" + bytes(8)), [b"\x00\x00\x00\x0c" + bytes(8)])
        self.assertEqual(framer.buffered, 0)

    def test_partial_body(self) -> None:
        """A frame whose body has not all arrived is buffered until it has."""
        framer = Framer()
        whole = frame(39)
        self.assertEqual(framer.feed(whole[:20]), [])
        self.assertEqual(framer.buffered, 20)
        self.assertEqual(framer.feed(whole[20:38]), [])
        self.assertEqual(framer.buffered, 38)
        self.assertEqual(framer.feed(whole[38:]), [whole])
        self.assertEqual(framer.buffered, 0)

    def test_remainder_after_frames(self) -> None:
        """Bytes after the last whole frame stay buffered."""
        framer = Framer()
        self.assertEqual(framer.feed(frame(12) + frame(30)[:7]), [frame(12)])
        self.assertEqual(framer.buffered, 7)

    @given(raw_frames(), st.data())
    def test_buffered_counts_the_partial_frame(self, whole: bytes, data: st.DataObject) -> None:
        """buffered is the number of bytes fed that do not yet make a frame."""
        cut = data.draw(st.integers(0, len(whole) - 1), label="cut")
        framer = Framer()
        self.assertEqual(framer.feed(whole[:cut]), [])
        self.assertEqual(framer.buffered, cut)
        self.assertEqual(framer.feed(whole[cut:]), [whole])


class BadLengthTests(SynchronousTestCase):
    """A length outside the limits breaks the framer for good."""

    BAD = (0, 3, 4, 11, 4097, 0x00A00000, 0xFFFFFFFF)

    def assert_broken(self, framer: Framer) -> None:
        """Every later feed raises FramingError, whatever it carries."""
        for data in (b"", frame(12), b"\x00"):
            self.assertRaises(FramingError, framer.feed, data)

    def test_bad_lengths(self) -> None:
        """Lengths below the header or above the maximum raise FramingError naming the field."""
        for length in self.BAD:
            framer = Framer()
            e = self.assertRaises(FramingError, framer.feed, struct.pack(">I", length) + bytes(8))
            self.assertEqual(e.field, "length", length)
            self.assertIsInstance(e, DecodeError)
            self.assertIsNone(e.status)
            self.assert_broken(framer)

    def test_detected_from_the_length_alone(self) -> None:
        """A 10 MB length is refused on its 4 bytes, without waiting for the body."""
        framer = Framer()
        self.assertRaises(FramingError, framer.feed, struct.pack(">I", 0x00A00000))
        self.assertEqual(framer.buffered, 0)
        self.assert_broken(framer)

    def test_split_bad_length(self) -> None:
        """A bad length split across feeds is refused once its fourth byte arrives."""
        framer = Framer()
        self.assertEqual(framer.feed(b"\x00\xa0"), [])
        self.assertRaises(FramingError, framer.feed, b"\x00\x00")
        self.assert_broken(framer)

    def test_bad_length_after_good_frames(self) -> None:
        """Whole frames before a bad length still come out; the error is kept and raised next."""
        framer = Framer()
        self.assertEqual(framer.feed(frame(12)), [frame(12)])
        self.assertEqual(framer.feed(frame(20) + frame(11)), [frame(20)])
        self.assertIsInstance(framer.error, FramingError)
        self.assert_broken(framer)

    def test_same_error_again(self) -> None:
        """Later feeds raise the very error the first one did."""
        framer = Framer()
        first = self.assertRaises(FramingError, framer.feed, frame(3))
        again = self.assertRaises(FramingError, framer.feed, frame(12))
        self.assertIs(again, first)

    @given(st.lists(frames_strategy(CMPP20), max_size=3), st.sampled_from(BAD), st.data())
    def test_bad_length_in_stream(self, good: list[bytes], bad: int, data: st.DataObject) -> None:
        """Good frames then a bad length: every good frame comes out, then the framer is broken."""
        stream = b"".join(good)
        cut = data.draw(st.integers(0, len(stream)), label="cut")
        framer = Framer()
        out = framer.feed(stream[:cut])
        rest = stream[cut:] + struct.pack(">I", bad)
        try:
            out += framer.feed(rest)
        except FramingError:
            pass
        self.assertEqual(out, good)
        self.assertIsInstance(framer.error, FramingError)
        self.assert_broken(framer)
