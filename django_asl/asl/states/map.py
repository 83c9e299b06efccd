"""The Map state: runs its item processor once for each item of an array."""
from __future__ import annotations

from typing import Any

from ..context import Env
from ..errors import ErrorName, StatesError
from ..outcomes import ForkItems, Outcome
from ..paths import PathNotFound, compile_path, to_json
from ..templates import compile_template
from .base import FilterPath, ForkingState

_DEFAULT = object()


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

    def _step(self, data: Any, env: Any) -> Outcome:
        value = self.input_path.apply(data, env)
        items = self.items_path.apply(value, env)
        if not isinstance(items, list):
            raise StatesError(ErrorName.RUNTIME, f"Map state input must be an array but was: {to_json(items)}")
        if self.item_selector is not None:
            select = self.item_selector
            context = env.context
            items = [
                select(value, Env(context, env.state_name, entered_time=env.entered_time,
                                  entered_event_id=env.entered_event_id, map_item=(index, item),
                                  variables=env.variables))
                for index, item in enumerate(items)
            ]
        max_concurrency = self._number("MaxConcurrencyPath", value, env, self.max_concurrency)
        count = self._number("ToleratedFailureCountPath", value, env, self.tolerated_count)
        percentage = self._number("ToleratedFailurePercentagePath", value, env, self.tolerated_percentage)
        return ForkItems(self.processor, items, max_concurrency, count, percentage)

    def _number(self, field: str, value: Any, env: Any, default: Any) -> Any:
        path = self.paths.get(field)
        if path is None:
            return default
        try:
            number = path.resolve(value, env)
        except PathNotFound as exc:
            raise StatesError(ErrorName.RUNTIME, str(exc)) from None
        percentage = field == "ToleratedFailurePercentagePath"
        valid = (type(number) is int or (percentage and type(number) is float)) and number >= 0
        if not valid or (percentage and number > 100):
            shown = number if isinstance(number, str) else to_json(number)
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
