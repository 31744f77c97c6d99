"""PhmrProcessor: accepts / process (validate, derive, cross-check, extract + prepare) on real documents."""

from __future__ import annotations

import dataclasses

import pytest
from lxml import etree

from hub.core.issues import IssueSeverity
from tests.conftest import testdata_path
from tests.unit.profiles.cda.phmr_builder import build_phmr, first, mutate
from xds import CX, Code, XdsErrorCode
from xds.phmr import PhmrPayload, PhmrProcessor, looks_like_processable_cda
from xds.services import SubmittedDocument

CPR = "2512484916"
FUT_PHMR = ("dk", "fut", "decoded-examples", "POST_transform-to-PHMR.response.PHMR.xml")
MEDCOM = ("dk", "medcom-cda", "test", "resources")
_PHMR_OPEN = b'<ClinicalDocument xmlns="urn:hl7-org:v3"><templateId root="1.2.208.184.11.1"/>'


def _submitted(data: bytes, entry: object = None, mime: str = "text/xml") -> SubmittedDocument:
    return SubmittedDocument("Document01", mime, data, entry)  # type: ignore[arg-type]


def test_accepts_phmr_and_the_other_medcom_types(processor: PhmrProcessor) -> None:
    assert processor.accepts(_submitted(build_phmr(2)))
    assert processor.accepts(_submitted(build_phmr(2), mime="application/xml; charset=utf-8"))
    qrd = testdata_path(*MEDCOM, "QRD", "QRD.sample.xml").read_bytes()
    apd = testdata_path(*MEDCOM, "Appointment", "DK-APD_Example_1.xml").read_bytes()
    assert processor.accepts(_submitted(qrd)) and processor.accepts(_submitted(apd))


@pytest.mark.parametrize(
    "data",
    [
        # no known template
        b'<ClinicalDocument xmlns="urn:hl7-org:v3"><id root="1.2.3"/></ClinicalDocument>',
        b"<Patient xmlns='http://hl7.org/fhir'/>",
        b'{"resourceType": "Binary"}',
        b"",
        b"\x00\x01binary",
        # a PHMR template only inside the body is not a PHMR header
        b'<ClinicalDocument xmlns="urn:hl7-org:v3"><component><structuredBody>'
        b'<templateId root="1.2.208.184.11.1"/></structuredBody></component></ClinicalDocument>',
    ],
)
def test_does_not_accept_other_documents(processor: PhmrProcessor, data: bytes) -> None:
    assert not looks_like_processable_cda(data)
    assert not processor.accepts(_submitted(data))


def test_does_not_accept_non_xml_mime_types(processor: PhmrProcessor) -> None:
    assert not processor.accepts(_submitted(build_phmr(2), mime="application/pdf"))


def test_a_valid_phmr_gives_entry_and_prepared_observations(processor: PhmrProcessor) -> None:
    document = build_phmr(20)
    processed = processor.process(_submitted(document))
    assert processed.errors == ()
    entry = processed.derived_entry
    assert entry is not None
    assert entry.patient_id == CX(CPR, "1.2.208.176.1.2")
    assert entry.format_code is not None and entry.format_code.code == "urn:ad:dk:medcom:phmr-v1.3:full"
    assert entry.size == len(document)
    # configured codes get the Danish profile's display; event codes the document's own displayName
    assert entry.healthcare_facility_type_code is not None
    assert entry.healthcare_facility_type_code.display_text == "hjemmesygeplejeenhed"
    assert all(c.display_text for c in entry.event_codes)
    payload = processed.payload
    assert isinstance(payload, PhmrPayload)
    assert len(payload.observations) == 20 and len(payload.devices) == 1
    assert payload.unique_id == entry.unique_id
    first_obs = payload.observations[0]
    assert first_obs.patient_key == CPR  # keyed by the CPR identifier of the subject
    assert first_obs.body["subject"]["identifier"] == {"system": "urn:oid:1.2.208.176.1.2", "value": CPR}
    assert first_obs.body["derivedFrom"] == [{"reference": f"DocumentReference/{payload.reference_id}"}]
    assert first_obs.index, "index rows are extracted before the transaction"
    assert {w.rule_id for w in processed.warnings} == {"CDA-XSD-NOT-PERFORMED"}


def test_real_fut_phmr_is_processed(processor: PhmrProcessor) -> None:
    processed = processor.process(_submitted(testdata_path(*FUT_PHMR).read_bytes()))
    assert processed.errors == ()
    assert isinstance(processed.payload, PhmrPayload)
    assert len(processed.payload.observations) == 2


