"""Tests for :mod:`smsgw.web`, and a synchronous JSON client for resource tests."""

from __future__ import annotations

import json
from typing import Any

import attrs
from treq.testing import StubTreq
from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.http_headers import Headers
from twisted.web.resource import IResource

_NO_JSON = object()


@attrs.frozen
class StubResponse:
    """A response read completely: status, headers and body bytes."""

    status: int
    headers: Headers
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body.decode("utf-8"))

    def header(self, name: str) -> str | None:
        """The last value of header *name*, if any."""
        values = self.headers.getRawHeaders(name)
        return values[-1] if values else None


class StubJsonClient:
    """Requests against a resource through :class:`treq.testing.StubTreq`, synchronously.

    Every request is flushed and its response read before returning, so tests
    stay on :class:`~twisted.trial.unittest.SynchronousTestCase`.
    """

    def __init__(self, case: SynchronousTestCase, resource: IResource) -> None:
        self._case = case
        self.stub = StubTreq(resource)

    def start(
        self,
        method: str,
        path: str,
        *,
        json: Any = _NO_JSON,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Deferred[Any]:
        """Send a request; the result is treq's response Deferred (flushed once)."""
        kwargs: dict[str, Any] = {}
        if json is not _NO_JSON:
            kwargs["json"] = json
        if data is not None:
            kwargs["data"] = data
        if headers is not None:
            kwargs["headers"] = headers
        response = self.stub.request(method, "http://sim.invalid" + path, **kwargs)
        self.stub.flush()
        return response

    def finish(self, response: Deferred[Any]) -> StubResponse:
        """Read a started request's response to the end."""
        self.stub.flush()
        result = self._case.successResultOf(response)
        body = self.stub.content(result)
        self.stub.flush()
        return StubResponse(result.code, result.headers, self._case.successResultOf(body))

    def request(self, method: str, path: str, **kwargs: Any) -> StubResponse:
        """Send a request and read its response."""
        return self.finish(self.start(method, path, **kwargs))
