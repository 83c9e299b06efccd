"""The in-memory runner: a thin loop over the states' step function.

``run`` drives a machine to its end in the calling process. It acts on each
outcome a state returns: it moves the (virtual) clock for waits and retry
intervals, calls task handlers, and runs Parallel branches and Map iterations
one after the other. History events are numbered the way Step Functions
numbers them, because AWS's cause texts quote those numbers.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from .context import Context, Env, SystemClock
from .definition import StateMachine, parse_definition
from .errors import ErrorName, StatesError, TaskError
from .outcomes import Fail, ForkBranches, ForkItems, InvokeTask, Next, Retry, Succeed, Wait
from .states.base import State
from .states.map import tolerance_exceeded

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
    def __init__(self, context: Context, tasks: Mapping[str, Callable], real_time: bool, record: bool,
                 max_transitions: int, deadline: datetime | None) -> None:
        self.context = context
        self.tasks = tasks
        self.real_time = real_time
        self.history = History(context.clock, record)
        self.transitions_left = max_transitions
        self.deadline = deadline

    # -- time -----------------------------------------------------------------------

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

    # -- the loop -------------------------------------------------------------------

    def run_machine(self, machine: StateMachine, data: Any, *, map_item: tuple | None = None) -> Succeed | Fail:
        """Run ``machine`` from its StartAt on ``data`` until it succeeds or fails."""
        add = self.history.add
        states = machine.states
        name = machine.start_at
        while True:
            self.transitions_left -= 1
            if self.transitions_left < 0:
                return Fail(ErrorName.RUNTIME, "The execution exceeded the maximum number of state transitions.")
            if self.deadline is not None and self.context.now() >= self.deadline:
                raise ExecutionTimedOut
            state = states[name]
            entered = add(state.entered_event, {"name": name, "input": data})
            env = Env(self.context, name, entered_time=self.context.now(), entered_event_id=entered)
            outcome = self.settle(state, data, env)
            if type(outcome) is Next:
                if state.exited_event:
                    add(state.exited_event, {"name": name, "output": outcome.output})
                name = outcome.state
                data = outcome.output
                continue
            if type(outcome) is Succeed and state.exited_event:
                add(state.exited_event, {"name": name, "output": outcome.output})
            return outcome

    def settle(self, state: State, data: Any, env: Env):
        """Step ``state`` and act on its outcomes until it leaves: Next, Succeed or Fail."""
        outcome = state.step(data, env)
        attempt = 0
        while True:
            kind = type(outcome)
            if kind is Next or kind is Succeed or kind is Fail:
                return outcome
            if kind is Wait:
                self.wait_until(outcome.until)
                outcome = outcome.then
            elif kind is Retry:
                self.wait_until(self.context.now() + timedelta(seconds=outcome.delay))
                env.retry_counts = outcome.retry_counts
                env._object = None
                attempt += 1
                outcome = state.step(data, env)
            elif kind is InvokeTask:
                outcome = self.invoke(state, data, env, outcome, attempt)
            elif kind is ForkBranches:
                outcome = self.run_branches(state, data, env, outcome)
            elif kind is ForkItems:
                outcome = self.run_items(state, data, env, outcome)
            else:  # pragma: no cover - every outcome type is handled above
                raise TypeError(f"Unknown outcome {outcome!r}")

    # -- tasks ----------------------------------------------------------------------

    def invoke(self, state: Any, data: Any, env: Env, call: InvokeTask, attempt: int):
        scheduled, started, succeeded, failed, timed_out = state.events
        add = self.history.add
        add(scheduled, {"resource": call.resource, "parameters": call.payload,
                        "timeout_seconds": call.timeout_seconds})
        add(started, {"resource": call.resource})
        handler = self.tasks.get(call.resource)
        if handler is None:
            error, cause = ErrorName.RUNTIME, f"No handler is registered for the resource '{call.resource}'."
            add(failed, {"error": error, "cause": cause})
            return state.on_error(data, error, cause, env)
        try:
            result = self.call_handler(handler, call, TaskContext(env, call.resource, attempt))
        except StatesError as exc:  # timeouts
            add(timed_out, {"error": exc.name, "cause": exc.cause})
            return state.fail_task(data, exc.name, exc.cause, env)
        except TaskError as exc:
            add(failed, {"error": exc.error, "cause": exc.cause})
            return state.fail_task(data, exc.error, exc.cause, env)
        except Exception as exc:  # a handler's own exception: named after its class, as Lambda does
            error, cause = type(exc).__name__, str(exc)
            add(failed, {"error": error, "cause": cause})
            return state.fail_task(data, error, cause, env)
        add(succeeded, {"output": result})
        return state.complete(data, result, env)

    def call_handler(self, handler: Callable, call: InvokeTask, task_context: TaskContext) -> Any:
        """Call the handler; with a timeout or heartbeat, watch it from this thread.

        The handler runs in a daemon thread that is abandoned (not killed) when
        it overruns: ``States.Timeout`` or ``States.HeartbeatTimeout``.
        """
        timeout = call.timeout_seconds
        heartbeat = call.heartbeat_seconds
        if (timeout is None or timeout >= _NO_LIMIT) and heartbeat is None:
            return handler(_clone(call.payload), task_context)
        outcome: dict = {}
        done = threading.Event()
        beats = [time.monotonic()]
        task_context._on_heartbeat = lambda: beats.append(time.monotonic())

        def target() -> None:
            try:
                outcome["result"] = handler(_clone(call.payload), task_context)
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

    # -- Parallel and Map ---------------------------------------------------------------

    def run_branches(self, state: Any, data: Any, env: Env, fork: ForkBranches):
        add = self.history.add
        add("ParallelStateStarted")
        results = []
        for branch in fork.branches:
            end = self.run_machine(branch, fork.input)
            if type(end) is Fail:
                add("ParallelStateFailed", {"error": end.error, "cause": end.cause})
                return state.fail_fork(data, end.error, end.cause, env)
            results.append(end.output)
        add("ParallelStateSucceeded")
        return state.complete(data, results, env)

    def run_items(self, state: Any, data: Any, env: Env, fork: ForkItems):
        add = self.history.add
        add("MapStateStarted", {"length": len(fork.items)})
        results = []
        failures = 0
        total = len(fork.items)
        for index, item in enumerate(fork.items):
            add("MapIterationStarted", {"name": state.name, "index": index})
            end = self.run_machine(fork.processor, item)
            if type(end) is Fail:
                add("MapIterationFailed", {"name": state.name, "index": index})
                failures += 1
                if tolerance_exceeded(failures, total, fork.tolerated_failure_count,
                                      fork.tolerated_failure_percentage):
                    add("MapStateFailed")
                    if fork.tolerated_failure_count is None and fork.tolerated_failure_percentage is None:
                        return state.fail_fork(data, end.error, end.cause, env)
                    return state.fail_fork(
                        data, ErrorName.EXCEED_TOLERATED_FAILURE_THRESHOLD,
                        "The specified tolerated failure threshold was exceeded", env)
                results.append({"Error": end.error, "Cause": end.cause})
                continue
            add("MapIterationSucceeded", {"name": state.name, "index": index})
            results.append(end.output)
        add("MapStateSucceeded")
        return state.complete(data, results, env)


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
) -> Result:
    """Run a state machine in this process and return its ``Result``.

    ``definition`` is a dict, JSON or YAML text, or a parsed ``StateMachine``;
    ``input`` the execution input (``None`` means ``{}``, as on AWS); ``tasks``
    maps each Task ``Resource`` to a handler ``handler(input, context)``.
    Waits and retry intervals move a virtual clock unless ``real_time`` is
    true. Raise ``DefinitionError`` for an invalid definition.
    """
    machine = parse_definition(definition)
    if context is None:
        context = Context(clock=SystemClock() if real_time else None)
    if input is None:
        input = {}
    context.execution_input = input
    deadline = None
    if machine.timeout_seconds is not None:
        deadline = context.start_time + timedelta(seconds=machine.timeout_seconds)
    runner = _Runner(context, tasks or {}, real_time, record_history, max_transitions, deadline)
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
