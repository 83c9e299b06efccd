"""Choice Rules in JSONPath mode, compiled once into plain Python predicates.

``compile_rule(rule)`` turns one Choice Rule (a top-level rule with ``Next``,
or a rule nested in ``And``/``Or``/``Not``) into ``check(data, env) -> bool``.
Everything that does not depend on the data is done at compile time: operator
dispatch, compiling the ``Variable`` and ``...Path`` operand paths, splitting
``StringMatches`` patterns into their literal pieces, parsing timestamp
literals and encoding string literals. ``Next``, ``Comment``, ``Assign``, ``Output`` and other keys that are
not part of the condition are ignored.

Semantics follow the spec ("Choice Rules") and what AWS does:

* A comparison whose data value has the wrong type is false: a string is never
  ``NumericEquals`` a number, booleans are not numbers, a non-timestamp string
  is never ``TimestampEquals`` anything.
* When the ``Variable`` path selects nothing, every operator except
  ``IsPresent`` fails the state with ``States.Runtime``, cause
  "Invalid path '<Variable>': The choice state's condition path references an
  invalid value."; a ``...Path`` operand that selects nothing fails the same way,
  naming that path. The state runner adds AWS's "An error occurred while
  executing the state ..." prefix.
"""
from __future__ import annotations

import operator as _op
from typing import TYPE_CHECKING, Any, Callable

from .errors import ErrorName, StatesError
from .paths import Path, PathNotFound, compile_path
from .timestamps import timestamp_key

if TYPE_CHECKING:
    from .context import Env

Check = Callable[[Any, "Env"], bool]  # check(data, env) -> matched
Reader = Callable[[Any, "Env"], Any]

_MISSING = object()
_INVALID_PATH = "Invalid path '{}': The choice state's condition path references an invalid value."


def _number(value: Any) -> int | float | None:
    # bool is an int in Python, but never a number in ASL.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _string_order(value: Any) -> bytes | None:
    # AWS orders strings as Java's String.compareTo does, by UTF-16 code unit;
    # Python's code point order differs between U+E000-U+FFFF and characters above U+FFFF.
    return value.encode("utf-16-be", "surrogatepass") if isinstance(value, str) else None


def _boolean(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


# Each operator converts both sides to a comparable form (None on a type
# mismatch, which makes the comparison false), then applies a relation.
_RELATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": _op.eq,
    "LessThan": _op.lt,
    "GreaterThan": _op.gt,
    "LessThanEquals": _op.le,
    "GreaterThanEquals": _op.ge,
}
_COMPARISONS: dict[str, tuple[Callable[[Any], Any], Callable[[Any, Any], bool]]] = {
    "BooleanEquals": (_boolean, _op.eq),
    "StringEquals": (_string, _op.eq),
}
for _suffix, _relation in _RELATIONS.items():
    _COMPARISONS["Numeric" + _suffix] = (_number, _relation)
    _COMPARISONS["Timestamp" + _suffix] = (timestamp_key, _relation)
    if _suffix != "Equals":
        _COMPARISONS["String" + _suffix] = (_string_order, _relation)
del _suffix, _relation

_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "IsNull": lambda value: value is None,
    "IsNumeric": lambda value: _number(value) is not None,
    "IsString": lambda value: isinstance(value, str),
    "IsBoolean": lambda value: isinstance(value, bool),
    "IsTimestamp": lambda value: timestamp_key(value) is not None,
}

OPERATORS: frozenset[str] = frozenset(
    [*_COMPARISONS, *(name + "Path" for name in _COMPARISONS), "StringMatches", *_TYPE_TESTS, "IsPresent"]
)


def compile_rule(rule: dict) -> Check:
    """Compile a JSONPath-mode Choice Rule into ``check(data, env) -> bool``.

    Handles every case of the spec's "Choice Rules":

    * Boolean expressions: ``And`` (all true; a non-empty array of rules),
      ``Or`` (any true), ``Not`` (one rule, negated), nested to any depth; the
      nested rules are evaluated in order and stop at the first decisive one.
    * Data-test expressions on ``Variable``: ``String...``, ``Numeric...``,
      ``BooleanEquals`` and ``Timestamp...`` against a literal, or against the
      value of another path with the ``...Path`` form; ``StringMatches`` with
      ``*`` wildcards; the type tests ``IsNull``, ``IsNumeric``, ``IsString``,
      ``IsBoolean``, ``IsTimestamp``; and ``IsPresent``.
    * ``IsPresent: false`` is true when the ``Variable`` path selects nothing;
      any other operator then raises ``StatesError("States.Runtime", ...)``,
      as does a ``...Path`` operand that selects nothing.

    The rule is assumed to be valid; a rule without any condition raises
    ``ValueError``.
    """
    if not isinstance(rule, dict):
        raise TypeError(f"A Choice Rule must be a dict, not {type(rule).__name__}.")
    if "And" in rule:
        return _compile_and([compile_rule(nested) for nested in rule["And"]])
    if "Or" in rule:
        return _compile_or([compile_rule(nested) for nested in rule["Or"]])
    if "Not" in rule:
        return _compile_not(compile_rule(rule["Not"]))
    operator = next((key for key in rule if key in OPERATORS), None)
    if operator is None or "Variable" not in rule:
        raise ValueError("A Choice Rule needs And, Or, Not, or a Variable and a comparison operator.")
    return _compile_comparison(compile_path(rule["Variable"]), operator, rule[operator])


