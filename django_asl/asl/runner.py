"""The in-memory runner: a thin loop over the states' step function.

``run`` drives a machine to its end in the calling process. It acts on each
outcome a state returns: it moves the (virtual) clock for waits and retry
intervals, calls task handlers, runs Parallel branches and Map iterations
one after the other, and answers Message states from ``messages``. History
events are numbered the way Step Functions numbers them, because AWS's cause
texts quote those numbers.
"""
from __future__ import annotations

import inspect
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from .context import Context, Env, SystemClock
from .definition import StateMachine, parse_definition
from .errors import ErrorName, StatesError, TaskError
from .driver import Cursor, Done, Driver, ForkTally, Suspension, WaitUntil
from .outcomes import AwaitMessage, Fail, ForkBranches, ForkItems, InvokeTask, Succeed
from .states.base import state_cause
from .states.message import correlation_digest

DEFAULT_MAX_TRANSITIONS = 1_000_000
# Limits at or above this are "no limit" for an in-process handler: no watchdog thread.
_NO_LIMIT = 99_999_999


@dataclass
class Result:
    """The end of an execution: ``status`` ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"),
    ``output`` (for SUCCEEDED), ``error`` and ``cause`` (otherwise), and ``history``,
    the list of events named like Step Functions history events."""

    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    history_log: Any = None
    execution_id: str = ""
    start_date: datetime | None = None
    stop_date: datetime | None = None

    @property
    def history(self) -> list[dict]:
        """Return the history events, oldest first."""
        if self.history_log is None:
            return []
        if not isinstance(self.history_log, list):
            self.history_log = self.history_log.events
        return self.history_log

    def as_dict(self) -> dict:
        return {"execution_id": self.execution_id, "status": self.status, "output": self.output,
                "error": self.error, "cause": self.cause}


class TaskContext:
    """What a task handler receives besides its input.

    ``idempotency_key`` is stable across redeliveries of one attempt and
    differs between attempts: delivery is at-least-once.
    """

    __slots__ = ("resource", "attempt", "_env", "_on_heartbeat")

    def __init__(self, env: Env, resource: str, attempt: int, on_heartbeat: Callable[[], None] | None = None) -> None:
        self.resource = resource
        self.attempt = attempt
        self._env = env
        self._on_heartbeat = on_heartbeat

    @property
    def state_name(self) -> str:
        return self._env.state_name

    @property
    def execution_id(self) -> str:
        return self._env.context.execution_id

    @property
    def task_token(self) -> str | None:
        return self._env.task_token

    @property
    def context_object(self) -> dict:
        """Return ``$$`` as the state sees it."""
        return self._env.context_object

    @property
    def idempotency_key(self) -> str:
        env = self._env
        return f"{env.context.execution_id}/{env.state_name}/{env.entered_event_id}/{self.attempt}"

    def heartbeat(self) -> None:
        """Tell the runner the task is still alive (resets ``HeartbeatSeconds``)."""
        if self._on_heartbeat is not None:
            self._on_heartbeat()


class History:
    """Numbered events, recorded (or only counted) as the execution runs.

    Events are kept as tuples while the machine runs and become dicts
    (``{"id", "type", "timestamp", "details"}``) only when ``events`` is read.
    """

    __slots__ = ("_records", "record", "last_id", "clock")

    def __init__(self, clock: Any, record: bool) -> None:
        self._records: list[tuple] = []
        self.record = record
        self.last_id = 0
        self.clock = clock

    def add(self, event_type: str, details: dict | None = None) -> int:
        self.last_id += 1
        if self.record:
            self._records.append((self.last_id, event_type, self.clock.now(), details))
        return self.last_id

    @property
    def events(self) -> list[dict]:
        return [{"id": event_id, "type": event_type, "timestamp": moment, "details": details or {}}
                for event_id, event_type, moment, details in self._records]


class ExecutionTimedOut(Exception):
    """The execution ran past its TimeoutSeconds."""


