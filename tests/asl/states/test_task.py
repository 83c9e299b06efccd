"""Tests for django_asl.asl.states.task: calling handlers, Retry, Catch, timeouts and heartbeats."""
from __future__ import annotations

import time

import pytest

from django_asl.asl import TaskError
from tests.asl.machines import elapsed, event_types, load, run, single

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:charge"
RESOURCE = "urn:app:charge"
TASK_OK = ["TaskScheduled", "TaskStarted", "TaskSucceeded"]
TASK_FAILED = ["TaskScheduled", "TaskStarted", "TaskFailed"]


class PaymentDeclined(Exception):
    """A business error a handler raises; Catch names it by its class name."""


def fail_times(count: int, error: Exception, result=None):
    """Return a handler that raises ``error`` ``count`` times, then returns ``result``, and its call log."""
    calls = []

    def handler(payload, context):
        calls.append(payload)
        if len(calls) <= count:
            raise error
        return result

    return handler, calls


@pytest.mark.parametrize(
    "resource, events",
    [
        # a Lambda function ARN is reported as LambdaFunction* events
        (LAMBDA, ["LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded"]),
        # any other resource as Task* events
        (RESOURCE, TASK_OK),
        # a service integration ARN is not a Lambda function
        ("arn:aws:states:::lambda:invoke", TASK_OK),
    ],
)
def test_task_events(resource, events):
    result = run(single({"Type": "Task", "Resource": resource}), {"n": 1},
                 tasks={resource: lambda payload, context: {"doubled": payload["n"] * 2}})
    assert (result.status, result.output) == ("SUCCEEDED", {"doubled": 2})
    assert event_types(result) == ["ExecutionStarted", "TaskStateEntered", *events, "TaskStateExited",
                                   "ExecutionSucceeded"]


INPUT = {"order": {"id": 7, "amount": 30}, "customer": "ann"}
RESULT = {"status": "ok", "receipt": {"number": "R-1"}, "noise": [1, 2]}


@pytest.mark.parametrize(
    "fields, payload, output",
    [
        # no fields: the whole input goes in, the whole result comes out
        ({}, INPUT, RESULT),
        # InputPath narrows the payload
        ({"InputPath": "$.order"}, INPUT["order"], RESULT),
        # InputPath null sends an empty object
        ({"InputPath": None}, {}, RESULT),
        # Parameters build the payload, with a constant and a context value
        (
            {"Parameters": {"id.$": "$.order.id", "currency": "EUR", "state.$": "$$.State.Name"}},
            {"id": 7, "currency": "EUR", "state": "S"},
            RESULT,
        ),
        # ResultSelector reshapes the result
        ({"ResultSelector": {"n.$": "$.receipt.number"}}, INPUT, {"n": "R-1"}),
        # ResultPath puts the result into the raw input, not the effective input
        ({"InputPath": "$.order", "ResultPath": "$.charge"}, INPUT["order"], {**INPUT, "charge": RESULT}),
        # ResultPath null keeps the raw input
        ({"ResultPath": None}, INPUT, INPUT),
        # ResultSelector, then ResultPath, then OutputPath
        (
            {"ResultSelector": {"n.$": "$.receipt.number"}, "ResultPath": "$.receipt", "OutputPath": "$.receipt"},
            INPUT,
            {"n": "R-1"},
        ),
        # OutputPath null gives an empty object
        ({"OutputPath": None}, INPUT, {}),
    ],
)
def test_input_and_output_processing(fields, payload, output):
    seen = []

    def handler(data, context):
        seen.append(data)
        return RESULT

    result = run(single({"Type": "Task", "Resource": RESOURCE, **fields}), INPUT, tasks={RESOURCE: handler})
    assert (result.status, result.output) == ("SUCCEEDED", output)
    assert seen == [payload]


