#!/usr/bin/env python3
"""Time the REST API on PostgreSQL: starts per second, and the execution list at any depth of 1,000,000 rows.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/django_asl_api_bench \\
        python benchmarks/run_api.py                       # generate once, then time
    python benchmarks/run_api.py --executions 100000       # a smaller data set
    python benchmarks/run_api.py --regenerate              # drop the data and generate it again

The data set is the admin benchmark's (``benchmarks/run_admin.py``): 1,000,000
top-level executions of three state machines over 30 days, in a database of
its own.

- ``POST /api/executions/``: ``--starts`` (1,000) starts of a one-state machine,
  one request after the other, as a superuser. A start commits the execution,
  its first events and the queued step (django-q2's ORM broker, as in
  production: the web process only queues, workers run the steps).
- ``GET /api/executions/``: pages of 50, newest first, at several depths (the
  cursor of the row at that depth), unfiltered and filtered; ``BENCH_RUNS``
  (50) requests each, after one untimed request; median and p95 server time
  and the number of SQL queries of one request. Then the plan PostgreSQL
  chose for the deepest page (``EXPLAIN ANALYZE``).

Requests go through the Django test client, in-process (no HTTP server):
the figures are the API's server time.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import statistics
import sys
import time
from datetime import timedelta

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
if not os.environ.get("BENCH_DATABASE_URL"):
    os.environ["BENCH_DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/django_asl_api_bench"

from benchmarks.run_admin import MACHINES, generate, measure  # noqa: E402 - after the database default

RUNS = int(os.environ.get("BENCH_RUNS", "50"))
HELLO = {"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "End": True}}}
DEPTHS = (0, 1_000, 10_000, 100_000, 500_000, 999_000)


def cursor_at(url: str, queryset, depth: int) -> str:
    """Return ``url`` with the API's cursor of the list position ``depth`` (0: the first page)."""
    from rest_framework.pagination import Cursor

    from django_asl.api.pagination import ExecutionPagination

    if depth == 0:
        return url
    row = queryset.order_by("-start_date", "-id").values_list("start_date", flat=True)[depth - 1]
    pagination = ExecutionPagination()
    pagination.base_url = url
    return pagination.encode_cursor(Cursor(offset=0, reverse=False, position=str(row)))


def time_starts(client, count: int, conn_max_age: int) -> dict:
    """POST ``count`` starts to /api/executions/; return starts/s and the per-request median and p95 (ms).

    ``conn_max_age`` is the database's ``CONN_MAX_AGE`` during the run: with 0
    (Django's default), django-q2's ORM broker closes the request's connection
    when it queues the first step, and the rest of the request connects again.
    """
    from django.db import connection
    from django_q.conf import Conf

    Conf.SYNC = False  # queue the first step in the ORM broker, as a web process does
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = conn_max_age
    times = []
    started = time.perf_counter()
    for index in range(count):
        began = time.perf_counter()
        response = client.post("/api/executions/", {"state_machine": "api-hello", "input": {"i": index}},
                               content_type="application/json", HTTP_ACCEPT="application/json")
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 201, response.content
    elapsed = time.perf_counter() - started
    times.sort()
    return {"conn_max_age": conn_max_age, "starts_per_second": count / elapsed, "median_ms": statistics.median(times),
            "p95_ms": times[int(round(0.95 * (len(times) - 1)))]}


def explain(client, url: str) -> str:
    """Return PostgreSQL's plan (EXPLAIN ANALYZE) of the page query behind ``url``."""
    from django.db import connection

    captured = []

    def capture(execute, sql, params, many, context):
        if "LIMIT" in sql and "django_asl_execution" in sql:
            captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        client.get(url, HTTP_ACCEPT="application/json")
    sql, params = captured[-1]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=1_000_000)
    parser.add_argument("--starts", type=int, default=1_000)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from benchmarks.run_statistics import ensure_database
    from django_asl.engine import publish
    from django_asl.models import Execution, StateMachine

    logging.getLogger("django-q").setLevel(logging.WARNING)  # not a line per queued step
    ensure_database()
    setup_test_environment()
    if args.regenerate or not Execution.objects.filter(name="long-history").exists():
        generate(args.executions, 10)
    user = User.objects.filter(username="bench-api").first() or User.objects.create_superuser(
        "bench-api", "bench@example.com", "not-secret")
    client = Client(HTTP_ACCEPT="application/json")
    client.force_login(user)

    publish("api-hello", HELLO)
    print(f"\nPOST /api/executions/: {args.starts:,} starts, one after the other\n")
    print("| CONN_MAX_AGE | starts/s | median (ms) | p95 (ms) |")
    print("|---:|---:|---:|---:|")
    starts = []
    for conn_max_age in (60, 0):
        Execution.objects.filter(state_machine__name="api-hello").delete()  # earlier runs' starts
        run = time_starts(client, args.starts, conn_max_age)
        starts.append(run)
        print(f"| {conn_max_age} | {run['starts_per_second']:.0f} | {run['median_ms']:.1f} | {run['p95_ms']:.1f} |",
              flush=True)
    Execution.objects.filter(state_machine__name="api-hello").delete()

    machine = StateMachine.objects.get(name=MACHINES[1])
    week = timezone.now() - timedelta(days=7)
    week_ago = week.strftime("%Y-%m-%dT%H:%M:%SZ")
    top = Execution.objects.filter(parent=None)
    lists = [
        ("unfiltered", "/api/executions/", top),
        ("status=FAILED", "/api/executions/?status=FAILED", top.filter(status="FAILED")),
        (f"state_machine={machine.name}", f"/api/executions/?state_machine={machine.name}",
         top.filter(state_machine=machine)),
        (f"state_machine={machine.name}&status=RUNNING",
         f"/api/executions/?state_machine={machine.name}&status=RUNNING",
         top.filter(state_machine=machine, status="RUNNING")),
        (f"name_prefix={MACHINES[0]}-00", f"/api/executions/?name_prefix={MACHINES[0]}-00",
         top.filter(name__startswith=f"{MACHINES[0]}-00")),
        (f"name_prefix={MACHINES[0]}-000001 (10 rows)", f"/api/executions/?name_prefix={MACHINES[0]}-000001",
         top.filter(name__startswith=f"{MACHINES[0]}-000001")),
        (f"started_after={week_ago}", f"/api/executions/?started_after={week_ago}", top.filter(start_date__gte=week)),
    ]
    total = top.count()
    print(f"\nGET /api/executions/ over {total:,} top-level executions; pages of 50; {RUNS} requests per page\n")
    print("| list | depth (rows before the page) | median (ms) | p95 (ms) | queries |")
    print("|---|---:|---:|---:|---:|")
    figures = []
    for label, url, queryset in lists:
        matching = queryset.count()
        for depth in sorted({*(depth for depth in DEPTHS if depth < matching), max(matching - 50, 0)}):
            median, p95, queries = measure(client, cursor_at(url, queryset, depth), runs=RUNS)
            figures.append({"list": label, "depth": depth, "median_ms": median, "p95_ms": p95, "queries": queries})
            print(f"| {label} | {depth:,} | {median:.1f} | {p95:.1f} | {queries} |", flush=True)
    deepest = cursor_at("/api/executions/", top, DEPTHS[-1] if DEPTHS[-1] < total else total - 1)
    plan = explain(client, deepest)
    print(f"\nPlan of the deepest unfiltered page:\n\n{plan}")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(
            {"executions": total, "starts": starts, "lists": figures, "plan": plan}, indent=2))


if __name__ == "__main__":
    main()
