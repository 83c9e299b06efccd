"""Tests for django_asl.asl.states.message: the Message state (a django-asl extension) in memory.

The durable side (send_message, kept messages, races) is tested in
tests/engine/test_messages.py and tests/engine/test_message_races.py.
"""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from django_asl import asl
from django_asl.asl.driver import MESSAGE, Cursor, Driver
from django_asl.asl.outcomes import AwaitMessage
from django_asl.asl.states.message import canonical_json, correlation_digest
from django_asl.asl.validation import validate
from tests.asl.machines import START, elapsed, event_types, load, single

RECEIVED = ["ExecutionStarted", "MessageStateEntered", "MessageWaitStarted", "MessageReceived",
            "MessageStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
PREFIX = "An error occurred while executing the state 'Await' (entered at the event id #2). "


REMOVE = object()


def with_fields(**fields):
    """Return the Message fixture with ``fields`` set on its Message state (``REMOVE`` removes a field)."""
    definition = load("message/wait_then_pass.json")
    state = definition["States"]["Await"]
    for key, value in fields.items():
        if value is REMOVE:
            state.pop(key, None)
        else:
            state[key] = value
    return definition


def run(definition, input=None, **options):
    return asl.run(definition, input, context=asl.Context(clock=asl.VirtualClock(START)), **options)


# -- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state",
    [
        # the smallest Message state: the whole input is the correlation value, no timeout
        {"Type": "Message", "CorrelationKey": "k"},
        # every field
        {"Type": "Message", "CorrelationKey": "payment", "CorrelationValuePath": "$.order.id",
         "MessagePath": "$.amount", "TimeoutSeconds": 99_999_999, "InputPath": "$.in", "ResultPath": "$.paid",
         "OutputPath": "$", "Comment": "waits for the payment",
         "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 2}],
         "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "S", "ResultPath": "$.error"}]},
        # TimeoutSecondsPath instead of TimeoutSeconds; paths may read the context object
        {"Type": "Message", "CorrelationKey": "k" * 256, "TimeoutSecondsPath": "$.timeout",
         "CorrelationValuePath": "$$.Execution.Name", "ResultPath": None},
    ],
)
def test_valid_message_states_have_no_issues(state):
    assert validate(single(state)) == []


@pytest.mark.parametrize(
    "state, path, message",
    [
        # CorrelationKey is required
        ({"Type": "Message"}, "$.States.S.CorrelationKey",
         "'$.States.S.CorrelationKey' is required in a Message state."),
        # and must fit its column
        ({"Type": "Message", "CorrelationKey": "k" * 257}, "$.States.S.CorrelationKey",
         "The value of '$.States.S.CorrelationKey' must be a string of 1 to 256 characters."),
        # TimeoutSeconds is a positive integer
        ({"Type": "Message", "CorrelationKey": "k", "TimeoutSeconds": 1.5}, "$.States.S.TimeoutSeconds",
         "The value of '$.States.S.TimeoutSeconds' must be a positive integer."),
        # MessagePath is a Path
        ({"Type": "Message", "CorrelationKey": "k", "MessagePath": "amount"}, "$.States.S.MessagePath",
         "'$.States.S.MessagePath' is not a valid Path: The path 'amount' must start with '$'."),
        # Parameters are not supported
        ({"Type": "Message", "CorrelationKey": "k", "Parameters": {}}, "$.States.S.Parameters",
         "'$.States.S.Parameters' is not a field of a Message state."),
    ],
)
def test_invalid_message_states_are_reported_with_path_and_message(state, path, message):
    issues = validate(single(state))
    assert [(issue.path, issue.message) for issue in issues] == [(path, message)]


def test_a_message_state_in_a_jsonata_machine_is_refused():
    definition = {"QueryLanguage": "JSONata", **single({"Type": "Message", "CorrelationKey": "k"})}
    assert [(issue.path, issue.code, issue.message) for issue in validate(definition)] == [(
        "$.States.S.Type", "jsonpath_only_state",
        "'$.States.S' is a Message state, which only supports the JSONPath query language.")]


# -- correlation digests ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "first, second, same",
    [
        # object key order does not matter
        ({"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1}, True),
        # 2.0 and 2 are the same JSON number
        ({"n": 2.0}, {"n": 2}, True),
        # true is not 1
        (True, 1, False),
        # a string is not the number it spells
        ("1", 1, False),
        # null is a value of its own
        (None, "null", False),
    ],
)
def test_values_equal_as_json_have_the_same_digest(first, second, same):
    assert (correlation_digest("k", first) == correlation_digest("k", second)) is same


def test_the_key_is_part_of_the_digest_and_non_json_values_are_refused():
    assert correlation_digest("a", 1) != correlation_digest("b", 1)
    assert correlation_digest("ab", "c") != correlation_digest("a", "bc")
    with pytest.raises(ValueError):
        canonical_json(float("nan"))
    with pytest.raises(ValueError):
        canonical_json({1, 2})


# -- running in memory -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, input, data, output",
    [
        # the message's data replaces the input (no ResultPath)
        ({}, {"order": "A-1"}, {"paid": 10}, {"paid": 10}),
        # ResultPath places it into the input
        ({"ResultPath": "$.payment"}, {"order": "A-1"}, 10, {"order": "A-1", "payment": 10}),
        # MessagePath selects part of the data
        ({"MessagePath": "$.amount", "ResultPath": "$.amount"}, {"order": "A-1"}, {"amount": 7, "x": 1},
         {"order": "A-1", "amount": 7}),
        # ResultPath null discards the data
        ({"ResultPath": None}, {"order": "A-1"}, {"ignored": True}, {"order": "A-1"}),
        # OutputPath filters the result
        ({"ResultPath": "$.payment", "OutputPath": "$.payment"}, {"order": "A-1"}, [1, 2], [1, 2]),
        # CorrelationValuePath reads the effective input (after InputPath)
        ({"InputPath": "$.wrapper", "ResultPath": "$.r"}, {"wrapper": {"order": "A-1"}}, 1,
         {"wrapper": {"order": "A-1"}, "r": 1}),
    ],
)
def test_a_message_resumes_the_state_with_its_data(fields, input, data, output):
    result = run(with_fields(**fields), input, messages={("payment", "A-1"): data})
    assert (result.status, result.output) == ("SUCCEEDED", output)
    assert event_types(result) == RECEIVED
    received = result.history[3]["details"]
    assert received == {"correlation_key": "payment", "correlation_value": "A-1", "data": data}


def test_without_correlation_value_path_the_whole_effective_input_correlates():
    definition = with_fields(CorrelationValuePath=REMOVE, ResultPath="$.r")
    result = run(definition, {"order": "A-1", "n": 2}, messages={("payment", "A-1"): 0})
    assert result.status == "FAILED"  # no message for that value: no timeout, so States.Runtime
    seen = []

    def messages(key, value):
        seen.append((key, value))
        return "ok"

    result = run(definition, {"order": "A-1", "n": 2}, messages=messages)
    assert seen == [("payment", {"order": "A-1", "n": 2})]
    assert result.output == {"order": "A-1", "n": 2, "r": "ok"}


def test_a_callable_answers_or_raises_lookup_error_for_no_message():
    def messages(key, value):
        raise KeyError(value)

    result = run(with_fields(TimeoutSeconds=30), {"order": "A-1"}, messages=messages)
    assert (result.status, result.error) == ("FAILED", "States.Timeout")


def test_a_wait_with_no_message_times_out_on_the_virtual_clock_with_states_timeout():
    result = run(with_fields(TimeoutSeconds=90), {"order": "A-1"})
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    assert result.cause == ("The Message state 'Await' received no message for CorrelationKey 'payment' "
                            "within 90 seconds.")
    assert elapsed(result) == 90
    assert event_types(result) == ["ExecutionStarted", "MessageStateEntered", "MessageWaitStarted",
                                   "MessageTimedOut", "ExecutionFailed"]
    assert result.history[2]["details"] == {"correlation_key": "payment", "correlation_value": "A-1",
                                            "timeout_seconds": 90}


def test_the_timeout_is_caught_like_a_task_error():
    definition = with_fields(TimeoutSeconds=5, Catch=[
        {"ErrorEquals": ["States.Timeout"], "Next": "After", "ResultPath": "$.error"}])
    result = run(definition, {"order": "A-1"})
    assert result.status == "SUCCEEDED"
    assert result.output == {"order": "A-1", "error": {
        "Error": "States.Timeout",
        "Cause": "The Message state 'Await' received no message for CorrelationKey 'payment' within 5 seconds."}}


def test_the_timeout_is_retried_and_each_attempt_waits_again():
    attempts = []

    def messages(key, value):
        attempts.append(value)
        if len(attempts) < 3:
            raise LookupError
        return "late"

    definition = with_fields(TimeoutSeconds=10, ResultPath="$.r", Retry=[
        {"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 1, "BackoffRate": 1, "MaxAttempts": 2}])
    result = run(definition, {"order": "A-1"}, messages=messages)
    assert (result.status, result.output) == ("SUCCEEDED", {"order": "A-1", "r": "late"})
    assert elapsed(result) == 10 + 1 + 10 + 1  # two timed-out waits, two retry intervals, then the message
    assert event_types(result).count("MessageWaitStarted") == 3


def test_timeout_seconds_path_reads_the_effective_input():
    result = run(with_fields(TimeoutSecondsPath="$.wait"), {"order": "A-1", "wait": 42})
    assert (result.error, elapsed(result)) == ("States.Timeout", 42)


@pytest.mark.parametrize(
    "fields, input, cause",
    [
        # the correlation value is missing from the input
        ({}, {"other": 1},
         PREFIX + "The CorrelationValuePath selects nothing: Invalid path '$.order' : No results for path: "
                  "$['order']"),
        # TimeoutSecondsPath must select a positive integer
        ({"TimeoutSecondsPath": "$.wait"}, {"order": "A-1", "wait": 0},
         PREFIX + "The TimeoutSecondsPath field refers to value \"0\" which is not a valid positive integer: "
                  "$.wait"),
        # no timeout and nothing can arrive in memory
        ({}, {"order": "A-1"},
         PREFIX + "The Message state waits for CorrelationKey 'payment' without TimeoutSeconds, and no message "
                  "can arrive in an in-memory run: pass run(..., messages=...)."),
    ],
)
def test_runtime_errors_fail_the_execution_with_states_runtime(fields, input, cause):
    result = run(with_fields(**fields), input)
    assert (result.status, result.error, result.cause) == ("FAILED", "States.Runtime", cause)


def test_a_message_path_that_selects_nothing_fails_the_state():
    result = run(with_fields(MessagePath="$.amount"), {"order": "A-1"}, messages={("payment", "A-1"): {}})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause.endswith("The MessagePath selects nothing: Invalid path '$.amount' : No results for path: "
                                 "$['amount']")


def test_message_states_run_in_parallel_branches():
    def branch(name):
        return {"StartAt": name, "States": {name: {"Type": "Message", "CorrelationKey": "k",
                                                   "CorrelationValuePath": "$.id", "End": True}}}

    definition = single({"Type": "Parallel", "Branches": [branch("A"), branch("B")]})
    result = run(definition, {"id": 3}, messages={("k", 3.0): "three"})
    assert result.output == ["three", "three"]


@pytest.mark.parametrize(
    "messages, error",
    [
        # not a mapping or a callable
        (["k", 1], "messages must be a mapping {(correlation_key, correlation_value): data} or a callable, not list."),
        # a key that is not a (key, value) pair
        ({"k": 1}, ("Each key of messages must be a tuple (correlation_key, correlation_value) with a string "
                    "correlation key, not 'k'.")),
    ],
)
def test_bad_messages_arguments_are_refused(messages, error):
    with pytest.raises(TypeError) as raised:
        run(with_fields(), {"order": "A-1"}, messages=messages)
    assert str(raised.value) == error


# -- the driver and the cursor ---------------------------------------------------------------------


def test_the_cursor_of_a_waiting_machine_round_trips_through_json():
    machine = asl.parse_definition(with_fields(TimeoutSeconds=60))
    context = asl.Context(clock=asl.VirtualClock(START))
    events = []
    driver = Driver(machine, context, lambda kind, details=None: events.append(kind) or len(events))
    cursor = driver.start({"order": "A-1"})
    wait = driver.advance(cursor)
    assert wait == AwaitMessage("payment", "A-1", 60, START + timedelta(seconds=60))
    assert cursor.phase == MESSAGE
    stored = Cursor.from_dict(json.loads(json.dumps(cursor.as_dict())))
    assert (stored.phase, stored.pending) == (MESSAGE, wait)
    fresh = Driver(machine, context, lambda kind, details=None: events.append(kind) or len(events))
    end = fresh.resume_message(stored, {"paid": True})
    assert end.end.output == {"paid": True}
    with pytest.raises(ValueError, match="resume_message\\(\\) needs a cursor waiting in a Message state"):
        fresh.resume_message(stored, {"paid": True})  # the cursor moved on
