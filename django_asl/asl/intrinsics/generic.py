"""Generic intrinsics: States.Format and States.UUID."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

from .json_ import java_number
from .parser import Call, Literal
from .registry import STRING, UNKNOWN, IntrinsicFault, intrinsic


def format_value(value: Any) -> str:
    """Return ``value`` as States.Format writes it (Java's ``toString`` of the decoded JSON).

    Strings are inserted raw, numbers as JSON numbers, ``true``/``false``/``null``
    as words, arrays as ``[1, a, null]`` and objects as ``{Arg1=1, Arg2=[]}``.
    """
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    if kind is list:
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    if kind is dict:
        return "{" + ", ".join(f"{key}={format_value(item)}" for key, item in value.items()) + "}"
    return java_number(value)


@lru_cache(maxsize=1024)
def _pieces(template: str) -> tuple[str, ...]:
    """Split a template that came from a path at each ``{}``."""
    return tuple(template.split("{}"))


def _check_format(args: list) -> str | None:
    template = args[0]
    if template is UNKNOWN:
        return None
    if template.template is None:
        return (
            "the States.Format template has a '{' or '}' that is not part of '{}' "
            "(write \\\\{ or \\\\} for a brace)."
        )
    placeholders = len(template.template) - 1
    values = len(args) - 1
    if placeholders != values:
        return (
            f"the States.Format template has {placeholders} placeholder{'s' if placeholders != 1 else ''} "
            f"but {values} value{'s' if values != 1 else ''} follow{'s' if values == 1 else ''} it."
        )
    return None


def _render(pieces: tuple[str, ...], values: list) -> str:
    parts = [pieces[0]]
    for value, piece in zip(values, pieces[1:]):
        parts.append(format_value(value))
        parts.append(piece)
    return "".join(parts)


def _compile_format(call: Call, args: list[Callable[[Any, Any], Any]], invalid: IntrinsicFault) -> Callable:
    """Return the closure for one States.Format call; a literal template is split once, here."""
    template_node = call.args[0]
    template_arg, value_args = args[0], tuple(args[1:])
    count = len(value_args)

    if type(template_node) is Literal:
        pieces = template_node.template

        def format_literal(data: Any, env: Any) -> str:
            values = [arg(data, env) for arg in value_args]
            if pieces is None or len(pieces) - 1 != count:
                raise IntrinsicFault(invalid.detail)
            return _render(pieces, values)

        return format_literal

    def format_dynamic(data: Any, env: Any) -> str:
        template = template_arg(data, env)
        values = [arg(data, env) for arg in value_args]
        if type(template) is not str:
            raise IntrinsicFault(invalid.detail)
        pieces = _pieces(template)
        if len(pieces) - 1 != count:
            raise IntrinsicFault(invalid.detail)
        return _render(pieces, values)

    return format_dynamic


@intrinsic("States.Format", STRING, variadic=True, static_check=_check_format)
def states_format(template: str, *values: Any) -> str:
    """Return ``template`` with each ``{}`` replaced by the next value.

    Spec: "The value of the first argument must be a string, and may include
    zero or more instances of the character sequence {}. There must be as many
    remaining arguments in the Invocation as there are occurrences of {}."
    Handles: literal templates, where ``\\{`` and ``\\}`` are braces and not
    placeholders; templates from a path; values rendered by ``format_value``.
    A count mismatch, a non-string template, or (in a literal template) a lone
    brace fails with "Invalid arguments in States.Format".
    """
    pieces = _pieces(template)
    if len(pieces) - 1 != len(values):
        raise IntrinsicFault("Invalid arguments in States.Format")
    return _render(pieces, list(values))


states_format.compile_call = _compile_format  # type: ignore[attr-defined]


@intrinsic("States.UUID", uses_env=True)
def states_uuid(env: Any) -> str:
    """Return a new version 4 UUID, from ``env.new_uuid()``."""
    return env.new_uuid()
