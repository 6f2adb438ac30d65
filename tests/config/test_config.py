"""Tests for :mod:`smsgw.config`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import attrs
from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.config import (
    AccountConfig,
    ApiKeyConfig,
    CallbacksConfig,
    Config,
    ConfigError,
    HttpConfig,
    SimulatorConfig,
    StoreConfig,
    UpstreamConfig,
    load_config,
    parse_account,
    parse_upstream_url,
)
from smsgw.config.policy import Policy, PrefixRule
from smsgw.protocols.cmpp.extras import CmppExtras
from smsgw.protocols.sgip.extras import SgipExtras
from smsgw.protocols.smgp.extras import SmgpExtras

FULL = """\
[http]
listen = "tcp:9080"

[store]
path = "/var/lib/smsgw/db.sqlite3"
process = false

[[upstream]]
name = "mobile"
url = "cmpp://901234:s%40cret@10.1.1.1:7891?src_id=1065901234&window=32&tps=100"
routes = ["134", "135", "139"]

[[upstream]]
name = "unicom"
url = "sgip://sp1:pw@sgip.example.com?node_id=3000012345&corp_id=12345&listen=tcp:8801"

[callbacks]
report_url = "https://app.example.com/sms/report"
mo_url = "http://127.0.0.1:9000/mo"

[[api_key]]
key = "k-123456"
name = "billing"

[simulator]
cmpp = "tcp:17890"
cmpp3 = "tcp:17891"
sgip = "tcp:18801"
smgp = "tcp:18890"
control = "tcp:18081:interface=0.0.0.0"
gateway_code = "010203"

[[simulator.account]]
id = "901234"
secret = "pass"
max_sessions = 2
allowed_ips = ["10.0.0.0/8", "192.168.1.7", "::1"]
tps = 50
src_prefix = "1065901234"

[[simulator.account]]
id = "901235"
secret = "other"

[simulator.policy.reports]
states = { DELIVRD = 0.9, UNDELIV = 0.1 }
delay_s = [0.5, 2.0]
rules = [{ prefix = "1390000", stat = "UNDELIV" }]

[simulator.policy.faults]
throttle_tps = 200
submit_result = 0

[gns]
routes = [{ prefix = "139", ismg = "001001" }]
"""


class _FileTestCase(SynchronousTestCase):
    """Writes configuration files in the test's temporary directory."""

    def write(self, text: str | bytes) -> str:
        """A new file holding *text*; its path."""
        path = self.mktemp()
        with open(path, "wb") as file:
            file.write(text.encode("utf-8") if isinstance(text, str) else text)
        return path

    def assert_error(self, text: str, key: str | None, reason: str | None = None) -> ConfigError:
        """Loading *text* fails naming the file and *key* (and containing *reason*)."""
        path = self.write(text)
        error = self.assertRaises(ConfigError, load_config, path)
        self.assertEqual((error.source, error.key), (path, key), str(error))
        self.assertTrue(str(error).startswith(f"{path}: {key}: " if key else f"{path}: "))
        if reason is not None:
            self.assertIn(reason, error.reason)
        return error


class DefaultsTests(_FileTestCase):
    """Without a file, or with an empty one, everything has its default."""

    def test_none(self) -> None:
        """load_config(None) gives the documented defaults."""
        config = load_config(None)
        self.assertEqual(config, Config())
        self.assertEqual(config.http.listen, "tcp:8080:interface=127.0.0.1")
        self.assertIsNone(config.http.compat_listen)
        self.assertEqual(config.store.path, "smsgw.sqlite3")
        self.assertEqual(config.upstreams, ())
        self.assertEqual(config.callbacks, CallbacksConfig(None, None))
        self.assertEqual(config.api_keys, ())
        self.assertEqual(config.gns, {})

    def test_simulator_defaults(self) -> None:
        """The simulator serves CMPP 2.0 on 127.0.0.1:7890 and its control API on 8081."""
        simulator = load_config(None).simulator
        self.assertEqual(
            simulator,
            SimulatorConfig(
                listeners={"cmpp": "tcp:7890:interface=127.0.0.1"},
                control="tcp:8081:interface=127.0.0.1",
                gateway_code="001001",
                accounts=(),
                policy=Policy(),
            ),
        )
        self.assertEqual(simulator.gateway_code_int, 1001)

    def test_empty_file(self) -> None:
        """An empty file gives the defaults."""
        self.assertEqual(load_config(self.write("")), Config())

    def test_empty_tables(self) -> None:
        """Empty tables give the defaults."""
        text = "[http]\n[store]\n[callbacks]\n[simulator]\n[simulator.policy]\n[gns]\n"
        self.assertEqual(load_config(self.write(text)), Config())


