"""Conformance: suite runners against any hub (in-process or over HTTP) and their reports.

The HL7 FHIR validator test cases (:mod:`conformance.suites`) and the FHIRPath test suite
(:mod:`conformance.fhirpath_suite`) run against a :class:`Target`; results are written as text,
JSON or JUnit XML (:mod:`conformance.report`).
"""

from conformance.fhirpath_suite import FhirPathSuite
from conformance.report import CaseResult, CaseStatus, ReportFormat, SuiteReport, render
from conformance.suites import Hl7ValidatorSuite
from conformance.targets import HttpTarget, InProcessTarget, Target, TargetRefusedError, ValidationRequest

__all__ = [
    "CaseResult",
    "CaseStatus",
    "FhirPathSuite",
    "Hl7ValidatorSuite",
    "HttpTarget",
    "InProcessTarget",
    "ReportFormat",
    "SuiteReport",
    "Target",
    "TargetRefusedError",
    "ValidationRequest",
    "render",
]
