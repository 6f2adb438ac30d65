"""Hostile request bodies against every JSON endpoint: a 4xx naming the field, never a 500.

The corpus is bytes a careless or malicious client may send: nesting deep
enough to exhaust the decoder's stack, numbers out of range, text that is not
UTF-8 or holds lone surrogates, the wrong JSON types, oversized values, and
templates that break the sandbox's caps.  Each endpoint that reads a body
(:func:`smsgw.web.jsonapi.read_json`) gets each body; the answer must be a 4xx
JSON error that is ``bad_json`` (the body as a whole) or names the field, and
nothing may be logged as an unhandled error.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from smsgw.gns.control import control_resource as gns_control_resource
from smsgw.ismg.control import control_resource as sim_control_resource
from smsgw.web.jsonapi import MAX_BODY_BYTES, MAX_DEPTH
from tests.gns.test_control import _ControlTestCase as GnsControlTestCase
from tests.ismg.test_control import FakeSimulator
from tests.web import StubJsonClient, StubResponse
from tests.web.test_api import ApiTestCase

#: Bodies no endpoint can take as a whole: each is a 4xx ``bad_json`` (413 for size).
BAD_BODIES: list[bytes] = [
    b"[" * 200_000,
    b'{"a":' * 100_000,
    b"[" * 200_000 + b"]" * 200_000,
    b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
    b'{"to": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
    b"1e400",
    b'{"to": 1e400}',
    b'{"to": -1e999}',
    b'{"to": ' + b"9" * 5_000 + b"}",
    b'{"to": NaN}',
    b'{"to": Infinity}',
    b'{"to": -Infinity}',
    b'{"to": "\\ud800", "content": "x"}',
    b'{"\\udfff": 1}',
    b'{"content": "\\udc80\\ud800"}',
    b'{"content": "\xff"}',
    b'{"content": "\xc0\xaf"}',
    b'{"content": "\xed\xa0\x80"}',
    '{"content": "x"}'.encode("utf-16"),
    b"\xef\xbb\xbf{}",
    b"",
    b"   \n\t",
    b"{",
    b'{"to": "138',
    b"{} {}",
    b"{'to': 'x'}",
    b'{"to": "x",}',
    b"\x00",
    b" " * (MAX_BODY_BYTES + 1),
]

#: Bodies that are JSON but not the object every endpoint expects.
NOT_OBJECTS: list[bytes] = [b"[]", b'"x"', b"null", b"true", b"0", b"-0.5", b"[{}]"]

#: (body, field named) for ``POST /v1/sms``.
SMS_FIELDS: list[tuple[Any, str]] = [
    ({"to": {"$gt": ""}, "content": "x"}, "to"),
    ({"to": [["13800138000"]], "content": "x"}, "to"),
    ({"to": ["13800138000"] * 60_001, "content": "x"}, "to"),
    ({"to": "13800138000", "content": ["x"]}, "content"),
    ({"to": "13800138000", "content": "x" * 100_000}, "content"),
    ({"to": "13800138000", "content": "x", "__proto__": {}}, "__proto__"),
    ({"to": "13800138000", "content": "x", "report": "yes"}, "report"),
    ({"to": "13800138000", "content": "x", "mode": 1}, "mode"),
    ({"to": "13800138000", "content": "x", "send_at": 1e308}, "send_at"),
    ({"to": "13800138000", "content": "x", "send_at": "9999-99-99"}, "send_at"),
    ({"to": "13800138000", "content": "x", "src_ext": "1" * 10_000}, "src_ext"),
    ({"to": "13800138000", "content": "x", "src_ext": "\u0661\u0662"}, "src_ext"),
    ({"to": "13800138000", "content": "x", "external_id": "e" * 100_000}, "external_id"),
    ({"to": "13800138000", "content": "x", "external_id": {"a": 1}}, "external_id"),
    ({"to": "13800138000", "template": "nope"}, "template"),
    ({"items": "x", "content": "x"}, "items"),
    ({"items": [[]], "content": "x"}, "items[0]"),
    ({"items": [{"to": "13800138000", "content": "x", "evil": 1}]}, "items[0].evil"),
]

#: (body, field named) for ``POST /v1/templates``: caps broken in the template's own text.
TEMPLATE_FIELDS: list[tuple[Any, str]] = [
    ({"name": "t", "engine": "jinja2", "body": "{{ range(100000)|list }}"}, "body"),
    ({"name": "t", "engine": "jinja2", "body": "{{ 'x' * 100000 }}"}, "body"),
    ({"name": "t", "engine": "jinja2", "body": "{{ 9 ** 99999 }}"}, "body"),
    ({"name": "t", "engine": "jinja2", "body": "{{ 'x'.center(10 ** 9) }}"}, "body"),
    ({"name": "t", "engine": "jinja2", "body": "{{ ''.__class__.__mro__ }}"}, "body"),
    ({"name": "t", "engine": "jinja2", "body": "{{ '{:>99999}'.format(1) }}"}, "body"),
    ({"name": "t", "engine": "jinja2", "body": "{% for %}"}, "body"),
    ({"name": "t", "body": "x" * 5_000}, "body"),
    ({"name": "t", "body": "x" * 2_001}, "body"),
    ({"name": "t", "body": ["x"]}, "body"),
    ({"name": "t" * 1_000, "body": "x"}, "name"),
    ({"name": ["t"], "body": "x"}, "name"),
    ({"name": "t", "body": "x", "engine": "../../etc"}, "engine"),
]


class _HostileMixin:
    """Assertions shared by the endpoint tests below."""

    client: StubJsonClient

    def answer(self, method: str, path: str, body: bytes) -> StubResponse:
        return self.client.request(
            method, path, data=body, headers={"Content-Type": "application/json"}
        )

    def assert_refused(
        self: Any, response: StubResponse, field: str | None, what: object
    ) -> dict[str, Any]:
        """A 4xx JSON error, ``bad_json`` / ``too_large`` or naming *field*."""
        shown = repr(what)[:80]
        self.assertTrue(400 <= response.status < 500, (response.status, response.body[:200], shown))
        error: dict[str, Any] = response.json()
        self.assertEqual(set(error), {"error", "message", "field"})
        if field is None:
            self.assertIn(error["error"], ("bad_json", "too_large"), (error, shown))
        else:
            self.assertEqual(error["field"], field, (error, shown))
        self.assertEqual(self.flushLoggedErrors(), [])
        return error

    def assert_corpus(self: Any, method: str, path: str) -> None:
        """Every bad body and every non-object is refused as a whole."""
        for body in BAD_BODIES + NOT_OBJECTS:
            with self.subTest(path=path, body=body[:40]):
                self.assert_refused(self.answer(method, path, body), None, body[:40])


class SpApiTests(ApiTestCase, _HostileMixin):
    """The SP's HTTP API (:mod:`smsgw.web.api`)."""

    def test_corpus(self) -> None:
        """Every endpoint with a body refuses every hostile body with a 4xx bad_json."""
        for method, path in (
            ("POST", "/v1/sms"),
            ("POST", "/v1/templates"),
            ("PUT", "/v1/templates/t"),
            ("POST", "/v1/inbound/ack"),
        ):
            self.assert_corpus(method, path)
        self.assertEqual(self.call("GET", "/v1/templates").json(), {"templates": []})

    def test_deep_nesting_is_not_internal(self) -> None:
        """The issue's 200,000-deep body answers 400 bad_json, not 500 internal."""
        error = self.assert_refused(self.answer("POST", "/v1/sms", b"[" * 200_000), None, "deep")
        self.assertEqual(error["error"], "bad_json")
        self.assertIn(str(MAX_DEPTH), error["message"])

    def test_sms_fields(self) -> None:
        """Hostile values of each field of POST /v1/sms are refused naming the field."""
        for body, field in SMS_FIELDS:
            with self.subTest(field=field):
                self.assert_refused(
                    self.answer("POST", "/v1/sms", json.dumps(body).encode()), field, body
                )
        self.assertEqual(self.mobile.calls, [])

    def test_template_fields(self) -> None:
        """Templates breaking a cap or a rule are refused at creation, naming the field."""
        for body, field in TEMPLATE_FIELDS:
            for method, path in (("POST", "/v1/templates"), ("PUT", "/v1/templates/t")):
                with self.subTest(method=method, body=str(body)[:60]):
                    data = json.dumps(body).encode()
                    self.assert_refused(self.answer(method, path, data), field, body)
        self.assertEqual(self.call("GET", "/v1/templates").json(), {"templates": []})

    def test_template_cap_is_named(self) -> None:
        """A template over a cap is a 400 bad_template whose message names the cap."""
        body = {"name": "t", "engine": "jinja2", "body": "{{ range(5000)|list }}"}
        error = self.refused("POST", "/v1/templates", body, 400, "body")
        self.assertEqual(error["error"], "bad_template")
        self.assertIn("at most 1000", error["message"])

    def test_wrong_media_type(self) -> None:
        """A body that is not declared JSON (or not UTF-8) is 415."""
        for content_type in ("text/plain", "application/json; charset=latin-1", "multipart/x"):
            with self.subTest(content_type=content_type):
                response = self.client.request(
                    "POST", "/v1/sms", data=b"{}", headers={"Content-Type": content_type}
                )
                self.assertEqual(response.status, 415)
                self.assertEqual(response.json()["error"], "unsupported_media_type")


