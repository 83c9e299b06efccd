"""Batch launches: snapshot, concurrency, counts, every kind of end, stop_on_error, cancel, signals, the sweep."""
from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime

import pytest

from django_asl import signals
from django_asl.engine import (
    BatchNotRunning,
    StateMachineDoesNotExist,
    batches,
    cancel_batch,
    describe_batch,
    list_batches,
    publish,
    redrive_execution,
    start_batch,
    start_execution,
    stop_execution,
)
from django_asl.engine.timers import next_due_time, run_due_timers
from django_asl.models import Batch, BatchItem, Execution

pytestmark = pytest.mark.django_db

RESOURCE = "urn:test:batch.double"
# The sources: each ends with output {"n": <its input's n>}; n = 3 fails.
SOURCE = {"StartAt": "Check", "States": {
    "Check": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 3, "Next": "Boom"}],
              "Default": "Out"},
    "Out": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "End": True},
    "Boom": {"Type": "Fail", "Error": "SourceBroken", "Cause": "three"},
}}
# The target: waits 10 s (so that executions stay running while the test looks), except that
# n = 105 fails, n = 106 waits past the machine's TimeoutSeconds and n = 107 waits long (to be stopped).
TARGET = {"StartAt": "Route", "TimeoutSeconds": 60, "States": {
    "Route": {"Type": "Choice", "Choices": [
        {"Variable": "$.n", "NumericEquals": 105, "Next": "Boom"},
        {"Variable": "$.n", "NumericEquals": 106, "Next": "Long"},
        {"Variable": "$.n", "NumericEquals": 107, "Next": "Long"},
    ], "Default": "Nap"},
    "Nap": {"Type": "Wait", "Seconds": 10, "Next": "Done"},
    "Long": {"Type": "Wait", "Seconds": 1000, "Next": "Done"},
    "Done": {"Type": "Pass", "End": True},
    "Boom": {"Type": "Fail", "Error": "TargetBroken", "Cause": "five"},
}}


PLUS_100 = {"n.$": "States.MathAdd($.n, 100)"}


def double(value):
    """A module-level transformer: a batch stores it by its dotted path."""
    return {"n": value["n"] * 2}


@pytest.fixture
def run_all(clock, django_capture_on_commit_callbacks):
    """Return a function that runs queued work and timers until no execution runs, checking a limit as it goes.

    After every round it counts the batch's RUNNING items and RUNNING batch executions,
    and returns the most it saw of each.
    """

    def run(batch: Batch | None = None, limit: int | None = None) -> tuple[int, int]:
        most_items = most_executions = 0
        for _ in range(10_000):
            with django_capture_on_commit_callbacks(execute=True):
                due = run_due_timers()
            if batch is not None:
                items = batch.items.filter(status="RUNNING").count()
                executions = Execution.objects.filter(source_link="batch", status="RUNNING").count()
                most_items, most_executions = max(most_items, items), max(most_executions, executions)
                if limit is not None:
                    assert items <= limit and executions <= limit
                batch.refresh_from_db()
                assert batch.running == items
            if due:
                continue
            if not Execution.objects.filter(status="RUNNING").exists():
                return most_items, most_executions
            clock.advance_to(next_due_time())
        raise AssertionError("The executions did not end.")

    return run


@pytest.fixture
def sources(tasks, clock, run_all):
    """Start and run 30 sources, one second apart: src-0 .. src-29 (src-3 fails)."""
    publish("source", SOURCE)
    publish("target", TARGET)
    for index in range(30):
        start_execution("source", {"n": index}, name=f"src-{index}")
        clock.advance(1)
    run_all()
    return list(Execution.objects.filter(state_machine__name="source").order_by("start_date"))


@pytest.fixture
def launch(django_capture_on_commit_callbacks):
    """Return ``start_batch`` run with its after-commit launch."""

    def start(*args, **kwargs) -> Batch:
        with django_capture_on_commit_callbacks(execute=True):
            return start_batch(*args, **kwargs)

    return start


def counts(batch: Batch) -> dict:
    described = describe_batch(batch)  # reads the batch afresh: the instance may be stale
    return {key: described[key] for key in ("status", "total", "pending", "running", "succeeded", "failed",
                                              "cancelled")}


