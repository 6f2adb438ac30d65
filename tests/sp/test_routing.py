"""Tests for :mod:`smsgw.sp.routing`: choosing a channel per recipient."""

from __future__ import annotations

import attrs
from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.config import parse_upstream_url
from smsgw.protocols.registry import register
from smsgw.sp.numbers import Carrier, InvalidNumber, PrefixTable
from smsgw.sp.routing import NoRoute, Router, RouteSpec
from tests.protocols import toy

MOBILE = "13800138000"
UNICOM = "13000000000"
TELECOM = "18900000000"
BROADNET = "19200000000"

THREE = [
    RouteSpec("cm", "cmpp"),
    RouteSpec("cu", "sgip"),
    RouteSpec("ct", "smgp"),
]


class ExplicitTests(SynchronousTestCase):
    """An explicit channel name."""

    def test_explicit_wins(self) -> None:
        """The named channel is chosen over prefix routes and carrier."""
        router = Router([RouteSpec("cm", "cmpp", ("138",)), RouteSpec("cu", "sgip")])
        self.assertEqual(router.choose(MOBILE, "cu"), "cu")

    def test_explicit_skips_number_check(self) -> None:
        """With an explicit channel the number is not looked at."""
        self.assertEqual(Router(THREE).choose("not a number", "ct"), "ct")

    def test_unknown_name(self) -> None:
        """An unknown name raises NoRoute naming it and the configured ones."""
        with self.assertRaises(NoRoute) as caught:
            Router(THREE).choose(MOBILE, "cx")
        self.assertEqual(caught.exception.channel, "cx")
        self.assertEqual(
            str(caught.exception), "no channel named 'cx' (configured: 'cm', 'cu', 'ct')"
        )

    def test_no_route_is_value_error(self) -> None:
        """NoRoute is a ValueError."""
        self.assertRaises(ValueError, Router([]).choose, MOBILE, "cm")


