"""Settings defaults that depend on each other."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.core.settings import Settings


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TELEHUB_DATABASE_URL", raising=False)
    monkeypatch.delenv("TELEHUB_DATA_DIR", raising=False)
    monkeypatch.setenv("TELEHUB_CONFIG", str(tmp_path / "absent.toml"))


def test_the_embedded_database_lives_in_the_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert Settings().database_url == "sqlite+aiosqlite:///var/telehub.db"
    monkeypatch.setenv("TELEHUB_DATA_DIR", str(tmp_path / "data"))
    assert Settings().database_url == f"sqlite+aiosqlite:///{tmp_path}/data/telehub.db"
    assert (
        Settings(data_dir=Path("/srv/telehub")).database_url == "sqlite+aiosqlite:////srv/telehub/telehub.db"
    )


def test_a_configured_database_url_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TELEHUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TELEHUB_DATABASE_URL", "postgresql+asyncpg://telehub:secret@db/telehub")
    settings = Settings()
    assert settings.database_url == "postgresql+asyncpg://telehub:secret@db/telehub"
    assert settings.masked()["database_url"] == "postgresql+asyncpg://telehub:***@db/telehub"
    assert (
        Settings(database_url="sqlite+aiosqlite:///other.db").database_url == "sqlite+aiosqlite:///other.db"
    )
