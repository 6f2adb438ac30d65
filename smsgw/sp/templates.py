"""Message templates: two engines behind one interface.

``simple``
    Placeholders in braces: ``{name}`` takes ``params["name"]``; ``{A}`` to
    ``{E}`` take the positional params (``params=["x", "y"]`` gives ``A="x"``,
    ``B="y"``, or name them ``{"A": "x"}``); ``{PHONE}`` is the recipient.
    ``{{`` and ``}}`` are literal braces.  A name is a Python identifier
    (``{验证码}`` is one).  The feature notes' "custom" engine (seed 000).
``jinja2``
    Jinja2's :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` with
    :class:`~jinja2.StrictUndefined` and no autoescaping: ``{{ name }}``,
    filters, conditions and loops; ``PHONE`` is the recipient.  The seed's
    "v" (Velocity-style) engine.

Both refuse templates longer than :data:`MAX_TEMPLATE_LENGTH` characters and
output longer than :data:`MAX_OUTPUT_LENGTH`, and report every problem as a
:class:`TemplateError` naming the field at fault, so the HTTP API can answer
4xx.  :func:`measure` tells how a rendered text will go
over the air: its ``Msg_Fmt``, encoded bytes and segment count.

On the sandbox: it stops templates from reaching Python internals (attributes
starting with ``_``, mutation of lists and dicts, unsafe callables).  On top
of it the environment here caps ``range()``, repetition (``*``), exponents
(``**``), padding and format widths, and the output length (see
:class:`_SmsSandbox`); a template can still burn CPU with nested loops that
print nothing, so templates are for API-key holders (the templates API), not
for anonymous input.  Pure code, no Twisted
imports.
"""

from __future__ import annotations

import contextlib
import functools
import operator
import re
import string
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, cast

import attrs
from jinja2 import StrictUndefined, meta, nodes
from jinja2 import exceptions as jinja_errors
from jinja2.exceptions import SecurityError
from jinja2.filters import do_batch, do_center, do_format, do_indent, sync_do_slice
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import missing

from smsgw.text import MsgFmt, choose_fmt, encode_text, split_text

__all__ = [
    "ENGINES",
    "MAX_OUTPUT_LENGTH",
    "MAX_TEMPLATE_LENGTH",
    "PHONE",
    "POSITIONAL",
    "TemplateError",
    "TextMeasure",
    "measure",
    "render",
    "validate_template",
]

ENGINES: Final = ("simple", "jinja2")
"""Template engine names, as the templates API spells them."""

MAX_TEMPLATE_LENGTH: Final = 4000
"""Most characters of a template body."""

MAX_OUTPUT_LENGTH: Final = 2000
"""Most characters of a rendered text (30 UCS2 segments, 14 ASCII ones)."""

PHONE: Final = "PHONE"
"""The placeholder / variable that holds the recipient's number."""

POSITIONAL: Final = ("A", "B", "C", "D", "E")
"""Names of the positional params, in order."""

_MAX_RANGE = 1000
"""Most items of ``range()`` in a jinja2 template (Jinja2's own cap is 100000)."""

_MAX_EXPONENT = 64
"""Largest exponent of ``**`` in a jinja2 template."""


class TemplateError(ValueError):
    """A template that cannot be used, or cannot be rendered with the params given.

    :ivar field: what is at fault, for the API's error answer: ``"template"``
        (the body), ``"engine"``, ``"params"`` or ``"params.NAME"`` (a value
        the template needs and the request lacks).
    """

    def __init__(self, message: str, field: str = "template") -> None:
        super().__init__(message)
        self.field = field


# -- params ------------------------------------------------------------------


def _values(params: Mapping[str, Any] | Sequence[Any], phone: str) -> dict[str, Any]:
    """The names a template sees: ``params`` (positional ones as A-E) and PHONE.

    ``phone`` wins over a ``PHONE`` key in ``params``: the placeholder is the
    recipient, whatever the request says.
    """
    if isinstance(params, Mapping):
        values: dict[str, Any] = {}
        for key, value in params.items():
            if not isinstance(key, str):
                raise TemplateError(f"param names must be text, got {key!r}", field="params")
            values[key] = value
    elif isinstance(params, Sequence) and not isinstance(params, str | bytes | bytearray):
        if len(params) > len(POSITIONAL):
            raise TemplateError(
                f"at most {len(POSITIONAL)} positional params (A to E), got {len(params)}",
                field="params",
            )
        values = dict(zip(POSITIONAL, params, strict=False))
    else:
        raise TemplateError(
            f"params must be an object or a list, not {type(params).__name__}", field="params"
        )
    values[PHONE] = phone
    return values


