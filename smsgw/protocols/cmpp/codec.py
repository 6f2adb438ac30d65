"""CMPP 2.0 wire layouts, as tables (seed 002 §8; cmpp20-notes.md §2, §6–§8).

Each table lists ``(attribute, field codec)`` in wire order.  The CMPP 3.0
tables (issue 5) reuse the classes and override only what differs.
"""

from __future__ import annotations

from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.constants import MAX_LENGTH, CommandId
from smsgw.protocols.codec import Header, ProtocolCodec
from smsgw.protocols.errors import DecodeError, ErrorKind, FieldValueError
from smsgw.protocols.wire import (
    Fields,
    HeaderSpec,
    Layout,
    Octets,
    Raw,
    Repeated,
    Sized,
    Trailing,
    UInt,
    ZeroPadded,
)

U1, U2, U4, U8 = UInt(1), UInt(2), UInt(4), UInt(8)
I4 = UInt(4, signed=True)


def S(n: int) -> Octets:
    """An ``n``-byte NUL-padded octet string."""
    return Octets(n)


Z6 = ZeroPadded(6)  # ISMG codes in FWD and route messages, left-padded with '0'

#: The CMPP header after Total_Length and Command_Id: Sequence_Id.
HEADER = HeaderSpec("I", ("seq",))

#: What CMPP answers each kind of decode failure with (seed 002 §8.4.3.2).
STATUSES = {ErrorKind.STRUCTURE: 1, ErrorKind.COMMAND: 2, ErrorKind.LENGTH: 4}

CONNECT: Fields = (
    ("source_addr", S(6)),
    ("authenticator_source", Raw(16)),
    ("version", U1),
    ("timestamp", U4),
)
CONNECT_RESP_20: Fields = (("status", U1), ("authenticator_ismg", Raw(16)), ("version", U1))
SUBMIT_20: Fields = (
    ("msg_id", U8),
    ("pk_total", U1),
    ("pk_number", U1),
    ("registered_delivery", U1),
    ("msg_level", U1),
    ("service_id", S(10)),
    ("fee_user_type", U1),
    ("fee_terminal_id", S(21)),
    ("tp_pid", U1),
    ("tp_udhi", U1),
    ("msg_fmt", U1),
    ("msg_src", S(6)),
    ("fee_type", S(2)),
    ("fee_code", S(6)),
    ("valid_time", S(17)),
    ("at_time", S(17)),
    ("src_id", S(21)),
    ("dest_terminal_ids", Repeated(S(21), U1)),
    ("msg_content", Sized(U1)),
    ("reserve", S(8)),
)
SUBMIT_RESP_20: Fields = (("msg_id", U8), ("result", U1))
QUERY: Fields = (("time", S(8)), ("query_type", U1), ("query_code", S(10)), ("reserve", S(8)))
QUERY_RESP: Fields = (
    ("time", S(8)),
    ("query_type", U1),
    ("query_code", S(10)),
    ("mt_tlmsg", U4),
    ("mt_tlusr", U4),
    ("mt_scs", U4),
    ("mt_wt", U4),
    ("mt_fl", U4),
    ("mo_scs", U4),
    ("mo_wt", U4),
    ("mo_fl", U4),
)
DELIVER_20: Fields = (
    ("msg_id", U8),
    ("dest_id", S(21)),
    ("service_id", S(10)),
    ("tp_pid", U1),
    ("tp_udhi", U1),
    ("msg_fmt", U1),
    ("src_terminal_id", S(21)),
    ("registered_delivery", U1),
    ("msg_content", Sized(U1)),
    ("reserved", S(8)),
)
DELIVER_RESP_20: Fields = (("msg_id", U8), ("result", U1))
CANCEL: Fields = (("msg_id", U8),)
CANCEL_RESP_20: Fields = (("success_id", U1),)
EMPTY: Fields = ()
ACTIVE_TEST_RESP: Fields = (("reserved", Trailing(U1)),)
FWD_20: Fields = (
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
    ("tp_pid", U1),
    ("tp_udhi", U1),
    ("msg_fmt", U1),
    ("msg_src", S(6)),
    ("fee_type", S(2)),
    ("fee_code", S(6)),
    ("valid_time", S(17)),
    ("at_time", S(17)),
    ("src_id", S(21)),
    ("dest_ids", Repeated(S(21), U1)),
    ("msg_content", Sized(U1)),
    ("reserve", S(8)),
)
FWD_RESP_20: Fields = (("msg_id", U8), ("pk_total", U1), ("pk_number", U1), ("result", U1))
MT_ROUTE: Fields = (("source_id", Z6), ("terminal_id", S(21)))
MT_ROUTE_RESP: Fields = (
    ("route_id", U4),
    ("destination_id", Z6),
    ("gateway_ip", S(15)),
    ("gateway_port", U2),
    ("start_id", S(6)),
    ("end_id", S(6)),
    ("area_code", S(4)),
    ("result", U1),
)
MO_ROUTE: Fields = (
    ("source_id", Z6),
    ("sp_code", S(21)),
    ("service_id", S(10)),
    ("service_code", U4),
)
MO_ROUTE_RESP: Fields = (
    ("route_id", U4),
    ("destination_id", Z6),
    ("gateway_ip", S(15)),
    ("gateway_port", U2),
    ("sp_id", S(21)),
    ("start_code", U4),
    ("end_code", U4),
    ("result", U1),
)
GET_ROUTE: Fields = (("source_id", Z6), ("route_type", S(2)), ("last_route_id", I4))
GET_ROUTE_RESP: Fields = (
    ("route_id", U4),
    ("destination_id", Z6),
    ("gateway_ip", S(15)),
    ("gateway_port", U2),
    ("sp_code", S(21)),
    ("service_id", S(10)),
    ("start_code", U4),
    ("end_code", U4),
    ("area_code", S(4)),
    ("result", U1),
)
MT_ROUTE_UPDATE: Fields = (
    ("update_type", U1),
    ("route_id", U4),
    ("destination_id", Z6),
    ("gateway_ip", S(15)),
    ("gateway_port", U2),
    ("start_id", S(6)),
    ("end_id", S(6)),
    ("area_code", S(4)),
)
MO_ROUTE_UPDATE: Fields = (
    ("update_type", U1),
    ("route_id", U4),
    ("destination_id", Z6),
    ("gateway_ip", S(15)),
    ("gateway_port", U2),
    ("sp_code", S(21)),
    ("service_id", S(10)),
    ("start_code", U4),
    ("end_code", U4),
)
RESULT_1: Fields = (("result", U1),)

