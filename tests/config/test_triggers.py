"""Tests for :mod:`smsgw.config.triggers` (deterministic behaviour by destination number)."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from smsgw.config.policy import Policy, PolicyError
from smsgw.config.triggers import Trigger, first_trigger, parse_pattern, parse_triggers


def _digits(low: int, high: int) -> st.SearchStrategy[str]:
    return st.text(st.sampled_from("0123456789"), min_size=low, max_size=high)


numbers = st.one_of(
    _digits(1, 21),
    st.builds(lambda cc, rest: f"{cc}1{rest}", st.sampled_from(["", "86", "+86"]), _digits(10, 10)),
)
patterns = st.one_of(
    st.just("*"),
    _digits(1, 11),
    _digits(1, 11).map(lambda d: "*" + d),
    _digits(1, 11).map(lambda d: d + "*"),
)
trigger_docs = st.fixed_dictionaries(
    {"match": patterns},
    optional={
        "account": st.sampled_from(["901234", "901235"]),
        "response_delay_s": st.floats(min_value=0, max_value=600),
        "stat": st.sampled_from(["DELIVRD", "UNDELIV", "EXPIRED", "MK:0001"]),
        "report_delay_s": st.integers(min_value=0, max_value=3600),
        "mo_reply": st.text(min_size=1, max_size=20),
    },
)


class PatternTests(SynchronousTestCase):
    """The ``match`` forms."""

    def test_forms(self) -> None:
        """Each pattern form matches what the table in the README says."""
        cases: list[tuple[str, str, bool]] = [
            ("*", "13800138000", True),
            ("13800138000", "13800138000", True),
            ("13800138000", "13800138001", False),
            ("13800138000", "+8613800138000", True),
            ("13800138000", "8613800138000", True),
            ("1380000*", "13800001234", True),
            ("1380000*", "13900001234", False),
            ("*0002", "13800000002", True),
            ("*0002", "+8613800000002", True),
            ("*0002", "13800000020", False),
        ]
        for pattern, number, expected in cases:
            self.assertEqual(Trigger(pattern).matches(number), expected, (pattern, number))

    def test_bad_patterns(self) -> None:
        """Anything but the four forms is a PolicyError naming ``match``."""
        for pattern in ("", "**", "*13*", "+8613800138000", "13a", " 1", "1*3", 13, None):
            with self.assertRaises(PolicyError) as caught:
                parse_pattern(pattern)
            self.assertEqual(caught.exception.field, "match")

    @given(st.text(st.sampled_from("*+0123456789a "), max_size=12) | st.integers() | st.none())
    @example("*")
    @example("0*")
    def test_total(self, pattern: object) -> None:
        """Any value is either a pattern (kind, digits) or a PolicyError naming ``match``."""
        try:
            kind, digits = parse_pattern(pattern)
        except PolicyError as error:
            self.assertEqual(error.field, "match")
        else:
            self.assertIn(kind, ("any", "exact", "prefix", "suffix"))
            self.assertEqual(kind == "any", digits == "")

    @given(patterns, numbers)
    def test_match_is_total(self, pattern: str, number: str) -> None:
        """A valid pattern gives True or False for any number; ``*`` always True."""
        result = Trigger(pattern).matches(number)
        self.assertIsInstance(result, bool)
        if pattern == "*":
            self.assertTrue(result)

    @given(numbers)
    def test_own_number_matches(self, number: str) -> None:
        """A number as an exact pattern, its prefix and its suffix all match it."""
        digits = number.lstrip("+")
        self.assertTrue(Trigger(digits).matches(number))
        self.assertTrue(Trigger(digits[:3] + "*").matches(digits))
        self.assertTrue(Trigger("*" + digits[-3:]).matches(number))


class TriggerTests(SynchronousTestCase):
    """Validation of one trigger's fields."""

    def test_bad_values(self) -> None:
        """A bad value is a PolicyError naming its field."""
        cases: list[tuple[dict[str, Any], str]] = [
            ({"match": "*1", "response_delay_s": -1}, "response_delay_s"),
            ({"match": "*1", "response_delay_s": 601}, "response_delay_s"),
            ({"match": "*1", "no_response": 1}, "no_response"),
            ({"match": "*1", "close": "yes"}, "close"),
            ({"match": "*1", "result": 256}, "result"),
            ({"match": "*1", "result": True}, "result"),
            ({"match": "*1", "throttle": None}, "throttle"),
            ({"match": "*1", "stat": "DELIV"}, "stat"),
            ({"match": "*1", "report_delay_s": "5"}, "report_delay_s"),
            ({"match": "*1", "no_report": 0}, "no_report"),
            ({"match": "*1", "mo_reply": ""}, "mo_reply"),
            ({"match": "*1", "mo_reply": "x" * 501}, "mo_reply"),
            ({"match": "*1", "mo_reply": "TD", "mo_delay_s": -1}, "mo_delay_s"),
            ({"match": "*1", "account": ""}, "account"),
        ]
        for doc, field in cases:
            with self.assertRaises(PolicyError) as caught:
                Trigger(**doc)
            self.assertEqual(caught.exception.field, field, doc)

    def test_contradictions(self) -> None:
        """Keys that contradict each other are refused, naming the later one."""
        cases: list[tuple[dict[str, Any], str]] = [
            ({"result": 8, "throttle": True}, "throttle"),
            ({"no_response": True, "close": True}, "close"),
            ({"no_response": True, "response_delay_s": 1}, "response_delay_s"),
            ({"close": True, "response_delay_s": 1}, "response_delay_s"),
            ({"no_report": True, "stat": "UNDELIV"}, "no_report"),
            ({"no_report": True, "report_delay_s": 1}, "no_report"),
            ({"mo_delay_s": 1}, "mo_delay_s"),
            ({"result": 8, "stat": "UNDELIV"}, "stat"),
            ({"throttle": True, "report_delay_s": 2}, "report_delay_s"),
            ({"result": 8, "no_report": True}, "no_report"),
            ({"throttle": True, "mo_reply": "TD"}, "mo_reply"),
            ({"close": True, "terminate": True}, "terminate"),
            ({"terminate": True, "nack": True}, "nack"),
            ({"terminate": True, "response_delay_s": 1}, "response_delay_s"),
            ({"throttle": True, "nack": True}, "nack"),
            ({"nack": True, "stat": "UNDELIV"}, "stat"),
        ]
        for doc, field in cases:
            with self.assertRaises(PolicyError) as caught:
                Trigger("*1", **doc)
            self.assertEqual(caught.exception.field, field, doc)

    def test_refused_may_be_delayed_or_unanswered(self) -> None:
        """A refusing trigger may still delay its answer, or never send it."""
        self.assertTrue(Trigger("*1", result=8, response_delay_s=3).refuses)
        self.assertTrue(Trigger("*1", throttle=True, no_response=True).refuses)
        self.assertFalse(Trigger("*1", stat="UNDELIV").refuses)


