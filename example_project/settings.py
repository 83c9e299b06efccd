"""Settings of the example project.

SQLite (``example_project/db.sqlite3``) by default; set ``DATABASE_URL`` (e.g.
``postgres://postgres@127.0.0.1:5432/django_asl_example``) to use PostgreSQL.
Not for production: the secret key and DEBUG are development values.
"""
from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

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
    "rest_framework",
    "django_q",
    "django_asl",
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
STATIC_URL = "static/"

# django-q2 runs the engine's queued work: `python manage.py qcluster`.
Q_CLUSTER = {"name": "django_asl_example", "orm": "default", "workers": 2, "timeout": 60, "retry": 120}

DJANGO_ASL = {
    # Task Resource URI -> Python callable (see example_project/tasks.py).
    "TASKS": {
        "arn:aws:lambda:eu-west-1:000000000000:function:validate-order": "example_project.tasks.validate_order",
        "urn:django-asl:inventory.reserve": "example_project.tasks.reserve_stock",
        "arn:aws:lambda:eu-west-1:000000000000:function:charge-payment": "example_project.tasks.charge_payment",
        "arn:aws:lambda:eu-west-1:000000000000:function:ship-order": "example_project.tasks.ship_order",
        "urn:django-asl:notify.email": "example_project.tasks.send_email",
        "urn:django-asl:notify.sms": "example_project.tasks.send_sms",
    },
}
