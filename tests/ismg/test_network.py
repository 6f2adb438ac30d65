"""The carrier network of ``tac/network.tac``: a GNS and two ISMGs in one process.

The configurations in ``simulator/network/`` must parse and agree with each
other (the GNS routes point at each ISMG's FWD port, the secrets match).
Then the tac itself is loaded, with ``SMSGW_NETWORK_DIR`` pointing at copies
of those files whose ports are replaced by free loopback ports, and the
network is driven end to end: an SP :class:`~smsgw.sp.channel.Channel` on
ISMG1 sends to a number homed on ISMG2 (routed by the GNS), an MO goes the
other way through ``POST /v1/mo``, and ISMG2's FWD listener is stopped.

Everything listens on ``127.0.0.1`` only and every wait is bounded.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from treq.client import HTTPClient
from twisted.application.service import IService, IServiceCollection, MultiService
from twisted.internet import reactor
from twisted.internet.defer import DeferredList
from twisted.persisted import sob
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.client import Agent, HTTPConnectionPool

from smsgw.config import Config, load_config, parse_upstream_url
from smsgw.gns.config import GnsConfig, parse_gns_config
from smsgw.ismg.forward import Forwarder, build_forwarder
from smsgw.ismg.simulator import Simulator
from smsgw.sp.channel import Channel
from smsgw.sp.clients import MoEvent, ReportEvent
from smsgw.tap import Options
from tests.clock import BoundedClock
from tests.sp.test_channel import _LiveTestCase, closed_port, peek, wait_until, within

ROOT = Path(__file__).resolve().parents[2]
NETWORK = ROOT / "simulator" / "network"
TAC = ROOT / "tac" / "network.tac"
ISMGS = ("ismg1", "ismg2")
#: A number homed on ISMG2 (138…), a subscriber of ISMG1 (139…).
DEST2 = "13800138000"
SUBSCRIBER1 = "13900001111"


def _ismg(name: str, directory: Path = NETWORK) -> Config:
    return load_config(directory / f"{name}.toml")


def _gns(directory: Path = NETWORK) -> GnsConfig:
    path = directory / "gns.toml"
    return parse_gns_config(load_config(path).gns, str(path))


def _port(endpoint: str) -> int:
    """The port of a ``tcp:PORT:…`` server or ``tcp:host=…:port=PORT`` client endpoint."""
    match = re.search(r"(?:^tcp:|port=)(\d+)", endpoint)
    assert match is not None, endpoint
    return int(match.group(1))


class NetworkConfigTests(SynchronousTestCase):
    """``simulator/network/*.toml`` parse, and describe one consistent network."""

    def test_ismg_configs_parse(self) -> None:
        """Each ISMG config parses with forwarding on: FWD listener, home prefixes, GNS."""
        codes = set()
        for name in ISMGS:
            sim = _ismg(name).simulator
            codes.add(sim.gateway_code)
            self.assertIsNotNone(sim.fwd)
            self.assertTrue(sim.home_prefixes)
            self.assertIsNotNone(sim.gns)
            self.assertTrue(sim.gns_secret and sim.peer_secret)
            [account] = sim.accounts
            self.assertTrue(account.src_prefix)
        self.assertEqual(codes, {"001001", "002002"})

    def test_gns_config_parses(self) -> None:
        """gns.toml parses: both ISMGs, an MT and an MO route for each."""
        gns = _gns()
        self.assertEqual({i.code for i in gns.ismgs}, {"001001", "002002"})
        self.assertEqual(sorted(r.ismg_code for r in gns.mt_routes), ["001001", "002002"])
        self.assertEqual(sorted(r.ismg_code for r in gns.mo_routes), ["001001", "002002"])

    def test_configs_agree(self) -> None:
        """The GNS's routes lead to each ISMG's FWD port, prefixes and SP codes; secrets match."""
        gns = _gns()
        secrets = {i.code: i.secret for i in gns.ismgs}
        peer_secrets = set()
        for name in ISMGS:
            sim = _ismg(name).simulator
            code = sim.gateway_code
            assert sim.gns is not None and sim.fwd is not None
            self.assertEqual(_port(sim.gns), _port(gns.listen))
            self.assertEqual(secrets[code], sim.gns_secret.encode())
            peer_secrets.add(sim.peer_secret)
            [mt] = [r for r in gns.mt_routes if r.ismg_code == code]
            self.assertEqual(mt.gateway_port, _port(sim.fwd))
            self.assertEqual((mt.start_id,), sim.home_prefixes)
            [mo] = [r for r in gns.mo_routes if r.ismg_code == code]
            self.assertEqual(mo.gateway_port, _port(sim.fwd))
            self.assertTrue(sim.accounts[0].src_prefix.startswith(mo.sp_code))
        self.assertEqual(len(peer_secrets), 1)

    def test_tap_options(self) -> None:
        """``twistd smsgw`` accepts every file of the network with its role."""
        for role, name in (("gns-sim", "gns"), ("ismg-sim", "ismg1"), ("ismg-sim", "ismg2")):
            options = Options()
            options.parseOptions([f"--role={role}", f"--config={NETWORK / (name + '.toml')}"])
            self.assertEqual(options["role"], role)

    def test_builds_forwarder(self) -> None:
        """Each ISMG config gives a forwarder with a GNS client and the default peer secret."""
        for name in ISMGS:
            config = _ismg(name).simulator
            clock = BoundedClock()
            sim = Simulator(clock, [], gateway_code=config.gateway_code_int)
            forwarder = build_forwarder(sim, config, clock)
            assert forwarder is not None
            self.assertEqual(forwarder.code, config.gateway_code)
            self.assertEqual(forwarder.default_secret, config.peer_secret.encode())
            self.assertIsNotNone(forwarder.gns)


def _free_copy(target: Path, ports: dict[str, int]) -> None:
    """The network's files in *target*, every port replaced: listeners on ``tcp:0``
    except the GNS and the FWD listeners, which take the reserved *ports*.
    Reports come after 0–0.1 s.
    """
    fwd = {7930: ports["fwd1"], 7931: ports["fwd2"]}
    for path in NETWORK.glob("*.toml"):
        text = path.read_text("utf-8")
        text = re.sub(r"tcp:(7890|7891|8081|8082|8083):", "tcp:0:", text)
        text = text.replace("tcp:9168:", f"tcp:{ports['gns']}:")
        text = text.replace("port=9168", f"port={ports['gns']}")
        for old, new in fwd.items():
            text = text.replace(f"tcp:{old}:", f"tcp:{new}:")
            text = text.replace(f"gateway_port = {old}", f"gateway_port = {new}")
        text = re.sub(r"delay_s = \[[^]]*\]", "delay_s = [0.0, 0.1]", text)
        (target / path.name).write_text(text, "utf-8")


class NetworkTacPathTests(SynchronousTestCase):
    """``tac/network.tac`` finds its configurations next to itself."""

    def test_any_working_directory(self) -> None:
        """Loaded from another working directory, it reads the checkout's simulator/network."""
        elsewhere = self.mktemp()
        os.mkdir(elsewhere)
        here = os.getcwd()
        os.chdir(elsewhere)
        self.addCleanup(os.chdir, here)
        previous = os.environ.pop("SMSGW_NETWORK_DIR", None)
        if previous is not None:
            self.addCleanup(os.environ.__setitem__, "SMSGW_NETWORK_DIR", previous)
        application = sob.loadValueFromFile(str(TAC), "application")
        [network] = list(IServiceCollection(application))
        self.assertEqual(sorted(s.name for s in network), ["gns", "ismg1", "ismg2"])


class NetworkTacTests(_LiveTestCase):
    """``tac/network.tac`` on free loopback ports, driven end to end."""

    async def setUp(self) -> None:  # type: ignore[override]
        super().setUp()
        directory = Path(self.mktemp())
        directory.mkdir(parents=True)
        ports = {name: await closed_port() for name in ("gns", "fwd1", "fwd2")}
        _free_copy(directory, ports)
        self.configs = {name: _ismg(name, directory) for name in ISMGS}
        previous = os.environ.get("SMSGW_NETWORK_DIR")
        os.environ["SMSGW_NETWORK_DIR"] = str(directory)
        try:
            application = sob.loadValueFromFile(str(TAC), "application")
        finally:
            if previous is None:
                del os.environ["SMSGW_NETWORK_DIR"]
            else:
                os.environ["SMSGW_NETWORK_DIR"] = previous
        [self.network] = list(IServiceCollection(application))
        self.top = IService(application)
        self.top.startService()
        self.addCleanup(self.stop)
        self.ismg1 = self.network.getServiceNamed("ismg1")
        self.ismg2 = self.network.getServiceNamed("ismg2")
        self.gns = self.network.getServiceNamed("gns").gns
        self.sim1: Simulator = self.ismg1.simulator
        self.sim2: Simulator = self.ismg2.simulator
        pool = HTTPConnectionPool(reactor, persistent=False)
        self.http = HTTPClient(Agent(reactor, pool=pool))
        self.addCleanup(pool.closeCachedConnections)
        self.control = {
            "ismg1": await self.bound_port(self.ismg1, "control"),
            "ismg2": await self.bound_port(self.ismg2, "control"),
        }
        self.sp1 = await self.channel(self.ismg1, "ismg1", "88")
        self.sp2 = await self.channel(self.ismg2, "ismg2", "01")

    @property
    def forwarders(self) -> list[Forwarder]:
        return [self.sim1.forwarder, self.sim2.forwarder]

    async def stop(self) -> None:
        await within(DeferredList([f.close() for f in self.forwarders]))
        if self.top.running:
            await within(self.top.stopService())
        await wait_until(lambda: not self.gns.sessions, "the GNS links to close")

    async def bound_port(self, top: MultiService, name: str) -> int:
        """The port the listener *name* of *top* is bound to."""
        service: Any = top.getServiceNamed(name)
        port = await within(peek(service._waitingForPort))
        number: int = port.getHost().port
        return number

    async def channel(self, top: MultiService, name: str, extension: str) -> Channel:
        """A logged-in channel for the one account of ISMG *name*; stopped on cleanup."""
        [account] = self.configs[name].simulator.accounts
        port = await self.bound_port(top, "cmpp")
        url = parse_upstream_url(
            f"cmpp://{account.id}:{account.secret}@127.0.0.1:{port}"
            f"?src_id={account.src_prefix}{extension}&service_id=TEST&response_timeout_s=2"
        )
        events: list[Any] = []
        channel = Channel(url, reactor, on_event=events.append, name=name)
        channel.events = events  # type: ignore[attr-defined]
        channel.startService()
        sim: Simulator = top.simulator  # type: ignore[attr-defined]

        async def stop() -> None:
            if channel.running:
                await within(channel.stopService())
            await wait_until(lambda: sim.stats()["sessions"] == 0, f"{name}'s SP link to close")

        self.addCleanup(stop)
        await within(channel.session())
        return channel

    async def call(self, ismg: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One control API request to *ismg*; the status and the decoded JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": ["application/json"]} if data is not None else None
        url = f"http://127.0.0.1:{self.control[ismg]}{path}"
        response = await within(self.http.request(method, url, data=data, headers=headers))
        content = await within(response.content())
        return response.code, json.loads(content)

    async def report(self) -> ReportEvent:
        await wait_until(lambda: _events(self.sp1, ReportEvent), "the report")
        [report] = _events(self.sp1, ReportEvent)
        return report  # type: ignore[no-any-return]

    async def test_mt_across(self) -> None:
        """SP1's MT to 138… is routed by the GNS; the report keeps its Msg_Id; both count it."""
        [result] = await within(self.sp1.submit_text([DEST2], "hello across", report=True))
        report = await self.report()
        self.assertEqual((report.msg_id, report.stat), (result.msg_id, "DELIVRD"))
        code, body = await self.call("ismg2", "GET", f"/v1/submits?dest={DEST2}")
        self.assertEqual(code, 200)
        [rec] = body["submits"]
        self.assertEqual((rec["account"], rec["msg_id"]), ("ismg:001001", result.msg_id))
        code, one = await self.call("ismg1", "GET", "/v1/forwarding")
        self.assertEqual((code, one["enabled"], one["code"]), (200, True, "001001"))
        counters = one["peers"]["002002"]
        self.assertEqual((counters["mt_forwarded"], counters["reports_returned"]), (1, 1))
        _, two = await self.call("ismg2", "GET", "/v1/forwarding")
        self.assertEqual(two["peers"]["001001"]["received_type_0"], 1)
        self.assertEqual(self.gns.stats()["mt_route"], 1)

    async def test_mo_across(self) -> None:
        """POST /v1/mo on ISMG1 with no account reaches SP2 on ISMG2; the MO report is DELIVRD."""
        to = self.configs["ismg2"].simulator.accounts[0].src_prefix + "01"
        mo = {"from": SUBSCRIBER1, "to": to, "content": "MO across"}
        code, body = await self.call("ismg1", "POST", "/v1/mo", mo)
        self.assertEqual((code, body["protocol"]), (202, "fwd"))
        [forwarded] = body["forwarded"]
        self.assertEqual((forwarded["forwarded_to"], forwarded["result"]), ("002002", 0))
        await wait_until(lambda: _events(self.sp2, MoEvent), "the MO")
        [event] = _events(self.sp2, MoEvent)
        self.assertEqual((event.sender, event.to, event.content), (SUBSCRIBER1, to, b"MO across"))
        await wait_until(
            lambda: self.sim1.forwarding()["peers"]["002002"].get("received_type_3"),
            "the MO report",
        )
        _, one = await self.call("ismg1", "GET", "/v1/forwarding")
        counters = one["peers"]["002002"]
        self.assertEqual((counters["mo_forwarded"], counters["mo_report_DELIVRD"]), (1, 1))

    async def test_mo_no_route(self) -> None:
        """POST /v1/mo to a service code no ISMG serves answers 404, not 500."""
        mo = {"from": SUBSCRIBER1, "to": "1065999", "content": "nobody"}
        code, body = await self.call("ismg1", "POST", "/v1/mo", mo)
        self.assertEqual((code, body["error"]), (404, "unknown_account"))
        self.assertEqual(self.gns.stats()["mo_route_none"], 1)

    async def test_ismg2_fwd_down(self) -> None:
        """With ISMG2's FWD listener stopped, SP1's MT to 138… is REJECTD at once."""
        await within(self.ismg2.getServiceNamed("fwd").stopService())
        started = reactor.seconds()
        [result] = await within(self.sp1.submit_text([DEST2], "nobody there", report=True))
        report = await self.report()
        self.assertEqual((report.msg_id, report.stat), (result.msg_id, "REJECTD"))
        self.assertLess(reactor.seconds() - started, 2.0)
        self.assertEqual(self.sim2.submits(), [])
        _, one = await self.call("ismg1", "GET", "/v1/forwarding")
        self.assertEqual(one["peers"]["*"], {"mt_forward_failed": 1})


def _events(channel: Channel, kind: type) -> list[Any]:
    return [e for e in channel.events if isinstance(e, kind)]  # type: ignore[attr-defined]
