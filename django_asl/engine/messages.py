"""Messages for Message states: ``send_message``, subscriptions, kept messages, correlation locks.

A Message state (a django-asl extension to ASL, ``asl/states/message.py``)
waits for a message with its *correlation*: a key (the state's
CorrelationKey) and a JSON value (read from its input). Two tables hold what
is waiting on either side, both looked up by the SHA-256 of the correlation
(``correlation_digest``):

* ``MessageSubscription``: an execution waiting in a Message state; inserted by
  the step that reaches the state, deleted by the step that leaves it (the
  message came, the wait timed out, the execution timed out);
* ``Message``: a message that arrived while no execution waited for it; kept
  until ``expires_at`` (``DJANGO_ASL["MESSAGE_TTL_SECONDS"]``, a day by
  default) and delivered to the first execution that reaches a Message state
  with its correlation.

Exactly once. The step that reaches a Message state and ``send_message`` both
look at the other side's table and then write their own, so each must see
what the other committed. On PostgreSQL both first take a transaction-level
advisory lock on the correlation (``pg_advisory_xact_lock``): whichever comes
second sees the first one's row. On SQLite the database admits one writer at
a time, which serialises them as well (SQLite is for development and tests:
one process).

``send_message`` never waits for an execution's row lock while it holds the
correlation lock (a step holding that row lock may be waiting for the same
correlation): it skips locked rows, rolls back and tries again a moment later.
A step locks the correlations it needs in one order. The one lock cycle left
(a resumed branch that ends locks its parent, which a worker may hold while it
waits for the same correlation) is broken by PostgreSQL's deadlock detection:
``send_message`` then tries again, and a worker's step is taken again later,
as after any failed step. Called inside a transaction of the caller's,
``send_message`` cannot roll back and try again: it waits for the row locks
instead, and a broken deadlock reaches the caller as ``OperationalError``.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import OperationalError, connection, transaction

from ..asl.driver import MESSAGE
from ..asl.outcomes import AwaitMessage
from ..asl.states.base import payload_size
from ..asl.states.message import MAX_CORRELATION_KEY_LENGTH, correlation_digest
from ..conf import asl_settings
from ..exceptions import DjangoAslError
from ..models import Execution, Message, MessageSubscription
from . import runtime

Status = Execution.Status

#: How many times ``send_message`` tries before it waits for busy executions' row locks.
ATTEMPTS = 50
#: Longest pause between two tries, in seconds.
MAX_PAUSE = 0.1


class InvalidMessage(DjangoAslError, ValueError):
    """The message is not acceptable: its correlation key, correlation value or data."""


@dataclass(frozen=True)
class SentMessage:
    """What ``send_message`` did: the executions it resumed, or the message it kept for later.

    ``delivered_to`` holds the ids of the executions resumed (empty when none
    was waiting); ``kept_message_id`` the id of the ``Message`` row kept for an
    execution yet to arrive (None when it was delivered, or when
    ``MESSAGE_TTL_SECONDS`` is 0 and it was dropped).
    """

    delivered_to: tuple = ()
    kept_message_id: int | None = None

    @property
    def delivered(self) -> bool:
        return bool(self.delivered_to)

    @property
    def kept(self) -> bool:
        return self.kept_message_id is not None


class _Busy(Exception):
    """An execution waiting for the message is locked by another transaction: try again."""


# -- correlation locks ----------------------------------------------------------------------------


def lock_key(digest: str) -> int:
    """Return the signed 64-bit advisory lock key of a correlation digest (its first 16 hex digits)."""
    key = int(digest[:16], 16)
    return key - (1 << 64) if key >= 1 << 63 else key


def lock_correlation(digest: str) -> None:
    """Hold the correlation's lock until the transaction ends (PostgreSQL; SQLite serialises writers)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(digest)])


def _digest_of(wait: AwaitMessage) -> str:
    return correlation_digest(wait.correlation_key, wait.correlation_value)


# -- the step side: reaching and leaving a Message state ------------------------------------------


