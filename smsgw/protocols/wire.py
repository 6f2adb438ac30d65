"""The layout compiler shared by every protocol, and its C accelerator's glue.

A PDU's wire layout is data: a tuple of ``(attribute name, field codec)``
pairs, the codecs of :mod:`smsgw.protocols.fields` (re-exported here).
:class:`Layout` turns such a table into two specialised functions, one
that encodes an instance and one that decodes a byte range into one.  The
functions are generated source, as attrs and ``collections.namedtuple``
generate theirs, because this is the hot path:
each run of fixed-width fields becomes one precompiled :class:`struct.Struct`
call, and there is no per-field interpretation at run time.

Every generated decoder is total: for any input it returns a PDU or raises a
:class:`~smsgw.protocols.errors.DecodeError` naming the PDU and the field.
Every generated encoder refuses a value that does not fit its field with an
:class:`~smsgw.protocols.errors.EncodeError` naming the field, instead of
truncating it.

An optional C extension, :mod:`smsgw.protocols._wire`, interprets the same
layouts faster (issue 2).  The generated Python functions stay the
reference: each layout keeps them as :attr:`Layout.py_encode` and
:attr:`Layout.py_decode`, and the C code hands every value or byte range it
does not handle exactly to them, so results and errors are the same either
way.  :data:`ACCELERATED` says whether the extension is in use; setting
``SMSGW_PURE_PYTHON=1`` in the environment turns it off.
"""

from __future__ import annotations

import importlib
import os
import struct
import types
import warnings
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Generic, TypeVar

import attrs

from smsgw.protocols.errors import DecodeError, EncodeError
from smsgw.protocols.fields import (
    _NUL,
    COctets,
    CTime,
    Custom,
    FieldCodec,
    Fields,
    HeaderSpec,
    Octets,
    Raw,
    Repeated,
    Sized,
    Trailing,
    UInt,
    ZeroPadded,
)
from smsgw.protocols.wirecheck import cstring, ctime, trailing, truncated
from smsgw.protocols.wireshape import count_ok, header_mode, plain_slotted

__all__ = [
    "ACCELERATED",
    "COctets",
    "CTime",
    "Custom",
    "FieldCodec",
    "Fields",
    "HeaderSpec",
    "Layout",
    "Octets",
    "Raw",
    "Repeated",
    "Sized",
    "Trailing",
    "UInt",
    "ZeroPadded",
    "accelerate_codec",
]

#: The C extension module when it is built and enabled; it has no type stubs.
_accel: Any = None
#: The ``ABI`` the C extension must declare (``WIRE_ABI`` in ``_wire.c``).
ACCEL_ABI = 3


def current_accel(module: Any) -> bool:
    """Whether *module* was built from this ``_wire.c`` (an older build lacks field kinds)."""
    return getattr(module, "ABI", None) == ACCEL_ABI


if os.environ.get("SMSGW_PURE_PYTHON", "") in ("", "0"):
    try:
        _accel = importlib.import_module("smsgw.protocols._wire")
    except ImportError:  # not built: no compiler, or a pure-Python install
        pass
    if _accel is not None and not current_accel(_accel):
        msg = "smsgw.protocols._wire is out of date (./dev test rebuilds it); using pure Python"
        warnings.warn(msg, RuntimeWarning, stacklevel=1)
        _accel = None

#: Whether layouts run on the C accelerator (where their shape allows it).
ACCELERATED: bool = _accel is not None


#: The attrs class a layout builds.
T = TypeVar("T", bound=attrs.AttrsInstance)


