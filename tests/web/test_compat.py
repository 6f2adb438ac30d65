"""The seed-001-compatible API (:mod:`smsgw.web.compat`): ``/mt`` and ``/mo``
into a real :class:`~smsgw.sp.gateway.Gateway` on a MemoryStore, a Clock and
fake channels, every encoding against seed 001's byte examples (§12.28),
every error code it answers (§16), and our own seed 001 client
(:class:`~smsgw.vendor.client.VendorClient`) against it over loopback."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st
from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.internet.defer import Deferred, fail
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.server import Site
from twisted.web.test.requesthelper import DummyRequest

from smsgw.config import ApiKeyConfig
from smsgw.store.memory import MemoryStore
from smsgw.store.model import Message
from smsgw.text import decode_text
from smsgw.vendor.answers import MoRecord, ReportRecord
from smsgw.vendor.client import VendorClient
from smsgw.vendor.codec import (
    SendValues,
    VendorEncodeError,
    build_request,
    format_time,
    url_quote,
)
from smsgw.vendor.description import Kind, Transfer
from smsgw.web.compat import (
    CompatApi,
    CompatResource,
    Record,
    decode_external_id,
    encode_external_ids,
    somp_description,
    split_records,
)
from tests.sp.test_gateway import LONG_TEXT, MOBILE, START, FakeChannel, GatewayHarness

NAME = "app1"
KEY = "k-3f9a1c"
OTHER = "13900139000"
DESC = somp_description()


def query(**params: str | bytes) -> bytes:
    """A query string; byte values are percent-encoded as they are (tf=2 bytes)."""
    parts = []
    for name, value in params.items():
        raw = value if isinstance(value, bytes) else value.encode("utf-8")
        parts.append(f"{name}={url_quote(raw)}")
    return "&".join(parts).encode("ascii")


def digest(ts: str, content: bytes | None = None, name: str = NAME, key: str = KEY) -> str:
    """§12.26: Base64(MD5(un + pw + ts + content))."""
    md5 = hashlib.md5(name.encode() + key.encode() + ts.encode() + (content or b""))
    return base64.b64encode(md5.digest()).decode()


class CompatCase(SynchronousTestCase):
    """A gateway with three fake channels and the compatible API over it."""

    def setUp(self) -> None:
        self.h = GatewayHarness(self)
        self.api = CompatApi(self.h.gateway, [ApiKeyConfig(KEY, NAME)])
        self.mobile = self.h.channel["mobile"]

    def ts(self, offset_s: float = 0.0) -> str:
        """A ``ts`` value (Beijing time) *offset_s* from the gateway's clock."""
        return format_time(self.h.clock.seconds() + offset_s, "%Y%m%d%H%M%S", DESC)

    def mt(self, **params: str | bytes) -> bytes:
        """``/mt`` with the account's un/pw unless given; the answer body."""
        params = {"un": NAME, "pw": KEY, **params}
        body, _ = self.successResultOf(Deferred.fromCoroutine(self.api.mt(query(**params))))
        return body

    def mo(self, **params: str | bytes) -> bytes:
        params = {"un": NAME, "pw": KEY, **params}
        body, _ = self.successResultOf(Deferred.fromCoroutine(self.api.mo(query(**params))))
        return body

    def sent(self, answer: bytes) -> Message:
        """The message an ``r=0&id=…`` answer names."""
        fields = dict(p.split("=", 1) for p in answer.decode().split("&"))
        self.assertEqual(fields["r"], "0", answer)
        return self.h.message(fields["id"])

    def texts(self, message: Message) -> list[str]:
        """Each recipient's text as its segments carry it (UDH left out)."""
        return [
            "".join(
                decode_text(s.content[s.content[0] + 1 :] if s.tp_udhi else s.content, s.msg_fmt)
                for s in r.segments
            )
            for r in message.recipients
        ]

    def deliver(self) -> None:
        """Submit everything queued and report every segment delivered."""
        self.h.settle()
        for call in list(self.mobile.calls):
            if not call.deferred.called:
                self.mobile.answer(call)
            for dest in call.dests:
                assert call.msg_id is not None
                self.successResultOf(self.mobile.report(call.msg_id, dest=dest))