class _Runner:
    """Satisfies a driver's suspensions at once: clock moves, handler calls, child runs."""

    def __init__(self, context: Context, tasks: Mapping[str, Callable], real_time: bool, record: bool,
                 max_transitions: int, deadline: datetime | None,
                 messages: Callable[[str, Any], Any] | None = None) -> None:
        self.context = context
        self.tasks = tasks
        self.messages = messages
        self.real_time = real_time
        self.history = History(context.clock, record)
        self.budget = [max_transitions]
        self.deadline = deadline

    def wait_until(self, moment: datetime) -> None:
        if self.deadline is not None and moment > self.deadline:
            self._move_clock(self.deadline)
            raise ExecutionTimedOut
        self._move_clock(moment)

    def _move_clock(self, moment: datetime) -> None:
        clock = self.context.clock
        if self.real_time:
            delay = (moment - clock.now()).total_seconds()
            if delay > 0:
                time.sleep(delay)
        if hasattr(clock, "advance_to"):
            clock.advance_to(moment)

    def run_machine(self, machine: StateMachine, data: Any, variables: dict | None = None) -> Succeed | Fail:
        """Run ``machine`` from its StartAt on ``data`` (with the outer ``variables``) until it ends."""
        driver = Driver(machine, self.context, self.history.add, self.budget)
        cursor = driver.start(data, variables)
        suspension = driver.advance(cursor)
        while True:
            kind = type(suspension)
            if kind is Done:
                return suspension.end
            if self.deadline is not None and self.context.now() >= self.deadline:
                raise ExecutionTimedOut
            if kind is InvokeTask:
                suspension = self.invoke(driver, cursor, suspension)
            elif kind is WaitUntil:
                self.wait_until(suspension.until)
                suspension = driver.resume_timer(cursor)
            elif kind is AwaitMessage:
                suspension = self.receive(driver, cursor, suspension)
            else:
                suspension = driver.resume_fork(cursor, self.run_children(machine.states[cursor.state], suspension))

    def invoke(self, driver: Driver, cursor: Cursor, call: InvokeTask):
        driver.task_started(cursor)
        handler = self.tasks.get(call.resource)
        if handler is None:
            return driver.fail_task(cursor, ErrorName.RUNTIME,
                                    f"No handler is registered for the resource '{call.resource}'.")
        try:
            result = call_handler(handler, call, TaskContext(driver.env(cursor), call.resource, cursor.attempt))
        except StatesError as exc:  # the watchdog's timeouts
            return driver.fail_task(cursor, exc.name, exc.cause, timed_out=True)
        except TaskError as exc:
            return driver.fail_task(cursor, exc.error, exc.cause)
        except Exception as exc:  # a handler's own exception: named after its class, as Lambda does
            return driver.fail_task(cursor, type(exc).__name__, str(exc))
        return driver.resume_task(cursor, result)

    def receive(self, driver: Driver, cursor: Cursor, wait: AwaitMessage) -> Suspension:
        """Deliver the message ``messages`` has for a Message state, or wait for its timeout."""
        if self.messages is not None:
            try:
                data = self.messages(wait.correlation_key, wait.correlation_value)
            except LookupError:
                pass
            else:
                return driver.resume_message(cursor, data)
        if wait.until is None:
            return Done(Fail(ErrorName.RUNTIME, state_cause(driver.env(cursor), (
                f"The Message state waits for CorrelationKey '{wait.correlation_key}' without TimeoutSeconds, "
                "and no message can arrive in an in-memory run: pass run(..., messages=...)."))))
        self.wait_until(wait.until)
        return driver.message_timed_out(cursor)

    def run_children(self, state: Any, fork: ForkBranches | ForkItems) -> ForkTally:
        """Run a Parallel state's branches or a Map state's iterations one after the other."""
        tally = ForkTally(fork)
        add = self.history.add
        if type(fork) is ForkBranches:
            for index, branch in enumerate(fork.branches):
                if not tally.record(index, self.run_machine(branch, fork.input, fork.variables)):
                    break
            return tally
        for index, item in enumerate(fork.items):
            add("MapIterationStarted", {"name": state.name, "index": index})
            end = self.run_machine(fork.processor, item, fork.variables)
            add("MapIterationSucceeded" if type(end) is Succeed else "MapIterationFailed",
                {"name": state.name, "index": index})
            if not tally.record(index, end):
                break
        return tally


@lru_cache(maxsize=1024)
def takes_context(handler: Callable) -> bool:
    """Return whether a handler accepts a second argument, the ``TaskContext``.

    Handlers may be written ``handler(input)`` or ``handler(input, context)``.
    """
    try:
        parameters = list(inspect.signature(handler).parameters.values())
    except (TypeError, ValueError):  # a builtin without a signature: give it both
        return True
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return True
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2


