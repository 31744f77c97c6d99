"""``telehub validate`` (hub.cli.validate) through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from typer.testing import CliRunner

from hub.cli.validate import app
from tests.conftest import testdata_path
from tests.unit.profiles.cda.phmr_builder import build_phmr

runner = CliRunner()
GOOD = {"resourceType": "Patient", "id": "a", "gender": "male", "birthDate": "1974-12-25"}
BAD = {"resourceType": "Patient", "id": "b", "gender": "mail", "bogus": True}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEHUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TELEHUB_VALIDATION__FHIR_PACKAGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TELEHUB_CONFIG", "")


def _write(tmp_path: Path, name: str, resource: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(resource))
    return path


def _core() -> list[str]:
    return ["--package", str(testdata_path("fhir", "packages", "hl7.fhir.r4.core-4.0.1.tgz"))]


def test_valid_and_invalid_files(tmp_path: Path) -> None:
    good, bad = _write(tmp_path, "good.json", GOOD), _write(tmp_path, "bad.json", BAD)
    result = runner.invoke(app, [str(good), *_core()])
    assert result.exit_code == 0, result.output
    assert "good.json: valid" in result.output
    result = runner.invoke(app, [str(good), str(bad), *_core()])
    assert result.exit_code == 1
    assert "bad.json: INVALID" in result.output
    assert "Patient.bogus" in result.output and "Patient.gender" in result.output
    assert "[VAL_UNKNOWN_ELEMENT]" in result.output


def test_json_and_junit_formats(tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.json", BAD)
    result = runner.invoke(app, [str(bad), "--format", "json", *_core()])
    data = json.loads(result.output)
    assert data[0]["valid"] is False and any(i["expression"] == ["Patient.bogus"] for i in data[0]["issues"])
    result = runner.invoke(app, [str(bad), "--format", "junit", *_core()])
    suite = ET.fromstring(result.output.split("?>", 1)[1])
    assert suite.get("failures") == "1" and suite.find("testcase/failure") is not None


def test_fail_on_warning(tmp_path: Path) -> None:
    warned = _write(
        tmp_path,
        "w.json",
        {"resourceType": "Patient", "extension": [{"url": "http://example.org/x", "valueString": "y"}]},
    )
    assert runner.invoke(app, [str(warned), *_core()]).exit_code == 0
    assert runner.invoke(app, [str(warned), "--fail-on", "warning", *_core()]).exit_code == 1


def test_profiles_from_packages(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "package.json").write_text(json.dumps({"name": "t.p", "version": "1.0.0"}))
    (folder / "sd.json").write_text(
        json.dumps(
            {
                "resourceType": "StructureDefinition",
                "url": "http://t/female",
                "name": "Female",
                "status": "draft",
                "kind": "resource",
                "abstract": False,
                "type": "Patient",
                "derivation": "constraint",
                "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
                "differential": {"element": [{"path": "Patient.gender", "fixedCode": "female"}]},
            }
        )
    )
    good = _write(tmp_path, "good.json", GOOD)
    result = runner.invoke(
        app, [str(good), "--profile", "http://t/female", "--package", str(folder), *_core()]
    )
    assert result.exit_code == 1 and "fixed" in result.output
    result = runner.invoke(app, [str(good), "--profile", "http://t/unknown", *_core()])
    assert result.exit_code == 2 and "Unknown profile" in result.output


def test_usage_and_load_errors(tmp_path: Path) -> None:
    assert runner.invoke(app, [str(tmp_path / "missing.json")]).exit_code == 2
    broken = tmp_path / "broken.tgz"
    broken.write_bytes(b"not a tgz")
    good = _write(tmp_path, "good.json", GOOD)
    result = runner.invoke(app, [str(good), "--package", str(broken)])
    assert result.exit_code == 2 and "Cannot load packages" in result.output


def test_bad_bytes_are_reported_not_raised(tmp_path: Path) -> None:
    junk = tmp_path / "junk.json"
    junk.write_bytes(b'{"resourceType": "Patient", "name": "\xff"}')
    result = runner.invoke(app, [str(junk)])
    assert result.exit_code == 1 and "UTF-8" in result.output


def test_without_core_says_what_was_skipped(tmp_path: Path) -> None:
    good = _write(tmp_path, "good.json", GOOD)
    result = runner.invoke(app, [str(good)])
    assert result.exit_code == 0 and "hl7.fhir.r4.core is not installed" in result.output


def test_fhir_xml_and_cda_files(tmp_path: Path) -> None:
    xml = tmp_path / "p.xml"
    xml.write_text('<Patient xmlns="http://hl7.org/fhir"><id value="x"/><gender value="mail"/></Patient>')
    result = runner.invoke(app, [str(xml), *_core()])
    assert result.exit_code == 1 and "(fhir-xml;" in result.output and "Patient.gender" in result.output
    cda = testdata_path("cda", "hl7-samples", "cda.xml")
    result = runner.invoke(app, [str(cda)])
    assert "(cda;" in result.output


@pytest.mark.parametrize(
    ("prefix", "codec"),
    [(b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"", "utf-8")],
)
def test_a_byte_order_mark_does_not_hide_the_kind(tmp_path: Path, prefix: bytes, codec: str) -> None:
    """MedCom's example PHMRs start with a UTF-8 byte-order mark: still a CDA document, not JSON."""
    document = build_phmr(2).decode("utf-8")
    if codec != "utf-8":
        document = document.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    path = tmp_path / "phmr.xml"
    path.write_bytes(prefix + document.encode(codec))
    result = runner.invoke(app, [str(path)])
    assert "(cda;" in result.output, result.output
    assert "VAL_JSON_INVALID" not in result.output
