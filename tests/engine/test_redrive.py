"""Redrive (engine/redrive.py): an unsuccessful execution restarts from the state that did not succeed.

The Parallel and Map cases check that only the branches and iterations that
did not succeed run again, by counting handler calls per item. The last test
runs real worker processes on PostgreSQL and checks MaxConcurrency across them.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.core import checks
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

import django_asl
from django_asl import signals
from django_asl.checks import check_settings
from django_asl.engine import (
    ExecutionNotRedrivable, describe_execution, get_execution_history, publish, redrive_execution, start_execution,
    start_sync_execution, stop_execution,
)
from django_asl.engine import executions, queue
from django_asl.engine.timers import run_due_timers
from django_asl.exceptions import DjangoAslError
from django_asl.models import Execution, StateMachine
from tests.engine.test_queries import EXECUTION, HISTORY, label, locked
from tests.shared import REPO_ROOT

pytestmark = pytest.mark.django_db

ITEM = "urn:test:redrive.item"
CHARGE = "urn:test:redrive.charge"

#: Handler calls per input (items, branch names), across the first run and the redrives.
CALLS: Counter = Counter()
#: How many calls of each input fail before it succeeds.
FAILS: dict = {}


@pytest.fixture(autouse=True)
def handlers(tasks):
    """Register the counting handlers: an input fails its first FAILS[input] calls, then returns input * 10."""
    CALLS.clear()
    FAILS.clear()

    def work(payload):
        CALLS[payload] += 1
        if CALLS[payload] <= FAILS.get(payload, 0):
            raise ValueError(f"{payload!r} failed")
        return payload * 10

    tasks[ITEM] = work
    tasks[CHARGE] = work
    return tasks


def types(execution: Execution) -> list[str]:
    return [event["type"] for event in get_execution_history(execution)]


def since_redrive(execution: Execution, number: int = 1) -> list[dict]:
    """Return the history events after the ``number``-th ExecutionRedriven event."""
    events = get_execution_history(execution)
    positions = [index for index, event in enumerate(events) if event["type"] == "ExecutionRedriven"]
    return events[positions[number - 1] + 1:]


def reloaded(execution: Execution) -> Execution:
    execution.refresh_from_db()
    return execution


def map_machine(name: str, **fields) -> StateMachine:
    return publish(name, {"StartAt": "Fan", "States": {"Fan": {
        "Type": "Map", "End": True, **fields,
        "ItemProcessor": {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": ITEM, "End": True}}},
    }}})


# -- a Task, a Fail state, RedriveCount --------------------------------------------------------------------------


def test_a_failed_task_is_entered_again_with_its_input_and_the_execution_succeeds(drain, clock):
    FAILS[5] = 1
    sm = publish("charge", {"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Pass", "InputPath": "$.amount", "Next": "Charge"},
        "Charge": {"Type": "Task", "Resource": CHARGE, "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
    }})
    execution = start_execution(sm, {"amount": 5})
    drain()
    execution = reloaded(execution)
    assert (execution.status, execution.error, execution.cause) == ("FAILED", "ValueError", "5 failed")
    # The position is kept: the state that failed and its input.
    assert (execution.cursor["state"], execution.state_input) == ("Charge", 5)
    first_run = types(execution)
    clock.advance(60)

    redriven = redrive_execution(execution)

    assert (redriven.status, redriven.redrive_count, redriven.redrive_date) == ("RUNNING", 1, clock.now())
    assert (redriven.stop_date, redriven.error, redriven.cause) == (None, None, None)
    drain()
    execution = reloaded(execution)
    assert (execution.status, execution.output, execution.redrive_count) == ("SUCCEEDED", 50, 1)
    assert (execution.cursor, execution.state_input) == (None, None)  # success keeps no position
    assert types(execution) == first_run + [
        "ExecutionRedriven", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",
        "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    history = get_execution_history(execution)
    redrive_event = next(event for event in history if event["type"] == "ExecutionRedriven")
    assert redrive_event["details"] == {"redrive_count": 1}
    entered = [event["details"] for event in history if event["type"] == "TaskStateEntered"]
    assert entered == [{"name": "Charge", "input": 5}, {"name": "Charge", "input": 5}]
    assert CALLS == {5: 2}  # Prepare did not run again; Charge ran twice
    assert describe_execution(execution)["redrive_count"] == 1


def test_redrive_count_and_time_are_in_the_context_object(drain, clock):
    FAILS[1] = 2  # fails on the first run and on the first redrive
    sm = publish("count", {"StartAt": "Charge", "States": {
        "Charge": {"Type": "Task", "Resource": CHARGE, "InputPath": "$.one", "ResultPath": None, "Next": "Count"},
        "Count": {"Type": "Pass", "Parameters": {"count.$": "$$.Execution.RedriveCount",
                                                 "time.$": "$$.Execution.RedriveTime"}, "End": True},
    }})
    execution = start_execution(sm, {"one": 1})
    drain()
    assert reloaded(execution).status == "FAILED"
    clock.advance(10)
    redrive_execution(execution)
    drain()
    assert reloaded(execution).status == "FAILED"
    clock.advance(10)
    second = clock.now()
    redrive_execution(execution.pk)  # an id works too
    drain()
    execution = reloaded(execution)
    assert (execution.status, execution.redrive_count) == ("SUCCEEDED", 2)
    assert second.isoformat() == "2026-01-01T00:00:20+00:00"
    assert execution.output == {"count": 2, "time": "2026-01-01T00:00:20.000Z"}  # as AWS formats timestamps
    redrives = [event["details"] for event in get_execution_history(execution) if event["type"] == "ExecutionRedriven"]
    assert redrives == [{"redrive_count": 1}, {"redrive_count": 2}]
    assert CALLS == {1: 3}


def test_a_fail_state_is_entered_again_and_fails_again(drain):
    sm = publish("doomed", {"StartAt": "Start", "States": {
        "Start": {"Type": "Pass", "Next": "Boom"},
        "Boom": {"Type": "Fail", "Error": "Broken", "Cause": "always"},
    }})
    execution = start_execution(sm)
    drain()
    redrive_execution(execution)
    drain()
    execution = reloaded(execution)
    assert (execution.status, execution.error, execution.redrive_count) == ("FAILED", "Broken", 1)
    assert [event["type"] for event in since_redrive(execution)] == ["FailStateEntered", "ExecutionFailed"]
    redrive_execution(execution)  # and it can be redriven again
    drain()
    assert [event["type"] for event in since_redrive(execution, 2)] == ["FailStateEntered", "ExecutionFailed"]
    assert reloaded(execution).redrive_count == 2


def test_the_redriven_signal_is_sent_after_commit(drain, django_capture_on_commit_callbacks):
    received = []

    def on_redriven(sender, execution, event, **kwargs):
        received.append((execution.pk, event.type, event.details))

    sm = publish("signal", {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "E"}}})
    execution = start_execution(sm)
    drain()
    signals.execution_redriven.connect(on_redriven)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            redrive_execution(execution)
        assert received == []
        for callback in callbacks:
            callback()
    finally:
        signals.execution_redriven.disconnect(on_redriven)
    assert received == [(execution.pk, "ExecutionRedriven", {"redrive_count": 1})]


# -- TIMED_OUT and ABORTED --------------------------------------------------------------------------------------


def test_a_timed_out_execution_gets_a_new_timeout_window_from_the_redrive(drain, clock):
    # The Wait ends 100 s after the start; the execution times out after 60 s. Redriven at 90 s, it
    # would time out at once if the window still counted from the start: it counts from the redrive.
    until = (clock.now() + timedelta(seconds=100)).isoformat()
    sm = publish("slow", {"TimeoutSeconds": 60, "StartAt": "Nap", "States": {
        "Nap": {"Type": "Wait", "TimestampPath": "$.until", "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
    }})
    execution = start_execution(sm, {"until": until})
    drain()
    execution = reloaded(execution)
    assert (execution.status, execution.error) == ("TIMED_OUT", "States.Timeout")
    assert execution.cursor["state"] == "Nap"
    clock.advance(30)
    redrive_execution(execution)
    drain()
    execution = reloaded(execution)
    assert execution.status == "SUCCEEDED"
    assert execution.stop_date - execution.start_date == timedelta(seconds=100)
    assert [event["type"] for event in since_redrive(execution)] == [
        "WaitStateEntered", "WaitStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]


def test_a_redriven_execution_times_out_again_timeout_seconds_after_the_redrive(drain, clock):
    sm = publish("sleepy", {"TimeoutSeconds": 60, "StartAt": "Nap", "States": {
        "Nap": {"Type": "Wait", "Seconds": 600, "End": True}}})
    execution = start_execution(sm)
    drain()
    clock.advance(1000)
    redrive_execution(execution)
    drain()
    execution = reloaded(execution)
    assert (execution.status, execution.error) == ("TIMED_OUT", "States.Timeout")
    assert execution.stop_date - execution.redrive_date == timedelta(seconds=60)


def test_an_aborted_execution_restarts_in_the_state_it_was_stopped_in(drain, clock):
    sm = publish("paused", {"StartAt": "First", "States": {
        "First": {"Type": "Pass", "Result": "kept", "ResultPath": "$.first", "Next": "Nap"},
        "Nap": {"Type": "Wait", "Seconds": 100, "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
    }})
    execution = start_execution(sm, {"n": 1})
    run_due_timers()
    stop_execution(execution, error="Operator", cause="paused")
    execution = reloaded(execution)
    assert (execution.status, execution.cursor["state"]) == ("ABORTED", "Nap")
    redrive_execution(execution)
    drain()
    execution = reloaded(execution)
    assert (execution.status, execution.output) == ("SUCCEEDED", {"n": 1, "first": "kept"})
    assert types(execution).count("PassStateEntered") == 2  # First once, Done once
    assert [event["type"] for event in since_redrive(execution)][:2] == ["WaitStateEntered", "WaitStateExited"]


def test_an_execution_stopped_before_its_first_state_starts_at_start_at(drain):
    sm = publish("early", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    execution = start_execution(sm, {"x": 1})
    stop_execution(execution)
    redrive_execution(execution)
    drain()
    execution = reloaded(execution)
    assert (execution.status, execution.output) == ("SUCCEEDED", {"x": 1})
    # It never started: the redrive starts it, and its history gets the ExecutionStarted it lacked.
    assert types(execution) == ["ExecutionAborted", "ExecutionRedriven", "ExecutionStarted", "PassStateEntered",
                                "PassStateExited", "ExecutionSucceeded"]


# -- refusals ---------------------------------------------------------------------------------------------------


def test_running_and_succeeded_executions_are_refused(drain):
    sm = publish("refused", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    execution = start_execution(sm, name="refused-1")
    with pytest.raises(ExecutionNotRedrivable, match=r"\('refused-1'\) is still running: only an execution "
                                                     r"that ended FAILED, TIMED_OUT or ABORTED can be redriven"):
        redrive_execution(execution)
    drain()
    with pytest.raises(ExecutionNotRedrivable, match=r"succeeded: only an execution that ended .* To run it again "
                                                     r"with the same input, start a new execution"):
        redrive_execution(execution)
    execution = reloaded(execution)
    assert (execution.status, execution.redrive_count) == ("SUCCEEDED", 0)
    assert "ExecutionRedriven" not in types(execution)


def test_a_branch_or_iteration_is_refused_and_names_its_top_level_execution(drain):
    sm = publish("nested", {"StartAt": "Fan", "States": {"Fan": {
        "Type": "Map", "End": True,
        "ItemProcessor": {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "E"}}}}}})
    execution = start_execution(sm, [1])
    drain()
    child = execution.children.get()
    assert child.status == "FAILED"
    with pytest.raises(ExecutionNotRedrivable, match=f"is a branch or iteration of a Parallel or Map state: "
                                                     f"redrive its top-level execution {execution.pk}"):
        redrive_execution(child)


def test_an_execution_outside_the_redrive_window_is_refused(drain, clock, settings):
    sm = publish("old", {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "E"}}})
    execution = start_execution(sm)
    drain()
    clock.advance(timedelta(days=14).total_seconds())  # the last moment of the default window
    redrive_execution(execution)
    drain()
    clock.advance(timedelta(days=14, seconds=1).total_seconds())
    with pytest.raises(ExecutionNotRedrivable, match=r"more than 14 days ago \(DJANGO_ASL\['REDRIVE_WINDOW_DAYS'\]\)"):
        redrive_execution(execution)
    settings.DJANGO_ASL = {"REDRIVE_WINDOW_DAYS": 30}
    redrive_execution(execution)
    assert reloaded(execution).redrive_count == 2


def test_an_express_execution_is_refused():
    publish("quick", {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "E"}}}, type="EXPRESS")
    execution = start_sync_execution("quick")
    assert execution.status == "FAILED"
    with pytest.raises(ExecutionNotRedrivable, match="only STANDARD executions can be redriven"):
        redrive_execution(execution)


def test_an_execution_that_kept_no_position_is_refused(drain):
    sm = publish("legacy", {"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Next": "Boom"}, "Boom": {"Type": "Fail", "Error": "E"}}})
    execution = start_execution(sm)
    drain()
    # As an execution that failed before positions were kept has it.
    Execution.objects.filter(pk=execution.pk).update(cursor=None, state_input=None)
    with pytest.raises(ExecutionNotRedrivable, match="kept no position to restart from"):
        redrive_execution(execution)
    assert reloaded(execution).status == "FAILED"


def test_an_unknown_execution_raises_does_not_exist():
    with pytest.raises(Execution.DoesNotExist):
        redrive_execution(uuid.uuid4())


def test_the_public_api_exports_redrive():
    assert django_asl.redrive_execution is redrive_execution
    assert django_asl.ExecutionNotRedrivable is ExecutionNotRedrivable
    assert issubclass(ExecutionNotRedrivable, DjangoAslError)


@pytest.mark.parametrize("bad", [0, -1, True, "14"])  # not positive, a bool, a string
def test_the_redrive_window_setting_is_checked(bad):
    with override_settings(DJANGO_ASL={"REDRIVE_WINDOW_DAYS": bad}):
        assert check_settings(None) == [checks.Error(
            "The value of 'DJANGO_ASL['REDRIVE_WINDOW_DAYS']' must be a positive number.",
            hint="It is how many days after it stopped an unsuccessful execution can be redriven; "
                 "the default is 14, as on AWS.",
            id="django_asl.E007")]


# -- Map and Parallel -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fields, failing", [
    # No tolerance: the first failure (item 93) fails the Map; 94-99, not started yet, are aborted.
    ({}, [93]),
    # Six failures tolerated: all 100 run, the seventh failure fails the Map.
    ({"ToleratedFailureCount": 6}, [3, 17, 42, 58, 71, 86, 99]),
])
def test_a_redriven_map_runs_only_the_iterations_that_did_not_succeed(fields, failing, drain):
    for item in failing:
        FAILS[item] = 1
    execution = start_execution(map_machine("hundred", **fields), list(range(100)))
    drain()
    execution = reloaded(execution)
    assert execution.status == "FAILED"
    unsuccessful = sorted(execution.children.exclude(status="SUCCEEDED").values_list("child_index", flat=True))
    assert unsuccessful == ([93, 94, 95, 96, 97, 98, 99] if not fields else failing)
    before = CALLS.copy()

    redrive_execution(execution)
    drain()

    execution = reloaded(execution)
    assert (execution.status, execution.output) == ("SUCCEEDED", [item * 10 for item in range(100)])
    assert sorted((CALLS - before).elements()) == unsuccessful  # each ran exactly once more
    events = since_redrive(execution)
    assert sorted(event["details"]["index"] for event in events if event["type"] == "MapIterationStarted") \
        == unsuccessful
    assert [event["type"] for event in events if not event["type"].startswith("MapIteration")] == [
        "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]
    redriven = dict(execution.children.values_list("child_index", "redrive_count"))
    assert sorted(index for index, count in redriven.items() if count) == unsuccessful


def test_max_concurrency_holds_while_a_map_is_redriven(drain, handlers):
    failing = [3, 17, 42, 58, 71, 86, 99]
    for item in failing:
        FAILS[item] = 1
    execution = start_execution(map_machine("limited", MaxConcurrency=5, ToleratedFailureCount=6), list(range(100)))
    running: list[int] = []
    work = handlers[ITEM]

    def measured(payload):
        running.append(execution.children.filter(status="RUNNING", wake_at__isnull=False).count())
        return work(payload)

    handlers[ITEM] = measured
    drain()
    assert reloaded(execution).status == "FAILED"
    assert max(running) == 5
    running.clear()

    redrive_execution(execution)
    # Five due now, two waiting their turn; the 93 successful iterations are kept as they are.
    children = execution.children.all()
    assert children.filter(status="RUNNING", wake_at__isnull=False).count() == 5
    assert list(children.filter(status="RUNNING", wake_at__isnull=True).values_list("child_index", flat=True)
                .order_by("child_index")) == [86, 99]
    assert children.filter(status="SUCCEEDED").count() == 93
    drain()
    execution = reloaded(execution)
    assert (execution.status, execution.output) == ("SUCCEEDED", [item * 10 for item in range(100)])
    assert len(running) == 7 and max(running) == 5


def test_a_parallel_state_runs_again_only_its_failed_branch(drain):
    FAILS["c"] = 1
    branches = [{"StartAt": f"Work {name}", "States": {f"Work {name}": {
        "Type": "Task", "Resource": ITEM, "InputPath": f"$.{name}", "End": True}}} for name in "abc"]
    sm = publish("parallel", {"StartAt": "All", "States": {
        "All": {"Type": "Parallel", "Branches": branches, "Next": "Done"},
        "Done": {"Type": "Pass", "End": True}}})
    execution = start_execution(sm, {"a": "a", "b": "b", "c": "c"})
    drain()
    execution = reloaded(execution)
    assert (execution.status, execution.error) == ("FAILED", "ValueError")
    assert CALLS == {"a": 1, "b": 1, "c": 1}
    redrive_execution(execution)
    drain()
    execution = reloaded(execution)
    assert (execution.status, execution.output) == ("SUCCEEDED", ["a" * 10, "b" * 10, "c" * 10])
    assert CALLS == {"a": 1, "b": 1, "c": 2}
    assert [event["type"] for event in since_redrive(execution)] == [
        "ParallelStateSucceeded", "ParallelStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]


def test_a_map_inside_a_parallel_branch_is_redriven_from_where_it_stopped(drain):
    FAILS[2] = 1
    sm = publish("nested-map", {"StartAt": "All", "States": {"All": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "Result": "hello", "End": True}}},
        {"StartAt": "Fan", "States": {"Fan": {
            "Type": "Map", "End": True, "ItemProcessor": {
                "StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": ITEM, "End": True}}}}}},
    ]}}})
    execution = start_execution(sm, [1, 2, 3])
    drain()
    assert reloaded(execution).status == "FAILED"
    assert CALLS == {1: 1, 2: 1}  # 3 was aborted before it started
    redrive_execution(execution)
    drain()
    execution = reloaded(execution)
    assert (execution.status, execution.output) == ("SUCCEEDED", ["hello", [10, 20, 30]])
    assert CALLS == {1: 1, 2: 2, 3: 1}


def test_waiting_iterations_keep_their_own_failed_forks_until_their_turn(drain):
    # Outer Map, one iteration at a time, one failure tolerated: iterations 0 and 1 fail inside
    # their inner Map (at "x" and "y"), which fails the outer Map; iteration 2 never starts.
    FAILS.update({"x": 1, "y": 1})
    sm = publish("outer", {"StartAt": "Outer", "States": {"Outer": {
        "Type": "Map", "MaxConcurrency": 1, "ToleratedFailureCount": 1, "End": True,
        "ItemProcessor": {"StartAt": "Inner", "States": {"Inner": {
            "Type": "Map", "End": True, "ItemProcessor": {
                "StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": ITEM, "End": True}}}}}}}}})
    execution = start_execution(sm, [[1, "x"], [2, "y"], [3]])
    drain()
    assert reloaded(execution).status == "FAILED"
    assert CALLS == {1: 1, "x": 1, 2: 1, "y": 1}
    redrive_execution(execution)
    outer = {child.child_index: child for child in execution.children.all()}
    # Iteration 0 runs now; 1 waits its turn with its inner fork kept; 2 waits to start.
    assert [(outer[i].status, outer[i].wake_at is not None) for i in range(3)] == [
        ("RUNNING", True), ("RUNNING", False), ("RUNNING", False)]
    assert (outer[1].cursor["phase"], outer[1].cursor["pending"]["redrive"], outer[2].cursor) == ("fork", True, None)
    drain()
    execution = reloaded(execution)
    assert (execution.status, execution.output) == ("SUCCEEDED", [[10, "x" * 10], [20, "y" * 10], [30]])
    assert CALLS == {1: 1, "x": 2, 2: 1, "y": 2, 3: 1}


def test_a_timed_out_map_keeps_its_finished_iterations(drain, clock):
    sm = publish("slow-map", {"TimeoutSeconds": 25, "StartAt": "Fan", "States": {"Fan": {
        "Type": "Map", "MaxConcurrency": 1, "End": True,
        "ItemProcessor": {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 10, "End": True}}}}}})
    execution = start_execution(sm, ["a", "b", "c"])
    drain()
    execution = reloaded(execution)
    assert execution.status == "TIMED_OUT"
    children = {child.child_index: child for child in execution.children.all()}
    assert [children[i].status for i in range(3)] == ["SUCCEEDED", "SUCCEEDED", "ABORTED"]
    assert children[2].cursor["state"] == "Nap"  # aborted where it waited
    redrive_execution(execution)
    drain()
    execution = reloaded(execution)
    assert (execution.status, execution.output) == ("SUCCEEDED", ["a", "b", "c"])
    assert [types(children[i]).count("WaitStateEntered") for i in range(3)] == [1, 1, 2]


def test_starting_the_next_waiting_iteration_costs_one_select_and_one_update(clock):
    # An iteration's end starts the next one waiting its turn, in the same transaction: after the
    # parent's lock, one SELECT finds it (the first RUNNING child from pending["next_index"] on) and one
    # UPDATE wakes it; then the parent's events and its UPDATE, as before redrive existed.
    sm = publish("one-by-one", {"StartAt": "Fan", "States": {"Fan": {
        "Type": "Map", "MaxConcurrency": 1, "End": True,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}})
    execution = start_execution(sm, [1, 2])
    run_due_timers()  # the parent forks: the first iteration is due, the second waits
    first = execution.children.get(child_index=0)
    with CaptureQueriesContext(connection) as captured:
        django_asl.engine.advance_execution(first.pk, inline=False)
    assert [label(query["sql"]) for query in captured.captured_queries] == [
        "SAVEPOINT", locked(), f"INSERT {HISTORY}", f"UPDATE {EXECUTION}",
        locked(), f"SELECT {EXECUTION}", f"UPDATE {EXECUTION}", f"INSERT {HISTORY}", f"UPDATE {EXECUTION}",
        "RELEASE"]
    second = execution.children.get(child_index=1)
    assert second.wake_at == clock.now()


# -- PostgreSQL: real worker processes ---------------------------------------------------------------------------


def start_worker(directory: str) -> subprocess.Popen:
    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.engine.redrive_worker_settings",
                   "DATABASE_URL": url, "REDRIVE_TEST_DIR": directory}
    return subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "manage.py"), "asl_worker", "--poll", "0.05"],
        cwd=REPO_ROOT, env=environment, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def wait_until_ended(execution: Execution, seconds: float = 120) -> Execution:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        execution.refresh_from_db()
        if execution.status != "RUNNING":
            return execution
        time.sleep(0.2)
    raise AssertionError(f"The execution is still running after {seconds} s.")


@pytest.mark.django_db(transaction=True)
def test_worker_processes_redrive_a_map_within_max_concurrency(tmp_path, handlers, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("real worker processes need a shared PostgreSQL database")
    from tests.engine import redrive_tasks

    handlers[redrive_tasks.RESOURCE] = redrive_tasks.work  # for publish(); the workers have it in their settings
    # Queue nothing in this process (the test settings run queued work synchronously, here):
    # the workers' timer loops pick the due executions up.
    monkeypatch.setattr(queue, "enqueue", lambda *arguments: None)
    monkeypatch.setattr(executions, "enqueue", lambda *arguments: None)
    items = list(range(40))
    failing = [2, 9, 15, 22, 30, 37, 39]
    sm = publish("workers", {"StartAt": "Fan", "States": {"Fan": {
        "Type": "Map", "MaxConcurrency": 3, "ToleratedFailureCount": 6, "End": True,
        "ItemSelector": {"item.$": "$$.Map.Item.Value", "fail.$": "States.ArrayContains($.failing, $$.Map.Item.Value)"},
        "ItemsPath": "$.items",
        "ItemProcessor": {"StartAt": "Work", "States": {"Work": {
            "Type": "Task", "Resource": redrive_tasks.RESOURCE, "End": True,
            # Evaluated as the Task is entered: an iteration's input is fixed when the Map starts.
            "Parameters": {"item.$": "$.item", "fail.$": "$.fail", "redrive.$": "$$.Execution.RedriveCount"}}}}}}})
    execution = start_execution(sm, {"items": items, "failing": failing})
    workers = [start_worker(str(tmp_path)), start_worker(str(tmp_path))]
    try:
        execution = wait_until_ended(execution)
        assert execution.status == "FAILED"
        # The seven failures, and any iteration still running when the last one failed the Map (aborted).
        unsuccessful = sorted(execution.children.exclude(status="SUCCEEDED").values_list("child_index", flat=True))
        assert set(failing) <= set(unsuccessful)
        time.sleep(0.5)  # let the handlers of aborted iterations return
        first = redrive_tasks.read(tmp_path)
        redrive_execution(execution)
        execution = wait_until_ended(execution)
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    assert (execution.status, execution.output) == ("SUCCEEDED", [item * 10 for item in items])
    calls, concurrency = redrive_tasks.read(tmp_path)
    assert max(concurrency) <= 3  # in the first run and in the redrive
    assert max(concurrency) >= 2  # the iterations did run side by side
    # The redrive ran the unsuccessful iterations and no other (delivery is at-least-once: a
    # handler may run twice if its worker is slow to record it, hence sets).
    assert set(calls - first[0]) == set(unsuccessful)
