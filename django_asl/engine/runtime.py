"""Advancing stored executions: one transaction per step, follow-up work after commit.

A *step* locks one execution row (``SELECT ... FOR UPDATE SKIP LOCKED``), runs
the language core's driver from the stored cursor until the machine must wait,
writes the history events it produced in one INSERT and the new position in one
UPDATE, and commits. A run of Pass and Choice states therefore costs three
statements, however long it is.

What happens between steps:

* a Task's handler runs after the commit, in the worker that made the step
  (``run_task``); its result is recorded by the next step. Delivery is
  at-least-once: a worker that dies while a handler runs leaves the execution's
  lease (``wake_at``) to run out, and the handler is called again;
* a Wait state or a retry interval stores its due time in ``wake_at``; the
  timer loop of ``asl_worker`` picks it up;
* Parallel branches and Map iterations become child executions, advanced by
  any worker; the last one to end resumes the parent in its own transaction;
* a Message state's wait is a subscription, written when the step is saved
  (or served at once by a kept message); ``send_message`` resumes it, and its
  TimeoutSeconds is in ``wake_at`` (``messages.py``).
"""
from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction

from ..asl import Context, SystemClock, StatesError, TaskError
from ..asl.driver import ENTER, FORK, MESSAGE, TASK, TIMER, Cursor, Done, Driver, ForkTally, WaitUntil, fork_failure
from ..asl.errors import ErrorName
from ..asl.graph import child_path
from ..asl.outcomes import AwaitMessage, Fail, ForkBranches, ForkItems, InvokeTask, Succeed
from ..asl.runner import TaskContext, call_handler
from ..conf import asl_settings
from ..models import Execution
from . import callbacks, statements
from .history import HistoryWriter
from .machines import machine_for
from .registry import UnknownResource, get_handler

logger = logging.getLogger("django_asl.engine")

#: The engine's clock; tests replace it with a ``VirtualClock``.
CLOCK: Any = SystemClock()

Status = Execution.Status


# Large columns left out when an execution is read with its version and parent: the
# parent's, and the definition (parsed once per process; loaded only on a cache miss).
_PARENT_BULK = ("parent__input", "parent__output", "parent__state_input", "parent__cursor", "version__definition")


def locked_executions(*, skip_locked: bool = True) -> Any:
    """Return a queryset of executions to step: locked (``FOR UPDATE``, skipping rows another
    worker holds unless told otherwise), read with their version and parent, bulk left out."""
    return (Execution.objects.select_for_update(skip_locked=skip_locked, of=("self",))
            .select_related("version", "state_machine", "parent").defer(*_PARENT_BULK))


def _lock(execution_id: Any) -> Execution | None:
    """Return the running execution, locked, or None if it ended or another worker holds it."""
    return locked_executions().filter(pk=execution_id, status=Status.RUNNING).first()


def context_for(execution: Execution) -> Context:
    """Return the language core's Context for an execution (its root's identity for children).

    The lock queries join the parent, so a branch or iteration one level down
    costs no query here; deeper ones load their ancestors.
    """
    root = execution
    while root.parent_id is not None:
        root = root.parent
    context = Context(
        execution_id=str(root.pk), execution_name=root.name,
        state_machine_id=f"django-asl:stateMachine:{execution.state_machine.name}",
        state_machine_name=execution.state_machine.name,
        start_time=root.start_date, redrive_count=root.redrive_count, redrive_time=root.redrive_date, clock=CLOCK,
    )
    # A branch's root input is a deferred column: load it only if $$.Execution.Input is read.
    context.execution_input = root.input if root is execution else (lambda: root.input)
    return context


