"""``telehub conformance run --target URL`` against a real ``telehub serve`` process: the HTTP target posts
each case to ``$validate`` and must reach the verdict the in-process validator reaches."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from conformance import CaseStatus, Hl7ValidatorSuite, HttpTarget, InProcessTarget, ValidationRequest
from hub.cli.conformance import app as conformance_app
from hub.core.issues import Issue
from hub.core.settings import Settings
from hub.fhir import DefinitionSources, load_definitions
from profiles import CanonicalRegistry
from profiles.danish import danish_checks
from tests.benchmarks.harness import Server
from tests.conftest import testdata_path

# HL7 validator cases that need no supporting files and no validator switches (JSON and XML)
CASES = (
    "patient-id-only",  # XML
    "resource-invalid-id-2",
    "empty-array",
    "patient-id-bad-1",
    "dr-example-org-2",
    "ai7",
)


@pytest.fixture(scope="module")
def core() -> Path:
    return testdata_path("fhir", "packages", "hl7.fhir.r4.core-4.0.1.tgz")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, core: Path) -> Iterator[str]:
    """``telehub serve`` in a subprocess with the core package, open security, SQLite; its FHIR base."""
    data = tmp_path_factory.mktemp("served")
    env = {"TELEHUB_SECURITY__MODE": "open", "TELEHUB_VALIDATION__PACKAGES": json.dumps([str(core)])}
    with Server(f"sqlite+aiosqlite:///{data / 'telehub.db'}", 1, data, extra_env=env) as server:
        yield server.url + "/fhir"


@pytest.fixture(scope="module")
def base_registry(tmp_path_factory: pytest.TempPathFactory, core: Path) -> CanonicalRegistry:
    """What the served hub loads (core + built-in package), loaded once in this process."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("local"), validation={"packages": [str(core)]})
    return load_definitions(DefinitionSources.from_settings(settings)).registry


def _errors(issues: list[Issue]) -> int:
    return sum(1 for i in issues if i.is_error)


def test_http_target_reaches_the_in_process_verdicts(served: str, base_registry: CanonicalRegistry) -> None:
    http = HttpTarget(served)
    local = InProcessTarget(base_registry, danish_checks())
    patient = {"resourceType": "Patient", "id": "a", "gender": "female", "birthDate": "1961-07-07"}
    xml = (
        b'<Patient xmlns="http://hl7.org/fhir"><id value="x"/><gender value="sometimes"/>'
        b'<birthDate value="1961-13-07"/></Patient>'
    )
    requests = [
        ValidationRequest(orjson.dumps(patient), "json"),
        ValidationRequest(orjson.dumps({**patient, "gender": "sometimes"}), "json"),
        ValidationRequest(xml, "xml"),
        ValidationRequest(
            orjson.dumps(patient), "json", ("http://telehub.dk/fhir/StructureDefinition/dk-tm-patient",)
        ),
    ]
    counts = []
    for request in requests:
        assert http.unsupported(request) is None
        over_http, in_process = http.validate(request), local.validate(request)
        assert _errors(over_http) == _errors(in_process), request
        counts.append(_errors(over_http))
    assert counts[0] == 0 and counts[1] == 1 and counts[2] >= 2 and counts[3] >= 1


def test_hl7_cases_over_http_agree_with_in_process(served: str, base_registry: CanonicalRegistry) -> None:
    suite = Hl7ValidatorSuite(testdata_path("fhir", "validator"), definitions=base_registry)
    for name in CASES:
        over_http = suite.run(HttpTarget(served), only=name).results
        in_process = suite.run(InProcessTarget(base_registry, danish_checks()), only=name).results
        assert over_http and all(r.runnable for r in over_http), over_http
        assert [(r.name, r.status, r.actual_errors) for r in over_http] == [
            (r.name, r.status, r.actual_errors) for r in in_process
        ]
        assert all(r.status is CaseStatus.PASS for r in over_http), over_http


def test_the_cli_runs_the_suite_against_a_hub(served: str, core: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = CliRunner().invoke(
        conformance_app,
        [
            "run",
            str(testdata_path("fhir", "validator")),
            "--target",
            served,
            "--only",
            "patient-id-only",
            "--package",
            str(core),
            "--format",
            "json",
            "--output",
            str(report),
        ],
        env={"TELEHUB_DATA_DIR": str(tmp_path / "cli"), "TELEHUB_CONFIG": ""},
    )
    assert result.exit_code in (0, 1), result.output
    summary = json.loads(report.read_text())["summary"]
    assert summary["target"] == "http" and summary["runnable"] >= 1 and summary["errors"] == 0


def test_a_hub_that_wants_a_token_stops_the_run_or_gets_one(core: Path, tmp_path: Path) -> None:
    """Against a hub in dev mode every $validate without a token is a 401: the run stops with exit 2 naming
    --token instead of counting each refusal as a disagreement; with a dev token it runs."""
    from hub.cli import app as telehub_app

    data = tmp_path / "secured"
    env = {"TELEHUB_SECURITY__MODE": "dev", "TELEHUB_VALIDATION__PACKAGES": json.dumps([str(core)])}
    cli_env = {"TELEHUB_DATA_DIR": str(data), "TELEHUB_CONFIG": ""}
    with Server(f"sqlite+aiosqlite:///{data / 'telehub.db'}", 1, data, extra_env=env) as server:
        args = ["run", str(testdata_path("fhir", "validator")), "--target", server.url + "/fhir"]
        args += ["--only", "patient-id-only", "--package", str(core)]
        refused = CliRunner().invoke(conformance_app, args, env=cli_env)
        assert refused.exit_code == 2, refused.output
        assert "refused the runner" in refused.output and "401" in refused.output
        issued = CliRunner().invoke(telehub_app, ["dev", "token", "--role", "system"], env=cli_env)
        assert issued.exit_code == 0, issued.output
        report = tmp_path / "report.json"
        args += ["--token", issued.output.strip(), "--format", "json", "--output", str(report)]
        accepted = CliRunner().invoke(conformance_app, args, env=cli_env)
        assert accepted.exit_code in (0, 1), accepted.output
        summary = json.loads(report.read_text())["summary"]
        assert (
            summary["runnable"] >= 1 and summary["errors"] == 0 and summary["passed"] == summary["runnable"]
        )
