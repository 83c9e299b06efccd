"""Batch launches: one chained execution per matching source execution, at most ``concurrency`` at a time.

``start_batch`` stores a ``Batch`` and snapshots the matching source executions
as ``BatchItem`` rows, in one transaction. ``advance_batch`` (a django-q2 task)
locks the batch row, counts its running items and launches pending ones, in
index order, until ``concurrency`` run. When a launched execution ends, the
transaction that ends it also updates its item and the batch's counters
(``executions_ended``, called by ``runtime.save_steps`` and ``stop_execution``)
and queues ``advance_batch`` again.

Every change of a batch happens under its row lock, so the number of running
items never exceeds ``concurrency``, however many workers run. A worker that
dies between a commit and its queueing loses nothing: the timer loop of
``asl_worker`` calls ``sweep_batches`` every few seconds, which advances
batches with free slots and settles items whose executions ended unseen.
"""
from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import F, Q, QuerySet
from django.utils.module_loading import import_string

from ..exceptions import DjangoAslError
from ..models import Batch, BatchItem, Execution, StateMachine
from ..signals import batch_finished, batch_progress
from . import chaining, runtime
from .executions import _start, _state_machine, list_executions, stop_execution
from .queue import enqueue

ItemStatus = BatchItem.Status
Status = Execution.Status

#: The keys a ``source_filter`` may have: the filters of ``list_executions``, and ``ids``.
SOURCE_FILTER_KEYS = ("state_machine", "status", "started_after", "started_before", "stopped_after",
                      "stopped_before", "name_prefix", "ids")
#: The most execution ids a ``source_filter["ids"]`` may list (they are stored in the batch's row).
MAX_SOURCE_IDS = 10_000
_DATES = ("started_after", "started_before", "stopped_after", "stopped_before")
#: Source executions snapshotted per INSERT.
_CHUNK = 1000
#: How often the timer loop sweeps batches, in seconds.
SWEEP_SECONDS = 2.0
_last_sweep = float("-inf")


class BatchNotRunning(DjangoAslError):
    """The batch has already ended."""


# -- starting ------------------------------------------------------------------------------


def start_batch(target: StateMachine | str, source_filter: dict, *, name_prefix: str, concurrency: int = 10,
                stop_on_error: bool = False, source_state: str | None = None,
                input_transformer: Callable[[Any], Any] | dict | str | None = None) -> Batch:
    """Launch one execution of ``target`` chained from each execution matching ``source_filter``.

    ``source_filter`` takes the filters of ``list_executions``, and ``ids``: a
    list of execution ids that the sources must be among (hand-picked rows).
    The matching executions (top-level only) are snapshotted now, oldest first; item ``i``
    becomes the execution ``f"{name_prefix}-{i}"``, at most ``concurrency``
    running at once. ``input_transformer`` is a payload template (a dict) or a
    module-level callable (or its dotted path), stored by name so that the batch
    survives restarts. The batch starts once the transaction commits.
    """
    machine = _state_machine(target)
    if machine.current_version_id is None:
        raise DjangoAslError(f"The state machine {machine.name!r} has no published definition.")
    stored_filter, filters = _check_filter(source_filter)
    if not isinstance(name_prefix, str) or not 1 <= len(name_prefix) <= 40:
        raise ValueError(f"name_prefix must be a string of 1 to 40 characters, not {name_prefix!r}.")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive integer, not {concurrency!r}.")
    if not isinstance(stop_on_error, bool):
        raise TypeError(f"stop_on_error must be True or False, not {stop_on_error!r}.")
    if source_state is not None and (not isinstance(source_state, str) or not 1 <= len(source_state) <= 80):
        raise ValueError(f"source_state must be a state name of 1 to 80 characters, not {source_state!r}.")
    stored_transformer = _stored_transformer(input_transformer)
    now = runtime.CLOCK.now()
    with transaction.atomic():
        if Batch.objects.filter(state_machine=machine, name_prefix=name_prefix).exists():
            raise ValueError(f"A batch of {machine.name!r} with name_prefix {name_prefix!r} already exists, so its "
                             f"execution names are taken; choose another name_prefix.")
        batch = Batch.objects.create(
            state_machine=machine, name_prefix=name_prefix, source_filter=stored_filter,
            source_state=source_state or "", input_transformer=stored_transformer, concurrency=concurrency,
            stop_on_error=stop_on_error, created_at=now)
        sources = (_matching(filters).order_by("start_date", "pk")
                   .values_list("pk", flat=True).iterator(chunk_size=_CHUNK))
        total, chunk = 0, []
        for source_id in sources:
            chunk.append(BatchItem(batch=batch, index=total, source_id=source_id))
            total += 1
            if len(chunk) == _CHUNK:
                BatchItem.objects.bulk_create(chunk)
                chunk = []
        if chunk:
            BatchItem.objects.bulk_create(chunk)
        batch.total = batch.pending = total
        if total == 0:  # nothing to launch: the batch is done
            batch.status, batch.stopped_at = Batch.Status.SUCCEEDED, now
        batch.save(update_fields=["total", "pending", "status", "stopped_at"])
        if total:
            enqueue("django_asl.engine.batches.advance_batch", str(batch.pk))
        _announce(batch, finished=total == 0)
    return batch


