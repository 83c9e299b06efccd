"""What every state shares: input and output processing, Retry and Catch, transitions.

Spec, "Input and Output Processing": the state's raw input is filtered by
``InputPath``, reshaped by ``Parameters``; the state's result is reshaped by
``ResultSelector``, placed into the *raw input* at ``ResultPath``, and the
whole is filtered by ``OutputPath``. A ``null`` InputPath or OutputPath gives
``{}``; a ``null`` ResultPath discards the result and passes the raw input on.
"""
from __future__ import annotations

import abc
import json
from typing import Any, ClassVar

from ..errors import ErrorName, StatesError
from ..outcomes import Fail, Next, Outcome, Retry, Succeed
from ..paths import PathNotFound, compile_path, to_json
from ..retry import Catcher, Retrier, decide_retry, find_catcher
from ..templates import compile_template
from ..variables import Assignment

MAX_PAYLOAD_BYTES = 256 * 1024

# Errors that AWS reports with the state's name and entered-event id in front of the cause.
PREFIXED_ERRORS = frozenset({ErrorName.RUNTIME, ErrorName.QUERY_EVALUATION_ERROR, ErrorName.INTRINSIC_FAILURE})

_ABSENT = object()


def state_cause(env: Any, cause: str) -> str:
    """Return ``cause`` prefixed the way AWS reports errors raised while a state runs."""
    return (f"An error occurred while executing the state '{env.state_name}' "
            f"(entered at the event id #{env.entered_event_id}). {cause}")


_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def positive_int_at(field: str, path: Any, value: Any, env: Any) -> int:
    """Return the positive integer that ``path`` (the compiled ``field``, e.g. TimeoutSecondsPath)
    selects in ``value``, or raise States.Runtime with AWS's text."""
    try:
        selected = path.resolve(value, env)
    except PathNotFound as exc:
        raise StatesError(ErrorName.RUNTIME, str(exc)) from None
    if type(selected) is not int or selected <= 0:
        raise StatesError(ErrorName.RUNTIME,
                          f"The {field} field refers to value \"{to_json(selected)}\" which is not a valid "
                          f"positive integer: {path.expr}")
    return selected


def payload_size(value: Any) -> int:
    """Return the size in bytes of ``value`` as compact UTF-8 JSON text."""
    return len(_compact(value).encode("utf-8", "surrogatepass"))


def _size_bound(value: Any, budget: int) -> int:
    """Return an upper bound of the JSON size of ``value``, or more than ``budget`` once it is exceeded.

    Strings count 6 bytes a character (the longest escape), numbers 32, and
    each value 2 bytes of punctuation; walking a small value this way is cheaper
    than encoding it. Raise ``TypeError`` for a value that is not JSON.
    """
    total = 0
    stack = [value]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str:
            total += 6 * len(item) + 2
        elif kind is dict:
            total += 2
            for key, child in item.items():
                total += 6 * len(key) + 4
                push(child)
        elif kind is list:
            total += 2 + len(item)
            extend(item)
        elif kind is int or kind is bool or item is None:
            total += 32
        elif kind is float:
            if item - item != 0:  # NaN and the infinities
                raise ValueError(f"{item} is not a JSON number")
            total += 32
        else:
            raise TypeError(f"a {kind.__name__} is not a JSON value")
        if total > budget:
            return total
    return total


def within_payload_limit(value: Any) -> bool:
    """Return whether ``value`` fits in 256 KiB of JSON.

    A cheap upper bound settles almost every value; only values near or over
    the limit are encoded to measure them exactly.
    """
    return _size_bound(value, MAX_PAYLOAD_BYTES) <= MAX_PAYLOAD_BYTES or payload_size(value) <= MAX_PAYLOAD_BYTES


def check_result_size(value: Any, who: str) -> None:
    """Raise ``States.DataLimitExceeded`` when a result exceeds 256 KiB, ``States.Runtime`` when it is not JSON."""
    try:
        fits = within_payload_limit(value)
    except (TypeError, ValueError) as exc:
        raise StatesError(ErrorName.RUNTIME, f"The state/task '{who}' returned a result that is not JSON: {exc}.") from None
    if not fits:
        raise StatesError(
            ErrorName.DATA_LIMIT_EXCEEDED,
            f"The state/task '{who}' returned a result with a size exceeding the maximum number of bytes service limit.",
        )


class FilterPath:
    """A compiled ``InputPath`` or ``OutputPath``: absent keeps everything, ``null`` gives ``{}``."""

    __slots__ = ("path", "is_null")

    def __init__(self, raw: Any) -> None:
        self.is_null = raw is None
        self.path = None if raw is _ABSENT or raw is None or raw == "$" else compile_path(raw)

    def apply(self, data: Any, env: Any) -> Any:
        if self.path is None:
            return {} if self.is_null else data
        try:
            return self.path.resolve(data, env)
        except PathNotFound as exc:
            raise StatesError(ErrorName.RUNTIME, str(exc)) from None


