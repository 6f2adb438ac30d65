"""Tests for the PDU unions: each names exactly the classes its protocol's codecs list."""

from __future__ import annotations

import typing

from twisted.trial.unittest import SynchronousTestCase

from smsgw.protocols.cmpp import CMPP20, CMPP30, CmppPdu
from smsgw.protocols.codec import ProtocolCodec
from smsgw.protocols.sgip.codec import SGIP12
from smsgw.protocols.sgip.pdus import SgipPdu
from smsgw.protocols.smgp.codec import SMGP13, SMGP30
from smsgw.protocols.smgp.pdus import SmgpPdu


def _listed(*codecs: ProtocolCodec) -> set[type]:
    return {cls for codec in codecs for cls in codec.layouts}


class PduUnionTests(SynchronousTestCase):
    def test_cmpp(self) -> None:
        """CmppPdu is every PDU class of the CMPP 2.0 and 3.0 tables, and nothing else."""
        self.assertEqual(set(typing.get_args(CmppPdu)), _listed(CMPP20, CMPP30))

    def test_sgip(self) -> None:
        """SgipPdu is every PDU class of the SGIP 1.2 table, and nothing else."""
        self.assertEqual(set(typing.get_args(SgipPdu)), _listed(SGIP12))

    def test_smgp(self) -> None:
        """SmgpPdu is every PDU class of the SMGP 3.0 and 1.3 tables, and nothing else."""
        self.assertEqual(set(typing.get_args(SmgpPdu)), _listed(SMGP30, SMGP13))
