"""SMPP 3.4 wire layouts, as tables (smpp34.md §1-§3), and the codec.

Each table lists ``(attribute, field codec)`` in wire order.  ``C(n)`` is a
C-Octet String whose maximum *n* counts the NUL, ``TIME`` the 1-or-17-octet
time field; both are field kinds of the shared layout compiler
(:mod:`smsgw.protocols.wire`), as the TLV list is a custom codec of it.
``command_status`` sits in the header (:attr:`HeaderSpec.attributes`).

Two SMPP rules sit on top of the tables, in :class:`SmppCodec`:

* a response whose body is left out (3.4: "not returned if command_status
  is non-zero") decodes to the PDU's defaults, and one with a body is read
  as usual; a refusal with nothing to say is encoded without a body;
* a body error is answered with the most specific status the field has
  (ESME_RINVSRCADR for source_addr, ...), else by the error's kind.
"""

from __future__ import annotations

import struct
from typing import Any

from smsgw.protocols.codec import Header, ProtocolCodec
from smsgw.protocols.errors import DecodeError, EncodeError, ErrorKind, FieldValueError
from smsgw.protocols.smpp import pdus as p
from smsgw.protocols.smpp.constants import HEADER_SIZE, MAX_LENGTH, CommandId, Status
from smsgw.protocols.smpp.tlv import Tlvs
from smsgw.protocols.wire import COctets, CTime, Fields, HeaderSpec, Sized, UInt
from smsgw.protocols.wirecheck import cstring

__all__ = [
    "HEADER",
    "SMPP34",
    "DestList",
    "SmppCodec",
    "UnsuccessList",
    "decode",
    "encode",
]

U1, U4 = UInt(1), UInt(4)
TLVS = Tlvs()
TIME = CTime()


def C(n: int) -> COctets:
    """A C-Octet String of at most *n* octets, the NUL included (§1)."""
    return COctets(n)


#: command_length, command_id, then command_status (a PDU attribute) and
#: sequence_number (§1).
HEADER = HeaderSpec("II", ("seq",), attributes=("command_status",))

_ADDR21 = C(21)
_SME = struct.Struct(">BB")
_U4 = struct.Struct(">I")


class _Named:
    """The ``name`` an error message reads; a custom codec is not a layout."""

    def __init__(self, name: str) -> None:
        self.name = name


class DestList:
    """submit_multi's number_of_dests (u8, at most 254) then its dest_address entries (§3).

    A custom codec of the layout compiler: dest_flag 1 is an SME address
    (ton, npi, destination_addr C21), 2 a distribution list (dl_name C21).
    """

    MAX = 254
    _where = _Named("dest_address")

    def default(self) -> tuple[p.SmeAddress | p.DistributionList, ...]:
        """No destinations."""
        return ()

    def check(self, value: object) -> str | None:
        """Why *value* is not a tuple of at most 254 destinations that fit, or ``None``."""
        if not isinstance(value, tuple | list):
            return f"expected a tuple, got {type(value).__name__}"
        if len(value) > self.MAX:
            return f"{len(value)} destinations exceed {self.MAX}"
        for i, d in enumerate(value):
            if isinstance(d, p.SmeAddress):
                if not (_byte(d.ton) and _byte(d.npi)):
                    return f"item {i}: ton and npi are octets"
                why = _ADDR21.check(d.address)
            elif isinstance(d, p.DistributionList):
                why = _ADDR21.check(d.name)
            else:
                return f"item {i}: expected SmeAddress or DistributionList"
            if why:
                return f"item {i}: {why}"
        return None

    def encode(self, value: Any) -> bytes:
        """number_of_dests, then each entry with its dest_flag."""
        why = self.check(value)
        if why:
            raise EncodeError(why, field="dests")
        parts = [bytes([len(value)])]
        for d in value:
            if isinstance(d, p.SmeAddress):
                parts += [b"\x01", _SME.pack(d.ton, d.npi), d.address, b"\x00"]
            else:
                parts += [b"\x02", d.name, b"\x00"]
        return b"".join(parts)

    def decode_at(self, buf: bytes, offset: int, end: int) -> tuple[Any, int]:
        """Read the count and the entries; a dest_flag other than 1 or 2 is refused."""
        where = self._where
        if offset >= end:
            cstring(where, "number_of_dests", _ADDR21, buf, end, end)  # raises: truncated
        count = buf[offset]
        offset += 1
        out: list[p.SmeAddress | p.DistributionList] = []
        for _ in range(count):
            if end - offset < 1:
                raise FieldValueError(f"{count} destinations announced, {len(out)} present")
            flag = buf[offset]
            offset += 1
            if flag == 1:
                if end - offset < 2:
                    raise FieldValueError("an SME address ends before its ton and npi")
                ton, npi = _SME.unpack_from(buf, offset)
                address, offset = cstring(where, "destination_addr", _ADDR21, buf, offset + 2, end)
                out.append(p.SmeAddress(ton, npi, address))
            elif flag == 2:
                name, offset = cstring(where, "dl_name", _ADDR21, buf, offset, end)
                out.append(p.DistributionList(name))
            else:
                raise FieldValueError(f"dest_flag {flag} is neither 1 (SME) nor 2 (list)")
        return tuple(out), offset