def save_waits(steps: list) -> None:
    """Write what the steps' Message states need, before the steps themselves are saved.

    Called by ``runtime.save_steps`` inside its transaction. A step that left a
    Message state deletes its execution's subscriptions. A step that reached
    one takes the correlation lock and looks for a kept message: if there is
    one, it is marked delivered and the machine goes on with its data (which
    may reach another Message state: the loop looks again); otherwise a
    subscription is inserted.
    """
    left = [step.execution.pk for step in steps if step.left_wait]
    if left:
        MessageSubscription.objects.filter(execution_id__in=left).delete()
        for step in steps:
            step.left_wait = False
    waiting = [step for step in steps if step.message_wait is not None]
    if not waiting:
        return
    # Several correlations in one transaction: lock them in one order, so that two workers cannot deadlock.
    locked = sorted({_digest_of(step.message_wait) for step in waiting})
    for digest in locked:
        lock_correlation(digest)
    locked = set(locked)
    now = runtime.CLOCK.now()
    subscriptions = []
    for step in waiting:
        while step.message_wait is not None:
            wait = step.message_wait
            step.message_wait = None
            digest = _digest_of(wait)
            if digest not in locked:  # a kept message led to another Message state
                lock_correlation(digest)
                locked.add(digest)
            message = (Message.objects.filter(correlation=digest, correlation_key=wait.correlation_key,
                                              delivered_at__isnull=True, expires_at__gt=now)
                       .order_by("created_at", "pk").first())
            if message is None:
                subscriptions.append(MessageSubscription(
                    execution_id=step.execution.pk, entered_event_id=step.cursor.entered_event_id,
                    state_name=step.cursor.state, correlation_key=wait.correlation_key,
                    correlation_value=wait.correlation_value, correlation=digest, created_at=now))
                continue
            Message.objects.filter(pk=message.pk).update(delivered_to_id=step.execution.pk, delivered_at=now)
            _resume(step, message.data)
    if subscriptions:
        MessageSubscription.objects.bulk_create(subscriptions)


def _resume(step: Any, data: Any) -> None:
    """Run the machine on from its Message state with the message's ``data``."""
    # The wait's timeout is over; what follows sets its own wake-up time (a Task keeps a
    # lease that is already far enough away, so it must not inherit the timeout's).
    step.execution.wake_at = None
    step.settle(step.driver.resume_message(step.cursor, data))


# -- the sender's side ----------------------------------------------------------------------------


def _checked(what: str, value: Any) -> Any:
    """Return ``value`` as the JSON the database will store; raise InvalidMessage if it is not JSON or too large."""
    limit = asl_settings.MAX_PAYLOAD_BYTES
    try:
        size = payload_size(value)
        value = json.loads(json.dumps(value, allow_nan=False))
    except RecursionError:
        raise InvalidMessage(f"The message's {what} is nested too deeply to be stored as JSON.") from None
    except (TypeError, ValueError) as exc:
        raise InvalidMessage(f"The message's {what} must be JSON: {exc}.") from None
    if size > limit:
        raise InvalidMessage(f"The message's {what} is {size} bytes; the limit is {limit} bytes "
                             f"(DJANGO_ASL['MAX_PAYLOAD_BYTES']).")
    return value


def send_message(correlation_key: str, correlation_value: Any, data: Any = None) -> SentMessage:
    """Deliver a message to every execution waiting in a Message state for this correlation.

    Each waiting execution goes on with ``data`` (its state's MessagePath
    selects the result from it, and ResultPath places that into its input);
    the work that follows is queued once the transaction commits. When no
    execution waits, the message is kept for ``DJANGO_ASL["MESSAGE_TTL_SECONDS"]``
    (86400 by default) and goes to the first execution that reaches a Message
    state with this correlation in that time.

    ``correlation_key`` is a string of 1 to 256 characters; ``correlation_value``
    and ``data`` are JSON values within ``DJANGO_ASL["MAX_PAYLOAD_BYTES"]``.
    Values equal as JSON correlate (``2`` and ``2.0``, objects whatever their
    key order). Raise ``InvalidMessage`` (a ``ValueError``) for bad arguments.
    """
    if not isinstance(correlation_key, str):
        raise InvalidMessage(f"The correlation key must be a string, not {type(correlation_key).__name__}.")
    if not 1 <= len(correlation_key) <= MAX_CORRELATION_KEY_LENGTH:
        raise InvalidMessage(f"The correlation key must be 1 to {MAX_CORRELATION_KEY_LENGTH} characters long, "
                             f"not {len(correlation_key)}.")
    correlation_value = _checked("correlation value", correlation_value)
    data = _checked("data", data)
    digest = correlation_digest(correlation_key, correlation_value)
    # Inside a caller's transaction a rollback to a savepoint would keep the correlation lock:
    # no retries there, wait for the row locks instead.
    nested = connection.in_atomic_block
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction.atomic():
                sent, follow_ups = _send(correlation_key, correlation_value, data, digest,
                                         wait_for_rows=nested or attempt == ATTEMPTS)
            break
        except _Busy:
            pass
        except OperationalError as exc:
            # PostgreSQL broke a rare lock cycle (a resumed branch ending updates its parent, which
            # another worker holds while it waits for this correlation): all rolled back, try again.
            if nested or attempt == ATTEMPTS or not _is_deadlock(exc):
                raise
        time.sleep(min(MAX_PAUSE, 0.002 * attempt))
    runtime._after_commit(follow_ups)  # queued: callers are usually web requests
    return sent


