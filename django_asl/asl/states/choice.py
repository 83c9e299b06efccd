"""The Choice state: picks the next state by the first rule that matches."""
from __future__ import annotations

from typing import Any

from ..errors import ErrorName, StatesError
from ..outcomes import Next, Outcome
from .base import State


class ChoiceState(State):
    """Spec, "Choice State": "the interpreter ... scans the Choice Rules in array order
    ... and transitions to the state named in the Next field of the first Choice Rule
    where there is an exact match"; with no match it takes Default, and without
    Default fails with ``States.NoChoiceMatched``.

    The rules see the effective input (after InputPath); the output is that
    input filtered by OutputPath.
    """

    type = "Choice"
    entered_event = "ChoiceStateEntered"
    exited_event = "ChoiceStateExited"

    def __init__(self, name: str, raw: dict, build_machine: Any) -> None:
        from ..rules import compile_rule

        super().__init__(name, raw, build_machine)
        self.choices = tuple((compile_rule(rule), rule["Next"]) for rule in raw.get("Choices", ()))
        self.default = raw.get("Default")

    def _step(self, data: Any, env: Any) -> Outcome:
        value = self.input_path.apply(data, env)
        for check, next_state in self.choices:
            if check(value, env):
                return Next(next_state, self.output_path.apply(value, env))
        if self.default is not None:
            return Next(self.default, self.output_path.apply(value, env))
        raise StatesError(ErrorName.NO_CHOICE_MATCHED, "No Matches!")
