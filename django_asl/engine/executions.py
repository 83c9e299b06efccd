"""Publishing state machines and starting, stopping, describing and listing executions."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from ..asl import DefinitionError, Issue, validate
from ..asl.definition import parse_definition
from ..asl.states.base import payload_size
from ..conf import asl_settings
from ..exceptions import DjangoAslError
from ..models import Execution, StateMachine, StateMachineVersion, definition_digest
from . import callbacks, runtime
from .history import history_of, store_events
from .machines import machine_for
from .queue import enqueue
from .registry import handlers

Status = Execution.Status


class ExecutionAlreadyExists(DjangoAslError):
    """An execution with this name already exists with a different input."""


class StateMachineDoesNotExist(DjangoAslError):
    """No state machine has this name."""


class InvalidExecutionInput(DjangoAslError):
    """The execution input is not acceptable."""


class ExecutionNotRunning(DjangoAslError):
    """The execution has already ended."""


def validate_definition(definition: Any, *, type: str = StateMachine.Type.STANDARD) -> list[Issue]:
    """Return the issues of a definition, including Task Resources with no registered handler.

    An EXPRESS state machine runs to its end in the caller's process, so, as on
    AWS, it cannot wait for a callback (``.waitForTaskToken``, an activity) or,
    here, a message.
    """
    issues = validate(definition)
    if any(issue.is_error for issue in issues):
        return issues
    known = handlers()
    for path, state in _states(parse_definition(definition).raw, "$"):
        resource = state.get("Resource")
        if type == StateMachine.Type.EXPRESS and (
                state.get("Type") == "Message" or state.get("Type") == "Task" and callbacks.is_callback_resource(resource)):
            waits_for = "a message" if state.get("Type") == "Message" else "a callback"
            issues.append(Issue(
                path, "express_cannot_wait",
                f"'{path}' waits for {waits_for}, which an EXPRESS state machine cannot do: it runs to its end "
                f"in the caller's process. Make the state machine STANDARD.",
            ))
            continue
        if state.get("Type") == "Task" and resource not in known and callbacks.is_callback_resource(resource):
            issues.extend(callbacks.resource_issues(f"{path}.Resource", resource, known))
        elif state.get("Type") == "Task" and resource not in known:
            issues.append(Issue(
                f"{path}.Resource", "unknown_resource",
                f"'{path}.Resource' refers to '{resource}', which is not a registered task resource: "
                f"register a handler with @django_asl.task({resource!r}) or in DJANGO_ASL['TASKS'].",
            ))
    return issues


def _states(machine: dict, path: str):
    """Yield (JSON path, state) for every state of a machine and of its branches and processors."""
    for name, state in machine["States"].items():
        state_path = f"{path}.States.{name}" if name.isidentifier() else f"{path}.States['{name}']"
        yield state_path, state
        for index, branch in enumerate(state.get("Branches", ())):
            yield from _states(branch, f"{state_path}.Branches[{index}]")
        for field in ("ItemProcessor", "Iterator"):
            if field in state:
                yield from _states(state[field], f"{state_path}.{field}")


def publish(name: str, definition: dict, *, type: str = StateMachine.Type.STANDARD,
            description: str | None = None) -> StateMachine:
    """Create or update the state machine ``name``; a changed definition becomes a new version.

    Raise ``DefinitionError`` (with every issue) when the definition is not
    valid or reaches a resource that has no registered handler.
    """
    issues = validate_definition(definition, type=type)
    if any(issue.is_error for issue in issues):
        raise DefinitionError(issues)
    digest = definition_digest(definition)
    with transaction.atomic():
        machine, created = StateMachine.objects.select_for_update().get_or_create(
            name=name, defaults={"type": type, "description": description or ""})
        changed = []
        if not created and machine.type != type:
            machine.type = type
            changed.append("type")
        if description is not None and machine.description != description:
            machine.description = description
            changed.append("description")
        version = machine.versions.filter(digest=digest).first()
        if version is None:
            last = machine.versions.order_by("-number").values_list("number", flat=True).first() or 0
            version = StateMachineVersion.objects.create(
                state_machine=machine, number=last + 1, definition=definition, digest=digest)
        if machine.current_version_id != version.pk:
            machine.current_version = version
            changed.append("current_version")
        if changed:
            machine.save(update_fields=[*changed, "updated_at"])
    return machine


def _state_machine(state_machine: StateMachine | str) -> StateMachine:
    if isinstance(state_machine, StateMachine):
        return state_machine
    try:
        return StateMachine.objects.select_related("current_version").get(name=state_machine)
    except StateMachine.DoesNotExist:
        raise StateMachineDoesNotExist(f"There is no state machine named {state_machine!r}.") from None


def _check_input(value: Any) -> None:
    limit = asl_settings.MAX_PAYLOAD_BYTES
    try:
        size = payload_size(value)
    except (TypeError, ValueError) as exc:
        raise InvalidExecutionInput(f"The execution input must be JSON: {exc}.") from None
    if size > limit:
        raise InvalidExecutionInput(f"The execution input is {size} bytes; the limit is {limit} bytes.")


def start_execution(state_machine: StateMachine | str, input: Any = None, *, name: str | None = None,
                    source_execution: Execution | Any = None, source_state: str | None = None,
                    input_transformer: Any = None) -> Execution:
    """Start an execution of the state machine's current version; it runs once the transaction commits.

    Starting again with the same ``name`` and the same input returns the existing
    execution, as AWS does; with another input it raises ``ExecutionAlreadyExists``.

    With ``source_execution`` (an Execution or its id) the execution is chained:
    its input is the source's output, or with ``source_state`` the output of that
    state of the source, passed through ``input_transformer`` (a callable or a
    payload template) if given; see ``engine/chaining.py``.
    """
    if source_execution is None:
        if source_state is not None or input_transformer is not None:
            raise TypeError("start_execution(): source_state and input_transformer need a source_execution.")
        return _start(state_machine, input, name=name)[0]
    if input is not None:
        raise TypeError("start_execution() takes an input or a source_execution to take it from, not both.")
    from . import chaining

    if source_state is not None and (not isinstance(source_state, str) or not 1 <= len(source_state) <= 80):
        raise ValueError(f"source_state must be a state name of 1 to 80 characters, not {source_state!r}.")
    transform = chaining.check_transformer(input_transformer)
    source = chaining.source_for(source_execution)
    return _start(state_machine, chaining.chained_input(source, source_state, transform), name=name, source=source,
                  source_state=source_state or "", source_link=chaining.CHAINED)[0]


def _start(state_machine: StateMachine | str, input: Any, *, name: str | None, source: Execution | None = None,
           source_state: str = "", source_link: str = "") -> tuple[Execution, bool]:
    """Create an execution (linked to ``source`` if given); return it and whether it is new."""
    machine = _state_machine(state_machine)
    if machine.current_version_id is None:
        raise DjangoAslError(f"The state machine {machine.name!r} has no published definition.")
    input = {} if input is None else input
    _check_input(input)
    if name is not None and (not isinstance(name, str) or not 1 <= len(name) <= 80):
        raise ValueError("An execution name must be a string of 1 to 80 characters.")
    name = name or str(uuid.uuid4())
    now = runtime.CLOCK.now()
    try:
        with transaction.atomic():
            execution = Execution.objects.create(
                state_machine=machine, version_id=machine.current_version_id, name=name, input=input,
                start_date=now, wake_at=now, source_execution=source, source_state=source_state,
                source_link=source_link)
    except IntegrityError:
        existing = Execution.objects.filter(state_machine=machine, name=name, parent=None).first()
        if existing is None:
            raise
        if existing.input != input:
            raise ExecutionAlreadyExists(
                f"An execution named {name!r} of {machine.name!r} already exists with a different input.") from None
        return existing, False
    enqueue("django_asl.engine.runtime.advance_execution", str(execution.pk))
    return execution, True


def start_sync_execution(state_machine: StateMachine | str, input: Any = None, *,
                         name: str | None = None) -> Execution:
    """Run an EXPRESS state machine to its end in this process and return the stored execution.

    The execution record is stored; its per-state history only when
    ``DJANGO_ASL["EXPRESS_HISTORY"]`` is true. Wait states really wait, as on AWS.
    """
    from ..asl import Context, run

    machine = _state_machine(state_machine)
    if machine.type != StateMachine.Type.EXPRESS:
        raise DjangoAslError(f"start_sync_execution() runs EXPRESS state machines; {machine.name!r} is STANDARD.")
    input = {} if input is None else input
    _check_input(input)
    now = runtime.CLOCK.now()
    execution = Execution.objects.create(
        state_machine=machine, version_id=machine.current_version_id, name=name or str(uuid.uuid4()),
        input=input, start_date=now)
    context = Context(execution_id=str(execution.pk), execution_name=execution.name,
                      state_machine_id=f"django-asl:stateMachine:{machine.name}", state_machine_name=machine.name,
                      start_time=now, clock=runtime.CLOCK)
    record = bool(asl_settings.EXPRESS_HISTORY)
    result = run(machine_for(machine.current_version), input, tasks=handlers(), context=context, real_time=True,
                 record_history=record)
    execution.status = result.status
    execution.output, execution.error, execution.cause = result.output, result.error, result.cause
    execution.stop_date = max(runtime.CLOCK.now(), now)
    with transaction.atomic():
        if record:
            store_events(execution, result.history)
        execution.save(update_fields=["status", "output", "error", "cause", "stop_date", "last_event_id"])
    return execution


def stop_execution(execution: Execution | str, *, error: str | None = None, cause: str | None = None) -> Execution:
    """Abort a running execution and its running branches and iterations."""
    execution_id = execution.pk if isinstance(execution, Execution) else execution
    with transaction.atomic():
        execution = Execution.objects.select_for_update().select_related("version", "state_machine").get(
            pk=execution_id)
        if execution.status != Status.RUNNING:
            raise ExecutionNotRunning(f"The execution {execution.pk} has already ended ({execution.status}).")
        step = runtime.Step(execution)
        from ..asl.outcomes import Fail

        step.finish(Fail(error, cause), Status.ABORTED)
        step.execution.save(update_fields=["status", "error", "cause", "cursor", "state_input", "wake_at",
                                           "stop_date", "last_event_id"])
        step.writer.flush()
        runtime.abort_descendants(execution)
        callbacks.close_tokens(execution)  # a late send_task_success gets TaskTimedOut
        if execution.source_link == "batch":
            from .batches import executions_ended

            executions_ended([execution])
    return execution


def describe_execution(execution: Execution | str) -> dict:
    """Return an execution as a JSON-able dict (the shape ``asl_describe`` prints)."""
    if not isinstance(execution, Execution):
        execution = Execution.objects.select_related("state_machine", "version").get(pk=execution)
    described = {
        "execution_id": str(execution.pk), "name": execution.name, "state_machine": execution.state_machine.name,
        "version": execution.version.number, "status": execution.status, "input": execution.input,
        "output": execution.output, "error": execution.error, "cause": execution.cause,
        "start_date": execution.start_date.isoformat(),
        "stop_date": execution.stop_date.isoformat() if execution.stop_date else None,
        "parent": str(execution.parent_id) if execution.parent_id else None,
        "redrive_count": execution.redrive_count,
    }
    # Chaining links, present only when there are some (as AWS omits absent optional fields).
    if execution.source_link:
        described.update(source_execution_id=str(execution.source_execution_id) if execution.source_execution_id
                         else None, source_state=execution.source_state or None, source_link=execution.source_link)
    if execution.parent_id is None:  # the partial index on source_execution makes this cheap
        chained = execution.chained_executions.order_by("start_date", "pk").values_list("pk", flat=True)
        if chained:
            described["chained_execution_ids"] = [str(pk) for pk in chained]
    return described


def get_execution_history(execution: Execution | str, *, after_sequence: int | None = None,
                          limit: int | None = None) -> list[dict]:
    """Return the history events of an execution, oldest first.

    For paging, ``after_sequence`` keeps only the events whose ``id`` (their
    sequence number) is greater, and ``limit`` returns at most that many; both
    ride the ``(execution, sequence)`` unique index, so every page is as fast.
    """
    if after_sequence is not None and (isinstance(after_sequence, bool) or not isinstance(after_sequence, int)):
        raise TypeError(f"after_sequence must be an integer, not {type(after_sequence).__name__}.")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive integer, not {limit!r}.")
    if not isinstance(execution, Execution):
        execution = Execution.objects.get(pk=execution)
    return history_of(execution, after_sequence=after_sequence, limit=limit)


def list_executions(*, state_machine: StateMachine | str | None = None, status: str | None = None,
                    started_after: datetime | None = None, started_before: datetime | None = None,
                    stopped_after: datetime | None = None, stopped_before: datetime | None = None,
                    name_prefix: str | None = None, include_children: bool = False) -> QuerySet:
    """Return executions matching every given filter, newest first."""
    queryset = Execution.objects.select_related("state_machine")
    if not include_children:
        queryset = queryset.filter(parent=None)
    if state_machine is not None:
        queryset = queryset.filter(state_machine=_state_machine(state_machine))
    if status is not None:
        if status not in Status.values:
            raise ValueError(f"status must be one of {', '.join(Status.values)}, not {status!r}.")
        queryset = queryset.filter(status=status)
    if started_after is not None:
        queryset = queryset.filter(start_date__gte=started_after)
    if started_before is not None:
        queryset = queryset.filter(start_date__lt=started_before)
    if stopped_after is not None:
        queryset = queryset.filter(stop_date__gte=stopped_after)
    if stopped_before is not None:
        queryset = queryset.filter(stop_date__lt=stopped_before)
    if name_prefix:
        queryset = queryset.filter(name__startswith=name_prefix)
    return queryset.order_by("-start_date")


def count_executions(**filters: Any) -> int:
    """Return how many executions match the filters of ``list_executions``."""
    return list_executions(**filters).count()