def _check_filter(source_filter: Any) -> tuple[dict, dict]:
    """Return the filter as stored (JSON) and as keyword arguments of ``list_executions`` (plus ``ids``).

    Every problem is collected, then raised in one ``ValueError``.
    """
    if not isinstance(source_filter, dict):
        raise TypeError(f"source_filter must be a dict of list_executions() filters, not "
                        f"{type(source_filter).__name__}.")
    problems = []
    unknown = sorted(str(key) for key in source_filter if key not in SOURCE_FILTER_KEYS)
    if unknown:
        problems.append(f"source_filter has unknown keys {', '.join(map(repr, unknown))}; "
                        f"the keys are {', '.join(SOURCE_FILTER_KEYS)}.")
    stored, filters = {}, {}
    for key, value in source_filter.items():
        if key not in SOURCE_FILTER_KEYS or value is None:
            continue
        if key in _DATES:
            if not isinstance(value, datetime) or value.tzinfo is None:
                problems.append(f"source_filter[{key!r}] must be an aware datetime, not {value!r}.")
                continue
            stored[key] = value.isoformat()
        elif key == "state_machine":
            if not isinstance(value, (str, StateMachine)):
                problems.append(f"source_filter['state_machine'] must be a state machine or its name, not {value!r}.")
                continue
            stored[key] = value.name if isinstance(value, StateMachine) else value
        elif key == "status":
            if value not in Status.values:
                problems.append(f"source_filter['status'] must be one of {', '.join(Status.values)}, not {value!r}.")
                continue
            stored[key] = value
        elif key == "name_prefix":
            if not isinstance(value, str):
                problems.append(f"source_filter['name_prefix'] must be a string, not {value!r}.")
                continue
            stored[key] = value
        elif key == "ids":
            ids, problem = _check_ids(value)
            if problem:
                problems.append(problem)
                continue
            stored[key] = [str(pk) for pk in ids]
            value = ids
        filters[key] = value
    if problems:
        raise ValueError(" ".join(problems))
    if "state_machine" in filters:
        filters["state_machine"] = _state_machine(filters["state_machine"])  # StateMachineDoesNotExist
    return stored, filters


