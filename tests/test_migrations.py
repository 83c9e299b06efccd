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


def test_migrations_build_check_constraints_for_every_supported_django():
    # makemigrations on Django 5.2 writes CheckConstraint(condition=...), which Django 4.2
    # refuses (it says check=): migrations go through django_asl.compat.check_constraint.
    from pathlib import Path

    import django_asl.migrations

    folder = Path(django_asl.migrations.__file__).parent
    spelled = [path.name for path in sorted(folder.glob("0*.py")) if "CheckConstraint(" in path.read_text()]
    assert spelled == [], f"use django_asl.compat.check_constraint in {', '.join(spelled)}"
