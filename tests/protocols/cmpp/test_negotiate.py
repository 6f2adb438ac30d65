"""Tests for :mod:`smsgw.protocols.cmpp.negotiate`: one listener for CMPP 3.0 and 2.0.

cmpp30.md section 1 (CONNECT_RESP Status width, Version) and section 3
(CONNECT_RESP Status 4 "version too high"); golden digests from
cmpp20-notes.md section 4.
"""

from __future__ import annotations

import struct
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.cmpp import pdus as p
from smsgw.protocols.cmpp.auth import authenticator_source
from smsgw.protocols.cmpp.codec import CMPP20
from smsgw.protocols.cmpp.codec30 import CMPP30
from smsgw.protocols.cmpp.constants import CommandId
from smsgw.protocols.cmpp.negotiate import (
    VersionedCmppAdapter,
    check_connect_negotiated,
    codec_for_version,
)
from smsgw.protocols.codec import Header, ProtocolCodec
from smsgw.protocols.errors import DecodeError
from smsgw.protocols.session import LoginResult, Role, Session, SessionConfig

#: cmpp20-notes.md section 4 inputs and digests.
SP_ID, SECRET, TIMESTAMP = b"901234", b"123456", 315123015
SECRETS = {"901234": SECRET}
AUTH_SOURCE = bytes.fromhex("082135d5a4949795b4a435bec12ae19f")
AUTH_ISMG_20 = bytes.fromhex("b51b8be1ec1b816afe20454251f72bea")
AUTH_ISMG_30 = bytes.fromhex("d24265da3e0c679f0fc8871ef3a786d5")
ZEROS = b"\x00" * 16


def connect(version: int, secret: bytes = SECRET, sp_id: bytes = SP_ID) -> p.Connect:
    """The worked CONNECT of cmpp20-notes.md section 4 with *version*."""
    auth = authenticator_source(sp_id, secret, TIMESTAMP)
    return p.Connect(sp_id, auth, version, TIMESTAMP)


class CodecForVersionTests(SynchronousTestCase):
    """codec_for_version maps CONNECT Version bytes to codecs."""

    def test_versions(self) -> None:
        """0x20-0x2F is CMPP 2.0 and 0x30-0x3F CMPP 3.0."""
        for version in (0x20, 0x21, 0x2F):
            self.assertIs(codec_for_version(version), CMPP20, hex(version))
        for version in (0x30, 0x31, 0x3F):
            self.assertIs(codec_for_version(version), CMPP30, hex(version))

    def test_unknown_versions(self) -> None:
        """Versions outside 0x20-0x3F have no codec."""
        for version in (0, 0x10, 0x1F, 0x40, 0xFF):
            self.assertRaises(ValueError, codec_for_version, version)


