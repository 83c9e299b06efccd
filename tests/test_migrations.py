"""The migrations describe the models: a model change without its migration fails here."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration():
    output = io.StringIO()
    try:
        call_command("makemigrations", "django_asl", "--check", "--dry-run", stdout=output, stderr=output)
    except SystemExit as exc:  # --check exits with 1 when a migration is missing
        pytest.fail(f"makemigrations would write a migration (exit {exc.code}):\n{output.getvalue()}")
    assert "No changes detected" in output.getvalue()