def _compile_and(checks: list[Check]) -> Check:
    checks = tuple(checks)

    def check(data: Any, env: Env) -> bool:
        for nested in checks:
            if not nested(data, env):
                return False
        return True

    return check


def _compile_or(checks: list[Check]) -> Check:
    checks = tuple(checks)

    def check(data: Any, env: Env) -> bool:
        for nested in checks:
            if nested(data, env):
                return True
        return False

    return check


def _compile_not(nested: Check) -> Check:
    def check(data: Any, env: Env) -> bool:
        return not nested(data, env)

    return check


def _lookup(path: Path, data: Any, env: Env) -> Any:
    """Return the value ``path`` selects, or ``_MISSING``."""
    try:
        value = path.resolve(data, env)
    except PathNotFound:
        return _MISSING
    # An indefinite path (wildcards, filters) selects nothing when its match list is empty.
    if not path.definite and not value:
        return _MISSING
    return value


def _variable_reader(path: Path) -> Reader:
    """Return a function reading the Variable, raising States.Runtime when it is missing."""
    cause = _INVALID_PATH.format(path.expr)

    def read(data: Any, env: Env) -> Any:
        value = _lookup(path, data, env)
        if value is _MISSING:
            raise StatesError(ErrorName.RUNTIME, cause)
        return value

    return read


def _compile_comparison(variable: Path, operator: str, operand: Any) -> Check:
    read = _variable_reader(variable)

    if operator == "IsPresent":
        # "IsPresent: false" is true exactly when the Variable selects nothing.
        expected = operand is True

        def check_present(data: Any, env: Env) -> bool:
            return (_lookup(variable, data, env) is not _MISSING) is expected

        return check_present

    if operator in _TYPE_TESTS:
        test = _TYPE_TESTS[operator]
        expected = operand is True

        def check_type(data: Any, env: Env) -> bool:
            return test(read(data, env)) is expected

        return check_type

    if operator == "StringMatches":
        matches = _compile_matches(operand) if isinstance(operand, str) else None

        def check_matches(data: Any, env: Env) -> bool:
            value = read(data, env)
            return matches is not None and isinstance(value, str) and matches(value)

        return check_matches

    if operator.endswith("Path"):
        convert, relation = _COMPARISONS[operator[:-4]]
        return _compile_path_operand(read, convert, relation, compile_path(operand))

    convert, relation = _COMPARISONS[operator]
    return _compile_literal_operand(read, convert, relation, operand)


def _compile_path_operand(read: Reader, convert: Callable[[Any], Any], relation: Callable[[Any, Any], bool],
                          operand: Path) -> Check:
    cause = _INVALID_PATH.format(operand.expr)

    def check(data: Any, env: Env) -> bool:
        value = convert(read(data, env))
        other = _lookup(operand, data, env)
        if other is _MISSING:
            raise StatesError(ErrorName.RUNTIME, cause)
        if value is None:
            return False
        other = convert(other)
        return other is not None and relation(value, other)

    return check


def _compile_literal_operand(read: Reader, convert: Callable[[Any], Any], relation: Callable[[Any, Any], bool],
                             operand: Any) -> Check:
    literal = convert(operand)  # once: parse the timestamp, encode the string
    if literal is None:
        # A literal of the wrong type never matches, but a missing Variable still fails.
        def check_never(data: Any, env: Env) -> bool:
            read(data, env)
            return False

        return check_never

    def check(data: Any, env: Env) -> bool:
        value = convert(read(data, env))
        return value is not None and relation(value, literal)

    return check


def _compile_matches(pattern: str) -> Callable[[str], bool]:
    """Compile a ``StringMatches`` pattern into a function telling whether a string matches it.

    Spec ("Choice Rules"): "'*' in the value matches zero or more characters ...
    No characters other than '*' have any special meaning during matching. If
    the character '*' is to appear in the string literal value, it must be
    escaped as '\\\\*'", and a literal backslash as '\\\\\\\\'. A backslash
    before any other character also stands for that character.

    The pattern is split once into the literal pieces between unescaped stars.
    Matching places the first piece at the start, the last at the end and each
    other piece at its leftmost place after the previous one, which is correct
    for "*"-only patterns and never backtracks, where a regular expression
    with several '.*' could backtrack for a very long time on a long input.
    """
    pieces: list[str] = []
    current: list[str] = []
    position, length = 0, len(pattern)
    while position < length:
        char = pattern[position]
        if char == "\\" and position + 1 < length:
            current.append(pattern[position + 1])
            position += 2
            continue
        if char == "*":
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
        position += 1
    pieces.append("".join(current))

    if len(pieces) == 1:
        exact = pieces[0]
        return lambda value: value == exact

    head, *middle, tail = pieces
    minimum = len(head) + len(tail)
    middle = [piece for piece in middle if piece]

    def matches(value: str) -> bool:
        if len(value) < minimum or not value.startswith(head) or not value.endswith(tail):
            return False
        start, end = len(head), len(value) - len(tail)
        for piece in middle:
            found = value.find(piece, start, end)
            if found < 0:
                return False
            start = found + len(piece)
        return True

    return matches
