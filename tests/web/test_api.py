"""The SP HTTP API (:mod:`smsgw.web.api`): every endpoint and every error it documents.

Requests go through :class:`treq.testing.StubTreq` to
:func:`~smsgw.web.api.api_resource` over a real :class:`~smsgw.sp.gateway.Gateway`
on a :class:`~smsgw.store.memory.MemoryStore`, a :class:`~twisted.internet.task.Clock`
and fake channels whose every SUBMIT_RESP the test gives.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase

from smsgw.metrics import Metrics
from smsgw.store.memory import MemoryStore
from smsgw.store.model import Message
from smsgw.web.api import api_resource
from tests.sp.test_gateway import (
    LONG_TEXT,
    MOBILE,
    START,
    TELECOM,
    UNICOM,
    GatewayHarness,
)
from tests.web import StubJsonClient, StubResponse

KEY = "k-3f9a1c"


def iso(when: float) -> str:
    """POSIX seconds as ISO-8601 in UTC."""
    return datetime.fromtimestamp(when, UTC).isoformat()


class SlowStore(MemoryStore):
    """A MemoryStore whose ``add_message`` commits only when the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.commits: list[tuple[Message, Deferred[None]]] = []

    def add_message(self, message: Message) -> Deferred[None]:
        d: Deferred[None] = Deferred()
        self.commits.append((message, d))
        return d

    def commit(self) -> None:
        """Write every message waiting and fire its Deferred."""
        commits, self.commits = self.commits, []
        for message, d in commits:
            super().add_message(message).chainDeferred(d)


class ApiTestCase(SynchronousTestCase):
    """A gateway with three fake channels behind the API, no API keys."""

    keys: tuple[str, ...] = ()

    def setUp(self) -> None:
        self.metrics = Metrics()
        self.h = GatewayHarness(self, metrics=self.metrics, **self.gateway_kwargs())
        self.mobile = self.h.channel["mobile"]
        self.unicom = self.h.channel["unicom"]
        self.client = StubJsonClient(self, api_resource(self.h.gateway, self.metrics, self.keys))

    def gateway_kwargs(self) -> dict[str, Any]:
        return {"sync_timeout_s": 5.0}

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> StubResponse:
        if body is not None:
            kwargs["json"] = body
        return self.client.request(method, path, **kwargs)

    def send(self, body: dict[str, Any], status: int = 202) -> dict[str, Any]:
        """POST /v1/sms, expecting *status*; the answer body."""
        response = self.call("POST", "/v1/sms", body)
        self.assertEqual(response.status, status, response.body)
        answer: dict[str, Any] = response.json()
        return answer

    def refused(
        self, method: str, path: str, body: Any, status: int, field: str | None, **kwargs: Any
    ) -> dict[str, Any]:
        """A request answered with the error *status* naming *field*."""
        response = self.call(method, path, body, **kwargs)
        self.assertEqual(response.status, status, response.body)
        error: dict[str, Any] = response.json()
        self.assertEqual(set(error), {"error", "message", "field"})
        self.assertEqual(error["field"], field, error)
        self.assertTrue(error["message"])
        return error

    def texts(self, channel: Any) -> list[bytes]:
        return [c.segment.content for c in channel.calls]


