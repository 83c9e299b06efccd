"""Tests for django_asl.asl.paths: compiling and resolving Paths, Reference Paths, ``$$`` and ``$var``."""
from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from django_asl.asl.context import Context, Env
from django_asl.asl.paths import (
    CONTEXT,
    INPUT,
    VARIABLE,
    PathNotFound,
    PathSyntaxError,
    check_path_syntax,
    compile_path,
)

DATA = {
    "a": {"b": {"c": 1}, "list": [10, 20, 30], "b c": "spaced", "it's": "quoted", "x.y": "dotted"},
    "users": [
        {"name": "ann", "status": 0},
        {"name": "bob", "status": 1},
        {"name": "cid", "status": 0},
    ],
    "n": [1, 2, 3, 4],
    "nothing": None,
    "flag": False,
}


@pytest.mark.parametrize(
    "expr, root, variable, keys",
    [
        # the whole input
        ("$", INPUT, None, ()),
        # the whole context object
        ("$$", CONTEXT, None, ()),
        # a field of the context object
        ("$$.Execution.Id", CONTEXT, None, ("Execution", "Id")),
        # a variable
        ("$total", VARIABLE, "total", ()),
        # a field of a variable
        ("$order.items[0]", VARIABLE, "order", ("items", 0)),
        # dot notation
        ("$.a.b", INPUT, None, ("a", "b")),
        # array indexes, negative too
        ("$.n[0].x[-1]", INPUT, None, ("n", 0, "x", -1)),
        # bracket notation with single quotes may hold spaces and dots
        ("$['b c']['x.y']", INPUT, None, ("b c", "x.y")),
        # an escaped single quote inside brackets is unescaped
        ("$['it\\'s']", INPUT, None, ("it's",)),
        # a backslash before another character is kept, as AWS does
        ('$[\'a\\"b\']', INPUT, None, ('a\\"b',)),
        # double-quoted brackets
        ('$["b c"][0]', INPUT, None, ("b c", 0)),
        # in dot notation a backslash escapes the next character
        ("$.a\\.b", INPUT, None, ("a.b",)),
        # a script expression counting from the end is a negative index
        ("$.n[(@.length-2)]", INPUT, None, ("n", -2)),
    ],
)
def test_simple_paths_compile_to_keys(expr, root, variable, keys):
    path = compile_path(expr)
    assert (path.root, path.variable, path.keys, path.definite) == (root, variable, keys, True)


@pytest.mark.parametrize(
    "expr",
    [
        # wildcard over an array
        "$.users[*].name",
        # a filter
        "$.users[?(@.status == 0)]",
        # a slice
        "$.n[1:3]",
        # descendants
        "$..name",
        # a union of indexes
        "$.n[0,2]",
    ],
)
def test_indefinite_paths_are_parsed_by_jsonpath_ng(expr):
    path = compile_path(expr)
    assert (path.keys, path.definite) == (None, False)


def test_compile_path_is_cached():
    assert compile_path("$.cached.path") is compile_path("$.cached.path")


@pytest.mark.parametrize(
    "expr, expected",
    [
        # the root selects everything
        ("$", DATA),
        # a nested field
        ("$.a.b.c", 1),
        # an object
        ("$.a.b", {"c": 1}),
        # an index
        ("$.a.list[1]", 20),
        # a negative index counts from the end
        ("$.a.list[-1]", 30),
        # so does a script expression
        ("$.a.list[(@.length-1)]", 30),
        # a field whose value is null is found, not missing
        ("$.nothing", None),
        # a false value is found
        ("$.flag", False),
        # bracket notation with a space in the name
        ("$.a['b c']", "spaced"),
        # bracket notation with a dot in the name
        ("$.a['x.y']", "dotted"),
        # bracket notation with an escaped quote
        ("$.a['it\\'s']", "quoted"),
        # bracket and dot notation mixed
        ("$['users'][1].name", "bob"),
        # bracket notation with double quotes is a definite path too (Jayway accepts both quotes)
        ('$["a"]["b c"]', "spaced"),
        # double-quoted brackets after an index
        ('$.users[0]["name"]', "ann"),
    ],
)
def test_resolve_definite_paths(expr, expected):
    assert compile_path(expr).resolve(DATA) == expected


@pytest.mark.parametrize(
    "expr, expected",
    [
        # a filter on a field's value keeps the matching objects, in order
        ("$.users[?(@.status == 0)]", [{"name": "ann", "status": 0}, {"name": "cid", "status": 0}]),
        # a filter that matches nothing gives an empty list
        ("$.users[?(@.status == 9)]", []),
        # a wildcard over objects in an array
        ("$.users[*].name", ["ann", "bob", "cid"]),
        # a wildcard over an object's values
        ("$.a.b.*", [1]),
        # a slice
        ("$.n[1:3]", [2, 3]),
        # an open slice from the end
        ("$.n[-1:]", [4]),
        # an open slice from the start
        ("$.n[:2]", [1, 2]),
        # a union of indexes
        ("$.n[0,2]", [1, 3]),
        # descendants
        ("$..name", ["ann", "bob", "cid"]),
        # a wildcard over missing data is an empty list, not an error (AWS)
        ("$.missing[*]", []),
        # a filter over missing data is an empty list
        ("$.missing[?(@.x == 1)]", []),
    ],
)
def test_resolve_indefinite_paths_returns_lists(expr, expected):
    assert compile_path(expr).resolve(DATA) == expected


