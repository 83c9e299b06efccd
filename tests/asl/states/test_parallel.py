"""Tests for django_asl.asl.states.parallel: branches on the same input, failures and retries."""
from __future__ import annotations

from django_asl.asl import TaskError
from tests.asl.machines import elapsed, event_types, load, run

SCORE = "urn:app:score"
BRANCH_EVENTS = ["PassStateEntered", "PassStateExited",
                 "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited"]


def test_branches_run_on_the_same_input_and_results_come_in_branch_order():
    seen = []

    def score(data, context):
        seen.append(data)
        return len(data["name"])

    result = run(load("parallel/two_branches.json"), {"name": "Ann"}, tasks={SCORE: score})
    assert (result.status, result.output) == ("SUCCEEDED", ["Ann", 3])
    assert seen == [{"name": "Ann"}]
    assert event_types(result) == [
        "ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted", *BRANCH_EVENTS,
        "ParallelStateSucceeded", "ParallelStateExited", "SucceedStateEntered", "SucceedStateExited",
        "ExecutionSucceeded",
    ]


def test_a_failed_branch_is_caught_with_result_path():
    def score(data, context):
        raise TaskError("ScoringDown", "try later")

    result = run(load("parallel/two_branches.json"), {"name": "Ann"}, tasks={SCORE: score})
    assert (result.status, result.output) == (
        "SUCCEEDED", {"name": "Ann", "error": {"Error": "ScoringDown", "Cause": "try later"}})
    assert event_types(result) == [
        "ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted",
        "PassStateEntered", "PassStateExited",
        "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed",
        "ParallelStateFailed", "ParallelStateExited",
        "PassStateEntered", "PassStateExited", "ExecutionSucceeded",
    ]


def test_a_runtime_error_in_a_branch_is_not_caught():
    # The branch's Pass state reads $.name, which is missing.
    result = run(load("parallel/two_branches.json"), {"other": 1}, tasks={SCORE: lambda d, c: 0})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    # 1 ExecutionStarted, 2 ParallelStateEntered, 3 ParallelStateStarted, 4 PassStateEntered
    assert result.cause == ("An error occurred while executing the state 'Name' (entered at the event id #4). "
                            "Invalid path '$.name' : No results for path: $['name']")
    assert event_types(result) == ["ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted",
                                   "PassStateEntered", "ParallelStateFailed", "ExecutionFailed"]


def test_a_parallel_state_is_retried_as_a_whole():
    calls = []

    def score(data, context):
        calls.append(data)
        if len(calls) == 1:
            raise TaskError("Flaky")
        return 10

    result = run(load("parallel/retry.json"), {"id": 1}, tasks={SCORE: score})
    assert (result.status, result.output) == ("SUCCEEDED", {"id": 1, "results": {"one": 1, "score": 10}})
    assert elapsed(result) == 5
    one = ["PassStateEntered", "PassStateExited"]
    assert event_types(result) == [
        "ExecutionStarted", "ParallelStateEntered",
        "ParallelStateStarted", *one, "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed",
        "ParallelStateFailed",
        "ParallelStateStarted", *one, "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded",
        "TaskStateExited", "ParallelStateSucceeded",
        "ParallelStateExited", "ExecutionSucceeded",
    ]