def _check_ids(value: Any) -> tuple[list[uuid.UUID], str | None]:
    """Return ``source_filter["ids"]`` as UUIDs in their first order, without repeats, or the problem with it."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        return [], f"source_filter['ids'] must be a list of execution ids, not {value!r}."
    if not 1 <= len(value) <= MAX_SOURCE_IDS:
        return [], (f"source_filter['ids'] must list 1 to {MAX_SOURCE_IDS:,} execution ids, "
                    f"not {len(value):,}; launch a larger batch from a filter.")
    ids, bad = {}, []
    for pk in value:
        try:
            ids.setdefault(pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk)), None)
        except (TypeError, ValueError, AttributeError):
            bad.append(pk)
    if bad:
        shown = ", ".join(map(repr, bad[:5])) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        return [], f"source_filter['ids'] must hold execution ids (UUIDs); these are not: {shown}."
    return list(ids), None


def _matching(filters: dict) -> QuerySet:
    """Return the executions that the checked ``filters`` of ``_check_filter`` match."""
    filters = dict(filters)
    ids = filters.pop("ids", None)
    queryset = list_executions(**filters)
    return queryset if ids is None else queryset.filter(pk__in=ids)


def _stored_transformer(input_transformer: Any) -> dict | str | None:
    """Return how a batch stores its input transformer: a template as is, a callable as its dotted path."""
    if input_transformer is None:
        return None
    if isinstance(input_transformer, dict):
        chaining.check_transformer(input_transformer)  # ValueError if the template does not compile
        try:
            json.dumps(input_transformer)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"The input_transformer template must be JSON: {exc}.") from None
        return input_transformer
    if isinstance(input_transformer, str):
        path = input_transformer
        try:
            found = import_string(path)
        except ImportError as exc:
            raise ValueError(f"The input_transformer {path!r} cannot be imported: {exc}.") from None
        if not callable(found):
            raise TypeError(f"The input_transformer {path!r} is not callable.")
        return path
    if not callable(input_transformer):
        raise TypeError(f"input_transformer must be a callable, its dotted path or a payload template (a dict), "
                        f"not {type(input_transformer).__name__}.")
    module = getattr(input_transformer, "__module__", None)
    qualname = getattr(input_transformer, "__qualname__", None)
    path = f"{module}.{qualname}"
    try:
        found = import_string(path) if module and qualname else None
    except ImportError:
        found = None
    if found is not input_transformer:
        raise ValueError(
            f"The input_transformer {qualname or input_transformer!r} cannot be found again by its dotted path "
            f"{path!r}: a batch stores its transformer by name so that it survives restarts; pass a module-level "
            f"function (not a lambda, a nested function or a method) or a payload template.")
    return path


def _transform_of(batch: Batch) -> Callable[[Any, Execution, str], Any] | None:
    """Return the batch's input transformer, loaded (``ImportError`` if its callable is gone)."""
    stored = batch.input_transformer
    if isinstance(stored, str):
        return chaining.check_transformer(import_string(stored))
    return chaining.check_transformer(stored)


# -- launching -------------------------------------------------------------------------------


def advance_batch(batch_id: Any) -> None:
    """Launch pending items of a running batch until ``concurrency`` run (a django-q2 task).

    The batch row is locked for the whole transaction, so two workers never
    launch for the same batch at once. Does nothing for an ended batch.
    """
    with transaction.atomic():
        batch = (Batch.objects.select_for_update(of=("self",)).select_related("state_machine")
                 .filter(pk=batch_id, status=Batch.Status.RUNNING).first())
        if batch is not None and _launch(batch):
            _settle(batch, was_running=True)


def _launch(batch: Batch) -> bool:
    """Launch pending items of the locked ``batch`` into its free slots; return whether anything changed.

    An item whose input cannot be made (the source has no output, the state
    never exited, the transformer fails) or whose execution cannot start is
    FAILED with the reason, and takes no slot.
    """
    slots = batch.concurrency - batch.items.filter(status=ItemStatus.RUNNING).count()
    if slots <= 0 or batch.pending <= 0:
        return False
    try:
        transform, transform_error = _transform_of(batch), None
    except Exception as exc:  # noqa: BLE001 - its callable is gone: every item fails with this, recorded
        transform, transform_error = None, exc
    stop = False
    while slots > 0 and not stop:
        items = list(batch.items.filter(status=ItemStatus.PENDING).select_related("source__state_machine")
                     .defer("source__cursor", "source__state_input").order_by("index")[:slots])
        if not items:
            break
        done = []
        for item in items:
            done.append(item)
            batch.pending -= 1
            try:
                if transform_error is not None:
                    raise transform_error
                item.execution = _launch_item(batch, item, transform)
            except DatabaseError:
                raise
            except Exception as exc:  # noqa: BLE001 - this item cannot start: record why, go on with the next
                item.status, item.error = ItemStatus.FAILED, _describe_error(exc)
                batch.failed += 1
                if batch.stop_on_error:
                    stop = True
                    break
            else:
                item.status = ItemStatus.RUNNING
                batch.running += 1
                slots -= 1
        BatchItem.objects.bulk_update(done, ["status", "execution", "error"])
    if stop:
        _stop(batch, Batch.Status.FAILED)
    return True