class FullFileTests(_FileTestCase):
    """Every section and key is read."""

    def setUp(self) -> None:
        self.config = load_config(Path(self.write(FULL)))

    def test_http_store(self) -> None:
        """[http] and [store]."""
        self.assertEqual(self.config.http, HttpConfig("tcp:9080"))
        self.assertEqual(self.config.store, StoreConfig("/var/lib/smsgw/db.sqlite3", process=False))
        self.assertTrue(StoreConfig().process)

    def test_upstreams(self) -> None:
        """[[upstream]] tables keep their order, names, routes and URL settings."""
        mobile, unicom = self.config.upstreams
        self.assertEqual(
            (mobile.name, mobile.scheme, mobile.account, mobile.secret, mobile.host, mobile.port),
            ("mobile", "cmpp", "901234", "s@cret", "10.1.1.1", 7891),
        )
        self.assertEqual(mobile.routes, ("134", "135", "139"))
        self.assertEqual((mobile.src_id, mobile.window, mobile.tps), ("1065901234", 32, 100.0))
        self.assertEqual((unicom.name, unicom.scheme, unicom.port), ("unicom", "sgip", 8801))
        self.assertEqual(
            unicom.extra,
            SgipExtras(node_id=3000012345, corp_id="12345", listen="tcp:8801"),
        )
        self.assertEqual(unicom.routes, ())

    def test_callbacks_and_keys(self) -> None:
        """[callbacks] and [[api_key]]."""
        self.assertEqual(
            self.config.callbacks,
            CallbacksConfig("https://app.example.com/sms/report", "http://127.0.0.1:9000/mo"),
        )
        self.assertEqual(self.config.api_keys, (ApiKeyConfig("k-123456", "billing"),))

    def test_simulator(self) -> None:
        """[simulator] listeners and gateway code."""
        simulator = self.config.simulator
        self.assertEqual(
            simulator.listeners,
            {"cmpp": "tcp:17890", "cmpp3": "tcp:17891", "sgip": "tcp:18801", "smgp": "tcp:18890"},
        )
        self.assertEqual(simulator.control, "tcp:18081:interface=0.0.0.0")
        self.assertEqual(simulator.gateway_code_int, 10203)

    def test_accounts(self) -> None:
        """[[simulator.account]] with every key, and one with the defaults."""
        first, second = self.config.simulator.accounts
        self.assertEqual(
            first,
            AccountConfig(
                id="901234",
                secret="pass",
                max_sessions=2,
                allowed_ips=("10.0.0.0/8", "192.168.1.7", "::1"),
                tps=50.0,
                src_prefix="1065901234",
            ),
        )
        self.assertEqual(second, AccountConfig("901235", "other"))
        self.assertEqual((second.max_sessions, second.allowed_ips, second.tps), (8, (), None))

    def test_policy(self) -> None:
        """[simulator.policy] is a Policy."""
        policy = self.config.simulator.policy
        self.assertEqual(policy.reports.states, (("DELIVRD", 0.9), ("UNDELIV", 0.1)))
        self.assertEqual(policy.reports.delay_s, (0.5, 2.0))
        self.assertEqual(policy.reports.rules, (PrefixRule("1390000", "UNDELIV"),))
        self.assertEqual(policy.faults.throttle_tps, 200.0)

    def test_gns(self) -> None:
        """[gns] is kept as read."""
        self.assertEqual(self.config.gns, {"routes": [{"prefix": "139", "ismg": "001001"}]})

    def test_no_secrets_in_repr(self) -> None:
        """repr() of the configuration shows no secret or API key."""
        text = repr(self.config)
        for secret in ("s@cret", "s%40cret", "pass", "other", "k-123456", "pw"):
            self.assertNotIn(f"'{secret}'", text)
            self.assertNotIn(secret + "@", text)
        self.assertIn("901234", text)

    def test_bom(self) -> None:
        """A UTF-8 byte order mark is ignored."""
        config = load_config(self.write(b"\xef\xbb\xbf" + FULL.encode()))
        self.assertEqual(config, self.config)


class AccountTests(SynchronousTestCase):
    """AccountConfig's checks."""

    def test_any_ip(self) -> None:
        """No allowed_ips means any address."""
        self.assertTrue(AccountConfig("a", "b").allows_ip("203.0.113.9"))

    def test_allowed_ips(self) -> None:
        """Addresses in the networks are allowed, others not."""
        account = AccountConfig(
            "a",
            "b",
            allowed_ips=("10.0.0.0/8", "2001:db8::/32", "192.168.1.7"),
        )
        self.assertTrue(account.allows_ip("10.2.3.4"))
        self.assertTrue(account.allows_ip("2001:db8::1"))
        self.assertTrue(account.allows_ip("::ffff:10.2.3.4"))
        self.assertTrue(account.allows_ip("192.168.1.7"))
        self.assertFalse(account.allows_ip("192.168.1.8"))
        self.assertFalse(account.allows_ip("11.0.0.1"))
        self.assertFalse(account.allows_ip("not an address"))

    def test_bad_entry(self) -> None:
        """An invalid entry (possible when built by hand) matches nothing."""
        account = AccountConfig("a", "b", allowed_ips=("bogus", "10.0.0.0/8"))
        self.assertTrue(account.allows_ip("10.0.0.1"))
        self.assertFalse(account.allows_ip("11.0.0.1"))

    def test_src_prefix(self) -> None:
        """Src_Id must start with src_prefix when one is set."""
        self.assertTrue(AccountConfig("a", "b").allows_src_id("10086"))
        account = AccountConfig("a", "b", src_prefix="1065")
        self.assertTrue(account.allows_src_id("106590"))
        self.assertFalse(account.allows_src_id("10086"))


