"""The web console (:mod:`smsgw.web.console`) in a real headless Chromium.

The browser is Debian's (``/usr/bin/chromium`` and ``/usr/bin/chromedriver``,
which ``./dev test`` installs when it can), driven by Selenium with the driver
named, so Selenium Manager downloads nothing.  The simulator runs in this
process on loopback ports, as ``twistd smsgw`` builds it, with a real CMPP
client logged in; every Selenium call blocks, so each runs in a thread
(:func:`deferToThread`) while the reactor serves the page and its API calls.
Every wait is bounded and the browser is quit on cleanup.

Skipped, saying why, only where the browser, the driver or Selenium is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from smsgw.text import decode_text
from tests.ismg.test_live import LOOPBACK, _ServiceTestCase
from tests.sp.test_channel import SECRET, SP_ID, SRC, start_channel, submit_pdu, within

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover - the test extra installs it
    webdriver = None

T = TypeVar("T")

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
TOKEN = "console-t0ken"
#: Longest wait for the page to show something (it polls every 1.5 s).
WAIT_S = 15.0


def _skip_reason() -> str | None:
    """Why the browser tests cannot run here, or ``None``."""
    if webdriver is None:
        return "selenium is not installed (pip install -e '.[test]')"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.is_file():
            return f"{path} is missing: apt-get install {package} (./dev test does it as root)"
    return None


def _start_browser(profile: str) -> Any:
    """A headless Debian Chromium with a fresh profile in *profile*; blocks."""
    # The driver is named, so Selenium Manager is not run; offline in case it were.
    os.environ.setdefault("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(WAIT_S)
    driver.set_script_timeout(WAIT_S)
    return driver


#: The text of each cell of a table, row by row (header row first).
_TABLE_JS = (
    "return [...document.getElementById(arguments[0]).rows]"
    ".map(tr => [...tr.cells].map(td => td.textContent));"
)


class _BrowserTestCase(_ServiceTestCase):
    """A simulator role served in-process and a browser driven from threads."""

    timeout = 90
    skip = _skip_reason()

    async def open_browser(self, base: str) -> None:
        """Start the browser (quit on cleanup) and load *base*/console/."""
        profile = tempfile.mkdtemp(prefix="smsgw-chromium-")
        self.addCleanup(shutil.rmtree, profile, ignore_errors=True)
        self.driver = await within(deferToThread(_start_browser, profile), 60)
        # Registered last, so it runs first: no page polls once the services stop.
        self.addCleanup(lambda: within(deferToThread(self.driver.quit), 30))
        await self.browse(lambda d: d.get(base + "/console/"))

    def browse(self, action: Callable[[Any], T]) -> Deferred[T]:
        """Run *action(driver)* in a thread, bounded."""
        return within(deferToThread(action, self.driver), WAIT_S + 10)

    async def wait_for(self, what: str, predicate: Callable[[Any], Any]) -> Any:
        """Wait (bounded) until *predicate(driver)* is truthy; its value."""

        def wait(driver: Any) -> Any:
            return WebDriverWait(driver, WAIT_S, poll_frequency=0.2).until(
                predicate, f"the page never showed {what}"
            )

        return await self.browse(wait)

    async def wait_text(self, element_id: str, text: str) -> str:
        """Wait until the element's text contains *text*; its whole text."""

        def shown(driver: Any) -> str | None:
            content: str = driver.find_element(By.ID, element_id).text
            return content if text in content else None

        result: str = await self.wait_for(f"{text!r} in #{element_id}", shown)
        return result

    async def rows(self, table_id: str) -> list[list[str]]:
        """The table's cells' text, header row first."""
        result: list[list[str]] = await self.browse(lambda d: d.execute_script(_TABLE_JS, table_id))
        return result

    async def type_into(self, element_id: str, text: str, *, clear: bool = True) -> None:
        """Type *text* into an input or textarea as a user would."""

        def type_(driver: Any) -> None:
            element = driver.find_element(By.ID, element_id)
            if clear:
                element.clear()
            element.send_keys(text)

        await self.browse(type_)

    async def click(self, element_id: str) -> None:
        """Click an element."""
        await self.browse(lambda d: d.find_element(By.ID, element_id).click())

    async def use_token(self, token: str = TOKEN) -> None:
        """Type the control token and press Use; wait until the data shows."""
        await self.type_into("token", token)
        await self.click("token-save")
        await self.wait_text("status", "Live")

    async def csp_violations(self) -> list[str]:
        """The browser console's Content-Security-Policy messages."""
        entries = await self.browse(lambda d: d.get_log("browser"))
        return [e["message"] for e in entries if "Content Security Policy" in e["message"]]


