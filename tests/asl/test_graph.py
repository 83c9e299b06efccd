"""Tests for definition_graph: the nodes, groups and edges the admin draws and the API returns."""
from django_asl.asl.graph import child_path, definition_graph, group_id, node_id


def test_edges_of_every_kind():
    definition = {
        "StartAt": "Choose",
        "States": {
            "Choose": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "Work"}],
                       "Default": "Done"},
            "Work": {"Type": "Task", "Resource": "urn:t", "Next": "Done",
                     "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}]},
            "Done": {"Type": "Succeed"},
            "Failed": {"Type": "Fail"},
        },
    }
    graph = definition_graph(definition)
    assert [(n["name"], n["type"], n["start"], n["end"]) for n in graph["nodes"]] == [
        ("Choose", "Choice", True, False), ("Work", "Task", False, False),
        ("Done", "Succeed", False, True), ("Failed", "Fail", False, True),
    ]
    assert [(e["source"], e["target"], e["kind"], e["label"]) for e in graph["edges"]] == [
        ("|Choose", "|Work", "choice", "Choices[0]"),
        ("|Choose", "|Done", "default", ""),
        ("|Work", "|Done", "next", ""),
        ("|Work", "|Failed", "catch", "States.ALL"),
    ]
    assert graph["groups"] == []


def test_parallel_and_map_become_nested_groups_with_machine_path_ids():
    definition = {
        "StartAt": "Fan",
        "States": {
            "Fan": {"Type": "Parallel", "Next": "Each", "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}},
            ]},
            "Each": {"Type": "Map", "End": True, "ItemProcessor": {
                "StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}}},
        },
    }
    graph = definition_graph(definition)
    branch_1 = child_path("", "Fan", 1)
    processor = child_path("", "Each", None)
    assert branch_1 == '[["Fan", 1]]'
    assert [g["id"] for g in graph["groups"]] == [group_id(child_path("", "Fan", 0)), group_id(branch_1),
                                                  group_id(processor)]
    assert [(g["label"], g["parent"], g["kind"]) for g in graph["groups"]] == [
        ("Branch 1", "|Fan", "branch"), ("Branch 2", "|Fan", "branch"), ("Iteration", "|Each", "processor"),
    ]
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert nodes[node_id(branch_1, "B")]["group"] == group_id(branch_1)
    assert nodes[node_id(processor, "Item")]["start"] is True
    assert graph["groups"][2]["start"] == node_id(processor, "Item")


def test_a_broken_definition_still_draws_what_it_can():
    graph = definition_graph({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Missing"}, "B": 3}})
    assert [n["name"] for n in graph["nodes"]] == ["A"]  # a transition to a missing state is left out
    assert graph["edges"] == []
    assert definition_graph("not a dict") == {"nodes": [], "edges": [], "groups": []}