class Layout(Generic[T]):
    """A compiled layout: encode an instance of ``T``, decode bytes into one.

    :ivar cls: the attrs class the layout builds.
    :ivar fields: the ``(name, codec)`` table, in wire order.
    :ivar command_id: the command id written into the header, for PDUs.
    :ivar fixed_size: the size of a body whose variable fields are empty.
    :ivar encode: ``encode(instance, seq) -> bytes``; the C program's when
        :attr:`accelerated`, else :attr:`py_encode`.
    :ivar decode: ``decode(buf, off, end) -> instance``; likewise.
    :ivar py_encode: the generated Python encoder, the reference.
    :ivar py_decode: the generated Python decoder, the reference.
    :ivar program: the C program (``smsgw.protocols._wire.Program``) or ``None``.
    :ivar accelerated: whether :attr:`encode` and :attr:`decode` run in C.
    """

    encode: Callable[[T, Any], bytes]
    decode: Callable[[bytes, int, int], T]
    py_encode: Callable[[T, Any], bytes]
    py_decode: Callable[[bytes, int, int], T]

    def __init__(
        self,
        cls: type[T],
        fields: Fields,
        *,
        command_id: int | None = None,
        header: HeaderSpec | None = None,
        name: str | None = None,
    ) -> None:
        self.cls = cls
        self.fields = tuple(fields)
        self.command_id = command_id
        self.header = header
        self.name = name or cls.__name__
        _validate(cls, self.fields, self.name, header)
        self.fixed_size = _fixed_size(self.fields)
        self.py_encode, self.py_decode = _Compiler(self).build()
        self.program = _program(self)
        self.accelerated = self.program is not None
        if self.program is not None:
            self.encode, self.decode = self.program.encode, self.program.decode
        else:
            self.encode, self.decode = self.py_encode, self.py_decode

    def pack(self, value: T) -> bytes:
        """Encode a header-less structure (e.g. a status report's content)."""
        return self.encode(value, None)

    def unpack(self, data: bytes) -> T:
        """Decode a whole header-less structure from *data*."""
        return self.decode(data, 0, len(data))

    def check(self, value: T) -> None:
        """Raise :class:`EncodeError` naming the first field *value* cannot encode."""
        for name, codec in self.fields:
            why = codec.check(getattr(value, name))
            if why:
                raise EncodeError(why, pdu=self.name, field=name)

    def __repr__(self) -> str:
        return f"<Layout {self.name}>"


def _validate(cls: type, fields: Fields, name: str, header: HeaderSpec | None) -> None:
    known = {a.name: a for a in attrs.fields(cls)}
    listed = set(header.attributes) if header is not None else set()
    for aname in listed:
        if aname not in known:
            raise TypeError(f"{name}: header attribute {aname!r} is not an attribute of {cls}")
    for i, (fname, codec) in enumerate(fields):
        if fname not in known:
            raise TypeError(f"{name}: layout field {fname!r} is not an attribute of {cls}")
        if isinstance(codec, Trailing) and i != len(fields) - 1:
            raise TypeError(f"{name}: Trailing field {fname!r} must come last")
        listed.add(fname)
    for aname, a in known.items():
        if aname not in listed and a.default is attrs.NOTHING:
            raise TypeError(f"{name}: attribute {aname!r} is not on the wire and has no default")


def _fixed_size(fields: Fields) -> int:
    size = 0
    for _, codec in fields:
        if isinstance(codec, UInt | Octets):
            size += codec.size
        elif isinstance(codec, Repeated):
            size += codec.count.size
        elif isinstance(codec, Sized):
            size += codec.length.size
        elif isinstance(codec, Trailing):
            size += codec.field.size
        elif isinstance(codec, COctets):
            size += 1  # the NUL of an empty value
    return size


