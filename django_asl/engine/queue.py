"""The only module that talks to django-q2: queue follow-up work after commit."""
from __future__ import annotations

from django.db import transaction


def enqueue(function: str, *args) -> None:
    """Queue ``function(*args)`` (a dotted path) as a django-q2 task once the transaction commits."""
    from django_q.tasks import async_task

    transaction.on_commit(lambda: async_task(function, *args, group="django_asl"))
