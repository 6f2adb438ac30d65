"""The vendor codecs (:mod:`smsgw.vendor.codec`) against the seeds' byte examples,
with hypothesis round trips and totality checks."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlsplit

from hypothesis import example, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.vendor import answers, codec
from smsgw.vendor.answers import (
    MoRecord,
    ReportRecord,
    parse_answer,
    parse_balance,
    parse_mo,
    parse_pull,
    parse_report,
    render_answer,
    render_balance,
    render_mo,
    render_pull,
    render_report,
)
from smsgw.vendor.codec import (
    AnswerError,
    SendValues,
    VendorDecodeError,
    build_request,
    decode_content,
    decode_request,
    encode_content,
    password_value,
    request_args,
    url_quote,
)
from smsgw.vendor.description import (
    AnswerFormat,
    Kind,
    Outcome,
    PasswordForm,
    Role,
    Situation,
    Transfer,
)
from tests.vendor import shipped

T0 = 1_700_000_000.0  # 2023-11-15 06:13:20 +08:00
NUMBERS = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
VENDORS = ("somp", "batchsm", "kx1680", "generic")


class TransferEncodingTests(SynchronousTestCase):
    """Seed 001 §12.28's tf table, byte for byte."""

    def wire(self, text: str, transfer: Transfer, codec_name: str) -> str:
        return url_quote(encode_content(text, transfer, codec_name))

    def test_hex(self) -> None:
        """tf=0: abc → 616263, 您好 (GBK) → c4fabac3."""
        self.assertEqual(self.wire("abc", Transfer.HEX, "ascii"), "616263")
        self.assertEqual(self.wire("您好", Transfer.HEX, "gbk"), "c4fabac3")

    def test_base64(self) -> None:
        """tf=1: abc → YWJj, 您好 (GBK) → xPq6ww== (= is URL-encoded on the wire)."""
        self.assertEqual(encode_content("abc", Transfer.BASE64, "ascii"), b"YWJj")
        self.assertEqual(encode_content("您好", Transfer.BASE64, "gbk"), b"xPq6ww==")

    def test_url_bytes(self) -> None:
        """tf=2: abc → abc, 您好 (GBK) → %C4%FA%BA%C3."""
        self.assertEqual(self.wire("abc", Transfer.URL_BYTES, "ascii"), "abc")
        self.assertEqual(self.wire("您好", Transfer.URL_BYTES, "gbk"), "%C4%FA%BA%C3")

    def test_url_utf8(self) -> None:
        """tf=3: 您好 → %E6%82%A8%E5%A5%BD whatever the charset."""
        self.assertEqual(self.wire("abc", Transfer.URL_UTF8, "gbk"), "abc")
        self.assertEqual(self.wire("您好", Transfer.URL_UTF8, "gbk"), "%E6%82%A8%E5%A5%BD")

    def test_ucs2_hex(self) -> None:
        """dc=8 with tf=0 is UTF-16-BE in hex (seed 001 example 1)."""
        self.assertEqual(self.wire("这是", Transfer.HEX, "utf-16-be"), "8fd9662f")

    def test_unencodable(self) -> None:
        """Text outside the charset is a VendorEncodeError naming content."""
        with self.assertRaises(codec.VendorEncodeError) as e:
            encode_content("您好", Transfer.HEX, "ascii")
        self.assertEqual(e.exception.field, "content")

    @given(
        st.text(st.characters(codec="gbk")),
        st.sampled_from(list(Transfer)),
        st.sampled_from(["gbk", "utf-16-be", "utf-8"]),
    )
    @example("您好", Transfer.URL_BYTES, "gbk")
    def test_round_trip(self, text: str, transfer: Transfer, codec_name: str) -> None:
        """decode_content inverts encode_content for every transfer form and charset."""
        raw = encode_content(text, transfer, codec_name)
        self.assertEqual(decode_content(raw, transfer, codec_name), text)

    @given(st.binary(), st.sampled_from(list(Transfer)), st.sampled_from(["gbk", "utf-16-be"]))
    def test_decode_total(self, raw: bytes, transfer: Transfer, codec_name: str) -> None:
        """Any bytes decode to text or raise VendorDecodeError naming the field."""
        try:
            decode_content(raw, transfer, codec_name, "sm")
        except VendorDecodeError as e:
            self.assertEqual(e.field, "sm")


