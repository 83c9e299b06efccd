"""The Pass state: passes its input to its output, optionally injecting a fixed Result."""
from __future__ import annotations

from typing import Any

from ..outcomes import Outcome
from .base import MAX_PAYLOAD_BYTES, State, check_result_size, payload_size


class PassState(State):
    """Spec, "Pass State": "If Result is present, its value is treated as the output of a
    virtual task ... the ResultPath field places it in the input". Without Result, the
    effective input (after InputPath and Parameters) is the result.
    """

    type = "Pass"
    entered_event = "PassStateEntered"
    exited_event = "PassStateExited"

    def __init__(self, name: str, raw: dict, build_machine: Any) -> None:
        super().__init__(name, raw, build_machine)
        self.has_result = "Result" in raw
        self.result = raw.get("Result")
        # A fixed Result is measured once, not on every pass.
        self.result_too_large = self.has_result and isinstance(self.result, (dict, list, str)) and (
            payload_size(self.result) > MAX_PAYLOAD_BYTES)

    def _step(self, data: Any, env: Any) -> Outcome:
        if self.jsonata:
            # JSONata Pass: Output (default: the input) and Assign see $states.input.
            return self.finish(data, self.result if self.has_result else data, env)
        if self.has_result:
            if self.result_too_large:
                check_result_size(self.result, self.name)
            result = self.result
        else:
            result = self.effective_input(data, env)
            if self.parameters is not None:
                check_result_size(result, self.name)
        return self.finish(data, result, env)
