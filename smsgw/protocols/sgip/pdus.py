"""SGIP 1.2 PDU classes, one per command of sgip12.md §5, plus the two record shapes.

Octet strings are ``bytes`` with their NUL padding removed; message content
stays ``bytes`` with its ``message_coding`` (:mod:`smsgw.text` turns it into
``str``).  Count and length fields (UserCount, MessageLength, the Count of
QueryRoute_Resp and Trace_Resp) are not attributes: the encoder derives them.

The 12-byte sequence numbers carried in a body (Report and Trace
SubmitSequenceNumber) are three ``int`` attributes, ``submit_node_id``,
``submit_time`` (MMDDhhmmss) and ``submit_counter``, because that is what is
on the wire; their ``submit_sequence_number`` property gives the tuple a
header's ``sequence_id`` has.
"""

from __future__ import annotations

from typing import TypeAlias

import attrs

__all__ = [
    "AddSmg",
    "AddSmgResp",
    "AddSp",
    "AddSpResp",
    "AddTeleSeg",
    "AddTeleSegResp",
    "Bind",
    "BindResp",
    "CheckUser",
    "CheckUserResp",
    "DeleteSmg",
    "DeleteSmgResp",
    "DeleteSp",
    "DeleteSpResp",
    "DeleteTeleSeg",
    "DeleteTeleSegResp",
    "Deliver",
    "DeliverResp",
    "ModifySmg",
    "ModifySmgResp",
    "ModifySp",
    "ModifySpResp",
    "ModifyTeleSeg",
    "ModifyTeleSegResp",
    "QueryRoute",
    "QueryRouteResp",
    "Report",
    "ReportResp",
    "RouteEntry",
    "SgipPdu",
    "Submit",
    "SubmitResp",
    "Trace",
    "TraceNode",
    "TraceResp",
    "Unbind",
    "UnbindResp",
    "UserRpt",
    "UserRptResp",
]

# -- SP-facing commands (sgip12.md §6) -----------------------------------------


@attrs.define
class Bind:
    """Bind (sgip12.md §6): the first PDU of every link; name and password in clear text."""

    login_type: int = 1
    login_name: bytes = b""
    login_password: bytes = b""
    reserve: bytes = b""


@attrs.define
class ResultResp:
    """The shape of every SGIP response that is Result and Reserve (sgip12.md §6, Bind_Resp)."""

    result: int = 0
    reserve: bytes = b""


@attrs.define
class BindResp(ResultResp):
    """Bind_Resp: Result (0 OK, 1 illegal login, 4 bad Login Type, ...) and Reserve."""


@attrs.define
class Unbind:
    """Unbind: no body; the client closes the link in order."""


@attrs.define
class UnbindResp:
    """Unbind_Resp: no body."""


@attrs.define
class Submit:
    """Submit (sgip12.md §6): one MT from the SP to one or more handsets.

    Its own header sequence number is the message's id: Submit_Resp carries
    none, and the Report names it (sgip12.md §10).
    """

    sp_number: bytes = b""
    charge_number: bytes = b""
    user_numbers: tuple[bytes, ...] = ()
    corp_id: bytes = b""
    service_type: bytes = b""
    fee_type: int = 0
    fee_value: bytes = b"0"
    given_value: bytes = b"0"
    agent_flag: int = 0
    morelateto_mt_flag: int = 2
    priority: int = 0
    expire_time: bytes = b""
    schedule_time: bytes = b""
    report_flag: int = 0
    tp_pid: int = 0
    tp_udhi: int = 0
    message_coding: int = 0
    message_type: int = 0
    message_content: bytes = b""
    reserve: bytes = b""


@attrs.define
class SubmitResp(ResultResp):
    """Submit_Resp: Result and Reserve; no message id (sgip12.md §10)."""


@attrs.define
class Deliver:
    """Deliver (sgip12.md §6): one MO from a handset; no MessageType byte (sgip12.md §12)."""

    user_number: bytes = b""
    sp_number: bytes = b""
    tp_pid: int = 0
    tp_udhi: int = 0
    message_coding: int = 0
    message_content: bytes = b""
    reserve: bytes = b""


@attrs.define
class DeliverResp(ResultResp):
    """Deliver_Resp: Result (0 accepted) and Reserve."""