@pytest.mark.parametrize(
    "expr, data, detail",
    [
        # the last field is missing
        ("$.a", {}, "No results for path: $['a']"),
        # the last of two fields is missing
        ("$.a.b", {"a": {}}, "No results for path: $['a']['b']"),
        # an intermediate field is missing
        ("$.a.b", {}, "Missing property in path $['a']"),
        # a deeper intermediate field is missing
        ("$.a.b.c", {"a": {}}, "Missing property in path $['a']['b']"),
        # an index past the end reports the whole path
        ("$.a[3]", {"a": [1]}, "No results for path: $['a'][3]"),
        # an index past the end, followed by more steps
        ("$.a[0].b", {"a": []}, "No results for path: $['a'][0]['b']"),
        # bracket notation is reported in the same normalised form
        ("$['x y']", {}, "No results for path: $['x y']"),
        # an index into null
        ("$.a[0]", {"a": None}, "The path $['a'] is null"),
        # an index into an object
        ("$.a[0]", {"a": {"k": 1}}, 'Filter: [0] can only be applied to arrays. Current context is: {"k":1}'),
        # a field of a string
        (
            "$.a.b",
            {"a": "text"},
            "Expected to find an object with property ['b'] in path $['a'] but found 'java.lang.String'. "
            "This is not a json object according to the JsonProvider: "
            "'com.jayway.jsonpath.spi.json.JacksonJsonProvider'.",
        ),
        # a field of null
        (
            "$.a.b",
            {"a": None},
            "Expected to find an object with property ['b'] in path $['a'] but found 'null'. "
            "This is not a json object according to the JsonProvider: "
            "'com.jayway.jsonpath.spi.json.JacksonJsonProvider'.",
        ),
        # a field of an array
        (
            "$.a.b",
            {"a": [1]},
            "Expected to find an object with property ['b'] in path $['a'] but found 'java.util.ArrayList'. "
            "This is not a json object according to the JsonProvider: "
            "'com.jayway.jsonpath.spi.json.JacksonJsonProvider'.",
        ),
        # a field of a number
        (
            "$.a.b",
            {"a": 1},
            "Expected to find an object with property ['b'] in path $['a'] but found 'java.lang.Integer'. "
            "This is not a json object according to the JsonProvider: "
            "'com.jayway.jsonpath.spi.json.JacksonJsonProvider'.",
        ),
    ],
)
def test_missing_data_raises_path_not_found_in_jayway_words(expr, data, detail):
    with pytest.raises(PathNotFound) as caught:
        compile_path(expr).resolve(data)
    assert (caught.value.expr, caught.value.detail) == (expr, detail)
    assert str(caught.value) == f"Invalid path '{expr}' : {detail}"


@pytest.mark.parametrize(
    "expr, data, expected",
    [
        # a present field
        ("$.a", {"a": 0}, True),
        # a present null
        ("$.a", {"a": None}, True),
        # a missing field
        ("$.a", {}, False),
        # an indefinite path with matches
        ("$.a[*]", {"a": [1]}, True),
        # an indefinite path without matches
        ("$.a[*]", {"a": []}, False),
    ],
)
def test_exists(expr, data, expected):
    assert compile_path(expr).exists(data) is expected


def test_context_paths_read_the_context_object():
    context = Context(execution_name="run-1", state_machine_name="Orders")
    env = Env(context, "Charge")
    assert compile_path("$$.Execution.Name").resolve({"ignored": 1}, env) == "run-1"
    assert compile_path("$$.State.Name").resolve({}, env) == "Charge"
    assert compile_path("$$.StateMachine.Name").resolve({}, env) == "Orders"
    assert compile_path("$$").resolve({}, env) is env.context_object


def test_variable_paths_read_variables():
    env = Env(Context(), "S", variables={"order": {"items": [{"sku": "A1"}]}, "total": 5})
    assert compile_path("$order.items[0].sku").resolve({}, env) == "A1"
    assert compile_path("$total").resolve({"total": 99}, env) == 5


@pytest.mark.parametrize(
    "expr, env, detail",
    [
        # a context path needs an environment
        ("$$.Execution.Id", None, "No context is available to evaluate this path"),
        # a variable path needs an environment
        ("$order", None, "No context is available to evaluate this path"),
        # an undefined variable
        ("$order.id", Env(Context(), "S"), "The variable 'order' is not defined"),
        # a missing field of the context object
        ("$$.Map.Item", Env(Context(), "S"), "Missing property in path $['Map']"),
    ],
)
def test_context_and_variable_paths_that_find_nothing(expr, env, detail):
    with pytest.raises(PathNotFound) as caught:
        compile_path(expr).resolve({}, env)
    assert caught.value.detail == detail