def _launch_item(batch: Batch, item: BatchItem, transform: Any) -> Execution:
    """Start the execution of one item; raise when it cannot start."""
    if item.source is None:
        raise chaining.SourceExecutionDoesNotExist("The source execution was deleted after the batch started.")
    data = chaining.chained_input(item.source, batch.source_state or None, transform)
    name = f"{batch.name_prefix}-{item.index}"
    execution, created = _start(batch.state_machine, data, name=name, source=item.source,
                                source_state=batch.source_state, source_link=chaining.BATCH)
    if not created:
        raise DjangoAslError(f"An execution named {name!r} of {batch.state_machine.name!r} already exists.")
    return execution


def _describe_error(exc: Exception) -> str:
    return str(exc) if isinstance(exc, DjangoAslError) else f"{type(exc).__name__}: {exc}"


def _stop(batch: Batch, status: str) -> None:
    """End the locked batch with ``status``: no more launches, pending items CANCELLED."""
    batch.status, batch.stopped_at = status, runtime.CLOCK.now()
    batch.items.filter(status=ItemStatus.PENDING).update(status=ItemStatus.CANCELLED)
    batch.pending = 0


def _settle(batch: Batch, *, was_running: bool) -> None:
    """Save the locked batch's counters, ending it when every item has ended; signal after commit."""
    if batch.status == Batch.Status.RUNNING and batch.pending == 0 and batch.running == 0:
        batch.status = Batch.Status.FAILED if batch.failed else Batch.Status.SUCCEEDED
        batch.stopped_at = runtime.CLOCK.now()
    batch.save(update_fields=["status", "pending", "running", "succeeded", "failed", "stopped_at"])
    _announce(batch, finished=was_running and batch.status != Batch.Status.RUNNING)


def executions_ended(executions: list[Execution]) -> None:
    """Record the end of batch executions in their items and batches (inside the ending transaction).

    Called by ``runtime.save_steps`` and ``stop_execution`` for executions
    whose ``source_link`` is ``"batch"``. Queues ``advance_batch`` for batches
    that can launch more.
    """
    rows = list(BatchItem.objects.filter(execution_id__in=[execution.pk for execution in executions],
                                         status=ItemStatus.RUNNING).values_list("batch_id", "pk", "execution_id"))
    status_of = {execution.pk: (execution.status, execution.error, execution.cause) for execution in executions}
    by_batch: dict[Any, list[tuple]] = {}
    for batch_id, item_id, execution_id in rows:
        by_batch.setdefault(batch_id, []).append((item_id, *status_of[execution_id]))
    _record_ends(by_batch)


def _record_ends(by_batch: dict[Any, list[tuple]]) -> None:
    """Mark ended items (``(item id, status, error, cause)`` per batch id) and update their batches.

    Batches are locked in id order, so that two transactions ending executions
    of the same batches never wait for each other in a circle. An item counts
    once: only a RUNNING item is changed.
    """
    for batch_id in sorted(by_batch, key=str):
        batch = Batch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None:
            continue
        was_running, ended = batch.status == Batch.Status.RUNNING, 0
        for item_id, status, error, cause in by_batch[batch_id]:
            succeeded = status == Status.SUCCEEDED
            changed = BatchItem.objects.filter(pk=item_id, status=ItemStatus.RUNNING).update(
                status=ItemStatus.SUCCEEDED if succeeded else ItemStatus.FAILED,
                error=None if succeeded else _ended_error(status, error, cause))
            if not changed:
                continue
            ended += 1
            batch.running -= 1
            if succeeded:
                batch.succeeded += 1
            else:
                batch.failed += 1
                if batch.stop_on_error and batch.status == Batch.Status.RUNNING:
                    _stop(batch, Batch.Status.FAILED)
        if not ended:  # another transaction recorded these ends first
            continue
        _settle(batch, was_running=was_running)
        if batch.status == Batch.Status.RUNNING and batch.pending:
            enqueue("django_asl.engine.batches.advance_batch", str(batch.pk))


