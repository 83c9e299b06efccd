"""The pytest plugin: fixtures for users' own workflow tests, on a clock that skips waits and retries."""
from __future__ import annotations

import subprocess
import sys

DAY_LONG = {"StartAt": "Nap", "States": {
    "Nap": {"Type": "Wait", "Seconds": 86400, "Next": "Call"},
    "Call": {"Type": "Task", "Resource": "urn:flaky", "Retry": [{"ErrorEquals": ["States.ALL"],
                                                                 "IntervalSeconds": 3600, "MaxAttempts": 3}],
             "End": True},
}}


def test_asl_runner_skips_wait_and_retry_time(asl_runner, asl_clock):
    calls = []

    def flaky(value):
        calls.append(asl_clock.now())
        if len(calls) < 3:
            raise RuntimeError("not yet")
        return {"done": True}

    start = asl_clock.now()
    result = asl_runner.run(DAY_LONG, {}, tasks={"urn:flaky": flaky})
    assert (result.status, result.output) == ("SUCCEEDED", {"done": True})
    # one day of Wait, then retries after 1 h and 2 h (BackoffRate 2): virtual time only
    assert [(moment - start).total_seconds() for moment in calls] == [86400, 90000, 97200]


def test_asl_runner_tests_one_state(asl_runner):
    response = asl_runner.test_state(DAY_LONG, "Call", {}, mock_error="Boom")
    assert response == {"status": "RETRIABLE", "error": "Boom"}


def test_the_plugin_imports_without_django_settings():
    code = "import os, sys; os.environ.pop('DJANGO_SETTINGS_MODULE', None); import django_asl.testing; " \
           "print(sorted(name for name in sys.modules if name == 'django' or name.startswith('django.')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "[]", "")  # Django is not even imported
