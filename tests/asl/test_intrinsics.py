"""Tests for django_asl.asl.intrinsics: parsing, checks at compile time, and each function."""
from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from django_asl.asl.context import Context, Env
from django_asl.asl.errors import AslError, StatesError
from django_asl.asl.intrinsics import REGISTRY, IntrinsicSyntaxError, compile_intrinsic, is_intrinsic
from django_asl.asl.intrinsics.json_ import json_equal, json_key
from django_asl.asl.intrinsics.math import JavaRandom


def make_env(**variables) -> Env:
    uuids = iter(f"00000000-0000-4000-8000-{n:012d}" for n in range(1, 100))
    context = Context(state_machine_name="orders-v2")
    context.uuid_factory = lambda: next(uuids)
    return Env(context, "State", variables=variables)


def evaluate(expr: str, data=None, env: Env | None = None, **kwargs):
    return compile_intrinsic(expr, **kwargs)(data if data is not None else {}, env or make_env())


def failure(expr: str, data=None, **kwargs) -> StatesError:
    with pytest.raises(StatesError) as caught:
        evaluate(expr, data, **kwargs)
    return caught.value


def strictly_equal(left, right) -> bool:
    return json_equal(left, right)


def test_registry_has_the_eighteen_functions():
    assert sorted(REGISTRY) == sorted([
        "States.Format", "States.StringToJson", "States.JsonToString", "States.Array",
        "States.ArrayPartition", "States.ArrayContains", "States.ArrayRange", "States.ArrayGetItem",
        "States.ArrayLength", "States.ArrayUnique", "States.Base64Encode", "States.Base64Decode",
        "States.Hash", "States.JsonMerge", "States.MathRandom", "States.MathAdd", "States.StringSplit",
        "States.UUID",
    ])


@pytest.mark.parametrize("text, expected", [
    ("States.Array(1)", True),  # a call
    ("States.Foo()", True),  # unknown name: still a call, rejected by compile_intrinsic
    ("$.a", False),  # input path
    ("$$.Execution.Id", False),  # context path
    ("States", False),  # no dot
    (" States.Array()", False),  # leading space: not a call
    (None, False),  # not a string
])
def test_is_intrinsic(text, expected):
    assert is_intrinsic(text) is expected


def test_syntax_error_is_an_asl_error():
    assert issubclass(IntrinsicSyntaxError, AslError)


@pytest.mark.parametrize("expr, message", [
    ("States.Format()", "States.Format takes at least 1 argument, got 0."),  # too few, variadic
    ("States.UUID(1)", "States.UUID takes no arguments, got 1."),  # none allowed
    ("States.ArrayRange(1, 5)", "States.ArrayRange takes 3 arguments, got 2."),  # too few
    ("States.ArrayLength($.a, $.b)", "States.ArrayLength takes 1 argument, got 2."),  # too many
    ("States.MathRandom(1)", "States.MathRandom takes 2 or 3 arguments, got 1."),  # optional seed
    ("States.Nope(1)", "States.Nope is not an intrinsic function."),  # unknown name
    ("States.Format('x'", "missing ')'"),  # unbalanced parenthesis
    ("States.Format('x)", "is not closed with a quote"),  # unbalanced quote
    ("States.Array(1) tail", "unexpected text 'tail'"),  # trailing text
    ("States.Array(1,)", "missing argument"),  # empty argument
    ("States.Array(,1)", "missing argument"),  # empty first argument
    ("States.Array(foo)", "unexpected 'f'"),  # bare word
    ("States.Array(1a)", "unexpected '1'"),  # number run into a word
    ("States.Format('a\\n')", "backslash"),  # open escape
    ("States.Array($.a[0)", "missing ')'"),  # unclosed bracket in a path
    ("States.Array($.a[?(@.x ==)])", "not a valid JsonPath"),  # bad path syntax
    ("States.Format('{} {}', $.a)", "2 placeholders but 1 value follows"),  # literal template count
    ("States.Format('{}')", "1 placeholder but 0 values follow"),  # literal template count
    ("States.Format('Hello {', $.a)", "not part of '{}'"),  # lone brace
    ("States.Format(1)", "Argument 1 of States.Format must be a string, got 1."),  # literal type
    ("States.MathAdd('1', 2)", "Argument 1 of States.MathAdd must be a number"),  # literal type
    ("States.MathAdd(true, 2)", "must be a number, got true"),  # true is not a number
    ("States.ArrayRange(1, 10, 0)", "step of States.ArrayRange must not be 0"),  # zero step
    ("States.ArrayRange(1, 1001, 1)", "1001 items"),  # over the limit
    ("States.ArrayRange(1001, 1, -1)", "1001 items"),  # over the limit, descending
    ("States.ArrayPartition($.a, 0)", "chunk size"),  # chunk size 0
    ("States.ArrayPartition($.a, -2)", "chunk size"),  # negative chunk size
    ("States.JsonMerge($.a, $.b, true)", "shallow merge"),  # deep merge
    ("States.Hash('x', 'SHA256')", "hash algorithm"),  # unknown algorithm
    ("States.MathRandom(5, 5)", "less than its end"),  # empty range
    ("States.Base64Encode('" + "a" * 10_001 + "')", "longer than 10000"),  # literal too long
])
def test_compile_errors(expr, message):
    with pytest.raises(IntrinsicSyntaxError) as caught:
        compile_intrinsic(expr)
    assert message in str(caught.value)


