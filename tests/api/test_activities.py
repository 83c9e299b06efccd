"""Tests of /api/activities/: create, read, update, delete, and the long poll for tasks."""
from __future__ import annotations

import pytest

from django_asl import engine
from django_asl.models import Activity

pytestmark = pytest.mark.django_db

URL = "/api/activities/"
RESIZE = {"StartAt": "Resize", "States": {"Resize": {
    "Type": "Task", "Resource": "django-asl:activity:resize", "End": True}}}


def test_crud(admin_client, tasks):
    created = admin_client.post(URL, {"name": "resize", "description": "images"}, format="json")
    assert created.status_code == 201 and created.data["name"] == "resize"
    assert admin_client.get(URL + "resize/").data["description"] == "images"
    assert admin_client.patch(URL + "resize/", {"description": "pictures"}, format="json").data["description"] \
        == "pictures"
    assert [a["name"] for a in admin_client.get(URL).data["results"]] == ["resize"]
    assert admin_client.delete(URL + "resize/").status_code == 204
    assert not Activity.objects.exists()
    assert admin_client.get(URL + "resize/").status_code == 404


@pytest.mark.parametrize("body", [
    {"name": "has space"},  # whitespace
    {"name": ""},  # empty
    {"name": "a" * 81},  # too long
    {"description": "no name"},  # missing
])
def test_bad_names_are_400s(admin_client, tasks, body):
    response = admin_client.post(URL, body, format="json")
    assert response.status_code == 400 and ("name" in response.data or "detail" in response.data)


def test_poll_claims_a_task_and_answers_204_when_none_comes(admin_client, tasks, run, drain, settings):
    engine.create_activity("resize")
    engine.publish("images", RESIZE)
    execution = run(engine.start_execution, "images", {"w": 10})
    drain(until_callbacks=True)
    claimed = run(admin_client.post, URL + "resize/poll/", {"worker_name": "w1", "wait_seconds": 0}, format="json")
    assert claimed.status_code == 200 and claimed.data["input"] == {"w": 10}
    settings.DJANGO_ASL = {"API_LONG_POLL_SECONDS": 0}  # the cap: the request's 60 seconds become 0
    assert admin_client.post(URL + "resize/poll/", {"wait_seconds": 60}, format="json").status_code == 204
    busy = admin_client.delete(URL + "resize/")
    assert busy.status_code == 409 and busy.data["code"] == "activity_in_use"
    run(admin_client.post, "/api/task-tokens/success/", {"task_token": claimed.data["task_token"], "output": {}},
        format="json")
    drain()
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"


def test_poll_rejects_bad_waits_and_unknown_activities(admin_client, tasks):
    engine.create_activity("resize")
    assert "wait_seconds" in admin_client.post(URL + "resize/poll/", {"wait_seconds": 61}, format="json").data
    assert admin_client.post(URL + "nope/poll/", {"wait_seconds": 0}, format="json").status_code == 404


@pytest.mark.parametrize("method, path, body, needs", [
    ("get", "", None, "view_activity"), ("get", "resize/", None, "view_activity"),
    ("post", "", {"name": "new"}, "add_activity"), ("patch", "resize/", {"description": "d"}, "change_activity"),
    ("delete", "resize/", None, "delete_activity"), ("post", "resize/poll/", {"wait_seconds": 0}, "complete_task"),
])
def test_each_action_needs_its_permission(user_client, tasks, method, path, body, needs):
    engine.create_activity("resize")
    denied = getattr(user_client("django_asl.view_execution"), method)(URL + path, body, format="json")
    assert denied.status_code == 403 and f"django_asl.{needs}" in denied.data["detail"]
    allowed = getattr(user_client(f"django_asl.{needs}"), method)(URL + path, body, format="json")
    assert allowed.status_code in (200, 201, 204), allowed.data
