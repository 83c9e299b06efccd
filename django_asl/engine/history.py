"""The one place that writes history: events are buffered during a step and inserted together."""
from __future__ import annotations

from typing import Any

from django.db import connection, transaction

from ..models import Execution, HistoryEvent
from . import statements

# The columns an event is written with, in order (the id is the database's).
_COLUMNS = [HistoryEvent._meta.get_field(name)
            for name in ("execution", "sequence", "type", "timestamp", "state_name", "details")]
# Rows per INSERT when the database has no tighter limit on bound parameters (SQLite's is 999).
_MAX_ROWS_PER_INSERT = 5000
from ..signals import BY_EVENT, state_entered, state_exited


class HistoryWriter:
    """Numbers the events of one execution and inserts them in one statement per flush."""

    __slots__ = ("execution", "clock", "rows")

    def __init__(self, execution: Execution, clock: Any) -> None:
        self.execution = execution
        self.clock = clock
        self.rows: list[tuple] = []  # (execution id, sequence, type, timestamp, state name, details)

    def add(self, event_type: str, details: dict | None = None, timestamp: Any = None) -> int:
        """Buffer an event and return its sequence number (the driver's ``add`` callback)."""
        execution = self.execution
        execution.last_event_id += 1
        details = dict(details) if details else {}
        state_name = details.pop("name", "") if event_type.endswith(("Entered", "Exited")) else ""
        self.rows.append((execution.pk, execution.last_event_id, event_type, timestamp or self.clock.now(),
                          state_name or "", details))
        return execution.last_event_id

    def flush(self) -> None:
        """Insert the buffered events, and send their signals once the transaction commits."""
        self.flush_all([self])

    @staticmethod
    def flush_all(writers: list[HistoryWriter]) -> None:
        """Insert the events of several writers in one statement (no model instances)."""
        rows = [row for writer in writers for row in writer.rows]
        if not rows:
            return
        if statements.supported():  # PostgreSQL: one prepared statement of arrays, whatever the row count
            statements.insert_events(rows)
        else:
            limit = connection.features.max_query_params
            size = min(_MAX_ROWS_PER_INSERT, limit // len(_COLUMNS)) if limit else _MAX_ROWS_PER_INSERT
            for start in range(0, len(rows), size):
                _insert(rows[start:start + size])
        for writer in writers:
            if writer.rows:
                writer.flushed(writer.rows)

    def flushed(self, rows: list[tuple]) -> None:
        """Forget the buffered ``rows``, written by the caller; their signals go after commit."""
        self._signal_after_commit(rows)
        self.rows = []

    def _signal_after_commit(self, rows: list[tuple]) -> None:
        sends = []
        for row in rows:
            event_type = row[2]
            signal = BY_EVENT.get(event_type)
            extra: dict = {}
            if signal is None and event_type.endswith("StateEntered"):
                signal, extra = state_entered, {"state_name": row[4]}
            elif signal is None and event_type.endswith("StateExited"):
                signal, extra = state_exited, {"state_name": row[4]}
            if signal is not None and signal.has_listeners():
                event = HistoryEvent(execution_id=row[0], sequence=row[1], type=event_type, timestamp=row[3],
                                     state_name=row[4], details=row[5])
                sends.append((signal, event, extra))
        if sends:
            execution = self.execution
            transaction.on_commit(lambda: [
                signal.send(sender=Execution, execution=execution, event=event, **extra)
                for signal, event, extra in sends])


def _insert(rows: list[tuple]) -> None:
    quote = connection.ops.quote_name
    placeholders = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
    params = [field.get_db_prep_save(value, connection) for row in rows for field, value in zip(_COLUMNS, row)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(HistoryEvent._meta.db_table)} "
            f"({', '.join(quote(field.column) for field in _COLUMNS)}) VALUES "
            + ", ".join([placeholders] * len(rows)), params)


def store_events(execution: Execution, events: list[dict]) -> None:
    """Store the history of an execution that ran in memory (an EXPRESS run)."""
    writer = HistoryWriter(execution, None)
    for event in events:
        writer.add(event["type"], event["details"], event["timestamp"])
    writer.flush()


def history_of(execution: Execution, *, after_sequence: int | None = None, limit: int | None = None) -> list[dict]:
    """Return the events of an execution as dicts, oldest first (after ``after_sequence``, at most ``limit``)."""
    events = execution.history.order_by("sequence")
    if after_sequence is not None:
        events = events.filter(sequence__gt=after_sequence)
    if limit is not None:
        events = events[:limit]
    return [
        {"id": event.sequence, "type": event.type, "timestamp": event.timestamp,
         "details": ({"name": event.state_name, **event.details} if event.state_name else event.details)}
        for event in events
    ]