def execution_redriven(execution: Execution) -> None:
    """Reopen the batch item of a redriven batch execution (inside the redrive's transaction).

    Called by ``redrive_execution`` for an execution whose ``source_link`` is
    ``"batch"``. Its FAILED item goes back to RUNNING and the batch's counts
    follow (one failure less, one running more); a batch that had ended
    SUCCEEDED or FAILED is RUNNING again until the execution ends again,
    when ``executions_ended`` records the new end. A CANCELLED batch stays
    cancelled (it launches nothing more) but counts the new end. A redrive
    is an operator's decision: the batch's concurrency does not hold it back.
    """
    found = (BatchItem.objects.filter(execution_id=execution.pk, status=ItemStatus.FAILED)
             .values_list("batch_id", "pk").first())
    if found is None:
        return
    batch = Batch.objects.select_for_update().filter(pk=found[0]).first()
    if batch is None or not BatchItem.objects.filter(pk=found[1], status=ItemStatus.FAILED).update(
            status=ItemStatus.RUNNING, error=None):
        return
    was_running = batch.status == Batch.Status.RUNNING
    batch.failed -= 1
    batch.running += 1
    if batch.status in (Batch.Status.SUCCEEDED, Batch.Status.FAILED):
        batch.status, batch.stopped_at = Batch.Status.RUNNING, None
    _settle(batch, was_running=was_running)


def _ended_error(status: str, error: str | None, cause: str | None) -> str:
    """Return an item's error text: how its execution ended, e.g. 'TIMED_OUT: States.Timeout'."""
    text = status if not error else f"{status}: {error}"
    return f"{text}: {cause}" if cause else text


# -- cancelling, describing, listing ---------------------------------------------------------


def _batch_id(batch: Batch | Any) -> Any:
    return batch.pk if isinstance(batch, Batch) else batch


def cancel_batch(batch: Batch | Any, *, stop_running: bool = False) -> Batch:
    """Cancel a running batch: nothing more is launched and its pending items are CANCELLED.

    Executions already running go on to their end unless ``stop_running`` is
    true: then each is stopped (ABORTED) in a transaction of its own, after the
    batch's. Raise ``BatchNotRunning`` if the batch has ended.
    """
    batch_id = _batch_id(batch)
    with transaction.atomic():
        batch = Batch.objects.select_for_update(of=("self",)).select_related("state_machine").get(pk=batch_id)
        if batch.status != Batch.Status.RUNNING:
            raise BatchNotRunning(f"The batch {batch.name_prefix!r} ({batch.pk}) has already ended ({batch.status}).")
        _stop(batch, Batch.Status.CANCELLED)
        batch.save(update_fields=["status", "pending", "stopped_at"])
        _announce(batch, finished=True)
        running = list(batch.items.filter(status=ItemStatus.RUNNING, execution__isnull=False)
                       .values_list("execution_id", flat=True))
    if stop_running:
        # Stopped one by one, each after the batch's lock is released: the ending transaction
        # locks an execution, then its batch, like every other one (no lock-order inversion).
        for execution_id in running:
            try:
                stop_execution(execution_id, error="BatchCancelled", cause=f"The batch {batch.name_prefix!r} "
                               f"({batch.pk}) was cancelled.")
            except DjangoAslError:  # it ended meanwhile (ExecutionNotRunning)
                continue
        batch.refresh_from_db()
    return batch