class VendorsTableTests(_FileTestCase):
    """``[vendors] dirs``: folders of HTTP vendor files."""

    def test_dirs(self) -> None:
        """The folders are read in order."""
        config = load_config(self.write('[vendors]\ndirs = ["a", "b/c"]\n'))
        self.assertEqual(config.vendors.dirs, ("a", "b/c"))

    def test_default(self) -> None:
        """Without the table there is no extra folder."""
        self.assertEqual(load_config(None).vendors.dirs, ())

    def test_bad_dirs(self) -> None:
        """A non-string folder and an unknown key are named."""
        self.assert_error("[vendors]\ndirs = [1]\n", "vendors.dirs[0]", "folder paths")
        self.assert_error('[vendors]\nfolder = "x"\n', "vendors.folder")


class VendorAccountKeysTests(_FileTestCase):
    """The simulator's account keys for HTTP vendors, and ``[simulator] vendor_http``."""

    ACCOUNT = '[[simulator.account]]\nid = "a"\nsecret = "b"\n'

    def test_keys(self) -> None:
        """report_url, mo_url (with {vendor}), balance and products are read."""
        config = load_config(
            self.write(
                '[simulator]\nvendor_http = "tcp:8088:interface=127.0.0.1"\n'
                + self.ACCOUNT
                + 'report_url = "http://127.0.0.1:8080/push/{vendor}/report"\n'
                'mo_url = "https://sp.example/mo?v={vendor}"\nbalance = 25\n'
                'products = ["1", "2"]\n'
            )
        )
        [account] = config.simulator.accounts
        self.assertEqual(config.simulator.vendor_http, "tcp:8088:interface=127.0.0.1")
        self.assertEqual(
            (account.report_url, account.mo_url, account.balance, account.products),
            (
                "http://127.0.0.1:8080/push/{vendor}/report",
                "https://sp.example/mo?v={vendor}",
                25,
                ("1", "2"),
            ),
        )

    def test_defaults(self) -> None:
        """No URL, a balance of 1,000,000 parts, any product; no vendor listener."""
        config = load_config(self.write(self.ACCOUNT))
        [account] = config.simulator.accounts
        self.assertEqual(
            (account.report_url, account.mo_url, account.balance, account.products),
            (None, None, 1_000_000, ()),
        )
        self.assertIsNone(config.simulator.vendor_http)

    def test_bad_values(self) -> None:
        """A bad URL, balance, product list or endpoint is named by its key."""
        cases = {
            'report_url = "ftp://x/"\n': ("simulator.account[0].report_url", "http"),
            'mo_url = "not a url"\n': ("simulator.account[0].mo_url", "http"),
            "mo_url = 1\n": ("simulator.account[0].mo_url", None),
            "balance = -1\n": ("simulator.account[0].balance", ">= 0"),
            'balance = "10"\n': ("simulator.account[0].balance", None),
            "products = [1]\n": ("simulator.account[0].products[0]", "product ids"),
            'products = [""]\n': ("simulator.account[0].products[0]", "product ids"),
        }
        for line, (key, reason) in cases.items():
            self.assert_error(self.ACCOUNT + line, key, reason)
        self.assert_error('[simulator]\nvendor_http = ""\n', "simulator.vendor_http")
        self.assert_error("[simulator]\nvendor_http = 8088\n", "simulator.vendor_http")


