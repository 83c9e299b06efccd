"""Serializers of the REST API: request bodies and query strings in, engine results out.

Inputs are checked here (types, lengths, payload sizes) so that a bad field is
answered under its name; the engine checks the rest. Outputs mostly pass the
engine's dicts through (``describe_execution`` and ``describe_batch``), so keys
the engine adds later reach clients unchanged; the serializers below describe
them in the schema.
"""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..asl.states.base import payload_size
from ..conf import asl_settings
from ..engine import MAX_SOURCE_IDS
from ..models import Batch, Execution, StateMachine

NAME_LENGTH = 80


class PayloadField(serializers.JSONField):
    """Any JSON value of at most ``DJANGO_ASL["MAX_PAYLOAD_BYTES"]`` bytes (compact UTF-8 JSON)."""

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        limit = asl_settings.MAX_PAYLOAD_BYTES
        size = payload_size(value)
        if size > limit:
            raise serializers.ValidationError(f"This value is {size} bytes of JSON; the limit is {limit} bytes.",
                                              code="too_large")
        return value


def name_field(**kwargs: Any) -> serializers.CharField:
    """Return a field for a name of 1 to 80 characters."""
    return serializers.CharField(min_length=1, max_length=NAME_LENGTH, **kwargs)


# -- errors (for the schema) --------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """An error: a sentence and a stable snake_case code."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False)


class IssueSerializer(serializers.Serializer):
    """One problem of a definition."""

    path = serializers.CharField(help_text="JSONPath from the definition's root, e.g. $.States.Charge.Next.")
    code = serializers.CharField(help_text="Stable snake_case identifier, e.g. unknown_state.")
    message = serializers.CharField()


# -- state machines -----------------------------------------------------------------------------


