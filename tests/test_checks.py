"""Tests of django_asl.checks: the system checks on the DJANGO_ASL setting."""
from __future__ import annotations

import pytest
from django.core import checks
from django.test import override_settings

from django_asl.checks import check_settings
from django_asl.conf import DEFAULTS

TASKS_HINT = (
    "Map each Task resource URI to the dotted path of a callable, "
    "e.g. {'urn:django-asl:orders.validate': 'shop.tasks.validate_order'}."
)
URI_HINT = (
    "A Task's Resource is a URI, such as 'arn:aws:lambda:eu-west-1:000000000000:function:name' "
    "or 'urn:django-asl:name'."
)
PAYLOAD_HINT = "AWS Step Functions allows 262144 bytes (256 KiB)."


@pytest.mark.parametrize(
    "value, expected",
    [
        # The defaults: nothing to report.
        ({}, []),
        # A complete, correct setting.
        (
            {
                "TASKS": {
                    "urn:django-asl:orders.validate": "shop.tasks.validate_order",
                    "arn:aws:lambda:eu-west-1:000000000000:function:ship": "shop.tasks.ship",
                },
                "MAX_PAYLOAD_BYTES": 1024,
            },
            [],
        ),
        # Not a dict at all.
        (
            ["TASKS"],
            [checks.Error(
                "The value of 'DJANGO_ASL' must be a dict.",
                hint="Set DJANGO_ASL to a dict such as {'TASKS': {...}}, or remove it to use the defaults.",
                id="django_asl.E001",
            )],
        ),
        # TASKS not a dict.
        (
            {"TASKS": ["shop.tasks.validate_order"]},
            [checks.Error("The value of 'DJANGO_ASL['TASKS']' must be a dict.", hint=TASKS_HINT,
                          id="django_asl.E002")],
        ),
        # A resource that is not a URI, and a handler that is not a dotted path: both reported.
        (
            {"TASKS": {"validate": "shop.tasks.validate_order", "urn:x:ship": "ship"}},
            [
                checks.Error("The key 'validate' of 'DJANGO_ASL['TASKS']' must be a URI.", hint=URI_HINT,
                             id="django_asl.E003"),
                checks.Error("The value of 'DJANGO_ASL['TASKS']['urn:x:ship']' must be a dotted path to a callable.",
                             hint=TASKS_HINT, id="django_asl.E004"),
            ],
        ),
        # A callable instead of its dotted path.
        (
            {"TASKS": {"urn:x:ship": print}},
            [checks.Error("The value of 'DJANGO_ASL['TASKS']['urn:x:ship']' must be a dotted path to a callable.",
                          hint=TASKS_HINT, id="django_asl.E004")],
        ),
        # Zero, negative, a bool and a string are not positive integers.
        *[
            (
                {"MAX_PAYLOAD_BYTES": bad},
                [checks.Error("The value of 'DJANGO_ASL['MAX_PAYLOAD_BYTES']' must be a positive integer.",
                              hint=PAYLOAD_HINT, id="django_asl.E005")],
            )
            for bad in (0, -1, True, "262144")
        ],
        # The task lease must be a positive number of seconds.
        *[
            (
                {"TASK_LEASE_SECONDS": bad},
                [checks.Error("The value of 'DJANGO_ASL['TASK_LEASE_SECONDS']' must be a positive number.",
                              hint="It is how long a Task handler without TimeoutSeconds may run before another "
                                   "worker calls it again; the default is 300.", id="django_asl.E006")],
            )
            for bad in (0, -5, False, "300")
        ],
        # The redrive window, in days, and how long a message is kept, in seconds.
        *[
            (
                {"REDRIVE_WINDOW_DAYS": bad},
                [checks.Error("The value of 'DJANGO_ASL['REDRIVE_WINDOW_DAYS']' must be a positive number.",
                              hint="It is how many days after it stopped an unsuccessful execution can be "
                                   "redriven; the default is 14, as on AWS.", id="django_asl.E007")],
            )
            for bad in (0, -1, None, "14")
        ],
        ({"MESSAGE_TTL_SECONDS": 0}, []),
        *[
            (
                {"MESSAGE_TTL_SECONDS": bad},
                [checks.Error("The value of 'DJANGO_ASL['MESSAGE_TTL_SECONDS']' must be a number of seconds "
                              "from 0 to 1000000000.",
                              hint="It is how long a message no execution waits for is kept for one that arrives "
                                   "later; the default is 86400 (a day), and 0 drops such messages.",
                              id="django_asl.E008")],
            )
            for bad in (-1, 10 ** 9 + 1, True)
        ],
        # The REST API's permission classes: a list of dotted paths (an empty list is allowed).
        ({"API_PERMISSION_CLASSES": []}, []),
        *[
            (
                {"API_PERMISSION_CLASSES": bad},
                [checks.Error("The value of 'DJANGO_ASL['API_PERMISSION_CLASSES']' must be a list of dotted "
                              "paths to DRF permission classes.",
                              hint="The default is ['django_asl.api.permissions.AslPermissions']; an empty list "
                                   "allows every request.", id="django_asl.E020")],
            )
            for bad in ("django_asl.api.permissions.AslPermissions", ["not a path"], [object], None)
        ],
        # The REST API's page size: an integer from 1 to 1000.
        ({"API_PAGE_SIZE": 1000}, []),
        *[
            (
                {"API_PAGE_SIZE": bad},
                [checks.Error("The value of 'DJANGO_ASL['API_PAGE_SIZE']' must be an integer from 1 to 1000.",
                              hint="It is how many items a page of the REST API's lists holds; the default is 50.",
                              id="django_asl.E021")],
            )
            for bad in (0, 1001, 2.5, True, "50")
        ],
        # The longest activity poll: 0 to 60 seconds, as on AWS.
        ({"API_LONG_POLL_SECONDS": 0}, []),
        ({"API_LONG_POLL_SECONDS": 0.5}, []),
        *[
            (
                {"API_LONG_POLL_SECONDS": bad},
                [checks.Error("The value of 'DJANGO_ASL['API_LONG_POLL_SECONDS']' must be a number of seconds "
                              "from 0 to 60.",
                              hint="It is the longest an activity poll of the REST API waits for a task; the "
                                   "default is 60, as on AWS.", id="django_asl.E022")],
            )
            for bad in (-1, 61, False, "60")
        ],
        # An unknown key (a typo) is a warning; it comes after the errors.
        (
            {"TASK": {}, "MAX_PAYLOAD_BYTES": 0},
            [
                checks.Error("The value of 'DJANGO_ASL['MAX_PAYLOAD_BYTES']' must be a positive integer.",
                             hint=PAYLOAD_HINT, id="django_asl.E005"),
                checks.Warning("'DJANGO_ASL['TASK']' is not a django-asl setting and is ignored.",
                               hint=f"The settings are: {', '.join(sorted(DEFAULTS))}.", id="django_asl.W001"),
            ],
        ),
    ],
)
def test_check_settings(value, expected):
    with override_settings(DJANGO_ASL=value):
        assert check_settings(None) == expected


def test_check_settings_without_the_setting():
    # No DJANGO_ASL at all: the defaults apply and nothing is reported.
    with override_settings():
        from django.conf import settings

        del settings.DJANGO_ASL
        assert check_settings(None) == []


def test_checks_are_registered():
    # apps.ready() imported the module, so `manage.py check` runs the checks.
    with override_settings(DJANGO_ASL=[]):
        ids = [message.id for message in checks.run_checks(tags=["django_asl"])]
    assert ids == ["django_asl.E001"]
