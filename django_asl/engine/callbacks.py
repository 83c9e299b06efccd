"""Callback tasks and activities: Task states that wait for an answer from outside.

Two kinds of Task wait for a callback instead of a handler's return value:

* a ``.waitForTaskToken`` task (``"Resource": "urn:shop:ship.waitForTaskToken"``):
  the handler registered for the resource without the suffix (or for the whole
  string) is called with the state's payload, which usually passes the token on
  (``"token.$": "$$.Task.Token"``); its return value is ignored, and the
  execution waits for ``send_task_success`` or ``send_task_failure``;
* an activity task (``"Resource": "arn:aws:states:<region>:<account>:activity:<name>"``
  or ``"django-asl:activity:<name>"``): no handler; the payload is queued for
  external workers, which take it with ``get_activity_task`` and answer with
  the same calls.

Each task attempt has one ``TaskToken`` row. While it waits, the execution
holds no worker: its ``wake_at`` is the earliest of the task's TimeoutSeconds
deadline (counted from scheduling), its HeartbeatSeconds deadline (counted from
when the token was handed out, then from each ``send_task_heartbeat``), the
execution's own deadline, and, until a ``.waitForTaskToken`` handler has
returned, the handler's lease. The timer loop fails the task with
``States.Timeout`` or ``States.HeartbeatTimeout`` (Retry and Catch apply).

A token is single-use and bound to one attempt: a retry gets a new one, and a
token whose task was answered, timed out, or left behind (the execution ended
or moved on) is refused with ``TaskTimedOut``. Answers lock the execution row,
then the token row, the same order as the timer loop, so they never deadlock
with it; of two answers to one token, one wins and the other gets
``TaskTimedOut``.
"""
from __future__ import annotations

import json
import re
import secrets
import time
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Callable, Mapping

from django.db import transaction
from django.db.models import CharField, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, Concat

from ..asl import Issue
from ..asl.errors import ErrorName
from ..asl.outcomes import InvokeTask
from ..asl.states.task import DEFAULT_TIMEOUT_SECONDS, WAIT_FOR_TASK_TOKEN
from ..conf import asl_settings
from ..exceptions import DjangoAslError
from ..models import Activity, Execution, TaskToken
from . import runtime
from .registry import UnknownResource, get_handler

TokenStatus = TaskToken.Status
OPEN = (TokenStatus.SCHEDULED, TokenStatus.STARTED)

#: Seconds between two looks at the queue while ``get_activity_task`` long-polls.
POLL_INTERVAL = 0.25
#: The longest ``get_activity_task`` waits, as AWS's GetActivityTask (60 seconds).
MAX_WAIT_SECONDS = 60
# How many of the oldest scheduled tasks one claim tries before it looks again.
_CLAIM_BATCH = 20

_ACTIVITY = re.compile(r"(?:arn:aws:states:[^:]*:[^:]*:activity:|django-asl:activity:)(?P<name>[^:]+)")
# What secrets.token_urlsafe() produces (64 characters for the 48 bytes the engine uses).
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")
# AWS: activity names have 1 to 80 characters, none of them whitespace, brackets,
# wildcards, "\"#%\\^|~`$&,;:/" or control characters.
_BAD_NAME_CHARACTER = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")
_MAX_ERROR = 256  # AWS's limits on SendTaskFailure's error and cause
_MAX_CAUSE = 32768


class InvalidToken(DjangoAslError):
    """The task token is malformed."""


class TaskDoesNotExist(DjangoAslError):
    """No task has this token."""


class TaskTimedOut(DjangoAslError):
    """The task of this token no longer waits for an answer."""


class InvalidOutput(DjangoAslError):
    """The task output is not acceptable."""


class ActivityDoesNotExist(DjangoAslError):
    """No activity has this name."""


class ActivityInUse(DjangoAslError):
    """The activity has tasks waiting for a worker or for an answer."""


# -- resources ----------------------------------------------------------------------------------


def activity_name(resource: Any) -> str | None:
    """Return the activity a Task Resource names, or None if it names none.

    ``arn:aws:states:<region>:<account>:activity:<name>`` and
    ``django-asl:activity:<name>`` name the activity ``<name>``.
    """
    if not isinstance(resource, str) or not resource.startswith(("arn:aws:states:", "django-asl:activity:")):
        return None
    match = _ACTIVITY.fullmatch(resource)
    return match.group("name") if match else None


