"""Run every AWS-recorded conformance case through ``django_asl.asl.run``.

That includes the cases that use JSONata and variables (``Assign``). Known gaps are listed, with reasons, in docs/known-gaps.md and are
expected failures (strict: a gap that starts passing must be removed).
"""
from __future__ import annotations

import pytest

from django_asl import asl
from tests.asl import conformance
from tests.shared import shared_dir

CASES = conformance.load_cases(shared_dir("conformance/cases"))
JSONATA_OR_VARIABLES = [case for case in CASES if conformance.uses_issue_7_features(case)]

# Case id -> why we differ from AWS (keep in step with docs/known-gaps.md).
KNOWN_GAPS: dict[str, str] = {}

RESULTS: dict[str, bool] = {}


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_case_matches_aws(case):
    if case["id"] in KNOWN_GAPS:
        pytest.xfail(KNOWN_GAPS[case["id"]])
    result = asl.run(case["definition"], case["input"], tasks=conformance.handlers_for(case))
    problem = conformance.mismatch(case, result)
    RESULTS[case["id"]] = problem is None
    assert problem is None, problem


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_definition_is_accepted(case):
    # Every recorded definition ran on AWS, so the validator must accept it.
    issues = [issue for issue in asl.validate(case["definition"]) if issue.is_error]
    assert issues == []


def test_conformance_pass_rate(record_property):
    """Report the pass rate over every case (JSONata and variables included)."""
    passed = sum(RESULTS.values())
    ran = len(RESULTS)
    rate = passed / len(CASES) if CASES else 1.0
    line = f"conformance: {passed}/{len(CASES)} cases passed ({rate:.1%}), " \
           f"{len(JSONATA_OR_VARIABLES)} of them with JSONata or variables"
    print("\n" + line)
    record_property("conformance", line)
    if ran == len(CASES):
        assert rate >= 0.98, line
