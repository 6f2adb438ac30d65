"""The web console's files (:mod:`smsgw.web.console`), served by the control APIs.

What the page does in a browser is in :mod:`tests.web.test_console_browser`.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from smsgw.gns.control import control_resource as gns_control_resource
from smsgw.gns.routes import RouteTable
from smsgw.gns.server import GnsServer
from smsgw.ismg.control import control_resource
from smsgw.web.console import CONTENT_SECURITY_POLICY, ConsoleResource
from smsgw.web.jsonapi import BearerAuthenticated
from tests.ismg.test_control import FakeSimulator
from tests.web import StubJsonClient

STATIC = Path(__file__).parents[2] / "smsgw" / "web" / "static"


class ConsoleFilesTests(SynchronousTestCase):
    """GET /console/ and its script and style on the ismg-sim control API."""

    def setUp(self) -> None:
        self.client = StubJsonClient(self, control_resource(FakeSimulator()))

    def test_page(self) -> None:
        """/console/ is the ismg-sim page, as HTML with the strict policy headers."""
        response = self.client.request("GET", "/console/")
        self.assertEqual(response.status, 200)
        self.assertEqual(response.header("content-type"), "text/html; charset=utf-8")
        self.assertEqual(response.header("content-security-policy"), CONTENT_SECURITY_POLICY)
        self.assertEqual(response.header("x-content-type-options"), "nosniff")
        self.assertEqual(response.header("cache-control"), "no-store")
        self.assertIn(b'data-role="ismg"', response.body)

    def test_script_and_style(self) -> None:
        """console.js and console.css are served with their types and the policy."""
        for name, media in (("console.js", "text/javascript"), ("console.css", "text/css")):
            response = self.client.request("GET", f"/console/{name}")
            self.assertEqual(response.status, 200)
            self.assertEqual(response.header("content-type"), f"{media}; charset=utf-8")
            self.assertEqual(response.header("content-security-policy"), CONTENT_SECURITY_POLICY)
            self.assertEqual(response.body, (STATIC / name).read_bytes())

    def test_redirect(self) -> None:
        """/console redirects to /console/, where the page's relative links resolve."""
        stub = self.client.stub
        d = stub.request("GET", "http://sim.invalid/console", allow_redirects=False)
        stub.flush()
        response = self.successResultOf(d)
        location = response.headers.getRawHeaders("location")
        self.assertEqual((response.code, location), (302, ["/console/"]))

    def test_unknown_file(self) -> None:
        """Another name under /console/ is a 404."""
        self.assertEqual(self.client.request("GET", "/console/ismg.html.bak").status, 404)

    def test_head(self) -> None:
        """HEAD /console/ answers the headers without the page."""
        response = self.client.request("HEAD", "/console/")
        self.assertEqual((response.status, response.body), (200, b""))

    def test_open_without_token(self) -> None:
        """Behind the control token (as ismg-sim mounts it) the page needs none, the data does."""
        root = BearerAuthenticated(
            control_resource(FakeSimulator()), [b"t0ken"], open_paths=(b"console",)
        )
        client = StubJsonClient(self, root)
        self.assertEqual(client.request("GET", "/console/").status, 200)
        self.assertEqual(client.request("GET", "/v1/stats").status, 401)


class GnsConsoleTests(SynchronousTestCase):
    """GET /console/ on the gns-sim control API."""

    def test_page(self) -> None:
        """The gns-sim page shares the script and style."""
        server = GnsServer(Clock(), RouteTable([], [], now=Clock().seconds), [])
        client = StubJsonClient(self, gns_control_resource(server))
        response = client.request("GET", "/console/")
        self.assertEqual(response.status, 200)
        self.assertIn(b'data-role="gns"', response.body)
        self.assertEqual(client.request("GET", "/console/console.js").status, 200)


class StaticFilesTests(SynchronousTestCase):
    """The shipped files keep to the policy and ship in the wheel."""

    def test_no_inline_code_or_external_url(self) -> None:
        """The pages load only console.js and console.css: no inline script, style or handler."""
        for page in ("ismg.html", "gns.html"):
            html = (STATIC / page).read_text("utf-8")
            scripts = re.findall(r"<script[^>]*>", html)
            self.assertEqual(scripts, ['<script src="console.js" defer>'])
            self.assertNotIn("<style", html)
            self.assertNotRegex(html, r"\son[a-z]+=")
            self.assertNotRegex(html, r"(?i)(src|href)=\"(https?:)?//")

    def test_no_inner_html(self) -> None:
        """The script never writes markup: it inserts with textContent only."""
        script = (STATIC / "console.js").read_text("utf-8")
        code = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("//"))
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            self.assertNotIn(sink, code)

    def test_package_data(self) -> None:
        """setup.cfg ships every file of smsgw/web/static in the wheel."""
        config = configparser.ConfigParser()
        config.read(Path(__file__).parents[2] / "setup.cfg")
        patterns = config["options.package_data"]["smsgw.web"].split()
        web = STATIC.parent
        shipped = {path for pattern in patterns for path in web.glob(pattern)}
        self.assertEqual(shipped, set(STATIC.iterdir()))

    def test_role_pages(self) -> None:
        """ConsoleResource serves a page per role."""
        self.assertEqual(set(ConsoleResource("gns").children), {b"", b"console.js", b"console.css"})
