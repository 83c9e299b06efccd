"""Viewsets of the REST API: thin front ends over ``django_asl.engine``'s public API.

Every action calls the engine; the models are read only to list and look up.
Each viewset names the permissions of each action in ``action_permissions``
(checked by ``permissions.AslPermissions`` or the classes in
``DJANGO_ASL["API_PERMISSION_CLASSES"]``).
"""
from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.db.models import ProtectedError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import replace_query_param

from .. import engine
from ..asl.graph import definition_graph
from ..conf import asl_settings
from ..models import Activity, Batch, Execution, StateMachine
from . import serializers as s
from .errors import Conflict, PayloadTooLarge, handle_exception, issue_list
from .pagination import BatchPagination, ExecutionPagination, NamePagination
from .permissions import permission_classes

# Room a request body gets beyond its payload fields' own limit: a message carries two
# payloads (correlation value and data), and clients may send indented JSON.
BODY_ENVELOPE_BYTES = 65_536


BAD_REQUEST = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Each bad field with its errors (a definition's as {path, code, message} objects), or "
                "{detail, code} for an error of the request as a whole.")


def errors(*codes: int) -> dict[int, Any]:
    """Return the schema of the error answers ``codes`` (400 and 403 are always possible).

    A list's 404 is a cursor that is not one of its own.
    """
    return {400: BAD_REQUEST, **{code: OpenApiResponse(s.ErrorSerializer) for code in sorted({403, *codes})}}


def _view(model: str) -> tuple[str]:
    return (f"django_asl.view_{model}",)


class AslViewSet(viewsets.GenericViewSet):
    """The base of every viewset: settings-driven permissions, body limits, engine error answers."""

    throttle_scope = "django_asl"
    parser_classes = [JSONParser]
    action_permissions: dict[str, tuple[str, ...]] = {}

    def get_permissions(self) -> list:
        """Instantiate ``DJANGO_ASL["API_PERMISSION_CLASSES"]``, read on every request."""
        return [permission() for permission in permission_classes()]

    def get_throttles(self) -> list:
        """Instantiate ``REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]``, read on every request.

        Every endpoint has the throttle scope ``django_asl``: with DRF's
        ``ScopedRateThrottle``, ``DEFAULT_THROTTLE_RATES["django_asl"]`` limits the
        whole API per user (or per address for anonymous requests).
        """
        return [throttle() for throttle in api_settings.DEFAULT_THROTTLE_CLASSES]

    def get_exception_handler(self) -> Any:
        return handle_exception

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Refuse a body larger than twice ``MAX_PAYLOAD_BYTES`` plus an envelope with a 413, before reading it."""
        super().initial(request, *args, **kwargs)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = 2 * asl_settings.MAX_PAYLOAD_BYTES + BODY_ENVELOPE_BYTES
        if length > limit:
            raise PayloadTooLarge(f"The request body is {length} bytes; the limit is {limit} bytes (twice "
                                  f"DJANGO_ASL['MAX_PAYLOAD_BYTES'] plus {BODY_ENVELOPE_BYTES}).")

    def body(self, serializer_class: type, **kwargs: Any) -> dict:
        """Return the request body checked by ``serializer_class`` (a 400 under each bad field)."""
        serializer = serializer_class(data=self.request.data, **kwargs)
        if not isinstance(self.request.data, dict):
            raise ValidationError({"non_field_errors": ["The request body must be a JSON object."]})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def query(self, serializer_class: type) -> dict:
        """Return the query string checked by ``serializer_class``."""
        serializer = serializer_class(data=self.request.query_params)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def filtered(self, lister: Any, serializer_class: type) -> Any:
        """Return ``lister(**filters)`` for the query string's filters; an unknown state machine is a 400."""
        try:
            return lister(**self.query(serializer_class))
        except engine.StateMachineDoesNotExist as exc:
            raise ValidationError({"state_machine": [str(exc)]}) from None


