"""StateMachineAdmin: definitions as JSON or YAML, validation issues by the field, publish, start, statistics."""
from __future__ import annotations

import json

import pytest
from django.db import connection
from django.urls import reverse

from django_asl.engine import publish
from django_asl.models import Execution, StateMachine

pytestmark = pytest.mark.django_db

ADD = "/admin/django_asl/statemachine/add/"
# The read-only versions inline still posts its management form.
INLINE = {"versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0"}
YAML = "StartAt: P\nStates:\n  P:\n    Type: Pass\n    End: true\n"


def change_url(machine):
    return reverse("admin:django_asl_statemachine_change", args=[machine.pk])


def test_a_yaml_definition_is_published_as_version_1(operator, tasks):
    response = operator.post(ADD, {**INLINE, "name": "hello", "type": "STANDARD", "description": "", "definition_text": YAML})
    assert response.status_code == 302
    machine = StateMachine.objects.get(name="hello")
    assert (machine.current_version.number, machine.definition) == (
        1, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


def test_validation_issues_show_next_to_the_field_as_path_and_message(operator, tasks):
    broken = json.dumps({"StartAt": "Nowhere", "States": {"P": {"Type": "Pass", "Next": "Missing"}}})
    response = operator.post(ADD, {**INLINE, "name": "broken", "type": "STANDARD", "definition_text": broken})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["definition_text"]
    assert any(error.startswith("$.States.P.Next: ") for error in errors), errors
    assert any(error.startswith("$.StartAt: ") for error in errors), errors
    assert b"$.States.P.Next: " in response.content
    assert not StateMachine.objects.filter(name="broken").exists()


def test_unparsable_text_is_an_issue_not_a_500(operator, tasks):
    response = operator.post(ADD, {**INLINE, "name": "bad", "type": "STANDARD", "definition_text": "{not json"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["definition_text"]


def test_an_unknown_task_resource_is_an_issue(operator, tasks):
    definition = json.dumps({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "urn:nope", "End": True}}})
    response = operator.post(ADD, {**INLINE, "name": "t", "type": "STANDARD", "definition_text": definition})
    assert any(error.startswith("$.States.T.Resource: ")
               for error in response.context["adminform"].form.errors["definition_text"])


def test_editing_publishes_a_new_version_and_the_same_text_does_not(operator, machines):
    machine = machines["pass"]
    changed = {"StartAt": "Q", "States": {"Q": {"Type": "Pass", "End": True}}}
    data = {"name": "pass", "type": "STANDARD", "description": "", "definition_text": json.dumps(changed),
            **INLINE}
    assert operator.post(change_url(machine), data).status_code == 302
    assert operator.post(change_url(machine), data).status_code == 302
    machine.refresh_from_db()
    assert list(machine.versions.values_list("number", flat=True)) == [2, 1]
    assert machine.definition == changed


def test_the_change_page_draws_the_graph_and_lists_versions(viewer, machines, django_assert_num_queries):
    machine = machines["flaky"]
    response = viewer.get(change_url(machine))
    assert response.status_code == 200
    graph = response.context["graph"]
    assert {node["id"] for node in graph["nodes"]} >= {"|Flaky", '[["Fan", 0]]|A', '[["Fan", 1]]|B'}
    assert b'id="asl-graph"' in response.content and b"cytoscape.min.js" in response.content
    assert b"Start execution" not in response.content  # a viewer may not start
    # Read-only for a viewer: no editable definition field is posted back.
    assert response.context["adminform"].form.fields == {} or "definition_text" not in response.context[
        "adminform"].form.fields or response.context["has_change_permission"] is False


def test_the_change_page_has_a_bounded_number_of_queries(operator, machines, django_assert_max_num_queries):
    machine = machines["pass"]
    for index in range(5):
        publish("pass", {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": index, "End": True}}})
    with django_assert_max_num_queries(12):
        assert operator.get(change_url(machine)).status_code == 200


def test_start_execution_with_json_input(operator, machines):
    url = reverse("admin:django_asl_statemachine_start", args=[machines["pass"].pk])
    assert operator.get(url).status_code == 200
    response = operator.post(url, {"name": "from-admin", "input": '{"a": 1}'})
    execution = Execution.objects.get(name="from-admin")
    assert response.status_code == 302 and response["Location"].endswith(f"/{execution.pk}/change/")
    assert execution.input == {"a": 1}


def test_start_execution_refuses_invalid_json_and_duplicate_names(operator, machines):
    url = reverse("admin:django_asl_statemachine_start", args=[machines["pass"].pk])
    response = operator.post(url, {"input": "{oops"})
    assert response.status_code == 200 and "not valid JSON" in str(response.context["form"].errors["input"])
    operator.post(url, {"name": "twice", "input": "{}"})
    response = operator.post(url, {"name": "twice", "input": '{"other": true}'}, follow=True)
    assert response.status_code == 200
    assert any("already exists" in str(message) for message in response.context["messages"])


def test_statistics_page_makes_a_few_queries_per_bucket(viewer, failed, django_assert_num_queries):
    url = reverse("admin:django_asl_statemachine_statistics", args=[failed.state_machine.pk])
    # A fixed part and a few queries per bucket (execution_statistics: one statement on PostgreSQL,
    # two queries in Python on SQLite), at most MAX_BUCKETS (60) buckets.
    fixed, per_bucket = (10, 1) if connection.vendor == "postgresql" else (12, 2)
    with django_assert_num_queries(fixed + per_bucket * 4):
        response = viewer.get(url, {"days": "2", "buckets": "4", "end": "2026-01-02 00:00"})
    assert response.status_code == 200
    with django_assert_num_queries(fixed + per_bucket * 8):
        viewer.get(url, {"days": "2", "buckets": "8", "end": "2026-01-02 00:00"})
    assert len(response.context["buckets"]) == 4
    assert response.context["total"]["statuses"]["FAILED"]["count"] == 1
    assert b"chart.umd.js" in response.content
    assert viewer.get(url, {"days": "x", "buckets": "1000"}).status_code == 200  # bad bounds: the defaults
