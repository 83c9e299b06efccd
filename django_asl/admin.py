"""The Django admin: define workflows, inspect executions, act on them and launch batches.

Reading goes straight to the models, with a bounded number of queries per
page whatever the number of rows or history events; every action (publish,
start, stop, redrive, re-run, batch launch, send message, task answers) calls
the engine's public API, behind a confirmation page and a permission check.
History is read-only for everyone.
"""
from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any, Callable

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property
from django.utils.html import format_html

from .asl.definition import text_format
from .asl.errors import DefinitionError
from .asl.graph import definition_graph
from .asl.validation import load_definition
from .engine import (
    MAX_SOURCE_IDS, cancel_batch, describe_batch, describe_execution, execution_statistics, execution_variables,
    inspect_execution, publish, redrive_execution, rerun_execution, send_message, send_task_failure,
    send_task_success, start_batch, start_execution, stop_execution, validate_definition,
)
from .exceptions import DjangoAslError
from .models import Batch, BatchItem, Execution, HistoryEvent, StateMachine, StateMachineVersion, TaskToken

#: What an engine call may raise that the user should read as an error message (never a 500).
ENGINE_ERRORS = (DjangoAslError, DefinitionError, ValueError, TypeError, ObjectDoesNotExist)
#: History events per page of an execution's timeline.
EVENTS_PER_PAGE = 100
#: Child executions per page on a parent's detail page.
CHILDREN_PER_PAGE = 50
#: Pages a changelist counts ahead of the current one (it never counts the whole table).
LOOKAHEAD_PAGES = 10
#: Bounds of the statistics page: at most this many calls of execution_statistics per page.
MAX_BUCKETS = 60


def pretty(value: Any) -> str:
    """Return ``value`` as indented JSON for a ``<pre>`` block."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


def parse_json_field(text: str, label: str) -> Any:
    """Return the JSON in ``text`` (empty text is ``{}``); raise ``forms.ValidationError`` naming ``label``."""
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise forms.ValidationError(f"{label} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).")


def run_engine(request: HttpRequest, call: Callable[[], Any], success: str | Callable[[Any], str]) -> Any:
    """Run an engine call; report its result or its error as an admin message. Return the result or None."""
    try:
        result = call()
    except DefinitionError as exc:
        messages.error(request, "; ".join(f"{issue.path}: {issue.message}" for issue in exc.issues))
    except ENGINE_ERRORS as exc:
        messages.error(request, str(exc) or type(exc).__doc__ or type(exc).__name__)
    else:
        messages.success(request, success(result) if callable(success) else success)
        return result
    return None


class BoundedCountPaginator(Paginator):
    """A paginator that counts rows only up to a few pages past the current one.

    ``COUNT(*)`` over a million executions is a sequential scan; counting a
    slice (``SELECT COUNT(*) FROM (... LIMIT n)``) reads at most ``n`` index
    entries, so the page links reach ``LOOKAHEAD_PAGES`` pages ahead and grow
    as one pages on.
    """

    def __init__(self, object_list: Any, per_page: int, *args: Any, page_number: int = 1, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        self.cap = (max(page_number, 1) + LOOKAHEAD_PAGES) * int(per_page) + 1

    @cached_property
    def count(self) -> int:
        return self.object_list[:self.cap].count()


def page_number(request: HttpRequest, name: str = "p") -> int:
    """Return the page number in ``request.GET[name]`` (1-based; the changelist's is 0-based)."""
    try:
        return max(int(request.GET.get(name, 0)), 0)
    except ValueError:
        return 0


class AslAdminMixin:
    """Helpers shared by the admins: URLs of their own views, permission checks, admin page context."""

    def own_url(self, view: Callable, route: str, name: str) -> Any:
        info = self.model._meta.app_label, self.model._meta.model_name
        return path(route, self.admin_site.admin_view(view), name="%s_%s_" % info + name)

    def url_of(self, name: str, *args: Any) -> str:
        info = self.model._meta.app_label, self.model._meta.model_name
        return reverse(f"admin:{info[0]}_{info[1]}_{name}", args=args, current_app=self.admin_site.name)

    def require(self, request: HttpRequest, codename: str) -> None:
        if not request.user.has_perm(f"django_asl.{codename}"):
            raise PermissionDenied

    def page(self, request: HttpRequest, template: str, title: str, obj: Any = None, **context: Any) -> TemplateResponse:
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title,
                   "original": obj, "object": obj, **context}
        return TemplateResponse(request, template, context)

    def get_object_or_404(self, request: HttpRequest, object_id: str) -> Any:
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404(f"No {self.model._meta.verbose_name} with id {object_id!r}.")
        return obj


