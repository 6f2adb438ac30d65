"""An HTTP vendor upstream's own URL keys (``http://ACCOUNT:SECRET@HOST:PORT/PATH?vendor=NAME&…``)."""

from __future__ import annotations

import re

import attrs

from smsgw.protocols.registry import Extras, extra_field, int_key

__all__ = ["VendorExtras"]

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def _vendor_name(value: object) -> str:
    if not (isinstance(value, str) and (value == "" or _NAME.fullmatch(value))):
        raise ValueError("expected a vendor name (lower case, digits, - and _)")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str) or len(value) > 128:
        raise ValueError("expected a string of at most 128 characters")
    return value


@attrs.frozen(kw_only=True)
class VendorExtras(Extras):
    """The URL (and ``[[upstream]]``) keys of an HTTP vendor channel.

    :ivar vendor: the vendor file's name; "" to recognise the vendor by the
        URL's host and path (the files' ``<match>``).
    :ivar product: the product id sent with every request (seed 002 ``product``).
    :ivar signature: the signature, where the vendor has a parameter for it.
    :ivar consecutive_ids: 1 when the account answers a request to n numbers
        with ids ``id`` … ``id+n-1`` (seed 001's account option).
    :ivar batch: most numbers per request, 0 for the vendor file's limit.
    :ivar concurrency: most requests at once, 0 for the vendor file's.
    :ivar timeout: seconds to wait for an answer.
    :ivar pull: seconds between pulls of reports and MOs, for a vendor that
        is pulled; 0 never pulls.
    :ivar balance_cache: seconds a balance answer is reused (seed 002
        allows one query every 30 s).
    :ivar push_token: when set, pushed reports and MOs are taken only at
        ``/push/CHANNEL/TOKEN/…`` (the vendor cannot send our API key).
    """

    vendor: str = extra_field("", _vendor_name)
    product: str = extra_field("", _text)
    signature: str = extra_field("", _text)
    consecutive_ids: int = extra_field(0, int_key(0, 1))
    batch: int = extra_field(0, int_key(0, 100_000))
    concurrency: int = extra_field(0, int_key(0, 64))
    timeout: int = extra_field(30, int_key(1, 600))
    pull: int = extra_field(5, int_key(0, 3600))
    balance_cache: int = extra_field(30, int_key(0, 86400))
    push_token: str = extra_field("", _text)
