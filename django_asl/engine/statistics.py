"""Statistics of a state machine's executions over a time window: per status and per state.

``execution_statistics`` returns, for the executions of one state machine that
started in a window (``start <= start_date < end``):

* per status, over top-level executions: how many, and the average, median,
  95th and 99th percentile of their duration (``stop_date - start_date``);
* per state, over the history of those executions and of their Parallel
  branches and Map iterations: entries, failures, retries and the average time
  from entering the state to leaving it.

Per-state figures of whole hours come from the rollup (``StateStatistics``:
sums per state machine, state and hour of start of the executions that ended
before the watermark, kept by ``rollup_statistics`` from the timer loop); the
history is read only for the edges of the window and for the executions the
rollup does not hold (running, ended since the watermark, redriven: pending).
The figures are the same either way: durations are summed in microseconds.

On PostgreSQL the figures come from one SQL statement (``percentile_cont`` for
the percentiles, a window function to attribute each history event to the
state entry it belongs to, the rollup's rows). On other databases the rows are
read and the same figures computed in Python, with the same linear interpolation.

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
import operator
import time
from collections import defaultdict
from contextlib import nullcontext
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from functools import reduce
from typing import Any, Iterable

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from ..models import Execution, HistoryEvent, StateMachine, StateStatistics, StatisticsPending, StatisticsRollup
from . import runtime
from .executions import StateMachineDoesNotExist

Status = Execution.Status

#: The percentiles reported per status, as fractions and as the keys they appear under.
PERCENTILES = ((0.5, "p50_seconds"), (0.95, "p95_seconds"), (0.99, "p99_seconds"))

ENTERED, EXITED, ATTEMPT, FAILURE = "entered", "exited", "attempt", "failure"
_FORK_STARTED = ("ParallelStateStarted", "MapStateStarted")
_NOT_A_STATE_FAILURE = ("Execution", "MapIteration")

# Durations are rounded to the microsecond, the resolution of the stored dates.
_DIGITS = 6
_MICROSECOND = timedelta(microseconds=1)
HOUR = timedelta(hours=1)

#: How long after an execution's end the rollup waits before counting it: an ending step's
#: transaction must have committed by then (its stop date is read from the clock inside it).
ROLLUP_DELAY = timedelta(minutes=5)
#: Most ended executions one rollup transaction counts.
ROLLUP_BATCH = 10_000
#: How often (seconds) the timer loop of a worker process runs the rollup.
ROLLUP_SECONDS = 60.0

# The counters of a state: entries, failures, retries, entries that left it, microseconds spent in those.
_SUMMED = ("entries", "failures", "retries", "exits", "microseconds")
# Per-state sums keyed by (state machine id, state name, hour bucket or None).
Sums = dict[tuple[int, str, "datetime | None"], list[int]]
# Ids per IN (...) list (SQLite caps the parameters of a statement).
_CHUNK = 500


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
    window = Q(state_machine=machine) & _window(start, end)
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
    states = {}
    if include_states:
        with transaction.atomic():  # one snapshot: the rollup and the watermark agree
            states = _portable_states(machine.pk, start, end)
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


def _portable_sums(executions: Q, by_hour: bool) -> Sums:
    """Return per-state sums over the executions matched by ``executions``, reading their history.

    The events that count are read in (execution, sequence) order. Keys are
    (state machine id, state name, hour of the execution's start or None).
    """
    relevant = (Q(type__endswith="StateEntered") | Q(type__endswith="StateExited") | Q(type__endswith="Scheduled")
                | Q(type__in=_FORK_STARTED) | Q(type__endswith="Failed") | Q(type__endswith="TimedOut"))
    events = (HistoryEvent.objects
              .filter(relevant, execution__in=Execution.objects.filter(executions).values("pk"))
              .order_by("execution_id", "sequence")
              .values_list("execution_id", "type", "timestamp", "state_name", "execution__state_machine_id",
                           "execution__start_date"))
    sums: Sums = {}
    visit: list | None = None  # [key, entered at, attempts, failures, exited at]
    execution_id = None

    def close(visit: list) -> None:
        key, entered_at, attempts, failures, exited_at = visit
        figures = sums.setdefault(key, [0, 0, 0, 0, 0])
        figures[0] += 1
        figures[1] += failures
        figures[2] += max(attempts - 1, 0)
        if exited_at is not None:
            figures[3] += 1
            figures[4] += (exited_at - entered_at) // _MICROSECOND

    for owner, event_type, moment, state_name, machine_id, started in events.iterator(chunk_size=10_000):
        if owner != execution_id:
            if visit is not None:
                close(visit)
            visit, execution_id = None, owner
        kind = event_kind(event_type)
        if kind == ENTERED:
            if visit is not None:
                close(visit)
            visit = [(machine_id, state_name, hour_of(started) if by_hour else None), moment, 0, 0, None]
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
    return sums


def _portable_states(machine_id: int, start: datetime | None, end: datetime | None) -> dict[str, dict]:
    """Return per-state figures: whole hours from the rollup, the rest from the history."""
    parts, hours = read_plan(machine_id, start, end, _watermark())
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for (_, name, _), figures in _portable_sums(reduce(operator.or_, parts), by_hour=False).items():
        totals[name] = [a + b for a, b in zip(totals[name], figures)]
    if hours is not None:
        rolled = (StateStatistics.objects.filter(_hours(Q(state_machine_id=machine_id), *hours))
                  .values("state_name").annotate(*(Sum(field) for field in _SUMMED)).order_by()
                  .values_list("state_name", *(f"{field}__sum" for field in _SUMMED)))
        for name, *figures in rolled:
            totals[name] = [a + b for a, b in zip(totals[name], figures)]
    return {name: _state_sums_figures(*figures) for name, figures in sorted(totals.items()) if figures[0] > 0}


def _state_sums_figures(entries: int, failures: int, retries: int, exits: int, microseconds: int) -> dict:
    average = microseconds / exits / 1_000_000 if exits else None
    return _state_figures(int(entries), int(failures), int(retries), average)


# -- which executions are read, which hours come from the rollup -----------------------------------


def hour_of(moment: datetime) -> datetime:
    """Return the start of the hour (in UTC) that ``moment`` falls in: the rollup's bucket."""
    if timezone.is_aware(moment):
        moment = moment.astimezone(dt_timezone.utc)
    return moment.replace(minute=0, second=0, microsecond=0)


def _window(start: datetime | None, end: datetime | None) -> Q:
    window = Q()
    if start is not None:
        window &= Q(start_date__gte=start)
    if end is not None:
        window &= Q(start_date__lt=end)
    return window


def _hours(condition: Q, first: datetime | None, last: datetime | None) -> Q:
    if first is not None:
        condition &= Q(hour__gte=first)
    if last is not None:
        condition &= Q(hour__lt=last)
    return condition


def _watermark() -> datetime | None:
    """Return how far the rollup has gone (None: nothing rolled up)."""
    return StatisticsRollup.objects.filter(pk=1).values_list("rolled_up_to", flat=True).first()


def read_plan(machine_id: int, start: datetime | None, end: datetime | None,
              watermark: datetime | None) -> tuple[list[Q], tuple[datetime | None, datetime | None] | None]:
    """Return the executions whose history is read (a list of Q to OR), and the whole hours from the rollup.

    The whole hours (``[first, last)``, either end open) are those inside
    ``[start, end)``; None if there is none. Read from history: the executions
    that started in the partial hours at the window's edges, and those in the
    whole hours that the rollup does not hold: RUNNING, ended at or after the
    watermark, or pending (redriven). Every other execution of the whole hours
    ended before the watermark and is in the rollup.
    """
    machine = Q(state_machine_id=machine_id)
    first = None if start is None else (hour_of(start) if hour_of(start) == start else hour_of(start) + HOUR)
    last = None if end is None else hour_of(end)
    if first is not None and last is not None and first >= last:
        return [machine & _window(start, end)], None
    parts = []
    if start is not None and start < first:
        parts.append(machine & _window(start, first))
    if end is not None and last < end:
        parts.append(machine & _window(last, end))
    whole = machine & _window(first, last)
    ended_after = Q(stop_date__gte=watermark) if watermark is not None else Q(stop_date__isnull=False)
    parts += [whole & Q(status=Status.RUNNING), whole & ended_after,
              whole & Q(pk__in=StatisticsPending.objects.values("execution_id"))]
    return parts, (first, last)


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
  candidates (id, state_machine_id, start_date) AS ({candidates}),
  visits AS (
    SELECT c.state_machine_id, {hour} AS hour, visit.* FROM candidates c CROSS JOIN LATERAL (
      SELECT max(state_name) FILTER (WHERE kind = 'n') AS state_name,
             count(*) FILTER (WHERE kind = 'a') AS attempts,
             count(*) FILTER (WHERE kind = 'f') AS failures,
             (extract(epoch FROM max(timestamp) FILTER (WHERE kind = 'x')
                                 - min(timestamp) FILTER (WHERE kind = 'n')) * 1000000)::bigint AS microseconds
      FROM (
        SELECT h.timestamp, h.state_name, {kind} AS kind,
               max(CASE WHEN h.type LIKE '%%StateEntered' THEN h.sequence END)
                   OVER (ORDER BY h.sequence ROWS UNBOUNDED PRECEDING) AS entered
        FROM {history} h WHERE h.execution_id = c.id AND {relevant}
      ) events
      WHERE entered IS NOT NULL AND kind IS NOT NULL
      GROUP BY entered
    ) visit
  ),
  sums AS (
    SELECT state_machine_id, hour, state_name, count(*) AS entries, sum(failures) AS failures,
           sum(greatest(attempts - 1, 0)) AS retries, count(microseconds) AS exits, sum(microseconds) AS microseconds
    FROM visits GROUP BY state_machine_id, hour, state_name
  )"""

# execution_statistics: the sums from history plus the rollup's whole hours.
_SQL_BY_STATE = """,
  by_state AS (
    SELECT state_name, sum(entries) AS entries, sum(failures) AS failures, sum(retries) AS retries,
           sum(exits) AS exits, sum(microseconds) AS microseconds
    FROM (
      SELECT state_name, entries, failures, retries, exits, microseconds FROM sums
      UNION ALL
      SELECT state_name, entries, failures, retries, exits, microseconds FROM {rollup} r
      WHERE r.state_machine_id = %s{hours}
    ) parts
    GROUP BY state_name HAVING sum(entries) > 0
  )"""

_SQL_SELECT = """
SELECT (SELECT name FROM {machine} WHERE id = %s),
       (SELECT json_agg(json_build_array(status, n, average, percentiles)) FROM by_status)::text,
       {states},
       (SELECT rolled_up_to FROM {watermark} WHERE id = 1)"""


def _candidates(parts: list[Q]) -> tuple[str, list]:
    """Return the SQL (and parameters) of the executions matched by any of ``parts``: (id, machine, start)."""
    sqls, params = [], []
    for part in parts:
        query = Execution.objects.filter(part).order_by().values_list("pk", "state_machine_id", "start_date").query
        sql, part_params = query.sql_with_params()
        sqls.append(f"({sql})")
        params.extend(part_params)
    return " UNION ".join(sqls), params


def _sql_sums(parts: list[Q], by_hour: bool) -> tuple[str, list]:
    """Return the CTEs (from ``, candidates``) that sum per state over the executions of ``parts``."""
    quote = connection.ops.quote_name
    candidates, params = _candidates(parts)
    hour = ("date_trunc('hour', c.start_date AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'" if by_hour
            else "NULL::timestamptz")
    return _SQL_STATES.format(candidates=candidates, hour=hour, kind=_SQL_KIND, relevant=_SQL_RELEVANT,
                              history=quote(HistoryEvent._meta.db_table)), params


def postgresql_query(machine_id: int, start: datetime | None, end: datetime | None, include_states: bool,
                     watermark: datetime | None = None) -> tuple[str, list]:
    """Return the one SQL statement of ``execution_statistics`` on PostgreSQL, and its parameters.

    The per-state part reads the whole hours of the window from the rollup
    and the history of the other executions (``read_plan``), in the same
    statement, so in one snapshot; ``watermark`` is the rollup's, read
    before, and the statement's last column the one it saw: they must agree.
    """
    quote = connection.ops.quote_name
    window = ""
    if start is not None:
        window += " AND e.start_date >= %s"
    if end is not None:
        window += " AND e.start_date < %s"
    fractions = ", ".join(str(fraction) for fraction, _ in PERCENTILES)
    sql = "WITH" + _SQL_STATUSES.format(window=window, fractions=fractions, execution=quote(Execution._meta.db_table))
    params = [machine_id, *(bound for bound in (start, end) if bound is not None)]
    states = "NULL"
    if include_states:
        parts, hours = read_plan(machine_id, start, end, watermark)
        sums, sums_params = _sql_sums(parts, by_hour=False)
        sql += sums
        params += sums_params
        if hours is None:
            hours_sql, hours_params = " AND false", []
        else:
            bounds = [(" AND r.hour >= %s", hours[0]), (" AND r.hour < %s", hours[1])]
            hours_sql = "".join(clause for clause, bound in bounds if bound is not None)
            hours_params = [bound for _, bound in bounds if bound is not None]
        sql += _SQL_BY_STATE.format(rollup=quote(StateStatistics._meta.db_table), hours=hours_sql)
        params += [machine_id, *hours_params]
        states = ("(SELECT json_agg(json_build_array(state_name, entries, failures, retries, exits, microseconds) "
                  "ORDER BY state_name) FROM by_state)::text")
    sql += _SQL_SELECT.format(machine=quote(StateMachine._meta.db_table), states=states,
                              watermark=quote(StatisticsRollup._meta.db_table))
    return sql, [*params, machine_id]


def _postgresql(state_machine: StateMachine | str, start: datetime | None, end: datetime | None,
                include_states: bool) -> tuple[str, dict, dict]:
    """Return (name, statuses, states) from one SQL statement (after looking a name up).

    The id goes into the statement as a value, not a subquery, so that the
    planner sees which state machine it counts (and how many executions it has).
    """
    machine_id = _machine(state_machine).pk if isinstance(state_machine, str) else state_machine.pk
    watermark = _watermark() if include_states else None
    while True:
        # The per-state statement's cost estimate makes PostgreSQL JIT-compile it, which takes far
        # longer (0.7 s) than running it (tens of ms): off for this statement.
        with transaction.atomic() if include_states else nullcontext(), connection.cursor() as cursor:
            if include_states:
                cursor.execute("SET LOCAL jit = off")
            cursor.execute(*postgresql_query(machine_id, start, end, include_states, watermark))
            name, statuses, states, seen = cursor.fetchone()
        if not include_states or seen == watermark:
            break
        watermark = seen  # a rollup committed in between: plan again with the new watermark
    if name is None:
        raise StateMachineDoesNotExist(_no_machine(state_machine))
    found = {status: _status_figures(count, average, percentiles or (None, None, None))
             for status, count, average, percentiles in json.loads(statuses or "[]")}
    return name, _ordered_statuses(found), {
        state_name: _state_sums_figures(*figures) for state_name, *figures in json.loads(states or "[]")
    }


def _sums(parts: list[Q], by_hour: bool) -> Sums:
    """Return per-state sums over the executions matched by any of ``parts``, reading their history."""
    if connection.vendor != "postgresql":
        return _portable_sums(reduce(operator.or_, parts), by_hour)
    sql, params = _sql_sums(parts, by_hour)
    with connection.cursor() as cursor:
        cursor.execute("WITH" + sql.lstrip(",") + " SELECT state_machine_id, state_name, hour, entries, failures, "
                       "retries, exits, microseconds FROM sums", params)
        rows = cursor.fetchall()
    return {(machine_id, name, hour): [int(value or 0) for value in figures]
            for machine_id, name, hour, *figures in rows}


# -- the rollup: per (state machine, state, hour) counters of ended executions --------------------


def _lock(*, skip_locked: bool) -> StatisticsRollup | None:
    """Lock and return the watermark row (created if missing); None if another process holds it (``skip_locked``)."""
    for _ in range(2):
        row = StatisticsRollup.objects.select_for_update(skip_locked=skip_locked).filter(pk=1).first()
        if row is not None:
            return row
        if StatisticsRollup.objects.filter(pk=1).exists():
            return None  # there, but locked by another process
        try:
            with transaction.atomic():
                StatisticsRollup.objects.create(pk=1)
        except IntegrityError:
            pass  # another process created it meanwhile: lock it
    return None


def _apply(sums: Sums, sign: int) -> None:
    """Add (``sign`` 1) or subtract (-1) per-hour sums to the rollup's rows; drop rows left with no entry."""
    if not sums:
        return
    keys = list(sums)
    hours = sorted({hour for _, _, hour in keys})
    machines = {machine_id for machine_id, _, _ in keys}
    rows = {}
    for start in range(0, len(hours), _CHUNK):
        for row in StateStatistics.objects.filter(state_machine_id__in=machines, hour__in=hours[start:start + _CHUNK]):
            rows[(row.state_machine_id, row.state_name, row.hour)] = row
    new, changed = [], []
    for key, figures in sums.items():
        row = rows.get(key)
        if row is None:
            assert sign > 0, f"subtracting from a rollup row that does not exist: {key}"
            machine_id, name, hour = key
            new.append(StateStatistics(state_machine_id=machine_id, state_name=name, hour=hour,
                                       **dict(zip(_SUMMED, figures))))
            continue
        for field, value in zip(_SUMMED, figures):
            setattr(row, field, getattr(row, field) + sign * value)
        changed.append(row)
    StateStatistics.objects.bulk_create(new, batch_size=_CHUNK)
    StateStatistics.objects.bulk_update(changed, _SUMMED, batch_size=_CHUNK)
    empty = [row.pk for row in changed if row.entries <= 0]
    for start in range(0, len(empty), _CHUNK):
        StateStatistics.objects.filter(pk__in=empty[start:start + _CHUNK]).delete()


def _rolled_up(watermark: StatisticsRollup) -> Q:
    """Return which executions the rollup holds: ended before the watermark, and not pending."""
    if watermark.rolled_up_to is None:
        return Q(pk__in=[])
    return (~Q(status=Status.RUNNING) & Q(stop_date__lt=watermark.rolled_up_to)
            & ~Q(pk__in=StatisticsPending.objects.values("execution_id")))


def _next_watermark(since: datetime | None, horizon: datetime, limit: int | None) -> datetime:
    """Return how far this rollup goes: the horizon, or less so that about ``limit`` executions count."""
    if limit is None:
        return horizon
    ended = Execution.objects.filter(stop_date__lt=horizon).exclude(status=Status.RUNNING)
    if since is not None:
        ended = ended.filter(stop_date__gte=since)
    beyond = ended.order_by("stop_date").values_list("stop_date", flat=True)[limit:limit + 1].first()
    if beyond is None:
        return horizon
    if since is not None and beyond <= since:  # more than ``limit`` executions ended at one moment
        return min(beyond + _MICROSECOND, horizon)
    return beyond


def rollup_statistics(*, limit: int | None = ROLLUP_BATCH, delay: timedelta = ROLLUP_DELAY) -> int | None:
    """Add the executions that ended since the last rollup to the per-state rollup; return how many.

    One transaction: the watermark row is locked (``SKIP LOCKED``: None is
    returned, and nothing done, when another process holds it), the history
    of the executions that ended between the watermark and ``delay`` ago (at
    most about ``limit`` of them; None: all) is summed per state machine,
    state and hour of start, the sums are added to ``StateStatistics``, and
    the watermark moves on. The executions of a redriven tree
    (``StatisticsPending``) are added once the tree's root has ended again.
    A crash rolls back all of it; running it again never counts twice.
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive number of executions or None, not {limit!r}.")
    if not isinstance(delay, timedelta) or delay < timedelta(0):
        raise ValueError(f"delay must be a timedelta of 0 or more, not {delay!r}.")
    with transaction.atomic():
        watermark = _lock(skip_locked=True)
        if watermark is None:
            return None
        since = watermark.rolled_up_to
        horizon = runtime.CLOCK.now() - delay
        if since is not None and horizon <= since:
            return 0
        until = _next_watermark(since, horizon, limit)
        pending = StatisticsPending.objects.values("execution_id")
        ended = ~Q(status=Status.RUNNING) & Q(stop_date__lt=until)
        fresh = ended & ~Q(pk__in=pending) & (Q(stop_date__gte=since) if since is not None else Q())
        settled_roots = Execution.objects.filter(stop_date__lt=until).exclude(status=Status.RUNNING).values("pk")
        settled = list(Execution.objects.filter(
            ended, pk__in=StatisticsPending.objects.filter(root__in=settled_roots).values("execution_id"))
            .values_list("pk", flat=True))
        count = Execution.objects.filter(fresh).count() + len(settled)
        parts = [fresh, *(Q(pk__in=settled[start:start + _CHUNK]) for start in range(0, len(settled), _CHUNK))]
        _apply(_sums(parts, by_hour=True), 1)
        for start in range(0, len(settled), _CHUNK):
            StatisticsPending.objects.filter(execution_id__in=settled[start:start + _CHUNK]).delete()
        watermark.rolled_up_to, watermark.updated_at = until, runtime.CLOCK.now()
        watermark.save(update_fields=["rolled_up_to", "updated_at"])
    return count


_last_rollup = 0.0


def rollup_statistics_if_due() -> int | None:
    """Call ``rollup_statistics`` if ``ROLLUP_SECONDS`` have passed since this process last did; return its count."""
    global _last_rollup
    now = time.monotonic()
    if now - _last_rollup < ROLLUP_SECONDS:
        return 0
    _last_rollup = now
    return rollup_statistics()


def rebuild_statistics_rollup(*, batch: int | None = 100_000, delay: timedelta = ROLLUP_DELAY) -> int:
    """Empty the per-state rollup and fill it again from every execution's history; return how many counted.

    For projects upgrading to the rollup, or after editing history by hand.
    The rollup is emptied in one transaction (statistics stay exact meanwhile:
    they read history for whatever is not rolled up yet), then filled
    ``batch`` executions per transaction. Raise ``ValueError`` for a bad ``batch``.
    """
    if batch is not None and batch < 1:
        raise ValueError(f"batch must be a positive number of executions or None, not {batch!r}.")
    with transaction.atomic():
        watermark = _lock(skip_locked=False)
        StateStatistics.objects.all().delete()
        watermark.rolled_up_to = None
        watermark.save(update_fields=["rolled_up_to"])
    target = runtime.CLOCK.now() - delay
    total = 0
    while True:
        counted = rollup_statistics(limit=batch, delay=delay)
        if counted is None:
            time.sleep(0.1)  # a timer loop is rolling up: wait for its turn
            continue
        total += counted
        reached = StatisticsRollup.objects.values_list("rolled_up_to", flat=True).get(pk=1)
        if reached is not None and reached >= target:
            return total


def _subtract(execution_ids: list, watermark: StatisticsRollup) -> list:
    """Take out of the rollup those of ``execution_ids`` that it holds; return the ids that were rolled up."""
    rolled = _rolled_up(watermark)
    found = []
    for start in range(0, len(execution_ids), _CHUNK):
        found += Execution.objects.filter(rolled, pk__in=execution_ids[start:start + _CHUNK]).values_list("pk", flat=True)
    parts = [Q(pk__in=found[start:start + _CHUNK]) for start in range(0, len(found), _CHUNK)]
    if parts:
        _apply(_sums(parts, by_hour=True), -1)
    return found


def _tree(root_id: Any) -> list:
    """Return the ids of an execution and of all its branches and iterations, level by level."""
    ids, level = [root_id], [root_id]
    while level:
        children = []
        for start in range(0, len(level), _CHUNK):
            children += Execution.objects.filter(parent_id__in=level[start:start + _CHUNK]).values_list("pk", flat=True)
        ids += children
        level = children
    return ids


def exclude_from_rollup(execution: Execution) -> None:
    """Leave a top-level execution about to be redriven, and its whole tree, out of the rollup until it ends again.

    Called by ``redrive_execution`` inside its transaction, before the
    execution changes: its history will grow, and so may that of any branch
    or iteration (reset now or when its turn comes). Those the rollup holds
    are subtracted from it; all are marked pending (``StatisticsPending``), so
    ``execution_statistics`` reads their history until the rollup counts them
    again after the root has ended. Waits for a running rollup to commit.
    """
    watermark = _lock(skip_locked=False)
    ids = _tree(execution.pk)
    _subtract(ids, watermark)
    already = set()
    for start in range(0, len(ids), _CHUNK):
        already.update(StatisticsPending.objects.filter(execution_id__in=ids[start:start + _CHUNK])
                       .values_list("execution_id", flat=True))
    StatisticsPending.objects.bulk_create(
        [StatisticsPending(execution_id=pk, root_id=execution.pk) for pk in ids if pk not in already],
        batch_size=_CHUNK)
    again = [pk for pk in ids if pk in already]  # pending since an earlier redrive: now wait for this one
    for start in range(0, len(again), _CHUNK):
        StatisticsPending.objects.filter(execution_id__in=again[start:start + _CHUNK]).update(root_id=execution.pk)


def remove_from_rollup(execution_ids: list) -> int:
    """Take executions about to be deleted out of the per-state rollup; return how many it held.

    For code that deletes executions (``asl_purge`` does this for each batch):
    call it in the deleting transaction, with every id deleted (branches and
    iterations too), so that statistics stay exact. Waits for a running rollup
    to commit.
    """
    if not transaction.get_connection().in_atomic_block:
        raise ValueError("remove_from_rollup() must run in the transaction that deletes the executions.")
    watermark = _lock(skip_locked=False)
    return len(_subtract(list(execution_ids), watermark))