def _described(execution: Execution, *, created: bool = True) -> Response:
    """Answer ``describe_execution`` and the execution's variables where it stands."""
    return Response({**engine.describe_execution(execution), "variables": engine.execution_variables(execution)},
                    status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


# -- state machines -----------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List state machines", responses={200: s.StateMachineSerializer(many=True),
                                                                  **errors(404)}),
    retrieve=extend_schema(summary="Describe a state machine", responses={200: s.StateMachineSerializer,
                                                                           **errors(404)}),
    destroy=extend_schema(summary="Delete a state machine that has no executions",
                          responses={204: None, **errors(404, 409)}),
)
class StateMachineViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, AslViewSet):
    """State machines, by name: publish, validate, draw and start them."""

    lookup_field = "name"
    lookup_value_regex = "[^/]+"
    serializer_class = s.StateMachineSerializer
    pagination_class = NamePagination
    queryset = StateMachine.objects.select_related("current_version")
    action_permissions = {
        "list": _view("statemachine"), "retrieve": _view("statemachine"), "versions": _view("statemachine"),
        "graph": _view("statemachine"), "validate": _view("statemachine"),
        "create": ("django_asl.add_statemachine",), "update": ("django_asl.change_statemachine",),
        "partial_update": ("django_asl.change_statemachine",), "destroy": ("django_asl.delete_statemachine",),
        "start": ("django_asl.start_execution",), "start_sync": ("django_asl.start_execution",),
    }

    def get_object(self) -> StateMachine:
        try:
            return self.get_queryset().get(name=self.kwargs["name"])
        except StateMachine.DoesNotExist:
            raise NotFound(f"There is no state machine named {self.kwargs['name']!r}.") from None

    @extend_schema(summary="Publish a state machine", request=s.StateMachineSerializer,
                   responses={201: s.StateMachineSerializer, **errors(409)})
    def create(self, request: Request) -> Response:
        """Create a state machine; a definition error answers 400 with every issue under ``definition``."""
        data = self.body(s.StateMachineSerializer)
        if StateMachine.objects.filter(name=data["name"]).exists():
            raise Conflict(f"A state machine named {data['name']!r} already exists: PUT a new definition to "
                           f"/state-machines/{data['name']}/ to update it.")
        machine = engine.publish(data["name"], data["definition"], type=data["type"],
                                 description=data.get("description"))
        return Response(s.StateMachineSerializer(self.get_queryset().get(pk=machine.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(summary="Publish a new definition", request=s.StateMachineUpdateSerializer,
                   responses={200: s.StateMachineSerializer, **errors(404)})
    def update(self, request: Request, name: str, partial: bool = False) -> Response:
        """Publish a new version (a changed definition), type or description."""
        machine = self.get_object()
        data = self.body(s.StateMachineUpdateSerializer, partial=partial)
        definition = data.get("definition", machine.definition)
        engine.publish(machine.name, definition, type=data.get("type", machine.type),
                       description=data.get("description"))
        return Response(s.StateMachineSerializer(self.get_object()).data)

    @extend_schema(summary="Change a state machine's definition, type or description",
                   request=s.StateMachineUpdateSerializer, responses={200: s.StateMachineSerializer,
                                                                      **errors(404)})
    def partial_update(self, request: Request, name: str) -> Response:
        return self.update(request, name, partial=True)

    def destroy(self, request: Request, name: str) -> Response:
        machine = self.get_object()
        try:
            with transaction.atomic():
                # The current version protects itself from the cascade: let go of it first.
                StateMachine.objects.filter(pk=machine.pk).update(current_version=None)
                machine.delete()
        except ProtectedError:
            raise Conflict(f"The state machine {machine.name!r} has executions or batches and cannot be "
                           f"deleted.") from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Validate a definition", request=s.ValidateSerializer,
                   responses={200: s.ValidationResultSerializer, **errors()})
    @action(detail=False, methods=["post"])
    def validate(self, request: Request) -> Response:
        """Return every issue of a definition (``valid`` is false when one of them is an error)."""
        data = self.body(s.ValidateSerializer)
        issues = engine.validate_definition(data["definition"], type=data["type"])
        return Response({"valid": not any(issue.is_error for issue in issues),
                         "issues": [{**item, "severity": issue.severity}
                                    for item, issue in zip(issue_list(issues), issues)]})

    @extend_schema(summary="Start an execution", request=s.StartSerializer,
                   responses={201: s.ExecutionSerializer, 200: s.ExecutionSerializer, **errors(404, 409)})
    @action(detail=True, methods=["post"])
    def start(self, request: Request, name: str) -> Response:
        """Start an execution: 201, or 200 with the existing one for a repeated name and input, 409 otherwise."""
        data = self.body(s.StartSerializer)
        return start(self.get_object(), data)

    @extend_schema(summary="Run an EXPRESS execution to its end", request=s.StartSerializer,
                   responses={200: s.ExecutionSerializer, **errors(404)})
    @action(detail=True, methods=["post"], url_path="start-sync")
    def start_sync(self, request: Request, name: str) -> Response:
        """Run an EXPRESS state machine in this request and return the ended execution."""
        data = self.body(s.StartSerializer)
        execution = engine.start_sync_execution(self.get_object(), data.get("input"), name=data.get("name"))
        return _described(execution, created=False)

    @extend_schema(summary="List the published versions", responses={200: s.VersionSerializer(many=True),
                                                                       **errors(404)})
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, name: str) -> Response:
        machine = self.get_object()
        return Response([
            {"number": version.number, "digest": version.digest, "definition": version.definition,
             "created_at": version.created_at, "current": version.pk == machine.current_version_id}
            for version in machine.versions.order_by("-number")
        ])

    @extend_schema(summary="The definition as a graph", parameters=[s.GraphQuerySerializer],
                   responses={200: s.GraphSerializer, **errors(404)})
    @action(detail=True, methods=["get"])
    def graph(self, request: Request, name: str) -> Response:
        """Return the nodes, groups and edges of the current (or ``?version=``) definition, as the admin draws."""
        machine = self.get_object()
        number = self.query(s.GraphQuerySerializer).get("version")
        if number is None:
            definition = machine.definition
        else:
            version = machine.versions.filter(number=number).first()
            if version is None:
                raise NotFound(f"The state machine {machine.name!r} has no version {number}.")
            definition = version.definition
        return Response(definition_graph(definition or {}))


def start(machine: StateMachine | str, data: dict) -> Response:
    """Start an execution from a checked body; 201 when new, 200 for the same name and input again."""
    name = data.get("name")
    if name is not None:
        existing = Execution.objects.filter(state_machine__name=getattr(machine, "name", machine), name=name,
                                            parent=None).values_list("pk", flat=True).first()
        if existing is not None:
            return _described(engine.start_execution(machine, data.get("input"), name=name),
                              created=False)
    return _described(engine.start_execution(machine, data.get("input"), name=name))


# -- executions ---------------------------------------------------------------------------------


@extend_schema_view(
    retrieve=extend_schema(summary="Describe an execution", responses={200: s.ExecutionSerializer,
                                                                        **errors(404)}),
)
class ExecutionViewSet(AslViewSet):
    """Executions: list with filters, describe, page through history, stop, redrive and rerun."""

    lookup_value_regex = "[^/]+"
    serializer_class = s.ExecutionSummarySerializer
    pagination_class = ExecutionPagination
    action_permissions = {
        "list": _view("execution"), "retrieve": _view("execution"), "history": _view("execution"),
        "create": ("django_asl.start_execution",), "rerun": ("django_asl.start_execution",),
        "stop": ("django_asl.stop_execution",), "redrive": ("django_asl.redrive_execution",),
    }

    def get_object(self) -> Execution:
        try:
            pk = uuid.UUID(self.kwargs["pk"])
            return Execution.objects.select_related("state_machine", "version").get(pk=pk)
        except (ValueError, Execution.DoesNotExist):
            raise NotFound(f"There is no execution {self.kwargs['pk']!r}.") from None

    @extend_schema(summary="List executions, newest first", parameters=[s.ExecutionFilterSerializer],
                   responses={200: s.ExecutionSummarySerializer(many=True), **errors(404)})
    def list(self, request: Request) -> Response:
        queryset = self.filtered(engine.list_executions, s.ExecutionFilterSerializer)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.ExecutionSummarySerializer(page, many=True).data)

    @extend_schema(summary="Start an execution", request=s.ExecutionCreateSerializer,
                   responses={201: s.ExecutionSerializer, 200: s.ExecutionSerializer, **errors(404, 409)})
    def create(self, request: Request) -> Response:
        """Start an execution of ``state_machine`` (as ``/state-machines/{name}/start/``)."""
        data = self.body(s.ExecutionCreateSerializer)
        return start(data["state_machine"], data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return _described(self.get_object(), created=False)

    @extend_schema(summary="A page of the execution's history, oldest first", parameters=[s.HistoryQuerySerializer],
                   responses={200: s.HistoryPageSerializer, **errors(404)})
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str) -> Response:
        """Return up to ``limit`` events after the event ``after``, and the link to the next page."""
        execution = self.get_object()
        query = self.query(s.HistoryQuerySerializer)
        limit = query.get("limit", asl_settings.API_PAGE_SIZE)
        # One more than the page tells whether there is a next page.
        events = engine.get_execution_history(execution, after_sequence=query.get("after"), limit=limit + 1)
        more = len(events) > limit
        events = events[:limit]
        next_url = None
        if more:
            next_url = replace_query_param(request.build_absolute_uri(), "after", events[-1]["id"])
        return Response({"next": next_url, "results": events})

    @extend_schema(summary="Stop a running execution", request=s.StopSerializer,
                   responses={200: s.ExecutionSerializer, **errors(404, 409)})
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, pk: str) -> Response:
        data = self.body(s.StopSerializer)
        execution = engine.stop_execution(self.get_object(), error=data.get("error"), cause=data.get("cause"))
        return _described(execution, created=False)

    @extend_schema(summary="Redrive a failed, timed-out or aborted execution from where it stopped", request=None,
                   responses={200: s.ExecutionSerializer, **errors(404, 409)})
    @action(detail=True, methods=["post"])
    def redrive(self, request: Request, pk: str) -> Response:
        return _described(engine.redrive_execution(self.get_object()), created=False)

    @extend_schema(summary="Start the state machine again with this execution's input (or another)",
                   request=s.RerunSerializer, responses={201: s.ExecutionSerializer, **errors(404, 409)})
    @action(detail=True, methods=["post"])
    def rerun(self, request: Request, pk: str) -> Response:
        data = self.body(s.RerunSerializer)
        kwargs = {"input": data["input"]} if "input" in data else {}
        return _described(engine.rerun_execution(self.get_object(), name=data.get("name"), **kwargs))


