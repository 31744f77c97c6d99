"""Settings defaults that depend on each other."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.core.errors import ConfigurationError
from hub.core.settings import Settings


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TELEHUB_DATABASE_URL", raising=False)
    monkeypatch.delenv("TELEHUB_DATA_DIR", raising=False)
    monkeypatch.setenv("TELEHUB_CONFIG", "")


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


def test_the_settings_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """TELEHUB_CONFIG names a file that must exist (a typo is an error, not silently the defaults); empty
    means none; unset means ./telehub.toml when there is one. Dict settings merge key by key, the
    environment's keys winning."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEHUB_CONFIG", str(tmp_path / "telehub.tolm"))
    with pytest.raises(ConfigurationError, match=r"telehub\.tolm.*not a file"):
        Settings()
    (tmp_path / "telehub.toml").write_text(
        'max_body_bytes = 1234\n[validation]\nlevels = {Observation = "off"}\n'
    )
    monkeypatch.delenv("TELEHUB_CONFIG")
    assert Settings().max_body_bytes == 1234  # ./telehub.toml
    monkeypatch.setenv("TELEHUB_CONFIG", "")
    assert Settings().max_body_bytes != 1234
    monkeypatch.setenv("TELEHUB_CONFIG", str(tmp_path / "telehub.toml"))
    monkeypatch.setenv("TELEHUB_VALIDATION__LEVELS", '{"Patient": "base"}')
    levels = {k: v.value for k, v in Settings().validation.levels.items()}
    assert levels == {"Observation": "off", "Patient": "base"}  # merged with the file's
    monkeypatch.setenv("TELEHUB_VALIDATION__LEVELS", '{"Observation": "profiles"}')
    assert Settings().validation.levels["Observation"].value == "profiles"  # the environment's key wins
