"""The shape of a definition as a graph: states as nodes, transitions as edges.

``definition_graph`` is what the admin draws and what the REST API's ``graph``
endpoint returns. Parallel branches and Map item processors become nested
groups, so a drawing can box them inside their state. It reads the definition
as written (a dict), so even a definition with validation issues can be drawn:
transitions to states that do not exist are left out.

Node and group ids are stable for a definition: a state's id is the
``machine_path`` of its (sub-)machine, as child executions store it (a JSON
list of ``[state, branch]`` steps, ``""`` at the top), and its name, joined by
``|``. That lets a front end colour the states a child execution went through.
"""
from __future__ import annotations

import json
from typing import Any


def node_id(machine_path: str, state_name: str) -> str:
    """Return the graph id of ``state_name`` in the (sub-)machine at ``machine_path``."""
    return f"{machine_path}|{state_name}"


def group_id(machine_path: str) -> str:
    """Return the graph id of the group that holds the (sub-)machine at ``machine_path``."""
    return f"group:{machine_path}"


def child_path(machine_path: str, state_name: str, branch: int | None) -> str:
    """Return the machine path of branch ``branch`` (or, with None, the Map processor) of ``state_name``.

    A path is JSON: the list of ``[state name, branch index or null]`` steps
    from the top-level machine, e.g. ``[["Fan out", null], ["Notify", 1]]``.
    """
    steps = json.loads(machine_path) if machine_path else []
    steps.append([state_name, branch])
    return json.dumps(steps, ensure_ascii=False)


def definition_graph(definition: dict) -> dict[str, Any]:
    """Return ``{"nodes": [...], "edges": [...], "groups": [...]}`` for a definition dict.

    - node: ``{"id", "name", "type", "group", "start", "end", "comment"}``; ``group`` is
      the id of the group it sits in (``None`` at the top), ``start`` is true for
      its machine's ``StartAt`` state, ``end`` for a state that ends its machine
      (``End``, Succeed, Fail).
    - group: ``{"id", "label", "parent", "kind", "start"}``: a Parallel branch
      (``kind`` "branch", label "Branch 1") or a Map item processor (``kind``
      "processor"), ``parent`` being the node of its Parallel or Map state.
    - edge: ``{"source", "target", "kind", "label"}`` with ``kind`` one of ``next``,
      ``choice`` (label: the rule's position, ``Choices[0]``), ``default`` and
      ``catch`` (label: the error names).
    """
    graph: dict[str, list] = {"nodes": [], "edges": [], "groups": []}
    if isinstance(definition, dict):
        _add_machine(graph, definition, "", None)
    return graph


def _add_machine(graph: dict[str, list], machine: dict, machine_path: str, group: str | None) -> None:
    states = machine.get("States")
    if not isinstance(states, dict):
        return
    start_at = machine.get("StartAt")
    names = set(states)

    def edge(source: str, target: Any, kind: str, label: str = "") -> None:
        if isinstance(target, str) and target in names:
            graph["edges"].append({"source": node_id(machine_path, source),
                                   "target": node_id(machine_path, target), "kind": kind, "label": label})

    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        kind = state.get("Type")
        this = node_id(machine_path, name)
        graph["nodes"].append({
            "id": this, "name": name, "type": kind if isinstance(kind, str) else "", "group": group,
            "start": name == start_at, "end": state.get("End") is True or kind in ("Succeed", "Fail"),
            "comment": state.get("Comment") if isinstance(state.get("Comment"), str) else "",
        })
        edge(name, state.get("Next"), "next")
        if kind == "Choice":
            for index, rule in enumerate(state.get("Choices") or []):
                if isinstance(rule, dict):
                    edge(name, rule.get("Next"), "choice", f"Choices[{index}]")
            edge(name, state.get("Default"), "default")
        for catcher in state.get("Catch") or []:
            if isinstance(catcher, dict):
                errors = catcher.get("ErrorEquals")
                label = ", ".join(e for e in errors if isinstance(e, str)) if isinstance(errors, list) else ""
                edge(name, catcher.get("Next"), "catch", label)
        if kind == "Parallel":
            for index, branch in enumerate(state.get("Branches") or []):
                if isinstance(branch, dict):
                    _add_group(graph, branch, child_path(machine_path, name, index), this, "branch",
                               f"Branch {index + 1}")
        elif kind == "Map":
            processor = state.get("ItemProcessor", state.get("Iterator"))
            if isinstance(processor, dict):
                _add_group(graph, processor, child_path(machine_path, name, None), this, "processor", "Iteration")


def _add_group(graph: dict[str, list], machine: dict, machine_path: str, parent: str, kind: str, label: str) -> None:
    this = group_id(machine_path)
    start_at = machine.get("StartAt")
    graph["groups"].append({"id": this, "label": label, "parent": parent, "kind": kind,
                            "start": node_id(machine_path, start_at) if isinstance(start_at, str) else None})
    _add_machine(graph, machine, machine_path, this)