class SendTests(ApiTestCase):
    """``POST /v1/sms``: what is sent, and how."""

    def test_one_number(self) -> None:
        """One number: 202 with the id, the recipient and its channel's SUBMIT."""
        body = self.send({"to": MOBILE, "content": "hello"})
        self.assertEqual((body["status"], body["mode"]), ("queued", "queue"))
        [recipient] = body["recipients"]
        self.assertEqual((recipient["to"], recipient["channel"]), (MOBILE, "mobile"))
        self.assertEqual(self.texts(self.mobile), [b"hello"])
        msg_id = self.mobile.answer_all()[0]
        view = self.call("GET", f"/v1/sms/{body['id']}").json()
        self.assertEqual(view["recipients"][0]["segments"][0]["msg_id"], msg_id)
        self.assertEqual(view["recipients"][0]["segments"][0]["result"], 0)

    def test_list_of_numbers(self) -> None:
        """A list: one recipient per number, each routed by its segment."""
        body = self.send({"to": [MOBILE, UNICOM, TELECOM], "content": "hi"})
        self.assertEqual(
            [r["channel"] for r in body["recipients"]], ["mobile", "unicom", "telecom"]
        )
        self.assertNotIn("rejected", body)
        self.assertEqual(len(self.h.channel["telecom"].calls), 1)

    def test_items_with_own_content(self) -> None:
        """items: each number its own content."""
        self.send({"items": [{"to": MOBILE, "content": "one"}, {"to": UNICOM, "content": "two"}]})
        self.assertEqual(self.texts(self.mobile), [b"one"])
        self.assertEqual(self.texts(self.unicom), [b"two"])

    def test_items_with_own_params(self) -> None:
        """items: each number its own template params."""
        self.call("POST", "/v1/templates", {"name": "hi", "body": "Hi {name}"})
        self.send(
            {
                "template": "hi",
                "items": [
                    {"to": MOBILE, "params": {"name": "Li"}},
                    {"to": UNICOM, "params": {"name": "Wang"}},
                ],
            }
        )
        self.assertEqual(self.texts(self.mobile), [b"Hi Li"])
        self.assertEqual(self.texts(self.unicom), [b"Hi Wang"])

    def test_simple_template(self) -> None:
        """A simple template: named params and {PHONE}."""
        self.call("POST", "/v1/templates", {"name": "otp", "body": "code {code} for {PHONE}"})
        self.send({"to": MOBILE, "template": "otp", "params": {"code": "1234"}})
        self.assertEqual(self.texts(self.mobile), [f"code 1234 for {MOBILE}".encode()])

    def test_simple_template_positional(self) -> None:
        """A simple template with positional params {A} and {B}."""
        self.call("POST", "/v1/templates", {"name": "ab", "body": "{A}-{B}"})
        self.send({"to": MOBILE, "template": "ab", "params": ["x", "y"]})
        self.assertEqual(self.texts(self.mobile), [b"x-y"])

    def test_jinja2_template(self) -> None:
        """A jinja2 template renders with its filters."""
        response = self.call(
            "POST",
            "/v1/templates",
            {"name": "j", "engine": "jinja2", "body": "Hi {{ name|upper }}"},
        )
        self.assertEqual(response.status, 201)
        self.send({"to": MOBILE, "template": "j", "params": {"name": "li"}})
        self.assertEqual(self.texts(self.mobile), [b"Hi LI"])

    def test_report_flag(self) -> None:
        """report=false reaches the SUBMIT."""
        self.send({"to": MOBILE, "content": "x", "report": False})
        self.assertEqual([c.report for c in self.mobile.calls], [False])

    def test_src_ext(self) -> None:
        """src_ext reaches the SUBMIT."""
        self.send({"to": MOBILE, "content": "x", "src_ext": "01"})
        self.assertEqual([c.src_ext for c in self.mobile.calls], ["01"])

    def test_channel(self) -> None:
        """A named channel sends the message whatever the number."""
        body = self.send({"to": MOBILE, "content": "x", "channel": "unicom"})
        self.assertEqual(body["recipients"][0]["channel"], "unicom")
        self.assertEqual((len(self.mobile.calls), len(self.unicom.calls)), (0, 1))

    def test_long_text(self) -> None:
        """A long text: one recipient, three segments."""
        body = self.send({"to": MOBILE, "content": LONG_TEXT})
        segments = body["recipients"][0]["segments"]
        self.assertEqual(
            [(s["pk_number"], s["pk_total"]) for s in segments], [(1, 3), (2, 3), (3, 3)]
        )

    def test_external_id_repeated(self) -> None:
        """The same external_id within 24 h answers the first message (200, repeated)."""
        first = self.send({"to": MOBILE, "content": "x", "external_id": "order-7"})
        again = self.send({"to": MOBILE, "content": "x", "external_id": "order-7"}, 200)
        self.assertEqual(again["id"], first["id"])
        self.assertIs(again["repeated"], True)
        self.assertEqual(again["external_id"], "order-7")
        self.assertEqual(len(self.mobile.calls), 1)

    def test_external_id_after_24h(self) -> None:
        """After 24 h the same external_id is a new message."""
        first = self.send({"to": MOBILE, "content": "x", "external_id": "order-7"})
        self.h.clock.advance(24 * 3600 + 1)
        again = self.send({"to": MOBILE, "content": "x", "external_id": "order-7"})
        self.assertNotEqual(again["id"], first["id"])
        self.assertNotIn("repeated", again)

    def test_send_at_future_is_held(self) -> None:
        """send_at in the future: 202 queued; nothing is submitted before it is due."""
        body = self.send({"to": MOBILE, "content": "later", "send_at": iso(START + 60)})
        self.assertEqual(body["status"], "queued")
        self.assertEqual(body["send_at"], START + 60)
        self.h.clock.advance(59)
        self.assertEqual(self.mobile.calls, [])
        self.h.clock.advance(1)
        self.assertEqual(self.texts(self.mobile), [b"later"])

    def test_send_at_without_zone_is_beijing(self) -> None:
        """A send_at without a zone is Beijing time (UTC+8)."""
        bare = datetime.fromtimestamp(START + 3600 + 8 * 3600, UTC).replace(tzinfo=None)
        body = self.send({"to": MOBILE, "content": "x", "send_at": bare.isoformat()})
        self.assertEqual(body["send_at"], START + 3600)

    def test_bad_numbers_rejected_per_recipient(self) -> None:
        """Bad numbers in a list are listed in rejected; the valid ones are sent."""
        body = self.send({"to": [MOBILE, "12345", UNICOM, "abc"], "content": "x"})
        self.assertEqual([r["to"] for r in body["recipients"]], [MOBILE, UNICOM])
        self.assertEqual([r["to"] for r in body["rejected"]], ["12345", "abc"])
        self.assertTrue(all(r["error"] for r in body["rejected"]))
        self.assertEqual((len(self.mobile.calls), len(self.unicom.calls)), (1, 1))


