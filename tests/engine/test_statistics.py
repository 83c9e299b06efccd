"""Statistics of executions: per status and per state, window bounds, both database paths, bad arguments.

Histories come from real runs on the virtual clock; a task handler moves the
clock by its input's ``work`` seconds, so every duration below is known.
"""
from __future__ import annotations

import io
import random
import threading
from datetime import date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Q

import django_asl
from django_asl.engine import (
    StateMachineDoesNotExist, advance_execution, execution_statistics, publish, redrive_execution, start_execution,
)
from django_asl.engine import statistics
from django_asl.engine.timers import run_due_timers
from django_asl.models import Execution, HistoryEvent, StateMachine, StateStatistics, StatisticsPending, StatisticsRollup
from tests.engine.conftest import START as EARLY

pytestmark = pytest.mark.django_db

CHARGE = "urn:test:stats.charge"
ORDER = {
    "StartAt": "Charge",
    "States": {
        "Charge": {
            "Type": "Task", "Resource": CHARGE, "ResultPath": "$.charge", "Next": "Ship",
            "Retry": [{"ErrorEquals": ["ConnectionError"], "IntervalSeconds": 2, "BackoffRate": 2, "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["PaymentDeclined"], "Next": "Declined"}],
        },
        "Ship": {"Type": "Wait", "Seconds": 10, "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
        "Declined": {"Type": "Fail", "Error": "Declined"},
    },
}
START = EARLY + timedelta(days=1)  # the orders below start from here; one started a day before
EMPTY_STATUS = {"count": 0, "average_seconds": None, "p50_seconds": None, "p95_seconds": None, "p99_seconds": None}
needs_postgresql = pytest.mark.skipif("connection.vendor != 'postgresql'",
                                      reason="PostgreSQL only: its one-statement path and percentile_cont")


class PaymentDeclined(Exception):
    """The payment handler's failure, recorded as a TaskFailed named after this class."""


@pytest.fixture
def charge(tasks, clock):
    """Register the Charge handler: it takes ``work`` seconds, fails ``fail_times`` attempts, may decline."""

    def handler(payload, context):
        clock.advance(payload["work"])
        if payload.get("declined"):
            raise PaymentDeclined("card refused")
        if context.attempt < payload.get("fail_times", 0):
            raise ConnectionError("gateway timeout")
        return "charged"

    tasks[CHARGE] = handler


def run_at(moment: datetime, machine, payload: dict, clock, drain) -> Execution:
    """Start an execution at ``moment`` and run it to its end."""
    clock.advance_to(moment)
    execution = start_execution(machine, payload)
    drain()
    execution.refresh_from_db()
    return execution


@pytest.fixture
def orders(charge, clock, drain):
    """Five orders, one hour apart from START, and one order the day before.

    | order | what happens | status | duration | Charge: failures, retries, time in state |
    |---|---|---|---|---|
    | A | charged at once, ships | SUCCEEDED | 1 + 10 = 11 s | 0, 0, 1 s |
    | B | fails once, retried after 2 s | SUCCEEDED | 2 + 2 + 2 + 10 = 16 s | 1, 1, 6 s |
    | C | declined: caught, goes to Declined | FAILED | 1 s | 1, 0, 1 s |
    | D | fails three times (2 retries) | FAILED | 1 + 2 + 1 + 4 + 1 = 9 s | 3, 2, never left |
    | E | still running in Charge | RUNNING | - | 0, 0, never left |
    """
    machine = publish("order", ORDER)
    early = run_at(EARLY, machine, {"work": 5}, clock, drain)
    runs = {"early": early}
    for hour, (label, payload) in enumerate([
        ("A", {"work": 1}), ("B", {"work": 2, "fail_times": 1}), ("C", {"work": 1, "declined": True}),
        ("D", {"work": 1, "fail_times": 5}),
    ]):
        runs[label] = run_at(START + timedelta(hours=hour), machine, payload, clock, drain)
    clock.advance_to(START + timedelta(hours=4))
    runs["E"] = start_execution(machine, {"work": 1})
    advance_execution(runs["E"].pk, inline=False)  # enters Charge; its handler is queued, never run
    return runs


def test_the_orders_ran_as_the_table_says(orders):
    ended = {label: (execution.status, (execution.stop_date - execution.start_date).total_seconds())
             for label, execution in orders.items() if execution.stop_date}
    assert ended == {"early": ("SUCCEEDED", 15.0), "A": ("SUCCEEDED", 11.0), "B": ("SUCCEEDED", 16.0),
                     "C": ("FAILED", 1.0), "D": ("FAILED", 9.0)}


def test_statistics_per_status_and_per_state(orders):
    stats = execution_statistics("order", start=START)
    assert stats == {
        "state_machine": "order", "start": "2026-01-02T00:00:00+00:00", "end": None, "executions": 5,
        "statuses": {
            "RUNNING": {**EMPTY_STATUS, "count": 1},
            # 11 and 16: the median halfway; p95 at 0.95 of the way (linear interpolation)
            "SUCCEEDED": {"count": 2, "average_seconds": 13.5, "p50_seconds": 13.5, "p95_seconds": 15.75,
                          "p99_seconds": 15.95},
            # 1 and 9
            "FAILED": {"count": 2, "average_seconds": 5.0, "p50_seconds": 5.0, "p95_seconds": 8.6,
                       "p99_seconds": 8.92},
            "TIMED_OUT": EMPTY_STATUS,
            "ABORTED": EMPTY_STATUS,
        },
        "states": {
            # A, B, C left Charge after 1, 6 and 1 s; D failed in it, E is still in it
            "Charge": {"entries": 5, "failures": 5, "retries": 3, "average_seconds": 2.666667},
            "Declined": {"entries": 1, "failures": 0, "retries": 0, "average_seconds": None},
            "Done": {"entries": 2, "failures": 0, "retries": 0, "average_seconds": 0.0},
            "Ship": {"entries": 2, "failures": 0, "retries": 0, "average_seconds": 10.0},
        },
    }
    assert list(stats["statuses"]) == ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]
    assert list(stats["states"]) == ["Charge", "Declined", "Done", "Ship"]


def test_the_window_includes_its_start_and_excludes_its_end(orders):
    # B started at START + 1 h, C at + 2 h, D at + 3 h.
    stats = execution_statistics("order", start=START + timedelta(hours=1), end=START + timedelta(hours=3))
    assert {status: figures["count"] for status, figures in stats["statuses"].items() if figures["count"]} == {
        "SUCCEEDED": 1, "FAILED": 1}
    assert stats["statuses"]["SUCCEEDED"]["p99_seconds"] == 16.0
    assert stats["states"]["Charge"] == {"entries": 2, "failures": 2, "retries": 1, "average_seconds": 3.5}
    assert stats["end"] == "2026-01-02T03:00:00+00:00"


def test_without_bounds_every_execution_counts(orders):
    stats = execution_statistics(StateMachine.objects.get(name="order"))
    assert stats["executions"] == 6
    assert stats["statuses"]["SUCCEEDED"] == {"count": 3, "average_seconds": 14.0, "p50_seconds": 15.0,
                                              "p95_seconds": 15.9, "p99_seconds": 15.98}
    assert stats["states"]["Ship"]["entries"] == 3
    assert (stats["start"], stats["end"]) == (None, None)


def test_an_empty_window_has_every_status_at_zero(orders):
    stats = execution_statistics("order", start=START + timedelta(days=1), end=START + timedelta(days=2))
    assert stats["executions"] == 0
    assert stats["statuses"] == {status: EMPTY_STATUS for status in Execution.Status.values}
    assert stats["states"] == {}
    assert execution_statistics("order", start=START, end=START)["executions"] == 0  # start == end: empty


def test_without_states_the_per_state_part_is_left_out(orders):
    stats = execution_statistics("order", start=START, include_states=False)
    assert "states" not in stats
    assert stats["statuses"]["FAILED"]["count"] == 2


def test_other_state_machines_do_not_count(orders, charge, clock, drain):
    other = publish("refund", {"StartAt": "Refund", "States": {"Refund": {"Type": "Pass", "End": True}}})
    run_at(START + timedelta(hours=5), other, {}, clock, drain)
    assert execution_statistics("refund")["states"] == {
        "Refund": {"entries": 1, "failures": 0, "retries": 0, "average_seconds": 0.0}}
    assert execution_statistics("order", start=START)["executions"] == 5


WORK = "urn:test:stats.work"
FAN_OUT = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map", "ToleratedFailureCount": 1, "Next": "Both",
            "ItemProcessor": {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": WORK, "End": True}}},
        },
        "Both": {
            "Type": "Parallel", "End": True,
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 1}],
            "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Task", "Resource": WORK, "End": True}}},
                {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "End": True}}},
            ],
        },
    },
}


