"""Race messages against executions entering their Message state: each is delivered exactly once.

PostgreSQL only: timer-loop workers (separate processes) move executions from
a Wait state into a Message state while sender processes call send_message for
the same correlations, some a little before, some a little after, some at the
very moment. Every execution must receive its message once (one
MessageReceived), no message may be lost (kept for nobody) or delivered twice.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.db import connection

from django_asl.engine import executions, publish, start_execution
from django_asl.models import Execution, HistoryEvent, Message, MessageSubscription
from tests.shared import REPO_ROOT

EXECUTIONS = 240
WORKERS = 3
SENDERS = 3
DEFINITION = {
    "StartAt": "Nap",
    "States": {
        "Nap": {"Type": "Wait", "TimestampPath": "$.at", "Next": "Await"},
        "Await": {"Type": "Message", "CorrelationKey": "race", "CorrelationValuePath": "$.id",
                  "ResultPath": "$.message", "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
    },
}
EXPECTED = ["ExecutionStarted", "WaitStateEntered", "WaitStateExited", "MessageStateEntered", "MessageWaitStarted",
            "MessageReceived", "MessageStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]


def environment() -> dict:
    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.worker_settings", "DATABASE_URL": url}


def start_worker() -> subprocess.Popen:
    """Start a timer loop only: small batches, polled often, so that steps interleave with the senders."""
    return subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "manage.py"), "asl_worker", "--no-cluster", "--poll", "0.01", "--batch", "4"],
        cwd=REPO_ROOT, env=environment(), start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def start_sender() -> subprocess.Popen:
    """Start a sender: it sets Django up, then waits for its plan on stdin."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.engine.message_race_sender"], cwd=REPO_ROOT, env=environment(),
        start_new_session=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.mark.django_db(transaction=True)
def test_a_message_racing_its_execution_into_the_state_is_delivered_exactly_once(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the race needs worker and sender processes sharing a PostgreSQL database "
                    "(SQLite admits one writer at a time, and the test database is in memory)")
    # Nothing runs in this process: the workers' timer loops start the executions (due at once).
    monkeypatch.setattr(executions, "enqueue", lambda *args: None)
    rng = random.Random(4)
    machine = publish("race", DEFINITION)
    workers = [start_worker() for _ in range(WORKERS)]
    senders = [start_sender() for _ in range(SENDERS)]
    base = time.time() + 8  # leaves time to start the executions and the processes
    plan = []
    for ident in range(EXECUTIONS):
        enters = base + rng.uniform(0, 6)
        at = datetime.fromtimestamp(enters, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        start_execution(machine, {"id": ident, "at": at}, name=f"race-{ident}")
        # The timer loops pick the execution up within ~10 ms of its time: send around that moment,
        # and for a few well before or well after (kept first, or waiting first).
        plan.append([ident, enters + rng.choice([rng.uniform(-0.02, 0.06)] * 8 + [-1.0, 1.0])])
    try:
        assert time.time() < base, "starting the executions took too long for the planned race"
        for index, sender in enumerate(senders):
            sender.stdin.write(json.dumps(plan[index::SENDERS]))
            sender.stdin.close()
        results = []
        for sender in senders:
            out = sender.stdout.read()
            assert sender.wait(timeout=120) == 0, sender.stderr.read()
            results.extend(json.loads(out))
        deadline = time.monotonic() + 60
        while Execution.objects.filter(status="RUNNING").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        for process in workers + senders:
            stop(process)

    # Every execution received its own message, once.
    assert Counter(Execution.objects.values_list("status", flat=True)) == {"SUCCEEDED": EXECUTIONS}
    for execution in Execution.objects.all():
        events = list(HistoryEvent.objects.filter(execution=execution).order_by("sequence")
                      .values_list("type", flat=True))
        assert events == EXPECTED, execution.name
        assert execution.output["message"] == {"id": execution.input["id"]}
    # Every message went to exactly one execution: resumed at once, or kept and then taken by it.
    assert sorted(ident for ident, *_ in results) == list(range(EXECUTIONS))
    assert all((delivered, kept) in ((1, False), (0, True)) for _, delivered, kept, _ in results)
    kept = {ident for ident, _, was_kept, _ in results if was_kept}
    messages = list(Message.objects.select_related("delivered_to"))
    assert sorted(message.correlation_value for message in messages) == sorted(kept)
    assert all(message.delivered_to is not None and message.delivered_to.input["id"] == message.correlation_value
               for message in messages)
    lateness = sorted(late for *_, late in results)
    # Both orders happened, and the senders kept to their plan (or the race was not tight).
    assert 0 < len(kept) < EXECUTIONS, len(kept)
    assert lateness[len(lateness) // 2] < 0.5, f"the senders were late: median {lateness[len(lateness) // 2]} s"
    assert not MessageSubscription.objects.exists()
