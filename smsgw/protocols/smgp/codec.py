"""SMGP 3.0.3 wire layouts, as tables (smgp30.md §3–§11).

Each table lists ``(attribute, field codec)`` in wire order; the sizes add
up to the totals of smgp30.md §5.  The SMGP 1.3 codec (§6.2) differs only
in its Submit, which has no FixedFee.
"""

from __future__ import annotations

from smsgw.protocols.codec import Header, ProtocolCodec
from smsgw.protocols.errors import ErrorKind
from smsgw.protocols.smgp import pdus as p
from smsgw.protocols.smgp.constants import (
    MAX_LENGTH,
    VERSION_30,
    RequestId,
    Status,
)
from smsgw.protocols.smgp.tlv import Tlvs
from smsgw.protocols.wire import Fields, HeaderSpec, Octets, Raw, Repeated, Sized, UInt

U1, U2, U4 = UInt(1), UInt(2), UInt(4)
MSG_ID = Raw(10)  # BCD, binary: never stripped (§9)
TLVS = Tlvs()


def S(n: int) -> Octets:
    """An ``n``-byte NUL-padded octet string (§1)."""
    return Octets(n)


#: The SMGP header after PacketLength and RequestID: SequenceID (§3).
HEADER = HeaderSpec("I", ("seq",))

#: What SMGP answers each kind of decode failure with (§12): 10 "message
#: structure error" for a bad structure and for a bad length (SMGP has no
#: length status), 11 "command (RequestID) error" for an unknown command.
#: A framing error has no status: the link is closed.
STATUSES = {
    ErrorKind.STRUCTURE: Status.STRUCTURE_ERROR,
    ErrorKind.COMMAND: Status.COMMAND_ERROR,
    ErrorKind.LENGTH: Status.STRUCTURE_ERROR,
}