class _Compiler(Generic[T]):
    """Generates the source of one layout's encoder and decoder.

    Fast path: the whole PDU is one :class:`struct.Struct` whose format
    depends only on the sizes of its variable fields (DestUsr_tl × 21,
    Msg_Length), cached per size; decoding peeks at the count fields to find
    those sizes.  When the bytes do not fit that shape, a step-by-step
    decoder takes over and names the field that is short or bad.
    """

    _counter: ClassVar[int] = 0

    #: Field codecs the compiler knows; any other is a :class:`Custom` codec.
    _KNOWN = (UInt, Octets, Repeated, Sized, Trailing, COctets)

    def __init__(self, layout: Layout[T]) -> None:
        self.layout = layout
        self.ns: dict[str, Any] = {
            "_cls": layout.cls,
            "_layout": layout,
            "_NUL": _NUL,
            "_truncated": truncated,
            "_cstring": cstring,
            "_ctime": ctime,
            "_trailing": trailing,
            "_encode_failed": _encode_failed,
            "DecodeError": DecodeError,
            "struct_error": struct.error,
        }
        self.nconst = 0
        self.custom = [(n, c) for n, c in layout.fields if not isinstance(c, self._KNOWN)]
        # Variable-width fields that no single struct describes: a C-Octet
        # String (its width is where its NUL is) or a custom codec before the
        # last field.  Such a layout is encoded part by part and decoded field
        # by field (the "slow" decoder is its only one).
        self.stepwise = any(isinstance(c, COctets) for _, c in layout.fields) or any(
            n != layout.fields[-1][0] for n, _ in self.custom
        )
        hdr = layout.header
        if hdr is not None and hdr.attributes:
            self.ns["_hstruct"] = struct.Struct(">II" + hdr.code)
        self.ns["_shape"] = _Shape(layout, header=True)
        self.ns["_body"] = self.body = _Shape(layout, header=False)

    def const(self, value: Any, prefix: str = "_c") -> str:
        self.nconst += 1
        name = f"{prefix}{self.nconst}"
        self.ns[name] = value
        return name

    def build(self) -> tuple[Callable[[T, Any], bytes], Callable[[bytes, int, int], T]]:
        if self.stepwise:
            parts = [
                self.stepwise_encoder_source(),
                self.slow_decoder_source(),
                "decode = decode_slow\n",
            ]
        else:
            parts = [self.encoder_source(), self.fast_decoder_source(), self.slow_decoder_source()]
        src = "\n".join(parts)
        _Compiler._counter += 1
        filename = f"<smsgw layout {self.layout.name} #{_Compiler._counter}>"
        exec(compile(src, filename, "exec"), self.ns)
        self.ns["_source"] = src
        return self.ns["encode"], self.ns["decode"]

    def construct(self, values: dict[str, str]) -> str:
        """An expression building the instance, off-wire attributes at their defaults.

        For a plain slotted attrs class (no validators, converters, hooks or
        frozen ``__setattr__``) the instance is built by :func:`_build`, a
        generated function of slot stores: ``__init__``'s call with two dozen
        arguments costs more than the stores themselves (docs/benchmarks.md).
        """
        args = []
        for a in attrs.fields(self.layout.cls):
            if a.name in values:
                args.append(values[a.name])
            else:
                args.append(self.const(a.default))
        if plain_slotted(self.layout.cls):
            if "_build" not in self.ns:
                self.ns["_build"] = _slot_builder(self.layout.cls)
            return f"_build({', '.join(args)})"
        return f"_cls({', '.join(args)})"

    # -- decoding -------------------------------------------------------

    def header_attributes(self, emit: Callable[[str], None], values: dict[str, str]) -> None:
        """Read the PDU attributes the header carries (the frame's header ends at ``off``)."""
        hdr = self.layout.header
        if hdr is None or not hdr.attributes:
            return
        emit(f"    hv = _hstruct.unpack_from(buf, off - {hdr.size})")
        for i, name in enumerate(hdr.attributes):
            values[name] = f"hv[{2 + i}]"

    def fast_decoder_source(self) -> str:
        """One ``unpack_from`` of a struct cached by the variable sizes."""
        lines = ["def decode(buf, off, end):", "    avail = end - off"]
        emit = lines.append
        values: dict[str, str] = {}
        self.header_attributes(emit, values)
        targets: list[str] = []
        pos: list[str] = ["0"]  # offset expression of the next field
        dyn: list[str] = []
        indent = "    "
        for name, codec in self.layout.fields:
            var = f"v_{name}"
            if isinstance(codec, Trailing):
                codec = codec.field
            if isinstance(codec, UInt):
                targets.append(var)
                values[name] = var
                pos.append(str(codec.size))
            elif isinstance(codec, Octets):
                targets.append(var)
                values[name] = _strip_expr(var, codec)
                pos.append(str(codec.size))
            elif isinstance(codec, Repeated | Sized):
                cnt = codec.count if isinstance(codec, Repeated) else codec.length
                at = " + ".join(pos)
                need = f"{at} + {cnt.size}"
                emit(f"{indent}if avail < {need}: return decode_slow(buf, off, end)")
                if cnt.size == 1:
                    emit(f"{indent}d_{name} = buf[off + {at}]")
                else:
                    emit(f"{indent}d_{name} = int.from_bytes(buf[off + {at}:off + {need}], 'big')")
                if isinstance(codec, Repeated):
                    w = codec.item.size
                    emit(f"{indent}d_{name} *= {w}")
                    values[name] = f"r_{name}"
                targets.append(f"n_{name}")
                targets.append(var)
                if isinstance(codec, Sized):
                    values[name] = var
                pos.append(f"{cnt.size} + d_{name}")
                dyn.append(f"d_{name}")
            else:  # custom, last
                values[name] = var
        key = dyn[0] if len(dyn) == 1 else f"({', '.join(dyn)},)"
        if dyn:
            emit(f"    s = _body.cache.get({key}) or _body.make({key})")
        else:
            emit(f"    s = {self.const(self.body.make(()), '_s')}")
        cmp = "<" if self.custom else "!="
        emit(f"    if avail {cmp} s.size: return decode_slow(buf, off, end)")
        if targets:
            emit(f"    ({', '.join(targets)},) = s.unpack_from(buf, off)")
        for name, codec in self.layout.fields:
            if isinstance(codec, Repeated):
                w = codec.item.size
                raw = f"v_{name}"
                strip = "" if isinstance(codec.item, Raw) else ".rstrip(_NUL)"
                emit(f"    if n_{name} == 1: r_{name} = ({raw}{strip},)")
                emit(
                    f"    else: r_{name} = tuple([{raw}[i:i + {w}]{strip} "
                    f"for i in range(0, d_{name}, {w})])"
                )
        if self.custom:
            name, _ = self.custom[0]
            c = self.const(self.custom[0][1], "_f")
            emit("    try:")
            emit(f"        v_{name}, off = {c}.decode_at(buf, off + s.size, end)")
            emit("    except DecodeError as e:")
            emit(f"        e.pdu = _layout.name; e.field = e.field or {name!r}")
            emit("        raise")
            emit("    if off != end: _trailing(_layout, end - off)")
        emit(f"    return {self.construct(values)}")
        return "\n".join(lines) + "\n"

    def slow_decoder_source(self) -> str:
        """Field by field, naming the field where the bytes run out or go wrong."""
        lines = ["def decode_slow(buf, off, end):"]
        emit = lines.append
        seg: list[tuple[str, str, int]] = []  # (var, code, size)
        values: dict[str, str] = {}
        self.header_attributes(emit, values)

        def flush() -> None:
            if not seg:
                return
            size = sum(s for _, _, s in seg)
            st = self.const(struct.Struct(">" + "".join(c for _, c, _ in seg)), "_s")
            spans = self.const(_spans(seg))
            emit(f"    if end - off < {size}: _truncated(_layout, {spans}, end - off)")
            targets = ", ".join(v for v, _, _ in seg)
            emit(f"    ({targets},) = {st}.unpack_from(buf, off)")
            emit(f"    off += {size}")
            seg.clear()

        for name, codec in self.layout.fields:
            var = f"v_{name}"
            if isinstance(codec, Trailing):
                flush()
                inner = codec.field
                st = self.const(struct.Struct(">" + inner.code), "_s")
                emit(f"    if end - off >= {inner.size}:")
                emit(f"        ({var},) = {st}.unpack_from(buf, off)")
                emit(f"        off += {inner.size}")
                emit("    else:")
                emit(f"        {var} = {self.const(inner.default())}")
                values[name] = _strip_expr(var, inner)
            elif isinstance(codec, UInt):
                seg.append((var, codec.code, codec.size))
                values[name] = var
            elif isinstance(codec, Octets):
                seg.append((var, codec.code, codec.size))
                values[name] = _strip_expr(var, codec)
            elif isinstance(codec, COctets):
                flush()
                c = self.const(codec, "_f")
                helper = "_ctime" if isinstance(codec, CTime) else "_cstring"
                emit(f"    {var}, off = {helper}(_layout, {name!r}, {c}, buf, off, end)")
                values[name] = var
            elif isinstance(codec, Repeated):
                cnt = f"n_{name}"
                seg.append((cnt, codec.count.code, codec.count.size))
                flush()
                w = codec.item.size
                strip = "" if isinstance(codec.item, Raw) else ".rstrip(_NUL)"
                emit(f"    need = {w} * {cnt}")
                emit(
                    f"    if end - off < need: _truncated(_layout, (({name!r}, need),), end - off)"
                )
                items = f"buf[i:i + {w}]{strip} for i in range(off, off + need, {w})"
                emit(f"    {var} = tuple([{items}])")
                emit("    off += need")
                values[name] = var
            elif isinstance(codec, Sized):
                ln = f"n_{name}"
                seg.append((ln, codec.length.code, codec.length.size))
                flush()
                emit(
                    f"    if end - off < {ln}: _truncated(_layout, (({name!r}, {ln}),), end - off)"
                )
                emit(f"    {var} = buf[off:off + {ln}]")
                emit(f"    off += {ln}")
                values[name] = var
            else:
                flush()
                c = self.const(codec, "_f")
                emit("    try:")
                emit(f"        {var}, off = {c}.decode_at(buf, off, end)")
                emit("    except DecodeError as e:")
                emit(f"        e.pdu = _layout.name; e.field = e.field or {name!r}")
                emit("        raise")
                values[name] = var
        flush()
        emit("    if off != end: _trailing(_layout, end - off)")
        emit(f"    return {self.construct(values)}")
        return "\n".join(lines) + "\n"

    # -- encoding -------------------------------------------------------

    def encoder_source(self) -> str:
        layout = self.layout
        hdr = layout.header
        lines = ["def encode(p, seq):", "  try:"]
        emit = lines.append
        args: list[str] = []
        dyn: list[str] = []
        if hdr is not None:
            args.extend(["total", str(layout.command_id), *self.header_exprs()])
        for name, codec in layout.fields:
            var = f"v_{name}"
            emit(f"    {var} = p.{name}")
            if isinstance(codec, Trailing):
                codec = codec.field
            if isinstance(codec, UInt):
                args.append(var)
            elif isinstance(codec, Octets):
                emit(f"    if len({var}) > {codec.size}: _encode_failed(_layout, p, None)")
                if type(codec) is ZeroPadded:
                    args.append(f"{var}.rjust({codec.size}, b'0')")
                else:
                    args.append(var)
            elif isinstance(codec, Repeated):
                w = codec.item.size
                pad = "rjust(%d, b'0')" if isinstance(codec.item, ZeroPadded) else "ljust(%d, _NUL)"
                pad = pad % w
                emit(f"    n_{name} = len({var})")
                emit(f"    if n_{name} > {codec.count.max_value}: _encode_failed(_layout, p, None)")
                emit(f"    if n_{name} == 1:")
                emit(f"      j_{name} = {var}[0]")
                emit(f"      if len(j_{name}) > {w}: _encode_failed(_layout, p, None)")
                if isinstance(codec.item, ZeroPadded):
                    emit(f"      j_{name} = j_{name}.{pad}")
                emit("    else:")
                emit(f"      for x in {var}:")
                emit(f"        if len(x) > {w}: _encode_failed(_layout, p, None)")
                emit(f"      j_{name} = b''.join([x.{pad} for x in {var}])")
                emit(f"    d_{name} = {w} * n_{name}")
                args.extend([f"n_{name}", f"j_{name}"])
                dyn.append(f"d_{name}")
            elif isinstance(codec, Sized):
                limit = codec.length.max_value
                emit(f"    d_{name} = len({var})")
                emit(f"    if d_{name} > {limit}: _encode_failed(_layout, p, None)")
                args.extend([f"d_{name}", var])
                dyn.append(f"d_{name}")
            else:
                c = self.const(codec, "_f")
                emit(f"    e_{name} = {c}.encode({var})")
        key = dyn[0] if len(dyn) == 1 else f"({', '.join(dyn)},)"
        if dyn:
            emit(f"    s = _shape.cache.get({key}) or _shape.make({key})")
        else:
            emit(f"    s = {self.const(self.ns['_shape'].make(()), '_s')}")
        tail = f" + len(e_{self.custom[0][0]})" if self.custom else ""
        if hdr is not None:
            emit(f"    total = s.size{tail}")
        packed = f"s.pack({', '.join(args)})"
        if self.custom:
            emit(f"    return {packed} + e_{self.custom[0][0]}")
        else:
            emit(f"    return {packed}")
        emit("  except (struct_error, TypeError, AttributeError, OverflowError, IndexError) as e:")
        emit("    _encode_failed(_layout, p, e)")
        emit("    raise")
        return "\n".join(lines) + "\n"

    def header_exprs(self) -> list[str]:
        """The expressions of the header fields after Command_Id."""
        hdr = self.layout.header
        assert hdr is not None
        return [f"p.{a}" for a in hdr.attributes] + list(hdr.sequence_exprs)

    def stepwise_encoder_source(self) -> str:
        """Field by field into a list of parts, for layouts no single struct describes."""
        layout = self.layout
        hdr = layout.header
        lines = ["def encode(p, seq):", "  try:", "    parts = []"]
        emit = lines.append
        fail = "_encode_failed(_layout, p, None)"
        for name, codec in layout.fields:
            var = f"v_{name}"
            emit(f"    {var} = p.{name}")
            if isinstance(codec, Trailing):
                codec = codec.field
            if isinstance(codec, UInt):
                st = self.const(struct.Struct(">" + codec.code), "_s")
                emit(f"    parts.append({st}.pack({var}))")
            elif isinstance(codec, Octets):
                emit(f"    if len({var}) > {codec.size}: {fail}")
                pad = "rjust({}, b'0')" if type(codec) is ZeroPadded else "ljust({}, _NUL)"
                emit(f"    parts.append({var}.{pad.format(codec.size)})")
            elif isinstance(codec, COctets):
                if isinstance(codec, CTime):
                    emit(f"    if len({var}) not in (0, {codec.max - 1}) or _NUL in {var}: {fail}")
                else:
                    emit(f"    if len({var}) >= {codec.max} or _NUL in {var}: {fail}")
                emit(f"    parts.append({var})")
                emit("    parts.append(_NUL)")
            elif isinstance(codec, Repeated):
                w = codec.item.size
                st = self.const(struct.Struct(">" + codec.count.code), "_s")
                pad = "rjust(%d, b'0')" if isinstance(codec.item, ZeroPadded) else "ljust(%d, _NUL)"
                emit(f"    if len({var}) > {codec.count.max_value}: {fail}")
                emit(f"    if any(len(x) > {w} for x in {var}): {fail}")
                emit(f"    parts.append({st}.pack(len({var})))")
                emit(f"    parts.append(b''.join([x.{pad % w} for x in {var}]))")
            elif isinstance(codec, Sized):
                st = self.const(struct.Struct(">" + codec.length.code), "_s")
                emit(f"    if len({var}) > {codec.length.max_value}: {fail}")
                emit(f"    parts.append({st}.pack(len({var})))")
                emit(f"    parts.append({var})")
            else:
                c = self.const(codec, "_f")
                emit(f"    parts.append({c}.encode({var}))")
        emit("    body = b''.join(parts)")
        if hdr is not None:
            hs = self.const(struct.Struct(">II" + hdr.code), "_s")
            exprs = ", ".join(self.header_exprs())
            cid = layout.command_id
            emit(f"    return {hs}.pack({hdr.size} + len(body), {cid}, {exprs}) + body")
        else:
            emit("    return body")
        emit("  except (struct_error, TypeError, AttributeError, OverflowError, IndexError) as e:")
        emit("    _encode_failed(_layout, p, e)")
        emit("    raise")
        return "\n".join(lines) + "\n"


