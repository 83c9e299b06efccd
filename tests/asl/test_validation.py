"""Tests for ``django_asl.asl.validation``: one fixture per rule, wording, inputs and limits."""
from __future__ import annotations

import json
import pathlib
import time

import pytest

from django_asl.asl.errors import DefinitionError, Issue
from django_asl.asl.loading import load_text
from django_asl.asl.validation import MAX_DEPTH, load_definition, validate

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "validation"
RULE_FILES = sorted(p for p in FIXTURES.glob("invalid-*.json") if not p.name.endswith(".issues.json"))
R = "arn:aws:lambda:us-east-1:123456789012:function:work"
MINIMAL = {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}


def codes(issues: list[Issue]) -> list[tuple[str, str]]:
    return [(issue.path, issue.code) for issue in issues]


@pytest.mark.parametrize("fixture", RULE_FILES, ids=lambda p: p.stem)
def test_rule_fixture(fixture: pathlib.Path) -> None:
    # each invalid-<rule>.json sits next to invalid-<rule>.issues.json, its expected (path, code) list
    expected = json.loads(fixture.with_name(fixture.stem + ".issues.json").read_text(encoding="utf-8"))
    issues = validate(json.loads(fixture.read_text(encoding="utf-8")))
    assert codes(issues) == [(item["path"], item["code"]) for item in expected]
    assert all(issue.is_error and issue.message for issue in issues)


@pytest.mark.parametrize(
    "definition",
    [
        MINIMAL,  # the smallest machine
        {"StartAt": "T", "States": {  # every transition kind, retry boundaries, catch
            "T": {"Type": "Task", "Resource": R, "TimeoutSeconds": 30, "HeartbeatSeconds": 29, "Next": "C",
                  "Retry": [{"ErrorEquals": ["Custom"], "MaxAttempts": 0, "IntervalSeconds": 1, "BackoffRate": 1,
                             "MaxDelaySeconds": 1, "JitterStrategy": "FULL"},
                            {"ErrorEquals": ["States.ALL"]}],
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F", "ResultPath": None}]},
            "C": {"Type": "Choice", "Default": "W", "Choices": [
                {"And": [{"Variable": "$.a", "StringMatches": "x*"},
                         {"Not": {"Variable": "$.b", "TimestampLessThan": "2016-03-14T01:59:00.123+01:00"}}],
                 "Next": "P"}]},
            "W": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "P"},
            "P": {"Type": "Parallel", "Next": "M", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}]},
            "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 0, "End": True,
                  "ItemSelector": {"v.$": "$$.Map.Item.Value", "n.$": "States.MathAdd(1, 2)"},
                  "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "I",
                                    "States": {"I": {"Type": "Pass", "End": True}}}},
            "F": {"Type": "Fail", "Error": "E"},
        }},
        {"QueryLanguage": "JSONata", "StartAt": "A", "States": {  # JSONata fields and expressions
            "A": {"Type": "Pass", "Output": {"x": "{% $states.input.items[$ > 1] %}"},
                  "Assign": {"total": "{% $sum($states.input.n) %}"}, "Next": "C"},
            "C": {"Type": "Choice", "Default": "D", "Choices": [{"Condition": "{% $total > 1 %}", "Next": "D"}]},
            "D": {"Type": "Wait", "Seconds": "{% $total %}", "End": True},
        }},
        {"StartAt": "É" * 80, "States": {"É" * 80: {"Type": "Succeed"}}},  # 80 characters is allowed
    ],
)
def test_valid_definitions_have_no_issues(definition: dict) -> None:
    assert validate(definition) == []


def test_message_wording() -> None:
    # the three wording helpers: "must be", "refers to", and statements about a field
    issues = validate({"StartAt": "A", "TimeoutSeconds": -1, "States": {
        "A": {"Type": "Pass", "Next": "Nope"}, "name with space": {"Type": "Succeed"}}})
    assert [issue.message for issue in issues] == [
        "The value of '$.TimeoutSeconds' must be a positive integer.",
        "'$.States.A.Next' refers to state 'Nope', which does not exist.",
        "'$.States['name with space']' cannot be reached from StartAt 'A'.",
    ]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", "invalid_json"),  # prose
        ('{"a": NaN}', "invalid_json"),  # NaN is not JSON
        ('{"StartAt":"A","States":{"A":{"Type":"Succeed"},"A":{"Type":"Succeed"}}}', "duplicate_key"),  # kept visible
        (b"\xff\xfe{}", "invalid_encoding"),  # UTF-16 byte order mark
        (b'{"a": "\xff"}', "invalid_encoding"),  # not UTF-8
        ("[" * 5000 + "]" * 5000, "too_deep"),  # the parser's stack
        ("", "invalid_json"),  # empty
    ],
)
def test_bad_text(text: str | bytes, code: str) -> None:
    assert code in [issue.code for issue in validate(text)]


