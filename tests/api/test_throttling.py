"""Throttling of the REST API: DRF's throttles, configured in REST_FRAMEWORK, apply to every endpoint."""
from __future__ import annotations

from unittest import mock

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.throttling import ScopedRateThrottle

RATES = {"django_asl": "3/minute"}
THROTTLED = {"DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.ScopedRateThrottle"],
             "DEFAULT_THROTTLE_RATES": RATES}


@pytest.fixture
def throttled():
    """Limit the API's scope ``django_asl`` to 3 requests a minute (DRF reads the rates once, at import)."""
    cache.clear()
    with override_settings(REST_FRAMEWORK=THROTTLED), mock.patch.object(ScopedRateThrottle, "THROTTLE_RATES", RATES):
        yield
    cache.clear()


def test_the_fourth_request_in_a_minute_is_refused_with_429(throttled, admin_client, machine):
    answers = [admin_client.get("/api/state-machines/").status_code for _ in range(3)]
    refused = admin_client.post("/api/state-machines/hello/start/", {"input": {}}, format="json")
    assert answers == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert "Request was throttled" in refused.json()["detail"]
    assert int(refused["Retry-After"]) > 0


def test_each_user_has_a_budget_of_their_own(throttled, admin_client, user_client, machine):
    for _ in range(3):
        admin_client.get("/api/state-machines/")
    other = user_client("django_asl.view_statemachine")
    assert admin_client.get("/api/state-machines/").status_code == 429
    assert other.get("/api/state-machines/").status_code == 200


def test_without_throttle_classes_nothing_is_refused(admin_client, machine):
    cache.clear()
    assert {admin_client.get("/api/state-machines/").status_code for _ in range(10)} == {200}