class IsmgConsoleTests(_BrowserTestCase):
    """The ismg-sim page: token, counters, SUBMITs, MO injection, policy."""

    async def setUp(self) -> None:  # type: ignore[override]
        super().setUp()
        self.patch(os, "environ", {**os.environ, "SMSGW_CONTROL_TOKEN": TOKEN})
        self.top = self.start(
            ["--role=ismg-sim", "--cmpp", LOOPBACK, "--control", LOOPBACK,
             "--account", f"{SP_ID}:{SECRET}"]
        )  # fmt: skip
        self.sim = self.top.simulator  # type: ignore[attr-defined]
        cmpp_port = await self.bound_port(self.top.getServiceNamed("cmpp"))
        control_port = await self.bound_port(self.top.getServiceNamed("control"))
        self.channel = start_channel(self, cmpp_port, self.on_deliver)
        await within(self.channel.session())
        await self.open_browser(f"http://127.0.0.1:{control_port}")

    async def test_token_asked_and_used(self) -> None:
        """Without the token the page shows the API's 401; with it, live data; no token in URLs."""
        await self.wait_text("status", "401 unauthorized")
        await self.use_token()
        url = await self.browse(lambda d: d.current_url)
        self.assertNotIn(TOKEN, url)
        stored = await self.browse(
            lambda d: d.execute_script("return sessionStorage.getItem('smsgw-control-token')")
        )
        self.assertEqual(stored, TOKEN)
        self.assertEqual(await self.csp_violations(), [])

    async def test_counters_per_account_and_protocol(self) -> None:
        """A SUBMIT from a real client shows in the account's row for its protocol."""
        await self.use_token()
        await within(Deferred.fromCoroutine(self.channel.submit(submit_pdu())))
        await self.wait_for(
            "the account's cmpp2 row with one SUBMIT",
            lambda d: self._cmpp2_submits(d.execute_script(_TABLE_JS, "accounts")) == "1",
        )
        [header, *body] = await self.rows("accounts")
        self.assertEqual(header[:2], ["account", "protocol"])
        self.assertIn("sessions", header)
        self.assertIn([SP_ID, "(all)"], [row[:2] for row in body])

    @staticmethod
    def _cmpp2_submits(rows: list[list[str]]) -> str | None:
        header, *body = rows
        for row in body:
            if row[:2] == [SP_ID, "cmpp2"]:
                return row[header.index("submits")] if "submits" in header else None
        return None

    async def test_submits_masked_then_shown(self) -> None:
        """SUBMITs list with masked numbers, the full ones once "show numbers" is ticked."""
        await self.use_token()
        await within(Deferred.fromCoroutine(self.channel.submit(submit_pdu(text="<b>hi</b>"))))
        await self.wait_text("submits", "138****8000")
        text = await self.browse(lambda d: d.find_element(By.ID, "submits").text)
        self.assertNotIn("13800138000", text)
        # The text is shown as text: no element made from it.
        self.assertIn("<b>hi</b>", text)
        bold = await self.browse(lambda d: d.find_elements(By.CSS_SELECTOR, "#submits b"))
        self.assertEqual(bold, [])
        await self.click("show-numbers")
        await self.wait_text("submits", "13800138000")

    async def test_mo_reaches_the_client(self) -> None:
        """An MO typed into the form reaches the logged-in client as a DELIVER."""
        await self.use_token()
        await self.type_into("mo-account", SP_ID)
        await self.type_into("mo-from", "13900001111")
        await self.type_into("mo-to", SRC)
        await self.type_into("mo-content", "查询余额")
        await self.click("mo-send")
        deliver = await self.next_deliver()
        self.assertEqual(decode_text(deliver.msg_content, deliver.msg_fmt), "查询余额")
        self.assertEqual(deliver.src_terminal_id, b"13900001111")
        await self.wait_text("mo-result", "Sent over cmpp2: 1 segment(s).")

    async def test_mo_error_shown(self) -> None:
        """The API's refusal of an MO is shown, naming the field."""
        await self.use_token()
        await self.type_into("mo-account", "000000")
        await self.type_into("mo-from", "13900001111")
        await self.type_into("mo-to", SRC)
        await self.type_into("mo-content", "x")
        await self.click("mo-send")
        await self.wait_text("mo-result", "404 unknown_account (account)")

    async def test_policy_round_trip(self) -> None:
        """The policy edited as JSON is installed; a bad value shows the field-named error."""
        await self.use_token()
        await self.wait_for(
            "the policy", lambda d: d.find_element(By.ID, "policy").get_attribute("value")
        )
        policy = json.loads(
            await self.browse(lambda d: d.find_element(By.ID, "policy").get_attribute("value"))
        )
        self.assertEqual(policy, self.sim.get_policy())
        policy["reports"]["states"] = {"UNDELIV": 1}
        await self.type_into("policy", json.dumps(policy))
        await self.click("policy-save")
        await self.wait_text("policy-result", "Saved.")
        self.assertEqual(self.sim.get_policy()["reports"]["states"], {"UNDELIV": 1.0})
        policy["faults"]["drop_response_ratio"] = 2
        await self.type_into("policy", json.dumps(policy))
        await self.click("policy-save")
        error = await self.wait_text("policy-result", "400 bad_policy")
        self.assertIn("(faults.drop_response_ratio)", error)
        self.assertEqual(self.sim.get_policy()["faults"]["drop_response_ratio"], 0)

    async def test_forwarding_hidden(self) -> None:
        """Without forwarding the forwarding table is not shown."""
        await self.use_token()
        shown = await self.browse(lambda d: d.find_element(By.ID, "forwarding").is_displayed())
        self.assertFalse(shown)


