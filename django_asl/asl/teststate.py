"""TestState: run one state of a definition in isolation, as AWS's TestState API does.

    >>> test_state(definition, "Charge", {"amount": 5}, mock_result={"paid": True})
    {"status": "SUCCEEDED", "nextState": "Ship", "output": {...}}

The response has AWS's field names (``output``, ``nextState``, ``status``,
``error``, ``cause``, ``inspectionData``). AWS returns ``output`` and the
inspection values as JSON *text*; here they are the decoded JSON values.

Status, as on AWS: ``SUCCEEDED`` (the state ran and names its next state, or
ends), ``FAILED`` (an error nothing handled, or a Fail state),
``RETRIABLE`` (the error matches a Retrier: the state would run again) and
``CAUGHT_ERROR`` (a Catcher took the error: ``nextState`` is its Next and
``output`` its output).

Inspection levels: ``INFO`` gives the fields above; ``DEBUG`` and ``TRACE``
add ``inspectionData``: ``input``, then ``afterInputPath``,
``afterParameters`` (JSONPath) or ``afterArguments`` (JSONata), ``result``,
``afterResultSelector``, ``afterResultPath`` (JSONPath), and ``variables``
(as they are after the state). TRACE is DEBUG here: there is no HTTP request
to show.

A Task (or a Message state) does not call anything unless ``tasks`` maps its
resource to a handler: ``mock_result`` is taken as its result, and
``mock_error`` (``{"error": ..., "cause": ...}`` or an error name) as its
failure. A Wait state does not wait. Parallel and Map states run their
branches or iterations in memory (with ``tasks``), unless ``mock_result``
gives their result.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Mapping

from .context import Context, Env
from .definition import StateMachine
from .errors import DefinitionError, StatesError
from .outcomes import AwaitMessage, Fail, ForkBranches, ForkItems, InvokeTask, Next, Retry, Succeed, Wait
from .variables import merged

INSPECTION_LEVELS = ("INFO", "DEBUG", "TRACE")
_ABSENT = object()


def _single_state_definition(state: dict, name: str) -> dict:
    """Wrap one state's definition into a machine, with a Succeed stand-in for each state it names."""
    targets = {state.get("Next"), state.get("Default")}
    targets.update(rule.get("Next") for rule in state.get("Choices", ()) if isinstance(rule, dict))
    targets.update(catcher.get("Next") for catcher in state.get("Catch", ()) if isinstance(catcher, dict))
    states = {target: {"Type": "Succeed"} for target in targets if isinstance(target, str) and target != name}
    states[name] = state
    return {"StartAt": name, "States": states}


def _find_state(machine: StateMachine, name: str) -> Any:
    for state in machine.walk():
        if state.name == name:
            return state
    names = ", ".join(sorted(state.name for state in machine.walk()))
    raise ValueError(f"The definition has no state named {name!r}; its states are: {names}.")


def _check_arguments(mock_result: Any, mock_error: Any, variables: Any, inspection_level: Any) -> tuple | None:
    if inspection_level not in INSPECTION_LEVELS:
        raise ValueError(f"inspection_level must be one of {', '.join(INSPECTION_LEVELS)}, not {inspection_level!r}.")
    if mock_result is not _ABSENT and mock_error is not None:
        raise ValueError("Give mock_result or mock_error, not both.")
    if variables is not None and not isinstance(variables, Mapping):
        raise TypeError(f"variables must be a mapping of variable names to JSON values, not "
                        f"{type(variables).__name__}.")
    if mock_error is None:
        return None
    if isinstance(mock_error, str):
        return mock_error, None
    if isinstance(mock_error, Mapping) and isinstance(mock_error.get("error"), str) and \
            isinstance(mock_error.get("cause"), (str, type(None))):
        return mock_error["error"], mock_error.get("cause")
    raise TypeError("mock_error must be an error name or {'error': str, 'cause': str | None}, not "
                    f"{mock_error!r}.")


