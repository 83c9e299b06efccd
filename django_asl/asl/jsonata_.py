"""JSONata in Amazon States Language: ``{% ... %}`` expressions, compiled once per definition.

AWS, "Transforming data with JSONata in Step Functions": a string value that
starts with ``{%`` and ends with ``%}`` is a JSONata expression; any other
string is a literal. Expressions may appear at any depth inside the objects
and arrays of ``Arguments``, ``Output``, ``Assign``, ``Items``,
``ItemSelector``, ``Credentials`` and Fail's ``Error``/``Cause``, and as the
whole value of ``Condition``, ``Seconds``, ``Timestamp``, ``TimeoutSeconds``,
``HeartbeatSeconds``, ``MaxConcurrency`` and ``ToleratedFailure*``.

Expressions see the reserved ``$states`` (``input``, ``result``,
``errorOutput``, ``context``), the workflow variables, and the functions AWS
adds (``$partition``, ``$range``, ``$hash``, ``$random``, ``$uuid``,
``$parse``); ``$eval`` is refused. Failures are ``States.QueryEvaluationError``
with AWS's cause texts.

The module is named ``jsonata_`` so that it does not shadow the ``jsonata``
package (jsonata-python) it uses.
"""
from __future__ import annotations

import math
import re
import threading
from typing import Any, Callable, Iterator

from jsonata import JException, Jsonata
from jsonata.utils import Utils

from .context import format_timestamp
from .errors import AslError, ErrorName, StatesError
from .paths import to_json

NULL = Utils.NULL_VALUE
_EVALUATE = object()  # "let jsonata-python evaluate this"
_CURRENT = Jsonata.CURRENT
_JLambda = Jsonata.JLambda

#: Functions that Step Functions does not offer (AWS: "$eval is not available; use $parse instead").
REFUSED_FUNCTIONS = ("eval",)


class JsonataSyntaxError(AslError):
    """A JSONata expression does not parse."""


def is_expression(value: Any) -> bool:
    """Return whether ``value`` is a JSONata expression string: ``{%`` ... ``%}``."""
    return type(value) is str and value.startswith("{%") and value.endswith("%}")


def expression_text(value: str) -> str:
    """Return the JSONata text between ``{%`` and ``%}``, without surrounding blanks."""
    return value[2:-2].strip()


def parse(text: str) -> Jsonata:
    """Return the jsonata-python expression for ``text``; raise ``JsonataSyntaxError`` if it does not parse."""
    try:
        compiled = Jsonata(text)
    except JException as exc:
        location = getattr(exc, "location", None)
        where = f" (near character {location})" if isinstance(location, int) and location >= 0 else ""
        raise JsonataSyntaxError(f"{exc} [{getattr(exc, 'error', '')}]{where}") from None
    except RecursionError:
        raise JsonataSyntaxError("the expression is nested too deeply") from None
    except Exception as exc:  # jsonata-python raises plain errors for some malformed input
        raise JsonataSyntaxError(f"{type(exc).__name__}: {exc}") from None
    if compiled.errors:
        raise JsonataSyntaxError(str(compiled.errors[0]))
    return compiled


_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_SIMPLE_PATH = re.compile(rf"\$({_NAME})((?:\.{_NAME})*)")


def _simple_path(text: str) -> tuple[str, tuple[str, ...]] | None:
    """Return ``(root, keys)`` for an expression that is only a path of names (``$states.input.order.id``,
    ``$customer.name``), or None: such paths are read directly, without the JSONata evaluator."""
    match = _SIMPLE_PATH.fullmatch(text)
    if match is None:
        return None
    keys = tuple(match.group(2).split(".")[1:])
    return match.group(1), keys


