"""CMPP PDU classes, one per message of seed 002 table 8.34 (plus CMPP 3.0's).

The classes are shapes, not layouts: a class holds the union of the 2.0
and 3.0 fields, and each protocol version's table (:mod:`.codec`) says which
of them go on the wire and how wide they are.  Fields a version does not
carry keep their defaults.  Octet strings are ``bytes`` with the padding
removed; message content stays ``bytes`` with its ``msg_fmt``
(:mod:`smsgw.text` turns it into ``str``).  Count and length fields
(DestUsr_tl, Msg_Length) are not attributes: the encoder derives them.
"""

from __future__ import annotations

from typing import TypeAlias

import attrs

_AUTH = b"\x00" * 16

__all__ = [
    "ActiveTest",
    "ActiveTestResp",
    "Cancel",
    "CancelResp",
    "CmppPdu",
    "Connect",
    "ConnectResp",
    "Deliver",
    "DeliverResp",
    "Fwd",
    "FwdResp",
    "GetMoRoute",
    "GetMoRouteResp",
    "GetMtRoute",
    "GetMtRouteResp",
    "GetRoute",
    "GetRouteResp",
    "MoReport",
    "MoRoute",
    "MoRouteResp",
    "MoRouteUpdate",
    "MoRouteUpdateResp",
    "MtRoute",
    "MtRouteResp",
    "MtRouteUpdate",
    "MtRouteUpdateResp",
    "PushMoRouteUpdate",
    "PushMoRouteUpdateResp",
    "PushMtRouteUpdate",
    "PushMtRouteUpdateResp",
    "Query",
    "QueryResp",
    "Report",
    "Submit",
    "SubmitResp",
    "Terminate",
    "TerminateResp",
]


@attrs.define
class Connect:
    """CMPP_CONNECT (seed 002 §8.4.1): SP login."""

    source_addr: bytes = b""
    authenticator_source: bytes = _AUTH
    version: int = 0x20
    timestamp: int = 0


@attrs.define
class ConnectResp:
    """CMPP_CONNECT_RESP: Status (1 byte in 2.0, 4 in 3.0), AuthenticatorISMG, Version."""

    status: int = 0
    authenticator_ismg: bytes = _AUTH
    version: int = 0x20


@attrs.define
class Terminate:
    """CMPP_TERMINATE: no body."""


@attrs.define
class TerminateResp:
    """CMPP_TERMINATE_RESP: no body."""


@attrs.define
class Submit:
    """CMPP_SUBMIT (seed 002 §8.4.3.1; 3.0 adds the *_type fields and LinkID)."""

    msg_id: int = 0
    pk_total: int = 1
    pk_number: int = 1
    registered_delivery: int = 0
    msg_level: int = 0
    service_id: bytes = b""
    fee_user_type: int = 0
    fee_terminal_id: bytes = b""
    fee_terminal_type: int = 0
    tp_pid: int = 0
    tp_udhi: int = 0
    msg_fmt: int = 0
    msg_src: bytes = b""
    fee_type: bytes = b"01"
    fee_code: bytes = b"000000"
    valid_time: bytes = b""
    at_time: bytes = b""
    src_id: bytes = b""
    dest_terminal_ids: tuple[bytes, ...] = ()
    dest_terminal_type: int = 0
    msg_content: bytes = b""
    link_id: bytes = b""
    reserve: bytes = b""


@attrs.define
class SubmitResp:
    """CMPP_SUBMIT_RESP: Msg_Id and Result (1 byte in 2.0, 4 in 3.0)."""

    msg_id: int = 0
    result: int = 0


@attrs.define
class Query:
    """CMPP_QUERY (seed 002 §8.4.4): a day's statistics, totals or per Service_Id."""

    time: bytes = b""
    query_type: int = 0
    query_code: bytes = b""
    reserve: bytes = b""