@pytest.mark.parametrize("expr, data, expected", [
    ("States.Array()", {}, []),  # no arguments
    ("States.Array(1, -2.5, 'a', true, false, null)", {}, [1, -2.5, "a", True, False, None]),  # literals
    ("States.Array( 1 ,\t2 )", {}, [1, 2]),  # whitespace around arguments
    ("States.Array(1e3, -0)", {}, [1000.0, 0]),  # exponent and negative zero
    ("States.Array('it\\'s', '\\{\\}', 'a\\\\b')", {}, ["it's", "{}", "a\\b"]),  # escapes
    ("States.Array('a, b', 'c)')", {}, ["a, b", "c)"]),  # separators inside strings
    ("States.Array($.a, $.b.c)", {"a": 1, "b": {"c": [2]}}, [1, [2]]),  # input paths
    ("States.Array($)", {"a": 1}, [{"a": 1}]),  # the whole input
    ("States.Array($.m['x,y'])", {"m": {"x,y": 3}}, [3]),  # comma inside brackets
    ("States.Array($.l[?(@.k == 1)].v)", {"l": [{"k": 1, "v": "a"}, {"k": 2, "v": "b"}]}, [["a"]]),  # filter
    ("States.Array($$.State.Name)", {}, ["State"]),  # context object
    ("States.Array($counter)", {}, [7]),  # variable
    ("States.Array(States.Array(1), States.ArrayLength($.l))", {"l": [1, 2]}, [[1], 2]),  # nesting
])
def test_arguments(expr, data, expected):
    assert strictly_equal(evaluate(expr, data, make_env(counter=7)), expected)


@pytest.mark.parametrize("expr, data, cause", [
    (  # missing field in the input
        "States.Format('{}', $.nope)", {"other": 1},
        "The function 'States.Format('{}', $.nope)' had the following error: The JsonPath argument for the "
        "field '$.nope' could not be found in the input '{\"other\":1}'",
    ),
    (  # a later argument names itself; the expression is quoted verbatim
        "States.Format('{} {}',$.other, $.a.b)", {"other": 1},
        "The function 'States.Format('{} {}',$.other, $.a.b)' had the following error: The JsonPath argument "
        "for the field '$.a.b' could not be found in the input '{\"other\":1}'",
    ),
    (  # nested call: the whole expression is named
        "States.Format('{}', States.Format('{}', $.nope))", {},
        "The function 'States.Format('{}', States.Format('{}', $.nope))' had the following error: The JsonPath "
        "argument for the field '$.nope' could not be found in the input '{}'",
    ),
    (  # an index past the end is a miss
        "States.ArrayLength($.items[5])", {"items": [1]},
        "The function 'States.ArrayLength($.items[5])' had the following error: The JsonPath argument for the "
        "field '$.items[5]' could not be found in the input '{\"items\":[1]}'",
    ),
    (  # a context path is reported rewritten to '$', with the state input
        "States.Array($$.Nope.Deep)", {"other": 1},
        "The function 'States.Array($$.Nope.Deep)' had the following error: The JsonPath argument for the "
        "field '$.Nope.Deep' could not be found in the input '{\"other\":1}'",
    ),
])
def test_missing_path_is_a_runtime_error(expr, data, cause):
    error = failure(expr, data)
    assert (error.name, error.cause) == ("States.Runtime", cause)