def test_state(
    definition: Any,
    state_name: str | None,
    input: Any = None,
    *,
    mock_result: Any = _ABSENT,
    mock_error: Any = None,
    variables: Mapping[str, Any] | None = None,
    inspection_level: str = "INFO",
    tasks: Mapping[str, Callable] | None = None,
    context: Context | None = None,
) -> dict:
    """Run the state ``state_name`` of ``definition`` once on ``input`` and return AWS's TestState response.

    ``definition`` is a whole state machine (dict, JSON or YAML text; the state
    may be inside a branch or an item processor) or one state's definition
    (a dict with ``Type``; ``state_name`` then only names it). ``variables``
    are the variables the state sees. Raise ``DefinitionError`` for an invalid
    definition, ``ValueError``/``TypeError`` for bad arguments.

    Handles: every state type; errors caught, retried or not handled; mocks
    (``mock_result=None`` is a null result, unlike leaving it out).
    """
    mocked_error = _check_arguments(mock_result, mock_error, variables, inspection_level)
    from .definition import text_format
    from .loading import load_text
    from .validation import load_definition

    if isinstance(definition, (str, bytes, bytearray)):
        definition, issues = load_text(definition, text_format(definition))
        if issues:
            raise DefinitionError(issues)
    if isinstance(definition, Mapping) and "Type" in definition and "States" not in definition:
        name = state_name or "State"
        definition = _single_state_definition(dict(definition), name)
    snapshot = load_definition(definition)
    # A machine of its own (not the shared cache): nothing here changes a machine other runs use.
    machine = StateMachine(snapshot)
    if state_name is None:
        state_name = machine.start_at
    state = _find_state(machine, state_name)
    if input is None:
        input = {}
    context = context or Context()
    context.execution_input = input
    return _Probe(state, context, dict(variables or {}), tasks or {}, inspection_level != "INFO").run(
        input, mock_result, mocked_error)


