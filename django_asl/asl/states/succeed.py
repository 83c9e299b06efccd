"""The Succeed state: ends the machine (or branch, or iteration) successfully."""
from __future__ import annotations

from typing import Any

from ..outcomes import Outcome, Succeed
from .base import State


class SucceedState(State):
    """Spec, "Succeed State": a terminal state; InputPath and OutputPath apply."""

    type = "Succeed"
    entered_event = "SucceedStateEntered"
    exited_event = "SucceedStateExited"

    def _step(self, data: Any, env: Any) -> Outcome:
        if self.jsonata:  # JSONata: Output (default: the input)
            return self.leave(data, data, env, Succeed)
        return Succeed(self.output_path.apply(self.input_path.apply(data, env), env))