class Step:
    """The work of one transaction on one locked execution."""

    def __init__(self, execution: Execution) -> None:
        self.execution = execution
        self.writer = HistoryWriter(execution, CLOCK)
        self.machine = machine_for(execution.version, execution.machine_path)
        self.driver = Driver(self.machine, context_for(execution), self.writer.add)
        self.cursor = Cursor.from_dict(execution.cursor, execution.state_input) if execution.cursor else None
        # The state input as stored: the UPDATE rewrites it only when the cursor moved on.
        self.stored_input = self.cursor.data if self.cursor else _UNSET
        self.follow_ups: list[tuple] = []
        self.finished: Execution | None = None
        # A Parallel or Map state's children to insert when the step is saved, as
        # (inputs, scheduled, fork id): running the machine never writes, so a step can be worked
        # out before its transaction opens.
        self.children: tuple = ()
        # The variables the children of a fork start with (``_start_position``).
        self.fork_variables: dict | None = None
        # Other writes to make when the step is saved (a redriven fork's children: ``redrive.redrive_fork``).
        self.writes: list = []
        # A Message state's wait, subscribed (or served by a kept message) when the step is saved,
        # and whether the execution waited in one when loaded (its subscription then goes): messages.py.
        self.message_wait: AwaitMessage | None = None
        self.left_wait = self.cursor is not None and self.cursor.phase == MESSAGE

    # -- running ----------------------------------------------------------------------

    @property
    def deadline(self):
        """Return when a top-level execution times out (its TimeoutSeconds), or None.

        A redrive starts the clock again, as on AWS ("the state machine level
        timeout, if defined, is reset to 0").
        """
        seconds = self.machine.timeout_seconds if self.execution.parent_id is None else None
        if seconds is None:
            return None
        return (self.execution.redrive_date or self.execution.start_date) + timedelta(seconds=seconds)

    def time_out(self) -> None:
        """End the execution with TIMED_OUT, as AWS does when TimeoutSeconds passes."""
        self.finish(Fail(ErrorName.TIMEOUT, None), Status.TIMED_OUT)
        abort_descendants(self.execution)
        callbacks.close_tokens(self.execution)

    def start(self) -> None:
        execution = self.execution
        if execution.parent_id is None:
            self.writer.add("ExecutionStarted", {"input": execution.input})
        self.cursor = self.driver.start(execution.input)
        self.settle(self.driver.advance(self.cursor))

    def settle(self, suspension: Any) -> None:
        """Store what the machine now waits for, and what must happen after commit."""
        execution = self.execution
        kind = type(suspension)
        now = CLOCK.now()
        if kind is Done:
            self.finish(suspension.end)
            return
        if kind is WaitUntil:
            execution.wake_at = suspension.until
        elif kind is InvokeTask and (suspension.wait_for_token or callbacks.activity_name(suspension.resource)):
            failure = callbacks.schedule(self, suspension, now)  # waits for send_task_success & co.
            if failure is not None:  # the activity was deleted since the definition was published
                self.settle(failure)
                return
        elif kind is InvokeTask:
            self.driver.task_started(self.cursor)
            lease = asl_settings.TASK_LEASE_SECONDS
            limit = suspension.timeout_seconds
            due = now + timedelta(seconds=min(limit, lease) if limit else lease)
            # Move the lease only when it runs low or must come sooner: an UPDATE that leaves
            # the indexed wake_at alone can be a cheap HOT update on PostgreSQL.
            current = execution.wake_at
            if current is None or current > due or current < now + timedelta(seconds=lease / 2):
                execution.wake_at = due
            self.follow_ups.append(("task", execution.pk, self.cursor.entered_event_id, self.cursor.attempt))
        elif kind is AwaitMessage:
            execution.wake_at = suspension.until  # the message's timeout, or None
            self.message_wait = suspension
        else:
            execution.wake_at = None
            self.fork(suspension)
        deadline = self.deadline
        if deadline is not None and (execution.wake_at is None or execution.wake_at > deadline):
            execution.wake_at = deadline  # wake up to time the execution out
        execution.cursor = self.cursor.as_dict(with_data=False)
        execution.state_input = self.cursor.data

    def finish(self, end: Succeed | Fail, status: str | None = None) -> None:
        execution = self.execution
        if type(end) is Succeed:
            execution.status, execution.output = Status.SUCCEEDED, end.output
        else:
            execution.status, execution.error, execution.cause = status or Status.FAILED, end.error, end.cause
        execution.stop_date = max(CLOCK.now(), execution.start_date)
        execution.wake_at = None
        if type(end) is Succeed:
            execution.cursor = execution.state_input = None
        elif self.cursor is not None:
            # Keep where it stopped, and that state's input: a redrive starts there again (redrive.py).
            execution.cursor = self.cursor.as_dict(with_data=False)
            execution.state_input = self.cursor.data
        if execution.parent_id is None:
            event = {Status.SUCCEEDED: "ExecutionSucceeded", Status.FAILED: "ExecutionFailed",
                     Status.TIMED_OUT: "ExecutionTimedOut", Status.ABORTED: "ExecutionAborted"}[execution.status]
            self.writer.add(event, {"output": end.output} if type(end) is Succeed
                            else {"error": end.error, "cause": end.cause})
        self.finished = execution

    def fields(self) -> list[str]:
        """Return the fields this step may have changed: the outcome's only when it ended the
        execution, the state input only when it changed."""
        fields = STEP_FIELDS if self.finished is not None else MOVE_FIELDS
        if self.execution.state_input is self.stored_input:
            return fields
        return [*fields, "state_input"]

    def save(self) -> None:
        save_steps([self])

    # -- Parallel and Map ----------------------------------------------------------------

    def fork(self, fork: ForkBranches | ForkItems) -> None:
        """Create the child executions of a Parallel or Map state.

        Every child is created at once, but a Map schedules only MaxConcurrency
        of them; the parent keeps counters, never the items, so that each
        child's end rewrites a few bytes of it.
        """
        execution = self.execution
        state_name = self.cursor.state
        pending = self.cursor.pending
        self.fork_variables = fork.variables
        if type(fork) is ForkBranches:
            inputs = [(index, fork.input, child_path(execution.machine_path, state_name, index))
                      for index in range(len(fork.branches))]
            limit = len(inputs)
        else:
            path = child_path(execution.machine_path, state_name, None)
            inputs = [(index, item, path) for index, item in enumerate(fork.items)]
            limit = fork.max_concurrency or len(inputs)
            pending["tolerated_failure_count"] = fork.tolerated_failure_count
            pending["tolerated_failure_percentage"] = fork.tolerated_failure_percentage
            if fork.max_concurrency:  # kept for a redrive, which schedules the iterations to run again
                pending["max_concurrency"] = fork.max_concurrency
            for index in range(min(limit, len(inputs))):
                self.writer.add("MapIterationStarted", {"name": state_name, "index": index})
        pending.update(total=len(inputs), started=min(limit, len(inputs)))
        if not inputs:
            self.settle(self.driver.resume_fork(self.cursor, ForkTally(fork)))
            return
        self.create_children(inputs, limit)

    def create_children(self, inputs: list[tuple[int, Any, str]], scheduled: int) -> None:
        """Ask for the children, inserted when the step is saved (``save_children``)."""
        self.children = (inputs, scheduled, self.cursor.pending["fork_id"], self.fork_variables)

    def save_children(self) -> None:
        """Insert the children in batches; the first ``scheduled`` are due now, the rest wait their turn."""
        inputs, scheduled, fork_id, variables = self.children
        self.children = ()
        execution = self.execution
        now = CLOCK.now()
        # With variables, each child starts from a stored cursor at its StartAt (``_start_position``).
        starts = {path: machine_for(execution.version, path).start_at for _, _, path in inputs} if variables else {}
        for start in range(0, len(inputs), 500):
            children = [
                Execution(state_machine_id=execution.state_machine_id, version_id=execution.version_id,
                          name=f"{execution.name}/{fork_id}/{index}"[-80:], input=data, machine_path=path,
                          parent=execution, fork_id=fork_id, child_index=index, start_date=now,
                          wake_at=now if index < scheduled else None,
                          **_start_position(starts.get(path), data, variables))
                for index, data, path in inputs[start:start + 500]
            ]
            Execution.objects.bulk_create(children)
            self.follow_ups.extend(("advance", child.pk) for child in children if child.child_index < scheduled)

    @property
    def writes_alone(self) -> bool:
        """Return whether saving this step writes only its execution and its events."""
        finished = self.finished
        # A branch's end updates its parent, a batch execution's end its batch (batches.executions_ended).
        # A Message state's wait writes a subscription or a kept message's delivery (messages.py).
        return not self.children and not self.writes and self.message_wait is None and not self.left_wait and (
            finished is None or (finished.parent_id is None and finished.source_link != "batch"))