class UnsuccessList:
    """submit_multi_resp's no_unsuccess (u8) then its unsuccess_sme entries (§3)."""

    MAX = 255
    _where = _Named("unsuccess_sme")

    def default(self) -> tuple[p.UnsuccessSme, ...]:
        """No failures."""
        return ()

    def check(self, value: object) -> str | None:
        """Why *value* is not a tuple of at most 255 :class:`UnsuccessSme` that fit, or ``None``."""
        if not isinstance(value, tuple | list):
            return f"expected a tuple, got {type(value).__name__}"
        if len(value) > self.MAX:
            return f"{len(value)} entries exceed {self.MAX}"
        for i, u in enumerate(value):
            if not isinstance(u, p.UnsuccessSme):
                return f"item {i}: expected UnsuccessSme"
            if not (_byte(u.ton) and _byte(u.npi)):
                return f"item {i}: ton and npi are octets"
            if not isinstance(u.error_status_code, int) or not 0 <= u.error_status_code < 1 << 32:
                return f"item {i}: error_status_code is a u32"
            why = _ADDR21.check(u.address)
            if why:
                return f"item {i}: {why}"
        return None

    def encode(self, value: Any) -> bytes:
        """no_unsuccess, then each address and its error_status_code."""
        why = self.check(value)
        if why:
            raise EncodeError(why, field="unsuccess")
        parts = [bytes([len(value)])]
        for u in value:
            parts += [_SME.pack(u.ton, u.npi), u.address, b"\x00", _U4.pack(u.error_status_code)]
        return b"".join(parts)

    def decode_at(self, buf: bytes, offset: int, end: int) -> tuple[Any, int]:
        """Read the count and the entries."""
        if offset >= end:
            return (), offset  # a body-less or short answer: no failures listed
        count = buf[offset]
        offset += 1
        out: list[p.UnsuccessSme] = []
        for _ in range(count):
            if end - offset < 2:
                raise FieldValueError(f"{count} failures announced, {len(out)} present")
            ton, npi = _SME.unpack_from(buf, offset)
            address, offset = cstring(
                self._where, "destination_addr", _ADDR21, buf, offset + 2, end
            )
            if end - offset < 4:
                raise FieldValueError("an unsuccess_sme ends before its error_status_code")
            (code,) = _U4.unpack_from(buf, offset)
            offset += 4
            out.append(p.UnsuccessSme(ton, npi, address, code))
        return tuple(out), offset


def _byte(value: object) -> bool:
    return isinstance(value, int) and 0 <= value <= 0xFF


