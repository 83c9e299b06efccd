#!/usr/bin/env python3
"""Time ``execution_statistics`` over 1,000,000 executions and their history on PostgreSQL.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/django_asl_stats_bench \\
        python benchmarks/run_statistics.py                   # generate once, then time
    python benchmarks/run_statistics.py --executions 100000   # a smaller data set
    python benchmarks/run_statistics.py --regenerate          # drop the data and generate it again
    python benchmarks/run_statistics.py --explain             # also print EXPLAIN ANALYZE of the statement
    python benchmarks/run_statistics.py --jit off             # time with PostgreSQL's JIT compiler off

Django is configured from ``benchmarks.settings``: the database is
``$BENCH_DATABASE_URL`` (created and migrated when missing). Use a database of
its own: the data set stays there between runs (it takes minutes to generate).

The data set, generated in SQL (``INSERT ... SELECT generate_series``):

* the state machine ``stats-bench`` (Charge: a Task with Retry and Catch; Ship:
  a Wait; Done: a Pass; Declined: a Fail) with ``--executions`` top-level
  executions (1,000,000 by default) started evenly over 30 days: 88% SUCCEEDED
  (one in ten of them after a retried Charge), 6% FAILED (three failed attempts),
  2% declined (caught, FAILED in Declined), 2% TIMED_OUT, 1% ABORTED, 1% RUNNING;
  durations spread from about 0.1 s to several minutes;
* every execution's history as the engine writes it (4 to 14 events, 11 for
  most; about 11 million events for 1,000,000 executions);
* ``--other`` executions (100,000 by default) of another state machine, with
  history, which the statistics must leave out.

Then the per-state rollup is rebuilt from all that history
(``rebuild_statistics_rollup``, timed), and, on a warm cache, ``BENCH_RUNS`` (5) timed calls of each query after one
untimed call; the figure is the median wall time of the call (the one SQL
statement plus Python), printed as a markdown table.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
if not os.environ.get("BENCH_DATABASE_URL"):
    os.environ["BENCH_DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/django_asl_stats_bench"

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
MACHINE, OTHER = "stats-bench", "stats-bench-other"
RESOURCE = "urn:bench:stats.charge"
WINDOW_START = datetime(2026, 1, 1, tzinfo=timezone.utc)
WINDOW_DAYS = 30
DEFINITION = {
    "StartAt": "Charge",
    "States": {
        "Charge": {
            "Type": "Task", "Resource": RESOURCE, "ResultPath": "$.charge", "Next": "Ship",
            "Retry": [{"ErrorEquals": ["ConnectionError"], "IntervalSeconds": 2, "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["PaymentDeclined"], "Next": "Declined"}],
        },
        "Ship": {"Type": "Wait", "Seconds": 10, "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
        "Declined": {"Type": "Fail", "Error": "Declined"},
    },
}

# The history of each kind of execution: (event type, state name, when, as a fraction of the duration).
# Event types and state names are those the engine writes for DEFINITION.
_OK = [("ExecutionStarted", "", 0), ("TaskStateEntered", "Charge", 0), ("TaskScheduled", "", 0),
       ("TaskStarted", "", 0), ("TaskSucceeded", "", 0.1), ("TaskStateExited", "Charge", 0.1),
       ("WaitStateEntered", "Ship", 0.1), ("WaitStateExited", "Ship", 1), ("PassStateEntered", "Done", 1),
       ("PassStateExited", "Done", 1), ("ExecutionSucceeded", "", 1)]
_ATTEMPT = [("TaskScheduled", "", 0), ("TaskStarted", "", 0), ("TaskFailed", "", 0.05)]
HISTORIES = {
    "ok": _OK,
    "retried": _OK[:4] + [("TaskFailed", "", 0.05), ("TaskScheduled", "", 0.1), ("TaskStarted", "", 0.1),
                          ("TaskSucceeded", "", 0.15), ("TaskStateExited", "Charge", 0.15),
                          ("WaitStateEntered", "Ship", 0.15)] + _OK[7:],
    "failed": _OK[:2] + _ATTEMPT * 3 + [("ExecutionFailed", "", 1)],
    "declined": _OK[:4] + [("TaskFailed", "", 0.5), ("TaskStateExited", "Charge", 0.5),
                           ("FailStateEntered", "Declined", 1), ("ExecutionFailed", "", 1)],
    "timed_out": _OK[:7] + [("ExecutionTimedOut", "", 1)],
    "aborted": _OK[:4] + [("ExecutionAborted", "", 1)],
    "running": _OK[:4],
}
# Which kind and status an execution gets from its number modulo 100.
KINDS = [("ok", "SUCCEEDED", 79), ("retried", "SUCCEEDED", 9), ("failed", "FAILED", 6), ("declined", "FAILED", 2),
         ("timed_out", "TIMED_OUT", 2), ("aborted", "ABORTED", 1), ("running", "RUNNING", 1)]


# -- database ------------------------------------------------------------------------------


def ensure_database() -> None:
    """Create the benchmark database when it is missing, then migrate it."""
    import psycopg
    from django.conf import settings
    from django.core.management import call_command

    db = settings.DATABASES["default"]
    parts = {"host": db.get("HOST") or "", "port": db.get("PORT") or "", "user": db.get("USER") or "",
             "password": db.get("PASSWORD") or "", "dbname": "postgres"}
    conninfo = " ".join(f"{key}='{value}'" for key, value in parts.items() if value)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db["NAME"],)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{db["NAME"]}"')
    call_command("migrate", verbosity=0, interactive=False)


def execute(sql: str, params: list | tuple = ()) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def count(machine: str, executions: bool = True) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        if executions:
            cursor.execute("SELECT count(*) FROM django_asl_execution e JOIN django_asl_statemachine m "
                           "ON m.id = e.state_machine_id WHERE m.name = %s", [machine])
        else:
            cursor.execute("SELECT count(*) FROM django_asl_historyevent h JOIN django_asl_execution e "
                           "ON e.id = h.execution_id JOIN django_asl_statemachine m ON m.id = e.state_machine_id "
                           "WHERE m.name = %s", [machine])
        return cursor.fetchone()[0]


def generate(executions: int, other: int) -> None:
    """Empty the tables, then insert the executions and their history (see the module docstring)."""
    from django.db import transaction

    from django_asl.engine import publish
    from django_asl.models import StateMachine

    print(f"generating {executions:,} + {other:,} executions and their history ...", flush=True)
    started = time.perf_counter()
    execute("TRUNCATE django_asl_historyevent, django_asl_execution, django_q_task CASCADE")
    for machine, number in ((MACHINE, executions), (OTHER, other)):
        publish(machine, DEFINITION)
        stored = StateMachine.objects.get(name=machine)
        with transaction.atomic():
            insert_executions(stored.pk, stored.current_version_id, machine, number)
            insert_history(stored.pk)
        print(f"  {machine}: {number:,} executions, {count(machine, executions=False):,} events "
              f"({time.perf_counter() - started:.0f} s)", flush=True)
    execute("VACUUM ANALYZE django_asl_execution")
    execute("VACUUM ANALYZE django_asl_historyevent")
    print(f"  vacuumed and analysed ({time.perf_counter() - started:.0f} s)", flush=True)


def kind_case(number: str) -> tuple[str, str]:
    """Return SQL CASE expressions giving the kind and the status of execution number ``number``."""
    kinds, statuses, bound = [], [], 0
    for kind, status, share in KINDS:
        bound += share
        kinds.append(f"WHEN {number} %% 100 < {bound} THEN '{kind}'")
        statuses.append(f"WHEN {number} %% 100 < {bound} THEN '{status}'")
    return "CASE " + " ".join(kinds) + " END", "CASE " + " ".join(statuses) + " END"


def insert_executions(machine_id: int, version_id: int, name: str, number: int) -> None:
    """Insert ``number`` top-level executions started evenly over the window, their kind in the name
    (``<machine>:<number>:<kind>``)."""
    kind, status = kind_case("i")
    # last_event_id as the engine keeps it: the number of events of the execution's history.
    events = "CASE kind " + " ".join(f"WHEN '{name}' THEN {len(HISTORIES[name])}" for name in HISTORIES) + " END"
    span = WINDOW_DAYS * 86400
    # Durations: 0.1 s to a few minutes, most of them a few seconds (an exponential, skewed).
    execute(f"""
        INSERT INTO django_asl_execution (
            id, state_machine_id, version_id, name, status, input, output, error, cause, cursor, state_input,
            machine_path, last_event_id, wake_at, lease_token, start_date, stop_date, parent_id, fork_id,
            child_index, redrive_count, redrive_date, source_execution_id, source_state, source_link)
        SELECT gen_random_uuid(), %s, %s, %s || ':' || i || ':' || kind, status,
               jsonb_build_object('order_id', i, 'amount', i %% 997), NULL, NULL, NULL, NULL, NULL,
               '', {events}, NULL, 0, start_date,
               CASE WHEN status = 'RUNNING' THEN NULL
                    ELSE start_date + make_interval(secs => 0.1 + (-ln(1 - random()) * 4) ^ 1.5) END,
               NULL, NULL, NULL, 0, NULL, NULL, '', ''
        FROM (SELECT i, {kind} AS kind, {status} AS status,
                     %s::timestamptz + make_interval(secs => i * {span}.0 / %s) AS start_date
              FROM generate_series(0, %s - 1) AS i) AS numbers""",
            [machine_id, version_id, name, WINDOW_START, number, number])


def insert_history(machine_id: int) -> None:
    """Insert each execution's history from HISTORIES, timed within its duration."""
    rows = ", ".join(f"('{kind}', {sequence}, '{event_type}', '{state}', {fraction})"
                     for kind, events in HISTORIES.items()
                     for sequence, (event_type, state, fraction) in enumerate(events, 1))
    execute(f"""
        WITH template (kind, sequence, type, state_name, fraction) AS (VALUES {rows})
        INSERT INTO django_asl_historyevent (execution_id, sequence, type, timestamp, state_name, details)
        SELECT e.id, t.sequence, t.type,
               e.start_date + t.fraction * (coalesce(e.stop_date, e.start_date + interval '1 second') - e.start_date),
               t.state_name,
               CASE WHEN t.type LIKE '%%Entered' THEN jsonb_build_object('input', e.input)
                    WHEN t.type LIKE '%%Exited' THEN jsonb_build_object('output', e.input)
                    WHEN t.type = 'TaskScheduled' THEN jsonb_build_object(
                        'resource', %s, 'parameters', e.input, 'timeout_seconds', NULL)
                    WHEN t.type LIKE '%%Failed' THEN '{{"error": "ConnectionError", "cause": "gateway timeout"}}'
                    ELSE '{{}}' END
        FROM django_asl_execution e JOIN template t ON t.kind = split_part(e.name, ':', 3)
        WHERE e.state_machine_id = %s
        ORDER BY e.start_date, t.sequence""", [RESOURCE, machine_id])


