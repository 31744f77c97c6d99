"""Shared fixtures: engine selection (SQLite / PostgreSQL) and the third-party test data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTDATA = Path(__file__).resolve().parents[1].parent / "shared" / "testdata"


@pytest.fixture(scope="session")
def testdata() -> Path:
    """``../shared/testdata``; tests that need it skip cleanly when it is absent."""
    if not TESTDATA.is_dir():
        pytest.skip("../shared/testdata not available")
    return TESTDATA


def testdata_path(*parts: str) -> Path:
    """A path below ``../shared/testdata``, skipping the calling test when it does not exist."""
    path = TESTDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/testdata/{'/'.join(parts)} not available")
    return path
