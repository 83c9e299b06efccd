"""Tests of ``asl_stats``: the printed statistics, the window options, and bad arguments."""
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from django_asl.engine import advance_execution, publish, start_execution
from tests.asl.machines import single
from tests.engine.conftest import START

pytestmark = pytest.mark.django_db


def stats(*args) -> dict:
    out = io.StringIO()
    call_command("asl_stats", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def executions(clock, tasks):
    """Two executions of "pass", at START and a day later; each takes 0 s."""
    publish("pass", single({"Type": "Pass", "Result": "done"}, "Done"))
    for day in range(2):
        clock.advance_to(START + timedelta(days=day))
        advance_execution(start_execution("pass", {"day": day}).pk)


def test_everything(executions):
    printed = stats("pass")
    assert printed == {
        "state_machine": "pass", "start": None, "end": None, "executions": 2,
        "statuses": {
            "RUNNING": {"count": 0, "average_seconds": None, "p50_seconds": None, "p95_seconds": None,
                        "p99_seconds": None},
            "SUCCEEDED": {"count": 2, "average_seconds": 0.0, "p50_seconds": 0.0, "p95_seconds": 0.0,
                          "p99_seconds": 0.0},
            "FAILED": {"count": 0, "average_seconds": None, "p50_seconds": None, "p95_seconds": None,
                       "p99_seconds": None},
            "TIMED_OUT": {"count": 0, "average_seconds": None, "p50_seconds": None, "p95_seconds": None,
                          "p99_seconds": None},
            "ABORTED": {"count": 0, "average_seconds": None, "p50_seconds": None, "p95_seconds": None,
                        "p99_seconds": None},
        },
        "states": {"Done": {"entries": 2, "failures": 0, "retries": 0, "average_seconds": 0.0}},
    }


@pytest.mark.parametrize("args, start, end, count", [
    # a date is midnight in the current time zone (UTC in the tests); --since is inclusive
    (["--since", "2026-01-02"], "2026-01-02T00:00:00+00:00", None, 1),
    # --until is exclusive
    (["--until", "2026-01-02"], None, "2026-01-02T00:00:00+00:00", 1),
    # an offset is kept: 01:00+01:00 is START
    (["--since", "2026-01-01T01:00:00+01:00", "--until", "2026-01-03T00:00:00Z"],
     "2026-01-01T01:00:00+01:00", "2026-01-03T00:00:00+00:00", 2),
])
def test_window(executions, args, start, end, count):
    printed = stats("pass", *args)
    assert (printed["start"], printed["end"], printed["executions"]) == (start, end, count)


def test_days_counts_back_from_now(executions, monkeypatch):
    from django.utils import timezone as django_timezone

    monkeypatch.setattr(django_timezone, "now", lambda: START + timedelta(days=1, hours=12))
    printed = stats("pass", "--days", "1")
    assert (printed["start"], printed["executions"]) == ("2026-01-01T12:00:00+00:00", 1)
    assert stats("pass", "--days", "2")["executions"] == 2


def test_no_states(executions):
    printed = stats("pass", "--no-states")
    assert "states" not in printed
    assert printed["statuses"]["SUCCEEDED"]["count"] == 2


@pytest.mark.parametrize("args, message", [
    (["nope"], "There is no state machine named 'nope'."),
    (["pass", "--since", "yesterday"],
     "--since 'yesterday' is not an ISO 8601 date or datetime (e.g. 2026-01-31 or 2026-01-31T12:00:00+00:00)."),
    (["pass", "--until", "2026-13-01"],
     "--until '2026-13-01' is not an ISO 8601 date or datetime (e.g. 2026-01-31 or 2026-01-31T12:00:00+00:00)."),
    (["pass", "--since", "2026-01-01", "--days", "3"], "Give --since or --days, not both."),
    (["pass", "--days", "0"], "--days must be a positive number, not 0."),
    ([], "Give a state machine's name (or --rebuild-rollup)."),
    (["pass", "--rebuild-rollup"],
     "--rebuild-rollup takes no state machine and no other option: it rebuilds the rollup of every state machine."),
    (["pass", "--since", "2026-01-02", "--until", "2026-01-01"],
     "The window's start (2026-01-02T00:00:00+00:00) is after its end (2026-01-01T00:00:00+00:00)."),
])
def test_bad_arguments(executions, args, message):
    with pytest.raises(CommandError) as failure:
        call_command("asl_stats", *args, stdout=io.StringIO())
    assert str(failure.value) == message


def test_an_aware_moment_is_not_changed():
    from django_asl.management.commands.asl_stats import parse_moment

    moment = parse_moment("2026-01-01T00:00:00-05:00", "--since")
    assert moment == datetime(2026, 1, 1, 5, tzinfo=timezone.utc)


def test_rebuild_rollup(executions, clock):
    from django_asl.models import StateStatistics

    clock.advance(3600)  # both ended more than the rollup's delay ago
    before = stats("pass")
    out = io.StringIO()
    call_command("asl_stats", "--rebuild-rollup", stdout=out)
    assert out.getvalue() == "Rebuilt the per-state rollup from 2 ended executions.\n"
    assert list(StateStatistics.objects.values_list("state_name", "entries")) == [("Done", 1), ("Done", 1)]
    assert stats("pass") == before