class CheckConnectNegotiatedTests(SynchronousTestCase):
    """check_connect_negotiated answers each client in its own version."""

    def test_cmpp30_client(self) -> None:
        """A 3.0 client gets Version 0x30 and the 4-byte-Status digest, in a 33-byte answer."""
        check, codec = check_connect_negotiated(connect(0x30), SECRETS)
        self.assertIs(codec, CMPP30)
        self.assertEqual((check.status, check.account), (0, "901234"))
        self.assertEqual(check.response, p.ConnectResp(0, AUTH_ISMG_30, 0x30))
        self.assertEqual(len(codec.encode(check.response, 1)), 33)

    def test_cmpp20_client(self) -> None:
        """A 2.0 client gets Version 0x20 and the 1-byte-Status digest, in a 30-byte answer."""
        for version in (0x20, 0x21):
            check, codec = check_connect_negotiated(connect(version), SECRETS)
            self.assertIs(codec, CMPP20)
            self.assertEqual(check.response, p.ConnectResp(0, AUTH_ISMG_20, 0x20))
            self.assertEqual(len(codec.encode(check.response, 1)), 30)

    def test_golden_connect_resp_20(self) -> None:
        """The 2.0 answer is the cmpp20-notes.md section 4 CONNECT_RESP byte for byte."""
        check, codec = check_connect_negotiated(connect(0x20), SECRETS)
        self.assertEqual(
            codec.encode(check.response, 1).hex(),
            "0000001e" "80000001" "00000001" "00" "b51b8be1ec1b816afe20454251f72bea" "20",
        )  # fmt: skip

    def test_golden_connect_resp_30(self) -> None:
        """The 3.0 answer carries d24265da… after a 4-byte Status."""
        check, codec = check_connect_negotiated(connect(0x30), SECRETS)
        self.assertEqual(
            codec.encode(check.response, 1).hex(),
            "00000021" "80000001" "00000001" "00000000" "d24265da3e0c679f0fc8871ef3a786d5" "30",
        )  # fmt: skip

    def test_version_too_high(self) -> None:
        """Version 0x40 is refused with Status 4 in a 3.0 answer with Version 0x30."""
        check, codec = check_connect_negotiated(connect(0x40), SECRETS)
        self.assertIs(codec, CMPP30)
        self.assertEqual((check.status, check.account), (4, None))
        self.assertEqual(check.response, p.ConnectResp(4, ZEROS, 0x30))

    def test_version_too_low(self) -> None:
        """Version 0x10 is refused with Status 5 in a 2.0 answer."""
        check, codec = check_connect_negotiated(connect(0x10), SECRETS)
        self.assertIs(codec, CMPP20)
        self.assertEqual(check.response, p.ConnectResp(5, ZEROS, 0x20))

    def test_bad_login(self) -> None:
        """Wrong secrets and unknown SPs get Status 3 and 2, in the client's version."""
        for version, codec in ((0x30, CMPP30), (0x20, CMPP20)):
            check, got = check_connect_negotiated(connect(version, secret=b"wrong"), SECRETS)
            self.assertIs(got, codec)
            self.assertEqual(check.response, p.ConnectResp(3, ZEROS, codec_version(codec)))
            check, _ = check_connect_negotiated(connect(version, sp_id=b"999999"), SECRETS)
            self.assertEqual(check.status, 2)

    @given(st.integers(0, 255), st.booleans())
    @example(0x3F, True)
    @example(0x40, True)
    @example(0x1F, True)
    def test_any_version(self, version: int, good: bool) -> None:
        """Any Version byte gets an answer its codec can encode, Status 4 exactly above 0x3F."""
        request = connect(version, secret=SECRET if good else b"x")
        check, codec = check_connect_negotiated(request, SECRETS)
        self.assertEqual(check.status == 4, version > 0x3F)
        self.assertIs(codec, CMPP30 if version >= 0x30 else CMPP20)
        self.assertEqual(check.response.version, codec_version(codec))
        frame = codec.encode(check.response, 1)
        self.assertEqual(codec.decode(frame)[1], check.response)
        if 0x20 <= version <= 0x3F:
            self.assertEqual(check.status, 0 if good else 3)


def codec_version(codec: ProtocolCodec) -> int:
    """The Version byte a listener answers in with *codec*."""
    return 0x30 if codec is CMPP30 else 0x20