@attrs.define
class Report:
    """Report (sgip12.md §6, §10): the outcome of an earlier Submit for one handset.

    ``submit_node_id``, ``submit_time`` and ``submit_counter`` are the
    SubmitSequenceNumber: the 12-byte header sequence number of that Submit.
    """

    submit_node_id: int = 0
    submit_time: int = 0
    submit_counter: int = 0
    report_type: int = 0
    user_number: bytes = b""
    state: int = 0
    error_code: int = 0
    reserve: bytes = b""

    @property
    def submit_sequence_number(self) -> tuple[int, int, int]:
        """SubmitSequenceNumber as a header ``sequence_id``: (node id, MMDDhhmmss, counter)."""
        return (self.submit_node_id, self.submit_time, self.submit_counter)


@attrs.define
class ReportResp(ResultResp):
    """Report_Resp: Result and Reserve."""


@attrs.define
class UserRpt:
    """UserRpt (sgip12.md §6): a subscriber's state changed (cancelled, arrears, restored)."""

    sp_number: bytes = b""
    user_number: bytes = b""
    user_condition: int = 0
    reserve: bytes = b""


@attrs.define
class UserRptResp(ResultResp):
    """UserRpt_Resp: Result and Reserve."""


@attrs.define
class Trace:
    """Trace (sgip12.md §6): where an MT went, on a test link (Login Type 11)."""

    submit_node_id: int = 0
    submit_time: int = 0
    submit_counter: int = 0
    user_number: bytes = b""
    reserve: bytes = b""

    @property
    def submit_sequence_number(self) -> tuple[int, int, int]:
        """SubmitSequenceNumber as a header ``sequence_id``: (node id, MMDDhhmmss, counter)."""
        return (self.submit_node_id, self.submit_time, self.submit_counter)


@attrs.define
class TraceNode:
    """One 47-byte node record of Trace_Resp (sgip12.md §6).

    Times are text ``yymmddhhmmss`` in 16-byte fields.
    """

    result: int = 0
    node_id: bytes = b""
    receive_time: bytes = b""
    send_time: bytes = b""
    reserve: bytes = b""


@attrs.define
class TraceResp:
    """Trace_Resp: Count then that many :class:`TraceNode` records."""

    nodes: tuple[TraceNode, ...] = ()


# -- SMG ⇄ billing centre and SMG ⇄ GNS (sgip12.md §8) ----------------------


@attrs.define
class CheckUser:
    """CheckUser (sgip12.md §8): SMG asks the billing centre about a handset."""

    user_name: bytes = b""
    password: bytes = b""
    user_number: bytes = b""
    reserve: bytes = b""


@attrs.define
class CheckUserResp:
    """CheckUser_Resp: Result, Status (0 cancelled, 1 arrears stop, 2 normal), Reserve."""

    result: int = 0
    status: int = 0
    reserve: bytes = b""


@attrs.define
class AddSp:
    """AddSP (sgip12.md §8)."""

    smg_id: bytes = b""
    sp_number: bytes = b""
    service_tag: bytes = b""
    corp_id: bytes = b""
    reserve: bytes = b""


@attrs.define
class AddSpResp(ResultResp):
    """AddSP_Resp: Result and Reserve."""


@attrs.define
class ModifySp:
    """ModifySP (sgip12.md §8)."""

    smg_id: bytes = b""
    old_sp_number: bytes = b""
    old_service_tag: bytes = b""
    new_sp_number: bytes = b""
    new_service_tag: bytes = b""
    corp_id: bytes = b""
    reserve: bytes = b""


@attrs.define
class ModifySpResp(ResultResp):
    """ModifySP_Resp: Result and Reserve."""


@attrs.define
class DeleteSp:
    """DeleteSP (sgip12.md §8)."""

    smg_id: bytes = b""
    sp_number: bytes = b""
    service_tag: bytes = b""
    reserve: bytes = b""


@attrs.define
class DeleteSpResp(ResultResp):
    """DeleteSP_Resp: Result and Reserve."""


@attrs.define
class QueryRoute:
    """QueryRoute (sgip12.md §8)."""

    query_type: int = 0
    number: bytes = b""
    service_tag: bytes = b""
    reserve: bytes = b""


