"""The SQL statements of one engine step: a run of Pass and Choice states, a task, a Parallel branch.

The design (``django_asl/engine/runtime.py``): a step locks the execution row,
inserts every history event it produced in one INSERT, stores the new position
in one UPDATE, and commits, so "a Pass or Choice transition costs at most 3 SQL
statements, and runs of such states are batched". These tests pin the exact
statements, with the transaction's BEGIN and COMMIT (Django logs both), so a
query added to the step shows up here by name.

The tests use real transactions (``transaction=True``): inside the test case's
atomic block a step would show SAVEPOINT/RELEASE instead of BEGIN/COMMIT.
"""
from __future__ import annotations

import re

import pytest
from django.db import connection, transaction
from django.dispatch import Signal
from django.test.utils import CaptureQueriesContext

from django_asl import signals
from django_asl.engine import advance_execution, executions, publish, queue, run_task, start_execution
from django_asl.engine.machines import machine_for
from django_asl.models import Execution, HistoryEvent

pytestmark = pytest.mark.django_db(transaction=True)

RESOURCE = "urn:test:add"
EXECUTION = "django_asl_execution"
HISTORY = "django_asl_historyevent"


def locked() -> str:
    """Return the label of the step's locking SELECT (SQLite has no FOR UPDATE; Django drops it)."""
    return f"SELECT {EXECUTION} FOR UPDATE" if connection.features.has_select_for_update else f"SELECT {EXECUTION}"


def label(sql: str) -> str:
    """Return a statement as '<verb> <table>' ('SELECT <table> FOR UPDATE' when it locks)."""
    verb = sql.split(None, 1)[0].upper()
    if verb == "WITH":  # a data-modifying WITH: its UPDATE, then its INSERT
        return " ".join(["WITH", *(label(part) for part in re.findall(r'(UPDATE "\w+"|INSERT INTO "\w+")', sql))])
    if verb == "DECLARE":  # a server-side cursor (QuerySet.iterator() on PostgreSQL): FETCHes follow
        return f"DECLARE CURSOR FOR {label(sql.split(' FOR ', 1)[1])}"
    if verb in {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}:
        return verb
    pattern = {"SELECT": r'\bFROM "(\w+)"', "INSERT": r'^INSERT INTO "(\w+)"', "UPDATE": r'^UPDATE "(\w+)"',
               "DELETE": r'^DELETE FROM "(\w+)"'}.get(verb)
    match = re.search(pattern, sql) if pattern else None
    text = f"{verb} {match.group(1)}" if match else sql
    return f"{text} FOR UPDATE" if verb == "SELECT" and " FOR UPDATE" in sql else text


def labels(captured) -> list[str]:
    return [label(query["sql"]) for query in captured.captured_queries]


def chain(length: int) -> dict:
    """Return a machine of ``length`` states: Pass and Choice alternating, ending with a Pass."""
    names = [f"S{index:03d}" for index in range(length)]
    states = {}
    for index, name in enumerate(names):
        last = index == length - 1
        if index % 2 == 1 and not last:
            states[name] = {"Type": "Choice", "Default": names[index + 1], "Choices": [
                {"Variable": "$.step.index", "NumericLessThan": 0, "Next": names[-1]}]}
        else:
            state = {"Type": "Pass", "Parameters": {"index": index, "seed.$": "$.seed"}, "ResultPath": "$.step"}
            states[name] = {**state, "End": True} if last else {**state, "Next": names[index + 1]}
    return {"StartAt": names[0], "States": states}


def chain_history(length: int) -> list[str]:
    kinds = ["Choice" if index % 2 == 1 and index != length - 1 else "Pass" for index in range(length)]
    return ["ExecutionStarted", *[f"{kind}State{event}" for kind in kinds for event in ("Entered", "Exited")],
            "ExecutionSucceeded"]


def warm(execution: Execution) -> None:
    """Parse the execution's version as a worker that has run it before has (see the cold test below)."""
    machine_for(execution.version)


def history(execution: Execution) -> list[str]:
    return list(HistoryEvent.objects.filter(execution=execution).order_by("sequence").values_list("type", flat=True))


@pytest.fixture(autouse=True)
def no_receivers(monkeypatch) -> None:
    """Disconnect every receiver of django-asl's signals (installed apps may have some): engine work only."""
    for signal in vars(signals).values():
        if isinstance(signal, Signal):
            monkeypatch.setattr(signal, "receivers", [])
            monkeypatch.setattr(signal, "sender_receivers_cache", {})


@pytest.fixture
def queued(monkeypatch) -> list[tuple]:
    """Record queued work (function name and arguments) as its transaction commits, instead of running it."""
    work: list[tuple] = []

    def enqueue(function: str, *args) -> None:
        transaction.on_commit(lambda: work.append((function.rsplit(".", 1)[-1], *args)))

    monkeypatch.setattr(queue, "enqueue", enqueue)
    monkeypatch.setattr(executions, "enqueue", enqueue)
    return work


