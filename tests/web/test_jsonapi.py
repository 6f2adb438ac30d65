"""Tests for :mod:`smsgw.web.jsonapi`."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, fail, succeed
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.server import Request

from smsgw.web.jsonapi import (
    MAX_DEPTH,
    JsonError,
    JsonResource,
    query_arg,
    query_int,
    read_json,
    reject_unknown_fields,
    require_field,
    write_json,
)
from tests.web import StubJsonClient


class _Echo(JsonResource):
    """Answers the parsed body, with a small limit for size tests."""

    def json_POST(self, request: Request) -> Any:
        return {"got": read_json(request, max_bytes=64)}


class _BigEcho(JsonResource):
    """Answers the parsed body, with the default size limit."""

    def json_POST(self, request: Request) -> Any:
        return {"got": read_json(request)}


class _Query(JsonResource):
    """Answers its query arguments."""

    def json_GET(self, request: Request) -> Any:
        return {
            "name": query_arg(request, "name"),
            "limit": query_int(request, "limit", default=10, minimum=1, maximum=100),
        }


class _Results(JsonResource):
    """One handler per way of answering."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: Deferred[Any] = Deferred(self._cancelled)
        self.cancelled = False
        self.result: Any = {"text": "短信"}

    def _cancelled(self, deferred: Deferred[Any]) -> None:
        self.cancelled = True

    def json_GET(self, request: Request) -> Any:
        return self.result

    def json_PUT(self, request: Request) -> Any:
        return succeed((201, {"deferred": True}))

    async def json_POST(self, request: Request) -> Any:
        value = await self.pending
        return 202, value

    def json_DELETE(self, request: Request) -> Any:
        return 204, None


class _Errors(JsonResource):
    """Handlers that fail in every way."""

    def json_GET(self, request: Request) -> Any:
        raise JsonError(409, "conflict", "already there", field="name")

    def json_PUT(self, request: Request) -> Any:
        raise ZeroDivisionError("secret detail")

    async def json_POST(self, request: Request) -> Any:
        raise JsonError(422, "late", "failed later")

    def json_DELETE(self, request: Request) -> Any:
        return fail(ZeroDivisionError("secret detail"))

    def json_PATCH(self, request: Request) -> Any:
        return {"not json": object()}


def _root() -> tuple[JsonResource, _Results]:
    root = JsonResource()
    results = _Results()
    root.putChild(b"echo", _Echo())
    root.putChild(b"big", _BigEcho())
    root.putChild(b"query", _Query())
    root.putChild(b"results", results)
    root.putChild(b"errors", _Errors())
    return root, results


class JsonErrorTests(SynchronousTestCase):
    """JsonError carries status, code, message and field."""

    def test_body(self) -> None:
        """to_json is the documented error body."""
        error = JsonError(400, "bad_field", "expected a string", field="to")
        self.assertEqual(
            error.to_json(), {"error": "bad_field", "message": "expected a string", "field": "to"}
        )
        self.assertEqual(str(error), "400 bad_field (to): expected a string")

    def test_no_field(self) -> None:
        """The field defaults to None."""
        self.assertIsNone(JsonError(400, "bad_json", "x").field)
        self.assertEqual(JsonError(400, "bad_json", "x").to_json()["field"], None)