@attrs.define
class QueryResp:
    """CMPP_QUERY_RESP: the day's MT and MO counters."""

    time: bytes = b""
    query_type: int = 0
    query_code: bytes = b""
    mt_tlmsg: int = 0
    mt_tlusr: int = 0
    mt_scs: int = 0
    mt_wt: int = 0
    mt_fl: int = 0
    mo_scs: int = 0
    mo_wt: int = 0
    mo_fl: int = 0


@attrs.define
class Deliver:
    """CMPP_DELIVER (seed 002 §8.4.5): an MO, or a status report when registered_delivery is 1."""

    msg_id: int = 0
    dest_id: bytes = b""
    service_id: bytes = b""
    tp_pid: int = 0
    tp_udhi: int = 0
    msg_fmt: int = 0
    src_terminal_id: bytes = b""
    src_terminal_type: int = 0
    registered_delivery: int = 0
    msg_content: bytes = b""
    link_id: bytes = b""
    reserved: bytes = b""


@attrs.define
class DeliverResp:
    """CMPP_DELIVER_RESP: Msg_Id of the DELIVER and Result."""

    msg_id: int = 0
    result: int = 0


@attrs.define
class Cancel:
    """CMPP_CANCEL (seed 002 §8.4.6)."""

    msg_id: int = 0


@attrs.define
class CancelResp:
    """CMPP_CANCEL_RESP: Success_Id 0 OK, 1 failed."""

    success_id: int = 0


@attrs.define
class ActiveTest:
    """CMPP_ACTIVE_TEST: no body."""


@attrs.define
class ActiveTestResp:
    """CMPP_ACTIVE_TEST_RESP: one Reserved byte, which some ISMGs omit."""

    reserved: int = 0


@attrs.define
class Fwd:
    """CMPP_FWD (seed 002 §8.5.1): ISMG-to-ISMG forwarding of MT, MO and their reports."""

    source_id: bytes = b""
    destination_id: bytes = b""
    nodes_count: int = 0
    msg_fwd_type: int = 0
    msg_id: int = 0
    pk_total: int = 1
    pk_number: int = 1
    registered_delivery: int = 0
    msg_level: int = 0
    service_id: bytes = b""
    fee_user_type: int = 0
    fee_terminal_id: bytes = b""
    fee_terminal_pseudo: bytes = b""
    fee_terminal_user_type: int = 0
    tp_pid: int = 0
    tp_udhi: int = 0
    msg_fmt: int = 0
    msg_src: bytes = b""
    fee_type: bytes = b"01"
    fee_code: bytes = b"000000"
    valid_time: bytes = b""
    at_time: bytes = b""
    src_id: bytes = b""
    src_pseudo: bytes = b""
    src_user_type: int = 0
    src_type: int = 0
    dest_ids: tuple[bytes, ...] = ()
    dest_pseudo: bytes = b""
    dest_user_type: int = 0
    msg_content: bytes = b""
    link_id: bytes = b""
    reserve: bytes = b""


@attrs.define
class FwdResp:
    """CMPP_FWD_RESP: Result 9 means the message was sent to the wrong ISMG."""

    msg_id: int = 0
    pk_total: int = 1
    pk_number: int = 1
    result: int = 0


@attrs.define
class MtRoute:
    """CMPP_MT_ROUTE (seed 002 §8.6.1): ask the GNS which ISMG homes a number."""

    source_id: bytes = b""
    terminal_id: bytes = b""


@attrs.define
class MtRouteResp:
    """CMPP_MT_ROUTE_RESP: the MT route for the number."""

    route_id: int = 0
    destination_id: bytes = b""
    gateway_ip: bytes = b""
    gateway_port: int = 0
    start_id: bytes = b""
    end_id: bytes = b""
    area_code: bytes = b""
    result: int = 0
    #: CMPP 3.0 only (cmpp30.md §7): 0 GoTone, 1 Shenzhouxing, 2 M-Zone.
    user_type: int = 0
    #: CMPP 3.0 only: last change, ``yyyymmddhhmmss``.
    time_stamp: bytes = b""


@attrs.define
class MoRoute:
    """CMPP_MO_ROUTE (seed 002 §8.6.3): ask the GNS which ISMG an SP is attached to."""

    source_id: bytes = b""
    sp_code: bytes = b""
    service_id: bytes = b""
    service_code: int = 0


