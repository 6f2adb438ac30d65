"""The protocol registry (:mod:`smsgw.protocols.registry`): specs, typed extras, a new protocol."""

from __future__ import annotations

import importlib
from typing import Any

import attrs
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.testing import MemoryReactorClock
from twisted.test.iosim import ConnectionCompleter
from twisted.trial.unittest import SynchronousTestCase

from smsgw.config import ConfigError, parse_config, parse_upstream_url
from smsgw.protocols import registry
from smsgw.protocols.cmpp.extras import CmppExtras
from smsgw.protocols.registry import (
    ExtrasError,
    build_extras,
    extras_as,
    extras_query,
    for_scheme,
    register,
    specs,
)
from smsgw.protocols.sgip.extras import SgipExtras
from smsgw.protocols.smgp.extras import SmgpExtras
from smsgw.sp.channel import Channel
from smsgw.sp.clients import ReportEvent, client_for
from smsgw.tap import makeService
from smsgw.text.longsms import Part
from tests.protocols import toy

BUILT_IN = ("cmpp", "cmpp3", "http", "https", "sgip", "smgp", "smpp")


class RegistryTests(SynchronousTestCase):
    """Specs are discovered, registered, looked up and refused when they clash."""

    def test_built_ins(self) -> None:
        """The built-in protocols come first, with their schemes and default ports."""
        found = specs()[: len(BUILT_IN)]
        self.assertEqual(tuple(spec.name for spec in found), BUILT_IN)
        self.assertEqual(
            [(spec.schemes, spec.default_port) for spec in found],
            [
                (("cmpp",), 7890),
                (("cmpp3",), 7890),
                (("http",), 80),
                (("https",), 443),
                (("sgip",), 8801),
                (("smgp",), 8890),
                (("smpp",), 2775),
            ],
        )
        self.assertEqual(registry.schemes()[: len(BUILT_IN)], BUILT_IN)

    def test_discovered_from_folders(self) -> None:
        """Each built-in spec is the one its folder's spec module exports."""
        for spec in specs()[:4]:
            folder = spec.name[:4]
            module = importlib.import_module(f"smsgw.protocols.{folder}.spec")
            self.assertIn(spec, module.SPECS)

    def test_discovery_keeps_early_registrations(self) -> None:
        """A spec registered before the first use comes after the discovered built-ins."""
        self.patch(registry, "_registered", [])
        self.patch(registry, "_discovered", False)
        registry._registered.append(toy.SPEC)
        names = [spec.name for spec in specs()]
        self.assertEqual(names, [*BUILT_IN, "toyp"])

    def test_for_scheme(self) -> None:
        """for_scheme finds the spec answering a scheme."""
        self.assertEqual(for_scheme("cmpp3").name, "cmpp3")
        self.assertIs(for_scheme("sgip").extras, SgipExtras)

    def test_unknown_scheme(self) -> None:
        """An unknown scheme is a KeyError naming the known ones."""
        error = self.assertRaises(KeyError, for_scheme, "ucp")
        self.assertIn("'ucp'", str(error))
        self.assertIn("cmpp, cmpp3, http, https, sgip, smgp, smpp", str(error))

    def test_register_and_unregister(self) -> None:
        """register() adds a spec; the function it returns removes it again."""
        unregister = register(toy.SPEC)
        self.addCleanup(unregister)
        self.assertIs(for_scheme("toyp"), toy.SPEC)
        self.assertIn(toy.SPEC.sim, registry.sim_listeners())
        unregister()
        self.assertRaises(KeyError, for_scheme, "toyp")
        self.assertNotIn(toy.SPEC, specs())

    def test_duplicates_refused(self) -> None:
        """A taken name, URL scheme or ismg-sim option is refused, naming it."""
        before = specs()
        clashes = {
            "'cmpp'": attrs.evolve(toy.SPEC, schemes=("toyp", "cmpp")),
            "'sgip'": attrs.evolve(toy.SPEC, name="sgip"),
        }
        assert toy.SPEC.sim is not None
        sim = attrs.evolve(toy.SPEC.sim, option="smgp")
        clashes["'smgp'"] = attrs.evolve(toy.SPEC, sim=sim)
        for mentions, spec in clashes.items():
            error = self.assertRaises(ValueError, register, spec)
            self.assertIn(mentions, str(error))
        self.assertEqual(specs(), before)


