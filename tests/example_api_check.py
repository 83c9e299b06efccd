"""Run by tests/test_example_project.py in a subprocess, with the example project's settings.

Migrates a fresh SQLite database, then answers the REST API's requests through
the test client: token and session authentication, the schema and its UIs.
Prints one JSON object of what it saw.
"""
from __future__ import annotations

import json

import django
from django.core.management import call_command

django.setup()

from django.contrib.auth.models import User  # noqa: E402 - after setup
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

call_command("migrate", verbosity=0, interactive=False)
setup_test_environment()
user = User.objects.create_superuser("ops", "ops@example.com", "not-secret")
call_command("drf_create_token", "ops", verbosity=0)
key = Token.objects.get(user=user).key
anonymous = Client()
token = Client(HTTP_AUTHORIZATION=f"Token {key}")
session = Client()
session.force_login(user)
forgetful = Client(enforce_csrf_checks=True)  # signed in, but posts without the CSRF token
forgetful.force_login(user)
definition = {"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "Result": "hi", "End": True}}}
created = token.post("/api/state-machines/", {"name": "hello", "definition": definition},
                     content_type="application/json")
started = token.post("/api/executions/", {"state_machine": "hello", "input": {}, "name": "first"},
                     content_type="application/json")
print(json.dumps({
    "anonymous": [anonymous.get("/api/state-machines/").status_code,
                  anonymous.get("/api/state-machines/").get("WWW-Authenticate")],
    "wrong token": Client(HTTP_AUTHORIZATION="Token not-a-key").get("/api/state-machines/").status_code,
    "token": token.get("/api/state-machines/").status_code,
    "session": session.get("/api/state-machines/").status_code,
    "session post without CSRF token": forgetful.post("/api/state-machines/").json()["detail"],
    "created": created.status_code,
    "started": [started.status_code, started.json().get("name")],
    "anonymous schema": anonymous.get("/api/schema/").status_code,
    "schema": [session.get("/api/schema/").status_code, session.get("/api/schema/")["Content-Type"]],
    "swagger": session.get("/api/docs/").status_code,
    "redoc": session.get("/api/redoc/").status_code,
    "swagger offline": b"cdn" not in session.get("/api/docs/").content.lower(),
}))
