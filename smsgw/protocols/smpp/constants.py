"""SMPP 3.4 numbers: command ids, command_status codes, TLV tags, bit fields (smpp34.md).

Every value here is cross-checked in smpp34.md against Kannel's, libsmpp34's,
Jasmin's and npm ``smpp``'s tables; section numbers below are smpp34.md's.
"""

from __future__ import annotations

import enum

__all__ = [
    "HEADER_SIZE",
    "INTERFACE_VERSION",
    "MAX_LENGTH",
    "PORT",
    "BindKind",
    "CommandId",
    "EsmClass",
    "MessageState",
    "Status",
    "Tag",
]

#: The IANA port for SMPP.
PORT = 2775
#: command_length, command_id, command_status, sequence_number (§1).
HEADER_SIZE = 16
#: The frame cap (§1 "Practical frame cap"): a 64 KiB message_payload plus the
#: header and the largest mandatory body.  A command_length above it, or
#: below :data:`HEADER_SIZE`, closes the link.
MAX_LENGTH = 0x10000 + 1024
#: interface_version 0x34: SMPP 3.4 (§2).
INTERFACE_VERSION = 0x34
#: Sequence numbers run 1..0x7FFFFFFF, then wrap (§1).
MAX_SEQUENCE = 0x7FFFFFFF


class CommandId(enum.IntEnum):
    """command_id of every 3.4 PDU (§3); a response is the request's | 0x80000000."""

    GENERIC_NACK = 0x80000000
    BIND_RECEIVER = 0x00000001
    BIND_RECEIVER_RESP = 0x80000001
    BIND_TRANSMITTER = 0x00000002
    BIND_TRANSMITTER_RESP = 0x80000002
    QUERY_SM = 0x00000003
    QUERY_SM_RESP = 0x80000003
    SUBMIT_SM = 0x00000004
    SUBMIT_SM_RESP = 0x80000004
    DELIVER_SM = 0x00000005
    DELIVER_SM_RESP = 0x80000005
    UNBIND = 0x00000006
    UNBIND_RESP = 0x80000006
    REPLACE_SM = 0x00000007
    REPLACE_SM_RESP = 0x80000007
    CANCEL_SM = 0x00000008
    CANCEL_SM_RESP = 0x80000008
    BIND_TRANSCEIVER = 0x00000009
    BIND_TRANSCEIVER_RESP = 0x80000009
    OUTBIND = 0x0000000B
    ENQUIRE_LINK = 0x00000015
    ENQUIRE_LINK_RESP = 0x80000015
    SUBMIT_MULTI = 0x00000021
    SUBMIT_MULTI_RESP = 0x80000021
    ALERT_NOTIFICATION = 0x00000102
    DATA_SM = 0x00000103
    DATA_SM_RESP = 0x80000103


class Status(enum.IntEnum):
    """command_status values a gateway meets (§4)."""

    ESME_ROK = 0x00
    ESME_RINVMSGLEN = 0x01
    ESME_RINVCMDLEN = 0x02
    ESME_RINVCMDID = 0x03
    ESME_RINVBNDSTS = 0x04
    ESME_RALYBND = 0x05
    ESME_RINVPRTFLG = 0x06
    ESME_RINVREGDLVFLG = 0x07
    ESME_RSYSERR = 0x08
    ESME_RINVSRCADR = 0x0A
    ESME_RINVDSTADR = 0x0B
    ESME_RINVMSGID = 0x0C
    ESME_RBINDFAIL = 0x0D
    ESME_RINVPASWD = 0x0E
    ESME_RINVSYSID = 0x0F
    ESME_RCANCELFAIL = 0x11
    ESME_RREPLACEFAIL = 0x13
    ESME_RMSGQFUL = 0x14
    ESME_RINVSERTYP = 0x15
    ESME_RINVNUMDESTS = 0x33
    ESME_RINVDLNAME = 0x34
    ESME_RINVDESTFLAG = 0x40
    ESME_RINVSUBREP = 0x42
    ESME_RINVESMCLASS = 0x43
    ESME_RCNTSUBDL = 0x44
    ESME_RSUBMITFAIL = 0x45
    ESME_RINVSRCTON = 0x48
    ESME_RINVSRCNPI = 0x49
    ESME_RINVDSTTON = 0x50
    ESME_RINVDSTNPI = 0x51
    ESME_RINVSYSTYP = 0x53
    ESME_RINVREPFLAG = 0x54
    ESME_RINVNUMMSGS = 0x55
    ESME_RTHROTTLED = 0x58
    ESME_RINVSCHED = 0x61
    ESME_RINVEXPIRY = 0x62
    ESME_RINVDFTMSGID = 0x63
    ESME_RX_T_APPN = 0x64
    ESME_RX_P_APPN = 0x65
    ESME_RX_R_APPN = 0x66
    ESME_RQUERYFAIL = 0x67
    ESME_RINVOPTPARSTREAM = 0xC0
    ESME_ROPTPARNOTALLWD = 0xC1
    ESME_RINVPARLEN = 0xC2
    ESME_RMISSINGOPTPARAM = 0xC3
    ESME_RINVOPTPARAMVAL = 0xC4
    ESME_RDELIVERYFAILURE = 0xFE
    ESME_RUNKNOWNERR = 0xFF


