"""Tests for :mod:`smsgw.config.policy`."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.config.policy import (
    MAX_REPORT_DELAY_S,
    FaultPolicy,
    Policy,
    PolicyError,
    PrefixRule,
    ReportPolicy,
    national_number,
)

EXAMPLE: dict[str, Any] = {
    "reports": {
        "states": {"DELIVRD": 0.9, "UNDELIV": 0.1},
        "delay_s": [0.5, 2.0],
        "rules": [{"prefix": "1390000", "stat": "UNDELIV"}],
    },
    "faults": {
        "response_delay_s": 0,
        "drop_response_ratio": 0,
        "throttle_tps": None,
        "disconnect_after_pdus": None,
        "submit_result": 0,
    },
}

stats = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=7, max_size=7)
shares = st.one_of(
    st.integers(min_value=0, max_value=10**6),
    st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False),
)
states_docs = st.dictionaries(stats, shares, min_size=1, max_size=6).filter(
    lambda states: sum(states.values()) > 0
)
delays = st.tuples(
    st.floats(min_value=0, max_value=MAX_REPORT_DELAY_S),
    st.floats(min_value=0, max_value=MAX_REPORT_DELAY_S),
).map(sorted)
rules_docs = st.dictionaries(st.from_regex(r"[0-9]{1,11}", fullmatch=True), stats, max_size=5).map(
    lambda rules: [{"prefix": prefix, "stat": stat} for prefix, stat in rules.items()]
)
reports_docs = st.fixed_dictionaries(
    {},
    optional={"states": states_docs, "delay_s": delays, "rules": rules_docs},
)
faults_docs = st.fixed_dictionaries(
    {},
    optional={
        "response_delay_s": st.floats(min_value=0, max_value=600),
        "drop_response_ratio": st.floats(min_value=0, max_value=1),
        "throttle_tps": st.none() | st.floats(min_value=0.001, max_value=1e6),
        "disconnect_after_pdus": st.none() | st.integers(min_value=1, max_value=10**9),
        "submit_result": st.integers(min_value=0, max_value=255),
    },
)
policy_docs = st.fixed_dictionaries({}, optional={"reports": reports_docs, "faults": faults_docs})
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


class PolicyErrorTests(SynchronousTestCase):
    """:class:`PolicyError` names the field."""

    def test_message(self) -> None:
        """The message starts with the field's path."""
        error = PolicyError("expected a number", "faults.submit_result")
        self.assertEqual(str(error), "faults.submit_result: expected a number")
        self.assertEqual(error.field, "faults.submit_result")
        self.assertEqual(error.message, "expected a number")
        self.assertIsInstance(error, ValueError)

    def test_document(self) -> None:
        """An error about the whole document has no field."""
        error = PolicyError("expected an object")
        self.assertIsNone(error.field)
        self.assertEqual(str(error), "expected an object")

    def test_within(self) -> None:
        """within() prefixes a parent path, with no dot before an index."""
        self.assertEqual(PolicyError("m", "delay_s").within("reports").field, "reports.delay_s")
        self.assertEqual(PolicyError("m", "[0].stat").within("rules").field, "rules[0].stat")
        self.assertEqual(PolicyError("m").within("faults").field, "faults")


class NationalNumberTests(SynchronousTestCase):
    """:func:`national_number` drops the country code of mobile numbers only."""

    def test_plus_86(self) -> None:
        """+86 before an 11-digit mobile number is dropped."""
        self.assertEqual(national_number("+8613900001234"), "13900001234")

    def test_86(self) -> None:
        """86 before an 11-digit mobile number is dropped."""
        self.assertEqual(national_number("8613900001234"), "13900001234")

    def test_unchanged(self) -> None:
        """National, short, foreign and service numbers are left alone."""
        for number in ("13900001234", "8610086", "+14155550123", "86139", "1069000", ""):
            self.assertEqual(national_number(number), number)


