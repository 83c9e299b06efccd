"""The Map state: runs its item processor once for each item of an array."""
from __future__ import annotations

import re
from typing import Any

from ..context import Env
from ..errors import ErrorName, StatesError
from ..outcomes import ForkItems, Outcome
from ..paths import PathNotFound, compile_path, to_json
from ..templates import compile_template
from .base import FilterPath, ForkingState

_DEFAULT = object()
_NUMERIC = re.compile(r"\d+(\.\d+)?\Z")


class MapState(ForkingState):
    """Spec, "Map State": ItemsPath selects an array in the effective input; each item,
    reshaped by ItemSelector (or the older Parameters), is the input of one
    iteration of ItemProcessor (or the older Iterator). The result is the array of
    the iterations' outputs, in item order.

    ``$$.Map.Item.Index`` and ``$$.Map.Item.Value`` are visible in ItemSelector.
    MaxConcurrency (0: no limit) and the tolerated failure thresholds, or their
    ``...Path`` forms, are resolved here and honoured by the driver.
    """

    type = "Map"
    entered_event = "MapStateEntered"
    exited_event = "MapStateExited"

    def __init__(self, name: str, raw: dict, build_machine: Any) -> None:
        super().__init__(name, raw, build_machine)
        processor = raw.get("ItemProcessor") or raw.get("Iterator") or {}
        self.processor = build_machine(processor)
        self.items_path = FilterPath(raw.get("ItemsPath", "$"))
        selector = raw.get("ItemSelector", raw.get("Parameters", _DEFAULT))
        self.item_selector = None if selector is _DEFAULT else compile_template(selector)
        self.parameters = None  # Parameters, in a Map state, is the old name of ItemSelector
        self.max_concurrency = raw.get("MaxConcurrency", 0)
        self.tolerated_count = raw.get("ToleratedFailureCount")
        self.tolerated_percentage = raw.get("ToleratedFailurePercentage")
        self.paths = {
            field: compile_path(raw[field])
            for field in ("MaxConcurrencyPath", "ToleratedFailureCountPath", "ToleratedFailurePercentagePath")
            if field in raw
        }
        if self.jsonata:
            self._compile_jsonata(raw)

    def _compile_jsonata(self, raw: dict) -> None:
        """Compile Items, ItemSelector and the numbers, which may be JSONata expressions."""
        from ..jsonata_ import Expression, compile_field, is_expression

        items = raw.get("Items")
        self.items_expression = Expression(items, "Items") if is_expression(items) else None
        self.items_field = compile_field(items, "Items") if isinstance(items, list) else None
        self.item_selector = self.compile_field(raw, "ItemSelector")
        self.number_expressions = {
            field: Expression(raw[field], field)
            for field in ("MaxConcurrency", "ToleratedFailureCount", "ToleratedFailurePercentage")
            if is_expression(raw.get(field))
        }

    def _jsonata_step(self, data: Any, env: Any) -> Outcome:
        from ..jsonata_ import bindings

        found = bindings(env, data, context=self.uses_context)
        if self.items_expression is not None:
            items = self.items_expression.typed(found, "array", lambda v: isinstance(v, list))
        elif self.items_field is not None:
            items = self.items_field(found)
        else:
            items = data
            if not isinstance(items, list):
                raise StatesError(ErrorName.QUERY_EVALUATION_ERROR,
                                  f"Map state input must be an array but was: {to_json(items)}")
        if self.item_selector is not None:
            select = self.item_selector
            items = [select(bindings(self._item_env(env, index, item), data)) for index, item in enumerate(items)]
        numbers = {}
        for field, expression in self.number_expressions.items():
            percentage = field == "ToleratedFailurePercentage"
            numbers[field] = expression.typed(
                found, "number" if percentage else "integer",
                (lambda v: type(v) in (int, float) and 0 <= v <= 100) if percentage
                else (lambda v: type(v) is int and v >= 0))
        return ForkItems(self.processor, items, numbers.get("MaxConcurrency", self.max_concurrency),
                         numbers.get("ToleratedFailureCount", self.tolerated_count),
                         numbers.get("ToleratedFailurePercentage", self.tolerated_percentage), env.variables)

    @staticmethod
    def _item_env(env: Any, index: int, item: Any) -> Env:
        return Env(env.context, env.state_name, entered_time=env.entered_time, entered_event_id=env.entered_event_id,
                   map_item=(index, item), variables=env.variables)

    def _step(self, data: Any, env: Any) -> Outcome:
        if self.jsonata:
            return self._jsonata_step(data, env)
        value = self.input_path.apply(data, env)
        items = self.items_path.apply(value, env)
        if not isinstance(items, list):
            raise StatesError(ErrorName.RUNTIME, f"Map state input must be an array but was: {to_json(items)}")
        if self.item_selector is not None:
            select = self.item_selector
            items = [select(value, self._item_env(env, index, item)) for index, item in enumerate(items)]
        max_concurrency = self._number("MaxConcurrencyPath", value, env, self.max_concurrency)
        count = self._number("ToleratedFailureCountPath", value, env, self.tolerated_count)
        percentage = self._number("ToleratedFailurePercentagePath", value, env, self.tolerated_percentage)
        return ForkItems(self.processor, items, max_concurrency, count, percentage, env.variables)

    def _number(self, field: str, value: Any, env: Any, default: Any) -> Any:
        path = self.paths.get(field)
        if path is None:
            return default
        try:
            number = path.resolve(value, env)
        except PathNotFound as exc:
            raise StatesError(ErrorName.RUNTIME, str(exc)) from None
        percentage = field == "ToleratedFailurePercentagePath"
        shown = number if isinstance(number, str) else to_json(number)
        if isinstance(number, str) and _NUMERIC.match(number) and (percentage or "." not in number):
            # AWS reads a number written as a string ("1"), as recorded with a variable holding "1".
            number = float(number) if percentage and "." in number else int(number)
        valid = (type(number) is int or (percentage and type(number) is float)) and number >= 0
        if not valid or (percentage and number > 100):
            kind = "a valid percentage" if percentage else "a valid integer"
            raise StatesError(ErrorName.RUNTIME,
                              f"The {field} field refers to value \"{shown}\" which is not {kind}: {path.expr}")
        return number



def tolerance_exceeded(failures: int, total: int, count: int | None, percentage: float | None) -> bool:
    """Return whether ``failures`` of ``total`` iterations exceed the Map's tolerated failures.

    With neither threshold set no failure is tolerated; with both, exceeding
    either one fails the state.
    """
    if failures == 0:
        return False
    if count is None and percentage is None:
        return True
    return (count is not None and failures > count) or (
        percentage is not None and failures * 100 > percentage * total)