class ModeTests(ApiTestCase):
    """``mode``: queue, async and sync answers."""

    def test_sync_answers_after_every_submit_resp(self) -> None:
        """sync: 200 only once every segment has its SUBMIT_RESP, with the results."""
        started = self.client.start(
            "POST", "/v1/sms", json={"to": [MOBILE, UNICOM], "content": "x", "mode": "sync"}
        )
        self.assertNoResult(started)
        [mobile_id] = self.mobile.answer_all()
        self.client.stub.flush()
        self.assertNoResult(started)
        [unicom_id] = self.unicom.answer_all()
        response = self.client.finish(started)
        self.assertEqual(response.status, 200)
        body = response.json()
        self.assertEqual(body["status"], "submitted")
        self.assertEqual(
            [r["segments"][0]["msg_id"] for r in body["recipients"]], [mobile_id, unicom_id]
        )
        self.assertEqual([r["segments"][0]["result"] for r in body["recipients"]], [0, 0])

    def test_sync_timeout_is_504_with_what_is_known(self) -> None:
        """sync: no SUBMIT_RESP in time → 504 with the results so far."""
        started = self.client.start(
            "POST", "/v1/sms", json={"to": [MOBILE, UNICOM], "content": "x", "mode": "sync"}
        )
        [mobile_id] = self.mobile.answer_all()
        self.h.clock.advance(5)
        response = self.client.finish(started)
        self.assertEqual(response.status, 504)
        body = response.json()
        first, second = body["recipients"]
        self.assertEqual(first["segments"][0]["msg_id"], mobile_id)
        self.assertEqual(first["status"], "submitted")
        self.assertEqual(second["status"], "submitting")
        self.assertIsNone(second["segments"][0]["msg_id"])

    def test_sync_with_future_send_at_refused(self) -> None:
        """sync cannot wait for a send_at in the future: 400 naming mode."""
        self.refused(
            "POST",
            "/v1/sms",
            {"to": MOBILE, "content": "x", "mode": "sync", "send_at": iso(START + 60)},
            400,
            "mode",
        )


