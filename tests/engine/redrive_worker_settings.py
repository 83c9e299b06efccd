"""Settings for the worker processes of the redrive test: the crash tests' settings plus its handler."""
from tests.worker_settings import *  # noqa: F401,F403
from tests.worker_settings import DJANGO_ASL as _BASE

# No worker is killed here: a long lease keeps each task to one delivery on a busy machine.
DJANGO_ASL = {**_BASE, "TASK_LEASE_SECONDS": 60,
              "TASKS": {**_BASE["TASKS"], "urn:test:redrive.worker": "tests.engine.redrive_tasks.work"}}
