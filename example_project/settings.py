"""Settings of the example project.

SQLite (``example_project/db.sqlite3``) by default; set ``DATABASE_URL`` (e.g.
``postgres://postgres@127.0.0.1:5432/django_asl_example``) to use PostgreSQL.
Not for production: the secret key and DEBUG are development values.
"""
from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
import django

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "django-asl-example-project-insecure-key")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # The REST API (django_asl.api), its OpenAPI schema and offline Swagger UI/ReDoc, and
    # token authentication (`python manage.py drf_create_token <username>`).
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "django_asl",
    "example_project.orders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

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
    # An empty DATABASE_URL means "unset".
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=60,
    ),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The worker's processes and the web process share the file. Wait for a busy
    # database instead of failing at once; with Django >= 5.1, let readers run
    # while one process writes (WAL), and take the write lock when a transaction
    # begins (IMMEDIATE), so that two transactions never both read, then both
    # try to write and one fails with "database is locked". SQLite ignores
    # SELECT ... FOR UPDATE: these serialised transactions are what stand for it.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
    if django.VERSION >= (5, 1):
        DATABASES["default"]["OPTIONS"].update({
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        })
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
STATIC_URL = "static/"

# django-q2 runs the engine's queued steps and task handlers: `python manage.py asl_worker`
# starts a cluster of two worker processes on the ORM broker (this database), plus
# django-asl's timer loop. A task that runs past `timeout` is killed; one that no worker
# acknowledged is handed out again after `retry` seconds (more than `timeout`). The
# engine's own task leases and Retry fields deal with failures, so django-q2 need not
# keep failed tasks or catch up on missed schedules.
Q_CLUSTER = {
    "name": "django_asl_example",
    "orm": "default",
    "workers": 2,
    "timeout": 60,
    "retry": 90,
    "poll": 0.1,
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 100,
}

# The order workflow's task handlers are registered with @django_asl.task in
# example_project/orders/asl_tasks.py, found there by autodiscovery: no "TASKS" mapping.
DJANGO_ASL = {
    "MAX_PAYLOAD_BYTES": 262144,
}

# The REST API at /api/ (example_project/urls.py): a browser signed in to the admin uses
# its session; any other client sends "Authorization: Token <key>". What a user may do is
# what their Django permissions allow (django_asl.api.permissions.AslPermissions).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so that a request without credentials is answered 401 with
        # "WWW-Authenticate: Token" rather than 403.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Uncomment to limit every user to 1,000 API requests an hour:
    # "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.ScopedRateThrottle"],
    # "DEFAULT_THROTTLE_RATES": {"django_asl": "1000/hour"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "django-asl example project",
    "DESCRIPTION": "Workflows in the Amazon States Language: state machines, executions, callbacks.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its UIs are for signed-in users (session or token), as the API is.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI and ReDoc from drf-spectacular-sidecar's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"ExecutionStatusEnum": "django_asl.models.Execution.Status",
                            "BatchStatusEnum": "django_asl.models.Batch.Status"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"django_asl.worker": {"level": "INFO"}},
}