@pytest.mark.parametrize(
    "result_path, expected",
    [
        # the result replaces the input
        ("$", {"kept": True}),
        # the result is placed beside the input
        ("$.r", {"items": [1, 2], "r": {"kept": True}}),
        # the result is discarded
        (None, {"items": [1, 2]}),
    ],
)
def test_a_handler_mutating_its_input_does_not_change_the_output(result_path, expected):
    def handler(data, context):
        data["items"].append(3)
        data["extra"] = "added"
        return {"kept": True}

    result = run(single({"Type": "Task", "Resource": RESOURCE, "ResultPath": result_path}), {"items": [1, 2]},
                 tasks={RESOURCE: handler})
    assert result.output == expected


def test_a_handler_mutating_a_parameters_constant_does_not_change_later_payloads():
    seen = []

    def handler(data, context):
        seen.append([*data["fixed"]])
        data["fixed"].append("mutated")
        raise TaskError("Flaky")

    definition = single({"Type": "Task", "Resource": RESOURCE,
                         "Parameters": {"fixed": ["a"], "n.$": "$.n"},
                         "Retry": [{"ErrorEquals": ["Flaky"], "MaxAttempts": 2}]})
    run(definition, {"n": 1}, tasks={RESOURCE: handler})
    assert seen == [["a"], ["a"], ["a"]]


def test_retry_backoff_advances_the_virtual_clock():
    handler, calls = fail_times(3, TaskError("Flaky", "try again"), {"paid": True})
    result = run(load("task/retry_backoff.json"), {"amount": 5}, tasks={RESOURCE: handler})
    assert (result.status, result.output) == ("SUCCEEDED", {"paid": True})
    assert calls == [{"amount": 5}] * 4
    assert elapsed(result) == 2 + 6 + 18
    assert event_types(result) == [
        "ExecutionStarted", "TaskStateEntered",
        *TASK_FAILED, *TASK_FAILED, *TASK_FAILED, *TASK_OK,
        "TaskStateExited", "ExecutionSucceeded",
    ]


def test_retry_gives_up_after_max_attempts():
    handler, calls = fail_times(10, TaskError("Flaky", "still broken"))
    result = run(load("task/retry_backoff.json"), {}, tasks={RESOURCE: handler})
    assert (result.status, result.error, result.cause) == ("FAILED", "Flaky", "still broken")
    assert len(calls) == 4
    assert elapsed(result) == 26
    assert event_types(result) == ["ExecutionStarted", "TaskStateEntered", *TASK_FAILED * 4, "ExecutionFailed"]


def test_retry_does_not_apply_to_other_errors():
    handler, calls = fail_times(1, TaskError("Fatal", "no"))
    result = run(load("task/retry_backoff.json"), {}, tasks={RESOURCE: handler})
    assert (result.status, result.error, len(calls), elapsed(result)) == ("FAILED", "Fatal", 1, 0)


def test_max_delay_seconds_caps_the_backoff():
    handler, calls = fail_times(4, TaskError("Flaky"), "ok")
    result = run(load("task/retry_max_delay.json"), {}, tasks={RESOURCE: handler})
    assert (result.status, result.output) == ("SUCCEEDED", "ok")
    assert elapsed(result) == 10 + 60 + 60 + 60


def test_retry_count_is_visible_in_the_context_object():
    handler, calls = fail_times(2, TaskError("Flaky"), "ok")
    result = run(load("task/retry_count.json"), {}, tasks={RESOURCE: handler})
    assert result.status == "SUCCEEDED"
    assert calls == [{"retry": 0}, {"retry": 1}, {"retry": 2}]


def test_retries_then_catch_with_result_path():
    handler, calls = fail_times(5, PaymentDeclined("card expired"))
    result = run(load("task/retry_then_catch.json"), {"order": 1}, tasks={RESOURCE: handler})
    assert (result.status, result.output) == (
        "SUCCEEDED", {"order": 1, "error": {"Error": "PaymentDeclined", "Cause": "card expired"}})
    assert len(calls) == 3
    assert elapsed(result) == 1 + 2
    assert event_types(result) == [
        "ExecutionStarted", "TaskStateEntered", *TASK_FAILED * 3, "TaskStateExited",
        "PassStateEntered", "PassStateExited", "ExecutionSucceeded",
    ]