def test_branches_and_iterations_count_per_state_not_per_status(tasks, clock, drain):
    calls = {"Left": 0}

    def work(payload, context):
        if context.state_name == "Left":
            calls["Left"] += 1
            if calls["Left"] == 1:
                raise ValueError("first try")  # fails the Parallel state, whose Retry runs it again
            return "left"
        clock.advance(payload)
        if payload == 3:
            raise ValueError("item 3")  # one failed iteration, tolerated
        return payload

    tasks[WORK] = work
    execution = run_at(START, publish("fan-out", FAN_OUT), [1, 2, 3], clock, drain)
    assert execution.status == "SUCCEEDED"
    stats = execution_statistics("fan-out")
    assert stats["executions"] == 1
    assert stats["statuses"]["SUCCEEDED"]["count"] == 1
    assert stats["states"] == {
        # one entry, two attempts (ParallelStateStarted twice), the first failed (ParallelStateFailed)
        "Both": {"entries": 1, "failures": 1, "retries": 1, "average_seconds": 1.0},
        # MapIterationFailed is the iteration's failure, counted in Work, not in Each
        "Each": {"entries": 1, "failures": 0, "retries": 0, "average_seconds": 6.0},
        "Left": {"entries": 2, "failures": 1, "retries": 0, "average_seconds": 0.0},
        # the first attempt's Right branch was aborted (Left had failed) before it ran
        "Right": {"entries": 1, "failures": 0, "retries": 0, "average_seconds": 0.0},
        # the iterations take 1, 2 and 3 s; the third fails and never leaves Work
        "Work": {"entries": 3, "failures": 1, "retries": 0, "average_seconds": 1.5},
    }