BIND: Fields = (
    ("system_id", C(16)),
    ("password", C(9)),
    ("system_type", C(13)),
    ("interface_version", U1),
    ("addr_ton", U1),
    ("addr_npi", U1),
    ("address_range", C(41)),
)
BIND_RESP: Fields = (("system_id", C(16)), ("tlvs", TLVS))
OUTBIND: Fields = (("system_id", C(16)), ("password", C(9)))
_SOURCE: Fields = (
    ("source_addr_ton", U1),
    ("source_addr_npi", U1),
    ("source_addr", _ADDR21),
)
_DEST: Fields = (
    ("dest_addr_ton", U1),
    ("dest_addr_npi", U1),
    ("destination_addr", _ADDR21),
)
#: submit_sm's tail from esm_class on, shared with deliver_sm and submit_multi.
_TAIL: Fields = (
    ("esm_class", U1),
    ("protocol_id", U1),
    ("priority_flag", U1),
    ("schedule_delivery_time", TIME),
    ("validity_period", TIME),
    ("registered_delivery", U1),
    ("replace_if_present_flag", U1),
    ("data_coding", U1),
    ("sm_default_msg_id", U1),
    ("short_message", Sized(U1)),
    ("tlvs", TLVS),
)
SUBMIT_SM: Fields = (("service_type", C(6)), *_SOURCE, *_DEST, *_TAIL)
MESSAGE_ID: Fields = (("message_id", C(65)),)
DATA_SM: Fields = (
    ("service_type", C(6)),
    ("source_addr_ton", U1),
    ("source_addr_npi", U1),
    ("source_addr", C(65)),
    ("dest_addr_ton", U1),
    ("dest_addr_npi", U1),
    ("destination_addr", C(65)),
    ("esm_class", U1),
    ("registered_delivery", U1),
    ("data_coding", U1),
    ("tlvs", TLVS),
)
DATA_SM_RESP: Fields = (("message_id", C(65)), ("tlvs", TLVS))
SUBMIT_MULTI: Fields = (("service_type", C(6)), *_SOURCE, ("dests", DestList()), *_TAIL)
SUBMIT_MULTI_RESP: Fields = (("message_id", C(65)), ("unsuccess", UnsuccessList()))
QUERY_SM: Fields = (("message_id", C(65)), *_SOURCE)
QUERY_SM_RESP: Fields = (
    ("message_id", C(65)),
    ("final_date", TIME),
    ("message_state", U1),
    ("error_code", U1),
)
CANCEL_SM: Fields = (("service_type", C(6)), ("message_id", C(65)), *_SOURCE, *_DEST)
REPLACE_SM: Fields = (
    ("message_id", C(65)),
    *_SOURCE,
    ("schedule_delivery_time", TIME),
    ("validity_period", TIME),
    ("registered_delivery", U1),
    ("sm_default_msg_id", U1),
    ("short_message", Sized(U1)),
)
ALERT_NOTIFICATION: Fields = (
    ("source_addr_ton", U1),
    ("source_addr_npi", U1),
    ("source_addr", C(65)),
    ("esme_addr_ton", U1),
    ("esme_addr_npi", U1),
    ("esme_addr", C(65)),
    ("tlvs", TLVS),
)
_NONE: Fields = ()

_C = CommandId
#: ``(command_id, class, fields)`` of every 3.4 PDU (§3).
PDUS: tuple[tuple[int, type, Fields], ...] = (
    (_C.GENERIC_NACK, p.GenericNack, _NONE),
    (_C.BIND_RECEIVER, p.BindReceiver, BIND),
    (_C.BIND_RECEIVER_RESP, p.BindReceiverResp, BIND_RESP),
    (_C.BIND_TRANSMITTER, p.BindTransmitter, BIND),
    (_C.BIND_TRANSMITTER_RESP, p.BindTransmitterResp, BIND_RESP),
    (_C.BIND_TRANSCEIVER, p.BindTransceiver, BIND),
    (_C.BIND_TRANSCEIVER_RESP, p.BindTransceiverResp, BIND_RESP),
    (_C.OUTBIND, p.Outbind, OUTBIND),
    (_C.UNBIND, p.Unbind, _NONE),
    (_C.UNBIND_RESP, p.UnbindResp, _NONE),
    (_C.ENQUIRE_LINK, p.EnquireLink, _NONE),
    (_C.ENQUIRE_LINK_RESP, p.EnquireLinkResp, _NONE),
    (_C.SUBMIT_SM, p.SubmitSm, SUBMIT_SM),
    (_C.SUBMIT_SM_RESP, p.SubmitSmResp, MESSAGE_ID),
    (_C.DELIVER_SM, p.DeliverSm, SUBMIT_SM),
    (_C.DELIVER_SM_RESP, p.DeliverSmResp, MESSAGE_ID),
    (_C.DATA_SM, p.DataSm, DATA_SM),
    (_C.DATA_SM_RESP, p.DataSmResp, DATA_SM_RESP),
    (_C.SUBMIT_MULTI, p.SubmitMulti, SUBMIT_MULTI),
    (_C.SUBMIT_MULTI_RESP, p.SubmitMultiResp, SUBMIT_MULTI_RESP),
    (_C.QUERY_SM, p.QuerySm, QUERY_SM),
    (_C.QUERY_SM_RESP, p.QuerySmResp, QUERY_SM_RESP),
    (_C.CANCEL_SM, p.CancelSm, CANCEL_SM),
    (_C.CANCEL_SM_RESP, p.CancelSmResp, _NONE),
    (_C.REPLACE_SM, p.ReplaceSm, REPLACE_SM),
    (_C.REPLACE_SM_RESP, p.ReplaceSmResp, _NONE),
    (_C.ALERT_NOTIFICATION, p.AlertNotification, ALERT_NOTIFICATION),
)

_S = Status
#: What SMPP answers each kind of decode failure with, when the field has no
#: status of its own (:data:`FIELD_STATUSES`).  A framing error closes the link.
STATUSES = {
    ErrorKind.STRUCTURE: _S.ESME_RUNKNOWNERR,
    ErrorKind.COMMAND: _S.ESME_RINVCMDID,
    ErrorKind.LENGTH: _S.ESME_RINVCMDLEN,
}

