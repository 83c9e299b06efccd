"""Run the shared validation corpus and the hostile inputs through ``validate``.

The corpus lives in ``<shared>/validation`` (``DJANGO_ASL_SHARED``, default
``<repo>/../shared``); without it these tests are skipped, or fail on CI
(``CI=true``). Every input must give a well-formed list of issues within the time
limit: no error for ``valid``, at least one error for ``invalid``, anything for
``either``. A ``validation: P/N correct`` line is printed at the end of the session.
"""
from __future__ import annotations

import importlib.util
import json
import pathlib
import time
from typing import Any, Callable

import pytest

from django_asl.asl.errors import Issue
from django_asl.asl.validation import validate
from tests.shared import shared_dir

CORPUS = shared_dir("validation")
CASES = sorted((CORPUS / "cases").glob("*/*.json"))
TIME_LIMIT = 1.0  # seconds per validate() call

_spec = importlib.util.spec_from_file_location("make_hostile", CORPUS / "make_hostile.py")
make_hostile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_hostile)
HOSTILE_IDS = ["hostile-" + item[0] for item in make_hostile.file_inputs()]
PYTHON_INPUTS = make_hostile.python_inputs()

RESULTS: dict[str, bool] = {}


@pytest.fixture(scope="module", autouse=True)
def score_line(request: pytest.FixtureRequest):
    """Print ``validation: P/N correct`` once the corpus tests have run."""
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    line = f"validation: {sum(RESULTS.values())}/{len(RESULTS)} correct"
    if reporter is not None:
        reporter.write_sep("-", line)
    else:  # pragma: no cover - without the terminal plugin
        print(line)


@pytest.fixture(scope="session")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """Write the hostile inputs (about 45 MB) and their manifest into a temporary directory."""
    out = tmp_path_factory.mktemp("hostile")
    make_hostile.write_all(out)
    return out


@pytest.fixture(scope="session")
def hostile_manifest(hostile_dir: pathlib.Path) -> dict[str, dict]:
    manifest = json.loads((hostile_dir / "manifest.json").read_text(encoding="utf-8"))
    return {item["id"]: item for item in manifest}


def check(input_id: str, expect: str, make: Callable[[], Any]) -> None:
    """Validate one input, record the verdict, and assert it is right, well-formed and fast."""
    value = make()
    RESULTS[input_id] = False
    started = time.perf_counter()
    issues = validate(value)
    elapsed = time.perf_counter() - started
    assert isinstance(issues, list)
    assert all(isinstance(issue, Issue) and issue.path.startswith("$") and issue.message for issue in issues)
    assert not [issue for issue in issues if issue.code == "internal_error"], issues
    errors = [issue for issue in issues if issue.is_error]
    if expect == "valid":
        assert errors == [], f"{input_id}: {[str(e) for e in errors[:5]]}"
    elif expect == "invalid":
        assert errors, f"{input_id} should be rejected"
    assert elapsed < TIME_LIMIT, f"{input_id} took {elapsed:.2f} s"
    RESULTS[input_id] = True


@pytest.mark.parametrize("case_file", CASES, ids=lambda path: path.stem)
def test_case(case_file: pathlib.Path) -> None:
    case = json.loads(case_file.read_text(encoding="utf-8"))
    assert case["expect"] == case_file.parent.name
    check(case["id"], case["expect"], lambda: case["definition"])


@pytest.mark.parametrize("input_id", HOSTILE_IDS)
def test_hostile_file(input_id: str, hostile_dir: pathlib.Path, hostile_manifest: dict[str, dict]) -> None:
    item = hostile_manifest[input_id]
    data = (hostile_dir / item["file"]).read_bytes()

    def read() -> str | bytes:
        try:
            return data.decode("utf-8")  # the text, as a caller would pass it
        except UnicodeDecodeError:
            return data

    check(input_id, item["expect"], read)


@pytest.mark.parametrize("input_id", sorted(PYTHON_INPUTS))
def test_python_input(input_id: str) -> None:
    expect, _reason, factory = PYTHON_INPUTS[input_id]
    check(input_id, expect, factory)


def test_score() -> None:
    """Every input run so far is correct (this runs last in the module)."""
    wrong = sorted(input_id for input_id, ok in RESULTS.items() if not ok)
    assert not wrong, f"validation: {len(RESULTS) - len(wrong)}/{len(RESULTS)} correct; wrong: {wrong}"
