"""Tests of /api/executions/: list with filters and cursors, start, describe, history, stop, redrive, rerun."""
from __future__ import annotations

from datetime import timedelta

import pytest

from django_asl import engine
from django_asl.models import Execution

from .conftest import PASS, START, callback_definition

pytestmark = pytest.mark.django_db

URL = "/api/executions/"
FAIL = {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Nope", "Cause": "no"}}}


def started(count: int, machine: str = "hello", prefix: str = "run") -> list[Execution]:
    """Start ``count`` executions one second apart (start_date), the newest last."""
    executions = []
    for index in range(count):
        execution = engine.start_execution(machine, {"i": index}, name=f"{prefix}-{index}")
        Execution.objects.filter(pk=execution.pk).update(start_date=START + timedelta(seconds=index))
        executions.append(execution)
    return executions


def test_list_pages_newest_first_with_cursors(admin_client, machine):
    executions = started(5)
    first = admin_client.get(URL, {"page_size": 2}).data
    assert [item["name"] for item in first["results"]] == ["run-4", "run-3"]
    assert first["results"][0]["execution_id"] == str(executions[4].pk)
    second = admin_client.get(first["next"]).data
    third = admin_client.get(second["next"]).data
    assert [item["name"] for item in second["results"] + third["results"]] == ["run-2", "run-1", "run-0"]
    assert third["next"] is None and admin_client.get(third["previous"]).data["results"] == second["results"]


def test_list_ties_on_start_date_are_neither_lost_nor_repeated(admin_client, machine):
    for execution in started(5):
        Execution.objects.filter(pk=execution.pk).update(start_date=START)
    names, url = [], URL + "?page_size=2"
    while url:
        page = admin_client.get(url).data
        names += [item["name"] for item in page["results"]]
        url = page["next"]
    assert sorted(names) == [f"run-{i}" for i in range(5)]


def test_list_filters(admin_client, machine):
    engine.publish("other", PASS)
    started(3)
    started(1, "other", prefix="x")
    Execution.objects.filter(name="run-0").update(status="FAILED", stop_date=START + timedelta(minutes=1))

    def names(**query):
        response = admin_client.get(URL, query)
        assert response.status_code == 200, response.data
        return sorted(item["name"] for item in response.data["results"])

    assert names(state_machine="other") == ["x-0"]
    assert names(status="FAILED") == ["run-0"]
    assert names(name_prefix="run-") == ["run-0", "run-1", "run-2"]
    assert names(started_after=(START + timedelta(seconds=1)).isoformat(),
                 started_before=(START + timedelta(seconds=2)).isoformat()) == ["run-1"]
    assert names(stopped_after=START.isoformat(), stopped_before=(START + timedelta(hours=1)).isoformat()) == [
        "run-0"]


@pytest.mark.parametrize("query, field", [
    ({"status": "BORED"}, "status"),  # not a status
    ({"started_after": "yesterday"}, "started_after"),  # not a date
    ({"state_machine": "nope"}, "state_machine"),  # unknown machine
])
def test_list_rejects_bad_filters(admin_client, machine, query, field):
    response = admin_client.get(URL, query)
    assert response.status_code == 400 and field in response.data


def test_a_bad_cursor_is_a_404(admin_client, machine):
    assert admin_client.get(URL, {"cursor": "garbage"}).status_code == 404


def test_create_starts_an_execution_and_retrieve_describes_it(admin_client, machine, run, drain):
    response = run(admin_client.post, URL, {"state_machine": "hello", "input": {"a": 1}, "name": "n1"},
                   format="json")
    assert response.status_code == 201, response.data
    drain()
    described = admin_client.get(URL + response.data["execution_id"] + "/").data
    assert (described["status"], described["output"], described["name"]) == ("SUCCEEDED", {"a": 1}, "n1")
    assert admin_client.post(URL, {"state_machine": "nope"}, format="json").status_code == 404
    assert admin_client.post(URL, {"state_machine": "hello", "input": {"a": 2}, "name": "n1"},
                             format="json").status_code == 409
    assert admin_client.post(URL, {"state_machine": "hello", "name": ""}, format="json").status_code == 400


def test_retrieve_shows_the_variables_where_the_execution_stands(admin_client, run, drain, tasks):
    tasks["urn:django-asl:api.hold"] = lambda payload, context: None  # the task then waits for its token
    engine.publish("assigning", {"StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"customer": {"id": 7}, "tries": 1}, "Next": "Hold"},
        "Hold": {"Type": "Task", "Resource": "urn:django-asl:api.hold.waitForTaskToken", "End": True}}})
    created = run(admin_client.post, URL, {"state_machine": "assigning"}, format="json").data
    drain(until_callbacks=True)
    described = admin_client.get(f"{URL}{created['execution_id']}/").data
    assert (described["status"], described["variables"]) == ("RUNNING", {"customer": {"id": 7}, "tries": 1})
    assert created["variables"] == {}  # answered before the first step ran


