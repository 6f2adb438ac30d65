"""SMPP 3.4's own upstream URL keys (its registry spec's typed extras)."""

from __future__ import annotations

import attrs

from smsgw.protocols.registry import Extras, extra_field, int_key, one_of, text_key
from smsgw.protocols.smpp.receipt import IdForm

__all__ = ["SmppExtras"]

#: The URL key's word -> how the ids are written.
_ID_FORMS = {"as-is": IdForm.TEXT, "decimal": IdForm.DECIMAL, "hex": IdForm.HEX}
_ID_HINT = "expected as-is, decimal or hex"


def _bind(value: object) -> str:
    # A URL query decodes "+" to a space: "bind=tx+rx" arrives as "tx rx".
    if value in ("tx+rx", "tx rx"):
        return "tx+rx"
    if value == "trx":
        return "trx"
    raise ValueError("expected trx (one transceiver per session) or tx+rx")


@attrs.frozen(kw_only=True)
class SmppExtras(Extras):
    """SMPP's URL keys (README "SMPP 3.4").

    :ivar charset: ``ucs2`` only: SMPP has no GBK data_coding, so non-ASCII
        text always goes as UCS2 (data_coding 8).
    :ivar bind: ``trx``, one bind_transceiver per session; ``tx+rx``, a
        bind_transmitter for SUBMITs and a bind_receiver for receipts and
        MOs per session.
    :ivar system_type: the binds' system_type (at most 12 characters).
    :ivar long: how a long MT goes out: ``udh`` (esm_class 0x40 and the
        concatenation UDH), ``sar`` (the sar_* TLVs) or ``payload`` (the
        whole text in one submit_sm's message_payload).
    :ivar submit_id: how the SMSC writes the submit_sm_resp message_id:
        ``as-is`` (compared as text), ``decimal`` or ``hex``.
    :ivar receipt_id: how it writes the receipt's id, the same words; ids
        with a form are kept in decimal, so ``hex`` and ``decimal`` match.
    :ivar source_ton: source_addr_ton of every submit_sm.
    :ivar source_npi: source_addr_npi.
    :ivar dest_ton: dest_addr_ton.
    :ivar dest_npi: dest_addr_npi.
    """

    charset: str = extra_field(
        "ucs2", one_of("ucs2", hint="expected ucs2: SMPP has no GBK data_coding")
    )
    bind: str = extra_field("trx", _bind)
    system_type: str = extra_field("", text_key(max_length=12, ascii_only=True))
    long: str = extra_field(
        "udh", one_of("udh", "sar", "payload", hint="expected udh, sar or payload")
    )
    submit_id: str = extra_field("as-is", one_of(*_ID_FORMS, hint=_ID_HINT))
    receipt_id: str = extra_field("as-is", one_of(*_ID_FORMS, hint=_ID_HINT))
    source_ton: int = extra_field(0, int_key(0, 255))
    source_npi: int = extra_field(0, int_key(0, 255))
    dest_ton: int = extra_field(0, int_key(0, 255))
    dest_npi: int = extra_field(0, int_key(0, 255))

    @property
    def submit_form(self) -> IdForm:
        """How submit_sm_resp message ids are written."""
        return _ID_FORMS[self.submit_id]

    @property
    def receipt_form(self) -> IdForm:
        """How receipt ids are written."""
        return _ID_FORMS[self.receipt_id]