class DocumentTests(SynchronousTestCase):
    """``triggers`` in the policy document."""

    def test_parse_names_the_path(self) -> None:
        """Errors name the array index and the key."""
        cases: list[tuple[object, str]] = [
            ({"match": "*1"}, "triggers"),
            (["*1"], "triggers[0]"),
            ([{"match": "*1"}, {"stat": "UNDELIV"}], "triggers[1].match"),
            ([{"match": "*1", "when": 1}], "triggers[0].when"),
            ([{"match": "*1", "stat": 7}], "triggers[0].stat"),
        ]
        for data, field in cases:
            with self.assertRaises(PolicyError) as caught:
                parse_triggers(data)
            self.assertEqual(caught.exception.field, field, data)

    def test_policy_round_trip(self) -> None:
        """A policy's triggers come back from its JSON unchanged, defaults left out."""
        doc = {
            "triggers": [
                {"match": "*0001", "stat": "DELIVRD"},
                {"match": "*0002", "stat": "UNDELIV", "report_delay_s": 5},
                {"match": "*0003", "result": 8},
                {"match": "1380000*", "account": "901234", "no_response": True},
                {"match": "*0009", "mo_reply": "TD", "mo_delay_s": 2},
            ]
        }
        policy = Policy.from_json(doc)
        self.assertEqual(policy.to_json()["triggers"], doc["triggers"])
        self.assertEqual(Policy.from_json(policy.to_json()), policy)

    @given(st.lists(trigger_docs, max_size=6))
    def test_round_trip_property(self, docs: list[dict[str, Any]]) -> None:
        """Any valid list of triggers round-trips through the policy's JSON."""
        policy = Policy.from_json({"triggers": docs})
        self.assertEqual(Policy.from_json(policy.to_json()), policy)
        self.assertEqual(len(policy.triggers), len(docs))

    def test_merge_replaces_whole(self) -> None:
        """PUT with ``triggers`` replaces the list; without, keeps it."""
        policy = Policy.from_json({"triggers": [{"match": "*1"}, {"match": "*2"}]})
        self.assertEqual(len(policy.merged({"faults": {"submit_result": 0}}).triggers), 2)
        self.assertEqual(policy.merged({"triggers": [{"match": "*3"}]}).triggers, (Trigger("*3"),))
        self.assertEqual(policy.merged({"triggers": []}).triggers, ())


class FirstTriggerTests(SynchronousTestCase):
    """Which trigger decides."""

    def test_order(self) -> None:
        """The account's triggers first, then the others; the first in list order wins."""
        general = Trigger("*", stat="DELIVRD")
        suffix = Trigger("*0002", stat="UNDELIV")
        mine = Trigger("*2", account="901234", stat="EXPIRED")
        others = Trigger("*", account="901235", stat="REJECTD")
        triggers = (general, suffix, mine, others)
        self.assertIs(first_trigger(triggers, "901234", "13800000002"), mine)
        self.assertIs(first_trigger(triggers, "901234", "13800000001"), general)
        self.assertIs(first_trigger(triggers, "901235", "13800000002"), others)
        self.assertIs(first_trigger(triggers, None, "13800000002"), general)
        self.assertIs(first_trigger((suffix, general), "901236", "13800000002"), suffix)
        self.assertIsNone(first_trigger((suffix, mine), "901236", "13800000001"))

    def test_policy_without_triggers(self) -> None:
        """A policy without triggers decides nothing."""
        self.assertIsNone(Policy().trigger_for("901234", "13800000002"))
