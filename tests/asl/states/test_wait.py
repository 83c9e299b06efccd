"""Tests for django_asl.asl.states.wait: the Wait state on a virtual clock."""
from __future__ import annotations

import pytest

from tests.asl.machines import elapsed, event_types, load, run

PREFIX = "An error occurred while executing the state 'Hold' (entered at the event id #2). "
EVENTS = ["ExecutionStarted", "WaitStateEntered", "WaitStateExited", "PassStateEntered", "PassStateExited",
          "ExecutionSucceeded"]


def with_timing(**fields):
    """Return the Wait fixture with its timing field replaced by ``fields``."""
    definition = load("wait/then_pass.json")
    hold = definition["States"]["Hold"]
    del hold["Seconds"]
    hold.update(fields)
    return definition


@pytest.mark.parametrize(
    "fields, input, seconds",
    [
        # a fixed number of seconds
        ({"Seconds": 90}, {}, 90),
        # zero seconds
        ({"Seconds": 0}, {}, 0),
        # seconds read from the input
        ({"SecondsPath": "$.delay"}, {"delay": 45}, 45),
        # a whole float is accepted
        ({"SecondsPath": "$.delay"}, {"delay": 3.0}, 3),
        # SecondsPath reads the effective input
        ({"InputPath": "$.opts", "SecondsPath": "$.delay"}, {"opts": {"delay": 7}}, 7),
        # a fixed timestamp five minutes after the start (the start is 2024-01-01T00:00:00Z)
        ({"Timestamp": "2024-01-01T00:05:00Z"}, {}, 300),
        # a timestamp with an offset
        ({"Timestamp": "2024-01-01T01:00:30+01:00"}, {}, 30),
        # a timestamp in the past does not wait
        ({"Timestamp": "2023-12-31T23:00:00Z"}, {}, 0),
        # a timestamp read from the input
        ({"TimestampPath": "$.at"}, {"at": "2024-01-01T00:00:10.500Z"}, 10.5),
    ],
)
def test_wait_advances_the_virtual_clock(fields, input, seconds):
    result = run(with_timing(**fields), input)
    assert result.status == "SUCCEEDED"
    assert elapsed(result) == seconds
    assert event_types(result) == EVENTS


@pytest.mark.parametrize(
    "fields, input, output",
    [
        # the input passes through
        ({"Seconds": 1}, {"a": 1}, {"a": 1}),
        # InputPath narrows it
        ({"Seconds": 1, "InputPath": "$.a"}, {"a": {"b": 2}}, {"b": 2}),
        # OutputPath narrows the output
        ({"Seconds": 1, "OutputPath": "$.b"}, {"a": 1, "b": [2]}, [2]),
        # OutputPath null gives an empty object
        ({"Seconds": 1, "OutputPath": None}, {"a": 1}, {}),
    ],
)
def test_wait_output(fields, input, output):
    result = run(with_timing(**fields), input)
    assert result.output == output


@pytest.mark.parametrize(
    "fields, input, cause",
    [
        # SecondsPath finds nothing
        ({"SecondsPath": "$.delay"}, {}, "The SecondsPath parameter does not reference an input value: $.delay"),
        # a fraction (AWS)
        ({"SecondsPath": "$.delay"}, {"delay": 1.5},
         "The SecondsPath parameter cannot be parsed as a long value: $.delay == 1.5"),
        # a negative fraction (AWS)
        ({"SecondsPath": "$.delay"}, {"delay": -1.5},
         "The SecondsPath parameter cannot be parsed as a long value: $.delay == -1.5"),
        # a string
        ({"SecondsPath": "$.delay"}, {"delay": "10"},
         "The SecondsPath parameter cannot be parsed as a long value: $.delay == 10"),
        # a negative number
        ({"SecondsPath": "$.delay"}, {"delay": -1},
         "The SecondsPath parameter references a negative value: $.delay == -1"),
        # TimestampPath finds nothing
        ({"TimestampPath": "$.at"}, {}, "The TimestampPath parameter does not reference an input value: $.at"),
        # day and month swapped (AWS)
        ({"TimestampPath": "$.at"}, {"at": "05-12-2016T21:29:29Z"},
         "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format "
         "string: $.at == 05-12-2016T21:29:29Z"),
        # no time zone (AWS)
        ({"TimestampPath": "$.at"}, {"at": "2016-12-05T21:29:29"},
         "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format "
         "string: $.at == 2016-12-05T21:29:29"),
        # month 13 (AWS)
        ({"TimestampPath": "$.at"}, {"at": "2016-13-05T21:29:29Z"},
         "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format "
         "string: $.at == 2016-13-05T21:29:29Z"),
        # a number
        ({"TimestampPath": "$.at"}, {"at": 5},
         "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format "
         "string: $.at == 5"),
    ],
)
def test_wait_path_errors(fields, input, cause):
    result = run(with_timing(**fields), input)
    assert (result.status, result.error, result.cause) == ("FAILED", "States.Runtime", PREFIX + cause)
    assert event_types(result) == ["ExecutionStarted", "WaitStateEntered", "ExecutionFailed"]