class EncodingTests(CompatCase):
    """tf 0-3 and dc 0/8/15 against §12.28's examples."""

    def check(self, sm: str | bytes, tf: str, dc: str, text: str) -> None:
        message = self.sent(self.mt(da=MOBILE, sm=sm, tf=tf, dc=dc))
        self.assertEqual(self.texts(message), [text])

    def test_abc(self) -> None:
        """ "abc" as 616263, YWJj, abc (tf=2) and abc (tf=3), dc=0."""
        for sm, tf in (("616263", "0"), ("YWJj", "1"), (b"abc", "2"), ("abc", "3")):
            self.check(sm, tf, "0", "abc")

    def test_ninhao(self) -> None:
        """ "您好" as c4fabac3, xPq6ww==, %C4%FA%BA%C3 and %E6%82%A8%E5%A5%BD, dc=15."""
        gbk = "您好".encode("gbk")
        self.assertEqual(gbk, bytes.fromhex("c4fabac3"))
        for sm, tf in (("c4fabac3", "0"), ("xPq6ww==", "1"), (gbk, "2"), ("您好", "3")):
            self.check(sm, tf, "15", "您好")
        self.assertEqual(query(sm=gbk), b"sm=%C4%FA%BA%C3")
        self.assertEqual(query(sm="您好"), b"sm=%E6%82%A8%E5%A5%BD")

    def test_default_is_hex(self) -> None:
        """No tf is HEX (§9's first example: 414243 with dc=15)."""
        message = self.sent(self.mt(da=MOBILE, sm="414243", dc="15"))
        self.assertEqual(self.texts(message), ["ABC"])

    def test_ucs2(self) -> None:
        """dc=8: UTF-16BE bytes (§9 example 1, HEX)."""
        text = "这是一条测试短信"
        self.check(text.encode("utf-16-be").hex(), "0", "8", text)

    def test_tf3_ignores_dc(self) -> None:
        """tf=3 is UTF-8 whatever dc says (example 2: dc=8, tf=3)."""
        self.check("这是一条测试短信,返回 Json", "3", "8", "这是一条测试短信,返回 Json")


class SendTests(CompatCase):
    """/mt plain sends become queue-mode gateway messages."""

    def test_answer_and_message(self) -> None:
        """r=0&id=ID; ID is the stored message, committed before the answer."""
        answer = self.mt(da=MOBILE, sm="abc", tf="3")
        message = self.sent(answer)
        self.assertEqual(answer, f"r=0&id={message.id}".encode())
        self.assertEqual([r.to for r in message.recipients], [MOBILE])
        self.assertEqual(str(message.mode), "queue")

    def test_fields(self) -> None:
        """rd, sa, ex and st reach the message (report, src_ext, external_id, send_at)."""
        st_text = self.ts(3600)
        message = self.sent(
            self.mt(da=MOBILE, sm="abc", tf="3", rd="1", sa="8888", ex="4886718345", st=st_text)
        )
        self.assertEqual((message.report, message.src_ext), (True, "8888"))
        self.assertEqual(message.send_at, self.h.clock.seconds() + 3600)
        self.assertEqual(decode_external_id(message.external_id, MOBILE), "4886718345")

    def test_no_report_by_default(self) -> None:
        """rd absent is 0 (§9: an absent integer is 0): no report asked for."""
        self.assertFalse(self.sent(self.mt(da=MOBILE, sm="abc", tf="3")).report)

    def test_past_schedule_sends_now(self) -> None:
        """An st already past sends at once."""
        message = self.sent(self.mt(da=MOBILE, sm="abc", tf="3", st=self.ts(-60)))
        self.assertIsNone(message.send_at)

    def test_several_numbers(self) -> None:
        """da holds numbers separated by ';' (§12.5), ',' accepted too."""
        message = self.sent(self.mt(da=f"{MOBILE};{OTHER},13700137000", sm="abc", tf="3"))
        self.assertEqual(len(message.recipients), 3)

    def test_bad_numbers_are_skipped(self) -> None:
        """A bad number among good ones gets no message (§12.25)."""
        message = self.sent(self.mt(da=f"{MOBILE};12345", sm="abc", tf="3"))
        self.assertEqual([r.to for r in message.recipients], [MOBILE])

    def test_same_ex_twice_sends_twice(self) -> None:
        """ex is a business code, not an idempotency key: a repeat is a new message."""
        first = self.sent(self.mt(da=MOBILE, sm="abc", tf="3", ex="7"))
        second = self.sent(self.mt(da=MOBILE, sm="abc", tf="3", ex="7"))
        self.assertNotEqual(first.id, second.id)

    def test_rf_json_and_xml(self) -> None:
        """rf=2 answers JSON, rf=1 XML, both for success and failure (§9, §12.16)."""
        ok = json.loads(self.mt(da=MOBILE, sm="abc", tf="3", rf="2"))
        self.assertEqual((ok["success"], ok["r"]), (True, "0"))
        self.h.message(ok["id"])
        self.assertEqual(
            json.loads(self.mt(pw="bad", da=MOBILE, sm="abc", rf="2")),
            {"success": False, "r": "9101"},
        )
        xml = self.mt(da=MOBILE, sm="abc", tf="3", rf="1").decode()
        self.assertTrue(xml.startswith('<?xml version="1.0"?>\n<id>'), xml)
        self.assertTrue(self.mt(pw="bad", da=MOBILE, sm="abc", rf="1").endswith(b"\n<r>9101</r>"))


