"""The durable engine end to end: history, timers, tasks, timeouts, signals, stopping, EXPRESS runs."""
from __future__ import annotations

from datetime import timedelta

import pytest

from django_asl import signals
from django_asl.engine import (
    ExecutionAlreadyExists, ExecutionNotRunning, InvalidExecutionInput, count_executions, describe_execution,
    get_execution_history, list_executions, publish, start_execution, start_sync_execution, stop_execution,
)
from django_asl.asl import DefinitionError
from django_asl.models import Execution, StateMachine

pytestmark = pytest.mark.django_db

RESOURCE = "urn:test:double"


def machine(states: dict, start: str, **top) -> dict:
    return {"StartAt": start, "States": states, **top}


def types(execution: Execution) -> list[str]:
    return [event["type"] for event in get_execution_history(execution)]


def test_a_task_chain_runs_and_records_aws_history(tasks, drain):
    tasks[RESOURCE] = lambda payload: {"n": payload["n"] * 2}
    sm = publish("double", machine({
        "Double": {"Type": "Task", "Resource": RESOURCE, "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
    }, "Double"))
    execution = start_execution(sm, {"n": 21})
    drain()
    execution.refresh_from_db()
    assert (execution.status, execution.output) == ("SUCCEEDED", {"n": 42})
    assert types(execution) == [
        "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded",
        "TaskStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    assert describe_execution(execution)["output"] == {"n": 42}


def test_wait_states_hold_no_worker_and_resume_at_their_time(tasks, drain, clock):
    sm = publish("wait", machine({"Nap": {"Type": "Wait", "Seconds": 3600, "End": True}}, "Nap"))
    execution = start_execution(sm, {})
    start = clock.now()
    drain()
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"
    assert execution.stop_date - start == timedelta(hours=1)


def test_retry_intervals_are_timers(tasks, drain, clock):
    calls = []

    def flaky(payload):
        calls.append(clock.now())
        if len(calls) < 3:
            raise ConnectionError("gateway timeout")
        return "ok"

    tasks[RESOURCE] = flaky
    sm = publish("flaky", machine({"Call": {
        "Type": "Task", "Resource": RESOURCE, "End": True,
        "Retry": [{"ErrorEquals": ["ConnectionError"], "IntervalSeconds": 2, "BackoffRate": 3}]}}, "Call"))
    execution = start_execution(sm)
    drain()
    execution.refresh_from_db()
    assert (execution.status, execution.output) == ("SUCCEEDED", "ok")
    assert [later - earlier for earlier, later in zip(calls, calls[1:])] == [timedelta(seconds=2), timedelta(seconds=6)]


def test_execution_timeout_times_out_a_waiting_execution(tasks, drain, clock):
    sm = publish("slow", machine({"Nap": {"Type": "Wait", "Seconds": 600, "End": True}}, "Nap", TimeoutSeconds=60))
    execution = start_execution(sm)
    drain()
    execution.refresh_from_db()
    assert (execution.status, execution.error) == ("TIMED_OUT", "States.Timeout")
    assert execution.stop_date - execution.start_date == timedelta(seconds=60)
    assert types(execution)[-1] == "ExecutionTimedOut"


def test_map_iterations_are_child_executions_with_ordered_results(tasks, drain):
    tasks[RESOURCE] = lambda payload: payload * 10
    sm = publish("fan", machine({"Fan": {
        "Type": "Map", "MaxConcurrency": 2, "End": True,
        "ItemProcessor": {"StartAt": "Times", "States": {"Times": {"Type": "Task", "Resource": RESOURCE, "End": True}}},
    }}, "Fan"))
    execution = start_execution(sm, [1, 2, 3, 4, 5])
    drain()
    execution.refresh_from_db()
    assert (execution.status, execution.output) == ("SUCCEEDED", [10, 20, 30, 40, 50])
    assert execution.children.count() == 5
    assert types(execution).count("MapIterationSucceeded") == 5


def test_a_failed_branch_fails_the_parallel_state_and_aborts_its_siblings(tasks, drain):
    sm = publish("par", machine({"Both": {
        "Type": "Parallel", "End": True,
        "Branches": [
            {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Broken", "Cause": "no"}}},
            {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 100, "End": True}}},
        ]}}, "Both"))
    execution = start_execution(sm)
    drain()
    execution.refresh_from_db()
    assert (execution.status, execution.error, execution.cause) == ("FAILED", "Broken", "no")
    assert sorted(execution.children.values_list("status", flat=True)) == ["ABORTED", "FAILED"]


def test_the_same_name_and_input_returns_the_existing_execution(tasks):
    sm = publish("idem", machine({"P": {"Type": "Pass", "End": True}}, "P"))
    first = start_execution(sm, {"a": 1}, name="order-1")
    assert start_execution(sm, {"a": 1}, name="order-1") == first
    with pytest.raises(ExecutionAlreadyExists):
        start_execution(sm, {"a": 2}, name="order-1")


def test_oversized_input_is_refused(tasks):
    sm = publish("big", machine({"P": {"Type": "Pass", "End": True}}, "P"))
    with pytest.raises(InvalidExecutionInput, match="limit is 262144 bytes"):
        start_execution(sm, {"blob": "x" * 300_000})
    assert Execution.objects.count() == 0


def test_a_definition_reaching_an_unregistered_resource_is_refused(tasks):
    with pytest.raises(DefinitionError) as raised:
        publish("bad", machine({"T": {"Type": "Task", "Resource": "urn:nobody", "End": True}}, "T"))
    assert [(issue.path, issue.code) for issue in raised.value.issues] == [("$.States.T.Resource", "unknown_resource")]


def test_a_changed_definition_is_a_new_version_and_running_executions_keep_theirs(tasks, drain):
    first = machine({"P": {"Type": "Pass", "Result": 1, "End": True}}, "P")
    sm = publish("versions", first)
    old = start_execution(sm)
    sm = publish("versions", machine({"P": {"Type": "Pass", "Result": 2, "End": True}}, "P"))
    assert publish("versions", machine({"P": {"Type": "Pass", "Result": 2, "End": True}}, "P")).current_version == sm.current_version
    new = start_execution(sm)
    drain()
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.output, old.version.number, new.output, new.version.number) == (1, 1, 2, 2)