def is_callback(call: InvokeTask) -> bool:
    """Return whether a task waits for a callback (``.waitForTaskToken`` or an activity)."""
    return call.wait_for_token or activity_name(call.resource) is not None


def handler_for(resource: str) -> Callable:
    """Return the handler of a ``.waitForTaskToken`` resource: the one registered for the
    whole string, else for the resource without the suffix; raise ``UnknownResource``."""
    try:
        return get_handler(resource)
    except UnknownResource:
        pass
    base = resource[:-len(WAIT_FOR_TASK_TOKEN)]
    try:
        return get_handler(base)
    except UnknownResource:
        raise UnknownResource(
            f"No task handler is registered for the resource {resource!r} or for {base!r}.") from None


def resource_issues(path: str, resource: str, known: Mapping[str, Any]) -> list[Issue]:
    """Return the issues of a callback Task's Resource at ``path`` (none when it can be reached).

    A ``.waitForTaskToken`` resource needs a handler for itself or for its base
    (``known`` holds the registered resources); an activity resource needs its
    Activity.
    """
    if resource.endswith(WAIT_FOR_TASK_TOKEN):
        base = resource[:-len(WAIT_FOR_TASK_TOKEN)]
        if resource in known or base in known:
            return []
        return [Issue(path, "unknown_resource",
                      f"'{path}' refers to '{resource}', but no handler is registered for '{base}': register one "
                      f"with @django_asl.task({base!r}) or in DJANGO_ASL['TASKS'].")]
    name = activity_name(resource)
    if Activity.objects.filter(name=name).exists():
        return []
    return [Issue(path, "unknown_resource",
                  f"'{path}' refers to the activity '{name}', which does not exist: create it with "
                  f"django_asl.create_activity({name!r}).")]


def is_callback_resource(resource: Any) -> bool:
    """Return whether a Task Resource waits for a callback (checked by ``resource_issues``)."""
    if not isinstance(resource, str):
        return False
    return resource.endswith(WAIT_FOR_TASK_TOKEN) or activity_name(resource) is not None


# -- activities ---------------------------------------------------------------------------------


def create_activity(name: str, description: str = "") -> Activity:
    """Create the activity ``name``, or return it if it exists (updating its description), as AWS does.

    A Task reaches it with ``"Resource": "django-asl:activity:<name>"`` or
    ``"arn:aws:states:<region>:<account>:activity:<name>"``.
    """
    if not isinstance(name, str) or not 1 <= len(name) <= 80 or _BAD_NAME_CHARACTER.search(name):
        raise ValueError(f"An activity name must be a string of 1 to 80 characters without whitespace, brackets, "
                         f"wildcards or any of \"#%\\^|~`$&,;:/, not {name!r}.")
    if not isinstance(description, str):
        raise TypeError(f"An activity description must be a string, not {type(description).__name__}.")
    activity, created = Activity.objects.get_or_create(name=name, defaults={"description": description})
    if not created and description and activity.description != description:
        activity.description = description
        activity.save(update_fields=["description"])
    return activity


def delete_activity(name: str | Activity) -> None:
    """Delete an activity; raise ``ActivityInUse`` while some of its tasks wait for a worker or an answer.

    Ended tasks keep their resource string but lose the link to the activity.
    """
    with transaction.atomic():
        activity = _activity(name, lock=True)
        count = TaskToken.objects.filter(activity=activity, status__in=OPEN,
                                         execution__status=Execution.Status.RUNNING).count()
        if count:
            raise ActivityInUse(f"The activity {activity.name!r} has {count} task(s) waiting for a worker or an "
                                f"answer: stop their executions or answer them first.")
        TaskToken.objects.filter(activity=activity, status__in=OPEN).update(
            status=TokenStatus.CLOSED, closed_at=runtime.CLOCK.now(), token=_NEVER_ISSUED)
        TaskToken.objects.filter(activity=activity).update(activity=None)
        activity.delete()


def list_activities() -> QuerySet:
    """Return every activity, by name."""
    return Activity.objects.order_by("name")


def _activity(activity: str | Activity, *, lock: bool = False) -> Activity:
    if isinstance(activity, Activity):
        activity = activity.name
    if not isinstance(activity, str):
        raise TypeError(f"An activity is an Activity or its name, not {type(activity).__name__}.")
    queryset = Activity.objects.select_for_update() if lock else Activity.objects
    try:
        return queryset.get(name=activity)
    except Activity.DoesNotExist:
        raise ActivityDoesNotExist(f"There is no activity named {activity!r}.") from None


