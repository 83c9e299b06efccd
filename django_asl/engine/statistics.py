"""Statistics of a state machine's executions over a time window: per status and per state.

``execution_statistics`` returns, for the executions of one state machine that
started in a window (``start <= start_date < end``):

* per status, over top-level executions: how many, and the average, median,
  95th and 99th percentile of their duration (``stop_date - start_date``);
* per state, over the history of those executions and of their Parallel
  branches and Map iterations: entries, failures, retries and the average time
  from entering the state to leaving it.

On PostgreSQL everything is one SQL statement (``percentile_cont`` for the
percentiles, a window function to attribute each history event to the state
entry it belongs to). On other databases the rows are read and the same
figures computed in Python, with the same linear interpolation.

How history events count (``event_kind``): ``*StateEntered`` events are entries;
every other event belongs to the last entry before it in its execution, and an
entry lasts until its ``*StateExited`` event. An attempt is a ``*Scheduled``
event (``TaskScheduled``, ``LambdaFunctionScheduled``, ``ActivityScheduled``) or
a ``ParallelStateStarted``/``MapStateStarted`` event: a Retry runs the state
again without a new entry, so an entry's retries are its attempts after the
first. A failure is an event named ``*Failed`` or ``*TimedOut``
(``TaskFailed``, ``TaskTimedOut``, ``ParallelStateFailed``, ``MapStateFailed``
...), except the execution's own (``Execution*``) and a Map's per-iteration
ones (``MapIteration*``: the iteration's own states count its failure).
"""
from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import datetime
from typing import Any, Iterable

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from ..models import Execution, HistoryEvent, StateMachine
from .executions import StateMachineDoesNotExist

Status = Execution.Status

#: The percentiles reported per status, as fractions and as the keys they appear under.
PERCENTILES = ((0.5, "p50_seconds"), (0.95, "p95_seconds"), (0.99, "p99_seconds"))

ENTERED, EXITED, ATTEMPT, FAILURE = "entered", "exited", "attempt", "failure"
_FORK_STARTED = ("ParallelStateStarted", "MapStateStarted")
_NOT_A_STATE_FAILURE = ("Execution", "MapIteration")

# Durations are rounded to the microsecond, the resolution of the stored dates.
_DIGITS = 6


def event_kind(event_type: str) -> str | None:
    """Return what a history event counts as in per-state statistics, or None if it does not count.

    ``entered`` (``*StateEntered``), ``exited`` (``*StateExited``), ``attempt``
    (``*Scheduled``, ``ParallelStateStarted``, ``MapStateStarted``) or
    ``failure`` (``*Failed``, ``*TimedOut``, but not ``Execution*`` or
    ``MapIteration*``). ``_SQL_KIND`` says the same in SQL.
    """
    if event_type.endswith("StateEntered"):
        return ENTERED
    if event_type.endswith("StateExited"):
        return EXITED
    if event_type.endswith("Scheduled") or event_type in _FORK_STARTED:
        return ATTEMPT
    if event_type.endswith(("Failed", "TimedOut")) and not event_type.startswith(_NOT_A_STATE_FAILURE):
        return FAILURE
    return None