@attrs.define
class MoRouteResp:
    """CMPP_MO_ROUTE_RESP: the MO route for the SP code."""

    route_id: int = 0
    destination_id: bytes = b""
    gateway_ip: bytes = b""
    gateway_port: int = 0
    sp_id: bytes = b""
    start_code: int = 0
    end_code: int = 0
    result: int = 0
    #: CMPP 3.0 only (cmpp30.md §7): SP_Id shrinks to 6 bytes and SP_Code follows it.
    sp_code: bytes = b""
    #: CMPP 3.0 only: SP_AcessType, 0 main access point, 1 mirror.
    sp_access_type: int = 0
    #: CMPP 3.0 only: last change, ``yyyymmddhhmmss``.
    time_stamp: bytes = b""


@attrs.define
class GetRoute:
    """CMPP_GET_ROUTE (seed 002 §8.6.5): page through the GNS table; start at -1."""

    source_id: bytes = b""
    route_type: bytes = b"MT"
    last_route_id: int = -1


@attrs.define
class GetRouteResp:
    """CMPP_GET_ROUTE_RESP: one route; Result 2 marks the last."""

    route_id: int = 0
    destination_id: bytes = b""
    gateway_ip: bytes = b""
    gateway_port: int = 0
    sp_code: bytes = b""
    service_id: bytes = b""
    start_code: int = 0
    end_code: int = 0
    area_code: bytes = b""
    result: int = 0


@attrs.define
class MtRouteUpdate:
    """CMPP_MT_ROUTE_UPDATE (seed 002 §8.7.1): an ISMG proposes an MT route change."""

    update_type: int = 0
    route_id: int = 0
    destination_id: bytes = b""
    gateway_ip: bytes = b""
    gateway_port: int = 0
    start_id: bytes = b""
    end_id: bytes = b""
    area_code: bytes = b""
    #: CMPP 3.0 only (cmpp30.md §7).
    user_type: int = 0


@attrs.define
class MtRouteUpdateResp:
    """CMPP_MT_ROUTE_UPDATE_RESP: 0 valid and awaiting confirmation, 1 invalid."""

    result: int = 0
    #: CMPP 3.0 only (cmpp30.md §7).
    route_id: int = 0
    #: CMPP 3.0 only: when the update was received, ``yyyymmddhhmmss``.
    time_stamp: bytes = b""


@attrs.define
class MoRouteUpdate:
    """CMPP_MO_ROUTE_UPDATE (seed 002 §8.7.3): an ISMG proposes an MO route change."""

    update_type: int = 0
    route_id: int = 0
    destination_id: bytes = b""
    gateway_ip: bytes = b""
    gateway_port: int = 0
    sp_code: bytes = b""
    service_id: bytes = b""
    start_code: int = 0
    end_code: int = 0
    #: CMPP 3.0 only (cmpp30.md §7): the 6-byte SP enterprise code.
    sp_id: bytes = b""
    #: CMPP 3.0 only: SP_AcessType, 0 main access point, 1 mirror.
    sp_access_type: int = 0


@attrs.define
class MoRouteUpdateResp:
    """CMPP_MO_ROUTE_UPDATE_RESP: 0 valid and awaiting confirmation, 1 invalid."""

    result: int = 0
    #: CMPP 3.0 only (cmpp30.md §7).
    route_id: int = 0
    #: CMPP 3.0 only: when the update was received, ``yyyymmddhhmmss``.
    time_stamp: bytes = b""


@attrs.define
class PushMtRouteUpdate(MtRouteUpdate):
    """CMPP_PUSH_MT_ROUTE_UPDATE (seed 002 §8.8.1): the GNS pushes an MT route change."""

    #: CMPP 3.0 only (cmpp30.md §7): the GNS's time of the change, ``yyyymmddhhmmss``.
    time_stamp: bytes = b""


@attrs.define
class PushMtRouteUpdateResp:
    """CMPP_PUSH_MT_ROUTE_UPDATE_RESP: 0 changed, 1 change failed."""

    result: int = 0


