"""The Choice state: picks the next state by the first rule that matches."""
from __future__ import annotations

from typing import Any

from ..errors import ErrorName, StatesError
from ..outcomes import Next, Outcome
from ..variables import Assignment, check_sizes, merged
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
        self.choices = tuple(
            (self._condition(rule, index) if self.jsonata else compile_rule(rule), rule["Next"],
             Assignment(rule["Assign"], jsonata=self.jsonata) if "Assign" in rule else None,
             self.compile_field(rule, "Output"))
            for index, rule in enumerate(raw.get("Choices", ()))
        )
        self.default = raw.get("Default")

    @staticmethod
    def _condition(rule: dict, index: int) -> Any:
        """Compile a JSONata rule's Condition: an expression that must give a boolean, or a boolean."""
        from ..jsonata_ import Expression, is_expression

        condition = rule.get("Condition")
        if not is_expression(condition):
            return lambda found: bool(condition)
        expression = Expression(condition, "Condition")
        return lambda found: expression.typed(found, "boolean", lambda value: isinstance(value, bool))

    def _step(self, data: Any, env: Any) -> Outcome:
        """Take the first matching rule, else Default; a rule's Assign adds to the state's, its Output wins.

        AWS, "Choice Rules (JSONata)": a rule's Assign "assigns variables when this
        specific choice rule matches ... You can also specify an Assign block at
        the state level, which applies regardless of which choice rule matches."
        """
        if self.jsonata:
            from ..jsonata_ import bindings

            found = bindings(env, data, context=self.uses_context)
            value = data
        else:
            value = self.input_path.apply(data, env)
        for check, next_state, assign, output in self.choices:
            if (check(found) if self.jsonata else check(value, env)):
                return self._take(data, value, env, next_state, assign, output)
        if self.default is not None:
            return self._take(data, value, env, self.default, None, None)
        raise StatesError(ErrorName.NO_CHOICE_MATCHED, "No Matches!")

    def _take(self, data: Any, value: Any, env: Any, next_state: str, assign: Any, output: Any) -> Outcome:
        outcome = self.leave(data, value, env, lambda out: Next(next_state, out))
        if assign is None and output is None:
            return outcome
        if self.jsonata:
            from ..jsonata_ import bindings

            found = bindings(env, data, context=self.uses_context)
            rule_assigned = assign.values(found, env) if assign is not None else None
            if output is not None:
                outcome = Next(next_state, output(found))
        else:
            rule_assigned = assign.values(value, env) if assign is not None else None
        if rule_assigned:
            env.assigned = merged(env.assigned or {}, rule_assigned)
            check_sizes(env.assigned)
        return outcome
