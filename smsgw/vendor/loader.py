"""Load vendor description files: parse with a hardened lxml parser, validate
against the shipped ``vendor.xsd``, check what the schema cannot, build the model.

Local files only; answers from the network are parsed with defusedxml in
:mod:`smsgw.vendor.codec`.  Every refusal is a :class:`VendorFileError` naming
the file, the line and the element.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree  # type: ignore[import-untyped]

from smsgw.vendor.description import (
    CODECS,
    AnswerFormat,
    AnswerSpec,
    Body,
    Code,
    Description,
    Encoding,
    Field,
    Inbound,
    Kind,
    Limits,
    Operation,
    Outcome,
    Param,
    PasswordForm,
    Records,
    Role,
    Situation,
    Transfer,
)

__all__ = [
    "VendorFileError",
    "builtin_dir",
    "find_vendor",
    "java_time_format",
    "load_dir",
    "load_dirs",
    "load_file",
    "load_string",
]


class VendorFileError(ValueError):
    """A vendor file that cannot be used.

    :ivar path: the file.
    :ivar line: the line of the offending element (0 when unknown).
    :ivar element: the element's name ("" when unknown).
    """

    def __init__(self, path: str, line: int, element: str, message: str) -> None:
        self.path = path
        self.line = line
        self.element = element
        self.message = message
        where = f"<{element}>" if element else "document"
        super().__init__(f"{path}:{line}: {where}: {message}")


def builtin_dir() -> Path:
    """The folder of the vendor files shipped in the package."""
    return Path(str(resources.files("smsgw.vendor") / "files"))


_SCHEMA: etree.XMLSchema | None = None


def _schema() -> etree.XMLSchema:
    global _SCHEMA
    if _SCHEMA is None:
        text = (resources.files("smsgw.vendor") / "vendor.xsd").read_bytes()
        _SCHEMA = etree.XMLSchema(etree.fromstring(text, _parser()))
    return _SCHEMA


def _parser() -> etree.XMLParser:
    # No DTDs, no entities, no network, no huge trees: a vendor file is
    # configuration, but it may come from a drop-in folder.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


_JAVA_TOKENS = re.compile(r"yyyy|yy|MM|dd|HH|mm|ss|SSS|[A-Za-z]")
_JAVA_MAP = {"yyyy": "%Y", "yy": "%y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}


def java_time_format(pattern: str) -> str:
    """A vendor document's ``yyyyMMddHHmmss``-style pattern as a strftime format.

    :raises ValueError: for a letter that is not one of yyyy yy MM dd HH mm ss.
    """
    out: list[str] = []
    pos = 0
    for match in _JAVA_TOKENS.finditer(pattern):
        out.append(pattern[pos : match.start()].replace("%", "%%"))
        token = match.group()
        if token not in _JAVA_MAP:
            raise ValueError(f"unknown time pattern letter {token!r} in {pattern!r}")
        out.append(_JAVA_MAP[token])
        pos = match.end()
    out.append(pattern[pos:].replace("%", "%%"))
    return "".join(out)


_OFFSET = re.compile(r"([+-])(\d\d):(\d\d)")


def _element_of(message: str) -> str:
    for pattern in (r"Element '([^']+)'", r"tag mismatch: (\S+)", r"element (\S+)"):
        match = re.search(pattern, message)
        if match:
            return match.group(1).split("}")[-1]
    return ""


class _Builder:
    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, node: etree._Element, message: str) -> VendorFileError:
        return VendorFileError(self.path, node.sourceline or 0, str(node.tag), message)

    def time_format(self, node: etree._Element, attr: str = "format") -> str | None:
        pattern = node.get(attr)
        if pattern is None:
            return None
        try:
            return java_time_format(pattern)
        except ValueError as e:
            raise self.fail(node, str(e)) from None

    def codes(self, node: etree._Element | None) -> tuple[Code, ...]:
        if node is None:
            return ()
        out = []
        for code in node.iterfind("code"):
            sim = code.get("sim")
            out.append(
                Code(
                    value=code.get("value", ""),
                    outcome=Outcome(code.get("outcome")),
                    text=(code.text or "").strip(),
                    detail=code.get("detail"),
                    sim=Situation(sim) if sim else None,
                )
            )
        return tuple(out)

    def operation(self, node: etree._Element) -> Operation:
        params = []
        for p in node.iterfind("param"):
            role = p.get("role")
            if (role is None) == (p.get("value") is None):
                raise self.fail(p, f"param {p.get('name')!r} needs exactly one of role= or value=")
            params.append(
                Param(
                    name=p.get("name", ""),
                    role=Role(role) if role else None,
                    value=p.get("value"),
                    optional=p.get("optional") in ("true", "1"),
                    true_value=p.get("true", "1"),
                    false_value=p.get("false", "0"),
                    time_format=self.time_format(p),
                )
            )
        names = [p.name for p in params]
        for p_node, name in zip(node.iterfind("param"), names, strict=True):
            if names.count(name) > 1:
                raise self.fail(p_node, f"param {name!r} appears twice")
        answer = node.find("answer")
        assert answer is not None  # the schema requires it
        spec = AnswerSpec(
            format=AnswerFormat(answer.get("format")),
            code=answer.get("code", "r"),
            id=answer.get("id", "id"),
            default_code=answer.get("default-code"),
            separator=answer.get("separator", ","),
            code_index=int(answer.get("code-index", "0")),
            returns_id=answer.get("returns-id", "true") in ("true", "1"),
        )
        records_node = node.find("records")
        records = None
        if records_node is not None:
            records = Records(
                record=records_node.get("record", ""),
                separator=records_node.get("separator", ""),
                value_separator=records_node.get("value-separator", ","),
            )
        kind = Kind(node.get("kind"))
        roles = {p.role for p in params}
        needed = {
            Kind.SEND: {Role.MOBILES, Role.CONTENT},
            Kind.SEND_BATCH: {Role.RECORDS},
            Kind.SEND_TEMPLATE: {Role.RECORDS, Role.CONTENT},
            Kind.BALANCE: set(),
            Kind.PULL: set(),
        }[kind]
        missing = needed - roles
        if missing:
            wanted = ", ".join(sorted(r.value for r in missing))
            raise self.fail(node, f"a {kind.value} operation needs params with role {wanted}")
        if kind in (Kind.SEND_BATCH, Kind.SEND_TEMPLATE) and records is None:
            raise self.fail(node, f"a {kind.value} operation needs a <records> element")
        body = Body(node.get("body", "query"))
        method = node.get("method", "GET")
        if body is not Body.QUERY and method == "GET":
            raise self.fail(node, f"body {body.value} needs method POST")
        return Operation(
            name=node.get("name", ""),
            kind=kind,
            path=node.get("path", ""),
            method=method,
            body=body,
            params=tuple(params),
            answer=spec,
            codes=self.codes(node.find("codes")),
            records=records,
            max_numbers=int(node.get("max-numbers", "1")),
            separator=node.get("separator", ","),
            xml_root=node.get("xml-root", "request"),
            line=node.sourceline or 0,
        )

    def inbound(self, node: etree._Element | None, ops: dict[str, Operation]) -> Inbound | None:
        if node is None:
            return None
        fields = tuple(
            Field(role=f.get("role", ""), name=f.get("name", ""), time_format=self.time_format(f))
            for f in node.iterfind("field")
        )
        pull = node.get("pull")
        if pull is not None and (pull not in ops or ops[pull].kind is not Kind.PULL):
            raise self.fail(node, f"pull={pull!r} names no pull operation")
        push = node.get("push") in ("true", "1")
        if not push and pull is None:
            raise self.fail(node, 'needs push="true" or pull=')
        return Inbound(
            fields=fields,
            push=push,
            pull=pull,
            kind_value=node.get("kind-value"),
            delivered=frozenset(v for v in node.get("delivered", "DELIVRD").split(",") if v)
            or frozenset({"DELIVRD"}),
            failed=node.get("failed"),
            content_transfer=Transfer(node.get("content-transfer", "url-utf8")),
            push_answer=node.get("push-answer", "ok"),
        )

    def description(self, root: etree._Element) -> Description:
        ops: dict[str, Operation] = {}
        kinds: dict[Kind, Operation] = {}
        for node in root.iterfind("operation"):
            op = self.operation(node)
            if op.name in ops:
                raise self.fail(node, f"operation {op.name!r} is defined twice")
            if op.kind in kinds:
                raise self.fail(
                    node, f"a second {op.kind.value} operation (first: {kinds[op.kind].name!r})"
                )
            ops[op.name] = op
            kinds[op.kind] = op
        enc_node = root.find("encoding")
        assert enc_node is not None
        encoding = Encoding(
            transfer=Transfer(enc_node.get("transfer")),
            codec=CODECS[enc_node.get("codec", "utf-8")],
            transfers=tuple(
                (t.get("value", ""), Transfer(t.get("form"))) for t in enc_node.iterfind("transfer")
            ),
            charsets=tuple(
                (c.get("value", ""), CODECS[c.get("codec", "utf-8")])
                for c in enc_node.iterfind("charset")
            ),
        )
        for op in ops.values():
            if op.param(Role.TRANSFER) is not None:
                try:
                    encoding.transfer_value(encoding.transfer)
                except KeyError:
                    raise self.fail(
                        enc_node, "no <transfer> value names the transfer form"
                    ) from None
            if op.param(Role.CHARSET) is not None and not encoding.charsets:
                raise self.fail(enc_node, "a charset param needs <charset> values")
        limits_node = root.find("limits")
        limits = Limits()
        if limits_node is not None:
            tps = limits_node.get("tps")
            limits = Limits(
                tps=int(tps) if tps else None,
                count=limits_node.get("count", "requests"),
                concurrency=int(limits_node.get("concurrency", "5")),
                part_length=int(limits_node.get("part-length", "70")),
                long_part_length=int(limits_node.get("long-part-length", "67")),
            )
        match = root.find("match")
        offset = root.get("timezone", "+08:00")
        parsed = _OFFSET.fullmatch(offset)
        if parsed is None:
            raise self.fail(root, f"timezone {offset!r} is not ±HH:MM")
        sign = -1 if parsed.group(1) == "-" else 1
        utc_offset_s = sign * (int(parsed.group(2)) * 3600 + int(parsed.group(3)) * 60)
        password = root.find("password")
        title = root.find("title")
        assert password is not None and title is not None
        form = PasswordForm(password.get("form"))
        if form is PasswordForm.MD5_TS_BASE64:
            for op in ops.values():
                if op.param(Role.TIMESTAMP) is None:
                    raise self.fail(
                        password, f"md5-ts-base64 needs a timestamp param in {op.name!r}"
                    )
        return Description(
            name=root.get("name", ""),
            title=(title.text or "").strip(),
            password=form,
            encoding=encoding,
            operations=tuple(ops.values()),
            codes=self.codes(root.find("codes")),
            limits=limits,
            reports=self.inbound(root.find("reports"), ops),
            mos=self.inbound(root.find("mos"), ops),
            match_host=match.get("host") if match is not None else None,
            match_path=match.get("path") if match is not None else None,
            utc_offset_s=utc_offset_s,
            source=self.path,
        )


def find_vendor(descriptions: Iterable[Description], url: str) -> Description | None:
    """The vendor a URL belongs to, by the files' ``<match host= path=>``
    ("厂商动态识别", seed 000).

    A declared path matches when it begins or ends the URL's path
    (``https://api.1680.me/sendXSms.do``, or a simulator's
    ``http://127.0.0.1:8088/kx1680/sendXSms.do``); a declared host when it
    equals the URL's host or is a parent domain of it.  A host match counts
    more than a path match, and a vendor whose declared host differs is
    still found by its path.  The best score wins; a tie, or no match at
    all, is ``None``.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    scored: list[tuple[int, Description]] = []
    for desc in descriptions:
        score = 0
        if desc.match_host is not None:
            want = desc.match_host.lower()
            if host == want or host.endswith("." + want):
                score += 2
        if desc.match_path is not None and (
            parts.path.startswith(desc.match_path) or parts.path.endswith(desc.match_path)
        ):
            score += 1
        if score:
            scored.append((score, desc))
    scored.sort(key=lambda item: -item[0])
    if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
        return None
    return scored[0][1]


def load_string(data: bytes, path: str = "<string>") -> Description:
    """Parse, validate and build one description from the bytes of a file.

    :param path: the name used in errors.
    :raises VendorFileError: naming *path*, the line and the element.
    """
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as e:
        line = e.lineno or 0
        raise VendorFileError(path, line, _element_of(str(e.msg)), f"not XML: {e.msg}") from None
    if root.getroottree().docinfo.doctype:
        raise VendorFileError(path, 1, "", "a DOCTYPE is not allowed in a vendor file")
    schema = _schema()
    try:
        valid = schema.validate(root)
    except etree.XMLSchemaValidateError as e:
        raise VendorFileError(path, root.sourceline or 0, str(root.tag), str(e)) from None
    if not valid:
        entry = schema.error_log[0]
        element = _element_of(entry.message)
        if not element and entry.path:
            found = root.getroottree().xpath(entry.path)
            element = str(found[0].tag) if found else ""
        raise VendorFileError(path, entry.line, element, entry.message)
    return _Builder(path).description(root)


def load_file(path: Path) -> Description:
    """Load one vendor file.

    :raises VendorFileError: for a file that cannot be read or used.
    """
    try:
        data = path.read_bytes()
    except OSError as e:
        raise VendorFileError(str(path), 0, "", f"cannot read: {e.strerror}") from None
    return load_string(data, str(path))


def load_dir(folder: Path) -> dict[str, Description]:
    """Every ``*.xml`` file in *folder*, by vendor name.

    :raises VendorFileError: for a broken file, or two files naming one vendor.
    """
    return load_dirs([folder])


def load_dirs(folders: Iterable[Path]) -> dict[str, Description]:
    """Every ``*.xml`` file in *folders*, by vendor name; a later folder may not
    redefine a vendor an earlier one defines.

    :raises VendorFileError: for a broken file, or two files naming one vendor.
    """
    out: dict[str, Description] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.xml")):
            desc = load_file(path)
            if desc.name in out:
                raise VendorFileError(
                    str(path),
                    1,
                    "vendor",
                    f"vendor {desc.name!r} is also defined in {out[desc.name].source}",
                )
            out[desc.name] = desc
    return out