def test_a_timed_out_task_is_a_failure(tasks, clock, drain):
    def slow(payload, context):
        clock.advance(5)
        return "late"

    tasks[WORK] = slow
    machine = publish("slow", {"StartAt": "Call", "TimeoutSeconds": 3, "States": {
        "Call": {"Type": "Task", "Resource": WORK, "End": True}}})
    clock.advance_to(START)
    execution = start_execution(machine)
    advance_execution(execution.pk, inline=False)  # schedules the task; its handler never answers
    clock.advance(3)
    drain()  # the execution's TimeoutSeconds ends it
    stats = execution_statistics("slow")
    assert stats["statuses"]["TIMED_OUT"] == {"count": 1, "average_seconds": 3.0, "p50_seconds": 3.0,
                                              "p95_seconds": 3.0, "p99_seconds": 3.0}
    assert stats["states"] == {"Call": {"entries": 1, "failures": 0, "retries": 0, "average_seconds": None}}

    machine = publish("slow-task", {"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": WORK, "TimeoutSeconds": 2, "End": True}}})
    execution = start_execution(machine)
    advance_execution(execution.pk, inline=False)
    clock.advance(2)
    drain()  # the task's lease runs out at its TimeoutSeconds: TaskTimedOut
    assert execution_statistics("slow-task")["states"] == {
        "Call": {"entries": 1, "failures": 1, "retries": 0, "average_seconds": None}}


def test_the_public_api_is_also_on_django_asl():
    assert django_asl.execution_statistics is execution_statistics


# -- bad arguments -----------------------------------------------------------------------------------


def test_an_unknown_state_machine():
    with pytest.raises(StateMachineDoesNotExist, match="There is no state machine named 'nope'."):
        execution_statistics("nope")


def test_a_deleted_state_machine():
    machine = StateMachine.objects.create(name="gone")
    StateMachine.objects.filter(pk=machine.pk).delete()
    with pytest.raises(StateMachineDoesNotExist, match=r"There is no state machine with id \d+ \(was 'gone' deleted"):
        execution_statistics(machine)


