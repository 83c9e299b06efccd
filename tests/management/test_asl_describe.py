"""Tests of ``asl_describe``: the printed execution, its history, and unknown or malformed ids."""
from __future__ import annotations

import io
import json
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from django_asl.engine import advance_execution, publish, start_execution
from tests.asl.machines import single

pytestmark = pytest.mark.django_db


def describe(*args) -> dict:
    out = io.StringIO()
    call_command("asl_describe", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def execution(clock, tasks):
    publish("pass", single({"Type": "Pass", "Result": "done"}, "Done"))
    execution = start_execution("pass", {"x": 1}, name="first")
    advance_execution(execution.pk)
    return execution


def test_describe(execution):
    assert describe(str(execution.pk)) == {
        "execution_id": str(execution.pk), "name": "first", "state_machine": "pass", "version": 1,
        "status": "SUCCEEDED", "input": {"x": 1}, "output": "done", "error": None, "cause": None,
        "start_date": "2026-01-01T00:00:00+00:00", "stop_date": "2026-01-01T00:00:00+00:00", "parent": None,
        "redrive_count": 0,
    }


def test_describe_with_history(execution):
    printed = describe(str(execution.pk).upper(), "--history")
    assert printed["status"] == "SUCCEEDED"
    assert [(event["id"], event["type"]) for event in printed["history"]] == [
        (1, "ExecutionStarted"), (2, "PassStateEntered"), (3, "PassStateExited"), (4, "ExecutionSucceeded")]
    assert printed["history"][0]["timestamp"] == "2026-01-01T00:00:00+00:00"
    assert printed["history"][1]["details"]["name"] == "Done"


@pytest.mark.parametrize("execution_id, expected", [
    # a well-formed id that no execution has
    ("5f0c7a8e-3b0a-4a57-9a55-0f9d1b8f8c11", "No execution with id '5f0c7a8e-3b0a-4a57-9a55-0f9d1b8f8c11'."),
    # not a UUID
    ("order-42", "No execution with id 'order-42': an execution id is a UUID."),
    # empty
    ("", "No execution with id '': an execution id is a UUID."),
])
def test_unknown_or_malformed_id(execution, execution_id, expected):
    with pytest.raises(CommandError) as failure:
        call_command("asl_describe", execution_id, stdout=io.StringIO())
    assert str(failure.value) == expected


def test_an_id_is_required():
    with pytest.raises(CommandError, match="the following arguments are required: ID"):
        call_command("asl_describe", stdout=io.StringIO())


def test_any_uuid_spelling(execution):
    assert describe(uuid.UUID(str(execution.pk)).hex)["name"] == "first"
