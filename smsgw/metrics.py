"""Prometheus metrics: one registry per service tree, served by :class:`MetricsResource`."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from twisted.web.resource import Resource
from twisted.web.server import Request


class Metrics:
    """The SP gateway's counters and gauges (issue 4 §7)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.accepted = Counter("smsgw_accepted", "Messages accepted", ["mode"], registry=r)
        self.submitted = Counter(
            "smsgw_submitted_segments",
            "Segments answered by the upstream, by channel and result code",
            ["channel", "result"],
            registry=r,
        )
        self.reports = Counter(
            "smsgw_reports", "Status reports received, by Stat", ["channel", "stat"], registry=r
        )
        self.queue_depth = Gauge("smsgw_queue_depth", "Segments queued", registry=r)
        self.in_flight = Gauge(
            "smsgw_in_flight", "Segments submitted and not answered", ["channel"], registry=r
        )
        self.callback_failures = Counter(
            "smsgw_callback_failures", "Callback attempts that failed", ["kind"], registry=r
        )
        self.callbacks_sent = Counter(
            "smsgw_callbacks_sent", "Callbacks delivered", ["kind"], registry=r
        )


class MetricsResource(Resource):
    """``GET /metrics`` in the Prometheus text format."""

    isLeaf = True

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__()
        self.registry = registry

    def render_GET(self, request: Request) -> bytes:
        request.setHeader(b"Content-Type", CONTENT_TYPE_LATEST.encode("ascii"))
        return generate_latest(self.registry)
