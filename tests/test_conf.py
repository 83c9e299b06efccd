"""Tests of django_asl.conf: settings read on access."""
from __future__ import annotations

import pytest
from django.test import override_settings

from django_asl.conf import asl_settings


def test_defaults():
    with override_settings(DJANGO_ASL={}):
        assert asl_settings.TASKS == {}
        assert asl_settings.MAX_PAYLOAD_BYTES == 262144


def test_read_on_access():
    # No caching: a changed setting is seen at once.
    with override_settings(DJANGO_ASL={"MAX_PAYLOAD_BYTES": 10}):
        assert asl_settings.MAX_PAYLOAD_BYTES == 10
    with override_settings(DJANGO_ASL={"MAX_PAYLOAD_BYTES": 20}):
        assert asl_settings.MAX_PAYLOAD_BYTES == 20


def test_default_is_not_shared():
    with override_settings(DJANGO_ASL={}):
        asl_settings.TASKS["urn:x:y"] = "a.b"
        assert asl_settings.TASKS == {}


def test_unknown_setting():
    with pytest.raises(AttributeError, match="Invalid django-asl setting: 'NOPE'"):
        asl_settings.NOPE
