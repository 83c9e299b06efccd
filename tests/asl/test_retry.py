"""Tests for django_asl.asl.retry: matching error names, retry decisions and catchers."""
from __future__ import annotations

import pytest

from django_asl.asl.retry import Catcher, Retrier, RetryDecision, decide_retry, error_matches, find_catcher


class StubEnv:
    """An environment whose random numbers are fixed."""

    def __init__(self, value: float = 0.5) -> None:
        self.value = value
        self.calls = 0

    def random(self) -> float:
        self.calls += 1
        return self.value


@pytest.mark.parametrize(
    "error_equals, error, from_task, expected",
    [
        # an exact name
        (("PaymentDeclined",), "PaymentDeclined", True, True),
        # names are case-sensitive
        (("paymentdeclined",), "PaymentDeclined", True, False),
        # another name
        (("Other",), "PaymentDeclined", True, False),
        # any name in the list
        (("A", "B", "PaymentDeclined"), "PaymentDeclined", True, True),
        # States.ALL matches a custom name
        (("States.ALL",), "PaymentDeclined", False, True),
        # States.ALL matches a States.* name
        (("States.ALL",), "States.NoChoiceMatched", False, True),
        # States.ALL matches a timeout
        (("States.ALL",), "States.Timeout", True, True),
        # States.ALL catches a task's oversized result (recorded on AWS)
        (("States.ALL",), "States.DataLimitExceeded", True, True),
        # States.TaskFailed matches a task's custom error
        (("States.TaskFailed",), "PaymentDeclined", True, True),
        # States.TaskFailed matches a task's States.* error
        (("States.TaskFailed",), "States.Permissions", True, True),
        # States.TaskFailed does not match States.Timeout (AWS, "Error names")
        (("States.TaskFailed",), "States.Timeout", True, False),
        # States.TaskFailed only matches failures of a task
        (("States.TaskFailed",), "PaymentDeclined", False, False),
        # States.Timeout is matched by name
        (("States.Timeout",), "States.Timeout", True, True),
        # States.Runtime is not caught by States.ALL
        (("States.ALL",), "States.Runtime", False, False),
        # States.Runtime is not caught by States.TaskFailed
        (("States.TaskFailed",), "States.Runtime", True, False),
        # States.Runtime is not caught even by its own name
        (("States.Runtime",), "States.Runtime", False, False),
        # an empty list matches nothing
        ((), "PaymentDeclined", True, False),
    ],
)
def test_error_matches(error_equals, error, from_task, expected):
    assert error_matches(error_equals, error, from_task=from_task) is expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        # the defaults: IntervalSeconds 1, MaxAttempts 3, BackoffRate 2.0, no cap, no jitter
        ({"ErrorEquals": ["E"]}, Retrier(("E",), 1, 3, 2.0, None, "NONE")),
        # every field given
        (
            {"ErrorEquals": ["E", "F"], "IntervalSeconds": 5, "MaxAttempts": 0, "BackoffRate": 1,
             "MaxDelaySeconds": 9, "JitterStrategy": "FULL"},
            Retrier(("E", "F"), 5, 0, 1.0, 9, "FULL"),
        ),
    ],
)
def test_retrier_from_dict(raw, expected):
    assert Retrier.from_dict(raw) == expected


@pytest.mark.parametrize(
    "retrier, attempt, expected",
    [
        # the first retry waits IntervalSeconds
        (Retrier(("E",), 3, 5, 2.0), 0, 3),
        # the second multiplies by BackoffRate
        (Retrier(("E",), 3, 5, 2.0), 1, 6),
        # the third by BackoffRate squared
        (Retrier(("E",), 3, 5, 2.0), 2, 12),
        # a fractional BackoffRate
        (Retrier(("E",), 2, 5, 1.5), 2, 4.5),
        # BackoffRate 1 keeps the interval
        (Retrier(("E",), 4, 5, 1.0), 3, 4),
        # MaxDelaySeconds caps the delay
        (Retrier(("E",), 3, 10, 2.0, 10), 3, 10),
        # a delay under MaxDelaySeconds is unchanged
        (Retrier(("E",), 3, 10, 2.0, 10), 1, 6),
    ],
)
def test_retrier_delay(retrier, attempt, expected):
    env = StubEnv()
    assert retrier.delay(attempt, env) == expected
    assert env.calls == 0  # no jitter, no random number


