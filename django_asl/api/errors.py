"""Errors of the REST API: every engine exception becomes a 4xx JSON answer, never a 500.

An error body is ``{"detail": "<sentence>", "code": "<snake_case>"}``; a
definition error is ``{"definition": [{"path", "code", "message"}, ...]}`` and
a bad field ``{"<field>": ["<sentence>", ...]}``, as DRF answers.
"""
from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler

from .. import engine
from ..asl import DefinitionError
from ..exceptions import DjangoAslError

# The engine's exceptions by HTTP status; a DjangoAslError not listed is a 400.
STATUSES: dict[type, int] = {
    engine.StateMachineDoesNotExist: status.HTTP_404_NOT_FOUND,
    engine.ActivityDoesNotExist: status.HTTP_404_NOT_FOUND,
    engine.SourceExecutionDoesNotExist: status.HTTP_404_NOT_FOUND,
    engine.TaskDoesNotExist: status.HTTP_404_NOT_FOUND,
    engine.ExecutionAlreadyExists: status.HTTP_409_CONFLICT,
    engine.ExecutionNotRunning: status.HTTP_409_CONFLICT,
    engine.ExecutionNotRedrivable: status.HTTP_409_CONFLICT,
    engine.BatchNotRunning: status.HTTP_409_CONFLICT,
    engine.ActivityInUse: status.HTTP_409_CONFLICT,
    engine.TaskTimedOut: status.HTTP_409_CONFLICT,
    engine.SourceOutputUnavailable: status.HTTP_409_CONFLICT,
}


class PayloadTooLarge(APIException):
    """The request body is larger than the API accepts."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class Conflict(APIException):
    """The request conflicts with the current state of the resource."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


def error_code(exc: BaseException) -> str:
    """Return the snake_case code of an exception class (``ExecutionAlreadyExists`` -> ``execution_already_exists``)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


def issue_list(issues: list) -> list[dict]:
    """Return definition issues as ``{path, code, message}`` objects (STYLE.md "Errors")."""
    return [{"path": issue.path, "code": issue.code, "message": issue.message} for issue in issues]


def handle_exception(exc: Exception, context: dict) -> Response | None:
    """Answer DRF's own exceptions as DRF does, and the engine's with a 4xx JSON error."""
    response = exception_handler(exc, context)
    if response is not None:
        if isinstance(response.data, dict) and "detail" in response.data and hasattr(exc, "get_codes"):
            codes = exc.get_codes()
            if isinstance(codes, str):
                response.data["code"] = codes
        return response
    if isinstance(exc, DefinitionError):
        errors = [issue for issue in exc.issues if issue.is_error] or exc.issues
        return Response({"definition": issue_list(errors)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoAslError):
        code = next((value for kind, value in STATUSES.items() if isinstance(exc, kind)),
                    status.HTTP_400_BAD_REQUEST)
        return Response({"detail": str(exc) or (type(exc).__doc__ or "").strip(), "code": error_code(exc)},
                        status=code)
    if isinstance(exc, ObjectDoesNotExist):
        return Response({"detail": "Not found.", "code": "not_found"}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, (ValueError, TypeError)):
        # The engine's public functions answer wrong arguments with these (STYLE.md); the
        # serializers catch most of them first, this keeps the rest a 400 rather than a 500.
        return Response({"detail": str(exc), "code": "invalid"}, status=status.HTTP_400_BAD_REQUEST)
    return None