class Expression:
    """One compiled ``{% %}`` expression; ``field`` names where it stands (``Output/result``)."""

    __slots__ = ("text", "field", "compiled", "path")

    #: How many expressions have been compiled in this process (tests check compile-once).
    compiled_count = 0

    def __init__(self, source: str, field: str) -> None:
        self.text = expression_text(source)
        self.field = field
        compiled = parse(self.text)
        _install_functions(compiled)
        compiled.set_output_convert_nulls(False)
        compiled.set_validate_input(False)
        self.compiled = compiled
        self.path = _simple_path(self.text)
        Expression.compiled_count += 1

    def __repr__(self) -> str:
        return f"<Expression {self.field}: {self.text!r}>"

    def raw(self, bindings: dict) -> Any:
        """Evaluate with ``bindings`` and return JSONata's own value (``None`` is undefined)."""
        if self.path is not None:
            found = self._read_path(bindings)
            if found is not _EVALUATE:
                return found
        compiled = self.compiled
        # jsonata-python reads "the current expression" from a thread-local that its constructor sets.
        _CURRENT.jsonata = compiled
        _ACTIVE.context = getattr(bindings, "context", None)
        try:
            return compiled.evaluate(None, bindings)
        except StatesError:
            raise
        except JException as exc:
            raise self.error(f"threw an error during evaluation: {_message(exc)}") from None
        except RecursionError:
            raise self.error("threw an error during evaluation: the expression recursed too deeply.") from None
        except Exception as exc:  # the library's own faults on odd input
            raise self.error(f"threw an error during evaluation: {type(exc).__name__}: {exc}") from None

    def _read_path(self, bindings: dict) -> Any:
        """Read a path of names through objects, as JSONata does; ``_EVALUATE`` where JSONata's own
        rules are needed (an array on the way maps the rest of the path over its items; a name
        without a variable may be a function)."""
        root, keys = self.path
        value = bindings.get(root, _EVALUATE)
        if value is _EVALUATE:
            return _EVALUATE
        for key in keys:
            if type(value) is not dict:
                return _EVALUATE
            value = value.get(key)  # a missing key is undefined (None)
            if value is None:
                return None
        return value

    def evaluate(self, bindings: dict) -> Any:
        """Return the expression's value as JSON; undefined and functions are QueryEvaluationErrors."""
        value = self.raw(bindings)
        if value is None:
            raise self.error("returned nothing (undefined).")
        try:
            return from_jsonata(value)
        except _Unsupported:
            raise self.error("returned an unsupported result type.") from None

    def error(self, text: str) -> StatesError:
        return StatesError(ErrorName.QUERY_EVALUATION_ERROR,
                           f"The JSONata expression '{self.text}' specified for the field '{self.field}' {text}")

    def typed(self, bindings: dict, expected: str, accept: Callable[[Any], bool]) -> Any:
        """Return the value if ``accept`` takes it, else fail with AWS's unexpected-type text."""
        value = self.evaluate(bindings)
        if not accept(value):
            raise self.error(f"returned an unexpected result type. Expected '{expected}', but was "
                             f"'{json_type(value)}' for value: {to_json(value)}")
        return value


def _message(exc: JException) -> str:
    message = str(exc) or getattr(exc, "message", "") or "error"
    code = getattr(exc, "error", None)
    return f"{code}: {message}" if isinstance(code, str) and code and not message.startswith(code) else message


