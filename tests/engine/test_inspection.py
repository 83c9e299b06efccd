"""The path an execution took, coloured by outcome, from its history."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from django_asl.engine import inspect_execution, path_taken
from django_asl.engine.inspection import child_counts
from tests.admin.conftest import failed, machines  # noqa: F401  (fixtures: a retried, caught, failed execution)

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize("events, running, expected", [
    # a Pass state entered and left: succeeded, its time measured
    ([("PassStateEntered", "P", at(0)), ("PassStateExited", "P", at(2))], False,
     {"|P": {"status": "succeeded", "entries": 1, "attempts": 0, "seconds": 2.0}}),
    # a task that needed two attempts: retried
    ([("TaskStateEntered", "T", at(0)), ("TaskScheduled", "", at(0)), ("TaskFailed", "", at(1)),
      ("TaskScheduled", "", at(2)), ("TaskSucceeded", "", at(3)), ("TaskStateExited", "T", at(3))], False,
     {"|T": {"status": "retried", "entries": 1, "attempts": 2, "seconds": 3.0}}),
    # a task that failed and was left all the same: caught
    ([("TaskStateEntered", "T", at(0)), ("TaskScheduled", "", at(0)), ("TaskFailed", "", at(1)),
      ("TaskStateExited", "T", at(1))], False,
     {"|T": {"status": "caught", "entries": 1, "attempts": 1, "seconds": 1.0}}),
    # still in a Wait state while the execution runs: running
    ([("WaitStateEntered", "W", at(0))], True, {"|W": {"status": "running", "entries": 1, "attempts": 0,
                                                      "seconds": 0.0}}),
    # the execution failed in a task: failed
    ([("TaskStateEntered", "T", at(0)), ("TaskScheduled", "", at(0)), ("TaskFailed", "", at(1)),
      ("ExecutionFailed", "", at(1))], False,
     {"|T": {"status": "failed", "entries": 1, "attempts": 1, "seconds": 0.0}}),
    # a Fail state: failed
    ([("FailStateEntered", "F", at(0)), ("ExecutionFailed", "", at(0))], False,
     {"|F": {"status": "failed", "entries": 1, "attempts": 0, "seconds": 0.0}}),
    # a loop: the state entered twice, the second time still running
    ([("PassStateEntered", "P", at(0)), ("PassStateExited", "P", at(1)), ("PassStateEntered", "P", at(1))], True,
     {"|P": {"status": "running", "entries": 2, "attempts": 0, "seconds": 1.0}}),
])
def test_path_taken(events, running, expected):
    assert path_taken(events, running=running) == expected


def test_node_ids_carry_the_machine_path():
    assert list(path_taken([("PassStateEntered", "A", at(0))], machine_path='[["Fan", 0]]', running=True)) == [
        '[["Fan", 0]]|A']


@pytest.mark.django_db
def test_inspect_execution_queries_are_bounded_by_the_definition(failed, django_assert_num_queries):
    with django_assert_num_queries(2 + 2 * 2):  # history, child counts, then 2 per branch
        inspection = inspect_execution(failed)
    statuses = {node: found["status"] for node, found in inspection["nodes"].items()}
    assert statuses == {"|Flaky": "retried", "|Guarded": "caught", "|Fan": "succeeded", "|Broken": "failed",
                        '[["Fan", 0]]|A': "succeeded", '[["Fan", 1]]|B': "succeeded"}
    assert inspection["children"] == {'[["Fan", 0]]': {"SUCCEEDED": 1}, '[["Fan", 1]]': {"SUCCEEDED": 1}}
    assert child_counts(failed.children.first()) == {}
