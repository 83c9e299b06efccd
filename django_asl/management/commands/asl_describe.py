"""``asl_describe``: print an execution (and, with ``--history``, its events) as JSON.

    python manage.py asl_describe 5f0c7a8e-3b0a-4a57-9a55-0f9d1b8f8c11 --history
"""
from __future__ import annotations

import uuid

from django.core.management.base import BaseCommand, CommandError

from django_asl.engine import describe_execution, get_execution_history
from django_asl.models import Execution

from ._output import to_json


class Command(BaseCommand):
    help = "Print an execution as one JSON object; with --history, include its history events."

    def add_arguments(self, parser):
        parser.add_argument("execution_id", metavar="ID", help="The execution id (a UUID).")
        parser.add_argument("--history", action="store_true",
                            help="Include the history events, oldest first, under \"history\".")

    def handle(self, *args, execution_id: str, history: bool, **options):
        try:
            pk = uuid.UUID(execution_id.strip())
        except ValueError:
            raise CommandError(f"No execution with id {execution_id!r}: an execution id is a UUID.")
        try:
            execution = Execution.objects.select_related("state_machine", "version").get(pk=pk)
        except Execution.DoesNotExist:
            raise CommandError(f"No execution with id {execution_id!r}.")
        described = describe_execution(execution)
        if history:
            described["history"] = get_execution_history(execution)
        self.stdout.write(to_json(described))
