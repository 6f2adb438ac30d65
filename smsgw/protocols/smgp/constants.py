"""SMGP 3.0.3 request ids, status codes, TLV tags and other enumerations (smgp30.md)."""

from __future__ import annotations

import enum


class RequestId(enum.IntEnum):
    """SMGP RequestID values (smgp30.md §4); a response is its request ``| 0x80000000``.

    0x0A–0x0C belong to the prepaid-billing extension of SMGP V2.0: their ids
    are listed for completeness, but V3.0.3 gives no body, so the codec has
    no PDU for them and answers them as unknown commands (status 11).
    """

    LOGIN = 0x00000001
    LOGIN_RESP = 0x80000001
    SUBMIT = 0x00000002
    SUBMIT_RESP = 0x80000002
    DELIVER = 0x00000003
    DELIVER_RESP = 0x80000003
    ACTIVE_TEST = 0x00000004
    ACTIVE_TEST_RESP = 0x80000004
    FORWARD = 0x00000005
    FORWARD_RESP = 0x80000005
    EXIT = 0x00000006
    EXIT_RESP = 0x80000006
    QUERY = 0x00000007
    QUERY_RESP = 0x80000007
    QUERY_TE_ROUTE = 0x00000008
    QUERY_TE_ROUTE_RESP = 0x80000008
    QUERY_SP_ROUTE = 0x00000009
    QUERY_SP_ROUTE_RESP = 0x80000009
    PAYMENT_REQUEST = 0x0000000A
    PAYMENT_REQUEST_RESP = 0x8000000A
    PAYMENT_AFFIRM = 0x0000000B
    PAYMENT_AFFIRM_RESP = 0x8000000B
    QUERY_USER_STATE = 0x0000000C
    QUERY_USER_STATE_RESP = 0x8000000C
    GET_ALL_TE_ROUTE = 0x0000000D
    GET_ALL_TE_ROUTE_RESP = 0x8000000D
    GET_ALL_SP_ROUTE = 0x0000000E
    GET_ALL_SP_ROUTE_RESP = 0x8000000E
    UPDATE_TE_ROUTE = 0x0000000F
    UPDATE_TE_ROUTE_RESP = 0x8000000F
    UPDATE_SP_ROUTE = 0x00000010
    UPDATE_SP_ROUTE_RESP = 0x80000010
    PUSH_UPDATE_TE_ROUTE = 0x00000011
    PUSH_UPDATE_TE_ROUTE_RESP = 0x80000011
    PUSH_UPDATE_SP_ROUTE = 0x00000012
    PUSH_UPDATE_SP_ROUTE_RESP = 0x80000012


#: A response's request id is its request's with the top bit set.
RESPONSE_BIT = 0x80000000


class LoginMode(enum.IntEnum):
    """Login LoginMode (smgp30.md §2, §6): what the link carries."""

    #: The SP submits MT; no MO or report on this link.
    SEND = 0
    #: The SMGW sends Deliver (MO and status reports) on this link.
    RECEIVE = 1
    #: Both.
    TRANSMIT = 2


class Status(enum.IntEnum):
    """Status of Login_Resp, Submit_Resp, Deliver_Resp, Forward_Resp and route answers (§12).

    3–9, 13–19, 23–29 are reserved; 50–55 and 112–116 "other uses";
    128–255 vendor-defined.
    """

    OK = 0
    SYSTEM_BUSY = 1
    TOO_MANY_CONNECTIONS = 2
    STRUCTURE_ERROR = 10
    COMMAND_ERROR = 11
    DUPLICATE_SEQUENCE = 12
    IP_ADDRESS_ERROR = 20
    AUTH_ERROR = 21
    VERSION_TOO_HIGH = 22
    ILLEGAL_MSG_TYPE = 30
    ILLEGAL_PRIORITY = 31
    ILLEGAL_FEE_TYPE = 32
    ILLEGAL_FEE_CODE = 33
    ILLEGAL_MSG_FORMAT = 34
    ILLEGAL_TIME_FORMAT = 35
    ILLEGAL_MSG_LENGTH = 36
    EXPIRED = 37
    ILLEGAL_QUERY_TYPE = 38
    ROUTING_ERROR = 39
    ILLEGAL_FIXED_FEE = 40
    ILLEGAL_UPDATE_TYPE = 41
    ILLEGAL_ROUTE_ID = 42
    ILLEGAL_SERVICE_ID = 43
    ILLEGAL_VALID_TIME = 44
    ILLEGAL_AT_TIME = 45
    ILLEGAL_SRC_TERM_ID = 46
    ILLEGAL_DEST_TERM_ID = 47
    ILLEGAL_CHARGE_TERM_ID = 48
    ILLEGAL_SP_CODE = 49
    ILLEGAL_SRC_GATEWAY_ID = 56
    ILLEGAL_QUERY_TERM_ID = 57
    NO_MATCHING_ROUTE = 58
    ILLEGAL_SP_TYPE = 59
    ILLEGAL_LAST_ROUTE_ID = 60
    ILLEGAL_ROUTE_TYPE = 61
    ILLEGAL_DEST_GATEWAY_ID = 62
    ILLEGAL_DEST_GATEWAY_IP = 63
    ILLEGAL_DEST_GATEWAY_PORT = 64
    ILLEGAL_TERM_RANGE_ID = 65
    ILLEGAL_PROVINCE_CODE = 66
    ILLEGAL_USER_TYPE = 67
    ROUTE_UPDATE_UNSUPPORTED = 68
    ILLEGAL_SP_ID = 69
    ILLEGAL_SP_ACCESS_TYPE = 70
    ROUTE_UPDATE_FAILED = 71
    ILLEGAL_TIME = 72
    ILLEGAL_MSERVICE_ID = 73
    SP_FORBIDDEN_PERIOD = 74
    SP_DAILY_LIMIT = 75
    SP_ACCOUNT_EXPIRED = 76


