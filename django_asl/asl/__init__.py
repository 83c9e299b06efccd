"""The Amazon States Language, in pure Python: validate definitions and run them.

    >>> issues = validate(definition)            # list[Issue]
    >>> result = run(definition, {"x": 1}, tasks={"urn:app:charge": charge})
    >>> result.status, result.output, result.error, result.cause, result.history
    >>> test_state(definition, "Charge", {"x": 1}, mock_result={"paid": True})   # one state, as AWS TestState

Nothing here imports Django.
"""
from .context import Context, Env, SystemClock, VirtualClock
from .definition import StateMachine, parse_definition
from .errors import AslError, DefinitionError, ErrorName, Issue, StatesError, TaskError
from .graph import definition_graph
from .runner import Result, TaskContext, run
from .teststate import test_state
from .validation import validate


__all__ = [
    "AslError", "Context", "DefinitionError", "Env", "ErrorName", "Issue", "Result", "StateMachine",
    "StatesError", "SystemClock", "TaskContext", "TaskError", "VirtualClock", "definition_graph", "parse_definition", "run",
    "test_state", "validate",
]
