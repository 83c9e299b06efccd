"""django-asl: Amazon States Language workflows, run durably inside Django.

    from django_asl import start_execution, task

The public API of ``django_asl.engine`` is available here, imported on first
use, so that importing ``django_asl`` needs no configured settings.
"""
__version__ = "0.1.0"

_ENGINE_NAMES = frozenset({
    "ExecutionAlreadyExists", "ExecutionNotRunning", "InvalidExecutionInput", "StateMachineDoesNotExist",
    "UnknownResource", "autodiscover", "count_executions", "describe_execution", "get_execution_history",
    "get_handler", "list_executions", "publish", "start_execution", "start_sync_execution", "stop_execution", "task",
    "validate_definition",
    "BatchNotRunning", "SourceExecutionDoesNotExist", "SourceOutputUnavailable", "cancel_batch", "describe_batch",
    "list_batches", "rerun_execution", "start_batch",
    "execution_statistics", "rebuild_statistics_rollup", "remove_from_rollup", "rollup_statistics",
    "ExecutionNotRedrivable", "redrive_execution",
    "InvalidMessage", "SentMessage", "send_message",
    "ActivityDoesNotExist", "ActivityInUse", "InvalidOutput", "InvalidToken", "TaskDoesNotExist", "TaskTimedOut",
    "create_activity", "delete_activity", "get_activity_task", "list_activities", "send_task_failure",
    "send_task_heartbeat", "send_task_success",
})


def __getattr__(name: str):
    if name in _ENGINE_NAMES:
        from . import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'django_asl' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _ENGINE_NAMES)