def item_statuses(batch: Batch) -> Counter:
    return Counter(batch.items.values_list("status", flat=True))


def test_a_batch_runs_at_most_concurrency_executions_and_ends_with_exact_counts(sources, launch, run_all):
    batch = launch("target", {"state_machine": "source", "status": "SUCCEEDED", "name_prefix": "src-"},
                   name_prefix="double", concurrency=3, input_transformer=double)
    assert batch.input_transformer == "tests.engine.test_batches.double"
    # 29 sources succeeded (src-3 failed); in start order: item i is the i-th of them.
    expected_sources = [source for source in sources if source.status == "SUCCEEDED"]
    assert list(batch.items.order_by("index").values_list("source_id", flat=True)) == [
        source.pk for source in expected_sources]
    assert batch.items.filter(status="RUNNING").count() == 3
    most_items, most_executions = run_all(batch, limit=3)
    assert (most_items, most_executions) == (3, 3)
    assert counts(batch) == {"status": "SUCCEEDED", "total": 29, "pending": 0, "running": 0, "succeeded": 29,
                             "failed": 0, "cancelled": 0}
    assert batch.stopped_at is not None
    for item in batch.items.select_related("execution", "source").order_by("index"):
        execution = item.execution
        assert (item.status, execution.name, execution.status) == ("SUCCEEDED", f"double-{item.index}", "SUCCEEDED")
        assert execution.input == {"n": item.source.output["n"] * 2}
        assert (execution.source_execution_id, execution.source_link) == (item.source_id, "batch")


def test_every_kind_of_end_counts_as_a_failure(sources, launch, run_all, django_capture_on_commit_callbacks,
                                               clock):
    batch = launch("target", {"state_machine": "source"}, name_prefix="mixed", concurrency=30,
                   input_transformer=PLUS_100)
    # src-3 has no output: its item failed without launching; mixed-5 failed in its first step.
    assert counts(batch)["running"] == 28
    stopped = Execution.objects.get(name="mixed-7")
    with django_capture_on_commit_callbacks(execute=True):
        stop_execution(stopped, error="Operator", cause="not needed")
    run_all(batch, limit=30)
    errors = dict(batch.items.exclude(status="SUCCEEDED").values_list("index", "error"))
    assert set(errors) == {3, 5, 6, 7}
    assert errors[3].startswith("The source execution 'src-3'") and "is FAILED, not SUCCEEDED" in errors[3]
    assert errors[5] == "FAILED: TargetBroken: five"
    assert errors[6] == "TIMED_OUT: States.Timeout"
    assert errors[7] == "ABORTED: Operator: not needed"
    assert counts(batch) == {"status": "FAILED", "total": 30, "pending": 0, "running": 0, "succeeded": 26,
                             "failed": 4, "cancelled": 0}


def test_a_redriven_batch_execution_reopens_its_item(sources, launch, run_all, django_capture_on_commit_callbacks):
    batch = launch("target", {"state_machine": "source", "status": "SUCCEEDED"}, name_prefix="again",
                   concurrency=30, input_transformer=PLUS_100)
    run_all(batch, limit=30)
    failed = Execution.objects.get(name="again-4")  # n = 5, so 105: fails in Boom (106 and 107 time out)
    assert counts(batch) == {"status": "FAILED", "total": 29, "pending": 0, "running": 0, "succeeded": 26,
                             "failed": 3, "cancelled": 0}
    with django_capture_on_commit_callbacks() as queued:  # not run yet: look at the batch first
        redrive_execution(failed)
    item = BatchItem.objects.get(execution=failed)
    assert (item.status, item.error) == ("RUNNING", None)
    assert counts(batch) == {"status": "RUNNING", "total": 29, "pending": 0, "running": 1, "succeeded": 26,
                             "failed": 2, "cancelled": 0}
    batch.refresh_from_db()
    assert batch.stopped_at is None
    with django_capture_on_commit_callbacks(execute=True):
        for callback in queued:
            callback()
    run_all(batch, limit=30)  # Boom fails again: the item and the batch end FAILED once more
    item.refresh_from_db()
    assert (item.status, item.error) == ("FAILED", "FAILED: TargetBroken: five")
    assert counts(batch) == {"status": "FAILED", "total": 29, "pending": 0, "running": 0, "succeeded": 26,
                             "failed": 3, "cancelled": 0}


