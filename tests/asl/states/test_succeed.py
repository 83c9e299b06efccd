"""Tests for django_asl.asl.states.succeed: the Succeed state."""
from __future__ import annotations

import pytest

from tests.asl.machines import event_types, run, single


@pytest.mark.parametrize(
    "state, output",
    [
        # the input is the output
        ({"Type": "Succeed"}, {"a": {"b": 1}}),
        # InputPath narrows it
        ({"Type": "Succeed", "InputPath": "$.a"}, {"b": 1}),
        # OutputPath narrows it
        ({"Type": "Succeed", "OutputPath": "$.a.b"}, 1),
        # InputPath then OutputPath
        ({"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"}, 1),
        # OutputPath null gives an empty object
        ({"Type": "Succeed", "OutputPath": None}, {}),
    ],
)
def test_succeed(state, output):
    result = run(single(state), {"a": {"b": 1}})
    assert (result.status, result.output) == ("SUCCEEDED", output)
    assert event_types(result) == ["ExecutionStarted", "SucceedStateEntered", "SucceedStateExited",
                                   "ExecutionSucceeded"]