class ResultPath:
    """A compiled ``ResultPath``: where a result goes in the state's raw input.

    Absent or ``$``: the result becomes the output. ``null``: the result is
    discarded and the raw input is the output. Otherwise the result is placed
    at the path, creating objects along it as needed, without changing the
    input itself (the parts on the path are copied).
    """

    __slots__ = ("expr", "keys", "discard")

    def __init__(self, raw: Any) -> None:
        self.discard = raw is None
        self.expr = "$" if raw is _ABSENT or raw is None else raw
        self.keys = () if raw is _ABSENT or raw is None else compile_path(raw).keys

    def apply(self, data: Any, result: Any) -> Any:
        if self.discard:
            return data
        keys = self.keys
        if not keys:
            return result
        return self._place(data, 0, result)

    def _place(self, data: Any, position: int, result: Any) -> Any:
        key = self.keys[position]
        last = position == len(self.keys) - 1
        if isinstance(data, dict) and isinstance(key, str):
            copy = dict(data)
            copy[key] = result if last else self._place(data.get(key, {}), position + 1, result)
            return copy
        if isinstance(data, list) and isinstance(key, int) and -len(data) <= key < len(data):
            copy = list(data)
            copy[key] = result if last else self._place(data[key], position + 1, result)
            return copy
        raise StatesError(
            ErrorName.RESULT_PATH_MATCH_FAILURE,
            f"Unable to apply ResultPath '{self.expr}' to input '{to_json(data)}'",
        )


