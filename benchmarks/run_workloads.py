#!/usr/bin/env python3
"""Time the shared benchmark workloads through ``django_asl.asl.run``, in-process.

    python benchmarks/run_workloads.py                       # every workload
    python benchmarks/run_workloads.py --workload map-1000   # one (variants too)
    python benchmarks/run_workloads.py --profile --workload pass-chain-100

The workloads are in ``<shared>/bench/workloads/`` (``manifest.json`` lists them,
with their transitions per execution and output checks); ``<shared>`` is
``$DJANGO_ASL_SHARED`` or ``../shared`` beside the repository, as for the tests.
The method is the shared harness's (``bench/benchlib.py``): one process per
workload, warm-up for at least 0.5 s (which also sizes a run to about 1 s of
executions), then several runs; the figure is the median transitions/s, and the
peak memory is that process's ``ru_maxrss``. Task handlers are the harness's.
"""
from __future__ import annotations

import argparse
import copy
import cProfile
import json
import math
import os
import pathlib
import pstats
import resource
import statistics
import subprocess
import sys
import time
from typing import Any, Callable

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent


def shared_root() -> pathlib.Path:
    """Return the shared material directory (same rule as tests/shared.py)."""
    configured = os.environ.get("DJANGO_ASL_SHARED")
    return pathlib.Path(configured).expanduser() if configured else REPO_ROOT.parent / "shared"


WORKLOADS = shared_root() / "bench" / "workloads"


# The shared harness's in-process tasks (benchlib.task_handler_add / _incr), with the
# handler(input, context) signature of django_asl.asl.run.
def task_add(event: Any, context: Any = None) -> Any:
    return {**event, "n": event.get("n", 0) + 1}


def task_incr(event: Any, context: Any = None) -> Any:
    return {**event, "i": event["i"] + 1}


def manifest() -> dict:
    path = WORKLOADS / "manifest.json"
    if not path.is_file():
        raise SystemExit(f"no benchmark workloads: {path} is missing (set DJANGO_ASL_SHARED)")
    return json.loads(path.read_text())


def load(name: str) -> dict:
    """Return the workload ``name``: definition, input, transitions, checks and task handlers."""
    man = manifest()
    entry = man["workloads"].get(name) or man.get("variants", {}).get(name)
    if entry is None:
        known = ", ".join([*man["workloads"], *man.get("variants", {})])
        raise SystemExit(f"unknown workload {name!r}; known: {known}")
    tasks = {man["task_resource"]: task_add}
    for variant in man.get("variants", {}).values():
        if "task_resource" in variant:
            tasks[variant["task_resource"]] = task_incr
    return {
        "name": name,
        "definition": json.loads((WORKLOADS / entry["definition"]).read_text()),
        "input": json.loads((WORKLOADS / entry["input"]).read_text()),
        "transitions": entry["transitions"],
        "checks": entry["checks"],
        "tasks": tasks,
    }


def check_output(output: Any, checks: list) -> str:
    """Return "ok" or the first mismatch; a check is [path, expected], "#len" means len()."""
    for path, expected in checks:
        current = output
        try:
            for key in path:
                current = len(current) if key == "#len" else current[key]
        except (KeyError, IndexError, TypeError) as exc:
            return f"{'.'.join(map(str, path))} missing ({type(exc).__name__})"
        if current != expected:
            return f"{'.'.join(map(str, path))} = {current!r}, expected {expected!r}"
    return "ok"


def runner(workload: dict) -> Callable[[Any], Any]:
    from django_asl import asl

    if not hasattr(asl, "run"):
        raise RuntimeError("django_asl.asl.run does not exist yet")
    definition, tasks = workload["definition"], workload["tasks"]

    def once(execution_input: Any) -> Any:
        result = asl.run(definition, execution_input, tasks=tasks)
        if result.status != "SUCCEEDED":
            raise RuntimeError(f"status {result.status}: {result.error}: {result.cause}")
        return result.output

    return once