class MassSendTests(CompatCase):
    """/mt with records in sm and the separator in da (§9 不同号码不同内容群发)."""

    def test_example_7(self) -> None:
        """§9 example 7: da empty, "|" between records, tf=3, each record's ex."""
        sm = f"{MOBILE}#11#测试短信 1|{OTHER}#12#测试短信 2"
        message = self.sent(self.mt(da="", sm=sm, dc="15", tf="3"))
        self.assertEqual([r.to for r in message.recipients], [MOBILE, OTHER])
        self.assertEqual(self.texts(message), ["测试短信 1", "测试短信 2"])
        self.assertEqual(decode_external_id(message.external_id, MOBILE), "11")
        self.assertEqual(decode_external_id(message.external_id, OTHER), "12")

    def test_space_is_the_default(self) -> None:
        """da absent: records separated by " " (§9's table)."""
        sm = f"{MOBILE}#1#甲 {OTHER}#2#乙".encode("gbk").hex()
        message = self.sent(self.mt(sm=sm, dc="15"))
        self.assertEqual(self.texts(message), ["甲", "乙"])

    def test_example_8(self) -> None:
        """§9 example 8: da="$$", dc=8, tf=2, ASCII heads with UCS2 texts, no ex."""
        texts = ["第一条 Тестовое сообщение", "第二条 Тестовое сообщение2"]
        numbers = [MOBILE, OTHER]
        sm = b"$$".join(
            n.encode() + b"#" + t.encode("utf-16-be") for n, t in zip(numbers, texts, strict=True)
        )
        message = self.sent(self.mt(da="$$", sm=sm, dc="8", tf="2", ex="5"))
        self.assertEqual(self.texts(message), texts)
        self.assertEqual(decode_external_id(message.external_id, OTHER), "5")

    def test_whole_ucs2(self) -> None:
        """dc=8 with the whole records string UCS2 (as our own client writes it)."""
        sm = f"{MOBILE}#1#한국어$${OTHER}#2#조선말".encode("utf-16-be").hex()
        message = self.sent(self.mt(da="$$", sm=sm, dc="8"))
        self.assertEqual(self.texts(message), ["한국어", "조선말"])

    def test_digest_over_records(self) -> None:
        """A §12.26 digest over the records string is accepted."""
        records = f"{MOBILE}#1#甲$${OTHER}#2#乙"
        ts = self.ts()
        pw = digest(ts, records.encode("utf-8"))
        message = self.sent(self.mt(pw=pw, ts=ts, da="$$", sm=records, dc="15", tf="3"))
        self.assertEqual(len(message.recipients), 2)

    def test_record_without_hash(self) -> None:
        """A record with no '#' answers 9012."""
        self.assertEqual(self.mt(da="$$", sm="hello", tf="3"), b"r=9012")

    def test_separator_with_hash(self) -> None:
        """da may not be '#' (§9): 9002."""
        self.assertEqual(self.mt(da="#", sm=f"{MOBILE}#x", tf="3"), b"r=9002")


