"""Fixtures for engine tests: a virtual clock, a fake task registry, and running queued work."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from django_asl.asl import VirtualClock
from django_asl.engine import registry, runtime, timers
from django_asl.models import Execution

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def clock(monkeypatch):
    """Replace the engine's clock with a virtual one starting at 2026-01-01 UTC."""
    virtual = VirtualClock(START)
    monkeypatch.setattr(runtime, "CLOCK", virtual)
    return virtual


@pytest.fixture
def tasks(monkeypatch):
    """A fresh task registry: tests register handlers with ``tasks["urn:..."] = fn``."""
    fake: dict = {}
    monkeypatch.setattr(registry, "_registry", fake)
    monkeypatch.setattr(registry, "_discovered", True)
    return fake


@pytest.fixture
def drain(clock, django_capture_on_commit_callbacks):
    """Return a function that runs queued work and due timers until every execution has ended.

    django-q2 runs in sync mode in the tests, so queued tasks run as their
    transaction commits; Wait states and retries move the virtual clock.
    """

    def run(limit: int = 10_000, *, until_callbacks: bool = False) -> None:
        # until_callbacks: return once every execution still running waits for a callback
        # (send_task_success & co., test_callbacks.py) or for its branches; the clock is never
        # moved to a callback task's deadline.
        for _ in range(limit):
            with django_capture_on_commit_callbacks(execute=True):
                due = timers.run_due_timers()
            if due:
                continue
            running = Execution.objects.filter(status=Execution.Status.RUNNING)
            if until_callbacks:
                running = running.exclude(task_tokens__status__in=["SCHEDULED", "STARTED"]).exclude(wake_at=None)
            if not running.exists():
                return
            next_time = running.order_by("wake_at").values_list("wake_at", flat=True).first() if until_callbacks \
                else timers.next_due_time()
            if next_time is None:
                raise AssertionError("Executions are running but none is due: something is stuck.")
            clock.advance_to(next_time)
        raise AssertionError("The executions did not end.")

    return run
