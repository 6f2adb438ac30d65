"""SMGP 3.0.3 PDU classes, one per message of smgp30.md §4 with its response.

Octet strings are ``bytes`` with the padding removed; MsgIDs and
authenticators are raw binary ``bytes`` of their full width.  Message
content stays ``bytes`` with its ``msg_format`` (:mod:`smsgw.text` turns it
into ``str``).  Count and length fields (DestTermIDCount, MsgLength) are
not attributes: the encoder derives them.  ``tlvs`` holds the optional
parameters in wire order (:mod:`.tlv`).

Payment_Request, Payment_Affirm and Query_UserState (0x0A–0x0C) have no
classes: they belong to the prepaid-billing extension of SMGP V2.0 and
V3.0.3 does not give their bodies (smgp30.md §4).
"""

from __future__ import annotations

from typing import TypeAlias

import attrs

from smsgw.protocols.smgp.tlv import Tlv

_AUTH = b"\x00" * 16
_MSG_ID = b"\x00" * 10

__all__ = [
    "ActiveTest",
    "ActiveTestResp",
    "Deliver",
    "DeliverResp",
    "Exit",
    "ExitResp",
    "Forward",
    "ForwardResp",
    "GetAllSpRoute",
    "GetAllSpRouteResp",
    "GetAllTeRoute",
    "GetAllTeRouteResp",
    "Login",
    "LoginResp",
    "PushUpdateSpRoute",
    "PushUpdateSpRouteResp",
    "PushUpdateTeRoute",
    "PushUpdateTeRouteResp",
    "Query",
    "QueryResp",
    "QuerySpRoute",
    "QuerySpRouteResp",
    "QueryTeRoute",
    "QueryTeRouteResp",
    "SmgpPdu",
    "Submit",
    "SubmitResp",
    "UpdateSpRoute",
    "UpdateSpRouteResp",
    "UpdateTeRoute",
    "UpdateTeRouteResp",
]


@attrs.define
class Login:
    """Login (smgp30.md §6): ClientID, AuthenticatorClient, LoginMode, TimeStamp, ClientVersion."""

    client_id: bytes = b""
    authenticator_client: bytes = _AUTH
    login_mode: int = 2
    timestamp: int = 0
    client_version: int = 0x30


@attrs.define
class LoginResp:
    """Login_Resp (smgp30.md §6): Status, AuthenticatorServer (zeros on failure), ServerVersion."""

    status: int = 0
    authenticator_server: bytes = _AUTH
    server_version: int = 0x30


@attrs.define
class Submit:
    """Submit (smgp30.md §7): an MT to 1–100 receivers, then optional TLVs.

    ``fixed_fee`` is not on the wire in SMGP 1.3 (§6.2).
    """

    msg_type: int = 6
    need_report: int = 0
    priority: int = 0
    service_id: bytes = b""
    fee_type: bytes = b"00"
    fee_code: bytes = b"000000"
    fixed_fee: bytes = b"000000"
    #: 15 (GB18030) is what the spec asks text to use.
    msg_format: int = 15
    valid_time: bytes = b""
    at_time: bytes = b""
    src_term_id: bytes = b""
    charge_term_id: bytes = b""
    dest_term_ids: tuple[bytes, ...] = ()
    msg_content: bytes = b""
    reserve: bytes = b""
    tlvs: tuple[Tlv, ...] = ()


@attrs.define
class SubmitResp:
    """Submit_Resp (smgp30.md §7): the 10-byte BCD MsgID the SMGW assigned, and Status."""

    msg_id: bytes = _MSG_ID
    status: int = 0


@attrs.define
class Deliver:
    """Deliver (smgp30.md §8): an MO, or a status report when ``is_report`` is 1.

    A report's ``msg_content`` is the 122-byte text of §8.1
    (:func:`smsgw.protocols.smgp.report.decode_report`).
    """

    msg_id: bytes = _MSG_ID
    is_report: int = 0
    msg_format: int = 0
    recv_time: bytes = b""
    src_term_id: bytes = b""
    dest_term_id: bytes = b""
    msg_content: bytes = b""
    reserve: bytes = b""
    tlvs: tuple[Tlv, ...] = ()


