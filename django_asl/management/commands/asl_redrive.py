"""``asl_redrive``: restart a FAILED, TIMED_OUT or ABORTED execution where it stopped, and print it as JSON.

    python manage.py asl_redrive 5f0c7a8e-3b0a-4a57-9a55-0f9d1b8f8c11
"""
from __future__ import annotations

import uuid

from django.core.management.base import BaseCommand, CommandError

from django_asl.engine import ExecutionNotRedrivable, describe_execution, redrive_execution
from django_asl.models import Execution

from ._output import to_json


class Command(BaseCommand):
    help = ("Redrive an unsuccessful execution: it runs again from the state that did not succeed. "
            "Prints the execution as one JSON object.")

    def add_arguments(self, parser):
        parser.add_argument("execution_id", metavar="ID", help="The execution id (a UUID).")

    def handle(self, *args, execution_id: str, **options):
        try:
            pk = uuid.UUID(execution_id.strip())
        except ValueError:
            raise CommandError(f"No execution with id {execution_id!r}: an execution id is a UUID.")
        try:
            execution = redrive_execution(pk)
        except Execution.DoesNotExist:
            raise CommandError(f"No execution with id {execution_id!r}.")
        except ExecutionNotRedrivable as exc:
            raise CommandError(str(exc))
        self.stdout.write(to_json(describe_execution(execution)))