# ---------------------------------------------------------------- state machines


class StateMachineForm(forms.ModelForm):
    """A state machine and its definition as JSON or YAML text; saving publishes a version."""

    definition_text = forms.CharField(
        label="Definition", widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "class": "django-asl-code",
                                                         "spellcheck": "false"}),
        help_text="Amazon States Language, as JSON or YAML. Saving publishes a new version when it changed.")

    class Meta:
        model = StateMachine
        fields = ["name", "type", "description"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.current_version_id and "definition_text" not in self.initial:
            self.initial["definition_text"] = pretty(self.instance.current_version.definition)
        self.definition: dict | None = None

    def clean(self) -> dict:
        cleaned = super().clean()
        text = cleaned.get("definition_text")
        if not text:
            return cleaned
        try:
            definition = load_definition(text, format=text_format(text))
        except DefinitionError as exc:
            self.add_error("definition_text", [f"{issue.path}: {issue.message}" for issue in exc.issues])
            return cleaned
        issues = [issue for issue in validate_definition(definition, type=cleaned.get("type") or "STANDARD")
                  if issue.is_error]
        if issues:
            self.add_error("definition_text", [f"{issue.path}: {issue.message}" for issue in issues])
        else:
            self.definition = definition
        return cleaned


class VersionInline(admin.TabularInline):
    """The published versions of a state machine, newest first; versions are immutable."""

    model = StateMachineVersion
    fields = ("number", "digest", "created_at")
    readonly_fields = fields
    ordering = ("-number",)
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StartExecutionForm(forms.Form):
    """The "start execution" form: an optional name and a JSON input."""

    name = forms.CharField(max_length=80, required=False, help_text="Leave empty for a generated name.")
    input = forms.CharField(widget=forms.Textarea(attrs={"rows": 12, "cols": 80, "class": "django-asl-code"}),
                            required=False, initial="{}", help_text="JSON; empty means {}.")

    def clean_input(self) -> Any:
        return parse_json_field(self.cleaned_data["input"], "The input")


class StatisticsForm(forms.Form):
    """The window of the statistics page: ``days`` days up to ``end`` (default: now) in ``buckets`` buckets."""

    end = forms.DateTimeField(required=False, help_text="Default: now.")
    days = forms.IntegerField(min_value=1, max_value=365, initial=7)
    buckets = forms.IntegerField(min_value=1, max_value=MAX_BUCKETS, initial=14)


@admin.register(StateMachine)
class StateMachineAdmin(AslAdminMixin, admin.ModelAdmin):
    """State machines: edit the definition (JSON or YAML), see it drawn, start executions, statistics."""

    form = StateMachineForm
    list_display = ("name", "type", "version_number", "updated_at")
    list_select_related = ("current_version",)
    search_fields = ("name",)
    list_filter = ("type",)
    inlines = [VersionInline]
    change_form_template = "admin/django_asl/statemachine/change_form.html"
    fields = ("name", "type", "description", "definition_text")

    @admin.display(description="version", ordering="current_version__number")
    def version_number(self, obj: StateMachine) -> int | None:
        return obj.current_version.number if obj.current_version_id else None

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("current_version")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple:
        return ("name",) if obj is not None else ()  # publish() keys state machines by name

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # executions protect their state machine; deleting is not an admin operation

    def save_model(self, request: HttpRequest, obj: StateMachine, form: StateMachineForm, change: bool) -> None:
        machine = publish(obj.name, form.definition, type=obj.type, description=obj.description)
        obj.pk, obj.current_version_id = machine.pk, machine.current_version_id
        obj.created_at, obj.updated_at = machine.created_at, machine.updated_at

    def render_change_form(self, request: HttpRequest, context: dict, add: bool = False, change: bool = False,
                           form_url: str = "", obj: Any = None) -> HttpResponse:
        definition = obj.current_version.definition if obj is not None and obj.current_version_id else None
        form = context.get("adminform").form if context.get("adminform") else None
        if form is not None and form.is_bound and form.definition is not None:
            definition = form.definition
        context.update(graph=definition_graph(definition) if definition else None,
                       can_start=request.user.has_perm("django_asl.start_execution"))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self) -> list:
        return [
            self.own_url(self.start_view, "<path:object_id>/start/", "start"),
            self.own_url(self.statistics_view, "<path:object_id>/statistics/", "statistics"),
            *super().get_urls(),
        ]

    def start_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Start an execution with a JSON input (needs ``django_asl.start_execution``)."""
        machine = self.get_object_or_404(request, object_id)
        self.require(request, "start_execution")
        form = StartExecutionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            execution = run_engine(
                request, lambda: start_execution(machine, form.cleaned_data["input"],
                                                 name=form.cleaned_data["name"] or None),
                lambda started: f"Started the execution {started.name}.")
            if execution is not None:
                return HttpResponseRedirect(reverse("admin:django_asl_execution_change", args=[execution.pk]))
        return self.page(request, "admin/django_asl/form.html", f"Start an execution of {machine.name}", machine,
                         form=form, submit="Start execution")

    def statistics_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Status counts and p50/p95 durations per time bucket, as charts (one or two queries per bucket)."""
        machine = self.get_object_or_404(request, object_id)
        if not self.has_view_permission(request, machine):
            raise PermissionDenied
        form = StatisticsForm(request.GET or None)
        valid = form.is_valid()
        days, count = (form.cleaned_data["days"], form.cleaned_data["buckets"]) if valid else (7, 14)
        end = (form.cleaned_data["end"] if valid else None) or timezone.now()
        width = timedelta(days=days) / count
        buckets = []
        for index in range(count):
            start = end - width * (count - index)
            figures = execution_statistics(machine, start=start, end=start + width, include_states=False)
            buckets.append({"start": start.isoformat(), "statuses": figures["statuses"],
                            "executions": figures["executions"]})
        total = execution_statistics(machine, start=end - timedelta(days=days), end=end, include_states=True)
        return self.page(request, "admin/django_asl/statemachine/statistics.html", f"Statistics of {machine.name}",
                         machine, form=form, buckets=buckets, total=total, days=days)


