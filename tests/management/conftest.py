"""Fixtures for the management command tests: the engine's fixtures, shared with ``tests/engine``."""
from __future__ import annotations

from tests.engine.conftest import clock, drain, tasks  # noqa: F401 - fixtures, found by name