def execution_statistics(state_machine: StateMachine | str, *, start: datetime | None = None,
                         end: datetime | None = None, include_states: bool = True) -> dict:
    """Return per-status and per-state statistics of the executions that started in ``[start, end)``.

    ``start`` is inclusive and ``end`` exclusive; either may be None (no bound).
    The result::

        {"state_machine": "order", "start": "2026-01-01T00:00:00+00:00", "end": None,
         "executions": 3,
         "statuses": {"SUCCEEDED": {"count": 2, "average_seconds": 1.5, "p50_seconds": 1.5,
                                    "p95_seconds": 1.95, "p99_seconds": 1.99}, ...},
         "states": {"Charge": {"entries": 3, "failures": 1, "retries": 1, "average_seconds": 0.4}, ...}}

    ``statuses`` has every status, in the order of ``Execution.Status``; a
    status with no execution has count 0 and None durations, and RUNNING
    executions are counted with None durations (they have not ended).
    ``states`` lists, by name, the states entered at least once; its
    ``average_seconds`` covers the entries that left the state (None if none
    did). With ``include_states=False`` it is left out (and not computed).

    Raise ``StateMachineDoesNotExist`` for an unknown name, ``TypeError`` for a
    bound that is not a datetime, ``ValueError`` for a naive bound (with
    ``USE_TZ``) or a ``start`` after ``end``.
    """
    if not isinstance(state_machine, (StateMachine, str)):
        raise TypeError(f"state_machine must be a StateMachine or a state machine name, "
                        f"not {type(state_machine).__name__}.")
    _check_bound("start", start)
    _check_bound("end", end)
    if start is not None and end is not None and start > end:
        raise ValueError(f"The window's start ({start.isoformat()}) is after its end ({end.isoformat()}).")
    if connection.vendor == "postgresql":
        name, statuses, states = _postgresql(state_machine, start, end, include_states)
    else:
        name, statuses, states = _portable(state_machine, start, end, include_states)
    result = {
        "state_machine": name,
        "start": start.isoformat() if start is not None else None,
        "end": end.isoformat() if end is not None else None,
        "executions": sum(figures["count"] for figures in statuses.values()),
        "statuses": statuses,
    }
    if include_states:
        result["states"] = states
    return result


def _check_bound(label: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, datetime):
        raise TypeError(f"{label} must be a datetime or None, not {type(value).__name__}.")
    if settings.USE_TZ and timezone.is_naive(value):
        raise ValueError(f"{label} must be an aware datetime (settings.USE_TZ is True), not the naive "
                         f"{value.isoformat()}: give it a tzinfo, e.g. with django.utils.timezone.make_aware().")


# -- results ---------------------------------------------------------------------------------------


def percentile(ordered: list[float], fraction: float) -> float | None:
    """Return the ``fraction`` percentile of sorted values, interpolated as PostgreSQL's percentile_cont.

    The value at position ``fraction * (n - 1)``, linearly interpolated
    between its two neighbours; None for no values.
    """
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = math.ceil(position)
    low = ordered[lower]
    return low + (position - lower) * (ordered[upper] - low)


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), _DIGITS)


def _status_figures(count: int = 0, average: Any = None, percentiles: Iterable[Any] = (None, None, None)) -> dict:
    figures = {"count": count, "average_seconds": _seconds(average)}
    for (_, key), value in zip(PERCENTILES, percentiles):
        figures[key] = _seconds(value)
    return figures


def _state_figures(entries: int, failures: int, retries: int, average: Any) -> dict:
    return {"entries": entries, "failures": failures, "retries": retries, "average_seconds": _seconds(average)}


def _ordered_statuses(found: dict[str, dict]) -> dict[str, dict]:
    return {status: found.get(status) or _status_figures() for status in Status.values}


# -- other databases: rows read, figures computed here ---------------------------------------------


