"""Check an Amazon States Language definition and report every problem as an ``Issue``.

``validate(definition)`` accepts a ``dict``, JSON text (``str`` or ``bytes``) or,
with ``format="yaml"``, YAML text, and returns a list of ``Issue`` objects; it
never raises, whatever it is given. ``load_definition`` does the same checks and
raises one ``DefinitionError`` carrying every error.

The work happens in three passes:

1. ``loading.load_text`` parses text; ``_snapshot`` copies the result (or the
   caller's object) into plain JSON data, iteratively, so that cycles, hostile
   mappings, non-JSON values, absurd depth and size become issues.
2. ``_Validator`` walks the state machine and every nested Parallel branch and
   Map processor from an explicit work list (no recursion per level), checking
   fields, types, ranges, paths, intrinsic functions and JSONata wrappers, and
   records transitions, state names and variable assignments.
3. Once every state name is known, it resolves transitions, reachability,
   terminal states and variable scopes.

Paths in issues are JSONPath from the root: ``$.States.Charge.Retry[0].BackoffRate``,
with bracket notation for names that are not identifiers
(``$.States['name with space'].Next``); names longer than 100 characters are
shortened with an ellipsis.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from .errors import DefinitionError, Issue
from .loading import DuplicateKeyDict, load_text

__all__ = ["validate", "load_definition", "MAX_DEPTH", "MAX_NODES", "MAX_STATE_NAME_LENGTH"]

#: Deepest nesting of JSON objects and arrays accepted anywhere in a definition.
MAX_DEPTH = 512
#: Most JSON values (objects, arrays and scalars) accepted in one definition.
MAX_NODES = 300_000
#: Spec, "States": "State names MUST have length of less than or equal to 80 Unicode characters."
MAX_STATE_NAME_LENGTH = 80
MAX_VARIABLE_NAME_LENGTH = 80
#: Deepest nesting of Choice Rules (And / Or / Not) checked.
MAX_RULE_DEPTH = 100
#: Longest JSONata expression checked (longer ones are reported, not parsed).
MAX_JSONATA_LENGTH = 100_000
#: Longest intrinsic function call checked.
MAX_INTRINSIC_LENGTH = 10_000
#: AWS caps the integer fields of Retriers, Tasks and Wait states at this value.
AWS_MAX_SECONDS = 99_999_999
AWS_MAX_DELAY_SECONDS = 31_622_400
#: Names in paths and messages are shortened beyond this many characters.
_SHOWN_NAME_LENGTH = 100

JSONPATH = "JSONPath"
JSONATA = "JSONata"

# "Message" is a django-asl extension (asl/states/message.py): AWS Step Functions does not know it.
STATE_TYPES = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map", "Message")

_COMMON_FIELDS = {"Type", "Comment", "QueryLanguage"}
_STATE_FIELDS = {
    "Pass": {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "Result", "Assign", "Output"},
    "Task": {
        "Next", "End", "Resource", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector",
        "Retry", "Catch", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath",
        "Credentials", "Assign", "Arguments", "Output",
    },
    "Choice": {"Choices", "Default", "InputPath", "OutputPath", "Assign", "Output"},
    "Wait": {"Next", "End", "Seconds", "SecondsPath", "Timestamp", "TimestampPath", "InputPath", "OutputPath",
             "Assign", "Output"},
    "Succeed": {"InputPath", "OutputPath", "Output"},
    "Fail": {"Error", "ErrorPath", "Cause", "CausePath"},
    "Parallel": {
        "Next", "End", "Branches", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector",
        "Retry", "Catch", "Assign", "Arguments", "Output",
    },
    "Map": {
        "Next", "End", "ItemProcessor", "Iterator", "ItemsPath", "Items", "ItemSelector", "Parameters",
        "MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailureCount", "ToleratedFailureCountPath",
        "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "ItemReader", "ItemBatcher",
        "ResultWriter", "Label", "InputPath", "OutputPath", "ResultPath", "ResultSelector", "Retry", "Catch",
        "Assign", "Output",
    },
    "Message": {
        "Next", "End", "CorrelationKey", "CorrelationValuePath", "MessagePath", "TimeoutSeconds",
        "TimeoutSecondsPath", "InputPath", "OutputPath", "ResultPath", "Retry", "Catch",
    },
}
# Fields that only exist in one query language (AWS, "Transforming data with JSONata").
_JSONPATH_ONLY = {
    "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Result", "ItemsPath",
    "SecondsPath", "TimestampPath", "TimeoutSecondsPath", "HeartbeatSecondsPath", "MaxConcurrencyPath",
    "ToleratedFailureCountPath", "ToleratedFailurePercentagePath", "ErrorPath", "CausePath",
}
_JSONATA_ONLY = {"Arguments", "Output", "Items"}
_TERMINAL_TYPES = ("Succeed", "Fail")
_NEEDS_TRANSITION = ("Pass", "Task", "Wait", "Parallel", "Map", "Message")
#: Longest Message state CorrelationKey (asl/states/message.py).
MAX_CORRELATION_KEY_LENGTH = 256

_TOP_FIELDS = {"StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"}
_BRANCH_FIELDS = {"StartAt", "States", "Comment"}
_PROCESSOR_FIELDS = {"StartAt", "States", "Comment", "ProcessorConfig"}

_RETRIER_FIELDS = {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds",
                   "JitterStrategy", "Comment"}
_CATCHER_FIELDS = {"ErrorEquals", "Next", "ResultPath", "Comment", "Assign", "Output"}

_STRING_OPS = ("StringEquals", "StringLessThan", "StringGreaterThan", "StringLessThanEquals",
               "StringGreaterThanEquals")
_NUMERIC_OPS = ("NumericEquals", "NumericLessThan", "NumericGreaterThan", "NumericLessThanEquals",
                "NumericGreaterThanEquals")
_TIMESTAMP_OPS = ("TimestampEquals", "TimestampLessThan", "TimestampGreaterThan", "TimestampLessThanEquals",
                  "TimestampGreaterThanEquals")
_TYPE_TESTS = ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp")
# operator -> kind of operand: "string", "number", "boolean", "timestamp" or "path"
_COMPARISONS: dict[str, str] = {}
for _op in _STRING_OPS:
    _COMPARISONS[_op] = "string"
    _COMPARISONS[_op + "Path"] = "path"
for _op in _NUMERIC_OPS:
    _COMPARISONS[_op] = "number"
    _COMPARISONS[_op + "Path"] = "path"
for _op in _TIMESTAMP_OPS:
    _COMPARISONS[_op] = "timestamp"
    _COMPARISONS[_op + "Path"] = "path"
for _op in _TYPE_TESTS:
    _COMPARISONS[_op] = "boolean"
_COMPARISONS["StringMatches"] = "string"
_COMPARISONS["BooleanEquals"] = "boolean"
_COMPARISONS["BooleanEqualsPath"] = "path"
_BOOLEAN_OPS = ("And", "Or", "Not")

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# RFC 3986: scheme ":" hier-part; we also refuse whitespace anywhere.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+\Z")

_PATH_KIND_NAMES = {"path": "Path", "reference": "Reference Path", "result": "Reference Path into the input"}


# --------------------------------------------------------------------------
# Wording: every message is built by one of these three helpers.

def _show(name: Any) -> str:
    """Return ``name`` for a message, shortened when it is very long."""
    text = name if isinstance(name, str) else repr(name)
    if len(text) > _SHOWN_NAME_LENGTH:
        return text[:_SHOWN_NAME_LENGTH] + "…"
    return text


def _child(path: str, key: str | int) -> str:
    """Return the JSON path of ``key`` inside the value at ``path``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if len(key) <= _SHOWN_NAME_LENGTH and _IDENTIFIER.match(key):
        return f"{path}.{key}"
    shown = _show(key).replace("\\", "\\\\").replace("'", "\\'")
    return f"{path}['{shown}']"


