"""The HL7 validator suite runner, in-process and over HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from conformance.report import CaseStatus
from conformance.suites import Hl7ValidatorSuite, load_expectation
from conformance.targets import HttpTarget, InProcessTarget, ValidationRequest, issues_from_outcome
from profiles import CanonicalRegistry
from tests.conftest import testdata_path

pytestmark = pytest.mark.needs_testdata


@pytest.fixture(scope="module")
def suite(core_registry: CanonicalRegistry) -> Hl7ValidatorSuite:
    return Hl7ValidatorSuite(testdata_path("fhir", "validator"), definitions=core_registry)


def test_runs_selected_cases_in_process(suite: Hl7ValidatorSuite, core_registry: CanonicalRegistry) -> None:
    report = suite.run(InProcessTarget(core_registry), only="patient-id-bad-1")
    assert report.results, "case not found"
    result = report.results[0]
    assert result.status is CaseStatus.PASS and result.expected_errors and result.actual_errors


def test_profile_step_runs(suite: Hl7ValidatorSuite, core_registry: CanonicalRegistry) -> None:
    report = suite.run(InProcessTarget(core_registry), only="jv-patient-bad")
    names = [r.name for r in report.results]
    assert any(n.endswith("[profile]") for n in names)
    assert all(r.status in (CaseStatus.PASS, CaseStatus.FAIL) for r in report.results)


def test_skips_are_explained(suite: Hl7ValidatorSuite, core_registry: CanonicalRegistry) -> None:
    report = suite.run(InProcessTarget(core_registry), only="cds")
    reasons = {r.reason for r in report.results if r.status is CaseStatus.SKIP}
    assert any("CDS Hooks" in r for r in reasons)
    outcome = testdata_path(
        "fhir", "validator", "outcomes", "java", "R4.fixed-quantity-binding-observation-profile.json"
    )
    expectation = load_expectation(outcome)
    assert expectation.needs_tx_server and expectation.errors == 1


class _Validate(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length))
        issues = (
            []
            if body.get("id")
            else [
                {
                    "severity": "error",
                    "code": "required",
                    "diagnostics": "no id",
                    "expression": ["Patient.id"],
                }
            ]
        )
        data = json.dumps({"resourceType": "OperationOutcome", "issue": issues}).encode()
        self.send_response(200 if not issues else 422)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        type(self).paths.append(self.path)

    def log_message(self, *args: object) -> None:
        return

    paths: ClassVar[list[str]] = []


@pytest.fixture
def server() -> Iterator[str]:
    httpd = HTTPServer(("127.0.0.1", 0), _Validate)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/fhir"
    finally:
        httpd.shutdown()
        thread.join()
        httpd.server_close()


def test_http_target_posts_to_validate(server: str) -> None:
    target = HttpTarget(server)
    assert target.validate(ValidationRequest(b'{"resourceType": "Patient", "id": "a"}', "json")) == []
    issues = target.validate(ValidationRequest(b'{"resourceType": "Patient"}', "json"))
    assert [i.diagnostics for i in issues] == ["no id"] and issues[0].is_error
    assert _Validate.paths[-1] == "/fhir/$validate"
    assert target.unsupported(ValidationRequest(b"{}", "json", supporting=({"url": "x"},))) is not None


def test_outcome_parsing_is_tolerant() -> None:
    issues = issues_from_outcome({"issue": [{"severity": "weird", "code": "odd", "details": {"text": "t"}}]})
    assert issues[0].is_error and issues[0].diagnostics == "t"
    assert issues_from_outcome(None) == []


def test_missing_files_are_skips_not_crashes(tmp_path: Path, core_registry: CanonicalRegistry) -> None:
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {
                "test-cases": [
                    {"name": "gone", "file": "nope.json", "version": "4.0", "java": "java/x.json"},
                    {
                        "name": "pkg",
                        "file": "nope.json",
                        "version": "4.0",
                        "packages": ["hl7.fhir.us.core#3.1.0"],
                        "java": "java/x.json",
                    },
                ]
            }
        )
    )
    report = Hl7ValidatorSuite(tmp_path, definitions=core_registry).run(InProcessTarget(core_registry))
    assert [r.status for r in report.results] == [CaseStatus.SKIP, CaseStatus.SKIP]
    assert "not available offline" in report.results[1].reason


def test_case_options_follow_the_manifest() -> None:
    from conformance.suites.hl7_validator import case_options
    from profiles.validator import BundleRule, ReferencePolicy

    plain = case_options({"name": "x"})
    assert not plain.assume_valid_rest_references and plain.reference_policy is ReferencePolicy.IGNORE
    options = case_options(
        {
            "validateReference": "CHECK_EXISTS_AND_TYPE",
            "security-checks": True,
            "for-publication": "true",
            "bundle-param": {"rule": "Patient:0", "profile": "http://t/p"},
        }
    )
    assert options.reference_policy is ReferencePolicy.CHECK_EXISTS_AND_TYPE
    assert options.security_checks and options.for_publication
    assert options.bundle_rules == (BundleRule("Patient:0", "http://t/p"),)
    step = case_options({"validateReference": "nonsense"}, {"assumeValidRestReferences": True})
    assert step.assume_valid_rest_references and step.reference_policy is ReferencePolicy.IGNORE


def test_manifest_options_reach_the_validator(tmp_path: Path, core_registry: CanonicalRegistry) -> None:
    patient = {"resourceType": "Patient", "name": [{"text": "Bob <script>x()</script>"}]}
    (tmp_path / "pat.json").write_text(json.dumps(patient))
    (tmp_path / "outcomes" / "java").mkdir(parents=True)
    (tmp_path / "outcomes" / "java" / "bad.json").write_text(
        json.dumps({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "security"}]})
    )
    (tmp_path / "outcomes" / "java" / "good.json").write_text(
        json.dumps({"resourceType": "OperationOutcome"})
    )
    cases = [
        {
            "name": "strict",
            "file": "pat.json",
            "version": "4.0",
            "security-checks": True,
            "java": "java/bad.json",
        },
        {"name": "lenient", "file": "pat.json", "version": "4.0", "java": "java/good.json"},
    ]
    (tmp_path / "manifest.json").write_text(json.dumps({"test-cases": cases}))
    report = Hl7ValidatorSuite(tmp_path, definitions=core_registry).run(InProcessTarget(core_registry))
    assert [(r.name, r.status, r.actual_errors) for r in report.results] == [
        ("strict", CaseStatus.PASS, 1),
        ("lenient", CaseStatus.PASS, 0),
    ]


def test_inline_expectations(tmp_path: Path, core_registry: CanonicalRegistry) -> None:
    (tmp_path / "pat.json").write_text(json.dumps({"resourceType": "Patient", "birthDate": "1999-02-30"}))
    cases = [
        {"name": "count", "file": "pat.json", "version": "4.0", "java": {"errorCount": 1}},
        {
            "name": "outcome",
            "file": "pat.json",
            "version": "4.0",
            "java": {"outcome": {"resourceType": "OperationOutcome", "issue": [{"severity": "error"}]}},
        },
        {"name": "none", "file": "pat.json", "version": "4.0", "java": {"output": []}},
    ]
    (tmp_path / "manifest.json").write_text(json.dumps({"test-cases": cases}))
    report = Hl7ValidatorSuite(tmp_path, definitions=core_registry).run(InProcessTarget(core_registry))
    assert [(r.name, r.status) for r in report.results] == [
        ("count", CaseStatus.PASS),
        ("outcome", CaseStatus.PASS),
        ("none", CaseStatus.SKIP),
    ]