class PrefixRouteTests(SynchronousTestCase):
    """Number prefixes from ``[[upstream]] routes``."""

    def test_prefix_beats_carrier(self) -> None:
        """A matching route sends a Mobile number to a Unicom channel."""
        router = Router([RouteSpec("cm", "cmpp"), RouteSpec("cu", "sgip", ("1380013",))])
        self.assertEqual(router.choose(MOBILE), "cu")
        self.assertEqual(router.choose("13800238000"), "cm")

    def test_longest_prefix(self) -> None:
        """The longest matching prefix over all channels wins."""
        router = Router(
            [
                RouteSpec("a", "cmpp", ("13",)),
                RouteSpec("b", "http-vendor", ("138",)),
                RouteSpec("c", "smgp", ("13800",)),
            ]
        )
        self.assertEqual(router.choose(MOBILE), "c")
        self.assertEqual(router.choose("13810000000"), "b")
        self.assertEqual(router.choose("13910000000"), "a")

    def test_number_normalised(self) -> None:
        """Routes match the national number, whatever form it is given in."""
        router = Router([RouteSpec("cm", "cmpp"), RouteSpec("v", "vendor", ("138",))])
        self.assertEqual(router.choose("+86 138-0013-8000"), "v")

    def test_invalid_number(self) -> None:
        """An invalid number raises InvalidNumber."""
        self.assertRaises(InvalidNumber, Router(THREE).choose, "12345")

    def test_duplicate_prefix(self) -> None:
        """One prefix on two channels is a configuration error naming both."""
        with self.assertRaises(ValueError) as caught:
            Router([RouteSpec("a", "cmpp", ("138",)), RouteSpec("b", "sgip", ("138",))])
        self.assertIn("'a'", str(caught.exception))
        self.assertIn("'b'", str(caught.exception))

    def test_international_routes(self) -> None:
        """+ routes take international numbers by longest prefix, and never a mainland one."""
        router = Router(
            [RouteSpec("cm", "cmpp"), RouteSpec("intl", "smpp", ("+44", "+1")),
             RouteSpec("us", "smpp", ("+1212",))]
        )  # fmt: skip
        self.assertEqual(router.choose("0044 7900 000001"), "intl")
        self.assertEqual(router.choose("+12125550100"), "us")
        self.assertEqual(router.choose("+13105550100"), "intl")
        self.assertEqual(router.choose("13800138000"), "cm")

    def test_international_without_route(self) -> None:
        """An international number no + route takes has no channel, not the carrier or only one."""
        for channels in ([RouteSpec("cm", "cmpp", ("1", "44"))], THREE):
            with self.assertRaises(NoRoute) as caught:
                Router(channels).choose("+447900000001")
            self.assertIn("+44", str(caught.exception))
            self.assertEqual(caught.exception.number, "+447900000001")
        self.assertEqual(Router(THREE).choose("+447900000001", "cu"), "cu")

    def test_international_only_smpp_channel(self) -> None:
        """An smpp channel that is the only one takes numbers abroad; a lone cmpp one does not."""
        self.assertEqual(Router([RouteSpec("intl", "smpp")]).choose("+447900000001"), "intl")
        for scheme in ("cmpp", "vendor"):
            with self.assertRaises(NoRoute):
                Router([RouteSpec("x", scheme)]).choose("+447900000001")

    def test_bad_prefix(self) -> None:
        """A route that is not 1 to 11 digits (or + and 1 to 15) is refused."""
        for prefix in ("", "13x", "123456789012", "+", "+4x", "+1234567890123456", "4+4"):
            self.assertRaises(ValueError, Router, [RouteSpec("a", "cmpp", (prefix,))])

    def test_duplicate_name(self) -> None:
        """Two channels of one name are refused."""
        self.assertRaises(ValueError, Router, [RouteSpec("a", "cmpp"), RouteSpec("a", "sgip")])

    def test_routes_not_a_string(self) -> None:
        """A bare string for routes is refused rather than split into digits."""
        self.assertRaises(TypeError, RouteSpec, "a", "cmpp", "138")

    def test_routes_list(self) -> None:
        """Routes given as a list are kept as a tuple."""
        self.assertEqual(RouteSpec("a", "cmpp", ["138", "139"]).routes, ("138", "139"))


