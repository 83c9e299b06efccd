"""The driver: advances a (sub-)machine from state to state until it must wait.

Both the in-memory runner and the durable engine use it. ``advance`` runs
states until one needs something from outside (a timer, a task handler, child
branches or iterations, a message) and returns that as a *suspension*; the caller
satisfies it, now or much later in another process, and calls the matching
``resume_*`` method. Where the machine stands between the two is a ``Cursor``,
plain data that ``as_dict``/``from_dict`` turn into JSON for storage.

History events are handed to an ``add(event_type, details) -> id`` callback and
numbered the way Step Functions numbers them.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable, NamedTuple

from .context import Context, Env
from .definition import StateMachine
from .errors import ErrorName
from .outcomes import AwaitMessage, Fail, ForkBranches, ForkItems, InvokeTask, Next, Retry, Succeed, Wait
from .states.map import tolerance_exceeded
from .variables import merged

ENTER, TASK, TIMER, FORK = "enter", "task", "timer", "fork"
MESSAGE = "message"  # a Message state waits for send_message (a django-asl extension)


class Cursor:
    """Where a machine stands: the current state, its raw input, and what it waits for."""

    __slots__ = ("state", "data", "phase", "retry_counts", "entered_event_id", "entered_time", "pending",
                 "attempt", "task_token", "env", "variables")

    def __init__(self, state: str, data: Any, variables: dict | None = None) -> None:
        self.state = state
        self.data = data
        #: The workflow variables of this (sub-)machine (AWS: "Passing data between states with variables").
        self.variables: dict = variables if variables is not None else {}
        self.phase = ENTER
        self.retry_counts: tuple[int, ...] = ()
        self.entered_event_id = 0
        self.entered_time: datetime | None = None
        self.pending: Any = None
        self.attempt = 0
        self.task_token: str | None = None
        self.env: Env | None = None  # the current state's Env, kept while in memory; never stored

    def as_dict(self, *, with_data: bool = True) -> dict:
        """Return the cursor as JSON-serialisable data (without the state's input if asked:
        a store may keep that large value apart and write it only when it changes)."""
        pending = self.pending
        if isinstance(pending, (Next, Succeed)):
            pending = {"next": pending.state, "output": pending.output} if type(pending) is Next \
                else {"end": True, "output": pending.output}
        elif isinstance(pending, InvokeTask):
            pending = {"task": pending._asdict()}
        elif isinstance(pending, AwaitMessage):
            pending = {"message": {**pending._asdict(),
                                   "until": pending.until.isoformat() if pending.until else None}}
        raw = {
            "state": self.state, "phase": self.phase, "retry_counts": list(self.retry_counts),
            "entered_event_id": self.entered_event_id,
            "entered_time": self.entered_time.isoformat() if self.entered_time else None,
            "pending": pending, "attempt": self.attempt, "task_token": self.task_token,
        }
        if self.variables:
            raw["variables"] = self.variables
        if with_data:
            raw["data"] = self.data
        return raw

    @classmethod
    def from_dict(cls, raw: dict, data: Any = None) -> Cursor:
        """Rebuild a cursor from ``as_dict`` output; ``data`` when it was stored apart."""
        cursor = cls(raw["state"], raw["data"] if "data" in raw else data, raw.get("variables"))
        cursor.phase = raw["phase"]
        cursor.retry_counts = tuple(raw["retry_counts"])
        cursor.entered_event_id = raw["entered_event_id"]
        cursor.entered_time = datetime.fromisoformat(raw["entered_time"]) if raw["entered_time"] else None
        pending = raw["pending"]
        if isinstance(pending, dict) and "task" in pending:
            pending = InvokeTask(**pending["task"])
        elif isinstance(pending, dict) and "message" in pending:
            wait = pending["message"]
            pending = AwaitMessage(wait["correlation_key"], wait["correlation_value"], wait["timeout_seconds"],
                                   datetime.fromisoformat(wait["until"]) if wait["until"] else None)
        elif isinstance(pending, dict) and "next" in pending:
            pending = Next(pending["next"], pending["output"])
        elif isinstance(pending, dict) and pending.get("end"):
            pending = Succeed(pending["output"])
        cursor.pending = pending
        cursor.attempt = raw["attempt"]
        cursor.task_token = raw["task_token"]
        return cursor


class WaitUntil(NamedTuple):
    """Suspension: call ``resume_timer`` at ``until``."""

    until: datetime


class Done(NamedTuple):
    """The machine ended: ``end`` is a ``Succeed`` or a ``Fail``."""

    end: Succeed | Fail


Suspension = WaitUntil | InvokeTask | ForkBranches | ForkItems | AwaitMessage | Done


class Driver:
    """Advances one machine; ``add`` records history events and returns their ids."""

    __slots__ = ("machine", "context", "add", "budget")

    def __init__(self, machine: StateMachine, context: Context, add: Callable[[str, dict | None], int],
                 budget: list[int] | None = None) -> None:
        self.machine = machine
        self.context = context
        self.add = add
        # Transitions left, shared by every driver of one execution: a guard against endless loops.
        self.budget = budget if budget is not None else [1_000_000]

    def start(self, data: Any, variables: dict | None = None) -> Cursor:
        """Return a cursor at the machine's StartAt state; ``variables`` are those a branch or iteration
        inherits from the state that forked it (a copy of the outer scope: what it assigns stays inside)."""
        return Cursor(self.machine.start_at, data, dict(variables) if variables else None)

    def env(self, cursor: Cursor) -> Env:
        """Return the Env of the cursor's current state (rebuilt after the cursor was stored)."""
        env = cursor.env
        if env is None:
            env = cursor.env = Env(self.context, cursor.state, entered_time=cursor.entered_time,
                                   entered_event_id=cursor.entered_event_id, retry_counts=cursor.retry_counts,
                                   task_token=cursor.task_token, variables=cursor.variables)
        return env

    # -- advancing --------------------------------------------------------------------

    def advance(self, cursor: Cursor) -> Suspension:
        """Enter states from ``cursor`` until the machine must wait or ends."""
        states = self.machine.states
        add = self.add
        context = self.context
        budget = self.budget
        while True:
            budget[0] -= 1
            if budget[0] < 0:
                return Done(Fail(ErrorName.RUNTIME, "The execution exceeded the maximum number of state transitions."))
            state = states[cursor.state]
            now = context.now()
            cursor.entered_event_id = add(state.entered_event, {"name": cursor.state, "input": cursor.data})
            cursor.entered_time = now
            cursor.retry_counts = ()
            cursor.attempt = 0
            cursor.task_token = None
            env = cursor.env = Env(context, cursor.state, entered_time=now, entered_event_id=cursor.entered_event_id,
                                   variables=cursor.variables)
            outcome = state.step(cursor.data, env)
            if env.task_token is not None:
                cursor.task_token = env.task_token
            suspension = self._settle(cursor, state, outcome)
            if suspension is not None:
                return suspension

    def _settle(self, cursor: Cursor, state: Any, outcome: Any) -> Suspension | None:
        """Act on an outcome: move the cursor on (None), or return what the machine waits for."""
        kind = type(outcome)
        env = cursor.env
        if env is not None and env.assigned is not None:
            # The state's Assign takes effect as it is left (Next, Succeed, or a Wait's end).
            if kind is Next or kind is Succeed or kind is Wait:
                cursor.variables = merged(cursor.variables, env.assigned)
            env.assigned = None
        if kind is Next:
            if state.exited_event:
                self.add(state.exited_event, {"name": cursor.state, "output": outcome.output})
            cursor.state = outcome.state
            cursor.data = outcome.output
            cursor.phase = ENTER
            cursor.pending = None
            return None
        if kind is Succeed:
            if state.exited_event:
                self.add(state.exited_event, {"name": cursor.state, "output": outcome.output})
            return Done(outcome)
        if kind is Fail:
            return Done(outcome)
        if kind is Wait:
            cursor.phase = TIMER
            cursor.pending = outcome.then
            return WaitUntil(outcome.until)
        if kind is Retry:
            cursor.phase = TIMER
            cursor.pending = None
            cursor.retry_counts = outcome.retry_counts
            cursor.attempt += 1
            cursor.env = None  # the retry sees the new $$.State.RetryCount
            cursor.task_token = None  # a task token is bound to one attempt: the retry gets a new one
            return WaitUntil(self.context.now() + timedelta(seconds=outcome.delay))
        if kind is InvokeTask:
            cursor.phase = TASK
            cursor.pending = outcome
            self.add(state.events[0], {"resource": outcome.resource, "parameters": outcome.payload,
                                       "timeout_seconds": outcome.timeout_seconds})
            return outcome
        if kind is ForkBranches or kind is ForkItems:
            cursor.phase = FORK
            started = self.add(f"{state.type}StateStarted", {"length": len(outcome.branches if kind is ForkBranches
                                                                           else outcome.items)})
            # The Started event's id tells this fork's branches or iterations from an earlier attempt's.
            cursor.pending = {"fork_id": started}
            return outcome
        if kind is AwaitMessage:
            cursor.phase = MESSAGE
            cursor.pending = outcome
            self.add("MessageWaitStarted", {"correlation_key": outcome.correlation_key,
                                            "correlation_value": outcome.correlation_value,
                                            "timeout_seconds": outcome.timeout_seconds})
            return outcome
        raise TypeError(f"Unknown outcome {outcome!r}")  # pragma: no cover - every outcome is above

    def _resumed(self, cursor: Cursor, outcome: Any) -> Suspension:
        suspension = self._settle(cursor, self.machine.states[cursor.state], outcome)
        return self.advance(cursor) if suspension is None else suspension

    # -- resuming ---------------------------------------------------------------------

    def resume_timer(self, cursor: Cursor) -> Suspension:
        """Go on after a Wait state's time or a retry interval has passed."""
        state = self.machine.states[cursor.state]
        if cursor.pending is not None:  # the end of a Wait state
            return self._resumed(cursor, cursor.pending)
        env = self.env(cursor)  # a retry: run the state again with the same input
        outcome = state.step(cursor.data, env)
        if env.task_token is not None:
            cursor.task_token = env.task_token
        return self._resumed(cursor, outcome)

    def task_started(self, cursor: Cursor) -> None:
        """Record that the handler of the pending task was called."""
        state = self.machine.states[cursor.state]
        self.add(state.events[1], {"resource": cursor.pending.resource})

    def resume_task(self, cursor: Cursor, result: Any) -> Suspension:
        """Go on with the result the task's handler returned."""
        state = self.machine.states[cursor.state]
        self.add(state.events[2], {"output": result})
        return self._resumed(cursor, state.complete(cursor.data, result, self.env(cursor)))

    def fail_task(self, cursor: Cursor, error: str, cause: str | None, *, timed_out: bool = False) -> Suspension:
        """Go on after the task failed (or timed out) with ``error`` and ``cause``."""
        state = self.machine.states[cursor.state]
        self.add(state.events[4 if timed_out else 3], {"error": error, "cause": cause})
        return self._resumed(cursor, state.fail_task(cursor.data, error, cause, self.env(cursor)))

    def resume_message(self, cursor: Cursor, data: Any) -> Suspension:
        """Go on after a Message state received a message carrying ``data``."""
        wait = self._message_wait(cursor, "resume_message")
        state = self.machine.states[cursor.state]
        self.add("MessageReceived", {"correlation_key": wait.correlation_key,
                                     "correlation_value": wait.correlation_value, "data": data})
        return self._resumed(cursor, state.complete(cursor.data, data, self.env(cursor)))

    def message_timed_out(self, cursor: Cursor) -> Suspension:
        """Go on after a Message state's TimeoutSeconds passed: States.Timeout, which Retry and Catch see."""
        wait = self._message_wait(cursor, "message_timed_out")
        state = self.machine.states[cursor.state]
        self.add("MessageTimedOut", {"error": ErrorName.TIMEOUT, "cause": state.timeout_cause(wait.timeout_seconds)})
        return self._resumed(cursor, state.time_out(cursor.data, wait.timeout_seconds, self.env(cursor)))

    @staticmethod
    def _message_wait(cursor: Cursor, method: str) -> AwaitMessage:
        if cursor.phase != MESSAGE or type(cursor.pending) is not AwaitMessage:
            raise ValueError(f"{method}() needs a cursor waiting in a Message state; the cursor at state "
                             f"{cursor.state!r} is in phase {cursor.phase!r}.")
        return cursor.pending

    def resume_fork(self, cursor: Cursor, tally: ForkTally) -> Suspension:
        """Go on after every branch or iteration ended (or one failure ended them all)."""
        state = self.machine.states[cursor.state]
        env = self.env(cursor)
        if tally.failure is not None:
            self.add(f"{state.type}StateFailed", {"error": tally.failure.error, "cause": tally.failure.cause})
            return self._resumed(cursor, state.fail_fork(cursor.data, tally.failure.error, tally.failure.cause, env))
        self.add(f"{state.type}StateSucceeded", None)
        return self._resumed(cursor, state.complete(cursor.data, tally.results(), env))