class ReadJsonTests(SynchronousTestCase):
    """read_json parses UTF-8 JSON bodies and refuses the rest."""

    def setUp(self) -> None:
        self.client = StubJsonClient(self, _root()[0])

    def post(self, data: bytes, content_type: str | None = "application/json") -> Any:
        """POST *data* to the echo resource."""
        headers = {"content-type": content_type} if content_type else {}
        return self.client.request("POST", "/echo", data=data, headers=headers)

    def assert_error(self, data: bytes, status: int, code: str, **kwargs: Any) -> None:
        """POSTing *data* is refused with *status* and *code*."""
        response = self.post(data, **kwargs)
        self.assertEqual(response.status, status)
        self.assertEqual(response.json()["error"], code)
        self.assertIsNone(response.json()["field"])

    def test_object(self) -> None:
        """A JSON body is parsed, non-ASCII text included."""
        response = self.post('{"content": "验证码 1234"}'.encode())
        self.assertEqual(response.status, 200)
        self.assertEqual(response.json(), {"got": {"content": "验证码 1234"}})

    def test_any_value(self) -> None:
        """Any JSON value is returned, not only objects."""
        self.assertEqual(self.post(b"[1, 2.5, null]").json(), {"got": [1, 2.5, None]})

    def test_content_types(self) -> None:
        """JSON media types with a UTF-8 charset, or none at all, are accepted."""
        for content_type in (
            None,
            "application/json",
            "Application/JSON; charset=UTF-8",
            'application/json; charset="utf-8"',
            "application/merge-patch+json",
        ):
            self.assertEqual(self.post(b"1", content_type).status, 200, content_type)

    def test_unsupported_media_type(self) -> None:
        """Another Content-Type or charset is a 415."""
        for content_type in (
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/json; charset=gbk",
        ):
            self.assert_error(b"{}", 415, "unsupported_media_type", content_type=content_type)

    def test_invalid_json(self) -> None:
        """Text that is not JSON is a 400 bad_json."""
        self.assert_error(b'{"to": ', 400, "bad_json")
        self.assert_error(b"{'to': 1}", 400, "bad_json")

    def test_nan(self) -> None:
        """NaN and Infinity are not JSON."""
        self.assert_error(b"[NaN]", 400, "bad_json")
        self.assert_error(b'{"x": -Infinity}', 400, "bad_json")

    def test_not_utf8(self) -> None:
        """A body that is not UTF-8 is a 400 bad_json."""
        self.assert_error('{"content": "短信"}'.encode("gbk"), 400, "bad_json")

    def test_empty(self) -> None:
        """An empty body is a 400 bad_json."""
        self.assert_error(b"", 400, "bad_json")
        self.assert_error(b" \n", 400, "bad_json")

    def test_too_large(self) -> None:
        """A body over the limit is a 413."""
        self.assertEqual(self.post(b'"' + b"x" * 62 + b'"').status, 200)
        self.assert_error(b'"' + b"x" * 63 + b'"', 413, "too_large")

    def test_depth(self) -> None:
        """Nesting up to MAX_DEPTH is read; deeper is a 400 bad_json, however deep."""
        for depth, status in ((MAX_DEPTH, 200), (MAX_DEPTH + 1, 400), (150_000, 400)):
            for opening, closing in ((b"[", b"]"), (b'{"a":', b"}")):
                body = opening * depth + b"1" + closing * depth
                with self.subTest(depth=depth, opening=opening):
                    response = self.client.request("POST", "/big", data=body)
                    self.assertEqual(response.status, status)
                    if status == 400:
                        self.assertEqual(response.json()["error"], "bad_json")
                        self.assertIn(f"deeper than {MAX_DEPTH}", response.json()["message"])
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_numbers_out_of_range(self) -> None:
        """Numbers Python would read as infinity, or too long to convert, are a 400."""
        self.assertEqual(self.post(b"1e308").json(), {"got": 1e308})
        self.assert_error(b"1e400", 400, "bad_json")
        self.assert_error(b"[-1e999]", 400, "bad_json")
        response = self.client.request("POST", "/big", data=b"9" * 4301)
        self.assertEqual((response.status, response.json()["error"]), (400, "bad_json"))

    def test_lone_surrogates(self) -> None:
        """An escaped lone surrogate, in a value or a key, is a 400; a pair is text."""
        self.assertEqual(self.post(b'"\\ud83d\\ude00"').json(), {"got": "\U0001f600"})
        self.assert_error(b'["\\ud800"]', 400, "bad_json")
        self.assert_error(b'{"\\udfff": 1}', 400, "bad_json")
        self.assert_error(b'"a\\ude00b"', 400, "bad_json")


class WriteJsonTests(SynchronousTestCase):
    """JsonResource answers JSON for every kind of handler result."""

    def setUp(self) -> None:
        root, self.results = _root()
        self.client = StubJsonClient(self, root)

    def test_value(self) -> None:
        """A plain value is a 200 with UTF-8 JSON, non-ASCII unescaped."""
        response = self.client.request("GET", "/results")
        self.assertEqual(response.status, 200)
        self.assertEqual(response.header("content-type"), "application/json; charset=utf-8")
        self.assertEqual(response.body, '{"text": "短信"}'.encode())

    def test_status_pair(self) -> None:
        """A (status, value) pair from a Deferred sets the status."""
        response = self.client.request("PUT", "/results", json={})
        self.assertEqual(response.status, 201)
        self.assertEqual(response.json(), {"deferred": True})

    def test_list_not_status(self) -> None:
        """A list is a JSON array, never a status pair."""
        self.results.result = [201, "x"]
        response = self.client.request("GET", "/results")
        self.assertEqual((response.status, response.json()), (200, [201, "x"]))

    def test_no_content(self) -> None:
        """204 has no body and no Content-Type."""
        response = self.client.request("DELETE", "/results")
        self.assertEqual(response.status, 204)
        self.assertEqual(response.body, b"")
        self.assertIsNone(response.header("content-type"))

    def test_coroutine(self) -> None:
        """A coroutine's answer is written when it finishes."""
        started = self.client.start("POST", "/results", json={})
        self.assertNoResult(started)
        self.results.pending.callback({"done": 1})
        response = self.client.finish(started)
        self.assertEqual((response.status, response.json()), (202, {"done": 1}))

    def test_client_gone(self) -> None:
        """A client going away cancels the handler's Deferred; nothing is written or logged."""
        started = self.client.start("POST", "/results", json={})
        self.assertNoResult(started)
        started.cancel()
        self.client.stub.flush()
        self.failureResultOf(started)
        self.assertTrue(self.results.cancelled)
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_head(self) -> None:
        """HEAD runs GET and sends no body."""
        response = self.client.request("HEAD", "/results")
        self.assertEqual(response.status, 200)
        self.assertEqual(response.body, b"")

    def test_write_json(self) -> None:
        """write_json refuses bad statuses and NaN without touching the request."""

        class _Request:
            def setResponseCode(self, code: int) -> None:
                raise AssertionError("touched")

            setHeader = setResponseCode

        request: Any = _Request()
        self.assertRaises(ValueError, write_json, request, 99, {})
        self.assertRaises(ValueError, write_json, request, 600, {})
        self.assertRaises(ValueError, write_json, request, 200, {"x": float("nan")})
        self.assertRaises(TypeError, write_json, request, 200, {"x": object()})