# -- batches ------------------------------------------------------------------------------------


class BatchViewSet(AslViewSet):
    """Batches: launch one execution per matching execution, follow their progress, cancel."""

    lookup_value_regex = "[^/]+"
    serializer_class = s.BatchSerializer
    pagination_class = BatchPagination
    action_permissions = {
        "list": _view("batch"), "retrieve": _view("batch"),
        "create": ("django_asl.start_batch",), "cancel": ("django_asl.cancel_batch",),
    }

    def batch_id(self) -> uuid.UUID:
        try:
            pk = uuid.UUID(self.kwargs["pk"])
        except ValueError:
            pk = None
        if pk is None or not Batch.objects.filter(pk=pk).exists():
            raise NotFound(f"There is no batch {self.kwargs['pk']!r}.")
        return pk

    @extend_schema(summary="List batches, newest first", parameters=[s.BatchFilterSerializer],
                   responses={200: s.BatchSerializer(many=True), **errors(404)})
    def list(self, request: Request) -> Response:
        queryset = self.filtered(engine.list_batches, s.BatchFilterSerializer)
        page = self.paginate_queryset(queryset.values_list("pk", flat=True))
        return self.get_paginated_response([engine.describe_batch(pk) for pk in page])

    @extend_schema(summary="Launch a batch", request=s.BatchCreateSerializer,
                   responses={201: s.BatchSerializer, **errors(404)})
    def create(self, request: Request) -> Response:
        data = self.body(s.BatchCreateSerializer)
        target = data.pop("state_machine")
        batch = engine.start_batch(target, data.pop("source_filter"), **data)
        return Response(engine.describe_batch(batch), status=status.HTTP_201_CREATED)

    @extend_schema(summary="Describe a batch and its progress", responses={200: s.BatchSerializer, **errors(404)})
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(engine.describe_batch(self.batch_id()))

    @extend_schema(summary="Cancel a running batch", request=s.BatchCancelSerializer,
                   responses={200: s.BatchSerializer, **errors(404, 409)})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        data = self.body(s.BatchCancelSerializer)
        batch = engine.cancel_batch(self.batch_id(), stop_running=data["stop_running"])
        return Response(engine.describe_batch(batch))


