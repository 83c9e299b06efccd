"""``asl_purge``: delete old finished executions, with their branches, iterations and history.

    python manage.py asl_purge --older-than 30 --batch-size 500 --dry-run

Top-level executions that ended (any status but RUNNING) more than DAYS days
ago are deleted in batches, one transaction per batch, so that no lock is held
for long: the batch's execution rows are locked, their history events and
those of their descendants are deleted in chunks, then the descendants
(deepest first) and the executions themselves. An execution is kept while any
of its branches or iterations is still RUNNING. History rows are never updated,
only deleted here with their execution.

Every run also deletes, in batches, kept messages whose time to live has run
out and the message subscriptions of executions that ended
(``django_asl.engine.purge_messages``).
"""
from __future__ import annotations

from datetime import timedelta
from typing import Iterator

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from django_asl.engine import purge_messages, remove_from_rollup
from django_asl.models import Execution, HistoryEvent

#: Most ids in one ``IN (...)`` list (SQLite caps the parameters of a statement).
CHUNK_SIZE = 500

RUNNING = Execution.Status.RUNNING


def chunks(ids: list, size: int = CHUNK_SIZE) -> Iterator[list]:
    """Yield ``ids`` in lists of at most ``size``."""
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def plural(count: int, word: str) -> str:
    """Return "1 execution" or "2 executions"."""
    return f"{count} {word}{'' if count == 1 else 's'}"


class Batch:
    """The executions of one batch of finished top-level executions, found level by level."""

    def __init__(self, root_ids: list) -> None:
        self.roots = list(root_ids)
        self.blocked: set = set()  # roots with a RUNNING descendant
        owner = {pk: pk for pk in self.roots}
        self.levels: list[list] = [list(self.roots)]
        level = self.roots
        while level:
            children = []
            for chunk in chunks(level):
                rows = Execution.objects.filter(parent_id__in=chunk).values_list("pk", "parent_id", "status")
                for pk, parent_id, status in rows:
                    owner[pk] = owner[parent_id]
                    children.append(pk)
                    if status == RUNNING:
                        self.blocked.add(owner[pk])
            if children:
                self.levels.append(children)
            level = children
        if self.blocked:
            self.levels = [[pk for pk in level if owner[pk] not in self.blocked] for level in self.levels]

    @property
    def execution_ids(self) -> list:
        """Return the ids of every execution to delete, top level first."""
        return [pk for level in self.levels for pk in level]

    def count_events(self) -> int:
        """Return how many history events the executions to delete have."""
        return sum(HistoryEvent.objects.filter(execution_id__in=chunk).count()
                   for chunk in chunks(self.execution_ids))

    def delete(self) -> tuple[int, int]:
        """Delete the history, then the executions from the deepest level up; return (executions, events)."""
        events = sum(HistoryEvent.objects.filter(execution_id__in=chunk).delete()[0]
                     for chunk in chunks(self.execution_ids))
        executions = 0
        for level in reversed(self.levels):
            for chunk in chunks(level):
                executions += Execution.objects.filter(pk__in=chunk).delete()[1].get(Execution._meta.label, 0)
        return executions, events


class Command(BaseCommand):
    help = ("Delete top-level executions that ended more than DAYS days ago, with their branches, "
            "iterations and history, in batches.")

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=float, required=True, metavar="DAYS",
                            help="Delete executions that stopped more than this many days ago.")
        parser.add_argument("--batch-size", type=int, default=500, metavar="N",
                            help="Top-level executions deleted per transaction (default: 500).")
        parser.add_argument("--dry-run", action="store_true", help="Count what would be deleted; delete nothing.")

    def handle(self, *args, older_than: float, batch_size: int, dry_run: bool, **options):
        self.verbosity = options["verbosity"]
        if not older_than >= 0:
            raise CommandError("--older-than must be a number of days, 0 or more.")
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        try:
            cutoff = timezone.now() - timedelta(days=older_than)
        except OverflowError:
            raise CommandError("--older-than is too large.")
        finished = (Execution.objects.filter(parent=None, stop_date__lt=cutoff).exclude(status=RUNNING)
                    .order_by("pk"))
        top_level = executions = events = kept = batches = 0
        last = None
        while True:
            # Keyset pagination: kept executions are passed over, not selected again.
            page = finished if last is None else finished.filter(pk__gt=last)
            ids = list(page.values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            last = ids[-1]
            with transaction.atomic():
                # Lock the rows and look again: one may have been redriven or deleted meanwhile.
                locked = list(finished.filter(pk__in=ids).select_for_update().values_list("pk", flat=True))
                batch = Batch(locked)
                if dry_run:
                    deleted = len(batch.execution_ids), batch.count_events()
                else:
                    remove_from_rollup(batch.execution_ids)  # the statistics stay those of the executions kept
                    deleted = batch.delete()
            batches += 1
            top_level += len(batch.roots) - len(batch.blocked)
            kept += len(batch.blocked)
            executions += deleted[0]
            events += deleted[1]
            if self.verbosity >= 2:
                self.stdout.write(f"Batch {batches}: {plural(deleted[0], 'execution')}, "
                                  f"{plural(deleted[1], 'history event')}.")
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {plural(executions, 'execution')} ({top_level} top-level) "
                          f"and {plural(events, 'history event')}.")
        if kept:
            self.stdout.write(f"Kept {plural(kept, 'finished execution')} with a branch or iteration "
                              f"still RUNNING.")
        messages, subscriptions = purge_messages(batch_size=batch_size, dry_run=dry_run)
        if messages or subscriptions:
            self.stdout.write(f"{verb} {plural(messages, 'expired message')} and "
                              f"{plural(subscriptions, 'message subscription')} of ended executions.")