def test_stop_on_error_cancels_pending_items_and_lets_running_ones_finish(sources, launch, run_all):
    batch = launch("target", {"state_machine": "source"}, name_prefix="strict", concurrency=2, stop_on_error=True)
    run_all(batch, limit=2)
    # Items 0, 1 ran, then 2 and 3 were due: 3 (src-3 failed) fails at launch and stops the batch;
    # item 2 was already running and ran to its end.
    assert counts(batch) == {"status": "FAILED", "total": 30, "pending": 0, "running": 0, "succeeded": 3,
                             "failed": 1, "cancelled": 26}
    assert dict(item_statuses(batch)) == {"SUCCEEDED": 3, "FAILED": 1, "CANCELLED": 26}
    assert Execution.objects.filter(source_link="batch").count() == 3


def test_stop_on_error_on_a_failed_execution(sources, launch, run_all):
    batch = launch("target", {"state_machine": "source", "status": "SUCCEEDED"}, name_prefix="strict",
                   concurrency=1, stop_on_error=True, input_transformer=PLUS_100)
    run_all(batch, limit=1)
    # Items 0..3 are n = 0, 1, 2, 4; item 4 (n = 5, so 105) fails.
    assert counts(batch)["status"] == "FAILED"
    assert list(batch.items.exclude(status="CANCELLED").order_by("index").values_list("status", flat=True)) == [
        "SUCCEEDED"] * 4 + ["FAILED"]
    assert counts(batch)["cancelled"] == 29 - 5


def test_cancel_stops_launching_and_may_stop_running_executions(sources, launch, run_all,
                                                                django_capture_on_commit_callbacks):
    finished = []
    signals.batch_finished.connect(on_finished := lambda sender, batch, **kw: finished.append(batch.status))
    try:
        batch = launch("target", {"state_machine": "source", "status": "SUCCEEDED"}, name_prefix="gentle",
                       concurrency=2)
        with django_capture_on_commit_callbacks(execute=True):
            cancelled = cancel_batch(batch)
        assert cancelled.status == "CANCELLED" and cancelled.stopped_at is not None
        run_all(batch, limit=2)
        assert counts(batch) == {"status": "CANCELLED", "total": 29, "pending": 0, "running": 0, "succeeded": 2,
                                 "failed": 0, "cancelled": 27}
        with pytest.raises(BatchNotRunning, match=r"The batch 'gentle' .* has already ended \(CANCELLED\)"):
            cancel_batch(batch)

        hard = launch("target", {"state_machine": "source", "status": "SUCCEEDED"}, name_prefix="hard",
                      concurrency=2)
        with django_capture_on_commit_callbacks(execute=True):
            cancel_batch(str(hard.pk), stop_running=True)
        assert counts(hard) == {"status": "CANCELLED", "total": 29, "pending": 0, "running": 0, "succeeded": 0,
                                "failed": 2, "cancelled": 27}
        assert set(hard.items.filter(status="FAILED").values_list("error", flat=True)) == {
            f"ABORTED: BatchCancelled: The batch 'hard' ({hard.pk}) was cancelled."}
        assert set(Execution.objects.filter(name__startswith="hard-").values_list("status", flat=True)) == {
            "ABORTED"}
    finally:
        signals.batch_finished.disconnect(on_finished)
    assert finished == ["CANCELLED", "CANCELLED"]


def test_progress_signals_follow_the_counts(sources, launch, run_all):
    progress, finished = [], []

    def on_progress(sender, batch, **kwargs):
        assert sender is Batch and batch.running <= 2
        progress.append((batch.status, batch.pending, batch.running, batch.succeeded, batch.failed))

    def on_finished(sender, batch, **kwargs):
        finished.append((batch.status, batch.succeeded))

    signals.batch_progress.connect(on_progress)
    signals.batch_finished.connect(on_finished)
    try:
        batch = launch("target", {"state_machine": "source", "name_prefix": "src-1"}, name_prefix="signal",
                       concurrency=2)
        run_all(batch, limit=2)
    finally:
        signals.batch_progress.disconnect(on_progress)
        signals.batch_finished.disconnect(on_finished)
    # src-1 and src-10 .. src-19: 11 items.
    assert progress[0] == ("RUNNING", 11, 0, 0, 0)  # created
    assert progress[1] == ("RUNNING", 9, 2, 0, 0)  # the first two launched
    assert progress[-1] == ("SUCCEEDED", 0, 0, 11, 0)
    assert [succeeded for *_, succeeded, _failed in progress] == sorted(
        succeeded for *_, succeeded, _failed in progress)
    assert finished == [("SUCCEEDED", 11)]


