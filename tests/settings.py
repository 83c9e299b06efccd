"""Minimal Django settings for the test suite.

The database comes from ``DATABASE_URL`` (e.g.
``postgres://postgres@127.0.0.1:5432/django_asl``; pytest-django creates and drops
its own ``test_`` database); without it, an in-memory SQLite database.
"""
from __future__ import annotations

import os

import dj_database_url

SECRET_KEY = "django-asl-tests-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.admin",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",  # the admin's vendored scripts, served by live_server in browser tests
    # The REST API (django_asl.api, tests/api/).
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "django_asl",
    # The example project's orders app: tests/test_example_project.py runs its workflow.
    "example_project.orders",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    # An empty DATABASE_URL (as tox may pass) means "unset".
    "default": dj_database_url.parse(os.environ.get("DATABASE_URL") or "sqlite://:memory:"),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Queued tasks run synchronously in the test process.
Q_CLUSTER = {"name": "django_asl_tests", "orm": "default", "sync": True, "timeout": 60, "retry": 120}

DJANGO_ASL: dict = {}

ROOT_URLCONF = "tests.urls"
STATIC_URL = "/static/"

# The REST API's schema (tests/api/test_schema.py).
REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
SPECTACULAR_SETTINGS = {"TITLE": "django-asl", "SERVE_INCLUDE_SCHEMA": False,
                        "SWAGGER_UI_DIST": "SIDECAR", "SWAGGER_UI_FAVICON_HREF": "SIDECAR", "REDOC_DIST": "SIDECAR",
                        "ENUM_NAME_OVERRIDES": {"ExecutionStatusEnum": "django_asl.models.Execution.Status",
                                                "BatchStatusEnum": "django_asl.models.Batch.Status"}}
