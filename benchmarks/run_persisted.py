#!/usr/bin/env python3
"""Time the shared benchmark workloads persisted on PostgreSQL through the durable engine.

    python benchmarks/run_persisted.py                                 # every workload, 1 and 2 workers
    python benchmarks/run_persisted.py --workload task-chain-50 --workers 1
    python benchmarks/run_persisted.py --via django-q                  # queued work through django-q2 (sync)
    python benchmarks/run_persisted.py --json /tmp/persisted.json      # also write the raw figures

Django is configured from ``benchmarks.settings``: the database is
``$BENCH_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/django_asl_bench``,
created and migrated when missing). The workloads are the shared harness's
(``<shared>/bench/workloads/``, ``<shared>`` as for ``run_workloads.py``).

Each execution is started with ``start_execution`` on a machine stored with
``publish`` and then driven to its end in this process: the work the engine
queues (``advance_execution``, ``run_task``) is run right after the commit that
queued it, either directly (``--via direct``, the default: the engine's own
cost) or through django-q2's sync mode (``--via django-q``: django-q2 also
stores a result row per queued call). With ``--workers 2``, two forked
processes, each with its own connection, drive disjoint executions at once.

Method, as the shared harness's ``benchlib.py``: warm-up for at least
``BENCH_WARMUP_SECONDS`` (0.5 s, at least one execution), which sizes a run to
about ``BENCH_RUN_SECONDS`` (1 s) of executions; then ``BENCH_RUNS`` (5) runs;
the figure is the median transitions/s (executions x manifest transitions /
elapsed). Statements and commits per transition come from a separate, untimed
execution counted with ``connection.execute_wrapper`` (every statement Django
sends) and a wrapper on the connection's commit; writes outside a transaction
(autocommit) count as commits too. The PostgreSQL floor is measured in the
same run on the same database with psycopg: one transaction with an INSERT of
a history-like row, an UPDATE of an execution-like row and a COMMIT, as
``bench/pg_floor.py``'s ``transition_shape``.
"""
from __future__ import annotations

import argparse
import collections
import copy
import json
import math
import multiprocessing
import os
import pathlib
import re
import statistics
import sys
import time
from typing import Any

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

WORKLOADS_DEFAULT = ["pass-chain-100", "choice-loop-1000", "task-chain-50", "map-1000", "parallel-10x10"]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
RUN_S = float(os.environ.get("BENCH_RUN_SECONDS", "1.0"))
WARMUP_S = float(os.environ.get("BENCH_WARMUP_SECONDS", "0.5"))
FLOOR_RUN_S = float(os.environ.get("FLOOR_RUN_SECONDS", "1.0"))
WRITES = {"INSERT", "UPDATE", "DELETE"}


def shared_root() -> pathlib.Path:
    """Return the shared material directory (same rule as tests/shared.py)."""
    configured = os.environ.get("DJANGO_ASL_SHARED")
    return pathlib.Path(configured).expanduser() if configured else REPO_ROOT.parent / "shared"


def load(name: str) -> dict:
    """Return the workload ``name``: definition, input, transitions and output checks."""
    folder = shared_root() / "bench" / "workloads"
    manifest = json.loads((folder / "manifest.json").read_text())
    entry = manifest["workloads"].get(name) or manifest.get("variants", {}).get(name)
    if entry is None:
        raise SystemExit(f"unknown workload {name!r}; known: {', '.join(manifest['workloads'])}")
    return {"name": name, "definition": json.loads((folder / entry["definition"]).read_text()),
            "input": json.loads((folder / entry["input"]).read_text()),
            "transitions": entry["transitions"], "checks": entry["checks"]}


def check_output(output: Any, checks: list) -> str:
    """Return 'ok' or the first mismatch with the manifest's checks."""
    for path, expected in checks:
        value = output
        try:
            for step in path:
                value = len(value) if step == "#len" else value[step]
        except (KeyError, IndexError, TypeError):
            return f"mismatch: {'.'.join(map(str, path))} missing"
        if value != expected:
            return f"mismatch: {'.'.join(map(str, path))}={value!r}, expected {expected!r}"
    return "ok"


# -- database ------------------------------------------------------------------------------