def _must_be(path: str, what: str) -> str:
    """Return "The value of '<path>' must be <what>."."""
    return f"The value of '{path}' must be {what}."


def _refers_to(path: str, name: str, where: str) -> str:
    """Return "'<path>' refers to state '<name>', <where>."."""
    return f"'{path}' refers to state '{_show(name)}', {where}."


def _says(path: str, predicate: str) -> str:
    """Return "'<path>' <predicate>." for statements about a field."""
    return f"'{path}' {predicate}."


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# --------------------------------------------------------------------------
# Pass 1: make plain JSON data out of anything.

class _Unreadable:
    """Stands in for a value that could not be copied; checks skip it (an issue was already made)."""

    def __repr__(self) -> str:
        return "<unreadable>"


UNREADABLE = _Unreadable()
_LEAVE = object()


def _render(linked: Any) -> str:
    """Return the JSON path for a linked path ``(parent, key)`` built by ``_snapshot``."""
    keys = []
    while linked is not None:
        linked, key = linked
        keys.append(key)
    path = "$"
    for key in reversed(keys):
        path = _child(path, key)
    return path


def _snapshot(value: Any, issues: list[Issue]) -> Any:
    """Return a copy of ``value`` made of dict, list, str, int, float, bool and None only.

    Iterative, so depth costs no stack. Cycles, values that are not JSON,
    non-string keys, duplicate keys from parsed text, nesting deeper than
    ``MAX_DEPTH`` and more than ``MAX_NODES`` values each become an issue; the
    offending value is replaced by ``UNREADABLE``.
    """
    holder: list = [None]
    stack: list = [(value, holder, 0, None, 0)]
    active: set[int] = set()  # containers on the way down from the root: a repeat is a cycle
    nodes = 0
    while stack:
        item = stack.pop()
        if item[0] is _LEAVE:
            active.discard(item[1])
            continue
        src, parent, key, linked, depth = item
        nodes += 1
        if nodes > MAX_NODES:
            issues.append(Issue("$", "too_large", f"The definition must hold at most {MAX_NODES} JSON values."))
            return UNREADABLE
        kind = type(src)
        if src is None or kind is str or kind is bool or kind is int:
            parent[key] = src
            continue
        if kind is float or isinstance(src, float):
            number = float.__float__(src)
            if not math.isfinite(number):
                issues.append(Issue(_render(linked), "wrong_type", _must_be(_render(linked), "a finite number")))
                number = UNREADABLE
            parent[key] = number
            continue
        if isinstance(src, str):
            parent[key] = str.__str__(src)
            continue
        if isinstance(src, int):
            parent[key] = int.__int__(src)
            continue
        if isinstance(src, Decimal):
            if src.is_finite() and src == src.to_integral_value():
                parent[key] = int(src)
            elif src.is_finite():
                parent[key] = float(src)
            else:
                issues.append(Issue(_render(linked), "wrong_type", _must_be(_render(linked), "a finite number")))
                parent[key] = UNREADABLE
            continue
        is_mapping = isinstance(src, (dict, Mapping))
        if not is_mapping and not isinstance(src, (list, tuple)):
            path = _render(linked)
            issues.append(Issue(path, "wrong_type", _must_be(
                path, f"a JSON value (object, array, string, number, boolean or null), not {type(src).__name__}")))
            parent[key] = UNREADABLE
            continue
        identity = id(src)
        if identity in active:
            path = _render(linked)
            issues.append(Issue(path, "cyclic_value", _says(path, "contains itself, which JSON cannot represent")))
            parent[key] = UNREADABLE
            continue
        if depth >= MAX_DEPTH:
            path = _render(linked)
            issues.append(Issue(path, "too_deep", _says(path, f"is nested more than {MAX_DEPTH} levels deep")))
            parent[key] = UNREADABLE
            continue
        try:
            if isinstance(src, dict):
                entries = list(dict.items(src))  # bypass overridden accessors of dict subclasses
            elif is_mapping:
                entries = list(src.items())
            else:
                entries = list(enumerate(list.__iter__(src) if isinstance(src, list) else tuple.__iter__(src)))
        except Exception as exc:  # a Mapping whose accessors raise
            path = _render(linked)
            issues.append(Issue(path, "wrong_type", _says(path, f"cannot be read ({type(exc).__name__})")))
            parent[key] = UNREADABLE
            continue
        active.add(identity)
        stack.append((_LEAVE, identity))
        if is_mapping:
            copy: Any = {}
            if type(src) is DuplicateKeyDict:
                for name in src.duplicate_keys:
                    path = _render((linked, name))
                    issues.append(Issue(path, "duplicate_key", _says(path, "appears more than once in its object")))
            children = []
            for name, child in entries:
                if type(name) is not str:
                    if isinstance(name, str):
                        name = str.__str__(name)
                    else:
                        path = _render(linked)
                        issues.append(Issue(path, "wrong_type", _says(
                            path, f"has a key that is not a string ({_show(repr(name))})")))
                        continue
                children.append((child, copy, name, (linked, name), depth + 1))
        else:
            copy = [None] * len(entries)
            children = [(child, copy, index, (linked, index), depth + 1) for index, child in entries]
        parent[key] = copy
        stack.extend(reversed(children))
    return holder[0]


# --------------------------------------------------------------------------
# Expression checks, cached by text because hostile and generated machines repeat them.

@lru_cache(maxsize=8192)
def _path_problem_cached(expr: str, kind: str) -> str | None:
    return _path_problem_uncached(expr, kind)


def _path_problem_uncached(expr: str, kind: str) -> str | None:
    from .paths import check_path_syntax

    problem = check_path_syntax(expr, kind)
    if problem is None:
        return None
    return " ".join(str(problem).split())[:500].rstrip(".")


def _path_problem(expr: str, kind: str) -> str | None:
    """Return why ``expr`` is not a path of ``kind`` ("path", "reference", "result"), or None."""
    if len(expr) > 1000:
        return _path_problem_uncached(expr, kind)
    return _path_problem_cached(expr, kind)


def _intrinsic_api() -> tuple[Any, type]:
    try:
        from .intrinsics import IntrinsicSyntaxError, compile_intrinsic
    except ImportError:  # the registry is not there: at least check the syntax
        from .intrinsics.parser import IntrinsicSyntaxError, parse_intrinsic as compile_intrinsic
    return compile_intrinsic, IntrinsicSyntaxError


@lru_cache(maxsize=8192)
def _intrinsic_problem_cached(text: str) -> str | None:
    return _intrinsic_problem_uncached(text)


def _intrinsic_problem_uncached(text: str) -> str | None:
    if len(text) > MAX_INTRINSIC_LENGTH:
        return f"is longer than {MAX_INTRINSIC_LENGTH} characters"
    compile_intrinsic, syntax_error = _intrinsic_api()
    try:
        compile_intrinsic(text)
    except syntax_error as exc:
        return " ".join(str(exc).split())[:500].rstrip(".")
    except RecursionError:
        return "is nested too deeply"
    return None


def _intrinsic_problem(text: str) -> str | None:
    """Return why ``text`` is not a valid intrinsic function call, or None."""
    if len(text) > 1000:
        return _intrinsic_problem_uncached(text)
    return _intrinsic_problem_cached(text)


@lru_cache(maxsize=8192)
def _timestamp_ok(text: str) -> bool:
    from .timestamps import parse_timestamp

    return parse_timestamp(text) is not None


def _is_jsonata(value: Any) -> bool:
    return isinstance(value, str) and len(value) >= 4 and value.startswith("{%") and value.endswith("%}")


