"""Tests for django_asl.asl.states.choice: routing by the first matching rule."""
from __future__ import annotations

import pytest

from tests.asl.machines import event_types, load, run

EVENTS = ["ExecutionStarted", "ChoiceStateEntered", "ChoiceStateExited", "PassStateEntered", "PassStateExited",
          "ExecutionSucceeded"]


@pytest.mark.parametrize(
    "input, output",
    [
        # the first rule
        ({"n": 11}, "big"),
        # the first rule wins even when a later one matches too
        ({"n": 11, "kind": "vip"}, "big"),
        # the second rule
        ({"n": 1, "kind": "vip"}, "vip"),
        # a compound rule
        ({"n": -1, "kind": "regular"}, "negative"),
        # no rule matches: Default
        ({"n": 5, "kind": "regular"}, "other"),
    ],
)
def test_route(input, output):
    result = run(load("choice/route.json"), input)
    assert (result.status, result.output) == ("SUCCEEDED", output)
    assert event_types(result) == EVENTS


def test_choice_output_is_the_input_through_input_path_and_output_path():
    result = run(load("choice/no_default.json"), {"payload": {"n": 1, "keep": {"k": 1}}, "other": 2})
    assert (result.status, result.output) == ("SUCCEEDED", {"k": 1})
    assert event_types(result) == ["ExecutionStarted", "ChoiceStateEntered", "ChoiceStateExited",
                                   "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"]


def test_no_choice_matched_without_default():
    result = run(load("choice/no_default.json"), {"payload": {"n": 2, "keep": {}}})
    assert (result.status, result.error) == ("FAILED", "States.NoChoiceMatched")
    assert event_types(result) == ["ExecutionStarted", "ChoiceStateEntered", "ExecutionFailed"]


def test_a_missing_variable_is_a_runtime_error():
    # AWS fails the state rather than treating the rule as not matching.
    result = run(load("choice/route.json"), {"n": 5})
    assert (result.status, result.error, result.cause) == (
        "FAILED", "States.Runtime",
        "An error occurred while executing the state 'Route' (entered at the event id #2). "
        "Invalid path '$.kind': The choice state's condition path references an invalid value.",
    )
