"""The ``charset`` upstream key: GBK (Msg_Fmt 15) where the channel asks for it."""

from __future__ import annotations

import attrs
from twisted.trial.unittest import SynchronousTestCase

from smsgw.config import ConfigError, parse_upstream_url
from smsgw.protocols.cmpp.extras import CmppExtras
from smsgw.text import decode_text
from tests.sp.test_gateway import FakeChannel, GatewayHarness, request

TEXT = "您的验证码是123456，五分钟内有效。"


def _gbk_channel(name: str) -> FakeChannel:
    channel = FakeChannel(name, "cmpp")
    channel.config = attrs.evolve(channel.config, extra=CmppExtras(charset="gbk"))
    return channel


class CharsetTests(SynchronousTestCase):
    """Non-ASCII text is UCS2 unless the channel says ``charset=gbk``."""

    def test_default_ucs2(self) -> None:
        """Without the key a Chinese text goes out as UCS2 (Msg_Fmt 8)."""
        h = GatewayHarness(self, [FakeChannel("mobile", "cmpp")])
        h.send(request("13800138000", TEXT))
        h.settle()
        [call] = h.channel["mobile"].calls
        self.assertEqual(call.segment.msg_fmt, 8)

    def test_gbk_channel(self) -> None:
        """With charset=gbk the same text goes out as Msg_Fmt 15, GBK bytes."""
        h = GatewayHarness(self, [_gbk_channel("mobile")])
        h.send(request("13800138000", TEXT))
        h.settle()
        [call] = h.channel["mobile"].calls
        self.assertEqual(call.segment.msg_fmt, 15)
        self.assertEqual(call.segment.content, TEXT.encode("gbk"))
        self.assertEqual(decode_text(call.segment.content, 15), TEXT)

    def test_ascii_stays_ascii(self) -> None:
        """ASCII text is Msg_Fmt 0 whatever the channel's charset."""
        h = GatewayHarness(self, [_gbk_channel("mobile")])
        h.send(request("13800138000", "code 1234"))
        h.settle()
        self.assertEqual(h.channel["mobile"].calls[0].segment.msg_fmt, 0)

    def test_url_key(self) -> None:
        """The URL takes charset=gbk or ucs2 and refuses anything else, naming the key."""
        url = parse_upstream_url("cmpp://901234:pw@127.0.0.1:7890?charset=gbk")
        self.assertEqual(url.extra.charset, "gbk")
        error = self.assertRaises(
            ConfigError, parse_upstream_url, "cmpp://901234:pw@127.0.0.1:7890?charset=big5"
        )
        self.assertIn("charset", str(error))