# ---------------------------------------------------------------- executions


class BatchLaunchForm(forms.Form):
    """Where a batch launch goes: the target state machine, name prefix, concurrency, stop-on-error."""

    target = forms.ModelChoiceField(queryset=StateMachine.objects.filter(current_version__isnull=False),
                                    to_field_name="name", help_text="Each source execution's output becomes "
                                                                    "the input of one execution of this machine.")
    name_prefix = forms.CharField(max_length=40, help_text="Item i becomes the execution <prefix>-<i>.")
    concurrency = forms.IntegerField(min_value=1, max_value=10_000, initial=10)
    stop_on_error = forms.BooleanField(required=False)


class RerunForm(forms.Form):
    """Re-run with edited input."""

    input = forms.CharField(widget=forms.Textarea(attrs={"rows": 12, "cols": 80, "class": "django-asl-code"}),
                            required=False)

    def clean_input(self) -> Any:
        return parse_json_field(self.cleaned_data["input"], "The input")


class SendMessageForm(forms.Form):
    """A message for a waiting Message state: correlation key and value, and data."""

    correlation_key = forms.CharField(max_length=256)
    correlation_value = forms.CharField(help_text="JSON, e.g. \"order-17\" or 17.")
    data = forms.CharField(widget=forms.Textarea(attrs={"rows": 8, "cols": 80, "class": "django-asl-code"}),
                           required=False, help_text="JSON; empty means {}.")

    def clean_correlation_value(self) -> Any:
        return parse_json_field(self.cleaned_data["correlation_value"], "The correlation value")

    def clean_data(self) -> Any:
        return parse_json_field(self.cleaned_data["data"], "The data")


