"""``asl_stats``: print the statistics of a state machine's executions as JSON.

    python manage.py asl_stats order                                  # every execution
    python manage.py asl_stats order --days 7                         # started in the last 7 days
    python manage.py asl_stats order --since 2026-01-01 --until 2026-02-01T00:00:00+01:00
    python manage.py asl_stats order --days 30 --no-states            # per status only (cheaper)
    python manage.py asl_stats --rebuild-rollup                       # refill the per-state rollup

It prints ``execution_statistics`` as one JSON object. ``--since`` is
inclusive and ``--until`` exclusive; they take ISO 8601 dates or datetimes, and
one without a UTC offset is in the current time zone (``TIME_ZONE``).

``--rebuild-rollup`` empties the per-state rollup and fills it again from every
ended execution's history (``rebuild_statistics_rollup``): run it once after
upgrading to migration 0007 on a database with executions.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from django_asl.engine import StateMachineDoesNotExist, execution_statistics, rebuild_statistics_rollup

from ._output import to_json


def parse_moment(text: str, option: str) -> datetime:
    """Return the datetime of an ISO 8601 date or datetime; raise ``CommandError`` naming ``option``."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(f"{option} {text!r} is not an ISO 8601 date or datetime "
                           f"(e.g. 2026-01-31 or 2026-01-31T12:00:00+00:00).")
    if settings.USE_TZ and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(BaseCommand):
    help = "Print per-status and per-state statistics of a state machine's executions as one JSON object."

    def add_arguments(self, parser):
        parser.add_argument("state_machine", metavar="NAME", nargs="?", help="The state machine's name.")
        parser.add_argument("--since", help="Count executions started at or after this date or datetime.")
        parser.add_argument("--until", help="Count executions started before this date or datetime.")
        parser.add_argument("--days", type=float,
                            help="Count executions started in the last DAYS days (instead of --since).")
        parser.add_argument("--no-states", action="store_true",
                            help="Leave out the per-state figures (which read the executions' history).")
        parser.add_argument("--rebuild-rollup", action="store_true",
                            help="Empty the per-state rollup and fill it again from every execution's history.")

    def handle(self, *args, state_machine: str | None, since: str | None, until: str | None, days: float | None,
               no_states: bool, rebuild_rollup: bool, **options):
        if rebuild_rollup:
            if state_machine is not None or since or until or days is not None or no_states:
                raise CommandError("--rebuild-rollup takes no state machine and no other option: it rebuilds "
                                   "the rollup of every state machine.")
            counted = rebuild_statistics_rollup()
            self.stdout.write(f"Rebuilt the per-state rollup from {counted} ended execution"
                              f"{'' if counted == 1 else 's'}.")
            return
        if state_machine is None:
            raise CommandError("Give a state machine's name (or --rebuild-rollup).")
        if days is not None and since is not None:
            raise CommandError("Give --since or --days, not both.")
        if days is not None and not days > 0:
            raise CommandError(f"--days must be a positive number, not {days:g}.")
        start = parse_moment(since, "--since") if since is not None else None
        end = parse_moment(until, "--until") if until is not None else None
        if days is not None:
            start = timezone.now() - timedelta(days=days)
        try:
            stats = execution_statistics(state_machine, start=start, end=end, include_states=not no_states)
        except StateMachineDoesNotExist as exc:
            raise CommandError(str(exc))
        except ValueError as exc:
            raise CommandError(str(exc))
        self.stdout.write(to_json(stats))