@lru_cache(maxsize=8192)
def _jsonata_problem_cached(body: str) -> str | None:
    from .jsonata_ import check_expression

    return check_expression(body)


def _jsonata_problem(text: str) -> str | None:
    """Return why ``text`` (a ``{% ... %}`` string) is not a valid JSONata expression, or None.

    The body is parsed with jsonata-python, the library that evaluates it.
    Step Functions also refuses ``$`` and ``$$`` at the top level of an
    expression ("use $states.input / $states.context") and the ``$eval``
    function.
    """
    body = text[2:-2]
    if not body.strip():
        return "is an empty JSONata expression"
    if len(body) > MAX_JSONATA_LENGTH:
        return f"is a JSONata expression longer than {MAX_JSONATA_LENGTH} characters"
    if len(body) > 1000:
        return _jsonata_problem_cached.__wrapped__(body)
    return _jsonata_problem_cached(body)


# --------------------------------------------------------------------------
# Pass 2 and 3: the validator.

class _Machine:
    """One state machine: the top level, a Parallel branch or a Map processor."""

    __slots__ = ("path", "states", "start_at", "start_path", "transitions", "terminal", "scope", "label",
                 "broken")

    def __init__(self, path: str, scope: "_Scope", label: str) -> None:
        self.path = path
        self.states: dict[str, str] = {}  # name -> path of the state
        self.start_at: str | None = None
        self.start_path = path + ".StartAt"
        self.transitions: list[tuple[str, str, str]] = []  # (from state, target, path of the field)
        self.terminal = False
        self.broken = False  # a state without a usable Type: its transitions are unknown
        self.scope = scope
        self.label = label


class _Scope:
    """A variable scope: the top level, or the inside of a Parallel branch or Map processor."""

    __slots__ = ("parent", "owner", "names")

    def __init__(self, parent: "_Scope | None", owner: str | None = None) -> None:
        self.parent = parent
        self.owner = owner  # path of the Parallel or Map state that opens this scope
        self.names: dict[str, set[str]] = {}  # variable -> paths of the states assigning it