@pytest.mark.parametrize("expr, data", [
    ("States.MathAdd($.a, 1)", {"a": "x"}),  # string for a number
    ("States.MathAdd($.a, 1)", {"a": True}),  # boolean for a number
    ("States.MathAdd($.a, 1)", {"a": 2**31}),  # out of 32-bit range
    ("States.MathAdd($.a, 1)", {"a": 2**31 - 1}),  # sum out of 32-bit range
    ("States.ArrayLength($.a)", {"a": "abc"}),  # string for an array
    ("States.ArrayLength($.a)", {"a": None}),  # null for an array
    ("States.ArrayGetItem($.a, $.i)", {"a": [1, 2, 3], "i": 3}),  # index past the end
    ("States.ArrayGetItem($.a, $.i)", {"a": [1, 2, 3], "i": -1}),  # negative index
    ("States.ArrayGetItem($.a, $.i)", {"a": [1, 2, 3], "i": 1.5}),  # fractional index
    ("States.ArrayPartition($.a, $.n)", {"a": [1], "n": 0.49}),  # rounds down to 0
    ("States.ArrayRange(1, 10, $.s)", {"s": 0}),  # zero step from a path
    ("States.ArrayRange(0, $.e, 1)", {"e": 1000}),  # 1001 items
    ("States.StringToJson($.s)", {"s": "{bad"}),  # not JSON
    ("States.StringToJson($.s)", {"s": "NaN"}),  # not JSON either
    ("States.StringToJson($.s)", {"s": {"a": 1}}),  # already an object
    ("States.JsonMerge($.a, $.b, false)", {"a": [1], "b": {}}),  # array for an object
    ("States.JsonMerge($.a, $.b, $.d)", {"a": {}, "b": {}, "d": True}),  # deep from a path
    ("States.JsonMerge($.a, $.b, $.d)", {"a": {}, "b": {}, "d": 0}),  # non-boolean flag
    ("States.Format($.t, 1)", {"t": 5}),  # non-string template
    ("States.Format($.t, 1)", {"t": "{} {}"}),  # placeholder count from a path
    ("States.Base64Decode($.s)", {"s": "not base64!"}),  # bad alphabet
    ("States.Base64Decode($.s)", {"s": "A" * 10_004}),  # too long
    ("States.Base64Encode($.s)", {"s": "a" * 10_001}),  # too long
    ("States.Hash($.s, 'MD5')", {"s": 5}),  # non-string data
    ("States.Hash($.s, $.a)", {"s": "x", "a": "sha-256"}),  # algorithm names are exact
    ("States.StringSplit($.s, ',')", {"s": 7}),  # non-string text
    ("States.MathRandom($.a, $.b)", {"a": 1.4, "b": 1.6}),  # truncates to an empty range
])
def test_invalid_arguments(expr, data):
    error = failure(expr, data)
    name = expr.split("(", 1)[0]
    assert error.name == "States.Runtime"
    assert error.cause == f"The function '{expr}' had the following error: Invalid arguments in {name}"


@pytest.mark.parametrize("expr", [
    "States.ArrayRange(1, 10, 0)",  # zero step
    "States.Format('{} {}', 1)",  # placeholder count
    "States.Format('Hello {', 1)",  # lone brace
    "States.MathAdd('a', 1)",  # literal type
])
def test_non_strict_leaves_literal_problems_to_evaluation(expr):
    assert failure(expr, strict=False).cause.endswith("Invalid arguments in " + expr.split("(")[0])


