"""Errors of the language core: ASL error names as data, and Python exceptions.

Three kinds, never mixed (see STYLE.md):

* ``StatesError`` carries an ASL error *name* and *cause*. It is data: Retry and
  Catch match on the name, history stores it, users see it as Error/Cause.
* ``Issue`` describes a problem with a definition; validators collect them and
  ``DefinitionError`` carries the list.
* ``AslError`` and its subclasses are for programmers: wrong arguments, bad
  definitions handed to ``run``.
"""
from __future__ import annotations

from dataclasses import dataclass


class ErrorName:
    """The predefined error names of the Amazon States Language."""

    ALL = "States.ALL"
    HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
    TIMEOUT = "States.Timeout"
    TASK_FAILED = "States.TaskFailed"
    PERMISSIONS = "States.Permissions"
    RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
    PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
    QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
    BRANCH_FAILED = "States.BranchFailed"
    NO_CHOICE_MATCHED = "States.NoChoiceMatched"
    INTRINSIC_FAILURE = "States.IntrinsicFailure"
    EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
    ITEM_READER_FAILED = "States.ItemReaderFailed"
    RESULT_WRITER_FAILED = "States.ResultWriterFailed"
    RUNTIME = "States.Runtime"
    DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"


class AslError(Exception):
    """An error in the use of the language core."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class StatesError(AslError):
    """An ASL runtime error, identified by its error name."""

    def __init__(self, name: str, cause: str | None = None) -> None:
        self.name = name
        self.cause = cause
        super().__init__(f"{name}: {cause}" if cause else name)

    def __reduce__(self):  # keep picklable with the two-argument constructor
        return (type(self), (self.name, self.cause))


class TaskError(Exception):
    """Raised by a task handler to fail the task with a chosen error name and cause.

    ``raise TaskError("PaymentDeclined", "card expired")`` fails the Task state
    with Error ``PaymentDeclined``; Retry and Catch match on that name.
    """

    def __init__(self, error: str, cause: str | None = None) -> None:
        if not isinstance(error, str) or not error:
            raise ValueError("TaskError needs a non-empty error name.")
        self.error = error
        self.cause = cause
        super().__init__(f"{error}: {cause}" if cause else error)


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem found in a definition.

    ``path`` is a JSON path from the root (``$.States.Charge.Retry[0]``),
    ``code`` a stable snake_case identifier, ``message`` a sentence for people.
    ``severity`` is ``"error"`` or ``"warning"``; only errors make a definition invalid.
    """

    path: str
    code: str
    message: str
    severity: str = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def as_dict(self) -> dict:
        return {"path": self.path, "code": self.code, "message": self.message, "severity": self.severity}


class DefinitionError(AslError):
    """The state machine definition is not valid."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = list(issues)
        errors = [i for i in self.issues if i.is_error] or self.issues
        lines = "\n".join(f"  {issue}" for issue in errors[:20])
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"The state machine definition is not valid:\n{lines}{more}")
