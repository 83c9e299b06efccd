"""Where an execution went: the states it passed through, coloured by outcome, for the admin's diagram.

``path_taken`` is a pure function over history events; ``inspect_execution``
reads an execution's events (types and times only), its branches and
iterations grouped by ``machine_path`` and status (one query), and the events
of one representative child per branch or processor, so that the drawing
of ``django_asl.asl.graph.definition_graph`` can be coloured whatever the size
of the history.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Case, Count, Value, When

from ..asl.graph import node_id
from ..models import Execution

# The outcomes a state can have, from least to most telling: a later entry of a
# state (a loop) shows the most telling outcome of all its entries.
RUNNING, SUCCEEDED, RETRIED, CAUGHT, FAILED = "running", "succeeded", "retried", "caught", "failed"
_RANK = {SUCCEEDED: 0, RETRIED: 1, CAUGHT: 2, RUNNING: 3, FAILED: 4}
# Events that start one attempt of a task (Task, Activity, Lambda), and those that end one in failure.
_ATTEMPT_SUFFIXES = ("Scheduled",)
_FAILURE_SUFFIXES = ("Failed", "TimedOut")
_EXECUTION_ENDS = {"ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"}


def path_taken(events: Iterable[tuple[str, str, datetime | None]], *, machine_path: str = "",
               running: bool = False) -> dict[str, dict[str, Any]]:
    """Return ``{node id: {"status", "entries", "attempts", "seconds"}}`` for the states in ``events``.

    ``events`` are ``(type, state_name, timestamp)`` tuples, oldest first, as
    history stores them (``state_name`` is set on ``*Entered``/``*Exited``
    events only). A state is:

    - ``running`` when it was entered and not left while the execution runs;
    - ``failed`` when the execution ended in it (a Fail state, an uncaught error, a stop);
    - ``caught`` when its last attempt failed and it was left all the same (a Catch);
    - ``retried`` when it needed more than one attempt and succeeded;
    - ``succeeded`` otherwise.

    ``seconds`` is the total time spent in the state over its entries that ended.
    """
    found: dict[str, dict[str, Any]] = {}
    current: str | None = None  # the state entered and not left yet
    entered_at: datetime | None = None
    attempts, failed = 0, False

    def settle(name: str, outcome: str) -> None:
        node = found[name]
        if node["status"] is None or _RANK[outcome] > _RANK[node["status"]]:
            node["status"] = outcome

    for event_type, state_name, timestamp in events:
        if event_type.endswith("StateEntered"):
            current, entered_at, attempts, failed = state_name, timestamp, 0, False
            node = found.setdefault(state_name, {"status": None, "entries": 0, "attempts": 0, "seconds": 0.0})
            node["entries"] += 1
            if event_type == "FailStateEntered":
                settle(state_name, FAILED)
                current = None
        elif current is None:
            continue
        elif event_type.endswith("StateExited"):
            node = found[current]
            if entered_at is not None and timestamp is not None:
                node["seconds"] += (timestamp - entered_at).total_seconds()
            settle(current, CAUGHT if failed else RETRIED if attempts > 1 else SUCCEEDED)
            current = None
        elif event_type in _EXECUTION_ENDS:
            settle(current, FAILED)
            current = None
        elif event_type.startswith("Execution"):
            continue
        elif event_type.endswith(_ATTEMPT_SUFFIXES):
            attempts += 1
            failed = False
            found[current]["attempts"] = max(found[current]["attempts"], attempts)
        elif event_type.startswith("MapIteration"):
            continue
        elif event_type.endswith(_FAILURE_SUFFIXES):
            failed = True  # this attempt failed: a Retry follows, or a Catch, or the end
        elif event_type.endswith(("Started", "Succeeded")):
            failed = False
    if current is not None:
        # Still in it: running, unless the execution ended without leaving it.
        settle(current, RUNNING if running else FAILED)
    for node in found.values():
        node["status"] = node["status"] or SUCCEEDED
    return {node_id(machine_path, name): node for name, node in found.items()}


def child_counts(execution: Execution) -> dict[str, dict[str, int]]:
    """Return ``{machine_path: {status: count}}`` for the branches and iterations of ``execution`` (one query)."""
    counts: dict[str, dict[str, int]] = {}
    rows = (Execution.objects.filter(parent=execution).order_by().values_list("machine_path", "status")
            .annotate(n=Count("pk")))
    for machine_path, status, n in rows:
        counts.setdefault(machine_path, {})[status] = n
    return counts


def _events(execution: Execution) -> Any:
    return execution.history.order_by("sequence").values_list("type", "state_name", "timestamp").iterator(
        chunk_size=2000)


def inspect_execution(execution: Execution) -> dict[str, Any]:
    """Return what the admin colours an execution's diagram with.

    ``{"status": ..., "nodes": {node id: {...}} (see ``path_taken``), "children":
    {machine_path: {status: count}}}``. A group (a Parallel branch or a Map
    processor) is coloured by its children's statuses, and the states inside it
    by the path of one representative child: a failed one if any, else a
    running one, else the last. Queries: two, plus two per branch or processor
    of the definition that has children (bounded by the definition, not by the
    number of children or events).
    """
    nodes = path_taken(_events(execution), machine_path=execution.machine_path,
                       running=execution.status == Execution.Status.RUNNING)
    children = child_counts(execution)
    priority = Case(When(status__in=["FAILED", "TIMED_OUT", "ABORTED"], then=Value(0)),
                    When(status="RUNNING", then=Value(1)), default=Value(2))
    for machine_path in children:
        child = (Execution.objects.filter(parent=execution, machine_path=machine_path)
                 .only("pk", "status", "machine_path").order_by(priority, "-child_index").first())
        if child is not None:
            nodes.update(path_taken(_events(child), machine_path=machine_path,
                                    running=child.status == Execution.Status.RUNNING))
    return {"status": execution.status, "last_event_id": execution.last_event_id, "nodes": nodes,
            "children": children}