def conninfo(dbname: str | None = None) -> str:
    """Return a psycopg conninfo for the benchmark database (or another database on its server)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    parts = {"host": db.get("HOST") or "", "port": db.get("PORT") or "", "user": db.get("USER") or "",
             "password": db.get("PASSWORD") or "", "dbname": dbname or db["NAME"]}
    return " ".join(f"{key}='{value}'" for key, value in parts.items() if value)


def ensure_database() -> None:
    """Create the benchmark database when it is missing, then migrate it."""
    import psycopg
    from django.conf import settings
    from django.core.management import call_command

    name = settings.DATABASES["default"]["NAME"]
    with psycopg.connect(conninfo("postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0, interactive=False)


def empty_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE django_asl_historyevent, django_asl_execution, django_q_task CASCADE")


# -- queued work -----------------------------------------------------------------------------

PENDING: collections.deque = collections.deque()


def enqueue_directly(function: str, *args: Any) -> None:
    """Stand-in for ``engine.queue.enqueue``: keep the call for ``drain`` once the transaction commits."""
    from django.db import transaction

    transaction.on_commit(lambda: PENDING.append((function, args)))


def install_queue(via: str) -> None:
    if via == "direct":
        from django_asl.engine import executions, queue

        queue.enqueue = executions.enqueue = enqueue_directly


def drain() -> None:
    """Run queued calls (and what they queue) until none is left."""
    from django.utils.module_loading import import_string

    while PENDING:
        function, args = PENDING.popleft()
        import_string(function)(*args)


def run_once(machine: Any, data: Any) -> Any:
    """Start one execution and drive it to its end; return its id."""
    from django_asl.engine import start_execution

    execution = start_execution(machine, data)
    drain()
    return execution.pk


def verify(execution_id: Any, checks: list) -> str:
    from django_asl.models import Execution

    execution = Execution.objects.get(pk=execution_id)
    if execution.status != Execution.Status.SUCCEEDED:
        return f"{execution.status}: {execution.error} {execution.cause}"
    return check_output(execution.output, checks)


# -- counting ----------------------------------------------------------------------------------


class Counter:
    """Count the statements Django sends (by verb and table) and the commits."""

    def __init__(self) -> None:
        self.statements: collections.Counter = collections.Counter()
        self.commits = 0

    def __call__(self, execute, sql, params, many, context):
        verb = sql.lstrip().split(None, 1)[0].upper()
        table = re.search(r'(?:FROM|INTO|UPDATE|TRUNCATE) "?(\w+)"?', sql)
        label = f"{verb} {table.group(1) if table else ''}".strip()
        if verb == "WITH":  # a data-modifying WITH (one statement): name what it writes
            writes = re.findall(r'(UPDATE|INSERT INTO) "?(\w+)"?', sql)
            label = "WITH " + ", ".join(f"{kind.split()[0]} {name}" for kind, name in writes)
            verb = "UPDATE" if writes else verb
        if verb == "SELECT" and " FOR UPDATE" in sql:
            label += " FOR UPDATE"
        self.statements[label] += 1
        if verb in WRITES and not context["connection"].in_atomic_block:
            self.commits += 1  # autocommit: the statement is its own transaction
        return execute(sql, params, many, context)


def count(machine: Any, data: Any, transitions: int) -> dict:
    """Return the statements and commits per transition of one execution (untimed)."""
    from django.db import connection

    counter = Counter()
    connection.ensure_connection()
    commit = connection._commit

    def counting_commit():
        counter.commits += 1
        return commit()

    connection._commit = counting_commit
    try:
        with connection.execute_wrapper(counter):
            run_once(machine, copy.deepcopy(data))
    finally:
        del connection._commit
    total = sum(counter.statements.values())
    return {"statements_per_transition": total / transitions, "commits_per_transition": counter.commits / transitions,
            "statements": dict(counter.statements.most_common())}


# -- timing ------------------------------------------------------------------------------------


def warm_up(machine: Any, data: Any) -> tuple[float, Any]:
    """Run executions for WARMUP_S (at least one); return seconds per execution and the last id."""
    started, runs, last = time.perf_counter(), 0, None
    while True:
        last = run_once(machine, copy.deepcopy(data))
        runs += 1
        if time.perf_counter() - started >= WARMUP_S:
            return (time.perf_counter() - started) / runs, last


def timed_run(machine: Any, data: Any, reps: int) -> tuple[float, Any]:
    inputs = [copy.deepcopy(data) for _ in range(reps)]
    last = None
    started = time.perf_counter()
    for item in inputs:
        last = run_once(machine, item)
    return time.perf_counter() - started, last


def worker_process(name: str, reps: int, runs: int, barrier: Any, results: Any) -> None:
    """Drive ``runs`` runs of ``reps`` executions of its own, each starting at the barrier."""
    from django_asl.models import StateMachine

    machine = StateMachine.objects.select_related("current_version").get(name=name)
    workload = load(name)
    warm_up(machine, workload["input"])
    for run in range(runs):
        barrier.wait()
        elapsed, last = timed_run(machine, workload["input"], reps)
        results.put((run, elapsed, str(last)))


def measure(workload: dict, workers: int, via: str) -> dict:
    """Return the timing, counts and output check of one workload with ``workers`` processes."""
    from django.db import connections
    from django_asl.engine import publish

    empty_tables()
    machine = publish(workload["name"], workload["definition"])
    data, transitions = workload["input"], workload["transitions"]
    per_execution, last = warm_up(machine, data)
    reps = max(1, math.ceil(RUN_S / per_execution))
    samples: list[float] = []
    if workers == 1:
        for _ in range(RUNS):
            elapsed, last = timed_run(machine, data, reps)
            samples.append(reps * transitions / elapsed)
    else:
        connections.close_all()  # each forked process opens its own connection
        context = multiprocessing.get_context("fork")
        barrier, results = context.Barrier(workers + 1), context.Queue()
        processes = [context.Process(target=worker_process, args=(workload["name"], reps, RUNS, barrier, results))
                     for _ in range(workers)]
        for process in processes:
            process.start()
        for run in range(RUNS):
            barrier.wait()
            started = time.perf_counter()
            ends = [results.get(timeout=600) for _ in range(workers)]
            elapsed = time.perf_counter() - started
            assert all(end[0] == run for end in ends)
            samples.append(workers * reps * transitions / elapsed)
            last = ends[-1][2]
        for process in processes:
            process.join()
            if process.exitcode:
                raise SystemExit(f"a worker process failed with exit code {process.exitcode}")
    result = {
        "workload": workload["name"], "workers": workers, "via": via, "transitions": transitions,
        "tps_median": statistics.median(samples), "tps_min": min(samples), "tps_max": max(samples),
        "tps_samples": [round(sample, 1) for sample in samples], "runs": len(samples), "reps_per_run": reps,
        "check": verify(last, workload["checks"]),
    }
    result.update(count(machine, data, transitions))
    return result


# -- the PostgreSQL floor ------------------------------------------------------------------------

FLOOR_PAYLOAD = {"seed": 7, "last": {"prev": 97, "seed": 7, "step": 98}, "state": "P098",
                 "note": "a typical small state input/output document"}


def floor() -> list[dict]:
    """Return transactions/s of INSERT history-like row + UPDATE execution-like row + COMMIT (sync on, off)."""
    import psycopg
    from psycopg.types.json import Jsonb

    figures = []
    with psycopg.connect(conninfo(), autocommit=False) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_floor_rows, bench_floor_exec")
        conn.execute("CREATE TABLE bench_floor_rows (id bigserial PRIMARY KEY, execution_id bigint NOT NULL, "
                     "state text NOT NULL, created timestamptz NOT NULL DEFAULT now(), payload jsonb NOT NULL)")
        conn.execute("CREATE TABLE bench_floor_exec (id bigint PRIMARY KEY, status text NOT NULL, "
                     "current_state text, updated timestamptz NOT NULL DEFAULT now(), output jsonb)")
        conn.execute("INSERT INTO bench_floor_exec (id, status) VALUES (1, 'RUNNING')")
        conn.commit()
        payload = Jsonb(FLOOR_PAYLOAD)

        def transition(cursor) -> None:
            cursor.execute("INSERT INTO bench_floor_rows (execution_id, state, payload) VALUES (%s, %s, %s)",
                           (1, "P098", payload))
            cursor.execute("UPDATE bench_floor_exec SET current_state = %s, output = %s, updated = now() "
                           "WHERE id = 1", ("P098", payload))
            conn.commit()

        for synchronous in ("on", "off"):
            conn.execute(f"SET synchronous_commit = {synchronous}")
            conn.commit()
            samples = []
            with conn.cursor() as cursor:
                until = time.perf_counter() + 0.5
                while time.perf_counter() < until:
                    transition(cursor)
                for _ in range(RUNS):
                    done, started = 0, time.perf_counter()
                    while time.perf_counter() - started < FLOOR_RUN_S:
                        transition(cursor)
                        done += 1
                    samples.append(done / (time.perf_counter() - started))
            figures.append({"measurement": "INSERT + UPDATE + COMMIT", "synchronous_commit": synchronous,
                            "tps_median": statistics.median(samples), "tps_min": min(samples),
                            "tps_max": max(samples)})
        conn.execute("DROP TABLE bench_floor_rows, bench_floor_exec")
        conn.commit()
    return figures


# -- main ----------------------------------------------------------------------------------------


def print_tables(results: list[dict], floors: list[dict]) -> None:
    base = next((f["tps_median"] for f in floors if f["synchronous_commit"] == "on"), None)
    print()
    print("| workload (transitions) | workers | transitions/s, median (min-max) | of floor | "
          "statements/transition | commits/transition | runs x executions | output |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        share = f"{r['tps_median'] / base:.0%}" if base else "-"
        print(f"| {r['workload']} ({r['transitions']:,}) | {r['workers']} | "
              f"{r['tps_median']:,.0f} ({r['tps_min']:,.0f}-{r['tps_max']:,.0f}) | {share} | "
              f"{r['statements_per_transition']:.2f} | {r['commits_per_transition']:.2f} | "
              f"{r['runs']} x {r['reps_per_run']} | {r['check']} |")
    if floors:
        print()
        print("| PostgreSQL floor (one connection) | synchronous_commit | transactions/s, median (min-max) |")
        print("|---|---|---|")
        for f in floors:
            print(f"| {f['measurement']} | {f['synchronous_commit']} | "
                  f"{f['tps_median']:,.0f} ({f['tps_min']:,.0f}-{f['tps_max']:,.0f}) |")
    print()
    print("Statements per execution (one counted execution, workers=1):")
    seen = set()
    for r in results:
        if r["workload"] in seen:
            continue
        seen.add(r["workload"])
        mix = ", ".join(f"{label} {number}" for label, number in r["statements"].items())
        print(f"  {r['workload']}: {mix}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", action="append", help="a workload name (repeatable); default: all five")
    parser.add_argument("--workers", action="append", type=int, help="processes (repeatable); default: 1 and 2")
    parser.add_argument("--via", choices=["direct", "django-q"], default="direct",
                        help="run queued work directly (default) or through django-q2's sync mode")
    parser.add_argument("--no-floor", action="store_true", help="skip the PostgreSQL floor")
    parser.add_argument("--json", type=pathlib.Path, help="also write the figures to this file")
    options = parser.parse_args()

    import django

    django.setup()
    ensure_database()
    install_queue(options.via)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        server = cursor.fetchone()[0].split(" on ")[0]
        cursor.execute("SHOW synchronous_commit")
        synchronous = cursor.fetchone()[0]
    print(f"{server}; synchronous_commit {synchronous}; Django {django.get_version()}; via {options.via}; "
          f"{RUNS} runs of ~{RUN_S} s", flush=True)
    results = []
    for name in options.workload or WORKLOADS_DEFAULT:
        workload = load(name)
        for workers in options.workers or [1, 2]:
            result = measure(workload, workers, options.via)
            results.append(result)
            print(f"{name} workers={workers}: {result['tps_median']:,.0f} transitions/s "
                  f"{result['tps_samples']}, {result['statements_per_transition']:.2f} statements and "
                  f"{result['commits_per_transition']:.2f} commits per transition, output {result['check']}",
                  flush=True)
    floors = [] if options.no_floor else floor()
    print_tables(results, floors)
    if options.json:
        options.json.write_text(json.dumps({"server": server, "via": options.via, "results": results,
                                            "floor": floors}, indent=1))


if __name__ == "__main__":
    main()
