"""A batch of 1,000 with concurrency 10 under real worker processes, one of them killed (SIGKILL) mid-batch.

A monitor samples the batch while it runs: never more than 10 running items, and
never a running batch execution without its running item. At the end the counts
are exact and items and executions agree.

PostgreSQL only: the workers are separate processes sharing the test database.
"""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections

from django_asl.engine import batches, publish, start_batch
from django_asl.models import Batch, BatchItem, Execution
from tests.engine.processes import kill, start_worker

ITEMS = 1000
CONCURRENCY = 10
# A trivial target (each launch round costs a queue round trip, so a Task would triple the run time).
TARGET = {"StartAt": "Work", "States": {"Work": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"},
                                                  "End": True}}}
SOURCE = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


class Monitor(threading.Thread):
    """Sample, in one statement (one snapshot), the batch's running items and running batch executions."""

    def __init__(self, batch_id) -> None:
        super().__init__(daemon=True)
        self.batch_id = batch_id
        self.stop = threading.Event()
        self.samples: list[tuple[int, int]] = []

    def run(self) -> None:
        items, executions = BatchItem._meta.db_table, Execution._meta.db_table
        try:
            with connections["default"].cursor() as cursor:
                while not self.stop.is_set():
                    cursor.execute(
                        f"SELECT (SELECT count(*) FROM {items} WHERE batch_id = %s AND status = 'RUNNING'), "
                        f"(SELECT count(*) FROM {executions} WHERE source_link = 'batch' AND status = 'RUNNING')",
                        [self.batch_id])
                    self.samples.append(cursor.fetchone())
                    time.sleep(0.005)
        finally:
            connections["default"].close()


def succeeded(batch: Batch) -> int:
    return BatchItem.objects.filter(batch=batch, status="SUCCEEDED").count()


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_neither_breaks_the_concurrency_limit_nor_the_counts(settings, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("real worker processes need a shared PostgreSQL database")
    source = publish("kill-source", SOURCE)
    publish("kill-target", TARGET)
    start = batches.runtime.CLOCK.now() - timedelta(hours=1)
    Execution.objects.bulk_create(
        Execution(state_machine=source, version_id=source.current_version_id, name=f"source-{index}",
                  status="SUCCEEDED", input={"n": index}, output={"n": index},
                  start_date=start + timedelta(milliseconds=index), stop_date=start + timedelta(seconds=1))
        for index in range(ITEMS))
    # This process queues nothing (its django-q2 runs tasks in-process): the workers' sweep
    # (every few seconds in their timer loops) takes the batch up, as after a lost queueing.
    monkeypatch.setattr(batches, "enqueue", lambda *args: None)
    batch = start_batch("kill-target", {"state_machine": "kill-source"}, name_prefix="kill",
                        concurrency=CONCURRENCY)
    monitor = Monitor(batch.pk)
    monitor.start()
    workers = [start_worker(), start_worker()]
    started = time.monotonic()
    try:
        assert wait_until(lambda: succeeded(batch) >= ITEMS // 3, 60), "the batch did not get going"
        kill(workers[0])
        workers[0] = start_worker()
        assert wait_until(lambda: succeeded(batch) >= ITEMS * 2 // 3, 60), "the batch stalled after the kill"
        kill(workers[1])
        workers[1] = start_worker()
        assert wait_until(lambda: not Batch.objects.filter(pk=batch.pk, status="RUNNING").exists(), 60), \
            "the batch did not end after the second kill"
    finally:
        for worker in workers:
            kill(worker)
        monitor.stop.set()
        monitor.join()
    elapsed = time.monotonic() - started
    most_items = max(items for items, _ in monitor.samples)
    assert most_items == CONCURRENCY, f"at most {most_items} running items seen in {len(monitor.samples)} samples"
    assert all(executions <= items for items, executions in monitor.samples), "a running execution without its item"
    batch.refresh_from_db()
    assert (batch.status, batch.total, batch.pending, batch.running, batch.succeeded, batch.failed) == (
        "SUCCEEDED", ITEMS, 0, 0, ITEMS, 0)
    items = list(BatchItem.objects.filter(batch=batch).select_related("execution", "source").order_by("index"))
    assert [item.status for item in items] == ["SUCCEEDED"] * ITEMS
    assert len({item.execution_id for item in items}) == ITEMS
    for index, item in enumerate(items):
        assert item.source.name == f"source-{index}"  # snapshotted in start order
        assert (item.execution.name, item.execution.status, item.execution.output) == (
            f"kill-{index}", "SUCCEEDED", {"n": index + 1})
        assert (item.execution.source_execution_id, item.execution.source_link) == (item.source_id, "batch")
    assert Execution.objects.filter(source_link="batch").count() == ITEMS
    print(f"{ITEMS} items in {elapsed:.0f} s, {len(monitor.samples)} samples")