class PasswordTests(SynchronousTestCase):
    """The three password forms."""

    def test_md5_hex(self) -> None:
        """1680 appendix: 123456 → e10adc3949ba59abbe56e057f20f883e."""
        self.assertEqual(
            password_value(PasswordForm.MD5_HEX, "u", "123456", "", None),
            "e10adc3949ba59abbe56e057f20f883e",
        )

    def test_md5_ts_base64(self) -> None:
        """Seed 001 §12.26: Base64(MD5(un + pw + ts + content)) over UTF-8 bytes."""
        digest = hashlib.md5("test12345620150304050607这是".encode()).digest()
        self.assertEqual(
            password_value(PasswordForm.MD5_TS_BASE64, "test", "123456", "20150304050607", "这是"),
            base64.b64encode(digest).decode(),
        )

    def test_md5_ts_without_content(self) -> None:
        """Without content (a /mo pull) the digest covers un + pw + ts only."""
        digest = hashlib.md5(b"test12345620150304050607").digest()
        self.assertEqual(
            password_value(PasswordForm.MD5_TS_BASE64, "test", "123456", "20150304050607", None),
            base64.b64encode(digest).decode(),
        )

    @given(st.sampled_from(list(PasswordForm)), st.text(), st.text(), st.text() | st.none())
    def test_check_accepts_own_value(
        self, form: PasswordForm, account: str, secret: str, content: str | None
    ) -> None:
        """check_password accepts what password_value produced, and not another secret."""
        ts = "20240102030405"
        value = password_value(form, account, secret, ts, content)
        self.assertTrue(codec.check_password(form, account, secret, value, ts, content))
        self.assertFalse(codec.check_password(form, account, secret + "x", value, ts, content))