def test_a_batch_chains_from_a_state_through_a_template(sources, launch, run_all):
    batch = launch("target", {"state_machine": "source", "started_before": sources[3].start_date},
                   name_prefix="templated", concurrency=5, source_state="Check",
                   input_transformer={**PLUS_100, "from.$": "$$.Execution.Name"})
    run_all(batch)
    assert counts(batch)["succeeded"] == 3
    assert sorted(Execution.objects.filter(source_link="batch").values_list("input", flat=True),
                  key=lambda data: data["n"]) == [{"n": 100, "from": "src-0"}, {"n": 101, "from": "src-1"},
                                                  {"n": 102, "from": "src-2"}]
    assert set(Execution.objects.filter(source_link="batch").values_list("source_state", flat=True)) == {"Check"}


def test_a_batch_from_hand_picked_ids_launches_exactly_those(sources, launch, run_all):
    picked = [sources[7], sources[2], sources[7], sources[3]]  # out of order, one twice, src-3 failed
    batch = launch("target", {"ids": [str(source.pk) for source in picked[:3]] + [picked[3].pk]},
                   name_prefix="picked", concurrency=2)
    # Start order (oldest first), each once; the stored filter is JSON, so the batch survives a restart.
    assert list(batch.items.order_by("index").values_list("source_id", flat=True)) == [
        sources[2].pk, sources[3].pk, sources[7].pk]
    batch.refresh_from_db()
    assert batch.source_filter == {"ids": [str(sources[7].pk), str(sources[2].pk), str(sources[3].pk)]}
    run_all(batch, limit=2)
    assert (counts(batch)["succeeded"], counts(batch)["failed"]) == (2, 1)  # src-3 has no output to chain from
    assert set(Execution.objects.filter(source_link="batch").values_list("source_execution_id", flat=True)) == {
        sources[2].pk, sources[7].pk}


def test_ids_combine_with_the_other_filters(sources, launch):
    picked = [str(source.pk) for source in sources[:5]]
    batch = launch("target", {"ids": picked, "status": "SUCCEEDED", "started_after": sources[1].start_date},
                   name_prefix="combined")
    # src-0 started before the window and src-3 failed: src-1, src-2 and src-4 remain.
    assert list(batch.items.order_by("index").values_list("source__name", flat=True)) == ["src-1", "src-2",
                                                                                         "src-4"]
    unknown = launch("target", {"ids": [str(uuid.UUID(int=1))]}, name_prefix="unknown")
    assert counts(unknown)["total"] == 0  # an id that matches no execution is like a filter that matches nothing


def test_a_batch_matching_nothing_succeeds_at_once(sources, launch):
    finished = []
    signals.batch_finished.connect(on_finished := lambda sender, batch, **kw: finished.append(batch.status))
    try:
        batch = launch("target", {"name_prefix": "nothing-"}, name_prefix="empty")
    finally:
        signals.batch_finished.disconnect(on_finished)
    assert counts(batch) == {"status": "SUCCEEDED", "total": 0, "pending": 0, "running": 0, "succeeded": 0,
                             "failed": 0, "cancelled": 0}
    assert finished == ["SUCCEEDED"]