def test_unknown_or_malformed_ids_are_404s(admin_client, machine):
    for path in ["not-a-uuid/", "00000000-0000-0000-0000-000000000000/", "not-a-uuid/history/"]:
        response = admin_client.get(URL + path)
        assert response.status_code == 404 and "execution" in response.data["detail"]
    assert admin_client.post(URL + "not-a-uuid/stop/", {}, format="json").status_code == 404


def test_history_pages_oldest_first(admin_client, machine, run, drain):
    execution = run(engine.start_execution, "hello")
    drain()
    every = [event["type"] for event in engine.get_execution_history(execution)]
    page = admin_client.get(f"{URL}{execution.pk}/history/", {"limit": 2}).data
    types = [event["type"] for event in page["results"]]
    while page["next"]:
        page = admin_client.get(page["next"]).data
        types += [event["type"] for event in page["results"]]
    assert types == every and every[0] == "ExecutionStarted"
    after = admin_client.get(f"{URL}{execution.pk}/history/", {"after": 1}).data
    assert after["results"][0]["id"] == 2 and after["next"] is None
    assert admin_client.get(f"{URL}{execution.pk}/history/", {"limit": 0}).status_code == 400


def test_get_execution_history_pages_and_checks_its_arguments(machine, run, drain):
    execution = run(engine.start_execution, "hello")
    drain()
    every = engine.get_execution_history(execution)
    assert engine.get_execution_history(execution, after_sequence=1, limit=2) == every[1:3]
    with pytest.raises(ValueError):
        engine.get_execution_history(execution, limit=0)
    with pytest.raises(TypeError):
        engine.get_execution_history(execution, after_sequence="1")


def test_stop_then_stop_again_is_a_conflict(admin_client, tasks):
    tasks["urn:django-asl:api.ship"] = lambda payload, context: None
    engine.publish("ship", callback_definition())
    execution = engine.start_execution("ship")
    response = admin_client.post(f"{URL}{execution.pk}/stop/", {"error": "Manual", "cause": "test"}, format="json")
    assert response.status_code == 200 and (response.data["status"], response.data["error"]) == ("ABORTED", "Manual")
    again = admin_client.post(f"{URL}{execution.pk}/stop/", {}, format="json")
    assert again.status_code == 409 and again.data["code"] == "execution_not_running"
    assert admin_client.post(f"{URL}{execution.pk}/stop/", {"error": 5 * "x" * 60}, format="json").status_code == 400


def test_redrive_a_failed_execution_and_not_a_succeeded_one(admin_client, tasks, run, drain):
    engine.publish("boom", FAIL)
    failed = run(engine.start_execution, "boom")
    drain()
    response = run(admin_client.post, f"{URL}{failed.pk}/redrive/", format="json")
    assert response.status_code == 200 and response.data["redrive_count"] == 1
    engine.publish("hello", PASS)
    ok = run(engine.start_execution, "hello")
    drain()
    refused = admin_client.post(f"{URL}{ok.pk}/redrive/", format="json")
    assert refused.status_code == 409 and refused.data["code"] == "execution_not_redrivable"


def test_rerun_with_the_same_or_another_input(admin_client, machine, run, drain):
    original = run(engine.start_execution, "hello", {"a": 1})
    drain()
    same = admin_client.post(f"{URL}{original.pk}/rerun/", {}, format="json")
    assert same.status_code == 201 and same.data["input"] == {"a": 1}
    assert same.data["source_execution_id"] == str(original.pk) and same.data["source_link"] == "rerun"
    other = admin_client.post(f"{URL}{original.pk}/rerun/", {"input": {"b": 2}, "name": "again"}, format="json")
    assert (other.data["input"], other.data["name"]) == ({"b": 2}, "again")


@pytest.mark.parametrize("method, path, needs", [
    ("get", "", "view_execution"),
    ("get", "{pk}/", "view_execution"),
    ("get", "{pk}/history/", "view_execution"),
    ("post", "", "start_execution"),
    ("post", "{pk}/rerun/", "start_execution"),
    ("post", "{pk}/stop/", "stop_execution"),
    ("post", "{pk}/redrive/", "redrive_execution"),
])
def test_each_action_needs_its_permission(user_client, machine, method, path, needs):
    execution = engine.start_execution("hello")
    body = {"state_machine": "hello"} if path == "" else {}
    url = URL + path.format(pk=execution.pk)
    denied = getattr(user_client("django_asl.view_statemachine"), method)(url, body, format="json")
    assert denied.status_code == 403 and f"django_asl.{needs}" in denied.data["detail"]
    allowed = getattr(user_client(f"django_asl.{needs}"), method)(url, body, format="json")
    assert allowed.status_code not in (401, 403), allowed.data
