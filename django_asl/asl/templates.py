"""Payload templates (``Parameters``, ``ItemSelector``, ``ResultSelector``, JSONPath ``Assign``).

Spec, "Payload Template": "A Payload Template is a JSON object ... The value of
a field whose name ends in '.$' MUST be a Path or an Intrinsic Function; the
field is renamed to strip the '.$' suffix and given the value the Path or the
function selects." Templates nest: objects inside objects and inside arrays are
templates too.

``compile_template`` turns a template into a function ``(data, env) -> value``
once per definition. Parts without ``.$`` keys are constants, built once and
shared: values produced by the interpreter are never mutated in place.
"""
from __future__ import annotations

from typing import Any, Callable

from .errors import ErrorName, StatesError
from .paths import PathNotFound, compile_path, to_json

Evaluator = Callable[[Any, Any], Any]


def _constant(value: Any) -> Evaluator:
    return lambda data, env: value


def _path_binding(field: str, expr: str) -> Evaluator:
    path = compile_path(expr)
    resolve = path.resolve

    def evaluate(data: Any, env: Any) -> Any:
        try:
            return resolve(data, env)
        except PathNotFound:
            source = data if path.root == "input" else (
                env.context_object if path.root == "context" else env.variables)
            raise StatesError(
                ErrorName.RUNTIME,
                f"The JSONPath '{expr}' specified for the field '{field}' could not be found in the input "
                f"'{to_json(source)}'",
            ) from None

    return evaluate


def _binding(field: str, expr: Any) -> Evaluator:
    from .intrinsics import compile_intrinsic, is_intrinsic

    if is_intrinsic(expr):
        return compile_intrinsic(expr)
    return _path_binding(field, expr)


def compile_template(template: Any) -> Evaluator:
    """Compile a payload template into ``fn(data, env) -> value``.

    Handles: literal values (returned as they are); ``"key.$": "$.path"``,
    ``"key.$": "$$.context.path"``, ``"key.$": "$variable.path"`` and
    ``"key.$": "States.Function(...)"`` bindings; nested objects and arrays.
    """
    if isinstance(template, dict):
        if not _is_dynamic(template):
            return _constant(template)
        parts: list[tuple[str, bool, Any]] = []
        for key, value in template.items():
            if key.endswith(".$") and isinstance(value, str):
                parts.append((key[:-2], True, _binding(key, value)))
            elif _is_dynamic(value):
                parts.append((key, True, compile_template(value)))
            else:
                parts.append((key, False, value))
        parts_tuple = tuple(parts)

        def build_object(data: Any, env: Any) -> dict:
            return {key: (value(data, env) if dynamic else value) for key, dynamic, value in parts_tuple}

        return build_object
    if isinstance(template, list):
        if not _is_dynamic(template):
            return _constant(template)
        items = tuple((True, compile_template(v)) if _is_dynamic(v) else (False, v) for v in template)

        def build_array(data: Any, env: Any) -> list:
            return [value(data, env) if dynamic else value for dynamic, value in items]

        return build_array
    return _constant(template)


def _is_dynamic(value: Any) -> bool:
    """Return whether ``value`` holds a ``.$`` binding anywhere inside."""
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            for key, item in current.items():
                if isinstance(key, str) and key.endswith(".$") and isinstance(item, str):
                    return True
                if isinstance(item, (dict, list)):
                    stack.append(item)
        elif isinstance(current, list):
            stack.extend(item for item in current if isinstance(item, (dict, list)))
    return False
