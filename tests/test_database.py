"""The test database is the one DATABASE_URL names, and migrations apply to it."""
from __future__ import annotations

import os

import pytest
from django.db import connection


@pytest.mark.django_db
def test_database_matches_database_url():
    # CI runs the suite twice: without DATABASE_URL (SQLite) and with a PostgreSQL URL.
    url = os.environ.get("DATABASE_URL") or "sqlite://"
    expected = "postgresql" if url.startswith(("postgres", "pgsql")) else "sqlite"
    assert connection.vendor == expected
    from django_q.models import OrmQ

    assert OrmQ.objects.count() == 0
