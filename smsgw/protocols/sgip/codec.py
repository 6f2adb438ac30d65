"""SGIP 1.2 wire layouts, as tables (sgip12.md §3–§8).

Each table lists ``(attribute, field codec)`` in wire order.  The header is
20 bytes: Message Length, Command ID and the 12-byte Sequence Number as three
big-endian ``uint32`` (node id, MMDDhhmmss, counter), so a header's
``sequence_id`` is a ``(node_id, time, counter)`` tuple (sgip12.md §3).
"""

from __future__ import annotations

from smsgw.protocols.codec import Header, ProtocolCodec
from smsgw.protocols.errors import EncodeError, ErrorKind
from smsgw.protocols.sgip import pdus as p
from smsgw.protocols.sgip.constants import MAX_LENGTH, CommandId, Result
from smsgw.protocols.sgip.records import Records
from smsgw.protocols.wire import Fields, HeaderSpec, Layout, Octets, Repeated, Sized, UInt

U1, U4 = UInt(1), UInt(4)


def S(n: int) -> Octets:
    """An ``n``-byte NUL-padded Text field (sgip12.md §1)."""
    return Octets(n)


#: The SGIP header after Message Length and Command ID: the Sequence Number.
HEADER = HeaderSpec("III", ("seq[0]", "seq[1]", "seq[2]"))

#: What SGIP answers each kind of decode failure with (sgip12.md §9, spec
#: table 5-2): 5 "parameter format error" for a bad structure, 7 "wrong
#: message ID" for an unknown command, 8 "wrong message length" for a body
#: shorter or longer than its fields.  A framing error has no status: the
#: link is closed (sgip12.md §2, "malformed command").
STATUSES = {
    ErrorKind.STRUCTURE: Result.PARAMETER_FORMAT_ERROR,
    ErrorKind.COMMAND: Result.BAD_COMMAND_ID,
    ErrorKind.LENGTH: Result.BAD_LENGTH,
}

RESERVE = ("reserve", S(8))
#: Result + Reserve: Bind_Resp and every other plain response, 9 bytes.
RESULT_RESP: Fields = (("result", U1), RESERVE)
EMPTY: Fields = ()

