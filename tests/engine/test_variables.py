"""Variables are stored with the execution: they survive between steps (a worker restart) and reach children."""
from __future__ import annotations

import pytest

from django_asl.engine import execution_variables, publish, start_execution
from django_asl.models import Execution

WAIT_BETWEEN = {
    "QueryLanguage": "JSONata",
    "StartAt": "Remember",
    "States": {
        "Remember": {"Type": "Pass", "Assign": {"order": "{% $states.input.order %}", "count": 1}, "Next": "Nap"},
        "Nap": {"Type": "Wait", "Seconds": 60, "Assign": {"count": "{% $count + 1 %}"}, "Next": "Use"},
        "Use": {"Type": "Pass", "Output": {"order": "{% $order %}", "count": "{% $count %}"}, "End": True},
    },
}

MAP_SCOPE = {
    "StartAt": "Outer",
    "States": {
        "Outer": {"Type": "Pass", "Assign": {"x": 42}, "Next": "Each"},
        "Each": {
            "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
            "ItemProcessor": {"StartAt": "Inner", "States": {
                "Inner": {"Type": "Pass", "Parameters": {"seen.$": "$x", "item.$": "$"},
                          "Assign": {"mine": "set inside"}, "Next": "Nap"},
                "Nap": {"Type": "Wait", "Seconds": 5, "End": True},
            }},
            "Next": "After",
        },
        "After": {"Type": "Pass", "Parameters": {"x.$": "$x", "results.$": "$"}, "End": True},
        # An iteration's own variables ("mine") stay inside it: referring to one here would fail.
    },
}


@pytest.mark.django_db
def test_variables_are_stored_in_the_cursor_while_the_execution_waits(clock, drain, django_capture_on_commit_callbacks):
    machine = publish("remember", WAIT_BETWEEN)
    with django_capture_on_commit_callbacks(execute=True):
        execution = start_execution(machine, {"order": "A-1"})
    # Re-read from the database, as a new worker would after a restart.
    stored = Execution.objects.get(pk=execution.pk)
    assert stored.cursor["state"] == "Nap"
    # The Wait state's Assign takes effect when it is left, but is evaluated on entry and kept.
    assert execution_variables(stored) == {"order": "A-1", "count": 2}
    drain()
    stored.refresh_from_db()
    assert (stored.status, stored.output) == ("SUCCEEDED", {"order": "A-1", "count": 2})
    assert execution_variables(stored) == {}  # a succeeded execution keeps no position


@pytest.mark.django_db
def test_map_iterations_start_with_the_outer_variables_and_keep_their_own(clock, drain,
                                                                          django_capture_on_commit_callbacks):
    machine = publish("map-scope", MAP_SCOPE)
    with django_capture_on_commit_callbacks(execute=True):
        execution = start_execution(machine, {"items": [1, 2]})
    first = Execution.objects.get(parent=execution, child_index=0)
    assert execution_variables(first) == {"x": 42, "mine": "set inside"}  # waits in Nap, after its own Assign
    waiting = Execution.objects.get(parent=execution, child_index=1)
    assert execution_variables(waiting) == {"x": 42}  # stored at the fork, before its turn
    drain()
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"
    assert execution.output == {"x": 42, "results": [{"seen": 42, "item": 1}, {"seen": 42, "item": 2}]}


@pytest.mark.django_db
def test_execution_variables_refuses_what_is_not_an_execution():
    with pytest.raises(TypeError, match="takes an Execution, not dict"):
        execution_variables({"cursor": {}})


@pytest.mark.django_db
def test_a_redrive_enters_the_failed_state_with_its_variables(clock, drain, tasks):
    from django_asl.engine import redrive_execution

    definition = {"QueryLanguage": "JSONata", "StartAt": "Remember", "States": {
        "Remember": {"Type": "Pass", "Assign": {"order": "{% $states.input.order %}"}, "Next": "Charge"},
        "Charge": {"Type": "Task", "Resource": "urn:charge", "Output": {"order": "{% $order %}",
                                                                          "paid": "{% $states.result %}"},
                   "End": True},
    }}

    def declined(payload):
        raise RuntimeError("declined")

    tasks["urn:charge"] = declined
    execution = start_execution(publish("redrive-vars", definition), {"order": "A-7"})
    drain()
    execution.refresh_from_db()
    assert (execution.status, execution_variables(execution)) == ("FAILED", {"order": "A-7"})
    tasks["urn:charge"] = lambda payload: True
    redrive_execution(execution)
    drain()
    execution.refresh_from_db()
    assert (execution.status, execution.output) == ("SUCCEEDED", {"order": "A-7", "paid": True})
