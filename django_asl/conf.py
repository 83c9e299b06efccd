"""Settings of django-asl, read from ``settings.DJANGO_ASL`` on every access.

    DJANGO_ASL = {
        # Task resource URI -> dotted path of the Python callable that runs it.
        "TASKS": {"urn:django-asl:orders.validate": "shop.tasks.validate_order"},
        # Largest input, output or task result, in bytes of UTF-8 JSON (as AWS).
        "MAX_PAYLOAD_BYTES": 262144,
        # REST API: permission classes of every endpoint (docs/api.md).
        "API_PERMISSION_CLASSES": ["django_asl.api.permissions.AslPermissions"],
    }

Like DRF's ``api_settings`` the values are looked up when used, never cached
at import time, so ``override_settings`` and late configuration just work.
"""
from __future__ import annotations

import copy
from typing import Any

from django.conf import settings

SETTING_NAME = "DJANGO_ASL"

DEFAULTS: dict[str, Any] = {
    "TASKS": {},
    "MAX_PAYLOAD_BYTES": 262_144,
    # How long a worker may run a Task handler that has no TimeoutSeconds before
    # another worker assumes it died and calls the handler again.
    "TASK_LEASE_SECONDS": 300,
    # Store the per-state history of EXPRESS executions run by start_sync_execution.
    "EXPRESS_HISTORY": False,
    # On PostgreSQL, prepare the engine's hot statement on the server once per
    # connection. Turn off behind a pooler that cannot keep prepared statements
    # (PgBouncer in transaction mode before 1.21).
    "PREPARED_STATEMENTS": True,
    # How long after it stopped an unsuccessful execution can be redriven (AWS: 14 days).
    "REDRIVE_WINDOW_DAYS": 14,
    # How long a message that no execution waits for is kept for one that reaches its
    # Message state later (engine/messages.py); 0 drops such messages.
    "MESSAGE_TTL_SECONDS": 86_400,
    # REST API (django_asl.api, docs/api.md): dotted paths of the DRF permission classes of
    # every endpoint, the page size of its lists, and the longest wait of an activity poll.
    "API_PERMISSION_CLASSES": ["django_asl.api.permissions.AslPermissions"],
    "API_PAGE_SIZE": 50,
    "API_LONG_POLL_SECONDS": 60,
}


class AslSettings:
    """Attribute access to the ``DJANGO_ASL`` setting, falling back to ``DEFAULTS``."""

    def __init__(self, defaults: dict[str, Any] | None = None) -> None:
        self._defaults = DEFAULTS if defaults is None else defaults

    @property
    def user_settings(self) -> dict[str, Any]:
        """Return the project's ``DJANGO_ASL`` dict (empty when unset or not a dict)."""
        value = getattr(settings, SETTING_NAME, None)
        # A malformed setting is reported by checks.E001; here it reads as unset.
        return value if isinstance(value, dict) else {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._defaults:
            raise AttributeError(f"Invalid django-asl setting: {name!r}")
        user = self.user_settings
        if name in user:
            return user[name]
        # Copy so that callers can never mutate the shared default.
        return copy.deepcopy(self._defaults[name])

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._defaults))


asl_settings = AslSettings()
