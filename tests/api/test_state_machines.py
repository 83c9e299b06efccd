"""Tests of /api/state-machines/: publish, read, update, delete, validate, start, versions and graph."""
from __future__ import annotations

import pytest

from django_asl import engine
from django_asl.models import Execution, StateMachine

from .conftest import PASS

pytestmark = pytest.mark.django_db

URL = "/api/state-machines/"
EXPRESS_PASS = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "Result": {"ok": True}, "End": True}}}


def test_create_then_retrieve_and_list(admin_client, tasks):
    response = admin_client.post(URL, {"name": "hello", "definition": PASS, "description": "d"}, format="json")
    assert response.status_code == 201, response.data
    assert response.data["name"] == "hello" and response.data["version"] == 1
    assert response.data["definition"] == PASS and response.data["type"] == "STANDARD"
    assert admin_client.get(URL + "hello/").data["description"] == "d"
    listed = admin_client.get(URL).data
    assert [item["name"] for item in listed["results"]] == ["hello"] and listed["next"] is None


def test_create_with_an_invalid_definition_lists_each_issue_under_definition(admin_client, tasks):
    bad = {"StartAt": "Nowhere", "States": {"Done": {"Type": "Pass", "Next": "Missing"}}}
    response = admin_client.post(URL, {"name": "bad", "definition": bad}, format="json")
    assert response.status_code == 400
    issues = response.data["definition"]
    assert {issue["path"] for issue in issues} >= {"$.StartAt", "$.States.Done.Next"}
    assert all(set(issue) == {"path", "code", "message"} for issue in issues)
    assert not StateMachine.objects.filter(name="bad").exists()


@pytest.mark.parametrize("body, field", [
    ({"definition": PASS}, "name"),  # no name
    ({"name": "x" * 81, "definition": PASS}, "name"),  # name too long
    ({"name": "x", "definition": [1, 2]}, "definition"),  # definition not an object
    ({"name": "x", "definition": PASS, "type": "FAST"}, "type"),  # unknown type
])
def test_create_rejects_bad_fields(admin_client, tasks, body, field):
    response = admin_client.post(URL, body, format="json")
    assert response.status_code == 400 and field in response.data


def test_create_with_an_existing_name_is_a_conflict(admin_client, machine):
    response = admin_client.post(URL, {"name": "hello", "definition": PASS}, format="json")
    assert response.status_code == 409 and response.data["code"] == "conflict"


def test_malformed_json_is_a_400(admin_client, tasks):
    response = admin_client.generic("POST", URL, "{not json", content_type="application/json")
    assert response.status_code == 400 and response.data["code"] == "parse_error"


def test_update_publishes_a_new_version_and_versions_lists_them(admin_client, machine):
    changed = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    response = admin_client.put(URL + "hello/", {"definition": changed}, format="json")
    assert response.status_code == 200 and response.data["version"] == 2
    response = admin_client.patch(URL + "hello/", {"description": "new"}, format="json")
    assert response.data["description"] == "new" and response.data["version"] == 2
    versions = admin_client.get(URL + "hello/versions/").data
    assert [(v["number"], v["current"]) for v in versions] == [(2, True), (1, False)]


def test_unknown_name_is_a_404(admin_client, tasks):
    for method, path in [("get", "nope/"), ("get", "nope/graph/"), ("get", "nope/versions/"),
                         ("post", "nope/start/"), ("delete", "nope/"), ("put", "nope/")]:
        response = getattr(admin_client, method)(URL + path, {}, format="json")
        assert response.status_code == 404, (method, path)
        assert "nope" in response.data["detail"]


def test_delete_a_machine_without_executions_only(admin_client, machine):
    engine.publish("other", PASS)
    engine.start_execution("other")
    assert admin_client.delete(URL + "other/").status_code == 409
    assert admin_client.delete(URL + "hello/").status_code == 204
    assert list(StateMachine.objects.values_list("name", flat=True)) == ["other"]