@pytest.mark.parametrize("arguments, error, message", [
    # naive bounds, while USE_TZ is on
    ({"start": datetime(2026, 1, 1)}, ValueError, "start must be an aware datetime .settings.USE_TZ is True., "
                                                  "not the naive 2026-01-01T00:00:00"),
    ({"end": datetime(2026, 1, 1)}, ValueError, "end must be an aware datetime"),
    # the window the wrong way round
    ({"start": START, "end": START - timedelta(seconds=1)}, ValueError,
     r"The window's start \(2026-01-02T00:00:00\+00:00\) is after its end \(2026-01-01T23:59:59\+00:00\)."),
    # not datetimes
    ({"start": date(2026, 1, 1)}, TypeError, "start must be a datetime or None, not date."),
    ({"end": "2026-01-01"}, TypeError, "end must be a datetime or None, not str."),
])
def test_bad_windows(arguments, error, message):
    publish("order", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    with pytest.raises(error, match=message):
        execution_statistics("order", **arguments)


def test_a_state_machine_must_be_a_name_or_an_instance():
    with pytest.raises(TypeError, match="state_machine must be a StateMachine or a state machine name, not int."):
        execution_statistics(42)


# -- how figures are computed ---------------------------------------------------------------------


@pytest.mark.parametrize("values, fraction, expected", [
    ([], 0.5, None),  # no value
    ([7.0], 0.99, 7.0),  # one value is every percentile
    ([1.0, 3.0], 0.5, 2.0),  # halfway between two
    ([1.0, 2.0, 3.0, 4.0], 0.5, 2.5),  # an even count: between the middle two
    ([1.0, 2.0, 3.0, 4.0, 5.0], 0.5, 3.0),  # an odd count: the middle one
    ([0.0, 10.0, 20.0, 30.0, 40.0], 0.95, 38.0),  # position 3.8: 30 + 0.8 * 10
    ([0.0, 100.0], 0.99, 99.0),  # position 0.99
    ([0.0, 100.0], 0.0, 0.0),  # the smallest
    ([0.0, 100.0], 1.0, 100.0),  # the largest
])
def test_percentile_interpolates_linearly(values, fraction, expected):
    found = statistics.percentile(values, fraction)
    assert found is None if expected is None else found == pytest.approx(expected)


EVENT_KINDS = [
    ("TaskStateEntered", "entered"),  # every state type's entry
    ("FailStateEntered", "entered"),
    ("MapStateExited", "exited"),
    ("TaskScheduled", "attempt"),  # each attempt of a task ...
    ("LambdaFunctionScheduled", "attempt"),
    ("ActivityScheduled", "attempt"),
    ("ParallelStateStarted", "attempt"),  # ... or of a Parallel or Map state
    ("MapStateStarted", "attempt"),
    ("TaskFailed", "failure"),
    ("TaskTimedOut", "failure"),
    ("LambdaFunctionFailed", "failure"),
    ("ParallelStateFailed", "failure"),
    ("MapStateFailed", "failure"),
    ("ActivityScheduleFailed", "failure"),
    ("ExecutionFailed", None),  # the execution's own end
    ("ExecutionTimedOut", None),
    ("MapIterationFailed", None),  # an iteration's failure is counted in its own states
    ("MapIterationStarted", None),
    ("TaskStarted", None),
    ("TaskSucceeded", None),
    ("ExecutionStarted", None),
]


@pytest.mark.parametrize("event_type, kind", EVENT_KINDS)
def test_event_kind(event_type, kind):
    assert statistics.event_kind(event_type) == kind


# -- PostgreSQL: one statement, the same figures -------------------------------------------------------


@needs_postgresql
def test_postgresql_reads_everything_with_one_statement(orders, django_assert_max_num_queries):
    machine = StateMachine.objects.get(name="order")

    def statements(queries) -> list[str]:
        return [query["sql"] for query in queries.captured_queries if query["sql"].startswith("WITH")]

    # besides the statement: the rollup's watermark, and SET LOCAL jit = off (in a savepoint here)
    with django_assert_max_num_queries(5) as queries:
        execution_statistics(machine, start=START, end=START + timedelta(days=1))
    assert len(statements(queries)) == 1
    with django_assert_max_num_queries(1) as queries:
        execution_statistics(machine, include_states=False)
    assert len(statements(queries)) == 1
    with django_assert_max_num_queries(6) as queries:  # a name is looked up first: the planner then sees the id
        execution_statistics("order")
    assert len(statements(queries)) == 1
    with django_assert_max_num_queries(1):
        with pytest.raises(StateMachineDoesNotExist):
            execution_statistics("nope")


@needs_postgresql
@pytest.mark.parametrize("window", [
    {},  # everything
    {"start": START},
    {"end": START + timedelta(hours=2)},
    {"start": START + timedelta(hours=1), "end": START + timedelta(hours=3)},
])
def test_postgresql_and_the_portable_path_agree(orders, tasks, clock, drain, window):
    tasks[WORK] = lambda payload, context: payload
    run_at(START + timedelta(hours=1, minutes=30), publish("fan-out", FAN_OUT), [1, 2], clock, drain)
    for name in ("order", "fan-out"):
        machine = StateMachine.objects.get(name=name)
        start, end = window.get("start"), window.get("end")
        assert statistics._postgresql(name, start, end, True) == statistics._portable(machine, start, end, True)


@needs_postgresql
def test_percentile_matches_percentile_cont():
    generator = random.Random(4)
    for size in (1, 2, 3, 10, 101, 1000):
        values = [generator.lognormvariate(0, 1.5) for _ in range(size)]
        with connection.cursor() as cursor:
            cursor.execute("SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY v) "
                           "FROM unnest(%s::float8[]) AS v", [values])
            expected = cursor.fetchone()[0]
        ordered = sorted(values)
        assert [statistics.percentile(ordered, f) for f, _ in statistics.PERCENTILES] == pytest.approx(expected)


@needs_postgresql
def test_the_sql_classifies_events_as_event_kind_does():
    types = [event_type for event_type, _ in EVENT_KINDS]
    values = ", ".join(["(%s)"] * len(types))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT h.type, {statistics._SQL_KIND}, {statistics._SQL_RELEVANT} "
                       f"FROM (VALUES {values}) AS h(type)", types)
        rows = cursor.fetchall()
    codes = {"n": "entered", "x": "exited", "a": "attempt", "f": "failure", None: None}
    assert [(event_type, codes[code]) for event_type, code, _ in rows] == [
        (event_type, statistics.event_kind(event_type)) for event_type in types]
    # the pre-filter keeps every event that counts
    assert all(relevant for event_type, code, relevant in rows if code is not None)