class DefaultsTests(SynchronousTestCase):
    """A policy with no settings delivers everything at once without faults."""

    def test_defaults(self) -> None:
        """Policy() is DELIVRD with no delay, no rules and no faults."""
        policy = Policy()
        self.assertEqual(policy.reports.states, (("DELIVRD", 1.0),))
        self.assertEqual(policy.reports.delay_s, (0.0, 0.0))
        self.assertEqual(policy.reports.rules, ())
        self.assertEqual(policy.faults, FaultPolicy(0.0, 0.0, None, None, 0))

    def test_empty_document(self) -> None:
        """An empty document gives the defaults."""
        self.assertEqual(Policy.from_json({}), Policy())
        self.assertEqual(Policy.from_json({"reports": {}, "faults": {}}), Policy())

    def test_default_json(self) -> None:
        """The defaults' JSON has every key."""
        self.assertEqual(
            Policy().to_json(),
            {
                "reports": {"states": {"DELIVRD": 1.0}, "delay_s": [0.0, 0.0], "rules": []},
                "faults": {
                    "response_delay_s": 0.0,
                    "drop_response_ratio": 0.0,
                    "throttle_tps": None,
                    "disconnect_after_pdus": None,
                    "submit_result": 0,
                },
                "triggers": [],
            },
        )


class FromJsonTests(SynchronousTestCase):
    """Policy.from_json reads the documented shape."""

    def test_example(self) -> None:
        """The DESIGN example is read field by field."""
        policy = Policy.from_json(EXAMPLE)
        self.assertEqual(policy.reports.states, (("DELIVRD", 0.9), ("UNDELIV", 0.1)))
        self.assertEqual(policy.reports.delay_s, (0.5, 2.0))
        self.assertEqual(policy.reports.rules, (PrefixRule("1390000", "UNDELIV"),))
        self.assertEqual(policy.faults, FaultPolicy())

    def test_faults(self) -> None:
        """Every fault is read; integers become floats where seconds or rates are meant."""
        faults = Policy.from_json(
            {
                "faults": {
                    "response_delay_s": 2,
                    "drop_response_ratio": 0.25,
                    "throttle_tps": 50,
                    "disconnect_after_pdus": 10,
                    "submit_result": 8,
                }
            }
        ).faults
        self.assertEqual(faults, FaultPolicy(2.0, 0.25, 50.0, 10, 8))
        self.assertIsInstance(faults.response_delay_s, float)
        self.assertIsInstance(faults.throttle_tps, float)

    def test_partial_reports(self) -> None:
        """Keys missing from a section keep their defaults."""
        policy = Policy.from_json({"reports": {"delay_s": [1, 3]}})
        self.assertEqual(policy.reports.delay_s, (1.0, 3.0))
        self.assertEqual(policy.reports.states, (("DELIVRD", 1.0),))
        self.assertEqual(policy.faults, FaultPolicy())

    def test_normalised(self) -> None:
        """Shares are normalised to add up to 1, keeping their order."""
        states = Policy.from_json({"reports": {"states": {"UNDELIV": 1, "DELIVRD": 3}}})
        self.assertEqual(states.reports.states, (("UNDELIV", 0.25), ("DELIVRD", 0.75)))

    def test_zero_share_kept(self) -> None:
        """A state with share 0 is kept (and never drawn)."""
        states = Policy.from_json({"reports": {"states": {"DELIVRD": 1, "EXPIRED": 0}}})
        self.assertEqual(states.reports.states, (("DELIVRD", 1.0), ("EXPIRED", 0.0)))

    def test_round_trip_example(self) -> None:
        """to_json gives back what from_json read."""
        policy = Policy.from_json(EXAMPLE)
        self.assertEqual(Policy.from_json(policy.to_json()), policy)
        self.assertEqual(policy.to_json()["reports"], EXAMPLE["reports"])

    @given(policy_docs)
    @example({"reports": {"states": {"DELIVRD": 1, "UNDELIV": 2, "EXPIRED": 7}}})
    def test_round_trip(self, doc: dict[str, Any]) -> None:
        """Any valid document survives to_json, JSON text and from_json unchanged."""
        policy = Policy.from_json(doc)
        text = json.dumps(policy.to_json(), allow_nan=False)
        again = Policy.from_json(json.loads(text))
        self.assertEqual(again, policy)
        self.assertEqual(again.to_json(), policy.to_json())
        self.assertAlmostEqual(math.fsum(share for _, share in policy.reports.states), 1.0)

    @given(json_values)
    @example({"reports": {"states": {"DELIVRD": 1e308, "UNDELIV": 1e308}}})
    @example({"reports": {"delay_s": [float("nan"), 1]}})
    def test_arbitrary_json(self, data: Any) -> None:
        """Any JSON value gives a policy or a PolicyError, nothing else."""
        try:
            policy = Policy.from_json(data)
        except PolicyError:
            pass
        else:
            self.assertEqual(Policy.from_json(policy.to_json()), policy)


