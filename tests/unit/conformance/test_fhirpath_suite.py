"""The FHIRPath suite runner against the hub's evaluator."""

from __future__ import annotations

import pytest

from conformance.fhirpath_suite import FhirPathSuite
from conformance.report import CaseStatus
from profiles import CanonicalRegistry
from tests.conftest import testdata_path

pytestmark = pytest.mark.needs_testdata


def test_groups_run_and_pass(core_registry: CanonicalRegistry) -> None:
    suite = FhirPathSuite(testdata_path("fhir", "fhirpath"), definitions=core_registry)
    report = suite.run(only="testBooleanLogicAnd")
    assert len(report.results) == 9
    assert all(r.status is CaseStatus.PASS for r in report.results)
    comments = suite.run(only="comments")
    assert {r.status for r in comments.results} == {CaseStatus.PASS}  # includes invalid-syntax expectations