BIND: Fields = (
    ("login_type", U1),
    ("login_name", S(16)),
    ("login_password", S(16)),
    RESERVE,
)
SUBMIT: Fields = (
    ("sp_number", S(21)),
    ("charge_number", S(21)),
    ("user_numbers", Repeated(S(21), U1)),
    ("corp_id", S(5)),
    ("service_type", S(10)),
    ("fee_type", U1),
    ("fee_value", S(6)),
    ("given_value", S(6)),
    ("agent_flag", U1),
    ("morelateto_mt_flag", U1),
    ("priority", U1),
    ("expire_time", S(16)),
    ("schedule_time", S(16)),
    ("report_flag", U1),
    ("tp_pid", U1),
    ("tp_udhi", U1),
    ("message_coding", U1),
    ("message_type", U1),
    ("message_content", Sized(U4)),
    RESERVE,
)
#: No MessageType byte, unlike bromine0x23/sgip (sgip12.md §12).
DELIVER: Fields = (
    ("user_number", S(21)),
    ("sp_number", S(21)),
    ("tp_pid", U1),
    ("tp_udhi", U1),
    ("message_coding", U1),
    ("message_content", Sized(U4)),
    RESERVE,
)
SUBMIT_SEQUENCE: Fields = (("submit_node_id", U4), ("submit_time", U4), ("submit_counter", U4))
REPORT: Fields = (
    *SUBMIT_SEQUENCE,
    ("report_type", U1),
    ("user_number", S(21)),
    ("state", U1),
    ("error_code", U1),
    RESERVE,
)
USER_RPT: Fields = (
    ("sp_number", S(21)),
    ("user_number", S(21)),
    ("user_condition", U1),
    RESERVE,
)
TRACE: Fields = (*SUBMIT_SEQUENCE, ("user_number", S(21)), RESERVE)
#: One Trace_Resp node, 47 bytes.
TRACE_NODE: Fields = (
    ("result", U1),
    ("node_id", S(6)),
    ("receive_time", S(16)),
    ("send_time", S(16)),
    RESERVE,
)
CHECK_USER: Fields = (
    ("user_name", S(16)),
    ("password", S(16)),
    ("user_number", S(21)),
    RESERVE,
)
CHECK_USER_RESP: Fields = (("result", U1), ("status", U1), RESERVE)
ADD_SP: Fields = (
    ("smg_id", S(6)),
    ("sp_number", S(21)),
    ("service_tag", S(10)),
    ("corp_id", S(5)),
    RESERVE,
)
MODIFY_SP: Fields = (
    ("smg_id", S(6)),
    ("old_sp_number", S(21)),
    ("old_service_tag", S(10)),
    ("new_sp_number", S(21)),
    ("new_service_tag", S(10)),
    ("corp_id", S(5)),
    RESERVE,
)
DELETE_SP: Fields = (("smg_id", S(6)), ("sp_number", S(21)), ("service_tag", S(10)), RESERVE)
QUERY_ROUTE: Fields = (
    ("query_type", U1),
    ("number", S(21)),
    ("service_tag", S(10)),
    RESERVE,
)
#: One QueryRoute_Resp entry, 87 bytes.
ROUTE_ENTRY: Fields = (
    ("type", U1),
    ("number", S(21)),
    ("mark", S(10)),
    ("code", S(5)),
    ("smg_id", S(6)),
    ("smg_ip", U4),
    ("login_user", S(16)),
    ("password", S(16)),
    RESERVE,
)
ADD_TELE_SEG: Fields = (
    ("smg_id", S(6)),
    ("tele_seg", S(7)),
    ("tele_type", S(1)),
    ("area_code", S(4)),
    RESERVE,
)
MODIFY_TELE_SEG: Fields = (
    ("smg_id", S(6)),
    ("old_tele_seg", S(7)),
    ("new_tele_seg", S(7)),
    ("new_tele_type", S(1)),
    ("new_area_code", S(4)),
    RESERVE,
)
DELETE_TELE_SEG: Fields = (("smg_id", S(6)), ("tele_seg", S(7)), RESERVE)
ADD_SMG: Fields = (
    ("smg_id", S(6)),
    ("smg_ip", U4),
    ("login_name", S(16)),
    ("login_password", S(16)),
    RESERVE,
)
MODIFY_SMG: Fields = (
    ("old_smg_id", S(6)),
    ("new_smg_id", S(6)),
    ("smg_ip", U4),
    ("login_name", S(16)),
    ("login_password", S(16)),
    RESERVE,
)
DELETE_SMG: Fields = (("smg_id", S(6)), RESERVE)

#: The record layouts, header-less.
TRACE_NODE_LAYOUT = Layout(p.TraceNode, TRACE_NODE)
ROUTE_ENTRY_LAYOUT = Layout(p.RouteEntry, ROUTE_ENTRY)

#: Trace_Resp: Count (1 byte) × 47-byte nodes.  SMSGate decodes one node only;
#: the spec repeats the fields Count times (sgip12.md §12).
TRACE_RESP: Fields = (("nodes", Records(TRACE_NODE_LAYOUT, U1)),)
#: QueryRoute_Resp: Result, then Count (4 bytes) × 87-byte entries.
QUERY_ROUTE_RESP: Fields = (("result", U1), ("entries", Records(ROUTE_ENTRY_LAYOUT, U4)))

