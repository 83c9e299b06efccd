"""Python exceptions of the Django side of django-asl.

These are for programmers and operators (STYLE.md, "Errors", kind 3). ASL errors
(``States.*`` names, task failures) are data and live in ``django_asl.asl.errors``.
"""
from __future__ import annotations


class DjangoAslError(Exception):
    """An error in the use of django-asl."""

    def __init__(self, message: str | None = None) -> None:
        # The class docstring is the default message.
        super().__init__(message or (self.__doc__ or "").strip().partition("\n")[0])
