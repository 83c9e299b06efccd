"""Django settings for the persisted benchmark (``benchmarks/run_persisted.py``).

The database comes from ``BENCH_DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/django_asl_bench``; the runner creates it
when it is missing). django-q2 runs in sync mode, and the workloads' task
resources reach the shared harness's trivial handlers, defined here.
"""
from __future__ import annotations

import os
from typing import Any

import dj_database_url

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/django_asl_bench"

SECRET_KEY = "django-asl-benchmarks-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django_q",
    "django_asl",
]

DATABASES = {"default": dj_database_url.parse(os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Queued work runs synchronously in the process that queued it.
Q_CLUSTER = {"name": "django_asl_bench", "orm": "default", "sync": True, "timeout": 600, "retry": 1200}


# The shared harness's in-process tasks (benchlib.task_handler_add / _incr): input only.
def task_add(event: Any) -> Any:
    return {**event, "n": event.get("n", 0) + 1}


def task_incr(event: Any) -> Any:
    return {**event, "i": event["i"] + 1}


DJANGO_ASL = {
    "TASKS": {
        "arn:aws:lambda:us-east-1:123456789012:function:bench-add": "benchmarks.settings.task_add",
        "arn:aws:lambda:us-east-1:123456789012:function:bench-incr": "benchmarks.settings.task_incr",
    },
}