class ClientRoundTripTests(CompatCase):
    """Whatever our seed 001 client writes (any tf, the dc it picks, the ts digest) reads back."""

    @given(
        text=st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=120),
        transfer=st.sampled_from(["hex", "base64", "url-bytes", "url-utf8"]),
        batch=st.booleans(),
    )
    def test_round_trip(self, text: str, transfer: str, batch: bool) -> None:
        """The message's text is the text the client sent, plain or as a mass send."""
        desc = attrs.evolve(DESC, encoding=attrs.evolve(DESC.encoding, transfer=Transfer(transfer)))
        kind = Kind.SEND_BATCH if batch else Kind.SEND
        op = desc.operation(kind)
        assert op is not None
        values = SendValues(numbers=(MOBILE, OTHER), text=text, texts=(text, text + "!"))
        try:
            req = build_request(desc, op, "http://x", NAME, KEY, values, self.h.clock.seconds())
        except VendorEncodeError:
            return  # a text the client cannot write (its separator inside a record)
        query = req.url.partition("?")[2].encode("ascii")
        body, _ = self.successResultOf(Deferred.fromCoroutine(self.api.mt(query)))
        expected = [text, text + "!"] if batch else [text, text]
        self.assertEqual(self.texts(self.sent(body)), expected)


class RecordTests(SynchronousTestCase):
    """split_records and the ex encoding, alone."""

    def test_ex_is_optional(self) -> None:
        """A second field that is not digits is text: mobile#text."""
        records, _ = split_records(b"138#hello #1 you$$139#22#x", "$$", "ascii")
        self.assertEqual(records, [Record("138", None, "hello #1 you"), Record("139", "22", "x")])

    @given(
        st.lists(
            st.tuples(
                st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
                st.none() | st.from_regex(r"[0-9]{1,18}", fullmatch=True),
                st.text(st.characters(codec="utf-16", exclude_characters="#$\u2424"), min_size=1),
            ),
            min_size=1,
            max_size=5,
        )
    )
    def test_mixed_ucs2_round_trip(self, rows: list[tuple[str, str | None, str]]) -> None:
        """Any UCS2 texts between ASCII heads split back into the same records."""
        raw = b"$$".join(
            n.encode() + b"#" + (f"{ex}#".encode() if ex else b"") + t.encode("utf-16-be")
            for n, ex, t in rows
        )
        if any(t.encode("utf-16-be")[:1] in b"0123456789#" for _, _, t in rows):
            return  # a text starting with "3#" or "#" bytes reads as an ex: the seed's ambiguity
        records, _ = split_records(raw, "$$", "utf-16-be")
        self.assertEqual(records, [Record(n, ex, t) for n, ex, t in rows])

    @given(
        st.lists(
            st.tuples(
                st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
                st.none() | st.from_regex(r"[0-9]{1,18}", fullmatch=True),
            ),
            min_size=1,
            max_size=5,
        )
    )
    def test_external_ids_round_trip(self, rows: list[tuple[str, str | None]]) -> None:
        """Each number's ex comes back out of the external_id."""
        encoded = encode_external_ids(rows)
        expected = {n: ex for n, ex in reversed(rows)}
        for number, ex in rows:
            if all(e is None for _, e in rows):
                self.assertIsNone(encoded)
            elif ex is not None and expected[number] == ex:
                self.assertEqual(decode_external_id(encoded, number), ex)

    def test_json_api_external_id(self) -> None:
        """A numeric external_id of the JSON API is the ex; another is none."""
        self.assertEqual(decode_external_id("42", MOBILE), "42")
        self.assertIsNone(decode_external_id("order-42", MOBILE))


