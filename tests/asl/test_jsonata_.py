"""JSONata expressions: compiled once per definition, AWS's functions, and QueryEvaluationError texts."""
from __future__ import annotations

import hashlib
import random

import pytest

from django_asl import asl
from django_asl.asl import jsonata_
from django_asl.asl.context import Context, Env
from django_asl.asl.errors import StatesError


def pass_output(output, data=None, **context):
    """Run a one-state JSONata machine whose Pass state has ``output`` as its Output."""
    definition = {"QueryLanguage": "JSONata", "StartAt": "P",
                  "States": {"P": {"Type": "Pass", "Output": output, "End": True}}}
    return asl.run(definition, data if data is not None else {}, context=Context(**context) if context else None)


@pytest.mark.parametrize("output, data, expected", [
    ("{% $partition([1, 2, 3, 4, 5], 2) %}", {}, [[1, 2], [3, 4], [5]]),  # last chunk shorter
    ("{% $range(0, 10, 5) %}", {}, [0, 5, 10]),  # end included, like States.ArrayRange
    ("{% $range(3, 1, -1) %}", {}, [3, 2, 1]),  # negative step
    ("{% $hash('abc', 'SHA-256') %}", {}, hashlib.sha256(b"abc").hexdigest()),
    ("{% $parse($states.input.text) %}", {"text": '{"a": [1, null]}'}, {"a": [1, None]}),
    ("{% $random(7) = $random(7) %}", {}, True),  # seeded: the same seed, the same number
    ("{% $states.input.a %}", {"a": None}, None),  # null is a value, not "returned nothing"
    ("{% [$states.input.a, 1] %}", {"a": None}, [None, 1]),
    ("{% $states.context.State.Name %}", {}, "P"),
    ({"sum": "{% $sum($states.input.n) %}", "literal": "$sum"}, {"n": [1, 2.5]}, {"sum": 3.5, "literal": "$sum"}),
    ("{% 6 / 2 %}", {}, 3),  # integral numbers come out as integers
])
def test_expressions_and_aws_functions(output, data, expected):
    result = pass_output(output, data)
    assert (result.status, result.output) == ("SUCCEEDED", expected)


def test_now_reads_the_execution_clock_not_the_system_clock():
    from datetime import datetime, timezone

    from django_asl.asl import VirtualClock

    moment = datetime(2030, 5, 1, 12, 0, tzinfo=timezone.utc)
    result = pass_output({"now": "{% $now() %}", "millis": "{% $millis() %}"}, clock=VirtualClock(moment))
    assert result.output == {"now": "2030-05-01T12:00:00.000Z", "millis": int(moment.timestamp()) * 1000}


def test_random_and_uuid_come_from_the_context():
    result = pass_output({"r": "{% $random() %}", "u": "{% $uuid() %}"},
                         rng=random.Random(3), uuid_factory=lambda: "fixed-uuid")
    assert result.output == {"r": random.Random(3).random(), "u": "fixed-uuid"}


@pytest.mark.parametrize("output, cause", [
    # AWS's text for an expression that gives undefined
    ({"x": "{% $nothing %}"}, "The JSONata expression '$nothing' specified for the field 'Output/x' returned nothing "
                              "(undefined)."),
    ("{% 'a' + 1 %}", "The JSONata expression ''a' + 1' specified for the field 'Output' threw an error during "
                      "evaluation: T2001: The left side of the + operator must evaluate to a number"),
    ("{% function($x){$x} %}", "The JSONata expression 'function($x){$x}' specified for the field 'Output' returned "
                               "an unsupported result type."),
    ("{% $partition('no', 1) %}", "The JSONata function '$partition' expects an array as its first argument, but "
                                  "was: \"no\""),
    ("{% $hash('a', 'CRC32') %}", "The JSONata function '$hash' does not support the algorithm \"CRC32\"; use MD5, "
                                  "SHA-1, SHA-256, SHA-384, SHA-512."),
])
def test_failures_are_query_evaluation_errors_with_aws_texts(output, cause):
    result = pass_output(output)
    assert result.error == "States.QueryEvaluationError"
    assert result.cause == "An error occurred while executing the state 'P' (entered at the event id #2). " + cause


def test_eval_is_refused_even_where_the_validator_cannot_see_it():
    expression = jsonata_.Expression("{% $eval('1') %}", "Output")
    env = Env(Context(), "P")
    with pytest.raises(StatesError) as caught:
        expression.evaluate(jsonata_.bindings(env, {}))
    assert caught.value.cause == "The JSONata function '$eval' is not supported in Step Functions; use '$parse' instead."


def test_a_choice_condition_must_give_a_boolean():
    definition = {"QueryLanguage": "JSONata", "StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.n %}", "Next": "D"}], "Default": "D"},
        "D": {"Type": "Succeed"}}}
    result = asl.run(definition, {"n": 1})
    assert result.cause.endswith("The JSONata expression '$states.input.n' specified for the field 'Condition' "
                                 "returned an unexpected result type. Expected 'boolean', but was 'number' for value: 1")


def test_expressions_are_compiled_once_per_definition_not_per_evaluation(monkeypatch):
    calls = []
    real = jsonata_.Jsonata

    def counting(text):
        calls.append(text)
        return real(text)

    monkeypatch.setattr(jsonata_, "Jsonata", counting)
    definition = {"QueryLanguage": "JSONata", "StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"n": "{% $states.input.n + 1 %}"}, "Next": "B"},
        "B": {"Type": "Pass", "Output": {"n": "{% $n * 2 %}"}, "End": True}}}
    machine = asl.parse_definition(definition)
    compiled = len(calls)
    assert compiled == 4  # at parse time, each of the two expressions is checked (validator) and compiled
    for n in range(5):
        assert asl.run(machine, {"n": n}).output == {"n": (n + 1) * 2}
    assert asl.run(definition, {"n": 1}).output == {"n": 4}  # the same dict: the parsed machine is reused
    assert len(calls) == compiled


@pytest.mark.parametrize("body, problem", [
    ("$states.input.a", None),
    ("$states.input.items[$.price > 1]", None),  # '$' inside a predicate is the context item
    ("$.a", "must not use '$' at the top level"),
    ("$eval('1')", "uses the JSONata function '$eval'"),
    ("1 +", "is not a valid JSONata expression"),
])
def test_check_expression(body, problem):
    found = jsonata_.check_expression(body)
    assert (found is None) if problem is None else (problem in found)


@pytest.mark.parametrize("source, data", [
    ("{% $states.input.a.b %}", {"a": {"b": [1]}}),  # an array at the end stays an array
    ("{% $states.input.a.b %}", {"a": [{"b": 1}, {"b": 2}]}),  # an array on the way maps the path: [1, 2]
    ("{% $states.input.a.b %}", {"a": {"b": None}}),  # null
    ("{% $states.input.a %}", {"a": {"b": {"c": None}}}),
    ("{% $states.input.a.b %}", {"a": "text"}),  # undefined
    ("{% $v.k %}", {}),  # a variable
    ("{% $sum %}", {}),  # a JSONata function, not a variable: an unsupported result
])
def test_plain_paths_read_directly_give_what_jsonata_gives(source, data):
    env = Env(Context(), "P", variables={"v": {"k": [None, 1]}})
    fast = jsonata_.Expression(source, "Output")
    slow = jsonata_.Expression(source, "Output")
    slow.path = None  # always through jsonata-python

    def outcome(expression):
        try:
            return expression.evaluate(jsonata_.bindings(env, data))
        except StatesError as exc:
            return exc.cause

    assert fast.path is not None
    assert outcome(fast) == outcome(slow)
