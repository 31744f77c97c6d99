"""DocumentReference writes through the generic FHIR store are refused by the write guard hook."""

from __future__ import annotations

import pytest

from hub.core.errors import ErrorCategory, MethodNotAllowedError
from hub.fhir import FhirService
from hub.fhir.writes import prepare
from tests.unit.xds.phmr.conftest import fhir_service
from xds.phmr import DocumentReferenceWriteGuard, refusal


def test_refusal_names_the_submission_doors() -> None:
    error = refusal()
    assert error.category is ErrorCategory.METHOD_NOT_ALLOWED
    assert "$submit-document" in error.message and "ITI-41" in error.message and "ITI-57" in error.message


def test_guard_refuses_every_document_reference_body(fhir: FhirService) -> None:
    guarded = fhir_service(fhir.settings, fhir.db)
    guarded.hooks = (DocumentReferenceWriteGuard(),)
    guarded.supported_types = guarded.supported_types | {"DocumentReference"}
    resource = {
        "resourceType": "DocumentReference",
        "status": "current",
        "content": [{"attachment": {"contentType": "text/xml"}}],
    }
    with pytest.raises(MethodNotAllowedError):
        prepare(guarded, resource, resource_id="x", expected_type="DocumentReference")
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "weight"},
    }
    assert prepare(guarded, observation, resource_id="o", expected_type="Observation").resource_id == "o"
