"""SMPP 3.4 PDU classes, one per PDU of smpp34.md §3.

C-Octet Strings and octet strings are ``bytes`` without their NUL; message
text stays ``bytes`` with its ``data_coding`` (:mod:`smsgw.text` turns it into
``str``).  Length and count fields (``sm_length``, ``number_of_dests``,
``no_unsuccess``) are not attributes: the encoder derives them.  ``tlvs`` holds
the optional parameters in wire order (:mod:`.tlv` reads them).

Every PDU carries ``command_status``, the header field after ``command_id``
(0 in requests).  The three binds share :class:`Bind`, their responses
:class:`BindResp`: the session engine takes any :class:`Bind` as the login.
"""

from __future__ import annotations

from typing import TypeAlias

import attrs

from smsgw.protocols.smpp.constants import INTERFACE_VERSION
from smsgw.protocols.tlv import Tlv

__all__ = [
    "AlertNotification",
    "Bind",
    "BindReceiver",
    "BindReceiverResp",
    "BindResp",
    "BindTransceiver",
    "BindTransceiverResp",
    "BindTransmitter",
    "BindTransmitterResp",
    "CancelSm",
    "CancelSmResp",
    "DataSm",
    "DataSmResp",
    "DeliverSm",
    "DeliverSmResp",
    "DistributionList",
    "EnquireLink",
    "EnquireLinkResp",
    "GenericNack",
    "Outbind",
    "QuerySm",
    "QuerySmResp",
    "ReplaceSm",
    "ReplaceSmResp",
    "SmeAddress",
    "SmppPdu",
    "SubmitMulti",
    "SubmitMultiResp",
    "SubmitSm",
    "SubmitSmResp",
    "Unbind",
    "UnbindResp",
    "UnsuccessSme",
]


@attrs.define
class Bind:
    """The three binds' shared body (§2): log in as ``system_id`` with ``password``."""

    system_id: bytes = b""
    password: bytes = b""
    system_type: bytes = b""
    interface_version: int = INTERFACE_VERSION
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: bytes = b""
    command_status: int = 0


@attrs.define
class BindReceiver(Bind):
    """bind_receiver (0x00000001): the SMSC delivers to this session."""


@attrs.define
class BindTransmitter(Bind):
    """bind_transmitter (0x00000002): this session submits."""


@attrs.define
class BindTransceiver(Bind):
    """bind_transceiver (0x00000009): both directions on one session."""


@attrs.define
class BindResp:
    """The three bind responses' shared body (§2): the SMSC's ``system_id``, TLVs.

    A refusal may come without a body (3.4) or with one (many SMSCs): both decode.
    """

    system_id: bytes = b""
    tlvs: tuple[Tlv, ...] = ()
    command_status: int = 0


@attrs.define
class BindReceiverResp(BindResp):
    """bind_receiver_resp (0x80000001)."""


@attrs.define
class BindTransmitterResp(BindResp):
    """bind_transmitter_resp (0x80000002)."""


@attrs.define
class BindTransceiverResp(BindResp):
    """bind_transceiver_resp (0x80000009)."""


@attrs.define
class Outbind:
    """outbind (0x0000000B): the SMSC asks the ESME to bind_receiver (§2)."""

    system_id: bytes = b""
    password: bytes = b""
    command_status: int = 0


@attrs.define
class Unbind:
    """unbind (0x00000006): header only."""

    command_status: int = 0


@attrs.define
class UnbindResp:
    """unbind_resp (0x80000006): header only."""

    command_status: int = 0


@attrs.define
class EnquireLink:
    """enquire_link (0x00000015): header only, legal in any state."""

    command_status: int = 0


@attrs.define
class EnquireLinkResp:
    """enquire_link_resp (0x80000015): header only."""

    command_status: int = 0


@attrs.define
class GenericNack:
    """generic_nack (0x80000000): a header that could not be handled (§2); never answered."""

    command_status: int = 0


@attrs.define
class SubmitSm:
    """submit_sm (0x00000004): one MT (§3); the encoder derives ``sm_length``."""

    service_type: bytes = b""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: bytes = b""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: bytes = b""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: bytes = b""
    validity_period: bytes = b""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: tuple[Tlv, ...] = ()
    command_status: int = 0


@attrs.define
class SubmitSmResp:
    """submit_sm_resp (0x80000004): the SMSC's ``message_id`` (absent on a refusal)."""

    message_id: bytes = b""
    command_status: int = 0