class ForwardingConsoleTests(_BrowserTestCase):
    """The ismg-sim page when the simulator forwards (CMPP_FWD)."""

    async def setUp(self) -> None:  # type: ignore[override]
        super().setUp()
        config = Path(self.mktemp() + ".toml")
        config.write_text(
            '[simulator]\nfwd = "tcp:0:interface=127.0.0.1"\nhome_prefixes = ["139"]\n',
            "utf-8",
        )
        self.top = self.start(
            ["--role=ismg-sim", "--config", str(config), "--cmpp", LOOPBACK,
             "--control", LOOPBACK, "--account", f"{SP_ID}:{SECRET}"]
        )  # fmt: skip
        control_port = await self.bound_port(self.top.getServiceNamed("control"))
        await self.open_browser(f"http://127.0.0.1:{control_port}")

    async def test_forwarding_table(self) -> None:
        """The forwarding section shows the ISMG's code and home prefixes."""
        await self.wait_text("status", "Live")
        shown = await self.wait_for(
            "the forwarding section", lambda d: d.find_element(By.ID, "forwarding").is_displayed()
        )
        self.assertTrue(shown)
        rows = dict((await self.rows("forwarding-info"))[1:])
        self.assertEqual((rows["code"], rows["home_prefixes"]), ("001001", "139"))


class VendorConsoleTests(_BrowserTestCase):
    """The ismg-sim page when the simulator plays the HTTP vendors (--vendor-http)."""

    async def setUp(self) -> None:  # type: ignore[override]
        super().setUp()
        self.top = self.start(
            ["--role=ismg-sim", "--vendor-http", LOOPBACK, "--cmpp", LOOPBACK,
             "--control", LOOPBACK, "--account", f"{SP_ID}:{SECRET}"]
        )  # fmt: skip
        control_port = await self.bound_port(self.top.getServiceNamed("control"))
        await self.open_browser(f"http://127.0.0.1:{control_port}")

    async def test_vendor_tables(self) -> None:
        """Each vendor played shows, with the account's balance there."""
        await self.wait_text("vendors-info", "batchsm")
        [header, *rows] = await self.rows("vendors-accounts")
        self.assertEqual(header[:2], ["vendor", "account"])
        self.assertIn(["batchsm", SP_ID], [row[:2] for row in rows])
        forwarding = await self.browse(lambda d: d.find_element(By.ID, "forwarding").is_displayed())
        self.assertFalse(forwarding)


class SkipReasonTests(SynchronousTestCase):
    """Where the browser tests cannot run, they say what to install."""

    def test_missing_browser(self) -> None:
        """Without /usr/bin/chromium the reason names the Debian package."""
        if webdriver is None:
            raise SkipTest("selenium is not installed: the reason names it instead")
        self.patch(sys.modules[__name__], "CHROMIUM", Path("/nonexistent/chromium"))
        reason = _skip_reason()
        self.assertIsNotNone(reason)
        self.assertIn("apt-get install chromium", str(reason))


class GnsBrowserTests(_BrowserTestCase):
    """The gns-sim page."""

    async def setUp(self) -> None:  # type: ignore[override]
        super().setUp()
        self.top = self.start(["--role=gns-sim", "--listen", LOOPBACK, "--control", LOOPBACK])
        control_port = await self.bound_port(self.top.getServiceNamed("control"))
        await self.open_browser(f"http://127.0.0.1:{control_port}")

    async def test_routes(self) -> None:
        """The demo route table shows, MT and MO, with the counters."""
        await self.wait_text("status", "Live")
        await self.wait_text("routes-mt", "139499")
        mt = await self.rows("routes-mt")
        self.assertEqual(len(mt), 1 + 4)
        self.assertIn("start_id", mt[0])
        mo = await self.rows("routes-mo")
        self.assertIn("1065901234", [cell for row in mo for cell in row])
        totals = dict((await self.rows("totals"))[1:])
        self.assertEqual((totals["routes (MT)"], totals["routes (MO)"]), ("4", "3"))
        self.assertEqual(await self.csp_violations(), [])