@pytest.mark.parametrize("length", [5, 50])  # a short run and a long one cost the same statements
def test_a_run_of_pass_and_choice_states_is_one_lock_one_insert_one_update(length, clock, queued):
    execution = start_execution(publish("chain", chain(length)), {"seed": 7})
    assert queued == [("advance_execution", str(execution.pk))]
    warm(execution)
    with CaptureQueriesContext(connection) as captured:
        advance_execution(execution.pk)
    assert labels(captured) == ["BEGIN", locked(), f"INSERT {HISTORY}", f"UPDATE {EXECUTION}", "COMMIT"]
    execution.refresh_from_db()
    assert (execution.status, execution.output) == (Execution.Status.SUCCEEDED, {
        "seed": 7, "step": {"index": length - 1, "seed": 7}})
    assert history(execution) == chain_history(length)


# SQLite takes at most 999 parameters per statement, so Django splits an INSERT of more
# than 166 history rows (6 columns each): keep the loops below that.
@pytest.mark.parametrize("iterations", [3, 30])
def test_a_choice_loop_is_one_step(iterations, clock, queued):
    definition = {"StartAt": "Check", "States": {
        "Check": {"Type": "Choice", "Default": "Done",
                  "Choices": [{"Variable": "$.i", "NumericLessThan": iterations, "Next": "Incr"}]},
        "Incr": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)"}, "Next": "Check"},
        "Done": {"Type": "Succeed"},
    }}
    execution = start_execution(publish("loop", definition), {"i": 0})
    warm(execution)
    with CaptureQueriesContext(connection) as captured:
        advance_execution(execution.pk)
    assert labels(captured) == ["BEGIN", locked(), f"INSERT {HISTORY}", f"UPDATE {EXECUTION}", "COMMIT"]
    execution.refresh_from_db()
    assert (execution.status, execution.output) == (Execution.Status.SUCCEEDED, {"i": iterations})
    loop = ["ChoiceStateEntered", "ChoiceStateExited", "PassStateEntered", "PassStateExited"]
    assert history(execution) == ["ExecutionStarted", *loop * iterations, "ChoiceStateEntered", "ChoiceStateExited",
                                  "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"]


def tasks_chain(length: int) -> dict:
    """Return a machine of ``length`` Task states and a final Pass."""
    names = [f"T{index:02d}" for index in range(length)] + ["Done"]
    states = {name: {"Type": "Task", "Resource": RESOURCE, "Next": names[index + 1]}
              for index, name in enumerate(names[:-1])}
    return {"StartAt": names[0], "States": {**states, "Done": {"Type": "Pass", "End": True}}}