def test_a_task_target_updates_its_item_on_every_write_path(sources, launch, run_all, tasks):
    # On PostgreSQL a task's result is normally written by one statement of its own; a batch
    # execution's end must take the path that also updates its item and batch.
    tasks[RESOURCE] = double
    publish("tasked", {"StartAt": "Double", "States": {
        "Double": {"Type": "Task", "Resource": RESOURCE, "Next": "Again"},
        "Again": {"Type": "Task", "Resource": RESOURCE, "End": True}}})
    batch = launch("tasked", {"state_machine": "source", "status": "SUCCEEDED"}, name_prefix="tasked",
                   concurrency=4)
    run_all(batch, limit=4)
    assert counts(batch)["succeeded"] == 29
    assert sorted(data["n"] for data in Execution.objects.filter(source_link="batch")
                  .values_list("output", flat=True)) == sorted(
        source.output["n"] * 4 for source in sources if source.status == "SUCCEEDED")


def test_the_sweep_launches_when_the_queued_launch_was_lost(sources, run_all, monkeypatch,
                                                             django_capture_on_commit_callbacks):
    lost = []
    monkeypatch.setattr(batches, "enqueue", lambda *args: lost.append(args))  # a worker died before queueing
    monkeypatch.setattr(batches, "SWEEP_SECONDS", 0)  # the timer loop sweeps every time
    with django_capture_on_commit_callbacks(execute=True):
        batch = start_batch("target", {"state_machine": "source", "status": "SUCCEEDED"}, name_prefix="swept",
                            concurrency=4)
    assert lost and counts(batch)["running"] == 0
    run_all(batch, limit=4)
    assert counts(batch) == {"status": "SUCCEEDED", "total": 29, "pending": 0, "running": 0, "succeeded": 29,
                             "failed": 0, "cancelled": 0}


def test_the_sweep_settles_items_whose_executions_ended_unseen(sources, launch):
    batch = launch("target", {"state_machine": "source", "status": "SUCCEEDED"}, name_prefix="unseen",
                   concurrency=3)
    first, second, _third = batch.items.order_by("index")[:3]
    # Ended behind the engine's back: updated directly, and deleted (a purge).
    Execution.objects.filter(pk=first.execution_id).update(status="SUCCEEDED", stop_date=first.execution.start_date)
    Execution.objects.filter(pk=second.execution_id).delete()
    assert batches.sweep_batches() == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status, second.error) == (
        "SUCCEEDED", "FAILED", "ABORTED: ExecutionDeleted: The execution was deleted.")
    assert counts(batch)["running"] == 3  # two slots freed, two more launched
    assert batch.items.filter(status="RUNNING").count() == 3


def test_describe_and_list_batches(sources, launch, clock):
    batch = launch("target", {"state_machine": "source", "status": "SUCCEEDED",
                              "started_after": sources[0].start_date}, name_prefix="described", concurrency=7)
    described = describe_batch(str(batch.pk))
    assert described == {
        "batch_id": str(batch.pk), "state_machine": "target", "name_prefix": "described", "status": "RUNNING",
        "total": 29, "pending": 22, "running": 7, "succeeded": 0, "failed": 0, "cancelled": 0, "concurrency": 7,
        "stop_on_error": False,
        "source_filter": {"state_machine": "source", "status": "SUCCEEDED",
                          "started_after": sources[0].start_date.isoformat()},
        "source_state": None, "input_transformer": None, "created_at": batch.created_at.isoformat(),
        "stopped_at": None,
    }
    clock.advance(1)
    later = launch("target", {"state_machine": "source", "name_prefix": "src-2"}, name_prefix="later")
    assert list(list_batches()) == [later, batch]
    assert list(list_batches(state_machine="target", status="RUNNING")) == [later, batch]
    assert list(list_batches(status="SUCCEEDED")) == []
    with pytest.raises(ValueError, match="status must be one of RUNNING, SUCCEEDED, FAILED, CANCELLED"):
        list_batches(status="DONE")


def _nested():
    def transformer(value):
        return value

    return transformer


class Holder:
    def method(self, value):
        return value