class FileErrorTests(_FileTestCase):
    """Every kind of error names the file and the dotted key."""

    def test_missing_file(self) -> None:
        """A file that cannot be read is named."""
        path = self.mktemp()
        error = self.assertRaises(ConfigError, load_config, path)
        self.assertEqual((error.source, error.key), (path, None))
        self.assertIn("cannot read", str(error))

    def test_invalid_toml(self) -> None:
        """TOML syntax errors name the file and say where."""
        error = self.assert_error("[http\nlisten = 1\n", None, "invalid TOML")
        self.assertIn("line 1", str(error))

    def test_not_utf8(self) -> None:
        """A file that is not UTF-8 is refused."""
        path = self.write('[store]\npath = "数据"\n'.encode("gbk"))
        error = self.assertRaises(ConfigError, load_config, path)
        self.assertEqual(error.source, path)

    def test_unknown_top_level(self) -> None:
        """Unknown top-level keys are named, with the allowed ones."""
        error = self.assert_error('databse = "x"\n', "databse", "unknown key")
        self.assertIn("store", error.reason)
        error = self.assert_error("a = 1\nb = 2\n", "a", "unknown key")
        self.assertIn("'b'", error.reason)

    def test_unknown_nested(self) -> None:
        """Unknown keys in every table are named by their dotted path."""
        cases = {
            '[http]\nlisten_on = "tcp:1"\n': "http.listen_on",
            '[store]\nfile = "x"\n': "store.file",
            '[callbacks]\nreports = "http://x"\n': "callbacks.reports",
            '[[upstream]]\nname = "a"\nurl = "cmpp://a:b@h"\nroute = []\n': "upstream[0].route",
            '[[api_key]]\nkey = "k"\nname = "n"\nscope = "all"\n': "api_key[0].scope",
            '[simulator]\ncmpp2 = "tcp:1"\n': "simulator.cmpp2",
            '[[simulator.account]]\nid = "a"\nsecret = "b"\nip = []\n': "simulator.account[0].ip",
            "[simulator.policy]\nfault = {}\n": "simulator.policy.fault",
            "[simulator.policy.faults]\nthrottle = 1\n": "simulator.policy.faults.throttle",
            "[simulator.policy.reports]\nrules = [{prefix = '1', stat = 'UNDELIV', x = 1}]\n": (
                "simulator.policy.reports.rules[0].x"
            ),
        }
        for text, key in cases.items():
            self.assert_error(text, key, "unknown key")

    def test_wrong_types(self) -> None:
        """Values of the wrong type are named."""
        cases = {
            "[http]\nlisten = 8080\n": "http.listen",
            '[http]\nlisten = ""\n': "http.listen",
            "[store]\npath = false\n": "store.path",
            '[store]\nprocess = "yes"\n': "store.process",
            "[callbacks]\nmo_url = 1\n": "callbacks.mo_url",
            '[[upstream]]\nname = 1\nurl = "cmpp://a:b@h"\n': "upstream[0].name",
            '[[upstream]]\nname = "a"\nurl = ["x"]\n': "upstream[0].url",
            '[[upstream]]\nname = "a"\nurl = "cmpp://a:b@h"\nroutes = "139"\n': (
                "upstream[0].routes"
            ),
            '[[upstream]]\nname = "a"\nurl = "cmpp://a:b@h"\nroutes = ["13x"]\n': (
                "upstream[0].routes[0]"
            ),
            '[[upstream]]\nname = "a"\nurl = "cmpp://a:b@h"\nroutes = [139]\n': (
                "upstream[0].routes[0]"
            ),
            '[[api_key]]\nkey = 1\nname = "n"\n': "api_key[0].key",
            "[simulator]\ncmpp = 7890\n": "simulator.cmpp",
            "[simulator]\nsgip = true\n": "simulator.sgip",
            '[simulator]\ncontrol = ""\n': "simulator.control",
            "[simulator]\ngateway_code = 1001\n": "simulator.gateway_code",
            "[simulator]\npolicy = 1\n": "simulator.policy",
            '[[simulator.account]]\nid = "a"\nsecret = 1\n': "simulator.account[0].secret",
            '[[simulator.account]]\nid = "a"\nsecret = "b"\nmax_sessions = "8"\n': (
                "simulator.account[0].max_sessions"
            ),
            '[[simulator.account]]\nid = "a"\nsecret = "b"\ntps = "5"\n': (
                "simulator.account[0].tps"
            ),
            '[[simulator.account]]\nid = "a"\nsecret = "b"\nallowed_ips = "::1"\n': (
                "simulator.account[0].allowed_ips"
            ),
            '[[simulator.account]]\nid = "a"\nsecret = "b"\nsrc_prefix = 1065\n': (
                "simulator.account[0].src_prefix"
            ),
            "[simulator.policy.reports]\ndelay_s = 1\n": "simulator.policy.reports.delay_s",
            "[simulator.policy.faults]\nsubmit_result = 1.0\n": (
                "simulator.policy.faults.submit_result"
            ),
            '[[simulator.policy.triggers]]\nmatch = "*1"\nstat = "BAD"\n': (
                "simulator.policy.triggers[0].stat"
            ),
            "[[simulator.policy.triggers]]\nmatch = 1\n": "simulator.policy.triggers[0].match",
            '[[simulator.policy.triggers]]\nmatch = "*1"\nresult = 8\nno_report = true\n': (
                "simulator.policy.triggers[0].no_report"
            ),
            '[[simulator.account]]\nid = "a"\nsecret = "b"\n'
            '[[simulator.policy.triggers]]\nmatch = "*1"\naccount = "z"\n': (
                "simulator.policy.triggers[0].account"
            ),
            "gns = 1\n": "gns",
            "http = 1\n": "http",
        }
        for text, key in cases.items():
            self.assert_error(text, key)

    def test_the_documented_message(self) -> None:
        """The message reads FILE: KEY: REASON."""
        text = '[[simulator.account]]\nid = "a"\nsecret = "b"\n'
        text += '[[simulator.account]]\nid = "c"\nsecret = 2\n'
        error = self.assert_error(text, "simulator.account[1].secret")
        self.assertEqual(
            str(error), f"{error.source}: simulator.account[1].secret: expected a string"
        )

    def test_arrays_of_tables(self) -> None:
        """Sections meant as [[arrays]] refuse single tables and other values."""
        self.assert_error('[upstream]\nname = "a"\n', "upstream", "[[upstream]]")
        self.assert_error('api_key = "k"\n', "api_key", "[[api_key]]")
        self.assert_error('[simulator.account]\nid = "a"\n', "simulator.account")
        self.assert_error("upstream = [1]\n", "upstream[0]", "expected a table")

    def test_required(self) -> None:
        """Required keys are named when missing or empty."""
        cases = {
            '[[upstream]]\nurl = "cmpp://a:b@h"\n': "upstream[0].name",
            '[[upstream]]\nname = "a"\n': "upstream[0].url",
            '[[api_key]]\nname = "n"\n': "api_key[0].key",
            '[[api_key]]\nkey = "k"\nname = ""\n': "api_key[0].name",
            '[[simulator.account]]\nsecret = "b"\n': "simulator.account[0].id",
            '[[simulator.account]]\nid = "a"\n': "simulator.account[0].secret",
            '[[simulator.account]]\nid = "a"\nsecret = ""\n': "simulator.account[0].secret",
        }
        for text, key in cases.items():
            self.assert_error(text, key)

    def test_ranges(self) -> None:
        """Values out of range are named."""
        account = '[[simulator.account]]\nid = "a"\nsecret = "b"\n'
        cases = {
            account + "max_sessions = 0\n": "simulator.account[0].max_sessions",
            account + "max_sessions = true\n": "simulator.account[0].max_sessions",
            account + "tps = 0\n": "simulator.account[0].tps",
            account + "tps = nan\n": "simulator.account[0].tps",
            account + 'allowed_ips = ["10.0.0.0/8", "10.0.0.300"]\n': (
                "simulator.account[0].allowed_ips[1]"
            ),
            account + 'src_prefix = "10a"\n': "simulator.account[0].src_prefix",
            '[simulator]\ngateway_code = "1001"\n': "simulator.gateway_code",
            '[simulator]\ngateway_code = "00100a"\n': "simulator.gateway_code",
            '[callbacks]\nreport_url = "ftp://x/y"\n': "callbacks.report_url",
            '[callbacks]\nmo_url = "http://"\n': "callbacks.mo_url",
            "[simulator.policy.faults]\ndrop_response_ratio = 1.5\n": (
                "simulator.policy.faults.drop_response_ratio"
            ),
            "[simulator.policy.reports.states]\nDELIV = 1\n": (
                "simulator.policy.reports.states.DELIV"
            ),
        }
        for text, key in cases.items():
            self.assert_error(text, key)

    def test_duplicates(self) -> None:
        """Repeated upstream names, account ids and API keys are named."""
        upstream = '[[upstream]]\nname = "a"\nurl = "cmpp://a:b@h"\n'
        self.assert_error(upstream * 2, "upstream[1].name", "duplicate")
        account = '[[simulator.account]]\nid = "a"\nsecret = "b"\n'
        self.assert_error(account * 2, "simulator.account[1].id", "duplicate")
        key = '[[api_key]]\nkey = "k-secret"\nname = "n"\n'
        error = self.assert_error(key * 2, "api_key[1].key", "duplicate")
        self.assertNotIn("k-secret", str(error))

    def test_upstream_url(self) -> None:
        """A bad upstream URL names the url key and the part that is wrong."""
        text = '[[upstream]]\nname = "a"\nurl = "cmpp://a:hunter2@h?window=0"\n'
        error = self.assert_error(text, "upstream[0].url", "window")
        self.assertNotIn("hunter2", str(error))
        text = '[[upstream]]\nname = "a"\nurl = "ucp://a:hunter2@h"\n'
        error = self.assert_error(text, "upstream[0].url", "scheme")
        self.assertNotIn("hunter2", str(error))

    def test_secret_not_in_messages(self) -> None:
        """Type errors about secrets do not quote them."""
        error = self.assert_error('[[api_key]]\nkey = ["hunter2"]\nname = "n"\n', "api_key[0].key")
        self.assertNotIn("hunter2", str(error))

    def test_pathlike_source(self) -> None:
        """A path object is named as its string."""
        path = Path(self.write("x = 1\n"))
        error = self.assertRaises(ConfigError, load_config, path)
        self.assertEqual(error.source, os.fspath(path))