class _Shape:
    """Structs for one layout, one per combination of variable-field sizes."""

    #: Distinct shapes kept per layout before the cache starts over.
    MAX_CACHED = 4096

    def __init__(self, layout: Layout[Any], *, header: bool) -> None:
        hdr = layout.header
        self.header_code = ("II" + hdr.code) if hdr and header else ""
        self.parts: list[str | None] = []
        for _, codec in layout.fields:
            if isinstance(codec, Trailing):
                codec = codec.field
            if isinstance(codec, UInt | Octets):
                self.parts.append(codec.code)
            elif isinstance(codec, Repeated):
                self.parts.extend([codec.count.code, None])
            elif isinstance(codec, Sized):
                self.parts.extend([codec.length.code, None])
        self.cache: dict[Any, struct.Struct] = {}

    def make(self, key: Any) -> struct.Struct:
        sizes = iter(key if isinstance(key, tuple) else (key,))
        fmt = ">" + self.header_code + "".join(p or f"{next(sizes)}s" for p in self.parts)
        if len(self.cache) >= self.MAX_CACHED:
            self.cache.clear()
        s = self.cache[key] = struct.Struct(fmt)
        return s


def _program(
    layout: Layout[T],
    module: Any = None,
    *,
    py_encode: Callable[[T, Any], bytes] | None = None,
    py_decode: Callable[[bytes, int, int], T] | None = None,
) -> Any:
    """The C program for *layout*, or ``None`` where it keeps the Python functions.

    The C code handles exactly the field codecs of this module (not
    subclasses, whose behaviour may differ; :class:`CTime` is one it knows),
    integer header sequence fields and one integer header attribute
    (SMPP's command_status), and plain slotted classes whose instances it can build by writing their
    slots, as :func:`_slot_builder` does.  Custom codecs stay in Python, but for
    a last one whose codec says ``absent_when_empty`` (SMGP's TLV list: a tuple,
    no bytes when empty): the C code takes a PDU whose value is ``()`` and a body
    that ends before the field, and hands any other to Python.

    :param module: the extension module; :mod:`smsgw.protocols._wire` when
        it is in use.  Tests pass it, and other fallbacks, explicitly.
    :param py_encode: what the program calls for anything it does not
        handle; the layout's own :attr:`Layout.py_encode` by default.
    :param py_decode: likewise, :attr:`Layout.py_decode` by default.
    """
    accel = module if module is not None else _accel
    if accel is None or not plain_slotted(layout.cls):
        return None
    hdr = layout.header
    if hdr is not None and layout.command_id is None:
        return None
    header = 0 if hdr is None else header_mode(hdr)
    if header is None:
        return None
    names = [a.name for a in attrs.fields(layout.cls)]
    index = {name: i for i, name in enumerate(names)}
    modes = {Octets: accel.MODE_STRIP, Raw: accel.MODE_RAW, ZeroPadded: accel.MODE_ZERO}
    ops = []
    last = layout.fields[-1][0] if layout.fields else None
    for name, codec in layout.fields:
        if name == last and getattr(codec, "absent_when_empty", False) is True:
            ops.append((accel.OP_EMPTY, index[name], 0, 0, 0))
            continue
        if type(codec) is Trailing:
            codec = codec.field  # the fast path sees it present; absent goes to Python
        if type(codec) is UInt and codec.size in (1, 2, 4, 8):
            ops.append((accel.OP_UINT, index[name], codec.size, int(codec.signed), 0))
        elif isinstance(codec, Octets) and type(codec) in modes:
            ops.append((accel.OP_OCTETS, index[name], codec.size, modes[type(codec)], 0))
        elif type(codec) is Repeated and type(codec.item) in modes and count_ok(codec.count):
            mode = modes[type(codec.item)]
            ops.append((accel.OP_REPEATED, index[name], codec.item.size, mode, codec.count.size))
        elif type(codec) is Sized and count_ok(codec.length):
            ops.append((accel.OP_SIZED, index[name], 0, 0, codec.length.size))
        elif type(codec) is COctets:
            ops.append((accel.OP_CSTRING, index[name], codec.max, accel.MODE_CSTR, 0))
        elif type(codec) is CTime and {0, codec.max - 1} <= set(codec.decode_lengths):
            # C takes the two spec widths; another one (12 characters) goes to Python.
            ops.append((accel.OP_CSTRING, index[name], codec.max, accel.MODE_TIME, 0))
        else:
            return None
    slots = []
    for name in names:
        owner = next((k for k in layout.cls.__mro__ if name in k.__dict__), None)
        descriptor = owner.__dict__[name] if owner is not None else None
        if type(descriptor) is not types.MemberDescriptorType:
            return None
        slots.append(descriptor)
    defaults = tuple(a.default for a in attrs.fields(layout.cls))
    extra = {"header_attr": index[hdr.attributes[0]]} if header == 2 and hdr else {}
    try:
        return accel.Program(
            layout.cls,
            tuple(slots),
            defaults,
            tuple(ops),
            header,
            layout.command_id or 0,
            py_encode or layout.py_encode,
            py_decode or layout.py_decode,
            **extra,
        )
    except (TypeError, ValueError):  # a shape the C code refuses (e.g. too many fields)
        return None