class PasswordTests(CompatCase):
    """pw plain, or Base64(MD5(un+pw+ts+content)) with ts (§12.26), ts within ±10 min."""

    def test_digest_over_utf8_text(self) -> None:
        """The digest of example 2 (UTF-8 text, tf=3) is accepted."""
        ts = self.ts()
        text = "这是一条测试短信,返回 Json"
        pw = digest(ts, text.encode("utf-8"))
        self.sent(self.mt(pw=pw, ts=ts, da=MOBILE, sm=text, dc="8", tf="3"))

    def test_digest_over_raw_bytes(self) -> None:
        """The digest over the content's own bytes (GBK, tf=0) is accepted too."""
        ts = self.ts()
        pw = digest(ts, "您好".encode("gbk"))
        self.sent(self.mt(pw=pw, ts=ts, da=MOBILE, sm="c4fabac3", dc="15"))

    def test_wrong_digest(self) -> None:
        """A digest over other content is 9101."""
        ts = self.ts()
        self.assertEqual(
            self.mt(pw=digest(ts, b"x"), ts=ts, da=MOBILE, sm="abc", tf="3"), b"r=9101"
        )

    def test_skew(self) -> None:
        """A ts more than 10 minutes off is 9101, within it is fine."""
        for offset, answer in ((-601, b"r=9101"), (601, b"r=9101")):
            ts = self.ts(offset)
            self.assertEqual(
                self.mt(pw=digest(ts, b"abc"), ts=ts, da=MOBILE, sm="abc", tf="3"), answer
            )
        ts = self.ts(-590)
        self.sent(self.mt(pw=digest(ts, b"abc"), ts=ts, da=MOBILE, sm="abc", tf="3"))

    def test_bad_ts(self) -> None:
        """A ts not in yyyyMMddHHmmss is 9101."""
        self.assertEqual(self.mt(pw="x", ts="2025-06-15", da=MOBILE, sm="abc", tf="3"), b"r=9101")

    def test_plain_key_is_not_taken_with_ts(self) -> None:
        """With ts, pw must be the digest (the key itself is refused)."""
        self.assertEqual(self.mt(ts=self.ts(), da=MOBILE, sm="abc", tf="3"), b"r=9101")

    def test_two_keys_one_name(self) -> None:
        """Each key of a name is a password of that account."""
        api = CompatApi(self.h.gateway, [ApiKeyConfig(KEY, NAME), ApiKeyConfig("k2", NAME)])
        body, _ = self.successResultOf(
            Deferred.fromCoroutine(api.mt(query(un=NAME, pw="k2", da=MOBILE, sm="616263")))
        )
        self.assertTrue(body.startswith(b"r=0&id="), body)


class ErrorCodeTests(CompatCase):
    """Every bad field answers its §16 code, never a traceback."""

    def test_codes(self) -> None:
        """Missing, unknown and wrong fields."""
        cases: list[tuple[dict[str, str | bytes], bytes]] = [
            ({"un": "", "da": MOBILE, "sm": "616263"}, b"r=9102"),
            ({"un": "nobody", "da": MOBILE, "sm": "616263"}, b"r=9103"),
            ({"pw": "wrong", "da": MOBILE, "sm": "616263"}, b"r=9101"),
            ({"pw": "", "da": MOBILE, "sm": "616263"}, b"r=9101"),
            ({"da": "12345", "sm": "616263"}, b"r=9013"),
            ({"da": ";".join([MOBILE] * 101), "sm": "616263"}, b"r=9030"),
            ({"da": MOBILE}, b"r=9012"),
            ({"da": MOBILE, "sm": ""}, b"r=9012"),
            ({"da": MOBILE, "sm": "61626"}, b"r=9025"),
            ({"da": MOBILE, "sm": "!!!", "tf": "1"}, b"r=9025"),
            ({"da": MOBILE, "sm": "616263", "tf": "7"}, b"r=9025"),
            ({"da": MOBILE, "sm": "616263", "dc": "4"}, b"r=9025"),
            ({"da": MOBILE, "sm": "c4fabac3", "dc": "0"}, b"r=9025"),
            ({"da": MOBILE, "sm": "616263", "dc": "8"}, b"r=9025"),
            ({"da": MOBILE, "sm": "616263", "st": "tomorrow"}, b"r=9017"),
            ({"da": MOBILE, "sm": "616263", "ex": "12ab"}, b"r=9002"),
            ({"da": MOBILE, "sm": "616263", "sa": "ab"}, b"r=9002"),
            ({"da": MOBILE, "sm": LONG_TEXT * 4, "tf": "3"}, b"r=9014"),
            ({"da": MOBILE, "sm": "616263", "rf": "9"}, b"r=9002"),
        ]
        for params, answer in cases:
            self.assertEqual(self.mt(**params), answer, params)

    def test_every_code_is_in_the_file(self) -> None:
        """Each code the API answers is one of somp.xml's §16 codes."""
        from smsgw.web import compat

        values = [v for k, v in vars(compat).items() if k.isupper() and isinstance(v, str)]
        codes = [v for v in values if v.isdigit()]
        self.assertGreater(len(codes), 10)
        for value in codes:
            self.assertEqual(self.api.code(value).value, value)

    def test_no_route(self) -> None:
        """A number no channel takes is 9015."""
        h = GatewayHarness(self, [FakeChannel("mobile"), FakeChannel("unicom", "sgip")])
        api = CompatApi(h.gateway, [ApiKeyConfig(KEY, NAME)])
        body, _ = self.successResultOf(
            Deferred.fromCoroutine(api.mt(query(un=NAME, pw=KEY, da="13300133000", sm="6162")))
        )
        self.assertEqual(body, b"r=9015")

    def test_internal_failure(self) -> None:
        """A store that fails answers 9502 (retry) and logs the failure."""

        class Broken(MemoryStore):
            def add_message(self, message: Message) -> Deferred[None]:
                return fail(RuntimeError("disk full"))

        h = GatewayHarness(self, store=Broken())
        api = CompatApi(h.gateway, [ApiKeyConfig(KEY, NAME)])
        body, _ = self.successResultOf(
            Deferred.fromCoroutine(api.mt(query(un=NAME, pw=KEY, da=MOBILE, sm="6162")))
        )
        self.assertEqual(body, b"r=9502")
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)


