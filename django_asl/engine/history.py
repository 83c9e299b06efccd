"""The one place that writes history: events are buffered during a step and inserted together."""
from __future__ import annotations

from typing import Any

from ..models import Execution, HistoryEvent


class HistoryWriter:
    """Numbers the events of one execution and inserts them in one statement per flush."""

    __slots__ = ("execution", "clock", "rows")

    def __init__(self, execution: Execution, clock: Any) -> None:
        self.execution = execution
        self.clock = clock
        self.rows: list[HistoryEvent] = []

    def add(self, event_type: str, details: dict | None = None) -> int:
        """Buffer an event and return its sequence number (the driver's ``add`` callback)."""
        execution = self.execution
        execution.last_event_id += 1
        details = dict(details) if details else {}
        state_name = details.pop("name", "") if event_type.endswith(("Entered", "Exited")) else ""
        self.rows.append(HistoryEvent(
            execution_id=execution.pk, sequence=execution.last_event_id, type=event_type,
            timestamp=self.clock.now(), state_name=state_name or "", details=details,
        ))
        return execution.last_event_id

    def flush(self) -> None:
        if self.rows:
            HistoryEvent.objects.bulk_create(self.rows)
            self.rows = []


def history_of(execution: Execution) -> list[dict]:
    """Return the events of an execution as dicts, oldest first."""
    return [
        {"id": event.sequence, "type": event.type, "timestamp": event.timestamp,
         "details": ({"name": event.state_name, **event.details} if event.state_name else event.details)}
        for event in execution.history.order_by("sequence")
    ]