class SimulatorControlTests(SynchronousTestCase, _HostileMixin):
    """The simulator's control API (:mod:`smsgw.ismg.control`)."""

    def setUp(self) -> None:
        self.client = StubJsonClient(self, sim_control_resource(FakeSimulator()))

    def test_corpus(self) -> None:
        """POST /v1/mo and PUT /v1/policy refuse every hostile body with a 4xx bad_json."""
        self.assert_corpus("POST", "/v1/mo")
        self.assert_corpus("PUT", "/v1/policy")

    def test_fields(self) -> None:
        """Hostile values of the MO fields are refused naming the field."""
        for body, field in [
            ({"from": {"a": 1}, "to": "1065", "content": "x"}, "from"),
            ({"from": "1380", "to": ["1065"], "content": "x"}, "to"),
            ({"from": "1380", "to": "1065", "content": 1e300}, "content"),
            ({"from": "1380", "to": "1065", "content": "x", "__class__": 1}, "__class__"),
        ]:
            with self.subTest(field=field):
                data = json.dumps(body).encode()
                self.assert_refused(self.answer("POST", "/v1/mo", data), field, body)


class GnsControlTests(GnsControlTestCase, _HostileMixin):
    """The GNS simulator's control API (:mod:`smsgw.gns.control`)."""

    def setUp(self) -> None:
        super().setUp()
        self.client = StubJsonClient(self, gns_control_resource(self.gns))

    def test_corpus(self) -> None:
        """Route bodies refuse every hostile body with a 4xx bad_json."""
        self.assert_corpus("POST", "/v1/routes")
        self.assert_corpus("PUT", "/v1/routes/MT/0")
