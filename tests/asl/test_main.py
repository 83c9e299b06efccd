"""The language core's command line: test-state (validate and run are exercised through the docs' examples)."""
from __future__ import annotations

import json

import pytest

from django_asl.asl.__main__ import main

MACHINE = {"StartAt": "Charge", "States": {
    "Charge": {"Type": "Task", "Resource": "urn:charge", "Assign": {"paid.$": "$.paid"},
               "Catch": [{"ErrorEquals": ["Declined"], "Next": "Sorry"}], "Next": "Done"},
    "Sorry": {"Type": "Fail"}, "Done": {"Type": "Succeed"}}}


@pytest.fixture
def definition(tmp_path):
    path = tmp_path / "machine.json"
    path.write_text(json.dumps(MACHINE))
    return str(path)


@pytest.mark.parametrize("arguments, code, expected", [
    (["--mock-result", '{"paid": true}'], 0, {"status": "SUCCEEDED", "output": {"paid": True}, "nextState": "Done"}),
    (["--mock-error", "Declined", "--mock-cause", "no"], 0,
     {"status": "CAUGHT_ERROR", "error": "Declined", "cause": "no", "nextState": "Sorry",
      "output": {"Error": "Declined", "Cause": "no"}}),
    (["--mock-error", "Other"], 1, {"status": "FAILED", "error": "Other"}),
])
def test_test_state_prints_the_response(definition, capsys, arguments, code, expected):
    assert main(["test-state", definition, "--state", "Charge", *arguments]) == code
    assert json.loads(capsys.readouterr().out) == expected


def test_test_state_debug_shows_variables(definition, capsys):
    assert main(["test-state", definition, "--state", "Charge", "--mock-result", '{"paid": 1}',
                 "--variables", '{"x": 2}', "--inspection-level", "DEBUG"]) == 0
    assert json.loads(capsys.readouterr().out)["inspectionData"]["variables"] == {"x": 2, "paid": 1}


@pytest.mark.parametrize("arguments, message", [
    (["--state", "Charge"], "needs mock_result or mock_error"),
    (["--state", "Nope", "--mock-result", "1"], "no state named 'Nope'"),
    (["--state", "Charge", "--mock-result", "{bad"], "--mock-result is not valid JSON"),
    (["--state", "Charge", "--variables", "[1]"], "--variables must be a JSON object"),
    (["--state", "Charge", "--mock-cause", "x"], "--mock-cause needs --mock-error"),
])
def test_test_state_bad_arguments_exit_2_with_one_line(definition, capsys, arguments, message):
    assert main(["test-state", definition, *arguments]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message in error and "Traceback" not in error


def test_test_state_reads_one_state_from_yaml(tmp_path, capsys):
    path = tmp_path / "state.yaml"
    path.write_text("Type: Pass\nQueryLanguage: JSONata\nOutput: '{% $states.input.n * 2 %}'\nNext: Later\n")
    assert main(["test-state", str(path), "--input", '{"n": 4}']) == 0
    assert json.loads(capsys.readouterr().out) == {"status": "SUCCEEDED", "output": 8, "nextState": "Later"}


def test_test_state_reports_a_definition_issue_on_stderr(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Missing"}}}))
    assert main(["test-state", str(path), "--state", "A"]) == 1
    assert "refers to state 'Missing', which does not exist" in capsys.readouterr().err