def _check_body(engine: str, body: str) -> None:
    if engine not in ENGINES:
        raise TemplateError(
            f"unknown template engine {engine!r}; expected one of {', '.join(ENGINES)}",
            field="engine",
        )
    if not isinstance(body, str):
        raise TemplateError(f"a template is text, not {type(body).__name__}")
    if len(body) > MAX_TEMPLATE_LENGTH:
        raise TemplateError(
            f"template of {len(body)} characters; at most {MAX_TEMPLATE_LENGTH} are allowed"
        )


def _too_long(max_length: int) -> TemplateError:
    return TemplateError(f"rendered text is longer than {max_length} characters")


# -- simple engine -----------------------------------------------------------


_SIMPLE_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


@attrs.frozen
class _Placeholder:
    name: str


_Part = str | _Placeholder


@functools.lru_cache(maxsize=256)
def _parse_simple(body: str) -> tuple[_Part, ...]:
    """Literal text and placeholders of a ``simple`` template, in order.

    :raises TemplateError: an unclosed ``{``, a lone ``}``, or a placeholder
        whose name is not an identifier.
    """
    parts: list[_Part] = []
    literal: list[str] = []
    position = 0
    for match in _SIMPLE_TOKEN.finditer(body):
        literal.append(body[position : match.start()])
        position = match.end()
        token = match.group()
        name = match.group(1)
        if token in ("{{", "}}"):
            literal.append(token[0])
        elif name is not None:
            if not name.isidentifier():
                raise TemplateError(
                    f"bad placeholder {token!r} at position {match.start()}: a name is letters, "
                    "digits and underscores, not starting with a digit (write {{ and }} for "
                    "literal braces)"
                )
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(_Placeholder(name))
        elif token == "{":
            raise TemplateError(
                f"unclosed '{{' at position {match.start()} (write '{{{{' for a literal brace)"
            )
        else:
            raise TemplateError(
                f"single '}}' at position {match.start()} (write '}}}}' for a literal brace)"
            )
    literal.append(body[position:])
    tail = "".join(literal)
    if tail:
        parts.append(tail)
    return tuple(parts)


def _render_simple(body: str, values: Mapping[str, Any], max_length: int) -> str:
    pieces: list[str] = []
    length = 0
    for part in _parse_simple(body):
        if isinstance(part, _Placeholder):
            value = values.get(part.name)
            if value is None:
                raise TemplateError(
                    f"no value for placeholder {{{part.name}}}", field=f"params.{part.name}"
                )
            text = str(value)
        else:
            text = part
        length += len(text)
        if length > max_length:
            raise _too_long(max_length)
        pieces.append(text)
    return "".join(pieces)


# -- jinja2 engine -----------------------------------------------------------


class _MissingValue(jinja_errors.UndefinedError):
    """A StrictUndefined failure that remembers what was undefined."""

    def __init__(self, message: str, *, name: object, top_level: bool) -> None:
        super().__init__(message)
        self.name = name
        self.top_level = top_level


class _StrictUndefined(StrictUndefined):
    """:class:`StrictUndefined` whose errors carry the undefined name.

    Jinja2's :exc:`~jinja2.UndefinedError` has only a message; the API's error
    must name the missing param (``params.code``).  Undefined values made for
    sandbox violations keep their :exc:`SecurityError`.
    """

    __slots__ = ()

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = missing,
        name: str | None = None,
        exc: type[jinja_errors.TemplateRuntimeError] = jinja_errors.UndefinedError,
    ) -> None:
        if exc is jinja_errors.UndefinedError and hint is None:
            exc = cast(
                "type[jinja_errors.TemplateRuntimeError]",
                functools.partial(_MissingValue, name=name, top_level=obj is missing),
            )
        super().__init__(hint, obj, name, exc)