class TaskAnswerForm(forms.Form):
    """Succeed (with JSON output) or fail (with error and cause) a waiting task token."""

    outcome = forms.ChoiceField(choices=[("success", "Succeed"), ("failure", "Fail")], widget=forms.RadioSelect,
                                initial="success")
    output = forms.CharField(widget=forms.Textarea(attrs={"rows": 8, "cols": 80, "class": "django-asl-code"}),
                             required=False, help_text="For success: JSON; empty means {}.")
    error = forms.CharField(max_length=256, required=False, help_text="For failure: the error name.")
    cause = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 80}), required=False)

    def clean_output(self) -> Any:
        return parse_json_field(self.cleaned_data["output"], "The output")


def search_by_uuid(queryset: Any, search_term: str, field: str, otherwise: Any) -> tuple[Any, bool]:
    """Return an admin search's result: ``field`` equal to the term read as a UUID, else ``otherwise(term)``."""
    term = search_term.strip()
    if not term:
        return queryset, False
    try:
        return queryset.filter(**{field: uuid.UUID(term)}), False
    except ValueError:
        return otherwise(term), False


class UUIDOrPrefixSearch:
    """Search executions by exact id (a UUID) or by name prefix, both served by an index."""

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> tuple[Any, bool]:
        return search_by_uuid(queryset, search_term, "pk", lambda term: queryset.filter(name__startswith=term))


def changelist_source_filter(params: Any) -> dict:
    """Return the ``start_batch`` source filter matching an execution changelist's query string."""
    source: dict[str, Any] = {}
    machine_id = params.get("state_machine__id__exact")
    if machine_id:
        machine = StateMachine.objects.filter(pk=machine_id).values_list("name", flat=True).first()
        if machine is None:
            raise ValueError(f"There is no state machine with id {machine_id!r}.")
        source["state_machine"] = machine
    if params.get("status__exact"):
        source["status"] = params["status__exact"]
    for param, key in (("start_date__gte", "started_after"), ("start_date__lt", "started_before")):
        if params.get(param):
            moment = parse_datetime(params[param]) or parse_datetime(f"{params[param]}T00:00:00")
            if moment is None:
                raise ValueError(f"{param}={params[param]!r} is not a date.")
            source[key] = timezone.make_aware(moment) if timezone.is_naive(moment) else moment
    term = (params.get("q") or "").strip()
    if term:
        try:
            uuid.UUID(term)
        except ValueError:
            source["name_prefix"] = term
        else:
            raise ValueError("A batch cannot be launched from a search by id; search by name prefix instead.")
    return source