def test_text_and_bytes_with_bom_are_read() -> None:
    text = json.dumps(MINIMAL)
    assert validate(text) == []
    assert validate(b"\xef\xbb\xbf" + text.encode()) == []


def test_yaml_is_read_only_when_asked() -> None:
    text = "StartAt: A\nStates:\n  A:\n    Type: Succeed\n"
    assert [issue.code for issue in validate(text)] == ["invalid_json"]
    assert validate(text, format="yaml") == []


def test_yaml_aliases_are_refused() -> None:
    # billion laughs: each level doubles through aliases
    lines = ["a0: &a0 [x, x]"] + [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, 40)]
    started = time.perf_counter()
    value, issues = load_text("\n".join(lines), format="yaml")
    assert value is None and issues[0].code == "invalid_yaml"
    assert time.perf_counter() - started < 1


def test_unknown_format_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        validate(MINIMAL, format="toml")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (None, "wrong_type"),  # not a definition at all
        ({"StartAt", "States"}, "wrong_type"),  # a set is not JSON
        ({**MINIMAL, "TimeoutSeconds": float("inf")}, "wrong_type"),  # not a finite number
        ({"StartAt": "A", "States": {1: {"Type": "Succeed"}}}, "wrong_type"),  # a key that is not a string
    ],
)
def test_python_values(value: object, code: str) -> None:
    assert code in [issue.code for issue in validate(value)]


def test_cycles_and_depth_become_issues() -> None:
    cyclic: dict = {"StartAt": "A", "States": {}}
    cyclic["States"]["A"] = cyclic
    assert "cyclic_value" in [issue.code for issue in validate(cyclic)]
    deep: dict = {"Type": "Pass", "End": True}
    result = deep
    for _ in range(MAX_DEPTH + 10):
        result["Result"] = {}
        result = result["Result"]
    assert "too_deep" in [issue.code for issue in validate({"StartAt": "A", "States": {"A": deep}})]


def test_hostile_mapping_does_not_escape() -> None:
    class Raising(dict):
        def items(self):
            raise RuntimeError("boom")

    assert isinstance(validate(Raising(MINIMAL)), list)


def test_internal_errors_become_issues(monkeypatch: pytest.MonkeyPatch) -> None:
    from django_asl.asl import validation

    def broken(self, data):
        raise KeyError("bug")

    monkeypatch.setattr(validation._Validator, "run", broken)
    assert [issue.code for issue in validate(MINIMAL)] == ["internal_error"]


def test_every_issue_is_collected() -> None:
    states = {f"S{i}": {"Type": "Pass", "Next": f"missing{i}", "ResultPath": 7} for i in range(1000)}
    issues = validate({"StartAt": "S0", "States": states})
    assert len([i for i in issues if i.code == "unknown_state"]) == 1000
    assert len([i for i in issues if i.code == "wrong_type"]) == 1000


def test_large_machine_is_fast() -> None:
    states = {f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}", "InputPath": "$.a[0].b"} for i in range(10_000)}
    states["S9999"] = {"Type": "Succeed"}
    started = time.perf_counter()
    assert validate({"StartAt": "S0", "States": states}) == []
    assert time.perf_counter() - started < 1


def test_load_definition_raises_once_with_every_error() -> None:
    assert load_definition(json.dumps(MINIMAL)) == MINIMAL
    with pytest.raises(DefinitionError) as caught:
        load_definition({"StartAt": "A", "States": {"A": {"Type": "Pass"}, "B": {"Type": "Nope"}}})
    assert {issue.code for issue in caught.value.issues} >= {"missing_transition", "unknown_state_type"}