LOGIN: Fields = (
    ("client_id", S(8)),
    ("authenticator_client", Raw(16)),
    ("login_mode", U1),
    ("timestamp", U4),
    ("client_version", U1),
)
LOGIN_RESP: Fields = (("status", U4), ("authenticator_server", Raw(16)), ("server_version", U1))
SUBMIT: Fields = (
    ("msg_type", U1),
    ("need_report", U1),
    ("priority", U1),
    ("service_id", S(10)),
    ("fee_type", S(2)),
    ("fee_code", S(6)),
    ("fixed_fee", S(6)),
    ("msg_format", U1),
    ("valid_time", S(17)),
    ("at_time", S(17)),
    ("src_term_id", S(21)),
    ("charge_term_id", S(21)),
    ("dest_term_ids", Repeated(S(21), U1)),
    ("msg_content", Sized(U1)),
    ("reserve", S(8)),
    ("tlvs", TLVS),
)
#: SMGP 1.3 Submit: no FixedFee (§6.2).
SUBMIT_13: Fields = tuple(f for f in SUBMIT if f[0] != "fixed_fee")
MSG_ID_STATUS: Fields = (("msg_id", MSG_ID), ("status", U4))
DELIVER: Fields = (
    ("msg_id", MSG_ID),
    ("is_report", U1),
    ("msg_format", U1),
    ("recv_time", S(14)),
    ("src_term_id", S(21)),
    ("dest_term_id", S(21)),
    ("msg_content", Sized(U1)),
    ("reserve", S(8)),
    ("tlvs", TLVS),
)
EMPTY: Fields = ()
FORWARD: Fields = (
    ("msg_id", MSG_ID),
    ("dest_smgw_no", S(6)),
    ("src_smgw_no", S(6)),
    ("smc_no", S(6)),
    ("msg_type", U1),
    ("report_flag", U1),
    ("priority", U1),
    ("service_id", S(10)),
    ("fee_type", S(2)),
    ("fee_code", S(6)),
    ("fixed_fee", S(6)),
    ("msg_format", U1),
    ("valid_time", S(17)),
    ("at_time", S(17)),
    ("src_term_id", S(21)),
    ("dest_term_id", S(21)),
    ("charge_term_id", S(21)),
    ("msg_content", Sized(U1)),
    ("reserve", S(8)),
    ("tlvs", TLVS),
)
FORWARD_RESP: Fields = (*MSG_ID_STATUS, ("tlvs", TLVS))
QUERY: Fields = (("query_time", S(8)), ("query_type", U1), ("query_code", S(10)))
QUERY_RESP: Fields = (
    *QUERY,
    ("mt_tlmsg", U4),
    ("mt_tlusr", U4),
    ("mt_scs", U4),
    ("mt_wt", U4),
    ("mt_fl", U4),
    ("mo_scs", U4),
    ("mo_wt", U4),
    ("mo_fl", U4),
    ("reserve", S(8)),
)
QUERY_ROUTE: Fields = (("src_gateway_id", S(6)), ("query_term_id", S(21)))
_GATEWAY: Fields = (
    ("dest_gateway_id", S(6)),
    ("dest_gateway_ip", S(15)),
    ("dest_gateway_port", U2),
)
_TE: Fields = (("term_range_id", S(10)), ("province_code", S(4)), ("user_type", U1))
_SP: Fields = (
    ("sp_id", S(8)),
    ("sp_code", S(21)),
    ("sp_access_type", U1),
    ("sp_type", U1),
)
_TOTALS: Fields = (("route_total", U4), ("route_number", U4))
_TIME: Fields = (("time", S(14)),)
_STATUS_ROUTE: Fields = (("status", U4), ("route_id", U4))
_UPDATE: Fields = (("update_type", U1), ("route_id", U4))
QUERY_TE_ROUTE_RESP: Fields = (*_STATUS_ROUTE, *_GATEWAY, *_TE, *_TIME)
QUERY_SP_ROUTE_RESP: Fields = (*_STATUS_ROUTE, *_GATEWAY, *_SP, *_TIME)
GET_ALL_ROUTE: Fields = (("src_gateway_id", S(6)), ("route_type", S(4)), ("last_route_id", U4))
GET_ALL_TE_ROUTE_RESP: Fields = (*_STATUS_ROUTE, *_GATEWAY, *_TE, *_TOTALS, *_TIME)
GET_ALL_SP_ROUTE_RESP: Fields = (*_STATUS_ROUTE, *_GATEWAY, *_SP, *_TOTALS, *_TIME)
UPDATE_TE_ROUTE: Fields = (*_UPDATE, *_GATEWAY, *_TE)
UPDATE_SP_ROUTE: Fields = (*_UPDATE, *_GATEWAY, *_SP)
UPDATE_ROUTE_RESP: Fields = (*_STATUS_ROUTE, *_TIME)
PUSH_UPDATE_TE_ROUTE: Fields = (*UPDATE_TE_ROUTE, *_TIME)
PUSH_UPDATE_SP_ROUTE: Fields = (*UPDATE_SP_ROUTE, *_TIME)
STATUS_ONLY: Fields = (("status", U4),)