@attrs.define
class DeliverSm:
    """deliver_sm (0x00000005): an MO or, with ``esm_class`` 0x04, a receipt (§3, §6)."""

    service_type: bytes = b""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: bytes = b""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: bytes = b""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: bytes = b""
    validity_period: bytes = b""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: tuple[Tlv, ...] = ()
    command_status: int = 0


@attrs.define
class DeliverSmResp:
    """deliver_sm_resp (0x80000005): ``message_id`` is unused, an empty string."""

    message_id: bytes = b""
    command_status: int = 0


@attrs.define
class DataSm:
    """data_sm (0x00000103): the body travels as TLV message_payload (§3)."""

    service_type: bytes = b""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: bytes = b""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: bytes = b""
    esm_class: int = 0
    registered_delivery: int = 0
    data_coding: int = 0
    tlvs: tuple[Tlv, ...] = ()
    command_status: int = 0


@attrs.define
class DataSmResp:
    """data_sm_resp (0x80000103): ``message_id`` and TLVs."""

    message_id: bytes = b""
    tlvs: tuple[Tlv, ...] = ()
    command_status: int = 0


@attrs.define
class SmeAddress:
    """A submit_multi destination with dest_flag 1: an SME address (§3)."""

    ton: int = 0
    npi: int = 0
    address: bytes = b""


@attrs.define
class DistributionList:
    """A submit_multi destination with dest_flag 2: a distribution list name (§3)."""

    name: bytes = b""


@attrs.define
class UnsuccessSme:
    """One submit_multi_resp failure: the address and its ``error_status_code`` (§3)."""

    ton: int = 0
    npi: int = 0
    address: bytes = b""
    error_status_code: int = 0


@attrs.define
class SubmitMulti:
    """submit_multi (0x00000021): one message to up to 254 destinations (§3)."""

    service_type: bytes = b""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: bytes = b""
    dests: tuple[SmeAddress | DistributionList, ...] = ()
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: bytes = b""
    validity_period: bytes = b""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: tuple[Tlv, ...] = ()
    command_status: int = 0


@attrs.define
class SubmitMultiResp:
    """submit_multi_resp (0x80000021): ``message_id`` and the destinations that failed."""

    message_id: bytes = b""
    unsuccess: tuple[UnsuccessSme, ...] = ()
    command_status: int = 0


@attrs.define
class QuerySm:
    """query_sm (0x00000003): the state of ``message_id`` sent from ``source_addr``."""

    message_id: bytes = b""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: bytes = b""
    command_status: int = 0


@attrs.define
class QuerySmResp:
    """query_sm_resp (0x80000003): ``final_date``, ``message_state``, ``error_code``."""

    message_id: bytes = b""
    final_date: bytes = b""
    message_state: int = 0
    error_code: int = 0
    command_status: int = 0


@attrs.define
class CancelSm:
    """cancel_sm (0x00000008): cancel ``message_id``, or (empty) all from source to destination."""

    service_type: bytes = b""
    message_id: bytes = b""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: bytes = b""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: bytes = b""
    command_status: int = 0


@attrs.define
class CancelSmResp:
    """cancel_sm_resp (0x80000008): header only."""

    command_status: int = 0


@attrs.define
class ReplaceSm:
    """replace_sm (0x00000007): replace the pending ``message_id`` from ``source_addr``."""

    message_id: bytes = b""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: bytes = b""
    schedule_delivery_time: bytes = b""
    validity_period: bytes = b""
    registered_delivery: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    command_status: int = 0


@attrs.define
class ReplaceSmResp:
    """replace_sm_resp (0x80000007): header only."""

    command_status: int = 0


@attrs.define
class AlertNotification:
    """alert_notification (0x00000102): an MS is available again; no response exists."""

    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: bytes = b""
    esme_addr_ton: int = 0
    esme_addr_npi: int = 0
    esme_addr: bytes = b""
    tlvs: tuple[Tlv, ...] = ()
    command_status: int = 0


#: Every SMPP 3.4 PDU class.
SmppPdu: TypeAlias = (
    BindReceiver
    | BindTransmitter
    | BindTransceiver
    | BindReceiverResp
    | BindTransmitterResp
    | BindTransceiverResp
    | Outbind
    | Unbind
    | UnbindResp
    | EnquireLink
    | EnquireLinkResp
    | GenericNack
    | SubmitSm
    | SubmitSmResp
    | DeliverSm
    | DeliverSmResp
    | DataSm
    | DataSmResp
    | SubmitMulti
    | SubmitMultiResp
    | QuerySm
    | QuerySmResp
    | CancelSm
    | CancelSmResp
    | ReplaceSm
    | ReplaceSmResp
    | AlertNotification
)