def test_validate_returns_issues_with_paths(admin_client, tasks):
    bad = {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "urn:nobody", "End": True}}}
    response = admin_client.post(URL + "validate/", {"definition": bad}, format="json")
    assert response.status_code == 200 and response.data["valid"] is False
    assert [(i["path"], i["code"], i["severity"]) for i in response.data["issues"]] == [
        ("$.States.A.Resource", "unknown_resource", "error")]
    assert admin_client.post(URL + "validate/", {"definition": PASS}, format="json").data == {
        "valid": True, "issues": []}


def test_start_then_same_name_and_input_again_then_another_input(admin_client, machine, drain):
    body = {"name": "first", "input": {"n": 1}}
    response = admin_client.post(URL + "hello/start/", body, format="json")
    assert response.status_code == 201 and response.data["status"] == "RUNNING"
    again = admin_client.post(URL + "hello/start/", body, format="json")
    assert again.status_code == 200 and again.data["execution_id"] == response.data["execution_id"]
    conflict = admin_client.post(URL + "hello/start/", {"name": "first", "input": {"n": 2}}, format="json")
    assert conflict.status_code == 409 and conflict.data["code"] == "execution_already_exists"


def test_start_rejects_an_input_over_the_payload_limit(admin_client, machine, settings):
    settings.DJANGO_ASL = {"MAX_PAYLOAD_BYTES": 100}
    response = admin_client.post(URL + "hello/start/", {"input": {"s": "x" * 200}}, format="json")
    assert response.status_code == 400 and "limit is 100 bytes" in str(response.data["input"])
    huge = admin_client.post(URL + "hello/start/", {"input": {"s": "x" * 70_000}}, format="json")
    assert huge.status_code == 413 and huge.data["code"] == "payload_too_large"
    assert not Execution.objects.exists()


def test_start_sync_runs_an_express_machine(admin_client, tasks, machine):
    engine.publish("quick", EXPRESS_PASS, type="EXPRESS")
    response = admin_client.post(URL + "quick/start-sync/", {"input": {}}, format="json")
    assert response.status_code == 200
    assert (response.data["status"], response.data["output"]) == ("SUCCEEDED", {"ok": True})
    standard = admin_client.post(URL + "hello/start-sync/", {}, format="json")
    assert standard.status_code == 400 and "STANDARD" in standard.data["detail"]


def test_graph_of_the_current_and_of_an_older_version(admin_client, machine):
    engine.publish("hello", {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"},
                                                         "B": {"Type": "Succeed"}}})
    graph = admin_client.get(URL + "hello/graph/").data
    assert [node["name"] for node in graph["nodes"]] == ["A", "B"]
    assert graph["edges"] == [{"source": "|A", "target": "|B", "kind": "next", "label": ""}]
    old = admin_client.get(URL + "hello/graph/?version=1").data
    assert [node["name"] for node in old["nodes"]] == ["Done"]
    assert admin_client.get(URL + "hello/graph/?version=9").status_code == 404
    assert admin_client.get(URL + "hello/graph/?version=x").status_code == 400


@pytest.mark.parametrize("method, path, body, needs", [
    ("get", "", None, "view_statemachine"),
    ("get", "hello/", None, "view_statemachine"),
    ("post", "", {"name": "new", "definition": PASS}, "add_statemachine"),
    ("put", "hello/", {"definition": PASS}, "change_statemachine"),
    ("delete", "hello/", None, "delete_statemachine"),
    ("post", "hello/start/", {}, "start_execution"),
])
def test_each_action_needs_its_permission(user_client, machine, method, path, body, needs):
    other = "django_asl.view_execution"
    denied = getattr(user_client(other), method)(URL + path, body, format="json")
    assert denied.status_code == 403 and f"django_asl.{needs}" in denied.data["detail"]
    allowed = getattr(user_client(f"django_asl.{needs}"), method)(URL + path, body, format="json")
    assert allowed.status_code in (200, 201, 204), allowed.data


def test_anonymous_requests_are_refused(machine):
    from rest_framework.test import APIClient

    assert APIClient().get(URL).status_code in (401, 403)
