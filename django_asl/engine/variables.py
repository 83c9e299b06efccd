"""The workflow variables of a stored execution, for the admin and the API.

Variables (AWS, "Passing data between states with variables") live in the
execution's cursor, next to the state it stands at, so that they survive a
worker restart and a redrive; a branch or iteration starts with the outer
variables as they were when its Parallel or Map state forked.
"""
from __future__ import annotations

from typing import Any

from ..models import Execution


def execution_variables(execution: Execution | Any) -> dict:
    """Return the variables of ``execution`` (an ``Execution``) where it stands, as a dict.

    A running execution shows the variables its current state sees; a failed,
    timed-out or aborted one those of the state it stopped in (a redrive goes
    on with them). A succeeded execution keeps no position, so it has none:
    ``{}``, as for an execution that never assigned one.
    """
    if not isinstance(execution, Execution):
        raise TypeError(f"execution_variables() takes an Execution, not {type(execution).__name__}.")
    cursor = execution.cursor
    if not isinstance(cursor, dict):
        return {}
    variables = cursor.get("variables")
    return dict(variables) if isinstance(variables, dict) else {}
