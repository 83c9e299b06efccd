"""The worker process: a django-q2 cluster for queued steps and tasks, plus the timer loop.

The timer loop advances executions whose ``wake_at`` has come (Wait states,
retry intervals, task leases, executions started while no worker ran) a few
times a second; django-q2's own scheduler ticks only every 15 seconds or so,
too coarse for timers. Run one worker per machine, on as many machines as you
like: executions are advanced under row locks taken with ``SKIP LOCKED``, so no
two workers ever advance the same execution at once.
"""
from __future__ import annotations

import logging
import signal
import threading
import time

from django.db import DatabaseError, close_old_connections

from .queue import start_cluster, stop_cluster
from .timers import run_due_timers

logger = logging.getLogger("django_asl.worker")


def run_worker(*, cluster: bool = True, poll_interval: float = 0.1, batch_size: int = 100,
               stop: threading.Event | None = None) -> None:
    """Run the timer loop (and a django-q2 cluster) until SIGINT/SIGTERM or ``stop`` is set."""
    stop = stop or threading.Event()
    handle = start_cluster() if cluster else None
    if threading.current_thread() is threading.main_thread():
        def request_stop(signum, frame):
            logger.info("django-asl worker: stopping (signal %s)", signum)
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
    logger.info("django-asl worker: timer loop running (every %ss, %s at a time)", poll_interval, batch_size)
    try:
        while not stop.is_set():
            try:
                due = run_due_timers(batch_size)
            except DatabaseError:
                logger.exception("django-asl worker: database error in the timer loop; retrying")
                close_old_connections()
                time.sleep(1)
                continue
            if due < batch_size:
                stop.wait(poll_interval)
    finally:
        stop_cluster(handle)
