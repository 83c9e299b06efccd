"""The Fail state: ends the machine with an error name and a cause."""
from __future__ import annotations

from typing import Any

from ..errors import ErrorName, StatesError
from ..outcomes import Fail, Outcome
from ..paths import PathNotFound, compile_path, to_json
from .base import State


class FailState(State):
    """Spec, "Fail State": Error/ErrorPath and Cause/CausePath give the failure's name and cause.

    ErrorPath and CausePath may be Reference Paths or intrinsic functions; a
    value that is not a string is a runtime error.
    """

    type = "Fail"
    entered_event = "FailStateEntered"
    exited_event = ""

    def __init__(self, name: str, raw: dict, build_machine: Any) -> None:
        super().__init__(name, raw, build_machine)
        self.error = raw.get("Error")
        self.cause = raw.get("Cause")
        self.error_path = _dynamic(raw.get("ErrorPath"))
        self.cause_path = _dynamic(raw.get("CausePath"))
        # JSONata: Error and Cause may be expressions that give strings.
        self.error_field = self.compile_field(raw, "Error")
        self.cause_field = self.compile_field(raw, "Cause")

    def _step(self, data: Any, env: Any) -> Outcome:
        if self.jsonata:
            return self._jsonata_fail(data, env)
        error = self._read("ErrorPath", self.error_path, data, env) if self.error_path else self.error
        cause = self._read("CausePath", self.cause_path, data, env) if self.cause_path else self.cause
        return Fail(error, cause)

    def _jsonata_fail(self, data: Any, env: Any) -> Outcome:
        from ..jsonata_ import bindings

        found = bindings(env, data, context=self.uses_context) if self.error_field or self.cause_field else None
        values = []
        for field, compiled, constant in (("Error", self.error_field, self.error),
                                          ("Cause", self.cause_field, self.cause)):
            value = compiled(found) if compiled is not None else constant
            if value is not None and not isinstance(value, str):
                raise StatesError(ErrorName.QUERY_EVALUATION_ERROR,
                                  f"The {field} field must resolve to a string, but was: {to_json(value)}")
            values.append(value)
        return Fail(values[0], values[1])

    def _read(self, field: str, source: tuple, data: Any, env: Any) -> str:
        expr, evaluate = source
        try:
            value = evaluate(data, env)
        except PathNotFound:
            raise StatesError(
                ErrorName.RUNTIME,
                f"The {field} field could not be found in the input: {expr}",
            ) from None
        if not isinstance(value, str):
            raise StatesError(
                ErrorName.RUNTIME,
                f"The {field} field must resolve to a string, but was: {expr}",
            )
        return value



def _dynamic(expr: Any) -> tuple | None:
    """Compile an ErrorPath/CausePath: a path or an intrinsic function."""
    if expr is None:
        return None
    from ..intrinsics import compile_intrinsic, is_intrinsic

    if is_intrinsic(expr):
        return expr, compile_intrinsic(expr)
    return expr, compile_path(expr).resolve
