"""The example configurations (``examples/``) load, and between them show every key.

The keys the loader knows are derived, not listed: the fields of the attrs
classes of :mod:`smsgw.config.schema` (``Config`` and everything under it,
the simulator's :class:`~smsgw.config.policy.Policy` included), the
simulator listeners and the upstream protocols' extras classes of the
protocol registry.  So a key added to the configuration without an example
fails :meth:`ExampleKeyTests.test_every_key_shown`, which lists every
missing key with where to add it.

An upstream's URL settings (``window``, ``tps``…) and protocol keys
(``node_id``…) count when shown either as a TOML key of an ``[[upstream]]``
table or in the query of one of its ``url`` strings.  A key whose TOML name
is not its attrs field's name is in :data:`TOML_NAMES`; ``[gns]`` is the
gns-sim's own table (``simulator/network/gns.toml`` shows it) and is not
checked here.
"""

from __future__ import annotations

import tomllib
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs
from twisted.trial.unittest import SynchronousTestCase

from smsgw.config import Config, UpstreamConfig, load_config
from smsgw.config.schema import URL_SETTINGS, SimulatorConfig
from smsgw.protocols.registry import extras_keys, sim_listeners, specs

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FILES = ("sp.toml", "sp-node.toml", "ismg-sim.toml")

#: (attrs class, field name) -> TOML key, where the two differ.
TOML_NAMES: dict[tuple[type, str], str] = {
    (Config, "upstreams"): "upstream",
    (Config, "api_keys"): "api_key",
    (SimulatorConfig, "accounts"): "account",
    (SimulatorConfig, "peers"): "peer",
}

#: Fields that are not TOML keys of their own table.
NOT_KEYS: dict[tuple[type, str], str] = {
    (Config, "gns"): "the gns-sim's [gns] table, parsed by smsgw.gns.config",
    (UpstreamConfig, "scheme"): "part of url",
    (UpstreamConfig, "account"): "part of url",
    (UpstreamConfig, "secret"): "part of url",
    (UpstreamConfig, "host"): "part of url",
    (UpstreamConfig, "port"): "part of url",
    (UpstreamConfig, "path"): "part of url (an HTTP vendor's base path)",
}


def _attrs_class(hint: Any) -> type | None:
    """The attrs class *hint* names, alone, optional or as ``tuple[C, ...]``."""
    if isinstance(hint, type) and attrs.has(hint):
        return hint
    origin = typing.get_origin(hint)
    if origin in (tuple, typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            found = _attrs_class(arg)
            if found is not None:
                return found
    return None


def known_keys(cls: type = Config, prefix: str = "") -> Iterator[str]:
    """Every dotted key under *cls* the loader reads (array-of-tables items unnumbered)."""
    hints = typing.get_type_hints(cls)
    for field in attrs.fields(cls):
        if (cls, field.name) in NOT_KEYS:
            continue
        key = prefix + TOML_NAMES.get((cls, field.name), field.name)
        if cls is SimulatorConfig and field.name == "listeners":
            yield from (prefix + listener.option for listener in sim_listeners())
        elif cls is UpstreamConfig and field.name == "extra":
            for spec in specs():
                yield from (f"{prefix}{name}" for name in extras_keys(spec.extras))
        else:
            nested = _attrs_class(hints[field.name])
            if nested is None:
                yield key
            else:
                yield from known_keys(nested, key + ".")
    if cls is UpstreamConfig:
        yield prefix + "url"


def shown_keys(document: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Every dotted key of a TOML *document*, with upstream URL query keys as keys."""
    for name, value in document.items():
        key = prefix + name
        yield key
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                yield from shown_keys(item, key + ".")
        if key == "upstream.url" or (prefix == "upstream." and name == "url"):
            for url in items:
                yield from (prefix + query for query, _ in parse_qsl(urlsplit(url).query, True))


class ExampleKeyTests(SynchronousTestCase):
    """examples/sp.toml and examples/ismg-sim.toml load and show every configuration key."""

    def load(self, name: str) -> dict[str, Any]:
        """The TOML document of examples/*name*."""
        with open(EXAMPLES / name, "rb") as f:
            return tomllib.load(f)

    def test_examples_load(self) -> None:
        """Each example is a valid configuration: the loader reads it without an error."""
        for name in FILES:
            with self.subTest(name=name):
                self.assertIsInstance(load_config(EXAMPLES / name), Config)

    def test_every_key_shown(self) -> None:
        """Every key the loader knows appears in one of the examples."""
        shown = {key for name in FILES for key in shown_keys(self.load(name))}
        missing = sorted(set(known_keys()) - shown)
        self.assertEqual(
            missing,
            [],
            "these configuration keys have no example: "
            + ", ".join(missing)
            + ". Add each, with a comment, to examples/sp.toml (the gateway's keys) or "
            "examples/ismg-sim.toml (the simulator's); a key whose TOML name differs from "
            "its attrs field goes into TOML_NAMES in tests/test_examples.py.",
        )

    def test_no_unknown_key(self) -> None:
        """The examples show no key the loader does not know (a typo would load as an error)."""
        known = set(known_keys())
        for name in FILES:
            for key in shown_keys(self.load(name)):
                if key.startswith(("simulator.policy.reports.states.", "gns.")):
                    continue  # Stat names; the gns-sim's own table
                parent = key.rsplit(".", 1)[0]
                with self.subTest(name=name, key=key):
                    self.assertTrue(key in known or any(k.startswith(key + ".") for k in known)
                                    or parent == key, key)  # fmt: skip

    def test_derivation_sees_nested_keys(self) -> None:
        """The key set reaches into arrays of tables, the policy, listeners and extras."""
        keys = set(known_keys())
        for key in (
            "http.listen",
            "api_key.name",
            "upstream.url",
            "upstream.window",
            "upstream.node_id",
            "simulator.cmpp",
            "simulator.account.allowed_ips",
            "simulator.policy.reports.rules.stat",
            "simulator.policy.faults.submit_result",
            "simulator.peer.sp_codes",
            "vendors.dirs",
        ):
            self.assertIn(key, keys)
        self.assertNotIn("gns", keys)
        self.assertNotIn("upstream.secret", keys)
        self.assertTrue({s[0] for s in URL_SETTINGS} <= {k.split(".")[-1] for k in keys})
