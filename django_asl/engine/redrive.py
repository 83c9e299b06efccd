"""Redrive: restart an unsuccessful execution from the state that did not succeed (AWS RedriveExecution).

A FAILED, TIMED_OUT or ABORTED execution keeps its position when it ends (its
cursor, at the state where it stopped, and that state's input: see
``runtime.Step.finish``). ``redrive_execution`` puts it back to RUNNING at that
position, as AWS does:

* the state that stopped it is entered again with its original input (a Task
  starts again from attempt 0; Retry counts start again too); the states that
  succeeded before it are not run again, and the history goes on after the
  ``ExecutionRedriven`` event;
* a Parallel or Map state keeps its branches and iterations that succeeded and
  runs again only those that failed or were aborted (each from where it
  stopped, recursively), or never started; MaxConcurrency still holds;
* ``redrive_count`` and ``redrive_date`` are stored, and the states see them as
  ``$$.Execution.RedriveCount`` and ``$$.Execution.RedriveTime``;
* the execution's TimeoutSeconds counts from the redrive ("the state machine
  level timeout, if defined, is reset to 0").
"""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F

from ..asl.driver import FORK, Cursor
from ..conf import asl_settings
from ..exceptions import DjangoAslError
from ..models import Execution, StateMachine
from . import batches, runtime, statistics

Status = Execution.Status

#: The statuses an execution can be redriven from (AWS: "The execution status isn't SUCCEEDED").
REDRIVABLE = (Status.FAILED, Status.TIMED_OUT, Status.ABORTED)

# The columns redrive_execution changes on the execution itself.
_FIELDS = ["status", "output", "error", "cause", "stop_date", "cursor", "state_input", "wake_at", "last_event_id",
           "redrive_count", "redrive_date"]
# Children changed per UPDATE: SQLite binds at most 999 parameters.
_BATCH = 500


class ExecutionNotRedrivable(DjangoAslError):
    """The execution cannot be redriven."""


def redrive_execution(execution: Execution | Any) -> Execution:
    """Restart a FAILED, TIMED_OUT or ABORTED execution from the state that did not succeed; return it.

    ``execution`` is a top-level ``Execution`` or its id. In one transaction
    the execution is locked, an ``ExecutionRedriven`` event is added to its
    history, its status goes back to RUNNING (stop date, error and cause
    cleared, ``redrive_count`` + 1, ``redrive_date`` now), and it is queued to
    run once the transaction commits. For a Parallel or Map state, the branches
    or iterations to run again are reset at once and the first MaxConcurrency
    of them queued.

    Raise ``ExecutionNotRedrivable``, saying why, for an execution that is
    running or succeeded, a branch or iteration, an EXPRESS execution, one that
    stopped more than ``DJANGO_ASL["REDRIVE_WINDOW_DAYS"]`` days ago, or one that
    kept no position to restart from; ``Execution.DoesNotExist`` for an unknown id.
    """
    execution_id = execution.pk if isinstance(execution, Execution) else execution
    with transaction.atomic():
        execution = (Execution.objects.select_for_update(of=("self",)).select_related("version", "state_machine")
                     .get(pk=execution_id))
        now = runtime.CLOCK.now()
        _check_redrivable(execution, now)
        # Its history (and its branches' and iterations') grows again: out of the per-state rollup until it ends.
        statistics.exclude_from_rollup(execution)
        if execution.source_link == "batch":
            batches.execution_redriven(execution)  # its batch item runs again, and the batch's counts follow
        # Branches of an aborted branch are not stopped with it and may still run: stop them, so that
        # every branch and iteration below is as it ended and can be redriven where it stopped.
        runtime.abort_descendants(execution)
        execution.cursor, execution.state_input = _restart_position(execution)
        execution.status = Status.RUNNING
        execution.output = execution.error = execution.cause = execution.stop_date = None
        execution.redrive_count += 1
        execution.redrive_date = execution.wake_at = now
        step = runtime.Step(execution)
        step.writer.add("ExecutionRedriven", {"redrive_count": execution.redrive_count})
        step.writer.flush()
        execution.save(update_fields=_FIELDS)
        if step.cursor is not None and step.cursor.phase == FORK:
            redrive_fork(step)
            step.save()
        else:
            step.follow_ups.append(("advance", execution.pk))
    runtime._after_commit(step.follow_ups)
    return execution