class RequestTests(SynchronousTestCase):
    """Requests built from the shipped descriptions."""

    def test_somp_mt_query(self) -> None:
        """Seed 001 /mt: un, pw digest, ts, da, sm in HEX GBK, dc=15, tf=0, rd=1."""
        desc = shipped("somp")
        op = desc.operation(Kind.SEND)
        assert op is not None
        req = build_request(
            desc, op, "http://10.10.10.5:8088", "star", "123456",
            SendValues(numbers=("13612345678",), text="您好"), T0,
        )  # fmt: skip
        self.assertEqual((req.method, req.body), ("GET", None))
        parts = urlsplit(req.url)
        self.assertEqual(parts.path, "/mt")
        args = dict(p.split("=", 1) for p in parts.query.split("&"))
        self.assertEqual(args["sm"], "c4fabac3")
        self.assertEqual(
            (args["dc"], args["tf"], args["rd"], args["da"]), ("15", "0", "1", "13612345678")
        )
        self.assertEqual(args["ts"], "20231115061320")
        expect = password_value(PasswordForm.MD5_TS_BASE64, "star", "123456", args["ts"], "您好")
        self.assertEqual(args["pw"], url_quote(expect.encode()))

    def test_somp_ascii_uses_dc0(self) -> None:
        """ASCII text goes as dc=0 (§12.28's note)."""
        desc = shipped("somp")
        op = desc.operation(Kind.SEND)
        assert op is not None
        req = build_request(
            desc, op, "http://h", "u", "p", SendValues(numbers=("1",), text="abc"), T0
        )
        self.assertIn("sm=616263", req.url)
        self.assertIn("dc=0", req.url)

    def test_kx1680_form_post(self) -> None:
        """1680 sendXSms: a POST form with the MD5 password and comma-joined numbers."""
        desc = shipped("kx1680")
        op = desc.operation(Kind.SEND)
        assert op is not None
        req = build_request(
            desc, op, "http://api", "user", "123456",
            SendValues(numbers=("13911000000", "13688888888"), text="中国", product="61341"), T0,
        )  # fmt: skip
        self.assertEqual((req.method, req.url), ("POST", "http://api/sendXSms.do"))
        self.assertEqual(req.headers["Content-Type"], "application/x-www-form-urlencoded")
        assert req.body is not None
        self.assertIn(b"password=e10adc3949ba59abbe56e057f20f883e", req.body)
        self.assertIn(b"mobile=13911000000%2C13688888888", req.body)
        self.assertIn(b"content=%E4%B8%AD%E5%9B%BD", req.body)
        self.assertIn(b"dstime=&", req.body)

    def test_somp_batch_records(self) -> None:
        """Seed 001 mass send: sm = HEX("mobile#ex#text$$…"), da = the separator."""
        desc = shipped("somp")
        op = desc.operation(Kind.SEND_BATCH)
        assert op is not None
        values = SendValues(numbers=("13812345678", "13912345678"), texts=("测试短信", "b"),
                            external_ids=("1234", "5"))  # fmt: skip
        req = build_request(desc, op, "http://h", "u", "p", values, T0)
        sm = urlsplit(req.url).query.split("sm=")[1].split("&")[0]
        self.assertEqual(
            bytes.fromhex(sm).decode("gbk"), "13812345678#1234#测试短信$$13912345678#5#b"
        )
        self.assertIn("da=%24%24", req.url)

    def test_kx1680_template(self) -> None:
        """1680 sendDIYSms: params "mobile,A,B;mobile,A,B" and the template as content."""
        desc = shipped("kx1680")
        op = desc.operation(Kind.SEND_TEMPLATE)
        assert op is not None
        values = SendValues(numbers=("13800210000", "13500210000"), text="{A}你好{PHONE}",
                            values=(("李先生",), ("王先生",)))  # fmt: skip
        req = build_request(desc, op, "http://h", "u", "p", values, T0)
        args = request_args(op, b"", req.body or b"")
        self.assertEqual(args["params"].decode(), "13800210000,李先生;13500210000,王先生")
        self.assertEqual(args["content"].decode(), "{A}你好{PHONE}")

    def test_separator_in_text(self) -> None:
        """Seed 001 picks a record separator no text holds; 1680 refuses such a text."""
        desc = shipped("somp")
        op = desc.operation(Kind.SEND_BATCH)
        assert op is not None
        values = SendValues(numbers=("13812345678",), texts=("a$$b",))
        req = build_request(desc, op, "http://h", "u", "p", values, T0)
        self.assertIn("da=%7C%7C", req.url)
        got = decode_request(desc, op, request_args(op, urlsplit(req.url).query.encode(), b""))
        self.assertEqual(got.values.texts, ("a$$b",))
        desc = shipped("kx1680")
        op = desc.operation(Kind.SEND_BATCH)
        assert op is not None
        with self.assertRaises(codec.VendorEncodeError) as e:
            build_request(desc, op, "http://h", "u", "p", values, T0)
        self.assertEqual(e.exception.field, "records")

    def test_separator_next_to_text(self) -> None:
        """A text ending in "$" would make "$$$" with the separator: another is picked."""
        desc = shipped("somp")
        op = desc.operation(Kind.SEND_BATCH)
        assert op is not None
        values = SendValues(numbers=("13812345678", "13912345678"), texts=("a$", "b"))
        req = build_request(desc, op, "http://h", "u", "p", values, T0)
        self.assertIn("da=%7C%7C", req.url)
        got = decode_request(desc, op, request_args(op, urlsplit(req.url).query.encode(), b""))
        self.assertEqual(got.values.texts, ("a$", "b"))

    @given(
        st.sampled_from(VENDORS),
        st.lists(NUMBERS, min_size=1, max_size=5),
        st.text(st.characters(codec="gbk", exclude_characters="#$|,;\r\n"), min_size=1),
        st.booleans(),
    )
    def test_send_round_trip(
        self, vendor: str, numbers: list[str], text: str, report: bool
    ) -> None:
        """decode_request (the simulator) reads back what build_request wrote."""
        desc = shipped(vendor)
        op = desc.operation(Kind.SEND)
        assert op is not None
        values = SendValues(numbers=tuple(numbers), text=text, need_report=report, product="p1")
        req = build_request(desc, op, "http://h", "acct", "secret", values, T0)
        parts = urlsplit(req.url)
        got = decode_request(desc, op, request_args(op, parts.query.encode(), req.body or b""))
        self.assertEqual(
            (got.account, got.values.numbers, got.values.text), ("acct", tuple(numbers), text)
        )
        if op.param(Role.NEED_REPORT) is not None:
            self.assertEqual(got.values.need_report, report)
        self.assertTrue(
            codec.check_password(
                desc.password, "acct", "secret", got.password, got.timestamp, got.raw_content
            )
        )

    @given(
        st.sampled_from(["somp", "kx1680"]),
        st.lists(st.tuples(NUMBERS, st.text(st.characters(codec="gbk", exclude_characters="#$|"),
                                            min_size=1)), min_size=1, max_size=4),
    )  # fmt: skip
    def test_batch_round_trip(self, vendor: str, pairs: list[tuple[str, str]]) -> None:
        """Mass-send records round-trip: numbers and per-number texts."""
        desc = shipped(vendor)
        op = desc.operation(Kind.SEND_BATCH)
        assert op is not None
        values = SendValues(numbers=tuple(n for n, _ in pairs), texts=tuple(t for _, t in pairs))
        req = build_request(desc, op, "http://h", "a", "s", values, T0)
        got = decode_request(
            desc, op, request_args(op, urlsplit(req.url).query.encode(), req.body or b"")
        )
        self.assertEqual((got.values.numbers, got.values.texts), (values.numbers, values.texts))

    def test_missing_param(self) -> None:
        """A request without a required parameter names it."""
        desc = shipped("batchsm")
        op = desc.operation(Kind.SEND)
        assert op is not None
        with self.assertRaises(VendorDecodeError) as e:
            decode_request(
                desc, op, {"account": b"a", "pswd": b"p", "msg": b"x", "needstatus": b"true"}
            )
        self.assertEqual((e.exception.field, e.exception.message), ("mobile", "missing"))

    @given(
        st.dictionaries(
            st.sampled_from(["un", "pw", "da", "sm", "dc", "tf", "ts", "rd", "st"]), st.binary()
        )
    )
    def test_decode_request_total(self, args: dict[str, bytes]) -> None:
        """Any parameter values are read or refused with VendorDecodeError."""
        desc = shipped("somp")
        op = desc.operation(Kind.SEND)
        assert op is not None
        try:
            decode_request(desc, op, args)
        except VendorDecodeError:
            pass