# -- messages and task tokens -------------------------------------------------------------------


class MessageViewSet(AslViewSet):
    """Messages to executions waiting in a Message state."""

    action_permissions = {"create": ("django_asl.send_message",)}

    @extend_schema(summary="Send a message", request=s.MessageSerializer,
                   responses={200: s.SentMessageSerializer, **errors()})
    def create(self, request: Request) -> Response:
        """Resume the executions waiting for this correlation, or keep the message for a later one."""
        data = self.body(s.MessageSerializer)
        sent = engine.send_message(data["correlation_key"], data["correlation_value"], data.get("data"))
        outcome = "delivered" if sent.delivered else "kept" if sent.kept else "dropped"
        return Response({"outcome": outcome, "delivered_to": [str(pk) for pk in sent.delivered_to],
                         "kept_message_id": sent.kept_message_id})


class TaskTokenViewSet(AslViewSet):
    """Answers to tasks that wait for a callback (``.waitForTaskToken`` or an activity)."""

    action_permissions = {name: ("django_asl.complete_task",) for name in ("success", "failure", "heartbeat")}

    @extend_schema(summary="Complete a task with its output", request=s.TaskSuccessSerializer,
                   responses={204: None, **errors(404, 409)})
    @action(detail=False, methods=["post"])
    def success(self, request: Request) -> Response:
        data = self.body(s.TaskSuccessSerializer)
        engine.send_task_success(data["task_token"], data["output"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Fail a task", request=s.TaskFailureSerializer, responses={204: None, **errors(404, 409)})
    @action(detail=False, methods=["post"])
    def failure(self, request: Request) -> Response:
        data = self.body(s.TaskFailureSerializer)
        engine.send_task_failure(data["task_token"], error=data.get("error"), cause=data.get("cause"))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Report that a task is still being worked on", request=s.TaskTokenSerializer,
                   responses={204: None, **errors(404, 409)})
    @action(detail=False, methods=["post"])
    def heartbeat(self, request: Request) -> Response:
        data = self.body(s.TaskTokenSerializer)
        engine.send_task_heartbeat(data["task_token"])
        return Response(status=status.HTTP_204_NO_CONTENT)


# -- activities ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List activities", responses={200: s.ActivitySerializer(many=True), **errors(404)}),
    retrieve=extend_schema(summary="Describe an activity", responses={200: s.ActivitySerializer, **errors(404)}),
)
class ActivityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, AslViewSet):
    """Activities: tasks that workers anywhere poll for over HTTP."""

    lookup_field = "name"
    lookup_value_regex = "[^/]+"
    serializer_class = s.ActivitySerializer
    pagination_class = NamePagination
    queryset = Activity.objects.all()
    action_permissions = {
        "list": _view("activity"), "retrieve": _view("activity"), "create": ("django_asl.add_activity",),
        "update": ("django_asl.change_activity",), "partial_update": ("django_asl.change_activity",),
        "destroy": ("django_asl.delete_activity",), "poll": ("django_asl.complete_task",),
    }

    def get_object(self) -> Activity:
        try:
            return Activity.objects.get(name=self.kwargs["name"])
        except Activity.DoesNotExist:
            raise NotFound(f"There is no activity named {self.kwargs['name']!r}.") from None

    @extend_schema(summary="Create an activity (or update the description of an existing one, as AWS)",
                   request=s.ActivitySerializer, responses={201: s.ActivitySerializer, **errors()})
    def create(self, request: Request) -> Response:
        data = self.body(s.ActivitySerializer)
        activity = engine.create_activity(data["name"], data["description"])
        return Response(s.ActivitySerializer(activity).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change an activity's description", request=s.ActivityUpdateSerializer,
                   responses={200: s.ActivitySerializer, **errors(404)})
    def update(self, request: Request, name: str, partial: bool = False) -> Response:
        activity = self.get_object()
        data = self.body(s.ActivityUpdateSerializer, partial=partial)
        if "description" in data and data["description"] != activity.description:
            Activity.objects.filter(pk=activity.pk).update(description=data["description"])
        return Response(s.ActivitySerializer(self.get_object()).data)

    @extend_schema(summary="Change an activity's description", request=s.ActivityUpdateSerializer,
                   responses={200: s.ActivitySerializer, **errors(404)})
    def partial_update(self, request: Request, name: str) -> Response:
        return self.update(request, name, partial=True)

    @extend_schema(summary="Delete an activity that no task waits on", responses={204: None, **errors(404, 409)})
    def destroy(self, request: Request, name: str) -> Response:
        engine.delete_activity(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Claim the activity's oldest task, waiting for one (long poll)", request=s.PollSerializer,
                   responses={200: s.ActivityTaskSerializer, 204: OpenApiResponse(description="No task came."),
                              **errors(404)})
    @action(detail=True, methods=["post"])
    def poll(self, request: Request, name: str) -> Response:
        """Return ``{task_token, input}``, or 204 when no task came within ``wait_seconds``."""
        data = self.body(s.PollSerializer)
        longest = asl_settings.API_LONG_POLL_SECONDS
        wait = min(data.get("wait_seconds", longest), longest)
        claimed = engine.get_activity_task(self.get_object(), data["worker_name"], wait_seconds=wait)
        if claimed is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(claimed)


# -- statistics ---------------------------------------------------------------------------------


class StatisticsViewSet(AslViewSet):
    """Per-status and per-state statistics of a state machine's executions."""

    action_permissions = {"list": _view("execution")}

    @extend_schema(summary="Statistics of a state machine's executions", parameters=[s.StatisticsQuerySerializer],
                   responses={200: s.StatisticsSerializer, **errors(404)})
    def list(self, request: Request) -> Response:
        query = self.query(s.StatisticsQuerySerializer)
        return Response(engine.execution_statistics(query.pop("state_machine"), **query))
