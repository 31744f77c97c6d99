"""Danish metadata profile checks with configurable strictness (DANISH-STANDARDS.md §2.3)."""

from __future__ import annotations

import dataclasses
from typing import Any

from hub.core.settings import Strictness, XdsSettings
from xds.errors import RegistryErrorSeverity
from xds.hl7v2 import CX
from xds.model import Author, Code, RegistryObjectList
from xds.registry_rules import RuleOptions
from xds.registry_rules.danish import check_danish_profile


def _findings(
    dk_objects: RegistryObjectList, strictness: Strictness = Strictness.ERROR, **changes: Any
) -> list[str]:
    entry = dataclasses.replace(dk_objects.document_entries[0], **changes)
    objects = dataclasses.replace(dk_objects, document_entries=(entry,))
    return [f.code_context for f in check_danish_profile(objects, strictness)]


def test_danish_sample_conforms(dk_objects: RegistryObjectList) -> None:
    assert check_danish_profile(dk_objects, Strictness.ERROR) == []


def test_value_sets(dk_objects: RegistryObjectList) -> None:
    findings = _findings(
        dk_objects,
        class_code=Code.of("HEALTH", "1.3.6.1.4.1.19376.1.2.6.1", "x"),
        type_code=Code.of("11369-6", "2.16.840.1.113883.6.1", "x"),
        format_code=Code.of("urn:ihe:rad:TEXT", "1.3.6.1.4.1.19376.1.2.3", "x"),
        healthcare_facility_type_code=Code.of("Practice-C", "1.3.6.1.4.1.21367.2017.3", "x"),
        practice_setting_code=Code.of("22232008", "2.16.840.1.113883.6.96", "x"),
        confidentiality_codes=(
            Code.of("R", "2.16.840.1.113883.5.25", "Restricted"),
            Code.of("N", "2.16.840.1.113883.5.25", "N"),
        ),
        language_code="en-US",
        mime_type="application/pdf",
    )
    for fragment in (
        "classCode HEALTH",
        "typeCode 11369-6",
        "formatCode urn:ihe:rad:TEXT",
        "healthcareFacilityTypeCode Practice-C",
        "practiceSettingCode 22232008",
        "exactly one confidentialityCode",
        "confidentialityCode R",
        "languageCode 'en-US'",
        "mimeType 'application/pdf'",
    ):
        assert any(fragment in f for f in findings), fragment
    assert len(findings) == 9


def test_danish_required_attributes(dk_objects: RegistryObjectList) -> None:
    findings = _findings(dk_objects, title=None, source_patient_info=(), authors=(Author(person="^X^Y"),))
    assert sorted(findings) == [
        "[DK-XDS-02] author.authorInstitution is required",
        "[DK-XDS-02] sourcePatientInfo is required",
        "[DK-XDS-02] title is required",
    ]


def test_identifiers_and_time_precision(dk_objects: RegistryObjectList) -> None:
    findings = _findings(
        dk_objects,
        patient_id=CX("12345", "1.2.208.176.1.2"),
        source_patient_id=CX("2512489996", "1.3.6"),
        authors=(Author(institutions=("Clinic^^^^^&1.2.3&ISO^^^^abc", "^^bad")),),
        creation_time="20240312",
    )
    for fragment in (
        "patientId '12345' is not a CPR number",
        "sourcePatientId 2512489996^^^&1.3.6&ISO is not assigned by CPR",
        "XON.6.2 must be the SOR OID",
        "XON.10 must hold the SOR code",
        "XON.1 (organization name) is empty",
        "creationTime '20240312' is not given to the second",
    ):
        assert any(fragment in f for f in findings), fragment


def test_submission_set_and_folder_patients(dk_objects: RegistryObjectList) -> None:
    foreign = CX("IHEBLUE-1", "1.3.6.1.4.1.21367.13.20.3000")
    ss = dataclasses.replace(dk_objects.submission_sets[0], patient_id=foreign, authors=())
    folder = dataclasses.replace(dk_objects.folders[0], patient_id=foreign)
    findings = check_danish_profile(
        dataclasses.replace(dk_objects, submission_sets=(ss,), folders=(folder,)), Strictness.ERROR
    )
    assert len(findings) == 3
    assert any("SubmissionSet author.authorInstitution" in f.code_context for f in findings)


def test_warning_strictness_reports_without_failing(dk_objects: RegistryObjectList) -> None:
    objects = dataclasses.replace(
        dk_objects,
        document_entries=(dataclasses.replace(dk_objects.document_entries[0], language_code="en"),),
    )
    (finding,) = check_danish_profile(objects, Strictness.WARNING)
    assert finding.severity is RegistryErrorSeverity.WARNING and not finding.is_error


def test_options_from_settings() -> None:
    options = RuleOptions.from_settings(XdsSettings(danish_profile_strictness=Strictness.WARNING))
    assert options.danish_strictness is Strictness.WARNING
    assert options.repository_unique_id == XdsSettings().repository_unique_id
