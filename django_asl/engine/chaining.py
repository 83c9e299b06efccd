"""Chained executions and re-runs: a new execution whose input comes from an earlier one.

``start_execution(target, source_execution=..., source_state=..., input_transformer=...)``
takes its input from a source execution: its final output, or the output of one
of its states read back from history, optionally reshaped by a Python callable
or a payload template. ``rerun_execution`` starts the same state machine again
with the same input. Both store the link (``Execution.source_execution``,
``source_state``, ``source_link``), which can be followed both ways:
``execution.source_execution`` and ``execution.chained_executions``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError

from ..asl import AslError, Context, Env
from ..asl.templates import compile_template
from ..exceptions import DjangoAslError
from ..models import Execution, HistoryEvent
from . import runtime

Status = Execution.Status

#: How a new execution is linked to its source (``Execution.source_link``).
CHAINED, RERUN, BATCH = "chained", "rerun", "batch"


class SourceExecutionDoesNotExist(DjangoAslError):
    """The source execution does not exist."""


class SourceOutputUnavailable(DjangoAslError):
    """The source execution has no output to chain from."""


#: What an input transformer may be: a callable, or a payload template (a dict).
InputTransformer = Callable[[Any], Any] | dict


def source_for(source_execution: Execution | Any) -> Execution:
    """Return the source execution (given as an Execution or its id), read afresh from the database."""
    source_id = source_execution.pk if isinstance(source_execution, Execution) else source_execution
    try:
        return Execution.objects.select_related("state_machine").get(pk=source_id)
    except (Execution.DoesNotExist, ValidationError):  # ValidationError: the id is not a UUID
        raise SourceExecutionDoesNotExist(f"There is no execution with id {str(source_id)!r} to chain from.") from None


def source_value(source: Execution, source_state: str | None = None) -> Any:
    """Return what a chained execution starts from: the source's output, or one state's output.

    Without ``source_state`` the source must have SUCCEEDED. With it, the value
    is the ``output`` of the last ``<Type>StateExited`` event of that state in
    the source's own history (not inside its Parallel branches or Map
    iterations); the source may still be running, or may have failed later.
    """
    if not source_state:
        if source.status != Status.SUCCEEDED:
            raise SourceOutputUnavailable(
                f"The source execution {source.name!r} ({source.pk}) is {source.status}, not SUCCEEDED, so it has "
                f"no output to chain from; pass source_state to chain from the output of one of its states.")
        return source.output
    details = (HistoryEvent.objects.filter(execution=source, state_name=source_state, type__endswith="StateExited")
               .order_by("-sequence").values_list("details", flat=True).first())
    if details is None:
        raise SourceOutputUnavailable(
            f"The state {source_state!r} of the source execution {source.name!r} ({source.pk}) never exited, "
            f"so it has no output to chain from.")
    return details.get("output")


def check_transformer(input_transformer: Any) -> Callable[[Any, Execution, str], Any] | None:
    """Return a function ``(value, source, source_state) -> input`` for an input transformer, or None.

    A callable is called with the value; a dict is compiled as a payload template.
    Raise ``TypeError`` for anything else and ``ValueError`` for a template that
    does not compile.
    """
    if input_transformer is None:
        return None
    if isinstance(input_transformer, dict):
        try:
            template = compile_template(input_transformer)
        except AslError as exc:
            raise ValueError(f"The input_transformer is not a valid payload template: {exc}") from None

        def apply_template(value: Any, source: Execution, source_state: str) -> Any:
            try:
                return template(value, _template_env(source, source_state))
            except AslError as exc:
                from .executions import InvalidExecutionInput

                raise InvalidExecutionInput(
                    f"The input_transformer template failed on the output of the source execution "
                    f"{source.name!r} ({source.pk}): {exc}") from None

        return apply_template
    if callable(input_transformer):
        return lambda value, source, source_state: input_transformer(value)
    raise TypeError(f"input_transformer must be a callable or a payload template (a dict), "
                    f"not {type(input_transformer).__name__}.")


def _template_env(source: Execution, source_state: str) -> Env:
    """Return what a template's ``$$`` sees: the source execution, its state machine, the source state."""
    machine = source.state_machine.name
    context = Context(
        execution_id=str(source.pk), execution_name=source.name, state_machine_name=machine,
        state_machine_id=f"django-asl:stateMachine:{machine}", start_time=source.start_date,
        redrive_count=source.redrive_count, clock=runtime.CLOCK)
    context.execution_input = source.input
    return Env(context, source_state or "")


def chained_input(source: Execution, source_state: str | None,
                  transform: Callable[[Any, Execution, str], Any] | None) -> Any:
    """Return the input of an execution chained from ``source`` (before its size is checked)."""
    value = source_value(source, source_state)
    return transform(value, source, source_state or "") if transform is not None else value


def rerun_execution(execution: Execution | Any, *, input: Any = ..., name: str | None = None) -> Execution:
    """Start the execution's state machine again, with the same input (or ``input``), linked to it.

    The new execution runs the state machine's *current* version, as a new
    execution started from the AWS console does, and has
    ``source_execution=execution`` and ``source_link="rerun"``. The original
    may be running or ended; it is not changed (that is redrive's job).
    """
    from .executions import _start

    original = source_for(execution)
    if original.parent_id is not None:
        raise ValueError(f"The execution {original.pk} is a branch or iteration of {original.parent_id}; "
                         f"only top-level executions can be re-run.")
    return _start(original.state_machine, original.input if input is ... else input, name=name,
                  source=original, source_link=RERUN)[0]