def _is_deadlock(exc: OperationalError) -> bool:
    """Return whether PostgreSQL aborted the transaction to break a deadlock (SQLSTATE 40P01)."""
    cause = exc.__cause__
    return (getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)) == "40P01"


def _waits_here(execution: Execution, subscription: MessageSubscription) -> bool:
    """Return whether the execution still waits at the subscription's state entry, for its correlation."""
    cursor = execution.cursor
    if execution.status != Status.RUNNING or not cursor or cursor.get("phase") != MESSAGE:
        return False
    if cursor.get("entered_event_id") != subscription.entered_event_id:
        return False
    wait = (cursor.get("pending") or {}).get("message") or {}
    return correlation_digest(wait.get("correlation_key", ""), wait.get("correlation_value")) == \
        subscription.correlation


def _send(correlation_key: str, correlation_value: Any, data: Any, digest: str, *,
          wait_for_rows: bool) -> tuple[SentMessage, list[tuple]]:
    """Resume the executions waiting for the correlation, or keep the message (one transaction)."""
    lock_correlation(digest)
    subscriptions = list(MessageSubscription.objects.filter(correlation=digest, correlation_key=correlation_key)
                         .order_by("execution_id", "pk"))
    ids = sorted({subscription.execution_id for subscription in subscriptions})
    executions = {}
    if ids:
        executions = {execution.pk: execution for execution in (
            runtime.locked_executions(skip_locked=not wait_for_rows).filter(pk__in=ids).order_by("pk"))}
        missing = set(ids) - executions.keys()
        if missing and Execution.objects.filter(pk__in=missing).exists():
            raise _Busy  # another transaction holds it: it may be leaving the wait, or not
    steps, stale, resumed = [], [], set()
    for subscription in subscriptions:
        execution = executions.get(subscription.execution_id)
        if execution is None or execution.pk in resumed or not _waits_here(execution, subscription):
            # Its execution moved on, ended or was stopped (or was redriven and waits at a new entry).
            stale.append(subscription.pk)
            continue
        resumed.add(execution.pk)
        step = runtime.Step(execution)
        _resume(step, data)
        steps.append(step)
    if stale:
        MessageSubscription.objects.filter(pk__in=stale).delete()
    if steps:
        runtime.save_steps(steps)  # deletes the subscriptions of the executions that left the wait
        return (SentMessage(delivered_to=tuple(step.execution.pk for step in steps)),
                [follow_up for step in steps for follow_up in step.follow_ups])
    ttl = asl_settings.MESSAGE_TTL_SECONDS
    if not ttl:
        return SentMessage(), []
    now = runtime.CLOCK.now()
    message = Message.objects.create(
        correlation_key=correlation_key, correlation_value=correlation_value, correlation=digest, data=data,
        created_at=now, expires_at=now + timedelta(seconds=ttl))
    return SentMessage(kept_message_id=message.pk), []


# -- housekeeping ---------------------------------------------------------------------------------


def purge_messages(*, batch_size: int = 500, dry_run: bool = False) -> tuple[int, int]:
    """Delete expired kept messages and the subscriptions of ended executions; return both counts.

    Rows go in batches of ``batch_size``, one short transaction each. A kept
    message lives until its ``expires_at``, delivered or not; after that it is
    ignored, and this deletes it. ``manage.py asl_purge`` calls this.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}.")
    expired = Message.objects.filter(expires_at__lte=runtime.CLOCK.now())
    leftover = MessageSubscription.objects.exclude(execution__status=Status.RUNNING)
    if dry_run:
        return expired.count(), leftover.count()
    counts = []
    for queryset in (expired, leftover):
        total = 0
        while True:
            ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            total += queryset.model.objects.filter(pk__in=ids).delete()[0]
        counts.append(total)
    return counts[0], counts[1]
