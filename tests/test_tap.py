"""``twistd smsgw``: options, the plugin and the service trees (mod:`smsgw.tap`).

No sockets: the service trees are started on a ``MemoryReactorClock``,
which records what would be listened on and connected to.
"""

from __future__ import annotations

import os
from typing import Any

from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import IService, IServiceMaker, MultiService
from twisted.internet.testing import MemoryReactorClock
from twisted.plugin import getPlugins
from twisted.python import usage
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from smsgw.config import AccountConfig, Config, UpstreamConfig
from smsgw.ismg.simulator import Simulator
from smsgw.protocols.registry import sim_listeners
from smsgw.roles.sp import SpService
from smsgw.tap import Options, makeService

UPSTREAM = "cmpp://901234:s3cret@10.1.2.3:7891?src_id=1065901234&window=8&tps=50&sessions=2"


def _parse(*argv: str) -> Options:
    options = Options()
    options.parseOptions(list(argv))
    return options


class OptionsTests(SynchronousTestCase):
    """Command-line validation."""

    def assert_usage_error(self, *argv: str, mentions: str) -> usage.UsageError:
        """Parsing *argv* raises UsageError whose message contains *mentions*."""
        error = self.assertRaises(usage.UsageError, _parse, *argv)
        self.assertIn(mentions, str(error))
        return error

    def test_default_role(self) -> None:
        """With no options the role is sp, no upstream, the default configuration."""
        options = _parse()
        self.assertEqual(options["role"], "sp")
        self.assertEqual((options["upstreams"], options["accounts"]), ([], []))
        self.assertEqual(options["loaded"], Config())

    def test_unknown_role(self) -> None:
        """An unknown role is a UsageError listing the roles."""
        self.assert_usage_error("--role=smsc", mentions="--role must be one of")

    def test_gns_sim(self) -> None:
        """--role=gns-sim parses, with --listen and its [gns] configuration."""
        options = _parse("--role=gns-sim", "--listen", "tcp:9168:interface=127.0.0.1")
        self.assertEqual(options["listen"], "tcp:9168:interface=127.0.0.1")
        self.assertIsNotNone(options["gns"])

    def test_http_and_db(self) -> None:
        """--http and --db are taken; an API beyond loopback without API keys is refused."""
        options = _parse("--http", "tcp:8080:interface=127.0.0.1", "--db", "x.sqlite3")
        self.assertEqual((options["http"], options["db"]), ("tcp:8080:interface=127.0.0.1",
                                                             "x.sqlite3"))  # fmt: skip
        self.assert_usage_error("--http", "tcp:8080:interface=0.0.0.0", mentions="--http")

    def test_compat_http(self) -> None:
        """--compat-http is taken; beyond loopback without API keys it is refused."""
        options = _parse("--compat-http", "tcp:8090:interface=127.0.0.1")
        self.assertEqual(options["compat-http"], "tcp:8090:interface=127.0.0.1")
        self.assertIsNone(_parse()["compat-http"])
        public = "tcp:8090:interface=0.0.0.0"
        self.assert_usage_error("--compat-http", public, mentions="--compat-http")

    def test_listener_options(self) -> None:
        """--cmpp3, --sgip and --smgp are accepted."""
        options = _parse(
            "--role=ismg-sim", "--cmpp3", "tcp:7891", "--sgip", "tcp:8801", "--smgp", "tcp:8890"
        )
        self.assertEqual(
            (options["cmpp3"], options["sgip"], options["smgp"]),
            ("tcp:7891", "tcp:8801", "tcp:8890"),
        )

    def test_listener_options_from_registry(self) -> None:
        """Each registered ismg-sim listener is an option, its default in the help."""
        docs = Options().docs
        for listener in sim_listeners():
            self.assertIn(listener.help, docs[listener.option])
        self.assertIn("[default: tcp:7890:interface=127.0.0.1]", docs["cmpp"])

    def test_upstream_schemes(self) -> None:
        """--upstream takes cmpp3://, sgip:// and smgp:// URLs too."""
        options = _parse(
            "--upstream", "cmpp3://901234:pw@10.0.0.1:7891",
            "--upstream", "sgip://3000012345:pw@10.0.0.1:8801?node_id=3000012345",
            "--upstream", "smgp://12345678:pw@10.0.0.1",
        )  # fmt: skip
        self.assertEqual(
            [(u.scheme, u.port) for u in options["upstreams"]],
            [("cmpp3", 7891), ("sgip", 8801), ("smgp", 8890)],
        )

    def test_upstream_unknown_scheme(self) -> None:
        """--upstream ftp://… is refused, naming --upstream and the scheme."""
        error = self.assert_usage_error(
            "--upstream", "ftp://901234:pw@10.0.0.1:80", mentions="--upstream"
        )
        self.assertIn("scheme", str(error))

    def test_upstream_unknown_vendor(self) -> None:
        """An http:// upstream naming no loaded vendor file stops the start, with the known ones."""
        error = self.assert_usage_error(
            "--upstream", "http://901234:pw@10.0.0.1:80?vendor=nosuch", mentions="--upstream"
        )
        self.assertIn("'nosuch'", str(error))
        self.assertIn("somp", str(error))

    def test_upstream_vendor_not_recognised(self) -> None:
        """An http:// upstream that no <match> recognises is refused, asking for vendor=."""
        error = self.assert_usage_error(
            "--upstream", "http://901234:hunter2@10.0.0.1:80/x", mentions="vendor=NAME"
        )
        self.assertNotIn("hunter2", str(error))

    def test_upstream_vendor(self) -> None:
        """An http:// upstream with a known vendor is taken, recognised or named."""
        options = _parse(
            "--upstream", "http://u:pw@127.0.0.1:8088/kx1680/sendXSms.do",
            "--upstream", "https://u:pw@sms.example.net/base?vendor=batchsm&product=1",
        )  # fmt: skip
        first, second = options["upstreams"]
        self.assertEqual(
            (first.scheme, first.port, first.path), ("http", 8088, "/kx1680/sendXSms.do")
        )
        self.assertEqual((second.port, second.path, second.extra.product), (443, "/base", "1"))

    def test_upstream_bad_url(self) -> None:
        """A malformed --upstream URL is refused without echoing the secret."""
        error = self.assert_usage_error(
            "--upstream", "cmpp://901234:topsecret@10.0.0.1:7890?colour=red", mentions="--upstream"
        )
        self.assertIn("colour", str(error))
        self.assertNotIn("topsecret", str(error))

    def test_upstream_cmpp(self) -> None:
        """--upstream cmpp://… is parsed into an UpstreamConfig; repeatable."""
        options = _parse("--upstream", UPSTREAM, "--upstream", "cmpp://901235:x@10.1.2.4")
        first, second = options["upstreams"]
        self.assertIsInstance(first, UpstreamConfig)
        self.assertEqual(
            (first.scheme, first.account, first.secret, first.host, first.port),
            ("cmpp", "901234", "s3cret", "10.1.2.3", 7891),
        )
        self.assertEqual((first.src_id, first.window, first.tps, first.sessions),
                         ("1065901234", 8, 50.0, 2))  # fmt: skip
        self.assertEqual((second.account, second.port), ("901235", 7890))

    def test_account(self) -> None:
        """--account ID:SECRET is parsed; the secret may contain colons; repeatable."""
        options = _parse("--role=ismg-sim", "--account", "901234:s3cret", "--account", "9:a:b")
        self.assertEqual(
            options["accounts"],
            [AccountConfig(id="901234", secret="s3cret"), AccountConfig(id="9", secret="a:b")],
        )

    def test_account_sgip_callback(self) -> None:
        """--account ID:SECRET@ENDPOINT gives SGIP's callback; accounts without one are named."""
        from smsgw.roles.ismg_sim import sgip_without_callback

        options = _parse(
            "--role=ismg-sim", "--sgip", "tcp:8801",
            "--account", "901234:s3cret@tcp:host=127.0.0.1:port=8802",
            "--account", "905678:other",
        )  # fmt: skip
        self.assertEqual(options["accounts"][0].sgip_callback, "tcp:host=127.0.0.1:port=8802")
        self.assertEqual(sgip_without_callback(options, options["loaded"]), ["905678"])
        without_sgip = _parse("--role=ismg-sim", "--account", "905678:other")
        self.assertEqual(sgip_without_callback(without_sgip, without_sgip["loaded"]), [])

    def test_login_limits(self) -> None:
        """The [simulator] login limits reach every session listener, SGIP's included."""
        from twisted.internet.testing import MemoryReactorClock

        from smsgw.config import parse_config

        config = parse_config(
            '[simulator]\nsgip = "tcp:8801"\nlogin_timeout_s = 3\n'
            "max_unauthenticated = 5\nmax_unauthenticated_per_ip = 2\n"
        )
        top = makeService({"role": "ismg-sim", "loaded": config}, MemoryReactorClock())
        for name in ("cmpp", "sgip"):
            factory = top.getServiceNamed(name).factory  # type: ignore[attr-defined]
            self.assertEqual((factory.max_unbound, factory.max_unbound_per_peer), (5, 2))
            self.assertEqual(factory.inner.config.login_timeout_s, 3)

    def test_account_malformed(self) -> None:
        """--account without a secret is refused, naming --account."""
        self.assert_usage_error("--role=ismg-sim", "--account", "901234", mentions="--account")

    def test_config_missing_file(self) -> None:
        """--config naming a file that does not exist is refused, naming the file."""
        path = self.mktemp()
        self.assert_usage_error("--config", path, mentions=path)

    def test_config_bad_toml(self) -> None:
        """--config with invalid TOML is refused, naming the file."""
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("[simulator\n")
        self.assert_usage_error("--config", path, mentions=path)

    def test_config_unknown_key(self) -> None:
        """--config with an unknown key is refused, naming the file and the key."""
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("[simulator]\ncolour = 'red'\n")
        error = self.assert_usage_error("-c", path, mentions=path)
        self.assertIn("colour", str(error))

    def test_config_loaded(self) -> None:
        """A good --config file is loaded into options['loaded']."""
        path = self.mktemp()
        with open(path, "w") as f:
            f.write('[[simulator.account]]\nid = "901234"\nsecret = "s3cret"\n')
        options = _parse("--role=ismg-sim", "--config", path)
        self.assertEqual(
            options["loaded"].simulator.accounts, (AccountConfig(id="901234", secret="s3cret"),)
        )

    def test_plugins(self) -> None:
        """--plugins DIR (repeatable) adds vendor folders after [vendors] dirs."""
        first, second = self.mktemp(), self.mktemp()
        os.mkdir(first)
        os.mkdir(second)
        options = _parse("--plugins", first, "--plugins", second)
        self.assertEqual(options["loaded"].vendors.dirs, (first, second))

    def test_plugins_not_a_folder(self) -> None:
        """A --plugins folder that does not exist stops the start, named."""
        missing = self.mktemp()
        self.assert_usage_error("--plugins", missing, mentions=missing)

    def test_plugins_broken_file(self) -> None:
        """A broken vendor file stops the start with its file, line and element."""
        folder = self.mktemp()
        os.mkdir(folder)
        path = os.path.join(folder, "bad.xml")
        with open(path, "w") as f:
            f.write('<?xml version="1.0"?>\n<vendor name="bad">\n  <bogus/>\n</vendor>\n')
        error = self.assert_usage_error("--role=ismg-sim", "--plugins", folder, mentions=path)
        self.assertIn(":3: <bogus>", str(error))


