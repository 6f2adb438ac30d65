"""JSON resources on plain :mod:`twisted.web`.

Subclass :class:`JsonResource` and define ``json_GET``, ``json_POST``,
``json_PUT``, ``json_DELETE`` (any ``json_<METHOD>``).  A handler returns a
JSON-able value (answered with 200), a ``(status, value)`` pair, or a
:class:`~twisted.internet.defer.Deferred` or coroutine (``async def``) giving
either; it raises :class:`JsonError` for a 4xx answer.  Errors are always
``{"error": CODE, "message": "…", "field": NAME | null}``.

The helpers :func:`read_json`, :func:`require_field`,
:func:`reject_unknown_fields`, :func:`query_arg` and :func:`query_int` raise
:class:`JsonError` with a 4xx status naming the bad field.
"""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Coroutine, Iterable, Mapping
from typing import Any, Literal, NoReturn, TypeVar, overload

from twisted.internet.defer import CancelledError, Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

__all__ = [
    "MAX_BODY_BYTES",
    "JsonError",
    "JsonResource",
    "JsonText",
    "NotFoundResource",
    "query_arg",
    "query_int",
    "read_json",
    "reject_unknown_fields",
    "require_field",
    "require_object",
    "write_json",
]

T = TypeVar("T")

MAX_BODY_BYTES = 1 << 20
"""Largest request body :func:`read_json` accepts by default (1 MiB)."""

MAX_DEPTH = 32
"""Deepest nesting of arrays and objects :func:`read_json` accepts."""

CONTENT_TYPE = b"application/json; charset=utf-8"

_TYPE_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    dict: "an object",
    list: "an array",
}


class JsonError(Exception):
    """An error answered as JSON ``{"error": code, "message": …, "field": …}``.

    :ivar status: the HTTP status, usually 4xx.
    :ivar code: a stable machine-readable code such as ``bad_json``.
    :ivar message: a human-readable explanation, sent to the client.
    :ivar field: the name of the bad field, or ``None``.
    """

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(status, code, message, field)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:
        where = f" ({self.field})" if self.field is not None else ""
        return f"{self.status} {self.code}{where}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        """The response body."""
        return {"error": self.code, "message": self.message, "field": self.field}


def _media_type(header: bytes) -> tuple[str, dict[str, str]]:
    """A Content-Type's lower-case media type and its parameters."""
    media, *params = header.decode("latin-1").split(";")
    parameters = {}
    for param in params:
        name, _, value = param.partition("=")
        parameters[name.strip().lower()] = value.strip().strip('"')
    return media.strip().lower(), parameters


