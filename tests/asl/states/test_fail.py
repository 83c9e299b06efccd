"""Tests for django_asl.asl.states.fail: the Fail state's error and cause."""
from __future__ import annotations

import pytest

from tests.asl.machines import event_types, load, run, single


@pytest.mark.parametrize(
    "state, error, cause",
    [
        # fixed Error and Cause
        ({"Type": "Fail", "Error": "OrderRejected", "Cause": "too late"}, "OrderRejected", "too late"),
        # Error only
        ({"Type": "Fail", "Error": "OrderRejected"}, "OrderRejected", None),
        # neither
        ({"Type": "Fail"}, None, None),
        # ErrorPath and CausePath read the input
        ({"Type": "Fail", "ErrorPath": "$.code", "CausePath": "$.why"}, "E42", "because"),
        # CausePath with a fixed Error
        ({"Type": "Fail", "Error": "Fixed", "CausePath": "$.why"}, "Fixed", "because"),
        # an intrinsic function as CausePath
        (
            {"Type": "Fail", "Error": "E", "CausePath": "States.Format('code {} failed', $.code)"},
            "E",
            "code E42 failed",
        ),
        # a context path as ErrorPath
        ({"Type": "Fail", "ErrorPath": "$$.State.Name", "Cause": "c"}, "S", "c"),
    ],
)
def test_fail(state, error, cause):
    result = run(single(state), {"code": "E42", "why": "because"})
    assert (result.status, result.output, result.error, result.cause) == ("FAILED", None, error, cause)
    assert event_types(result) == ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]
    assert result.history[-1]["details"] == {"error": error, "cause": cause}


def test_error_and_cause_paths_after_another_state():
    result = run(load("fail/after_pass.json"), {"error": "Rejected", "detail": {"text": "out of stock"}})
    assert (result.status, result.error, result.cause) == ("FAILED", "Rejected", "out of stock")
    assert event_types(result) == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "FailStateEntered",
                                   "ExecutionFailed"]


@pytest.mark.parametrize(
    "input, cause",
    [
        # ErrorPath finds nothing
        ({"detail": {"text": "x"}}, "The ErrorPath field could not be found in the input: $.error"),
        # CausePath finds nothing
        ({"error": "E", "detail": {}}, "The CausePath field could not be found in the input: $.detail.text"),
        # ErrorPath is not a string
        ({"error": 5, "detail": {"text": "x"}}, "The ErrorPath field must resolve to a string, but was: $.error"),
    ],
)
def test_error_and_cause_path_failures(input, cause):
    result = run(load("fail/after_pass.json"), input)
    # 1 ExecutionStarted, 2 PassStateEntered, 3 PassStateExited, 4 FailStateEntered
    assert (result.status, result.error, result.cause) == (
        "FAILED", "States.Runtime",
        "An error occurred while executing the state 'Stop' (entered at the event id #4). " + cause)
