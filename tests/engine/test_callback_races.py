"""Callbacks raced by several processes: workers claiming activity tasks, two answers to one token.

PostgreSQL only: the processes are separate (forked), each with its own
connection to the test database, and the test commits for real so that they
see each other's work.
"""
from __future__ import annotations

import multiprocessing
import os
from collections import Counter

import pytest
from django.db import connection, connections

from django_asl.engine import (
    TaskTimedOut, create_activity, get_activity_task, get_execution_history, publish, send_task_success,
    start_execution,
)
from django_asl.models import Execution, TaskToken

pytestmark = pytest.mark.django_db(transaction=True)

EXECUTIONS = 12  # of each kind: activity tasks and .waitForTaskToken tasks
CLAIMERS = 4
CALLBACK = "urn:test:race.notify"


def definition(resource: str) -> dict:
    return {"StartAt": "Wait", "States": {
        "Wait": {"Type": "Task", "Resource": resource, "Parameters": {"n.$": "$.n", "token.$": "$$.Task.Token"}
                 if resource == CALLBACK + ".waitForTaskToken" else {"n.$": "$.n"}, "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
    }}


def _claim_all(barrier, results) -> None:
    """A worker process: claim activity tasks until none is left; report the tokens."""
    try:
        barrier.wait(timeout=30)
        claimed = []
        while (task := get_activity_task("race", f"worker-{os.getpid()}", wait_seconds=0)) is not None:
            claimed.append((task["task_token"], task["input"]["n"]))
        results.put((os.getpid(), claimed))
    except BaseException as exc:  # reported to the test, which fails on it
        results.put((os.getpid(), repr(exc)))
    finally:
        connections.close_all()


def _answer_each(tokens, barrier, results, index) -> None:
    """An answering process: for each token, at the same moment as the other one, send_task_success."""
    try:
        for token in tokens:
            barrier.wait(timeout=30)
            try:
                send_task_success(token, {"winner": index})
                results.put((token, "succeeded", index))
            except TaskTimedOut as exc:
                results.put((token, "TaskTimedOut", str(exc)))
            except BaseException as exc:
                results.put((token, "error", repr(exc)))
    finally:
        connections.close_all()


def _run(context, target, arguments: list[tuple], expected: int, results) -> list:
    """Start one process per argument tuple, collect ``expected`` results, and wait for the processes."""
    connections.close_all()  # each child opens its own connection
    processes = [context.Process(target=target, args=args) for args in arguments]
    for process in processes:
        process.start()
    try:
        collected = [results.get(timeout=120) for _ in range(expected)]
    finally:
        for process in processes:
            process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0] * len(processes)
    return collected


def test_workers_never_share_a_task_and_one_of_two_concurrent_answers_wins(tasks):
    if connection.vendor != "postgresql":
        pytest.skip("racing processes need a shared PostgreSQL database")
    tasks[CALLBACK] = lambda payload: None  # the token stays in TaskToken, where the test finds it
    create_activity("race")
    publish("race-activity", definition("django-asl:activity:race"))
    publish("race-callback", definition(CALLBACK + ".waitForTaskToken"))
    for index in range(EXECUTIONS):
        start_execution("race-activity", {"n": index})
        start_execution("race-callback", {"n": index})
    assert TaskToken.objects.filter(status="SCHEDULED").count() == EXECUTIONS
    assert TaskToken.objects.filter(status="STARTED").count() == EXECUTIONS

    context = multiprocessing.get_context("fork")
    results = context.Queue()
    barrier = context.Barrier(CLAIMERS)
    claims = _run(context, _claim_all, [(barrier, results)] * CLAIMERS, CLAIMERS, results)
    assert all(isinstance(claimed, list) for _, claimed in claims), claims
    tokens = [token for _, claimed in claims for token, _ in claimed]
    assert len(tokens) == len(set(tokens)) == EXECUTIONS  # every task claimed, none twice
    assert sorted(n for _, claimed in claims for _, n in claimed) == list(range(EXECUTIONS))
    for pid, claimed in claims:
        assert set(TaskToken.objects.filter(token__in=[token for token, _ in claimed])
                   .values_list("worker_name", flat=True)) <= {f"worker-{pid}"}

    tokens += list(TaskToken.objects.filter(status="STARTED", activity=None).values_list("token", flat=True))
    assert len(tokens) == 2 * EXECUTIONS
    barrier = context.Barrier(2)
    answers = _run(context, _answer_each, [(tokens, barrier, results, index) for index in (1, 2)],
                   2 * len(tokens), results)
    by_token: dict = {}
    for token, outcome, detail in answers:
        by_token.setdefault(token, []).append((outcome, detail))
    for token, outcomes in by_token.items():
        assert sorted(outcome for outcome, _ in outcomes) == ["TaskTimedOut", "succeeded"], outcomes
        [refusal] = [detail for outcome, detail in outcomes if outcome == "TaskTimedOut"]
        assert "was already answered (succeeded); a token is used once" in refusal
    winners = {token: detail for token, outcomes in by_token.items() for outcome, detail in outcomes
               if outcome == "succeeded"}

    assert Counter(Execution.objects.values_list("status", flat=True)) == {"SUCCEEDED": 2 * EXECUTIONS}
    for row in TaskToken.objects.select_related("execution"):
        assert row.status == "SUCCEEDED"
        assert row.execution.output == {"winner": winners[row.token]}
        history = [event["type"] for event in get_execution_history(row.execution)]
        kind = "Activity" if row.activity_id is not None else "Task"  # activity tasks: AWS's Activity* events
        assert history == ["ExecutionStarted", "TaskStateEntered", f"{kind}Scheduled", f"{kind}Started",
                           f"{kind}Succeeded", "TaskStateExited", "PassStateEntered", "PassStateExited",
                           "ExecutionSucceeded"]
