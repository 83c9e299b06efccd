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