@pytest.mark.parametrize("expr, data, expected", [
    ("States.Format('Hello {}', $.name)", {"name": "Ada"}, "Hello Ada"),  # string raw
    ("States.Format('{}', $.v)", {"v": ""}, ""),  # empty string
    ("States.Format('n={}', $.v)", {"v": 1}, "n=1"),  # integer
    ("States.Format('n={}', $.v)", {"v": 1.1}, "n=1.1"),  # decimal
    ("States.Format('n={}', $.v)", {"v": 2.0}, "n=2.0"),  # whole double keeps .0
    ("States.Format('n={}', $.v)", {"v": 1.5e20}, "n=1.5E20"),  # Java exponent notation
    ("States.Format('n={}', $.v)", {"v": 1e-5}, "n=1.0E-5"),  # small double
    ("States.Format('{}', $.v)", {"v": None}, "null"),  # null
    ("States.Format('{}|{}', $.t, $.f)", {"t": True, "f": False}, "true|false"),  # booleans
    ("States.Format('{}', $.v)", {"v": {"Arg1": 1, "Arg2": []}}, "{Arg1=1, Arg2=[]}"),  # object
    ("States.Format('{}', $.v)", {"v": ["a", None, [1, 2], {"k": "v"}]}, "[a, null, [1, 2], {k=v}]"),  # array
    ("States.Format('{}', $.v)", {"v": "{\"Arg1\": 1}"}, "{\"Arg1\": 1}"),  # JSON text stays raw
    ("States.Format('no placeholders')", {}, "no placeholders"),  # nothing to fill
    ("States.Format('\\{\\}{}\\'', $.v)", {"v": "x"}, "{}x'"),  # escaped braces are no placeholders
    ("States.Format($.t, $.v)", {"t": "Hi {}!", "v": "Bo"}, "Hi Bo!"),  # template from a path
    ("States.Format($.t)", {"t": "a { b }"}, "a { b }"),  # lone braces in a path template are text
    ("States.Format('{}:{}', $.a, $$.State.Name)", {"a": "job"}, "job:State"),  # context argument
])
def test_format(expr, data, expected):
    assert evaluate(expr, data) == expected


@pytest.mark.parametrize("text, expected", [
    ("", None),  # empty string is null on AWS
    (" ", None),  # blank too
    ("null", None),  # null
    ("-0", 0),  # negative zero
    ("1", 1),  # integer
    ("1.1", 1.1),  # decimal
    ("true", True),  # boolean
    ("\"HelloWorld\"", "HelloWorld"),  # string
    ("[1, 2, \"HelloWorld\"]", [1, 2, "HelloWorld"]),  # array
    ("{\"Arg1\": 1, \"Arg2\": []}", {"Arg1": 1, "Arg2": []}),  # object
])
def test_string_to_json(text, expected):
    assert strictly_equal(evaluate("States.StringToJson($.s)", {"s": text}), expected)


@pytest.mark.parametrize("value, expected", [
    (None, "null"),  # null
    (0, "0"),  # integer
    (1.1, "1.1"),  # decimal
    (1e20, "1.0E20"),  # Jackson writes large doubles in E notation
    (True, "true"),  # boolean
    ("HelloWorld", "\"HelloWorld\""),  # string, quoted
    ("é\n\"", "\"é\\n\\\"\""),  # escapes, non-ASCII kept
    ([1, 2, "HelloWorld"], "[1,2,\"HelloWorld\"]"),  # compact array
    ({"Arg1": 1, "Arg2": []}, "{\"Arg1\":1,\"Arg2\":[]}"),  # compact object
])
def test_json_to_string(value, expected):
    assert evaluate("States.JsonToString($.v)", {"v": value}) == expected