@pytest.mark.parametrize(
    "error, output",
    [
        # a handler's own exception class gives the error name, its message the cause
        (
            PaymentDeclined("card expired"),
            {"id": 1, "declined": {"Error": "PaymentDeclined", "Cause": "card expired"}, "outcome": "declined"},
        ),
        # TaskError chooses the error name and cause
        (
            TaskError("PaymentDeclined", "insufficient funds"),
            {"id": 1, "declined": {"Error": "PaymentDeclined", "Cause": "insufficient funds"}, "outcome": "declined"},
        ),
        # another exception goes to the States.ALL catcher, whose default ResultPath replaces the input
        (ValueError("bad amount"), {"Error": "ValueError", "Cause": "bad amount"}),
        # a TaskError without a cause gives an empty Cause
        (TaskError("Other"), {"Error": "Other", "Cause": ""}),
    ],
)
def test_catch_by_error_name(error, output):
    handler, _ = fail_times(1, error)
    result = run(load("task/catch_by_name.json"), {"id": 1}, tasks={RESOURCE: handler})
    assert (result.status, result.output) == ("SUCCEEDED", output)
    assert event_types(result)[:6] == [
        "ExecutionStarted", "TaskStateEntered", *TASK_FAILED, "TaskStateExited",
    ]


@pytest.mark.parametrize(
    "error, name, cause",
    [
        # a custom exception
        (PaymentDeclined("card expired"), "PaymentDeclined", "card expired"),
        # a TaskError
        (TaskError("Orders.OutOfStock", "sku A1"), "Orders.OutOfStock", "sku A1"),
        # a built-in exception
        (KeyError("sku"), "KeyError", "'sku'"),
    ],
)
def test_uncaught_handler_errors_fail_the_execution(error, name, cause):
    handler, _ = fail_times(1, error)
    result = run(single({"Type": "Task", "Resource": LAMBDA}), {}, tasks={LAMBDA: handler})
    assert (result.status, result.error, result.cause) == ("FAILED", name, cause)
    assert event_types(result) == ["ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled",
                                   "LambdaFunctionStarted", "LambdaFunctionFailed", "ExecutionFailed"]
    assert result.history[-2]["details"] == {"error": name, "cause": cause}