class AdapterTests(SynchronousTestCase):
    """VersionedCmppAdapter starts as 3.0 and settles on the first CONNECT's version."""

    def test_starts_as_30(self) -> None:
        """A fresh adapter speaks 3.0 and is not negotiated."""
        adapter = VersionedCmppAdapter()
        self.assertIs(adapter.codec, CMPP30)
        self.assertFalse(adapter.negotiated)
        self.assertEqual(adapter.next_sequence(), 1)

    def test_negotiate(self) -> None:
        """negotiate picks 2.0 for 0x2x, 3.0 for 0x3x and above."""
        for version, codec in ((0x20, CMPP20), (0x21, CMPP20), (0x30, CMPP30), (0x40, CMPP30)):
            adapter = VersionedCmppAdapter()
            self.assertIs(adapter.negotiate(connect(version)), codec)
            self.assertIs(adapter.codec, codec)
            self.assertTrue(adapter.negotiated)

    def test_negotiate_once(self) -> None:
        """A second CONNECT on the link does not switch the codec again."""
        adapter = VersionedCmppAdapter()
        adapter.negotiate(connect(0x20))
        self.assertIs(adapter.negotiate(connect(0x30)), CMPP20)
        adapter.check_connect(connect(0x30), SECRETS)
        self.assertIs(adapter.codec, CMPP20)

    def test_check_connect(self) -> None:
        """check_connect returns the negotiated check and switches the codec."""
        adapter = VersionedCmppAdapter()
        check = adapter.check_connect(connect(0x21), SECRETS)
        self.assertEqual(check.response, p.ConnectResp(0, AUTH_ISMG_20, 0x20))
        self.assertIs(adapter.codec, CMPP20)

    def error_for(self, codec: ProtocolCodec, command_id: int) -> DecodeError:
        """The DecodeError of a 2-byte body under *command_id*."""
        frame = struct.pack(">III", 14, command_id, 9) + b"\x00\x00"
        error: DecodeError = self.assertRaises(DecodeError, codec.decode, frame)
        return error

    def test_error_responses_30(self) -> None:
        """Undecodable 3.0 GET_MT_ROUTE / GET_MO_ROUTE are answered with 3.0 responses."""
        adapter = VersionedCmppAdapter()
        for cid, cls in ((0x12, p.GetMtRouteResp), (0x17, p.GetMoRouteResp)):
            response = adapter.error_response(self.error_for(CMPP30, cid))
            self.assertEqual(response, cls(result=1))
            self.assertEqual(len(CMPP30.encode(response, 9)), 12 + CMPP30.layouts[cls].fixed_size)
        submit = adapter.error_response(self.error_for(CMPP30, CommandId.SUBMIT))
        self.assertEqual(submit, p.SubmitResp(result=4))

    def test_error_responses_20(self) -> None:
        """Once negotiated to 2.0, an undecodable GET_ROUTE gets the 2.0 answer."""
        adapter = VersionedCmppAdapter()
        adapter.negotiate(connect(0x20))
        response = adapter.error_response(self.error_for(CMPP20, CommandId.GET_ROUTE))
        self.assertEqual(response, p.GetRouteResp(result=1))
        CMPP20.encode(response, 9)


class _Handler:
    """A minimal ISMG role: negotiated CONNECT, then SUBMIT_RESP for every SUBMIT."""

    role = Role.SERVER

    def __init__(self) -> None:
        self.requests: list[Any] = []

    def session_started(self, session: Session) -> None:
        pass

    def authenticate(self, session: Session, pdu: p.Connect) -> LoginResult:
        self.requests.append(pdu)
        adapter = session.adapter
        assert isinstance(adapter, VersionedCmppAdapter)
        return adapter.check_connect(pdu, SECRETS).login_result()

    def handle_request(self, session: Session, header: Header, pdu: Any) -> Any:
        self.requests.append(pdu)
        if type(pdu) is p.Submit:
            return p.SubmitResp(msg_id=0x1234, result=0)
        return None

    def session_ended(self, session: Session, reason: Failure) -> None:
        pass


