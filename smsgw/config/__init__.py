"""Configuration: the TOML file and command-line values, as frozen attrs objects.

:func:`load_config` reads the file with the standard :mod:`tomllib`.  Every
problem (unknown keys, wrong types, values out of range) is a
:class:`ConfigError` naming the file and the dotted key::

    smsgw.toml: simulator.account[1].secret: expected a string

Array items are counted from 0, as in ``upstream[0].url``.  Secrets (account
secrets, API keys) never appear in messages or in ``repr``.

* :mod:`smsgw.config.schema` — the value objects (:class:`Config` and its parts);
* :mod:`smsgw.config.upstream` — upstream URLs and ``--account`` values;
* :mod:`smsgw.config.table` — typed reads from one TOML table (shared with the
  ``[gns]`` reader) and :class:`ConfigError`;
* :mod:`smsgw.config.load` — the file, table by table;
* :mod:`smsgw.config.policy` — the simulator's ``[simulator.policy]``.

The protocols' own URL and TOML keys are typed by their registry entries
(:mod:`smsgw.protocols.registry`).
"""

from __future__ import annotations

from smsgw.config.load import load_config, parse_config
from smsgw.config.schema import (
    DEFAULT_CONTROL,
    DEFAULT_HTTP,
    DEFAULT_STORE,
    AccountConfig,
    ApiKeyConfig,
    CallbacksConfig,
    ClusterConfig,
    Config,
    HttpConfig,
    PeerConfig,
    SimulatorConfig,
    StoreConfig,
    UpstreamConfig,
    VendorsConfig,
)
from smsgw.config.table import ConfigError
from smsgw.config.upstream import parse_account, parse_upstream_url

__all__ = [
    "DEFAULT_CONTROL",
    "DEFAULT_HTTP",
    "DEFAULT_STORE",
    "AccountConfig",
    "ApiKeyConfig",
    "CallbacksConfig",
    "ClusterConfig",
    "Config",
    "ConfigError",
    "HttpConfig",
    "PeerConfig",
    "SimulatorConfig",
    "StoreConfig",
    "UpstreamConfig",
    "VendorsConfig",
    "load_config",
    "parse_account",
    "parse_config",
    "parse_upstream_url",
]