def test_json_merge_is_shallow_and_second_wins():
    data = {"a": {"a": {"a1": 1}, "b": 2, "d": 3}, "b": {"a": {"a3": 1}, "c": 3, "d": 4}}
    result = evaluate("States.JsonMerge($.a, $.b, false)", data)
    assert result == {"a": {"a3": 1}, "b": 2, "c": 3, "d": 4}
    assert data["a"] == {"a": {"a1": 1}, "b": 2, "d": 3}  # inputs untouched


def test_json_merge_of_a_parsed_literal():
    expr = "States.JsonMerge(States.StringToJson('{\"k\": \"false\"}'), $$.Execution.Input.f, false)"
    env = make_env()
    env.context.execution_input = {"f": {"x": "y"}}
    assert compile_intrinsic(expr)({}, env) == {"k": "false", "x": "y"}


@pytest.mark.parametrize("array, size, expected", [
    ([], 1, []),  # empty array
    ([0], 5, [[0]]),  # size larger than the array
    ([0, 1, 2], 1, [[0], [1], [2]]),  # size 1
    ([0, 1, 2, 3], 3, [[0, 1, 2], [3]]),  # short last chunk
    ([0, 1, 2, 3], 2.9, [[0, 1], [2, 3]]),  # fractional size truncated
])
def test_array_partition(array, size, expected):
    assert evaluate("States.ArrayPartition($.a, $.n)", {"a": array, "n": size}) == expected


@pytest.mark.parametrize("array, value, expected", [
    ([], None, False),  # empty array
    ([[1, 2, 3], 2], None, False),  # null absent
    ([[1, 2, 3], 2], [1, 2, 3], True),  # deep array equality
    ([{"1": 2, "2": []}], {"2": [], "1": 2}, True),  # objects ignore key order
    ([{"1": 2, "2": []}], [], False),  # no partial match
    ([True, False], True, True),  # booleans
    ([1, 2], True, False),  # true is not 1
    ([True], 1, False),  # 1 is not true
    ([1.0], 1, True),  # 1 equals 1.0
])
def test_array_contains(array, value, expected):
    assert evaluate("States.ArrayContains($.a, $.v)", {"a": array, "v": value}) is expected


@pytest.mark.parametrize("expr, expected", [
    ("States.ArrayRange(0, 9, 3)", [0, 3, 6, 9]),  # end included
    ("States.ArrayRange(0, 10, 3)", [0, 3, 6, 9]),  # end not reached
    ("States.ArrayRange(1, 9, 9)", [1]),  # step past the end
    ("States.ArrayRange(5, 1, -2)", [5, 3, 1]),  # descending
    ("States.ArrayRange(5, 1, 1)", []),  # wrong direction
    ("States.ArrayRange(3, 3, -1)", [3]),  # equal bounds
    ("States.ArrayRange(1.6, 1.4, 1)", [1]),  # bounds truncated
    ("States.ArrayRange(5.4, -0.6, -2.4)", [5, 3, 1]),  # truncated toward zero
])
def test_array_range(expr, expected):
    assert evaluate(expr) == expected


def test_array_range_limit_is_inclusive():
    assert len(evaluate("States.ArrayRange(1, 1000, 1)")) == 1000


@pytest.mark.parametrize("expr, data, expected", [
    ("States.ArrayGetItem($.a, $.i)", {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9], "i": 5}, 6),  # AWS example
    ("States.ArrayGetItem($.a, 1.0)", {"a": [{"k": 1}, {"k": 2}]}, {"k": 2}),  # whole decimal index
    ("States.ArrayLength($.a)", {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9]}, 9),  # length
    ("States.ArrayLength($.a)", {"a": []}, 0),  # empty
    ("States.ArrayUnique($.a)", {"a": [1, 2, 3, 3, 3, 4]}, [1, 2, 3, 4]),  # AWS example
    (  # JSON equality: objects by content, true apart from 1, 1 same as 1.0
        "States.ArrayUnique($.a)",
        {"a": [None, None, True, 1, 1.0, 0, False, "a", "a", [], [], [None], [None],
               {"a": 1, "b": 2}, {"b": 2, "a": 1}, {"a": 1, "b": 1}]},
        [None, True, 1, 0, False, "a", [], [None], {"a": 1, "b": 2}, {"a": 1, "b": 1}],
    ),
])
def test_other_array_functions(expr, data, expected):
    assert strictly_equal(evaluate(expr, data), expected)