class ExtrasTests(SynchronousTestCase):
    """Each protocol's own keys are typed, checked and named in errors."""

    def test_each_key_from_text(self) -> None:
        """URL text becomes the typed value of each key."""
        self.assertEqual(
            build_extras(
                SgipExtras,
                {"node_id": "3000012345", "corp_id": "41234", "listen": "tcp:8801"},
            ),
            SgipExtras(node_id=3000012345, corp_id="41234", listen="tcp:8801"),
        )
        self.assertEqual(build_extras(SmgpExtras, {"login_mode": "1"}).login_mode, 1)
        self.assertEqual(build_extras(CmppExtras, {"charset": "gbk"}).charset, "gbk")

    def test_each_key_from_toml(self) -> None:
        """TOML values (integers, strings) are taken as they are."""
        self.assertEqual(
            build_extras(SgipExtras, {"node_id": 0xFFFFFFFF, "corp_id": ""}),
            SgipExtras(node_id=0xFFFFFFFF, corp_id=""),
        )
        self.assertEqual(build_extras(SmgpExtras, {"login_mode": 0}).login_mode, 0)

    def test_defaults(self) -> None:
        """Without keys, each protocol has its defaults."""
        self.assertEqual(
            (SgipExtras().node_id, SgipExtras().corp_id, SgipExtras().listen),
            (3000000000, "", None),
        )
        self.assertEqual((SmgpExtras().login_mode, CmppExtras().charset), (2, "ucs2"))
        self.assertFalse(CmppExtras().prefer_gb)
        self.assertTrue(CmppExtras(charset="gbk").prefer_gb)

    def test_bad_values(self) -> None:
        """A bad value is an ExtrasError naming the key, whether text or TOML."""
        bad: list[tuple[type[Any], str, object]] = [
            (SgipExtras, "node_id", "x"),
            (SgipExtras, "node_id", "4294967296"),
            (SgipExtras, "node_id", -1),
            (SgipExtras, "node_id", True),
            (SgipExtras, "node_id", 1.5),
            (SgipExtras, "corp_id", "123456"),
            (SgipExtras, "corp_id", 12345),
            (SgipExtras, "listen", ""),
            (SgipExtras, "listen", 8801),
            (SmgpExtras, "login_mode", 3),
            (SmgpExtras, "login_mode", "２"),
            (CmppExtras, "charset", "utf-8"),
        ]
        for cls, key, value in bad:
            error = self.assertRaises(ExtrasError, build_extras, cls, {key: value})
            self.assertEqual(error.key, key)
            self.assertTrue(error.reason.startswith("expected"), error.reason)

    def test_unknown_key(self) -> None:
        """An unknown key is named, with the keys the protocol takes."""
        error = self.assertRaises(ExtrasError, build_extras, SmgpExtras, {"node_id": "1"})
        self.assertEqual(error.key, "node_id")
        self.assertEqual(error.reason, "unknown key (allowed: charset, login_mode)")

    def test_query(self) -> None:
        """extras_query gives the keys that differ from their defaults, as text, sorted."""
        extras = SgipExtras(node_id=7, listen="tcp:1", charset="gbk")
        self.assertEqual(
            extras_query(extras), [("charset", "gbk"), ("listen", "tcp:1"), ("node_id", "7")]
        )
        self.assertEqual(extras_query(SgipExtras()), [])

    def test_extras_as(self) -> None:
        """A client reading another protocol's extras gets a TypeError."""
        self.assertEqual(extras_as(SmgpExtras(), SmgpExtras), SmgpExtras())
        self.assertRaises(TypeError, extras_as, CmppExtras(), SgipExtras)

    def test_toml_upstream_keys(self) -> None:
        """[[upstream]] may give the protocol's keys as TOML values next to its url."""
        config = parse_config(
            '[[upstream]]\nname = "unicom"\nurl = "sgip://sp:pw@h?corp_id=1"\n'
            'node_id = 3000012345\nlisten = "tcp:8801"\n'
        )
        (upstream,) = config.upstreams
        self.assertEqual(
            upstream.extra, SgipExtras(node_id=3000012345, corp_id="1", listen="tcp:8801")
        )

    def test_toml_upstream_bad_keys(self) -> None:
        """A bad, foreign or repeated protocol key in [[upstream]] is named with its table."""
        cases = {
            "node_id = -1": ("upstream[0].node_id", "expected an integer"),
            "login_mode = 1": ("upstream[0].login_mode", "unknown key"),
            "corp_id = '9'": ("upstream[0].corp_id", "in the table and in the url"),
        }
        for line, (key, reason) in cases.items():
            text = f'[[upstream]]\nname = "u"\nurl = "sgip://sp:pw@h?corp_id=1"\n{line}\n'
            error = self.assertRaises(ConfigError, parse_config, text)
            self.assertEqual(error.key, key, str(error))
            self.assertIn(reason, error.reason)