# -- timing ------------------------------------------------------------------------------------


def time_call(**arguments) -> dict:
    """Return the median, min and max wall time of ``execution_statistics(MACHINE, **arguments)``."""
    from django_asl.engine import execution_statistics

    result = execution_statistics(MACHINE, **arguments)  # warm-up (and the figures shown)
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        execution_statistics(MACHINE, **arguments)
        samples.append(time.perf_counter() - started)
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples), "result": result}


def build_rollup() -> tuple[float, int]:
    """Rebuild the per-state rollup from every execution's history; return (seconds, executions counted)."""
    from django_asl.engine import rebuild_statistics_rollup

    started = time.perf_counter()
    counted = rebuild_statistics_rollup(batch=None)
    return time.perf_counter() - started, counted


def explain(include_states: bool, start: datetime, end: datetime) -> str:
    from django.db import connection

    from django_asl.engine.statistics import postgresql_query
    from django_asl.models import StateMachine

    sql, params = postgresql_query(StateMachine.objects.get(name=MACHINE).pk, start, end, include_states)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executions", type=int, default=1_000_000, help="executions of the measured machine")
    parser.add_argument("--other", type=int, default=100_000, help="executions of another machine (noise)")
    parser.add_argument("--regenerate", action="store_true", help="generate the data even if it is there")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of each statement")
    parser.add_argument("--jit", choices=["server", "on", "off"], default="server",
                        help="PostgreSQL's jit setting for the timed connection (default: the server's)")
    options = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from django_asl.engine import task

    task(RESOURCE)(lambda payload: payload)  # publish() wants every Resource to have a handler
    ensure_database()
    if options.regenerate or count(MACHINE) != options.executions or count(OTHER) != options.other:
        generate(options.executions, options.other)
    with connection.cursor() as cursor:
        if options.jit != "server":
            cursor.execute(f"SET jit = {options.jit}")
        cursor.execute("SELECT version()")
        server = cursor.fetchone()[0].split(" on ")[0]
        cursor.execute("SELECT current_setting('shared_buffers'), current_setting('work_mem'), "
                       "current_setting('max_parallel_workers_per_gather'), current_setting('jit')")
        shared_buffers, work_mem, parallel, jit = cursor.fetchone()
    events = count(MACHINE, executions=False)
    print(f"{server}; shared_buffers {shared_buffers}, work_mem {work_mem}, "
          f"max_parallel_workers_per_gather {parallel}, jit {jit}; {os.cpu_count()} CPUs; "
          f"{RUNS} runs after a warm-up", flush=True)
    print(f"{MACHINE}: {options.executions:,} executions, {events:,} history events; "
          f"{OTHER}: {options.other:,} executions", flush=True)

    seconds, counted = build_rollup()
    print(f"rollup rebuilt: {counted:,} ended executions (both machines) in {seconds:,.1f} s", flush=True)

    end = WINDOW_START + timedelta(days=WINDOW_DAYS)
    day = WINDOW_START + timedelta(days=WINDOW_DAYS // 2)
    hour = day + timedelta(hours=12)
    cases = [
        ("per status", "30 days (all)", {"start": WINDOW_START, "end": end, "include_states": False}),
        ("per status and per state", "30 days (all)", {"start": WINDOW_START, "end": end}),
        ("per status", "1 day", {"start": day, "end": day + timedelta(days=1), "include_states": False}),
        ("per status and per state", "1 day", {"start": day, "end": day + timedelta(days=1)}),
        ("per status and per state", "1 hour", {"start": hour, "end": hour + timedelta(hours=1)}),
        ("per status and per state", "30 days, edges inside hours",
         {"start": WINDOW_START + timedelta(minutes=30), "end": end - timedelta(minutes=30)}),
        ("per status and per state", "1 day, edges inside hours",
         {"start": day + timedelta(minutes=30), "end": day + timedelta(days=1, minutes=30)}),
    ]
    rows = []
    for label, window, arguments in cases:
        timing = time_call(**arguments)
        result = timing["result"]
        rows.append((label, window, result["executions"], timing))
        print(f"{label}, {window}: {timing['median'] * 1000:,.0f} ms median "
              f"({timing['min'] * 1000:,.0f}-{timing['max'] * 1000:,.0f})", flush=True)
        if options.explain:
            print(explain(arguments.get("include_states", True), arguments["start"], arguments["end"]))
    print()
    print("| figures | window | executions | time, median (min-max) |")
    print("|---|---|---|---|")
    for label, window, executions, timing in rows:
        print(f"| {label} | {window} | {executions:,} | {timing['median'] * 1000:,.0f} ms "
              f"({timing['min'] * 1000:,.0f}-{timing['max'] * 1000:,.0f}) |")
    result = rows[1][3]["result"]
    print()
    print("Figures of the full window:")
    for status, figures in result["statuses"].items():
        print(f"  {status}: {figures}")
    for state, figures in result["states"].items():
        print(f"  {state}: {figures}")


if __name__ == "__main__":
    main()
