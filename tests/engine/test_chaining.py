"""Chained executions and re-runs: input from a source execution's output or one of its states, links both ways."""
from __future__ import annotations

import uuid

import pytest

from django_asl.engine import (
    ExecutionAlreadyExists,
    InvalidExecutionInput,
    SourceExecutionDoesNotExist,
    SourceOutputUnavailable,
    describe_execution,
    publish,
    rerun_execution,
    start_execution,
)
from django_asl.models import Execution

pytestmark = pytest.mark.django_db

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
# Counts n up to 3 through the state "Count" (which exits three times), then fails.
COUNT_THEN_FAIL = {"StartAt": "Count", "States": {
    "Count": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Next": "Enough?"},
    "Enough?": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThan": 3, "Next": "Count"}],
                "Default": "Boom"},
    "Boom": {"Type": "Fail", "Error": "Broken", "Cause": "on purpose"},
}}
# Exits "First", then waits a long time.
FIRST_THEN_WAIT = {"StartAt": "First", "States": {
    "First": {"Type": "Pass", "Result": {"ready": True}, "Next": "Nap"},
    "Nap": {"Type": "Wait", "Seconds": 3600, "End": True},
}}
PLAIN_KEYS = {"execution_id", "name", "state_machine", "version", "status", "input", "output", "error", "cause",
              "start_date", "stop_date", "parent", "redrive_count"}


@pytest.fixture
def machines(tasks):
    publish("target", PASS)
    publish("source", {"StartAt": "Out", "States": {"Out": {"Type": "Pass", "Result": {"n": 7}, "End": True}}})
    publish("counter", COUNT_THEN_FAIL)
    publish("slow", FIRST_THEN_WAIT)


def run(drain, *executions: Execution) -> list[Execution]:
    """Run everything queued and due to its end; return the executions as they ended."""
    drain()
    for execution in executions:
        execution.refresh_from_db()
    return list(executions)


def test_a_chained_execution_starts_from_the_source_output_and_is_linked_both_ways(machines, drain):
    [source] = run(drain, start_execution("source", {"ignored": True}, name="src"))
    assert source.output == {"n": 7}
    chained = start_execution("target", source_execution=source, name="next")
    [chained] = run(drain, chained)
    assert (chained.input, chained.output, chained.status) == ({"n": 7}, {"n": 7}, "SUCCEEDED")
    assert (chained.source_execution, chained.source_state, chained.source_link) == (source, "", "chained")
    assert list(source.chained_executions.all()) == [chained]
    described = describe_execution(chained)
    assert {key: described[key] for key in ("source_execution_id", "source_state", "source_link")} == {
        "source_execution_id": str(source.pk), "source_state": None, "source_link": "chained"}
    assert describe_execution(source)["chained_execution_ids"] == [str(chained.pk)]


def test_the_source_may_be_given_by_its_id(machines, drain):
    [source] = run(drain, start_execution("source"))
    chained = start_execution("target", source_execution=str(source.pk))
    assert (chained.input, chained.source_execution_id) == ({"n": 7}, source.pk)


def test_chaining_from_a_state_takes_its_last_output_even_from_a_failed_source(machines, drain):
    [source] = run(drain, start_execution("counter", {"n": 0}))
    assert (source.status, source.error) == ("FAILED", "Broken")
    chained = start_execution("target", source_execution=source, source_state="Count")
    assert chained.input == {"n": 3}  # "Count" exited with n = 1, 2, 3: the last one counts
    assert (chained.source_state, chained.source_link) == ("Count", "chained")
    assert describe_execution(chained)["source_state"] == "Count"


def test_chaining_from_a_state_of_a_running_source(machines, drain, django_capture_on_commit_callbacks):
    from django_asl.engine.timers import run_due_timers

    source = start_execution("slow")
    with django_capture_on_commit_callbacks(execute=True):
        run_due_timers()
    source.refresh_from_db()
    assert source.status == "RUNNING"
    assert start_execution("target", source_execution=source, source_state="First").input == {"ready": True}
    with pytest.raises(SourceOutputUnavailable, match=r"is RUNNING, not SUCCEEDED"):
        start_execution("target", source_execution=source)
    with pytest.raises(SourceOutputUnavailable, match=r"The state 'Nap' of the source execution .* never exited"):
        start_execution("target", source_execution=source, source_state="Nap")


def test_a_callable_transformer_reshapes_the_input(machines, drain):
    [source] = run(drain, start_execution("source"))
    chained = start_execution("target", source_execution=source, input_transformer=lambda value: {"got": value})
    assert chained.input == {"got": {"n": 7}}


def test_a_template_transformer_sees_the_value_and_the_source_in_the_context_object(machines, drain):
    [source] = run(drain, start_execution("counter", {"n": 0}, name="counting"))
    chained = start_execution("target", source_execution=source, source_state="Count", input_transformer={
        "count.$": "$.n", "next.$": "States.MathAdd($.n, 1)", "from.$": "$$.Execution.Name",
        "fromInput.$": "$$.Execution.Input", "state.$": "$$.State.Name", "machine.$": "$$.StateMachine.Name",
        "fixed": {"kept": [1, 2]},
    })
    assert chained.input == {"count": 3, "next": 4, "from": "counting", "fromInput": {"n": 0}, "state": "Count",
                             "machine": "counter", "fixed": {"kept": [1, 2]}}