class StateMachineSerializer(serializers.Serializer):
    """A state machine with its current definition."""

    name = name_field()
    type = serializers.ChoiceField(choices=StateMachine.Type.choices, default=StateMachine.Type.STANDARD)
    description = serializers.CharField(allow_blank=True, required=False)
    definition = serializers.JSONField(help_text="The Amazon States Language definition (a JSON object).")
    version = serializers.IntegerField(source="current_version.number", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def validate_definition(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise serializers.ValidationError(f"A definition must be a JSON object, not {_json_type(value)}.")
        size, limit = payload_size(value), asl_settings.MAX_PAYLOAD_BYTES
        if size > limit:
            raise serializers.ValidationError(f"This definition is {size} bytes of JSON; the limit is {limit} bytes.")
        return value


class StateMachineUpdateSerializer(StateMachineSerializer):
    """A new definition (and optionally type and description) for an existing state machine."""

    name = name_field(read_only=True)
    type = serializers.ChoiceField(choices=StateMachine.Type.choices, required=False)


class ValidateSerializer(serializers.Serializer):
    """A definition to validate, and the type of state machine it is meant for."""

    definition = PayloadField()
    type = serializers.ChoiceField(choices=StateMachine.Type.choices, default=StateMachine.Type.STANDARD)


class ValidationIssueSerializer(IssueSerializer):
    """One problem of a definition, with its severity."""

    severity = serializers.ChoiceField(choices=["error", "warning"])


class ValidationResultSerializer(serializers.Serializer):
    """Whether a definition is valid, and every issue found."""

    valid = serializers.BooleanField()
    issues = ValidationIssueSerializer(many=True)


class VersionSerializer(serializers.Serializer):
    """One published version of a state machine."""

    number = serializers.IntegerField()
    digest = serializers.CharField()
    definition = serializers.JSONField()
    created_at = serializers.DateTimeField()
    current = serializers.BooleanField()


class GraphQuerySerializer(serializers.Serializer):
    """Which version to draw (the current one by default)."""

    version = serializers.IntegerField(required=False, min_value=1)


class GraphNodeSerializer(serializers.Serializer):
    """A state."""

    id = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    type = serializers.CharField(allow_blank=True)
    group = serializers.CharField(allow_null=True)
    start = serializers.BooleanField()
    end = serializers.BooleanField()
    comment = serializers.CharField(allow_blank=True, allow_null=True)


class GraphGroupSerializer(serializers.Serializer):
    """A Parallel branch or a Map item processor, drawn inside its state."""

    id = serializers.CharField()
    label = serializers.CharField()
    parent = serializers.CharField()
    kind = serializers.CharField()
    start = serializers.CharField(allow_null=True)


class GraphEdgeSerializer(serializers.Serializer):
    """A transition."""

    source = serializers.CharField()
    target = serializers.CharField()
    kind = serializers.CharField()
    label = serializers.CharField(allow_blank=True)


class GraphSerializer(serializers.Serializer):
    """The states, groups and transitions of a definition (``django_asl.asl.graph``)."""

    nodes = GraphNodeSerializer(many=True)
    groups = GraphGroupSerializer(many=True)
    edges = GraphEdgeSerializer(many=True)


# -- executions ---------------------------------------------------------------------------------


class StartSerializer(serializers.Serializer):
    """How to start an execution: its input and, optionally, its name."""

    input = PayloadField(required=False, allow_null=True, help_text="The execution input; {} when left out.")
    name = name_field(required=False, help_text="Unique per state machine; starting again with the same name "
                                                "and input returns the same execution.")


class ExecutionCreateSerializer(StartSerializer):
    """Start an execution of a state machine."""

    state_machine = name_field()


class ExecutionSerializer(serializers.Serializer):
    """An execution, as ``describe_execution`` returns it (more keys may appear)."""

    execution_id = serializers.UUIDField()
    name = serializers.CharField()
    state_machine = serializers.CharField()
    version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Execution.Status.choices)
    input = serializers.JSONField(allow_null=True)
    output = serializers.JSONField(allow_null=True)
    error = serializers.CharField(allow_null=True, allow_blank=True)
    cause = serializers.CharField(allow_null=True, allow_blank=True)
    start_date = serializers.DateTimeField()
    stop_date = serializers.DateTimeField(allow_null=True)
    parent = serializers.UUIDField(allow_null=True)
    redrive_count = serializers.IntegerField()
    source_execution_id = serializers.UUIDField(allow_null=True, required=False)
    source_state = serializers.CharField(allow_null=True, required=False)
    source_link = serializers.CharField(required=False)
    chained_execution_ids = serializers.ListField(child=serializers.UUIDField(), required=False)
    variables = serializers.DictField(help_text="The variables (Assign) where the execution stands; {} once it "
                                                "succeeded.")


class ExecutionSummarySerializer(serializers.Serializer):
    """An execution in a list (as AWS's ListExecutions, without input and output)."""

    execution_id = serializers.UUIDField(source="pk")
    name = serializers.CharField()
    state_machine = serializers.CharField(source="state_machine.name")
    status = serializers.ChoiceField(choices=Execution.Status.choices)
    start_date = serializers.DateTimeField()
    stop_date = serializers.DateTimeField(allow_null=True)
    parent = serializers.UUIDField(source="parent_id", allow_null=True)
    redrive_count = serializers.IntegerField()


class SourceFilterSerializer(serializers.Serializer):
    """Filters of executions (``list_executions``); every one given must match."""

    state_machine = name_field(required=False)
    status = serializers.ChoiceField(choices=Execution.Status.choices, required=False)
    started_after = serializers.DateTimeField(required=False, help_text="Inclusive.")
    started_before = serializers.DateTimeField(required=False, help_text="Exclusive.")
    stopped_after = serializers.DateTimeField(required=False, help_text="Inclusive.")
    stopped_before = serializers.DateTimeField(required=False, help_text="Exclusive.")
    name_prefix = serializers.CharField(required=False, max_length=NAME_LENGTH)


class ExecutionFilterSerializer(SourceFilterSerializer):
    """Filters of the execution list."""

    include_children = serializers.BooleanField(required=False, default=False,
                                                help_text="Include Parallel branches and Map iterations.")


class StopSerializer(serializers.Serializer):
    """Why an execution is stopped (both optional, as on AWS)."""

    error = serializers.CharField(required=False, allow_null=True, max_length=256)
    cause = serializers.CharField(required=False, allow_null=True, max_length=32768)


class RerunSerializer(serializers.Serializer):
    """A rerun: the original's input unless ``input`` is given."""

    input = PayloadField(required=False, allow_null=True)
    name = name_field(required=False)


class HistoryQuerySerializer(serializers.Serializer):
    """A page of history: the events after ``after`` (an event id), at most ``limit`` of them."""

    after = serializers.IntegerField(required=False, min_value=0, max_value=2 ** 31 - 1)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000)


class HistoryEventSerializer(serializers.Serializer):
    """One history event."""

    id = serializers.IntegerField(help_text="The event's sequence number in its execution, from 1.")
    type = serializers.CharField()
    timestamp = serializers.DateTimeField()
    details = serializers.JSONField()


class HistoryPageSerializer(serializers.Serializer):
    """A page of an execution's history, oldest first."""

    next = serializers.URLField(allow_null=True, help_text="The next page, or null after the last event.")
    results = HistoryEventSerializer(many=True)


# -- batches ------------------------------------------------------------------------------------


class BatchSourceFilterSerializer(SourceFilterSerializer):
    """The executions a batch chains from: the execution list's filters, and hand-picked ids."""

    ids = serializers.ListField(child=serializers.UUIDField(), required=False, min_length=1,
                                max_length=MAX_SOURCE_IDS,
                                help_text=f"Only these executions (1 to {MAX_SOURCE_IDS:,} ids), combined with the "
                                          f"other filters.")


