"""``telehub conformance run`` (hub.cli.conformance) through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli.conformance import app
from tests.conftest import testdata_path

runner = CliRunner()
pytestmark = pytest.mark.needs_testdata


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEHUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TELEHUB_VALIDATION__FHIR_PACKAGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TELEHUB_CONFIG", "")


def _core() -> list[str]:
    return ["--package", str(testdata_path("fhir", "packages", "hl7.fhir.r4.core-4.0.1.tgz"))]


def test_hl7_validator_suite_subset(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = runner.invoke(
        app,
        [
            "run",
            str(testdata_path("fhir", "validator")),
            "--only",
            "patient-id-bad",
            "--format",
            "json",
            "--output",
            str(out),
            *_core(),
        ],
    )
    assert result.exit_code in (0, 1), result.output
    data = json.loads(out.read_text())
    assert data["summary"]["suite"] == "hl7-validator" and data["summary"]["total"] >= 1


def test_fhirpath_suite_subset() -> None:
    result = runner.invoke(
        app,
        [
            "run",
            str(testdata_path("fhir", "fhirpath")),
            "--suite",
            "fhirpath",
            "--only",
            "testWhere",
            *_core(),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "passed: 4 (100.0 %)" in result.output


def test_bad_suite_folder(tmp_path: Path) -> None:
    assert runner.invoke(app, ["run", str(tmp_path / "nope")]).exit_code == 2


def test_nist_xds_suite_runs_one_test_through_the_real_soap_door() -> None:
    kit = testdata_path("xds", "nist-testkit")
    result = runner.invoke(
        app, ["run", "--suite", "nist-xds", str(kit), "--only", "11966", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert "11966" in result.output and report
