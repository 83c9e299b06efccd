"""The Task state: hands work to a handler and waits for its result."""
from __future__ import annotations

from typing import Any

from ..errors import ErrorName, StatesError
from ..outcomes import InvokeTask, Outcome
from ..paths import compile_path
from .base import State, check_result_size, positive_int_at

# Spec, "Task State": "TimeoutSeconds ... If not provided, the default value is 99999999."
DEFAULT_TIMEOUT_SECONDS = 99_999_999
WAIT_FOR_TASK_TOKEN = ".waitForTaskToken"


def is_activity(resource: str) -> bool:
    """Return whether ``resource`` names an activity (its events are Activity*, as on AWS)."""
    return resource.startswith("django-asl:activity:") or (
        resource.startswith("arn:aws:states:") and ":activity:" in resource)


def is_lambda_function(resource: str) -> bool:
    """Return whether ``resource`` names a Lambda function directly (its events are LambdaFunction*)."""
    return resource.startswith("arn:") and ":lambda:" in resource and ":function:" in resource


class TaskState(State):
    """Spec, "Task State": the effective input goes to the Resource; its result goes
    through ResultSelector, ResultPath and OutputPath.

    ``step`` returns ``InvokeTask``; the driver calls the handler and then
    ``complete`` with the result or ``fail_task`` with the error.
    TimeoutSeconds/TimeoutSecondsPath and HeartbeatSeconds/HeartbeatSecondsPath
    are resolved here and enforced by the driver.
    """

    type = "Task"
    entered_event = "TaskStateEntered"
    exited_event = "TaskStateExited"

    def __init__(self, name: str, raw: dict, build_machine: Any) -> None:
        super().__init__(name, raw, build_machine)
        self.resource = raw.get("Resource", "")
        self.wait_for_token = self.resource.endswith(WAIT_FOR_TASK_TOKEN)
        self.lambda_function = is_lambda_function(self.resource)
        prefix = "LambdaFunction" if self.lambda_function else "Activity" if is_activity(self.resource) else "Task"
        # History event names for this task: Scheduled, Started, Succeeded, Failed, TimedOut.
        self.events = tuple(prefix + suffix for suffix in ("Scheduled", "Started", "Succeeded", "Failed", "TimedOut"))
        self.timeout_seconds = raw.get("TimeoutSeconds")
        self.heartbeat_seconds = raw.get("HeartbeatSeconds")
        self.timeout_path = compile_path(raw["TimeoutSecondsPath"]) if "TimeoutSecondsPath" in raw else None
        self.heartbeat_path = compile_path(raw["HeartbeatSecondsPath"]) if "HeartbeatSecondsPath" in raw else None
        self.credentials = raw.get("Credentials")
        self.limit_expressions: dict = {}
        self.credentials_field = self.compile_field(raw, "Credentials")
        if self.jsonata:
            from ..jsonata_ import Expression, is_expression

            for field in ("TimeoutSeconds", "HeartbeatSeconds"):
                if is_expression(raw.get(field)):
                    self.limit_expressions[field] = Expression(raw[field], field)
            self.timeout_seconds = None if "TimeoutSeconds" in self.limit_expressions else self.timeout_seconds
            self.heartbeat_seconds = None if "HeartbeatSeconds" in self.limit_expressions else \
                self.heartbeat_seconds

    def _step(self, data: Any, env: Any) -> Outcome:
        if self.wait_for_token and env.task_token is None:
            env.task_token = env.context.new_task_token()
        payload = self.effective_input(data, env)
        if self.jsonata:
            return self._jsonata_invoke(data, payload, env)
        return InvokeTask(
            self.resource,
            payload,
            self._limit("TimeoutSecondsPath", self.timeout_path, data, env) or self.timeout_seconds,
            self._limit("HeartbeatSecondsPath", self.heartbeat_path, data, env) or self.heartbeat_seconds,
            self.wait_for_token,
            self.credentials,
        )

    def _jsonata_invoke(self, data: Any, payload: Any, env: Any) -> InvokeTask:
        """Return the call of a JSONata Task: TimeoutSeconds, HeartbeatSeconds and Credentials may be expressions."""
        from ..jsonata_ import bindings

        found = bindings(env, data, context=self.uses_context) if self.limit_expressions or self.credentials_field else None
        limits = {
            field: expression.typed(found, "integer", lambda v: type(v) is int and 0 < v <= DEFAULT_TIMEOUT_SECONDS)
            for field, expression in self.limit_expressions.items()
        }
        return InvokeTask(
            self.resource, payload, limits.get("TimeoutSeconds", self.timeout_seconds),
            limits.get("HeartbeatSeconds", self.heartbeat_seconds), self.wait_for_token,
            self.credentials_field(found) if self.credentials_field is not None else self.credentials,
        )

    def _limit(self, field: str, path: Any, data: Any, env: Any) -> int | None:
        if path is None:
            return None
        return positive_int_at(field, path, self.input_path.apply(data, env), env)

    def complete(self, data: Any, result: Any, env: Any) -> Outcome:
        """Finish the state with the handler's ``result``."""
        try:
            check_result_size(result, self.resource)
            return self.finish(data, result, env)
        except StatesError as exc:
            return self.on_error(data, exc.name, exc.cause, env, from_task=exc.name == ErrorName.DATA_LIMIT_EXCEEDED)

    def fail_task(self, data: Any, error: str, cause: str | None, env: Any) -> Outcome:
        """Finish the state after the handler failed with ``error`` and ``cause``."""
        return self.on_error(data, error, cause, env, from_task=True)
