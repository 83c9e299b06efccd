"""Settings for real worker processes started by the crash tests (a multi-process django-q2 cluster)."""
from tests.settings import *  # noqa: F401,F403

Q_CLUSTER = {
    "name": "django_asl_crash_tests", "orm": "default", "workers": 2, "timeout": 10, "retry": 12,
    "poll": 0.05, "catch_up": False, "max_attempts": 0, "ack_failures": True, "save_limit": 0,
}
DJANGO_ASL = {
    "TASKS": {"urn:test:crash.increment": "tests.engine.crash_tasks.increment"},
    "TASK_LEASE_SECONDS": 3,
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