class AnswerTests(SynchronousTestCase):
    """Every answer form of the seeds."""

    def answer(self, vendor: str, kind: Kind, body: bytes, status: int = 200) -> answers.Answer:
        desc = shipped(vendor)
        op = desc.operation(kind)
        assert op is not None
        return parse_answer(desc, op, status, body)

    def test_kv_id_only(self) -> None:
        """Seed 001 rf=0: "id=142551080979073768" is success (r absent means 0)."""
        got = self.answer("somp", Kind.SEND, b"id=142551080979073768")
        self.assertEqual(
            (got.outcome, got.msg_id, got.code), (Outcome.ACCEPTED, "142551080979073768", "0")
        )

    def test_kv_error(self) -> None:
        """Seed 001: "r=9103" is an auth failure with the vendor's text."""
        got = self.answer("somp", Kind.SEND, b"r=9103")
        self.assertEqual((got.outcome, got.text, got.msg_id), (Outcome.AUTH, "名字没找到", None))

    def test_lines(self) -> None:
        """Seed 002: "20110725160412,0\\n1234567890100"."""
        got = self.answer("batchsm", Kind.SEND, b"20110725160412,0\n1234567890100")
        self.assertEqual((got.outcome, got.msg_id), (Outcome.ACCEPTED, "1234567890100"))

    def test_lines_error(self) -> None:
        """Seed 002: "20110725160412,103" is throttled."""
        got = self.answer("batchsm", Kind.SEND, b"20110725160412,103")
        self.assertEqual((got.outcome, got.code), (Outcome.THROTTLED, "103"))

    def test_delimited(self) -> None:
        """1680: "1,msgid" accepted; "-1" auth; "8,word" keeps the black word."""
        got = self.answer("kx1680", Kind.SEND, b"1,20170408001")
        self.assertEqual((got.outcome, got.msg_id), (Outcome.ACCEPTED, "20170408001"))
        self.assertEqual(self.answer("kx1680", Kind.SEND, b"-1").outcome, Outcome.AUTH)
        got = self.answer("kx1680", Kind.SEND, "8,黑词".encode())
        self.assertEqual(
            (got.outcome, got.detail, got.text), (Outcome.REJECTED, "黑词", "一级黑词")
        )

    def test_success_error_prefix(self) -> None:
        """Seed 000: "success:msgid"; "error:<reason>" matched on the reason."""
        got = self.answer("generic", Kind.SEND, b"success:abc123")
        self.assertEqual((got.outcome, got.msg_id), (Outcome.ACCEPTED, "abc123"))
        got = self.answer("generic", Kind.SEND, b"error:Throughput Rate Exceeded")
        self.assertEqual((got.outcome, got.text), (Outcome.THROTTLED, "发送频率受限"))
        got = self.answer("generic", Kind.SEND, b"error:Something new")
        self.assertEqual((got.outcome, got.detail), (Outcome.REJECTED, "Something new"))

    def test_json_and_xml(self) -> None:
        """Seed 001 rf=2 and rf=1 answers, with formats swapped in on the mt operation."""
        import attrs

        desc = shipped("somp")
        op = desc.operation(Kind.SEND)
        assert op is not None
        json_op = attrs.evolve(op, answer=attrs.evolve(op.answer, format=AnswerFormat.JSON))
        got = parse_answer(desc, json_op, 200, b'{"success": true, "id": "142540128277943843"}')
        self.assertEqual((got.outcome, got.msg_id), (Outcome.ACCEPTED, "142540128277943843"))
        self.assertEqual(parse_answer(desc, json_op, 200, b'{"r": "9103"}').outcome, Outcome.AUTH)
        xml_op = attrs.evolve(op, answer=attrs.evolve(op.answer, format=AnswerFormat.XML))
        got = parse_answer(desc, xml_op, 200, b'<?xml version="1.0"?>\n<id>142540261421930021</id>')
        self.assertEqual(got.msg_id, "142540261421930021")
        with self.assertRaises(AnswerError):
            parse_answer(desc, xml_op, 200, b'<!DOCTYPE x [<!ENTITY a "b">]><id>&a;</id>')

    def test_html_page(self) -> None:
        """An HTML error page is an AnswerError; retryable when the status is 5xx."""
        with self.assertRaises(AnswerError) as e:
            self.answer("somp", Kind.SEND, b"<html><body>502 Bad Gateway</body></html>", 502)
        self.assertTrue(e.exception.retry)
        with self.assertRaises(AnswerError) as e:
            self.answer("somp", Kind.SEND, b"<!DOCTYPE html><html></html>", 200)
        self.assertEqual((e.exception.field, e.exception.retry), ("body", False))

    def test_unknown_code(self) -> None:
        """A code the tables do not list is an AnswerError naming the code."""
        with self.assertRaises(AnswerError) as e:
            self.answer("batchsm", Kind.SEND, b"20110725160412,999")
        self.assertEqual(e.exception.field, "code")
        self.assertIn("999", str(e.exception))

    @given(st.sampled_from(VENDORS), st.sampled_from([Kind.SEND, Kind.BALANCE]), st.binary(),
           st.sampled_from([200, 404, 500]))  # fmt: skip
    @example("somp", Kind.SEND, b"r=&id=", 200)
    @example("kx1680", Kind.BALANCE, b"-99", 200)
    def test_total(self, vendor: str, kind: Kind, body: bytes, status: int) -> None:
        """Any body gives an Answer or an AnswerError, never another exception."""
        desc = shipped(vendor)
        op = desc.operation(kind)
        if op is None:
            return
        try:
            parse_balance(desc, op, status, body) if kind is Kind.BALANCE else parse_answer(
                desc, op, status, body
            )
        except AnswerError:
            pass

    @given(st.sampled_from(VENDORS), st.data())
    def test_render_round_trip(self, vendor: str, data: st.DataObject) -> None:
        """parse_answer reads back every code the simulator can render."""
        desc = shipped(vendor)
        op = desc.operation(Kind.SEND)
        assert op is not None
        effective = [c for c in op.codes + desc.codes if desc.code_for(op, c.value, c.detail) == c]
        entry = data.draw(st.sampled_from(effective))
        msg_id = "123456789" if entry.outcome is Outcome.ACCEPTED else None
        got = parse_answer(desc, op, 200, render_answer(desc, op, entry, msg_id, now_s=T0))
        self.assertEqual((got.code, got.outcome, got.msg_id), (entry.value, entry.outcome, msg_id))


