"""Locate the shared test material (conformance cases, validation corpus, benchmarks).

The material lives outside the repository, in ``../shared`` beside the checkout,
or wherever the environment variable ``DJANGO_ASL_SHARED`` points. When it is
missing the tests that need it are skipped, except on CI (``CI=true``), where a
missing directory is a failure: CI must run every test.

Usable at import time too, e.g. to parametrize over case files::

    from tests.shared import shared_dir
    CASES = sorted(shared_dir("conformance/cases").rglob("*.json"))
"""
from __future__ import annotations

import os
import pathlib

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
ENV_VAR = "DJANGO_ASL_SHARED"


def shared_root() -> pathlib.Path:
    """Return where the shared material should be, without checking that it is there."""
    configured = os.environ.get(ENV_VAR)
    return pathlib.Path(configured).expanduser() if configured else REPO_ROOT.parent / "shared"


def on_ci() -> bool:
    """Return True when running on CI, where missing material fails instead of skipping."""
    return os.environ.get("CI", "").strip().lower() == "true"


def shared_dir(sub: str | None = None) -> pathlib.Path:
    """Return the shared directory, or its subdirectory ``sub``; skip (or fail on CI) if absent.

    Works inside a test and at module level (collection time).
    """
    import pytest  # here, so that non-test code can import shared_root() without pytest

    path = shared_root() / sub if sub else shared_root()
    if not path.is_dir():
        reason = (
            f"shared test material not found: {path} is not a directory "
            f"(set {ENV_VAR} to the shared directory, default <repo>/../shared)"
        )
        if on_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason, allow_module_level=True)
    return path