@attrs.define
class PushMoRouteUpdate(MoRouteUpdate):
    """CMPP_PUSH_MO_ROUTE_UPDATE (seed 002 §8.8.3): the GNS pushes an MO route change."""

    #: CMPP 3.0 only (cmpp30.md §7): the GNS's time of the change, ``yyyymmddhhmmss``.
    time_stamp: bytes = b""


@attrs.define
class PushMoRouteUpdateResp:
    """CMPP_PUSH_MO_ROUTE_UPDATE_RESP: 0 changed, 1 change failed."""

    result: int = 0


@attrs.define
class Report:
    """Status report carried in a DELIVER's Msg_Content (seed 002 table 8.11; 3.0 §3)."""

    msg_id: int = 0
    stat: bytes = b""
    submit_time: bytes = b""
    done_time: bytes = b""
    dest_terminal_id: bytes = b""
    smsc_sequence: int = 0


@attrs.define
class MoReport:
    """MO status report carried in a FWD of Msg_Fwd_Type 3 (seed 002 table 8.35)."""

    msg_id: int = 0
    stat: bytes = b""
    deliver_time: bytes = b""
    deliver_resp_time: bytes = b""
    dest_id: bytes = b""
    reserved: bytes = b""


@attrs.define
class GetMtRoute:
    """CMPP_GET_MT_ROUTE (CMPP 3.0, cmpp30.md §7; 2.0's GET_ROUTE, 0x12): page MT routes."""

    source_id: bytes = b""
    route_type: bytes = b"MT"
    last_route_id: int = -1


@attrs.define
class GetMtRouteResp:
    """CMPP_GET_MT_ROUTE_RESP (CMPP 3.0): route Route_number of Route_total."""

    route_id: int = 0
    destination_id: bytes = b""
    gateway_ip: bytes = b""
    gateway_port: int = 0
    start_id: bytes = b""
    end_id: bytes = b""
    area_code: bytes = b""
    result: int = 0
    user_type: int = 0
    route_total: int = 0
    route_number: int = 0
    time_stamp: bytes = b""


@attrs.define
class GetMoRoute:
    """CMPP_GET_MO_ROUTE (CMPP 3.0, cmpp30.md §7, 0x17): page MO routes; start at -1."""

    source_id: bytes = b""
    route_type: bytes = b"MO"
    last_route_id: int = -1


@attrs.define
class GetMoRouteResp:
    """CMPP_GET_MO_ROUTE_RESP (CMPP 3.0): route Route_number of Route_total."""

    route_id: int = 0
    destination_id: bytes = b""
    gateway_ip: bytes = b""
    gateway_port: int = 0
    sp_id: bytes = b""
    sp_code: bytes = b""
    sp_access_type: int = 0
    service_id: bytes = b""
    start_code: int = 0
    end_code: int = 0
    result: int = 0
    route_total: int = 0
    route_number: int = 0
    time_stamp: bytes = b""


#: Every CMPP PDU, 2.0 and 3.0: what the codecs decode to.  :class:`Report`
#: and :class:`MoReport` are message contents, not PDUs.
CmppPdu: TypeAlias = (
    Connect
    | ConnectResp
    | Terminate
    | TerminateResp
    | Submit
    | SubmitResp
    | Deliver
    | DeliverResp
    | Query
    | QueryResp
    | Cancel
    | CancelResp
    | ActiveTest
    | ActiveTestResp
    | Fwd
    | FwdResp
    | MtRoute
    | MtRouteResp
    | MoRoute
    | MoRouteResp
    | GetRoute
    | GetRouteResp
    | MtRouteUpdate
    | MtRouteUpdateResp
    | MoRouteUpdate
    | MoRouteUpdateResp
    | PushMtRouteUpdate
    | PushMtRouteUpdateResp
    | PushMoRouteUpdate
    | PushMoRouteUpdateResp
    | GetMtRoute
    | GetMtRouteResp
    | GetMoRoute
    | GetMoRouteResp
)
