"""CMPP 3.0 wire layouts, as tables (cmpp30.md §1–§7).

CMPP 3.0 keeps the header, the command ids and most bodies of CMPP 2.0, so
this module imports the 2.0 tables of :mod:`.codec` and overrides only what
differs (cmpp30.md §1): the 4-byte Status/Result/Success_Id of the
responses, the 32-byte terminal ids with their ``*_type`` bytes and the
LinkID of SUBMIT and DELIVER, FWD's pseudo-number fields, and the GNS
messages of §7.  The PDU classes are shared with 2.0 (:mod:`.pdus`); fields a
version does not carry keep their defaults.

Command id 0x00000012 is GET_ROUTE in 2.0 and GET_MT_ROUTE in 3.0, with a
different body, so 3.0 maps it to :class:`~.pdus.GetMtRoute`; 0x00000017 is
the new GET_MO_ROUTE.

The status report inside a 3.0 DELIVER is the 71-byte content:
``encode_report(report, dest_width=32)`` and ``decode_report`` in
:mod:`.codec` (re-exported here).
"""

from __future__ import annotations

from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.codec import (
    ACTIVE_TEST_RESP,
    CANCEL,
    CONNECT,
    EMPTY,
    HEADER,
    I4,
    MO_ROUTE,
    MT_ROUTE,
    QUERY,
    QUERY_RESP,
    RESULT_1,
    STATUSES,
    U1,
    U2,
    U4,
    U8,
    Z6,
    S,
    decode_report,
    encode_report,
)
from smsgw.protocols.cmpp.constants import MAX_LENGTH, CommandId
from smsgw.protocols.codec import Header, ProtocolCodec
from smsgw.protocols.wire import Fields, Raw, Repeated, Sized

__all__ = [
    "CMPP30",
    "PDUS_30",
    "decode30",
    "decode_report",
    "encode30",
    "encode_report",
]

#: cmpp30.md §3: Status is 4 bytes; 33-byte PDU.
CONNECT_RESP_30: Fields = (("status", U4), ("authenticator_ismg", Raw(16)), ("version", U1))
#: cmpp30.md §3: 163 + 32N + L.
SUBMIT_30: Fields = (
    ("msg_id", U8),
    ("pk_total", U1),
    ("pk_number", U1),
    ("registered_delivery", U1),
    ("msg_level", U1),
    ("service_id", S(10)),
    ("fee_user_type", U1),
    ("fee_terminal_id", S(32)),
    ("fee_terminal_type", U1),
    ("tp_pid", U1),
    ("tp_udhi", U1),
    ("msg_fmt", U1),
    ("msg_src", S(6)),
    ("fee_type", S(2)),
    ("fee_code", S(6)),
    ("valid_time", S(17)),
    ("at_time", S(17)),
    ("src_id", S(21)),
    ("dest_terminal_ids", Repeated(S(32), U1)),
    ("dest_terminal_type", U1),
    ("msg_content", Sized(U1)),
    ("link_id", S(20)),
)
#: cmpp30.md §3: Result is 4 bytes; 24-byte PDU.
SUBMIT_RESP_30: Fields = (("msg_id", U8), ("result", U4))
#: cmpp30.md §3: 109 + L (180 with a 71-byte report).
DELIVER_30: Fields = (
    ("msg_id", U8),
    ("dest_id", S(21)),
    ("service_id", S(10)),
    ("tp_pid", U1),
    ("tp_udhi", U1),
    ("msg_fmt", U1),
    ("src_terminal_id", S(32)),
    ("src_terminal_type", U1),
    ("registered_delivery", U1),
    ("msg_content", Sized(U1)),
    ("link_id", S(20)),
)
#: cmpp30.md §3: Result is 4 bytes; 24-byte PDU.
DELIVER_RESP_30: Fields = (("msg_id", U8), ("result", U4))
#: cmpp30.md §3: Success_Id is 4 bytes; 16-byte PDU.
CANCEL_RESP_30: Fields = (("success_id", U4),)
#: cmpp30.md §4: 264 + 21N + L.  Fee_terminal_Id stays 21 bytes in FWD (§9).
#: The spec says DestUsr_tl must be 1; the codec carries any count, as for 2.0.
FWD_30: Fields = (
    ("source_id", Z6),
    ("destination_id", Z6),
    ("nodes_count", U1),
    ("msg_fwd_type", U1),
    ("msg_id", U8),
    ("pk_total", U1),
    ("pk_number", U1),
    ("registered_delivery", U1),
    ("msg_level", U1),
    ("service_id", S(10)),
    ("fee_user_type", U1),
    ("fee_terminal_id", S(21)),
    ("fee_terminal_pseudo", S(32)),
    ("fee_terminal_user_type", U1),
    ("tp_pid", U1),
    ("tp_udhi", U1),
    ("msg_fmt", U1),
    ("msg_src", S(6)),
    ("fee_type", S(2)),
    ("fee_code", S(6)),
    ("valid_time", S(17)),
    ("at_time", S(17)),
    ("src_id", S(21)),
    ("src_pseudo", S(32)),
    ("src_user_type", U1),
    ("src_type", U1),
    ("dest_ids", Repeated(S(21), U1)),
    ("dest_pseudo", S(32)),
    ("dest_user_type", U1),
    ("msg_content", Sized(U1)),
    ("link_id", S(20)),
)
#: cmpp30.md §4: Result is 4 bytes; 26-byte PDU.
FWD_RESP_30: Fields = (("msg_id", U8), ("pk_total", U1), ("pk_number", U1), ("result", U4))

