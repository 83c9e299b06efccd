#!/usr/bin/env python3
"""A Map over 10,000 items through the durable engine: time, and memory of the coordinating worker.

    .venv/bin/python benchmarks/run_big_map.py [--items 10000] [--max-concurrency 0]

One execution whose Map state runs a two-state processor (Pass, Pass) over N
items, advanced in this process the way ``asl_worker``'s timer loop advances
executions (batches of due executions, one transaction each). The process's
peak resident memory is reported before the run and at its end, with the
tracemalloc peak of Python objects allocated during the run: the point is that
it stays bounded, not proportional to N times the item size.

PostgreSQL at ``BENCH_DATABASE_URL`` (see benchmarks/settings.py).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--max-concurrency", type=int, default=0)
    args = parser.parse_args()

    from benchmarks.run_timers import ensure_database

    ensure_database()
    import django

    django.setup()
    import logging

    logging.disable(logging.CRITICAL)
    from django.core.management import call_command

    from django_asl.engine import executions, publish, runtime, start_execution
    from django_asl.engine import queue as engine_queue
    from django_asl.models import Execution

    call_command("migrate", verbosity=0)
    Execution.objects.filter(state_machine__name="big-map").delete()
    machine = publish("big-map", {
        "StartAt": "Fan",
        "States": {"Fan": {
            "Type": "Map", "MaxConcurrency": args.max_concurrency, "End": True,
            "ItemSelector": {"index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value"},
            "ItemProcessor": {"StartAt": "Double", "States": {
                "Double": {"Type": "Pass", "Parameters": {"twice.$": "States.MathAdd($.value, $.value)"},
                           "Next": "Keep"},
                "Keep": {"Type": "Pass", "End": True},
            }},
        }},
    })
    # Nothing is queued: the timer loop below picks every execution up (their wake_at is due).
    executions.enqueue = engine_queue.enqueue = lambda *arguments: None

    before = rss_mib()
    tracemalloc.start()
    started = time.perf_counter()
    execution = start_execution(machine, list(range(args.items)), name=f"big-{time.time_ns()}")
    steps = 0
    while Execution.objects.filter(pk=execution.pk, status="RUNNING").exists():
        steps += runtime.advance_due(100)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    execution.refresh_from_db()
    output = execution.output
    ok = execution.status == "SUCCEEDED" and output == [{"twice": 2 * value} for value in range(args.items)]
    print(f"items {args.items}, MaxConcurrency {args.max_concurrency}: {execution.status}, output "
          f"{'correct' if ok else 'WRONG'}; {elapsed:.1f} s ({args.items / elapsed:,.0f} iterations/s, "
          f"{steps:,} steps)")
    print(f"peak RSS {before:.0f} MiB before the run, {rss_mib():.0f} MiB after; "
          f"Python allocations peak during the run {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
