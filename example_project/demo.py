"""Run the example order workflow durably, in a real worker, and print what happened.

    python -m example_project.demo                      # a good order: SUCCEEDED
    python -m example_project.demo --scenario declined  # the card is declined: Catch -> PaymentFailed
    python -m example_project.demo --scenario invalid   # no order lines: Catch -> OrderRejected
    python -m example_project.demo --input '{"order": {...}}'

The demo publishes ``statemachines/order.asl.json`` as the state machine
"order" (an unchanged definition keeps its version), creates an ``Order``
(whose ``post_save`` receiver starts the order's execution once the
transaction commits), and starts ``manage.py asl_worker`` in a subprocess: a
django-q2 cluster of two worker processes plus the timer loop. It prints the
execution's history as the worker writes it, then its status and output,
and stops the worker. The database must be migrated (``make demo`` does it).

Exit status: 0 when the execution SUCCEEDED; 1 when it failed or did not end
within ``--timeout`` seconds; 2 when the definition is not valid.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import IO, Any

BASE_DIR = Path(__file__).resolve().parent
REPO_ROOT = BASE_DIR.parent
DEFINITION = BASE_DIR / "statemachines" / "order.asl.json"


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


def next_order_number() -> str:
    """Return an order number that no order has yet: A-1001, A-1002, ..."""
    from example_project.orders.models import Order

    number = 1001 + Order.objects.count()
    while Order.objects.filter(number=f"A-{number}").exists():
        number += 1
    return f"A-{number}"


def create_order(data: dict, number: str):
    """Create the order described by ``data`` (the workflow input's ``order``); its workflow starts on commit."""
    from django.db import transaction

    from example_project.orders.models import Order

    with transaction.atomic():
        order = Order.objects.create(
            number=number, customer_email=data.get("email", ""), customer_phone=data.get("phone", ""),
            address=data.get("address") or {}, card=data.get("card", ""), lines=data.get("lines") or [])
    order.refresh_from_db()
    return order


def start_worker(log: IO) -> subprocess.Popen:
    """Start ``manage.py asl_worker`` with this process's settings, in its own process group."""
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "manage.py"), "asl_worker", "--poll", "0.1"],
        cwd=REPO_ROOT, env=environment, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_worker(worker: subprocess.Popen, timeout: float = 30) -> None:
    """Stop the worker with SIGTERM (it lets running tasks finish); kill its process group if it hangs."""
    if worker.poll() is not None:
        return
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)  # the worker, its sentinel and its django-q2 workers
        worker.wait()


def _short(value: Any, width: int = 60) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return text if len(text) <= width else text[:width - 3] + "..."


def summary(event: dict) -> str:
    """Return a short description of a history event: an error, a task's call or result, an input, ..."""
    details = event.get("details") or {}
    event_type = event["type"]
    if details.get("error"):
        return f"{details['error']}: {details.get('cause') or ''}"
    if event_type.endswith("Scheduled") and "resource" in details:
        # The last part of the resource URI names the function: "function:charge-payment" -> charge-payment.
        return f"{details['resource'].rsplit(':', 1)[-1]}({_short(details.get('parameters'), 44)})"
    if event_type == "ExecutionStarted":
        return f"input {_short(details.get('input'))}"
    if event_type.endswith("Succeeded") and "output" in details and not event_type.endswith("StateSucceeded"):
        return f"-> {_short(details['output'])}"
    if event_type == "MapStateStarted" and "length" in details:
        return f"{details['length']} items"
    if event_type.startswith("MapIteration") and "index" in details:
        return f"item {details['index']}"
    return ""


def history_line(event: dict, start: datetime | None) -> str:
    """Return one printed history line: id, time since the start, type, state name and a summary."""
    moment = event.get("timestamp")
    elapsed = f"+{(moment - start).total_seconds():5.1f}s" if start and isinstance(moment, datetime) else ""
    line = f"  {event['id']:>3} {elapsed:>8}  {event['type']:<26}  {event['details'].get('name', ''):<18}"
    return f"{line}  {summary(event)}".rstrip()


def follow_execution(execution_id: str, worker: subprocess.Popen, timeout: float) -> dict | None:
    """Print the execution's history events as they are written; return it once it ends (None on timeout)."""
    import django_asl

    printed = 0
    start = None
    deadline = time.monotonic() + timeout
    while True:
        execution = django_asl.describe_execution(execution_id)
        history = django_asl.get_execution_history(execution_id)
        if history and start is None:
            start = history[0]["timestamp"]
        for event in history[printed:]:
            print(history_line(event, start), flush=True)
        printed = len(history)
        if execution["status"] != "RUNNING":
            return execution
        if worker.poll() is not None:
            print(f"The worker exited with status {worker.returncode}.", file=sys.stderr)
            return None
        if time.monotonic() > deadline:
            print(f"The execution did not end within {timeout:g} s.", file=sys.stderr)
            return None
        time.sleep(0.2)