class ListenerTests(SynchronousTestCase):
    """A 3.0 listener on the session engine answers 2.0 clients as 2.0."""

    def setUp(self) -> None:
        self.handler = _Handler()
        self.session = Session(VersionedCmppAdapter(), self.handler, SessionConfig(), Clock())
        self.transport = StringTransport()
        self.session.makeConnection(self.transport)

    def tearDown(self) -> None:
        self.session.connectionLost(Failure(Exception("test over")))

    def written(self) -> list[bytes]:
        """The frames the listener wrote, split by their length fields."""
        data, frames = self.transport.value(), []
        while data:
            (size,) = struct.unpack_from(">I", data)
            frames.append(data[:size])
            data = data[size:]
        return frames

    def test_cmpp20_client(self) -> None:
        """CONNECT 0x20 then a 2.0 SUBMIT in one chunk: a 30-byte answer, the SUBMIT decodes."""
        submit = p.Submit(msg_src=SP_ID, src_id=b"10655", dest_terminal_ids=(b"13800138000",))
        data = CMPP20.encode(connect(0x20), 1) + CMPP20.encode(submit, 2)
        self.assertEqual(len(data), 39 + 159)
        self.session.dataReceived(data)
        connect_resp, submit_resp = self.written()
        self.assertEqual(len(connect_resp), 30)
        self.assertEqual(
            CMPP20.decode(connect_resp),
            (Header(30, 0x80000001, 1), p.ConnectResp(0, AUTH_ISMG_20, 0x20)),
        )
        self.assertEqual(self.handler.requests[1], submit)
        self.assertEqual(len(submit_resp), 21)
        self.assertEqual(CMPP20.decode(submit_resp)[1], p.SubmitResp(0x1234, 0))
        self.assertIs(self.session.codec, CMPP20)
        self.assertTrue(self.session.bound)

    def test_cmpp20_client_byte_by_byte(self) -> None:
        """The switch holds however the bytes arrive."""
        submit = p.Submit(dest_terminal_ids=(b"13800138000",), msg_content=b"hi")
        data = CMPP20.encode(connect(0x21), 1) + CMPP20.encode(submit, 2)
        for i in range(len(data)):
            self.session.dataReceived(data[i : i + 1])
        self.assertEqual([len(f) for f in self.written()], [30, 21])
        self.assertEqual(self.handler.requests[1], submit)

    def test_cmpp30_client(self) -> None:
        """CONNECT 0x30 then a 3.0 SUBMIT: a 33-byte answer with 0x30, a 24-byte SUBMIT_RESP."""
        submit = p.Submit(dest_terminal_ids=(b"8613800138000",), link_id=b"LINK")
        data = CMPP30.encode(connect(0x30), 7) + CMPP30.encode(submit, 8)
        self.session.dataReceived(data)
        connect_resp, submit_resp = self.written()
        self.assertEqual(
            CMPP30.decode(connect_resp),
            (Header(33, 0x80000001, 7), p.ConnectResp(0, AUTH_ISMG_30, 0x30)),
        )
        self.assertEqual(self.handler.requests[1], submit)
        self.assertEqual(
            CMPP30.decode(submit_resp), (Header(24, 0x80000004, 8), p.SubmitResp(0x1234, 0))
        )
        self.assertIs(self.session.codec, CMPP30)

    def test_version_too_high(self) -> None:
        """CONNECT 0x40 is refused with a 33-byte Status 4 answer and the link closes."""
        self.session.dataReceived(CMPP30.encode(connect(0x40), 3))
        (frame,) = self.written()
        self.assertEqual(
            CMPP30.decode(frame), (Header(33, 0x80000001, 3), p.ConnectResp(4, ZEROS, 0x30))
        )
        self.assertTrue(self.transport.disconnecting)
        self.assertFalse(self.session.bound)

    def test_bad_secret_cmpp20(self) -> None:
        """A 2.0 client with a wrong secret is refused in 2.0: 30 bytes, Status 3."""
        self.session.dataReceived(CMPP20.encode(connect(0x20, secret=b"nope"), 3))
        (frame,) = self.written()
        self.assertEqual(CMPP20.decode(frame)[1], p.ConnectResp(3, ZEROS, 0x20))
        self.assertTrue(self.transport.disconnecting)

    def test_keepalive_after_negotiation(self) -> None:
        """ACTIVE_TEST on a 2.0-negotiated link is answered by the engine in 2.0 (13 bytes)."""
        data = CMPP20.encode(connect(0x20), 1) + CMPP20.encode(p.ActiveTest(), 2)
        self.session.dataReceived(data)
        self.assertEqual([len(f) for f in self.written()], [30, 13])
