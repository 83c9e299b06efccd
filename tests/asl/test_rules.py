"""Tests for django_asl.asl.rules: Choice Rules in JSONPath mode."""
from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from django_asl.asl.context import Context, Env
from django_asl.asl.errors import StatesError
from django_asl.asl.rules import OPERATORS, compile_rule

ENV = Env(Context(), "Choose")
TYPES = [None, 0, 0.0, 1, 1.1, "", " ", "HelloWorld", "2012-10-09T19:00:55Z", [], [""], {}, {"A": 0}, True, False]


def evaluate(rule, data, env=ENV):
    return compile_rule(rule)(data, env)


def test_operator_list_is_complete():
    comparisons = [
        f"{kind}{relation}"
        for kind in ("String", "Numeric", "Timestamp")
        for relation in ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
    ] + ["BooleanEquals"]
    tests = ["IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp", "StringMatches"]
    assert OPERATORS == frozenset(comparisons + [name + "Path" for name in comparisons] + tests)


@pytest.mark.parametrize(
    "operator, operand, value, expected",
    [
        # equal strings
        ("StringEquals", "Hello", "Hello", True),
        # string equality is case-sensitive
        ("StringEquals", "Hello", "hello", False),
        # a number is never equal to a string
        ("StringEquals", "1", 1, False),
        # null is not the string "null"
        ("StringEquals", "null", None, False),
        # "" < "A"
        ("StringLessThan", "A", "", True),
        # a prefix sorts first
        ("StringLessThan", "AB", "A", True),
        # not less than itself
        ("StringLessThan", "A", "A", False),
        # "A" is not greater than "A " (AWS)
        ("StringGreaterThan", "A ", "A", False),
        # "AB" is not greater than "ABC" (AWS)
        ("StringGreaterThan", "ABC", "AB", False),
        # lowercase sorts after uppercase
        ("StringGreaterThan", "Z", "a", True),
        # "" >= "" (AWS)
        ("StringGreaterThanEquals", "", "", True),
        # "A" is not >= "AB" (AWS)
        ("StringGreaterThanEquals", "AB", "A", False),
        # "" <= "" (AWS)
        ("StringLessThanEquals", "", "", True),
        # ordering operators compare strings only
        ("StringLessThanEquals", "5", 1, False),
        # Java orders by UTF-16 code unit: an emoji (surrogate pair) sorts before U+FFFD
        ("StringLessThan", "\ufffd", "\U0001f600", True),
        # ... and U+FFFD after the emoji
        ("StringGreaterThan", "\U0001f600", "\ufffd", True),
        # non-ASCII below U+D800 keeps code point order
        ("StringLessThan", "\u00e9", "e", True),
        # 0 == 0.0 (AWS)
        ("NumericEquals", 0, 0.0, True),
        # 1.0 == 1
        ("NumericEquals", 1.0, 1, True),
        # true is not 1 (AWS)
        ("NumericEquals", 1, True, False),
        # false is not 0
        ("NumericEquals", 0, False, False),
        # null is not 0 (AWS)
        ("NumericEquals", 0, None, False),
        # a numeric string is not a number
        ("NumericEquals", 1, "1", False),
        # an array holding a number is not a number
        ("NumericEquals", 1, [1], False),
        # large integers compare exactly
        ("NumericEquals", 2**63 + 1, 2**63, False),
        # ... and are equal when equal
        ("NumericEquals", 12345678901234567890, 12345678901234567890, True),
        # 2**53 + 1 is not the float 2**53
        ("NumericEquals", 2.0**53, 2**53 + 1, False),
        # 0 < 1 (AWS)
        ("NumericLessThan", 1, 0, True),
        # 1 is not < 1 (AWS)
        ("NumericLessThan", 1, 1, False),
        # negative decimals
        ("NumericLessThan", -2.25, -2.5, True),
        # 1 is not > 1 (AWS)
        ("NumericGreaterThan", 1, 1, False),
        # 1.5 > 1
        ("NumericGreaterThan", 1, 1.5, True),
        # 0.0 >= 0 (AWS)
        ("NumericGreaterThanEquals", 0, 0.0, True),
        # 0 is not >= 1 (AWS)
        ("NumericGreaterThanEquals", 1, 0, False),
        # 1 <= 1 (AWS)
        ("NumericLessThanEquals", 1, 1, True),
        # a string is never <= a number
        ("NumericLessThanEquals", 1, "0", False),
        # false == false
        ("BooleanEquals", False, False, True),
        # true != false (AWS)
        ("BooleanEquals", True, False, False),
        # 0 is not false (AWS)
        ("BooleanEquals", False, 0, False),
        # null is not false (AWS)
        ("BooleanEquals", False, None, False),
        # the string "true" is not true
        ("BooleanEquals", True, "true", False),
        # the same timestamp (AWS)
        ("TimestampEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", True),
        # one second later (AWS)
        ("TimestampEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", False),
        # the same instant in another offset
        ("TimestampEquals", "2012-10-09T19:00:55Z", "2012-10-09T20:00:55+01:00", True),
        # the same instant with a zero fraction
        ("TimestampEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55.000Z", True),
        # a non-timestamp string (AWS)
        ("TimestampEquals", "2012-10-09T19:00:55Z", "", False),
        # a timestamp without "Z" is not a timestamp
        ("TimestampEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55", False),
        # an object (AWS)
        ("TimestampEquals", "2012-10-09T19:00:55Z", {"A": 0}, False),
        # strictly earlier (AWS)
        ("TimestampLessThan", "2012-10-09T19:00:56Z", "2012-10-09T19:00:55Z", True),
        # not earlier than itself (AWS)
        ("TimestampLessThan", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", False),
        # one nanosecond earlier
        ("TimestampLessThan", "2012-10-09T19:00:55.000000002Z", "2012-10-09T19:00:55.000000001Z", True),
        # not later than itself (AWS)
        ("TimestampGreaterThan", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", False),
        # later by its offset: 19:30 at -01:00 is 20:30 UTC
        ("TimestampGreaterThan", "2012-10-09T20:00:00Z", "2012-10-09T19:30:00-01:00", True),
        # 55 is not >= 56 (AWS)
        ("TimestampGreaterThanEquals", "2012-10-09T19:00:56Z", "2012-10-09T19:00:55Z", False),
        # equal is >=
        ("TimestampGreaterThanEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", True),
        # 55 <= 56 (AWS)
        ("TimestampLessThanEquals", "2012-10-09T19:00:56Z", "2012-10-09T19:00:55Z", True),
        # 56 is not <= 55 (AWS)
        ("TimestampLessThanEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", False),
        # a number is not a timestamp
        ("TimestampLessThanEquals", "2012-10-09T19:00:55Z", 0, False),
    ],
)
def test_comparison_with_literal(operator, operand, value, expected):
    assert evaluate({"Variable": "$.v", operator: operand, "Next": "X"}, {"v": value}) is expected


@pytest.mark.parametrize(
    "operator, value, other, expected",
    [
        # equal strings (AWS)
        ("StringEqualsPath", "Hello", "Hello", True),
        # a string against a number
        ("StringEqualsPath", "1", 1, False),
        # "A" < "AB" (AWS)
        ("StringLessThanPath", "A", "AB", True),
        # "" is not < "" (AWS)
        ("StringLessThanPath", "", "", False),
        # "A" is not > "A\t\n\r" (AWS)
        ("StringGreaterThanPath", "A", "A\t\n\r", False),
        # "A" is not >= "AB" (AWS)
        ("StringGreaterThanEqualsPath", "A", "AB", False),
        # "" <= "" (AWS)
        ("StringLessThanEqualsPath", "", "", True),
        # 1 == 1.0 (AWS)
        ("NumericEqualsPath", 1, 1.0, True),
        # 2.22 == 2.22 (AWS)
        ("NumericEqualsPath", 2.22, 2.22, True),
        # true is not 1 (AWS)
        ("NumericEqualsPath", True, 1, False),
        # null is not 1 (AWS)
        ("NumericEqualsPath", None, 1, False),
        # a number against an object operand
        ("NumericEqualsPath", 8, {"value": 8}, False),
        # 0 < 1 (AWS)
        ("NumericLessThanPath", 0, 1, True),
        # 0.0 <= 0 (AWS)
        ("NumericLessThanEqualsPath", 0.0, 0, True),
        # 1 > 0 (AWS)
        ("NumericGreaterThanPath", 1, 0, True),
        # 0 >= 0 (AWS)
        ("NumericGreaterThanEqualsPath", 0, 0, True),
        # a numeric string against a number
        ("NumericGreaterThanEqualsPath", "8", 8, False),
        # false == false (AWS)
        ("BooleanEqualsPath", False, False, True),
        # false != true
        ("BooleanEqualsPath", False, True, False),
        # 1 is not false (AWS)
        ("BooleanEqualsPath", 1, False, False),
        # null against null is not a boolean comparison (AWS)
        ("BooleanEqualsPath", None, None, False),
        # equal timestamps
        ("TimestampEqualsPath", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", True),
        # a non-timestamp operand
        ("TimestampEqualsPath", "2012-10-09T19:00:55Z", "yesterday", False),
        # 55 is not > 56 (AWS)
        ("TimestampGreaterThanPath", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", False),
        # 55 is not >= 56 (AWS)
        ("TimestampGreaterThanEqualsPath", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", False),
        # 55 < 56
        ("TimestampLessThanPath", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", True),
        # 56 is not <= 55 (AWS)
        ("TimestampLessThanEqualsPath", "2012-10-09T19:00:56Z", "2012-10-09T19:00:55Z", False),
    ],
)
def test_comparison_with_path(operator, value, other, expected):
    rule = {"Variable": "$.Variable", operator: "$.Value", "Next": "X"}
    assert evaluate(rule, {"Variable": value, "Value": other}) is expected


@pytest.mark.parametrize(
    "operator, matching",
    [
        # only null
        ("IsNull", [None]),
        # integers and floats, not booleans
        ("IsNumeric", [0, 0.0, 1, 1.1]),
        # every string, timestamps included
        ("IsString", ["", " ", "HelloWorld", "2012-10-09T19:00:55Z"]),
        # only true and false
        ("IsBoolean", [True, False]),
        # only a string in timestamp format
        ("IsTimestamp", ["2012-10-09T19:00:55Z"]),
    ],
)
def test_type_tests(operator, matching):
    def is_matching(value):
        return any(type(value) is type(m) and value == m for m in matching)

    for value in TYPES:
        assert evaluate({"Variable": "$.v", operator: True}, {"v": value}) is is_matching(value), value
        assert evaluate({"Variable": "$.v", operator: False}, {"v": value}) is not is_matching(value), value


@pytest.mark.parametrize(
    "value",
    [
        # null is present (AWS)
        None,
        # false is present (AWS)
        False,
        # an empty array is present (AWS)
        [],
        # an empty object is present
        {},
        # an empty string is present
        "",
    ],
)
def test_is_present_for_present_values(value):
    assert evaluate({"Variable": "$.v", "IsPresent": True}, {"v": value}) is True
    assert evaluate({"Variable": "$.v", "IsPresent": False}, {"v": value}) is False


@pytest.mark.parametrize(
    "variable, data",
    [
        # a missing field
        ("$.v", {}),
        # a field below a missing field
        ("$.a.b", {}),
        # a field of a string
        ("$.a.b", {"a": "text"}),
        # an index past the end
        ("$.a[3]", {"a": [1]}),
        # a field of a non-object input
        ("$.a", "text"),
        # an undefined variable
        ("$undefined", {}),
        # a missing context field
        ("$$.Execution.Nothing", {}),
    ],
)
def test_is_present_for_missing_values(variable, data):
    assert evaluate({"Variable": variable, "IsPresent": False}, data) is True
    assert evaluate({"Variable": variable, "IsPresent": True}, data) is False


@pytest.mark.parametrize(
    "rule",
    [
        # a string comparison
        {"StringEquals": "x"},
        # a numeric comparison
        {"NumericEquals": 1},
        # a boolean comparison
        {"BooleanEquals": True},
        # a timestamp comparison
        {"TimestampEquals": "2012-10-09T19:00:55Z"},
        # a pattern
        {"StringMatches": "*"},
        # IsNull: true
        {"IsNull": True},
        # IsNull: false is not "true when absent"
        {"IsNull": False},
        # IsString: false
        {"IsString": False},
        # IsNumeric
        {"IsNumeric": True},
        # IsBoolean
        {"IsBoolean": False},
        # IsTimestamp
        {"IsTimestamp": False},
        # a comparison with a path operand that exists
        {"NumericEqualsPath": "$.present"},
        # a literal of the wrong type still needs the Variable
        {"NumericEquals": "not a number"},
    ],
)
def test_missing_variable_fails_the_state(rule):
    check = compile_rule({"Variable": "$.missing", **rule, "Next": "X"})
    with pytest.raises(StatesError) as raised:
        check({"present": 1}, ENV)
    assert raised.value.name == "States.Runtime"
    assert raised.value.cause == (
        "Invalid path '$.missing': The choice state's condition path references an invalid value."
    )


def test_missing_variable_is_reported_before_a_missing_operand():
    check = compile_rule({"Variable": "$.left", "NumericEqualsPath": "$.right", "Next": "X"})
    with pytest.raises(StatesError, match=re.escape("Invalid path '$.left'")):
        check({}, ENV)


@pytest.mark.parametrize(
    "operator, value",
    [
        # numeric, with a matching Variable
        ("NumericLessThanEqualsPath", 8),
        # string, with a Variable of another type
        ("StringEqualsPath", 8),
        # timestamp
        ("TimestampEqualsPath", "2012-10-09T19:00:55Z"),
        # boolean
        ("BooleanEqualsPath", True),
    ],
)
def test_missing_path_operand_fails_the_state(operator, value):
    check = compile_rule({"Variable": "$.left", operator: "$.right", "Next": "X"})
    with pytest.raises(StatesError) as raised:
        check({"left": value}, ENV)
    assert raised.value.name == "States.Runtime"
    assert raised.value.cause == (
        "Invalid path '$.right': The choice state's condition path references an invalid value."
    )


def test_undefined_variable_fails_the_state():
    with pytest.raises(StatesError) as raised:
        evaluate({"Variable": "$config.limit", "NumericGreaterThan": 1}, {})
    assert raised.value.cause == (
        "Invalid path '$config.limit': The choice state's condition path references an invalid value."
    )


@pytest.mark.parametrize(
    "pattern, value, expected",
    [
        # the spec's examples
        ("foo*.log", "foo23.log", True),
        # "*" matches zero characters
        ("foo*.log", "foo.log", True),
        # *.log
        ("*.log", "zebra.log", True),
        # foo*.*
        ("foo*.*", "foobar.zebra", True),
        # the whole string must match
        ("*.log", "zebra.log.gz", False),
        # the prefix must match
        ("foo*", "xfoo", False),
        # no wildcard: exact match
        ("foo", "foo", True),
        # no wildcard: no partial match
        ("foo", "food", False),
        # "*" alone matches the empty string
        ("*", "", True),
        # "**" is "*"
        ("a**b", "ab", True),
        # a middle piece is searched after the head, and the tail may not overlap it
        ("ab*ba", "aba", False),
        # ... but may follow it directly
        ("ab*ba", "abba", True),
        # several middle pieces in order
        ("*a*b*c*", "xxaxxbxxcxx", True),
        # several middle pieces out of order
        ("*a*b*c*", "xxcxxbxxaxx", False),
        # "*" spans newlines
        ("a*b", "a\nb", True),
        # "\\*" is a literal star
        ("a\\*b", "a*b", True),
        # ... and not a wildcard
        ("a\\*b", "axb", False),
        # "\\\\" is a literal backslash
        ("a\\\\b", "a\\b", True),
        # a literal backslash followed by a wildcard
        ("a\\\\*", "a\\bc", True),
        # regular-expression characters have no meaning
        ("a.c", "abc", False),
        # ... and match themselves
        ("[a]+(b)?", "[a]+(b)?", True),
        # "?" is not a wildcard
        ("a?", "ab", False),
        # a number never matches
        ("*", 1, False),
        # null never matches
        ("*", None, False),
        # an empty pattern matches only the empty string
        ("", "", True),
    ],
)
def test_string_matches(pattern, value, expected):
    assert evaluate({"Variable": "$.v", "StringMatches": pattern}, {"v": value}) is expected


def test_string_matches_is_fast_on_long_inputs():
    check = compile_rule({"Variable": "$.v", "StringMatches": "*a*a*a*a*a*a*a*a*a*b"})
    assert check({"v": "a" * 100_000}, ENV) is False


@pytest.mark.parametrize(
    "rule, data, expected",
    [
        # And: all true
        ({"And": [{"Variable": "$.a", "NumericEquals": 1}, {"Variable": "$.b", "StringEquals": "x"}]},
         {"a": 1, "b": "x"}, True),
        # And: one false
        ({"And": [{"Variable": "$.a", "NumericEquals": 1}, {"Variable": "$.b", "StringEquals": "x"}]},
         {"a": 1, "b": "y"}, False),
        # And with a single rule (AWS CHOICE_STATE_SINGLETON_COMPOSITE)
        ({"And": [{"Variable": "$.type", "StringEquals": "Public"}]}, {"type": "Public"}, True),
        # Or: one true
        ({"Or": [{"Variable": "$.a", "NumericEquals": 2}, {"Variable": "$.a", "NumericEquals": 1}]}, {"a": 1}, True),
        # Or: none true
        ({"Or": [{"Variable": "$.a", "NumericEquals": 2}, {"Variable": "$.a", "NumericEquals": 3}]}, {"a": 1}, False),
        # Not
        ({"Not": {"Variable": "$.type", "StringEquals": "Private"}}, {"type": "Public"}, True),
        # double negation
        ({"Not": {"Not": {"Variable": "$.type", "StringEquals": "Private"}}}, {"type": "Public"}, False),
        # And stops at the first false rule, so a later missing path is not read
        ({"And": [{"Variable": "$.a", "IsPresent": True}, {"Variable": "$.a", "NumericEquals": 1}]}, {}, False),
        # Or stops at the first true rule
        ({"Or": [{"Variable": "$.a", "IsPresent": False}, {"Variable": "$.a", "NumericEquals": 1}]}, {}, True),
        # nesting (AWS map_state_break_condition)
        ({"And": [{"IsPresent": True, "Variable": "$"},
                  {"And": [{"IsNumeric": True, "Variable": "$"}, {"NumericEquals": 3, "Variable": "$"}]}]}, 3, True),
        # a range check (AWS CHOICE_STATE_AWS_SCENARIO)
        ({"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20},
                  {"Variable": "$.value", "NumericLessThan": 30}]}, {"value": 22}, True),
        # Or inside Not inside And
        ({"And": [{"Not": {"Or": [{"Variable": "$.a", "IsNull": True}, {"Variable": "$.a", "IsString": True}]}},
                  {"Variable": "$.a", "IsNumeric": True}]}, {"a": 5}, True),
    ],
)
def test_boolean_expressions(rule, data, expected):
    assert evaluate({**rule, "Next": "X"}, data) is expected


def test_and_reports_a_missing_path_it_reaches():
    check = compile_rule({"And": [{"Variable": "$.a", "NumericEquals": 1}, {"Variable": "$.b", "NumericEquals": 1}]})
    with pytest.raises(StatesError, match=re.escape("Invalid path '$.b'")):
        check({"a": 1}, ENV)


def test_keys_outside_the_condition_are_ignored():
    rule = {
        "Variable": "$.a",
        "StringEquals": "x",
        "Next": "X",
        "Comment": "why",
        "Assign": {"seen": "{% true %}"},
        "Output": {"out.$": "$"},
    }
    assert evaluate(rule, {"a": "x"}) is True


@pytest.mark.parametrize(
    "variable, data, env, expected",
    [
        # the whole input
        ("$", "Hello", ENV, True),
        # a nested field
        ("$.a.b", {"a": {"b": "Hello"}}, ENV, True),
        # an array element
        ("$.a[1]", {"a": ["x", "Hello"]}, ENV, True),
        # a bracketed field name
        ("$['a b']", {"a b": "Hello"}, ENV, True),
        # the context object
        ("$$.State.Name", {}, Env(Context(), "Hello"), True),
        # a variable
        ("$greeting", {}, Env(Context(), variables={"greeting": "Hello"}), True),
        # a field of a variable
        ("$config.greeting", {}, Env(Context(), variables={"config": {"greeting": "Hello"}}), True),
    ],
)
def test_variable_roots(variable, data, env, expected):
    assert evaluate({"Variable": variable, "StringEquals": "Hello"}, data, env) is expected


def test_path_operand_from_a_variable():
    env = Env(Context(), variables={"limit": 10})
    assert evaluate({"Variable": "$.n", "NumericLessThanPath": "$limit"}, {"n": 3}, env) is True


def test_context_execution_input():
    context = Context()
    context.execution_input = {"input-value": 0}
    rule = {"Variable": "$$.Execution.Input.input-value", "NumericLessThanEquals": 0, "Next": "X"}
    assert evaluate(rule, {}, Env(context)) is True


def test_compiled_rule_is_reusable():
    check = compile_rule({"Variable": "$.n", "NumericGreaterThan": 1})
    assert [check({"n": n}, ENV) for n in (0, 1, 2, 3)] == [False, False, True, True]


@pytest.mark.parametrize(
    "rule, error",
    [
        # no operator
        ({"Variable": "$.a", "Next": "X"}, ValueError),
        # an operator without a Variable
        ({"StringEquals": "x", "Next": "X"}, ValueError),
        # an unknown operator
        ({"Variable": "$.a", "StringContains": "x"}, ValueError),
        # not a dict
        (["Variable", "$.a"], TypeError),
    ],
)
def test_compile_rejects_rules_without_a_condition(rule, error):
    with pytest.raises(error):
        compile_rule(rule)


_numbers = st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False, allow_infinity=False)


@given(_numbers, _numbers)
def test_numeric_comparisons_agree_with_python(value, operand):
    data = {"v": value, "o": operand}
    expected = {
        "NumericEquals": value == operand,
        "NumericLessThan": value < operand,
        "NumericGreaterThan": value > operand,
        "NumericLessThanEquals": value <= operand,
        "NumericGreaterThanEquals": value >= operand,
    }
    for operator, result in expected.items():
        assert evaluate({"Variable": "$.v", operator: operand}, data) is result
        assert evaluate({"Variable": "$.v", operator + "Path": "$.o"}, data) is result


@given(st.text(), st.text())
def test_string_comparisons_agree_with_utf16_order(value, operand):
    def utf16(text):
        return text.encode("utf-16-be", "surrogatepass")

    data = {"v": value, "o": operand}
    expected = {
        "StringEquals": value == operand,
        "StringLessThan": utf16(value) < utf16(operand),
        "StringGreaterThan": utf16(value) > utf16(operand),
        "StringLessThanEquals": utf16(value) <= utf16(operand),
        "StringGreaterThanEquals": utf16(value) >= utf16(operand),
    }
    for operator, result in expected.items():
        assert evaluate({"Variable": "$.v", operator: operand}, data) is result
        assert evaluate({"Variable": "$.v", operator + "Path": "$.o"}, data) is result


def _reference_match(pattern, value):
    # An independent reading of StringMatches: a backtracking regular expression.
    regex, position = "", 0
    while position < len(pattern):
        char = pattern[position]
        if char == "\\" and position + 1 < len(pattern):
            regex += re.escape(pattern[position + 1])
            position += 2
            continue
        regex += ".*" if char == "*" else re.escape(char)
        position += 1
    return re.fullmatch(regex, value, re.DOTALL) is not None


@given(st.text(alphabet="ab*\\", max_size=8), st.text(alphabet="ab*\\\n", max_size=12))
def test_string_matches_agrees_with_a_regular_expression(pattern, value):
    assert evaluate({"Variable": "$.v", "StringMatches": pattern}, {"v": value}) is _reference_match(pattern, value)


@given(st.sampled_from(TYPES), st.sampled_from(sorted(OPERATORS - {"IsPresent"})))
def test_missing_variable_always_fails_except_is_present(value, operator):
    operand = "$.other" if operator.endswith("Path") else value
    with pytest.raises(StatesError):
        evaluate({"Variable": "$.missing", operator: operand}, {"other": value})