class PullTests(CompatCase):
    """/mo: pending reports (op=dr) and MOs (op=mo), at most fs, each once."""

    def lines(self, body: bytes) -> list[dict[str, str]]:
        return [
            dict(p.split("=", 1) for p in line.split("&"))
            for line in body.decode().split("\r\n")
            if line
        ]

    def test_reports_with_fs(self) -> None:
        """Reports carry the answered id, the number and the ex; fs limits; none twice."""
        message = self.sent(self.mt(da=f"{MOBILE};{OTHER}", sm="616263", ex="77", rd="1"))
        self.deliver()
        first = self.lines(self.mo(fs="1"))
        second = self.lines(self.mo(fs="5"))
        self.assertEqual(len(first), 1)
        self.assertEqual(len(second), 1)
        self.assertEqual(self.mo(), b"")
        for line in first + second:
            self.assertEqual(
                {k: line[k] for k in ("op", "id", "su", "rp", "ex")},
                {"op": "dr", "id": message.id, "su": "DELIVRD", "rp": "0", "ex": "77"},
            )
            self.assertEqual(len(line["dd"]), 14)
        self.assertEqual({first[0]["sa"], second[0]["sa"]}, {MOBILE, OTHER})

    def test_long_message_block_index(self) -> None:
        """A report per segment of a long message, bi its number (§12.24)."""
        self.sent(self.mt(da=MOBILE, sm=LONG_TEXT, tf="3", rd="1"))
        self.deliver()
        self.assertEqual([line["bi"] for line in self.lines(self.mo())], ["1", "2", "3"])

    def test_mo(self) -> None:
        """An MO: sa the sender, da the extension, sm HEX of dc's bytes (or tf's form)."""
        self.successResultOf(self.mobile.mo("您好".encode("utf-16-be"), msg_fmt=8, to="1065012345"))
        self.successResultOf(self.mobile.mo(b"TD", to="1065012345"))
        got = self.lines(self.mo(tf="3"))
        self.assertEqual(got[0]["op"], "mo")
        self.assertEqual(
            (got[0]["sa"], got[0]["da"], got[0]["dc"], got[0]["sm"]),
            (MOBILE, "1065012345", "15", "%E6%82%A8%E5%A5%BD"),
        )
        self.assertEqual(got[1]["sm"], "TD")

    def test_mo_hex_default(self) -> None:
        """Without tf the MO text is HEX (§9: sm HEX 编码之消息内容)."""
        self.successResultOf(self.mobile.mo("您好".encode("gbk"), msg_fmt=15))
        [line] = self.lines(self.mo())
        self.assertEqual((line["dc"], line["sm"]), ("15", "c4fabac3"))

    def test_mo_digest(self) -> None:
        """/mo with a §12.26 digest (no content: un+pw+ts) is accepted."""
        ts = self.ts()
        self.assertEqual(self.mo(pw=digest(ts), ts=ts), b"")
        self.assertEqual(self.mo(pw=digest(ts, b"x"), ts=ts), b"r=9101")

    def test_refusals(self) -> None:
        """/mo refuses like /mt: 9102, 9103, 9101, 9025 for an unknown tf."""
        self.assertEqual(self.mo(un=""), b"r=9102")
        self.assertEqual(self.mo(un="x"), b"r=9103")
        self.assertEqual(self.mo(pw="x"), b"r=9101")
        self.assertEqual(self.mo(tf="9"), b"r=9025")

    def test_bad_fs(self) -> None:
        """An invalid or huge fs takes the server's size (§12.27), not an error."""
        self.assertEqual(self.mo(fs="lots"), b"")
        self.assertEqual(self.mo(fs="100000"), b"")


