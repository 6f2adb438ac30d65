"""The SP HTTP API: JSON over plain twisted.web resources.

::

    POST   /v1/sms                send (sync | async | queue)
    GET    /v1/sms/{id}           a message's current state
    GET    /v1/inbound?limit=N    MOs and reports not yet fetched, oldest first (marked fetched)
    GET    /v1/inbound?after=C    the items after cursor C, oldest first, marking nothing
    POST   /v1/inbound/ack        {"through": C}: mark the items up to cursor C fetched
    GET    /v1/templates          list;   POST /v1/templates  create
    GET|PUT|DELETE /v1/templates/{name}
    GET    /v1/balance            per channel, where the upstream can tell
    GET    /healthz, GET /metrics, GET /openapi.json (this list as OpenAPI 3.1)

With API keys configured every request but ``/healthz`` needs
``Authorization: Bearer KEY`` (compared with :func:`hmac.compare_digest`).
Errors are ``{"error": CODE, "message": …, "field": …}`` with a 4xx status
naming the bad field.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from twisted.web.resource import Resource
from twisted.web.server import Request

from smsgw.sp.gateway import Gateway, Item, RequestError, SendRequest
from smsgw.sp.templates import TemplateError, validate_template
from smsgw.store.interface import TemplateExists
from smsgw.store.model import Mode, Template, TemplateEngine
from smsgw.web.jsonapi import (
    BearerAuthenticated,
    JsonError,
    JsonResource,
    JsonText,
    query_arg,
    query_int,
    read_json,
    reject_unknown_fields,
    require_field,
    require_object,
)
from smsgw.web.openapi import OpenApiResource, sp_openapi
from smsgw.web.views import inbound_view, message_json, message_view

_SMS_FIELDS = (
    "to", "content", "template", "params", "items", "report", "src_ext", "mode", "send_at",
    "channel", "external_id",
)  # fmt: skip
_ITEM_FIELDS = ("to", "content", "params")
_TEMPLATE_FIELDS = ("name", "engine", "body")
#: Most recipients one request may carry.
MAX_RECIPIENTS = 10_000
#: Most digits of ``src_ext``: the source number (CMPP Src_Id, SGIP SPNumber,
#: SMGP SrcTermID) is 21 octets, and the channel's own number comes first.
MAX_SRC_EXT = 20
#: Most characters of ``external_id``.
MAX_EXTERNAL_ID = 128


def _parse_time(text: str) -> float:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise JsonError(400, "bad_field", "send_at: expected ISO-8601", field="send_at") from None
    if when.tzinfo is None:
        from smsgw.protocols.times import BEIJING

        when = when.replace(tzinfo=BEIJING)  # a bare time is Beijing time
    return when.timestamp()


def parse_send_request(body: Any) -> SendRequest:
    """Check a ``POST /v1/sms`` body's shape; :class:`JsonError` names the field."""
    obj = require_object(body)
    reject_unknown_fields(obj, _SMS_FIELDS)
    to = obj.get("to")
    items_raw = obj.get("items")
    items: list[Item] = []
    if to is not None and items_raw is not None:
        raise JsonError(400, "bad_field", "give either 'to' or 'items', not both", field="to")
    if isinstance(to, str):
        items = [Item(to)]
    elif isinstance(to, list):
        if not to or not all(isinstance(t, str) for t in to):
            raise JsonError(400, "bad_field", "'to': expected numbers as strings", field="to")
        items = [Item(t) for t in to]
    elif to is not None:
        raise JsonError(400, "bad_field", "'to': expected a string or a list", field="to")
    if items_raw is not None:
        if not isinstance(items_raw, list) or not items_raw:
            raise JsonError(400, "bad_field", "'items': expected a list", field="items")
        for i, raw in enumerate(items_raw):
            if not isinstance(raw, dict):
                raise JsonError(400, "bad_field", f"items[{i}]: expected an object",
                                field=f"items[{i}]")  # fmt: skip
            try:
                reject_unknown_fields(raw, _ITEM_FIELDS)
                item_to = require_field(raw, "to", str)
                content = require_field(raw, "content", str, optional=True)
                params = require_field(raw, "params", dict, optional=True)
            except JsonError as e:
                e.field = f"items[{i}].{e.field}" if e.field else f"items[{i}]"
                raise
            items.append(Item(item_to, content, params))
    if not items:
        raise JsonError(400, "missing_field", "'to' or 'items' is required", field="to")
    if len(items) > MAX_RECIPIENTS:
        raise JsonError(400, "bad_field", f"at most {MAX_RECIPIENTS} recipients", field="to")
    content = require_field(obj, "content", str, optional=True)
    template = require_field(obj, "template", str, optional=True)
    params = obj.get("params", {})
    if isinstance(params, list):
        params = {k: v for k, v in zip("ABCDE", params, strict=False)}
    elif not isinstance(params, dict):
        raise JsonError(400, "bad_field", "'params': expected an object or a list", field="params")
    if content is not None and template is not None:
        raise JsonError(400, "bad_field", "give 'content' or 'template', not both",
                        field="template")  # fmt: skip
    if content is None and template is None and not all(i.content for i in items):
        raise JsonError(400, "missing_field", "'content' or 'template' is required",
                        field="content")  # fmt: skip
    if content is not None and not content:
        raise JsonError(400, "bad_field", "'content' is empty", field="content")
    report = require_field(obj, "report", bool, optional=True)
    src_ext = require_field(obj, "src_ext", str, optional=True) or ""
    if src_ext and not (src_ext.isascii() and src_ext.isdigit() and len(src_ext) <= MAX_SRC_EXT):
        raise JsonError(400, "bad_field", f"'src_ext': expected at most {MAX_SRC_EXT} digits 0-9",
                        field="src_ext")  # fmt: skip
    external_id = require_field(obj, "external_id", str, optional=True)
    if external_id is not None and len(external_id) > MAX_EXTERNAL_ID:
        raise JsonError(400, "bad_field", f"'external_id': at most {MAX_EXTERNAL_ID} characters",
                        field="external_id")  # fmt: skip
    mode_text = require_field(obj, "mode", str, optional=True) or "queue"
    try:
        mode = Mode(mode_text)
    except ValueError:
        raise JsonError(400, "bad_field", "'mode': sync, async or queue", field="mode") from None
    send_at_text = require_field(obj, "send_at", str, optional=True)
    return SendRequest(
        items=tuple(items),
        content=content,
        template=template,
        params=params,
        report=True if report is None else report,
        src_ext=src_ext,
        mode=mode,
        send_at=_parse_time(send_at_text) if send_at_text else None,
        channel=require_field(obj, "channel", str, optional=True),
        external_id=external_id,
        from_items=items_raw is not None,
    )


