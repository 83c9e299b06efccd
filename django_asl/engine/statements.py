"""A step written in one statement on PostgreSQL: its execution's UPDATE and its events' INSERT.

A task chain commits after every task; each commit is a transaction of its
own. Sent as BEGIN, INSERT, UPDATE and COMMIT, that is four round trips to the
server. PostgreSQL runs a data-modifying ``WITH`` as one statement, and one
statement is one transaction even in autocommit, so a step that writes nothing
else is sent as::

    WITH updated AS (UPDATE execution SET ... WHERE id = %s AND last_event_id = %s
                     AND status = 'RUNNING' RETURNING id)
    INSERT INTO historyevent (...) SELECT updated.id, e.* FROM updated, unnest(%s, %s, ...) AS e

The events go in as arrays (one per column), so every step has the same text,
and the statement is prepared on the server once per connection (unless the
``PREPARED_STATEMENTS`` setting is off, for poolers that cannot keep them).
Every other INSERT of history events on PostgreSQL (``insert_events``) takes the
same arrays, so a run of 200 Pass states' events is one short prepared statement
rather than 1,200 placeholders for the client to render.

The compare-and-set on ``last_event_id`` makes the write a no-op when another
worker moved the execution on: nothing is inserted, and the caller falls back
to the locked path. Other databases use the same compare-and-set UPDATE and
INSERT inside a transaction (``runtime.save_steps``).
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Iterator

from django.db import connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper

from ..conf import asl_settings
from ..models import Execution, HistoryEvent


def supported() -> bool:
    """Return whether the database can write a step in one statement (PostgreSQL through psycopg 3)."""
    return connection.vendor == "postgresql" and _psycopg3()


@lru_cache(maxsize=1)
def _psycopg3() -> bool:
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return is_psycopg3


def update_and_insert(execution: Execution, names: list[str], expected: int, rows: list[tuple]) -> bool:
    """Write ``names`` of a running execution whose last_event_id is ``expected``, and its event ``rows``.

    ``rows`` are ``HistoryWriter`` rows (execution id, sequence, type,
    timestamp, state name, details) and must not be empty. Return False, having
    written nothing, when the execution is no longer where this worker left it.
    """
    fields = [Execution._meta.get_field(name) for name in names]
    params = [field.get_db_prep_save(getattr(execution, field.attname), connection) for field in fields]
    params += [execution.pk, expected, Execution.Status.RUNNING.value]
    with _cursor() as cursor:
        cursor.execute(_update_and_insert_sql(tuple(names)), params + _event_columns(rows)[1:])
        return cursor.rowcount == len(rows)


def insert_events(rows: list[tuple]) -> None:
    """Insert ``HistoryWriter`` rows, of any executions, with one statement of fixed text.

    The rows travel as one array per column, so the statement is the same
    for 3 events or 3,000, and is prepared once per connection.
    """
    with _cursor() as cursor:
        cursor.execute(_insert_sql(), _event_columns(rows))


def _event_columns(rows: list[tuple]) -> list[list]:
    """Return the rows as columns: execution ids, sequences, types, timestamps, state names, details."""
    adapt = connection.ops.adapt_json_value
    return [[row[0] for row in rows], [row[1] for row in rows], [row[2] for row in rows],
            [row[3] for row in rows], [row[4] for row in rows], [adapt(row[5], None) for row in rows]]


_EVENTS = ("unnest(%s::integer[], %s::varchar[], %s::timestamptz[], %s::varchar[], %s::jsonb[]) "
           "AS event(sequence, type, timestamp, state_name, details)")


def _history_columns() -> str:
    quote = connection.ops.quote_name
    history = HistoryEvent._meta
    return ", ".join(quote(history.get_field(name).column)
                     for name in ("execution", "sequence", "type", "timestamp", "state_name", "details"))


@lru_cache(maxsize=1)
def _insert_sql() -> str:
    table = connection.ops.quote_name(HistoryEvent._meta.db_table)
    return (f"INSERT INTO {table} ({_history_columns()}) "
            f"SELECT event.* FROM unnest(%s::uuid[], %s::integer[], %s::varchar[], %s::timestamptz[], "
            f"%s::varchar[], %s::jsonb[]) AS event(execution_id, sequence, type, timestamp, state_name, details)")


@lru_cache(maxsize=8)
def _update_and_insert_sql(names: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    execution = Execution._meta
    assignments = ", ".join(f"{quote(execution.get_field(name).column)} = %s" for name in names)
    return (
        f"WITH updated AS (UPDATE {quote(execution.db_table)} SET {assignments} "
        f"WHERE {quote('id')} = %s AND {quote('last_event_id')} = %s AND {quote('status')} = %s "
        f"RETURNING {quote('id')}) "
        f"INSERT INTO {quote(HistoryEvent._meta.db_table)} ({_history_columns()}) "
        f"SELECT updated.{quote('id')}, event.sequence, event.type, event.timestamp, event.state_name, event.details "
        f"FROM updated, {_EVENTS}"
    )


@contextmanager
def _cursor() -> Iterator[Any]:
    """Yield a Django cursor that binds parameters on the server (and prepares statements)."""
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = _cursor_class(bool(asl_settings.PREPARED_STATEMENTS))(connection.connection)
    cursor = _LoggedCursor(raw, connection) if connection.queries_logged else connection.make_cursor(raw)
    with cursor:
        yield cursor


class _LoggedCursor(CursorDebugWrapper):
    """Django's debug cursor, logging the statement as written: psycopg keeps no text of a
    prepared statement for Django to render."""

    def execute(self, sql: str, params: Any = None) -> Any:
        with self.debug_sql(sql, params):
            return CursorWrapper.execute(self, sql, params)


@lru_cache(maxsize=2)
def _cursor_class(prepare: bool) -> type:
    import psycopg

    class ServerCursor(psycopg.Cursor):
        """psycopg's server-binding cursor: parameters go in binary, statements are prepared when ``prepare``.

        Binary spares psycopg quoting every array element as text. The query
        keeps ``%s`` placeholders for Django (whose debug cursor renders them to
        log the statement) and this cursor sends them as ``%b``. Django turns
        psycopg's automatic preparation off for the connection
        (``prepare_threshold`` None, unless the project sets it); it is allowed
        for this cursor's statements only.
        """

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            query = query.replace("%s", "%b")
            if not prepare:
                return super().execute(query, params, prepare=False)
            raw = self.connection
            threshold = raw.prepare_threshold
            raw.prepare_threshold = 0
            try:
                return super().execute(query, params, prepare=True)
            finally:
                raw.prepare_threshold = threshold

    return ServerCursor
