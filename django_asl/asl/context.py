"""The interpreter's view of the outside world, and the per-state evaluation scope.

``Context`` holds what identifies an execution (its id, name, start time, the
state machine) and the sources of time and randomness. The language core never
reads the clock or a random generator itself, so a run with a fixed clock and
fixed generators is repeatable.

``Env`` is what an expression sees while a state runs: the input-independent
parts (``$$``, the context object, and variables). Compiled paths, intrinsic
functions and choice rules are called as ``fn(data, env)``.
"""
from __future__ import annotations

import random as _random
import secrets
import uuid as _uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable


def format_timestamp(moment: datetime) -> str:
    """Return ``moment`` as Step Functions writes timestamps: UTC, milliseconds, ``Z``."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class SystemClock:
    """Wall-clock time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class VirtualClock:
    """A clock that only moves when told to: waits and retry intervals take no real time."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(timezone.utc)

    def now(self) -> datetime:
        return self._now

    def advance_to(self, moment: datetime) -> None:
        if moment > self._now:
            self._now = moment

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)


class Context:
    """Identity of an execution plus its sources of time, UUIDs and randomness.

    Every argument is optional; the defaults make an ad-hoc execution with a
    random id. Pass ``clock``, ``uuid_factory`` and ``rng`` to make runs repeatable.
    """

    def __init__(
        self,
        *,
        execution_id: str | None = None,
        execution_name: str | None = None,
        state_machine_id: str | None = None,
        state_machine_name: str | None = None,
        role_arn: str | None = None,
        start_time: datetime | None = None,
        redrive_count: int = 0,
        redrive_time: datetime | None = None,
        clock: Any = None,
        uuid_factory: Callable[[], str] | None = None,
        rng: _random.Random | None = None,
        token_factory: Callable[[], str] | None = None,
    ) -> None:
        self.clock = clock or VirtualClock()
        self.uuid_factory = uuid_factory or (lambda: str(_uuid.uuid4()))
        self.rng = rng or _random.Random()
        self.token_factory = token_factory or (lambda: secrets.token_urlsafe(48))
        self.execution_name = execution_name or self.uuid_factory()
        self.state_machine_name = state_machine_name or "StateMachine"
        self.state_machine_id = state_machine_id or (
            f"arn:aws:states:local:000000000000:stateMachine:{self.state_machine_name}"
        )
        self.execution_id = execution_id or (
            f"arn:aws:states:local:000000000000:execution:{self.state_machine_name}:{self.execution_name}"
        )
        self.role_arn = role_arn or "arn:aws:iam::000000000000:role/django-asl"
        self.start_time = start_time or self.clock.now()
        self.redrive_count = redrive_count
        self.redrive_time = redrive_time
        #: The execution input, or a function returning it (read only if ``$$.Execution.Input`` is).
        self.execution_input: Any = None

    def now(self) -> datetime:
        return self.clock.now()

    def new_uuid(self) -> str:
        return self.uuid_factory()

    def random(self) -> float:
        return self.rng.random()

    def seeded_random(self, seed: int) -> float:
        """Return a number in [0, 1) that depends only on ``seed`` (JSONata's ``$random(seed)``:
        the same seed always gives the same number)."""
        return _random.Random(seed).random()

    def new_task_token(self) -> str:
        """Return a new task token: unguessable, from the operating system's generator."""
        return self.token_factory()

    def execution_object(self) -> dict:
        """Return ``$$.Execution``."""
        if callable(self.execution_input):  # loaded on first use: most states never read it
            self.execution_input = self.execution_input()
        execution = {
            "Id": self.execution_id,
            "Input": self.execution_input,
            "Name": self.execution_name,
            "RoleArn": self.role_arn,
            "StartTime": format_timestamp(self.start_time),
            "RedriveCount": self.redrive_count,
        }
        if self.redrive_time is not None:
            execution["RedriveTime"] = format_timestamp(self.redrive_time)
        return execution


class Env:
    """What expressions see while one state runs: ``$$`` and the variables.

    The context object is built on first use only, because most states never
    read it.
    """

    __slots__ = ("context", "state_name", "entered_time", "entered_event_id", "retry_counts", "map_item",
                 "task_token", "variables", "assigned", "jsonata_base", "_object")

    def __init__(
        self,
        context: Context,
        state_name: str = "",
        *,
        entered_time: datetime | None = None,
        entered_event_id: int = 0,
        retry_counts: tuple[int, ...] = (),
        map_item: tuple[int, Any] | None = None,
        task_token: str | None = None,
        variables: dict | None = None,
    ) -> None:
        self.context = context
        self.state_name = state_name
        self.entered_time = entered_time
        self.entered_event_id = entered_event_id
        self.retry_counts = retry_counts
        self.map_item = map_item
        self.task_token = task_token
        self.variables = variables if variables is not None else {}
        #: The variables this state assigns, applied by the driver when the state is left.
        self.assigned: dict | None = None
        #: The variables and functions as JSONata sees them, built on first use (see jsonata_.bindings).
        self.jsonata_base: dict | None = None
        self._object: dict | None = None

    @property
    def context_object(self) -> dict:
        """Return ``$$``: Execution, State, StateMachine, and Task or Map where they apply."""
        if self._object is None:
            ctx = self.context
            obj: dict[str, Any] = {
                "Execution": ctx.execution_object(),
                "State": {
                    "EnteredTime": format_timestamp(self.entered_time or ctx.now()),
                    "Name": self.state_name,
                    "RetryCount": self.retry_count,
                },
                "StateMachine": {"Id": ctx.state_machine_id, "Name": ctx.state_machine_name},
            }
            if self.task_token is not None:
                obj["Task"] = {"Token": self.task_token}
            if self.map_item is not None:
                obj["Map"] = {"Item": {"Index": self.map_item[0], "Value": self.map_item[1]}}
            self._object = obj
        return self._object

    @property
    def retry_count(self) -> int:
        """Return ``$$.State.RetryCount``: how often this state has been retried."""
        return sum(self.retry_counts)

    def now(self) -> datetime:
        return self.context.now()

    def new_uuid(self) -> str:
        return self.context.new_uuid()

    def random(self) -> float:
        return self.context.random()
