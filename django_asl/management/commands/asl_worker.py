"""``manage.py asl_worker``: run django-q2 workers and the django-asl timer loop."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from django_asl.engine import run_worker


class Command(BaseCommand):
    help = ("Run a django-q2 cluster (queued steps and task handlers) and the django-asl timer loop "
            "(Wait states, retries, task leases). Run one per machine; stop with SIGINT or SIGTERM.")

    def add_arguments(self, parser):
        parser.add_argument("--poll", type=float, default=0.1, metavar="SECONDS",
                            help="how often the timer loop looks for due executions (default 0.1)")
        parser.add_argument("--batch", type=int, default=100, metavar="N",
                            help="due executions advanced per look (default 100)")
        parser.add_argument("--no-cluster", action="store_true",
                            help="run only the timer loop (when qcluster runs separately)")

    def handle(self, *args, poll: float, batch: int, no_cluster: bool, **options):
        if not 0 < poll <= 60:
            raise CommandError("--poll must be more than 0 and at most 60 seconds.")
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        self.stdout.write(f"django-asl worker: timer loop every {poll}s"
                          + ("" if no_cluster else ", with a django-q2 cluster"))
        run_worker(cluster=not no_cluster, poll_interval=poll, batch_size=batch)