R = RequestId
#: Every SMGP 3.0.3 PDU with a body in the spec; 0x0A–0x0C have none (§4).
PDUS_30: tuple[tuple[int, type, Fields], ...] = (
    (R.LOGIN, p.Login, LOGIN),
    (R.LOGIN_RESP, p.LoginResp, LOGIN_RESP),
    (R.SUBMIT, p.Submit, SUBMIT),
    (R.SUBMIT_RESP, p.SubmitResp, MSG_ID_STATUS),
    (R.DELIVER, p.Deliver, DELIVER),
    (R.DELIVER_RESP, p.DeliverResp, MSG_ID_STATUS),
    (R.ACTIVE_TEST, p.ActiveTest, EMPTY),
    (R.ACTIVE_TEST_RESP, p.ActiveTestResp, EMPTY),
    (R.FORWARD, p.Forward, FORWARD),
    (R.FORWARD_RESP, p.ForwardResp, FORWARD_RESP),
    (R.EXIT, p.Exit, EMPTY),
    (R.EXIT_RESP, p.ExitResp, EMPTY),
    (R.QUERY, p.Query, QUERY),
    (R.QUERY_RESP, p.QueryResp, QUERY_RESP),
    (R.QUERY_TE_ROUTE, p.QueryTeRoute, QUERY_ROUTE),
    (R.QUERY_TE_ROUTE_RESP, p.QueryTeRouteResp, QUERY_TE_ROUTE_RESP),
    (R.QUERY_SP_ROUTE, p.QuerySpRoute, QUERY_ROUTE),
    (R.QUERY_SP_ROUTE_RESP, p.QuerySpRouteResp, QUERY_SP_ROUTE_RESP),
    (R.GET_ALL_TE_ROUTE, p.GetAllTeRoute, GET_ALL_ROUTE),
    (R.GET_ALL_TE_ROUTE_RESP, p.GetAllTeRouteResp, GET_ALL_TE_ROUTE_RESP),
    (R.GET_ALL_SP_ROUTE, p.GetAllSpRoute, GET_ALL_ROUTE),
    (R.GET_ALL_SP_ROUTE_RESP, p.GetAllSpRouteResp, GET_ALL_SP_ROUTE_RESP),
    (R.UPDATE_TE_ROUTE, p.UpdateTeRoute, UPDATE_TE_ROUTE),
    (R.UPDATE_TE_ROUTE_RESP, p.UpdateTeRouteResp, UPDATE_ROUTE_RESP),
    (R.UPDATE_SP_ROUTE, p.UpdateSpRoute, UPDATE_SP_ROUTE),
    (R.UPDATE_SP_ROUTE_RESP, p.UpdateSpRouteResp, UPDATE_ROUTE_RESP),
    (R.PUSH_UPDATE_TE_ROUTE, p.PushUpdateTeRoute, PUSH_UPDATE_TE_ROUTE),
    (R.PUSH_UPDATE_TE_ROUTE_RESP, p.PushUpdateTeRouteResp, STATUS_ONLY),
    (R.PUSH_UPDATE_SP_ROUTE, p.PushUpdateSpRoute, PUSH_UPDATE_SP_ROUTE),
    (R.PUSH_UPDATE_SP_ROUTE_RESP, p.PushUpdateSpRouteResp, STATUS_ONLY),
)
#: SMGP 1.3 as SMSGate speaks it: the 3.0 tables with the 1.3 Submit (§6.2).
PDUS_13: tuple[tuple[int, type, Fields], ...] = tuple(
    (cid, cls, SUBMIT_13 if cls is p.Submit else fields) for cid, cls, fields in PDUS_30
)

#: The SMGP 3.0.3 codec.
SMGP30: ProtocolCodec[p.SmgpPdu] = ProtocolCodec("SMGP 3.0", HEADER, PDUS_30, STATUSES, MAX_LENGTH)
#: The SMGP 1.3 codec (ServerVersion 0x13): Submit without FixedFee.
SMGP13: ProtocolCodec[p.SmgpPdu] = ProtocolCodec("SMGP 1.3", HEADER, PDUS_13, STATUSES, MAX_LENGTH)


def codec_for_version(version: int) -> ProtocolCodec[p.SmgpPdu]:
    """The codec for a negotiated Login version (§6.2).

    Below 0x30 (SMGP 1.3 is 0x13) the Submit has no FixedFee; 0x30 and
    above speak 3.0.
    """
    return SMGP13 if version < VERSION_30 else SMGP30


def encode(pdu: p.SmgpPdu, sequence_id: int) -> bytes:
    """Encode an SMGP 3.0 PDU as one frame (header included)."""
    return SMGP30.encode(pdu, sequence_id)


def decode(frame: bytes) -> tuple[Header, p.SmgpPdu]:
    """Decode one whole SMGP 3.0 frame into ``(header, pdu)``.

    :raises DecodeError: naming the PDU and field, with the SMGP status
        (10 structure or length, 11 unknown RequestID).
    """
    return SMGP30.decode(frame)
