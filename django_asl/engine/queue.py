"""The only module that talks to django-q2: queue follow-up work after commit."""
from __future__ import annotations

from django.db import transaction


def enqueue(function: str, *args) -> None:
    """Queue ``function(*args)`` (a dotted path) as a django-q2 task once the transaction commits."""
    from django_q.tasks import async_task

    transaction.on_commit(lambda: async_task(function, *args, group="django_asl"))


def start_cluster():
    """Start a django-q2 cluster (its sentinel and worker processes) and return it."""
    from django_q.cluster import Cluster

    cluster = Cluster()
    cluster.start()
    return cluster


def stop_cluster(cluster) -> None:
    """Stop a cluster started by ``start_cluster``, letting running tasks finish."""
    if cluster is not None and cluster.sentinel is not None and cluster.sentinel.is_alive():
        cluster.stop()
