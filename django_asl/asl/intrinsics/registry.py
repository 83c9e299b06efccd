"""The intrinsic registry: declarations, argument checks, and compilation to closures.

Each intrinsic is declared once with ``@intrinsic(name, *types)`` next to a short
body in its family module (``array.py``, ``generic.py`` ...). This module checks
every call against its declaration once, at compile time (name, number of
arguments, literal argument types), and at evaluation only tests each argument's
type before calling the body.

Failures while evaluating, as Step Functions reports them (error ``States.Runtime``;
the state runner prefixes the cause with "An error occurred while executing the
state 'X' (entered at the event id #N). "):

* a path argument that selects nothing: "The function '<call>' had the following
  error: The JsonPath argument for the field '<path>' could not be found in the
  input '<input>'";
* an argument of the wrong type or out of range: "The function '<call>' had the
  following error: Invalid arguments in States.<Name>".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..errors import ErrorName, StatesError
from ..paths import PathNotFound, PathSyntaxError, compile_path, to_json
from .parser import Call, IntrinsicSyntaxError, Literal, PathArg, parse_intrinsic

Evaluator = Callable[[Any, Any], Any]

# Step Functions fails a bad intrinsic argument with States.Runtime, not with the
# States.IntrinsicFailure the spec lists; one name, used for every evaluation failure.
FAILURE_ERROR = ErrorName.RUNTIME

# Argument types. Each is the set of Python types a JSON value of that kind has;
# bool is its own type, so `true` is never a number.
ANY: frozenset | None = None
STRING = frozenset({str})
NUMBER = frozenset({int, float})
BOOLEAN = frozenset({bool})
ARRAY = frozenset({list})
OBJECT = frozenset({dict})

_TYPE_NAMES = {STRING: "a string", NUMBER: "a number", BOOLEAN: "a boolean", ARRAY: "an array", OBJECT: "an object"}

UNKNOWN = object()
"""Stands for an argument whose value is only known at evaluation, in static checks."""


class InvalidArguments(Exception):
    """Raised by an intrinsic body: the arguments are not acceptable ("Invalid arguments in States.X")."""


class IntrinsicFault(Exception):
    """An evaluation failure inside a call, with the text that follows "had the following error: "."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Declaration:
    """What a call to one intrinsic must look like, and the body that computes it."""

    name: str
    params: tuple[frozenset | None, ...]
    required: int
    variadic: frozenset | None | bool
    body: Callable[..., Any]
    uses_env: bool
    static_check: Callable[[list], str | None] | None

    def arity_text(self) -> str:
        """Return how many arguments the function takes, as words."""
        if self.variadic is not False:
            return f"at least {_plural(self.required)}"
        if self.required == len(self.params):
            return "no arguments" if not self.params else _plural(self.required)
        return f"{self.required} or {len(self.params)} arguments" if len(self.params) == self.required + 1 \
            else f"{self.required} to {len(self.params)} arguments"

    def accepts(self, count: int) -> bool:
        if count < self.required:
            return False
        return self.variadic is not False or count <= len(self.params)

    def type_at(self, position: int) -> frozenset | None:
        if position < len(self.params):
            return self.params[position]
        return None if self.variadic is True else self.variadic


def _plural(count: int) -> str:
    return f"{count} argument" if count == 1 else f"{count} arguments"


REGISTRY: dict[str, Declaration] = {}


