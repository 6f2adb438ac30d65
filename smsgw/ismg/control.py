"""The simulator's inspection and control HTTP API.

::

    GET  /v1/submits?account=&dest=&limit=&mask=   {"submits": [...]}
    POST /v1/mo       {"account", "from", "to", "content", "protocol", "long"}  -> 202
    GET  /v1/policy   the current policy
    PUT  /v1/policy   merge a (partial) policy document, answer the new one
    GET  /v1/stats    counters
    GET  /v1/vendors  the HTTP vendors played: balances, pending reports and MOs
    GET  /healthz     {"ok": true}
    GET  /console/    the web console (:mod:`smsgw.web.console`), HTML
    GET  /openapi.json  this list as OpenAPI 3.1

The resources only translate JSON to calls on an
:class:`~smsgw.interfaces.ISimulatorControl`; errors are JSON as in
:mod:`smsgw.web.jsonapi`.
"""

from __future__ import annotations

import re
from typing import Any

from twisted.internet.defer import maybeDeferred
from twisted.web.resource import Resource
from twisted.web.server import Request

from smsgw.config.policy import Policy, PolicyError
from smsgw.interfaces import ISimulatorControl
from smsgw.sp.numbers import mask_msisdn
from smsgw.web.console import ConsoleResource
from smsgw.web.jsonapi import (
    JsonError,
    JsonResource,
    query_arg,
    query_int,
    read_json,
    reject_unknown_fields,
    require_field,
    require_object,
)
from smsgw.web.openapi import OpenApiResource, simulator_openapi

__all__ = [
    "DEFAULT_SUBMITS_LIMIT",
    "MAX_SUBMITS_LIMIT",
    "control_resource",
]

DEFAULT_SUBMITS_LIMIT = 1000
"""Most SUBMITs answered by ``GET /v1/submits`` without ``limit``."""

MAX_SUBMITS_LIMIT = 100_000
"""Largest ``limit`` accepted by ``GET /v1/submits``."""

_NUMBER = re.compile(r"\+?[0-9]+")
_MO_FIELDS = ("account", "from", "to", "content", "protocol", "long")


class _Submits(JsonResource):
    """``GET /v1/submits``: the SUBMITs received, newest last."""

    def __init__(self, sim: ISimulatorControl) -> None:
        super().__init__()
        self._sim = sim

    def json_GET(self, request: Request) -> dict[str, Any]:
        """``{"submits": [...]}`` filtered by ``account`` and ``dest``, at most ``limit``.

        With ``mask=1`` the destination numbers are masked (``138****8000``),
        as the web console shows them unless asked; ``mask=0`` or none: as sent.
        """
        account = query_arg(request, "account") or None
        dest = query_arg(request, "dest") or None
        limit = query_int(
            request,
            "limit",
            default=DEFAULT_SUBMITS_LIMIT,
            minimum=1,
            maximum=MAX_SUBMITS_LIMIT,
        )
        mask = query_arg(request, "mask") or "0"
        if mask not in ("0", "1"):
            raise JsonError(400, "bad_field", "'mask': expected 0 or 1", field="mask")
        submits = self._sim.submits(account, dest, limit)
        if mask == "1":
            submits = [{**s, "dest": [mask_msisdn(d) for d in s["dest"]]} for s in submits]
        return {"submits": submits}