class _Sms(JsonResource):
    def __init__(self, gateway: Gateway) -> None:
        super().__init__()
        self.gateway = gateway

    def getChild(self, path: bytes, request: Request) -> Resource:
        return _OneSms(self.gateway, path.decode("ascii", "replace"))

    async def json_POST(self, request: Request) -> tuple[int, Any]:
        send = parse_send_request(read_json(request))
        try:
            accepted = await self.gateway.accept(send)
        except RequestError as e:
            raise JsonError(e.status, e.code, e.message, field=e.field) from None
        body = JsonText(
            message_json(accepted.message, accepted.rejected, repeated=accepted.repeated)
        )
        if accepted.repeated:
            return 200, body
        if send.mode is Mode.SYNC:
            return (200 if accepted.complete else 504), body
        return 202, body


class _OneSms(JsonResource):
    isLeaf = True

    def __init__(self, gateway: Gateway, message_id: str) -> None:
        super().__init__()
        self.gateway = gateway
        self.message_id = message_id

    async def json_GET(self, request: Request) -> Any:
        message = await self.gateway.store.get_message(self.message_id)
        if message is None:
            raise JsonError(404, "unknown_message", "no such message", field="id")
        return message_view(message)


#: Largest cursor (an inbound item's id: a SQLite rowid).
_MAX_CURSOR = 2**63 - 1