# -- the rollup: whole hours from per-state counters, the same figures as history -----------------------


def from_history(name: str, start: datetime | None = None, end: datetime | None = None) -> dict:
    """Return the per-state figures of the window computed from history alone (the definition)."""
    machine = StateMachine.objects.get(name=name)
    sums = statistics._sums([Q(state_machine=machine) & statistics._window(start, end)], by_hour=False)
    return {state: statistics._state_sums_figures(*figures) for (_, state, _), figures in sorted(sums.items())}


def roll_up(limit: int | None = None) -> int:
    """Run the rollup until it has nothing left (no delay: the virtual clock's ends are committed)."""
    total = 0
    while True:
        counted = statistics.rollup_statistics(limit=limit, delay=timedelta(0))
        assert counted is not None  # no other process holds the watermark here
        if counted == 0:
            return total
        total += counted


def rollup_rows() -> list[tuple]:
    return sorted(StateStatistics.objects.values_list("state_machine__name", "state_name", "hour", "entries",
                                                      "failures", "retries", "exits", "microseconds"))


FAN_OUT_STRICT = {**FAN_OUT, "States": {**FAN_OUT["States"], "Each": {**FAN_OUT["States"]["Each"],
                                                                        "ToleratedFailureCount": 0}}}


@pytest.fixture
def many(charge, tasks, clock, drain):
    """Forty random orders and fan-outs over six hours from START (retries, catches, failures, Map and
    Parallel children, a failed Map), then two still running. Returns the windows to compare."""
    generator = random.Random(7)
    state = {"fail_item": True}

    def work(payload, context):
        if context.state_name == "Left":
            return "left"
        clock.advance(payload)
        if payload == 3 and state["fail_item"]:
            raise ValueError("item 3")
        return payload

    tasks[WORK] = work
    order, fan_out, strict = publish("order", ORDER), publish("fan-out", FAN_OUT), publish("strict", FAN_OUT_STRICT)
    moments = sorted(START + timedelta(seconds=generator.randrange(6 * 3600)) for _ in range(40))
    for moment in moments:
        pick = generator.random()
        if pick < 0.6:
            payload = {"work": generator.randint(1, 30), "fail_times": generator.choice([0, 0, 1, 5]),
                       "declined": generator.random() < 0.1}
            run_at(moment, order, payload, clock, drain)
        else:
            run_at(moment, strict if pick > 0.9 else fan_out, [generator.randint(1, 4) for _ in range(3)], clock, drain)
    clock.advance(60)
    for machine in (order, fan_out):
        advance_execution(start_execution(machine, {"work": 1} if machine is order else [1]).pk, inline=False)
    windows = [(None, None), (START, None), (None, START + timedelta(hours=3)),
               (START + timedelta(hours=1), START + timedelta(hours=4))]
    for _ in range(12):  # bounds inside hours, on hours, across every part
        start = START + timedelta(seconds=generator.randrange(-3600, 7 * 3600))
        windows.append((start, start + timedelta(seconds=generator.randrange(0, 6 * 3600))))
    return {"windows": windows, "state": state}