class ErrorAnswerTests(SynchronousTestCase):
    """Errors are JSON with the right status; internals are hidden and logged."""

    def setUp(self) -> None:
        self.client = StubJsonClient(self, _root()[0])

    def test_json_error(self) -> None:
        """A raised JsonError is its status and body."""
        response = self.client.request("GET", "/errors")
        self.assertEqual(response.status, 409)
        self.assertEqual(
            response.json(), {"error": "conflict", "message": "already there", "field": "name"}
        )

    def test_json_error_async(self) -> None:
        """A JsonError from a coroutine is its status and body."""
        response = self.client.request("POST", "/errors", json={})
        self.assertEqual(response.status, 422)
        self.assertEqual(response.json()["error"], "late")

    def assert_internal(self, method: str) -> None:
        """*method* on /errors is a logged 500 without details."""
        response = self.client.request(method, "/errors", json={})
        self.assertEqual(response.status, 500)
        self.assertEqual(response.json()["error"], "internal")
        self.assertNotIn(b"secret", response.body)
        self.assertNotIn(b"Traceback", response.body)
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError, TypeError)), 1)

    def test_exception(self) -> None:
        """An exception from a handler is a 500."""
        self.assert_internal("PUT")

    def test_failed_deferred(self) -> None:
        """A failed Deferred from a handler is a 500."""
        self.assert_internal("DELETE")

    def test_unencodable(self) -> None:
        """A result that is not JSON-able is a 500."""
        self.assert_internal("PATCH")

    def test_method_not_allowed(self) -> None:
        """A method without a handler is a 405 naming the allowed ones."""
        response = self.client.request("DELETE", "/echo")
        self.assertEqual(response.status, 405)
        self.assertEqual(response.json()["error"], "method_not_allowed")
        self.assertEqual(response.header("allow"), "POST")
        self.assertEqual(
            self.client.request("POST", "/query", json={}).header("allow"), "GET, HEAD"
        )

    def test_not_found(self) -> None:
        """Unknown paths and handler-less directories are JSON 404s."""
        for method, path in (("GET", "/"), ("POST", "/nowhere"), ("GET", "/echo/more")):
            response = self.client.request(method, path)
            self.assertEqual(response.status, 404, path)
            self.assertEqual(response.json()["error"], "not_found")


