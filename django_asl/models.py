"""Stored workflows: state machines, their published versions, executions and their history.

An execution pins the version it started on, so editing a definition never
changes a running execution. History is append-only: one row per event,
numbered per execution as Step Functions numbers events.
"""
from __future__ import annotations

import hashlib
import json
import uuid

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .compat import check_constraint


def definition_digest(definition: dict) -> str:
    """Return a stable SHA-256 of a definition, independent of key order and spacing."""
    text = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class StateMachine(models.Model):
    """A named workflow. Its definition is published as immutable versions."""

    class Type(models.TextChoices):
        STANDARD = "STANDARD", _("Standard")
        EXPRESS = "EXPRESS", _("Express")

    name = models.CharField(max_length=80, unique=True)
    type = models.CharField(max_length=8, choices=Type.choices, default=Type.STANDARD)
    description = models.TextField(blank=True)
    current_version = models.ForeignKey(
        "StateMachineVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("The version new executions start on."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            check_constraint(Q(type__in=["STANDARD", "EXPRESS"]), "django_asl_statemachine_type_valid"),
        ]
        permissions = [
            ("start_execution", "Can start executions"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def definition(self) -> dict | None:
        """Return the current version's definition."""
        return self.current_version.definition if self.current_version_id else None


class StateMachineVersion(models.Model):
    """One published, immutable definition of a state machine."""

    state_machine = models.ForeignKey(StateMachine, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["state_machine", "-number"]
        get_latest_by = "number"
        constraints = [
            models.UniqueConstraint(fields=["state_machine", "number"], name="django_asl_version_number_unique"),
            models.UniqueConstraint(fields=["state_machine", "digest"], name="django_asl_version_digest_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.state_machine_id}:{self.number}"


class Execution(models.Model):
    """One run of a state machine version, or one branch or iteration of a parent run.

    ``cursor`` is where the machine stands (see ``django_asl.asl.driver.Cursor``);
    ``wake_at`` is when a worker must look at it again: a Wait or retry timer, a
    task lease running out, or (set to the start time) a new execution that no
    worker has picked up yet.
    """

    class Status(models.TextChoices):
        RUNNING = "RUNNING", _("Running")
        SUCCEEDED = "SUCCEEDED", _("Succeeded")
        FAILED = "FAILED", _("Failed")
        TIMED_OUT = "TIMED_OUT", _("Timed out")
        ABORTED = "ABORTED", _("Aborted")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    state_machine = models.ForeignKey(StateMachine, on_delete=models.PROTECT, related_name="executions")
    version = models.ForeignKey(StateMachineVersion, on_delete=models.PROTECT, related_name="executions")
    name = models.CharField(max_length=80)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    input = models.JSONField(null=True, blank=True, default=dict)
    output = models.JSONField(null=True, blank=True)
    error = models.TextField(null=True, blank=True)
    cause = models.TextField(null=True, blank=True)
    cursor = models.JSONField(null=True, blank=True, editable=False)
    # The current state's input, kept apart from the (small) cursor: it is written only
    # when it changes, and a branch's end can update its parent without reading it.
    state_input = models.JSONField(null=True, blank=True, editable=False)
    machine_path = models.CharField(
        max_length=1000, blank=True, default="",
        help_text=_("For a branch or iteration: where its sub-machine sits in the definition."),
    )
    last_event_id = models.PositiveIntegerField(default=0, editable=False)
    wake_at = models.DateTimeField(null=True, blank=True)
    lease_token = models.PositiveBigIntegerField(default=0, editable=False)
    start_date = models.DateTimeField(default=timezone.now)
    stop_date = models.DateTimeField(null=True, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    fork_id = models.PositiveIntegerField(
        null=True, blank=True,
        help_text=_("For a branch or iteration: the id of the parent's Parallel/MapStateStarted event."),
    )
    child_index = models.PositiveIntegerField(null=True, blank=True)
    redrive_count = models.PositiveIntegerField(default=0)
    redrive_date = models.DateTimeField(null=True, blank=True)
    # Where a chained execution's input came from, or the execution a re-run repeats.
    source_execution = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="chained_executions",
        db_index=False,  # a partial index below: most executions have no source
    )
    source_state = models.CharField(max_length=80, blank=True, default="")
    source_link = models.CharField(
        max_length=8, blank=True, default="", choices=[("chained", _("Chained")), ("rerun", _("Re-run")), ("batch", _("Batch"))],
    )

    class Meta:
        ordering = ["-start_date"]
        get_latest_by = "start_date"
        constraints = [
            models.UniqueConstraint(
                fields=["state_machine", "name"], condition=Q(parent__isnull=True),
                name="django_asl_execution_name_unique",
            ),
            models.UniqueConstraint(
                fields=["parent", "fork_id", "child_index"], condition=Q(parent__isnull=False),
                name="django_asl_execution_child_unique",
            ),
            check_constraint(Q(status__in=["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]),
                   "django_asl_execution_status_valid"),
            check_constraint(Q(status="RUNNING", stop_date__isnull=True) | (~Q(status="RUNNING") & Q(stop_date__isnull=False)),
                   "django_asl_execution_stop_date_matches_status"),
            check_constraint(Q(parent__isnull=True, fork_id__isnull=True, child_index__isnull=True)
                   | Q(parent__isnull=False, fork_id__isnull=False, child_index__isnull=False),
                   "django_asl_execution_child_has_index"),
            check_constraint(Q(stop_date__isnull=True) | Q(stop_date__gte=F("start_date")),
                   "django_asl_execution_stops_after_start"),
        ]
        indexes = [
            models.Index(fields=["state_machine", "status", "-start_date"], name="django_asl_exec_sm_status"),
            models.Index(fields=["status", "-start_date"], name="django_asl_exec_status"),
            models.Index(fields=["-start_date"], name="django_asl_exec_start"),
            models.Index(fields=["stop_date"], name="django_asl_exec_stop"),
            models.Index(fields=["name"], name="django_asl_exec_name"),
            # Name-prefix searches (LIKE 'prefix%'): on PostgreSQL a plain index serves them only
            # under the C collation; the pattern operator class serves them under any.
            models.Index(fields=["name"], opclasses=["varchar_pattern_ops"], condition=Q(parent__isnull=True),
                         name="django_asl_exec_name_prefix"),
            models.Index(fields=["wake_at"], condition=Q(status="RUNNING", wake_at__isnull=False),
                         name="django_asl_exec_due"),
            models.Index(fields=["source_execution"], condition=Q(source_execution__isnull=False),
                         name="django_asl_exec_source"),
            # execution_statistics(): an index-only scan of a state machine's top-level executions, by status.
            models.Index(fields=["state_machine", "status", "start_date", "stop_date"],
                         condition=Q(parent__isnull=True), name="django_asl_exec_stats"),
        ]
        permissions = [
            ("stop_execution", "Can stop executions"),
            ("redrive_execution", "Can redrive executions"),
            ("send_message", "Can send messages to waiting executions"),
            ("complete_task", "Can succeed or fail waiting tasks"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_running(self) -> bool:
        return self.status == self.Status.RUNNING


class HistoryEvent(models.Model):
    """One event of an execution's history, numbered from 1 per execution. Never updated."""

    id = models.BigAutoField(primary_key=True)
    # The unique (execution, sequence) index serves lookups by execution: no index of its own.
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="history", db_index=False)
    sequence = models.PositiveIntegerField()
    type = models.CharField(max_length=64)
    timestamp = models.DateTimeField()
    state_name = models.CharField(max_length=80, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["execution", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["execution", "sequence"], name="django_asl_history_sequence_unique"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.type}"


class Activity(models.Model):
    """Work for external workers: a Task whose Resource names an activity queues its input here.

    A Task reaches it with ``"Resource": "arn:aws:states:<region>:<account>:activity:<name>"``
    or ``"Resource": "django-asl:activity:<name>"``.
    """

    name = models.CharField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = _("activities")

    def __str__(self) -> str:
        return self.name


class TaskToken(models.Model):
    """A task that waits for a callback: a ``.waitForTaskToken`` task, or an activity task.

    One row per task attempt. An activity task gets its token when a worker
    claims it (``get_activity_task``); a ``.waitForTaskToken`` task when it is
    scheduled. A token is single-use: the first ``send_task_success`` or
    ``send_task_failure`` closes it.
    """

    class Status(models.TextChoices):
        SCHEDULED = "SCHEDULED", _("Scheduled")  # an activity task no worker has claimed yet
        STARTED = "STARTED", _("Started")  # the token is out: waiting for its answer
        SUCCEEDED = "SUCCEEDED", _("Succeeded")
        FAILED = "FAILED", _("Failed")
        TIMED_OUT = "TIMED_OUT", _("Timed out")
        CLOSED = "CLOSED", _("Closed")  # the execution ended or moved on without an answer

    id = models.BigAutoField(primary_key=True)
    token = models.CharField(max_length=128, unique=True, null=True, blank=True)
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="task_tokens")
    entered_event_id = models.PositiveIntegerField()
    attempt = models.PositiveIntegerField(default=0)
    state_name = models.CharField(max_length=80)
    resource = models.CharField(max_length=2048)
    activity = models.ForeignKey(Activity, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks")
    input = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.STARTED)
    worker_name = models.CharField(max_length=80, blank=True, default="")
    heartbeat_seconds = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["execution", "entered_event_id", "attempt"],
                                    name="django_asl_tasktoken_attempt_unique"),
            check_constraint(Q(status__in=["SCHEDULED", "STARTED", "SUCCEEDED", "FAILED", "TIMED_OUT", "CLOSED"]),
                             "django_asl_tasktoken_status_valid"),
            check_constraint(Q(status="SCHEDULED") | Q(token__isnull=False), "django_asl_tasktoken_issued"),
        ]
        indexes = [
            models.Index(fields=["activity", "created_at"], condition=Q(status="SCHEDULED"),
                         name="django_asl_token_activity"),
        ]

    def __str__(self) -> str:
        return f"{self.state_name} #{self.entered_event_id}.{self.attempt}"


class MessageSubscription(models.Model):
    """An execution waiting in a Message state for ``send_message(key, value, data)``."""

    id = models.BigAutoField(primary_key=True)
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="message_subscriptions")
    entered_event_id = models.PositiveIntegerField()
    state_name = models.CharField(max_length=80)
    correlation_key = models.CharField(max_length=256)
    correlation_value = models.JSONField(null=True)
    # sha256 of the key and the canonical JSON of the value: what lookups use.
    correlation = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["execution", "entered_event_id"], name="django_asl_subscription_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.correlation_key}={self.correlation_value!r}"


class Message(models.Model):
    """A message that arrived before any execution waited for it; kept until ``expires_at``."""

    id = models.BigAutoField(primary_key=True)
    correlation_key = models.CharField(max_length=256)
    correlation_value = models.JSONField(null=True)
    correlation = models.CharField(max_length=64)
    data = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    delivered_to = models.ForeignKey(Execution, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["correlation", "created_at"], condition=Q(delivered_at__isnull=True),
                         name="django_asl_message_pending"),
            models.Index(fields=["expires_at"], name="django_asl_message_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.correlation_key}={self.correlation_value!r}"


class Batch(models.Model):
    """A batch launch: one chained execution of ``state_machine`` per matching source execution."""

    class Status(models.TextChoices):
        RUNNING = "RUNNING", _("Running")
        SUCCEEDED = "SUCCEEDED", _("Succeeded")
        FAILED = "FAILED", _("Failed")
        CANCELLED = "CANCELLED", _("Cancelled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    state_machine = models.ForeignKey(StateMachine, on_delete=models.PROTECT, related_name="batches")
    name_prefix = models.CharField(max_length=40)
    source_filter = models.JSONField(default=dict, blank=True)
    source_state = models.CharField(max_length=80, blank=True, default="")
    # A payload template (JSON) or the dotted path of a module-level callable.
    input_transformer = models.JSONField(null=True, blank=True)
    concurrency = models.PositiveIntegerField(default=10)
    stop_on_error = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    total = models.PositiveIntegerField(default=0)
    pending = models.PositiveIntegerField(default=0)
    running = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = _("batches")
        constraints = [
            check_constraint(Q(concurrency__gte=1), "django_asl_batch_concurrency_positive"),
            check_constraint(Q(status__in=["RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"]),
                             "django_asl_batch_status_valid"),
        ]
        permissions = [
            ("start_batch", "Can launch batches"),
            ("cancel_batch", "Can cancel batches"),
        ]

    def __str__(self) -> str:
        return f"{self.name_prefix} ({self.status})"


class BatchItem(models.Model):
    """One source execution of a batch, and the execution launched for it."""

    class Status(models.TextChoices):
        PENDING = "PENDING", _("Pending")
        RUNNING = "RUNNING", _("Running")
        SUCCEEDED = "SUCCEEDED", _("Succeeded")
        FAILED = "FAILED", _("Failed")
        CANCELLED = "CANCELLED", _("Cancelled")

    id = models.BigAutoField(primary_key=True)
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="items")
    index = models.PositiveIntegerField()
    # SET_NULL: purging old executions must not remove a running batch's items.
    source = models.ForeignKey(Execution, null=True, on_delete=models.SET_NULL, related_name="+")
    execution = models.OneToOneField(Execution, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="batch_item")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(null=True, blank=True)

    class Meta:
        ordering = ["batch", "index"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "index"], name="django_asl_batchitem_index_unique"),
        ]
        indexes = [
            models.Index(fields=["batch", "status", "index"], name="django_asl_batchitem_status"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.index}"


class StateStatistics(models.Model):
    """Per-state counters of ended executions: one row per state machine, state and hour of the start.

    ``execution_statistics`` reads whole hours of a window from here instead of
    the history (``django_asl.engine.statistics``). An execution (a top-level
    run, a Parallel branch or a Map iteration) counts in the hour its own
    ``start_date`` falls in, in UTC. ``exits`` is the number of entries that
    left the state and ``microseconds`` the total time they spent in it.
    """

    id = models.BigAutoField(primary_key=True)
    # The unique (state_machine, hour, state_name) index serves lookups by state machine.
    state_machine = models.ForeignKey(StateMachine, on_delete=models.CASCADE, related_name="+", db_index=False)
    state_name = models.CharField(max_length=80)
    hour = models.DateTimeField()
    entries = models.BigIntegerField(default=0)
    failures = models.BigIntegerField(default=0)
    retries = models.BigIntegerField(default=0)
    exits = models.BigIntegerField(default=0)
    microseconds = models.BigIntegerField(default=0)

    class Meta:
        verbose_name_plural = _("state statistics")
        constraints = [
            models.UniqueConstraint(fields=["state_machine", "hour", "state_name"],
                                    name="django_asl_statestatistics_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.state_machine_id}:{self.state_name}@{self.hour.isoformat()}"


class StatisticsRollup(models.Model):
    """The rollup's watermark (one row): executions that ended before ``rolled_up_to`` are in ``StateStatistics``.

    Except those listed in ``StatisticsPending``. Its row lock serializes
    everything that changes the rollup (the timer loops, redrive, purge).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    rolled_up_to = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [check_constraint(Q(id=1), "django_asl_statisticsrollup_single")]

    def __str__(self) -> str:
        return f"rolled up to {self.rolled_up_to}"


class StatisticsPending(models.Model):
    """An execution of a redriven tree, left out of the rollup until the tree's root (``root``) has ended again."""

    execution = models.OneToOneField(Execution, primary_key=True, on_delete=models.CASCADE, related_name="+")
    root = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"{self.execution_id} (redriven with {self.root_id})"
