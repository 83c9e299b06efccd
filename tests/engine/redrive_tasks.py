"""A task handler for the redrive test with worker processes: it logs each call and how many run at once."""
from __future__ import annotations

import os
import pathlib
import time
import uuid
from collections import Counter

RESOURCE = "urn:test:redrive.worker"


def work(payload):
    """Return item * 10, failing on the first run for the items marked ``fail``.

    While it runs, a marker file in ``$REDRIVE_TEST_DIR`` says so; each call
    appends "<item> <markers seen>" to the log there. A marker exists only while
    the handler runs, so the count never exceeds the tasks running at once.
    """
    directory = pathlib.Path(os.environ["REDRIVE_TEST_DIR"])
    marker = directory / f"running-{payload['item']}-{uuid.uuid4().hex}"
    marker.touch()
    try:
        running = sum(1 for path in directory.iterdir() if path.name.startswith("running-"))
        with open(directory / "calls.log", "a", encoding="utf-8") as log:
            log.write(f"{payload['item']} {running}\n")
        time.sleep(0.3)  # long enough for the iterations allowed to run at once to overlap
        if payload["fail"] and payload["redrive"] == 0:
            raise ValueError(f"item {payload['item']} failed")
        return payload["item"] * 10
    finally:
        marker.unlink()


def read(directory: pathlib.Path) -> tuple[Counter, list[int]]:
    """Return the calls per item and the running counts the handler logged."""
    path = pathlib.Path(directory) / "calls.log"
    lines = [line.split() for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
    return Counter(int(item) for item, _ in lines), [int(running) for _, running in lines]