@attrs.define
class DeliverResp:
    """Deliver_Resp (smgp30.md §8): the Deliver's MsgID echoed, and Status."""

    msg_id: bytes = _MSG_ID
    status: int = 0


@attrs.define
class ActiveTest:
    """Active_Test (smgp30.md §11): no body."""


@attrs.define
class ActiveTestResp:
    """Active_Test_Resp: no body."""


@attrs.define
class Forward:
    """Forward (smgp30.md §11): SMGW-to-SMGW forwarding of one message, then TLVs."""

    msg_id: bytes = _MSG_ID
    dest_smgw_no: bytes = b""
    src_smgw_no: bytes = b""
    smc_no: bytes = b""
    msg_type: int = 6
    report_flag: int = 2
    priority: int = 0
    service_id: bytes = b""
    fee_type: bytes = b"00"
    fee_code: bytes = b"000000"
    fixed_fee: bytes = b"000000"
    msg_format: int = 15
    valid_time: bytes = b""
    at_time: bytes = b""
    src_term_id: bytes = b""
    dest_term_id: bytes = b""
    charge_term_id: bytes = b""
    msg_content: bytes = b""
    reserve: bytes = b""
    tlvs: tuple[Tlv, ...] = ()


@attrs.define
class ForwardResp:
    """Forward_Resp (smgp30.md §11): MsgID, Status, then TLVs (PkTotal, PkNumber)."""

    msg_id: bytes = _MSG_ID
    status: int = 0
    tlvs: tuple[Tlv, ...] = ()


@attrs.define
class Exit:
    """Exit (smgp30.md §2, §11): end the application session; no body."""


@attrs.define
class ExitResp:
    """Exit_Resp: no body."""


@attrs.define
class Query:
    """Query (smgp30.md §11): a day's statistics, totals (type 0) or per service code (1)."""

    query_time: bytes = b""
    query_type: int = 0
    query_code: bytes = b""


@attrs.define
class QueryResp:
    """Query_Resp (smgp30.md §11): the day's MT and MO counters."""

    query_time: bytes = b""
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
    #: Spelled "Reverse" in the spec.
    reserve: bytes = b""


@attrs.define
class QueryTeRoute:
    """Query_TE_Route (smgp30.md §11.1): ask the GNS which SMGW homes a number."""

    src_gateway_id: bytes = b""
    query_term_id: bytes = b""


@attrs.define
class QueryTeRouteResp:
    """Query_TE_Route_Resp (smgp30.md §11.1): the terminal route for the number."""

    status: int = 0
    route_id: int = 0
    dest_gateway_id: bytes = b""
    dest_gateway_ip: bytes = b""
    dest_gateway_port: int = 0
    term_range_id: bytes = b""
    province_code: bytes = b""
    user_type: int = 0
    time: bytes = b""


@attrs.define
class QuerySpRoute:
    """Query_SP_Route (smgp30.md §11.1): ask the GNS which SMGW an SP code is on."""

    src_gateway_id: bytes = b""
    query_term_id: bytes = b""


@attrs.define
class QuerySpRouteResp:
    """Query_SP_Route_Resp (smgp30.md §11.1): the SP route for the code."""

    status: int = 0
    route_id: int = 0
    dest_gateway_id: bytes = b""
    dest_gateway_ip: bytes = b""
    dest_gateway_port: int = 0
    sp_id: bytes = b""
    sp_code: bytes = b""
    sp_access_type: int = 0
    sp_type: int = 0
    time: bytes = b""


@attrs.define
class GetAllTeRoute:
    """Get_All_TE_Route (smgp30.md §11.1): page through terminal routes from LastRouteID."""

    src_gateway_id: bytes = b""
    route_type: bytes = b"TE"
    last_route_id: int = 0


@attrs.define
class GetAllTeRouteResp:
    """Get_All_TE_Route_Resp (smgp30.md §11.1): one terminal route of RouteTotal."""

    status: int = 0
    route_id: int = 0
    dest_gateway_id: bytes = b""
    dest_gateway_ip: bytes = b""
    dest_gateway_port: int = 0
    term_range_id: bytes = b""
    province_code: bytes = b""
    user_type: int = 0
    route_total: int = 0
    route_number: int = 0
    time: bytes = b""


