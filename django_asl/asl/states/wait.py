"""The Wait state: holds the execution for a time, then goes on."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from ..errors import ErrorName, StatesError
from ..outcomes import Outcome, Wait
from ..paths import PathNotFound, compile_path
from .base import State


def _shown(value: Any) -> str:
    """Render a value the way AWS quotes it after '==' in Wait errors."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    from ..paths import to_json

    return value if isinstance(value, str) else to_json(value)


class WaitState(State):
    """Spec, "Wait State": exactly one of Seconds, SecondsPath, Timestamp, TimestampPath.

    The wait is returned as a ``Wait`` outcome with its due time: nothing here
    sleeps. InputPath and OutputPath apply; the paths read the effective input.
    """

    type = "Wait"
    entered_event = "WaitStateEntered"
    exited_event = "WaitStateExited"

    def __init__(self, name: str, raw: dict, build_machine: Any) -> None:
        from ..timestamps import parse_timestamp

        super().__init__(name, raw, build_machine)
        self.seconds = raw.get("Seconds")
        self.timestamp = parse_timestamp(raw["Timestamp"]) if "Timestamp" in raw else None
        self.seconds_path = raw.get("SecondsPath")
        self.timestamp_path = raw.get("TimestampPath")
        self._seconds_path = compile_path(self.seconds_path) if self.seconds_path else None
        self._timestamp_path = compile_path(self.timestamp_path) if self.timestamp_path else None
        self._seconds_expression = self._timestamp_expression = None
        if self.jsonata:
            from ..jsonata_ import Expression, is_expression

            if is_expression(raw.get("Seconds")):
                self._seconds_expression = Expression(raw["Seconds"], "Seconds")
                self.seconds = None
            if is_expression(raw.get("Timestamp")):
                self._timestamp_expression = Expression(raw["Timestamp"], "Timestamp")
                self.timestamp = None

    def _step(self, data: Any, env: Any) -> Outcome:
        if self.jsonata:
            return self._jsonata_step(data, env)
        value = self.input_path.apply(data, env)
        if self.timestamp is not None:
            until = self.timestamp
        elif self._timestamp_path is not None:
            until = self._read_timestamp(value, env)
        else:
            seconds = self.seconds if self._seconds_path is None else self._read_seconds(value, env)
            until = env.now() + timedelta(seconds=seconds)
        return self.leave(data, value, env, lambda output: Wait(until, self.transition(output)))

    def _jsonata_step(self, data: Any, env: Any) -> Outcome:
        """Wait for Seconds or until Timestamp, either of which may be an expression."""
        from ..jsonata_ import bindings
        from ..timestamps import parse_timestamp

        found = bindings(env, data, context=self.uses_context)
        if self._timestamp_expression is not None:
            text = self._timestamp_expression.evaluate(found)
            until = parse_timestamp(text) if isinstance(text, str) else None
            if until is None:
                raise StatesError(ErrorName.QUERY_EVALUATION_ERROR,
                                  "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time "
                                  f"format string: {_shown(text)}")
        elif self.timestamp is not None:
            until = self.timestamp
        else:
            seconds = self.seconds
            if self._seconds_expression is not None:
                seconds = self._seconds_expression.typed(
                    found, "integer", lambda v: type(v) is int and 0 <= v <= 99_999_999)
            until = env.now() + timedelta(seconds=seconds)
        return self.leave(data, data, env, lambda output: Wait(until, self.transition(output)))

    def _read_seconds(self, value: Any, env: Any) -> int:
        expr = self.seconds_path
        try:
            seconds = self._seconds_path.resolve(value, env)
        except PathNotFound:
            raise StatesError(ErrorName.RUNTIME,
                              f"The SecondsPath parameter does not reference an input value: {expr}") from None
        whole = type(seconds) is int or (type(seconds) is float and seconds.is_integer())
        if not whole:
            raise StatesError(ErrorName.RUNTIME, f"The SecondsPath parameter cannot be parsed as a long value: "
                                                 f"{expr} == {_shown(seconds)}")
        if seconds < 0:
            raise StatesError(ErrorName.RUNTIME, f"The SecondsPath parameter references a negative value: "
                                                 f"{expr} == {_shown(seconds)}")
        return int(seconds)

    def _read_timestamp(self, value: Any, env: Any):
        from ..timestamps import parse_timestamp

        expr = self.timestamp_path
        try:
            text = self._timestamp_path.resolve(value, env)
        except PathNotFound:
            raise StatesError(ErrorName.RUNTIME,
                              f"The TimestampPath parameter does not reference an input value: {expr}") from None
        moment = parse_timestamp(text) if isinstance(text, str) else None
        if moment is None:
            raise StatesError(
                ErrorName.RUNTIME,
                "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time "
                f"format string: {expr} == {_shown(text)}",
            )
        return moment