accounts = st.text(min_size=1, max_size=12).filter(lambda text: "\x00" not in text)
secrets = st.text(min_size=1, max_size=16)
hosts = st.sampled_from(["h", "10.0.0.1", "ismg.example.com", "::1", "2001:db8::7"])
settings = st.fixed_dictionaries(
    {},
    optional={
        "src_id": st.from_regex(r"[0-9]{0,21}", fullmatch=True),
        "service_id": st.text(max_size=10),
        "window": st.integers(1, 1024),
        "tps": st.floats(min_value=0.001, max_value=1e6),
        "sessions": st.integers(1, 64),
        "response_timeout_s": st.floats(min_value=0.001, max_value=1e4),
        "retries": st.integers(1, 10),
        "keepalive_s": st.floats(min_value=0.001, max_value=1e5),
        "charset": st.sampled_from(["ucs2", "gbk"]),
    },
)
#: Each scheme's own keys, drawn with the settings every scheme takes.
extra_settings = {
    "cmpp": st.just({}),
    "cmpp3": st.just({}),
    "sgip": st.fixed_dictionaries(
        {},
        optional={
            "node_id": st.integers(0, 0xFFFFFFFF).map(str),
            "corp_id": st.from_regex(r"[0-9]{0,5}", fullmatch=True),
            "listen": st.sampled_from(["tcp:8801", "tcp:port=8802:interface=127.0.0.1"]),
        },
    ),
    "smgp": st.fixed_dictionaries({}, optional={"login_mode": st.sampled_from(["0", "1", "2"])}),
}


