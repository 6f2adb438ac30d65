"""``--role=ismg-sim``: the fake ISMG's service tree.

The simulator itself is :class:`smsgw.ismg.simulator.Simulator`; its
behaviour is the ``[simulator]`` configuration's policy.
"""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger

from smsgw.config import AccountConfig, Config

log = Logger()


def build_simulator(accounts: list[AccountConfig], config: Config, reactor: Any) -> Any:
    """A :class:`~smsgw.ismg.simulator.Simulator` for *accounts* (or the demo one)."""
    from smsgw.ismg.policy import Policy
    from smsgw.ismg.simulator import Account, Simulator, demo_accounts

    if accounts:
        accts = [
            Account(
                a.id,
                a.secret.encode("utf-8"),
                max_sessions=a.max_sessions,
                allowed_ips=tuple(a.allowed_ips),
                tps=a.tps,
                src_prefix=a.src_prefix,
                sgip_callback=a.sgip_callback,
            )
            for a in accounts
        ]
    else:
        accts = demo_accounts()
        log.info(
            "ismg-sim: no account configured; serving the demo account {account} "
            "(its secret is in the README)",
            account=accts[0].id,
        )
    policy = config.simulator.policy or Policy()
    return Simulator(reactor, accts, gateway_code=config.simulator.gateway_code_int, policy=policy)
