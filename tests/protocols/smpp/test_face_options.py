"""The SMPP face's ``[simulator]`` keys and an account's system_type, read from TOML."""

from __future__ import annotations

from smsgw.config import load_config
from smsgw.protocols.smpp.face import IdForm, LongForm, ReceiptParts, SmppFaceOptions
from smsgw.protocols.smpp.receipt import KeyCase
from tests.config.test_config import _FileTestCase


class OptionTests(_FileTestCase):
    """``smpp_*`` keys become :class:`SmppFaceOptions`; bad values are named by their key."""

    def test_defaults(self) -> None:
        """Without keys: decimal ids, 10-digit dates, lower-case keys, text and TLVs, UDH MOs."""
        options = SmppFaceOptions.from_config(load_config(self.write("")).simulator)
        self.assertEqual(options, SmppFaceOptions())

    def test_every_key(self) -> None:
        """Each key is read into its option."""
        config = load_config(
            self.write(
                '[simulator]\nsmpp_system_id = "OTHERSMSC"\nsmpp_message_id = "hex"\n'
                'smpp_receipt_id = "decimal"\nsmpp_receipt_date_digits = 12\n'
                'smpp_receipt_keys = "title"\nsmpp_receipt_tlvs = "tlvs"\n'
                'smpp_mo_long = "payload"\n'
                '[[simulator.account]]\nid = "a"\nsecret = "b"\nsystem_type = "VMA"\n'
            )
        )
        options = SmppFaceOptions.from_config(config.simulator)
        self.assertEqual(
            options,
            SmppFaceOptions(
                system_id=b"OTHERSMSC",
                message_id=IdForm.HEX,
                receipt_id_decimal=True,
                date_digits=12,
                key_case=KeyCase.TITLE,
                receipt=ReceiptParts.TLVS,
                mo_long=LongForm.PAYLOAD,
            ),
        )
        self.assertEqual(config.simulator.accounts[0].system_type, "VMA")

    def test_bad_values(self) -> None:
        """A word not among a key's choices, a date width other than 10 or 12: named errors."""
        cases = {
            'smpp_message_id = "octal"': "simulator.smpp_message_id",
            'smpp_receipt_id = "hex"': "simulator.smpp_receipt_id",
            "smpp_receipt_date_digits = 11": "simulator.smpp_receipt_date_digits",
            'smpp_receipt_keys = "camel"': "simulator.smpp_receipt_keys",
            'smpp_receipt_tlvs = "none"': "simulator.smpp_receipt_tlvs",
            'smpp_mo_long = "pigeon"': "simulator.smpp_mo_long",
            'smpp_system_id = "a-very-long-system-id"': "simulator.smpp_system_id",
            'smpp_system_id = ""': "simulator.smpp_system_id",
        }
        for line, key in cases.items():
            self.assert_error(f"[simulator]\n{line}\n", key)
        self.assert_error(
            '[[simulator.account]]\nid = "a"\nsecret = "b"\nsystem_type = "much-too-long"\n',
            "simulator.account[0].system_type",
        )
