"""CMPP command ids, result codes and other enumerations (seed 002 §8; cmpp20-notes.md §12)."""

from __future__ import annotations

import enum


class CommandId(enum.IntEnum):
    """CMPP Command_Id values (seed 002 table 8.34; 3.0 adds GET_MO_ROUTE)."""

    CONNECT = 0x00000001
    CONNECT_RESP = 0x80000001
    TERMINATE = 0x00000002
    TERMINATE_RESP = 0x80000002
    SUBMIT = 0x00000004
    SUBMIT_RESP = 0x80000004
    DELIVER = 0x00000005
    DELIVER_RESP = 0x80000005
    QUERY = 0x00000006
    QUERY_RESP = 0x80000006
    CANCEL = 0x00000007
    CANCEL_RESP = 0x80000007
    ACTIVE_TEST = 0x00000008
    ACTIVE_TEST_RESP = 0x80000008
    FWD = 0x00000009
    FWD_RESP = 0x80000009
    MT_ROUTE = 0x00000010
    MT_ROUTE_RESP = 0x80000010
    MO_ROUTE = 0x00000011
    MO_ROUTE_RESP = 0x80000011
    GET_ROUTE = 0x00000012
    GET_ROUTE_RESP = 0x80000012
    #: CMPP 3.0's name for 0x12 (its body differs from 2.0's GET_ROUTE).
    GET_MT_ROUTE = 0x00000012
    GET_MT_ROUTE_RESP = 0x80000012
    MT_ROUTE_UPDATE = 0x00000013
    MT_ROUTE_UPDATE_RESP = 0x80000013
    MO_ROUTE_UPDATE = 0x00000014
    MO_ROUTE_UPDATE_RESP = 0x80000014
    PUSH_MT_ROUTE_UPDATE = 0x00000015
    PUSH_MT_ROUTE_UPDATE_RESP = 0x80000015
    PUSH_MO_ROUTE_UPDATE = 0x00000016
    PUSH_MO_ROUTE_UPDATE_RESP = 0x80000016
    GET_MO_ROUTE = 0x00000017
    GET_MO_ROUTE_RESP = 0x80000017


#: A response's command id is its request's with the top bit set.
RESPONSE_BIT = 0x80000000


class ConnectStatus(enum.IntEnum):
    """CMPP_CONNECT_RESP Status (seed 002 §8.4.2)."""

    OK = 0
    STRUCTURE_ERROR = 1
    BAD_SOURCE_ADDR = 2
    AUTH_ERROR = 3
    VERSION_TOO_HIGH = 4
    OTHER = 5


class Result(enum.IntEnum):
    """SUBMIT_RESP / DELIVER_RESP / FWD_RESP Result (seed 002 §8.4.3.2; 3.0 adds 9–13)."""

    OK = 0
    STRUCTURE_ERROR = 1
    COMMAND_ERROR = 2
    DUPLICATE_SEQUENCE = 3
    LENGTH_ERROR = 4
    FEE_CODE_ERROR = 5
    TOO_LONG = 6
    SERVICE_CODE_ERROR = 7
    FLOW_CONTROL = 8
    #: FWD_RESP: wrong forwarding decision; 3.0 SUBMIT_RESP: number not served here.
    WRONG_GATEWAY = 9
    SRC_ID_ERROR = 10
    MSG_SRC_ERROR = 11
    FEE_TERMINAL_ID_ERROR = 12
    DEST_TERMINAL_ID_ERROR = 13


class FwdType(enum.IntEnum):
    """CMPP_FWD Msg_Fwd_Type (seed 002 §8.5.1)."""

    MT = 0
    MO = 1
    MT_REPORT = 2
    MO_REPORT = 3


class RouteResult(enum.IntEnum):
    """Route query Result (seed 002 §8.6): 2 marks the last route of GET_ROUTE."""

    OK = 0
    NO_ROUTE = 1
    LAST = 2


class UpdateType(enum.IntEnum):
    """Route update Update_type (seed 002 §8.7)."""

    ADD = 0
    DELETE = 1
    UPDATE = 2


#: CONNECT Version bytes.
VERSION_20 = 0x20
VERSION_30 = 0x30

#: Report Stat values (seed 002 table 8.11); ISMGs also send others.
STAT_DELIVERED = b"DELIVRD"
STATS = (b"DELIVRD", b"EXPIRED", b"DELETED", b"UNDELIV", b"ACCEPTD", b"UNKNOWN", b"REJECTD")

#: Framing limits: the header, and a 4 KiB cap (the largest legal 2.0 PDU is 2376 bytes).
HEADER_SIZE = 12
MAX_LENGTH = 4096

#: Default ports (cmpp20-notes.md §11).
PORT_SP_LONG = 7890
PORT_SHORT = 7900
PORT_ISMG_LONG = 7930
PORT_GNS = 9168