def status_name(status: int) -> str:
    """``"ESME_RTHROTTLED"`` for a known status, ``"0x00000400"`` for any other."""
    try:
        return Status(status).name
    except ValueError:
        return f"{status:#010x}"


class BindKind(enum.Enum):
    """A session's bind (§2): the login mode that selects its legality rows."""

    RECEIVER = "rx"
    TRANSMITTER = "tx"
    TRANSCEIVER = "trx"


class Tag(enum.IntEnum):
    """TLV tags in common use (§7; the 5.0 ones are marked there)."""

    DEST_ADDR_SUBUNIT = 0x0005
    SOURCE_ADDR_SUBUNIT = 0x000D
    PAYLOAD_TYPE = 0x0019
    ADDITIONAL_STATUS_INFO_TEXT = 0x001D
    RECEIPTED_MESSAGE_ID = 0x001E
    MS_MSG_WAIT_FACILITIES = 0x0030
    PRIVACY_INDICATOR = 0x0201
    USER_MESSAGE_REFERENCE = 0x0204
    SOURCE_PORT = 0x020A
    DESTINATION_PORT = 0x020B
    SAR_MSG_REF_NUM = 0x020C
    LANGUAGE_INDICATOR = 0x020D
    SAR_TOTAL_SEGMENTS = 0x020E
    SAR_SEGMENT_SEQNUM = 0x020F
    SC_INTERFACE_VERSION = 0x0210
    CALLBACK_NUM_PRES_IND = 0x0302
    CALLBACK_NUM_ATAG = 0x0303
    CALLBACK_NUM = 0x0381
    DPF_RESULT = 0x0420
    SET_DPF = 0x0421
    MS_AVAILABILITY_STATUS = 0x0422
    NETWORK_ERROR_CODE = 0x0423
    MESSAGE_PAYLOAD = 0x0424
    DELIVERY_FAILURE_REASON = 0x0425
    MORE_MESSAGES_TO_SEND = 0x0426
    MESSAGE_STATE = 0x0427
    CONGESTION_STATE = 0x0428
    USSD_SERVICE_OP = 0x0501
    BILLING_IDENTIFICATION = 0x060B
    SOURCE_NETWORK_ID = 0x060D
    DEST_NETWORK_ID = 0x060E


class MessageState(enum.IntEnum):
    """message_state (TLV 0x0427, query_sm_resp) and the receipt ``stat:`` words (§6)."""

    ENROUTE = 1
    DELIVERED = 2
    EXPIRED = 3
    DELETED = 4
    UNDELIVERABLE = 5
    ACCEPTED = 6
    UNKNOWN = 7
    REJECTED = 8
    SKIPPED = 9


class EsmClass(enum.IntFlag):
    """esm_class bits (§5) a gateway tests."""

    #: Message type mask (bits 5-2).
    TYPE_MASK = 0x3C
    #: deliver_sm: SMSC delivery receipt.
    DELIVERY_RECEIPT = 0x04
    #: deliver_sm: intermediate delivery notification.
    INTERMEDIATE = 0x20
    #: short_message starts with a UDH.
    UDHI = 0x40
    REPLY_PATH = 0x80
