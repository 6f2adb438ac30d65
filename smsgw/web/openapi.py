"""OpenAPI 3.1 descriptions of the SP's HTTP API and the simulator's control API.

Served as ``GET /openapi.json`` by both (:class:`OpenApiResource`); the report
and MO pushes of ``[callbacks]`` are the SP document's ``webhooks``.
``tests/web/test_openapi.py`` validates both documents and checks that every
route the servers answer is described and every described route answers.
"""

from __future__ import annotations

from typing import Any

from twisted.web.server import Request

from smsgw import __version__
from smsgw.web.jsonapi import JsonResource

__all__ = ["OpenApiResource", "simulator_openapi", "sp_openapi"]

_ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    """Error responses: ``{"error", "message", "field"}`` with each status."""
    text = {
        400: "a bad request: the field at fault is named",
        401: "no valid Authorization: Bearer key",
        404: "no such resource",
        409: "a conflict",
        413: "the body is too large",
        415: "the body is not JSON",
        504: "sync mode: not every SUBMIT_RESP came in time (what is known is in the error)",
    }
    return {str(s): _json(_ERROR_REF, text.get(s, "an error")) for s in statuses}


def _object(properties: dict[str, Any], required: tuple[str, ...] = (), **more: Any) -> Any:
    schema: dict[str, Any] = {"type": "object", "properties": properties, **more}
    if required:
        schema["required"] = list(required)
    return schema


