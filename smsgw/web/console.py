"""The simulators' web console: a page and a small script served by their control API.

``GET /console/`` answers the page for the role (``ismg.html`` for
ismg-sim, ``gns.html`` for gns-sim), which loads ``console.js`` and
``console.css`` from the same folder.  The files ship in the package
(``smsgw/web/static/``); there is no build step.  The page holds no data:
it is served without the control token, and its script asks the JSON
control API for everything, sending the token the user typed as
``Authorization: Bearer`` (kept in the tab's ``sessionStorage``).

Every answer carries a strict Content-Security-Policy: scripts, styles and
API calls from this origin only, no inline script, nothing external.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Literal

from twisted.web.resource import NoResource, Resource
from twisted.web.server import Request
from twisted.web.util import redirectTo

__all__ = ["CONTENT_SECURITY_POLICY", "ConsoleResource"]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""The console's policy: this origin's script, style and API only; no inline code."""

_CONTENT_TYPES = {
    "html": b"text/html; charset=utf-8",
    "js": b"text/javascript; charset=utf-8",
    "css": b"text/css; charset=utf-8",
}


class _Asset(Resource):
    """One shipped file, answered with the console's security headers."""

    isLeaf = True

    def __init__(self, name: str) -> None:
        super().__init__()
        self.body = files("smsgw.web").joinpath("static", name).read_bytes()
        self.content_type = _CONTENT_TYPES[name.rsplit(".", 1)[1]]

    def render_GET(self, request: Request) -> bytes:
        """The file, not to be cached (a new version shows on reload)."""
        request.setHeader(b"content-type", self.content_type)
        request.setHeader(b"content-security-policy", CONTENT_SECURITY_POLICY.encode("ascii"))
        request.setHeader(b"x-content-type-options", b"nosniff")
        request.setHeader(b"referrer-policy", b"no-referrer")
        request.setHeader(b"x-frame-options", b"DENY")
        request.setHeader(b"cache-control", b"no-store")
        return self.body


class ConsoleResource(Resource):
    """``/console/`` and its script and style; ``/console`` redirects to ``/console/``.

    :param role: which page: ``ismg`` (ismg-sim) or ``gns`` (gns-sim).
    """

    def __init__(self, role: Literal["ismg", "gns"]) -> None:
        super().__init__()
        self.putChild(b"", _Asset(f"{role}.html"))
        self.putChild(b"console.js", _Asset("console.js"))
        self.putChild(b"console.css", _Asset("console.css"))

    def getChild(self, path: bytes, request: Request) -> Resource:
        """Unknown files are 404s."""
        return NoResource()

    def render_GET(self, request: Request) -> bytes:
        """Redirect ``/console`` to ``/console/``, where the page's relative links work."""
        return redirectTo(b"/console/", request)
