"""Interfaces between smsgw's parts (zope.interface)."""

from __future__ import annotations

from typing import Any

from zope.interface import Interface


class ISimulatorControl(Interface):
    """What the simulator's control API drives.

    Implemented by :class:`smsgw.ismg.simulator.Simulator`; the HTTP
    resources in :mod:`smsgw.ismg.control` only translate JSON to these calls.
    """

    def submits(account: str | None, dest: str | None, limit: int) -> list[dict[str, Any]]:
        """Every SUBMIT received (newest last), decoded, optionally filtered.

        Each item: ``account, protocol, msg_id (str), src, dest (list of str),
        text, msg_fmt, pk_total, pk_number, registered_delivery, time (ISO-8601)``.
        """

    def inject_mo(
        account: str | None,
        sender: str,
        to: str,
        content: str,
        protocol: str | None,
        long: str | None = None,
    ) -> Any:
        """Send an MO to *account*'s sessions (split into UDH segments when long).

        *protocol* (``cmpp2``, ``cmpp3``, ``sgip``, ``smgp``) picks the
        listener; by default the one the account is logged in with.  An HTTP
        vendor's name (``batchsm`` or ``http:batchsm``) injects it through that
        vendor (pushed or held for pull; *to* is its extension field).
        *long* picks how a long MO is carried where the listener has a choice
        (SMPP: ``udh``, ``sar``, ``payload``); another value is a ``ValueError``.

        Returns a Deferred firing with a JSON-able dict (``{"segments": N,
        "msg_ids": [...]}``) once the DELIVERs are queued; fails with
        ``KeyError`` for an unknown account and ``ValueError`` for bad input.
        """

    def get_policy() -> dict[str, Any]:
        """The current policy as JSON-able data (the same shape PUT accepts)."""

    def set_policy(policy: Any) -> None:
        """Install a validated :class:`smsgw.config.policy.Policy`."""

    def forwarding() -> dict[str, Any]:
        """Per-ISMG CMPP_FWD counters (issue 6), or ``{"enabled": false}``."""

    def stats() -> dict[str, Any]:
        """Counters: sessions, submits, reports sent, MOs, throttled, per account."""

    def vendors_info() -> dict[str, Any]:
        """``{"vendors": {NAME: ...}}``: each HTTP vendor played (``--vendor-http``),
        its request and push counters, and per account its balance by product
        and the reports and MOs held for pull."""
