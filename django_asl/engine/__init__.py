"""The durable engine: stored executions advanced by django-q2 workers.

Front ends (admin, API, management commands) and users call only what this
module exports; ``django_asl`` re-exports it lazily.
"""
from .executions import (
    ExecutionAlreadyExists,
    ExecutionNotRunning,
    InvalidExecutionInput,
    StateMachineDoesNotExist,
    count_executions,
    describe_execution,
    get_execution_history,
    list_executions,
    publish,
    start_execution,
    start_sync_execution,
    stop_execution,
    validate_definition,
)
from .registry import UnknownResource, autodiscover, get_handler, task
from .runtime import advance_execution, run_task
from .worker import run_worker

__all__ = [
    "ExecutionAlreadyExists", "ExecutionNotRunning", "InvalidExecutionInput", "StateMachineDoesNotExist",
    "UnknownResource", "advance_execution", "autodiscover", "count_executions", "describe_execution",
    "get_execution_history", "get_handler", "list_executions", "publish", "run_task", "run_worker", "start_execution", "start_sync_execution",
    "stop_execution", "task", "validate_definition",
]