def _portable(state_machine: StateMachine | str, start: datetime | None, end: datetime | None,
              include_states: bool) -> tuple[str, dict, dict]:
    """Return (name, statuses, states) from the rows, for any database."""
    machine = _machine(state_machine)
    window = Q(state_machine=machine)
    if start is not None:
        window &= Q(start_date__gte=start)
    if end is not None:
        window &= Q(start_date__lt=end)
    durations: dict[str, list[float]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    rows = Execution.objects.filter(window, parent=None).values_list("status", "start_date", "stop_date")
    for status, started, stopped in rows.iterator(chunk_size=10_000):
        counts[status] += 1
        if stopped is not None:
            durations[status].append((stopped - started).total_seconds())
    found = {}
    for status, count in counts.items():
        values = sorted(durations[status])
        average = math.fsum(values) / len(values) if values else None
        found[status] = _status_figures(count, average, [percentile(values, fraction) for fraction, _ in PERCENTILES])
    states = _portable_states(window) if include_states else {}
    return machine.name, _ordered_statuses(found), states


def _machine(state_machine: StateMachine | str) -> StateMachine:
    key = {"pk": state_machine.pk} if isinstance(state_machine, StateMachine) else {"name": state_machine}
    try:
        return StateMachine.objects.only("pk", "name").get(**key)
    except StateMachine.DoesNotExist:
        raise StateMachineDoesNotExist(_no_machine(state_machine)) from None


def _no_machine(state_machine: StateMachine | str) -> str:
    if isinstance(state_machine, StateMachine):
        return f"There is no state machine with id {state_machine.pk} (was {state_machine.name!r} deleted?)."
    return f"There is no state machine named {state_machine!r}."


def _portable_states(window: Q) -> dict[str, dict]:
    """Return per-state figures, reading the events that count in (execution, sequence) order."""
    relevant = (Q(type__endswith="StateEntered") | Q(type__endswith="StateExited") | Q(type__endswith="Scheduled")
                | Q(type__in=_FORK_STARTED) | Q(type__endswith="Failed") | Q(type__endswith="TimedOut"))
    events = (HistoryEvent.objects
              .filter(relevant, execution__in=Execution.objects.filter(window).values("pk"))
              .order_by("execution_id", "sequence")
              .values_list("execution_id", "type", "timestamp", "state_name"))
    totals: dict[str, list] = {}  # name -> [entries, failures, retries, exited entries, seconds]
    visit: list | None = None  # [name, entered at, attempts, failures, exited at]
    execution_id = None

    def close(visit: list) -> None:
        name, entered_at, attempts, failures, exited_at = visit
        figures = totals.setdefault(name, [0, 0, 0, 0, []])
        figures[0] += 1
        figures[1] += failures
        figures[2] += max(attempts - 1, 0)
        if exited_at is not None:
            figures[4].append((exited_at - entered_at).total_seconds())

    for owner, event_type, moment, state_name in events.iterator(chunk_size=10_000):
        if owner != execution_id:
            if visit is not None:
                close(visit)
            visit, execution_id = None, owner
        kind = event_kind(event_type)
        if kind == ENTERED:
            if visit is not None:
                close(visit)
            visit = [state_name, moment, 0, 0, None]
        elif visit is None or kind is None:
            continue  # before the first state (or matched by the filter, not by event_kind)
        elif kind == EXITED:
            visit[4] = moment
        elif kind == ATTEMPT:
            visit[2] += 1
        else:
            visit[3] += 1
    if visit is not None:
        close(visit)
    return {
        name: _state_figures(entries, failures, retries, math.fsum(seconds) / len(seconds) if seconds else None)
        for name, (entries, failures, retries, _, seconds) in sorted(totals.items())
    }


# -- PostgreSQL: one statement ---------------------------------------------------------------------

# event_kind in SQL: 'n' entered, 'x' exited, 'a' attempt, 'f' failure, NULL otherwise.
_SQL_KIND = """CASE
      WHEN h.type LIKE '%%StateEntered' THEN 'n'
      WHEN h.type LIKE '%%StateExited' THEN 'x'
      WHEN h.type LIKE '%%Scheduled' OR h.type IN ('ParallelStateStarted', 'MapStateStarted') THEN 'a'
      WHEN (h.type LIKE '%%Failed' OR h.type LIKE '%%TimedOut')
           AND h.type NOT LIKE 'Execution%%' AND h.type NOT LIKE 'MapIteration%%' THEN 'f'
    END"""

# The same filter as _SQL_KIND IS NOT NULL, written so that it applies before the window function.
_SQL_RELEVANT = ("(h.type LIKE '%%StateEntered' OR h.type LIKE '%%StateExited' OR h.type LIKE '%%Scheduled' "
                 "OR h.type IN ('ParallelStateStarted', 'MapStateStarted') "
                 "OR h.type LIKE '%%Failed' OR h.type LIKE '%%TimedOut')")

_SQL_STATUSES = """
  runs AS (
    SELECT e.status, date_part('epoch', e.stop_date - e.start_date) AS seconds
    FROM {execution} e
    WHERE e.state_machine_id = %s AND e.parent_id IS NULL{window}
  ),
  by_status AS (
    SELECT status, count(*) AS n, avg(seconds) AS average,
           percentile_cont(ARRAY[{fractions}]) WITHIN GROUP (ORDER BY seconds) AS percentiles
    FROM runs GROUP BY status
  )"""

# Per-state figures, one execution at a time (LATERAL): its events come in sequence order from
# the unique (execution, sequence) index, so no sort of the window's whole history is needed, and
# the cost follows the window's size, not the history table's. (A join of the window's executions
# with the history, then one window function over all of it, took 1.5 s for a 1-day window of
# the benchmark's 11 million events, against 0.5 s this way: it scanned the whole history.)
_SQL_STATES = """,
  visits AS (
    SELECT visit.* FROM {execution} e CROSS JOIN LATERAL (
      SELECT max(state_name) FILTER (WHERE kind = 'n') AS state_name,
             count(*) FILTER (WHERE kind = 'a') AS attempts,
             count(*) FILTER (WHERE kind = 'f') AS failures,
             date_part('epoch', max(timestamp) FILTER (WHERE kind = 'x')
                                - min(timestamp) FILTER (WHERE kind = 'n')) AS seconds
      FROM (
        SELECT h.timestamp, h.state_name, {kind} AS kind,
               max(CASE WHEN h.type LIKE '%%StateEntered' THEN h.sequence END)
                   OVER (ORDER BY h.sequence ROWS UNBOUNDED PRECEDING) AS entered
        FROM {history} h WHERE h.execution_id = e.id AND {relevant}
      ) events
      WHERE entered IS NOT NULL AND kind IS NOT NULL
      GROUP BY entered
    ) visit
    WHERE e.state_machine_id = %s{window}
  ),
  by_state AS (
    SELECT state_name, count(*) AS entries, sum(failures) AS failures,
           sum(greatest(attempts - 1, 0)) AS retries, avg(seconds) AS average
    FROM visits GROUP BY state_name
  )"""

_SQL_SELECT = """
SELECT (SELECT name FROM {machine} WHERE id = %s),
       (SELECT json_agg(json_build_array(status, n, average, percentiles)) FROM by_status)::text,
       {states}"""


def postgresql_statement(start: datetime | None, end: datetime | None, include_states: bool) -> str:
    """Return the one SQL statement of ``execution_statistics`` on PostgreSQL.

    Its parameters (``postgresql_params``): the state machine's id and the
    window's bounds, for each part, then the id again.
    """
    quote = connection.ops.quote_name
    window = ""
    if start is not None:
        window += " AND e.start_date >= %s"
    if end is not None:
        window += " AND e.start_date < %s"
    tables = {"execution": quote(Execution._meta.db_table), "history": quote(HistoryEvent._meta.db_table)}
    fractions = ", ".join(str(fraction) for fraction, _ in PERCENTILES)
    sql = "WITH" + _SQL_STATUSES.format(window=window, fractions=fractions, **tables)
    if include_states:
        sql += _SQL_STATES.format(window=window, kind=_SQL_KIND, relevant=_SQL_RELEVANT, **tables)
        states = ("(SELECT json_agg(json_build_array(state_name, entries, failures, retries, average) "
                  "ORDER BY state_name) FROM by_state)::text")
    else:
        states = "NULL"
    return sql + _SQL_SELECT.format(machine=quote(StateMachine._meta.db_table), states=states)


def postgresql_params(machine_id: int, start: datetime | None, end: datetime | None,
                      include_states: bool) -> list:
    """Return the parameters of ``postgresql_statement``."""
    part = [machine_id, *(bound for bound in (start, end) if bound is not None)]
    return [*part, *(part if include_states else ()), machine_id]


def _postgresql(state_machine: StateMachine | str, start: datetime | None, end: datetime | None,
                include_states: bool) -> tuple[str, dict, dict]:
    """Return (name, statuses, states) from one SQL statement (after looking a name up).

    The id goes into the statement as a value, not a subquery, so that the
    planner sees which state machine it counts (and how many executions it has).
    """
    machine_id = _machine(state_machine).pk if isinstance(state_machine, str) else state_machine.pk
    with connection.cursor() as cursor:
        cursor.execute(postgresql_statement(start, end, include_states),
                       postgresql_params(machine_id, start, end, include_states))
        name, statuses, states = cursor.fetchone()
    if name is None:
        raise StateMachineDoesNotExist(_no_machine(state_machine))
    found = {status: _status_figures(count, average, percentiles or (None, None, None))
             for status, count, average, percentiles in json.loads(statuses or "[]")}
    return name, _ordered_statuses(found), {
        state_name: _state_figures(entries, int(failures), int(retries), average)
        for state_name, entries, failures, retries, average in json.loads(states or "[]")
    }
