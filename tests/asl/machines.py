"""Helpers for tests that run machines: fixture loading, small builders and history summaries."""
from __future__ import annotations

import json
import pathlib
from datetime import datetime, timezone
from typing import Any

from django_asl import asl

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def load(name: str) -> dict:
    """Return the definition stored as ``tests/asl/fixtures/<name>``."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def single(state: dict, name: str = "S") -> dict:
    """Return a machine made of one state, ending there unless the state is terminal already."""
    state = dict(state)
    if state["Type"] not in ("Choice", "Succeed", "Fail") and "Next" not in state:
        state.setdefault("End", True)
    return {"StartAt": name, "States": {name: state}}


def run(definition: Any, input: Any = None, *, tasks: dict | None = None, start: datetime = START) -> asl.Result:
    """Run ``definition`` on a virtual clock starting at ``start``."""
    return asl.run(definition, input, tasks=tasks, context=asl.Context(clock=asl.VirtualClock(start)))


def event_types(result: asl.Result) -> list[str]:
    """Return the types of the result's history events, oldest first."""
    return [event["type"] for event in result.history]


def elapsed(result: asl.Result) -> float:
    """Return how many (virtual) seconds the execution took."""
    return (result.stop_date - result.start_date).total_seconds()