class BalanceTests(SynchronousTestCase):
    """Balance answers."""

    def test_per_product_lines(self) -> None:
        """Seed 002 §11.3: one "product,amount" line per product."""
        desc = shipped("batchsm")
        op = desc.operation(Kind.BALANCE)
        assert op is not None
        got = parse_balance(desc, op, 200, b"20130303180000,0\n1234567,1000\n1234531,2000")
        self.assertEqual(got.amounts, {"1234567": 1000, "1234531": 2000})
        got = parse_balance(desc, op, 200, b"20130303180000,103")
        self.assertEqual((got.answer.outcome, got.amounts), (Outcome.THROTTLED, {}))

    def test_count_or_negative(self) -> None:
        """1680 balance.do: the count, or a negative code."""
        desc = shipped("kx1680")
        op = desc.operation(Kind.BALANCE)
        assert op is not None
        self.assertEqual(parse_balance(desc, op, 200, b"12345").amounts, {"": 12345})
        self.assertEqual(parse_balance(desc, op, 200, b"-1").answer.outcome, Outcome.AUTH)

    @given(st.sampled_from(["batchsm", "kx1680", "generic"]),
           st.dictionaries(st.from_regex(r"[0-9]{1,7}", fullmatch=True), st.integers(0, 10**9),
                           min_size=1, max_size=3))  # fmt: skip
    def test_round_trip(self, vendor: str, amounts: dict[str, int]) -> None:
        """parse_balance reads what render_balance wrote (a total where there is one amount)."""
        desc = shipped(vendor)
        op = desc.operation(Kind.BALANCE)
        assert op is not None
        ok = desc.code_for_situation(op, Situation.OK)
        assert ok is not None
        got = parse_balance(desc, op, 200, render_balance(desc, op, ok, amounts, T0))
        expect = amounts if op.answer.format is AnswerFormat.LINES else {"": sum(amounts.values())}
        self.assertEqual(got.amounts, expect)