def _url(scheme: str, account: str, secret: str, host: str, port: int | None, query: Any) -> str:
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    url = f"{scheme}://{quote(account, safe='')}:{quote(secret, safe='')}@{netloc}"
    return f"{url}?{urlencode(query)}" if query else url


class UpstreamUrlTests(SynchronousTestCase):
    """parse_upstream_url reads SCHEME://ACCOUNT:SECRET@HOST:PORT?key=value."""

    def test_defaults(self) -> None:
        """A bare URL has the default port per scheme and default settings."""
        for scheme, port in (("cmpp", 7890), ("cmpp3", 7890), ("sgip", 8801), ("smgp", 8890)):
            upstream = parse_upstream_url(f"{scheme}://acct:pw@gw.example.com")
            self.assertEqual(
                upstream,
                UpstreamConfig(scheme, "acct", "pw", "gw.example.com", port, name="acct"),
            )
        upstream = parse_upstream_url("cmpp://acct:pw@gw")
        self.assertEqual(
            (
                upstream.src_id,
                upstream.service_id,
                upstream.window,
                upstream.tps,
                upstream.sessions,
                upstream.response_timeout_s,
                upstream.retries,
                upstream.keepalive_s,
                upstream.extra,
                upstream.routes,
            ),
            ("", "", 16, None, 1, 60.0, 3, 180.0, CmppExtras(), ()),
        )

    def test_every_key(self) -> None:
        """Every documented key is read with its type."""
        upstream = parse_upstream_url(
            "sgip://sp:pw@10.0.0.1:8802?src_id=10655&service_id=HELP&window=64&tps=12.5"
            "&sessions=4&response_timeout_s=30&retries=5&keepalive_s=60.5&node_id=3001"
            "&corp_id=12345&listen=tcp%3A8801&charset=gbk"
        )
        self.assertEqual(upstream.port, 8802)
        self.assertEqual((upstream.src_id, upstream.service_id), ("10655", "HELP"))
        self.assertEqual((upstream.window, upstream.tps, upstream.sessions), (64, 12.5, 4))
        self.assertEqual(
            (upstream.response_timeout_s, upstream.retries, upstream.keepalive_s), (30.0, 5, 60.5)
        )
        self.assertEqual(
            upstream.extra,
            SgipExtras(charset="gbk", node_id=3001, corp_id="12345", listen="tcp:8801"),
        )
        self.assertEqual(
            parse_upstream_url("smgp://a:b@h?login_mode=0").extra, SmgpExtras(login_mode=0)
        )

    def test_percent_decoding(self) -> None:
        """Account and secret are percent-decoded; colons may follow the first one."""
        upstream = parse_upstream_url("cmpp://sp%20one:p%40ss%2Fw%3Ard:x@h")
        self.assertEqual((upstream.account, upstream.secret), ("sp one", "p@ss/w:rd:x"))

    def test_ipv6_and_case(self) -> None:
        """IPv6 hosts in brackets; scheme and host are case-insensitive."""
        upstream = parse_upstream_url("CMPP3://a:b@[2001:DB8::1]:7000")
        self.assertEqual(
            (upstream.scheme, upstream.host, upstream.port), ("cmpp3", "2001:db8::1", 7000)
        )

    def test_trailing_slash(self) -> None:
        """A lone / path is accepted."""
        self.assertEqual(parse_upstream_url("cmpp://a:b@h/").host, "h")

    def assert_bad(self, url: str, key: str) -> ConfigError:
        """*url* is refused naming *key*, without quoting the secret."""
        error = self.assertRaises(ConfigError, parse_upstream_url, url)
        self.assertEqual((error.key, error.source), (key, None), str(error))
        self.assertTrue(str(error).startswith(f"{key}: "))
        self.assertNotIn("hunter2", str(error))
        return error

    def test_scheme(self) -> None:
        """Other schemes, or none, are refused naming scheme."""
        for url in ("ftp://a:hunter2@h", "ucp://a:hunter2@h", "a:hunter2@h", "//a:hunter2@h"):
            error = self.assert_bad(url, "scheme")
            self.assertIn("cmpp, cmpp3, http, https, sgip, smgp, smpp", error.reason)

    def test_credentials(self) -> None:
        """Account and secret are required."""
        self.assert_bad("cmpp://h", "account")
        self.assert_bad("cmpp://:hunter2@h", "account")
        self.assert_bad("cmpp://a@h", "secret")
        self.assert_bad("cmpp://a:@h", "secret")
        self.assert_bad("cmpp://%FF:hunter2@h", "account")

    def test_host_and_port(self) -> None:
        """Missing hosts and bad ports are refused without quoting the secret."""
        self.assert_bad("cmpp://a:hunter2@", "host")
        self.assert_bad("cmpp://a:hunter2@:7890", "host")
        self.assert_bad("cmpp://a:hunter2@[::1", "host")
        self.assert_bad("cmpp://a:hunter2@h:0", "port")
        self.assert_bad("cmpp://a:hunter2@h:65536", "port")
        self.assert_bad("cmpp://a:hunter2@h:x", "port")
        # An unencoded / in the secret ends the authority early.
        self.assert_bad("cmpp://a:hunter2/x@h", "path")

    def test_path_and_fragment(self) -> None:
        """Paths and fragments are refused."""
        self.assert_bad("cmpp://a:hunter2@h/ismg", "path")
        self.assert_bad("cmpp://a:hunter2@h#x", "fragment")

    def test_bad_values(self) -> None:
        """Each key's bad values are refused naming the key."""
        bad = {
            "window": ["0", "1025", "-1", "", "1.5", "x", "１６"],
            "tps": ["0", "-5", "", "nan", "inf", "1e400", "x", " 5", "1_0"],
            "sessions": ["0", "65", ""],
            "response_timeout_s": ["0", "-1", "x"],
            "retries": ["0", "11", ""],
            "keepalive_s": ["0", "x", "infinity"],
        }
        for key, values in bad.items():
            for value in values:
                self.assert_bad(f"cmpp://a:hunter2@h?{key}={quote(value)}", key)

    def test_unknown_key(self) -> None:
        """An unknown key is refused naming it and the allowed keys, the scheme's own included."""
        error = self.assert_bad("cmpp://a:hunter2@h?windw=8", "windw")
        self.assertIn("window", error.reason)
        self.assertIn("charset", error.reason)
        self.assertNotIn("node_id", error.reason)
        error = self.assert_bad("sgip://a:hunter2@h?windw=8", "windw")
        self.assertIn("node_id", error.reason)

    def test_other_protocols_keys(self) -> None:
        """Another protocol's key is refused naming it (SGIP's node_id on CMPP, SMGP's on SGIP)."""
        self.assert_bad("cmpp://a:hunter2@h?node_id=7", "node_id")
        self.assert_bad("sgip://a:hunter2@h?login_mode=1", "login_mode")
        self.assert_bad("smgp://a:hunter2@h?corp_id=1", "corp_id")

    def test_bad_extras(self) -> None:
        """Each protocol key's bad values are refused naming the key."""
        bad = {
            "sgip": {
                "node_id": ["", "x", "-1", "4294967296", "1.5", "３"],
                "corp_id": ["123456", "é"],
                "listen": [""],
                "charset": ["big5", "", "GBK"],
            },
            "smgp": {"login_mode": ["3", "", "x", "-1"]},
            "cmpp3": {"charset": ["utf-8"]},
        }
        for scheme, keys in bad.items():
            for key, values in keys.items():
                for value in values:
                    self.assert_bad(f"{scheme}://a:hunter2@h?{key}={quote(value)}", key)

    def test_repeated_key(self) -> None:
        """A key given twice is refused."""
        self.assert_bad("cmpp://a:hunter2@h?window=8&window=9", "window")

    def test_redacted(self) -> None:
        """redacted() hides the secret and keeps everything else."""
        upstream = parse_upstream_url(
            "sgip://901234:hunter2@10.0.0.1?window=32&src_id=1065&tps=50&node_id=7&corp_id=1"
        )
        self.assertEqual(
            upstream.redacted(),
            "sgip://901234:***@10.0.0.1:8801?src_id=1065&window=32&tps=50.0&corp_id=1&node_id=7",
        )
        self.assertEqual(
            parse_upstream_url("smgp://a:hunter2@[::1]").redacted(), "smgp://a:***@[::1]:8890"
        )

    def test_repr(self) -> None:
        """repr() shows no secret."""
        self.assertNotIn("hunter2", repr(parse_upstream_url("cmpp://a:hunter2@h")))

    @given(
        scheme=st.sampled_from(["cmpp", "cmpp3", "sgip", "smgp"]),
        account=accounts,
        secret=secrets,
        host=hosts,
        port=st.none() | st.integers(1, 65535),
        query=settings,
        data=st.data(),
    )
    def test_round_trip(
        self,
        scheme: str,
        account: str,
        secret: str,
        host: str,
        port: int | None,
        query: Any,
        data: st.DataObject,
    ) -> None:
        """Any encoded URL parses to its parts, and its redacted form parses back."""
        query = {**query, **data.draw(extra_settings[scheme], label="extras")}
        upstream = parse_upstream_url(_url(scheme, account, secret, host, port, query))
        self.assertEqual(
            (upstream.account, upstream.secret, upstream.host), (account, secret, host)
        )
        self.assertEqual(upstream.port, port or {"sgip": 8801, "smgp": 8890}.get(scheme, 7890))
        for key in ("src_id", "service_id", "window", "tps", "sessions", "retries"):
            if key in query:
                self.assertEqual(getattr(upstream, key), query[key])
        redacted = upstream.redacted()
        self.assertEqual(parse_upstream_url(redacted), attrs.evolve(upstream, secret="***"))
        self.assertEqual(redacted.split("@")[0], f"{scheme}://{quote(account, safe='')}:***")