@pytest.mark.parametrize("first, second, expected", [
    (-9, 3, -6),  # integers
    (1.49, 1.50, 3),  # 1 + 2
    (1.50, 1.51, 4),  # each rounded before adding
    (-1.49, -1.50, -2),  # -1 + -1
    (-1.50, -1.51, -3),  # -1 + -2
    (0.5, 0, 1),  # half up
    (2.5, 0, 3),  # not to even
    (-0.5, 0, 0),  # half up toward +infinity
    (-2.5, 0, -2),  # Java Math.round
    (-3.5, 0, -3),  # Java Math.round
    (1.49, -1.49, 0),  # 1 + -1
])
def test_math_add(first, second, expected):
    result = evaluate("States.MathAdd($.a, $.b)", {"a": first, "b": second})
    assert result == expected and type(result) is int


def test_math_random_uses_the_env_generator():
    env = make_env()
    env.context.rng.seed(3)
    values = [compile_intrinsic("States.MathRandom(-5, 5)")({}, env) for _ in range(200)]
    assert set(values) == set(range(-5, 5))


def test_math_random_with_a_seed_is_java_random():
    # new java.util.Random(42).nextInt(10) == 0; new Random(0).nextInt(100) == 60.
    assert evaluate("States.MathRandom(0, 10, 42)") == 0
    assert evaluate("States.MathRandom(0, 100, 0)") == 60
    assert evaluate("States.MathRandom(0, 999, $.s)", {"s": 3}) == evaluate("States.MathRandom(0, 999, 3)")


def test_java_random_matches_known_output():
    assert JavaRandom(42)._next(32) == -1170105035  # new Random(42).nextInt()


@pytest.mark.parametrize("text, delimiters, expected", [
    ("1,2,3,4,5", ",", ["1", "2", "3", "4", "5"]),  # one delimiter
    ("This.is+a,test=string", ".+,=", ["This", "is", "a", "test", "string"]),  # any of the characters
    (" ", ",", [" "]),  # no delimiter present
    (", , ,", ",", [" ", " "]),  # empty pieces dropped
    ("...", ".", []),  # only delimiters
    ("", ",", []),  # empty text
    ("a]b^c", "]^", ["a", "b", "c"]),  # regex characters are plain
    ("abc", "", ["abc"]),  # no delimiters
    ("Hello\nWorld", "\n", ["Hello", "World"]),  # newline delimiter
])
def test_string_split(text, delimiters, expected):
    assert evaluate("States.StringSplit($.s, $.d)", {"s": text, "d": delimiters}) == expected


@pytest.mark.parametrize("algorithm, digest", [
    ("MD5", "812f45842bc6d66ee14572ce20db8e86"),  # MD5
    ("SHA-1", "aaff4a450a104cd177d28d18d74485e8cae074b7"),  # SHA-1
    ("SHA-256", "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"),  # recorded on AWS
    ("SHA-384", "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562"),
    ("SHA-512", "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc5028373"
                "1a533d30d425402d4f91316d871303aac4"),  # recorded on AWS
])
def test_hash(algorithm, digest):
    assert evaluate("States.Hash($.d, $.a)", {"d": "input data", "a": algorithm}) == digest


@pytest.mark.parametrize("expr, expected", [
    ("States.Base64Encode('Data to encode')", "RGF0YSB0byBlbmNvZGU="),  # AWS example
    ("States.Base64Encode('')", ""),  # empty
    ("States.Base64Encode('>>>???')", "Pj4+Pz8/"),  # standard alphabet, not URL-safe
    ("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", "Data to encode"),  # AWS example
    ("States.Base64Decode('')", ""),  # empty
    ("States.Base64Decode('RGF0YQ')", "Data"),  # padding may be left out
])
def test_base64(expr, expected):
    assert evaluate(expr) == expected