@admin.register(Execution)
class ExecutionAdmin(UUIDOrPrefixSearch, AslAdminMixin, admin.ModelAdmin):
    """Executions: a changelist fast on millions of rows, a detail page with diagram and timeline, actions."""

    list_display = ("name", "state_machine", "status_badge", "start_date", "stop_date")
    list_filter = ("state_machine", "status", "start_date")
    list_select_related = ("state_machine",)
    search_fields = ("name",)  # see UUIDOrPrefixSearch: exact id or name prefix
    search_help_text = "An execution id, or the start of a name."
    sortable_by = ("name", "start_date")
    ordering = ("-start_date",)
    show_full_result_count = False
    list_per_page = 50
    actions = ["launch_batch", "stop_selected"]

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Execution) -> str:
        return format_html('<span class="asl-status asl-{}">{}</span>', obj.status.lower(), obj.get_status_display())

    def get_queryset(self, request: HttpRequest) -> Any:
        queryset = super().get_queryset(request)
        match = request.resolver_match
        if match is not None and match.url_name == "django_asl_execution_changelist":
            queryset = queryset.filter(parent__isnull=True)  # children are reached from their parent
        return queryset

    def get_paginator(self, request: HttpRequest, queryset: Any, per_page: int, orphans: int = 0,
                      allow_empty_first_page: bool = True) -> Paginator:
        return BoundedCountPaginator(queryset, per_page, orphans, allow_empty_first_page,
                                     page_number=page_number(request) + 1)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # executions are started from their state machine

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # executions change only through the engine's actions

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_start_batch_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("django_asl.start_batch")

    def has_stop_execution_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("django_asl.stop_execution")

    # -- views

    def get_urls(self) -> list:
        return [
            self.own_url(self.status_view, "<path:object_id>/status.json", "status"),
            self.own_url(self.stop_view, "<path:object_id>/stop/", "stop"),
            self.own_url(self.redrive_view, "<path:object_id>/redrive/", "redrive"),
            self.own_url(self.rerun_view, "<path:object_id>/rerun/", "rerun"),
            self.own_url(self.send_message_view, "<path:object_id>/send-message/", "send_message"),
            self.own_url(self.task_view, "<path:object_id>/task/<int:task_id>/", "task"),
            self.own_url(self.batch_launch_view, "batch-launch/", "batch_launch"),
            *super().get_urls(),
        ]

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        try:
            uuid.UUID(str(object_id))
        except ValueError:
            return None
        return super().get_object(request, object_id, from_field)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict | None = None) -> HttpResponse:
        """The detail page: status, JSON fields and variables, diagram, timeline page, children, links, actions."""
        execution = self.get_object_or_404(request, object_id)
        if request.method == "POST" or not self.has_view_permission(request, execution):
            raise PermissionDenied  # read-only: executions change only through the actions
        execution = (Execution.objects.select_related("state_machine", "version", "parent", "source_execution")
                     .get(pk=execution.pk))
        described = describe_execution(execution)
        # The timeline: one page of events, with details, and the durations of the states on it.
        total = execution.last_event_id
        pages = max((total + EVENTS_PER_PAGE - 1) // EVENTS_PER_PAGE, 1)
        try:
            page = min(max(int(request.GET.get("events", pages)), 1), pages)  # the newest page by default
        except ValueError:
            page = pages
        low = (page - 1) * EVENTS_PER_PAGE
        events = list(execution.history.filter(sequence__gt=low, sequence__lte=low + EVENTS_PER_PAGE)
                      .order_by("sequence"))
        timeline = timeline_rows(execution, events)
        children = BoundedCountPaginator(execution.children.order_by("fork_id", "child_index"),
                                         CHILDREN_PER_PAGE, page_number=page_number(request, "children") or 1)
        child_page = children.get_page(request.GET.get("children") or 1)
        chained = list(execution.chained_executions.order_by("start_date", "pk")
                       .values_list("pk", "name", "status")[:50])
        user = request.user
        known = {"execution_id", "name", "state_machine", "version", "status", "input", "output", "error", "cause",
                 "start_date", "stop_date", "parent", "redrive_count", "source_execution_id", "source_state",
                 "source_link", "chained_execution_ids"}
        waiting = list(execution.task_tokens.filter(status=TaskToken.Status.STARTED).order_by("-pk")[:10])
        variables = execution_variables(execution)  # read from the row's cursor: no query
        return self.page(
            request, "admin/django_asl/execution/detail.html", f"Execution {execution.name}", execution,
            execution=execution, described=described,
            other_keys=[(key, pretty(value)) for key, value in described.items() if key not in known],
            input=pretty(execution.input), output=pretty(execution.output),
            variables=pretty(variables) if variables else "",
            graph=definition_graph(execution.version.definition), inspection=inspect_execution(execution),
            timeline=timeline, event_page=page, event_pages=pages, events_total=total,
            child_page=child_page, chained=chained, waiting_tasks=waiting,
            status_url=self.url_of("status", execution.pk),
            can={"stop": execution.is_running and user.has_perm("django_asl.stop_execution"),
                 "redrive": not execution.is_running and execution.parent_id is None
                 and user.has_perm("django_asl.redrive_execution"),
                 "rerun": execution.parent_id is None and user.has_perm("django_asl.start_execution"),
                 "send_message": execution.is_running and user.has_perm("django_asl.send_message"),
                 "complete_task": execution.is_running and user.has_perm("django_asl.complete_task")},
        )

    def status_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        """The JSON the detail page polls while an execution runs: status and path taken."""
        execution = self.get_object_or_404(request, object_id)
        if not self.has_view_permission(request, execution):
            raise PermissionDenied
        return JsonResponse(inspect_execution(execution))

    def confirm(self, request: HttpRequest, execution: Execution, codename: str, title: str,
                call: Callable[[Any], Any], success: str | Callable[[Any], str],
                form_class: type[forms.Form] | None = None, initial: dict | None = None,
                then: Callable[[Any], str] | None = None) -> HttpResponse:
        """Show a confirmation page (with an optional form); on POST, run the engine call and go back."""
        self.require(request, codename)
        form = form_class(request.POST if request.method == "POST" else None, initial=initial) if form_class else None
        if request.method == "POST" and (form is None or form.is_valid()):
            result = run_engine(request, lambda: call(form.cleaned_data if form else None), success)
            target = then(result) if result is not None and then else self.url_of("change", execution.pk)
            return HttpResponseRedirect(target)
        return self.page(request, "admin/django_asl/form.html", title, execution, form=form, submit=title,
                         back=self.url_of("change", execution.pk))

    def stop_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        execution = self.get_object_or_404(request, object_id)
        return self.confirm(request, execution, "stop_execution", f"Stop {execution.name}",
                            lambda data: stop_execution(execution), "The execution was stopped.")

    def redrive_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        execution = self.get_object_or_404(request, object_id)
        return self.confirm(request, execution, "redrive_execution", f"Redrive {execution.name}",
                            lambda data: redrive_execution(execution), "The execution was redriven.")

    def rerun_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        execution = self.get_object_or_404(request, object_id)
        return self.confirm(
            request, execution, "start_execution", f"Re-run {execution.name}",
            lambda data: rerun_execution(execution, input=data["input"]),
            lambda started: f"Started the re-run {started.name}.", RerunForm, {"input": pretty(execution.input)},
            then=lambda started: self.url_of("change", started.pk))

    def send_message_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        execution = self.get_object_or_404(request, object_id)
        subscription = execution.message_subscriptions.order_by("-pk").first()
        initial = {"correlation_key": subscription.correlation_key,
                   "correlation_value": json.dumps(subscription.correlation_value)} if subscription else {}
        return self.confirm(
            request, execution, "send_message", f"Send a message to {execution.name}",
            lambda data: send_message(data["correlation_key"], data["correlation_value"], data["data"]),
            lambda sent: f"Message sent: {sent}.", SendMessageForm, initial)

    def task_view(self, request: HttpRequest, object_id: str, task_id: int) -> HttpResponse:
        execution = self.get_object_or_404(request, object_id)
        task = get_object_or_404(TaskToken, pk=task_id, execution=execution)

        def answer(data: dict) -> str:
            if data["outcome"] == "success":
                send_task_success(task.token, data["output"])
                return "succeeded"
            send_task_failure(task.token, data["error"] or None, data["cause"] or None)
            return "failed"

        return self.confirm(request, execution, "complete_task", f"Answer the task {task.state_name}",
                            answer, lambda outcome: f"The task {task.state_name} {outcome}.", TaskAnswerForm)

    # -- batch launch and changelist actions

    @admin.action(description="Launch a batch from the selected executions", permissions=["start_batch"])
    def launch_batch(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        """Launch a batch from the selected rows; with "Select all", from the changelist's current filter.

        Selected rows go to a confirmation form that carries their ids as hidden
        fields and posts back to this action (as ``delete_selected`` does); the
        batch's ``source_filter`` is then ``{"ids": [...]}``. "Select all" goes
        to the batch launch form of the current filter, which has no bound.
        """
        if request.POST.get("select_across") == "1":
            query = request.GET.urlencode()
            return HttpResponseRedirect(self.url_of("batch_launch") + (f"?{query}" if query else ""))
        sources = list(queryset.order_by("start_date", "pk").values_list("pk", "name")[:MAX_SOURCE_IDS + 1])
        if len(sources) > MAX_SOURCE_IDS:
            self.message_user(request, f"A batch takes at most {MAX_SOURCE_IDS:,} selected executions; filter "
                                       f"the list and choose \"Select all\" instead.", messages.ERROR)
            return None
        form = BatchLaunchForm(request.POST if request.POST.get("confirmed") == "yes" else None)
        if form.is_bound and form.is_valid():
            batch = self.start_batch_from(request, {"ids": [str(pk) for pk, _name in sources]}, form.cleaned_data)
            if batch is not None:
                return HttpResponseRedirect(reverse("admin:django_asl_batch_change", args=[batch.pk]))
        hidden = [(admin.helpers.ACTION_CHECKBOX_NAME, str(pk)) for pk, _name in sources]
        hidden += [("action", "launch_batch"), ("select_across", "0"), ("confirmed", "yes")]
        return self.page(request, "admin/django_asl/form.html", "Launch a batch", None, form=form,
                         submit="Launch batch", source_names=[name for _pk, name in sources], hidden=hidden,
                         back=self.url_of("changelist") + (f"?{request.GET.urlencode()}" if request.GET else ""))

    def start_batch_from(self, request: HttpRequest, source_filter: dict, data: dict) -> Batch | None:
        """Start a batch from ``source_filter`` with a valid ``BatchLaunchForm``'s data; report the outcome."""
        return run_engine(
            request, lambda: start_batch(data["target"], source_filter, name_prefix=data["name_prefix"],
                                         concurrency=data["concurrency"], stop_on_error=data["stop_on_error"]),
            lambda started: f"Launched a batch of {started.total} executions.")

    @admin.action(description="Stop the selected running executions", permissions=["stop_execution"])
    def stop_selected(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        """Confirm, then stop each selected running execution through ``stop_execution``."""
        running = list(queryset.filter(status=Execution.Status.RUNNING).values_list("pk", "name")[:500])
        if request.POST.get("confirmed") == "yes":
            stopped = 0
            for pk, name in running:
                if run_engine(request, lambda pk=pk: stop_execution(pk), f"Stopped {name}.") is not None:
                    stopped += 1
            return None
        return self.page(request, "admin/django_asl/stop_selected.html", "Stop the selected executions",
                         running=running, selected=request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                         select_across=request.POST.get("select_across", "0"))

    def batch_launch_view(self, request: HttpRequest) -> HttpResponse:
        """Launch a batch from the executions matching a changelist filter (needs ``start_batch``)."""
        self.require(request, "start_batch")
        try:
            source_filter = changelist_source_filter(request.GET)
        except ValueError as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(self.url_of("changelist"))
        form = BatchLaunchForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            batch = self.start_batch_from(request, source_filter, form.cleaned_data)
            if batch is not None:
                return HttpResponseRedirect(reverse("admin:django_asl_batch_change", args=[batch.pk]))
        return self.page(request, "admin/django_asl/form.html", "Launch a batch", None, form=form,
                         submit="Launch batch", source_filter=pretty(source_filter),
                         back=self.url_of("changelist"))

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        query = request.GET.copy()
        for param in ("p", "o", "_changelist_filters"):
            query.pop(param, None)
        extra = {"batch_launch_url": self.url_of("batch_launch") + (f"?{query.urlencode()}" if query else ""),
                 "can_launch_batch": request.user.has_perm("django_asl.start_batch"), **(extra_context or {})}
        return super().changelist_view(request, extra)

    change_list_template = "admin/django_asl/execution/change_list.html"


def timeline_rows(execution: Execution, events: list[HistoryEvent]) -> list[dict]:
    """Return one row per event of a timeline page: time since start, duration and attempt of its state.

    One pass: an ``*Exited`` event's duration is measured from its ``*Entered``
    event (looked up on this page, else with one query for the entered events
    this page lacks).
    """
    entered: dict[str, Any] = {}
    attempts: dict[str, int] = {}
    current = ""
    missing = {event.state_name for event in events if event.type.endswith("StateExited")}
    missing -= {event.state_name for event in events if event.type.endswith("StateEntered")}
    if missing and events:
        # The newest entered event of each state before this page (one query).
        for name, timestamp in (execution.history.filter(sequence__lt=events[0].sequence, state_name__in=missing,
                                                         type__endswith="StateEntered")
                                .order_by("state_name", "-sequence").values_list("state_name", "timestamp")):
            entered.setdefault(name, timestamp)
    rows = []
    for event in events:
        row = {"event": event, "since_start": (event.timestamp - execution.start_date).total_seconds(),
               "duration": None, "attempt": None, "details": pretty(event.details) if event.details else ""}
        if event.type.endswith("StateEntered"):
            current = event.state_name
            entered[current] = event.timestamp
            attempts[current] = 0
        elif event.type.endswith("StateExited"):
            started = entered.get(event.state_name)
            if started is not None:
                row["duration"] = (event.timestamp - started).total_seconds()
        elif event.type.endswith("Scheduled") and current:
            attempts[current] = attempts.get(current, 0) + 1
            row["attempt"] = attempts[current]
        rows.append(row)
    return rows


# ---------------------------------------------------------------- history, batches


@admin.register(HistoryEvent)
class HistoryEventAdmin(AslAdminMixin, admin.ModelAdmin):
    """History events, read-only for everyone; searched by execution id."""

    list_display = ("execution", "sequence", "type", "state_name", "timestamp")
    list_select_related = ("execution",)
    search_fields = ("execution__id",)
    search_help_text = "An execution id."
    show_full_result_count = False
    sortable_by = ()
    ordering = ("execution", "sequence")
    readonly_fields = ("execution", "sequence", "type", "state_name", "timestamp", "details")

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> tuple[Any, bool]:
        return search_by_uuid(queryset, search_term, "execution_id", lambda term: queryset.none())

    def get_paginator(self, request: HttpRequest, queryset: Any, per_page: int, orphans: int = 0,
                      allow_empty_first_page: bool = True) -> Paginator:
        return BoundedCountPaginator(queryset, per_page, orphans, allow_empty_first_page,
                                     page_number=page_number(request) + 1)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Batch)
class BatchAdmin(AslAdminMixin, admin.ModelAdmin):
    """Batch launches with live progress; cancel needs ``django_asl.cancel_batch``."""

    list_display = ("name_prefix", "state_machine", "status", "progress", "created_at")
    list_filter = ("status", "state_machine")
    list_select_related = ("state_machine",)
    show_full_result_count = False

    @admin.display(description="progress")
    def progress(self, obj: Batch) -> str:
        done = obj.succeeded + obj.failed
        return format_html('<progress max="{}" value="{}"></progress> {}/{} ({} failed)',
                           obj.total or 1, done, done, obj.total, obj.failed)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # batches are launched from the execution list

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list:
        return [
            self.own_url(self.status_view, "<path:object_id>/status.json", "status"),
            self.own_url(self.cancel_view, "<path:object_id>/cancel/", "cancel"),
            *super().get_urls(),
        ]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict | None = None) -> HttpResponse:
        """The batch's figures (polled while it runs) and a page of its items; read-only (a POST is refused)."""
        batch = self.get_object_or_404(request, object_id)
        if request.method == "POST" or not self.has_view_permission(request, batch):
            raise PermissionDenied
        paginator = Paginator(BatchItem.objects.filter(batch=batch).select_related("execution", "source")
                              .order_by("index"), 50)
        paginator.count = batch.total  # the items are snapshotted once: no COUNT over a million of them
        items = paginator.get_page(request.GET.get("items") or 1)
        return self.page(request, "admin/django_asl/batch/detail.html", f"Batch {batch.name_prefix}", batch,
                         batch=batch, described=describe_batch(batch), items=items,
                         status_url=self.url_of("status", batch.pk),
                         can_cancel=batch.status == Batch.Status.RUNNING
                         and request.user.has_perm("django_asl.cancel_batch"))

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        try:
            uuid.UUID(str(object_id))
        except ValueError:
            return None
        return super().get_object(request, object_id, from_field)

    def status_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        batch = self.get_object_or_404(request, object_id)
        if not self.has_view_permission(request, batch):
            raise PermissionDenied
        return JsonResponse(describe_batch(batch))

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        batch = self.get_object_or_404(request, object_id)
        self.require(request, "cancel_batch")
        back = self.url_of("change", batch.pk)
        if request.method == "POST":
            run_engine(request, lambda: cancel_batch(batch, stop_running=request.POST.get("stop_running") == "on"),
                       "The batch was cancelled.")
            return HttpResponseRedirect(back)
        return self.page(request, "admin/django_asl/batch/cancel.html", f"Cancel the batch {batch.name_prefix}",
                         batch, back=back)