def get_activity_task(activity: str | Activity, worker_name: str = "",
                      wait_seconds: float = MAX_WAIT_SECONDS) -> dict | None:
    """Claim the oldest task scheduled for ``activity``: return ``{"task_token", "input"}``, or None.

    Waits up to ``wait_seconds`` (0 to 60) for a task to arrive, looking every
    ``POLL_INTERVAL`` seconds. The claim records TaskStarted in the execution's
    history and starts the HeartbeatSeconds clock; answer with
    ``send_task_success``, ``send_task_failure`` and ``send_task_heartbeat``.
    Two workers never get the same task.
    """
    activity = _activity(activity)
    if not isinstance(worker_name, str) or len(worker_name) > 80:
        raise ValueError(f"get_activity_task(): worker_name must be a string of at most 80 characters, "
                         f"not {worker_name!r}.")
    if isinstance(wait_seconds, bool) or not isinstance(wait_seconds, (int, float)) \
            or not 0 <= wait_seconds <= MAX_WAIT_SECONDS:
        raise ValueError(f"get_activity_task(): wait_seconds must be a number from 0 to {MAX_WAIT_SECONDS}, "
                         f"not {wait_seconds!r}.")
    give_up = time.monotonic() + wait_seconds
    while True:
        claimed = _claim(activity, worker_name)
        if claimed is not None:
            return claimed
        left = give_up - time.monotonic()
        if left <= 0:
            return None
        time.sleep(min(POLL_INTERVAL, left))


def _claim(activity: Activity, worker_name: str) -> dict | None:
    """Claim one scheduled task of ``activity`` in its own transaction, or return None."""
    candidates = list(TaskToken.objects.filter(activity=activity, status=TokenStatus.SCHEDULED)
                      .order_by("created_at", "pk").values_list("pk", "execution_id")[:_CLAIM_BATCH])
    for pk, execution_id in candidates:
        follow_ups: list[tuple] = []
        claimed = None
        with transaction.atomic():
            # The execution first, then the token: the order of the timer loop and of answers.
            execution = _lock_execution(execution_id, skip_locked=True)
            task = None if execution is None else (
                TaskToken.objects.select_for_update(skip_locked=True).filter(pk=pk, status=TokenStatus.SCHEDULED)
                .first())
            if task is None:
                continue  # another worker holds it, or took it meanwhile
            now = runtime.CLOCK.now()
            step = _waiting_step(execution, task)
            if step is None:  # the execution ended or moved on: nobody waits for this task
                _close(task.pk, TokenStatus.CLOSED, now)
                continue
            if _expire(step, task, now) is not None:
                step.save()
                follow_ups = step.follow_ups
            else:
                token = secrets.token_urlsafe(48)  # as Context.new_task_token
                task.token, task.status, task.worker_name = token, TokenStatus.STARTED, worker_name
                task.claimed_at = task.heartbeat_at = now
                task.save(update_fields=["token", "status", "worker_name", "claimed_at", "heartbeat_at"])
                call = step.cursor.pending
                state = step.machine.states[step.cursor.state]
                step.writer.add(state.events[1], {"resource": call.resource, "worker_name": worker_name})
                step.execution.wake_at = _wake_at(step, call, task, now)
                step.save()
                claimed = {"task_token": token, "input": task.input}
        if claimed is not None:
            return claimed
        runtime._after_commit(follow_ups)  # it timed out: what follows is queued
    return None


# -- answers ------------------------------------------------------------------------------------


def send_task_success(token: str, output: Any) -> None:
    """Complete the task of ``token`` with ``output``; the execution goes on (queued after commit).

    ``output`` is a JSON text when it is a ``str`` (as AWS's SendTaskSuccess
    takes it: pass ``'"done"'`` for the string ``done``), any other value is
    the output itself. Raise ``InvalidToken``, ``TaskDoesNotExist``,
    ``TaskTimedOut`` or ``InvalidOutput``.
    """
    def answer(step: runtime.Step, task: TaskToken) -> None:
        value = _check_output(output)
        _started(step, task)
        step.settle(step.driver.resume_task(step.cursor, value))
        _later(step, _close, task.pk, TokenStatus.SUCCEEDED)

    _answer("send_task_success", token, answer)


