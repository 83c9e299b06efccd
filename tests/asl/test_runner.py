"""Tests for django_asl.asl.runner (and parse_definition): running machines in memory."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from django_asl import asl
from django_asl.asl import Context, DefinitionError, TaskError, VirtualClock, parse_definition
from tests.asl.machines import START, elapsed, event_types, load, run, single

PASS = single({"Type": "Pass"})


@pytest.mark.parametrize(
    "input, output",
    [
        # no input means {} (AWS)
        (None, {}),
        # an object
        ({"a": 1}, {"a": 1}),
        # any JSON value
        ([1, "two"], [1, "two"]),
        # a string
        ("text", "text"),
    ],
)
def test_run_input(input, output):
    result = asl.run(PASS, input)
    assert (result.status, result.output, result.error, result.cause) == ("SUCCEEDED", output, None, None)


@pytest.mark.parametrize(
    "definition",
    [
        # a dict
        single({"Type": "Pass", "Result": 1}),
        # JSON text
        json.dumps(single({"Type": "Pass", "Result": 1})),
        # YAML text
        "StartAt: S\nStates:\n  S:\n    Type: Pass\n    Result: 1\n    End: true\n",
        # a parsed StateMachine
        parse_definition(single({"Type": "Pass", "Result": 1})),
    ],
)
def test_run_accepts_every_form_of_definition(definition):
    assert asl.run(definition).output == 1


def test_result_identity_dates_and_history():
    context = Context(execution_name="run-1", state_machine_name="Orders", clock=VirtualClock(START))
    result = asl.run(load("runner/loop.json"), {}, context=context)
    assert (result.status, result.output) == ("SUCCEEDED", {"count": 3})
    assert result.execution_id == "arn:aws:states:local:000000000000:execution:Orders:run-1"
    assert (result.start_date, result.stop_date) == (START, START + timedelta(seconds=6))
    assert result.as_dict() == {"execution_id": result.execution_id, "status": "SUCCEEDED", "output": {"count": 3},
                                "error": None, "cause": None}
    turn = ["ChoiceStateEntered", "ChoiceStateExited", "WaitStateEntered", "WaitStateExited",
            "PassStateEntered", "PassStateExited"]
    assert event_types(result) == [
        "ExecutionStarted", "PassStateEntered", "PassStateExited", *turn * 3,
        "ChoiceStateEntered", "ChoiceStateExited", "SucceedStateEntered", "SucceedStateExited",
        "ExecutionSucceeded",
    ]
    assert [event["id"] for event in result.history] == list(range(1, len(result.history) + 1))
    assert result.history[0]["details"] == {"input": {}}
    assert result.history[0]["timestamp"] == START
    assert result.history[-1]["timestamp"] == START + timedelta(seconds=6)


def test_waits_take_no_real_time_on_the_virtual_clock():
    started = time.monotonic()
    result = run(single({"Type": "Wait", "Seconds": 86_400}), {})
    assert time.monotonic() - started < 1
    assert elapsed(result) == 86_400


def test_execution_input_is_in_the_context_object():
    definition = single({"Type": "Pass", "Parameters": {"in.$": "$$.Execution.Input", "name.$": "$$.Execution.Name"}})
    result = asl.run(definition, {"x": 1}, context=Context(execution_name="named"))
    assert result.output == {"in": {"x": 1}, "name": "named"}


def test_execution_timeout():
    result = run(load("runner/timeout.json"), {})
    assert (result.status, result.output, result.error) == ("TIMED_OUT", None, "States.Timeout")
    assert elapsed(result) == 10
    assert event_types(result) == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "WaitStateEntered",
                                   "ExecutionTimedOut"]


def always_flaky(data, context):
    raise TaskError("Flaky")


def test_execution_timeout_during_retry_backoff():
    definition = load("task/retry_backoff.json")
    definition["TimeoutSeconds"] = 5
    result = run(definition, {}, tasks={"urn:app:charge": always_flaky})
    # Retries after 2 s and then 6 s: the second one is past the deadline.
    assert (result.status, result.error) == ("TIMED_OUT", "States.Timeout")
    assert elapsed(result) == 5
    assert event_types(result) == ["ExecutionStarted", "TaskStateEntered",
                                   "TaskScheduled", "TaskStarted", "TaskFailed",
                                   "TaskScheduled", "TaskStarted", "TaskFailed",
                                   "ExecutionTimedOut"]


def test_max_transitions():
    result = asl.run(load("runner/forever.json"), {"stop": False}, max_transitions=3)
    assert (result.status, result.error, result.cause) == (
        "FAILED", "States.Runtime", "The execution exceeded the maximum number of state transitions.")
    assert event_types(result) == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                                   "ChoiceStateEntered", "ChoiceStateExited", "PassStateEntered", "PassStateExited",
                                   "ExecutionFailed"]


def test_history_can_be_left_unrecorded():
    result = asl.run(load("runner/loop.json"), {}, record_history=False)
    assert (result.status, result.output, result.history) == ("SUCCEEDED", {"count": 3}, [])


# -- parse_definition ---------------------------------------------------------------------


def test_parse_definition_caches_by_dict():
    definition = single({"Type": "Pass", "Result": 1})
    machine = parse_definition(definition)
    assert parse_definition(definition) is machine
    assert parse_definition(machine) is machine


def test_parse_definition_reparses_a_mutated_dict():
    definition = single({"Type": "Pass", "Result": 1})
    machine = parse_definition(definition)
    definition["States"]["S"]["Result"] = 2
    again = parse_definition(definition)
    assert again is not machine
    assert asl.run(definition).output == 2
    # The machine built before keeps the definition it was built from.
    assert asl.run(machine).output == 1


def test_parse_definition_builds_the_tree():
    machine = parse_definition(load("parallel/two_branches.json"))
    assert machine.start_at == "Both"
    assert list(machine.states) == ["Both", "Fallback", "Done"]
    assert [state.name for state in machine.walk()] == ["Both", "Name", "Score", "Fallback", "Done"]


def test_invalid_definition_raises_definition_error_with_every_issue():
    with pytest.raises(DefinitionError) as caught:
        asl.run(load("runner/invalid.json"), {})
    issues = [(issue.path, issue.code) for issue in caught.value.issues if issue.is_error]
    assert issues == [("$.StartAt", "unknown_state"), ("$.States.A.Next", "unknown_state")]
    assert str(caught.value) == (
        "The state machine definition is not valid:\n"
        "  $.StartAt: '$.StartAt' refers to state 'Missing', which does not exist.\n"
        "  $.States.A.Next: '$.States.A.Next' refers to state 'Nowhere', which does not exist."
    )


@pytest.mark.parametrize(
    "definition",
    [
        # JSON text that does not parse as JSON or YAML
        '{"StartAt": "S", "States": {',
        # not an object
        [],
        # a state of an unknown type
        single({"Type": "Sleep"}),
    ],
)
def test_other_invalid_definitions_raise_definition_error(definition):
    with pytest.raises(DefinitionError) as caught:
        parse_definition(definition)
    assert any(issue.is_error for issue in caught.value.issues)