class MergedTests(SynchronousTestCase):
    """Policy.merged replaces only what is given (PUT semantics)."""

    def setUp(self) -> None:
        self.policy = Policy.from_json(EXAMPLE).merged({"faults": {"throttle_tps": 100}})

    def test_other_section_kept(self) -> None:
        """Merging faults keeps the report policy."""
        merged = self.policy.merged({"faults": {"submit_result": 13}})
        self.assertEqual(merged.reports, self.policy.reports)
        self.assertEqual(merged.faults.submit_result, 13)

    def test_other_keys_kept(self) -> None:
        """Merging one key keeps the section's other keys."""
        merged = self.policy.merged({"faults": {"submit_result": 13}})
        self.assertEqual(merged.faults.throttle_tps, 100.0)
        merged = self.policy.merged({"reports": {"delay_s": [0, 0]}})
        self.assertEqual(merged.reports.states, self.policy.reports.states)
        self.assertEqual(merged.reports.rules, self.policy.reports.rules)

    def test_states_replaced_whole(self) -> None:
        """A states object replaces every state, not just the ones named."""
        merged = self.policy.merged({"reports": {"states": {"EXPIRED": 1}}})
        self.assertEqual(merged.reports.states, (("EXPIRED", 1.0),))

    def test_rules_replaced_whole(self) -> None:
        """A rules array replaces the rules; an empty one removes them."""
        self.assertEqual(self.policy.merged({"reports": {"rules": []}}).reports.rules, ())

    def test_null_clears(self) -> None:
        """null switches throttling and disconnects off."""
        policy = self.policy.merged({"faults": {"disconnect_after_pdus": 5}})
        merged = policy.merged({"faults": {"throttle_tps": None, "disconnect_after_pdus": None}})
        self.assertIsNone(merged.faults.throttle_tps)
        self.assertIsNone(merged.faults.disconnect_after_pdus)

    def test_error_leaves_policy(self) -> None:
        """A bad document raises and the original policy is unchanged."""
        before = self.policy.to_json()
        self.assertRaises(PolicyError, self.policy.merged, {"faults": {"submit_result": 256}})
        self.assertEqual(self.policy.to_json(), before)


