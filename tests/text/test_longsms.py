"""Tests for :mod:`smsgw.text.longsms` (CMPP 2.0 notes section 10)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from itertools import pairwise

from hypothesis import example, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.text.encoding import MsgFmt, TextEncodeError, encode_text, max_single_length
from smsgw.text.longsms import (
    ConcatInfo,
    Incomplete,
    Part,
    Reassembled,
    Reassembler,
    UdhElement,
    UdhError,
    concat_info,
    parse_udh,
    split_bytes,
    split_text,
)
from tests.strategies import (
    message_references,
    text_and_fmt,
    ucs2_text,
    udh_like_content,
)

KEY = ("13800138000", "10655")


def _payload(segment: Part) -> bytes:
    """The segment's bytes after its UDH, if any."""
    if not segment.tp_udhi:
        return segment.content
    return parse_udh(segment.content)[1]


def _feed(
    reassembler: Reassembler, segments: Iterable[Part], key: Hashable = KEY, now: float = 0.0
) -> list[Reassembled | None]:
    """Add every segment in order; return what each :meth:`Reassembler.add` returned."""
    return [
        reassembler.add(key, segment.content, segment.tp_udhi, segment.msg_fmt, now)
        for segment in segments
    ]


def _ceil_div(numerator: int, denominator: int) -> int:
    """Integer ceiling of ``numerator / denominator``."""
    return -(-numerator // denominator)


def _is_high_surrogate(unit: bytes) -> bool:
    """Whether a big-endian UTF-16 code unit is a high (leading) surrogate."""
    return 0xD800 <= int.from_bytes(unit, "big") <= 0xDBFF


class SplitTextPropertyTests(SynchronousTestCase):
    """Properties of :func:`split_text` together with :class:`Reassembler`."""

    @given(st.data())
    def test_shuffled_segments_reassemble(self, data: st.DataObject) -> None:
        """Segments in any order reassemble to exactly one message with the original text."""
        text, fmt = data.draw(text_and_fmt(), label="text_and_fmt")
        reference = data.draw(message_references(), label="reference")
        udh16 = data.draw(st.booleans(), label="udh16")
        segments = split_text(text, fmt, reference, udh16=udh16)
        shuffled = data.draw(st.permutations(segments), label="shuffled")
        reassembler = Reassembler()
        results = _feed(reassembler, shuffled)
        self.assertEqual(results[:-1], [None] * (len(results) - 1))
        whole = results[-1]
        assert whole is not None
        self.assertEqual(whole.text, text)
        self.assertEqual(whole.payload, encode_text(text, fmt))
        self.assertEqual(whole.msg_fmt, fmt)
        self.assertEqual(whole.key, KEY)
        self.assertEqual(whole.total, len(segments))
        if len(segments) > 1:
            self.assertEqual(whole.reference, reference & (0xFFFF if udh16 else 0xFF))
        self.assertEqual(reassembler.pending, 0)
        self.assertEqual(reassembler.expire(now=1e9), [])

    @given(text_and_fmt(), message_references(), st.booleans())
    def test_segments_fit_and_match_udh(
        self, text_fmt: tuple[str, MsgFmt], reference: int, udh16: bool
    ) -> None:
        """Every segment fits its format and Pk_total/Pk_number equal the UDH's TT/SS."""
        text, fmt = text_fmt
        segments = split_text(text, fmt, reference, udh16=udh16)
        limit = 159 if fmt == MsgFmt.ASCII else 140
        total = len(segments)
        for number, segment in enumerate(segments, start=1):
            self.assertLessEqual(len(segment.content), limit)
            self.assertEqual((segment.pk_total, segment.pk_number), (total, number))
            self.assertEqual(segment.msg_fmt, fmt)
        if total == 1:
            [segment] = segments
            self.assertIs(segment.tp_udhi, False)
            self.assertEqual(segment.content, encode_text(text, fmt))
            return
        self.assertGreater(len(encode_text(text, fmt)), max_single_length(fmt))
        mask = 0xFFFF if udh16 else 0xFF
        for segment in segments:
            self.assertIs(segment.tp_udhi, True)
            self.assertEqual(
                concat_info(segment.content, segment.tp_udhi),
                ConcatInfo(reference & mask, segment.pk_total, segment.pk_number),
            )
            self.assertEqual(segment.content[0], 6 if udh16 else 5)

    @given(ucs2_text(), message_references(), st.booleans())
    @example("😀" * 40, 1, False)
    @example("a" + "😀" * 40, 1, True)
    def test_ucs2_never_splits_surrogate_pair(self, text: str, reference: int, udh16: bool) -> None:
        """UCS2 segments end on a character boundary and are as full as that allows."""
        segments = split_text(text, MsgFmt.UCS2, reference, udh16=udh16)
        payloads = [_payload(segment) for segment in segments]
        units = len(encode_text(text, MsgFmt.UCS2)) // 2
        capacity = 66 if udh16 else 67
        for payload in payloads:
            self.assertEqual(len(payload) % 2, 0)
            if payload:
                self.assertFalse(_is_high_surrogate(payload[-2:]))
            payload.decode("utf-16-be")  # strict: no half pair at either end
        if len(segments) == 1:
            return
        for payload, following in pairwise(payloads):
            # Full, or one unit short because the next unit starts a surrogate pair.
            if len(payload) != 2 * capacity:
                self.assertEqual(len(payload), 2 * (capacity - 1))
                self.assertTrue(_is_high_surrogate(following[:2]))
        self.assertGreaterEqual(len(segments), _ceil_div(units, capacity))
        self.assertLessEqual(len(segments), _ceil_div(units, capacity - 1))

    @given(text_and_fmt(), st.booleans())
    def test_segments_on_character_boundaries(
        self, text_fmt: tuple[str, MsgFmt], udh16: bool
    ) -> None:
        """Each payload decodes strictly alone, and adding the next character would overflow it."""
        text, fmt = text_fmt
        segments = split_text(text, fmt, 7, udh16=udh16)
        if len(segments) == 1:
            return
        codec = {MsgFmt.ASCII: "ascii", MsgFmt.UCS2: "utf-16-be", MsgFmt.GB: "gb18030"}[fmt]
        capacity = max_single_length(fmt) - (7 if udh16 else 6)
        pieces = [_payload(segment).decode(codec) for segment in segments]
        self.assertEqual("".join(pieces), text)
        for piece, following in pairwise(pieces):
            self.assertTrue(piece)
            grown = piece + following[0]
            self.assertGreater(len(encode_text(grown, fmt)), capacity)
        if fmt == MsgFmt.ASCII:
            self.assertEqual(len(segments), _ceil_div(len(text), capacity))


class SplitTextExampleTests(SynchronousTestCase):
    """Pinned examples from CMPP 2.0 notes section 10."""

    def test_notes_example_header(self) -> None:
        """Second of three segments, reference 0x39, starts 05 00 03 39 03 02."""
        segments = split_text("x" * (153 * 2 + 1), MsgFmt.ASCII, 0x39)
        self.assertEqual(len(segments), 3)
        self.assertEqual(segments[1].content[:6], bytes.fromhex("050003390302"))
        self.assertEqual(segments[1], Part(3, 2, 1, bytes.fromhex("050003390302") + b"x" * 153, 0))

    def test_udh16_header(self) -> None:
        """The 16-bit UDH is 06 08 04 RR RR TT SS with the reference big-endian."""
        segments = split_text("x" * 200, MsgFmt.ASCII, 0x12345, udh16=True)
        self.assertEqual(
            [segment.content[:7] for segment in segments],
            [bytes.fromhex("0608042345" + "0201"), bytes.fromhex("0608042345" + "0202")],
        )
        self.assertEqual([len(_payload(segment)) for segment in segments], [152, 48])

    def test_reference_masked_to_8_bits(self) -> None:
        """The 8-bit UDH carries reference & 0xFF."""
        segments = split_text("x" * 200, MsgFmt.ASCII, 0x1FF)
        self.assertEqual(segments[0].content[:6], bytes.fromhex("050003ff0201"))

    def test_ucs2_70_chinese_single(self) -> None:
        """70 Chinese characters in UCS2 are one 140-byte message without UDH."""
        [segment] = split_text("中" * 70, MsgFmt.UCS2, 1)
        self.assertEqual(segment, Part(1, 1, 0, "中".encode("utf-16-be") * 70, 8))
        self.assertEqual(len(segment.content), 140)

    def test_ucs2_71_chinese_split(self) -> None:
        """71 Chinese characters in UCS2 split into 67 + 4 characters."""
        segments = split_text("中" * 71, MsgFmt.UCS2, 1)
        self.assertEqual([len(segment.content) for segment in segments], [140, 14])
        self.assertEqual([len(_payload(segment)) for segment in segments], [134, 8])

    def test_ascii_159_single(self) -> None:
        """159 ASCII characters are one message without UDH."""
        [segment] = split_text("a" * 159, MsgFmt.ASCII, 1)
        self.assertEqual((segment.tp_udhi, len(segment.content)), (0, 159))

    def test_ascii_160_split(self) -> None:
        """160 ASCII characters split into 153 + 7 behind 6-byte UDHs."""
        segments = split_text("a" * 160, MsgFmt.ASCII, 1)
        self.assertEqual([len(_payload(segment)) for segment in segments], [153, 7])
        self.assertEqual([len(segment.content) for segment in segments], [159, 13])

    def test_ucs2_surrogate_back_off(self) -> None:
        """A surrogate pair that would straddle 67 code units moves to the next segment."""
        segments = split_text("😀" * 40, MsgFmt.UCS2, 1)
        payloads = [_payload(segment) for segment in segments]
        self.assertEqual([len(payload) for payload in payloads], [132, 28])
        self.assertEqual(payloads[0].decode("utf-16-be"), "😀" * 33)

    def test_gb_split(self) -> None:
        """GB splits 71 Chinese characters into 134 + 8 bytes, or 132 + 10 with udh16."""
        segments = split_text("中" * 71, MsgFmt.GB, 1)
        self.assertEqual([len(_payload(segment)) for segment in segments], [134, 8])
        segments = split_text("中" * 71, MsgFmt.GB, 1, udh16=True)
        self.assertEqual([len(_payload(segment)) for segment in segments], [132, 10])

    def test_gb_never_splits_double_byte(self) -> None:
        """A GBK double byte that would straddle 134 bytes moves to the next segment."""
        segments = split_text("a" * 133 + "中" * 5, MsgFmt.GB, 1)
        self.assertEqual(
            [_payload(segment) for segment in segments], [b"a" * 133, "中中中中中".encode("gbk")]
        )

    def test_gb_never_splits_four_byte(self) -> None:
        """A GB18030 four-byte sequence that would straddle 134 bytes moves on whole."""
        segments = split_text("a" * 132 + "😀" + "b" * 10, MsgFmt.GB, 1)
        self.assertEqual(
            [_payload(segment) for segment in segments],
            [b"a" * 132, "😀".encode("gb18030") + b"b" * 10],
        )

    def test_empty_text(self) -> None:
        """Empty text is one empty message."""
        self.assertEqual(split_text("", MsgFmt.UCS2, 1), [Part(1, 1, 0, b"", 8)])

    def test_plain_int_format(self) -> None:
        """A plain int Msg_Fmt is accepted and recorded as an int."""
        [segment] = split_text("hi", 8, 1)  # type: ignore[arg-type]
        self.assertEqual(segment, Part(1, 1, 0, b"\x00h\x00i", 8))

    def test_binary_format_refused(self) -> None:
        """Binary and write-card formats are refused, pointing at split_bytes."""
        for fmt in (MsgFmt.BINARY, MsgFmt.WRITE_CARD):
            exc = self.assertRaises(TextEncodeError, split_text, "abc", fmt, 1)
            self.assertIn("split_bytes", str(exc))

    def test_unencodable_refused(self) -> None:
        """Text the format cannot encode raises TextEncodeError."""
        self.assertRaises(TextEncodeError, split_text, "中" * 200, MsgFmt.ASCII, 1)

    def test_255_segments_allowed(self) -> None:
        """Exactly 255 full segments are allowed."""
        segments = split_text("a" * (153 * 255), MsgFmt.ASCII, 1)
        self.assertEqual(len(segments), 255)
        self.assertEqual(segments[-1].content[:6], bytes.fromhex("050003 01 ff ff"))

    def test_too_many_segments(self) -> None:
        """More than 255 segments raise ValueError saying so."""
        exc = self.assertRaises(ValueError, split_text, "a" * (153 * 255 + 1), MsgFmt.ASCII, 1)
        self.assertIn("255", str(exc))
        self.assertNotIsInstance(exc, TextEncodeError)

    def test_too_many_segments_after_back_off(self) -> None:
        """Surrogate back-off that pushes the count past 255 raises ValueError."""
        self.assertEqual(len(split_text("😀" * (33 * 255), MsgFmt.UCS2, 1)), 255)
        exc = self.assertRaises(ValueError, split_text, "😀" * (33 * 255 + 1), MsgFmt.UCS2, 1)
        self.assertIn("256 segments", str(exc))


class SplitBytesTests(SynchronousTestCase):
    """:func:`split_bytes` for binary payloads."""

    def test_single(self) -> None:
        """Up to 140 bytes go unsplit."""
        data = bytes(range(140))
        self.assertEqual(split_bytes(data, MsgFmt.BINARY, 1), [Part(1, 1, 0, data, 4)])

    def test_split(self) -> None:
        """141 bytes split into 134 + 7, or 133 + 8 with udh16."""
        data = bytes(range(141))
        segments = split_bytes(data, MsgFmt.BINARY, 0x39)
        self.assertEqual(
            segments,
            [
                Part(2, 1, 1, bytes.fromhex("050003390201") + data[:134], 4),
                Part(2, 2, 1, bytes.fromhex("050003390202") + data[134:], 4),
            ],
        )
        segments = split_bytes(data, MsgFmt.WRITE_CARD, 0x39, udh16=True)
        self.assertEqual([len(_payload(segment)) for segment in segments], [133, 8])
        self.assertEqual({segment.msg_fmt for segment in segments}, {3})

    def test_too_many_segments(self) -> None:
        """255 segments are allowed, 256 raise ValueError."""
        self.assertEqual(len(split_bytes(b"\0" * (134 * 255), 4, 1)), 255)
        self.assertRaises(ValueError, split_bytes, b"\0" * (134 * 255 + 1), 4, 1)

    @given(st.binary(max_size=1000), message_references(), st.booleans(), st.data())
    def test_round_trip(
        self, data: bytes, reference: int, udh16: bool, draw: st.DataObject
    ) -> None:
        """Shuffled binary segments fit in 140 bytes and reassemble to the payload."""
        segments = split_bytes(data, MsgFmt.BINARY, reference, udh16=udh16)
        self.assertTrue(all(len(segment.content) <= 140 for segment in segments))
        self.assertEqual(
            len(segments), 1 if len(data) <= 140 else _ceil_div(len(data), 134 - udh16)
        )
        results = _feed(Reassembler(), draw.draw(st.permutations(segments)))
        whole = results[-1]
        assert whole is not None
        self.assertEqual(whole.payload, data)
        self.assertEqual(whole.text, data.decode("latin-1"))


class ParseUdhTests(SynchronousTestCase):
    """:func:`parse_udh` and :func:`concat_info`."""

    def test_notes_example(self) -> None:
        """05 00 03 39 03 02 is segment 2 of 3 with reference 0x39."""
        content = bytes.fromhex("050003390302") + b"payload"
        self.assertEqual(parse_udh(content), ((UdhElement(0, b"\x39\x03\x02"),), b"payload"))
        self.assertEqual(concat_info(content, 1), ConcatInfo(0x39, 3, 2))

    def test_16_bit_reference(self) -> None:
        """IEI 0x08 carries a big-endian 16-bit reference."""
        content = bytes.fromhex("06080412340301") + b"x"
        self.assertEqual(concat_info(content, 1), ConcatInfo(0x1234, 3, 1))

    def test_other_elements(self) -> None:
        """The concatenation element is found after a port-addressing element."""
        content = bytes.fromhex("0b05040b8423f0000339030262")
        elements, payload = parse_udh(content)
        self.assertEqual(
            elements,
            (UdhElement(0x05, bytes.fromhex("0b8423f0")), UdhElement(0x00, b"\x39\x03\x02")),
        )
        self.assertEqual(payload, b"b")
        self.assertEqual(concat_info(content, 1), ConcatInfo(0x39, 3, 2))

    def test_last_concat_element_wins(self) -> None:
        """A repeated concatenation element counts by its last occurrence (TS 23.040)."""
        content = bytes.fromhex("0a 000339 0302 000311 0201")
        self.assertEqual(concat_info(content, 1), ConcatInfo(0x11, 2, 1))

    def test_empty_udh(self) -> None:
        """UDHL 0 has no elements and no concatenation."""
        self.assertEqual(parse_udh(b"\x00ab"), ((), b"ab"))
        self.assertIsNone(concat_info(b"\x00ab", 1))

    def test_no_concat_element(self) -> None:
        """A UDH without IEI 0x00 or 0x08 gives None."""
        self.assertIsNone(concat_info(bytes.fromhex("0605040b8423f0") + b"x", 1))

    def test_udhi_bits(self) -> None:
        """TP_udhi 1, 0x40 and 0x41 mean a UDH; 0 and 2 do not."""
        content = bytes.fromhex("050003390302") + b"x"
        for tp_udhi in (1, 0x40, 0x41, 0xFF):
            self.assertEqual(concat_info(content, tp_udhi), ConcatInfo(0x39, 3, 2))
        for tp_udhi in (0, 2, 0x80):
            self.assertIsNone(concat_info(content, tp_udhi))

    def test_malformed(self) -> None:
        """Each inconsistency raises UdhError naming it."""
        cases = {
            "": "empty",
            "05000339": "UDHL 5 exceeds the 3 bytes",
            "0300053903": "IEDL 5, overrunning the 3-byte header",
            "0100": "IEI without IEDL",
            "0600033903": "UDHL 6 exceeds",
            "0400023903": "IEDL 2, expected 3",
            "0508033903 02": "IEDL 3, expected 4",
            "050003390002": "total 0",
            "050003390300": "number 0",
            "050003390304": "number 4 > total 3",
        }
        for content, message in cases.items():
            exc = self.assertRaises(UdhError, concat_info, bytes.fromhex(content), 1)
            self.assertIn(message, str(exc))
            self.assertIsInstance(exc, ValueError)

    @given(st.one_of(st.binary(max_size=40), udh_like_content()))
    @example(b"")
    @example(b"\x01")
    @example(b"\x02\x00")
    def test_parse_udh_total(self, content: bytes) -> None:
        """Any bytes parse into elements that re-serialise exactly, or raise UdhError."""
        try:
            elements, payload = parse_udh(content)
        except UdhError:
            return
        header = b"".join(bytes((e.iei, len(e.data))) + e.data for e in elements)
        self.assertEqual(bytes((len(header),)) + header + payload, content)

    @given(st.one_of(st.binary(max_size=40), udh_like_content()), st.integers(0, 255))
    def test_concat_info_total(self, content: bytes, tp_udhi: int) -> None:
        """Any bytes give None, a consistent ConcatInfo, or UdhError."""
        try:
            info = concat_info(content, tp_udhi)
        except UdhError:
            return
        if info is not None:
            self.assertTrue(1 <= info.number <= info.total <= 255)
            self.assertTrue(0 <= info.reference <= 0xFFFF)


class ReassemblerTests(SynchronousTestCase):
    """:class:`Reassembler` grouping, duplicates, expiry and bounds."""

    def setUp(self) -> None:
        self.text = "长短信测试😀" * 30
        self.segments = split_text(self.text, MsgFmt.UCS2, 0x39)

    def test_not_concatenated(self) -> None:
        """Content without a UDH is a whole message at once."""
        reassembler = Reassembler()
        self.assertEqual(
            reassembler.add(KEY, b"hello", 0, MsgFmt.ASCII, 0.0),
            Reassembled(KEY, 0, 1, b"hello", 0, "hello"),
        )
        self.assertEqual(reassembler.pending, 0)

    def test_udh_without_concat(self) -> None:
        """A UDH without concatenation is stripped and the message passes through."""
        content = bytes.fromhex("0605040b8423f0") + b"hi"
        self.assertEqual(
            Reassembler().add(KEY, content, 0x40, MsgFmt.ASCII, 0.0),
            Reassembled(KEY, 0, 1, b"hi", 0, "hi"),
        )

    def test_one_of_one(self) -> None:
        """A 1-of-1 concatenated segment is whole at once and keeps its reference."""
        content = bytes.fromhex("050003390101") + b"hi"
        self.assertEqual(
            Reassembler().add(KEY, content, 1, MsgFmt.ASCII, 0.0),
            Reassembled(KEY, 0x39, 1, b"hi", 0, "hi"),
        )

    def test_udhi_0x40(self) -> None:
        """Segments flagged with TP_udhi 0x40 (esm_class passed through) reassemble."""
        reassembler = Reassembler()
        results = [
            reassembler.add(KEY, segment.content, 0x40, segment.msg_fmt, 0.0)
            for segment in self.segments
        ]
        whole = results[-1]
        assert whole is not None
        self.assertEqual(whole.text, self.text)
        self.assertEqual(results.count(None), len(self.segments) - 1)

    def test_character_split_across_segments(self) -> None:
        """A character whose bytes straddle two received segments survives the single decode."""
        data = "中文".encode("utf-16-be")
        first = bytes.fromhex("050003070201") + data[:3]
        second = bytes.fromhex("050003070202") + data[3:]
        reassembler = Reassembler()
        self.assertIsNone(reassembler.add(KEY, second, 1, MsgFmt.UCS2, 0.0))
        whole = reassembler.add(KEY, first, 1, MsgFmt.UCS2, 0.0)
        assert whole is not None
        self.assertEqual(whole.text, "中文")

    def test_groups_are_separate(self) -> None:
        """Same reference under other keys or totals does not mix."""
        reassembler = Reassembler()
        part1of2 = bytes.fromhex("050003390201") + b"a"
        part2of3 = bytes.fromhex("050003390302") + b"b"
        self.assertIsNone(reassembler.add(KEY, part1of2, 1, 0, 0.0))
        self.assertIsNone(reassembler.add("other", bytes.fromhex("050003390202"), 1, 0, 0.0))
        self.assertIsNone(reassembler.add(KEY, part2of3, 1, 0, 0.0))
        self.assertEqual(reassembler.pending, 3)
        whole = reassembler.add(KEY, bytes.fromhex("050003390202") + b"c", 1, 0, 0.0)
        self.assertEqual(whole, Reassembled(KEY, 0x39, 2, b"ac", 0, "ac"))
        self.assertEqual(reassembler.pending, 2)

    @given(st.data())
    def test_duplicates_ignored(self, data: st.DataObject) -> None:
        """A repeated segment number is ignored; the first copy's payload is kept."""
        count = len(self.segments)
        extra = data.draw(st.lists(st.integers(0, count - 1), max_size=10), label="extra")
        order = data.draw(st.permutations(list(range(count)) + extra), label="order")
        seen: set[int] = set()
        first_copy: dict[int, bytes] = {}
        reassembler = Reassembler()
        for position, index in enumerate(order):
            segment = self.segments[index]
            content = segment.content
            if index in seen:
                # A corrupted duplicate: it must not replace the first copy.
                content = content[:6] + bytes(len(content) - 6)
            else:
                first_copy[index] = _payload(segment)
            seen.add(index)
            result = reassembler.add(KEY, content, 1, MsgFmt.UCS2, float(position))
            if len(seen) < count:
                self.assertIsNone(result)
                continue
            assert result is not None
            self.assertEqual(result.text, self.text)
            self.assertEqual(result.payload, b"".join(first_copy[i] for i in range(count)))
            self.assertEqual(reassembler.pending, 0)
            break

    @given(st.data())
    def test_expire_reports_missing(self, data: st.DataObject) -> None:
        """expire() reports and forgets a group open for timeout_s, with the missing numbers."""
        count = len(self.segments)
        numbers = data.draw(
            st.lists(st.integers(1, count), min_size=1, max_size=count - 1, unique=True),
            label="numbers",
        )
        reassembler = Reassembler(timeout_s=60.0)
        for offset, number in enumerate(numbers):
            segment = self.segments[number - 1]
            self.assertIsNone(_feed(reassembler, [segment], now=100.0 + offset)[0])
        self.assertEqual(reassembler.expire(now=159.9), [])
        self.assertEqual(reassembler.pending, 1)
        received = tuple(sorted(numbers))
        self.assertEqual(
            reassembler.expire(now=160.0),
            [
                Incomplete(
                    key=KEY,
                    reference=0x39,
                    total=count,
                    received=received,
                    missing=tuple(n for n in range(1, count + 1) if n not in numbers),
                    payloads=tuple(_payload(self.segments[n - 1]) for n in received),
                    msg_fmt=MsgFmt.UCS2,
                )
            ],
        )
        self.assertEqual(reassembler.pending, 0)
        self.assertEqual(reassembler.expire(now=1000.0), [])

    def test_expire_keeps_young_groups(self) -> None:
        """Only groups whose first segment is old enough expire."""
        reassembler = Reassembler(timeout_s=10.0)
        _feed(reassembler, self.segments[:1], key="old", now=0.0)
        _feed(reassembler, self.segments[:1], key="young", now=5.0)
        _feed(reassembler, self.segments[1:2], key="old", now=9.0)
        self.assertEqual([i.key for i in reassembler.expire(now=10.0)], ["old"])
        self.assertEqual(reassembler.pending, 1)
        self.assertEqual([i.key for i in reassembler.expire(now=15.0)], ["young"])

    def test_max_groups_evicts_oldest(self) -> None:
        """Opening a group beyond max_groups evicts the oldest, reported by expire()."""
        reassembler = Reassembler(timeout_s=60.0, max_groups=2)
        for key in ("a", "b", "c"):
            _feed(reassembler, self.segments[:1], key=key, now=0.0)
        self.assertEqual(reassembler.pending, 2)
        self.assertEqual((reassembler.evicted, reassembler.dropped), (1, 0))
        [evicted] = reassembler.expire(now=1.0)
        self.assertEqual((evicted.key, evicted.received), ("a", (1,)))
        self.assertEqual(reassembler.pending, 2)
        self.assertEqual([i.key for i in reassembler.expire(now=60.0)], ["b", "c"])

    def test_eviction_reports_bounded(self) -> None:
        """Unreported evictions beyond max_groups are dropped and counted."""
        reassembler = Reassembler(max_groups=1)
        for key in ("a", "b", "c"):
            _feed(reassembler, self.segments[:1], key=key, now=0.0)
        self.assertEqual((reassembler.pending, reassembler.evicted, reassembler.dropped), (1, 2, 1))
        self.assertEqual([i.key for i in reassembler.expire(now=0.0)], ["b"])

    def test_existing_group_not_evicted(self) -> None:
        """More segments of an open group do not count against max_groups."""
        reassembler = Reassembler(max_groups=1)
        results = _feed(reassembler, self.segments)
        self.assertIsNotNone(results[-1])
        self.assertEqual(reassembler.evicted, 0)

    def test_max_groups_validated(self) -> None:
        """max_groups below 1 is refused."""
        self.assertRaises(ValueError, Reassembler, max_groups=0)

    def test_malformed_udh_raises(self) -> None:
        """A malformed UDH raises UdhError and opens no group."""
        reassembler = Reassembler()
        self.assertRaises(UdhError, reassembler.add, KEY, b"\x09\x00", 1, 0, 0.0)
        self.assertEqual(reassembler.pending, 0)

    @given(st.lists(st.tuples(udh_like_content(), st.integers(0, 255)), max_size=20))
    def test_add_total(self, parts: list[tuple[bytes, int]]) -> None:
        """Arbitrary content either returns a result, None, or raises UdhError."""
        reassembler = Reassembler(max_groups=4)
        for content, tp_udhi in parts:
            try:
                result = reassembler.add(KEY, content, tp_udhi, MsgFmt.UCS2, 0.0)
            except UdhError:
                continue
            if result is not None:
                self.assertIsInstance(result.text, str)
            self.assertLessEqual(reassembler.pending, 4)