STEP_FIELDS = ["status", "output", "error", "cause", "cursor", "last_event_id", "wake_at", "stop_date"]
MOVE_FIELDS = ["cursor", "last_event_id", "wake_at"]  # what a step that leaves the execution running changes
_UNSET = object()


def save_steps(steps: list[Step], *, expected: int | None = None) -> None:
    """Write the events of several steps in one INSERT and their executions in one UPDATE.

    With ``expected``, the one step's execution is updated only if its stored
    ``last_event_id`` is still ``expected``; otherwise ``_Conflict`` is raised
    (and the transaction rolls back).
    """
    if any(step.message_wait is not None or step.left_wait for step in steps):
        from .messages import save_waits

        save_waits(steps)  # may run a machine on with a kept message: before its events are written
    HistoryWriter.flush_all([step.writer for step in steps])
    if expected is not None:
        if _compare_and_set(steps[0].execution, steps[0].fields(), expected) != 1:
            raise _Conflict
    elif len(steps) == 1:
        steps[0].execution.save(update_fields=steps[0].fields())
    else:
        Execution.objects.bulk_update([step.execution for step in steps], [*STEP_FIELDS, "state_input"])
    for step in steps:
        step.stored_input = step.execution.state_input
        if step.children:
            step.save_children()
        for write in step.writes:
            write()
        step.writes = []
    for step in steps:
        if step.finished is not None and step.finished.parent_id is not None:
            child_finished(step.finished)
    batch_ends = [step.finished for step in steps if step.finished is not None and step.finished.source_link == "batch"]
    if batch_ends:  # only executions launched by a batch pay for this
        from .batches import executions_ended

        executions_ended(batch_ends)


