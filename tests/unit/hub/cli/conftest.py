"""Command-line tests never touch the working directory's ``var/``: each gets its own data folder (and so its
own embedded audit database, which the audited operator commands write to)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEHUB_DATA_DIR", str(tmp_path / "cli-data"))
    monkeypatch.delenv("TELEHUB_DATABASE_URL", raising=False)  # so the database is <data_dir>/telehub.db