class InboundTests(SynchronousTestCase):
    """Reports and MOs, pushed and pulled."""

    def test_batchsm_push(self) -> None:
        """Seed 002 §10.3's example push."""
        desc = shipped("batchsm")
        args = {
            "receiver": b"admin",
            "pswd": b"12345",
            "msgid": b"12345",
            "reportTime": b"1012241002",
            "mobile": b"18916626442",
            "status": b"DELIVRD",
        }
        rec = parse_report(desc, args)
        self.assertEqual(
            (rec.msg_id, rec.number, rec.stat, rec.delivered),
            ("12345", "18916626442", "DELIVRD", True),
        )
        self.assertEqual(rec.done_at, codec.parse_time("201012241002", "%Y%m%d%H%M", desc, "t"))

    def test_kx1680_push(self) -> None:
        """1680 §2.5: status 0 is delivered, anything else is not."""
        desc = shipped("kx1680")
        self.assertTrue(
            parse_report(desc, {"msgid": b"1", "mobile": b"139", "status": b"0"}).delivered
        )
        rec = parse_report(desc, {"msgid": b"1", "mobile": b"139", "status": b"KX:1000"})
        self.assertEqual((rec.delivered, rec.error), (False, "KX:1000"))

    def test_kx1680_mo(self) -> None:
        """1680 §2.6: mobile, URL-decoded UTF-8 content, xh."""
        desc = shipped("kx1680")
        mo = parse_mo(desc, {"mobile": b"13800138000", "content": "查询".encode(), "xh": b"11"})
        self.assertEqual((mo.number, mo.text, mo.extension), ("13800138000", "查询", "11"))

    def test_missing_field(self) -> None:
        """A push without the message id names the vendor's field."""
        with self.assertRaises(VendorDecodeError) as e:
            parse_report(shipped("batchsm"), {"mobile": b"1", "status": b"DELIVRD"})
        self.assertEqual(e.exception.field, "msgid")

    def test_somp_pull(self) -> None:
        """Seed 001 /mo: op=dr and op=mo lines, "\\r\\n" between, the last may lack it."""
        desc = shipped("somp")
        op = desc.operation(Kind.PULL)
        assert op is not None
        body = (b"op=dr&id=142551080979073768&sa=13612345678&su=DELIVRD&rp=0&dd=20150304050607\r\n"
                b"op=mo&sa=13612345678&da=8888&dc=15&sm=c4fabac3")  # fmt: skip
        got = parse_pull(desc, op, 200, body)
        report, mo = got.records
        assert isinstance(report, ReportRecord) and isinstance(mo, MoRecord)
        self.assertEqual((report.msg_id, report.delivered), ("142551080979073768", True))
        self.assertEqual((mo.number, mo.text, mo.extension), ("13612345678", "您好", "8888"))
        self.assertEqual(parse_pull(desc, op, 200, b"r=9101").answer.outcome, Outcome.AUTH)
        self.assertEqual(parse_pull(desc, op, 200, b"").records, ())

    @given(
        st.sampled_from(VENDORS),
        st.dictionaries(
            st.sampled_from(["op", "id", "sa", "su", "rp", "dd", "da", "dc", "sm", "sd", "msgid",
                             "mobile", "status", "reportTime", "content", "xh", "messageID",
                             "receiver", "state", "err_code", "extno"]),
            st.binary(max_size=20),
        ),
    )  # fmt: skip
    def test_push_total(self, vendor: str, args: dict[str, bytes]) -> None:
        """Any pushed fields give a record or a VendorDecodeError naming a field."""
        desc = shipped(vendor)
        for parse in (parse_report, parse_mo):
            try:
                parse(desc, args)
            except VendorDecodeError as e:
                self.assertTrue(e.field)

    @given(st.binary())
    def test_pull_total(self, body: bytes) -> None:
        """Any pull body is read or refused with an AnswerError."""
        desc = shipped("somp")
        op = desc.operation(Kind.PULL)
        assert op is not None
        try:
            parse_pull(desc, op, 200, body)
        except AnswerError:
            pass

    @given(
        st.sampled_from(VENDORS),
        st.lists(st.tuples(NUMBERS, st.from_regex(r"[0-9]{1,19}", fullmatch=True), st.booleans()),
                 max_size=4),
        st.lists(st.tuples(NUMBERS, st.text(st.characters(codec="gbk"), min_size=1)), max_size=3),
    )  # fmt: skip
    def test_render_round_trip(self, vendor: str, reports: list[tuple[str, str, bool]],
                               mos: list[tuple[str, str]]) -> None:  # fmt: skip
        """Pushed reports and MOs (and pulled lines) read back to the same records."""
        desc = shipped(vendor)
        assert desc.reports is not None
        ok_word = sorted(desc.reports.delivered)[0]
        recs = [ReportRecord(msg_id=i, number=n, stat=ok_word if d else "UNDELIV", delivered=d,
                             error="" if d else "UNDELIV")
                for n, i, d in reports]  # fmt: skip
        for rec in recs:
            got = parse_report(desc, dict(render_report(desc, rec)))
            self.assertEqual(
                (got.msg_id, got.number, got.delivered), (rec.msg_id, rec.number, rec.delivered)
            )
        mo_recs = [MoRecord(n, t) for n, t in mos] if desc.mos is not None else []
        for mo in mo_recs:
            self.assertEqual(parse_mo(desc, dict(render_mo(desc, mo))).text, mo.text)
        pull = desc.operation(Kind.PULL)
        if pull is not None:
            got_all = parse_pull(desc, pull, 200, render_pull(desc, [*recs, *mo_recs])).records
            self.assertEqual(len(got_all), len(recs) + len(mo_recs))
