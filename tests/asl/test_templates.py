"""Tests for django_asl.asl.templates: payload templates with ``.$`` bindings."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from django_asl.asl.context import Context, Env, VirtualClock
from django_asl.asl.errors import ErrorName, StatesError
from django_asl.asl.templates import compile_template

START = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
CONTEXT = Context(
    execution_name="run-7",
    state_machine_name="Orders",
    clock=VirtualClock(START),
    uuid_factory=lambda: "00000000-0000-4000-8000-000000000001",
)
ENV = Env(CONTEXT, "Prepare", entered_time=START)
DATA = {"name": "Ann", "order": {"id": 7, "lines": [{"sku": "A"}, {"sku": "B"}]}, "empty": None}


def evaluate(template, data=DATA, env=ENV):
    return compile_template(template)(data, env)


@pytest.mark.parametrize(
    "template, expected",
    [
        # a path binding renames the field without '.$'
        ({"who.$": "$.name"}, {"who": "Ann"}),
        # the whole input
        ({"all.$": "$"}, {"all": DATA}),
        # a nested path and an index
        ({"first.$": "$.order.lines[0].sku"}, {"first": "A"}),
        # a null value is bound, not missing
        ({"e.$": "$.empty"}, {"e": None}),
        # an indefinite path binds a list
        ({"skus.$": "$.order.lines[*].sku"}, {"skus": ["A", "B"]}),
        # a filter matching nothing binds an empty list
        ({"none.$": "$.order.lines[?(@.sku == 'Z')]"}, {"none": []}),
        # constants and bindings side by side, in template order
        ({"kind": "order", "id.$": "$.order.id"}, {"kind": "order", "id": 7}),
        # nested objects are templates too
        ({"outer": {"inner.$": "$.name", "k": 1}}, {"outer": {"inner": "Ann", "k": 1}}),
        # objects inside arrays are templates too
        ({"list": [{"v.$": "$.order.id"}, 2, "x"]}, {"list": [{"v": 7}, 2, "x"]}),
        # an array at the top
        ([{"v.$": "$.name"}, {"w": 1}], [{"v": "Ann"}, {"w": 1}]),
        # a '.$' key with a non-string value is not a binding
        ({"n.$": 5}, {"n.$": 5}),
        # a string value that looks like a path but has no '.$' key is a constant
        ({"p": "$.name"}, {"p": "$.name"}),
        # the execution's name from the context object
        ({"run.$": "$$.Execution.Name"}, {"run": "run-7"}),
        # the state's name from the context object
        ({"state.$": "$$.State.Name"}, {"state": "Prepare"}),
        # the state's entered time from the context object
        ({"at.$": "$$.State.EnteredTime"}, {"at": "2024-05-01T12:00:00.000Z"}),
        # the state machine's name from the context object
        ({"sm.$": "$$.StateMachine.Name"}, {"sm": "Orders"}),
        # an intrinsic function with a path argument
        ({"greeting.$": "States.Format('Hello, {}!', $.name)"}, {"greeting": "Hello, Ann!"}),
        # an intrinsic function reading the environment
        ({"id.$": "States.UUID()"}, {"id": "00000000-0000-4000-8000-000000000001"}),
        # nested intrinsic functions
        ({"n.$": "States.ArrayLength(States.Array($.name, $.order.id))"}, {"n": 2}),
        # scalars are constants
        ("plain", "plain"),
    ],
)
def test_evaluate(template, expected):
    assert evaluate(template) == expected


def test_variables_are_visible():
    env = Env(Context(), "S", variables={"limit": 3})
    assert evaluate({"max.$": "$limit"}, {}, env) == {"max": 3}


def test_map_item_is_visible_in_the_context_object():
    env = Env(Context(), "Map", map_item=(2, {"sku": "C"}))
    assert evaluate({"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value.sku"}, {}, env) == {"i": 2, "v": "C"}


def test_constant_templates_are_returned_unchanged():
    template = {"a": [1, {"b": None}], "c": "$.not-a-binding"}
    assert evaluate(template) is template


def test_constant_sub_templates_are_shared_not_copied():
    constant = {"fixed": [1, 2, 3]}
    result = evaluate({"dynamic.$": "$.name", "constant": constant})
    assert result == {"dynamic": "Ann", "constant": {"fixed": [1, 2, 3]}}
    assert result["constant"] is constant


def test_each_evaluation_builds_a_new_object():
    evaluator = compile_template({"who.$": "$.name"})
    first, second = evaluator(DATA, ENV), evaluator(DATA, ENV)
    assert first == second and first is not second


@pytest.mark.parametrize(
    "template, data, cause",
    [
        # a missing field of the input; the input is quoted as compact JSON
        (
            {"x.$": "$.x"},
            {"a": 1, "b": [1, 2]},
            "The JSONPath '$.x' specified for the field 'x.$' could not be found in the input '{\"a\":1,\"b\":[1,2]}'",
        ),
        # a missing field in a nested template names the nested field
        (
            {"outer": {"deep.$": "$.a.b"}},
            {"a": {}},
            "The JSONPath '$.a.b' specified for the field 'deep.$' could not be found in the input '{\"a\":{}}'",
        ),
        # non-ASCII text is quoted as it is, not escaped
        (
            {"x.$": "$.x"},
            {"name": "Zoë"},
            "The JSONPath '$.x' specified for the field 'x.$' could not be found in the input '{\"name\":\"Zoë\"}'",
        ),
    ],
)
def test_missing_path_raises_states_runtime(template, data, cause):
    with pytest.raises(StatesError) as caught:
        evaluate(template, data)
    assert (caught.value.name, caught.value.cause) == (ErrorName.RUNTIME, cause)


def test_missing_context_path_raises_states_runtime():
    with pytest.raises(StatesError) as caught:
        evaluate({"m.$": "$$.Map.Item.Index"}, {})
    assert caught.value.name == ErrorName.RUNTIME
    assert caught.value.cause.startswith(
        "The JSONPath '$$.Map.Item.Index' specified for the field 'm.$' could not be found in the input "
        "'{\"Execution\":")


# -- properties ---------------------------------------------------------------------------

KEYS = st.text(alphabet="abcxyzAB_019", min_size=1, max_size=6)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
# Keys may contain '.$' anywhere but at the end, where they would make a binding.
LITERAL_KEYS = st.text(max_size=6).filter(lambda key: not key.endswith(".$"))
LITERALS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(LITERAL_KEYS, inner, max_size=4),
    max_leaves=20,
)


@given(LITERALS)
def test_a_template_without_bindings_evaluates_to_itself(template):
    assert evaluate(template, {"any": "input"}) == template


@given(st.dictionaries(KEYS, SCALARS | st.lists(SCALARS, max_size=3), min_size=1, max_size=6), st.data())
def test_bindings_of_fields_give_the_projection(data, draw):
    keys = draw.draw(st.lists(st.sampled_from(sorted(data)), unique=True, min_size=1))
    template = {f"{key}.$": f"$.{key}" for key in keys}
    assert evaluate(template, data) == {key: data[key] for key in keys}
