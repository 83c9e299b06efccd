"""Load the AWS-recorded conformance cases and compare our results with them.

The case format is described in ``<shared>/conformance/README.md``. Each case
names what its Task resources do; ``handlers_for`` turns that into local
handlers, emulating the ``arn:aws:states:::lambda:invoke`` integration's
result shape where a case uses it.
"""
from __future__ import annotations

import copy
import json
import pathlib
import time
from typing import Any

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"


def load_cases(root: pathlib.Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(root.rglob("*.json"))]


def uses_issue_7_features(case: dict) -> bool:
    """Return whether a case uses JSONata or variables (Assign), the features of issue #7."""
    features = set(case.get("features", ()))
    text = json.dumps(case["definition"])
    return bool(
        {"jsonata", "variables", "Assign", "QueryLanguage:JSONata"} & features
        or '"JSONata"' in text or '"Assign"' in text
    )


def _exception(name: str, message: str) -> Exception:
    return type(name, (Exception,), {})(message)


def handler_for(resource: str, spec: dict):
    def behave(task_input: Any) -> Any:
        if spec.get("sleep_seconds"):
            time.sleep(spec["sleep_seconds"])
        if spec["behaviour"] == "raise":
            raise _exception(spec["error"], spec["message"])
        if spec["behaviour"] == "return":
            return copy.deepcopy(spec["value"])
        return task_input

    if resource == LAMBDA_INVOKE:
        def invoke(task_input: Any, context: Any = None) -> Any:
            payload = task_input.get("Payload") if isinstance(task_input, dict) else None
            result = behave({} if payload is None else payload)
            return {"ExecutedVersion": "$LATEST", "Payload": result, "StatusCode": 200}
        return invoke
    return lambda task_input, context=None: behave(task_input)


def handlers_for(case: dict) -> dict:
    return {resource: handler_for(resource, spec) for resource, spec in case.get("tasks", {}).items()}


def _without(value: Any, pointers: list[str]) -> Any:
    value = copy.deepcopy(value)
    for pointer in pointers:
        keys = [k.replace("~1", "/").replace("~0", "~") for k in pointer.split("/")[1:]]
        holder = value
        for key in keys[:-1]:
            holder = holder[int(key) if isinstance(holder, list) else key]
        last = int(keys[-1]) if isinstance(holder, list) else keys[-1]
        holder[last]  # must exist
        holder[last] = None
    return value


def strict(value: Any) -> Any:
    """Return a form of a JSON value in which ``true`` differs from ``1`` and ``1`` equals ``1.0``."""
    if isinstance(value, bool) or value is None:
        return ("b", value)
    if isinstance(value, (int, float)):
        return ("n", float(value) if float(value) == value else value)
    if isinstance(value, dict):
        return ("o", {key: strict(item) for key, item in value.items()})
    if isinstance(value, list):
        return ("a", [strict(item) for item in value])
    return ("s", value)


def mismatch(case: dict, result: Any) -> str | None:
    """Return why ``result`` differs from the recorded one, or None when it matches."""
    expected = case["expected"]
    got = f"got status={result.status} output={json.dumps(result.output)[:300]} error={result.error!r} " \
          f"cause={str(result.cause)[:300]!r}"
    if result.status != expected["status"]:
        return f"status: expected {expected['status']}; {got}"
    compare = case["compare"]
    if expected["status"] == "SUCCEEDED":
        if compare == "ignore_output":
            return None
        try:
            if compare == "ignore_paths":
                paths = case["ignore_paths"]
                same = strict(_without(result.output, paths)) == strict(_without(expected["output"], paths))
            else:
                same = strict(result.output) == strict(expected["output"])
        except (KeyError, IndexError, TypeError):
            same = False
        return None if same else f"output: expected {json.dumps(expected['output'])[:300]}; {got}"
    if "error" in expected and (result.error or None) != expected["error"]:
        return f"error: expected {expected['error']!r}; {got}"
    if "cause" in expected and compare != "ignore_cause":
        want = expected["cause"]
        cause = result.cause
        if isinstance(want, (dict, list)):
            try:
                cause = json.loads(cause)
            except (TypeError, ValueError):
                return f"cause: expected JSON {want!r}; {got}"
        if (cause or None) != want:
            return f"cause: expected {want!r}; {got}"
    return None
