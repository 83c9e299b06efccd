"""Retry and Catch: matching error names and deciding what happens after a failure.

Decisions are values (``RetryDecision``, ``CatchDecision``), never sleeps: the
in-memory runner advances its clock and the durable engine stores a timer.

Spec, "Retrying after error": "When a state reports an error, the interpreter
scans through the Retriers and, when the Error Name appears in the value of a
Retrier's ErrorEquals field, implements the retry policy described in that
Retrier." Only the first matching Retrier counts; once its MaxAttempts are
used up the error goes on to the Catchers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import ErrorName

# "States.Runtime: ... A retry or catch on States.ALL won't catch States.Runtime
#  errors" (AWS, "Error names"); the recorded executions show that naming it
#  explicitly does not catch it either.
UNCATCHABLE = frozenset({ErrorName.RUNTIME})
# "States.TaskFailed: A Task state failed during the execution. When used in a
#  retry or catch, States.TaskFailed acts as a wildcard that matches any known
#  error name except for States.Timeout."
NOT_TASK_FAILED = frozenset({ErrorName.TIMEOUT, ErrorName.HEARTBEAT_TIMEOUT})


def error_matches(error_equals: tuple[str, ...], error: str, *, from_task: bool) -> bool:
    """Return whether an ``ErrorEquals`` list matches the error name.

    ``States.ALL`` matches every name; ``States.TaskFailed`` every failure of
    the task itself except timeouts; other names match exactly.
    """
    if error in UNCATCHABLE:
        return False
    for name in error_equals:
        if name == error or name == ErrorName.ALL:
            return True
        if name == ErrorName.TASK_FAILED and from_task and error not in NOT_TASK_FAILED:
            return True
    return False


@dataclass(frozen=True, slots=True)
class Retrier:
    """One entry of a state's ``Retry`` field."""

    error_equals: tuple[str, ...]
    interval_seconds: int = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: int | None = None
    jitter: str = "NONE"

    @classmethod
    def from_dict(cls, raw: dict) -> Retrier:
        return cls(
            error_equals=tuple(raw["ErrorEquals"]),
            interval_seconds=raw.get("IntervalSeconds", 1),
            max_attempts=raw.get("MaxAttempts", 3),
            backoff_rate=float(raw.get("BackoffRate", 2.0)),
            max_delay_seconds=raw.get("MaxDelaySeconds"),
            jitter=raw.get("JitterStrategy", "NONE"),
        )

    def delay(self, attempt: int, env: Any) -> float:
        """Return the seconds to wait before retry number ``attempt + 1`` (``attempt`` from 0).

        "IntervalSeconds ... the number of seconds before the first retry
        attempt"; each further attempt multiplies it by BackoffRate, capped by
        MaxDelaySeconds; JitterStrategy FULL picks a random delay up to that.
        """
        delay = self.interval_seconds * (self.backoff_rate ** attempt)
        if self.max_delay_seconds is not None:
            delay = min(delay, self.max_delay_seconds)
        if self.jitter == "FULL":
            delay = delay * env.random()
        return delay


@dataclass(frozen=True, slots=True)
class Catcher:
    """One entry of a state's ``Catch`` field."""

    error_equals: tuple[str, ...]
    next: str
    result_path: Any  # a compiled ResultPath, see io.py
    assign: Any = None
    output: Any = None


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """Run the state again after ``delay`` seconds, with the updated attempt counts."""

    delay: float
    retry_counts: tuple[int, ...]
    retrier_index: int


def decide_retry(
    retriers: tuple[Retrier, ...], retry_counts: tuple[int, ...], error: str, env: Any, *, from_task: bool
) -> RetryDecision | None:
    """Return a ``RetryDecision`` when the first Retrier matching ``error`` has attempts left."""
    for index, retrier in enumerate(retriers):
        if error_matches(retrier.error_equals, error, from_task=from_task):
            attempts = retry_counts[index] if index < len(retry_counts) else 0
            if attempts >= retrier.max_attempts:
                return None
            counts = list(retry_counts) + [0] * (len(retriers) - len(retry_counts))
            counts[index] = attempts + 1
            return RetryDecision(retrier.delay(attempts, env), tuple(counts), index)
    return None


def find_catcher(catchers: tuple[Catcher, ...], error: str, *, from_task: bool) -> Catcher | None:
    """Return the first Catcher whose ErrorEquals matches ``error``."""
    for catcher in catchers:
        if error_matches(catcher.error_equals, error, from_task=from_task):
            return catcher
    return None
