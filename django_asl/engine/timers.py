"""Durable timers: executions whose ``wake_at`` has come (Wait states, retries, task leases).

``run_due_timers`` is what the timer loop of ``asl_worker`` calls a few times a
second. Several loops on several machines may run at once: each execution is
advanced under its row lock (``SKIP LOCKED``) and only while it is still due, so
none is advanced twice.
"""
from __future__ import annotations

from ..models import Execution
from . import batches, runtime, statistics


def due_execution_ids(limit: int = 100) -> list:
    """Return the ids of running executions that are due, oldest due time first."""
    now = runtime.CLOCK.now()
    return list(Execution.objects.filter(status=Execution.Status.RUNNING, wake_at__lte=now)
                .order_by("wake_at").values_list("pk", flat=True)[:limit])


def run_due_timers(limit: int = 100) -> int:
    """Advance up to ``limit`` due executions in this process, in one transaction; return how many.

    Every few seconds it also sweeps batches (``batches.sweep_batches``), so that
    none stalls when a worker died before queueing its next launch, and every
    minute it adds newly ended executions to the per-state statistics rollup
    (``statistics.rollup_statistics``), off the path of every state transition.
    """
    due = runtime.advance_due(limit)
    batches.sweep_batches_if_due()
    statistics.rollup_statistics_if_due()
    return due


def next_due_time():
    """Return the earliest ``wake_at`` of a running execution, or None."""
    return (Execution.objects.filter(status=Execution.Status.RUNNING, wake_at__isnull=False)
            .order_by("wake_at").values_list("wake_at", flat=True).first())