class ErrorTests(SynchronousTestCase):
    """Every invalid value raises a PolicyError naming its field."""

    def assert_field(self, data: Any, field: str | None) -> PolicyError:
        """from_json(data) fails naming *field*."""
        error = self.assertRaises(PolicyError, Policy.from_json, data)
        self.assertEqual(error.field, field)
        return error

    def test_document(self) -> None:
        """A document that is not an object has no field."""
        for data in (None, [], "x", 1):
            self.assert_field(data, None)

    def test_unknown_section(self) -> None:
        """An unknown top-level key is named, with the allowed ones."""
        error = self.assert_field({"report": {}}, "report")
        self.assertIn("unknown key", str(error))
        self.assertIn("reports", str(error))

    def test_unknown_keys(self) -> None:
        """Unknown keys in a section are named."""
        self.assert_field({"reports": {"delay": [0, 1]}}, "reports.delay")
        self.assert_field({"faults": {"throttle": 5}}, "faults.throttle")

    def test_section_types(self) -> None:
        """A section that is not an object is named."""
        self.assert_field({"reports": None}, "reports")
        self.assert_field({"faults": [1]}, "faults")

    def test_states(self) -> None:
        """Bad Stats and shares are named by their state."""
        self.assert_field({"reports": {"states": ["DELIVRD"]}}, "reports.states")
        self.assert_field({"reports": {"states": {}}}, "reports.states")
        self.assert_field({"reports": {"states": {"DELIVRD": 0}}}, "reports.states")
        self.assert_field({"reports": {"states": {"DELIV": 1}}}, "reports.states.DELIV")
        self.assert_field({"reports": {"states": {"DELIVRDX": 1}}}, "reports.states.DELIVRDX")
        self.assert_field(
            {"reports": {"states": {"送达送达送达送": 1}}}, "reports.states.送达送达送达送"
        )
        self.assert_field(
            {"reports": {"states": {"DELIV\x00\x00": 1}}}, "reports.states.DELIV\x00\x00"
        )
        for share in (-0.1, "1", True, None, [1], float("nan"), float("inf")):
            self.assert_field(
                {"reports": {"states": {"DELIVRD": 1, "UNDELIV": share}}},
                "reports.states.UNDELIV",
            )

    def test_huge_shares(self) -> None:
        """Shares whose sum overflows are refused."""
        self.assert_field(
            {"reports": {"states": {"DELIVRD": 1e308, "UNDELIV": 1e308}}}, "reports.states"
        )

    def test_delay(self) -> None:
        """A delay that is not [min, max] within 0..172800 is named."""
        for delay in (
            1,
            [1],
            [0, 1, 2],
            [2, 1],
            [-1, 1],
            [0, 172801],
            ["0", "1"],
            [True, 1],
            [0, float("inf")],
            {"min": 0, "max": 1},
            "01",
        ):
            self.assert_field({"reports": {"delay_s": delay}}, "reports.delay_s")

    def test_rules(self) -> None:
        """Bad rules are named by their index and key."""
        rule = {"prefix": "139", "stat": "UNDELIV"}
        self.assert_field({"reports": {"rules": rule}}, "reports.rules")
        self.assert_field({"reports": {"rules": ["139"]}}, "reports.rules[0]")
        self.assert_field(
            {"reports": {"rules": [rule, {**rule, "share": 1}]}}, "reports.rules[1].share"
        )
        self.assert_field({"reports": {"rules": [{"stat": "UNDELIV"}]}}, "reports.rules[0].prefix")
        self.assert_field({"reports": {"rules": [{"prefix": "139"}]}}, "reports.rules[0].stat")
        for prefix in ("", "13a", "+86139", 139, "１３９"):
            self.assert_field(
                {"reports": {"rules": [{**rule, "prefix": prefix}]}}, "reports.rules[0].prefix"
            )
        self.assert_field(
            {"reports": {"rules": [{**rule, "stat": "BAD"}]}}, "reports.rules[0].stat"
        )
        self.assert_field({"reports": {"rules": [rule, rule]}}, "reports.rules[1].prefix")

    def test_faults(self) -> None:
        """Each fault out of range or of the wrong type is named."""
        bad: dict[str, list[Any]] = {
            "response_delay_s": [-1, 600.5, None, "1", True, float("nan")],
            "drop_response_ratio": [-0.1, 1.1, None, False],
            "throttle_tps": [0, -1, "5", float("inf"), True],
            "disconnect_after_pdus": [0, 1.5, 2.0, "3", True],
            "submit_result": [-1, 256, 8.0, None, True],
        }
        for key, values in bad.items():
            for value in values:
                self.assert_field({"faults": {key: value}}, f"faults.{key}")

    def test_limits_accepted(self) -> None:
        """The range limits themselves are accepted."""
        policy = Policy.from_json(
            {
                "reports": {"delay_s": [MAX_REPORT_DELAY_S, MAX_REPORT_DELAY_S]},
                "faults": {
                    "response_delay_s": 600,
                    "drop_response_ratio": 1,
                    "disconnect_after_pdus": 1,
                    "submit_result": 255,
                },
            }
        )
        self.assertEqual(policy.faults.submit_result, 255)

    def test_direct_construction(self) -> None:
        """Building the classes directly validates too, naming the attribute."""
        error = self.assertRaises(PolicyError, FaultPolicy, response_delay_s=-1)
        self.assertEqual(error.field, "response_delay_s")
        error = self.assertRaises(PolicyError, ReportPolicy, delay_s=(3, 1))
        self.assertEqual(error.field, "delay_s")
        error = self.assertRaises(PolicyError, PrefixRule, "139", "UNDELIVERED")
        self.assertEqual(error.field, "stat")
        rule = PrefixRule("139", "UNDELIV")
        error = self.assertRaises(PolicyError, ReportPolicy, rules=(rule, rule))
        self.assertEqual(error.field, "rules[1].prefix")
        error = self.assertRaises(
            PolicyError, ReportPolicy, states=(("DELIVRD", 1), ("DELIVRD", 1))
        )
        self.assertEqual(error.field, "states.DELIVRD")

    def test_mapping_states(self) -> None:
        """ReportPolicy accepts states as a mapping."""
        policy = ReportPolicy(states={"DELIVRD": 1, "UNDELIV": 1})
        self.assertEqual(policy.states, (("DELIVRD", 0.5), ("UNDELIV", 0.5)))