def measure(name: str, runs: int, run_seconds: float, warmup_seconds: float) -> dict:
    """Time one workload in this process; return a result record."""
    workload = load(name)
    once = runner(workload)
    original = workload["input"]
    t0 = time.perf_counter()
    warmups = 0
    while True:
        output = once(copy.deepcopy(original))
        warmups += 1
        if time.perf_counter() - t0 >= warmup_seconds:
            break
    per_execution = (time.perf_counter() - t0) / warmups
    reps = max(1, math.ceil(run_seconds / max(per_execution, 1e-9)))
    samples = []
    for _ in range(runs):
        # Inputs are copied before the timed loop, never inside it.
        inputs = [copy.deepcopy(original) for _ in range(reps)]
        start = time.perf_counter()
        for execution_input in inputs:
            output = once(execution_input)
        samples.append(reps * workload["transitions"] / (time.perf_counter() - start))
    return {
        "workload": name,
        "status": "ok",
        "transitions": workload["transitions"],
        "tps_median": statistics.median(samples),
        "tps_min": min(samples),
        "tps_max": max(samples),
        "runs": runs,
        "reps_per_run": reps,
        "warmup_executions": warmups,
        "check": check_output(output, workload["checks"]),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child(args: argparse.Namespace) -> int:
    """Measure one workload and print its record as JSON (the parent's subprocess)."""
    try:
        record = measure(args.child, args.runs, args.seconds, args.warmup)
    except Exception as exc:  # report, don't crash: the parent prints a row for it
        record = {"workload": args.child, "status": "error", "reason": f"{type(exc).__name__}: {exc}"[:500],
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    print(json.dumps(record))
    return 0


def profile(name: str, seconds: float, top: int) -> int:
    """Run one workload repeatedly for about ``seconds`` under cProfile; print the top functions."""
    workload = load(name)
    once = runner(workload)
    profiler = cProfile.Profile()
    executions = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        execution_input = copy.deepcopy(workload["input"])  # not profiled
        profiler.enable()
        output = once(execution_input)
        profiler.disable()
        executions += 1
    print(f"{name}: {executions} executions profiled; output check: {check_output(output, workload['checks'])}\n")
    stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workload", action="append", help="run only this workload (repeatable)")
    parser.add_argument("--runs", type=int, default=5, help="measured runs per workload (default 5)")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one run (default 1.0)")
    parser.add_argument("--warmup", type=float, default=0.5, help="minimum warm-up seconds (default 0.5)")
    parser.add_argument("--profile", action="store_true",
                        help="profile one workload (the first --workload, default pass-chain-100) under cProfile")
    parser.add_argument("--top", type=int, default=25, help="functions to list with --profile (default 25)")
    parser.add_argument("--json", action="store_true", help="print the records as JSON lines")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO_ROOT))

    if args.child:
        return child(args)
    if args.profile:
        return profile((args.workload or ["pass-chain-100"])[0], max(args.seconds, 1.0) * 3, args.top)

    names = args.workload or list(manifest()["workloads"])
    for name in names:
        load(name)  # fail early on an unknown name
    print(f"workloads: {WORKLOADS}")
    print(f"{'workload':<28} {'transitions':>11} {'transitions/s':>14} {'(min-max)':>20} {'peak MiB':>9}  check")
    failed = False
    for name in names:
        command = [sys.executable, __file__, "--child", name, "--runs", str(args.runs),
                   "--seconds", str(args.seconds), "--warmup", str(args.warmup)]
        done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
        try:
            record = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            record = {"workload": name, "status": "error",
                      "reason": f"exit code {done.returncode}: {done.stderr.strip()[-500:]}"}
        if args.json:
            print(json.dumps(record))
        elif record["status"] == "ok":
            spread = f"({record['tps_min']:,.0f}-{record['tps_max']:,.0f})"
            print(f"{name:<28} {record['transitions']:>11,} {record['tps_median']:>14,.0f} {spread:>20} "
                  f"{record['peak_rss_mib']:>9.1f}  {record['check']}")
        else:
            print(f"{name:<28} {'':>11} {'error':>14} {'':>20} {'':>9}  {record['reason']}")
        failed = failed or record["status"] != "ok" or record.get("check") != "ok"
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