class NewProtocolTests(SynchronousTestCase):
    """A protocol defined in a test works once registered: no other edit anywhere."""

    def setUp(self) -> None:
        self.addCleanup(register(toy.SPEC))
        self.reactor = MemoryReactorClock()

    def test_url(self) -> None:
        """Its scheme, default port and own keys are read from upstream URLs."""
        upstream = parse_upstream_url("toyp://900001:pw@10.0.0.1?level=3&window=4")
        self.assertEqual((upstream.scheme, upstream.port, upstream.window), ("toyp", 7077, 4))
        self.assertEqual(upstream.extra, toy.ToyExtras(level=3))
        self.assertEqual(upstream.redacted(), "toyp://900001:***@10.0.0.1:7077?window=4&level=3")
        error = self.assertRaises(ConfigError, parse_upstream_url, "toyp://a:pw@h?level=4")
        self.assertEqual(error.key, "level")
        self.assertIsInstance(client_for(upstream), toy.ToyClient)

    def test_end_to_end(self) -> None:
        """Config, an SP channel and the ismg-sim's listener carry a SUBMIT and its report."""
        config = parse_config(
            '[[upstream]]\nname = "toy1"\nurl = "toyp://900001:pw@127.0.0.1?src_id=1065"\n'
            "level = 3\n"
            '[simulator]\ntoyp = "tcp:7077:interface=127.0.0.1"\n'
            '[[simulator.account]]\nid = "900001"\nsecret = "pw"\n'
            "[simulator.policy.reports]\ndelay_s = [5, 5]\n"
        )
        (upstream,) = config.upstreams
        top = makeService({"role": "ismg-sim", "loaded": config}, reactor=self.reactor)
        top.startService()
        self.addCleanup(top.stopService)
        self.assertIn((7077, "127.0.0.1"), [(s[0], s[3]) for s in self.reactor.tcpServers])
        face = top.simulator.faces["toyp"]  # type: ignore[attr-defined]

        events: list[Any] = []
        endpoint = TCP4ClientEndpoint(self.reactor, upstream.host, upstream.port)
        channel = Channel(upstream, self.reactor, endpoint=endpoint, on_event=events.append)
        channel.startService()
        pump = ConnectionCompleter(self.reactor).succeedOnce()
        assert pump is not None
        pump.flush()
        self.assertEqual((len(channel.sessions), face.levels), (1, [3]))

        segment = Part(pk_total=1, pk_number=1, tp_udhi=False, content=b"hello", msg_fmt=0)
        d = channel.submit_segment(("13800138000",), segment, report=True)
        pump.flush()
        result = self.successResultOf(d)
        self.assertEqual((result.msg_id, result.result), ("1", 0))
        self.assertEqual(top.simulator.submits()[0]["src"], "1065")  # type: ignore[attr-defined]

        self.reactor.advance(5)
        pump.flush()
        self.assertEqual(
            events,
            [
                ReportEvent(
                    channel="toy1",
                    msg_id="1",
                    stat="DELIVRD",
                    dest="13800138000",
                    delivered=True,
                )
            ],
        )
        stopped = channel.stopService()
        pump.flush()
        self.successResultOf(stopped)
