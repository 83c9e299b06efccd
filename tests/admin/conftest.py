"""Fixtures for admin tests: users with different permissions, published machines, finished executions."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User

from django_asl.engine import publish, start_execution
from tests.engine.conftest import clock, drain, tasks  # noqa: F401  (fixtures used by these tests)

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"done": True}, "End": True}}}
# Retries "Flaky" once (it fails on its first call), then fails for good in "Broken", caught by nothing.
FLAKY_THEN_FAIL = {"StartAt": "Flaky", "States": {
    "Flaky": {"Type": "Task", "Resource": "urn:flaky", "Retry": [{"ErrorEquals": ["States.ALL"],
                                                                  "IntervalSeconds": 1, "MaxAttempts": 2}],
              "Next": "Guarded"},
    "Guarded": {"Type": "Task", "Resource": "urn:boom", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Fan"}],
                "End": True},
    "Fan": {"Type": "Parallel", "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}], "Next": "Broken"},
    "Broken": {"Type": "Fail", "Error": "Broken", "Cause": "on purpose"},
}}
# Waits in "Ask" for send_task_success / send_task_failure.
WAITS = {"StartAt": "Ask", "States": {"Ask": {"Type": "Task", "Resource": "urn:callback.waitForTaskToken",
                                             "Parameters": {"token.$": "$$.Task.Token"}, "End": True}}}


class Boom(Exception):
    """Raised by the urn:boom task."""


@pytest.fixture
def machines(tasks):
    """Publish 'pass', 'flaky' (retry, catch, parallel, fail) and 'waits' (for a task token)."""
    calls = []

    def flaky(payload):
        calls.append(payload)
        if len(calls) == 1:
            raise Boom("first call fails")
        return payload

    def boom(payload):
        raise Boom("always")

    tasks["urn:flaky"] = flaky
    tasks["urn:boom"] = boom
    tasks["urn:callback"] = lambda payload: None
    return {name: publish(name, definition) for name, definition in
            (("pass", PASS), ("flaky", FLAKY_THEN_FAIL), ("waits", WAITS))}


@pytest.fixture
def failed(machines, drain):
    """A finished 'flaky' execution: retried, caught, two branches, then FAILED."""
    execution = start_execution("flaky", {"order": 1}, name="flaky-1")
    drain()
    execution.refresh_from_db()
    assert execution.status == "FAILED"
    return execution


@pytest.fixture
def running(machines, drain):
    """A 'waits' execution, RUNNING in its task state "Ask", waiting for a callback."""
    execution = start_execution("waits", {"order": 2}, name="waits-1")
    drain(until_callbacks=True)
    execution.refresh_from_db()
    return execution


def user_with(username: str, *codenames: str) -> User:
    """Return a staff user with the django_asl permissions ``codenames``."""
    user = User.objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="django_asl", codename__in=codenames))
    return user


VIEW = ("view_statemachine", "view_statemachineversion", "view_execution", "view_historyevent", "view_batch")
ACT = ("start_execution", "stop_execution", "redrive_execution", "send_message", "complete_task", "start_batch",
       "cancel_batch", "add_statemachine", "change_statemachine")


@pytest.fixture
def viewer(client):
    """A client logged in as a user who may view everything and do nothing."""
    client.force_login(user_with("viewer", *VIEW))
    return client


@pytest.fixture
def operator(client):
    """A client logged in as a user with every django_asl permission the admin checks."""
    client.force_login(user_with("operator", *VIEW, *ACT))
    return client