class _Validator:
    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self.machines: list[_Machine] = []
        self.owner: dict[str, _Machine] = {}  # state name -> machine that defines it
        self.assignments: list[tuple[_Scope, str, str]] = []  # (scope, variable, path of the field)
        self.work: list[tuple[Any, str, str, _Scope, str, bool]] = []
        self.default_language = JSONPATH  # the top-level QueryLanguage, inherited by every state

    # -- reporting
    def error(self, path: str, code: str, message: str) -> None:
        self.issues.append(Issue(path, code, message))

    def must_be(self, path: str, value: Any, what: str, code: str = "wrong_type") -> None:
        if value is not UNREADABLE:
            self.error(path, code, _must_be(path, what))

    def missing(self, path: str, where: str) -> None:
        self.error(path, "missing_field", _says(path, f"is required {where}"))

    def exclusive(self, obj: dict, path: str, names: tuple[str, ...], required: bool = False) -> str | None:
        """Check that at most (or, if ``required``, exactly) one of ``names`` is in ``obj``; return it."""
        present = [name for name in names if name in obj]
        if len(present) > 1:
            listed = ", ".join(f"'{name}'" for name in present)
            self.error(_child(path, present[1]), "exclusive_fields",
                       _says(path, f"must have only one of {listed}"))
        elif required and not present:
            listed = ", ".join(f"'{name}'" for name in names)
            self.error(path, "missing_field", _says(path, f"must have one of {listed}"))
        return present[0] if present else None

    # -- entry point
    def run(self, data: Any) -> None:
        if not isinstance(data, dict):
            self.must_be("$", data, f"a JSON object (a state machine definition), not {_type_name(data)}")
            return
        for key in data:
            if key not in _TOP_FIELDS:
                self.error(_child("$", key), "unknown_field", _says(_child("$", key), "is not a top-level field"))
        self.optional_string(data, "$", "Comment")
        self.optional_string(data, "$", "Version")
        if "TimeoutSeconds" in data:
            self.integer(data["TimeoutSeconds"], "$.TimeoutSeconds", 1, None, JSONPATH)
        language = self.default_language = self.query_language(data, "$") or JSONPATH
        self.work.append((data, "$", "machine", _Scope(None), language, language == JSONATA))
        while self.work:
            obj, path, label, scope, language, locked = self.work.pop()
            self.machine(obj, path, label, scope, language, locked)
        self.resolve()

    def query_language(self, obj: dict, path: str) -> str | None:
        if "QueryLanguage" not in obj:
            return None
        value = obj["QueryLanguage"]
        if value not in (JSONPATH, JSONATA):
            self.must_be(_child(path, "QueryLanguage"), value, "'JSONPath' or 'JSONata'")
            return None
        return value

    # -- machines
    def machine(self, obj: Any, path: str, label: str, scope: _Scope, language: str, locked: bool) -> None:
        """Check one (sub-)state machine; queue the ones nested in its Parallel and Map states."""
        if not isinstance(obj, dict):
            self.must_be(path, obj, f"a JSON object with 'StartAt' and 'States', not {_type_name(obj)}")
            return
        record = _Machine(path, scope, label)
        self.machines.append(record)
        if label != "machine":
            allowed = _PROCESSOR_FIELDS if label == "processor" else _BRANCH_FIELDS
            for key in obj:
                if key not in allowed:
                    self.error(_child(path, key), "unknown_field",
                               _says(_child(path, key), f"is not a field of a {'Map processor' if label == 'processor' else 'Parallel branch'}"))
            self.optional_string(obj, path, "Comment")
        if "StartAt" not in obj:
            self.missing(record.start_path, "in a state machine")
        elif not isinstance(obj["StartAt"], str):
            self.must_be(record.start_path, obj["StartAt"], "a string naming a state")
        else:
            record.start_at = obj["StartAt"]
        states_path = _child(path, "States")
        states = obj.get("States")
        if "States" not in obj:
            self.missing(states_path, "in a state machine")
            return
        if not isinstance(states, dict):
            self.must_be(states_path, states, "a JSON object of states")
            return
        if not states:
            self.must_be(states_path, states, "a non-empty JSON object of states")
            return
        for name, state in states.items():
            state_path = _child(states_path, name)
            if len(name) > MAX_STATE_NAME_LENGTH:
                self.error(state_path, "name_too_long", _says(
                    state_path, f"has a name of {len(name)} characters; state names are limited to "
                                f"{MAX_STATE_NAME_LENGTH}"))
            previous = self.owner.get(name)
            if previous is not None:
                self.error(state_path, "duplicate_state_name", _says(
                    state_path, f"uses the name '{_show(name)}', which is already used by "
                                f"'{previous.states[name]}'; state names must be unique in the whole definition"))
            else:
                self.owner[name] = record
            record.states.setdefault(name, state_path)
            self.state(record, name, state, state_path, language, locked)

    # -- states
    def state(self, record: _Machine, name: str, state: Any, path: str, language: str, locked: bool) -> None:
        if not isinstance(state, dict):
            self.must_be(path, state, f"a JSON object (a state), not {_type_name(state)}")
            record.broken = True
            return
        type_path = _child(path, "Type")
        kind = state.get("Type")
        if "Type" not in state:
            self.missing(type_path, "in every state")
            record.broken = True
            return
        if kind not in STATE_TYPES:
            record.broken = True
            what = "one of " + ", ".join(f"'{t}'" for t in STATE_TYPES)
            self.must_be(type_path, kind, what, code="unknown_state_type" if isinstance(kind, str) else "wrong_type")
            return
        own = self.query_language(state, path)
        if own == JSONPATH and locked:
            self.error(_child(path, "QueryLanguage"), "query_language_mismatch", _says(
                _child(path, "QueryLanguage"),
                "cannot be 'JSONPath' when the state machine's QueryLanguage is 'JSONata'"))
        language = own or language
        allowed = _STATE_FIELDS[kind]
        for key in state:
            if key in _COMMON_FIELDS:
                continue
            key_path = _child(path, key)
            if key not in allowed:
                self.error(key_path, "unknown_field", _says(key_path, f"is not a field of a {kind} state"))
            elif language == JSONATA and key in _JSONPATH_ONLY:
                self.error(key_path, "jsonpath_only_field", _says(
                    key_path, "is a JSONPath field and is not allowed in a JSONata state; "
                              "use Arguments, Output or Assign"))
            elif language == JSONPATH and key in _JSONATA_ONLY:
                self.error(key_path, "jsonata_only_field", _says(
                    key_path, "is only allowed in a JSONata state (QueryLanguage 'JSONata')"))
        self.optional_string(state, path, "Comment")
        self.io_fields(state, path, language)
        if "Assign" in state and "Assign" in allowed:
            self.assign(state["Assign"], _child(path, "Assign"), language, record.scope, path)
        if kind in _NEEDS_TRANSITION:
            self.transition(record, name, state, path, kind)
        elif kind in _TERMINAL_TYPES:
            record.terminal = True
        getattr(self, "state_" + kind.lower())(record, name, state, path, language, locked)

    def transition(self, record: _Machine, name: str, state: dict, path: str, kind: str) -> None:
        end_path = _child(path, "End")
        end = state.get("End")
        if "End" in state and not isinstance(end, bool):
            self.must_be(end_path, end, "a boolean")
            record.broken = True
        if "Next" in state:
            next_path = _child(path, "Next")
            if isinstance(state["Next"], str):
                record.transitions.append((name, state["Next"], next_path))
            else:
                self.must_be(next_path, state["Next"], "a string naming a state")
            if end is True:
                self.error(end_path, "next_and_end", _says(end_path, "cannot be true when the state also has 'Next'"))
                record.terminal = True  # reported once here, not again as a missing terminal state
        elif end is True:
            record.terminal = True
        elif "End" not in state or isinstance(end, bool):
            self.error(_child(path, "Next"), "missing_transition", _says(
                path, f"must have 'Next' or 'End': true; a {kind} state needs one"))
            record.broken = True

    def io_fields(self, state: dict, path: str, language: str) -> None:
        if language != JSONPATH:
            for key in ("Arguments", "Output"):
                if key in state:
                    self.jsonata_value(state[key], _child(path, key))
            return
        for key in ("InputPath", "OutputPath"):
            if key in state and state[key] is not None:
                self.path_field(state[key], _child(path, key), "path")
        if "ResultPath" in state and state["ResultPath"] is not None:
            self.path_field(state["ResultPath"], _child(path, "ResultPath"), "result")
        for key in ("Parameters", "ResultSelector"):
            if key in state:
                self.template(state[key], _child(path, key))

    def state_pass(self, record: _Machine, name: str, state: dict, path: str, language: str, locked: bool) -> None:
        pass  # Result is any JSON value; the common fields are checked already

    def state_succeed(self, record: _Machine, name: str, state: dict, path: str, language: str,
                      locked: bool) -> None:
        pass

    def state_task(self, record: _Machine, name: str, state: dict, path: str, language: str, locked: bool) -> None:
        resource_path = _child(path, "Resource")
        if "Resource" not in state:
            self.missing(resource_path, "in a Task state")
        else:
            self.uri(state["Resource"], resource_path)
        timeout = heartbeat = None
        for key in ("TimeoutSeconds", "HeartbeatSeconds"):
            present = self.exclusive(state, path, (key, key + "Path"))
            if present == key:
                value = self.integer(state[key], _child(path, key), 1, AWS_MAX_SECONDS, language)
                if key == "TimeoutSeconds":
                    timeout = value
                else:
                    heartbeat = value
            elif present is not None:
                self.path_field(state[present], _child(path, present), "reference")
        if timeout is not None and heartbeat is not None and heartbeat >= timeout:
            heartbeat_path = _child(path, "HeartbeatSeconds")
            self.error(heartbeat_path, "invalid_value", _must_be(
                heartbeat_path, f"smaller than TimeoutSeconds ({timeout})"))
        if "Credentials" in state:
            credentials_path = _child(path, "Credentials")
            credentials = state["Credentials"]
            if language == JSONATA and _is_jsonata(credentials):
                self.jsonata_value(credentials, credentials_path)
            elif not isinstance(credentials, dict):
                self.must_be(credentials_path, credentials, "a JSON object")
            elif language == JSONATA:
                self.jsonata_value(credentials, credentials_path)
            else:
                self.template(credentials, credentials_path)
        self.retry_catch(record, name, state, path, language)

    def state_message(self, record: _Machine, name: str, state: dict, path: str, language: str,
                      locked: bool) -> None:
        """Check a Message state (a django-asl extension): its correlation, paths, timeout, Retry and Catch."""
        if language == JSONATA:
            self.error(_child(path, "Type"), "jsonpath_only_state", _says(
                path, "is a Message state, which only supports the JSONPath query language"))
        key_path = _child(path, "CorrelationKey")
        key = state.get("CorrelationKey")
        if "CorrelationKey" not in state:
            self.missing(key_path, "in a Message state")
        elif not isinstance(key, str):
            self.must_be(key_path, key, "a string")
        elif not key or len(key) > MAX_CORRELATION_KEY_LENGTH:
            self.must_be(key_path, key, f"a string of 1 to {MAX_CORRELATION_KEY_LENGTH} characters",
                         code="invalid_value")
        for key in ("CorrelationValuePath", "MessagePath"):
            if key in state:
                self.path_field(state[key], _child(path, key), "path")
        present = self.exclusive(state, path, ("TimeoutSeconds", "TimeoutSecondsPath"))
        if present == "TimeoutSeconds":
            self.integer(state["TimeoutSeconds"], _child(path, "TimeoutSeconds"), 1, AWS_MAX_SECONDS, language)
        elif present is not None:
            self.path_field(state[present], _child(path, present), "reference")
        self.retry_catch(record, name, state, path, language)

    def state_choice(self, record: _Machine, name: str, state: dict, path: str, language: str,
                     locked: bool) -> None:
        choices_path = _child(path, "Choices")
        choices = state.get("Choices")
        if "Choices" not in state:
            self.missing(choices_path, "in a Choice state")
        elif not isinstance(choices, list) or not choices:
            self.must_be(choices_path, choices, "a non-empty array of Choice Rules")
        else:
            for index, rule in enumerate(choices):
                self.rule(record, name, rule, _child(choices_path, index), language, True, 0)
        if "Default" in state:
            default_path = _child(path, "Default")
            if isinstance(state["Default"], str):
                record.transitions.append((name, state["Default"], default_path))
            else:
                self.must_be(default_path, state["Default"], "a string naming a state")

    def state_wait(self, record: _Machine, name: str, state: dict, path: str, language: str, locked: bool) -> None:
        present = self.exclusive(state, path, ("Seconds", "SecondsPath", "Timestamp", "TimestampPath"), True)
        if present is None:
            return
        field_path = _child(path, present)
        value = state[present]
        if present == "Seconds":
            self.integer(value, field_path, 0, AWS_MAX_SECONDS, language)
        elif present == "Timestamp":
            if language == JSONATA and _is_jsonata(value):
                self.jsonata_value(value, field_path)
            else:
                self.timestamp(value, field_path)
        else:
            self.path_field(value, field_path, "reference")

    def state_fail(self, record: _Machine, name: str, state: dict, path: str, language: str, locked: bool) -> None:
        for key in ("Error", "Cause"):
            present = self.exclusive(state, path, (key, key + "Path"))
            if present is None:
                continue
            value = state[present]
            field_path = _child(path, present)
            if present == key:
                if not isinstance(value, str):
                    self.must_be(field_path, value, "a string")
                elif language == JSONATA:
                    self.jsonata_value(value, field_path)
            elif isinstance(value, str) and value.startswith("States."):
                self.intrinsic(value, field_path)
            else:
                self.path_field(value, field_path, "reference")

    def state_parallel(self, record: _Machine, name: str, state: dict, path: str, language: str,
                       locked: bool) -> None:
        branches_path = _child(path, "Branches")
        branches = state.get("Branches")
        if "Branches" not in state:
            self.missing(branches_path, "in a Parallel state")
        elif not isinstance(branches, list) or not branches:
            self.must_be(branches_path, branches, "a non-empty array of state machines")
        else:
            default = self.default_language
            for index in range(len(branches) - 1, -1, -1):
                self.work.append((branches[index], _child(branches_path, index), "branch",
                                  _Scope(record.scope, path), default, locked))
        self.retry_catch(record, name, state, path, language)

    def state_map(self, record: _Machine, name: str, state: dict, path: str, language: str, locked: bool) -> None:
        present = self.exclusive(state, path, ("ItemProcessor", "Iterator"), True)
        if present is not None:
            processor = state[present]
            processor_path = _child(path, present)
            scope, sub_locked = _Scope(record.scope, path), locked
            if isinstance(processor, dict) and "ProcessorConfig" in processor:
                if self.processor_config(processor["ProcessorConfig"], _child(processor_path, "ProcessorConfig")):
                    # A distributed Map runs its processor as child executions: a separate
                    # variable scope, free to pick its own query language.
                    scope, sub_locked = _Scope(None), False
            self.work.append((processor, processor_path, "processor", scope, self.default_language, sub_locked))
        self.exclusive(state, path, ("ItemSelector", "Parameters"))
        if "ItemSelector" in state:
            if language == JSONATA:
                self.jsonata_value(state["ItemSelector"], _child(path, "ItemSelector"))
            else:
                self.template(state["ItemSelector"], _child(path, "ItemSelector"))
        if "ItemsPath" in state:
            self.path_field(state["ItemsPath"], _child(path, "ItemsPath"), "reference")
        if "Items" in state and language == JSONATA:
            items = state["Items"]
            if isinstance(items, list):
                self.jsonata_value(items, _child(path, "Items"))
            elif _is_jsonata(items):
                self.jsonata_value(items, _child(path, "Items"))
            else:
                self.must_be(_child(path, "Items"), items, "an array or a JSONata expression '{% ... %}'")
        for key, low, high, number in (
            ("MaxConcurrency", 0, None, False),
            ("ToleratedFailureCount", 0, None, False),
            ("ToleratedFailurePercentage", 0, 100, True),
        ):
            present = self.exclusive(state, path, (key, key + "Path"))
            if present == key:
                if number:
                    self.number(state[key], _child(path, key), low, high, language)
                else:
                    self.integer(state[key], _child(path, key), low, high, language)
            elif present is not None:
                self.path_field(state[present], _child(path, present), "reference")
        if "ItemReader" in state:
            self.item_reader(state["ItemReader"], _child(path, "ItemReader"), language)
        if "ItemBatcher" in state:
            self.item_batcher(state["ItemBatcher"], _child(path, "ItemBatcher"), language)
        if "ResultWriter" in state:
            self.result_writer(state["ResultWriter"], _child(path, "ResultWriter"), language)
        if "Label" in state:
            label = state["Label"]
            if not isinstance(label, str) or len(label) > 40:
                self.must_be(_child(path, "Label"), label, "a string of at most 40 characters")
        self.retry_catch(record, name, state, path, language)

    def processor_config(self, config: Any, path: str) -> bool:
        """Check a ProcessorConfig; return True when it selects the DISTRIBUTED mode."""
        if not isinstance(config, dict):
            self.must_be(path, config, "a JSON object")
            return False
        for key in config:
            if key not in ("Mode", "ExecutionType"):
                self.error(_child(path, key), "unknown_field", _says(_child(path, key), "is not a field of a ProcessorConfig"))
        if "Mode" in config and config["Mode"] not in ("INLINE", "DISTRIBUTED"):
            self.must_be(_child(path, "Mode"), config["Mode"], "'INLINE' or 'DISTRIBUTED'")
        if "ExecutionType" in config and config["ExecutionType"] not in ("STANDARD", "EXPRESS"):
            self.must_be(_child(path, "ExecutionType"), config["ExecutionType"], "'STANDARD' or 'EXPRESS'")
        return config.get("Mode") == "DISTRIBUTED"

    def item_reader(self, reader: Any, path: str, language: str) -> None:
        if not isinstance(reader, dict):
            self.must_be(path, reader, "a JSON object")
            return
        for key in reader:
            if key not in ("Resource", "Parameters", "Arguments", "ReaderConfig"):
                self.error(_child(path, key), "unknown_field", _says(_child(path, key), "is not a field of an ItemReader"))
        if "Resource" not in reader:
            self.missing(_child(path, "Resource"), "in an ItemReader")
        else:
            self.uri(reader["Resource"], _child(path, "Resource"))
        self.payload(reader, path, language)
        if "ReaderConfig" in reader:
            config_path = _child(path, "ReaderConfig")
            config = reader["ReaderConfig"]
            if not isinstance(config, dict):
                self.must_be(config_path, config, "a JSON object")
                return
            present = self.exclusive(config, config_path, ("MaxItems", "MaxItemsPath"))
            if present == "MaxItems":
                self.integer(config["MaxItems"], _child(config_path, "MaxItems"), 1, 100_000_000, language)
            elif present is not None:
                self.path_field(config[present], _child(config_path, present), "reference")

    def item_batcher(self, batcher: Any, path: str, language: str) -> None:
        if not isinstance(batcher, dict):
            self.must_be(path, batcher, "a JSON object")
            return
        limits = ("MaxItemsPerBatch", "MaxItemsPerBatchPath", "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath")
        for key in batcher:
            if key not in limits and key != "BatchInput":
                self.error(_child(path, key), "unknown_field", _says(_child(path, key), "is not a field of an ItemBatcher"))
        if not any(key in batcher for key in limits):
            self.error(path, "missing_field", _says(path, "must have one of 'MaxItemsPerBatch', "
                                                          "'MaxItemsPerBatchPath', 'MaxInputBytesPerBatch' or "
                                                          "'MaxInputBytesPerBatchPath'"))
        for key, high in (("MaxItemsPerBatch", None), ("MaxInputBytesPerBatch", 262_144)):
            present = self.exclusive(batcher, path, (key, key + "Path"))
            if present == key:
                self.integer(batcher[key], _child(path, key), 1, high, language)
            elif present is not None:
                self.path_field(batcher[present], _child(path, present), "reference")
        if "BatchInput" in batcher:
            batch_path = _child(path, "BatchInput")
            if language == JSONATA:
                self.jsonata_value(batcher["BatchInput"], batch_path)
            elif not isinstance(batcher["BatchInput"], dict):
                self.must_be(batch_path, batcher["BatchInput"], "a JSON object")
            else:
                self.template(batcher["BatchInput"], batch_path)

    def result_writer(self, writer: Any, path: str, language: str) -> None:
        if not isinstance(writer, dict):
            self.must_be(path, writer, "a JSON object")
            return
        for key in writer:
            if key not in ("Resource", "Parameters", "Arguments", "WriterConfig"):
                self.error(_child(path, key), "unknown_field", _says(_child(path, key), "is not a field of a ResultWriter"))
        if "Resource" in writer:
            self.uri(writer["Resource"], _child(path, "Resource"))
        self.payload(writer, path, language)

    def payload(self, obj: dict, path: str, language: str) -> None:
        """Check the Parameters (JSONPath) or Arguments (JSONata) of an ItemReader or ResultWriter."""
        if "Parameters" in obj:
            if language == JSONATA:
                self.error(_child(path, "Parameters"), "jsonpath_only_field", _says(
                    _child(path, "Parameters"), "is a JSONPath field; use 'Arguments' in a JSONata state"))
            else:
                self.template(obj["Parameters"], _child(path, "Parameters"))
        if "Arguments" in obj:
            if language == JSONPATH:
                self.error(_child(path, "Arguments"), "jsonata_only_field", _says(
                    _child(path, "Arguments"), "is only allowed in a JSONata state; use 'Parameters'"))
            else:
                self.jsonata_value(obj["Arguments"], _child(path, "Arguments"))

    # -- Retry and Catch
    def retry_catch(self, record: _Machine, name: str, state: dict, path: str, language: str) -> None:
        for field, allowed in (("Retry", _RETRIER_FIELDS), ("Catch", _CATCHER_FIELDS)):
            if field not in state:
                continue
            items_path = _child(path, field)
            items = state[field]
            if not isinstance(items, list):
                self.must_be(items_path, items, f"an array of {'Retriers' if field == 'Retry' else 'Catchers'}")
                continue
            last = len(items) - 1
            for index, item in enumerate(items):
                item_path = _child(items_path, index)
                if not isinstance(item, dict):
                    self.must_be(item_path, item, "a JSON object")
                    continue
                for key in item:
                    if key not in allowed:
                        self.error(_child(item_path, key), "unknown_field", _says(
                            _child(item_path, key), f"is not a field of a {'Retrier' if field == 'Retry' else 'Catcher'}"))
                self.optional_string(item, item_path, "Comment")
                self.error_equals(item, item_path, index == last)
                if field == "Retry":
                    self.retrier(item, item_path)
                else:
                    self.catcher(record, name, item, item_path, language)

    def error_equals(self, item: dict, path: str, is_last: bool) -> None:
        errors_path = _child(path, "ErrorEquals")
        errors = item.get("ErrorEquals")
        if "ErrorEquals" not in item:
            self.missing(errors_path, "in every Retrier and Catcher")
            return
        if not isinstance(errors, list) or not errors:
            self.must_be(errors_path, errors, "a non-empty array of error names")
            return
        for index, error in enumerate(errors):
            if not isinstance(error, str):
                self.must_be(_child(errors_path, index), error, "a string (an error name)")
        # Spec, "Retrying after error": "The reserved name "States.ALL" ... MUST appear alone
        # in its ErrorEquals array and MUST appear in the last Retrier"; the same holds for Catchers.
        if "States.ALL" in errors:
            if len(errors) > 1:
                self.error(errors_path, "states_all_not_alone", _says(
                    errors_path, "must not list other error names next to 'States.ALL'"))
            if not is_last:
                self.error(errors_path, "states_all_not_last", _says(
                    errors_path, "holds 'States.ALL', which is only allowed in the last Retrier or Catcher"))

    def retrier(self, item: dict, path: str) -> None:
        if "IntervalSeconds" in item:
            self.integer(item["IntervalSeconds"], _child(path, "IntervalSeconds"), 1, AWS_MAX_SECONDS, JSONPATH)
        if "MaxAttempts" in item:
            self.integer(item["MaxAttempts"], _child(path, "MaxAttempts"), 0, AWS_MAX_SECONDS, JSONPATH)
        if "MaxDelaySeconds" in item:
            self.integer(item["MaxDelaySeconds"], _child(path, "MaxDelaySeconds"), 1, AWS_MAX_DELAY_SECONDS,
                         JSONPATH)
        if "BackoffRate" in item:
            self.number(item["BackoffRate"], _child(path, "BackoffRate"), 1.0, None, JSONPATH)
        if "JitterStrategy" in item and item["JitterStrategy"] not in ("FULL", "NONE"):
            self.must_be(_child(path, "JitterStrategy"), item["JitterStrategy"], "'FULL' or 'NONE'")

    def catcher(self, record: _Machine, name: str, item: dict, path: str, language: str) -> None:
        next_path = _child(path, "Next")
        if "Next" not in item:
            self.missing(next_path, "in every Catcher")
        elif not isinstance(item["Next"], str):
            self.must_be(next_path, item["Next"], "a string naming a state")
        else:
            record.transitions.append((name, item["Next"], next_path))
        if "ResultPath" in item:
            if language == JSONATA:
                self.error(_child(path, "ResultPath"), "jsonpath_only_field", _says(
                    _child(path, "ResultPath"), "is a JSONPath field; use 'Output' or 'Assign' in a JSONata state"))
            elif item["ResultPath"] is not None:
                self.path_field(item["ResultPath"], _child(path, "ResultPath"), "result")
        if "Output" in item:
            if language == JSONPATH:
                self.error(_child(path, "Output"), "jsonata_only_field", _says(
                    _child(path, "Output"), "is only allowed in a JSONata state"))
            else:
                self.jsonata_value(item["Output"], _child(path, "Output"))
        if "Assign" in item:
            self.assign(item["Assign"], _child(path, "Assign"), language, record.scope, record.states[name])

    # -- Choice Rules
    def rule(self, record: _Machine, name: str, rule: Any, path: str, language: str, top: bool, depth: int) -> None:
        if not isinstance(rule, dict):
            self.must_be(path, rule, "a JSON object (a Choice Rule)")
            return
        if depth > MAX_RULE_DEPTH:
            self.error(path, "too_deep", _says(path, f"nests Choice Rules more than {MAX_RULE_DEPTH} levels deep"))
            return
        self.optional_string(rule, path, "Comment")
        if top:
            next_path = _child(path, "Next")
            if "Next" not in rule:
                self.missing(next_path, "in every top-level Choice Rule")
            elif not isinstance(rule["Next"], str):
                self.must_be(next_path, rule["Next"], "a string naming a state")
            else:
                record.transitions.append((name, rule["Next"], next_path))
            if "Assign" in rule:
                self.assign(rule["Assign"], _child(path, "Assign"), language, record.scope, record.states[name])
        if language == JSONATA:
            extra = {"Condition", "Comment"} | ({"Next", "Assign", "Output"} if top else set())
            for key in rule:
                if key not in extra:
                    self.error(_child(path, key), "unknown_field", _says(
                        _child(path, key), "is not a field of a JSONata Choice Rule, which uses 'Condition'"))
            condition_path = _child(path, "Condition")
            if "Condition" not in rule:
                self.missing(condition_path, "in a JSONata Choice Rule")
            elif isinstance(rule["Condition"], str) and _is_jsonata(rule["Condition"]):
                self.jsonata_value(rule["Condition"], condition_path)
            elif not isinstance(rule["Condition"], bool):
                self.must_be(condition_path, rule["Condition"], "a boolean or a JSONata expression '{% ... %}'")
            if "Output" in rule:
                self.jsonata_value(rule["Output"], _child(path, "Output"))
            return
        allowed = {"Variable", "Comment"} | ({"Next", "Assign"} if top else set())
        operators = []
        for key in rule:
            if key in _COMPARISONS or key in _BOOLEAN_OPS:
                operators.append(key)
            elif key == "Next" and not top:
                self.error(_child(path, key), "unknown_field", _says(
                    _child(path, key), "is not allowed in a nested Choice Rule; only top-level rules have 'Next'"))
            elif key not in allowed:
                self.error(_child(path, key), "unknown_field", _says(_child(path, key), "is not a field of a Choice Rule"))
        if not operators:
            self.error(path, "missing_operator", _says(
                path, "must have exactly one comparison operator, or 'And', 'Or' or 'Not'"))
            return
        if len(operators) > 1:
            listed = ", ".join(f"'{key}'" for key in operators)
            self.error(path, "too_many_operators", _says(path, f"must have exactly one comparison operator, not {listed}"))
            return
        operator = operators[0]
        operand = rule[operator]
        operand_path = _child(path, operator)
        if operator in _BOOLEAN_OPS:
            if "Variable" in rule:
                self.error(_child(path, "Variable"), "unknown_field", _says(
                    _child(path, "Variable"), f"is not allowed next to '{operator}'"))
            if operator == "Not":
                if not isinstance(operand, dict):
                    self.must_be(operand_path, operand, "a JSON object (a Choice Rule)")
                else:
                    self.rule(record, name, operand, operand_path, language, False, depth + 1)
            elif not isinstance(operand, list) or not operand:
                self.must_be(operand_path, operand, "a non-empty array of Choice Rules")
            else:
                for index, inner in enumerate(operand):
                    self.rule(record, name, inner, _child(operand_path, index), language, False, depth + 1)
            return
        variable_path = _child(path, "Variable")
        if "Variable" not in rule:
            self.missing(variable_path, f"in a Choice Rule that uses '{operator}'")
        else:
            self.path_field(rule["Variable"], variable_path, "path")
        expected = _COMPARISONS[operator]
        if expected == "path":
            self.path_field(operand, operand_path, "path")
        elif expected == "string":
            if not isinstance(operand, str):
                self.must_be(operand_path, operand, "a string")
        elif expected == "number":
            if isinstance(operand, bool) or not isinstance(operand, (int, float)):
                self.must_be(operand_path, operand, "a number")
        elif expected == "boolean":
            if not isinstance(operand, bool):
                self.must_be(operand_path, operand, "a boolean")
        else:
            self.timestamp(operand, operand_path)

    # -- variables
    def assign(self, value: Any, path: str, language: str, scope: _Scope, state_path: str) -> None:
        if not isinstance(value, dict):
            self.must_be(path, value, "a JSON object of variable names and values")
            return
        for key, item in value.items():
            item_path = _child(path, key)
            name = key[:-2] if language == JSONPATH and key.endswith(".$") else key
            # Spec, "Variables": names are Unicode identifiers. JSONata states are only held to
            # the length and reserved-name rules: Step Functions accepts e.g. 'top-level' there.
            identifier = name.isidentifier() or (language == JSONATA and bool(name))
            if not identifier or len(name) > MAX_VARIABLE_NAME_LENGTH or name == "states":
                if name == "states":
                    why = "the name 'states' is reserved"
                elif len(name) > MAX_VARIABLE_NAME_LENGTH:
                    why = f"variable names are limited to {MAX_VARIABLE_NAME_LENGTH} characters"
                else:
                    why = "a variable name must be an identifier (a letter or '_', then letters, digits or '_')"
                self.error(item_path, "invalid_variable_name", _says(item_path, f"does not name a valid variable: {why}"))
            else:
                scope.names.setdefault(name, set()).add(state_path)
                self.assignments.append((scope, name, item_path))
            if language == JSONATA:
                self.jsonata_value(item, item_path)
            elif name is not key:
                self.expression_value(item, item_path)
            else:
                self.template(item, item_path)

    # -- values
    def optional_string(self, obj: dict, path: str, key: str) -> None:
        if key in obj and not isinstance(obj[key], str):
            self.must_be(_child(path, key), obj[key], "a string")

    def integer(self, value: Any, path: str, low: int, high: int | None, language: str) -> int | None:
        """Check an integer field (or, in JSONata, an expression); return the integer if there is one."""
        if language == JSONATA and isinstance(value, str):
            if _is_jsonata(value):
                self.jsonata_value(value, path)
            else:
                self.must_be(path, value, "an integer or a JSONata expression '{% ... %}'")
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            what = "a positive integer" if low == 1 else "a non-negative integer" if low == 0 else "an integer"
            self.must_be(path, value, what)
            return None
        if value < low or (high is not None and value > high):
            if high is None:
                what = "a positive integer" if low == 1 else "a non-negative integer" if low == 0 else f"at least {low}"
            else:
                what = f"an integer from {low} to {high}"
            self.must_be(path, value, what, code="invalid_value")
            return None
        return value

    def number(self, value: Any, path: str, low: float, high: float | None, language: str) -> None:
        if language == JSONATA and isinstance(value, str):
            if _is_jsonata(value):
                self.jsonata_value(value, path)
            else:
                self.must_be(path, value, "a number or a JSONata expression '{% ... %}'")
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.must_be(path, value, "a number")
        elif value < low or (high is not None and value > high):
            what = f"a number from {low} to {high}" if high is not None else f"a number greater than or equal to {low}"
            self.must_be(path, value, what, code="invalid_value")

    def uri(self, value: Any, path: str) -> None:
        if not isinstance(value, str):
            self.must_be(path, value, "a string holding a URI")
        elif not _URI.match(value):
            self.error(path, "invalid_uri", _must_be(path, "a URI, such as an ARN ('arn:aws:...')"))

    def timestamp(self, value: Any, path: str) -> None:
        if not isinstance(value, str):
            self.must_be(path, value, "a timestamp string, such as '2016-03-14T01:59:00Z'")
        elif len(value) > 100 or not _timestamp_ok(value):
            self.error(path, "invalid_timestamp", _must_be(
                path, "an RFC 3339 timestamp with an uppercase 'T' and a 'Z' or numeric offset, "
                      "such as '2016-03-14T01:59:00Z'"))

    def path_field(self, value: Any, path: str, kind: str) -> None:
        if not isinstance(value, str):
            self.must_be(path, value, f"a string holding a {_PATH_KIND_NAMES[kind]}")
            return
        problem = _path_problem(value, kind)
        if problem is not None:
            self.error(path, "invalid_path", _says(path, f"is not a valid {_PATH_KIND_NAMES[kind]}: {problem}"))

    def intrinsic(self, value: str, path: str) -> None:
        problem = _intrinsic_problem(value)
        if problem is not None:
            self.error(path, "invalid_intrinsic", _says(path, f"is not a valid intrinsic function call: {problem}"))

    def expression_value(self, value: Any, path: str) -> None:
        """Check the value of a ``.$`` field: a Path or an intrinsic function call."""
        if not isinstance(value, str):
            self.must_be(path, value, "a string holding a Path or an intrinsic function call")
        elif value.startswith("$"):
            self.path_field(value, path, "path")
        elif value.startswith("States."):
            self.intrinsic(value, path)
        else:
            self.error(path, "invalid_path", _must_be(path, "a Path (starting with '$') or an intrinsic function "
                                                            "call (starting with 'States.')"))

    def template(self, value: Any, path: str) -> None:
        """Check a Payload Template: every ``.$`` field, at any depth, holds a Path or an intrinsic.

        Spec, "Payload Template": "If any field within the Payload Template ... has a name
        ending with the characters ".$", its value is transformed ..."; the renamed field
        must not collide with another one.
        """
        stack = [(value, path)]
        while stack:
            node, node_path = stack.pop()
            if isinstance(node, dict):
                for key, item in node.items():
                    item_path = _child(node_path, key)
                    if key.endswith(".$"):
                        if key[:-2] in node:
                            self.error(item_path, "duplicate_field", _says(
                                item_path, f"and '{_child(node_path, key[:-2])}' give the same field once '.$' "
                                           "is removed"))
                        self.expression_value(item, item_path)
                    elif isinstance(item, (dict, list)):
                        stack.append((item, item_path))
            elif isinstance(node, list):
                for index, item in enumerate(node):
                    if isinstance(item, (dict, list)):
                        stack.append((item, _child(node_path, index)))

    def jsonata_value(self, value: Any, path: str) -> None:
        """Check every ``{% ... %}`` string in ``value`` (any JSON), at any depth."""
        stack = [(value, path)]
        while stack:
            node, node_path = stack.pop()
            if isinstance(node, str):
                if node.startswith("{%"):
                    if not _is_jsonata(node):
                        self.error(node_path, "invalid_jsonata", _says(
                            node_path, "starts with '{%' but does not end with '%}'"))
                        continue
                    problem = _jsonata_problem(node)
                    if problem is not None:
                        self.error(node_path, "invalid_jsonata", _says(node_path, problem))
            elif isinstance(node, dict):
                stack.extend(reversed([(item, _child(node_path, key)) for key, item in node.items()]))
            elif isinstance(node, list):
                stack.extend(reversed([(item, _child(node_path, index)) for index, item in enumerate(node)]))

    # -- pass 3
    def resolve(self) -> None:
        """Check transitions, reachability, terminal states and variable scopes."""
        for record in self.machines:
            if record.start_at is not None and record.start_at not in record.states:
                self.error(record.start_path, "unknown_state", _refers_to(
                    record.start_path, record.start_at, self.where(record.start_at)))
            edges: dict[str, list[str]] = {}
            for source, target, path in record.transitions:
                if target in record.states:
                    edges.setdefault(source, []).append(target)
                else:
                    self.error(path, "unknown_state" if target not in self.owner else "invalid_transition",
                               _refers_to(path, target, self.where(target)))
            if record.states and not record.terminal and not record.broken:
                self.error(_child(record.path, "States"), "missing_terminal", _says(
                    _child(record.path, "States"),
                    "has no terminal state (a Succeed or Fail state, or a state with 'End': true)"))
            if record.start_at in record.states:
                seen = {record.start_at}
                queue = [record.start_at]
                while queue:
                    for target in edges.get(queue.pop(), ()):
                        if target not in seen:
                            seen.add(target)
                            queue.append(target)
                for name, path in record.states.items():
                    if name not in seen:
                        self.error(path, "unreachable_state", _says(
                            path, f"cannot be reached from StartAt '{_show(record.start_at)}'"))
        # Spec, "Variables": a name assigned in an inner scope (a Parallel branch or a Map
        # processor) must not also be assigned in an enclosing scope.
        # The Parallel or Map state that opens a scope may itself assign the same name (in its
        # own Assign or a Catcher): that runs after its branches, and AWS accepts it.
        for scope, name, path in self.assignments:
            inner, outer = scope, scope.parent
            while outer is not None:
                if outer.names.get(name, set()) - {inner.owner}:
                    self.error(path, "duplicate_variable", _says(
                        path, f"assigns '{_show(name)}', which an enclosing scope also assigns; "
                              "inner and outer variable names must differ"))
                    break
                inner, outer = outer, outer.parent

    def where(self, target: str) -> str:
        if target in self.owner:
            return "which is in another state machine scope (a Parallel branch or Map processor boundary)"
        return "which does not exist"