class DurabilityTests(SynchronousTestCase):
    """queue answers after the commit; async before it."""

    def setUp(self) -> None:
        self.store = SlowStore()
        self.h = GatewayHarness(self, store=self.store)
        self.client = StubJsonClient(self, api_resource(self.h.gateway))

    def test_queue_answers_after_commit(self) -> None:
        """queue: no answer until the message is written; then 202."""
        started = self.client.start("POST", "/v1/sms", json={"to": MOBILE, "content": "x"})
        self.assertNoResult(started)
        self.store.commit()
        response = self.client.finish(started)
        self.assertEqual(response.status, 202)
        self.assertIsNotNone(self.successResultOf(self.store.get_message(response.json()["id"])))

    def test_async_answers_at_once(self) -> None:
        """async: 202 before the write commits; sent once it has."""
        response = self.client.request(
            "POST", "/v1/sms", json={"to": MOBILE, "content": "x", "mode": "async"}
        )
        self.assertEqual(response.status, 202)
        self.assertEqual(response.json()["mode"], "async")
        self.assertIsNone(self.successResultOf(self.store.get_message(response.json()["id"])))
        self.assertEqual(self.h.channel["mobile"].calls, [])
        self.store.commit()
        self.assertEqual(len(self.h.channel["mobile"].calls), 1)