class _Mo(JsonResource):
    """``POST /v1/mo``: inject a mobile-originated message."""

    def __init__(self, sim: ISimulatorControl) -> None:
        super().__init__()
        self._sim = sim

    async def json_POST(self, request: Request) -> tuple[int, Any]:
        """202 with what the simulator answers (segments and msg ids).

        404 ``unknown_account`` for an account the simulator does not have,
        400 for bad fields or content the simulator refuses.
        """
        body = require_object(read_json(request))
        reject_unknown_fields(body, _MO_FIELDS)
        # Without an account the SP is found by its service code ("to"), or
        # the MO is forwarded to the ISMG it is attached to (CMPP_FWD type 1).
        account = require_field(body, "account", str, optional=True)
        sender = require_field(body, "from", str)
        to = require_field(body, "to", str)
        content = require_field(body, "content", str)
        for name, number in (("from", sender), ("to", to)):
            if not _NUMBER.fullmatch(number):
                raise JsonError(
                    400, "bad_field", f"{name!r}: expected digits with an optional +", field=name
                )
        if not content:
            raise JsonError(400, "bad_field", "'content' must not be empty", field="content")
        protocol = require_field(body, "protocol", str, optional=True)
        # How a long MO is carried, where the protocol has a choice (SMPP).
        long = require_field(body, "long", str, optional=True)
        extra = {"long": long} if long else {}
        try:
            result = await maybeDeferred(
                self._sim.inject_mo, account, sender, to, content, protocol or None, **extra
            )
        except KeyError:
            if account is None:
                # Found by "to": no account's service code (src_prefix) starts it, no route.
                raise JsonError(
                    404, "unknown_account", f"no SP takes MOs to {to!r}", field="to"
                ) from None
            raise JsonError(
                404, "unknown_account", f"no account {account!r}", field="account"
            ) from None
        except ValueError as error:
            raise JsonError(400, "bad_mo", str(error)) from None
        return 202, result


class _Policy(JsonResource):
    """``GET`` and ``PUT /v1/policy``."""

    def __init__(self, sim: ISimulatorControl) -> None:
        super().__init__()
        self._sim = sim

    def json_GET(self, request: Request) -> dict[str, Any]:
        """The current policy."""
        return self._sim.get_policy()

    def json_PUT(self, request: Request) -> dict[str, Any]:
        """Merge the body into the current policy, install it and answer it.

        Only the sections and keys given change (:meth:`Policy.merged`); an
        invalid document (a trigger for an account the simulator does not
        have included) is a 400 ``bad_policy`` naming the field, and the
        policy is left unchanged.
        """
        body = require_object(read_json(request))
        current = Policy.from_json(self._sim.get_policy())
        try:
            policy = current.merged(body)
        except PolicyError as error:
            raise JsonError(400, "bad_policy", str(error), field=error.field) from None
        accounts = self._sim.stats().get("accounts")
        for index, trigger in enumerate(policy.triggers):
            if isinstance(accounts, dict) and trigger.account not in (None, *accounts):
                field = f"triggers[{index}].account"
                raise JsonError(400, "bad_policy", f"{field}: no such account", field=field)
        self._sim.set_policy(policy)
        return policy.to_json()


class _Forwarding(JsonResource):
    """``GET /v1/forwarding``: per-ISMG CMPP_FWD counters."""

    def __init__(self, sim: ISimulatorControl) -> None:
        super().__init__()
        self._sim = sim

    def json_GET(self, request: Request) -> Any:
        """The forwarder's counters, or ``{"enabled": false}``."""
        return self._sim.forwarding()


class _Stats(JsonResource):
    """``GET /v1/stats``."""

    def __init__(self, sim: ISimulatorControl) -> None:
        super().__init__()
        self._sim = sim

    def json_GET(self, request: Request) -> dict[str, Any]:
        """The simulator's counters."""
        return self._sim.stats()


class _Vendors(JsonResource):
    """``GET /v1/vendors``."""

    def __init__(self, sim: ISimulatorControl) -> None:
        super().__init__()
        self._sim = sim

    def json_GET(self, request: Request) -> dict[str, Any]:
        """Each HTTP vendor played, with its accounts' balances and pending records."""
        return self._sim.vendors_info()


class _Health(JsonResource):
    """``GET /healthz``."""

    def json_GET(self, request: Request) -> dict[str, Any]:
        """``{"ok": true}`` while the process answers."""
        return {"ok": True}


def control_resource(sim: ISimulatorControl) -> Resource:
    """The root resource of the control API driving *sim*."""
    v1 = JsonResource()
    v1.putChild(b"submits", _Submits(sim))
    v1.putChild(b"mo", _Mo(sim))
    v1.putChild(b"policy", _Policy(sim))
    v1.putChild(b"stats", _Stats(sim))
    v1.putChild(b"forwarding", _Forwarding(sim))
    v1.putChild(b"vendors", _Vendors(sim))
    root = JsonResource()
    root.putChild(b"v1", v1)
    root.putChild(b"openapi.json", OpenApiResource(simulator_openapi()))
    root.putChild(b"healthz", _Health())
    root.putChild(b"console", ConsoleResource("ismg"))
    return root