_STR = {"type": "string"}
_INT = {"type": "integer"}
_NUM = {"type": "number"}
_BOOL = {"type": "boolean"}
_TIME = {"type": "number", "description": "POSIX seconds"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


_ERROR = _object(
    {
        "error": {**_STR, "description": "a stable code: bad_json, bad_field, unknown_field, ..."},
        "message": _STR,
        "field": {**_nullable(_STR), "description": "the field at fault"},
    },
    ("error", "message", "field"),
)

_PARAMS = {
    "description": "template parameters: an object, or a list of at most five for A to E",
    "anyOf": [{"type": "object"}, {"type": "array", "maxItems": 5}],
}

_SEND = _object(
    {
        "to": {
            "anyOf": [_STR, {"type": "array", "items": _STR, "maxItems": 10000}],
            "description": "one number or a list (or give items): mainland mobile numbers in any"
            " usual form, or international ones with + or 00 (routed by + routes)",
        },
        "items": {
            "type": "array",
            "items": _object({"to": _STR, "content": _STR, "params": _PARAMS}, ("to",)),
            "description": "each number with its own content or params",
        },
        "content": {**_STR, "description": "the text (or give template)"},
        "template": {**_STR, "description": "a stored template's name"},
        "params": _PARAMS,
        "report": {**_BOOL, "default": True},
        "src_ext": {**_STR, "pattern": "^[0-9]{0,20}$"},
        "mode": {"enum": ["queue", "async", "sync"], "default": "queue"},
        "send_at": {**_STR, "description": "ISO-8601; without a zone, Beijing time"},
        "channel": _STR,
        "external_id": {**_STR, "maxLength": 128, "description": "idempotency key (24 h)"},
    },
    additionalProperties=False,
)

_SEGMENT = _object(
    {
        "pk_number": _INT,
        "pk_total": _INT,
        "msg_id": _nullable(_STR),
        "result": _nullable(_INT),
        "stat": _nullable(_STR),
        "state": _STR,
        "error": _STR,
    }
)

_MESSAGE = _object(
    {
        "id": _STR,
        "status": _STR,
        "created_at": _TIME,
        "mode": _STR,
        "send_at": _nullable(_NUM),
        "external_id": _nullable(_STR),
        "recipients": {
            "type": "array",
            "items": _object(
                {
                    "to": _STR,
                    "channel": _STR,
                    "status": _STR,
                    "segments": {"type": "array", "items": _SEGMENT},
                }
            ),
        },
        "rejected": {"type": "array", "items": _object({"to": _STR, "error": _STR})},
    },
    ("id", "status", "recipients"),
)

_REPORT = _object(
    {
        "type": {"const": "report"},
        "channel": _STR,
        "message_id": _nullable(_STR),
        "external_id": _nullable(_STR),
        "to": _nullable(_STR),
        "msg_id": _STR,
        "pk_number": _nullable(_INT),
        "pk_total": _nullable(_INT),
        "stat": {**_STR, "description": "the carrier's own state word (DELIVRD, UNDELIV, ...)"},
        "err": _STR,
        "segment_status": _nullable(_STR),
        "message_status": _nullable(_STR),
        "done_at": _nullable(_TIME),
        "received_at": _TIME,
    },
    ("type", "channel", "msg_id", "stat"),
)

_MO = _object(
    {
        "type": {"const": "mo"},
        "channel": _STR,
        "msg_id": _STR,
        "from": _STR,
        "to": _STR,
        "text": _STR,
        "received_at": _TIME,
        "missing_parts": {"type": "array", "items": _INT},
    },
    ("type", "channel", "from", "text"),
)

_ITEM = {
    "description": "an MO or report with its cursor id and store time",
    "allOf": [
        _object({"id": _INT, "created_at": _TIME}, ("id",)),
        {"oneOf": [{"$ref": "#/components/schemas/Report"}, {"$ref": "#/components/schemas/Mo"}]},
    ],
}

_TEMPLATE = _object(
    {
        "name": {**_STR, "maxLength": 64},
        "engine": {"enum": ["simple", "jinja2"], "default": "simple"},
        "body": {**_STR, "maxLength": 4000},
        "created_at": _TIME,
        "updated_at": _TIME,
    },
    ("name", "body"),
)


def _op(summary: str, responses: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": responses, **more}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": schema}


def _path(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": _STR,
    }


_HEALTH = _op(
    "liveness, and each channel's logged-in links", {"200": _json({"type": "object"}, "ok")}
)


def sp_openapi() -> dict[str, Any]:
    """The SP HTTP API (:mod:`smsgw.web.api`) as an OpenAPI 3.1 document."""
    cursor = {"type": "integer", "minimum": 0}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "smsgw SP gateway",
            "version": __version__,
            "description": "Send SMS over CMPP, SGIP and SMGP; pull or receive reports and MOs.",
        },
        "servers": [{"url": "http://127.0.0.1:8080"}],
        "security": [{}, {"bearer": []}],
        "paths": {
            "/v1/sms": {
                "post": _op(
                    "send a message (queue, async or sync)",
                    {
                        "200": _json(_MESSAGE, "sync: every SUBMIT_RESP is in"),
                        "202": _json(_MESSAGE, "queue: committed; async: accepted"),
                        **_errors(400, 401, 404, 413, 415, 504),
                    },
                    requestBody=_body({"$ref": "#/components/schemas/Send"}),
                )
            },
            "/v1/sms/{id}": {
                "get": _op(
                    "a message's state",
                    {"200": _json(_MESSAGE, "the message"), **_errors(401, 404)},
                    parameters=[_path("id", "the message id POST /v1/sms answered")],
                )
            },
            "/v1/inbound": {
                "get": _op(
                    "reports and MOs: not yet fetched (marked fetched), or after a cursor",
                    {
                        "200": _json(
                            _object(
                                {
                                    "items": {"type": "array", "items": _ITEM},
                                    "cursor": {
                                        **cursor,
                                        "description": "with after: the next after",
                                    },
                                },
                                ("items",),
                            ),
                            "the items, oldest first",
                        ),
                        **_errors(400, 401),
                    },
                    parameters=[
                        _query(
                            "limit",
                            "most items",
                            {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                        ),
                        _query("after", "a cursor: items after it, none marked", cursor),
                    ],
                )
            },
            "/v1/inbound/ack": {
                "post": _op(
                    "mark the items up to a cursor fetched",
                    {
                        "200": _json(
                            _object({"through": cursor, "acknowledged": _INT}), "how many were new"
                        ),
                        **_errors(400, 401, 413, 415),
                    },
                    requestBody=_body(
                        _object({"through": cursor}, ("through",), additionalProperties=False)
                    ),
                )
            },
            "/v1/templates": {
                "get": _op(
                    "every template",
                    {
                        "200": _json(
                            _object({"templates": {"type": "array", "items": _TEMPLATE}}), "by name"
                        ),
                        **_errors(401),
                    },
                ),
                "post": _op(
                    "create a template (compiled and checked against the caps now)",
                    {
                        "201": _json(_TEMPLATE, "created"),
                        **_errors(400, 401, 409, 413, 415),
                    },
                    requestBody=_body({"$ref": "#/components/schemas/Template"}),
                ),
            },
            "/v1/templates/{name}": {
                "parameters": [_path("name", "the template's name")],
                "get": _op("a template", {"200": _json(_TEMPLATE, "it"), **_errors(401, 404)}),
                "put": _op(
                    "create or replace a template",
                    {
                        "200": _json(_TEMPLATE, "replaced"),
                        "201": _json(_TEMPLATE, "created"),
                        **_errors(400, 401, 413, 415),
                    },
                    requestBody=_body({"$ref": "#/components/schemas/Template"}),
                ),
                "delete": _op(
                    "delete a template", {"204": {"description": "deleted"}, **_errors(401, 404)}
                ),
            },
            "/v1/balance": {
                "get": _op(
                    "each channel's balance, where its protocol (or vendor file) can tell",
                    {"200": _json({"type": "object"}, "per channel"), **_errors(401, 404)},
                    parameters=[_query("channel", "only this channel", _STR)],
                )
            },
            **{
                f"/push/{{channel}}/{kind}": {
                    method: {
                        **_op(
                            f"an HTTP vendor pushes a {what} (its own parameters, as its XML"
                            " file describes them; served for vendor channels only, under"
                            " /push/{channel}/{push_token}/ when the channel sets one)",
                            {
                                "200": {
                                    "description": "stored; the vendor file's answer text",
                                    "content": {"text/plain": {"schema": _STR}},
                                },
                                "400": {"description": "a field the file describes is unreadable"},
                                "500": {"description": "not stored; the vendor pushes it again"},
                            },
                            parameters=[_path("channel", "the vendor channel's name")],
                        ),
                        "security": [{}],
                    }
                    for method in ("get", "post")
                }
                for kind, what in (("report", "delivery report"), ("mo", "reply (MO)"))
            },
            "/healthz": {"get": {**_HEALTH, "security": [{}]}},
            "/metrics": {
                "get": _op(
                    "Prometheus metrics",
                    {
                        "200": {
                            "description": "text exposition format",
                            "content": {"text/plain": {"schema": _STR}},
                        }
                    },
                )
            },
            "/openapi.json": {
                "get": {
                    **_op("this document", {"200": _json({"type": "object"}, "OpenAPI 3.1")}),
                    "security": [{}],
                }
            },
        },
        "webhooks": {
            "report": {
                "post": _op(
                    "a delivery report, pushed to [callbacks] report_url",
                    {"200": {"description": "any 2xx: delivered; else retried with back-off"}},
                    requestBody=_body({"$ref": "#/components/schemas/Report"}),
                )
            },
            "mo": {
                "post": _op(
                    "an MO, pushed to [callbacks] mo_url",
                    {"200": {"description": "any 2xx: delivered; else retried with back-off"}},
                    requestBody=_body({"$ref": "#/components/schemas/Mo"}),
                )
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": _ERROR,
                "Send": _SEND,
                "Message": _MESSAGE,
                "Report": _REPORT,
                "Mo": _MO,
                "Template": _TEMPLATE,
            },
        },
    }


