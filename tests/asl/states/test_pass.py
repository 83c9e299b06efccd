"""Tests for django_asl.asl.states.pass_: the Pass state and the shared input/output processing."""
from __future__ import annotations

import pytest

from tests.asl.machines import event_types, load, run, single

INPUT = {"a": {"b": 1}, "list": [1, 2, 3], "name": "Ann"}
PASS_EVENTS = ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]


@pytest.mark.parametrize(
    "state, expected",
    [
        # no fields: the input is the output
        ({"Type": "Pass"}, INPUT),
        # Result replaces the input
        ({"Type": "Pass", "Result": {"r": 1}}, {"r": 1}),
        # a scalar Result
        ({"Type": "Pass", "Result": "done"}, "done"),
        # a null Result
        ({"Type": "Pass", "Result": None}, None),
        # Result placed at ResultPath inside the raw input
        ({"Type": "Pass", "Result": 5, "ResultPath": "$.five"}, {**INPUT, "five": 5}),
        # ResultPath replaces an existing field
        ({"Type": "Pass", "Result": 0, "ResultPath": "$.name"}, {**INPUT, "name": 0}),
        # ResultPath creates the objects along its path
        ({"Type": "Pass", "Result": 1, "ResultPath": "$.x.y.z"}, {**INPUT, "x": {"y": {"z": 1}}}),
        # ResultPath into an existing nested object keeps its other fields
        ({"Type": "Pass", "Result": 2, "ResultPath": "$.a.c"}, {**INPUT, "a": {"b": 1, "c": 2}}),
        # ResultPath to an array element
        ({"Type": "Pass", "Result": 9, "ResultPath": "$.list[1]"}, {**INPUT, "list": [1, 9, 3]}),
        # ResultPath "$" replaces the whole input
        ({"Type": "Pass", "Result": {"r": 1}, "ResultPath": "$"}, {"r": 1}),
        # ResultPath null discards the result and keeps the raw input
        ({"Type": "Pass", "Result": {"r": 1}, "ResultPath": None}, INPUT),
        # InputPath selects the effective input, which becomes the result
        ({"Type": "Pass", "InputPath": "$.a"}, {"b": 1}),
        # InputPath null gives an empty object
        ({"Type": "Pass", "InputPath": None}, {}),
        # InputPath "$" keeps everything
        ({"Type": "Pass", "InputPath": "$"}, INPUT),
        # the ResultPath target is the raw input, not the effective input
        ({"Type": "Pass", "InputPath": "$.a", "ResultPath": "$.copy"}, {**INPUT, "copy": {"b": 1}}),
        # Parameters build the effective input from the InputPath's selection
        ({"Type": "Pass", "InputPath": "$.a", "Parameters": {"v.$": "$.b", "k": "c"}}, {"v": 1, "k": "c"}),
        # Parameters with an intrinsic function
        ({"Type": "Pass", "Parameters": {"n.$": "States.ArrayLength($.list)"}}, {"n": 3}),
        # OutputPath selects from the output
        ({"Type": "Pass", "OutputPath": "$.a.b"}, 1),
        # OutputPath after ResultPath
        ({"Type": "Pass", "Result": {"r": 1}, "ResultPath": "$.res", "OutputPath": "$.res"}, {"r": 1}),
        # OutputPath null gives an empty object
        ({"Type": "Pass", "OutputPath": None}, {}),
        # an indefinite InputPath gives a list
        ({"Type": "Pass", "InputPath": "$.list[1:]"}, [2, 3]),
    ],
)
def test_pass_output(state, expected):
    result = run(single(state), INPUT)
    assert (result.status, result.output) == ("SUCCEEDED", expected)
    assert event_types(result) == PASS_EVENTS


def test_pass_does_not_change_the_input_it_was_given():
    data = {"a": {"b": 1}}
    result = run(single({"Type": "Pass", "Result": 2, "ResultPath": "$.a.c"}), data)
    assert result.output == {"a": {"b": 1, "c": 2}}
    assert data == {"a": {"b": 1}}


def test_pass_chain():
    result = run(load("pass/chain.json"), {"order": 1})
    assert result.output == {"order": 1, "first": "one", "second": "two"}
    assert event_types(result) == [
        "ExecutionStarted",
        "PassStateEntered", "PassStateExited",
        "PassStateEntered", "PassStateExited",
        "ExecutionSucceeded",
    ]


@pytest.mark.parametrize(
    "state, error, cause",
    [
        # a missing InputPath field
        (
            {"Type": "Pass", "InputPath": "$.missing"},
            "States.Runtime",
            "An error occurred while executing the state 'S' (entered at the event id #2). "
            "Invalid path '$.missing' : No results for path: $['missing']",
        ),
        # a missing OutputPath field
        (
            {"Type": "Pass", "OutputPath": "$.a.missing.deeper"},
            "States.Runtime",
            "An error occurred while executing the state 'S' (entered at the event id #2). "
            "Invalid path '$.a.missing.deeper' : Missing property in path $['a']['missing']",
        ),
        # a missing Parameters path
        (
            {"Type": "Pass", "Parameters": {"x.$": "$.x"}},
            "States.Runtime",
            "An error occurred while executing the state 'S' (entered at the event id #2). "
            "The JSONPath '$.x' specified for the field 'x.$' could not be found in the input "
            "'{\"a\":{\"b\":1},\"list\":[1,2,3],\"name\":\"Ann\"}'",
        ),
    ],
)
def test_pass_failures(state, error, cause):
    result = run(single(state), INPUT)
    assert (result.status, result.error, result.cause) == ("FAILED", error, cause)
    assert event_types(result) == ["ExecutionStarted", "PassStateEntered", "ExecutionFailed"]


def test_result_path_into_a_scalar_fails_with_result_path_match_failure():
    result = run(single({"Type": "Pass", "Result": 1, "ResultPath": "$.name.first"}), INPUT)
    assert (result.status, result.error) == ("FAILED", "States.ResultPathMatchFailure")
    assert result.cause.startswith("Unable to apply ResultPath '$.name.first' to input ")


def test_a_fixed_result_over_256_kib_fails_with_data_limit_exceeded():
    result = run(single({"Type": "Pass", "Result": "x" * (256 * 1024)}, "Big"), {})
    assert (result.status, result.error, result.cause) == (
        "FAILED",
        "States.DataLimitExceeded",
        "The state/task 'Big' returned a result with a size exceeding the maximum number of bytes service limit.",
    )


def test_a_fixed_result_of_exactly_256_kib_is_allowed():
    # 256 KiB of JSON text: the quotes count.
    result = run(single({"Type": "Pass", "Result": "x" * (256 * 1024 - 2)}), {})
    assert result.status == "SUCCEEDED"
