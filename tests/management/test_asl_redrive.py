"""Tests of ``asl_redrive``: the redriven execution printed as JSON, and refused or malformed ids."""
from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from django_asl.engine import get_execution_history, publish, start_execution

pytestmark = pytest.mark.django_db

FAILING = {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Broken", "Cause": "always"}}}


def redrive(*args) -> dict:
    out = io.StringIO()
    call_command("asl_redrive", *args, stdout=out)
    return json.loads(out.getvalue())


def test_redrive_prints_the_running_execution(tasks, drain):
    execution = start_execution(publish("failing", FAILING), {"x": 1}, name="first")
    drain()
    printed = redrive(str(execution.pk))
    assert (printed["execution_id"], printed["status"], printed["redrive_count"]) == (str(execution.pk), "RUNNING", 1)
    assert (printed["stop_date"], printed["error"], printed["cause"]) == (None, None, None)
    drain()
    assert [event["type"] for event in get_execution_history(execution)][-3:] == [
        "ExecutionRedriven", "FailStateEntered", "ExecutionFailed"]


@pytest.mark.parametrize("execution_id, expected", [
    # a well-formed id that no execution has
    ("5f0c7a8e-3b0a-4a57-9a55-0f9d1b8f8c11", "No execution with id '5f0c7a8e-3b0a-4a57-9a55-0f9d1b8f8c11'."),
    # not a UUID
    ("order-42", "No execution with id 'order-42': an execution id is a UUID."),
])
def test_unknown_or_malformed_id(tasks, execution_id, expected):
    with pytest.raises(CommandError) as failure:
        call_command("asl_redrive", execution_id, stdout=io.StringIO())
    assert str(failure.value) == expected


def test_a_running_execution_is_refused_with_the_reason(tasks):
    execution = start_execution(publish("failing", FAILING), name="running")
    with pytest.raises(CommandError) as failure:
        call_command("asl_redrive", str(execution.pk), stdout=io.StringIO())
    assert str(failure.value) == (
        f"The execution {execution.pk} ('running') is still running: only an execution that ended FAILED, "
        f"TIMED_OUT or ABORTED can be redriven.")
