"""Tests for :mod:`smsgw.sp.templates`: the two template engines and text measuring."""

from __future__ import annotations

from functools import partial
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.sp.templates import (
    MAX_OUTPUT_LENGTH,
    MAX_TEMPLATE_LENGTH,
    TemplateError,
    TextMeasure,
    measure,
    render,
    validate_template,
)
from smsgw.text import MsgFmt, TextEncodeError

PHONE = "13800138000"

#: Ways out of the jinja2 sandbox that must all fail.
ESCAPES = [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ x.__class__.__base__ }}",
    "{{ range.__globals__ }}",
    "{{ cycler.__init__.__globals__['os'] }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__ }}",
    "{{ namespace.__init__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ ''.format.__self__ }}",
    "{{ '{0.__class__}'.format(1) }}",
    "{{ x.__getitem__('a') }}",
    "{{ x['__class__'] }}",
    "{{ x|attr('__class__') }}",
    "{{ y.append(1) }}",
    "{{ x.update({'b': 2}) }}",
    "{{ x.pop('a') }}",
    "{{ y.clear() }}",
    "{{ ''.join.__call__ }}",
    "{{ 'a' * 100000 }}",
    "{{ [1] * 100000 }}",
    "{{ 10 ** 1000000 }}",
    "{% for i in range(1000000) %}{% endfor %}",
    "{{ 'x'.center(10 ** 9) }}",
    "{{ 'x'.ljust(10 ** 9) }}",
    "{{ 'x'.zfill(10 ** 9) }}",
    "{{ 'x\\ty'.expandtabs(10 ** 9) }}",
    "{{ 'x'|center(10 ** 9) }}",
    "{{ 'x'|indent(10 ** 9, true) }}",
    "{{ [1]|batch(10 ** 9, 0)|list }}",
    "{{ [1]|slice(10 ** 9)|list }}",
    "{{ '%1000000000d' % 1 }}",
    "{{ '%*d' % (10 ** 9, 1) }}",
    "{{ '%1000000000d'|format(1) }}",
    "{{ '{:>1000000000}'.format(1) }}",
    "{{ '{:{}}'.format(1, 10 ** 9) }}",
    "{% for i in range(1000) %}{% for j in range(1000) %}x{% endfor %}{% endfor %}",
]


def simple_names() -> st.SearchStrategy[str]:
    """Placeholder names: identifiers, ASCII or CJK."""
    return st.from_regex(r"[A-Za-z_\u4e00-\u9fa5][A-Za-z0-9_\u4e00-\u9fa5]{0,8}", fullmatch=True)


def literals() -> st.SearchStrategy[str]:
    """Literal template text without braces."""
    return st.text(
        st.characters(blacklist_characters="{}", blacklist_categories=["Cs"]), max_size=20
    )