def print_children(execution: dict, history: list[dict]) -> None:
    """Print one line per Parallel branch and Map iteration: its state, index, status and task results.

    Each branch or iteration is a child execution with its own history, named
    ``<execution name>/<id of the fork's Started event>/<index>``.
    """
    import django_asl

    children = django_asl.list_executions(name_prefix=f"{execution['name']}/", include_children=True)
    if not children:
        return
    # The state that forked: the last state entered before the fork's Started event.
    entered = {}
    name = ""
    for event in history:
        name = event["details"].get("name", name) if event["type"].endswith("StateEntered") else name
        entered[event["id"]] = name
    print("Branches and iterations (child executions):")
    for child in sorted(children, key=lambda child: (child.fork_id or 0, child.child_index or 0)):
        results = [
            f"{event['details'].get('name', '')}" if event["type"].endswith("StateEntered") else summary(event)
            for event in django_asl.get_execution_history(str(child.pk))
            if event["type"].endswith(("TaskStateEntered", "Succeeded", "Failed"))
            and not event["type"].endswith("StateSucceeded")
        ]
        label = f"{entered.get(child.fork_id, '')}[{child.child_index}]"
        print(f"  {label:<18}  {child.status:<9}  {' '.join(results)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m example_project.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", choices=["ok", "declined", "invalid"], default="ok",
                        help="which sample order to process (default: ok)")
    parser.add_argument("--input", help='the order as JSON, {"order": {...}}, instead of a sample order')
    parser.add_argument("--definition", type=Path, default=DEFINITION, help="the state machine (ASL JSON)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for the end (default 60)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
    import django

    django.setup()
    import django_asl
    from django_asl.asl import DefinitionError

    # 1. Publish the workflow: a changed definition becomes a new version, an unchanged one is kept.
    definition = json.loads(args.definition.read_text(encoding="utf-8"))
    try:
        machine = django_asl.publish("order", definition)
    except DefinitionError as exc:
        for issue in exc.issues:
            print(f"{issue.path}: {issue.message} [{issue.code}]", file=sys.stderr)
        print(f"{args.definition} is not a valid state machine.", file=sys.stderr)
        return 2
    print(f"Published state machine {machine.name!r}, version {machine.current_version.number} "
          f"({args.definition.name}, {len(definition['States'])} top-level states).")

    with tempfile.TemporaryFile("w+") as log:
        # 2. A worker: `manage.py asl_worker`, a django-q2 cluster and the timer loop.
        worker = start_worker(log)
        print(f"Started the worker: manage.py asl_worker (pid {worker.pid}).")
        try:
            # 3. An order: its post_save receiver starts the execution once the order is committed.
            raw = json.loads(args.input) if args.input else sample_order(args.scenario)
            data = raw.get("order", raw)  # {"order": {...}}, or the order itself
            order = create_order(data, next_order_number())
            if order.execution_id is None:
                print(f"Order {order.number} did not start an execution.", file=sys.stderr)
                return 1
            print(f"Created order {order.number} (total {order.total}): execution "
                  f"{order.execution.name} ({order.execution_id}).")
            print("History:")
            execution = follow_execution(str(order.execution_id), worker, args.timeout)
        finally:
            stop_worker(worker)
            print(f"Stopped the worker (exit status {worker.returncode}).")
        if execution is not None:
            print_children(execution, django_asl.get_execution_history(execution["execution_id"]))
        if execution is None:
            log.seek(0)
            print("Worker log (last lines):", *log.read().splitlines()[-30:], sep="\n  ", file=sys.stderr)
            return 1

    order.refresh_from_db()
    print()
    print(f"Status: {execution['status']}")
    if execution["status"] == "SUCCEEDED":
        print("Output:")
        print(json.dumps(execution["output"], indent=2))
    else:
        print(f"Error: {execution['error']}")
        print(f"Cause: {execution['cause']}")
    print(f"Order {order.number}: {order.status}" + (f" ({order.failure})" if order.failure else ""))
    return 0 if execution["status"] == "SUCCEEDED" else 1


if __name__ == "__main__":
    sys.exit(main())