class _Inbound(JsonResource):
    """``GET /v1/inbound``: mark-as-fetched pull, or cursor pull with ``?after=``.

    Without ``after`` the oldest items not fetched yet are answered and
    marked fetched.  With ``after=C`` (0 to start) the items whose ``id`` is
    above C are answered, fetched or not, and nothing is marked; the answer's
    ``cursor`` (the last item's id, or C) is the next request's ``after``, and
    ``POST /v1/inbound/ack`` marks what the reader has processed.
    """

    def __init__(self, gateway: Gateway) -> None:
        super().__init__()
        self.gateway = gateway
        self.putChild(b"ack", _InboundAck(gateway))

    async def json_GET(self, request: Request) -> Any:
        limit = query_int(request, "limit", default=100, minimum=1, maximum=1000)
        if query_arg(request, "after") is None:
            items = await self.gateway.store.fetch_inbound(limit)
            return {"items": [inbound_view(i) for i in items]}
        after = query_int(request, "after", default=0, minimum=0, maximum=_MAX_CURSOR)
        items = await self.gateway.store.list_inbound(after, limit)
        cursor = items[-1].id if items else after
        return {"items": [inbound_view(i) for i in items], "cursor": cursor}


class _InboundAck(JsonResource):
    """``POST /v1/inbound/ack`` ``{"through": C}``: items up to cursor C are fetched."""

    def __init__(self, gateway: Gateway) -> None:
        super().__init__()
        self.gateway = gateway

    async def json_POST(self, request: Request) -> Any:
        body = require_object(read_json(request))
        reject_unknown_fields(body, ("through",))
        through = require_field(body, "through", int)
        if not 0 <= through <= _MAX_CURSOR:
            raise JsonError(400, "bad_field", "'through': expected a cursor (an item id)",
                            field="through")  # fmt: skip
        acknowledged = await self.gateway.store.ack_inbound(through)
        return {"through": through, "acknowledged": acknowledged}


def _template_json(t: Template) -> dict[str, Any]:
    return {"name": t.name, "engine": str(t.engine), "body": t.body,
            "created_at": t.created_at, "updated_at": t.updated_at}  # fmt: skip


def _read_template(request: Request, name: str | None, now: float) -> Template:
    body = require_object(read_json(request))
    reject_unknown_fields(body, _TEMPLATE_FIELDS)
    given = require_field(body, "name", str, optional=name is not None)
    if name is not None and given is not None and given != name:
        raise JsonError(400, "bad_field", "'name' differs from the URL", field="name")
    name = name or given
    assert name is not None
    if not name or len(name) > 64:
        raise JsonError(400, "bad_field", "'name': 1 to 64 characters", field="name")
    engine_text = require_field(body, "engine", str, optional=True) or "simple"
    try:
        engine = TemplateEngine(engine_text)
    except ValueError:
        raise JsonError(400, "bad_field", "'engine': simple or jinja2", field="engine") from None
    text = require_field(body, "body", str)
    try:
        validate_template(str(engine), text)
    except TemplateError as e:
        raise JsonError(400, "bad_template", str(e), field="body") from None
    return Template(name, engine, text, now, now)


class _Templates(JsonResource):
    def __init__(self, gateway: Gateway) -> None:
        super().__init__()
        self.gateway = gateway

    def getChild(self, path: bytes, request: Request) -> Resource:
        return _OneTemplate(self.gateway, path.decode("utf-8", "replace"))

    async def json_GET(self, request: Request) -> Any:
        templates = await self.gateway.store.list_templates()
        return {"templates": [_template_json(t) for t in templates]}

    async def json_POST(self, request: Request) -> tuple[int, Any]:
        template = _read_template(request, None, self.gateway.clock.seconds())
        try:
            # IMessageStore.put_template raises TemplateExists for a taken name.
            await self.gateway.store.put_template(template, replace=False)
        except TemplateExists:
            raise JsonError(409, "template_exists", f"template {template.name!r} exists",
                            field="name") from None  # fmt: skip
        return 201, _template_json(template)