#: The status a body error in each field is answered with (§4).
FIELD_STATUSES: dict[str, int] = {
    "system_id": _S.ESME_RINVSYSID,
    "password": _S.ESME_RINVPASWD,
    "system_type": _S.ESME_RINVSYSTYP,
    "address_range": _S.ESME_RBINDFAIL,
    "service_type": _S.ESME_RINVSERTYP,
    "source_addr": _S.ESME_RINVSRCADR,
    "destination_addr": _S.ESME_RINVDSTADR,
    "esme_addr": _S.ESME_RINVDSTADR,
    "schedule_delivery_time": _S.ESME_RINVSCHED,
    "validity_period": _S.ESME_RINVEXPIRY,
    "final_date": _S.ESME_RINVEXPIRY,
    "message_id": _S.ESME_RINVMSGID,
    "short_message": _S.ESME_RINVMSGLEN,
    "dests": _S.ESME_RINVDESTFLAG,
    "number_of_dests": _S.ESME_RINVNUMDESTS,
    "dl_name": _S.ESME_RINVDLNAME,
    "tlvs": _S.ESME_RINVOPTPARSTREAM,
}

_HEADER = struct.Struct(">IIII")
_RESPONSE_BIT = 0x80000000


class SmppCodec(ProtocolCodec[p.SmppPdu]):
    """The SMPP 3.4 codec: the tables plus the body-less response rule (module docstring)."""

    def __init__(self) -> None:
        super().__init__("SMPP 3.4", HEADER, PDUS, STATUSES, MAX_LENGTH)
        #: Response command id -> class, for the body-less form.
        self._responses: dict[int, type[Any]] = {
            cid: layout.cls
            for cid, layout in self.by_command.items()
            if cid & _RESPONSE_BIT and layout.fields
        }
        self._bodied = frozenset(self._responses.values())
        if self.accelerated:
            # The C code always writes a body: a refusal goes through py_encode first.
            self._c_encode = self.encode
            self.encode = self._encode_refusals_first  # type: ignore[method-assign]

    def _encode_refusals_first(self, pdu: object, sequence_id: Any) -> bytes:
        status: object = getattr(pdu, "command_status", 0)
        if status and type(pdu) in self._bodied:
            return self.py_encode(pdu, sequence_id)
        return self._c_encode(pdu, sequence_id)

    def py_decode(self, frame: bytes) -> tuple[Header, p.SmppPdu]:
        """Decode one frame; a 16-byte response decodes to its class's defaults."""
        if len(frame) == HEADER_SIZE:
            length, command_id, status, sequence = _HEADER.unpack(frame)
            cls = self._responses.get(command_id)
            if cls is not None and length == HEADER_SIZE:
                return Header(length, command_id, sequence), cls(command_status=status)
        return super().py_decode(frame)

    def py_encode(self, pdu: object, sequence_id: Any) -> bytes:
        """Encode one frame; a refusal with only defaults in its body goes without one."""
        cls: type[Any] = type(pdu)
        layout = self.layouts.get(cls)
        status = getattr(pdu, "command_status", 0)
        if (
            layout is not None
            and status
            and layout.command_id in self._responses
            and pdu == cls(command_status=status)
        ):
            if not isinstance(status, int) or not 0 < status < 1 << 32:
                raise EncodeError(
                    f"{status!r} is not a u32", pdu=cls.__name__, field="command_status"
                )
            if not isinstance(sequence_id, int) or not 0 <= sequence_id < 1 << 32:
                raise EncodeError(f"{sequence_id!r} is not a u32", pdu=cls.__name__)
            return _HEADER.pack(HEADER_SIZE, layout.command_id, status, sequence_id)
        return super().py_encode(pdu, sequence_id)

    encode = py_encode
    decode = py_decode

    def _status(self, error: DecodeError) -> DecodeError:
        if error.status is None and error.kind is not ErrorKind.COMMAND and error.field:
            status = FIELD_STATUSES.get(error.field.split(".", 1)[0])
            if status is not None and error.kind is ErrorKind.STRUCTURE:
                error.status = status
        return super()._status(error)


#: The one SMPP codec.
SMPP34 = SmppCodec()


def encode(pdu: object, sequence: int) -> bytes:
    """Encode *pdu* as one SMPP 3.4 frame with *sequence* in its header."""
    return SMPP34.encode(pdu, sequence)


def decode(frame: bytes) -> tuple[Header, p.SmppPdu]:
    """Decode one whole SMPP 3.4 frame into ``(header, pdu)``."""
    return SMPP34.decode(frame)
