"""Permissions of the REST API: Django model permissions plus django-asl's own, per action.

Each viewset names the permissions of each of its actions in ``action_permissions``;
``AslPermissions`` requires an authenticated user holding all of them. The classes
used are ``DJANGO_ASL["API_PERMISSION_CLASSES"]`` (dotted paths), read on every
request, so a project can replace or extend them.
"""
from __future__ import annotations

from typing import Any

from django.utils.module_loading import import_string
from rest_framework.permissions import BasePermission

from ..conf import asl_settings

#: Permissions a viewset action requires when the viewset does not name the action:
#: none is granted (an action nobody listed is denied rather than opened).
_DENY = ("django_asl.no_such_permission",)


def required_permissions(view: Any) -> tuple[str, ...]:
    """Return the permissions the view's current action requires (``action_permissions``)."""
    mapping = getattr(view, "action_permissions", {})
    action = getattr(view, "action", None)
    if action == "metadata":  # OPTIONS describes the endpoint: reading it needs what listing needs
        action = "list" if "list" in mapping else next(iter(mapping), None)
    return tuple(mapping.get(action, _DENY))


class AslPermissions(BasePermission):
    """Allow an authenticated user who holds every permission the action requires.

    Read-only actions need the model's ``view_*`` permission; writes need
    ``add_*``/``change_*``/``delete_*``; engine actions need the custom ones:
    ``django_asl.start_execution``, ``stop_execution``, ``redrive_execution``,
    ``send_message``, ``complete_task``, ``start_batch`` and ``cancel_batch``.
    """

    message = "You do not have permission to perform this action."

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        needed = required_permissions(view)
        missing = [perm for perm in needed if not user.has_perm(perm)]
        if missing:
            self.message = f"You need the permission(s) {', '.join(missing)} to perform this action."
        return not missing


def permission_classes() -> list[type]:
    """Return the permission classes named by ``DJANGO_ASL["API_PERMISSION_CLASSES"]``."""
    return [import_string(path) for path in asl_settings.API_PERMISSION_CLASSES]
