#!/usr/bin/env python3
"""A chain of 100 Pass states in JSONata against its JSONPath twin, in memory: transitions per second.

    .venv/bin/python benchmarks/run_jsonata.py [--states 100] [--runs 50]

Each state makes the same small transformation in both languages: it copies
the input's ``order`` and adds one to a counter, and assigns a variable.

    JSONata:  "Output": {"order": "{% $states.input.order %}", "n": "{% $states.input.n + 1 %}"},
              "Assign": {"last": "{% $states.input.n %}"}
    JSONPath: "Parameters": {"order.$": "$.order", "n.$": "States.MathAdd($.n, 1)"},
              "Assign": {"last.$": "$.n"}

The definitions are parsed once (every expression is compiled then, not per
run); each run goes through ``django_asl.asl.run`` without recording history.
The figure is the best of three rounds of ``--runs`` runs.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def chain(states: int, language: str) -> dict:
    """Return a definition of ``states`` Pass states in a row, in ``language``."""
    definition = {"QueryLanguage": language, "StartAt": "S0", "States": {}}
    for index in range(states):
        state: dict = {"Type": "Pass"}
        if language == "JSONata":
            state["Output"] = {"order": "{% $states.input.order %}", "n": "{% $states.input.n + 1 %}"}
            state["Assign"] = {"last": "{% $states.input.n %}"}
        else:
            state["Parameters"] = {"order.$": "$.order", "n.$": "States.MathAdd($.n, 1)"}
            state["Assign"] = {"last.$": "$.n"}
        if index == states - 1:
            state["End"] = True
        else:
            state["Next"] = f"S{index + 1}"
        definition["States"][f"S{index}"] = state
    return definition


def measure(machine, data: dict, runs: int) -> float:
    """Return the best transitions per second over three rounds of ``runs`` runs."""
    from django_asl.asl import run

    transitions = len(machine.states) * runs
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(runs):
            result = run(machine, data, record_history=False)
        elapsed = time.perf_counter() - start
        assert result.status == "SUCCEEDED", result
        best = max(best, transitions / elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--states", type=int, default=100)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    from django_asl.asl import parse_definition

    data = {"order": {"id": "A-1", "lines": [{"sku": "x", "qty": 2}]}, "n": 0}
    figures = {}
    for language in ("JSONPath", "JSONata"):
        machine = parse_definition(chain(args.states, language))
        figures[language] = measure(machine, data, args.runs)
        print(f"{language:8}  {figures[language]:>10,.0f} transitions/s  ({args.states} Pass states x {args.runs} "
              f"runs, best of 3)")
    print(f"JSONata runs at {figures['JSONata'] / figures['JSONPath']:.0%} of the JSONPath twin's speed")


if __name__ == "__main__":
    main()
