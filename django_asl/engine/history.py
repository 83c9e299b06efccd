"""The one place that writes history: events are buffered during a step and inserted together."""
from __future__ import annotations

from typing import Any

from django.db import transaction

from ..models import Execution, HistoryEvent
from ..signals import BY_EVENT, state_entered, state_exited


class HistoryWriter:
    """Numbers the events of one execution and inserts them in one statement per flush."""

    __slots__ = ("execution", "clock", "rows")

    def __init__(self, execution: Execution, clock: Any) -> None:
        self.execution = execution
        self.clock = clock
        self.rows: list[HistoryEvent] = []

    def add(self, event_type: str, details: dict | None = None, timestamp: Any = None) -> int:
        """Buffer an event and return its sequence number (the driver's ``add`` callback)."""
        execution = self.execution
        execution.last_event_id += 1
        details = dict(details) if details else {}
        state_name = details.pop("name", "") if event_type.endswith(("Entered", "Exited")) else ""
        self.rows.append(HistoryEvent(
            execution_id=execution.pk, sequence=execution.last_event_id, type=event_type,
            timestamp=timestamp or self.clock.now(), state_name=state_name or "", details=details,
        ))
        return execution.last_event_id

    def flush(self) -> None:
        """Insert the buffered events, and send their signals once the transaction commits."""
        self.flush_all([self])

    @staticmethod
    def flush_all(writers: list[HistoryWriter]) -> None:
        """Insert the events of several writers in one statement."""
        rows = [row for writer in writers for row in writer.rows]
        if rows:
            HistoryEvent.objects.bulk_create(rows)
        for writer in writers:
            if writer.rows:
                writer._signal_after_commit(writer.rows)
                writer.rows = []

    def _signal_after_commit(self, rows: list[HistoryEvent]) -> None:
        sends = []
        for event in rows:
            signal = BY_EVENT.get(event.type)
            if signal is not None and signal.has_listeners():
                sends.append((signal, event, {}))
            elif event.type.endswith("StateEntered") and state_entered.has_listeners():
                sends.append((state_entered, event, {"state_name": event.state_name}))
            elif event.type.endswith("StateExited") and state_exited.has_listeners():
                sends.append((state_exited, event, {"state_name": event.state_name}))
        if sends:
            execution = self.execution
            transaction.on_commit(lambda: [
                signal.send(sender=Execution, execution=execution, event=event, **extra)
                for signal, event, extra in sends])


def store_events(execution: Execution, events: list[dict]) -> None:
    """Store the history of an execution that ran in memory (an EXPRESS run)."""
    writer = HistoryWriter(execution, None)
    for event in events:
        writer.add(event["type"], event["details"], event["timestamp"])
    writer.flush()


def history_of(execution: Execution) -> list[dict]:
    """Return the events of an execution as dicts, oldest first."""
    return [
        {"id": event.sequence, "type": event.type, "timestamp": event.timestamp,
         "details": ({"name": event.state_name, **event.details} if event.state_name else event.details)}
        for event in execution.history.order_by("sequence")
    ]