def _compare_and_set(execution: Execution, names: list[str], expected: int) -> int:
    """UPDATE fields of a running execution whose last_event_id is ``expected``; return the row count."""
    quote = connection.ops.quote_name
    columns = [Execution._meta.get_field(name) for name in names]
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
    params = [field.get_db_prep_save(getattr(execution, field.attname), connection) for field in columns]
    params += [Execution._meta.pk.get_db_prep_value(execution.pk, connection), expected, Status.RUNNING.value]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(Execution._meta.db_table)} SET {assignments} "
            f"WHERE {quote('id')} = %s AND {quote('last_event_id')} = %s AND {quote('status')} = %s", params)
        return cursor.rowcount


def abort_descendants(execution: Execution) -> None:
    """Mark every running branch and iteration below ``execution`` ABORTED."""
    level = [execution.pk]
    now = CLOCK.now()
    while level:
        # The position stays: a redrive starts each of them again where it stopped.
        Execution.objects.filter(parent_id__in=level, status=Status.RUNNING).update(
            status=Status.ABORTED, stop_date=now, wake_at=None)
        level = list(Execution.objects.filter(parent_id__in=level).values_list("pk", flat=True))


def child_finished(child: Execution) -> None:
    """Record a branch's or iteration's end in its parent; resume the parent when all have ended.

    The parent is locked and updated without reading its state input (a Map's
    whole item list), so each end costs a few bytes, whatever the Map's size.
    """
    parent = (locked_executions(skip_locked=False).defer("input", "output", "state_input")
              .filter(pk=child.parent_id, status=Status.RUNNING).first())
    if parent is None or not parent.cursor or parent.cursor.get("phase") != FORK \
            or parent.cursor["pending"]["fork_id"] != child.fork_id:
        return  # the parent ended, or moved on from this fork (a failure ended it early)
    pending = parent.cursor["pending"]
    state = machine_for(parent.version, parent.machine_path).states[parent.cursor["state"]]
    writer = HistoryWriter(parent, CLOCK)
    if state.type == "Map":
        writer.add("MapIterationSucceeded" if child.status == Status.SUCCEEDED else "MapIterationFailed",
                   {"name": state.name, "index": child.child_index})
    pending["ended"] = pending.get("ended", 0) + 1
    if child.status != Status.SUCCEEDED:
        pending["failures"] = pending.get("failures", 0) + 1
    failure = _fork_failure(state, pending, child)
    follow_ups: list[tuple] = []
    if failure is None and pending["started"] < pending["total"]:
        # Start the next child waiting its turn: the first RUNNING one from index ``next_index`` on.
        # Children before it have started; from it on, all wait, except, in a redriven fork
        # (``redrive.redrive_fork``), the SUCCEEDED ones it keeps. Without a redrive it is ``started``.
        first = pending.get("next_index", pending["started"])
        pk, index = (Execution.objects.filter(parent=parent, fork_id=pending["fork_id"], child_index__gte=first,
                                              status=Status.RUNNING)
                     .order_by("child_index").values_list("pk", "child_index")[0])
        pending["started"] += 1
        if "next_index" in pending:
            pending["next_index"] = index + 1
        writer.add("MapIterationStarted", {"name": state.name, "index": index})
        now = CLOCK.now()
        Execution.objects.filter(pk=pk).update(wake_at=now, start_date=now)
        follow_ups.append(("advance", pk))
    if failure is None and pending["ended"] < pending["total"]:
        writer.flush()
        parent.save(update_fields=["cursor", "last_event_id"])
        _after_commit(follow_ups)
        return
    # Every branch or iteration has ended, or one failure ended the state: resume the parent.
    tally = _tally(state, parent, pending, failure)
    if failure is not None:  # stop the siblings still running or waiting their turn
        Execution.objects.filter(parent=parent, fork_id=pending["fork_id"], status=Status.RUNNING).update(
            status=Status.ABORTED, stop_date=CLOCK.now(), wake_at=None)
    parent.refresh_from_db(fields=["input", "state_input"])  # read once, to resume
    step = Step(parent)
    step.writer = writer
    step.driver.add = writer.add
    step.cursor.pending = pending
    step.settle(step.driver.resume_fork(step.cursor, tally))
    step.save()
    _after_commit(follow_ups + step.follow_ups)


