"""SGIP 1.2 command ids, Result codes and other enumerations (sgip12.md §5, §7, §9)."""

from __future__ import annotations

import enum


class CommandId(enum.IntEnum):
    """SGIP Command ID values (sgip12.md §5).

    Every response id is its request id with the top bit set.  The 1.2
    specification prints ModifySMG_Resp as ``0x0000000e``, a typo: bromine0x23/sgip
    and go_sgip use ``0x8000000E`` (sgip12.md §12).
    """

    BIND = 0x00000001
    BIND_RESP = 0x80000001
    UNBIND = 0x00000002
    UNBIND_RESP = 0x80000002
    SUBMIT = 0x00000003
    SUBMIT_RESP = 0x80000003
    DELIVER = 0x00000004
    DELIVER_RESP = 0x80000004
    REPORT = 0x00000005
    REPORT_RESP = 0x80000005
    ADD_SP = 0x00000006
    ADD_SP_RESP = 0x80000006
    MODIFY_SP = 0x00000007
    MODIFY_SP_RESP = 0x80000007
    DELETE_SP = 0x00000008
    DELETE_SP_RESP = 0x80000008
    QUERY_ROUTE = 0x00000009
    QUERY_ROUTE_RESP = 0x80000009
    ADD_TELE_SEG = 0x0000000A
    ADD_TELE_SEG_RESP = 0x8000000A
    MODIFY_TELE_SEG = 0x0000000B
    MODIFY_TELE_SEG_RESP = 0x8000000B
    DELETE_TELE_SEG = 0x0000000C
    DELETE_TELE_SEG_RESP = 0x8000000C
    ADD_SMG = 0x0000000D
    ADD_SMG_RESP = 0x8000000D
    MODIFY_SMG = 0x0000000E
    MODIFY_SMG_RESP = 0x8000000E
    DELETE_SMG = 0x0000000F
    DELETE_SMG_RESP = 0x8000000F
    CHECK_USER = 0x00000010
    CHECK_USER_RESP = 0x80000010
    USER_RPT = 0x00000011
    USER_RPT_RESP = 0x80000011
    TRACE = 0x00001000
    TRACE_RESP = 0x80001000


#: A response's command id is its request's with the top bit set.
RESPONSE_BIT = 0x80000000


class LoginType(enum.IntEnum):
    """Bind Login Type: which link this is and who sends commands on it (sgip12.md §2, §7.1)."""

    #: SP → SMG: the SP sends MT (Submit).
    SP_TO_SMG = 1
    #: SMG → the SP's own server: the SMG sends MO (Deliver), Report and UserRpt.
    SMG_TO_SP = 2
    SMG_TO_SMG = 3
    SMG_TO_GNS = 4
    GNS_TO_SMG = 5
    GNS_TO_GNS = 6
    #: Test link for Trace (SP ⇄ SMG and SMG ⇄ SMG).
    TEST = 11


class Result(enum.IntEnum):
    """Result / error codes (sgip12.md §9): SGIP 1.2 spec table 5-2 plus the 1.3 additions.

    Codes 1–20 appear in ``*_Resp`` Result fields, 21–33 mostly in
    ``Report.ErrorCode``.  SGIP 1.3 gives 32 and 33 other meanings; those are
    aliases here (``Result(32)`` is :attr:`SYSTEM_FAILURE`).  Operators send
    codes not listed here: treat a Result as an opaque integer first.
    """

    OK = 0
    #: Illegal login: bad name or password.
    ILLEGAL_LOGIN = 1
    #: Repeated login on the same connection.
    REPEATED_LOGIN = 2
    #: Too many connections from one node (SGIP 1.3: "more than 60").
    TOO_MANY_CONNECTIONS = 3
    #: Wrong Login Type.
    BAD_LOGIN_TYPE = 4
    #: Parameter format error (type or range).
    PARAMETER_FORMAT_ERROR = 5
    #: Illegal handset number (not a ``86…`` number).
    ILLEGAL_USER_NUMBER = 6
    #: Wrong message (command) ID.
    BAD_COMMAND_ID = 7
    #: Wrong message length.
    BAD_LENGTH = 8
    #: Illegal sequence number (duplicate or malformed).
    ILLEGAL_SEQUENCE = 9
    #: Illegal GNS operation.
    ILLEGAL_GNS_OPERATION = 10
    #: Node busy (queue full etc.).
    NODE_BUSY = 11
    # -- SGIP 1.3 additions, responses --
    SERVICE_CODE_NOT_ALLOCATED = 13
    BAD_FEE = 14
    LINK_ID_MISMATCH = 17
    NOT_SUBSCRIBED = 18
    #: UserCount ≠ 1: group sends not allowed (SGIP 1.3).
    USER_COUNT_NOT_ONE = 19
    # -- SGIP 1.2, mostly in Report.ErrorCode --
    DESTINATION_UNREACHABLE = 21
    ROUTING_ERROR = 22
    NO_ROUTE = 23
    CHARGE_NUMBER_INVALID = 24
    USER_UNREACHABLE = 25
    HANDSET_MEMORY_FULL = 26
    HANDSET_NO_SMS = 27
    HANDSET_RECEIVE_ERROR = 28
    UNKNOWN_USER = 29
    FUNCTION_NOT_PROVIDED = 30
    ILLEGAL_DEVICE = 31
    SYSTEM_FAILURE = 32
    SMSC_QUEUE_FULL = 33
    # -- SGIP 1.3 meanings of 32 and 33 (aliases) and later codes --
    PACKET_FORMAT_ERROR = 32
    FLOW_CONTROL_EXCEEDED = 33
    LOGIN_TOO_FREQUENT = 34
    TOO_MANY_MT_FOR_LINK_ID = 38
    THIRD_PARTY_CHARGING_NOT_ALLOWED = 39
    MORELATETO_MT_FLAG_3_NOT_ALLOWED = 40
    KEYWORD_NOT_REGISTERED = 43
    NOTIFICATION_INTERCEPTED = 44
    # -- SGIP 1.3 vendor codes (examples the document names) --
    NOT_CONNECTED = 51
    NOT_LOGGED_IN = 52
    RESPONSE_TIMEOUT = 54
    REPORT_TIMEOUT = 55
    VENDOR_FLOW_CONTROL = 88
    MONTHLY_BILL_NOT_ALLOWED = 95
    #: SPMS authorisation OK (101–124 are SPMS failures).
    SPMS_OK = 100
    DAILY_VOLUME_EXCEEDED = 182