def _check_redrivable(execution: Execution, now: Any) -> None:
    """Raise ExecutionNotRedrivable if the execution cannot be redriven, saying why."""
    name = f"The execution {execution.pk} ({execution.name!r})"
    if execution.parent_id is not None:
        root = execution
        while root.parent_id is not None:
            root = Execution.objects.only("parent_id").get(pk=root.parent_id)
        raise ExecutionNotRedrivable(
            f"{name} is a branch or iteration of a Parallel or Map state: redrive its top-level execution "
            f"{root.pk}, which runs again the branches and iterations that did not succeed.")
    if execution.state_machine.type == StateMachine.Type.EXPRESS:
        raise ExecutionNotRedrivable(
            f"{name} belongs to the EXPRESS state machine {execution.state_machine.name!r}: only STANDARD "
            f"executions can be redriven, as on AWS. Start a new execution instead.")
    if execution.status == Status.RUNNING:
        raise ExecutionNotRedrivable(
            f"{name} is still running: only an execution that ended FAILED, TIMED_OUT or ABORTED can be redriven.")
    if execution.status not in REDRIVABLE:
        raise ExecutionNotRedrivable(
            f"{name} {execution.status.lower()}: only an execution that ended FAILED, TIMED_OUT or ABORTED can be "
            f"redriven. To run it again with the same input, start a new execution.")
    days = asl_settings.REDRIVE_WINDOW_DAYS
    if execution.stop_date < now - timedelta(days=days):
        raise ExecutionNotRedrivable(
            f"{name} stopped at {execution.stop_date.isoformat()}, more than {days} days ago "
            f"(DJANGO_ASL['REDRIVE_WINDOW_DAYS']): it can no longer be redriven. Start a new execution instead.")
    if execution.cursor is None and execution.history.filter(type__endswith="StateEntered").exists():
        raise ExecutionNotRedrivable(
            f"{name} kept no position to restart from (it ended before django-asl kept the position of "
            f"unsuccessful executions). Start a new execution instead.")


def _restart_position(execution: Execution) -> tuple[dict | None, Any]:
    """Return the cursor and state input to restart from (None: it never started, and starts now)."""
    if execution.cursor is None:
        return None, None
    return restart_cursor(execution.cursor), execution.state_input


def restart_cursor(raw: dict | None) -> dict | None:
    """Return the cursor a redrive restarts from, given the one an execution stopped with.

    A fork (a Parallel or Map state waiting for its branches or iterations) is
    kept and marked ``redrive``: ``redrive_fork`` runs its unsuccessful children
    when the execution's turn comes. Any other state is entered again, from
    attempt 0 (AWS: "the retry attempt count ... is reset to 0"). None (a branch
    or iteration that never started) stays None: it starts from the beginning.
    """
    if raw is None:
        return None
    if raw["phase"] == FORK:
        cursor = Cursor.from_dict(raw)
        cursor.retry_counts, cursor.attempt = (), 0
        cursor.pending = {**cursor.pending, "redrive": True}
        return cursor.as_dict(with_data=False)
    # The state is entered again with the variables it was entered with.
    return Cursor(raw["state"], None, raw.get("variables")).as_dict(with_data=False)


def redrive_fork(step: runtime.Step) -> None:
    """Run again the branches or iterations of the step's fork that did not succeed; keep the others.

    The step's execution is locked, RUNNING, and waits in a Parallel or Map
    state marked for redrive. Its counters start again: the successful children
    count as ended, the others are reset to RUNNING at their restart position;
    the first MaxConcurrency of them (in index order) are due now, the rest
    wait their turn (``wake_at`` NULL) and are started one by one as children
    end (``runtime.child_finished``, from ``pending["next_index"]`` on). When every
    child succeeded (the state failed afterwards, in its ResultSelector say),
    the state goes on at once with their results.

    Like running the machine, this only reads: the children are written when
    the step is saved (``Step.writes``).
    """
    execution, cursor = step.execution, step.cursor
    pending = cursor.pending
    pending.pop("redrive", None)
    state = step.machine.states[cursor.state]
    total = pending["total"]
    # No child of this fork is running: redrive_execution stopped every running descendant, and a
    # child waiting its turn does not touch its own children before its turn comes.
    rows = list(Execution.objects.filter(parent=execution, fork_id=pending["fork_id"])
                .exclude(status=Status.SUCCEEDED).order_by("child_index").values_list("pk", "child_index", "cursor"))
    pending.update(ended=total - len(rows), failures=0)
    if not rows:
        pending["started"] = total
        pending.pop("next_index", None)
        step.settle(step.driver.resume_fork(cursor, runtime._tally(state, execution, pending, None)))
        return
    limit = pending.get("max_concurrency") or getattr(state, "max_concurrency", 0) or total
    scheduled, waiting = rows[:limit], rows[limit:]
    pending["started"] = pending["ended"] + len(scheduled)
    pending["next_index"] = scheduled[-1][1] + 1
    if state.type == "Map":
        for _, index, _ in scheduled:
            step.writer.add("MapIterationStarted", {"name": state.name, "index": index})
    now = runtime.CLOCK.now()
    step.writes.append(lambda: (_restart_children(scheduled, now, now), _restart_children(waiting, None, now)))
    step.follow_ups.extend(("advance", pk) for pk, _, _ in scheduled)
    execution.cursor = cursor.as_dict(with_data=False)
    execution.wake_at = step.deadline  # the children wake it; only its TimeoutSeconds may come first


def _restart_children(rows: list[tuple], wake_at: Any, now: Any) -> None:
    """Set children (pk, index, cursor) RUNNING again at their restart positions: one UPDATE per position."""
    groups: dict[str, tuple[dict | None, list]] = {}
    for pk, _, raw in rows:
        restarted = restart_cursor(raw)
        groups.setdefault(json.dumps(restarted, sort_keys=True), (restarted, []))[1].append(pk)
    for restarted, pks in groups.values():
        for start in range(0, len(pks), _BATCH):
            Execution.objects.filter(pk__in=pks[start:start + _BATCH]).update(
                status=Status.RUNNING, stop_date=None, error=None, cause=None, wake_at=wake_at, cursor=restarted,
                redrive_count=F("redrive_count") + 1, redrive_date=now)