class BatchCreateSerializer(serializers.Serializer):
    """A batch: one execution of ``state_machine`` chained from each execution matching ``source_filter``."""

    state_machine = name_field()
    source_filter = BatchSourceFilterSerializer(help_text="Which executions to chain from: filters as for the "
                                                          "execution list (dates as ISO 8601 text), or ids.")
    name_prefix = serializers.CharField(min_length=1, max_length=40)
    concurrency = serializers.IntegerField(min_value=1, max_value=10_000, default=10)
    stop_on_error = serializers.BooleanField(default=False)
    source_state = name_field(required=False, allow_null=True)
    input_transformer = serializers.DictField(
        required=False, allow_null=True,
        help_text="A payload template (JSON object) applied to each source's output. Python callables can be "
                  "named only from Python, not over HTTP.")


    def validate_source_filter(self, value: dict) -> dict:
        known = BatchSourceFilterSerializer().fields
        unknown = sorted(set(self.initial_data.get("source_filter") or {}) - set(known))
        if unknown:
            raise serializers.ValidationError(f"Unknown filter(s) {', '.join(map(repr, unknown))}; the filters are "
                                              f"{', '.join(known)}.")
        return value


class BatchSerializer(serializers.Serializer):
    """A batch and its progress, as ``describe_batch`` returns it."""

    batch_id = serializers.UUIDField()
    state_machine = serializers.CharField()
    name_prefix = serializers.CharField()
    status = serializers.ChoiceField(choices=Batch.Status.choices)
    total = serializers.IntegerField()
    pending = serializers.IntegerField()
    running = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    concurrency = serializers.IntegerField()
    stop_on_error = serializers.BooleanField()
    source_filter = serializers.JSONField()
    source_state = serializers.CharField(allow_null=True)
    input_transformer = serializers.JSONField(allow_null=True)
    created_at = serializers.DateTimeField()
    stopped_at = serializers.DateTimeField(allow_null=True)


class BatchFilterSerializer(serializers.Serializer):
    """Filters of the batch list."""

    state_machine = name_field(required=False)
    status = serializers.ChoiceField(choices=Batch.Status.choices, required=False)


class BatchCancelSerializer(serializers.Serializer):
    """Whether to stop the batch's running executions too (they run to their end otherwise)."""

    stop_running = serializers.BooleanField(default=False)


# -- messages, task tokens, activities ----------------------------------------------------------


class MessageSerializer(serializers.Serializer):
    """A message for the executions waiting in a Message state for this correlation."""

    correlation_key = serializers.CharField(min_length=1, max_length=256)
    correlation_value = PayloadField()
    data = PayloadField(required=False, allow_null=True)


class SentMessageSerializer(serializers.Serializer):
    """What sending did: ``delivered`` to waiting executions, ``kept`` for a later one, or ``dropped``."""

    outcome = serializers.ChoiceField(choices=["delivered", "kept", "dropped"])
    delivered_to = serializers.ListField(child=serializers.UUIDField())
    kept_message_id = serializers.IntegerField(allow_null=True)


class TaskTokenSerializer(serializers.Serializer):
    """A task token, as the task's input or an activity poll gave it."""

    task_token = serializers.CharField(min_length=1, max_length=1024)


class TaskSuccessSerializer(TaskTokenSerializer):
    """The task's output: a JSON value, or a string holding JSON text (as AWS's SendTaskSuccess)."""

    output = PayloadField()


class TaskFailureSerializer(TaskTokenSerializer):
    """The task's error and cause (both optional)."""

    error = serializers.CharField(required=False, allow_null=True, max_length=256)
    cause = serializers.CharField(required=False, allow_null=True, max_length=32768)


class ActivitySerializer(serializers.Serializer):
    """An activity: workers poll it for the tasks that reach it."""

    name = name_field()
    description = serializers.CharField(allow_blank=True, required=False, default="")
    created_at = serializers.DateTimeField(read_only=True)


class ActivityUpdateSerializer(ActivitySerializer):
    """A new description for an activity."""

    name = name_field(read_only=True)


class PollSerializer(serializers.Serializer):
    """How long to wait for a task (capped by ``DJANGO_ASL["API_LONG_POLL_SECONDS"]``)."""

    worker_name = serializers.CharField(max_length=80, required=False, default="", allow_blank=True)
    wait_seconds = serializers.FloatField(min_value=0, max_value=60, required=False)


class ActivityTaskSerializer(serializers.Serializer):
    """A claimed task: answer it with its token."""

    task_token = serializers.CharField()
    input = serializers.JSONField()


# -- statistics ---------------------------------------------------------------------------------


class StatisticsQuerySerializer(serializers.Serializer):
    """Which executions to count: those of ``state_machine`` started in ``[start, end)``."""

    state_machine = name_field()
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)
    include_states = serializers.BooleanField(required=False, default=True)

    def validate(self, attrs: dict) -> dict:
        if "start" in attrs and "end" in attrs and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"end": ["end must not be before start."]})
        return attrs


class StatisticsSerializer(serializers.Serializer):
    """Per-status and per-state statistics (``execution_statistics``)."""

    state_machine = serializers.CharField()
    start = serializers.CharField(allow_null=True)
    end = serializers.CharField(allow_null=True)
    executions = serializers.IntegerField()
    statuses = serializers.DictField(child=serializers.DictField())
    states = serializers.DictField(child=serializers.DictField(), required=False)


def _json_type(value: Any) -> str:
    """Return the JSON name of a value's type, for messages."""
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
