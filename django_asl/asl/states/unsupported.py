"""A stand-in for states that use JSONata or variables, which this release cannot evaluate.

The validator accepts such definitions; running one of these states fails the
execution with ``States.Runtime`` and a cause that says why, rather than
silently ignoring fields it does not understand.
"""
from __future__ import annotations

import json
from typing import Any

from ..errors import ErrorName, StatesError
from ..outcomes import Outcome
from .base import State


def unsupported_feature(raw: dict, query_language: str) -> str | None:
    """Return the name of the feature a state needs that cannot run yet, or None."""
    if raw.get("QueryLanguage", query_language) == "JSONata":
        return "JSONata (QueryLanguage: JSONata)"
    if '"Assign"' in json.dumps(raw):
        return "variables (Assign)"
    return None


class UnsupportedState(State):
    """A state whose evaluation needs a feature of a later release."""

    def __init__(self, name: str, raw: dict, build_machine: Any, feature: str) -> None:
        # Nothing is compiled: JSONata fields are not paths or templates.
        self.name = name
        self.raw = raw
        self.type = raw.get("Type", "")
        self.entered_event = f"{self.type}StateEntered"
        self.exited_event = f"{self.type}StateExited"
        self.feature = feature
        self.next = raw.get("Next")
        self.end = bool(raw.get("End", False))
        self.retriers = self.catchers = ()

    def _step(self, data: Any, env: Any) -> Outcome:
        raise StatesError(ErrorName.RUNTIME, f"The state uses {self.feature}, which this version of "
                                             "django-asl does not evaluate yet.")