@pytest.mark.parametrize(
    "expr, message",
    [
        # no root
        ("a.b", "The path 'a.b' must start with '$'."),
        # empty
        ("", "The path '' must start with '$'."),
        # not a string
        (5, "A path must be a string, not int."),
        # unbalanced bracket
        ("$.a[", None),
        # too long
        ("$" + ".a" * 5001, "The path is longer than 10000 characters."),
        # a filter may not refer to the document root
        ("$.a[?(@.b == $.c)]", "The path '$.a[?(@.b == $.c)]' refers to '$' inside a filter expression."),
    ],
)
def test_compile_path_rejects_invalid_paths(expr, message):
    with pytest.raises(PathSyntaxError) as caught:
        compile_path(expr)
    if message is None:
        assert str(caught.value).startswith(f"The path '{expr}' is not a valid JsonPath (")
    else:
        assert str(caught.value) == message


@pytest.mark.parametrize(
    "expr, kind, problem",
    [
        # any JsonPath is a Path
        ("$.a[*].b", "path", None),
        # a filter is a Path
        ("$.users[?(@.status == 0)]", "path", None),
        # a context path is a Path
        ("$$.Execution.Input", "path", None),
        # fields and indexes make a Reference Path
        ("$.a[0]['b c']", "reference", None),
        # a context path may be a Reference Path
        ("$$.Execution.Id", "reference", None),
        # a variable path may be a Reference Path
        ("$order.id", "reference", None),
        # a wildcard is not a Reference Path
        ("$.a[*]", "reference", "'$.a[*]' must be a Reference Path: fields and array indexes only"),
        # a negative index is a Path ...
        ("$.a[-1]", "path", None),
        # ... but not a Reference Path
        ("$.a[-1]", "reference", "'$.a[-1]' must be a Reference Path: fields and array indexes only"),
        # nor is a script expression
        (
            "$.a[(@.length-1)]",
            "reference",
            "'$.a[(@.length-1)]' must be a Reference Path: fields and array indexes only",
        ),
        # descendants are not a Reference Path
        ("$..a", "reference", "'$..a' must be a Reference Path: fields and array indexes only"),
        # a filter is not a ResultPath
        ("$.a[?(@.b)]", "result", "'$.a[?(@.b)]' must be a Reference Path: fields and array indexes only"),
        # a plain field is a ResultPath
        ("$.result", "result", None),
        # the root is a ResultPath
        ("$", "result", None),
        # a ResultPath cannot write into the context object
        ("$$.Execution.Id", "result", "'$$.Execution.Id' must be a path into the state's input starting with '$'"),
        # ... nor into a variable
        ("$x.y", "result", "'$x.y' must be a path into the state's input starting with '$'"),
        # double-quoted bracket notation is a Reference Path (Jayway reads both quote kinds)
        ('$["result"]', "result", None),
        # not a string
        (None, "path", "must be a string"),
        # no root
        ("a", "path", "The path 'a' must start with '$'."),
    ],
)
def test_check_path_syntax(expr, kind, problem):
    assert check_path_syntax(expr, kind) == problem


def test_check_path_syntax_reports_parse_errors():
    problem = check_path_syntax("$.a[", "path")
    assert problem is not None and problem.startswith("The path '$.a[' is not a valid JsonPath (")


# -- properties ---------------------------------------------------------------------------

# Names that dot notation can spell; bracket notation can spell them too.
NAMES = st.text(alphabet="abcxyzABC_019-$éü", min_size=1, max_size=6)
SCALARS = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=5)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=4),
    max_leaves=20,
)


@st.composite
def data_and_steps(draw):
    """Draw nested JSON data and a list of field/index steps that exists in it."""
    data = draw(st.dictionaries(NAMES, JSON, min_size=1, max_size=4))
    steps = []
    node = data
    while isinstance(node, (dict, list)) and node and (not steps or draw(st.booleans())):
        if isinstance(node, dict):
            key = draw(st.sampled_from(sorted(node)))
        else:
            key = draw(st.integers(-len(node), len(node) - 1))
        steps.append(key)
        node = node[key]
    return data, steps


def walk(data, steps):
    for step in steps:
        data = data[step]
    return data


def dot_path(steps):
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps)


def bracket_path(steps):
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f"['{s}']" for s in steps)


@given(data_and_steps())
def test_resolve_matches_walking_the_data(case):
    data, steps = case
    assert compile_path(dot_path(steps)).resolve(data) == walk(data, steps)


@given(data_and_steps())
def test_bracket_and_dot_notation_agree(case):
    data, steps = case
    dotted, bracketed = compile_path(dot_path(steps)), compile_path(bracket_path(steps))
    assert dotted.keys == bracketed.keys == tuple(steps)
    assert dotted.resolve(data) == bracketed.resolve(data)


@given(data_and_steps(), NAMES)
def test_a_missing_last_field_names_the_whole_path(case, extra):
    data, steps = case
    target = walk(data, steps)
    assume(isinstance(target, dict) and extra not in target)
    with pytest.raises(PathNotFound) as caught:
        compile_path(dot_path(steps + [extra])).resolve(data)
    assert caught.value.detail == "No results for path: " + bracket_path(steps + [extra])