def send_task_failure(token: str, error: str | None = None, cause: str | None = None) -> None:
    """Fail the task of ``token`` with ``error`` (default ``States.TaskFailed``) and ``cause``.

    Retry and Catch of the Task state apply to ``error``. Raise
    ``InvalidToken``, ``TaskDoesNotExist`` or ``TaskTimedOut``.
    """
    for label, value, limit in (("error", error, _MAX_ERROR), ("cause", cause, _MAX_CAUSE)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"send_task_failure(): {label} must be a string or None, not {type(value).__name__}.")
        if value is not None and len(value) > limit:
            raise ValueError(f"send_task_failure(): {label} has {len(value)} characters; the limit is {limit}.")
    if error == "":
        raise ValueError("send_task_failure(): error must not be empty (leave it out for States.TaskFailed).")

    def answer(step: runtime.Step, task: TaskToken) -> None:
        _started(step, task)
        step.settle(step.driver.fail_task(step.cursor, error or ErrorName.TASK_FAILED, cause))
        _later(step, _close, task.pk, TokenStatus.FAILED)

    _answer("send_task_failure", token, answer)


def send_task_heartbeat(token: str) -> None:
    """Tell the task of ``token`` its worker is alive: its HeartbeatSeconds clock starts again.

    Raise ``InvalidToken``, ``TaskDoesNotExist`` or ``TaskTimedOut``.
    """
    def answer(step: runtime.Step, task: TaskToken) -> None:
        now = runtime.CLOCK.now()
        task.heartbeat_at = now
        _later(step, _heartbeat, task.pk, now)
        step.execution.wake_at = _wake_at(step, step.cursor.pending, task, now)

    _answer("send_task_heartbeat", token, answer)


def _answer(caller: str, token: Any, answer: Callable[[runtime.Step, TaskToken], None]) -> None:
    """Check ``token``, then ``answer`` its waiting task in one transaction and queue what follows."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        shown = f"a {type(token).__name__}" if not isinstance(token, str) else f"{len(token)} characters"
        raise InvalidToken(f"{caller}(): the task token is malformed ({shown}): a token is the 16 to 128 letters, "
                           f"digits, '-' and '_' a task received as $$.Task.Token or from get_activity_task().")
    found = TaskToken.objects.filter(token=token).values_list("pk", "execution_id").first()
    if found is None:
        raise TaskDoesNotExist(f"{caller}(): no task has the token {_shorten(token)}.")
    problem = None
    with transaction.atomic():
        # The execution first, then the token: the order of the timer loop, so the two never deadlock.
        execution = _lock_execution(found[1])
        task = TaskToken.objects.select_for_update().get(pk=found[0])
        now = runtime.CLOCK.now()
        where = f"The task {task.state_name!r} (attempt {task.attempt + 1}) of execution {task.execution_id}"
        step = _waiting_step(execution, task) if task.status == TokenStatus.STARTED else None
        if step is None:
            problem = _refusal(where, task, execution)
            if task.status in OPEN:
                _close(task.pk, TokenStatus.CLOSED, now)
        else:
            expired = _expire(step, task, now)
            if expired is not None:
                problem = f"{where} timed out ({expired}) before this call."
            else:
                answer(step, task)
            step.save()
    if step is not None:
        runtime._after_commit(step.follow_ups)  # queued, not run here: the caller is often a web request
    if problem is not None:
        raise TaskTimedOut(f"{caller}(): {problem}")


def _refusal(where: str, task: TaskToken, execution: Execution | None) -> str:
    """Say why a token's task no longer waits."""
    if task.status in (TokenStatus.SUCCEEDED, TokenStatus.FAILED):
        return f"{where} was already answered ({task.status.lower()}); a token is used once."
    if task.status == TokenStatus.TIMED_OUT:
        return f"{where} timed out before this call."
    if execution is None or execution.status != Execution.Status.RUNNING:
        status = execution.status if execution is not None else "deleted"
        return f"{where} no longer waits: the execution has ended ({status})."
    return f"{where} no longer waits: the execution ended or left the state."


def _started(step: runtime.Step, task: TaskToken) -> None:
    """Record TaskStarted if the handler has not returned yet: it answered before it returned."""
    if task.claimed_at is None:
        step.driver.task_started(step.cursor)