class PluginTests(SynchronousTestCase):
    """The twistd plugin."""

    def test_discoverable(self) -> None:
        """getPlugins(IServiceMaker) finds exactly one plugin named smsgw, using smsgw.tap."""
        makers = [m for m in getPlugins(IServiceMaker) if m.tapname == "smsgw"]
        self.assertEqual(len(makers), 1)
        [maker] = makers
        self.assertIs(maker.options, Options)
        self.assertTrue(maker.description)


def _listening(reactor: MemoryReactorClock) -> list[tuple[int, str]]:
    """``(port, interface)`` of every TCP listen made on *reactor*."""
    return [(port, interface) for port, _, _, interface in reactor.tcpServers]


class MakeServiceTests(SynchronousTestCase):
    """The service tree of each role, started on a memory reactor."""

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()

    def build(self, *argv: str) -> MultiService:
        service = makeService(_parse(*argv), reactor=self.reactor)
        self.assertTrue(IService.providedBy(service))
        assert isinstance(service, MultiService)
        return service

    def test_ismg_sim_defaults(self) -> None:
        """ismg-sim listens for CMPP on 127.0.0.1:7890 and the control API on 127.0.0.1:8081."""
        top = self.build("--role=ismg-sim")
        names = {s.name for s in top}
        self.assertEqual(names, {"cmpp", "control"})
        for service in top:
            self.assertIsInstance(service, StreamServerEndpointService)
        top.startService()
        self.addCleanup(top.stopService)
        self.assertEqual(
            sorted(_listening(self.reactor)), [(7890, "127.0.0.1"), (8081, "127.0.0.1")]
        )
        sim: Any = top.simulator  # type: ignore[attr-defined]
        self.assertIsInstance(sim, Simulator)
        self.assertEqual(list(sim.accounts), ["901234"])

    def test_ismg_sim_options(self) -> None:
        """--cmpp, --control and --account are used."""
        top = self.build(
            "--role=ismg-sim", "--cmpp", "tcp:17890:interface=127.0.0.1",
            "--control", "tcp:18081:interface=127.0.0.1", "--account", "900001:pw",
            "--account", "900002:pw2",
        )  # fmt: skip
        top.startService()
        self.addCleanup(top.stopService)
        self.assertEqual(
            sorted(_listening(self.reactor)), [(17890, "127.0.0.1"), (18081, "127.0.0.1")]
        )
        sim: Any = top.simulator  # type: ignore[attr-defined]
        self.assertEqual(sorted(sim.accounts), ["900001", "900002"])
        self.assertEqual(sim.accounts["900002"].secret, b"pw2")

    def test_ismg_sim_every_protocol(self) -> None:
        """--cmpp3, --sgip and --smgp add a named listener each."""
        top = self.build(
            "--role=ismg-sim", "--cmpp3", "tcp:7891", "--sgip", "tcp:8801", "--smgp", "tcp:8890"
        )
        self.assertEqual({s.name for s in top}, {"cmpp", "cmpp3", "sgip", "smgp", "control"})
        top.startService()
        self.addCleanup(top.stopService)
        self.assertEqual(
            sorted(_listening(self.reactor)),
            [(port, "127.0.0.1") for port in (7890, 7891, 8081, 8801, 8890)],
        )

    def test_ismg_sim_config_accounts(self) -> None:
        """Accounts from the config file and from --account are both served."""
        path = self.mktemp()
        with open(path, "w") as f:
            f.write(
                '[simulator]\ngateway_code = "002047"\n'
                '[[simulator.account]]\nid = "900001"\nsecret = "pw"\ntps = 5\n'
                'src_prefix = "10659"\n'
            )
        top = self.build("--role=ismg-sim", "-c", path, "--account", "900002:pw2")
        sim: Any = top.simulator  # type: ignore[attr-defined]
        self.assertEqual(sorted(sim.accounts), ["900001", "900002"])
        self.assertEqual(sim.accounts["900001"].tps, 5.0)
        self.assertEqual(sim.accounts["900001"].src_prefix, "10659")
        self.assertEqual(sim.next_msg_id.gateway, 2047)

    def test_ismg_sim_vendor_http(self) -> None:
        """--vendor-http serves every vendor file on its endpoint, accounts included."""
        top = self.build(
            "--role=ismg-sim", "--vendor-http", "tcp:18088:interface=127.0.0.1",
            "--account", "900001:pw",
        )  # fmt: skip
        self.assertEqual({s.name for s in top if s.name}, {"cmpp", "control", "vendor-http"})
        top.startService()
        self.addCleanup(top.stopService)
        self.assertIn((18088, "127.0.0.1"), _listening(self.reactor))
        sim: Any = top.simulator  # type: ignore[attr-defined]
        self.assertEqual(
            set(sim.vendors.vendors), {"somp", "batchsm", "kx1680", "generic", "example"}
        )
        self.assertEqual(list(sim.vendors.vendors["batchsm"].accounts), ["900001"])

    def test_ismg_sim_vendor_http_config(self) -> None:
        """[simulator] vendor_http and the accounts' vendor keys are used; off by default."""
        self.assertIsNone(self.build("--role=ismg-sim").simulator.vendors)  # type: ignore[attr-defined]
        path = self.mktemp()
        with open(path, "w") as f:
            f.write(
                '[simulator]\nvendor_http = "tcp:18089"\n'
                '[[simulator.account]]\nid = "900001"\nsecret = "pw"\nbalance = 7\n'
                'report_url = "http://127.0.0.1:8080/push/{vendor}/report"\n'
            )
        top = self.build("--role=ismg-sim", "-c", path)
        top.startService()
        self.addCleanup(top.stopService)
        self.assertIn(18089, [port for port, _ in _listening(self.reactor)])
        sim: Any = top.simulator  # type: ignore[attr-defined]
        acct = sim.vendors.vendors["kx1680"].accounts["900001"]
        self.assertEqual(
            (acct.products, acct.report_url), ({"": 7}, "http://127.0.0.1:8080/push/kx1680/report")
        )

    def test_sp_with_upstream(self) -> None:
        """--role=sp with --upstream keeps the URL for the channel it builds at start-up."""
        top = self.build("--role=sp", "--upstream", UPSTREAM)
        self.assertIsInstance(top, SpService)
        assert isinstance(top, SpService)
        [url] = top.upstreams
        self.assertEqual((url.account, url.host, url.port), ("901234", "10.1.2.3", 7891))

    def test_sp_without_upstream(self) -> None:
        """--role=sp with no upstream builds an SpService that starts the built-in simulator."""
        top = self.build("--role=sp")
        self.assertIsInstance(top, SpService)
        assert isinstance(top, SpService)
        self.assertEqual(top.upstreams, [])
        self.assertIs(top.reactor, self.reactor)