def test_uuid_comes_from_the_env():
    env = make_env()
    assert compile_intrinsic("States.UUID()")({}, env) == "00000000-0000-4000-8000-000000000001"
    assert compile_intrinsic("States.Array(States.UUID(), States.UUID())")({}, env) == [
        "00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000003"]


def test_nested_calls_on_the_context():
    expr = "States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), 0)"
    assert evaluate(expr) == "orders"
    last = ("States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), "
            "States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), -1))")
    assert evaluate(last) == "v2"


def test_compiled_function_is_reusable():
    fn = compile_intrinsic("States.Format('{}-{}', $.a, States.MathAdd($.b, 1))")
    assert [fn({"a": n, "b": n}, make_env()) for n in range(3)] == ["0-1", "1-2", "2-3"]


# Property tests.

json_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=8)
json_values = st.recursive(
    json_scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=12,
)


@given(st.lists(json_values, max_size=20), st.integers(1, 25))
def test_array_partition_round_trip(array, size):
    chunks = evaluate("States.ArrayPartition($.a, $.n)", {"a": array, "n": size})
    assert [item for chunk in chunks for item in chunk] == array
    assert all(len(chunk) == size for chunk in chunks[:-1])
    assert all(0 < len(chunk) <= size for chunk in chunks)


@given(st.text(max_size=300))
def test_base64_round_trip(text):
    text = text.encode("utf-8", "replace").decode("utf-8")
    encoded = evaluate("States.Base64Encode($.s)", {"s": text})
    assert encoded == base64.b64encode(text.encode()).decode()
    assert evaluate("States.Base64Decode($.s)", {"s": encoded}) == text


@given(st.integers(-600, 600), st.integers(-600, 600), st.integers(-50, 50).filter(bool))
def test_array_range_length(start, end, step):
    expected = list(range(start, end + (1 if step > 0 else -1), step))
    expr = f"States.ArrayRange({start}, {end}, {step})"
    if len(expected) > 1000:
        with pytest.raises(IntrinsicSyntaxError):
            compile_intrinsic(expr)
        assert failure(expr, strict=False).name == "States.Runtime"
    else:
        assert evaluate(expr) == expected


@given(json_values)
def test_json_to_string_then_string_to_json(value):
    text = evaluate("States.JsonToString($.v)", {"v": value})
    assert json_equal(evaluate("States.StringToJson($.t)", {"t": text}), value)


@given(st.lists(json_values, max_size=12))
def test_array_unique_keeps_first_occurrences(array):
    unique = evaluate("States.ArrayUnique($.a)", {"a": array})
    expected = []
    for item in array:
        if not any(json_equal(item, seen) for seen in expected):
            expected.append(item)
    assert unique == expected
    assert len({json_key(item) for item in unique}) == len(unique)


def quote(text: str) -> str:
    """Write ``text`` as an intrinsic string literal."""
    return "'" + "".join("\\" + c if c in "'{}\\" else c for c in text) + "'"


literal_values = (
    st.text(max_size=12) | st.integers(-10**9, 10**9) | st.booleans() | st.none()
    | st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: round(f, 3))
)


def literal_text(value) -> str:
    if isinstance(value, str):
        return quote(value)
    return json.dumps(value)


@given(st.lists(literal_values, max_size=6))
def test_parser_round_trip_on_literals(values):
    expr = "States.Array(" + ", ".join(literal_text(v) for v in values) + ")"
    assert strictly_equal(evaluate(expr), values)


@given(st.lists(st.text(max_size=6), min_size=1, max_size=5), st.data())
def test_format_fills_each_placeholder(pieces, data):
    values = data.draw(st.lists(st.text(max_size=5), min_size=len(pieces) - 1, max_size=len(pieces) - 1))
    template = "{}".join(quote(piece)[1:-1] for piece in pieces)
    expr = "States.Format('" + template + "'" + "".join(f", {quote(v)}" for v in values) + ")"
    expected = pieces[0] + "".join(v + p for v, p in zip(values, pieces[1:]))
    assert evaluate(expr) == expected