class ResourceTests(CompatCase):
    """The twisted.web resource: paths, methods, POST forms."""

    def render(self, request: DummyRequest) -> bytes:
        resource = CompatResource(self.api)
        d = Deferred[None]()
        request.notifyFinish().addCallback(d.callback)
        resource.render(request)
        self.successResultOf(d)
        return b"".join(request.written)

    def test_get_and_unknown_path(self) -> None:
        """GET /mt sends; another path is 404."""
        request = DummyRequest([b"mt"])
        request.uri = b"/mt?" + query(un=NAME, pw=KEY, da=MOBILE, sm="616263")
        self.assertTrue(self.render(request).startswith(b"r=0&id="))
        other = DummyRequest([b"x"])
        other.uri = b"/x"
        self.assertEqual(CompatResource(self.api).render(other), b"not found")
        self.assertEqual(other.responseCode, 404)

    def test_post_form(self) -> None:
        """POST with a form body is read like GET."""
        request = DummyRequest([b"mt"])
        request.method = b"POST"
        request.uri = b"/mt"
        request.requestHeaders.setRawHeaders(
            b"content-type", [b"application/x-www-form-urlencoded"]
        )
        from io import BytesIO

        request.content = BytesIO(query(un=NAME, pw=KEY, da=MOBILE, sm="616263"))
        self.assertTrue(self.render(request).startswith(b"r=0&id="))


class ClientLoopbackTests(TestCase):
    """Our own seed 001 client (VendorClient with somp.xml) against the API over loopback."""

    def setUp(self) -> None:
        self.h = GatewayHarness(self)
        self.mobile = self.h.channel["mobile"]
        site = Site(CompatResource(CompatApi(self.h.gateway, [ApiKeyConfig(KEY, NAME)])))
        port = reactor.listenTCP(0, site, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        pool = HTTPConnectionPool(reactor, persistent=False)
        self.addCleanup(pool.closeCachedConnections)
        clock = Clock()
        clock.advance(START)  # the digests' ts: the gateway's time
        self.client = VendorClient(
            DESC,
            NAME,
            KEY,
            f"http://127.0.0.1:{port.getHost().port}",
            HTTPClient(Agent(reactor, pool=pool)),
            clock,
        )

    def report_all(self) -> None:
        self.h.settle()
        for call in list(self.mobile.calls):
            if not call.deferred.called:
                self.mobile.answer(call)
            assert call.msg_id is not None
            for dest in call.dests:
                self.successResultOf(self.mobile.report(call.msg_id, dest=dest))

    async def test_send_and_pull(self) -> None:
        """send, send_batch, a report and an MO pulled: ids match what was answered."""
        [plain] = await self.client.send([MOBILE, OTHER], "验证码 1234", external_id="9")
        self.assertTrue(plain.accepted, plain.reason)
        [batch] = await self.client.send_batch([(MOBILE, "甲"), (OTHER, "한국")])
        self.assertTrue(batch.accepted, batch.reason)
        message = self.h.message(batch.msg_ids[0] or "")
        self.assertEqual([r.to for r in message.recipients], [MOBILE, OTHER])
        self.report_all()
        self.successResultOf(self.mobile.mo("退订".encode("utf-16-be"), msg_fmt=8))
        records: list[Any] = await self.client.pull()
        reports = [r for r in records if isinstance(r, ReportRecord)]
        mos = [r for r in records if isinstance(r, MoRecord)]
        self.assertEqual(
            sorted((r.msg_id, r.number, r.delivered) for r in reports),
            sorted(
                (msg_id, number, True)
                for msg_id in (plain.msg_ids[0], batch.msg_ids[0])
                for number in (MOBILE, OTHER)
            ),
        )
        self.assertEqual({r.external_id for r in reports if r.msg_id == plain.msg_ids[0]}, {"9"})
        self.assertEqual([(m.number, m.text) for m in mos], [(MOBILE, "退订")])
        self.assertEqual(await self.client.pull(), [])

    async def test_wrong_key(self) -> None:
        """A wrong key is the vendor's auth failure (9101), not retried."""
        self.client._secret = "wrong"
        [result] = await self.client.send([MOBILE], "x")
        self.assertEqual((result.accepted, result.retry, result.code), (False, False, "9101"))