@pytest.mark.parametrize("transformer, error, message", [
    # a path the value does not have
    ({"x.$": "$.missing"}, InvalidExecutionInput, r"template failed on the output of the source execution"),
    # not a JSONPath
    ({"x.$": "not a path"}, ValueError, r"not a valid payload template"),
    # neither a callable nor a dict
    ("$.n", TypeError, r"must be a callable or a payload template \(a dict\), not str"),
    # a callable returning something that is not JSON
    (lambda value: {1, 2}, InvalidExecutionInput, r"must be JSON"),
    # a callable returning too much
    (lambda value: "x" * 300_000, InvalidExecutionInput, r"the limit is 262144 bytes"),
])
def test_a_bad_transformer_or_its_bad_result_is_refused(machines, drain, transformer, error, message):
    [source] = run(drain, start_execution("source", name="src"))
    with pytest.raises(error, match=message):
        start_execution("target", source_execution=source, input_transformer=transformer)
    assert not Execution.objects.exclude(pk=source.pk).exists()


def test_chaining_errors_name_what_is_wrong(machines, drain):
    [failed] = run(drain, start_execution("counter", {"n": 0}, name="failing"))
    [succeeded] = run(drain, start_execution("source", name="good"))
    with pytest.raises(SourceOutputUnavailable, match=r"'failing' .* is FAILED, not SUCCEEDED.*pass source_state"):
        start_execution("target", source_execution=failed)
    with pytest.raises(SourceOutputUnavailable, match=r"The state 'Nowhere' of the source execution 'good'"):
        start_execution("target", source_execution=succeeded, source_state="Nowhere")
    with pytest.raises(TypeError, match=r"takes an input or a source_execution to take it from, not both"):
        start_execution("target", {"a": 1}, source_execution=succeeded)
    with pytest.raises(TypeError, match=r"source_state and input_transformer need a source_execution"):
        start_execution("target", source_state="Out")
    with pytest.raises(TypeError, match=r"source_state and input_transformer need a source_execution"):
        start_execution("target", input_transformer={"a": 1})
    with pytest.raises(ValueError, match=r"source_state must be a state name"):
        start_execution("target", source_execution=succeeded, source_state="")
    missing = uuid.uuid4()
    with pytest.raises(SourceExecutionDoesNotExist, match=rf"There is no execution with id '{missing}'"):
        start_execution("target", source_execution=missing)
    with pytest.raises(SourceExecutionDoesNotExist, match=r"There is no execution with id 'order-42'"):
        start_execution("target", source_execution="order-42")
    unsaved = Execution()
    with pytest.raises(SourceExecutionDoesNotExist, match=rf"There is no execution with id '{unsaved.pk}'"):
        start_execution("target", source_execution=unsaved)
    assert Execution.objects.count() == 2


def test_the_same_name_and_chained_input_returns_the_existing_execution(machines, drain):
    [source] = run(drain, start_execution("source"))
    first = start_execution("target", source_execution=source, name="once")
    assert start_execution("target", source_execution=source, name="once") == first
    with pytest.raises(ExecutionAlreadyExists):
        start_execution("target", source_execution=source, name="once", input_transformer={"other": True})


def test_an_unlinked_execution_is_described_as_before(machines, drain):
    [execution] = run(drain, start_execution("target", {"a": 1}))
    assert set(describe_execution(execution)) == PLAIN_KEYS


def test_a_rerun_repeats_the_input_on_the_current_version_and_links_to_the_original(machines, drain):
    [original] = run(drain, start_execution("counter", {"n": 1}, name="first-try"))
    publish("counter", {**COUNT_THEN_FAIL, "States": {**COUNT_THEN_FAIL["States"], "Boom": {"Type": "Succeed"}}})
    rerun = rerun_execution(original, name="second-try")
    [rerun] = run(drain, rerun)
    assert (rerun.input, rerun.status, rerun.output, rerun.version.number) == ({"n": 1}, "SUCCEEDED", {"n": 3}, 2)
    assert (rerun.source_execution, rerun.source_state, rerun.source_link) == (original, "", "rerun")
    assert list(original.chained_executions.all()) == [rerun]
    assert describe_execution(rerun)["source_link"] == "rerun"
    original.refresh_from_db()
    assert (original.status, original.version.number) == ("FAILED", 1)  # the original is left as it was


def test_a_rerun_may_take_an_edited_input_and_the_original_by_id(machines, drain):
    [original] = run(drain, start_execution("source", {"a": 1}))
    rerun = rerun_execution(str(original.pk), input={"a": 2})
    assert (rerun.input, rerun.state_machine.name, rerun.source_execution_id) == ({"a": 2}, "source", original.pk)
    with pytest.raises(InvalidExecutionInput, match="limit is 262144 bytes"):
        rerun_execution(original, input={"blob": "x" * 300_000})


def test_only_existing_top_level_executions_can_be_rerun(machines, drain):
    publish("fan", {"StartAt": "Fan", "States": {"Fan": {
        "Type": "Map", "End": True,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}})
    [parent] = run(drain, start_execution("fan", [1]))
    child = parent.children.get()
    with pytest.raises(ValueError, match=rf"is a branch or iteration of {parent.pk}; only top-level"):
        rerun_execution(child)
    with pytest.raises(SourceExecutionDoesNotExist):
        rerun_execution(uuid.uuid4())
