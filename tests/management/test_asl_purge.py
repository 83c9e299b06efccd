"""Tests of ``asl_purge``: what is deleted, what is kept, batches, dry runs and bad options."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Q
from django.utils import timezone

from django_asl.engine import publish, start_execution, stop_execution
from django_asl.models import Execution, HistoryEvent
from tests.asl.machines import single

pytestmark = pytest.mark.django_db

PARALLEL = single({"Type": "Parallel", "Branches": [
    single({"Type": "Pass"}, "L"), single({"Type": "Pass"}, "R")]})


def purge(*args, **options) -> list[str]:
    """Run asl_purge; return the lines it printed."""
    out = io.StringIO()
    call_command("asl_purge", *args, stdout=out, **options)
    return out.getvalue().splitlines()


@pytest.fixture
def run(clock, tasks, drain):
    """Return a function that runs executions to their end and dates them ``days_ago`` days back."""
    publish("pass", single({"Type": "Pass"}))
    publish("fail", single({"Type": "Fail", "Error": "Oops"}))
    publish("parallel", PARALLEL)
    publish("wait", single({"Type": "Wait", "Seconds": 60}))

    def run_all(machine: str, *names: str, days_ago: float = 0) -> list[Execution]:
        executions = [start_execution(machine, {}, name=name) for name in names]
        drain()
        when = timezone.now() - timedelta(days=days_ago)
        for execution in executions:
            Execution.objects.filter(Q(pk=execution.pk) | Q(parent=execution.pk)).update(
                start_date=when, stop_date=when)
        return executions

    return run_all


def names() -> list[str]:
    return sorted(Execution.objects.filter(parent=None).values_list("name", flat=True))


def test_deletes_old_finished_executions_with_their_history(run):
    run("pass", "old-1", "old-2", days_ago=31)
    run("fail", "old-failed", days_ago=40)
    run("pass", "recent", days_ago=29)
    assert HistoryEvent.objects.count() == 4 + 4 + 3 + 4
    assert purge("--older-than", "30") == ["Deleted 3 executions (3 top-level) and 11 history events."]
    assert names() == ["recent"]
    assert HistoryEvent.objects.count() == 4


def test_deletes_branches_and_their_history(run):
    [old] = run("parallel", "old", days_ago=10)
    run("parallel", "new", days_ago=1)
    events = HistoryEvent.objects.filter(Q(execution=old) | Q(execution__parent=old)).count()
    assert purge("--older-than", "5") == [f"Deleted 3 executions (1 top-level) and {events} history events."]
    assert names() == ["new"]
    assert Execution.objects.count() == 3
    assert not HistoryEvent.objects.filter(execution__name__startswith="old").exists()


def test_never_deletes_running_executions(run, clock):
    run("wait", "waited", days_ago=0)
    running = start_execution("wait", {}, name="still-running")
    assert running.status == "RUNNING"
    assert purge("--older-than", "0") == ["Deleted 1 execution (1 top-level) and 4 history events."]
    assert names() == ["still-running"]


def test_keeps_a_finished_execution_with_a_running_branch(run):
    [blocked, deleted] = run("parallel", "blocked", "deleted", days_ago=10)
    blocked.children.filter(child_index=0).update(status="RUNNING", stop_date=None)
    # With one execution per batch, the kept one is passed over, not selected again and again.
    assert purge("--older-than", "5", "--batch-size", "1") == [
        "Deleted 3 executions (1 top-level) and 10 history events.",
        "Kept 1 finished execution with a branch or iteration still RUNNING.",
    ]
    assert names() == ["blocked"]
    assert blocked.children.count() == 2


def test_stopped_executions_are_deleted(run, clock):
    publish("wait", single({"Type": "Wait", "Seconds": 60}))
    execution = start_execution("wait", {}, name="stopped")
    stop_execution(execution, error="Enough")
    Execution.objects.filter(pk=execution.pk).update(start_date=timezone.now() - timedelta(days=3),
                                                     stop_date=timezone.now() - timedelta(days=2))
    assert purge("--older-than", "1") == ["Deleted 1 execution (1 top-level) and 1 history event."]
    assert names() == []


def test_batches(run):
    run("pass", *[f"old-{index}" for index in range(5)], days_ago=2)
    assert purge("--older-than", "1", "--batch-size", "2", verbosity=2) == [
        "Batch 1: 2 executions, 8 history events.",
        "Batch 2: 2 executions, 8 history events.",
        "Batch 3: 1 execution, 4 history events.",
        "Deleted 5 executions (5 top-level) and 20 history events.",
    ]
    assert names() == []
    assert not HistoryEvent.objects.exists()


def test_each_batch_is_one_transaction(run, monkeypatch):
    from django.db import connection

    from django_asl.management.commands import asl_purge

    run("pass", *[f"old-{index}" for index in range(5)], days_ago=2)
    outside = len(connection.savepoint_ids)
    batches = []

    class RecordingBatch(asl_purge.Batch):
        def __init__(self, root_ids):
            batches.append((len(root_ids), len(connection.savepoint_ids) - outside))
            super().__init__(root_ids)

    monkeypatch.setattr(asl_purge, "Batch", RecordingBatch)
    purge("--older-than", "1", "--batch-size", "2")
    # Three batches of at most two, each inside its own atomic block.
    assert batches == [(2, 1), (2, 1), (1, 1)]


def test_dry_run_deletes_nothing(run):
    run("parallel", "old", days_ago=10)
    run("pass", "older", days_ago=20)
    before = (Execution.objects.count(), HistoryEvent.objects.count())
    events = HistoryEvent.objects.count()
    assert purge("--older-than", "5", "--dry-run") == [
        f"Would delete 4 executions (2 top-level) and {events} history events."]
    assert (Execution.objects.count(), HistoryEvent.objects.count()) == before


def test_nothing_to_delete(db):
    assert purge("--older-than", "30") == ["Deleted 0 executions (0 top-level) and 0 history events."]


@pytest.mark.parametrize("args, expected", [
    # --older-than is required
    ([], "the following arguments are required: --older-than"),
    # a negative age
    (["--older-than", "-1"], "--older-than must be a number of days, 0 or more."),
    # not a number
    (["--older-than", "month"], "invalid float value: 'month'"),
    # not a number either
    (["--older-than", "nan"], "--older-than must be a number of days, 0 or more."),
    # beyond any date
    (["--older-than", "1e12"], "--older-than is too large."),
    # an empty batch
    (["--older-than", "1", "--batch-size", "0"], "--batch-size must be 1 or more."),
])
def test_bad_options(db, args, expected):
    with pytest.raises(CommandError) as failure:
        call_command("asl_purge", *args, stdout=io.StringIO())
    assert expected in str(failure.value)
