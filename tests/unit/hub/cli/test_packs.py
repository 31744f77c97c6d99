"""``telehub packs`` sub-commands (hub.cli.packs) driven through typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli.packs import app
from tests.conftest import testdata_path

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_list_when_empty(tmp_path: Path) -> None:
    code, output = _run("list", "--packs-dir", str(tmp_path))
    assert code == 0
    assert "no packs installed" in output


def test_install_and_list(tmp_path: Path) -> None:
    code, output = _run(
        "install", "cda-r2", str(testdata_path("cda", "schemas")), "--packs-dir", str(tmp_path)
    )
    assert code == 0, output
    assert "installed" in output and "CDA_SDTC.xsd" in output
    schematron = testdata_path("dk", "medcom-cda", "main", "resources", "schematrons", "conf-phmr-dk.sch.xml")
    code, output = _run(
        "install",
        "schematron",
        "medcom-phmr",
        str(schematron),
        "--applies-to",
        "phmr,cda",
        "--packs-dir",
        str(tmp_path),
    )
    assert code == 0, output
    assert "applies to phmr, cda" in output
    assert (tmp_path / "schematron" / "medcom-phmr" / "compiled.xsl").is_file()
    code, output = _run("list", "--packs-dir", str(tmp_path))
    assert code == 0
    assert "cda-r2" in output and "medcom-phmr" in output


def test_install_prints_compiler_notes(tmp_path: Path) -> None:
    source = testdata_path(
        "dk", "medcom-cda", "main", "resources", "schematrons", "schematron", "cda_phmr", "PHMR.sch"
    )
    code, output = _run("install", "schematron", "ipf", str(source), "--packs-dir", str(tmp_path))
    assert code == 0, output
    assert "note:" in output and "not declared" in output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("install", "cda-r2"), 2, ""),
        (("install", "cda-r2", "a", "b", "c"), 2, "expected [NAME] PATH"),
        (("install", "schematron", "/nonexistent.sch"), 1, "needs a name"),
        (("install", "cda-r2", "/nonexistent"), 1, "does not exist"),
        (("install", "bogus", "x"), 1, "unknown pack kind"),
        (("install", "schematron", "n", "x.sch", "--applies-to", "fhir"), 2, "--applies-to"),
        (("install", "schematron", "n", "x.sch", "--applies-to", "phmr", "cda"), 2, "--applies-to phmr,cda"),
    ],
)
def test_install_errors(tmp_path: Path, args: tuple[str, ...], code: int, message: str) -> None:
    exit_code, output = _run(*args, "--packs-dir", str(tmp_path))
    assert exit_code == code
    assert message in output
    assert not (tmp_path / "cda-r2").exists()


def test_corrupt_manifest_is_reported(tmp_path: Path) -> None:
    (tmp_path / "cda-r2").mkdir()
    (tmp_path / "cda-r2" / "telehub-pack.json").write_text("[]")
    code, output = _run("list", "--packs-dir", str(tmp_path))
    assert code == 1
    assert "corrupt pack manifest" in output


def test_default_packs_dir_comes_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEHUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TELEHUB_CONFIG", "")
    code, output = _run("install", "cda-r2", str(testdata_path("cda", "schemas")))
    assert code == 0, output
    assert (tmp_path / "data" / "packs" / "cda-r2" / "telehub-pack.json").is_file()