def _is_json_media(media: str) -> bool:
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    """A JSON number as a float; ``1e400`` (infinity in Python) is refused."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


#: The request bodies' decoder: NaN and Infinity refused, ``1e400`` too.  One for all
#: (``json.loads`` with these arguments would build a decoder per request).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_parsed(value: object, max_depth: int) -> None:
    """Refuse nesting deeper than *max_depth* and strings with lone surrogates.

    ``"\\ud800"`` is valid JSON but no text: it could not be stored, logged
    or answered in UTF-8 later.  The walk is iterative, so it costs no stack.

    :raises JsonError: 400 ``bad_json``.
    """
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[object]
        if isinstance(item, dict):
            children = [*item.keys(), *item.values()]
        elif isinstance(item, list):
            children = item
        else:
            if isinstance(item, str) and not item.isascii() and not _is_utf8(item):
                raise JsonError(
                    400, "bad_json", "a string holds a lone surrogate (\\ud800-\\udfff escape)"
                )
            continue
        if depth > max_depth:
            raise JsonError(400, "bad_json", f"nested deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in children)


def read_json(
    request: Request, *, max_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_DEPTH
) -> Any:
    """The request body parsed as UTF-8 JSON.

    Whatever the body, the answer is the value or a :class:`JsonError`, never
    another exception: the API answers 4xx to any bytes a client sends.

    :param max_bytes: the largest body accepted.
    :param max_depth: the deepest nesting of arrays and objects accepted.
    :raises JsonError: 415 ``unsupported_media_type`` when a Content-Type is
        given and is not JSON (or names a charset other than UTF-8); 413
        ``too_large`` above *max_bytes*; 400 ``bad_json`` for an empty body,
        bytes that are not UTF-8, text that is not JSON (``NaN`` included),
        numbers out of range (``1e400``, integers of more than 4300 digits),
        nesting deeper than *max_depth*, or strings with lone surrogates.
    """
    header = request.getHeader(b"content-type")
    if header is not None:
        media, params = _media_type(header)
        charset = params.get("charset", "utf-8").lower()
        if not _is_json_media(media) or charset not in ("utf-8", "utf8"):
            raise JsonError(
                415, "unsupported_media_type", "expected Content-Type: application/json"
            )
    content = request.content
    if content is None:
        body = b""
    else:
        content.seek(0)
        body = content.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise JsonError(413, "too_large", f"the request body is larger than {max_bytes} bytes")
    if not body.strip():
        raise JsonError(400, "bad_json", "the request body is empty")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonError(400, "bad_json", "the request body is not UTF-8") from None
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        # The decoder recurses per level: thousands of "[" exhaust the stack.
        raise JsonError(400, "bad_json", f"nested deeper than {max_depth} levels") from None
    except ValueError as error:
        # json.JSONDecodeError says where, never what: no content is echoed.
        raise JsonError(400, "bad_json", f"invalid JSON: {error}") from None
    _check_parsed(value, max_depth)
    return value


class JsonText(bytes):
    """A body already encoded as UTF-8 JSON: :func:`write_json` answers it as it is."""


def write_json(request: Request, status: int, body: object) -> bytes:
    """Set *status* and the JSON Content-Type on *request*; return *body* encoded.

    The body is UTF-8 JSON with non-ASCII text kept as is (a :class:`JsonText`
    is taken as encoded already).  A 204 answer has no body and no Content-Type.

    :raises ValueError: for a status outside 100..599 or a body that is not
        JSON-able (``NaN`` included); nothing is set then.
    :raises TypeError: for a body that is not JSON-able.
    """
    if not 100 <= status <= 599:
        raise ValueError(f"bad HTTP status {status!r}")
    if status == 204:
        request.setResponseCode(status)
        return b""
    if isinstance(body, JsonText):
        encoded = bytes(body)
    else:
        encoded = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
    request.setResponseCode(status)
    request.setHeader(b"content-type", CONTENT_TYPE)
    return encoded


def require_object(value: object) -> dict[str, Any]:
    """*value* if it is a JSON object (a dict).

    :raises JsonError: 400 ``bad_json`` otherwise.
    """
    if not isinstance(value, dict):
        raise JsonError(400, "bad_json", "expected a JSON object")
    return value


def _type_name(type_: type) -> str:
    return _TYPE_NAMES.get(type_, type_.__name__)


@overload
def require_field(
    obj: object, name: str, type_: type[T], *, optional: Literal[False] = False
) -> T: ...


@overload
def require_field(
    obj: object, name: str, type_: type[T], *, optional: Literal[True]
) -> T | None: ...


@overload
def require_field(obj: object, name: str, type_: type[T], *, optional: bool) -> T | None: ...


def require_field(obj: object, name: str, type_: type[T], *, optional: bool = False) -> T | None:
    """The value of *obj*'s field *name*, checked to be a *type_*.

    Booleans are not integers or numbers here; an integer is accepted (and
    returned as a float) where a ``float`` is wanted.

    :param obj: a parsed JSON object; anything else is a 400 ``bad_json``.
    :param optional: when true a missing field or ``null`` gives ``None``.
    :raises JsonError: 400 ``bad_field`` naming the field when it is missing
        (and not *optional*) or has another type.
    """
    mapping = require_object(obj)
    value = mapping.get(name)
    if value is None:
        if optional:
            return None
        raise JsonError(
            400, "bad_field", f"{name!r} is required: expected {_type_name(type_)}", field=name
        )
    if type_ is float and isinstance(value, int) and not isinstance(value, bool):
        # T is float here, which mypy cannot infer from the ``type_ is float`` test.
        return float(value)  # type: ignore[return-value]
    if isinstance(value, type_) and not (isinstance(value, bool) and type_ is not bool):
        return value
    raise JsonError(400, "bad_field", f"{name!r}: expected {_type_name(type_)}", field=name)


def reject_unknown_fields(obj: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Refuse fields of *obj* not in *allowed*.

    :raises JsonError: 400 ``unknown_field`` naming the first unknown field.
    """
    allowed = tuple(allowed)
    for key in obj:
        if key not in allowed:
            raise JsonError(
                400,
                "unknown_field",
                f"unknown field {key!r} (allowed: {', '.join(allowed)})",
                field=str(key),
            )


