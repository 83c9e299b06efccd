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
#: A FAILED, TIMED_OUT or ABORTED execution was redriven (engine/redrive.py): it runs again.
execution_redriven = Signal()

# Batches (engine/batches.py): receivers get ``sender`` (the ``Batch`` class) and ``batch``,
# the Batch as the committed transaction left it (status and item counts).
#: A batch launched or ended items, or was cancelled.
batch_progress = Signal()
#: A batch ended: SUCCEEDED, FAILED or CANCELLED (right after that transaction's batch_progress).
batch_finished = Signal()

#: History event type -> the signal it sends.
BY_EVENT = {
    "ExecutionStarted": execution_started,
    "ExecutionSucceeded": execution_succeeded,
    "ExecutionFailed": execution_failed,
    "ExecutionAborted": execution_aborted,
    "ExecutionTimedOut": execution_timed_out,
    "ExecutionRedriven": execution_redriven,
}