@pytest.mark.parametrize(
    "retrier, attempt, random, expected",
    [
        # FULL jitter scales the delay by a random number in [0, 1)
        (Retrier(("E",), 4, 3, 2.0, None, "FULL"), 1, 0.25, 2.0),
        # ... after the MaxDelaySeconds cap
        (Retrier(("E",), 4, 5, 2.0, 10, "FULL"), 3, 0.5, 5.0),
        # a zero draw retries at once
        (Retrier(("E",), 4, 3, 2.0, None, "FULL"), 0, 0.0, 0.0),
    ],
)
def test_full_jitter_uses_the_environments_random_numbers(retrier, attempt, random, expected):
    env = StubEnv(random)
    assert retrier.delay(attempt, env) == expected
    assert env.calls == 1


@pytest.mark.parametrize(
    "retriers, counts, error, expected",
    [
        # the first attempt of a matching retrier
        ((Retrier(("E",), 2),), (), "E", RetryDecision(2, (1,), 0)),
        # the second attempt doubles the interval
        ((Retrier(("E",), 2),), (1,), "E", RetryDecision(4, (2,), 0)),
        # the default MaxAttempts is 3: the third retry is allowed ...
        ((Retrier.from_dict({"ErrorEquals": ["E"]}),), (2,), "E", RetryDecision(4, (3,), 0)),
        # ... and a fourth is not
        ((Retrier.from_dict({"ErrorEquals": ["E"]}),), (3,), "E", None),
        # MaxAttempts 0 never retries
        ((Retrier(("E",), 1, 0),), (), "E", None),
        # no retrier matches
        ((Retrier(("E",)),), (), "F", None),
        # the second retrier matches and gets its own count
        ((Retrier(("E",)), Retrier(("F",), 5)), (2,), "F", RetryDecision(5, (2, 1), 1)),
        # only the first matching retrier counts: once it is used up, a later States.ALL is not tried
        ((Retrier(("E",), 1, 1), Retrier(("States.ALL",), 7)), (1, 0), "E", None),
        # the first matching retrier wins over a later one
        ((Retrier(("States.ALL",), 1), Retrier(("E",), 9)), (), "E", RetryDecision(1, (1, 0), 0)),
        # States.Runtime is never retried
        ((Retrier(("States.ALL",)),), (), "States.Runtime", None),
    ],
)
def test_decide_retry(retriers, counts, error, expected):
    assert decide_retry(retriers, counts, error, StubEnv(), from_task=True) == expected


def test_decide_retry_applies_states_task_failed_only_to_tasks():
    retriers = (Retrier(("States.TaskFailed",)),)
    assert decide_retry(retriers, (), "Boom", StubEnv(), from_task=True) == RetryDecision(1, (1,), 0)
    assert decide_retry(retriers, (), "Boom", StubEnv(), from_task=False) is None


def test_decide_retry_with_full_jitter():
    retriers = (Retrier(("E",), 10, 3, 2.0, None, "FULL"),)
    assert decide_retry(retriers, (1,), "E", StubEnv(0.1), from_task=True) == RetryDecision(2.0, (2,), 0)


A = Catcher(("A",), "HandleA", None)
TASK = Catcher(("States.TaskFailed",), "HandleTask", None)
ALL = Catcher(("States.ALL",), "HandleAll", None)


@pytest.mark.parametrize(
    "catchers, error, from_task, expected",
    [
        # the catcher naming the error
        ((A, ALL), "A", True, A),
        # catchers are tried in order: States.ALL first wins
        ((ALL, A), "A", True, ALL),
        # a later catcher when the first does not match
        ((A, ALL), "B", True, ALL),
        # States.TaskFailed before States.ALL for a task failure
        ((TASK, ALL), "B", True, TASK),
        # States.TaskFailed does not catch a timeout; States.ALL does
        ((TASK, ALL), "States.Timeout", True, ALL),
        # States.TaskFailed does not catch a failure of another state
        ((TASK,), "B", False, None),
        # nothing matches
        ((A,), "B", True, None),
        # no catchers
        ((), "A", True, None),
        # States.Runtime is never caught
        ((A, TASK, ALL), "States.Runtime", True, None),
    ],
)
def test_find_catcher(catchers, error, from_task, expected):
    assert find_catcher(catchers, error, from_task=from_task) is expected