def test_stop_execution_aborts_it_and_its_children(tasks, drain, clock):
    sm = publish("stop", machine({"Fan": {
        "Type": "Map", "End": True,
        "ItemProcessor": {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 100, "End": True}}},
    }}, "Fan"))
    execution = start_execution(sm, [1, 2])
    from django_asl.engine.timers import run_due_timers
    for _ in range(3):
        run_due_timers()
    stop_execution(execution, error="Operator", cause="not needed")
    execution.refresh_from_db()
    assert (execution.status, execution.error) == ("ABORTED", "Operator")
    assert set(execution.children.values_list("status", flat=True)) == {"ABORTED"}
    with pytest.raises(ExecutionNotRunning):
        stop_execution(execution)


def test_signals_are_sent_after_commit(tasks, drain, django_capture_on_commit_callbacks):
    received = []

    def on_state(sender, execution, event, state_name, **kwargs):
        received.append(("entered", state_name))

    def on_success(sender, execution, event, **kwargs):
        received.append(("succeeded", execution.output))

    signals.state_entered.connect(on_state)
    signals.execution_succeeded.connect(on_success)
    try:
        sm = publish("sig", machine({"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": True}}, "A"))
        start_execution(sm, {"x": 1})
        drain()
    finally:
        signals.state_entered.disconnect(on_state)
        signals.execution_succeeded.disconnect(on_success)
    assert received == [("entered", "A"), ("entered", "B"), ("succeeded", {"x": 1})]


def test_list_and_count_executions_filter(tasks, drain, clock):
    sm = publish("listed", machine({"P": {"Type": "Pass", "End": True}}, "P"))
    for index in range(3):
        start_execution(sm, name=f"batch-{index}")
        clock.advance(10)
    start_execution(sm, name="other")
    drain()
    assert count_executions(state_machine="listed", name_prefix="batch-") == 3
    assert [e.name for e in list_executions(status="SUCCEEDED", name_prefix="batch-")] == ["batch-2", "batch-1", "batch-0"]
    with pytest.raises(ValueError):
        list_executions(status="DONE")


def test_express_runs_synchronously_without_history_by_default(tasks, settings):
    tasks[RESOURCE] = lambda payload: payload + 1
    publish("quick", machine({"Inc": {"Type": "Task", "Resource": RESOURCE, "End": True}}, "Inc"),
            type=StateMachine.Type.EXPRESS)
    execution = start_sync_execution("quick", 41)
    assert (execution.status, execution.output) == ("SUCCEEDED", 42)
    assert execution.history.count() == 0
    settings.DJANGO_ASL = {"EXPRESS_HISTORY": True}
    execution = start_sync_execution("quick", 1)
    assert types(execution)[0] == "ExecutionStarted" and execution.history.count() == 7


def test_map_max_concurrency_bounds_the_children_running_at_any_time(tasks, clock, django_capture_on_commit_callbacks):
    from django_asl.engine.timers import next_due_time, run_due_timers

    sm = publish("limited", machine({"Fan": {
        "Type": "Map", "MaxConcurrency": 2, "End": True, "ItemSelector": {"i.$": "$$.Map.Item.Value"},
        "ItemProcessor": {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 10, "End": True}}},
    }}, "Fan"))
    execution = start_execution(sm, list(range(7)))
    most = 0
    while Execution.objects.filter(pk=execution.pk, status="RUNNING").exists():
        with django_capture_on_commit_callbacks(execute=True):
            run_due_timers()
        running = execution.children.filter(status="RUNNING").exclude(cursor=None, wake_at=None).count()
        most = max(most, running)
        clock.advance_to(next_due_time() or clock.now())
    execution.refresh_from_db()
    assert most == 2
    assert execution.output == [{"i": index} for index in range(7)]


def test_a_result_arriving_after_the_execution_was_stopped_is_discarded(tasks, drain):
    # The second handler of a chain runs while the worker holds no lock; stopping the
    # execution meanwhile makes the worker's compare-and-set write fail, and the locked
    # path then finds the execution ended: the late result is not recorded.
    calls = []

    def handler(payload):
        calls.append(payload["n"])
        if payload["n"] == 1:
            stop_execution(Execution.objects.get(name="stopped-midway"), error="Operator")
        return {"n": payload["n"] + 1}

    tasks[RESOURCE] = handler
    sm = publish("chain", machine({
        "One": {"Type": "Task", "Resource": RESOURCE, "Next": "Two"},
        "Two": {"Type": "Task", "Resource": RESOURCE, "Next": "Three"},
        "Three": {"Type": "Task", "Resource": RESOURCE, "End": True},
    }, "One"))
    execution = start_execution(sm, {"n": 0}, name="stopped-midway")
    drain()
    execution.refresh_from_db()
    assert (execution.status, execution.error, calls) == ("ABORTED", "Operator", [0, 1])
    assert types(execution)[-3:] == ["TaskScheduled", "TaskStarted", "ExecutionAborted"]
