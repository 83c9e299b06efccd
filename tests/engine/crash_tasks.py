"""Task handlers for the crash tests, importable by the worker processes."""
import time


def increment(payload):
    """Take a little time, so that workers are often killed in the middle of a task."""
    time.sleep(0.01)
    return {**payload, "n": payload.get("n", 0) + 1}