class ParseAccountTests(SynchronousTestCase):
    """parse_account reads --account ID:SECRET."""

    def test_good(self) -> None:
        """ID and secret with the default limits."""
        self.assertEqual(parse_account("901234:pw"), AccountConfig("901234", "pw"))

    def test_colons_in_secret(self) -> None:
        """The secret is everything after the first colon."""
        self.assertEqual(parse_account("sp:a:b:").secret, "a:b:")

    def test_sgip_callback(self) -> None:
        """ID:SECRET@ENDPOINT gives SGIP's callback; an @ elsewhere stays in the secret."""
        account = parse_account("901234:s@cr:t@tcp:host=127.0.0.1:port=8802")
        self.assertEqual(
            (account.secret, account.sgip_callback), ("s@cr:t", "tcp:host=127.0.0.1:port=8802")
        )
        self.assertIsNone(parse_account("901234:a@b").sgip_callback)
        self.assertEqual(parse_account("901234:a@b").secret, "a@b")

    def test_bad(self) -> None:
        """Missing parts are refused naming --account, never quoting the text."""
        for text in ("", "901234", "901234:", ":hunter2", ":", "901234:@tcp:host=h:port=1",
                     "901234:hunter2@tcp: x"):  # fmt: skip
            error = self.assertRaises(ConfigError, parse_account, text)
            self.assertEqual(error.key, "--account")
            self.assertTrue(str(error).startswith("--account: "))
            self.assertNotIn("hunter2", str(error))


