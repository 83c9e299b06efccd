"""The Message state: waits for a message correlated by a key and a value (a django-asl extension).

AWS Step Functions has no Message state; this one follows the shape that
``state-machine-amz-go`` gives it::

    "WaitForPayment": {
        "Type": "Message",
        "CorrelationKey": "payment",
        "CorrelationValuePath": "$.order_id",
        "MessagePath": "$.amount",
        "TimeoutSeconds": 3600,
        "ResultPath": "$.paid",
        "Next": "Ship"
    }

``CorrelationValuePath`` reads the value from the effective input (after
``InputPath``; the whole effective input when absent). ``MessagePath`` selects
the state's result from the message's data (the whole data when absent). The
result then goes through ``ResultPath`` and ``OutputPath`` as a Task's does
(there is no ``ResultSelector`` or ``Parameters``). ``TimeoutSeconds`` or
``TimeoutSecondsPath`` limit the wait; past it the state fails with
``States.Timeout``, which Retry and Catch handle as they do for a Task.
"""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from ..errors import ErrorName, StatesError
from ..outcomes import AwaitMessage, Outcome
from ..paths import PathNotFound, compile_path
from .base import State, check_result_size, positive_int_at

#: Longest CorrelationKey (the column that stores it has this size).
MAX_CORRELATION_KEY_LENGTH = 256


def _normalised(value: Any) -> Any:
    """Return ``value`` with integral floats as ints: JSON has one number type, so 2.0 is 2."""
    kind = type(value)
    if kind is float:
        return int(value) if value.is_integer() else value
    if kind is dict:
        return {key: _normalised(item) for key, item in value.items()}
    if kind is list:
        return [_normalised(item) for item in value]
    return value


def canonical_json(value: Any) -> str:
    """Return the canonical JSON text of a correlation value: sorted keys, no spaces, 2.0 written 2.

    Raise ``ValueError`` for a value that is not JSON (NaN, a set, an object
    with non-string keys, nesting too deep to encode).
    """
    try:
        return json.dumps(_normalised(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
    except RecursionError:
        raise ValueError("the value is nested too deeply") from None
    except TypeError as exc:
        raise ValueError(str(exc)) from None


def correlation_digest(correlation_key: str, correlation_value: Any) -> str:
    """Return the SHA-256 (hex) that identifies a correlation: the key and the canonical JSON of the value.

    Two values that are equal as JSON (``{"a": 1, "b": 2.0}`` and
    ``{"b": 2, "a": 1}``) give the same digest; ``true`` and ``1`` do not.
    """
    text = correlation_key + "\x00" + canonical_json(correlation_value)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class MessageState(State):
    """A django-asl extension: wait until ``send_message`` delivers a message with this state's correlation.

    ``step`` returns ``AwaitMessage``; the driver resumes the state with
    ``complete`` (a message came) or ``time_out`` (TimeoutSeconds passed).
    """

    type = "Message"
    entered_event = "MessageStateEntered"
    exited_event = "MessageStateExited"

    def __init__(self, name: str, raw: dict, build_machine: Any) -> None:
        super().__init__(name, raw, build_machine)
        self.correlation_key: str = raw["CorrelationKey"]
        value_path = raw.get("CorrelationValuePath")
        self.correlation_value_path = compile_path(value_path) if value_path not in (None, "$") else None
        message_path = raw.get("MessagePath")
        self.message_path = compile_path(message_path) if message_path not in (None, "$") else None
        self.timeout_seconds: int | None = raw.get("TimeoutSeconds")
        self.timeout_path = compile_path(raw["TimeoutSecondsPath"]) if "TimeoutSecondsPath" in raw else None

    def _step(self, data: Any, env: Any) -> Outcome:
        value = self.input_path.apply(data, env)
        correlation_value = _select("CorrelationValuePath", self.correlation_value_path, value, env)
        try:
            canonical_json(correlation_value)
        except ValueError as exc:
            raise StatesError(ErrorName.RUNTIME, f"The correlation value is not JSON: {exc}.") from None
        timeout = self.timeout_seconds if self.timeout_path is None else \
            positive_int_at("TimeoutSecondsPath", self.timeout_path, value, env)
        until = env.now() + timedelta(seconds=timeout) if timeout is not None else None
        return AwaitMessage(self.correlation_key, correlation_value, timeout, until)

    def complete(self, data: Any, message_data: Any, env: Any) -> Outcome:
        """Finish the state with the data of the message it received.

        MessagePath selects the result from the data; ResultPath places it into
        the raw input ``data``, and OutputPath filters the whole.
        """
        try:
            result = _select("MessagePath", self.message_path, message_data, env)
            check_result_size(result, self.name)
            return self.finish(data, result, env)
        except StatesError as exc:
            return self.on_error(data, exc.name, exc.cause, env)

    def timeout_cause(self, timeout_seconds: int | None) -> str:
        """Return the cause of the ``States.Timeout`` this state fails with."""
        return (f"The Message state '{self.name}' received no message for CorrelationKey "
                f"'{self.correlation_key}' within {timeout_seconds} seconds.")

    def time_out(self, data: Any, timeout_seconds: int | None, env: Any) -> Outcome:
        """Finish the state after its TimeoutSeconds passed: States.Timeout, for Retry and Catch."""
        return self.on_error(data, ErrorName.TIMEOUT, self.timeout_cause(timeout_seconds), env)


def _select(field: str, path: Any, value: Any, env: Any) -> Any:
    """Return what ``path`` (the compiled ``field``; None selects everything) selects in ``value``."""
    if path is None:
        return value
    try:
        return path.resolve(value, env)
    except PathNotFound as exc:
        raise StatesError(ErrorName.RUNTIME, f"The {field} selects nothing: {exc}") from None
