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
from .batches import (
    MAX_SOURCE_IDS, BatchNotRunning, advance_batch, cancel_batch, describe_batch, list_batches, start_batch,
)
from .callbacks import (
    ActivityDoesNotExist, ActivityInUse, InvalidOutput, InvalidToken, TaskDoesNotExist, TaskTimedOut, create_activity,
    delete_activity, get_activity_task, list_activities, send_task_failure, send_task_heartbeat, send_task_success,
)
from .inspection import inspect_execution, path_taken
from .chaining import SourceExecutionDoesNotExist, SourceOutputUnavailable, rerun_execution
from .messages import InvalidMessage, SentMessage, purge_messages, send_message
from .redrive import ExecutionNotRedrivable, redrive_execution
from .registry import UnknownResource, autodiscover, get_handler, task
from .runtime import advance_execution, run_task
from .statistics import execution_statistics, rebuild_statistics_rollup, remove_from_rollup, rollup_statistics
from .variables import execution_variables
from .worker import run_worker

__all__ = [
    "ExecutionAlreadyExists", "ExecutionNotRunning", "InvalidExecutionInput", "StateMachineDoesNotExist",
    "UnknownResource", "advance_execution", "autodiscover", "count_executions", "describe_execution",
    "get_execution_history", "get_handler", "list_executions", "publish", "run_task", "run_worker", "start_execution", "start_sync_execution",
    "stop_execution", "task", "validate_definition",
    "BatchNotRunning", "SourceExecutionDoesNotExist", "SourceOutputUnavailable", "advance_batch", "cancel_batch",
    "describe_batch", "list_batches", "rerun_execution", "start_batch", "MAX_SOURCE_IDS",
    "execution_statistics", "execution_variables", "rebuild_statistics_rollup", "remove_from_rollup", "rollup_statistics",
    "inspect_execution", "path_taken",
    "ExecutionNotRedrivable", "redrive_execution",
    "InvalidMessage", "SentMessage", "purge_messages", "send_message",
    "ActivityDoesNotExist", "ActivityInUse", "InvalidOutput", "InvalidToken", "TaskDoesNotExist", "TaskTimedOut",
    "create_activity", "delete_activity", "get_activity_task", "list_activities", "send_task_failure",
    "send_task_heartbeat", "send_task_success",
]