class CarrierRouteTests(SynchronousTestCase):
    """The carrier rule and the single-channel fallback."""

    def test_by_carrier(self) -> None:
        """cmpp serves Mobile, sgip Unicom, smgp Telecom."""
        router = Router(THREE)
        self.assertEqual(router.choose(MOBILE), "cm")
        self.assertEqual(router.choose(UNICOM), "cu")
        self.assertEqual(router.choose(TELECOM), "ct")

    def test_cmpp3_serves_mobile(self) -> None:
        """A CMPP 3.0 channel serves Mobile numbers too."""
        router = Router([RouteSpec("cu", "sgip"), RouteSpec("cm3", "cmpp3")])
        self.assertEqual(router.choose(MOBILE), "cm3")

    def test_registered_protocol_carrier(self) -> None:
        """A registered protocol's spec says which carrier's numbers its channels serve."""
        self.addCleanup(register(attrs.evolve(toy.SPEC, carrier="unicom")))
        router = Router([RouteSpec("cm", "cmpp"), RouteSpec("toy", "toyp")])
        self.assertEqual(router.choose(UNICOM), "toy")
        error = self.assertRaises(NoRoute, router.choose, TELECOM)
        self.assertIn("no smgp channel", str(error))

    def test_vendor_takes_the_rest(self) -> None:
        """An HTTP vendor serves every carrier: it takes what no carrier channel takes."""
        router = Router(
            [RouteSpec("cm", "cmpp"), RouteSpec("v1", "http"), RouteSpec("v2", "https")]
        )
        self.assertEqual(router.choose(MOBILE), "cm")
        self.assertEqual(router.choose(UNICOM), "v1")
        self.assertEqual(router.choose(TELECOM), "v1")
        self.assertEqual(router.choose(BROADNET), "v1")

    def test_first_of_kind(self) -> None:
        """Of two channels of one kind, the first configured is chosen."""
        router = Router([RouteSpec("cm2", "cmpp"), RouteSpec("cm3", "cmpp3")])
        self.assertEqual(router.choose(MOBILE), "cm2")

    def test_custom_prefix_table(self) -> None:
        """The carrier comes from the router's prefix table."""
        router = Router(THREE, PrefixTable({"192": Carrier.MOBILE}))
        self.assertEqual(router.choose(BROADNET), "cm")

    def test_single_channel(self) -> None:
        """With one channel, every number the rules leave goes to it."""
        router = Router([RouteSpec("only", "sgip")])
        for number in (MOBILE, TELECOM, BROADNET):
            self.assertEqual(router.choose(number), "only")

    def test_single_vendor_channel(self) -> None:
        """A lone HTTP vendor channel takes every number."""
        self.assertEqual(Router([RouteSpec("v", "vendor")]).choose(MOBILE), "v")

    def test_no_channel_of_kind(self) -> None:
        """Two channels, none for the carrier: NoRoute names the carrier and the schemes."""
        router = Router([RouteSpec("cu", "sgip"), RouteSpec("ct", "smgp")])
        with self.assertRaises(NoRoute) as caught:
            router.choose(MOBILE)
        self.assertIs(caught.exception.carrier, Carrier.MOBILE)
        self.assertEqual(caught.exception.number, MOBILE)
        self.assertEqual(
            str(caught.exception),
            "no channel for 138****8000 (carrier: mobile): no route prefix matches and no "
            "cmpp/cmpp3 channel is configured",
        )

    def test_unknown_carrier(self) -> None:
        """An unknown segment with several channels: NoRoute says the carrier is unknown."""
        with self.assertRaises(NoRoute) as caught:
            Router(THREE).choose(BROADNET)
        self.assertIs(caught.exception.carrier, Carrier.UNKNOWN)
        self.assertIn("(carrier: unknown)", str(caught.exception))

    def test_no_channels(self) -> None:
        """With no channels at all, NoRoute says so."""
        with self.assertRaises(NoRoute) as caught:
            Router([]).choose(MOBILE)
        self.assertIn("no channels are configured", str(caught.exception))

    @given(
        st.lists(st.sampled_from(["cmpp", "cmpp3", "sgip", "smgp", "vendor"]), max_size=5),
        st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    )
    def test_answer_or_no_route(self, schemes: list[str], number: str) -> None:
        """Any channel set either names one of its channels or raises NoRoute."""
        router = Router([RouteSpec(f"ch{i}", scheme) for i, scheme in enumerate(schemes)])
        try:
            name = router.choose(number)
        except NoRoute as exc:
            self.assertNotEqual(len(schemes), 1)
            self.assertEqual(exc.number, number)
        else:
            self.assertIn(name, {spec.name for spec in router.channels})


class FromConfigTests(SynchronousTestCase):
    """Routers built from ``[[upstream]]`` configuration."""

    def test_from_upstreams(self) -> None:
        """Name, scheme and routes come from each UpstreamConfig."""
        cm = parse_upstream_url("cmpp://901234:s@127.0.0.1:7890")
        cu = attrs.evolve(parse_upstream_url("sgip://acct:s@127.0.0.1"), routes=("1380013",))
        router = Router.from_upstreams([cm, cu])
        self.assertEqual(
            router.channels,
            (RouteSpec(cm.name, "cmpp"), RouteSpec(cu.name, "sgip", ("1380013",))),
        )
        self.assertEqual(router.choose(MOBILE), cu.name)
        self.assertEqual(router.choose("13900000000"), cm.name)
