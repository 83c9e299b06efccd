"""test_state: one state in isolation, with AWS's TestState response shape."""
from __future__ import annotations

import pytest

from django_asl.asl import DefinitionError, test_state
from django_asl.asl.teststate import response_as_aws_json

CHARGE = {"StartAt": "Charge", "States": {
    "Charge": {"Type": "Task", "Resource": "urn:charge", "InputPath": "$.order",
               "Parameters": {"amount.$": "$.amount"}, "ResultSelector": {"ok.$": "$.paid"}, "ResultPath": "$.charge",
               "Assign": {"paid.$": "$.ok"},
               "Retry": [{"ErrorEquals": ["Timeout"], "MaxAttempts": 2}],
               "Catch": [{"ErrorEquals": ["Declined"], "Next": "Sorry"}], "Next": "Ship"},
    "Sorry": {"Type": "Fail"}, "Ship": {"Type": "Succeed"}}}
ORDER = {"order": {"amount": 5}}


@pytest.mark.parametrize("options, expected", [
    # a result: the output and the next state
    ({"mock_result": {"paid": True}},
     {"status": "SUCCEEDED", "output": {"order": {"amount": 5}, "charge": {"ok": True}}, "nextState": "Ship"}),
    # an error a Catcher takes: its Next and the error output
    ({"mock_error": {"error": "Declined", "cause": "no money"}},
     {"status": "CAUGHT_ERROR", "error": "Declined", "cause": "no money", "nextState": "Sorry",
      "output": {"Error": "Declined", "Cause": "no money"}}),
    # an error a Retrier matches: the state would run again
    ({"mock_error": "Timeout"}, {"status": "RETRIABLE", "error": "Timeout"}),
    # an error nothing handles
    ({"mock_error": "Other"}, {"status": "FAILED", "error": "Other"}),
    # a handler instead of a mock
    ({"tasks": {"urn:charge": lambda payload: {"paid": payload["amount"] > 1}}},
     {"status": "SUCCEEDED", "output": {"order": {"amount": 5}, "charge": {"ok": True}}, "nextState": "Ship"}),
])
def test_task_outcomes(options, expected):
    assert test_state(CHARGE, "Charge", ORDER, **options) == expected


def test_debug_shows_each_processing_step_and_the_variables():
    response = test_state(CHARGE, "Charge", ORDER, mock_result={"paid": True}, variables={"old": 1},
                          inspection_level="DEBUG")
    assert response["inspectionData"] == {
        "input": ORDER, "afterInputPath": {"amount": 5}, "afterParameters": {"amount": 5},
        "result": {"paid": True}, "afterResultSelector": {"ok": True},
        "afterResultPath": {"order": {"amount": 5}, "charge": {"ok": True}},
        "variables": {"old": 1, "paid": True},
    }
    aws = response_as_aws_json(response)
    assert (aws["output"], aws["inspectionData"]["result"]) == ('{"order":{"amount":5},"charge":{"ok":true}}',
                                                                '{"paid":true}')


def test_a_single_jsonata_state_with_variables():
    state = {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $x + 1 %}", "Assign": {"y": "{% $x * 10 %}"},
             "Next": "Later"}
    response = test_state(state, "P", {}, variables={"x": 1}, inspection_level="TRACE")
    assert response == {"status": "SUCCEEDED", "output": 2, "nextState": "Later",
                        "inspectionData": {"input": {}, "variables": {"x": 1, "y": 10}}}


@pytest.mark.parametrize("state, data, expected", [
    ({"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": True, "Next": "Yes"}], "Default": "No"},
     {"a": 1}, {"status": "SUCCEEDED", "output": {"a": 1}, "nextState": "Yes"}),
    # a Wait state does not wait
    ({"Type": "Wait", "Seconds": 86400, "End": True}, {"a": 1}, {"status": "SUCCEEDED", "output": {"a": 1}}),
    ({"Type": "Fail", "Error": "Bad", "Cause": "why"}, {}, {"status": "FAILED", "error": "Bad", "cause": "why"}),
    # a Map runs its iterations in memory
    ({"Type": "Map", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
      "End": True}, [1, 2], {"status": "SUCCEEDED", "output": [1, 2]}),
])
def test_other_state_types(state, data, expected):
    assert test_state(state, None, data) == expected


def test_a_state_inside_a_branch_can_be_tested():
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "Result": 7, "End": True}}}]}}}
    assert test_state(definition, "Inner", {}) == {"status": "SUCCEEDED", "output": 7}


@pytest.mark.parametrize("options, error, text", [
    ({"state_name": "Nope"}, ValueError, "no state named 'Nope'; its states are: Charge, Ship, Sorry"),
    ({"state_name": "Charge"}, ValueError, "needs mock_result or mock_error, or a handler for 'urn:charge'"),
    ({"state_name": "Charge", "inspection_level": "ALL"}, ValueError, "inspection_level must be one of"),
    ({"state_name": "Charge", "mock_result": 1, "mock_error": "E"}, ValueError, "not both"),
    ({"state_name": "Charge", "mock_error": 5}, TypeError, "mock_error must be an error name"),
    ({"state_name": "Charge", "variables": [1]}, TypeError, "variables must be a mapping"),
    ({"state_name": "Ship", "mock_result": 1}, ValueError, "A Succeed state has no result to mock"),
])
def test_bad_arguments_say_what_is_wrong(options, error, text):
    name = options.pop("state_name")
    with pytest.raises(error, match=text.replace("(", r"\(")):
        test_state(CHARGE, name, ORDER, **options)


def test_an_invalid_definition_lists_its_issues():
    with pytest.raises(DefinitionError):
        test_state({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Missing"}}}, "A", {})