#: Status report content, 60 bytes (seed 002 table 8.11).
REPORT_20: Fields = (
    ("msg_id", U8),
    ("stat", S(7)),
    ("submit_time", S(10)),
    ("done_time", S(10)),
    ("dest_terminal_id", S(21)),
    ("smsc_sequence", U4),
)
#: The same with a 32-byte Dest_terminal_Id, 71 bytes (CMPP 3.0, sent by some 2.0 ISMGs).
REPORT_30: Fields = (*REPORT_20[:4], ("dest_terminal_id", S(32)), ("smsc_sequence", U4))
#: MO status report content of FWD type 3, 60 bytes (seed 002 table 8.35).
MO_REPORT: Fields = (
    ("msg_id", U8),
    ("stat", S(7)),
    ("deliver_time", S(10)),
    ("deliver_resp_time", S(10)),
    ("dest_id", S(21)),
    ("reserved", S(4)),
)

C = CommandId
PDUS_20: tuple[tuple[int, type, Fields], ...] = (
    (C.CONNECT, p.Connect, CONNECT),
    (C.CONNECT_RESP, p.ConnectResp, CONNECT_RESP_20),
    (C.TERMINATE, p.Terminate, EMPTY),
    (C.TERMINATE_RESP, p.TerminateResp, EMPTY),
    (C.SUBMIT, p.Submit, SUBMIT_20),
    (C.SUBMIT_RESP, p.SubmitResp, SUBMIT_RESP_20),
    (C.QUERY, p.Query, QUERY),
    (C.QUERY_RESP, p.QueryResp, QUERY_RESP),
    (C.DELIVER, p.Deliver, DELIVER_20),
    (C.DELIVER_RESP, p.DeliverResp, DELIVER_RESP_20),
    (C.CANCEL, p.Cancel, CANCEL),
    (C.CANCEL_RESP, p.CancelResp, CANCEL_RESP_20),
    (C.ACTIVE_TEST, p.ActiveTest, EMPTY),
    (C.ACTIVE_TEST_RESP, p.ActiveTestResp, ACTIVE_TEST_RESP),
    (C.FWD, p.Fwd, FWD_20),
    (C.FWD_RESP, p.FwdResp, FWD_RESP_20),
    (C.MT_ROUTE, p.MtRoute, MT_ROUTE),
    (C.MT_ROUTE_RESP, p.MtRouteResp, MT_ROUTE_RESP),
    (C.MO_ROUTE, p.MoRoute, MO_ROUTE),
    (C.MO_ROUTE_RESP, p.MoRouteResp, MO_ROUTE_RESP),
    (C.GET_ROUTE, p.GetRoute, GET_ROUTE),
    (C.GET_ROUTE_RESP, p.GetRouteResp, GET_ROUTE_RESP),
    (C.MT_ROUTE_UPDATE, p.MtRouteUpdate, MT_ROUTE_UPDATE),
    (C.MT_ROUTE_UPDATE_RESP, p.MtRouteUpdateResp, RESULT_1),
    (C.MO_ROUTE_UPDATE, p.MoRouteUpdate, MO_ROUTE_UPDATE),
    (C.MO_ROUTE_UPDATE_RESP, p.MoRouteUpdateResp, RESULT_1),
    (C.PUSH_MT_ROUTE_UPDATE, p.PushMtRouteUpdate, MT_ROUTE_UPDATE),
    (C.PUSH_MT_ROUTE_UPDATE_RESP, p.PushMtRouteUpdateResp, RESULT_1),
    (C.PUSH_MO_ROUTE_UPDATE, p.PushMoRouteUpdate, MO_ROUTE_UPDATE),
    (C.PUSH_MO_ROUTE_UPDATE_RESP, p.PushMoRouteUpdateResp, RESULT_1),
)