def figures_of(windows: list) -> dict:
    return {(name, start, end): execution_statistics(name, start=start, end=end)
            for name in ("order", "fan-out", "strict") for start, end in windows}


def test_the_rollup_gives_the_figures_of_history(many):
    before = figures_of(many["windows"])  # nothing rolled up: everything from history
    for (name, start, end), stats in before.items():
        assert stats["states"] == from_history(name, start, end)
    assert roll_up(limit=7) > 0  # in several transactions
    assert StateStatistics.objects.exists()
    assert figures_of(many["windows"]) == before


def test_whole_hours_come_from_the_rollup_the_rest_from_history(many):
    six_hours = (START, START + timedelta(hours=6))
    before = execution_statistics("order", start=six_hours[0], end=six_hours[1])
    running = Execution.objects.get(state_machine__name="order", status="RUNNING")
    around = (running.start_date - timedelta(microseconds=1), running.start_date + timedelta(microseconds=1))
    roll_up()
    HistoryEvent.objects.filter(execution__stop_date__isnull=False).delete()  # the rollup alone knows them now
    assert execution_statistics("order", start=six_hours[0], end=six_hours[1]) == before
    # a window inside one hour reads history only: what is left of it is the running order's Charge
    assert execution_statistics("order", start=around[0], end=around[1])["states"] == {
        "Charge": {"entries": 1, "failures": 0, "retries": 0, "average_seconds": None}}


def test_rolling_up_again_counts_nothing_twice(many):
    roll_up()
    rows = rollup_rows()
    assert statistics.rollup_statistics(delay=timedelta(0)) == 0
    assert roll_up() == 0
    assert rollup_rows() == rows
    assert statistics.rebuild_statistics_rollup(delay=timedelta(0)) == Execution.objects.filter(
        stop_date__isnull=False).count()
    assert rollup_rows() == rows


def test_executions_that_end_after_the_rollup_count_from_history_then_from_the_rollup(many, clock, drain):
    windows = many["windows"]
    roll_up()
    running = list(Execution.objects.filter(status="RUNNING", parent=None))
    assert len(running) == 2
    drain()  # they end now
    assert not Execution.objects.filter(status="RUNNING").exists()
    after_end = figures_of(windows)
    for (name, start, end), stats in after_end.items():
        assert stats["states"] == from_history(name, start, end)
    roll_up()
    assert figures_of(windows) == after_end


def test_the_rollup_waits_for_its_delay(orders, clock):
    clock.advance_to(START + timedelta(hours=5))
    assert statistics.rollup_statistics(delay=timedelta(hours=3)) == 3  # the early order, A and B ended 3 h ago
    assert {row[1] for row in rollup_rows()} == {"Charge", "Done", "Ship"}
    assert execution_statistics("order")["states"] == from_history("order")