def _check_size(value: Any, what: str) -> None:
    """Refuse an integer size argument above :data:`MAX_OUTPUT_LENGTH`."""
    if isinstance(value, int) and value > MAX_OUTPUT_LENGTH:
        raise SecurityError(f"{what} {value} is above {MAX_OUTPUT_LENGTH}")


_PERCENT_SPEC = re.compile(r"%[-#0 +]*(\*|[0-9]+)?(?:\.(\*|[0-9]+))?")
_NUMBER = re.compile(r"[0-9]+")


def _check_percent_format(template: str) -> None:
    """Refuse ``%``-format widths and precisions above the output cap, and ``*``."""
    for match in _PERCENT_SPEC.finditer(template):
        for size in match.groups():
            if size == "*":
                raise SecurityError("'*' widths in % formats are not allowed")
            if size is not None:
                _check_size(int(size), "% format width")


def _check_brace_format(template: str) -> None:
    """Refuse ``str.format`` widths above the output cap, nested fields and ``{0._x}``."""
    for _, field, spec, _ in string.Formatter().parse(template):
        if field and re.search(r"(^|[.\[])_", field):
            raise SecurityError(f"format field {field!r} reads a name starting with '_'")
        if not spec:
            continue
        if "{" in spec:
            raise SecurityError("nested fields in format specs are not allowed")
        for size in _NUMBER.findall(spec):
            _check_size(int(size), "format width")


def _small_range(*args: int) -> range:
    """``range()`` for templates, at most :data:`_MAX_RANGE` items."""
    numbers = range(*args)
    try:
        count = str(len(numbers))
    except OverflowError:  # more items than a Py_ssize_t holds
        count = f"more than {sys.maxsize}"
    if count.startswith("more") or int(count) > _MAX_RANGE:
        raise SecurityError(f"range() of {count} items; at most {_MAX_RANGE} are allowed")
    return numbers


def _capped_filter(name: str, filter_: Callable[..., Any]) -> Callable[..., Any]:
    """``filter_`` refusing integer arguments above the output cap (widths, counts)."""

    @functools.wraps(filter_)
    def capped(value: Any, *args: Any, **kwargs: Any) -> Any:
        for argument in (*args, *kwargs.values()):
            _check_size(argument, f"{name} argument")
        return filter_(value, *args, **kwargs)

    return capped


def _format_filter(value: Any, *args: Any, **kwargs: Any) -> str:
    """The ``format`` filter with :func:`_check_percent_format`."""
    _check_percent_format(str(value))
    return do_format(value, *args, **kwargs)


_CAPPED_FILTERS: Final[dict[str, Callable[..., Any]]] = {
    "center": do_center,
    "indent": do_indent,
    "batch": do_batch,
    "slice": sync_do_slice,
}
"""Filters whose integer arguments are sizes of the result."""

_PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
"""``str`` methods whose integer argument is the length of the result."""


class _SmsSandbox(ImmutableSandboxedEnvironment):
    """The sandbox plus caps on the cheap ways to blow up memory or CPU.

    Sizes of results (``'x' * n``, ``'x'.center(n)``, ``'%9999d' % 1``,
    ``'{:9999}'.format(1)``, ``|center(n)``, ``|indent(n)``, ``|batch(n)``,
    ``range(n)``) are capped near :data:`MAX_OUTPUT_LENGTH`, and
    ``lipsum()`` (pages of filler text) is gone.
    """

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self) -> None:
        super().__init__(undefined=_StrictUndefined, autoescape=False, keep_trailing_newline=True)
        self.globals["range"] = _small_range
        del self.globals["lipsum"]
        for name, filter_ in _CAPPED_FILTERS.items():
            self.filters[name] = _capped_filter(name, filter_)
        self.filters["format"] = _format_filter

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """Refuse ``seq * n`` longer than the output cap, large exponents and % widths."""
        _check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Refuse padding and format widths above the output cap in ``str`` methods."""
        # str.format arrives wrapped by the sandbox (wrap_str_format).
        method = getattr(obj, "__wrapped__", obj)
        owner = getattr(method, "__self__", None)
        if isinstance(owner, str):
            _check_str_call(owner, getattr(method, "__name__", ""), [*args, *kwargs.values()])
        return super().call(context, obj, *args, **kwargs)


def _check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse ``seq * n`` longer than the output cap, large exponents and % widths."""
    if operator == "**":
        if isinstance(right, int | float) and abs(right) > _MAX_EXPONENT:
            raise SecurityError(f"exponent {right!r} is above {_MAX_EXPONENT}")
    elif operator == "*":
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(count, int):
                _check_size(len(seq) * count, "repetition to a length of")
    elif isinstance(left, str):
        _check_percent_format(left)