@pytest.mark.parametrize("arguments, error, message", [
    # an unknown filter key (every one is named)
    ({"source_filter": {"machine": "source", "limit": 3}}, ValueError,
     r"unknown keys 'limit', 'machine'; the keys are state_machine, status, started_after"),
    # a bad status and a naive datetime: both reported at once
    ({"source_filter": {"status": "DONE", "started_after": datetime(2026, 1, 1)}}, ValueError,
     r"source_filter\['status'\] must be one of RUNNING.*source_filter\['started_after'\] must be an aware datetime"),
    # not a dict
    ({"source_filter": [("status", "SUCCEEDED")]}, TypeError, r"source_filter must be a dict"),
    # ids: not a list, empty, too many, not UUIDs (each bad one named, five at most)
    ({"source_filter": {"ids": "0c5f3a52-2f38-4d1e-9c55-0e4f3f0d8a11"}}, ValueError,
     r"source_filter\['ids'\] must be a list of execution ids, not '0c5f"),
    ({"source_filter": {"ids": []}}, ValueError, r"must list 1 to 10,000 execution ids, not 0; launch a larger"),
    ({"source_filter": {"ids": [str(uuid.UUID(int=n)) for n in range(10_001)]}}, ValueError,
     r"must list 1 to 10,000 execution ids, not 10,001"),
    ({"source_filter": {"ids": [str(uuid.UUID(int=1)), "nope", 3, None, "a", "b", "c"]}}, ValueError,
     r"must hold execution ids \(UUIDs\); these are not: 'nope', 3, None, 'a', 'b' and 1 more\.$"),
    # a bad id and a bad status: both reported at once
    ({"source_filter": {"ids": ["nope"], "status": "DONE"}}, ValueError,
     r"source_filter\['ids'\] must hold execution ids .* source_filter\['status'\] must be one of"),
    # a state machine that does not exist
    ({"source_filter": {"state_machine": "nowhere"}}, StateMachineDoesNotExist, r"no state machine named 'nowhere'"),
    # a name prefix too long for 80-character execution names
    ({"name_prefix": "x" * 41}, ValueError, r"name_prefix must be a string of 1 to 40 characters"),
    ({"concurrency": 0}, ValueError, r"concurrency must be a positive integer, not 0"),
    ({"concurrency": True}, ValueError, r"concurrency must be a positive integer, not True"),
    ({"stop_on_error": "yes"}, TypeError, r"stop_on_error must be True or False"),
    ({"source_state": ""}, ValueError, r"source_state must be a state name"),
    # transformers that cannot be found again after a restart
    ({"input_transformer": lambda value: value}, ValueError, r"cannot be found again by its dotted path"),
    ({"input_transformer": _nested()}, ValueError, r"not a lambda, a nested function or a method"),
    ({"input_transformer": Holder().method}, ValueError, r"cannot be found again by its dotted path"),
    ({"input_transformer": "tests.engine.test_batches.missing"}, ValueError, r"cannot be imported"),
    ({"input_transformer": "tests.engine.test_batches.RESOURCE"}, TypeError, r"is not callable"),
    ({"input_transformer": 42}, TypeError, r"must be a callable, its dotted path or a payload template"),
    ({"input_transformer": {"x.$": "not a path"}}, ValueError, r"not a valid payload template"),
    # the target
    ({"target": "nowhere"}, StateMachineDoesNotExist, r"no state machine named 'nowhere'"),
])
def test_bad_arguments_are_refused_with_what_is_wrong(sources, arguments, error, message):
    call = {"target": "target", "source_filter": {"state_machine": "source"}, "name_prefix": "bad", **arguments}
    with pytest.raises(error, match=message):
        start_batch(call.pop("target"), call.pop("source_filter"), **call)
    assert not Batch.objects.exists() and not BatchItem.objects.exists()


def test_a_name_prefix_is_used_once_per_target(sources, launch):
    launch("target", {"state_machine": "source"}, name_prefix="once")
    with pytest.raises(ValueError, match=r"A batch of 'target' with name_prefix 'once' already exists"):
        start_batch("target", {"state_machine": "source"}, name_prefix="once")
    assert Batch.objects.count() == 1


def test_an_item_whose_name_is_taken_fails_without_launching(sources, launch, run_all):
    start_execution("target", {"n": 0}, name="taken-0")
    batch = launch("target", {"state_machine": "source", "status": "SUCCEEDED"}, name_prefix="taken",
                   concurrency=2)
    run_all(batch, limit=2)
    first = batch.items.get(index=0)
    assert (first.status, first.error, first.execution) == (
        "FAILED", "An execution named 'taken-0' of 'target' already exists.", None)
    assert counts(batch)["failed"] == 1 and counts(batch)["succeeded"] == 28
