"""Outcomes: what one step of a state returns to whoever drives the machine.

The in-memory runner and the durable engine both drive states by calling
``step`` and acting on these values; the language core never sleeps, calls a
handler or starts a branch itself. They are named tuples because one is made
on every transition and tuples are the cheapest immutable values to build.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple


class Next(NamedTuple):
    """Go to state ``state`` with ``output`` as its input."""

    state: str
    output: Any


class Succeed(NamedTuple):
    """The (sub-)machine ends here with ``output``."""

    output: Any


class Fail(NamedTuple):
    """The (sub-)machine fails with ``error`` and ``cause``; nothing caught it."""

    error: str | None
    cause: str | None


class Wait(NamedTuple):
    """Hold until ``until``, then take ``then`` (a ``Next`` or a ``Succeed``)."""

    until: datetime
    then: Next | Succeed


class Retry(NamedTuple):
    """Run the state again with the same input after ``delay`` seconds."""

    delay: float
    retry_counts: tuple[int, ...]
    error: str
    cause: str | None


class InvokeTask(NamedTuple):
    """Call the handler registered for ``resource`` with ``payload``.

    ``timeout_seconds`` and ``heartbeat_seconds`` are the limits the driver
    enforces; ``wait_for_token`` is set for ``.waitForTaskToken`` resources.
    """

    resource: str
    payload: Any
    timeout_seconds: float | None
    heartbeat_seconds: float | None
    wait_for_token: bool = False
    credentials: Any = None


class ForkBranches(NamedTuple):
    """Run each branch of a Parallel state with ``input``; the results come back in order."""

    branches: tuple
    input: Any
    #: The variables each branch starts with: the Parallel state's, as they were when it started.
    variables: dict | None = None


class ForkItems(NamedTuple):
    """Run a Map state's item processor once per item.

    ``items`` is a list of iteration inputs (after ItemSelector), in order.
    """

    processor: Any
    items: list
    max_concurrency: int
    tolerated_failure_count: int | None
    tolerated_failure_percentage: float | None
    #: The variables each iteration starts with: the Map state's, as they were when it started.
    variables: dict | None = None


class AwaitMessage(NamedTuple):
    """Wait for ``send_message(correlation_key, correlation_value, data)`` until ``until`` (or forever).

    A Message state's outcome (a django-asl extension to ASL). ``timeout_seconds``
    is the state's TimeoutSeconds, ``until`` the moment the wait ends with
    ``States.Timeout``; both are None when the state waits without limit.
    """

    correlation_key: str
    correlation_value: Any
    timeout_seconds: int | None
    until: datetime | None


Outcome = Next | Succeed | Fail | Wait | Retry | InvokeTask | ForkBranches | ForkItems | AwaitMessage