def accelerate_codec(
    header: HeaderSpec,
    header_type: type,
    programs: Sequence[Any],
    max_length: int,
    py_encode: Callable[[Any, Any], bytes],
    py_decode: Callable[[bytes], Any],
    module: Any = None,
) -> Any:
    """A C object whose ``encode`` and ``decode`` stand in for a protocol codec's.

    It parses the header and dispatches to *programs* (the
    :attr:`Layout.program` of the codec's accelerated layouts) itself, and
    calls *py_encode* or *py_decode* (the codec's Python methods) for
    anything else: other PDUs, bad headers, frames or values the programs do
    not take, frames over *max_length*.  ``None`` when the accelerator is
    off or *header* is not of a shape it knows.

    :param header_type: the class of the decoded header, a ``NamedTuple``.
    :param module: as for :func:`_program`.
    """
    accel = module if module is not None else _accel
    mode = header_mode(header)
    if accel is None or mode is None:
        return None
    try:
        return accel.Codec(mode, header_type, tuple(programs), max_length, py_encode, py_decode)
    except (TypeError, ValueError):  # e.g. a header type that is not a plain tuple
        return None


def _slot_builder(cls: type) -> Callable[..., Any]:
    """A function ``(field values in order) -> instance`` that skips ``__init__``."""
    names = [a.name for a in attrs.fields(cls)]
    lines = [f"def build({', '.join(names)}):", "    o = _new(_cls)"]
    lines += [f"    o.{n} = {n}" for n in names]
    lines.append("    return o")
    ns: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    exec(compile("\n".join(lines), f"<smsgw builder {cls.__name__}>", "exec"), ns)
    build: Callable[..., Any] = ns["build"]
    return build


def _strip_expr(var: str, codec: UInt | Octets) -> str:
    if isinstance(codec, Octets) and not isinstance(codec, Raw):
        return f"{var}.rstrip(_NUL)"
    return var


def _spans(seg: list[tuple[str, str, int]]) -> tuple[tuple[str, int], ...]:
    """``(field name, end offset within the segment)`` for truncation messages."""
    out = []
    end = 0
    for var, _, size in seg:
        end += size
        name = var[2:]  # strip "v_" / "n_"
        out.append((name, end))
    return tuple(out)


def _encode_failed(layout: Layout[Any], value: object, cause: BaseException | None) -> None:
    """Raise an :class:`EncodeError` naming the field that cannot be encoded."""
    if not isinstance(value, layout.cls):
        raise EncodeError(
            f"expected {layout.cls.__name__}, got {type(value).__name__}", pdu=layout.name
        )
    layout.check(value)
    raise EncodeError(f"cannot encode: {cause}", pdu=layout.name) from cause
