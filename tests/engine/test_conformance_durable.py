"""Every conformance case (JSONata and variables included), run through the durable engine, ends exactly as in memory and as on AWS."""
from __future__ import annotations

import hashlib

import pytest

from django_asl import asl
from django_asl.engine import publish, start_execution
from django_asl.models import Execution
from tests.asl import conformance
from tests.shared import shared_dir

CASES = conformance.load_cases(shared_dir("conformance/cases"))

# Case id -> why the durable path differs (keep in step with docs/known-gaps.md, "Durable executions").
KNOWN_GAPS: dict[str, str] = {
    "states_variables.error_output.map_catch_error.MAP_CATCH_ERROR_OUTPUT_WITH_RETRY":
        "the cause quotes an event id inside a Map iteration, which counts from 1 in the iteration's own history",
}


class Ended:
    """The fields of an ended execution that a conformance comparison reads."""

    def __init__(self, execution: Execution) -> None:
        self.status = execution.status
        self.output = execution.output
        self.error = execution.error
        self.cause = execution.cause


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_case_runs_durably_as_in_memory(case, tasks, drain):
    if case["id"] in KNOWN_GAPS:
        pytest.xfail(KNOWN_GAPS[case["id"]])
    handlers = conformance.handlers_for(case)
    tasks.update(handlers)
    name = hashlib.sha1(case["id"].encode()).hexdigest()[:40]
    machine = publish(name, case["definition"])
    execution = start_execution(machine, case["input"])
    drain()
    execution.refresh_from_db()
    durable = Ended(execution)
    assert conformance.mismatch(case, durable) is None
    memory = asl.run(case["definition"], case["input"], tasks=handlers)
    if case["compare"] != "ignore_output":
        assert (durable.status, conformance.strict(durable.output), durable.error, durable.cause) == (
            memory.status, conformance.strict(memory.output), memory.error, memory.cause)
