"""Real ``asl_worker`` processes for the PostgreSQL tests that kill and race workers."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

from django.db import connection

from tests.shared import REPO_ROOT


def start_worker(*options: str, settings: str = "tests.worker_settings") -> subprocess.Popen:
    """Start ``manage.py asl_worker`` (``--poll 0.05`` unless ``options`` say otherwise) on the test database."""
    database = connection.settings_dict
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": settings, "DATABASE_URL": url}
    return subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "manage.py"), "asl_worker", *(options or ("--poll", "0.05"))],
        cwd=REPO_ROOT, env=environment, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def kill(worker: subprocess.Popen) -> None:
    """SIGKILL the worker, its sentinel and its django-q2 workers (one process group)."""
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