class DrawStatTests(SynchronousTestCase):
    """ReportPolicy.draw_stat follows rules first, then the shares."""

    def test_shares(self) -> None:
        """Draws follow the shares."""
        policy = ReportPolicy(states={"DELIVRD": 0.7, "UNDELIV": 0.2, "EXPIRED": 0.1})
        rng = random.Random(1)
        counts = Counter(policy.draw_stat("13800138000", rng) for _ in range(10000))
        self.assertEqual(set(counts), {"DELIVRD", "UNDELIV", "EXPIRED"})
        self.assertApproximates(counts["DELIVRD"] / 10000, 0.7, 0.03)
        self.assertApproximates(counts["UNDELIV"] / 10000, 0.2, 0.03)
        self.assertApproximates(counts["EXPIRED"] / 10000, 0.1, 0.03)

    def test_repeatable(self) -> None:
        """The same seed gives the same states."""
        policy = ReportPolicy(states={"DELIVRD": 1, "UNDELIV": 1})
        first = [policy.draw_stat("13800138000", random.Random(7)) for _ in range(20)]
        second = [policy.draw_stat("13800138000", random.Random(7)) for _ in range(20)]
        self.assertEqual(first, second)

    def test_zero_share_never(self) -> None:
        """A state with share 0 is never drawn, even at the top of the range."""
        policy = ReportPolicy(states={"EXPIRED": 0, "DELIVRD": 1, "REJECTD": 0})

        class Top(random.Random):
            def random(self) -> float:
                return 1.0 - 2**-53

        self.assertEqual(policy.draw_stat("13800138000", Top()), "DELIVRD")
        rng = random.Random(3)
        self.assertEqual({policy.draw_stat("1", rng) for _ in range(1000)}, {"DELIVRD"})

    def test_rounding_fallback(self) -> None:
        """Shares a hair under 1 still give the last positive state."""
        policy = ReportPolicy(states=(("DELIVRD", 0.5), ("UNDELIV", 0.5 - 1e-12)))

        class Top(random.Random):
            def random(self) -> float:
                return 1.0 - 2**-53

        self.assertEqual(policy.draw_stat("1", Top()), "UNDELIV")

    def test_rule(self) -> None:
        """A matching rule decides, without using the generator."""
        policy = ReportPolicy(rules=(PrefixRule("1390000", "UNDELIV"),))
        rng = random.Random(5)
        state = rng.getstate()
        self.assertEqual(policy.draw_stat("13900001234", rng), "UNDELIV")
        self.assertEqual(rng.getstate(), state)
        self.assertEqual(policy.draw_stat("13900011234", rng), "DELIVRD")

    def test_longest_prefix(self) -> None:
        """The longest matching prefix wins, whatever the rules' order."""
        rules = (
            PrefixRule("139", "EXPIRED"),
            PrefixRule("1390000", "UNDELIV"),
            PrefixRule("13900", "REJECTD"),
        )
        policy = ReportPolicy(rules=rules)
        rng = random.Random(0)
        self.assertEqual(policy.draw_stat("13900001234", rng), "UNDELIV")
        self.assertEqual(policy.draw_stat("13900101234", rng), "REJECTD")
        self.assertEqual(policy.draw_stat("13910101234", rng), "EXPIRED")
        reversed_policy = ReportPolicy(rules=rules[::-1])
        self.assertEqual(reversed_policy.draw_stat("13900001234", rng), "UNDELIV")

    def test_country_code(self) -> None:
        """Rules match the national number of +86 and 86 destinations."""
        policy = ReportPolicy(rules=(PrefixRule("1390000", "UNDELIV"),))
        rng = random.Random(0)
        self.assertEqual(policy.draw_stat("+8613900001234", rng), "UNDELIV")
        self.assertEqual(policy.draw_stat("8613900001234", rng), "UNDELIV")

    def test_not_mobile(self) -> None:
        """A destination that is not a mobile number keeps its leading 86."""
        policy = ReportPolicy(rules=(PrefixRule("10086", "UNDELIV"), PrefixRule("86", "EXPIRED")))
        rng = random.Random(0)
        self.assertEqual(policy.draw_stat("8610086", rng), "EXPIRED")
        self.assertEqual(policy.draw_stat("10086", rng), "UNDELIV")