class LoginLimitKeysTests(_FileTestCase):
    """``[simulator]`` login_timeout_s, max_unauthenticated, max_unauthenticated_per_ip."""

    def test_defaults_and_values(self) -> None:
        """Defaults 10 s, 256 and 32; given values are read."""
        default = load_config(None).simulator
        self.assertEqual(
            (default.login_timeout_s, default.max_unauthenticated,
             default.max_unauthenticated_per_ip), (10.0, 256, 32),
        )  # fmt: skip
        path = self.write("[simulator]\nlogin_timeout_s = 2.5\nmax_unauthenticated = 9\n")
        self.assertEqual(load_config(path).simulator.max_unauthenticated, 9)

    def test_bad(self) -> None:
        """Zero or negative values are refused, naming the key."""
        self.assert_error("[simulator]\nmax_unauthenticated = 0\n", "simulator.max_unauthenticated")
        self.assert_error("[simulator]\nlogin_timeout_s = -1\n", "simulator.login_timeout_s")


class CompatListenTests(_FileTestCase):
    """``[http] compat_listen``: the seed-001-compatible API's endpoint."""

    def test_read(self) -> None:
        """compat_listen is read; an empty one is an error naming it."""
        path = self.write('[http]\ncompat_listen = "tcp:8090:interface=127.0.0.1"\n')
        self.assertEqual(load_config(path).http.compat_listen, "tcp:8090:interface=127.0.0.1")
        self.assert_error('[http]\ncompat_listen = ""\n', "http.compat_listen")


class HttpLimitsConfigTests(_FileTestCase):
    """``[http]`` connection caps and idle time (issue 14)."""

    def test_defaults(self) -> None:
        """Without the keys the caps are 1024 in all, 256 per address, and 60 s idle."""
        http = load_config(self.write("[http]\n")).http
        self.assertEqual(
            (http.max_connections, http.max_connections_per_ip, http.idle_timeout_s),
            (1024, 256, 60.0),
        )

    def test_read(self) -> None:
        """The keys are read; bad values are errors naming them."""
        text = "[http]\nmax_connections = 10\nmax_connections_per_ip = 2\nidle_timeout_s = 1.5\n"
        http = load_config(self.write(text)).http
        self.assertEqual(
            (http.max_connections, http.max_connections_per_ip, http.idle_timeout_s), (10, 2, 1.5)
        )
        self.assert_error("[http]\nmax_connections = 0\n", "http.max_connections")
        self.assert_error('[http]\nmax_connections_per_ip = "9"\n', "http.max_connections_per_ip")
        self.assert_error("[http]\nidle_timeout_s = 0\n", "http.idle_timeout_s")
