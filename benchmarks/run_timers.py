#!/usr/bin/env python3
"""How late do waiting executions resume? 10,000 executions in Wait states, real timer loops.

    .venv/bin/python benchmarks/run_timers.py [--executions 10000] [--spread 30] [--loops 1]

Starts N executions of a machine ``Wait (TimestampPath) -> Pass`` whose due times
are spread evenly over ``--spread`` seconds, starting once every execution has
started and is waiting. While they wait, no worker is busy: only the timer loops
(``manage.py asl_worker --no-cluster`` processes, ``--loops`` of them) run. Each
execution's lateness is the time between its due time and its
``WaitStateExited`` event; the script prints p50, p95, p99 and the maximum.

PostgreSQL at ``BENCH_DATABASE_URL`` (see benchmarks/settings.py).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

DEFINITION = {
    "StartAt": "Nap",
    "States": {
        "Nap": {"Type": "Wait", "TimestampPath": "$.due", "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
    },
}


def ensure_database() -> None:
    """Create the benchmark database when it does not exist yet."""
    import dj_database_url
    import psycopg

    from benchmarks.settings import DEFAULT_DATABASE_URL

    config = dj_database_url.parse(os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL)
    with psycopg.connect(host=config["HOST"], port=config["PORT"] or 5432, user=config["USER"],
                         dbname="postgres", autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone():
            connection.execute(f'CREATE DATABASE "{config["NAME"]}"')


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executions", type=int, default=10_000)
    parser.add_argument("--spread", type=float, default=30.0, help="seconds over which due times are spread")
    parser.add_argument("--loops", type=int, default=1, help="timer loop processes")
    args = parser.parse_args()

    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from django_asl.engine import executions, publish, start_execution
    from django_asl.models import Execution, HistoryEvent

    call_command("migrate", verbosity=0)
    Execution.objects.all().delete()
    machine = publish("timers", DEFINITION)
    # New executions are left for the timer loops to pick up (their wake_at is their start),
    # as when nothing is queued: this measures the timer loops alone.
    executions.enqueue = lambda *args: None

    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    loops = [subprocess.Popen([sys.executable, "-m", "django", "asl_worker", "--no-cluster", "--poll", "0.05"],
                              cwd=ROOT, env=environment, stdout=subprocess.DEVNULL)
             for _ in range(args.loops)]

    # Due times start after every execution has been started and has entered its Wait state.
    first_due = timezone.now() + timedelta(seconds=10 + args.executions * 0.008)
    step = args.spread / args.executions
    started = time.perf_counter()
    for index in range(args.executions):
        due = first_due + timedelta(seconds=index * step)
        start_execution(machine, {"due": due.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}, name=f"timer-{index}")
    start_seconds = time.perf_counter() - started
    while Execution.objects.filter(status="RUNNING", cursor__isnull=True).exists() and timezone.now() < first_due:
        time.sleep(0.2)
    waiting = Execution.objects.filter(status="RUNNING", cursor__phase="timer").count()
    print(f"started {args.executions} executions in {start_seconds:.1f} s; {waiting} waiting in their Wait state")
    if timezone.now() >= first_due:
        print("warning: starting took longer than planned; the first due times have passed already")

    try:
        deadline = time.monotonic() + (first_due - timezone.now()).total_seconds() + args.spread + 120
        while Execution.objects.filter(status="RUNNING").exists() and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        for loop in loops:
            loop.terminate()
            loop.wait()

    lateness = []
    exits = dict(HistoryEvent.objects.filter(type="WaitStateExited", execution__state_machine=machine)
                 .values_list("execution_id", "timestamp"))
    for execution_id, execution_input in Execution.objects.filter(state_machine=machine).values_list("pk", "input"):
        due = timezone.datetime.fromisoformat(execution_input["due"].replace("Z", "+00:00"))
        if execution_id in exits:
            lateness.append((exits[execution_id] - due).total_seconds())
    succeeded = Execution.objects.filter(state_machine=machine, status="SUCCEEDED").count()
    print(f"succeeded: {succeeded}/{args.executions}; timer loops: {args.loops}; due times spread over "
          f"{args.spread:.0f} s ({args.executions / args.spread:.0f} per second)")
    print(f"lateness after the due time, seconds: p50 {percentile(lateness, 0.5):.3f}  "
          f"p95 {percentile(lateness, 0.95):.3f}  p99 {percentile(lateness, 0.99):.3f}  max {max(lateness):.3f}  "
          f"mean {statistics.mean(lateness):.3f}")


if __name__ == "__main__":
    main()
