"""Outcomes: what one step of a state returns to whoever drives the machine.

The in-memory runner and the durable engine both drive states by calling
``step`` and acting on these values; the language core never sleeps, calls a
handler or starts a branch itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Next:
    """Go to state ``state`` with ``output`` as its input."""

    state: str
    output: Any


@dataclass(frozen=True, slots=True)
class Succeed:
    """The (sub-)machine ends here with ``output``."""

    output: Any


@dataclass(frozen=True, slots=True)
class Fail:
    """The (sub-)machine fails with ``error`` and ``cause``; nothing caught it."""

    error: str | None
    cause: str | None


@dataclass(frozen=True, slots=True)
class Wait:
    """Hold until ``until``, then take ``then`` (a ``Next`` or a ``Succeed``)."""

    until: datetime
    then: Next | Succeed


@dataclass(frozen=True, slots=True)
class Retry:
    """Run the state again with the same input after ``delay`` seconds."""

    delay: float
    retry_counts: tuple[int, ...]
    error: str
    cause: str | None


@dataclass(frozen=True, slots=True)
class InvokeTask:
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


@dataclass(frozen=True, slots=True)
class ForkBranches:
    """Run each branch of a Parallel state with ``input``; the results come back in order."""

    branches: tuple
    input: Any


@dataclass(frozen=True, slots=True)
class ForkItems:
    """Run a Map state's item processor once per item.

    ``items`` is a list of iteration inputs (after ItemSelector), in order.
    """

    processor: Any
    items: list
    max_concurrency: int
    tolerated_failure_count: int | None
    tolerated_failure_percentage: float | None


Outcome = Next | Succeed | Fail | Wait | Retry | InvokeTask | ForkBranches | ForkItems