# -- ISMG ⇄ GNS (cmpp30.md §7) ------------------------------------------------

#: Route_Id, Destination_Id, Gateway_IP, Gateway_port: the head of every route.
_ROUTE_HEAD: Fields = (
    ("route_id", U4),
    ("destination_id", Z6),
    ("gateway_ip", S(15)),
    ("gateway_port", U2),
)
#: MT number segments grow from 6 to 9 bytes in 3.0.
_MT_SEGMENT: Fields = (("start_id", S(9)), ("end_id", S(9)), ("area_code", S(4)))
#: 65-byte body.
MT_ROUTE_RESP_30: Fields = (
    *_ROUTE_HEAD,
    *_MT_SEGMENT,
    ("result", U1),
    ("user_type", U1),
    ("time_stamp", S(14)),
)
#: 78-byte body; SP_Id is 6 bytes here (21 in 2.0) and SP_Code follows it.
MO_ROUTE_RESP_30: Fields = (
    *_ROUTE_HEAD,
    ("sp_id", S(6)),
    ("sp_code", S(21)),
    ("sp_access_type", U1),
    ("start_code", U4),
    ("end_code", U4),
    ("result", U1),
    ("time_stamp", S(14)),
)
#: GET_MT_ROUTE and GET_MO_ROUTE, 14-byte body: Route_type grows to 4 bytes.
GET_ROUTE_30: Fields = (("source_id", Z6), ("route_type", S(4)), ("last_route_id", I4))
#: 73-byte body.
GET_MT_ROUTE_RESP: Fields = (
    *_ROUTE_HEAD,
    *_MT_SEGMENT,
    ("result", U1),
    ("user_type", U1),
    ("route_total", U4),
    ("route_number", U4),
    ("time_stamp", S(14)),
)
#: 96-byte body.
GET_MO_ROUTE_RESP: Fields = (
    *_ROUTE_HEAD,
    ("sp_id", S(6)),
    ("sp_code", S(21)),
    ("sp_access_type", U1),
    ("service_id", S(10)),
    ("start_code", U4),
    ("end_code", U4),
    ("result", U1),
    ("route_total", U4),
    ("route_number", U4),
    ("time_stamp", S(14)),
)
#: 51-byte body.
MT_ROUTE_UPDATE_30: Fields = (
    ("update_type", U1),
    *_ROUTE_HEAD,
    *_MT_SEGMENT,
    ("user_type", U1),
)
#: 74-byte body.
MO_ROUTE_UPDATE_30: Fields = (
    ("update_type", U1),
    *_ROUTE_HEAD,
    ("sp_id", S(6)),
    ("sp_code", S(21)),
    ("sp_access_type", U1),
    ("service_id", S(10)),
    ("start_code", U4),
    ("end_code", U4),
)
#: 65- and 88-byte bodies: the updates plus the GNS's Time_stamp.
PUSH_MT_ROUTE_UPDATE_30: Fields = (*MT_ROUTE_UPDATE_30, ("time_stamp", S(14)))
PUSH_MO_ROUTE_UPDATE_30: Fields = (*MO_ROUTE_UPDATE_30, ("time_stamp", S(14)))
#: MT/MO_ROUTE_UPDATE_RESP, 19-byte body (the PUSH responses keep Result alone).
ROUTE_UPDATE_RESP_30: Fields = (("result", U1), ("route_id", U4), ("time_stamp", S(14)))