def call_handler(handler: Callable, call: InvokeTask, task_context: TaskContext) -> Any:
    """Call a task handler; with a timeout or heartbeat, watch it from this thread.

    The handler gets a copy of the payload (it may change it freely). With
    ``TimeoutSeconds`` or ``HeartbeatSeconds`` it runs in a daemon thread that
    is abandoned, not killed, when it overruns: ``States.Timeout`` or
    ``States.HeartbeatTimeout``.
    """
    arguments = (_clone(call.payload), task_context) if takes_context(handler) else (_clone(call.payload),)
    timeout = call.timeout_seconds
    heartbeat = call.heartbeat_seconds
    if (timeout is None or timeout >= _NO_LIMIT) and heartbeat is None:
        return handler(*arguments)
    outcome: dict = {}
    done = threading.Event()
    beats = [time.monotonic()]
    task_context._on_heartbeat = lambda: beats.append(time.monotonic())

    def target() -> None:
        try:
            outcome["result"] = handler(*arguments)
        except BaseException as exc:  # handed back to the calling thread
            outcome["error"] = exc
        finally:
            done.set()

    started = time.monotonic()
    threading.Thread(target=target, daemon=True, name=f"asl-task-{task_context.state_name}").start()
    while not done.is_set():
        now = time.monotonic()
        waits = []
        if timeout is not None:
            waits.append(started + timeout - now)
        if heartbeat is not None:
            waits.append(beats[-1] + heartbeat - now)
        if min(waits) <= 0:
            if timeout is not None and now - started >= timeout:
                raise StatesError(ErrorName.TIMEOUT, None)
            raise StatesError(ErrorName.HEARTBEAT_TIMEOUT, None)
        done.wait(min(waits))
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _clone(value: Any) -> Any:
    """Return a deep copy of a JSON value (handlers may change what they are given)."""
    kind = type(value)
    if kind is dict:
        return {key: _clone(item) for key, item in value.items()}
    if kind is list:
        return [_clone(item) for item in value]
    return value


def run(
    definition: Any,
    input: Any = None,
    *,
    tasks: Mapping[str, Callable] | None = None,
    context: Context | None = None,
    real_time: bool = False,
    record_history: bool = True,
    max_transitions: int = DEFAULT_MAX_TRANSITIONS,
    messages: Mapping[tuple[str, Any], Any] | Callable[[str, Any], Any] | None = None,
) -> Result:
    """Run a state machine in this process and return its ``Result``.

    ``definition`` is a dict, JSON or YAML text, or a parsed ``StateMachine``;
    ``input`` the execution input (``None`` means ``{}``, as on AWS); ``tasks``
    maps each Task ``Resource`` to a handler ``handler(input, context)``.
    Waits and retry intervals move a virtual clock unless ``real_time`` is
    true. Raise ``DefinitionError`` for an invalid definition.

    ``messages`` answers Message states (a django-asl extension): a mapping
    ``{(correlation_key, correlation_value): data}``, or a callable
    ``messages(correlation_key, correlation_value)`` that returns the data or
    raises ``LookupError`` when there is none. Every wait is looked up (nothing
    is used up). A Message state with no message waits for its TimeoutSeconds
    (``States.Timeout``), or, without one, fails with ``States.Runtime``.
    """
    machine = parse_definition(definition)
    lookup = _message_lookup(messages)
    if context is None:
        context = Context(clock=SystemClock() if real_time else None)
    if input is None:
        input = {}
    context.execution_input = input
    deadline = None
    if machine.timeout_seconds is not None:
        deadline = context.start_time + timedelta(seconds=machine.timeout_seconds)
    runner = _Runner(context, tasks or {}, real_time, record_history, max_transitions, deadline, lookup)
    history = runner.history
    history.add("ExecutionStarted", {"input": input})
    try:
        end = runner.run_machine(machine, input)
    except ExecutionTimedOut:
        history.add("ExecutionTimedOut", {"error": ErrorName.TIMEOUT})
        return Result("TIMED_OUT", None, ErrorName.TIMEOUT, None, history, context.execution_id,
                      context.start_time, context.now())
    if type(end) is Succeed:
        history.add("ExecutionSucceeded", {"output": end.output})
        return Result("SUCCEEDED", end.output, None, None, history, context.execution_id,
                      context.start_time, context.now())
    history.add("ExecutionFailed", {"error": end.error, "cause": end.cause})
    return Result("FAILED", None, end.error, end.cause, history, context.execution_id,
                  context.start_time, context.now())


def _message_lookup(messages: Any) -> Callable[[str, Any], Any] | None:
    """Return ``run``'s ``messages`` argument as a callable ``(key, value) -> data`` raising LookupError."""
    if messages is None or (callable(messages) and not isinstance(messages, Mapping)):
        return messages
    if not isinstance(messages, Mapping):
        raise TypeError(f"messages must be a mapping {{(correlation_key, correlation_value): data}} or a "
                        f"callable, not {type(messages).__name__}.")
    by_digest = {}
    for key in messages:
        if not (isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], str)):
            raise TypeError(f"Each key of messages must be a tuple (correlation_key, correlation_value) with a "
                            f"string correlation key, not {key!r}.")
        by_digest[correlation_digest(*key)] = messages[key]

    def lookup(correlation_key: str, correlation_value: Any) -> Any:
        return by_digest[correlation_digest(correlation_key, correlation_value)]

    return lookup