class RequireFieldTests(SynchronousTestCase):
    """require_field checks presence and type, naming the field."""

    def assert_bad(self, obj: Any, name: str, type_: type, **kwargs: Any) -> JsonError:
        """require_field fails with 400 bad_field naming *name*."""
        error = self.assertRaises(JsonError, require_field, obj, name, type_, **kwargs)
        self.assertEqual((error.status, error.code, error.field), (400, "bad_field", name))
        return error

    def test_present(self) -> None:
        """A field of the right type is returned."""
        self.assertEqual(require_field({"to": "138"}, "to", str), "138")
        self.assertEqual(require_field({"n": 3}, "n", int), 3)
        self.assertEqual(require_field({"ok": False}, "ok", bool), False)
        self.assertEqual(require_field({"l": []}, "l", list), [])

    def test_missing(self) -> None:
        """A missing or null field is refused, saying what is expected."""
        error = self.assert_bad({}, "to", str)
        self.assertIn("a string", error.message)
        self.assert_bad({"to": None}, "to", str)

    def test_optional(self) -> None:
        """An optional field may be missing or null."""
        self.assertIsNone(require_field({}, "to", str, optional=True))
        self.assertIsNone(require_field({"to": None}, "to", str, optional=True))
        self.assertEqual(require_field({"to": "1"}, "to", str, optional=True), "1")
        self.assert_bad({"to": 1}, "to", str, optional=True)

    def test_wrong_type(self) -> None:
        """A field of another type is refused, naming the expected type."""
        error = self.assert_bad({"n": "3"}, "n", int)
        self.assertIn("an integer", error.message)
        self.assert_bad({"n": 1.5}, "n", int)
        self.assert_bad({"to": ["138"]}, "to", str)

    def test_bool_not_number(self) -> None:
        """Booleans are not integers or numbers."""
        self.assert_bad({"n": True}, "n", int)
        self.assert_bad({"n": False}, "n", float)

    def test_int_as_float(self) -> None:
        """An integer is accepted as a number and returned as a float."""
        value = require_field({"tps": 5}, "tps", float)
        self.assertEqual(value, 5.0)
        self.assertIsInstance(value, float)

    def test_not_object(self) -> None:
        """A body that is not an object is a 400 bad_json."""
        error = self.assertRaises(JsonError, require_field, ["to"], "to", str)
        self.assertEqual((error.status, error.code, error.field), (400, "bad_json", None))

    def test_reject_unknown(self) -> None:
        """reject_unknown_fields names the first unknown field."""
        reject_unknown_fields({"to": 1}, ("to", "content"))
        error = self.assertRaises(
            JsonError, reject_unknown_fields, {"to": 1, "cc": 2}, ("to", "content")
        )
        self.assertEqual((error.status, error.code, error.field), (400, "unknown_field", "cc"))
        self.assertIn("content", error.message)


class QueryTests(SynchronousTestCase):
    """query_arg and query_int read the query string, naming bad arguments."""

    def setUp(self) -> None:
        self.client = StubJsonClient(self, _root()[0])

    def get(self, query: str) -> Any:
        """GET /query with *query*."""
        return self.client.request("GET", "/query" + query)

    def test_defaults(self) -> None:
        """Absent or empty arguments give None and the default."""
        self.assertEqual(self.get("").json(), {"name": None, "limit": 10})
        self.assertEqual(self.get("?limit=").json(), {"name": None, "limit": 10})

    def test_values(self) -> None:
        """Arguments are percent-decoded UTF-8; limits are in range."""
        self.assertEqual(self.get("?name=%E7%9F%AD&limit=100").json(), {"name": "短", "limit": 100})
        self.assertEqual(self.get("?limit=1").json()["limit"], 1)

    def assert_bad(self, query: str, field: str) -> None:
        """The query is refused with 400 bad_field naming *field*."""
        response = self.get(query)
        self.assertEqual(response.status, 400, query)
        self.assertEqual(response.json()["error"], "bad_field")
        self.assertEqual(response.json()["field"], field)

    def test_bad_int(self) -> None:
        """Non-integers and integers out of range are refused."""
        for value in ("0", "101", "-1", "1.5", "ten", "%EF%BC%91", "+5", " 5"):
            self.assert_bad("?limit=" + value, "limit")

    def test_repeated(self) -> None:
        """An argument given twice is refused."""
        self.assert_bad("?name=a&name=b", "name")

    def test_not_utf8(self) -> None:
        """An argument that is not UTF-8 is refused."""
        self.assert_bad("?name=%FF", "name")


class AccessLogTests(SynchronousTestCase):
    """The access log leaves out query strings, which may carry phone numbers."""

    def line(self, path: bytes, uri: bytes) -> str:
        """The access-log line of a GET of *uri* (whose path is *path*), answered 200."""
        from twisted.web.test.requesthelper import DummyRequest

        from smsgw.web.jsonapi import access_log_line

        request = DummyRequest([])
        request.method = b"GET"
        request.path = path
        request.uri = uri
        request.clientproto = b"HTTP/1.1"
        request.code = 200
        request.sentLength = 12
        return access_log_line("[22/Nov/2026:02:00:00 +0000]", request)

    def test_no_query(self) -> None:
        """The line has the method, the path and the status, never the query."""
        line = self.line(b"/v1/submits", b"/v1/submits?dest=13800138000")
        self.assertIn('"GET /v1/submits HTTP/1.1" 200 12', line)
        self.assertNotIn("13800138000", line)

    def test_push_token_masked(self) -> None:
        """A vendor's push under /push/CHANNEL/TOKEN/ is logged without the token."""
        path = b"/push/batchsm/s3cr3t/report"
        line = self.line(path, path + b"?mobile=13800138000")
        self.assertIn('"GET /push/batchsm/***/report HTTP/1.1"', line)
        self.assertNotIn("s3cr3t", line)
        self.assertNotIn("13800138000", line)