def query_arg(request: Request, name: str) -> str | None:
    """The query-string argument *name*, or ``None`` when it is absent.

    :raises JsonError: 400 ``bad_field`` naming it when it is given more than
        once or is not UTF-8.
    """
    values = (request.args or {}).get(name.encode("ascii"), [])
    if not values:
        return None
    if len(values) > 1:
        raise JsonError(400, "bad_field", f"{name!r} is given more than once", field=name)
    value: bytes = values[0]
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonError(400, "bad_field", f"{name!r} is not UTF-8", field=name) from None


def query_int(request: Request, name: str, *, default: int, minimum: int, maximum: int) -> int:
    """The query-string argument *name* as an integer in ``minimum..maximum``.

    :param default: the value when the argument is absent or empty.
    :raises JsonError: 400 ``bad_field`` naming it otherwise.
    """
    text = query_arg(request, name)
    if text is None or text == "":
        return default
    expected = f"{name!r}: expected an integer from {minimum} to {maximum}"
    if not (text.isascii() and text.isdigit()):
        raise JsonError(400, "bad_field", expected, field=name)
    value = int(text)
    if not minimum <= value <= maximum:
        raise JsonError(400, "bad_field", expected, field=name)
    return value


def _split_result(result: object) -> tuple[int, object]:
    """``(status, value)`` from a handler's result."""
    if (
        isinstance(result, tuple)
        and len(result) == 2
        and isinstance(result[0], int)
        and not isinstance(result[0], bool)
    ):
        return result[0], result[1]
    return 200, result


class JsonResource(Resource):
    """A resource answering JSON through ``json_<METHOD>(request)`` handlers.

    ``HEAD`` runs ``json_GET`` (Twisted sends no body).  A method without a
    handler is a 405 with an ``Allow`` header; a resource with no handlers at
    all (a directory such as ``/v1``) and unknown children are 404s.
    Unexpected exceptions are logged and answered 500 ``internal`` without
    details.  When the client goes away before an asynchronous handler is
    done, the handler's Deferred is cancelled.

    Return lists rather than tuples for JSON arrays: a 2-tuple starting with an
    integer is taken as ``(status, value)``.
    """

    log = Logger()

    def getChild(self, path: bytes, request: Request) -> Resource:
        """Unknown children are JSON 404s."""
        return NotFoundResource()

    def allowed_methods(self) -> list[str]:
        """The methods this resource has handlers for, sorted (``HEAD`` with ``GET``)."""
        return list(_handled_methods(type(self)))

    def render(self, request: Request) -> bytes | int:
        """Dispatch to the ``json_<METHOD>`` handler and answer JSON."""
        method = (request.method or b"").decode("latin-1")
        allowed = self.allowed_methods()
        if not allowed:
            return self._write_error(request, _not_found())
        if method not in allowed:
            request.setHeader(b"allow", ", ".join(allowed).encode("ascii"))
            return self._write_error(
                request,
                JsonError(405, "method_not_allowed", f"allowed: {', '.join(allowed)}"),
            )
        handler = getattr(self, "json_" + ("GET" if method == "HEAD" else method))
        try:
            result = handler(request)
        except JsonError as error:
            return self._write_error(request, error)
        except Exception:
            return self._write_internal(request, Failure())
        if isinstance(result, Coroutine):
            result = Deferred.fromCoroutine(result)
        if not isinstance(result, Deferred):
            return self._write_result(request, result)
        self._answer_later(request, result)
        return NOT_DONE_YET

    def _answer_later(self, request: Request, deferred: Deferred[object]) -> None:
        client_gone = False

        def gone(reason: Failure) -> None:
            nonlocal client_gone
            client_gone = True
            method, path = _where(request)
            self.log.debug("Client went away: {method} {path}", method=method, path=path)
            deferred.cancel()

        def answer(result: object) -> None:
            if not client_gone:
                request.write(self._write_result(request, result))
                request.finish()

        def failed(reason: Failure) -> None:
            if client_gone and reason.check(CancelledError):
                return
            if isinstance(reason.value, JsonError):
                body = self._write_error(request, reason.value)
            else:
                body = self._write_internal(request, reason)
            if not client_gone:
                request.write(body)
                request.finish()

        request.notifyFinish().addErrback(gone)
        deferred.addCallbacks(answer, failed)

    def _write_result(self, request: Request, result: object) -> bytes:
        try:
            status, value = _split_result(result)
            return write_json(request, status, value)
        except Exception:
            return self._write_internal(request, Failure())

    def _write_error(self, request: Request, error: JsonError) -> bytes:
        return write_json(request, error.status, error.to_json())

    def _write_internal(self, request: Request, failure: Failure) -> bytes:
        # The path only: a query string may carry phone numbers.
        method, path = _where(request)
        self.log.failure(
            "Unhandled error answering {method} {path}", failure, method=method, path=path
        )
        error = JsonError(500, "internal", "internal server error")
        return write_json(request, error.status, error.to_json())