#: SGIP 1.3 SMG-side errors talking to the SP's server (5001–5021).
SMG_TO_SP_ERRORS = range(5001, 5022)
#: SGIP 1.3 SPMS authorisation failures.
SPMS_ERRORS = range(101, 125)


class FeeType(enum.IntEnum):
    """Submit FeeType (sgip12.md §7.2)."""

    SEND = 0
    FREE = 1
    PER_MESSAGE = 2
    MONTHLY = 3
    SP_COLLECTED = 4


class MorelatetoMtFlag(enum.IntEnum):
    """Submit MorelatetoMTFlag: why this MT exists (sgip12.md §6, §7.3)."""

    FIRST_MO_ANSWER = 0
    LATER_MO_ANSWER = 1
    PUSH = 2
    SYSTEM_FEEDBACK = 3


class ReportFlag(enum.IntEnum):
    """Submit ReportFlag (sgip12.md §7.3)."""

    ON_FAILURE = 0
    ALWAYS = 1
    NEVER = 2
    MONTHLY_FEE = 3


class ReportType(enum.IntEnum):
    """Report ReportType (sgip12.md §6)."""

    SUBMIT = 0
    DELIVER = 1


class ReportState(enum.IntEnum):
    """Report State (sgip12.md §6, §10): 0 delivered, 1 waiting, 2 failed (see ErrorCode)."""

    DELIVERED = 0
    WAITING = 1
    FAILED = 2


class UserCondition(enum.IntEnum):
    """UserRpt UserCondition (sgip12.md §6)."""

    CANCELLED = 0
    ARREARS_STOP = 1
    RESTORED = 2


class UserStatus(enum.IntEnum):
    """CheckUser_Resp Status (sgip12.md §8)."""

    CANCELLED = 0
    ARREARS_STOP = 1
    NORMAL = 2


class QueryType(enum.IntEnum):
    """QueryRoute QueryType (sgip12.md §7.3)."""

    WHOLE_TABLE = 0
    SP_NUMBER = 1
    USER_SEGMENT = 2
    SP_NUMBER_AND_SERVICE = 3
    SMG_NODE = 4


class RouteType(enum.IntEnum):
    """QueryRoute_Resp entry Type (sgip12.md §8)."""

    SP_NUMBER = 1
    USER_SEGMENT = 2


#: ChargeNumber meaning "the SP pays": 21 ASCII zeros, filling the field (sgip12.md §7.4).
CHARGE_SP_PAYS = b"0" * 21

#: Framing limits: the 20-byte header, and 2 KB ("每个消息包最大不超过2K字节", sgip12.md §2).
HEADER_SIZE = 20
MAX_LENGTH = 2048

#: Spec ports (sgip12.md §2).
PORT_SMG = 8801
PORT_GNS = 8802
PORT_SMG_FROM_GNS = 8803
PORT_GNS_SYNC = 8804
PORT_TEST = 8810