def json_type(value: Any) -> str:
    """Return the JSON type name AWS uses in its texts: null, boolean, number, string, array, object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


class _Unsupported(Exception):
    """A JSONata value that JSON cannot hold (a function)."""


def from_jsonata(value: Any) -> Any:
    """Return a JSONata value as plain JSON: null sentinel to None, sequences to lists, no functions."""
    kind = type(value)
    if kind is str or kind is bool or kind is int:
        return value
    if value is NULL or value is None:
        return None
    if kind is float:
        if math.isnan(value) or math.isinf(value):
            raise _Unsupported
        return int(value) if value.is_integer() and abs(value) < 2 ** 53 else value
    if isinstance(value, dict):
        return {key: from_jsonata(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_jsonata(item) for item in value]
    raise _Unsupported


def to_jsonata(value: Any) -> Any:
    """Return a JSON value the way JSONata sees it: ``null`` as the null sentinel, not as undefined.

    Values without nulls (the common case) are returned as they are, not copied.
    """
    if value is None:
        return NULL
    if not _has_null(value):
        return value
    return _convert(value)


def _has_null(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if item is None:
            return True
        kind = type(item)
        if kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
    return False


def _convert(value: Any) -> Any:
    if value is None:
        return NULL
    kind = type(value)
    if kind is dict:
        return {key: _convert(item) for key, item in value.items()}
    if kind is list:
        return [_convert(item) for item in value]
    return value


# -- fields: JSON values with expressions inside -----------------------------------------

Evaluator = Callable[[dict], Any]


def compile_field(value: Any, field: str) -> Evaluator:
    """Compile a field's value into ``fn(bindings) -> JSON``.

    Handles: an expression string (evaluated); objects and arrays (each member
    compiled, ``field/key`` or ``field/index`` naming where an error is); any
    other value (a constant, shared, never copied).
    """
    if is_expression(value):
        return Expression(value, field).evaluate
    if not _holds_expression(value):
        return lambda bindings: value
    if isinstance(value, dict):
        parts = tuple((key, compile_field(item, f"{field}/{key}")) for key, item in value.items())
        return lambda bindings: {key: part(bindings) for key, part in parts}
    items = tuple(compile_field(item, f"{field}/{index}") for index, item in enumerate(value))
    return lambda bindings: [item(bindings) for item in items]


def _holds_expression(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if is_expression(item):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def check_expression(body: str) -> str | None:
    """Return why ``body`` (the text inside ``{% %}``) is not an expression Step Functions accepts, or None.

    Handles: syntax errors (jsonata-python's parser); ``$`` and ``$$`` at the
    top level (AWS: use ``$states.input`` and ``$states.context``); ``$eval``,
    which Step Functions does not offer.
    """
    try:
        compiled = parse(body)
    except JsonataSyntaxError as exc:
        return f"is not a valid JSONata expression: {exc}"
    for node, nested in _walk(compiled.ast):
        if getattr(node, "type", None) != "variable":
            continue
        value = getattr(node, "value", None)
        if value in REFUSED_FUNCTIONS:
            return f"uses the JSONata function '${value}', which Step Functions does not offer; use '$parse'"
        if value in ("", "$") and not nested:
            return (f"must not use '${value}' at the top level of a JSONata expression; "
                    "use $states.input or $states.context")
    return None


# Where a node's children stand inside a predicate, a constructor, a call's arguments or a function
# body: there ``$`` is the context item, not the (absent) top-level input.
_NESTING = frozenset({"arguments", "predicate", "stages", "lhs_object", "body", "group", "pattern", "update",
                      "delete", "expressions_of_array"})
_CHILDREN = ("steps", "expressions", "lhs", "rhs", "condition", "then", "else_", "procedure", "expression",
             "arguments", "predicate", "stages", "lhs_object", "body", "group", "pattern", "update", "delete",
             "terms", "filter")


def _walk(root: Any) -> Iterator[tuple[Any, bool]]:
    """Yield ``(node, nested)`` for every node of a jsonata-python AST."""
    stack = [(root, False)]
    seen = 0
    while stack and seen < 200_000:
        seen += 1
        node, nested = stack.pop()
        if node is None:
            continue
        if isinstance(node, (list, tuple)):
            stack.extend((item, nested) for item in node)
            continue
        if not hasattr(node, "type"):
            continue
        yield node, nested
        array = getattr(node, "type", None) == "unary" and getattr(node, "value", None) == "["
        for name in _CHILDREN:
            child = getattr(node, name, None)
            if child is not None and child is not node:
                inner = nested or name in _NESTING or (array and name == "expressions")
                stack.append((child, inner))


# -- bindings: $states, variables and AWS's functions ------------------------------------

def _refused(name: str) -> Any:
    def refuse(*args: Any) -> Any:
        raise StatesError(ErrorName.QUERY_EVALUATION_ERROR,
                          f"The JSONata function '${name}' is not supported in Step Functions; use '$parse' "
                          "instead.")
    return _JLambda(refuse)


def _argument_error(function: str, text: str) -> StatesError:
    return StatesError(ErrorName.QUERY_EVALUATION_ERROR, f"The JSONata function '${function}' {text}")


def _number(function: str, value: Any, what: str) -> int:
    value = from_jsonata(value) if value is not None else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or float(value) != int(value):
        raise _argument_error(function, f"expects an integer {what}, but was: {to_json(value)}")
    return int(value)


def _partition(array: Any = None, size: Any = None) -> list:
    from .intrinsics.array import states_array_partition
    array = from_jsonata(array) if array is not None else None
    if not isinstance(array, list):
        raise _argument_error("partition", f"expects an array as its first argument, but was: {to_json(array)}")
    size = _number("partition", size, "chunk size")
    if size <= 0:
        raise _argument_error("partition", f"expects a chunk size greater than 0, but was: {size}")
    return states_array_partition(array, size)


def _range(start: Any = None, end: Any = None, step: Any = None) -> list:
    from .intrinsics.array import MAX_RANGE_ITEMS, states_array_range, _range_length
    start, end = _number("range", start, "start"), _number("range", end, "end")
    step = _number("range", step, "step")
    if step == 0:
        raise _argument_error("range", "expects a step other than 0.")
    if _range_length(start, end, step) > MAX_RANGE_ITEMS:
        raise _argument_error("range", f"can produce at most {MAX_RANGE_ITEMS} items.")
    return states_array_range(start, end, step)


def _hash(data: Any = None, algorithm: Any = None) -> str:
    from .intrinsics.encoding import HASH_ALGORITHMS, MAX_INPUT_CHARACTERS
    data = from_jsonata(data) if data is not None else None
    if not isinstance(data, str):
        data = to_json(data)
    if algorithm not in HASH_ALGORITHMS:
        raise _argument_error("hash", f"does not support the algorithm {to_json(from_jsonata(algorithm))}; use "
                                      + ", ".join(HASH_ALGORITHMS) + ".")
    if len(data) > MAX_INPUT_CHARACTERS:
        raise _argument_error("hash", f"accepts at most {MAX_INPUT_CHARACTERS} characters.")
    return HASH_ALGORITHMS[algorithm](data.encode("utf-8", "surrogatepass")).hexdigest()


def _parse(text: Any = None) -> Any:
    import json
    if not isinstance(text, str):
        raise _argument_error("parse", f"expects a string, but was: {to_json(from_jsonata(text))}")
    try:
        return to_jsonata(json.loads(text))
    except ValueError as exc:
        raise _argument_error("parse", f"could not parse the string as JSON: {exc}") from None


class _Active(threading.local):
    context: Any = None


_ACTIVE = _Active()  # the Context of the evaluation running in this thread, for $random, $uuid, $now


def _context() -> Any:
    return _ACTIVE.context


def _random_number(seed: Any = None) -> float:
    if seed is None:
        return _context().random()
    return _context().seeded_random(_number("random", seed, "seed"))


def _millis() -> int:
    return int(_context().now().timestamp() * 1000)


def _now(picture: Any = None, timezone: Any = None) -> str:
    # JSONata's $now and $millis would read the system clock: here they read the execution's.
    if picture is None and timezone is None:
        return format_timestamp(_context().now())
    from jsonata.functions import Functions

    return Functions.from_millis(_millis(), picture, timezone)


#: The functions Step Functions adds to JSONata (and the clock functions, on the execution's clock),
#: bound once into each compiled expression; randomness, UUIDs and time come from the running Context.
FUNCTIONS = {
    "partition": _partition, "range": _range, "hash": _hash, "parse": _parse, "random": _random_number,
    "uuid": lambda: _context().new_uuid(), "now": _now, "millis": _millis,
}


def _install_functions(compiled: Jsonata) -> None:
    for name, body in FUNCTIONS.items():
        compiled.register_function(name, _JLambda(body))
    for name in REFUSED_FUNCTIONS:
        compiled.register_function(name, _refused(name))


class Bindings(dict):
    """What one state's expressions see, plus the Context their functions draw on."""

    __slots__ = ("context",)


def bindings(env: Any, data: Any, *, result: Any = ..., error_output: Any = ..., context: bool = True) -> Bindings:
    """Return what an expression sees in a state: the variables and ``$states``.

    ``$states.input`` is the state's raw input ``data``; ``result`` and
    ``error_output`` are added where the state has them (``...`` = absent);
    ``$states.context`` unless ``context`` is false (no expression of the state
    mentions it). The variables are converted once per state run (kept on ``env``).
    """
    base = env.jsonata_base
    if base is None:
        base = env.jsonata_base = {name: to_jsonata(value) for name, value in env.variables.items()}
    states = {"input": to_jsonata(data)}
    if context:
        states["context"] = to_jsonata(env.context_object)
    if result is not ...:
        states["result"] = to_jsonata(result)
    if error_output is not ...:
        states["errorOutput"] = to_jsonata(error_output)
    found = Bindings(base)
    found["states"] = states
    found.context = env.context
    return found