class InterfaceTests(SynchronousTestCase):
    """What both engines share."""

    def test_unknown_engine(self) -> None:
        """An unknown engine is a TemplateError on the engine field."""
        for call in (
            lambda: render("velocity", "x", {}, PHONE),
            lambda: validate_template("velocity", "x"),
        ):
            with self.assertRaises(TemplateError) as caught:
                call()
            self.assertEqual(caught.exception.field, "engine")
            self.assertIn("simple, jinja2", str(caught.exception))

    def test_template_too_long(self) -> None:
        """Bodies above MAX_TEMPLATE_LENGTH are refused by both engines."""
        body = "x" * (MAX_TEMPLATE_LENGTH + 1)
        for engine in ("simple", "jinja2"):
            with self.assertRaises(TemplateError) as caught:
                validate_template(engine, body)
            self.assertEqual(caught.exception.field, "template")
            self.assertRaises(TemplateError, render, engine, body, {}, PHONE)
        longest = {
            "simple": "{{" * (MAX_TEMPLATE_LENGTH // 2),
            "jinja2": "{#" + "x" * (MAX_TEMPLATE_LENGTH - 4) + "#}",
        }
        for engine, body in longest.items():
            self.assertEqual(len(body), MAX_TEMPLATE_LENGTH)
            self.assertEqual(validate_template(engine, body), [])

    def test_fixed_text_too_long(self) -> None:
        """A body whose literal text alone is above the output cap is refused when checked."""
        for engine, body in (("simple", "{a}"), ("jinja2", "{{ a }}")):
            for text, refused in (
                ("x" * MAX_OUTPUT_LENGTH, False),
                ("x" * (MAX_OUTPUT_LENGTH + 1), True),
            ):
                if refused:
                    with self.assertRaises(TemplateError) as caught:
                        validate_template(engine, body + text)
                    self.assertEqual(caught.exception.field, "template")
                    self.assertIn(str(MAX_OUTPUT_LENGTH), str(caught.exception))
                else:
                    self.assertEqual(validate_template(engine, body + text), ["a"])
        # Text inside a condition may never be rendered: not counted.
        body = "{% if a %}" + "x" * (MAX_OUTPUT_LENGTH + 1) + "{% endif %}"
        self.assertEqual(validate_template("jinja2", body), ["a"])

    def test_output_too_long(self) -> None:
        """Results above the output cap are refused by both engines."""
        for engine, body in (("simple", "{a}{a}"), ("jinja2", "{{ a }}{{ a }}")):
            params = {"a": "x" * (MAX_OUTPUT_LENGTH // 2 + 1)}
            with self.assertRaises(TemplateError) as caught:
                render(engine, body, params, PHONE)
            self.assertIn(str(MAX_OUTPUT_LENGTH), str(caught.exception))
            self.assertEqual(
                render(engine, body, params, PHONE, max_length=MAX_OUTPUT_LENGTH + 2),
                "x" * (MAX_OUTPUT_LENGTH + 2),
            )

    def test_params_type(self) -> None:
        """Params other than an object or a list are refused on the params field."""
        for params in ("AB", 5, None, b"AB"):
            with self.assertRaises(TemplateError) as caught:
                render("simple", "{A}", params, PHONE)  # type: ignore[arg-type]
            self.assertEqual(caught.exception.field, "params")

    def test_params_keys(self) -> None:
        """Param names must be text."""
        with self.assertRaises(TemplateError) as caught:
            render("jinja2", "x", {1: "a"}, PHONE)  # type: ignore[dict-item]
        self.assertEqual(caught.exception.field, "params")

    def test_too_many_positional(self) -> None:
        """A list of more than five params is refused."""
        with self.assertRaises(TemplateError) as caught:
            render("simple", "{A}", list("abcdef"), PHONE)
        self.assertEqual(caught.exception.field, "params")
        self.assertIn("A to E", str(caught.exception))

    def test_is_value_error(self) -> None:
        """TemplateError is a ValueError with the field, template by default."""
        error = TemplateError("bad")
        self.assertIsInstance(error, ValueError)
        self.assertEqual(error.field, "template")


class SimpleEngineTests(SynchronousTestCase):
    """The ``simple`` placeholder engine."""

    def test_named(self) -> None:
        """{name} takes params[name], written with str()."""
        self.assertEqual(
            render(
                "simple",
                "您的验证码是{code}，{minutes}分钟内有效",
                {"code": "1234", "minutes": 5},
                PHONE,
            ),
            "您的验证码是1234，5分钟内有效",
        )

    def test_positional_list(self) -> None:
        """A params list fills {A}, {B}, ... in order."""
        self.assertEqual(render("simple", "{B}-{A}", ["x", "y"], PHONE), "y-x")

    def test_positional_names(self) -> None:
        """{A}..{E} may also be given by name."""
        self.assertEqual(render("simple", "{A}{E}", {"A": 1, "E": 5}, PHONE), "15")

    def test_phone(self) -> None:
        """{PHONE} is the recipient, whatever the params say."""
        self.assertEqual(render("simple", "to {PHONE}", {"PHONE": "x"}, PHONE), f"to {PHONE}")

    def test_braces(self) -> None:
        """{{ and }} are literal braces, and {{name}} is not a placeholder."""
        self.assertEqual(render("simple", "{{a}} {{{a}}} }}{{", {"a": 1}, PHONE), "{a} {1} }{")

    def test_cjk_name(self) -> None:
        """A placeholder name may be Chinese."""
        self.assertEqual(render("simple", "{验证码}", {"验证码": "8888"}, PHONE), "8888")

    def test_missing(self) -> None:
        """A placeholder without a value names it in the field."""
        for params, field in (({"code": "1"}, "params.name"), (["x"], "params.B")):
            body = "{code}{name}" if isinstance(params, dict) else "{A}{B}"
            with self.assertRaises(TemplateError) as caught:
                render("simple", body, params, PHONE)
            self.assertEqual(caught.exception.field, field)

    def test_none_is_missing(self) -> None:
        """A null value counts as missing."""
        with self.assertRaises(TemplateError) as caught:
            render("simple", "{code}", {"code": None}, PHONE)
        self.assertEqual(caught.exception.field, "params.code")
        self.assertEqual(str(caught.exception), "no value for placeholder {code}")

    def test_bad_syntax(self) -> None:
        """Unclosed, lone, empty and badly named braces are template errors."""
        for body, words in (
            ("abc{code", "unclosed '{' at position 3"),
            ("{a{b}", "unclosed '{' at position 0"),
            ("a}b", "single '}' at position 1"),
            ("{}", "bad placeholder '{}'"),
            ("{1a}", "bad placeholder '{1a}'"),
            ("{ code }", "bad placeholder '{ code }'"),
            ("{a.b}", "bad placeholder '{a.b}'"),
        ):
            for call in (
                partial(render, "simple", body, {"code": 1, "a": 1}, PHONE),
                partial(validate_template, "simple", body),
            ):
                with self.assertRaises(TemplateError) as caught:
                    call()
                self.assertEqual(caught.exception.field, "template")
                self.assertIn(words, str(caught.exception))

    def test_validate(self) -> None:
        """validate_template lists the names once, sorted, without PHONE."""
        self.assertEqual(validate_template("simple", "{b}{a}{b}{PHONE}{{c}}{A}"), ["A", "a", "b"])

    @given(
        st.lists(
            st.one_of(literals(), simple_names().map(lambda name: ("name", name))), max_size=8
        ),
        st.data(),
    )
    def test_complete_params_render(self, parts: list[Any], data: st.DataObject) -> None:
        """With a value for every placeholder, rendering never fails and substitutes each."""
        names = {part[1] for part in parts if isinstance(part, tuple)} - {"PHONE"}
        params = {name: data.draw(literals(), label=name) for name in names}
        body = "".join(part if isinstance(part, str) else "{" + part[1] + "}" for part in parts)
        expected = "".join(
            part if isinstance(part, str) else (PHONE if part[1] == "PHONE" else params[part[1]])
            for part in parts
        )
        self.assertEqual(render("simple", body, params, PHONE), expected)
        self.assertEqual(validate_template("simple", body), sorted(names))

    @given(st.text(st.characters(blacklist_categories=["Cs"]), max_size=50))
    @example("{}")
    @example("}{")
    def test_escaped_text_renders_back(self, text: str) -> None:
        """Any text with its braces doubled renders to itself and needs no params."""
        body = text.replace("{", "{{").replace("}", "}}")
        self.assertEqual(render("simple", body, {}, PHONE), text)
        self.assertEqual(validate_template("simple", body), [])

    @given(st.text(alphabet="{}ab", max_size=12))
    @example("{a}}")
    @example("{{a}")
    @example("{}")
    @example("{ab}")
    def test_any_body_renders_or_fails_cleanly(self, body: str) -> None:
        """Any body renders as str.format would, or raises TemplateError where it fails."""
        # Over these four characters the simple syntax is str.format's: the reference.
        params = {"a": "1", "b": "2"}
        try:
            expected: str | None = body.format_map(params)
        except (ValueError, KeyError, IndexError):
            expected = None
        if expected is None:
            self.assertRaises(TemplateError, render, "simple", body, params, PHONE)
        else:
            self.assertEqual(render("simple", body, params, PHONE), expected)


class JinjaEngineTests(SynchronousTestCase):
    """The sandboxed ``jinja2`` engine."""

    def test_render(self) -> None:
        """Variables, filters, conditions and PHONE work."""
        body = "{{ name|upper }}{% if vip %}尊贵的{% endif %}用户{{ PHONE[-4:] }}，验证码{{ code }}"
        self.assertEqual(
            render("jinja2", body, {"name": "li", "vip": True, "code": 42}, PHONE),
            "LI尊贵的用户8000，验证码42",
        )

    def test_positional_list(self) -> None:
        """A params list is A, B, ... here too."""
        self.assertEqual(render("jinja2", "{{ A }}{{ B }}", [1, 2], PHONE), "12")

    def test_no_autoescape(self) -> None:
        """HTML characters pass through unescaped: an SMS is not HTML."""
        self.assertEqual(render("jinja2", "{{ a }}", {"a": "<b>&'"}, PHONE), "<b>&'")

    def test_trailing_newline_kept(self) -> None:
        """A trailing newline of the template is part of the message."""
        self.assertEqual(render("jinja2", "x\n", {}, PHONE), "x\n")

    def test_syntax_error(self) -> None:
        """Syntax errors and unknown filters are errors of the template, with the line."""
        for body, words in (
            ("ok\n{% if %}", "line 2"),
            ("{{ a", "line 1"),
            ("{{ a|nosuchfilter }}", "No filter named 'nosuchfilter'"),
            ("{% endfor %}", "line 1"),
        ):
            for call in (
                partial(render, "jinja2", body, {"a": 1}, PHONE),
                partial(validate_template, "jinja2", body),
            ):
                with self.assertRaises(TemplateError) as caught:
                    call()
                self.assertEqual(caught.exception.field, "template")
                self.assertIn(words, str(caught.exception))

    def test_undefined(self) -> None:
        """An undefined variable names it in the field, printed or tested."""
        for body in ("{{ code }}", "{% if code %}x{% endif %}", "{{ code + 1 }}", "{{ code.x }}"):
            with self.assertRaises(TemplateError) as caught:
                render("jinja2", body, {"other": 1}, PHONE)
            self.assertEqual(caught.exception.field, "params.code", body)
            self.assertEqual(str(caught.exception), "no value for template variable 'code'")

    def test_missing_attribute(self) -> None:
        """A missing key of a param is a params error."""
        with self.assertRaises(TemplateError) as caught:
            render("jinja2", "{{ user.nmae }}", {"user": {"name": "x"}}, PHONE)
        self.assertEqual(caught.exception.field, "params")
        self.assertIn("nmae", str(caught.exception))

    def test_optional(self) -> None:
        """``is defined`` and ``default`` make a variable optional."""
        body = "{% if code is defined %}{{ code }}{% else %}-{% endif %}{{ n|default('?') }}"
        self.assertEqual(render("jinja2", body, {}, PHONE), "-?")
        self.assertEqual(render("jinja2", body, {"code": 1, "n": 2}, PHONE), "12")
        self.assertEqual(validate_template("jinja2", body), ["code", "n"])

    def test_runtime_error(self) -> None:
        """Any other failure while rendering is a template error."""
        for body in ("{{ 1 / 0 }}", "{{ a + 1 }}", "{{ a < 1 }}"):
            with self.assertRaises(TemplateError) as caught:
                render("jinja2", body, {"a": "x"}, PHONE)
            self.assertEqual(caught.exception.field, "template", body)

    def test_sandbox(self) -> None:
        """Each listed escape fails with a template error and leaves the params unchanged."""
        for body in ESCAPES:
            x, y = {"a": 1}, [1]
            with self.assertRaises(TemplateError, msg=body) as caught:
                render("jinja2", body, {"x": x, "y": y}, PHONE)
            self.assertEqual(caught.exception.field, "template", body)
            self.assertEqual((x, y), ({"a": 1}, [1]))

    @given(st.sampled_from(ESCAPES), st.sampled_from(["", "hi ", "{{ PHONE }}"]))
    def test_sandbox_escapes_always_fail(self, escape: str, prefix: str) -> None:
        """A sandbox escape fails wherever it sits in a template."""
        with self.assertRaises(TemplateError):
            render("jinja2", prefix + escape, {"x": {"a": 1}, "y": [1]}, PHONE)

    def test_caps_checked_when_validated(self) -> None:
        """Every escape fixed in the template's own text is refused by validate_template."""
        checked_only_when_rendered = {
            "{{ y.append(1) }}",  # what y is depends on the params
            "{{ x.update({'b': 2}) }}",
            "{{ x.pop('a') }}",
            "{{ y.clear() }}",
            "{% for i in range(1000) %}{% for j in range(1000) %}x{% endfor %}{% endfor %}",
        }
        for body in ESCAPES:
            if body in checked_only_when_rendered:
                continue
            with self.subTest(body=body), self.assertRaises(TemplateError) as caught:
                validate_template("jinja2", body)
            self.assertEqual(caught.exception.field, "template")
            self.assertIn("not allowed in a template", str(caught.exception))

    def test_caps_named_when_validated(self) -> None:
        """The refusal names the cap: the limit and what broke it."""
        for body, words in [
            ("{{ range(5000)|list }}", "range() of 5000 items; at most 1000"),
            ("{{ 'ab' * 1001 }}", "repetition to a length of 2002 is above 2000"),
            ("{{ 3 * (2 ** 10) * 'x' }}", "repetition to a length of 3072"),
            ("{{ 2 ** 65 }}", "exponent 65 is above 64"),
            ("{{ 'x'.rjust(2001) }}", "rjust() width 2001 is above 2000"),
            ("{{ n|center(width=4000) }}", "center argument 4000 is above 2000"),
            ("{{ '%3000s' % n }}", "% format width 3000 is above 2000"),
            ("{{ range(10 ** 30) }}", "range() of more than"),
        ]:
            with self.subTest(body=body), self.assertRaises(TemplateError) as caught:
                validate_template("jinja2", body)
            self.assertIn(words, str(caught.exception))

    def test_validate_leaves_run_time_errors(self) -> None:
        """Constants that fail for other reasons are left to rendering, not refused early."""
        for body in ("{{ range(1, 9, 0) }}", "{{ 1 / 0 }}", "{{ '%d' % 'x' }}", "{{ 'x' * n }}"):
            with self.subTest(body=body):
                validate_template("jinja2", body)
                self.assertRaises(TemplateError, render, "jinja2", body, {"n": 10**6}, PHONE)

    def test_limits_allow_ordinary_use(self) -> None:
        """Small repetitions, exponents and ranges still work."""
        self.assertEqual(
            render(
                "jinja2",
                "{{ '*' * 3 }}{{ 2 ** 10 }}{% for i in range(3) %}{{ i }}{% endfor %}",
                {},
                PHONE,
            ),
            "***1024012",
        )

    def test_widths_allow_ordinary_use(self) -> None:
        """Small padding, format widths, batches and % on numbers still work."""
        body = (
            "{{ '{:,}'.format(1234567) }} {{ '%05.2f' % 3.14159 }} {{ 7 % 3 }} "
            "{{ '%s-%s'|format(1, 2) }} [{{ 'x'|center(5) }}] {{ 'ab'.zfill(4) }} "
            "{{ [1, 2, 3]|batch(2)|list }} {{ 'a\nb'|indent(2) }}"
        )
        self.assertEqual(
            render("jinja2", body, {}, PHONE),
            "1,234,567 03.14 1 1-2 [  x  ] 00ab [[1, 2], [3]] a\n  b",
        )

    def test_param_format_string_checked(self) -> None:
        """A format string from the params is checked like a literal one."""
        with self.assertRaises(TemplateError) as caught:
            render("jinja2", "{{ f.format(1) }}", {"f": "{:>1000000000}"}, PHONE)
        self.assertIn("format width", str(caught.exception))

    def test_no_lipsum(self) -> None:
        """lipsum() (pages of filler text) is not available."""
        with self.assertRaises(TemplateError) as caught:
            render("jinja2", "{{ lipsum(1000) }}", {}, PHONE)
        self.assertEqual(caught.exception.field, "params.lipsum")

    def test_validate(self) -> None:
        """validate_template lists free variables, not locals, globals or PHONE."""
        body = (
            "{% set greeting = 'hi' %}{{ greeting }} {{ name }} {{ PHONE }}"
            "{% for item in items %}{{ item }}{{ loop.index }}{% endfor %}{{ range(2)|list }}"
        )
        self.assertEqual(validate_template("jinja2", body), ["items", "name"])

    @given(st.dictionaries(simple_names(), literals(), min_size=1, max_size=5))
    def test_complete_params_render(self, params: dict[str, str]) -> None:
        """Printing every param renders their values in order."""
        params.pop("PHONE", None)
        names = sorted(params)
        body = "|".join("{{ " + name + " }}" for name in names) if names else ""
        if any(name in ("range", "dict", "cycler", "joiner", "namespace") for name in names):
            return
        self.assertEqual(render("jinja2", body, params, PHONE), "|".join(params[n] for n in names))
        self.assertEqual(validate_template("jinja2", body), names)


class MeasureTests(SynchronousTestCase):
    """:func:`measure`."""

    def test_ascii(self) -> None:
        """ASCII text: one byte per character, one segment up to 159."""
        self.assertEqual(measure("a" * 159), TextMeasure(159, MsgFmt.ASCII, 159, 1))
        self.assertEqual(measure("a" * 160), TextMeasure(160, MsgFmt.ASCII, 160, 2))

    def test_ucs2(self) -> None:
        """Chinese text goes UCS2: 70 characters fit one message, 71 take two."""
        self.assertEqual(measure("短" * 70), TextMeasure(70, MsgFmt.UCS2, 140, 1))
        self.assertEqual(measure("短" * 71), TextMeasure(71, MsgFmt.UCS2, 142, 2))
        self.assertEqual(measure("短" * 134).segments, 2)
        self.assertEqual(measure("短" * 135).segments, 3)

    def test_astral(self) -> None:
        """An emoji is one character but four UCS2 bytes."""
        self.assertEqual(measure("😀"), TextMeasure(1, MsgFmt.UCS2, 4, 1))

    def test_gb(self) -> None:
        """With fmt 15 or prefer_gb, Chinese text is measured in GB bytes."""
        self.assertEqual(measure("你好", 15), TextMeasure(2, MsgFmt.GB, 4, 1))
        self.assertEqual(measure("你好", prefer_gb=True).msg_fmt, MsgFmt.GB)

    def test_unencodable(self) -> None:
        """Text with no encoding in the requested format raises TextEncodeError."""
        self.assertRaises(TextEncodeError, measure, "你好", 0)
        self.assertRaises(TextEncodeError, measure, "x", 4)

    def test_rendered(self) -> None:
        """A rendered template is measured as sent."""
        text = render("simple", "【签名】验证码{A}", ["123456"], PHONE)
        self.assertEqual(measure(text), TextMeasure(len(text), MsgFmt.UCS2, 2 * len(text), 1))

    @given(st.text(st.characters(blacklist_categories=["Cs"]), max_size=400))
    def test_consistent(self, text: str) -> None:
        """Bytes match the encoding and segments match a split of the text."""
        result = measure(text)
        self.assertEqual(result.chars, len(text))
        self.assertGreaterEqual(result.segments, 1)
        if result.msg_fmt == MsgFmt.ASCII:
            self.assertEqual(result.bytes, len(text))
        else:
            self.assertEqual(result.bytes, len(text.encode("utf-16-be")))
        self.assertEqual(
            result.segments == 1, result.bytes <= (159 if result.msg_fmt == 0 else 140)
        )
