"""``asl_start``: start an execution of a state machine, and optionally wait for its end.

    python manage.py asl_start order --input '{"order_id": 42}'
    python manage.py asl_start order --input-file order.json --name order-42 --wait --timeout 60

It prints the execution as one JSON object (the shape of
``describe_execution``). With ``--wait`` it polls the execution every 0.2 s
until it ends or ``--timeout`` seconds pass, and exits with status 0 only if
it SUCCEEDED.

While it waits, it also advances the execution and its branches and iterations
whenever they are due (starting, Wait states, retry intervals, expired task
leases), so that state machines of Pass, Choice, Wait, Parallel, Map, Succeed
and Fail states run to their end even when no worker is running. With workers
running this is harmless: each step locks its execution row with ``SKIP
LOCKED``, so no step is taken twice. Task handlers run in the django-q2
workers (or ``asl_worker``), never in this command.
"""
from __future__ import annotations

import json
import sys
import time
import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_asl.engine import advance_execution, describe_execution, start_execution
from django_asl.exceptions import DjangoAslError
from django_asl.models import Execution

from ._output import to_json

POLL_SECONDS = 0.2
#: Most executions (of one tree) advanced per poll, like ``run_due_timers``.
ADVANCE_LIMIT = 100


def read_input(text: str, source: str) -> Any:
    """Return the JSON value of ``text``; raise ``CommandError`` naming ``source`` when it is not JSON."""
    def reject(constant: str) -> Any:
        raise ValueError(f"{constant} is not a JSON value")

    try:
        return json.loads(text, parse_constant=reject)
    except json.JSONDecodeError as exc:
        raise CommandError(f"{source} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).")
    except (ValueError, RecursionError) as exc:
        raise CommandError(f"{source} is not valid JSON: {exc}.")


def due_members(root_id: uuid.UUID) -> list:
    """Return the ids of the running executions of a tree (root, branches, iterations) that have a wake time.

    ``advance_execution`` itself decides whether each one is due (on the
    engine's clock) and skips those another worker holds. A fork waiting for
    its children has no wake time; its children are looked at instead.
    """
    found: list = []
    rows = list(Execution.objects.filter(pk=root_id).values_list("pk", "status", "wake_at"))
    while rows:
        running = [pk for pk, status, _ in rows if status == Execution.Status.RUNNING]
        found.extend(pk for pk, status, wake_at in rows if status == Execution.Status.RUNNING and wake_at is not None)
        if len(found) >= ADVANCE_LIMIT or not running:
            break
        rows = list(Execution.objects.filter(parent_id__in=running[:1000], status=Execution.Status.RUNNING)
                    .values_list("pk", "status", "wake_at"))
    return found[:ADVANCE_LIMIT]


class Command(BaseCommand):
    help = "Start an execution of a state machine and print it as JSON; with --wait, wait for its end."

    def add_arguments(self, parser):
        parser.add_argument("state_machine", metavar="NAME", help="The name of the state machine.")
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--input", metavar="JSON", help="The execution input as JSON text (default: {}).")
        source.add_argument("--input-file", metavar="FILE",
                            help="A file holding the execution input as JSON; - reads standard input.")
        parser.add_argument("--name", help="The execution name (default: a UUID). Starting again with the same "
                                           "name and input returns the existing execution.")
        parser.add_argument("--wait", action="store_true",
                            help="Wait for the execution to end; exit with status 1 unless it SUCCEEDED.")
        parser.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS",
                            help="With --wait, give up after this many seconds (default: 300).")

    def handle(self, *args, state_machine: str, input: str | None, input_file: str | None,
               name: str | None, wait: bool, timeout: float, **options):
        if not timeout >= 0:  # also refuses NaN
            raise CommandError("--timeout must be a number of seconds, 0 or more.")
        value = self.execution_input(input, input_file)
        try:
            execution = start_execution(state_machine, value, name=name)
        except (DjangoAslError, ValueError) as exc:
            raise CommandError(str(exc))
        interrupted = False
        if wait:
            execution, interrupted = self.wait(execution, timeout)
        self.stdout.write(to_json(describe_execution(str(execution.pk))))
        if not wait:
            return
        if execution.status == Execution.Status.RUNNING:
            raise CommandError(f"The execution {execution.pk} is still running"
                               + ("; stopped waiting." if interrupted else f" after {timeout:g} seconds."))
        if execution.status != Execution.Status.SUCCEEDED:
            raise CommandError(f"The execution {execution.pk} ended with status {execution.status}.")

    def execution_input(self, text: str | None, path: str | None) -> Any:
        """Return the execution input from --input or --input-file (default: an empty object)."""
        if path is None:
            return {} if text is None else read_input(text, "--input")
        if path == "-":
            return read_input(sys.stdin.read(), "The standard input")
        try:
            with open(path, encoding="utf-8") as file:
                text = file.read()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}.")
        except UnicodeDecodeError:
            raise CommandError(f"{path}: the input file must be UTF-8 text.")
        return read_input(text, path)

    def wait(self, execution: Execution, timeout: float) -> tuple[Execution, bool]:
        """Advance and poll the execution until it ends or ``timeout`` seconds pass.

        Return the refreshed execution and whether Ctrl-C interrupted the
        waiting (which stops the waiting, not the execution).
        """
        deadline = time.monotonic() + timeout
        try:
            while True:
                for execution_id in due_members(execution.pk):
                    advance_execution(execution_id)
                execution.refresh_from_db()
                if execution.status != Execution.Status.RUNNING or time.monotonic() >= deadline:
                    break
                time.sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0)))
        except KeyboardInterrupt:
            execution.refresh_from_db()
            return execution, True
        return execution, False