def _fork_failure(state: Any, pending: dict, child: Execution) -> Fail | None:
    if child.status == Status.SUCCEEDED:
        return None
    return fork_failure(Fail(child.error, child.cause), pending["failures"], pending["total"],
                        pending.get("tolerated_failure_count"), pending.get("tolerated_failure_percentage"),
                        is_map=state.type == "Map")


def _tally(state: Any, parent: Execution, pending: dict, failure: Fail | None) -> ForkTally:
    """Build the tally the driver expects from the children's stored outcomes."""
    if state.type == "Map":
        fork = ForkItems(None, [None] * pending["total"], 0, pending.get("tolerated_failure_count"),
                         pending.get("tolerated_failure_percentage"))
    else:
        fork = ForkBranches(tuple(range(pending["total"])), None)
    tally = ForkTally(fork)
    tally.failure = failure
    if failure is None:
        rows = parent.children.filter(fork_id=pending["fork_id"]).order_by("child_index").values_list("child_index", "status", "output", "error", "cause")
        for index, status, output, error, cause in rows:
            tally.ends[index] = Succeed(output) if status == Status.SUCCEEDED else Fail(error, cause)
    return tally


def _start_position(start_at: str | None, data: Any, variables: dict | None) -> dict:
    """Return the cursor fields of a new branch or iteration.

    Without variables it has none (it starts at its StartAt when its turn
    comes). With variables it is stored at its StartAt, entering, with the
    outer variables as they were at the fork: AWS, "Passing data between
    states with variables", nested states see the outer scope.
    """
    if not variables or start_at is None:
        return {}
    return {"cursor": Cursor(start_at, None, dict(variables)).as_dict(with_data=False), "state_input": data}


# -- entry points (django-q2 tasks take ids only) ---------------------------------------------


