"""The example project's order workflow, end to end through the language core."""
from __future__ import annotations

import json

import pytest
from django.utils.module_loading import import_string

from django_asl import asl
from example_project import demo, tasks
from example_project import settings as example_settings

needs_core = pytest.mark.skipif(
    not (hasattr(asl, "run") and hasattr(asl, "validate")),
    reason="django_asl.asl.run/validate do not exist yet",
)


def handlers() -> dict:
    found = {resource: import_string(path) for resource, path in example_settings.DJANGO_ASL["TASKS"].items()}
    # A fresh gateway per run: it times out on the first attempt for each order.
    found["arn:aws:lambda:eu-west-1:000000000000:function:charge-payment"] = tasks.FlakyGateway()
    return found


def definition() -> dict:
    return json.loads(demo.DEFINITION.read_text())


def test_every_resource_has_a_handler():
    # Each Task Resource in the definition is a URI named in DJANGO_ASL["TASKS"].
    text = demo.DEFINITION.read_text()
    resources = {value for key, value in _pairs(json.loads(text)) if key == "Resource"}
    assert resources == set(example_settings.DJANGO_ASL["TASKS"])


def _pairs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _pairs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _pairs(item)


@needs_core
def test_definition_is_valid():
    assert [issue for issue in asl.validate(definition()) if issue.severity == "error"] == []


@needs_core
@pytest.mark.parametrize(
    "scenario, status, output, error",
    [
        # total 150: express shipping; the gateway's first timeout is retried
        ("ok", "SUCCEEDED", {
            "order_id": "A-1001", "status": "SHIPPED", "total": 150.0, "charge_id": "ch_A-1001",
            "shipping": "express", "tracking": "TRK-A-1001", "reserved_lines": 3, "notified": ["email", "sms"],
        }, None),
        # PaymentDeclined is caught and leads to the PaymentFailed Fail state
        ("declined", "FAILED", None, "PaymentFailed"),
        # InvalidOrder (no lines) is caught and leads to OrderRejected
        ("invalid", "FAILED", None, "OrderRejected"),
    ],
)
def test_scenarios(scenario, status, output, error):
    result = asl.run(definition(), demo.sample_order(scenario), tasks=handlers())
    assert (result.status, result.error) == (status, error)
    if output is not None:
        assert result.output == output