#: Each JsonResource class's handled methods (see :func:`_handled_methods`).
_METHODS: dict[type, tuple[str, ...]] = {}


def _handled_methods(cls: type[JsonResource]) -> tuple[str, ...]:
    """The methods *cls* has ``json_<METHOD>`` handlers for, sorted (``HEAD`` with ``GET``).

    Per class, once: a ``dir()`` on every request costs more than the rest of the dispatch.
    """
    known = _METHODS.get(cls)
    if known is not None:
        return known
    methods = {
        name[len("json_") :]
        for name in dir(cls)
        if name.startswith("json_") and name[len("json_") :].isupper()
    }
    if "GET" in methods:
        methods.add("HEAD")
    known = _METHODS[cls] = tuple(sorted(methods))
    return known


def _where(request: Request) -> tuple[str, str]:
    """The request's method and path, for logs (no query string)."""
    return (request.method or b"").decode("latin-1"), (request.path or b"").decode("latin-1")


def _not_found() -> JsonError:
    return JsonError(404, "not_found", "no such resource")


class NotFoundResource(JsonResource):
    """A JSON 404 for every method."""

    isLeaf = True

    def render(self, request: Request) -> bytes:
        """Answer 404 ``not_found``."""
        return self._write_error(request, _not_found())


def access_log_line(timestamp: str, request: Request) -> str:
    """An access-log line without the query string, which may carry phone numbers.

    For ``Site(..., logFormatter=access_log_line)``: the combined log format
    of :func:`twisted.web.http.combinedLogFormatter`, less the query and the
    referrer (never log message bodies, mask numbers), and with a vendor
    channel's push token in ``/push/CHANNEL/TOKEN/…`` replaced by ``***``.
    """
    client = request.getClientAddress()
    host = getattr(client, "host", "-")
    method = (request.method or b"-").decode("latin-1")
    path = (request.path or b"-").decode("latin-1")
    parts = path.split("/")
    if len(parts) == 5 and parts[1] == "push":
        parts[3] = "***"  # /push/CHANNEL/TOKEN/report: a vendor channel's push_token
        path = "/".join(parts)
    protocol = (request.clientproto or b"-").decode("latin-1")
    length = request.sentLength or "-"
    agent = (request.getHeader(b"user-agent") or b"-").decode("latin-1").replace('"', "'")
    return (
        f'"{host}" - - {timestamp} "{method} {path} {protocol}" {request.code} {length} "{agent}"'
    )


class BearerAuthenticated(Resource):
    """Require ``Authorization: Bearer KEY`` (one of *keys*) below, but for *open_paths*.

    The SP API (its API keys) and the simulator's control API (its
    ``control_token``) use it.  Keys are compared in constant time and never
    logged.
    """

    def __init__(
        self, inner: Resource, keys: Iterable[bytes], open_paths: Iterable[bytes] = ()
    ) -> None:
        super().__init__()
        self.inner = inner
        self.keys = list(keys)
        self.open_paths = frozenset(open_paths)

    def getChildWithDefault(self, path: bytes, request: Request) -> Resource:
        if path in self.open_paths or self._allowed(request):
            child: Resource = self.inner.getChildWithDefault(path, request)
            return child
        return _Unauthorized()

    def render(self, request: Request) -> bytes:
        return _Unauthorized().render(request)

    def _allowed(self, request: Request) -> bool:
        header = request.getHeader(b"authorization") or b""
        scheme, _, token = header.partition(b" ")
        if scheme.lower() != b"bearer" or not token:
            return False
        ok = False
        for key in self.keys:
            ok |= hmac.compare_digest(key, token.strip())
        return ok


class _Unauthorized(JsonResource):
    isLeaf = True

    def render(self, request: Request) -> bytes:
        request.setHeader(b"www-authenticate", b'Bearer realm="smsgw"')
        return self._write_error(
            request, JsonError(401, "unauthorized", "a valid 'Authorization: Bearer' is required")
        )
