"""The Django application configuration of the example orders app."""
from __future__ import annotations

from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """Orders of the example shop; on ready, connect the receivers in ``signals.py``."""

    name = "example_project.orders"
    label = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the receivers
