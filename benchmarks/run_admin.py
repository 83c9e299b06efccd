#!/usr/bin/env python3
"""Time the admin's execution changelist and detail page over 1,000,000 executions on PostgreSQL.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/django_asl_admin_bench \\
        python benchmarks/run_admin.py                     # generate once, then time
    python benchmarks/run_admin.py --executions 100000     # a smaller data set
    python benchmarks/run_admin.py --regenerate            # drop the data and generate it again

The data set, generated in SQL (``generate_series``): ``--executions``
top-level executions (1,000,000 by default) of three state machines, started
evenly over 30 days, 90% SUCCEEDED, 5% FAILED, 4% RUNNING, 1% ABORTED; and one
execution, ``long-history``, with ``--events`` history events (10,000 by
default: a Pass/Choice loop, each state's input and output in the details).

Each page is requested ``BENCH_RUNS`` (20) times through the Django test client,
in-process, as a superuser, after one untimed request; the figures are the
median and p95 of the server time (request to response, templates rendered),
and the number of SQL queries of one request.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import sys
import time
from datetime import timedelta

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.admin_settings"
if not os.environ.get("BENCH_DATABASE_URL"):
    os.environ["BENCH_DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/django_asl_admin_bench"

RUNS = int(os.environ.get("BENCH_RUNS", "20"))
MACHINES = ("orders", "invoices", "shipments")
LOOP = {"StartAt": "Count", "States": {
    "Count": {"Type": "Pass", "Next": "More?"},
    "More?": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThan": 5000, "Next": "Count"}],
              "Default": "Done"},
    "Done": {"Type": "Succeed"}}}


def generate(executions: int, events: int) -> None:
    """Empty the tables, then insert the executions and the long history (see the module docstring)."""
    from django.db import transaction

    from benchmarks.run_statistics import execute
    from django_asl.engine import publish
    from django_asl.models import StateMachine

    print(f"generating {executions:,} executions and a history of {events:,} events ...", flush=True)
    started = time.perf_counter()
    execute("TRUNCATE django_asl_historyevent, django_asl_execution, django_q_task CASCADE")
    machines = [StateMachine.objects.get(pk=publish(name, LOOP).pk) for name in MACHINES]
    status = ("CASE WHEN i %% 100 < 90 THEN 'SUCCEEDED' WHEN i %% 100 < 95 THEN 'FAILED' "
              "WHEN i %% 100 < 99 THEN 'RUNNING' ELSE 'ABORTED' END")
    with transaction.atomic():
        for index, machine in enumerate(machines):
            share = executions // len(machines) + (1 if index < executions % len(machines) else 0)
            execute(f"""
                INSERT INTO django_asl_execution (
                    id, state_machine_id, version_id, name, status, input, output, error, cause, cursor,
                    state_input, machine_path, last_event_id, wake_at, lease_token, start_date, stop_date,
                    parent_id, fork_id, child_index, redrive_count, redrive_date, source_execution_id,
                    source_state, source_link)
                SELECT gen_random_uuid(), %s, %s, %s || '-' || lpad(i::text, 7, '0'), status,
                       jsonb_build_object('n', i), NULL, NULL, NULL, NULL, NULL, '', 4, NULL, 0, start_date,
                       CASE WHEN status = 'RUNNING' THEN NULL ELSE start_date + interval '3 seconds' END,
                       NULL, NULL, NULL, 0, NULL, NULL, '', ''
                FROM (SELECT i, {status} AS status,
                             now() - interval '30 days' + make_interval(secs => i * 2592000.0 / %s) AS start_date
                      FROM generate_series(0, %s - 1) AS i) AS numbers""",
                    [machine.pk, machine.current_version_id, machine.name, share, share])
        machine = machines[0]
        execute("""
            INSERT INTO django_asl_execution (
                id, state_machine_id, version_id, name, status, input, machine_path, last_event_id, lease_token,
                start_date, stop_date, redrive_count, source_state, source_link)
            VALUES (gen_random_uuid(), %s, %s, 'long-history', 'SUCCEEDED', '{"n": 0}', '', %s, 0,
                    now() - interval '1 hour', now(), 0, '', '')""", [machine.pk, machine.current_version_id, events])
        # Events: ExecutionStarted, then Pass/Choice entered and exited in turn, timed 10 ms apart.
        execute("""
            INSERT INTO django_asl_historyevent (execution_id, sequence, type, timestamp, state_name, details)
            SELECT e.id, s, CASE WHEN s = 1 THEN 'ExecutionStarted'
                                 WHEN s %% 4 = 2 THEN 'PassStateEntered' WHEN s %% 4 = 3 THEN 'PassStateExited'
                                 WHEN s %% 4 = 0 THEN 'ChoiceStateEntered' ELSE 'ChoiceStateExited' END,
                   e.start_date + make_interval(secs => s * 0.01),
                   CASE WHEN s = 1 THEN '' WHEN s %% 4 IN (2, 3) THEN 'Count' ELSE 'More?' END,
                   CASE WHEN s %% 2 = 0 THEN jsonb_build_object('input', jsonb_build_object('n', s / 4))
                        WHEN s > 1 THEN jsonb_build_object('output', jsonb_build_object('n', s / 4))
                        ELSE jsonb_build_object('input', '{"n": 0}'::jsonb) END
            FROM django_asl_execution e, generate_series(1, %s) AS s WHERE e.name = 'long-history'""", [events])
    execute("VACUUM ANALYZE django_asl_execution")
    execute("VACUUM ANALYZE django_asl_historyevent")
    print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)


def measure(client, url: str, runs: int = RUNS) -> tuple[float, float, int]:
    """Return the median and p95 server time (ms) of ``runs`` requests of ``url``, and its query count."""
    from django.db import connection

    queries = []  # counted by a wrapper: the test client's request_started signal resets connection.queries

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))], len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from benchmarks.run_statistics import ensure_database
    from django_asl.models import Execution, StateMachine

    ensure_database()
    setup_test_environment()  # the test client's testserver host
    if args.regenerate or not Execution.objects.filter(name="long-history").exists():
        generate(args.executions, args.events)
    user = User.objects.filter(username="bench-admin").first() or User.objects.create_superuser(
        "bench-admin", "bench@example.com", "not-secret")
    client = Client()
    client.force_login(user)
    machine = StateMachine.objects.get(name=MACHINES[1])
    long_history = Execution.objects.get(name="long-history")
    found = Execution.objects.filter(parent=None).order_by("-start_date").values_list("name", flat=True)[500]
    base = "/admin/django_asl/execution/"
    pages = [
        ("changelist, unfiltered", base),
        ("changelist, page 200", f"{base}?p=200"),
        ("changelist, status FAILED", f"{base}?status__exact=FAILED"),
        ("changelist, state machine", f"{base}?state_machine__id__exact={machine.pk}"),
        ("changelist, state machine + status", f"{base}?state_machine__id__exact={machine.pk}&status__exact=RUNNING"),
        ("changelist, started in the past 7 days",
         f"{base}?start_date__gte={(timezone.now() - timedelta(days=7)).date()}+00:00:00%2B00:00"),
        ("changelist, search name prefix", f"{base}?q={found[:-2]}"),
        ("changelist, search id", f"{base}?q={long_history.pk}"),
        ("changelist, ordered by name", f"{base}?o=1"),
        (f"detail, {long_history.last_event_id:,} events (newest page)", f"{base}{long_history.pk}/change/"),
        ("detail, first page of events", f"{base}{long_history.pk}/change/?events=1"),
        ("detail status JSON (diagram refresh)", f"{base}{long_history.pk}/status.json"),
    ]
    total = Execution.objects.filter(parent=None).count()
    print(f"\n{total:,} top-level executions; {RUNS} requests per page (Django test client, in-process)\n")
    print("| page | median (ms) | p95 (ms) | queries |")
    print("|---|---:|---:|---:|")
    for label, url in pages:
        median, p95, queries = measure(client, url)
        print(f"| {label} | {median:.1f} | {p95:.1f} | {queries} |", flush=True)


if __name__ == "__main__":
    main()
