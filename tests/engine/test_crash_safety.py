"""Kill worker processes (SIGKILL) in the middle of a run: every execution still completes exactly once.

PostgreSQL only: the workers are separate processes sharing the test database.
"""
from __future__ import annotations

import time
from collections import Counter

import pytest
from django.db import connection

from django_asl.engine import publish, start_execution
from django_asl.models import Execution, HistoryEvent
from tests.engine.processes import kill, start_worker

EXECUTIONS = 200
KILLS = 5
RESOURCE = "urn:test:crash.increment"
DEFINITION = {
    "StartAt": "First",
    "States": {
        "First": {"Type": "Task", "Resource": RESOURCE, "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThan": 3, "Next": "Again"}],
                  "Default": "Nap"},
        "Again": {"Type": "Task", "Resource": RESOURCE, "Next": "Check"},
        "Nap": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
    },
}
EXPECTED = [
    "ExecutionStarted",
    "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",
    *(["ChoiceStateEntered", "ChoiceStateExited",
       "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited"] * 2),
    "ChoiceStateEntered", "ChoiceStateExited", "WaitStateEntered", "WaitStateExited",
    "PassStateEntered", "PassStateExited", "ExecutionSucceeded",
]


@pytest.mark.django_db(transaction=True)
def test_killed_workers_lose_nothing_and_repeat_no_event(settings):
    if connection.vendor != "postgresql":
        pytest.skip("real worker processes need a shared PostgreSQL database")
    settings.DJANGO_ASL = {"TASKS": {RESOURCE: "tests.engine.crash_tasks.increment"}}
    machine = publish("crash", DEFINITION)
    for index in range(EXECUTIONS):
        start_execution(machine, {"n": 0}, name=f"crash-{index}")
    workers = [start_worker(), start_worker()]
    try:
        for kill_number in range(KILLS):
            time.sleep(1.5)
            kill(workers[kill_number % 2])
            workers[kill_number % 2] = start_worker()
        deadline = time.monotonic() + 120
        while Execution.objects.filter(status="RUNNING").exists() and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        for worker in workers:
            kill(worker)
    statuses = Counter(Execution.objects.values_list("status", flat=True))
    assert statuses == {"SUCCEEDED": EXECUTIONS}
    assert all(output == {"n": 3} for output in Execution.objects.values_list("output", flat=True))
    for execution_id in Execution.objects.values_list("pk", flat=True):
        events = list(HistoryEvent.objects.filter(execution_id=execution_id).order_by("sequence")
                      .values_list("sequence", "type"))
        assert [sequence for sequence, _ in events] == list(range(1, len(events) + 1))
        assert [event_type for _, event_type in events] == EXPECTED