class BadRequestTests(ApiTestCase):
    """Every bad ``POST /v1/sms`` is a 4xx naming the field."""

    def bad(self, body: Any, field: str | None, status: int = 400) -> dict[str, Any]:
        error = self.refused("POST", "/v1/sms", body, status, field)
        self.assertEqual(self.mobile.calls, [])
        return error

    def test_bad_json(self) -> None:
        """Bytes that are not JSON: 400 bad_json."""
        response = self.call(
            "POST", "/v1/sms", data=b"{to: 1", headers={"Content-Type": "application/json"}
        )
        self.assertEqual((response.status, response.json()["error"]), (400, "bad_json"))

    def test_empty_body(self) -> None:
        """An empty body: 400 bad_json."""
        response = self.call("POST", "/v1/sms", data=b"")
        self.assertEqual((response.status, response.json()["error"]), (400, "bad_json"))

    def test_not_an_object(self) -> None:
        """A JSON array: 400 bad_json."""
        self.assertEqual(self.bad([MOBILE], None)["error"], "bad_json")

    def test_not_json_content_type(self) -> None:
        """A non-JSON Content-Type: 415."""
        response = self.call(
            "POST",
            "/v1/sms",
            data=b"to=1",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        self.assertEqual(response.status, 415)

    def test_wrong_types(self) -> None:
        """Every field with a wrong type is named."""
        base = {"to": MOBILE, "content": "x"}
        for field, value in [
            ("to", 13800138000),
            ("content", 5),
            ("report", "yes"),
            ("src_ext", 1),
            ("mode", "later"),
            ("send_at", 1750000000),
            ("channel", ["a"]),
            ("external_id", 7),
            ("params", "x"),
            ("template", 1),
        ]:
            with self.subTest(field=field):
                self.bad({**base, field: value}, field)

    def test_to_list_of_non_strings(self) -> None:
        """Numbers as JSON numbers in a list: 400 naming to."""
        self.bad({"to": [13800138000], "content": "x"}, "to")

    def test_src_ext_not_digits(self) -> None:
        """src_ext must be digits."""
        self.bad({"to": MOBILE, "content": "x", "src_ext": "a1"}, "src_ext")

    def test_bad_send_at(self) -> None:
        """send_at that is not ISO-8601: 400 naming send_at."""
        self.bad({"to": MOBILE, "content": "x", "send_at": "tomorrow"}, "send_at")

    def test_send_at_in_past(self) -> None:
        """send_at in the past: 400 naming send_at."""
        self.bad({"to": MOBILE, "content": "x", "send_at": iso(START - 3600)}, "send_at")

    def test_unknown_field(self) -> None:
        """An unknown field is named."""
        self.assertEqual(
            self.bad({"to": MOBILE, "content": "x", "cc": 1}, "cc")["error"], "unknown_field"
        )

    def test_unknown_item_field(self) -> None:
        """An unknown field in an item is named with its index."""
        self.bad({"items": [{"to": MOBILE, "content": "x", "cc": 1}]}, "items[0].cc")

    def test_item_wrong_type(self) -> None:
        """An item that is not an object, or with a bad field, is named with its index."""
        self.bad({"items": ["x"], "content": "x"}, "items[0]")
        self.bad({"items": [{"to": 1}], "content": "x"}, "items[0].to")

    def test_missing_to(self) -> None:
        """No to and no items: 400 naming to."""
        self.bad({"content": "x"}, "to")

    def test_to_and_items(self) -> None:
        """Both to and items: 400."""
        self.bad({"to": MOBILE, "items": [{"to": MOBILE}], "content": "x"}, "to")

    def test_missing_content(self) -> None:
        """No content and no template: 400 naming content."""
        self.bad({"to": MOBILE}, "content")

    def test_empty_content(self) -> None:
        """Empty content: 400 naming content."""
        self.bad({"to": MOBILE, "content": ""}, "content")

    def test_content_and_template(self) -> None:
        """Both content and template: 400 naming template."""
        self.bad({"to": MOBILE, "content": "x", "template": "t"}, "template")

    def test_content_too_long(self) -> None:
        """Over 10 segments: 400 naming content."""
        error = self.bad({"to": MOBILE, "content": "x" * (153 * 10 + 1)}, "content")
        self.assertEqual(error["error"], "too_long")

    def test_unknown_template(self) -> None:
        """An unknown template: 404 naming template."""
        self.bad({"to": MOBILE, "template": "nope"}, "template", 404)

    def test_missing_params(self) -> None:
        """A template param the request lacks: 400 naming params.x."""
        self.call("POST", "/v1/templates", {"name": "otp", "body": "code {code}"})
        self.bad({"to": MOBILE, "template": "otp", "params": {}}, "params.code")

    def test_missing_jinja2_params(self) -> None:
        """A jinja2 variable the request lacks: 400 naming params.x."""
        self.call("POST", "/v1/templates", {"name": "j", "engine": "jinja2", "body": "{{ x }}"})
        self.bad({"to": MOBILE, "template": "j"}, "params.x")

    def test_missing_params_in_item(self) -> None:
        """A param missing for one item of several is named with the item's index."""
        self.call("POST", "/v1/templates", {"name": "otp", "body": "code {code}"})
        self.bad(
            {
                "template": "otp",
                "items": [{"to": MOBILE, "params": {"code": "1"}}, {"to": UNICOM, "params": {}}],
            },
            "items[1].params.code",
        )

    def test_unknown_channel(self) -> None:
        """An unknown channel: 400 naming channel."""
        self.bad({"to": MOBILE, "content": "x", "channel": "nope"}, "channel")

    def test_bad_mode(self) -> None:
        """An unknown mode: 400 naming mode."""
        self.bad({"to": MOBILE, "content": "x", "mode": "fast"}, "mode")

    def test_one_bad_number(self) -> None:
        """The only number is bad: 400 naming to."""
        self.bad({"to": "12345", "content": "x"}, "to")

    def test_all_numbers_bad(self) -> None:
        """Every number of a list is bad: 400 naming to, listing why."""
        error = self.bad({"to": ["12345", "abc"], "content": "x"}, "to")
        self.assertIn("12345", error["message"])

    # Gateway.accept names "items" whenever a request has more than one
    # recipient, though this request has no "items" field (it cannot tell a
    # "to" list from "items": SendRequest does not say which was given).

    def test_missing_params_to_list(self) -> None:
        """A shared param missing for a 'to' list: 400 naming params.x."""
        self.call("POST", "/v1/templates", {"name": "otp", "body": "code {code}"})
        self.bad({"to": [MOBILE, UNICOM], "template": "otp"}, "params.code")

    # Same cause: the gateway answers "items[0].params.code" for a "to" list.

    def test_all_items_bad(self) -> None:
        """Every item's number is bad: 400 naming items."""
        self.bad({"items": [{"to": "1", "content": "x"}, {"to": "2", "content": "y"}]}, "items")

    def test_method_not_allowed(self) -> None:
        """PUT /v1/sms: 405 with Allow."""
        response = self.call("PUT", "/v1/sms", {"to": MOBILE})
        self.assertEqual(response.status, 405)
        self.assertEqual(response.header("allow"), "POST")


class ReadTests(ApiTestCase):
    """``GET /v1/sms/{id}``, ``/v1/inbound``, ``/v1/balance``, ``/healthz``, ``/metrics``."""

    def test_get_message(self) -> None:
        """GET /v1/sms/{id} shows the current state, report included."""
        message_id = self.send({"to": MOBILE, "content": "x"})["id"]
        [msg_id] = self.mobile.answer_all()
        self.mobile.report(msg_id, "DELIVRD", MOBILE)
        response = self.call("GET", f"/v1/sms/{message_id}")
        self.assertEqual(response.status, 200)
        body = response.json()
        self.assertEqual((body["id"], body["status"]), (message_id, "delivered"))
        [segment] = body["recipients"][0]["segments"]
        self.assertEqual(
            (segment["msg_id"], segment["result"], segment["stat"]), (msg_id, 0, "DELIVRD")
        )

    def test_get_unknown_message(self) -> None:
        """An unknown id: 404 naming id."""
        self.refused("GET", "/v1/sms/0123abcd", None, 404, "id")

    def test_inbound(self) -> None:
        """Reports and MOs, oldest first, each fetched once."""
        message_id = self.send({"to": MOBILE, "content": "x", "external_id": "e1"})["id"]
        [msg_id] = self.mobile.answer_all()
        self.mobile.report(msg_id, "DELIVRD", MOBILE)
        self.mobile.mo(b"TD", msg_id="mo-1")
        response = self.call("GET", "/v1/inbound?limit=10")
        self.assertEqual(response.status, 200)
        report, mo = response.json()["items"]
        self.assertEqual((report["type"], report["channel"]), ("report", "mobile"))
        self.assertEqual(
            (
                report["message_id"],
                report["external_id"],
                report["msg_id"],
                report["stat"],
                report["segment_status"],
                report["message_status"],
                report["to"],
            ),
            (message_id, "e1", msg_id, "DELIVRD", "delivered", "delivered", MOBILE),
        )
        self.assertEqual((mo["type"], mo["from"], mo["text"]), ("mo", MOBILE, "TD"))
        self.assertEqual(self.call("GET", "/v1/inbound").json(), {"items": []})

    def test_inbound_limit(self) -> None:
        """limit=1 gives one item at a time."""
        self.mobile.mo(b"one", msg_id="1")
        self.mobile.mo(b"two", msg_id="2")
        first = self.call("GET", "/v1/inbound?limit=1").json()["items"]
        second = self.call("GET", "/v1/inbound?limit=1").json()["items"]
        self.assertEqual([i["text"] for i in first + second], ["one", "two"])

    def test_inbound_cursor(self) -> None:
        """?after= pages by cursor, marks nothing; ack marks; the plain pull then skips them."""
        for n in range(3):
            self.mobile.mo(f"m{n}".encode(), msg_id=str(n))
        page = self.call("GET", "/v1/inbound?after=0&limit=2").json()
        self.assertEqual([i["text"] for i in page["items"]], ["m0", "m1"])
        self.assertEqual(page["cursor"], page["items"][-1]["id"])
        rest = self.call("GET", f"/v1/inbound?after={page['cursor']}").json()
        self.assertEqual([i["text"] for i in rest["items"]], ["m2"])
        end = self.call("GET", f"/v1/inbound?after={rest['cursor']}").json()
        self.assertEqual(end, {"items": [], "cursor": rest["cursor"]})
        # Nothing was marked: the same pages again, and the plain pull still has all three.
        again = self.call("GET", "/v1/inbound?after=0&limit=2").json()
        self.assertEqual(again, page)
        ack = self.call("POST", "/v1/inbound/ack", {"through": page["cursor"]})
        self.assertEqual((ack.status, ack.json()), (200, {"through": page["cursor"],
                                                          "acknowledged": 2}))  # fmt: skip
        self.assertEqual([i["text"] for i in self.call("GET", "/v1/inbound").json()["items"]],
                         ["m2"])  # fmt: skip
        # A cursor reader still sees acknowledged items.
        self.assertEqual(len(self.call("GET", "/v1/inbound?after=0").json()["items"]), 3)

    def test_inbound_bad_cursor(self) -> None:
        """A cursor that is not a non-negative integer: 400 naming after or through."""
        for after in ("x", "-1", "1.5", str(2**63)):
            with self.subTest(after=after):
                self.refused("GET", f"/v1/inbound?after={after}", None, 400, "after")
        for body, field in [
            ({}, "through"),
            ({"through": "3"}, "through"),
            ({"through": -1}, "through"),
            ({"through": 2**63}, "through"),
            ({"through": 1, "all": True}, "all"),
        ]:
            with self.subTest(body=body):
                self.refused("POST", "/v1/inbound/ack", body, 400, field)

    def test_inbound_bad_limit(self) -> None:
        """A limit that is not 1..1000: 400 naming limit."""
        for limit in ("0", "1001", "x", "-1"):
            with self.subTest(limit=limit):
                self.refused("GET", f"/v1/inbound?limit={limit}", None, 400, "limit")

    def test_balance(self) -> None:
        """GET /v1/balance: one entry per channel, with its protocol."""
        body = self.call("GET", "/v1/balance").json()
        self.assertEqual(
            [(c["channel"], c["protocol"], c["links"]) for c in body["channels"]],
            [("mobile", "cmpp", 1), ("unicom", "sgip", 1), ("telecom", "smgp", 1)],
        )
        self.assertEqual({c["balance"] for c in body["channels"]}, {None})

    def test_balance_one_channel(self) -> None:
        """GET /v1/balance?channel=NAME: that channel only; an unknown one is 404 naming it."""
        body = self.call("GET", "/v1/balance?channel=unicom").json()
        self.assertEqual([c["channel"] for c in body["channels"]], ["unicom"])
        self.refused("GET", "/v1/balance?channel=nosuch", None, 404, "channel")

    def test_healthz(self) -> None:
        """GET /healthz: ok and the links per channel."""
        response = self.call("GET", "/healthz")
        self.assertEqual(response.status, 200)
        self.assertEqual(
            response.json(), {"ok": True, "links": {"mobile": 1, "unicom": 1, "telecom": 1}}
        )

    def test_metrics(self) -> None:
        """GET /metrics: Prometheus text with the accepted counter."""
        self.send({"to": MOBILE, "content": "x"})
        response = self.call("GET", "/metrics")
        self.assertEqual(response.status, 200)
        self.assertIn("text/plain", response.header("content-type") or "")
        text = response.body.decode()
        self.assertIn("# TYPE smsgw_accepted_total counter", text)
        self.assertIn('smsgw_accepted_total{mode="queue"} 1.0', text)

    def test_unknown_path(self) -> None:
        """An unknown path: JSON 404."""
        response = self.call("GET", "/v2/sms")
        self.assertEqual((response.status, response.json()["error"]), (404, "not_found"))


class TemplateTests(ApiTestCase):
    """``/v1/templates`` CRUD."""

    def test_crud(self) -> None:
        """Create 201, read 200, list, replace 200, delete 204, then 404."""
        created = self.call("POST", "/v1/templates", {"name": "otp", "body": "code {code}"})
        self.assertEqual(created.status, 201)
        self.assertEqual((created.json()["name"], created.json()["engine"]), ("otp", "simple"))
        got = self.call("GET", "/v1/templates/otp")
        self.assertEqual((got.status, got.json()["body"]), (200, "code {code}"))
        listed = self.call("GET", "/v1/templates").json()["templates"]
        self.assertEqual([t["name"] for t in listed], ["otp"])
        replaced = self.call("PUT", "/v1/templates/otp", {"body": "new {code}"})
        self.assertEqual(replaced.status, 200)
        self.assertEqual(self.call("GET", "/v1/templates/otp").json()["body"], "new {code}")
        self.assertEqual(self.call("DELETE", "/v1/templates/otp").status, 204)
        self.refused("GET", "/v1/templates/otp", None, 404, "name")
        self.refused("DELETE", "/v1/templates/otp", None, 404, "name")

    def test_put_creates(self) -> None:
        """PUT of a new name: 201."""
        response = self.call("PUT", "/v1/templates/new", {"engine": "jinja2", "body": "{{ a }}"})
        self.assertEqual(response.status, 201)
        self.assertEqual(self.call("GET", "/v1/templates/new").json()["engine"], "jinja2")

    def test_post_existing_is_409(self) -> None:
        """POST of a taken name: 409 naming name."""
        self.call("POST", "/v1/templates", {"name": "otp", "body": "a"})
        self.refused("POST", "/v1/templates", {"name": "otp", "body": "b"}, 409, "name")
        self.assertEqual(self.call("GET", "/v1/templates/otp").json()["body"], "a")

    def test_bad_templates(self) -> None:
        """Bad bodies, engines, names and fields: 400 naming the field."""
        for body, field in [
            ({"name": "t", "body": "code {"}, "body"),
            ({"name": "t", "engine": "jinja2", "body": "{% if %}"}, "body"),
            ({"name": "t", "engine": "mustache", "body": "x"}, "engine"),
            ({"name": "t"}, "body"),
            ({"body": "x"}, "name"),
            ({"name": "", "body": "x"}, "name"),
            ({"name": "t" * 65, "body": "x"}, "name"),
            ({"name": "t", "body": "x", "lang": "zh"}, "lang"),
        ]:
            with self.subTest(body=body):
                self.refused("POST", "/v1/templates", body, 400, field)
        self.refused("PUT", "/v1/templates/t", {"name": "other", "body": "x"}, 400, "name")
        self.assertEqual(self.call("GET", "/v1/templates").json(), {"templates": []})


class ApiKeyTests(ApiTestCase):
    """With API keys, every request but /healthz needs ``Authorization: Bearer KEY``."""

    keys = (KEY,)

    def test_no_header(self) -> None:
        """No Authorization header: 401."""
        for path in ("/v1/balance", "/v1/inbound", "/metrics", "/v1/sms/x"):
            with self.subTest(path=path):
                response = self.call("GET", path)
                self.assertEqual(response.status, 401)
                self.assertEqual(response.json()["error"], "unauthorized")
                self.assertIn("Bearer", response.header("www-authenticate") or "")

    def test_wrong_key(self) -> None:
        """A wrong key or scheme: 401; nothing is sent."""
        for value in ("Bearer nope", f"Basic {KEY}", "Bearer", f"Bearer {KEY}x"):
            with self.subTest(value=value):
                response = self.call(
                    "POST",
                    "/v1/sms",
                    {"to": MOBILE, "content": "x"},
                    headers={"Authorization": value},
                )
                self.assertEqual(response.status, 401)
        self.assertEqual(self.mobile.calls, [])

    def test_right_key(self) -> None:
        """The right key: the request is served."""
        auth = {"Authorization": f"Bearer {KEY}"}
        self.assertEqual(self.call("GET", "/v1/balance", headers=auth).status, 200)
        response = self.call("POST", "/v1/sms", {"to": MOBILE, "content": "x"}, headers=auth)
        self.assertEqual(response.status, 202)
        self.assertEqual(len(self.mobile.calls), 1)

    def test_healthz_open(self) -> None:
        """/healthz needs no key."""
        self.assertEqual(self.call("GET", "/healthz").status, 200)
