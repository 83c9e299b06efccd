"""Fixtures for the REST API tests: API clients with and without permissions, and small machines."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient

from django_asl import engine
from tests.engine.conftest import START, clock, drain, tasks  # noqa: F401 - fixtures reused here

PASS = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}


def callback_definition(resource: str = "urn:django-asl:api.ship.waitForTaskToken") -> dict:
    """Return a machine with one Task that waits for a callback (its token in the task input)."""
    return {"StartAt": "Ship", "States": {"Ship": {
        "Type": "Task", "Resource": resource, "Parameters": {"token.$": "$$.Task.Token"}, "End": True}}}


@pytest.fixture
def admin_client(db) -> APIClient:
    """Return an API client logged in as a superuser (every permission)."""
    client = APIClient()
    client.force_authenticate(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.fixture
def user_client(db):
    """Return a function giving an API client of a user holding only the permissions named (``app.codename``)."""

    def make(*perms: str) -> APIClient:
        user = User.objects.create_user(f"user{User.objects.count()}", password="pw")
        for perm in perms:
            app, codename = perm.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
        client = APIClient()
        client.force_authenticate(User.objects.get(pk=user.pk))  # fresh: no permission cache
        return client

    return make


@pytest.fixture
def machine(db, tasks):
    """Publish and return the state machine ``hello`` (one Pass state)."""
    return engine.publish("hello", PASS)


@pytest.fixture
def run(clock, django_capture_on_commit_callbacks):
    """Return ``run(fn, *args)``: call it (an API request, say) as if its transaction committed, run what it queued."""

    def call(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return call