C = CommandId
PDUS: tuple[tuple[int, type, Fields], ...] = (
    (C.BIND, p.Bind, BIND),
    (C.BIND_RESP, p.BindResp, RESULT_RESP),
    (C.UNBIND, p.Unbind, EMPTY),
    (C.UNBIND_RESP, p.UnbindResp, EMPTY),
    (C.SUBMIT, p.Submit, SUBMIT),
    (C.SUBMIT_RESP, p.SubmitResp, RESULT_RESP),
    (C.DELIVER, p.Deliver, DELIVER),
    (C.DELIVER_RESP, p.DeliverResp, RESULT_RESP),
    (C.REPORT, p.Report, REPORT),
    (C.REPORT_RESP, p.ReportResp, RESULT_RESP),
    (C.ADD_SP, p.AddSp, ADD_SP),
    (C.ADD_SP_RESP, p.AddSpResp, RESULT_RESP),
    (C.MODIFY_SP, p.ModifySp, MODIFY_SP),
    (C.MODIFY_SP_RESP, p.ModifySpResp, RESULT_RESP),
    (C.DELETE_SP, p.DeleteSp, DELETE_SP),
    (C.DELETE_SP_RESP, p.DeleteSpResp, RESULT_RESP),
    (C.QUERY_ROUTE, p.QueryRoute, QUERY_ROUTE),
    (C.QUERY_ROUTE_RESP, p.QueryRouteResp, QUERY_ROUTE_RESP),
    (C.ADD_TELE_SEG, p.AddTeleSeg, ADD_TELE_SEG),
    (C.ADD_TELE_SEG_RESP, p.AddTeleSegResp, RESULT_RESP),
    (C.MODIFY_TELE_SEG, p.ModifyTeleSeg, MODIFY_TELE_SEG),
    (C.MODIFY_TELE_SEG_RESP, p.ModifyTeleSegResp, RESULT_RESP),
    (C.DELETE_TELE_SEG, p.DeleteTeleSeg, DELETE_TELE_SEG),
    (C.DELETE_TELE_SEG_RESP, p.DeleteTeleSegResp, RESULT_RESP),
    (C.ADD_SMG, p.AddSmg, ADD_SMG),
    (C.ADD_SMG_RESP, p.AddSmgResp, RESULT_RESP),
    (C.MODIFY_SMG, p.ModifySmg, MODIFY_SMG),
    (C.MODIFY_SMG_RESP, p.ModifySmgResp, RESULT_RESP),
    (C.DELETE_SMG, p.DeleteSmg, DELETE_SMG),
    (C.DELETE_SMG_RESP, p.DeleteSmgResp, RESULT_RESP),
    (C.CHECK_USER, p.CheckUser, CHECK_USER),
    (C.CHECK_USER_RESP, p.CheckUserResp, CHECK_USER_RESP),
    (C.USER_RPT, p.UserRpt, USER_RPT),
    (C.USER_RPT_RESP, p.UserRptResp, RESULT_RESP),
    (C.TRACE, p.Trace, TRACE),
    (C.TRACE_RESP, p.TraceResp, TRACE_RESP),
)

#: The SGIP 1.2 codec.
SGIP12: ProtocolCodec[p.SgipPdu] = ProtocolCodec("SGIP 1.2", HEADER, PDUS, STATUSES, MAX_LENGTH)


def encode(pdu: p.SgipPdu, sequence_id: tuple[int, int, int]) -> bytes:
    """Encode an SGIP 1.2 PDU as one frame (header included).

    :param sequence_id: ``(node_id, MMDDhhmmss, counter)``, each an unsigned
        32-bit integer.
    :raises EncodeError: a field does not fit, or *sequence_id* is not three
        integers.
    """
    if not isinstance(sequence_id, tuple) or len(sequence_id) != 3:
        raise EncodeError(
            f"sequence number must be (node_id, time, counter), got {sequence_id!r}",
            pdu=type(pdu).__name__,
            field="sequence_id",
        )
    return SGIP12.encode(pdu, sequence_id)


def decode(frame: bytes) -> tuple[Header, p.SgipPdu]:
    """Decode one whole SGIP 1.2 frame into ``(header, pdu)``.

    :raises DecodeError: naming the PDU and field, with the SGIP Result to answer with.
    """
    return SGIP12.decode(frame)