def _check_str_call(owner: str, name: str, arguments: Sequence[Any]) -> None:
    """Refuse padding and format widths above the output cap in ``owner.name(...)``."""
    if name in _PADDING_METHODS:
        for argument in arguments:
            _check_size(argument, f"{name}() width")
    elif name in ("format", "format_map"):
        _check_brace_format(owner)


_ENV = _SmsSandbox()


@attrs.frozen
class _Compiled:
    template: Any
    names: frozenset[str]


def _syntax_error(exc: jinja_errors.TemplateSyntaxError) -> TemplateError:
    return TemplateError(f"template syntax error on line {exc.lineno}: {exc.message}")


_BINOPS: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "*": operator.mul,
    "**": operator.pow,
    "%": operator.mod,
}

_MAX_CONSTANT_BITS = 4096
"""Largest ``a ** b`` (about ``a``'s bits times ``b``) worked out when checking a template."""


def _constant(node: nodes.Node | None, context: nodes.EvalContext) -> Any:
    """The value of *node* when it is known before rendering, else :data:`missing`.

    The sandbox's intercepted operators (which Jinja2 does not fold) are worked
    out here after :func:`_check_binop`, so ``'x'.center(10 ** 9)`` is known.

    :raises SecurityError: an operator on constants breaks a cap.
    """
    if isinstance(node, nodes.BinExpr) and node.operator in _BINOPS:
        left, right = _constant(node.left, context), _constant(node.right, context)
        if left is missing or right is missing:
            if node.operator == "%" and isinstance(left, str):
                _check_percent_format(left)
            return missing
        _check_binop(node.operator, left, right)
        if node.operator == "**" and (
            not isinstance(left, int) or left.bit_length() * abs(right) > _MAX_CONSTANT_BITS
        ):
            return missing
        try:
            return _BINOPS[node.operator](left, right)
        except Exception:
            return missing
    if not isinstance(node, nodes.Expr):
        return missing
    try:
        return node.as_const(context)
    except Exception:
        # nodes.Impossible for names and for nodes holding intercepted
        # operators; anything else an odd constant raises is for run time.
        return missing


def _constant_args(call: nodes.Call | nodes.Filter, context: nodes.EvalContext) -> list[Any]:
    """The arguments of *call* whose values are known before rendering."""
    values = [_constant(arg, context) for arg in call.args]
    values += [_constant(keyword.value, context) for keyword in call.kwargs]
    return [value for value in values if value is not missing]


def _check_private(name: object) -> None:
    """Refuse an attribute or key starting with ``_`` (the sandbox's rule)."""
    if isinstance(name, str) and name.startswith("_"):
        raise SecurityError(f"access to {name!r} (a name starting with '_')")


def _check_call(node: nodes.Call, context: nodes.EvalContext) -> None:
    """``range()`` and ``str`` padding and format methods on constants."""
    if isinstance(node.node, nodes.Name) and node.node.name == "range":
        arguments = _constant_args(node, context)
        if len(arguments) == len(node.args) and all(type(a) is int for a in arguments):
            with contextlib.suppress(ValueError):  # range(1, 2, 0): a run-time error
                _small_range(*arguments)
    elif isinstance(node.node, nodes.Getattr):
        owner = _constant(node.node.node, context)
        if isinstance(owner, str):
            _check_str_call(owner, node.node.attr, _constant_args(node, context))