#: Statuses to treat as flow control: back off and retry later (§12).
FLOW_CONTROL_STATUSES = frozenset({Status.SYSTEM_BUSY, Status.SP_DAILY_LIMIT})


class Tag(enum.IntEnum):
    """Optional-parameter (TLV) tags (smgp30.md §10)."""

    TP_PID = 0x0001
    TP_UDHI = 0x0002
    LINK_ID = 0x0003
    CHARGE_USER_TYPE = 0x0004
    CHARGE_TERM_TYPE = 0x0005
    CHARGE_TERM_PSEUDO = 0x0006
    DEST_TERM_TYPE = 0x0007
    DEST_TERM_PSEUDO = 0x0008
    PK_TOTAL = 0x0009
    PK_NUMBER = 0x000A
    SUBMIT_MSG_TYPE = 0x000B
    #: Spelled "SPDealReslt" in the spec's tag list.
    SP_DEAL_RESULT = 0x000C
    SRC_TERM_TYPE = 0x000D
    SRC_TERM_PSEUDO = 0x000E
    NODES_COUNT = 0x000F
    MSG_SRC = 0x0010
    SRC_TYPE = 0x0011
    MSERVICE_ID = 0x0012


class MsgType(enum.IntEnum):
    """Submit / Forward MsgType (smgp30.md §7)."""

    MO = 0
    MT = 6
    P2P = 7


class MsgFormat(enum.IntEnum):
    """MsgFormat (smgp30.md §7, §13)."""

    ASCII = 0
    SIM_WRITE = 3
    BINARY = 4
    UCS2 = 8
    GB18030 = 15
    USIM = 0xF6


class ReportFlag(enum.IntEnum):
    """Forward ReportFlag (smgp30.md §11)."""

    IS_REPORT = 0
    WANTED = 1
    NOT_WANTED = 2


class UpdateType(enum.IntEnum):
    """Route update UpdateType (smgp30.md §11.1)."""

    ADD = 0
    DELETE = 1
    UPDATE = 2


#: Login ClientVersion / Login_Resp ServerVersion (smgp30.md §6, §6.2).
VERSION_30 = 0x30
#: SMGP 1.3: its Submit has no FixedFee.
VERSION_13 = 0x13

#: Report stat values (smgp30.md §8.2); gateways also send others.
STAT_DELIVERED = b"DELIVRD"
STATS = (b"DELIVRD", b"EXPIRED", b"DELETED", b"UNDELIV", b"ACCEPTD", b"UNKNOWN", b"REJECTD")

#: Deliver MsgLength of a status report (smgp30.md §8.1).
REPORT_LENGTH = 122

#: Framing limits: the 12-byte header (§3), and a 4 KiB cap (the largest
#: legal PDU, a Submit to 100 receivers, is 126 + 2100 + 255 bytes plus TLVs).
HEADER_SIZE = 12
MAX_LENGTH = 4096

#: Default ports (smgp30.md §2).
PORT_SP = 8890
PORT_SMGW = 8900
PORT_GNS = 8901
PORT_PREPAID = 9100