def intrinsic(
    name: str,
    *params: frozenset | None,
    optional: int = 0,
    variadic: frozenset | None | bool = False,
    uses_env: bool = False,
    static_check: Callable[[list], str | None] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as the body of intrinsic ``name``.

    ``params`` are the types of the positional arguments (``ANY`` for any JSON
    value); the last ``optional`` of them may be left out. ``variadic`` is the
    type of any further arguments (``True`` for any value; ``False``: none
    allowed). With ``uses_env`` the body receives ``env`` first. ``static_check``
    gets the arguments (``Literal`` nodes, or ``UNKNOWN`` for the others) and
    returns a message for a problem visible before evaluation, else None.
    """

    def register(body: Callable[..., Any]) -> Callable[..., Any]:
        if name in REGISTRY:
            raise ValueError(f"{name} is already registered.")
        REGISTRY[name] = Declaration(
            name=name,
            params=tuple(params),
            required=len(params) - optional,
            variadic=variadic,
            body=body,
            uses_env=uses_env,
            static_check=static_check,
        )
        return body

    return register


def is_intrinsic(expr: Any) -> bool:
    """Return whether a ``.$`` value is an intrinsic call rather than a path (a cheap prefix test)."""
    return type(expr) is str and expr.startswith("States.")


def compile_intrinsic(expr: str, *, strict: bool = True) -> Evaluator:
    """Compile an intrinsic call once; return ``fn(data, env) -> value``.

    Raise ``IntrinsicSyntaxError`` when the text is not a valid call, names an
    unknown function, passes the wrong number of arguments, or contains a path
    that is not a valid JsonPath. With ``strict`` (the default), literal
    arguments are checked too: a literal of the wrong type, and the problems
    each function's static check finds (``States.Format`` placeholders against
    arguments, ``States.ArrayRange`` step 0 or over 1000 items,
    ``States.ArrayPartition`` chunk size below 1, ...). Without ``strict`` those
    are left to evaluation, where they fail as they would with values from paths.

    The returned function raises ``StatesError`` (see the module docstring).
    """
    tree = parse_intrinsic(expr)
    evaluate = _compile_node(tree, expr, strict)

    def evaluate_intrinsic(data: Any, env: Any) -> Any:
        try:
            return evaluate(data, env)
        except IntrinsicFault as fault:
            raise StatesError(FAILURE_ERROR, f"The function '{expr}' had the following error: {fault.detail}") from None
        except PathNotFound as missing:
            raise StatesError(FAILURE_ERROR, _missing_path_cause(expr, missing, data)) from None

    evaluate_intrinsic.__qualname__ = f"intrinsic[{expr}]"
    return evaluate_intrinsic


def _missing_path_cause(expr: str, missing: PathNotFound, data: Any) -> str:
    path = missing.expr
    if path.startswith("$$"):
        # AWS reports a context argument rewritten to '$...' and quotes the state input.
        path = path[1:]
    return (
        f"The function '{expr}' had the following error: The JsonPath argument for the field '{path}' "
        f"could not be found in the input '{to_json(data)}'"
    )


def _compile_node(node: Any, expr: str, strict: bool) -> Evaluator:
    if type(node) is Literal:
        value = node.value
        return lambda data, env: value
    if type(node) is PathArg:
        try:
            return compile_path(node.expr).resolve
        except PathSyntaxError as exc:
            raise IntrinsicSyntaxError(f"Invalid intrinsic function call {expr!r}: {exc}") from None
    return _compile_call(node, expr, strict)


def _compile_call(call: Call, expr: str, strict: bool) -> Evaluator:
    declaration = REGISTRY.get(call.name)
    if declaration is None:
        raise IntrinsicSyntaxError(
            f"Invalid intrinsic function call {expr!r}: {call.name} is not an intrinsic function."
        )
    count = len(call.args)
    if not declaration.accepts(count):
        raise IntrinsicSyntaxError(f"{call.name} takes {declaration.arity_text()}, got {count}.")
    if strict:
        _check_literals(call, declaration, expr)
    compiled = getattr(declaration.body, "compile_call", None)
    if compiled is not None:
        # A function that prepares work from its literal arguments (States.Format's template).
        return compiled(call, [_compile_node(arg, expr, strict) for arg in call.args], _invalid(call.name))
    args = tuple(_compile_node(arg, expr, strict) for arg in call.args)
    types = tuple(declaration.type_at(position) for position in range(count))
    return _caller(declaration, args, types)


def _check_literals(call: Call, declaration: Declaration, expr: str) -> None:
    values = []
    for position, arg in enumerate(call.args):
        if type(arg) is Literal:
            expected = declaration.type_at(position)
            if expected is not None and type(arg.value) not in expected:
                raise IntrinsicSyntaxError(
                    f"Argument {position + 1} of {call.name} must be {_TYPE_NAMES[expected]}, "
                    f"got {to_json(arg.value)}."
                )
            values.append(arg)
        else:
            values.append(UNKNOWN)
    if declaration.static_check is not None:
        problem = declaration.static_check(values)
        if problem:
            raise IntrinsicSyntaxError(f"Invalid intrinsic function call {expr!r}: {problem}")


def _invalid(name: str) -> IntrinsicFault:
    return IntrinsicFault(f"Invalid arguments in {name}")


def _caller(declaration: Declaration, args: tuple[Evaluator, ...], types: tuple) -> Evaluator:
    """Return the closure for one call: evaluate the arguments, test their types, run the body."""
    body = declaration.body
    name = declaration.name
    uses_env = declaration.uses_env
    checked = tuple((position, allowed) for position, allowed in enumerate(types) if allowed is not None)

    if len(args) == 1 and not uses_env:
        (first,) = args
        allowed = types[0]

        def call_one(data: Any, env: Any) -> Any:
            value = first(data, env)
            if allowed is not None and type(value) not in allowed:
                raise _invalid(name)
            try:
                return body(value)
            except InvalidArguments:
                raise _invalid(name) from None

        return call_one

    def call(data: Any, env: Any) -> Any:
        values = [arg(data, env) for arg in args]
        for position, allowed in checked:
            if type(values[position]) not in allowed:
                raise _invalid(name)
        try:
            return body(env, *values) if uses_env else body(*values)
        except InvalidArguments:
            raise _invalid(name) from None

    return call


# Numbers are converted the ways Step Functions converts them (it runs on the JVM).

def java_round(value: int | float) -> int:
    """Return ``value`` rounded half up, as Java's ``Math.round`` does (2.5 -> 3, -2.5 -> -2)."""
    if type(value) is int:
        return value
    import math

    return math.floor(value + 0.5)


def java_int(value: int | float) -> int:
    """Return ``value`` truncated toward zero, as a Java ``(int)`` cast does (1.6 -> 1, -1.6 -> -1)."""
    return value if type(value) is int else int(value)


INT_MIN, INT_MAX = -(2**31), 2**31 - 1
