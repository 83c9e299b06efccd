"""Fixtures shared by the whole test suite."""
from __future__ import annotations

import pathlib

import pytest

from tests import shared


@pytest.fixture(scope="session")
def shared_dir() -> pathlib.Path:
    """Return the shared material directory; skip the test (fail on CI) when it is absent."""
    return shared.shared_dir()
