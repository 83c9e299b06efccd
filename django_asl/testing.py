"""A pytest plugin for testing your own workflows with the in-memory runner.

Installed with django-asl (entry point ``pytest11``), or named in a
``conftest.py`` as ``pytest_plugins = ["django_asl.testing"]``. It needs no
Django settings: it uses the language core only.

Fixtures:

- ``asl_clock``: a virtual clock (starting 2026-01-01 UTC); Wait states and
  Retry intervals move it instead of sleeping, so a workflow that waits a day
  runs in milliseconds.
- ``asl_runner``: ``asl_runner.run(definition, input, tasks=...)`` runs a whole
  workflow on that clock (see ``django_asl.asl.run``);
  ``asl_runner.test_state(definition, state_name, input, mock_result=...)``
  runs one state (see ``django_asl.asl.test_state``).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Mapping

import pytest

from .asl import Context, Result, VirtualClock, run, test_state

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


class AslRunner:
    """Runs workflows and single states on one virtual clock; a fixture gives a new one to each test."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock

    def context(self, **identity: Any) -> Context:
        """Return a Context on this runner's clock (``identity``: execution_name, state_machine_name, ...)."""
        return Context(clock=self.clock, **identity)

    def run(self, definition: Any, input: Any = None, *, tasks: Mapping[str, Callable] | None = None,
            **options: Any) -> Result:
        """Run a workflow to its end: waits and retry intervals advance the clock, nothing sleeps."""
        options.setdefault("context", self.context())
        return run(definition, input, tasks=tasks, **options)

    def test_state(self, definition: Any, state_name: str | None, input: Any = None, **options: Any) -> dict:
        """Run one state, as AWS's TestState does, and return its response."""
        options.setdefault("context", self.context())
        return test_state(definition, state_name, input, **options)

    test_state.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
def asl_clock() -> VirtualClock:
    """Return a virtual clock starting at 2026-01-01 UTC: waits and retries take no real time."""
    return VirtualClock(START)


@pytest.fixture
def asl_runner(asl_clock: VirtualClock) -> AslRunner:
    """Return an ``AslRunner`` on ``asl_clock``."""
    return AslRunner(asl_clock)