def describe_batch(batch: Batch | Any) -> dict:
    """Return a batch, read afresh (its counts change as it runs), as a JSON-able dict."""
    batch = Batch.objects.select_related("state_machine").get(pk=_batch_id(batch))
    ended = batch.pending + batch.running + batch.succeeded + batch.failed
    return {
        "batch_id": str(batch.pk), "state_machine": batch.state_machine.name, "name_prefix": batch.name_prefix,
        "status": str(batch.status), "total": batch.total, "pending": batch.pending, "running": batch.running,
        "succeeded": batch.succeeded, "failed": batch.failed, "cancelled": batch.total - ended,
        "concurrency": batch.concurrency, "stop_on_error": batch.stop_on_error,
        "source_filter": batch.source_filter, "source_state": batch.source_state or None,
        "input_transformer": batch.input_transformer,
        "created_at": batch.created_at.isoformat(),
        "stopped_at": batch.stopped_at.isoformat() if batch.stopped_at else None,
    }


def list_batches(*, state_machine: StateMachine | str | None = None, status: str | None = None) -> QuerySet:
    """Return batches, newest first, of one target state machine and/or in one status."""
    queryset = Batch.objects.select_related("state_machine")
    if state_machine is not None:
        queryset = queryset.filter(state_machine=_state_machine(state_machine))
    if status is not None:
        if status not in Batch.Status.values:
            raise ValueError(f"status must be one of {', '.join(Batch.Status.values)}, not {status!r}.")
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at")


# -- the safety net ---------------------------------------------------------------------------


def sweep_batches() -> int:
    """Advance running batches that have pending items and free slots; settle items that ended unseen.

    Nothing here is needed while workers live: it catches up after a worker
    died between a commit and the queueing that followed it, and after an
    execution ended by a path that did not update its item (a purge, say).
    Return how many batches it advanced or settled.
    """
    rows = list(Batch.objects.filter(
        Q(status=Batch.Status.RUNNING, pending__gt=0, running__lt=F("concurrency")) | Q(running__gt=0))
        .values_list("pk", "status", "pending", "running", "concurrency"))
    with_running = [pk for pk, _status, _pending, running, _concurrency in rows if running > 0]
    stale: dict[Any, list[tuple]] = {}
    if with_running:
        for batch_id, item_id, status, error, cause in (
                BatchItem.objects.filter(batch_id__in=with_running, status=ItemStatus.RUNNING)
                .exclude(execution__status=Status.RUNNING)
                .values_list("batch_id", "pk", "execution__status", "execution__error", "execution__cause")):
            if status is None:  # the execution was deleted
                status, error, cause = Status.ABORTED, "ExecutionDeleted", "The execution was deleted."
            stale.setdefault(batch_id, []).append((item_id, status, error, cause))
    if stale:
        with transaction.atomic():
            _record_ends(stale)
    # A settled batch may have free slots now: advance_batch re-reads every batch under its lock.
    due = [pk for pk, status, pending, running, concurrency in rows
           if status == Batch.Status.RUNNING and pending > 0 and (running < concurrency or pk in stale)]
    for batch_id in due:
        advance_batch(batch_id)
    return len(set(due) | set(stale))


def sweep_batches_if_due() -> int:
    """Call ``sweep_batches`` if ``SWEEP_SECONDS`` have passed since this process last did; return its count."""
    global _last_sweep
    now = time.monotonic()
    if now - _last_sweep < SWEEP_SECONDS:
        return 0
    _last_sweep = now
    return sweep_batches()


# -- signals ---------------------------------------------------------------------------------


def _announce(batch: Batch, *, finished: bool) -> None:
    """Send ``batch_progress`` (and ``batch_finished``) once the transaction commits."""
    if not (batch_progress.has_listeners() or (finished and batch_finished.has_listeners())):
        return
    snapshot = copy.copy(batch)  # the batch as this transaction left it

    def send() -> None:
        batch_progress.send(sender=Batch, batch=snapshot)
        if finished:
            batch_finished.send(sender=Batch, batch=snapshot)

    transaction.on_commit(send)