def _file(summary: str, media: str) -> dict[str, Any]:
    """A GET answering a static file of *media* type (the web console's)."""
    ok = {"description": summary, "content": {media: {"schema": _STR}}}
    return {"get": _op(summary + " (no token needed)", {"200": ok})}


_CONSOLE_PATHS = {
    "/console": {
        "get": _op("redirects to /console/", {"302": {"description": "to /console/"}}),
    },
    "/console/": _file("the web console's page", "text/html"),
    "/console/console.js": _file("the web console's script", "text/javascript"),
    "/console/console.css": _file("the web console's style", "text/css"),
}


def simulator_openapi() -> dict[str, Any]:
    """The simulator's control API (:mod:`smsgw.ismg.control`) as an OpenAPI 3.1 document."""
    submit = _object(
        {
            "account": _STR,
            "protocol": _STR,
            "msg_id": _STR,
            "src": _STR,
            "dest": {"type": "array", "items": _STR},
            "text": _nullable(_STR),
            "msg_fmt": _INT,
            "time": _STR,
        }
    )
    policy = _object(
        {
            "reports": _object(
                {
                    "states": {"type": "object", "additionalProperties": _NUM},
                    "delay_s": {"type": "array", "items": _NUM, "minItems": 2, "maxItems": 2},
                    "rules": {"type": "array", "items": _object({"prefix": _STR, "stat": _STR})},
                }
            ),
            "faults": _object(
                {
                    "response_delay_s": _NUM,
                    "drop_response_ratio": _NUM,
                    "throttle_tps": _nullable(_NUM),
                    "disconnect_after_pdus": _nullable(_INT),
                    "submit_result": _INT,
                }
            ),
            "triggers": {
                "type": "array",
                "description": "deterministic behaviour by destination number, checked before "
                "reports and faults: the account's triggers first, then the others; the first "
                "match wins",
                "items": _object(
                    {
                        "match": {
                            "type": "string",
                            "pattern": r"^(\*|\*?[0-9]+|[0-9]+\*)$",
                            "description": "* any number, DIGITS exactly, DIGITS* a prefix, "
                            "*DIGITS a suffix",
                        },
                        "account": _nullable(_STR),
                        "response_delay_s": _NUM,
                        "no_response": _BOOL,
                        "close": _BOOL,
                        "result": _INT,
                        "throttle": _BOOL,
                        "terminate": _BOOL,
                        "nack": _BOOL,
                        "stat": _nullable(_STR),
                        "report_delay_s": _nullable(_NUM),
                        "no_report": _BOOL,
                        "mo_reply": _nullable(_STR),
                        "mo_delay_s": _NUM,
                    },
                    ("match",),
                    additionalProperties=False,
                ),
            },
        }
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "smsgw ismg-sim control API",
            "version": __version__,
            "description": "Inspect what the fake carrier received; inject MOs; set its policy.",
        },
        "servers": [{"url": "http://127.0.0.1:8081"}],
        "paths": {
            "/v1/submits": {
                "get": _op(
                    "the SUBMITs received, newest last",
                    {
                        "200": _json(
                            _object({"submits": {"type": "array", "items": submit}}), "decoded"
                        ),
                        **_errors(400),
                    },
                    parameters=[
                        _query("account", "only this account's", _STR),
                        _query("dest", "only to this number", _STR),
                        _query("limit", "most SUBMITs", {"type": "integer", "minimum": 1}),
                        _query("mask", "1: destination numbers masked", {"enum": ["0", "1"]}),
                    ],
                )
            },
            "/v1/mo": {
                "post": _op(
                    "send an MO to an SP",
                    {
                        "202": _json({"type": "object"}, "sent"),
                        **_errors(400, 404, 409, 413, 415),
                    },
                    requestBody=_body(
                        _object(
                            {
                                "account": _STR,
                                "from": _STR,
                                "to": _STR,
                                "content": _STR,
                                "protocol": _STR,
                                "long": {
                                    "type": "string",
                                    "enum": ["udh", "sar", "payload"],
                                    "description": "how a long MO is carried (SMPP only): "
                                    "UDH, SAR TLVs or message_payload; default the "
                                    "simulator's smpp_mo_long",
                                },
                            },
                            ("from", "to", "content"),
                            additionalProperties=False,
                        )
                    ),
                )
            },
            "/v1/policy": {
                "get": _op(
                    "the report, fault and trigger policy", {"200": _json(policy, "the policy")}
                ),
                "put": _op(
                    "merge a (partial) policy; answer the new one",
                    {"200": _json(policy, "the policy"), **_errors(400, 413, 415)},
                    requestBody=_body(policy),
                ),
            },
            "/v1/stats": {"get": _op("counters", {"200": _json({"type": "object"}, "counters")})},
            "/v1/vendors": {
                "get": _op(
                    "HTTP vendors (--vendor-http): balances, reports and MOs waiting for pull",
                    {"200": _json({"type": "object"}, "per vendor")},
                )
            },
            "/v1/forwarding": {
                "get": _op(
                    "CMPP_FWD state and counters", {"200": _json({"type": "object"}, "state")}
                )
            },
            "/healthz": {"get": _op("liveness", {"200": _json({"type": "object"}, "ok")})},
            "/openapi.json": {
                "get": _op("this document", {"200": _json({"type": "object"}, "OpenAPI 3.1")})
            },
            **_CONSOLE_PATHS,
        },
        "components": {"schemas": {"Error": _ERROR}},
    }


class OpenApiResource(JsonResource):
    """``GET /openapi.json``: a fixed OpenAPI document."""

    def __init__(self, document: dict[str, Any]) -> None:
        super().__init__()
        self.document = document

    def json_GET(self, request: Request) -> dict[str, Any]:
        """The document."""
        return self.document