def test_a_uuid_entry_id_is_used_for_derived_from(processor: PhmrProcessor) -> None:
    document = build_phmr(2)
    derived = processor.process(_submitted(document)).derived_entry
    assert derived is not None
    submitted = dataclasses.replace(derived, entry_uuid="urn:uuid:0f2b6a1c-6a55-4f59-9b0e-1d2c3b4a5e6f")
    payload = processor.process(_submitted(document, submitted)).payload
    assert isinstance(payload, PhmrPayload)
    assert payload.reference_id == "0f2b6a1c-6a55-4f59-9b0e-1d2c3b4a5e6f"


def test_a_broken_phmr_is_rejected_with_lines_and_no_further_work(processor: PhmrProcessor) -> None:
    broken = mutate(
        build_phmr(3), lambda root: first(root, "h:recordTarget/h:patientRole/h:id").set("root", "9.9")
    )
    mine = processor.for_request()
    processed = mine.process(_submitted(broken))
    assert processed.errors and processed.payload is None and processed.derived_entry is None
    patient_error = next(e for e in processed.errors if e.rule_id == "CONF-PHMR-DK-5")
    assert patient_error.error_code is XdsErrorCode.XDS_REPOSITORY_ERROR
    assert " line " in patient_error.code_context and patient_error.location == "Document01"
    assert mine.record is not None
    assert any(i.line for i in mine.record.issues if i.is_error)


@pytest.mark.parametrize(
    "hostile",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        + _PHMR_OPEN
        + b"&b;</ClinicalDocument>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        + _PHMR_OPEN
        + b"&xxe;</ClinicalDocument>",
        _PHMR_OPEN + b"<unclosed>",
    ],
)
def test_hostile_or_malformed_xml_is_an_error_not_an_exception(
    processor: PhmrProcessor, hostile: bytes
) -> None:
    document = _submitted(hostile)
    assert processor.accepts(document)
    processed = processor.process(document)
    assert processed.errors and processed.derived_entry is None and processed.payload is None
    assert all(e.error_code is XdsErrorCode.XDS_REPOSITORY_ERROR for e in processed.errors)


def test_metadata_mismatch_reports_both_values(processor: PhmrProcessor) -> None:
    document = build_phmr(2)
    derived = processor.process(_submitted(document)).derived_entry
    assert derived is not None
    submitted = dataclasses.replace(
        derived,
        patient_id=CX("0101010101", "1.2.208.176.1.2"),
        type_code=Code.of("11502-2", "2.16.840.1.113883.6.1", "Laboratory report"),
    )
    processed = processor.process(_submitted(document, submitted))
    codes = {e.error_code for e in processed.errors}
    assert codes == {XdsErrorCode.XDS_PATIENT_ID_DOES_NOT_MATCH, XdsErrorCode.XDS_REGISTRY_METADATA_ERROR}
    patient = next(e for e in processed.errors if e.error_code is XdsErrorCode.XDS_PATIENT_ID_DOES_NOT_MATCH)
    assert "0101010101" in patient.code_context and CPR in patient.code_context
    assert processed.payload is None  # nothing extracted for a rejected submission


def test_submitted_codes_win_over_configured_ones(processor: PhmrProcessor) -> None:
    document = build_phmr(1)
    derived = processor.process(_submitted(document)).derived_entry
    assert derived is not None
    practice = Code.of("394579002", "2.16.840.1.113883.6.96", "kardiologi")
    submitted = dataclasses.replace(derived, practice_setting_code=practice)
    again = processor.process(_submitted(document, submitted)).derived_entry
    assert again is not None and again.practice_setting_code == practice


def test_per_request_copy_has_its_own_codes_and_record(processor: PhmrProcessor) -> None:
    practice = Code.of("418112009", "2.16.840.1.113883.6.96", "lungesygdomme")
    mine = processor.for_request(practice_setting=practice)
    assert mine.validator is processor.validator and mine.record is not None and processor.record is None
    entry = mine.process(_submitted(build_phmr(1))).derived_entry
    assert entry is not None and entry.practice_setting_code == practice
    assert mine.record.entry == entry
    assert any(i.severity is IssueSeverity.WARNING for i in mine.record.issues)


def test_qrd_gives_metadata_only(processor: PhmrProcessor) -> None:
    qrd = testdata_path(*MEDCOM, "QRD", "QRD.sample.xml").read_bytes()
    processed = processor.process(_submitted(qrd))
    assert processed.errors == ()
    assert processed.derived_entry is not None and processed.payload is None
    assert processed.derived_entry.format_code is not None
    assert processed.derived_entry.format_code.code.startswith("urn:ad:dk:medcom:qrd")


def test_a_measurement_without_value_rejects_the_document(processor: PhmrProcessor) -> None:
    def drop_value(root: etree._Element) -> None:
        value = first(root, "//h:observation/h:value")
        value.getparent().remove(value)  # type: ignore[union-attr]

    processed = processor.process(_submitted(mutate(build_phmr(3), drop_value)))
    assert [e.rule_id for e in processed.errors] == ["TH-PHMR-MEAS-6"]
    assert processed.payload is None