def test_a_redriven_execution_leaves_the_rollup_until_it_ends_again(many, clock, drain):
    windows = many["windows"]
    roll_up()
    failed = list(Execution.objects.filter(parent=None, status="FAILED").order_by("start_date"))
    strict = [execution for execution in failed if execution.state_machine.name == "strict"]
    assert strict and len(failed) > len(strict)  # a failed Map, and failed orders
    many["state"]["fail_item"] = False  # the Map's failed iteration succeeds this time
    redriven = [strict[0], next(execution for execution in failed if execution.state_machine.name == "order")]
    for execution in redriven:
        redrive_execution(execution)
    assert StatisticsPending.objects.filter(root__in=redriven).exists()
    check = figures_of(windows)  # running again: their whole trees from history
    for (name, start, end), stats in check.items():
        assert stats["states"] == from_history(name, start, end)
    roll_up()  # still running (the order waits for its retry): nothing of them rolled up
    assert figures_of(windows) == check
    clock.advance(60)
    drain()
    for execution in redriven:
        execution.refresh_from_db()
        assert execution.status != "RUNNING"
    ended = figures_of(windows)
    for (name, start, end), stats in ended.items():
        assert stats["states"] == from_history(name, start, end)
    roll_up()
    assert not StatisticsPending.objects.exists()
    assert figures_of(windows) == ended
    assert statistics.rebuild_statistics_rollup(delay=timedelta(0)) > 0
    assert figures_of(windows) == ended


def test_purging_executions_takes_them_out_of_the_rollup(many):
    roll_up()
    call_command("asl_purge", "--older-than", "0", stdout=io.StringIO())  # every ended execution
    assert Execution.objects.filter(parent=None).count() == 2  # the two running ones
    assert not StateStatistics.objects.exists()
    for (name, start, end), stats in figures_of(many["windows"]).items():
        assert stats["states"] == from_history(name, start, end)


def test_rollup_arguments_are_checked():
    with pytest.raises(ValueError, match="limit must be a positive number"):
        statistics.rollup_statistics(limit=0)
    with pytest.raises(ValueError, match="delay must be a timedelta"):
        statistics.rollup_statistics(delay=5)
    with pytest.raises(ValueError, match="batch must be a positive number"):
        statistics.rebuild_statistics_rollup(batch=-1)


def test_the_timer_loop_rolls_up_once_a_minute(orders, clock, monkeypatch):
    calls = []
    monkeypatch.setattr(statistics, "rollup_statistics", lambda: calls.append(1) or 0)
    monkeypatch.setattr(statistics, "_last_rollup", 0.0)
    run_due_timers()
    run_due_timers()
    assert calls == [1]


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_rollups_on_postgresql_never_count_twice(charge, clock, drain):
    machine = publish("order", ORDER)
    for hour in range(6):
        run_at(START + timedelta(hours=hour, minutes=17), machine, {"work": hour + 1, "fail_times": hour % 2}, clock,
               drain)
    clock.advance(1)  # the rollup counts executions that ended before now
    expected = from_history("order")
    StatisticsRollup.objects.get_or_create(pk=1)  # as migration 0007 left it (transactional tests flush it)
    held, release = threading.Event(), threading.Event()

    def hold_the_watermark():
        with transaction.atomic():
            statistics._lock(skip_locked=False)
            held.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_the_watermark)
    holder.start()
    held.wait(10)
    try:
        assert statistics.rollup_statistics(delay=timedelta(0)) is None  # another process holds it: skipped
    finally:
        release.set()
        holder.join()
    results, barrier = [], threading.Barrier(2)

    def rollup():
        barrier.wait(10)
        results.append(statistics.rollup_statistics(limit=None, delay=timedelta(0)))
        connection.close()

    threads = [threading.Thread(target=rollup) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # one counted the six orders; the other skipped (None) or came after it and found nothing (0)
    assert sorted(results, key=lambda count: -1 if count is None else count) in ([None, 6], [0, 6])
    assert sum(row[3] for row in rollup_rows()) == sum(figures["entries"] for figures in expected.values())
    assert execution_statistics("order")["states"] == expected
    HistoryEvent.objects.all().delete()  # from the rollup alone now
    assert execution_statistics("order", start=START, end=START + timedelta(hours=6))["states"] == expected
