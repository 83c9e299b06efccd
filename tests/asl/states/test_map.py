"""Tests for django_asl.asl.states.map: iterations, ItemSelector, concurrency and tolerated failures."""
from __future__ import annotations

import pytest

from django_asl.asl import TaskError
from tests.asl.machines import event_types, load, run, single

ITERATION_OK = ["MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded"]
PROCESSOR = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}


def test_item_selector_sees_index_value_and_input():
    result = run(load("map/item_selector.json"), {"items": ["a", {"b": 1}], "batch": 9})
    assert (result.status, result.output) == ("SUCCEEDED", {
        "items": ["a", {"b": 1}],
        "batch": 9,
        "results": [
            {"index": 0, "value": "a", "batch": 9, "seen": True},
            {"index": 1, "value": {"b": 1}, "batch": 9, "seen": True},
        ],
    })
    assert event_types(result) == ["ExecutionStarted", "MapStateEntered", "MapStateStarted",
                                   *ITERATION_OK, *ITERATION_OK,
                                   "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]


@pytest.mark.parametrize(
    "fields, input, output",
    [
        # the input itself is the array
        ({}, [1, 2, 3], [1, 2, 3]),
        # an empty array runs no iteration
        ({}, [], []),
        # ItemsPath selects the array
        ({"ItemsPath": "$.xs"}, {"xs": [1]}, [1]),
        # the older Parameters field works as ItemSelector
        ({"Parameters": {"i.$": "$$.Map.Item.Index"}}, ["a", "b"], [{"i": 0}, {"i": 1}]),
        # MaxConcurrency 1 keeps item order
        ({"MaxConcurrency": 1}, [3, 1, 2], [3, 1, 2]),
        # MaxConcurrency 0 means no limit, results still in item order
        ({"MaxConcurrency": 0}, [3, 1, 2], [3, 1, 2]),
        # MaxConcurrencyPath read from the input
        ({"ItemsPath": "$.xs", "MaxConcurrencyPath": "$.limit"}, {"xs": [1, 2], "limit": 1}, [1, 2]),
        # ResultSelector sees the list of results
        ({"ResultSelector": {"first.$": "$[0]"}}, [5, 6], {"first": 5}),
        # ResultPath places the results in the input
        ({"ItemsPath": "$.xs", "ResultPath": "$.out"}, {"xs": [1]}, {"xs": [1], "out": [1]}),
    ],
)
def test_map_output(fields, input, output):
    result = run(single({"Type": "Map", "ItemProcessor": PROCESSOR, **fields}), input)
    assert (result.status, result.output) == ("SUCCEEDED", output)


def test_empty_array_events():
    result = run(single({"Type": "Map", "ItemProcessor": PROCESSOR}), [])
    assert event_types(result) == ["ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapStateSucceeded",
                                   "MapStateExited", "ExecutionSucceeded"]


@pytest.mark.parametrize(
    "fields, input, cause",
    [
        # ItemsPath selects an object
        ({"ItemsPath": "$.xs"}, {"xs": {"a": 1}}, 'Map state input must be an array but was: {"a":1}'),
        # ItemsPath selects nothing
        ({"ItemsPath": "$.xs"}, {}, "Invalid path '$.xs' : No results for path: $['xs']"),
        # MaxConcurrencyPath is not an integer
        ({"MaxConcurrencyPath": "$[0]"}, ["x"],
         'The MaxConcurrencyPath field refers to value "x" which is not a valid integer: $[0]'),
    ],
)
def test_map_runtime_errors(fields, input, cause):
    result = run(single({"Type": "Map", "ItemProcessor": PROCESSOR, **fields}, "Each"), input)
    assert (result.status, result.error, result.cause) == (
        "FAILED", "States.Runtime",
        "An error occurred while executing the state 'Each' (entered at the event id #2). " + cause)


def tolerated(**fields):
    definition = load("map/tolerated.json")
    definition["States"]["Each"].update(fields)
    return definition


ITEMS = [{"ok": True}, {"ok": False}, {"ok": True}, {"ok": False}]
FAILED_ITEM = {"Error": "ItemFailed", "Cause": "bad item"}


@pytest.mark.parametrize(
    "fields, status, error, output",
    [
        # two failures within a count of two
        ({"ToleratedFailureCount": 2}, "SUCCEEDED", None, [{"ok": True}, FAILED_ITEM, {"ok": True}, FAILED_ITEM]),
        # two failures beyond a count of one
        ({"ToleratedFailureCount": 1}, "FAILED", "States.ExceedToleratedFailureThreshold", None),
        # 50% failed, 50% tolerated: not exceeded
        ({"ToleratedFailurePercentage": 50}, "SUCCEEDED", None, [{"ok": True}, FAILED_ITEM, {"ok": True}, FAILED_ITEM]),
        # 50% failed, 25% tolerated
        ({"ToleratedFailurePercentage": 25}, "FAILED", "States.ExceedToleratedFailureThreshold", None),
        # with both thresholds, exceeding either fails the state
        ({"ToleratedFailureCount": 5, "ToleratedFailurePercentage": 10}, "FAILED",
         "States.ExceedToleratedFailureThreshold", None),
        # the count read from the input
        ({"ItemsPath": "$.items", "ToleratedFailureCountPath": "$.allowed"}, "SUCCEEDED", None,
         [{"ok": True}, FAILED_ITEM, {"ok": True}, FAILED_ITEM]),
        # no threshold: the first failure fails the state with its own error
        ({}, "FAILED", "ItemFailed", None),
    ],
)
def test_tolerated_failures(fields, status, error, output):
    input = {"items": ITEMS, "allowed": 2} if "ItemsPath" in fields else ITEMS
    result = run(tolerated(**fields), input)
    assert (result.status, result.error, result.output) == (status, error, output)


def test_exceeding_the_threshold_stops_the_iterations():
    result = run(tolerated(ToleratedFailureCount=0), ITEMS)
    assert (result.error, result.cause) == ("States.ExceedToleratedFailureThreshold",
                                           "The specified tolerated failure threshold was exceeded")
    assert event_types(result) == [
        "ExecutionStarted", "MapStateEntered", "MapStateStarted",
        "MapIterationStarted", "ChoiceStateEntered", "ChoiceStateExited", "SucceedStateEntered",
        "SucceedStateExited", "MapIterationSucceeded",
        "MapIterationStarted", "ChoiceStateEntered", "ChoiceStateExited", "FailStateEntered", "MapIterationFailed",
        "MapStateFailed", "ExecutionFailed",
    ]


def test_a_failed_iteration_is_caught_on_the_map_state():
    def reserve(sku, context):
        if sku == "B2":
            raise TaskError("OutOfStock", "no B2 left")
        return {"reserved": sku}

    result = run(load("map/task_items.json"), {"skus": ["A1", "B2", "C3"]}, tasks={"urn:app:reserve": reserve})
    assert (result.status, result.output) == ("SUCCEEDED", {
        "skus": ["A1", "B2", "C3"], "error": {"Error": "OutOfStock", "Cause": "no B2 left"}})
    task_ok = ["TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited"]
    assert event_types(result) == [
        "ExecutionStarted", "MapStateEntered", "MapStateStarted",
        "MapIterationStarted", *task_ok, "MapIterationSucceeded",
        "MapIterationStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed", "MapIterationFailed",
        "MapStateFailed", "MapStateExited",
        "PassStateEntered", "PassStateExited", "ExecutionSucceeded",
    ]


def test_map_of_tasks_succeeds():
    result = run(load("map/task_items.json"), {"skus": ["A1", "C3"]},
                 tasks={"urn:app:reserve": lambda sku, context: {"reserved": sku}})
    assert (result.status, result.output) == ("SUCCEEDED", [{"reserved": "A1"}, {"reserved": "C3"}])