def _check_constant_caps(tree: nodes.Template) -> None:
    """Apply :class:`_SmsSandbox`'s rules to what a template fixes in its text.

    ``{{ range(5000) }}``, ``{{ 'x' * 9999 }}``, ``{{ 2 ** 100 }}``,
    ``{{ '%9999d' % 1 }}``, ``|center(9999)``, ``'x'.rjust(9999)``,
    ``'{:9999}'.format(1)`` and ``x.__class__`` break the rules whatever the
    params are, so they are refused when the template is created, not first
    when a message uses it.  Values known only from params are still checked
    while rendering.

    :raises SecurityError: naming the cap or the name.
    """
    context = nodes.EvalContext(_ENV)
    for node in tree.find_all(
        (nodes.BinExpr, nodes.Call, nodes.Filter, nodes.Getattr, nodes.Getitem)
    ):
        if isinstance(node, nodes.BinExpr):
            _constant(node, context)
        elif isinstance(node, nodes.Getattr):
            _check_private(node.attr)
        elif isinstance(node, nodes.Getitem):
            _check_private(_constant(node.arg, context))
        elif isinstance(node, nodes.Call):
            _check_call(node, context)
        elif isinstance(node, nodes.Filter):
            _check_filter(node, context)


def _check_filter(node: nodes.Filter, context: nodes.EvalContext) -> None:
    """Size arguments of the capped filters, ``format`` strings and ``attr`` names."""
    if node.name in _CAPPED_FILTERS:
        for argument in _constant_args(node, context):
            _check_size(argument, f"{node.name} argument")
    elif node.name == "format":
        value = _constant(node.node, context)
        if isinstance(value, str):
            _check_percent_format(value)
    elif node.name == "attr":
        for argument in _constant_args(node, context):
            _check_private(argument)


@functools.lru_cache(maxsize=256)
def _compile_jinja(body: str) -> _Compiled:
    """Parse and compile a ``jinja2`` template once, checking its constant caps.

    :raises TemplateError: a syntax error (unknown filters and tests included),
        or a size the sandbox's caps refuse whatever the params
        (:func:`_check_constant_caps`).
    """
    try:
        tree: nodes.Template = _ENV.parse(body)
        _check_constant_caps(tree)
        names = meta.find_undeclared_variables(tree)
        template = _ENV.from_string(tree)
    except jinja_errors.TemplateSyntaxError as exc:
        raise _syntax_error(exc) from None
    except SecurityError as exc:
        raise TemplateError(f"not allowed in a template: {exc}") from None
    return _Compiled(template, frozenset(names - set(_ENV.globals) - {PHONE}))


def _render_jinja(body: str, values: Mapping[str, Any], max_length: int) -> str:
    compiled = _compile_jinja(body)
    pieces: list[str] = []
    length = 0
    chunks = compiled.template.generate(values)
    try:
        for chunk in chunks:
            length += len(chunk)
            if length > max_length:
                raise _too_long(max_length)
            pieces.append(chunk)
    except TemplateError:
        raise
    except _MissingValue as exc:
        if exc.top_level:
            raise TemplateError(
                f"no value for template variable {exc.name!r}", field=f"params.{exc.name}"
            ) from None
        if isinstance(exc.name, str) and exc.name.startswith("_"):
            # A private name the object lacks (``''.format.__self__``): the
            # template is probing, not reading a param.
            raise TemplateError(f"not allowed in a template: {exc}") from None
        raise TemplateError(f"template reads a missing value: {exc}", field="params") from None
    except SecurityError as exc:
        raise TemplateError(f"not allowed in a template: {exc}") from None
    except jinja_errors.UndefinedError as exc:
        raise TemplateError(f"template reads a missing value: {exc}", field="params") from None
    except jinja_errors.TemplateSyntaxError as exc:
        raise _syntax_error(exc) from None
    except Exception as exc:
        # The sandbox documentation: "other exceptions may occur during the
        # rendering so the caller has to ensure that all exceptions are
        # caught" (division by zero, int("x"), a filter on the wrong type...).
        raise TemplateError(f"template failed to render: {type(exc).__name__}: {exc}") from None
    finally:
        chunks.close()
    return "".join(pieces)