def test_a_missing_handler_is_a_runtime_error():
    result = run(single({"Type": "Task", "Resource": "urn:app:nobody",
                         "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "S"}]}), {})
    assert (result.status, result.error, result.cause) == (
        "FAILED", "States.Runtime",
        "An error occurred while executing the state 'S' (entered at the event id #2). "
        "No handler is registered for the resource 'urn:app:nobody'.",
    )


def test_runtime_error_cause_names_the_entered_event_id():
    result = run(load("task/prepare_then_charge.json"), {"total": 1}, tasks={RESOURCE: lambda d, c: d})
    # 1 ExecutionStarted, 2 PassStateEntered, 3 PassStateExited, 4 TaskStateEntered
    assert (result.status, result.error, result.cause) == (
        "FAILED", "States.Runtime",
        "An error occurred while executing the state 'Charge' (entered at the event id #4). "
        "The JSONPath '$.amount' specified for the field 'amount.$' could not be found in the input "
        "'{\"total\":1}'",
    )
    assert event_types(result) == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "TaskStateEntered",
                                   "ExecutionFailed"]


def test_a_result_over_256_kib_fails_with_data_limit_exceeded():
    big = "x" * (256 * 1024)
    result = run(single({"Type": "Task", "Resource": RESOURCE}), {}, tasks={RESOURCE: lambda d, c: big})
    assert (result.status, result.error, result.cause) == (
        "FAILED", "States.DataLimitExceeded",
        "The state/task 'urn:app:charge' returned a result with a size exceeding the maximum number of bytes "
        "service limit.",
    )


def test_a_result_over_256_kib_counts_utf8_bytes():
    # 90,000 three-byte characters: 270,002 bytes of JSON, though only 90,002 characters.
    big = "\u20ac" * 90_000
    result = run(single({"Type": "Task", "Resource": RESOURCE}), {}, tasks={RESOURCE: lambda d, c: big})
    assert (result.status, result.error) == ("FAILED", "States.DataLimitExceeded")


def test_task_timeout():
    def slow(data, context):
        time.sleep(3)
        return "late"

    definition = single({"Type": "Task", "Resource": RESOURCE, "TimeoutSeconds": 1,
                         "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "S"}]})
    started = time.monotonic()
    result = run(definition, {}, tasks={RESOURCE: slow})
    assert time.monotonic() - started < 2.5
    # States.TaskFailed does not catch States.Timeout.
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    assert event_types(result) == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
                                   "TaskTimedOut", "ExecutionFailed"]


def test_heartbeats_keep_a_slow_task_alive():
    def slow(data, context):
        for _ in range(6):
            time.sleep(0.25)
            context.heartbeat()
        return "done"

    definition = single({"Type": "Task", "Resource": RESOURCE, "HeartbeatSeconds": 1})
    result = run(definition, {}, tasks={RESOURCE: slow})
    assert (result.status, result.output) == ("SUCCEEDED", "done")


def test_a_task_without_heartbeats_times_out():
    def silent(data, context):
        time.sleep(3)
        return "late"

    definition = single({"Type": "Task", "Resource": RESOURCE, "HeartbeatSeconds": 1, "TimeoutSeconds": 60})
    result = run(definition, {}, tasks={RESOURCE: silent})
    assert (result.status, result.error) == ("FAILED", "States.HeartbeatTimeout")
    assert event_types(result)[-2:] == ["TaskTimedOut", "ExecutionFailed"]


def test_handler_context():
    seen = {}

    def handler(data, context):
        seen.update(resource=context.resource, attempt=context.attempt, state=context.state_name,
                    execution=context.execution_id, key=context.idempotency_key)
        if context.attempt == 0:
            raise TaskError("Flaky")
        return None

    definition = single({"Type": "Task", "Resource": RESOURCE, "Retry": [{"ErrorEquals": ["Flaky"]}]}, "Charge")
    result = run(definition, {}, tasks={RESOURCE: handler})
    assert result.status == "SUCCEEDED"
    assert seen == {"resource": RESOURCE, "attempt": 1, "state": "Charge", "execution": result.execution_id,
                    "key": f"{result.execution_id}/Charge/2/1"}


@pytest.mark.parametrize(
    "returned, problem",
    [
        # a datetime has no JSON form: storing it later would fail or change it
        ({"when": __import__("datetime").date(2026, 1, 1)}, "a date is not a JSON value"),
        # NaN and infinity are not JSON numbers
        ({"ratio": float("nan")}, "nan is not a JSON number"),
        ([float("inf")], "inf is not a JSON number"),
        # a set is not a JSON array
        ({"tags": {"a"}}, "a set is not a JSON value"),
    ],
)
def test_a_result_that_is_not_json_fails_the_task(returned, problem):
    machine = single({"Type": "Task", "Resource": RESOURCE, "End": True})
    result = run(machine, {}, tasks={RESOURCE: lambda payload, context: returned})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause.endswith(f"The state/task '{RESOURCE}' returned a result that is not JSON: {problem}.")


@pytest.mark.parametrize(
    "handler",
    [
        # input only
        lambda payload: {"got": payload["x"]},
        # input and context
        lambda payload, context: {"got": payload["x"]},
        # input, and the context as *args
        lambda payload, *rest: {"got": payload["x"]},
    ],
)
def test_handlers_may_take_the_context_or_not(handler):
    machine = single({"Type": "Task", "Resource": RESOURCE, "End": True})
    result = run(machine, {"x": 1}, tasks={RESOURCE: handler})
    assert (result.status, result.output) == ("SUCCEEDED", {"got": 1})
