"""Tests of /api/messages/: a message resumes waiting executions, or is kept, or dropped."""
from __future__ import annotations

import pytest

from django_asl import engine
from django_asl.models import Execution

pytestmark = pytest.mark.django_db

URL = "/api/messages/"
AWAIT = {"StartAt": "Await", "States": {"Await": {
    "Type": "Message", "CorrelationKey": "payment", "CorrelationValuePath": "$.order", "ResultPath": "$.payment",
    "End": True}}}


def test_a_message_resumes_the_waiting_execution(admin_client, tasks, run, drain):
    engine.publish("pay", AWAIT)
    execution = run(engine.start_execution, "pay", {"order": 7})
    drain(until_callbacks=True)
    response = run(admin_client.post, URL, {"correlation_key": "payment", "correlation_value": 7,
                                            "data": {"paid": True}}, format="json")
    assert response.status_code == 200, response.data
    assert response.data == {"outcome": "delivered", "delivered_to": [str(execution.pk)], "kept_message_id": None}
    drain()
    execution.refresh_from_db()
    assert (execution.status, execution.output) == ("SUCCEEDED", {"order": 7, "payment": {"paid": True}})


def test_a_message_nobody_waits_for_is_kept_or_dropped(admin_client, tasks, settings):
    kept = admin_client.post(URL, {"correlation_key": "payment", "correlation_value": 8}, format="json")
    assert kept.data["outcome"] == "kept" and kept.data["kept_message_id"] is not None
    settings.DJANGO_ASL = {"MESSAGE_TTL_SECONDS": 0}
    dropped = admin_client.post(URL, {"correlation_key": "payment", "correlation_value": 8}, format="json")
    assert dropped.data == {"outcome": "dropped", "delivered_to": [], "kept_message_id": None}


@pytest.mark.parametrize("body, field", [
    ({"correlation_value": 1}, "correlation_key"),  # no key
    ({"correlation_key": "", "correlation_value": 1}, "correlation_key"),  # empty key
    ({"correlation_key": "k" * 257, "correlation_value": 1}, "correlation_key"),  # key too long
    ({"correlation_key": "k"}, "correlation_value"),  # no value
    ({"correlation_key": "k", "correlation_value": 1, "data": "x" * 300}, "data"),  # over the (lowered) limit
])
def test_bad_messages_are_400s(admin_client, tasks, settings, body, field):
    settings.DJANGO_ASL = {"MAX_PAYLOAD_BYTES": 200}
    response = admin_client.post(URL, body, format="json")
    assert response.status_code == 400 and field in response.data


def test_a_body_that_is_not_an_object_is_a_400(admin_client, tasks):
    response = admin_client.post(URL, [1, 2], format="json")
    assert response.status_code == 400 and "JSON object" in str(response.data)


def test_sending_needs_the_send_message_permission(user_client, tasks):
    body = {"correlation_key": "k", "correlation_value": 1}
    denied = user_client("django_asl.view_execution").post(URL, body, format="json")
    assert denied.status_code == 403 and "django_asl.send_message" in denied.data["detail"]
    assert user_client("django_asl.send_message").post(URL, body, format="json").status_code == 200
    assert not Execution.objects.exists()
