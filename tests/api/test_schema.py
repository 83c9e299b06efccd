"""Tests of the OpenAPI schema: it is valid, its UIs are served, and schemathesis finds no 5xx or violation.

The schemathesis run generates up to ``MAX_EXAMPLES`` requests per operation
from the schema, sends them to the Django WSGI app as a superuser over Basic
authentication, and checks that no answer is a server error and that every
answer (status, content type, body) is one the schema documents.
"""
from __future__ import annotations

import base64

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from django_asl import engine

from .conftest import PASS, callback_definition

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 5
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def wsgi_app(settings):
    """Return the project's WSGI app, on the test's own database connection and transaction."""
    settings.ALLOWED_HOSTS = ["*"]
    # As Django's test client does: a request must not close the connection holding the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_the_schema_and_its_uis_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")
    paths = schema.json()["paths"]
    assert {"/api/executions/", "/api/state-machines/{name}/graph/", "/api/activities/{name}/poll/",
            "/api/task-tokens/success/", "/api/messages/", "/api/statistics/"} <= set(paths)
    swagger = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in swagger and "cdn" not in swagger.lower()  # the sidecar's files, not a CDN
    assert "redoc" in client.get("/api/redoc/").content.decode().lower()


def test_schemathesis_finds_no_server_error_and_no_schema_violation(wsgi_app, tasks, django_user_model):
    django_user_model.objects.create_superuser("fuzz", "fuzz@example.com", "pw")
    auth = {"Authorization": "Basic " + base64.b64encode(b"fuzz:pw").decode()}
    # Something for the generated requests to find: a machine, a waiting execution, an activity.
    tasks["urn:django-asl:api.ship"] = lambda payload, context: None
    engine.publish("hello", PASS)
    engine.publish("ship", callback_definition())
    engine.start_execution("ship", name="waiting")
    engine.create_activity("resize")
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    failures = []
    with django_settings_for_fuzzing():
        for operation in operations:
            @given(case=operation.as_strategy())
            @hypothesis_settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
                                 suppress_health_check=list(HealthCheck))
            def fuzz(case):
                case.call_and_validate(headers=auth, checks=CHECKS)

            try:
                fuzz()
            except BaseException as exc:  # collect every operation's failure, then report them all
                failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


class django_settings_for_fuzzing:
    """Keep long polls short while fuzzing: a generated wait_seconds of 60 must not hold the run."""

    def __enter__(self):
        from django.test import override_settings

        self.override = override_settings(DJANGO_ASL={"API_LONG_POLL_SECONDS": 0})
        self.override.enable()
        return self

    def __exit__(self, *exc_info):
        self.override.disable()