#: The CMPP 2.0 codec.
CMPP20: ProtocolCodec[p.CmppPdu] = ProtocolCodec("CMPP 2.0", HEADER, PDUS_20, STATUSES, MAX_LENGTH)

_REPORT_20 = Layout(p.Report, REPORT_20, name="Report")
_REPORT_30 = Layout(p.Report, REPORT_30, name="Report")
_MO_REPORT = Layout(p.MoReport, MO_REPORT, name="MoReport")


def encode(pdu: p.CmppPdu, sequence_id: int) -> bytes:
    """Encode a CMPP 2.0 PDU as one frame (header included)."""
    return CMPP20.encode(pdu, sequence_id)


def decode(frame: bytes) -> tuple[Header, p.CmppPdu]:
    """Decode one whole CMPP 2.0 frame into ``(header, pdu)``.

    :raises DecodeError: naming the PDU and field, with the CMPP status.
    """
    return CMPP20.decode(frame)


def encode_report(report: p.Report, *, dest_width: int = 21) -> bytes:
    """The 60-byte (``dest_width`` 21) or 71-byte (32, CMPP 3.0) report content."""
    if dest_width not in (21, 32):
        raise ValueError(f"dest_width must be 21 (CMPP 2.0) or 32 (CMPP 3.0), not {dest_width}")
    return (_REPORT_20 if dest_width == 21 else _REPORT_30).pack(report)


def decode_report(content: bytes) -> p.Report:
    """Parse a DELIVER's report content, picking the layout by its length (60 or 71).

    :raises DecodeError: with status 1 (structure) for any other length.
    """
    n = len(content)
    if n == 60:
        return _REPORT_20.unpack(content)
    if n == 71:
        return _REPORT_30.unpack(content)
    raise FieldValueError(
        f"report content is {n} bytes, expected 60 or 71",
        pdu="Deliver",
        field="msg_content",
        status=STATUSES[ErrorKind.STRUCTURE],
    )


def encode_mo_report(report: p.MoReport) -> bytes:
    """The 60-byte MO status report content of a FWD of type 3."""
    return _MO_REPORT.pack(report)


def decode_mo_report(content: bytes) -> p.MoReport:
    """Parse a FWD type 3 MO status report (60 bytes)."""
    try:
        return _MO_REPORT.unpack(content)
    except DecodeError as e:
        e.pdu, e.field = "Fwd", f"msg_content.{e.field}" if e.field else "msg_content"
        # A content that does not fit its layout is a structure error (1),
        # as decode_report answers too.
        e.status = STATUSES[ErrorKind.STRUCTURE]
        raise
