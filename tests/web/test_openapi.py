"""The OpenAPI 3.1 documents (:mod:`smsgw.web.openapi`): valid, served, and complete.

Completeness is checked both ways on the real resource trees: every route
the server answers (static children, and dynamic ones found by probing each
resource with an unknown name) with every method it allows is in the
document, and every path and method of the document is answered.
"""

from __future__ import annotations

import re
from typing import Any

from openapi_spec_validator import validate
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.resource import Resource
from twisted.web.test.requesthelper import DummyRequest

from smsgw.ismg.control import control_resource
from smsgw.metrics import Metrics
from smsgw.vendor.client import PushResource
from smsgw.web.api import api_resource
from smsgw.web.jsonapi import JsonResource, NotFoundResource
from smsgw.web.openapi import simulator_openapi, sp_openapi
from tests.ismg.test_control import FakeSimulator
from tests.sp.test_gateway import GatewayHarness
from tests.vendor import shipped
from tests.web import StubJsonClient

#: Sent as the unknown name that finds dynamic children (``/v1/sms/{id}``).
_PROBE = b"probe-0123abcd"
_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


def _methods(resource: Resource) -> set[str]:
    """The methods *resource* answers, lower case, without HEAD (it follows GET)."""
    if isinstance(resource, JsonResource):
        names = resource.allowed_methods()
    else:
        names = [name[len("render_") :] for name in dir(resource) if name.startswith("render_")]
    return {name.lower() for name in names} - {"head"}


def served_routes(resource: Resource, prefix: str = "") -> dict[str, set[str]]:
    """Path (OpenAPI style, ``{param}`` for dynamic parts) to methods, for a resource tree."""
    routes: dict[str, set[str]] = {}
    methods = _methods(resource)
    if methods and prefix:
        routes[prefix] = methods
    for name, child in resource.children.items():
        routes.update(served_routes(child, f"{prefix}/{name.decode()}"))
    if not resource.isLeaf:
        dynamic = resource.getChildWithDefault(_PROBE, DummyRequest([]))
        # Ours answer NotFoundResource; a plain twisted Resource an error page with code 404.
        missing = isinstance(dynamic, NotFoundResource) or getattr(dynamic, "code", None) == 404
        if not missing and _PROBE not in resource.children:
            routes.update(served_routes(dynamic, f"{prefix}/{{param}}"))
    return routes


def described_routes(document: dict[str, Any]) -> dict[str, set[str]]:
    """Path (its parameters renamed ``{param}``) to methods, from an OpenAPI document."""
    return {
        re.sub(r"\{[^}]+\}", "{param}", path): {m for m in item if m in _METHODS}
        for path, item in document["paths"].items()
    }


class _OpenApiChecks:
    """Shared checks; *document* and *root* are set by the subclasses."""

    document: dict[str, Any]
    root: Resource

    def test_valid(self: Any) -> None:
        """The document is valid OpenAPI 3.1 (openapi-spec-validator)."""
        self.assertEqual(self.document["openapi"], "3.1.0")
        validate(self.document)

    def test_every_route_described(self: Any) -> None:
        """Every route and method the server answers is described, and nothing else."""
        served = {(p, m) for p, ms in served_routes(self.root).items() for m in ms}
        described = {(p, m) for p, ms in described_routes(self.document).items() for m in ms}
        served = {(p.replace("{channel}", "{param}"), m) for p, m in served}
        self.assertEqual(
            sorted(served),
            sorted(described),
            "served routes and OpenAPI paths differ: describe each in smsgw/web/openapi.py "
            f"(served only: {sorted(served - described)}; "
            f"described only: {sorted(described - served)})",
        )

    def test_served(self: Any) -> None:
        """GET /openapi.json answers the document."""
        response = StubJsonClient(self, self.root).request("GET", "/openapi.json")
        self.assertEqual((response.status, response.json()), (200, self.document))


class SpOpenApiTests(_OpenApiChecks, SynchronousTestCase):
    """The SP HTTP API's document."""

    def setUp(self) -> None:
        self.harness = GatewayHarness(self)
        # The push routes, as an HTTP vendor channel called "{channel}" mounts them.
        channel = Resource()
        for kind in ("report", "mo"):
            channel.putChild(kind.encode(), PushResource(shipped("kx1680"), kind, lambda r: None))
        push = Resource()
        push.putChild(b"{channel}", channel)
        self.root = api_resource(self.harness.gateway, Metrics(), push=push)
        self.document = sp_openapi()

    def test_webhooks(self) -> None:
        """The report and MO pushes are webhooks with the inbound items' schemas."""
        hooks = self.document["webhooks"]
        self.assertEqual(set(hooks), {"report", "mo"})
        schema = hooks["report"]["post"]["requestBody"]["content"]["application/json"]["schema"]
        self.assertEqual(schema, {"$ref": "#/components/schemas/Report"})

    def test_open_without_key(self) -> None:
        """With API keys, /openapi.json (like /healthz) needs none."""
        root = api_resource(self.harness.gateway, Metrics(), ["k-1"])
        response = StubJsonClient(self, root).request("GET", "/openapi.json")
        self.assertEqual(response.status, 200)
        self.assertEqual(StubJsonClient(self, root).request("GET", "/v1/balance").status, 401)


class SimulatorOpenApiTests(_OpenApiChecks, SynchronousTestCase):
    """The simulator control API's document."""

    def setUp(self) -> None:
        self.root = control_resource(FakeSimulator())
        self.document = simulator_openapi()