@attrs.define
class RouteEntry:
    """One 87-byte route record of QueryRoute_Resp (sgip12.md §8).

    ``type`` 1: ``number`` is an SP access number, ``mark`` a service code,
    ``code`` a CorpId; 2: a handset segment, subscriber type, area code.
    ``smg_ip`` is the IPv4 address as an integer.
    """

    type: int = 0
    number: bytes = b""
    mark: bytes = b""
    code: bytes = b""
    smg_id: bytes = b""
    smg_ip: int = 0
    login_user: bytes = b""
    password: bytes = b""
    reserve: bytes = b""


@attrs.define
class QueryRouteResp:
    """QueryRoute_Resp: Result, Count (4 bytes), then that many :class:`RouteEntry` records."""

    result: int = 0
    entries: tuple[RouteEntry, ...] = ()


@attrs.define
class AddTeleSeg:
    """AddTeleSeg (sgip12.md §8): ``tele_type`` is a Text byte, ``b"0"`` or ``b"1"``."""

    smg_id: bytes = b""
    tele_seg: bytes = b""
    tele_type: bytes = b""
    area_code: bytes = b""
    reserve: bytes = b""


@attrs.define
class AddTeleSegResp(ResultResp):
    """AddTeleSeg_Resp: Result and Reserve."""


@attrs.define
class ModifyTeleSeg:
    """ModifyTeleSeg (sgip12.md §8)."""

    smg_id: bytes = b""
    old_tele_seg: bytes = b""
    new_tele_seg: bytes = b""
    new_tele_type: bytes = b""
    new_area_code: bytes = b""
    reserve: bytes = b""


@attrs.define
class ModifyTeleSegResp(ResultResp):
    """ModifyTeleSeg_Resp: Result and Reserve."""


@attrs.define
class DeleteTeleSeg:
    """DeleteTeleSeg (sgip12.md §8)."""

    smg_id: bytes = b""
    tele_seg: bytes = b""
    reserve: bytes = b""


@attrs.define
class DeleteTeleSegResp(ResultResp):
    """DeleteTeleSeg_Resp: Result and Reserve."""


@attrs.define
class AddSmg:
    """AddSMG (sgip12.md §8): ``smg_ip`` is the IPv4 address as an integer."""

    smg_id: bytes = b""
    smg_ip: int = 0
    login_name: bytes = b""
    login_password: bytes = b""
    reserve: bytes = b""


@attrs.define
class AddSmgResp(ResultResp):
    """AddSMG_Resp: Result and Reserve."""


@attrs.define
class ModifySmg:
    """ModifySMG (sgip12.md §8)."""

    old_smg_id: bytes = b""
    new_smg_id: bytes = b""
    smg_ip: int = 0
    login_name: bytes = b""
    login_password: bytes = b""
    reserve: bytes = b""


@attrs.define
class ModifySmgResp(ResultResp):
    """ModifySMG_Resp (0x8000000E, not the spec's misprinted 0x0000000e): Result and Reserve."""


@attrs.define
class DeleteSmg:
    """DeleteSMG (sgip12.md §8)."""

    smg_id: bytes = b""
    reserve: bytes = b""


@attrs.define
class DeleteSmgResp(ResultResp):
    """DeleteSMG_Resp: Result and Reserve."""


#: Every SGIP 1.2 PDU: what the codec decodes to.  :class:`RouteEntry` and
#: :class:`TraceNode` are records inside PDUs.
SgipPdu: TypeAlias = (
    Bind
    | BindResp
    | Unbind
    | UnbindResp
    | Submit
    | SubmitResp
    | Deliver
    | DeliverResp
    | Report
    | ReportResp
    | AddSp
    | AddSpResp
    | ModifySp
    | ModifySpResp
    | DeleteSp
    | DeleteSpResp
    | QueryRoute
    | QueryRouteResp
    | AddTeleSeg
    | AddTeleSegResp
    | ModifyTeleSeg
    | ModifyTeleSegResp
    | DeleteTeleSeg
    | DeleteTeleSegResp
    | AddSmg
    | AddSmgResp
    | ModifySmg
    | ModifySmgResp
    | DeleteSmg
    | DeleteSmgResp
    | CheckUser
    | CheckUserResp
    | UserRpt
    | UserRptResp
    | Trace
    | TraceResp
)