class _OneTemplate(JsonResource):
    isLeaf = True

    def __init__(self, gateway: Gateway, name: str) -> None:
        super().__init__()
        self.gateway = gateway
        self.name = name

    async def json_GET(self, request: Request) -> Any:
        template = await self.gateway.store.get_template(self.name)
        if template is None:
            raise JsonError(404, "unknown_template", "no such template", field="name")
        return _template_json(template)

    async def json_PUT(self, request: Request) -> tuple[int, Any]:
        template = _read_template(request, self.name, self.gateway.clock.seconds())
        created = await self.gateway.store.put_template(template, replace=True)
        return (201 if created else 200), _template_json(template)

    async def json_DELETE(self, request: Request) -> tuple[int, Any]:
        if not await self.gateway.store.delete_template(self.name):
            raise JsonError(404, "unknown_template", "no such template", field="name")
        return 204, None


class _Balance(JsonResource):
    """``GET /v1/balance[?channel=NAME]``: what each channel knows of its account's balance."""

    def __init__(self, gateway: Gateway) -> None:
        super().__init__()
        self.gateway = gateway

    async def json_GET(self, request: Request) -> Any:
        # An HTTP vendor is asked through its file (cached per channel); the
        # carrier protocols carry no account balance (CMPP_QUERY gives only
        # the day's counters) and say so.
        wanted = query_arg(request, "channel")
        if wanted and wanted not in self.gateway.channels:
            raise JsonError(404, "unknown_channel", f"no channel {wanted!r}", field="channel")
        names = [wanted] if wanted else list(self.gateway.channels)
        channels = []
        for name in names:
            ch = self.gateway.channels[name]
            balance = await ch.balance()
            entry: dict[str, Any] = {
                "channel": name,
                "protocol": balance.protocol,
                "balance": balance.balance,
                "reason": balance.reason,
                "links": len(ch.links()),
            }
            if balance.products:
                entry["products"] = balance.products
            if balance.cached_at is not None:
                entry["asked_at"] = balance.cached_at
            channels.append(entry)
        return {"channels": channels}


class _Health(JsonResource):
    def __init__(self, gateway: Gateway) -> None:
        super().__init__()
        self.gateway = gateway

    def json_GET(self, request: Request) -> Any:
        links = {name: len(ch.links()) for name, ch in self.gateway.channels.items()}
        return {"ok": True, "links": links}


def api_resource(
    gateway: Gateway,
    metrics: Any = None,
    api_keys: Sequence[str] = (),
    *,
    push: Resource | None = None,
) -> Resource:
    """The root resource of the SP HTTP API.

    :param push: mounted at ``/push`` without the API key (vendors pushing
        reports and MOs cannot send one; see the upstream's ``push_token``).
    """
    root = JsonResource()
    if push is not None:
        root.putChild(b"push", push)
    v1 = JsonResource()
    root.putChild(b"v1", v1)
    v1.putChild(b"sms", _Sms(gateway))
    v1.putChild(b"inbound", _Inbound(gateway))
    v1.putChild(b"templates", _Templates(gateway))
    v1.putChild(b"balance", _Balance(gateway))
    root.putChild(b"healthz", _Health(gateway))
    root.putChild(b"openapi.json", OpenApiResource(sp_openapi()))
    if metrics is not None:
        from smsgw.metrics import MetricsResource

        root.putChild(b"metrics", MetricsResource(metrics.registry))
    if api_keys:
        return BearerAuthenticated(
            root,
            [k.encode("utf-8") for k in api_keys],
            open_paths=(b"healthz", b"push", b"openapi.json"),
        )
    return root
