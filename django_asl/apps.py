"""The Django application configuration of django-asl."""
from __future__ import annotations

from django.apps import AppConfig


class DjangoAslConfig(AppConfig):
    """Register django-asl with Django; on ready, register its system checks."""

    name = "django_asl"
    label = "django_asl"
    verbose_name = "Workflows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Importing the module registers the checks; nothing else may happen
        # here (STYLE.md: settings are read on access, never at start-up).
        from . import checks  # noqa: F401