C = CommandId
PDUS_30: tuple[tuple[int, type, Fields], ...] = (
    (C.CONNECT, p.Connect, CONNECT),
    (C.CONNECT_RESP, p.ConnectResp, CONNECT_RESP_30),
    (C.TERMINATE, p.Terminate, EMPTY),
    (C.TERMINATE_RESP, p.TerminateResp, EMPTY),
    (C.SUBMIT, p.Submit, SUBMIT_30),
    (C.SUBMIT_RESP, p.SubmitResp, SUBMIT_RESP_30),
    (C.QUERY, p.Query, QUERY),
    (C.QUERY_RESP, p.QueryResp, QUERY_RESP),
    (C.DELIVER, p.Deliver, DELIVER_30),
    (C.DELIVER_RESP, p.DeliverResp, DELIVER_RESP_30),
    (C.CANCEL, p.Cancel, CANCEL),
    (C.CANCEL_RESP, p.CancelResp, CANCEL_RESP_30),
    (C.ACTIVE_TEST, p.ActiveTest, EMPTY),
    (C.ACTIVE_TEST_RESP, p.ActiveTestResp, ACTIVE_TEST_RESP),
    (C.FWD, p.Fwd, FWD_30),
    (C.FWD_RESP, p.FwdResp, FWD_RESP_30),
    (C.MT_ROUTE, p.MtRoute, MT_ROUTE),
    (C.MT_ROUTE_RESP, p.MtRouteResp, MT_ROUTE_RESP_30),
    (C.MO_ROUTE, p.MoRoute, MO_ROUTE),
    (C.MO_ROUTE_RESP, p.MoRouteResp, MO_ROUTE_RESP_30),
    # 0x12: CMPP_GET_MT_ROUTE in 3.0 (constants name it GET_ROUTE, its 2.0 name).
    (C.GET_ROUTE, p.GetMtRoute, GET_ROUTE_30),
    (C.GET_ROUTE_RESP, p.GetMtRouteResp, GET_MT_ROUTE_RESP),
    (C.MT_ROUTE_UPDATE, p.MtRouteUpdate, MT_ROUTE_UPDATE_30),
    (C.MT_ROUTE_UPDATE_RESP, p.MtRouteUpdateResp, ROUTE_UPDATE_RESP_30),
    (C.MO_ROUTE_UPDATE, p.MoRouteUpdate, MO_ROUTE_UPDATE_30),
    (C.MO_ROUTE_UPDATE_RESP, p.MoRouteUpdateResp, ROUTE_UPDATE_RESP_30),
    (C.PUSH_MT_ROUTE_UPDATE, p.PushMtRouteUpdate, PUSH_MT_ROUTE_UPDATE_30),
    (C.PUSH_MT_ROUTE_UPDATE_RESP, p.PushMtRouteUpdateResp, RESULT_1),
    (C.PUSH_MO_ROUTE_UPDATE, p.PushMoRouteUpdate, PUSH_MO_ROUTE_UPDATE_30),
    (C.PUSH_MO_ROUTE_UPDATE_RESP, p.PushMoRouteUpdateResp, RESULT_1),
    (C.GET_MO_ROUTE, p.GetMoRoute, GET_ROUTE_30),
    (C.GET_MO_ROUTE_RESP, p.GetMoRouteResp, GET_MO_ROUTE_RESP),
)

#: The CMPP 3.0 codec.
CMPP30: ProtocolCodec[p.CmppPdu] = ProtocolCodec("CMPP 3.0", HEADER, PDUS_30, STATUSES, MAX_LENGTH)


def encode30(pdu: p.CmppPdu, sequence_id: int) -> bytes:
    """Encode a CMPP 3.0 PDU as one frame (header included).

    :raises EncodeError: a field does not fit, or 3.0 has no such PDU (e.g.
        :class:`~.pdus.GetRoute`, which 3.0 replaced with GET_MT_ROUTE).
    """
    return CMPP30.encode(pdu, sequence_id)


def decode30(frame: bytes) -> tuple[Header, p.CmppPdu]:
    """Decode one whole CMPP 3.0 frame into ``(header, pdu)``.

    :raises DecodeError: naming the PDU and field, with the CMPP status.
    """
    return CMPP30.decode(frame)