class DrawDelayTests(SynchronousTestCase):
    """ReportPolicy.draw_delay stays within the range."""

    def test_fixed(self) -> None:
        """min == max gives that delay without using the generator."""
        rng = random.Random(1)
        state = rng.getstate()
        self.assertEqual(ReportPolicy(delay_s=(2, 2)).draw_delay(rng), 2.0)
        self.assertEqual(rng.getstate(), state)

    @given(delays, st.integers())
    def test_in_range(self, delay: list[float], seed: int) -> None:
        """Every draw lies in [min, max]."""
        low, high = delay
        policy = ReportPolicy(delay_s=(low, high))
        drawn = policy.draw_delay(random.Random(seed))
        self.assertTrue(low <= drawn <= high, (low, drawn, high))

    def test_spread(self) -> None:
        """Draws cover the range."""
        policy = ReportPolicy(delay_s=(1, 3))
        rng = random.Random(2)
        drawn = [policy.draw_delay(rng) for _ in range(1000)]
        self.assertLess(min(drawn), 1.1)
        self.assertGreater(max(drawn), 2.9)


class DrawDropTests(SynchronousTestCase):
    """FaultPolicy.draw_drop drops the configured share of responses."""

    def test_never(self) -> None:
        """Ratio 0 never drops and leaves the generator alone."""
        rng = random.Random(1)
        state = rng.getstate()
        self.assertFalse(FaultPolicy().draw_drop(rng))
        self.assertEqual(rng.getstate(), state)

    def test_always(self) -> None:
        """Ratio 1 always drops."""
        rng = random.Random(1)
        self.assertTrue(all(FaultPolicy(drop_response_ratio=1).draw_drop(rng) for _ in range(100)))

    def test_share(self) -> None:
        """Ratio 0.3 drops about 30%."""
        rng = random.Random(1)
        faults = FaultPolicy(drop_response_ratio=0.3)
        dropped = sum(faults.draw_drop(rng) for _ in range(10000))
        self.assertApproximates(dropped / 10000, 0.3, 0.03)