class State(abc.ABC):
    """Base of every state type: the fields common to all, and the shared steps."""

    type: ClassVar[str] = ""
    entered_event: ClassVar[str] = ""
    exited_event: ClassVar[str] = ""

    def __init__(self, name: str, raw: dict, build_machine: Any) -> None:
        self.name = name
        self.raw = raw
        self.comment = raw.get("Comment")
        self.next = raw.get("Next")
        self.end = bool(raw.get("End", False))
        # AWS: a state's QueryLanguage overrides the state machine's.
        self.jsonata = raw.get("QueryLanguage", getattr(build_machine, "query_language", "JSONPath")) == "JSONata"
        # Whether an expression may read $states.context: building it costs more than most expressions.
        self.uses_context = self.jsonata and "context" in json.dumps(raw)
        self.input_path = FilterPath(raw.get("InputPath", _ABSENT))
        self.output_path = FilterPath(raw.get("OutputPath", _ABSENT))
        self.result_path = ResultPath(raw.get("ResultPath", _ABSENT))
        self.parameters = compile_template(raw["Parameters"]) if "Parameters" in raw else None
        self.result_selector = compile_template(raw["ResultSelector"]) if "ResultSelector" in raw else None
        self.arguments = self.compile_field(raw, "Arguments")
        self.output = self.compile_field(raw, "Output")
        self.assign = Assignment(raw["Assign"], jsonata=self.jsonata) if "Assign" in raw else None
        self.retriers = tuple(Retrier.from_dict(r) for r in raw.get("Retry", ()))
        self.catchers = tuple(
            Catcher(tuple(c["ErrorEquals"]), c["Next"], ResultPath(c.get("ResultPath", _ABSENT)),
                    Assignment(c["Assign"], jsonata=self.jsonata) if "Assign" in c else None,
                    self.compile_field(c, "Output"))
            for c in raw.get("Catch", ())
        )

    def compile_field(self, raw: dict, field: str) -> Any:
        """Return the compiled JSONata field ``field`` of ``raw``, or None (absent, or a JSONPath state)."""
        if not self.jsonata or field not in raw:
            return None
        from ..jsonata_ import compile_field

        return compile_field(raw[field], field)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    # -- the step -------------------------------------------------------------------

    def step(self, data: Any, env: Any) -> Outcome:
        """Run the state on its raw input ``data`` and return what happens next."""
        try:
            return self._step(data, env)
        except StatesError as exc:
            return self.on_error(data, exc.name, exc.cause, env)

    @abc.abstractmethod
    def _step(self, data: Any, env: Any) -> Outcome:
        """Run the state's own work; errors raised as ``StatesError`` go to ``on_error``."""

    def transition(self, output: Any) -> Next | Succeed:
        """Return the outcome of leaving the state normally with ``output``."""
        if self.end or self.next is None:
            return Succeed(output)
        return Next(self.next, output)

    def finish(self, data: Any, result: Any, env: Any) -> Outcome:
        """Leave the state with ``result``: Assign, then the output (both see the variables as they were).

        JSONPath: ResultSelector reshapes the result, Assign reads it as ``$``,
        ResultPath places it into the raw input and OutputPath filters the
        whole. JSONata: Assign and Output see ``$states.input`` and
        ``$states.result``; without Output the result is the output.
        """
        if self.jsonata:
            from ..jsonata_ import bindings

            found = bindings(env, data, result=result, context=self.uses_context)
            if self.assign is not None:
                env.assigned = self.assign.values(found, env)
            return self.transition(self.output(found) if self.output is not None else result)
        if self.result_selector is not None:
            result = self.result_selector(result, env)
        if self.assign is not None:
            env.assigned = self.assign.values(result, env)
        output = self.result_path.apply(data, result)
        return self.transition(self.output_path.apply(output, env))

    def effective_input(self, data: Any, env: Any) -> Any:
        """Return what the state works on: InputPath and Parameters (JSONPath), or Arguments (JSONata)."""
        if self.jsonata:
            if self.arguments is None:
                return data
            from ..jsonata_ import bindings

            return self.arguments(bindings(env, data, context=self.uses_context))
        value = self.input_path.apply(data, env)
        if self.parameters is not None:
            value = self.parameters(value, env)
        return value

    def leave(self, data: Any, value: Any, env: Any, then: Any = None) -> Any:
        """Assign and leave a state that has no result (Choice, Wait): ``value`` is its effective input.

        ``then`` builds the outcome from the output (default: ``transition``).
        """
        then = then or self.transition
        if self.jsonata:
            from ..jsonata_ import bindings

            found = bindings(env, data, context=self.uses_context)
            if self.assign is not None:
                env.assigned = self.assign.values(found, env)
            return then(self.output(found) if self.output is not None else data)
        if self.assign is not None:
            env.assigned = self.assign.values(value, env)
        return then(self.output_path.apply(value, env))

    # -- failures -------------------------------------------------------------------

    def on_error(self, data: Any, error: str | None, cause: str | None, env: Any, *, from_task: bool = False) -> Outcome:
        """Decide what follows an error: a retry, a catcher's Next, or failure.

        ``data`` is the state's raw input: a Catcher puts the error output
        ``{"Error": ..., "Cause": ...}`` into it at the Catcher's ResultPath.
        """
        if error in PREFIXED_ERRORS and cause is not None and not cause.startswith("An error occurred while"):
            cause = state_cause(env, cause)
        env.assigned = None  # the state's own Assign is dropped when it fails
        if error is None:
            return Fail(error, cause)
        if self.retriers:
            decision = decide_retry(self.retriers, env.retry_counts, error, env, from_task=from_task)
            if decision is not None:
                return Retry(decision.delay, decision.retry_counts, error, cause)
        if self.catchers:
            catcher = find_catcher(self.catchers, error, from_task=from_task)
            if catcher is not None:
                error_output = {"Error": error, "Cause": cause if cause is not None else ""}
                try:
                    return Next(catcher.next, self.caught(data, catcher, error_output, env))
                except StatesError as exc:
                    env.assigned = None
                    failure = exc.cause
                    if exc.name in PREFIXED_ERRORS and failure is not None and \
                            not failure.startswith("An error occurred while"):
                        failure = state_cause(env, failure)
                    return Fail(exc.name, failure)
        return Fail(error, cause)

    def caught(self, data: Any, catcher: Catcher, error_output: dict, env: Any) -> Any:
        """Return the output of a state whose error ``catcher`` caught; its Assign becomes pending.

        JSONPath: Assign reads the error output as ``$``; ResultPath places it
        into the raw input. JSONata: Assign and Output see
        ``$states.errorOutput``; without Output the error output is the output.
        """
        if self.jsonata:
            from ..jsonata_ import bindings

            found = bindings(env, data, error_output=error_output, context=self.uses_context)
            if catcher.assign is not None:
                env.assigned = catcher.assign.values(found, env)
            return catcher.output(found) if catcher.output is not None else error_output
        if catcher.assign is not None:
            env.assigned = catcher.assign.values(error_output, env)
        return catcher.result_path.apply(data, error_output)


class ForkingState(State):
    """A state whose work is done by branches or iterations: Parallel and Map."""

    def complete(self, data: Any, results: list, env: Any) -> Outcome:
        """Finish the state with the branches' or iterations' outputs, in order."""
        try:
            check_result_size(results, self.name)
            return self.finish(data, results, env)
        except StatesError as exc:
            return self.on_error(data, exc.name, exc.cause, env)

    def fail_fork(self, data: Any, error: str | None, cause: str | None, env: Any) -> Outcome:
        """Finish the state after a branch failed, or iterations failed beyond what is tolerated."""
        return self.on_error(data, error, cause, env)
