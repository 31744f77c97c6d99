"""``telehub packages`` (hub.cli.packages) through typer's CliRunner."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli.packages import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEHUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TELEHUB_VALIDATION__FHIR_PACKAGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TELEHUB_CONFIG", "")


def _tgz(path: Path, name: str, version: str, deps: dict[str, str] | None = None) -> Path:
    files = {
        "package/package.json": {
            "name": name,
            "version": version,
            **({"dependencies": deps} if deps else {}),
        },
        "package/vs.json": {"resourceType": "ValueSet", "url": f"http://{name}/vs", "status": "active"},
    }
    with tarfile.open(path, "w:gz") as archive:
        for member, content in files.items():
            raw = json.dumps(content).encode()
            info = tarfile.TarInfo(member)
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
    return path


def test_install_and_list(tmp_path: Path) -> None:
    source = _tgz(tmp_path / "a.tgz", "t.a", "1.0.0")
    result = runner.invoke(app, ["install", str(source)])
    assert result.exit_code == 0, result.output
    assert "installed t.a#1.0.0" in result.output and "1 conformance resources" in result.output
    assert (tmp_path / "data" / "packages" / "t.a#1.0.0" / "package" / "vs.json").is_file()
    listing = runner.invoke(app, ["list"])
    assert listing.exit_code == 0 and "t.a#1.0.0" in listing.output


def test_install_from_cache_by_id(tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "t.c#2.0.0" / "package"
    cache.mkdir(parents=True)
    (cache / "package.json").write_text(json.dumps({"name": "t.c", "version": "2.0.0"}))
    result = runner.invoke(app, ["install", "t.c#2.0.0"])
    assert result.exit_code == 0, result.output


def test_missing_dependency_and_unknown_id(tmp_path: Path) -> None:
    source = _tgz(tmp_path / "b.tgz", "t.b", "1.0.0", {"t.missing": "1.0.0"})
    result = runner.invoke(app, ["install", str(source)])
    assert result.exit_code == 2 and "t.missing#1.0.0" in result.output
    result = runner.invoke(app, ["install", "hl7.fhir.us.core#3.1.0"])
    assert result.exit_code == 2 and "no network registry" in result.output