def _advance_locked(step: Step, now: Any) -> bool:
    """Advance a locked, due execution as far as it goes; return False when it has nothing to do."""
    execution = step.execution
    cursor = step.cursor
    deadline = step.deadline
    if deadline is not None and now >= deadline:
        step.time_out()
    elif cursor is None:
        step.start()
    elif cursor.phase == ENTER:
        step.settle(step.driver.advance(cursor))
    elif cursor.phase == TIMER:
        step.settle(step.driver.resume_timer(cursor))
    elif cursor.phase == TASK and callbacks.is_callback(cursor.pending):
        callbacks.wake(step, now)  # a deadline of a task waiting for a callback, or its handler's lease
    elif cursor.phase == TASK:
        # The task's lease ran out: its worker died, or the task ran past TimeoutSeconds.
        call = cursor.pending
        scheduled = cursor.entered_time or execution.start_date
        if call.timeout_seconds and now >= scheduled + timedelta(seconds=call.timeout_seconds):
            step.settle(step.driver.fail_task(cursor, ErrorName.TIMEOUT, None, timed_out=True))
        else:
            step.settle(call)
    elif cursor.phase == MESSAGE:
        if cursor.pending.until is None or now < cursor.pending.until:
            return False  # it waits for send_message (messages.py)
        step.settle(step.driver.message_timed_out(cursor))
    elif cursor.phase == FORK and cursor.pending.get("redrive"):  # redrive.py: run its unsuccessful children
        from .redrive import redrive_fork

        redrive_fork(step)
    else:
        return False  # a fork waits for its children
    return True


def advance_execution(execution_id: Any, *, inline: bool = True) -> None:
    """Advance an execution as far as it goes without waiting (a django-q2 task).

    Does nothing when the execution has ended, another worker holds it, or it
    is not due yet.
    """
    with transaction.atomic():
        execution = _lock(execution_id)
        if execution is None:
            return
        now = CLOCK.now()
        if execution.wake_at is not None and execution.wake_at > now:
            return
        step = Step(execution)
        if not _advance_locked(step, now):
            return
        step.save()
    _after_commit(step.follow_ups, inline=inline, step=step)


def advance_due(limit: int = 100) -> int:
    """Advance up to ``limit`` due executions in one transaction; return how many were due.

    The timer loop's unit of work: one locking SELECT (``SKIP LOCKED``, so loops
    on other machines take other rows), one INSERT of every step's events and
    one UPDATE of every execution, then one commit.
    """
    with transaction.atomic():
        now = CLOCK.now()
        executions = list(locked_executions().filter(status=Status.RUNNING, wake_at__lte=now)
                          .order_by("wake_at")[:limit])
        steps = [step for step in map(Step, executions) if _advance_locked(step, now)]
        if steps:
            save_steps(steps)
    for step in steps:
        _after_commit(step.follow_ups)
    return len(executions)


def _after_commit(follow_ups: list[tuple], *, inline: bool = False, step: Step | None = None) -> None:
    """Queue, or in a worker run right here, what committed steps asked for.

    With ``inline``, the next task of the same execution runs in this process at
    once, starting from the step just committed (a chain of tasks costs no queue
    round trip and no reload); new executions and children are always queued,
    so that every worker can take them.
    """
    from .queue import enqueue

    work = [(follow_up, step) for follow_up in follow_ups]
    while work:
        follow_up, origin = work.pop(0)
        if follow_up[0] == "task" and inline:
            reuse = origin if origin is not None and origin.execution.pk == follow_up[1] else None
            more, done = _run_task(*follow_up[1:], step=reuse)
            work.extend((item, done) for item in more)
        elif follow_up[0] == "task":
            enqueue("django_asl.engine.runtime.run_task", str(follow_up[1]), *follow_up[2:])
        else:
            enqueue("django_asl.engine.runtime.advance_execution", str(follow_up[1]))


def run_task(execution_id: Any, entered_event_id: int, attempt: int) -> None:
    """Call the handler of an execution's pending task, then record its result (a django-q2 task)."""
    follow_ups, step = _run_task(execution_id, entered_event_id, attempt)
    _after_commit(follow_ups, inline=True, step=step)


