"""Byte-exact vectors from smgp30.md: the §6.1 Login worked example and the §9 MsgID.

ClientID ``10001234``, secret ``pass1234``, Mar 1 00:00:00, LoginMode 2,
sequence 1 (computed with ``hashlib.md5`` and checked with ``md5sum`` by the
spec's authors).
"""

from __future__ import annotations

from datetime import datetime

from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.cmpp.auth import BEIJING, timestamp_text
from smsgw.protocols.smgp import codec as c
from smsgw.protocols.smgp import pdus as p
from smsgw.protocols.smgp.constants import VERSION_30, LoginMode
from smsgw.protocols.smgp.msgid import MsgIdParts, msg_id_hex, pack_msg_id, unpack_msg_id
from smsgw.protocols.smgp.session import (
    authenticator_client,
    authenticator_server,
    check_login,
    login_timestamp,
)

CLIENT_ID = b"10001234"
SECRET = b"pass1234"
TIMESTAMP = 301000000
MD5_INPUT = bytes.fromhex("3130303031323334 00000000000000 7061737331323334 30333031303030303030")
AUTHENTICATOR_CLIENT = bytes.fromhex("dc332a41a78d64f11e89965ffd2a06fa")
AUTHENTICATOR_SERVER = bytes.fromhex("f0e17f11892ac5004c745d14944e708c")
LOGIN_PDU = bytes.fromhex(
    "0000002a 00000001 00000001 3130303031323334 dc332a41a78d64f11e89965ffd2a06fa 02 11f0e540 30"
)
LOGIN_RESP_PDU = bytes.fromhex(
    "00000021 80000001 00000001 00000000 f0e17f11892ac5004c745d14944e708c 30"
)
MSG_ID = bytes.fromhex("01 00 61 01 16 17 00 01 23 45")


class LoginExampleTests(SynchronousTestCase):
    """§6.1 worked example."""

    def test_timestamp(self) -> None:
        """Mar 1 00:00:00 Beijing is TimeStamp 301000000 = 0x11F0E540, hashed as ``0301000000``."""
        when = datetime(2024, 3, 1, 0, 0, 0, tzinfo=BEIJING).timestamp()
        self.assertEqual(login_timestamp(when), TIMESTAMP)
        self.assertEqual(TIMESTAMP, 0x11F0E540)
        self.assertEqual(timestamp_text(TIMESTAMP), b"0301000000")

    def test_md5_input(self) -> None:
        """The MD5 input is ClientID + 7 NULs + secret + TS10."""
        self.assertEqual(CLIENT_ID + bytes(7) + SECRET + timestamp_text(TIMESTAMP), MD5_INPUT)

    def test_authenticator_client(self) -> None:
        """AuthenticatorClient is dc332a41…06fa."""
        self.assertEqual(authenticator_client(CLIENT_ID, SECRET, TIMESTAMP), AUTHENTICATOR_CLIENT)

    def test_authenticator_server(self) -> None:
        """AuthenticatorServer for Status 0 is f0e17f11…708c."""
        self.assertEqual(
            authenticator_server(0, AUTHENTICATOR_CLIENT, SECRET), AUTHENTICATOR_SERVER
        )

    def test_login_pdu(self) -> None:
        """The Login PDU is the 42 bytes of the example, both ways."""
        login = p.Login(CLIENT_ID, AUTHENTICATOR_CLIENT, LoginMode.TRANSMIT, TIMESTAMP, VERSION_30)
        self.assertEqual(c.encode(login, 1), LOGIN_PDU)
        header, decoded = c.decode(LOGIN_PDU)
        self.assertEqual(header, (42, 1, 1))
        self.assertEqual(decoded, login)

    def test_check_login(self) -> None:
        """The SMGW side accepts the example and answers with the expected 33 bytes."""
        check = check_login(c.decode(LOGIN_PDU)[1], {"10001234": SECRET})
        self.assertEqual(check.status, 0)
        self.assertEqual(check.account, "10001234")
        self.assertEqual(c.encode(check.response, 1), LOGIN_RESP_PDU)
        status, response, account = check[:3]
        self.assertEqual((status, response.authenticator_server, account),
                         (0, AUTHENTICATOR_SERVER, "10001234"))  # fmt: skip


class MsgIdExampleTests(SynchronousTestCase):
    """§9 example: SMGW 010061, Jan 16 17:00, sequence 12345."""

    def test_pack(self) -> None:
        """The parts pack to 01 00 61 01 16 17 00 01 23 45."""
        self.assertEqual(pack_msg_id(MsgIdParts(10061, 1, 16, 17, 0, 12345)), MSG_ID)

    def test_unpack(self) -> None:
        """The bytes unpack to the parts; MMDDhhmm is 01161700."""
        parts = unpack_msg_id(MSG_ID)
        self.assertEqual(parts, MsgIdParts(10061, 1, 16, 17, 0, 12345))
        self.assertEqual(f"{parts.time:08d}", "01161700")

    def test_hex(self) -> None:
        """The printable form is ``01006101161700012345``."""
        self.assertEqual(msg_id_hex(MSG_ID), "01006101161700012345")

    def test_in_submit_resp(self) -> None:
        """Submit_Resp carries the 10 raw bytes at body offset 0."""
        frame = c.encode(p.SubmitResp(MSG_ID, 0), 5)
        self.assertEqual(frame, bytes.fromhex("0000001a 80000002 00000005") + MSG_ID + bytes(4))
