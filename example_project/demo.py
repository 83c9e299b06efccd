"""Run the example order workflow in-process and print its result and history.

    python -m example_project.demo                      # a good order
    python -m example_project.demo --scenario declined  # the card is declined: Catch -> PaymentFailed
    python -m example_project.demo --scenario invalid   # no order lines: Catch -> OrderRejected
    python -m example_project.demo --input '{"order": {...}}'

For now this runs the definition through the language core (``asl.run``) with
the project's task handlers, resolved from ``settings.DJANGO_ASL["TASKS"]``;
nothing is stored. Durable executions (engine, admin, API) come later.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

DEFINITION = Path(__file__).resolve().parent / "statemachines" / "order.asl.json"


def sample_order(scenario: str = "ok") -> dict:
    """Return the execution input for one of the demo scenarios."""
    order = {
        "id": "A-1001",
        "email": "ada@example.com",
        "phone": "+44 20 7946 0000",
        "address": {"street": "12 Analytical Row", "city": "London", "postcode": "N1 9GU"},
        "card": "4242424242424242",
        "lines": [
            {"sku": "KB-01", "quantity": 1, "unit_price": 89.0},
            {"sku": "MS-02", "quantity": 2, "unit_price": 24.5},
            {"sku": "PAD-03", "quantity": 1, "unit_price": 12.0},
        ],
    }
    if scenario == "declined":
        order["card"] = "4000000000000002"
    elif scenario == "invalid":
        order["lines"] = []
    return {"order": order}


def load_tasks() -> dict[str, Any]:
    """Return the task handlers named in ``settings.DJANGO_ASL["TASKS"]``, by resource."""
    from django.utils.module_loading import import_string

    from django_asl.conf import asl_settings

    return {resource: import_string(path) for resource, path in asl_settings.TASKS.items()}


def print_history(history: list[dict]) -> None:
    """Print one line per event: id, time since the start, type, state name and any error."""
    print("History:")
    start = history[0].get("timestamp") if history else None
    for event in history:
        details = event.get("details") if isinstance(event.get("details"), dict) else {}
        moment = event.get("timestamp")
        elapsed = f"+{(moment - start).total_seconds():4.0f}s" if isinstance(moment, datetime) else ""
        line = f"  {event.get('id', ''):>3} {elapsed:>6}  {event.get('type', '')}"
        # The state's name: a top-level "state" key, or the event details' "name" as on AWS.
        state = event.get("state") or details.get("name")
        if state:
            line = f"{line:<45}  {state}"
        if details.get("error"):
            line += f"  [{details['error']}: {details.get('cause') or ''}]"
        print(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m example_project.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", choices=["ok", "declined", "invalid"], default="ok",
                        help="which sample order to process (default: ok)")
    parser.add_argument("--input", help="execution input as JSON, instead of a sample order")
    parser.add_argument("--definition", type=Path, default=DEFINITION, help="the state machine (ASL JSON)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
    import django

    django.setup()
    from django_asl import asl

    for name in ("validate", "run"):
        if not hasattr(asl, name):
            print(f"django_asl.asl.{name}() is not available yet: the language core is still being written.",
                  file=sys.stderr)
            return 3

    definition = json.loads(args.definition.read_text(encoding="utf-8"))
    execution_input = json.loads(args.input) if args.input else sample_order(args.scenario)

    issues = asl.validate(definition)
    for issue in issues:
        print(f"{getattr(issue, 'severity', 'error')}: {issue.path}: {issue.message} [{issue.code}]")
    if any(getattr(issue, "severity", "error") == "error" for issue in issues):
        print(f"{args.definition} is not a valid state machine.", file=sys.stderr)
        return 2
    print(f"Definition {args.definition.name}: valid, {len(definition['States'])} top-level states.")
    print("Input:")
    print(json.dumps(execution_input, indent=2))
    print()

    result = asl.run(definition, execution_input, tasks=load_tasks())

    print_history(result.history)
    print()
    print(f"Status: {result.status}")
    if result.status == "SUCCEEDED":
        print("Output:")
        print(json.dumps(result.output, indent=2))
    else:
        print(f"Error: {result.error}")
        print(f"Cause: {result.cause}")
    return 0 if result.status == "SUCCEEDED" else 1


if __name__ == "__main__":
    sys.exit(main())