def fork_failure(end: Fail, failures: int, total: int, count: int | None, percentage: float | None, *,
                 is_map: bool) -> Fail | None:
    """Return how a Parallel or Map state fails after a branch or iteration ended with ``end``, or None.

    A failed branch fails a Parallel state with its own error. A Map tolerates
    failed iterations up to ToleratedFailureCount/Percentage; past them it fails
    with States.ExceedToleratedFailureThreshold, or, with neither set, with the
    iteration's own error.
    """
    if not is_map:
        return end
    if not tolerance_exceeded(failures, total, count, percentage):
        return None
    if count is None and percentage is None:
        return end
    return Fail(ErrorName.EXCEED_TOLERATED_FAILURE_THRESHOLD, "The specified tolerated failure threshold was exceeded")


class ForkTally:
    """Collects the ends of a Parallel state's branches or a Map state's iterations.

    ``record`` returns False once the state has failed: a branch failed, or
    more iterations failed than the Map tolerates. Failed iterations that are
    tolerated appear in the result as their error output.
    """

    __slots__ = ("fork", "ends", "failures", "failure", "total")

    def __init__(self, fork: ForkBranches | ForkItems) -> None:
        self.fork = fork
        self.total = len(fork.branches) if type(fork) is ForkBranches else len(fork.items)
        self.ends: list[Any] = [None] * self.total
        self.failures = 0
        self.failure: Fail | None = None

    def record(self, index: int, end: Succeed | Fail) -> bool:
        self.ends[index] = end
        if type(end) is Succeed:
            return True
        self.failures += 1
        fork = self.fork
        if type(fork) is ForkBranches:
            self.failure = fork_failure(end, self.failures, self.total, None, None, is_map=False)
        else:
            self.failure = fork_failure(end, self.failures, self.total, fork.tolerated_failure_count,
                                        fork.tolerated_failure_percentage, is_map=True)
        return self.failure is None

    def results(self) -> list:
        return [end.output if type(end) is Succeed else {"Error": end.error, "Cause": end.cause}
                for end in self.ends]