class _Probe:
    """Runs one state and gathers what TestState reports about it."""

    def __init__(self, state: Any, context: Context, variables: dict, tasks: Mapping[str, Callable],
                 inspect: bool) -> None:
        self.state = state
        self.context = context
        self.variables = variables
        self.tasks = tasks
        self.inspect = inspect
        self.caught: tuple | None = None
        self.result: Any = _ABSENT
        original = state.on_error

        def on_error(data: Any, error: str | None, cause: str | None, env: Any, **kwargs: Any) -> Any:
            outcome = original(data, error, cause, env, **kwargs)
            self.caught = (outcome, error, cause)
            return outcome

        state.on_error = on_error  # this machine is private to the call (see test_state)

    def run(self, data: Any, mock_result: Any, mocked_error: tuple | None) -> dict:
        state, context = self.state, self.context
        env = Env(context, state.name, entered_time=context.now(), entered_event_id=2, variables=self.variables)
        outcome = state.step(data, env)
        kind = type(outcome)
        if kind is InvokeTask or kind is AwaitMessage:
            outcome = self.call(data, outcome, env, mock_result, mocked_error)
        elif kind is ForkBranches or kind is ForkItems:
            outcome = self.fork(data, outcome, env, mock_result)
        elif kind is Wait:
            outcome = outcome.then
        elif mock_result is not _ABSENT and state.type in ("Pass", "Choice", "Succeed", "Fail", "Wait"):
            raise ValueError(f"A {state.type} state has no result to mock: leave out mock_result.")
        return self.response(data, outcome, env)

    def call(self, data: Any, call: Any, env: Env, mock_result: Any, mocked_error: tuple | None) -> Any:
        state = self.state
        if mocked_error is not None:
            return state.fail_task(data, *mocked_error, env) if hasattr(state, "fail_task") else \
                state.on_error(data, *mocked_error, env)
        if mock_result is not _ABSENT:
            self.result = mock_result
            return state.complete(data, mock_result, env)
        handler = self.tasks.get(call.resource) if type(call) is InvokeTask else None
        if handler is None:
            raise ValueError(f"The {state.type} state {state.name!r} needs mock_result or mock_error"
                             + (f", or a handler for {call.resource!r} in tasks." if type(call) is InvokeTask
                                else "."))
        from .runner import TaskContext, call_handler

        try:
            result = call_handler(handler, call, TaskContext(env, call.resource, 0))
        except StatesError as exc:
            return state.fail_task(data, exc.name, exc.cause, env)
        except Exception as exc:  # the handler's own error, named after its class as in run()
            return state.fail_task(data, type(exc).__name__, str(exc), env)
        self.result = result
        return state.complete(data, result, env)

    def fork(self, data: Any, fork: Any, env: Env, mock_result: Any) -> Any:
        state = self.state
        if mock_result is not _ABSENT:
            self.result = mock_result
            return state.complete(data, mock_result, env)
        from .driver import ForkTally
        from .runner import _Runner

        runner = _Runner(self.context, self.tasks, False, False, 1_000_000, None)
        tally = runner.run_children(state, fork)
        if tally.failure is not None:
            return state.fail_fork(data, tally.failure.error, tally.failure.cause, env)
        self.result = tally.results()
        return state.complete(data, self.result, env)

    def response(self, data: Any, outcome: Any, env: Env) -> dict:
        kind = type(outcome)
        caught = self.caught
        response: dict[str, Any] = {}
        if kind is Retry:
            response.update(status="RETRIABLE", error=outcome.error, cause=outcome.cause)
        elif kind is Fail:
            response.update(status="FAILED", error=outcome.error, cause=outcome.cause)
        elif caught is not None and caught[0] is outcome:
            response.update(status="CAUGHT_ERROR", error=caught[1], cause=caught[2], output=outcome.output,
                            nextState=outcome.state)
        else:
            response.update(status="SUCCEEDED", output=outcome.output)
            if kind is Next:
                response["nextState"] = outcome.state
        if response.get("cause") is None:
            response.pop("cause", None)
        if response.get("error") is None:
            response.pop("error", None)
        after = merged(self.variables, env.assigned) if kind in (Next, Succeed) else self.variables
        if self.inspect:
            response["inspectionData"] = self.inspection(data, env, after)
        return response

    def inspection(self, data: Any, env: Env, variables: dict) -> dict:
        """Return the values between the steps of the state's input and output processing."""
        state = self.state
        found: dict[str, Any] = {"input": data}
        steps: list[tuple[str, Callable[[], Any]]] = []
        quiet = Env(self.context, state.name, entered_time=env.entered_time, entered_event_id=2,
                    variables=self.variables)
        if state.jsonata:
            if state.arguments is not None:
                steps.append(("afterArguments", lambda: state.effective_input(data, quiet)))
        else:
            steps.append(("afterInputPath", lambda: state.input_path.apply(data, quiet)))
            if state.parameters is not None:
                steps.append(("afterParameters", lambda: state.parameters(found["afterInputPath"], quiet)))
        for key, step in steps:
            try:
                found[key] = step()
            except StatesError:
                break
        result = self.result
        if result is _ABSENT and state.type == "Pass" and not state.jsonata:
            result = state.result if state.has_result else found.get("afterParameters", found.get(
                "afterInputPath", data))
        if result is not _ABSENT:
            found["result"] = result
            if not state.jsonata:
                try:
                    selected = state.result_selector(result, quiet) if state.result_selector is not None \
                        else result
                    if state.result_selector is not None:
                        found["afterResultSelector"] = selected
                    found["afterResultPath"] = state.result_path.apply(data, selected)
                except StatesError:
                    pass
        found["variables"] = variables
        return found


def response_as_aws_json(response: dict) -> dict:
    """Return a ``test_state`` response the way AWS sends it: ``output`` and inspection values as JSON text."""
    aws = dict(response)
    if "output" in aws:
        aws["output"] = _text(aws["output"])
    if "inspectionData" in aws:
        aws["inspectionData"] = {key: _text(value) for key, value in aws["inspectionData"].items()}
    return aws


def _text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


__all__ = ["INSPECTION_LEVELS", "response_as_aws_json", "test_state"]
# ``test_state`` is not a test: keep pytest from collecting it where it is imported into a test module.
test_state.__test__ = False  # type: ignore[attr-defined]