def _check_output(output: Any) -> Any:
    """Return the task output as a value: parsed if it is JSON text; raise ``InvalidOutput``."""
    if isinstance(output, str):
        try:
            output = json.loads(output, parse_constant=_no_constant)
        except ValueError as exc:
            raise InvalidOutput(f"send_task_success(): output is a str, so it must be JSON text "
                                f"(pass '\"text\"' for a string): {exc}.") from None
    try:
        text = json.dumps(output, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise InvalidOutput(f"send_task_success(): output must be a JSON value: {exc}.") from None
    size, limit = len(text.encode("utf-8", "surrogatepass")), asl_settings.MAX_PAYLOAD_BYTES
    if size > limit:
        raise InvalidOutput(f"send_task_success(): output is {size} bytes; the limit is {limit} bytes.")
    return output


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _shorten(token: str) -> str:
    """Return the start of a token: enough to find it in logs, too little to use it."""
    return f"'{token[:8]}...'"


# -- the engine's side: scheduling, waking, recording -------------------------------------------


def schedule(step: runtime.Step, call: InvokeTask, now: datetime) -> Any:
    """Make a locked step wait for a callback task; return a suspension to settle instead, or None.

    Asks for the task's ``TaskToken`` row (inserted when the step is saved):
    STARTED with the cursor's token for ``.waitForTaskToken``, whose handler is
    called after commit; SCHEDULED with the payload for an activity. The
    history has TaskScheduled; TaskStarted comes when the handler returns or a
    worker claims the task.
    """
    execution, cursor = step.execution, step.cursor
    task = TaskToken(execution_id=execution.pk, entered_event_id=cursor.entered_event_id, attempt=cursor.attempt,
                     state_name=cursor.state, resource=call.resource[:2048],
                     heartbeat_seconds=call.heartbeat_seconds, created_at=now)
    if call.wait_for_token:
        task.token, task.status = cursor.task_token, TokenStatus.STARTED
        step.follow_ups.append(("task", execution.pk, cursor.entered_event_id, cursor.attempt))
    else:
        name = activity_name(call.resource)
        task.activity_id = Activity.objects.filter(name=name).values_list("pk", flat=True).first()
        if task.activity_id is None:  # deleted since the definition was published
            return step.driver.fail_task(cursor, ErrorName.RUNTIME, f"The activity '{name}' does not exist.")
        task.input, task.status = call.payload, TokenStatus.SCHEDULED
    _later(step, task.save, force_insert=True)
    execution.wake_at = _wake_at(step, call, task, now)
    return None


def wake(step: runtime.Step, now: datetime) -> None:
    """Advance a locked step whose callback task is due: time it out, or call its handler again.

    The timer loop calls this when ``wake_at`` comes. Past TimeoutSeconds the
    task fails with ``States.Timeout``, past HeartbeatSeconds with
    ``States.HeartbeatTimeout``; a ``.waitForTaskToken`` handler that did not
    return within its lease is called again (delivery is at-least-once).
    """
    cursor = step.cursor
    call: InvokeTask = cursor.pending
    task = _task_of(step)
    if task is None or task.status not in OPEN:  # cannot happen unless rows were removed by hand
        step.settle(step.driver.fail_task(cursor, ErrorName.RUNTIME, "The task's callback record is missing."))
        return
    if _expire(step, task, now) is not None:
        return
    if call.wait_for_token and task.claimed_at is None:
        step.follow_ups.append(("task", step.execution.pk, cursor.entered_event_id, cursor.attempt))
    step.execution.wake_at = _wake_at(step, call, task, now)


def handler_returned(step: runtime.Step, outcome: tuple) -> None:
    """Record what a ``.waitForTaskToken`` handler did (``runtime._call``'s outcome).

    An exception fails the task as for any handler. A return (its value is
    ignored, as on AWS) records TaskStarted once and starts the callback wait.
    """
    cursor = step.cursor
    task = _task_of(step)
    if outcome[0] != "result":
        if task is not None and task.status in OPEN:
            _later(step, _close, task.pk, TokenStatus.TIMED_OUT if outcome[3] else TokenStatus.CLOSED)
        step.settle(step.driver.fail_task(cursor, outcome[1], outcome[2], timed_out=outcome[3]))
        return
    if task is None or task.status != TokenStatus.STARTED or task.claimed_at is not None:
        return  # an earlier delivery of this attempt returned first
    now = runtime.CLOCK.now()
    step.driver.task_started(cursor)
    task.claimed_at = now
    task.heartbeat_at = task.heartbeat_at or now
    _later(step, _delivered, task.pk, now)
    step.execution.wake_at = _wake_at(step, cursor.pending, task, now)


def _later(step: runtime.Step, write: Callable, *args: Any, **kwargs: Any) -> None:
    """Ask a step to make a token write when it is saved: running the machine never writes."""
    step.writes.append(partial(write, *args, **kwargs))


def _delivered(pk: int, now: datetime) -> None:
    TaskToken.objects.filter(pk=pk, claimed_at__isnull=True).update(
        claimed_at=now, heartbeat_at=Coalesce("heartbeat_at", Value(now)))


def _heartbeat(pk: int, now: datetime) -> None:
    TaskToken.objects.filter(pk=pk).update(heartbeat_at=now)


def close_tokens(execution: Execution) -> None:
    """Close the open tokens of an ending execution and of its branches and iterations."""
    ids = level = [execution.pk]
    while level:
        level = list(Execution.objects.filter(parent_id__in=level).values_list("pk", flat=True))
        ids = ids + level
    TaskToken.objects.filter(execution_id__in=ids, status__in=OPEN).update(
        status=TokenStatus.CLOSED, closed_at=runtime.CLOCK.now(), token=_NEVER_ISSUED)


def _close(pk: int, status: str, now: datetime | None = None) -> None:
    TaskToken.objects.filter(pk=pk, status__in=OPEN).update(
        status=status, closed_at=now or runtime.CLOCK.now(), token=_NEVER_ISSUED)


# A task closed before a worker claimed it never had a token, but only SCHEDULED rows may lack one
# (constraint django_asl_tasktoken_issued): it gets one nobody ever saw, unique and too short to be accepted.
_NEVER_ISSUED = Coalesce("token", Concat(Value("unissued-"), Cast("id", CharField())))


def _lock_execution(execution_id: Any, *, skip_locked: bool = False) -> Execution | None:
    """Return the execution (running or not) locked for update; None if gone, or held with ``skip_locked``."""
    return runtime.locked_executions(skip_locked=skip_locked).filter(pk=execution_id).first()


def _waiting_step(execution: Execution | None, task: TaskToken) -> runtime.Step | None:
    """Return a step on ``execution`` if it still waits for ``task``'s attempt, else None."""
    if execution is None or execution.status != Execution.Status.RUNNING or not execution.cursor:
        return None
    step = runtime.Step(execution)
    return step if runtime._is_attempt(step, task.entered_event_id, task.attempt) else None


def _task_of(step: runtime.Step) -> TaskToken | None:
    cursor = step.cursor
    return TaskToken.objects.filter(execution_id=step.execution.pk, entered_event_id=cursor.entered_event_id,
                                    attempt=cursor.attempt).first()


def _deadlines(call: InvokeTask, task: TaskToken) -> list[tuple[datetime, str]]:
    """Return the task's deadlines and the error each one raises, TimeoutSeconds first."""
    found = []
    # Spec, "Task State": TimeoutSeconds defaults to 99999999, which here means no deadline at all.
    if call.timeout_seconds and call.timeout_seconds < DEFAULT_TIMEOUT_SECONDS:
        found.append((task.created_at + timedelta(seconds=call.timeout_seconds), ErrorName.TIMEOUT))
    if call.heartbeat_seconds and task.heartbeat_at is not None:
        found.append((task.heartbeat_at + timedelta(seconds=call.heartbeat_seconds), ErrorName.HEARTBEAT_TIMEOUT))
    return found


def _expire(step: runtime.Step, task: TaskToken, now: datetime) -> str | None:
    """Time out a locked step's task (or its execution) if a deadline has passed; return the error name."""
    deadline = step.deadline
    if deadline is not None and now >= deadline:
        step.time_out()
        return ErrorName.TIMEOUT
    for moment, error in _deadlines(step.cursor.pending, task):
        if now >= moment:
            _later(step, _close, task.pk, TokenStatus.TIMED_OUT)
            step.settle(step.driver.fail_task(step.cursor, error, None, timed_out=True))
            return error
    return None


def _wake_at(step: runtime.Step, call: InvokeTask, task: TaskToken, now: datetime) -> datetime | None:
    """Return when the timer loop must look at a waiting callback task again, or None for never."""
    times = [moment for moment, _ in _deadlines(call, task)]
    if call.wait_for_token and task.claimed_at is None:  # the handler's lease, as for any handler
        times.append(now + timedelta(seconds=asl_settings.TASK_LEASE_SECONDS))
    deadline = step.deadline
    if deadline is not None:
        times.append(deadline)
    return min(times) if times else None
