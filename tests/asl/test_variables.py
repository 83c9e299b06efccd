"""Variables: Assign in both query languages, evaluation order, scope and size limits."""
from __future__ import annotations

import pytest

from django_asl import asl


def machine(states: dict, start: str = "A", language: str | None = None) -> dict:
    definition = {"StartAt": start, "States": states}
    if language:
        definition["QueryLanguage"] = language
    return definition


def test_assignments_of_one_state_see_the_old_values_and_so_does_its_output():
    definition = machine({
        "A": {"Type": "Pass", "Assign": {"x": 1, "y": 10}, "Next": "B"},
        # x and y both read the values from before B: y is 1, not 2; Output sees the old x too.
        "B": {"Type": "Pass", "Assign": {"x": "{% $x + 1 %}", "y": "{% $x %}"},
              "Output": {"x": "{% $x %}"}, "Next": "C"},
        "C": {"Type": "Pass", "Output": {"x": "{% $x %}", "y": "{% $y %}", "before": "{% $states.input.x %}"},
              "End": True},
    }, language="JSONata")
    assert asl.run(definition, {}).output == {"x": 2, "y": 1, "before": 1}


def test_jsonpath_assign_reads_the_result_and_the_context():
    definition = machine({
        "A": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "ResultPath": "$.copy",
              "Assign": {"n.$": "$.n", "state.$": "$$.State.Name", "const": [1]}, "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"n.$": "$n", "state.$": "$state", "const.$": "$const"}, "End": True},
    })
    assert asl.run(definition, {"n": 5}).output == {"n": 5, "state": "A", "const": [1]}


def test_a_catcher_assigns_from_the_error_output_in_both_languages():
    task = "urn:fails"

    def fails(_input):
        raise ValueError("boom")

    jsonpath = machine({
        "A": {"Type": "Task", "Resource": task, "Assign": {"never": 1},
              "Catch": [{"ErrorEquals": ["States.ALL"], "Assign": {"why.$": "$.Cause"}, "ResultPath": None,
                         "Next": "B"}], "End": True},
        "B": {"Type": "Pass", "Parameters": {"why.$": "$why"}, "End": True},
    })
    assert asl.run(jsonpath, {}, tasks={task: fails}).output == {"why": "boom"}
    jsonata = machine({
        "A": {"Type": "Task", "Resource": task,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Assign": {"error": "{% $states.errorOutput.Error %}"},
                         "Output": "{% $states.input %}", "Next": "B"}], "End": True},
        "B": {"Type": "Pass", "Output": {"error": "{% $error %}", "input": "{% $states.input %}"}, "End": True},
    }, language="JSONata")
    assert asl.run(jsonata, {"k": 1}, tasks={task: fails}).output == {"error": "ValueError", "input": {"k": 1}}


def test_a_state_that_fails_assigns_nothing():
    definition = machine({
        "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "B"},
        # B's Assign is evaluated, then its Output fails: the catcher's path sees x as it was.
        "B": {"Type": "Task", "Resource": "urn:echo", "Assign": {"x": 2}, "Output": "{% $missing %}",
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}], "Next": "C"},
        "C": {"Type": "Pass", "Output": {"x": "{% $x %}", "error": "{% $states.input.Error %}"}, "End": True},
    }, language="JSONata")
    result = asl.run(definition, {}, tasks={"urn:echo": lambda value: value})
    assert result.output == {"x": 1, "error": "States.QueryEvaluationError"}


def test_branches_see_outer_variables_but_keep_their_own():
    definition = machine({
        "A": {"Type": "Pass", "Assign": {"x": "outer"}, "Next": "P"},
        "P": {"Type": "Parallel", "Branches": [
            {"StartAt": "B1", "States": {
                "B1": {"Type": "Pass", "Assign": {"inner": "one"}, "Next": "B2"},
                "B2": {"Type": "Pass", "Output": ["{% $x %}", "{% $inner %}"], "End": True}}},
        ], "Next": "After"},
        # $inner does not exist out here: the branch's assignment stayed inside it.
        "After": {"Type": "Pass", "Output": {"results": "{% $states.input %}", "inner": "{% $exists($inner) %}"},
                  "End": True},
    }, language="JSONata")
    assert asl.run(definition, {}).output == {"results": [["outer", "one"]], "inner": False}


def test_a_choice_rule_adds_its_assignments_to_the_states():
    definition = machine({
        "C": {"Type": "Choice", "Assign": {"seen": "{% $states.input.n %}", "path": "default"},
              "Choices": [{"Condition": "{% $states.input.n > 1 %}", "Assign": {"path": "big"}, "Next": "D"}],
              "Default": "D"},
        "D": {"Type": "Pass", "Output": {"seen": "{% $seen %}", "path": "{% $path %}"}, "End": True},
    }, start="C", language="JSONata")
    assert asl.run(definition, {"n": 5}).output == {"seen": 5, "path": "big"}
    assert asl.run(definition, {"n": 0}).output == {"seen": 0, "path": "default"}


@pytest.mark.parametrize("assign, cause", [
    # AWS: at most 256 KiB per variable
    ({"big": "{% $pad('', 262145, 'x') %}"}, "The value assigned to the variable 'big' has 262147 bytes, more than "
                                             "the maximum of 262144 bytes."),
    # ... and per Assign field
    ({"a": "{% $pad('', 140000, 'x') %}", "b": "{% $pad('', 140000, 'x') %}"},
     "The values of the Assign field have 280004 bytes together, more than the maximum of 262144 bytes."),
])
def test_assignments_are_limited_in_size(assign, cause):
    definition = machine({"A": {"Type": "Pass", "Assign": assign, "End": True}}, language="JSONata")
    result = asl.run(definition, {})
    assert (result.error, result.cause) == ("States.DataLimitExceeded", cause)
