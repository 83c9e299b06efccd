"""Pagination of the REST API's lists: cursors, so that any page is as fast as the first.

A cursor page filters on the ordering's first field (``start_date < position``),
which an index serves at any depth, where an offset would scan every row before
the page. ``DJANGO_ASL["API_PAGE_SIZE"]`` sets the page size; ``?page_size=``
takes up to 1000.
"""
from __future__ import annotations

from typing import Any

from rest_framework.pagination import CursorPagination

from ..conf import asl_settings

MAX_PAGE_SIZE = 1000


class AslCursorPagination(CursorPagination):
    """Cursor pagination with the page size of ``DJANGO_ASL["API_PAGE_SIZE"]``."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Any) -> int:
        """Return ``?page_size=`` (1 to 1000) when valid, else the configured page size."""
        try:
            requested = int(request.query_params[self.page_size_query_param])
        except (KeyError, ValueError):
            return asl_settings.API_PAGE_SIZE
        return min(requested, self.max_page_size) if requested > 0 else asl_settings.API_PAGE_SIZE


class ExecutionPagination(AslCursorPagination):
    """Executions, newest first: the ``-start_date`` index serves every page; ``id`` breaks ties."""

    ordering = ("-start_date", "-id")


class BatchPagination(AslCursorPagination):
    """Batches, newest first."""

    ordering = ("-created_at", "-id")


class NamePagination(AslCursorPagination):
    """State machines and activities, by their unique name."""

    ordering = ("name",)