@attrs.define
class GetAllSpRoute:
    """Get_All_SP_Route (smgp30.md §11.1): page through SP routes from LastRouteID."""

    src_gateway_id: bytes = b""
    route_type: bytes = b"SP"
    last_route_id: int = 0


@attrs.define
class GetAllSpRouteResp:
    """Get_All_SP_Route_Resp (smgp30.md §11.1): one SP route of RouteTotal."""

    status: int = 0
    route_id: int = 0
    dest_gateway_id: bytes = b""
    dest_gateway_ip: bytes = b""
    dest_gateway_port: int = 0
    sp_id: bytes = b""
    sp_code: bytes = b""
    sp_access_type: int = 0
    sp_type: int = 0
    route_total: int = 0
    route_number: int = 0
    time: bytes = b""


@attrs.define
class UpdateTeRoute:
    """Update_TE_Route (smgp30.md §11.1): an SMGW asks the GNS to change a terminal route."""

    update_type: int = 0
    route_id: int = 0
    dest_gateway_id: bytes = b""
    dest_gateway_ip: bytes = b""
    dest_gateway_port: int = 0
    term_range_id: bytes = b""
    province_code: bytes = b""
    user_type: int = 0


@attrs.define
class UpdateTeRouteResp:
    """Update_TE_Route_Resp (smgp30.md §11.1): Status, the route's id, the change time."""

    status: int = 0
    route_id: int = 0
    time: bytes = b""


@attrs.define
class UpdateSpRoute:
    """Update_SP_Route (smgp30.md §11.1): an SMGW asks the GNS to change an SP route."""

    update_type: int = 0
    route_id: int = 0
    dest_gateway_id: bytes = b""
    dest_gateway_ip: bytes = b""
    dest_gateway_port: int = 0
    sp_id: bytes = b""
    sp_code: bytes = b""
    sp_access_type: int = 0
    sp_type: int = 0


@attrs.define
class UpdateSpRouteResp:
    """Update_SP_Route_Resp (smgp30.md §11.1): Status, the route's id, the change time."""

    status: int = 0
    route_id: int = 0
    time: bytes = b""


@attrs.define
class PushUpdateTeRoute:
    """Push_Update_TE_Route (smgp30.md §11.1): the GNS pushes a terminal route change."""

    update_type: int = 0
    route_id: int = 0
    dest_gateway_id: bytes = b""
    dest_gateway_ip: bytes = b""
    dest_gateway_port: int = 0
    term_range_id: bytes = b""
    province_code: bytes = b""
    user_type: int = 0
    time: bytes = b""


@attrs.define
class PushUpdateTeRouteResp:
    """Push_Update_TE_Route_Resp (smgp30.md §11.1): Status only."""

    status: int = 0


@attrs.define
class PushUpdateSpRoute:
    """Push_Update_SP_Route (smgp30.md §11.1): the GNS pushes an SP route change."""

    update_type: int = 0
    route_id: int = 0
    dest_gateway_id: bytes = b""
    dest_gateway_ip: bytes = b""
    dest_gateway_port: int = 0
    sp_id: bytes = b""
    sp_code: bytes = b""
    sp_access_type: int = 0
    sp_type: int = 0
    time: bytes = b""


@attrs.define
class PushUpdateSpRouteResp:
    """Push_Update_SP_Route_Resp (smgp30.md §11.1): Status only."""

    status: int = 0


#: Every SMGP PDU, 3.0 and 1.3: what the codecs decode to.
SmgpPdu: TypeAlias = (
    Login
    | LoginResp
    | Submit
    | SubmitResp
    | Deliver
    | DeliverResp
    | ActiveTest
    | ActiveTestResp
    | Forward
    | ForwardResp
    | Exit
    | ExitResp
    | Query
    | QueryResp
    | QueryTeRoute
    | QueryTeRouteResp
    | QuerySpRoute
    | QuerySpRouteResp
    | GetAllTeRoute
    | GetAllTeRouteResp
    | GetAllSpRoute
    | GetAllSpRouteResp
    | UpdateTeRoute
    | UpdateTeRouteResp
    | UpdateSpRoute
    | UpdateSpRouteResp
    | PushUpdateTeRoute
    | PushUpdateTeRouteResp
    | PushUpdateSpRoute
    | PushUpdateSpRouteResp
)
