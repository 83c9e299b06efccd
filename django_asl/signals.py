"""Signals about executions, sent once the transaction that recorded the event has committed.

Every receiver gets ``sender`` (the ``Execution`` class), ``execution`` and
``event`` (the ``HistoryEvent``); ``state_entered`` and ``state_exited`` also
get ``state_name``. Nothing is queued for a signal that has no receivers.
"""
from django.dispatch import Signal

execution_started = Signal()
execution_succeeded = Signal()
execution_failed = Signal()
execution_aborted = Signal()
execution_timed_out = Signal()
state_entered = Signal()
state_exited = Signal()

#: History event type -> the signal it sends.
BY_EVENT = {
    "ExecutionStarted": execution_started,
    "ExecutionSucceeded": execution_succeeded,
    "ExecutionFailed": execution_failed,
    "ExecutionAborted": execution_aborted,
    "ExecutionTimedOut": execution_timed_out,
}
