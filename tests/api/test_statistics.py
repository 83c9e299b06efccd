"""Tests of /api/statistics/: per-status and per-state figures of a state machine's executions."""
from __future__ import annotations

import pytest

from django_asl import engine

pytestmark = pytest.mark.django_db

URL = "/api/statistics/"


def test_statistics_of_a_machine(admin_client, machine, run, drain):
    run(engine.start_execution, "hello")
    drain()
    response = admin_client.get(URL, {"state_machine": "hello"})
    assert response.status_code == 200, response.data
    assert response.data["executions"] == 1 and response.data["statuses"]["SUCCEEDED"]["count"] == 1
    assert response.data["states"]["Done"]["entries"] == 1
    without = admin_client.get(URL, {"state_machine": "hello", "include_states": "false"}).data
    assert "states" not in without


@pytest.mark.parametrize("query, status, key", [
    ({}, 400, "state_machine"),  # required
    ({"state_machine": "nope"}, 404, "detail"),  # unknown
    ({"state_machine": "hello", "start": "soon"}, 400, "start"),  # not a date
    ({"state_machine": "hello", "start": "2026-02-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, 400, "end"),
])
def test_bad_queries(admin_client, machine, query, status, key):
    response = admin_client.get(URL, query)
    assert response.status_code == status and key in response.data


def test_statistics_need_the_view_execution_permission(user_client, machine):
    denied = user_client("django_asl.view_statemachine").get(URL, {"state_machine": "hello"})
    assert denied.status_code == 403 and "django_asl.view_execution" in denied.data["detail"]
    assert user_client("django_asl.view_execution").get(URL, {"state_machine": "hello"}).status_code == 200
