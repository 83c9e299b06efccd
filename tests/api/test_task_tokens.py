"""Tests of /api/task-tokens/: success, failure and heartbeat answers to waiting tasks."""
from __future__ import annotations

import pytest

from django_asl import engine
from django_asl.models import Execution

from .conftest import callback_definition

pytestmark = pytest.mark.django_db

URL = "/api/task-tokens/"


@pytest.fixture
def waiting(tasks, run, drain):
    """Start an execution whose task waits for a callback; return (execution, its token)."""
    tokens = []
    tasks["urn:django-asl:api.ship"] = lambda payload, context: tokens.append(payload["token"])
    engine.publish("ship", callback_definition())
    execution = run(engine.start_execution, "ship")
    drain(until_callbacks=True)
    return execution, tokens[0]


def status(execution: Execution) -> str:
    execution.refresh_from_db()
    return execution.status


def test_success_completes_the_task(admin_client, waiting, run, drain):
    execution, token = waiting
    assert admin_client.post(URL + "heartbeat/", {"task_token": token}, format="json").status_code == 204
    response = run(admin_client.post, URL + "success/", {"task_token": token, "output": {"shipped": 1}},
                   format="json")
    assert response.status_code == 204
    drain()
    assert status(execution) == "SUCCEEDED" and execution.output == {"shipped": 1}
    late = admin_client.post(URL + "success/", {"task_token": token, "output": {}}, format="json")
    assert late.status_code == 409 and late.data["code"] == "task_timed_out"


def test_failure_fails_the_execution(admin_client, waiting, run, drain):
    execution, token = waiting
    response = run(admin_client.post, URL + "failure/", {"task_token": token, "error": "Lost", "cause": "truck"},
                   format="json")
    assert response.status_code == 204
    drain()
    assert status(execution) == "FAILED" and (execution.error, execution.cause) == ("Lost", "truck")


def test_bad_answers_are_4xx_json_errors(admin_client, waiting):
    execution, token = waiting
    unknown = admin_client.post(URL + "success/", {"task_token": "x" * 64, "output": {}}, format="json")
    assert unknown.status_code in (400, 404) and unknown.data["code"] in ("invalid_token", "task_does_not_exist")
    not_json = admin_client.post(URL + "success/", {"task_token": token, "output": "{oops"}, format="json")
    assert not_json.status_code == 400 and not_json.data["code"] == "invalid_output"
    assert "output" in admin_client.post(URL + "success/", {"task_token": token}, format="json").data
    assert "task_token" in admin_client.post(URL + "heartbeat/", {}, format="json").data
    assert status(execution) == "RUNNING"


@pytest.mark.parametrize("path", ["success/", "failure/", "heartbeat/"])
def test_answers_need_the_complete_task_permission(user_client, waiting, path):
    execution, token = waiting
    body = {"task_token": token, "output": {}}
    denied = user_client("django_asl.view_execution").post(URL + path, body, format="json")
    assert denied.status_code == 403 and "django_asl.complete_task" in denied.data["detail"]
    assert user_client("django_asl.complete_task").post(URL + path, body, format="json").status_code == 204