def validate(definition: Any, *, format: str = "json") -> list[Issue]:
    """Return every problem in an Amazon States Language definition; never raise.

    ``definition`` is a parsed definition (``dict``), or definition text: JSON
    (``str``, or UTF-8 ``bytes``), or YAML when ``format="yaml"``. Anything else
    gives an issue at ``$``. An empty list means the definition is valid;
    issues with ``severity="error"`` make it invalid.

    Spec cases handled:

    * top level: ``StartAt``, ``States`` (non-empty), ``Comment``, ``Version``,
      ``TimeoutSeconds`` (positive integer), ``QueryLanguage`` (``JSONPath`` or
      ``JSONata``; under ``JSONata`` no state may choose ``JSONPath``);
    * states: ``Type`` among the eight types and ``Message``, the fields allowed per type and
      per query language, names of at most 80 characters, unique across the
      whole definition including nested branches and processors;
    * transitions: ``StartAt``, ``Next``, ``Default`` and Catcher ``Next`` name
      a state of the same (sub-)machine; ``End``/``Next`` rules; Succeed, Fail
      and Choice never have ``End``/``Next``; every machine has a terminal
      state; every state is reachable from ``StartAt``;
    * Retry/Catch: Task, Parallel, Map and Message only; ``ErrorEquals`` non-empty,
      ``States.ALL`` alone and last; ``MaxAttempts`` >= 0; ``IntervalSeconds``
      and ``MaxDelaySeconds`` >= 1; ``BackoffRate`` >= 1.0; ``JitterStrategy``
      ``FULL`` or ``NONE``; Catchers need ``Next``;
    * Choice: non-empty ``Choices``; exactly one operator per rule; ``And``/``Or``
      non-empty arrays, ``Not`` an object; ``Next`` on top-level rules only;
      operand types, timestamps, ``Variable`` and ``...Path`` operands are Paths;
      JSONata rules use ``Condition``;
    * Wait: exactly one of ``Seconds``/``SecondsPath``/``Timestamp``/``TimestampPath``;
    * Task: ``Resource`` URI; ``TimeoutSeconds``/``HeartbeatSeconds`` positive,
      heartbeat below timeout, ``...Path`` variants exclusive; ``Credentials`` object;
    * Fail: ``Error``/``ErrorPath`` and ``Cause``/``CausePath`` exclusive;
    * Message (a django-asl extension): ``CorrelationKey`` a string of 1 to 256
      characters; ``CorrelationValuePath`` and ``MessagePath`` Paths;
      ``TimeoutSeconds`` positive or ``TimeoutSecondsPath`` a Reference Path, not
      both; Retry and Catch as for a Task; JSONPath only;
    * Parallel ``Branches`` and Map ``ItemProcessor``/``Iterator`` as sub-machines;
      Map ``ItemsPath``, ``ItemSelector``/``Parameters``, ``MaxConcurrency``,
      tolerated failures, ``ItemReader``, ``ItemBatcher``, ``ResultWriter``, ``Label``;
    * paths: ``InputPath``/``OutputPath`` Paths or null, ``ResultPath`` a Reference
      Path or null (not ``$$``), ``...Path`` fields Reference Paths; ``.$`` fields
      in Payload Templates and ``Assign`` hold Paths or intrinsic calls;
    * variables: ``Assign`` is an object of identifier names (<= 80 characters,
      not ``states``), not reassigned by an inner scope;
    * JSONata: ``{% ... %}`` strings are parsed for syntax; no ``$``/``$$`` at
      the top level of an expression.
    """
    if format not in ("json", "yaml"):
        raise ValueError(f"format must be 'json' or 'yaml', not {format!r}.")
    issues: list[Issue] = []
    try:
        if isinstance(definition, (str, bytes, bytearray, memoryview)):
            definition, issues = load_text(definition, format=format)
            if issues:
                return issues
        data = _snapshot(definition, issues)
        if data is UNREADABLE and issues:
            return issues
        validator = _Validator()
        validator.run(data)
        issues.extend(validator.issues)
    except RecursionError:
        issues.append(Issue("$", "too_deep", "The definition is nested too deeply to be checked."))
    except Exception as exc:  # a bug here must not become the caller's crash
        issues.append(Issue("$", "internal_error", f"The definition could not be checked: internal error "
                                                   f"({type(exc).__name__}: {_show(str(exc))})."))
    return issues


def load_definition(definition: Any, *, format: str = "json") -> dict:
    """Return ``definition`` as plain JSON data; raise ``DefinitionError`` if it has errors.

    Accepts what ``validate`` accepts. The ``DefinitionError`` carries every
    issue found, not just the first.
    """
    issues = validate(definition, format=format)
    if any(issue.is_error for issue in issues):
        raise DefinitionError(issues)
    if isinstance(definition, (str, bytes, bytearray, memoryview)):
        definition, _ = load_text(definition, format=format)
    return _snapshot(definition, [])