# -- interface ---------------------------------------------------------------


def render(
    engine: str,
    body: str,
    params: Mapping[str, Any] | Sequence[Any],
    phone: str,
    *,
    max_length: int = MAX_OUTPUT_LENGTH,
) -> str:
    """Render a template for one recipient.

    :param engine: ``"simple"`` or ``"jinja2"``.
    :param body: the template text.
    :param params: the request's ``params``: an object (names to values), or
        a list of at most five values for ``A`` to ``E``.  In the ``simple``
        engine a value is written with ``str()``; ``None`` counts as missing.
    :param phone: the recipient's number, for ``PHONE``.
    :param max_length: most characters of the result.
    :returns: the message text.
    :raises TemplateError: an unknown engine, a bad or too long template, a
        missing value (``field`` is ``params.NAME``), a sandbox violation, any
        failure while rendering, or a result longer than ``max_length``.
    """
    _check_body(engine, body)
    values = _values(params, phone)
    if engine == "simple":
        return _render_simple(body, values, max_length)
    return _render_jinja(body, values, max_length)


def validate_template(engine: str, body: str) -> list[str]:
    """Check a template and list the params it reads, for the templates API.

    :param engine: ``"simple"`` or ``"jinja2"``.
    :param body: the template text.
    :returns: the names, sorted, without ``PHONE`` (the gateway fills it in).
        For ``jinja2`` these are the variables not set inside the template
        (:func:`jinja2.meta.find_undeclared_variables`), some of which may be
        optional (``{% if x is defined %}``).
    :raises TemplateError: an unknown engine, or a bad or too long template.
    """
    _check_body(engine, body)
    if engine == "simple":
        parts = _parse_simple(body)
        _check_fixed_text(sum(len(part) for part in parts if isinstance(part, str)))
        names = {part.name for part in parts if isinstance(part, _Placeholder)}
        return sorted(names - {PHONE})
    compiled = _compile_jinja(body)
    _check_fixed_text(
        sum(
            len(data.data)
            for output in _ENV.parse(body).body
            if isinstance(output, nodes.Output)
            for data in output.nodes
            if isinstance(data, nodes.TemplateData)
        )
    )
    return sorted(compiled.names)


def _check_fixed_text(length: int) -> None:
    """Refuse a template whose text outside placeholders is already too long to render."""
    if length > MAX_OUTPUT_LENGTH:
        raise TemplateError(
            f"the template's fixed text is {length} characters; a rendered text is at most "
            f"{MAX_OUTPUT_LENGTH}"
        )


@attrs.frozen
class TextMeasure:
    """How a message text goes over the air (CMPP 2.0 notes sections 9 and 10).

    :ivar chars: characters (code points) of the text.
    :ivar msg_fmt: the ``Msg_Fmt`` it is encoded in.
    :ivar bytes: bytes of the encoded text, without UDH.
    :ivar segments: SUBMITs it takes (1 when it fits one message).
    """

    chars: int
    msg_fmt: MsgFmt
    bytes: int
    segments: int


def measure(text: str, fmt: int | None = None, *, prefer_gb: bool = False) -> TextMeasure:
    """Measure a rendered text in its target encoding.

    :param text: the message text.
    :param fmt: the ``Msg_Fmt`` (0, 8 or 15); ``None`` picks it as the
        channels do (:func:`smsgw.text.choose_fmt`).
    :param prefer_gb: with ``fmt=None``, prefer GB to UCS2 for non-ASCII text.
    :returns: characters, format, bytes and segment count (8-bit reference UDH).
    :raises TextEncodeError: ``text`` has no encoding in ``fmt``, or ``fmt``
        is not a text format.
    :raises ValueError: ``fmt`` is not a ``Msg_Fmt`` value, or the text needs
        more than 255 segments.
    """
    msg_fmt = choose_fmt(text, prefer_gb=prefer_gb) if fmt is None else MsgFmt(fmt)
    encoded = encode_text(text, msg_fmt)
    segments = split_text(text, msg_fmt, 0)
    return TextMeasure(chars=len(text), msg_fmt=msg_fmt, bytes=len(encoded), segments=len(segments))