def _heartbeat(execution_id: Any, call: InvokeTask) -> None:
    """Push the task's lease (``wake_at``) forward: the handler is alive."""
    seconds = call.heartbeat_seconds or asl_settings.TASK_LEASE_SECONDS
    Execution.objects.filter(pk=execution_id, status=Status.RUNNING).update(
        wake_at=CLOCK.now() + timedelta(seconds=seconds))


class _Conflict(Exception):
    """The execution changed since this worker last wrote it; take the locked path."""


def _is_attempt(step: Step, entered_event_id: int, attempt: int) -> bool:
    cursor = step.cursor
    return cursor is not None and (cursor.phase, cursor.entered_event_id, cursor.attempt) == (
        TASK, entered_event_id, attempt)


def _call(step: Step, execution_id: Any, attempt: int) -> tuple:
    """Call the pending task's handler; return ("result", value) or ("error", name, cause, timed_out)."""
    call: InvokeTask = step.cursor.pending
    env = step.driver.env(step.cursor)
    try:
        handler = callbacks.handler_for(call.resource) if call.wait_for_token else get_handler(call.resource)
        task_context = TaskContext(env, call.resource, attempt, lambda: _heartbeat(execution_id, call))
        return ("result", call_handler(handler, call, task_context))
    except UnknownResource as exc:
        return ("error", ErrorName.RUNTIME, str(exc), False)
    except StatesError as exc:  # the watchdog's States.Timeout / States.HeartbeatTimeout
        return ("error", exc.name, exc.cause, True)
    except TaskError as exc:
        return ("error", exc.error, exc.cause, False)
    except Exception as exc:  # the handler's own exception, named after its class
        logger.info("Task %s of execution %s failed", call.resource, execution_id, exc_info=True)
        return ("error", type(exc).__name__, str(exc), False)


def _record(step: Step, outcome: tuple) -> None:
    cursor = step.cursor
    if cursor.pending.wait_for_token:
        callbacks.handler_returned(step, outcome)  # the execution now waits for send_task_success & co.
    elif outcome[0] == "result":
        step.settle(step.driver.resume_task(cursor, outcome[1]))
    else:
        step.settle(step.driver.fail_task(cursor, outcome[1], outcome[2], timed_out=outcome[3]))


def _run_task(execution_id: Any, entered_event_id: int, attempt: int, *,
              step: Step | None = None) -> tuple[list[tuple], Step | None]:
    """Run one task attempt and record it; return the follow-ups and the step that recorded it.

    ``step`` is the step this worker just committed for the execution, when the
    task follows directly from it: then nothing is read back, and the result is
    written with a compare-and-set UPDATE (``last_event_id`` unchanged); any
    conflict falls back to the locked path.
    """
    if step is None or step.finished is not None:
        execution = (Execution.objects.select_related("version", "state_machine", "parent").defer(*_PARENT_BULK)
                     .filter(pk=execution_id, status=Status.RUNNING).first())
        if execution is None or not execution.cursor:
            return [], None
        step = Step(execution)
        fresh = False
    else:
        step.follow_ups = []
        fresh = True
    if not _is_attempt(step, entered_event_id, attempt):
        return [], None  # a stale delivery: that attempt was already recorded
    outcome = _call(step, execution_id, attempt)
    if fresh:
        expected = step.execution.last_event_id
        _record(step, outcome)  # in memory: running the machine never writes
        try:
            if step.writes_alone and step.writer.rows and statements.supported():
                rows = step.writer.rows
                # One statement commits by itself; inside a caller's transaction, a savepoint
                # keeps that transaction usable should the statement fail.
                with transaction.atomic() if connection.in_atomic_block else nullcontext():
                    if not statements.update_and_insert(step.execution, step.fields(), expected, rows):
                        raise _Conflict
                step.writer.flushed(rows)
                step.stored_input = step.execution.state_input
            else:
                with transaction.atomic():
                    save_steps([step], expected=expected)
            return step.follow_ups, step
        except (_Conflict, IntegrityError):
            pass
    with transaction.atomic():
        execution = _lock(execution_id)
        if execution is None or not execution.cursor:
            return [], None
        step = Step(execution)
        if not _is_attempt(step, entered_event_id, attempt):
            return [], None
        _record(step, outcome)
        step.save()
    return step.follow_ups, step
