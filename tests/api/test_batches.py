"""Tests of /api/batches/: launch from a filter, list and follow progress, cancel."""
from __future__ import annotations

import pytest

from django_asl import engine
from django_asl.models import Batch

from .conftest import PASS

pytestmark = pytest.mark.django_db

URL = "/api/batches/"


@pytest.fixture
def sources(machine, run, drain):
    """Three SUCCEEDED executions of ``hello`` to chain from, and the target machine ``after``."""
    for index in range(3):
        run(engine.start_execution, "hello", {"i": index}, name=f"src-{index}")
    drain()
    engine.publish("after", PASS)


def test_create_runs_the_batch_and_retrieve_shows_its_progress(admin_client, sources, run, drain):
    body = {"state_machine": "after", "source_filter": {"state_machine": "hello", "status": "SUCCEEDED"},
            "name_prefix": "b", "concurrency": 2, "input_transformer": {"from.$": "$.i"}}
    response = run(admin_client.post, URL, body, format="json")
    assert response.status_code == 201, response.data
    assert (response.data["total"], response.data["status"]) == (3, "RUNNING")
    drain()
    batch = admin_client.get(f"{URL}{response.data['batch_id']}/").data
    assert (batch["status"], batch["succeeded"], batch["pending"]) == ("SUCCEEDED", 3, 0)
    listed = admin_client.get(URL, {"state_machine": "after"}).data["results"]
    assert [item["batch_id"] for item in listed] == [response.data["batch_id"]]
    assert admin_client.get(URL, {"status": "RUNNING"}).data["results"] == []


def test_dates_in_the_filter_are_iso_8601_text(admin_client, sources):
    body = {"state_machine": "after", "source_filter": {"started_after": "2999-01-01T00:00:00Z"}, "name_prefix": "b"}
    response = admin_client.post(URL, body, format="json")
    assert response.status_code == 201 and response.data["total"] == 0


def test_a_batch_chains_from_hand_picked_ids(admin_client, sources, run, drain):
    picked = [str(pk) for pk in engine.list_executions(state_machine="hello").order_by("name")
              .values_list("pk", flat=True)[:2]]
    body = {"state_machine": "after", "source_filter": {"ids": picked}, "name_prefix": "picked"}
    response = run(admin_client.post, URL, body, format="json")
    assert response.status_code == 201, response.data
    assert (response.data["total"], sorted(response.data["source_filter"]["ids"])) == (2, sorted(picked))
    drain()
    chained = engine.list_executions(state_machine="after").values_list("source_execution_id", flat=True)
    assert sorted(str(pk) for pk in chained) == sorted(picked)


@pytest.mark.parametrize("ids, message", [
    ([], "Ensure this field has at least 1 elements."),
    (["not-a-uuid"], "Must be a valid UUID."),
    ([f"00000000-0000-0000-0000-{index:012d}" for index in range(10_001)],
     "Ensure this field has no more than 10000 elements."),
])
def test_bad_ids_are_refused_under_their_field(admin_client, sources, ids, message):
    body = {"state_machine": "after", "source_filter": {"ids": ids}, "name_prefix": "picked"}
    response = admin_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert message in str(response.data["source_filter"]["ids"])
    assert not Batch.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({"source_filter": {}, "name_prefix": "b"}, "state_machine"),  # no target
    ({"state_machine": "after", "source_filter": {"colour": "red"}, "name_prefix": "b"}, "source_filter"),
    ({"state_machine": "after", "source_filter": {"status": "BORED"}, "name_prefix": "b"}, "source_filter"),
    ({"state_machine": "after", "source_filter": {}, "name_prefix": "b", "concurrency": 0}, "concurrency"),
    ({"state_machine": "after", "source_filter": {}, "name_prefix": "b" * 41}, "name_prefix"),
    ({"state_machine": "after", "source_filter": {}, "name_prefix": "b", "input_transformer": "pkg.fn"},
     "input_transformer"),  # no dotted callables over HTTP
])
def test_create_rejects_bad_fields(admin_client, sources, body, field):
    response = admin_client.post(URL, body, format="json")
    assert response.status_code == 400 and field in response.data
    assert not Batch.objects.exists()


def test_unknown_target_or_batch_is_a_404(admin_client, sources):
    body = {"state_machine": "nope", "source_filter": {}, "name_prefix": "b"}
    assert admin_client.post(URL, body, format="json").status_code == 404
    assert admin_client.get(URL + "not-a-uuid/").status_code == 404
    assert admin_client.post(URL + "00000000-0000-0000-0000-000000000000/cancel/", {}, format="json").status_code == 404


def test_cancel_then_cancel_again_is_a_conflict(admin_client, sources):
    batch = engine.start_batch("after", {"state_machine": "hello"}, name_prefix="c")
    response = admin_client.post(f"{URL}{batch.pk}/cancel/", {"stop_running": True}, format="json")
    assert response.status_code == 200 and response.data["status"] == "CANCELLED"
    again = admin_client.post(f"{URL}{batch.pk}/cancel/", {}, format="json")
    assert again.status_code == 409 and again.data["code"] == "batch_not_running"


@pytest.mark.parametrize("method, path, needs", [
    ("get", "", "view_batch"), ("get", "{pk}/", "view_batch"), ("post", "", "start_batch"),
    ("post", "{pk}/cancel/", "cancel_batch"),
])
def test_each_action_needs_its_permission(user_client, sources, method, path, needs):
    batch = engine.start_batch("after", {"state_machine": "hello"}, name_prefix="p")
    body = {"state_machine": "after", "source_filter": {}, "name_prefix": "q"} if path == "" else {}
    url = URL + path.format(pk=batch.pk)
    denied = getattr(user_client("django_asl.view_execution"), method)(url, body, format="json")
    assert denied.status_code == 403 and f"django_asl.{needs}" in denied.data["detail"]
    allowed = getattr(user_client(f"django_asl.{needs}"), method)(url, body, format="json")
    assert allowed.status_code in (200, 201), allowed.data