def tasks_history(length: int) -> list[str]:
    task = ["TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited"]
    return ["ExecutionStarted", *task * length, "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]


def test_reaching_a_task_is_one_step(clock, tasks, queued):
    tasks[RESOURCE] = lambda event: {**event, "n": event["n"] + 1}
    execution = start_execution(publish("tasks", tasks_chain(2)), {"n": 0})
    queued.clear()
    warm(execution)
    with CaptureQueriesContext(connection) as captured:
        advance_execution(execution.pk, inline=False)  # as the timer loop calls it: the task is queued
    assert labels(captured) == ["BEGIN", locked(), f"INSERT {HISTORY}", f"UPDATE {EXECUTION}", "COMMIT"]
    assert queued == [("run_task", str(execution.pk), 2, 0)]
    assert history(execution) == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted"]


# The first task a worker takes from the queue: the load reads the pending call for the
# handler, outside any transaction; the result is then recorded under the lock.
FIRST_TASK = [f"SELECT {EXECUTION}", "BEGIN", "<lock>", f"INSERT {HISTORY}", f"UPDATE {EXECUTION}", "COMMIT"]


def next_task() -> list[str]:
    """Return the statements of each next task of a chain, run in the same worker right after
    the last commit, from the state it has in memory: a compare-and-set UPDATE and an INSERT.
    On PostgreSQL they are one statement, which is a transaction of its own."""
    if connection.vendor == "postgresql":
        return [f"WITH UPDATE {EXECUTION} INSERT {HISTORY}"]
    return ["BEGIN", f"INSERT {HISTORY}", f"UPDATE {EXECUTION}", "COMMIT"]


@pytest.mark.parametrize("length", [1, 2, 5])  # each further task costs the same statements
def test_a_task_chain_is_one_load_then_one_write_per_task(length, clock, tasks, queued):
    tasks[RESOURCE] = lambda event: {**event, "n": event["n"] + 1}
    execution = start_execution(publish("tasks", tasks_chain(length)), {"n": 0})
    advance_execution(execution.pk, inline=False)
    (_, _, entered, attempt), = queued[1:]
    with CaptureQueriesContext(connection) as captured:
        run_task(execution.pk, entered, attempt)
    first = [locked() if statement == "<lock>" else statement for statement in FIRST_TASK]
    assert labels(captured) == first + next_task() * (length - 1)
    execution.refresh_from_db()
    assert (execution.status, execution.output) == (Execution.Status.SUCCEEDED, {"n": length})
    assert history(execution) == tasks_history(length)


PARALLEL = {"StartAt": "Fan", "States": {"Fan": {"Type": "Parallel", "End": True, "Branches": [
    {"StartAt": f"B{branch}", "States": {f"B{branch}": {"Type": "Pass", "Result": branch, "End": True}}}
    for branch in range(2)]}}}


def test_a_branch_step_locks_the_branch_then_the_parent(clock, queued):
    execution = start_execution(publish("parallel", PARALLEL), {})
    advance_execution(execution.pk)
    children = [args[0] for _, *args in queued[1:]]
    assert len(children) == 2
    # A branch that ends records its end in the parent, in the same transaction:
    # the parent's lock and UPDATE. The branch's Context comes from the root
    # execution, which the step should not need a query of its own to read.
    with CaptureQueriesContext(connection) as captured:
        advance_execution(children[0])
    assert labels(captured) == ["BEGIN", locked(), f"INSERT {HISTORY}", f"UPDATE {EXECUTION}",
                                locked(), f"UPDATE {EXECUTION}", "COMMIT"]
    # The last branch also reads the branches' outputs, then the parent's input and
    # state input (left unread by the other branches' ends), and resumes the parent.
    # With every branch ended there is no running sibling left to abort.
    with CaptureQueriesContext(connection) as captured:
        advance_execution(children[1])
    assert labels(captured) == ["BEGIN", locked(), f"INSERT {HISTORY}", f"UPDATE {EXECUTION}",
                                locked(), f"SELECT {EXECUTION}", f"SELECT {EXECUTION}", f"INSERT {HISTORY}",
                                f"UPDATE {EXECUTION}", "COMMIT"]
    execution.refresh_from_db()
    assert (execution.status, execution.output) == (Execution.Status.SUCCEEDED, [0, 1])
    assert history(execution) == ["ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted",
                                  "ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"]


def test_a_worker_reads_a_definition_once_per_version(clock, queued, monkeypatch):
    # The locking SELECT leaves the (large) definition out; a worker that has not parsed
    # this version yet reads it once, then keeps the parsed machine.
    from collections import OrderedDict

    from django_asl.engine import machines

    monkeypatch.setattr(machines, "_cache", OrderedDict())
    sm = publish("chain", chain(3))
    first, second = start_execution(sm, {"seed": 1}), start_execution(sm, {"seed": 2})
    with CaptureQueriesContext(connection) as captured:
        advance_execution(first.pk)
    assert labels(captured) == ["BEGIN", locked(), "SELECT django_asl_statemachineversion",
                                f"INSERT {HISTORY}", f"UPDATE {EXECUTION}", "COMMIT"]
    with CaptureQueriesContext(connection) as captured:
        advance_execution(second.pk)
    assert labels(captured) == ["BEGIN", locked(), f"INSERT {HISTORY}", f"UPDATE {EXECUTION}", "COMMIT"]


def test_a_task_chain_started_in_a_worker_never_reads_the_execution_back(clock, tasks, queued):
    # advance_execution reaches the first task and runs it at once in the same worker,
    # from the step it just committed: no load, no second lock.
    tasks[RESOURCE] = lambda event: {**event, "n": event["n"] + 1}
    execution = start_execution(publish("tasks", tasks_chain(3)), {"n": 0})
    warm(execution)
    with CaptureQueriesContext(connection) as captured:
        advance_execution(execution.pk)
    assert labels(captured) == ["BEGIN", locked(), f"INSERT {HISTORY}", f"UPDATE {EXECUTION}", "COMMIT",
                                *next_task() * 3]
    execution.refresh_from_db()
    assert (execution.status, execution.output) == (Execution.Status.SUCCEEDED, {"n": 3})
    assert history(execution) == tasks_history(3)


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="prepared statements are PostgreSQL's")
@pytest.mark.parametrize("prepared", [True, False])
def test_the_task_write_is_prepared_on_the_server_unless_turned_off(prepared, clock, tasks, queued, settings):
    settings.DJANGO_ASL = {"PREPARED_STATEMENTS": prepared}
    connection.close()  # a new session: no statement prepared yet
    tasks[RESOURCE] = lambda event: {**event, "n": event["n"] + 1}
    execution = start_execution(publish("tasks", tasks_chain(4)), {"n": 0})
    advance_execution(execution.pk)
    execution.refresh_from_db()
    assert (execution.status, execution.output) == (Execution.Status.SUCCEEDED, {"n": 4})
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'WITH updated AS%%'")
        assert (cursor.fetchone()[0] > 0) == prepared