class SafeDefaultsTests(SynchronousTestCase):
    """Loopback unless said otherwise; no demo secret beyond loopback; a pidfile per role."""

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()

    def test_every_role_binds_loopback(self) -> None:
        """Endpoints without an interface bind 127.0.0.1 in every role."""
        for argv in (
            ("--role=ismg-sim", "--cmpp", "tcp:17890", "--sgip", "tcp:8801", "--control", "tcp:81"),
            ("--role=gns-sim", "--listen", "tcp:19168", "--control", "tcp:18082"),
            ("--role=gns-sim",),
        ):
            with self.subTest(argv=argv):
                reactor = MemoryReactorClock()
                top = makeService(_parse(*argv), reactor=reactor)
                top.startService()
                self.addCleanup(top.stopService)
                self.assertTrue(reactor.tcpServers)
                self.assertEqual({interface for _, interface in _listening(reactor)}, {"127.0.0.1"})

    def test_interface_kept_when_given(self) -> None:
        """An endpoint naming an interface binds it (with an account configured)."""
        argv = ("--role=ismg-sim", "--cmpp", "tcp:17890:interface=0.0.0.0", "--account", "9:pw")
        top = makeService(_parse(*argv), reactor=self.reactor)
        top.startService()
        self.addCleanup(top.stopService)
        self.assertIn((17890, "0.0.0.0"), _listening(self.reactor))

    def test_demo_account_refused_beyond_loopback(self) -> None:
        """ismg-sim with only the demo account refuses a listener beyond loopback, naming why."""
        for option in ("--cmpp", "--sgip", "--cmpp3"):
            with self.subTest(option=option):
                error = self.assertRaises(
                    usage.UsageError, _parse, "--role=ismg-sim", option, "tcp:1:interface=0.0.0.0"
                )
                self.assertIn("demo account 901234", str(error))
                self.assertIn("--account", str(error))
                self.assertNotIn("123456", str(error))
        # The control API carries no login: it may listen anywhere (it is not a protocol face).
        _parse("--role=ismg-sim", "--account", "900001:pw", "--cmpp", "tcp:1:interface=0.0.0.0")

    def test_demo_ismg_refused_beyond_loopback(self) -> None:
        """gns-sim with only the demo ISMG refuses to listen beyond loopback."""
        error = self.assertRaises(
            usage.UsageError, _parse, "--role=gns-sim", "--listen", "tcp:9168:interface=0.0.0.0"
        )
        self.assertIn("demo account 001001", str(error))
        _parse("--role=gns-sim", "--listen", "tcp:9168:interface=0.0.0.0", "--account", "002002:x")

    def test_make_service_refuses_too(self) -> None:
        """makeService refuses the demo account beyond loopback without postOptions (a .tac)."""
        options = {"role": "ismg-sim", "cmpp": "tcp:1:interface=0.0.0.0"}
        self.assertRaises(ValueError, makeService, options, reactor=self.reactor)
        self.assertEqual(self.reactor.tcpServers, [])
        self.assertEqual(len(self.flushLoggedErrors()), 0)

    def pidfile(self, *argv: str) -> str:
        """twistd's pidfile after parsing *argv* as ``twistd ARGV``."""
        from twisted.scripts.twistd import ServerOptions

        options = ServerOptions()
        options.parseOptions(list(argv))
        return str(options["pidfile"])

    def test_pidfile_per_role(self) -> None:
        """Each role has its own pidfile; none under -n; an explicit --pidfile is kept."""
        if os.name != "posix":
            raise SkipTest("twistd pidfiles are POSIX-only")
        for role in ("sp", "ismg-sim", "gns-sim"):
            with self.subTest(role=role):
                self.assertEqual(
                    self.pidfile("smsgw", f"--role={role}"), os.path.abspath(f"smsgw-{role}.pid")
                )
                self.assertEqual(self.pidfile("-n", "smsgw", f"--role={role}"), "")
        self.assertEqual(
            self.pidfile("--pidfile", "mine.pid", "-n", "smsgw"), os.path.abspath("mine.pid")
        )
        self.assertEqual(self.pidfile("--pidfile=", "smsgw", "--role=ismg-sim"), "")
