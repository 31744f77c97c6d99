"""CDA / cross-check issues -> RegistryErrors (xds.phmr.findings); code displays (xds.phmr.code_displays)."""

from __future__ import annotations

import dataclasses

from hub.core.issues import Issue, IssueSeverity, IssueType
from hub.core.xml_safety import parse_xml
from profiles.cda import read_phmr
from tests import xds_builders as b
from tests.unit.profiles.cda.phmr_builder import build_phmr
from xds import Code, RegistryErrorSeverity, XdsErrorCode
from xds.phmr.code_displays import with_displays
from xds.phmr.findings import content_findings, metadata_findings, split


def _issue(severity: IssueSeverity, text: str, line: int | None = None, message_id: str = "R-1") -> Issue:
    return Issue(severity, IssueType.BUSINESS_RULE, text, message_id=message_id, line=line)


def test_content_findings_keep_line_and_rule() -> None:
    found = content_findings(
        "Doc1",
        [
            _issue(IssueSeverity.ERROR, "CONF-PHMR-DK-5: bad", 21, "CONF-PHMR-DK-5"),
            _issue(IssueSeverity.WARNING, "note"),
            _issue(IssueSeverity.INFORMATION, "fyi"),
        ],
    )
    assert [f.severity for f in found] == [RegistryErrorSeverity.ERROR, RegistryErrorSeverity.WARNING]
    assert found[0].code_context == "document Doc1 line 21: CONF-PHMR-DK-5: bad"
    assert found[0].rule_id == "CONF-PHMR-DK-5" and found[0].location == "Doc1"
    assert found[0].error_code is XdsErrorCode.XDS_REPOSITORY_ERROR


def test_metadata_findings_single_out_the_patient() -> None:
    found = metadata_findings(
        "Doc1",
        [
            _issue(IssueSeverity.ERROR, "patient differs", message_id="XDS-CDA-patientId"),
            _issue(IssueSeverity.ERROR, "type differs", message_id="XDS-CDA-typeCode"),
            _issue(IssueSeverity.WARNING, "title differs", message_id="XDS-CDA-title"),
        ],
    )
    assert [f.error_code for f in found] == [
        XdsErrorCode.XDS_PATIENT_ID_DOES_NOT_MATCH,
        XdsErrorCode.XDS_REGISTRY_METADATA_ERROR,
        XdsErrorCode.XDS_REGISTRY_METADATA_ERROR,
    ]
    assert found[2].severity is RegistryErrorSeverity.WARNING


def test_split_removes_repeated_texts() -> None:
    issues = [_issue(IssueSeverity.WARNING, "same")] * 20 + [_issue(IssueSeverity.ERROR, "bad")]
    errors, warnings = split(content_findings("D", issues))
    assert len(errors) == 1 and len(warnings) == 1


def test_displays_come_from_the_document_and_the_danish_profile() -> None:
    content = read_phmr(parse_xml(build_phmr(5)))
    bare = dataclasses.replace(
        b.document_entry(),
        event_codes=(Code.of("NPU03804", "1.2.208.176.2.1"), Code.of("UNKNOWN", "1.2.3")),
        healthcare_facility_type_code=Code.of("550621000005101", "2.16.840.1.113883.6.96"),
        practice_setting_code=Code.of("999999999", "2.16.840.1.113883.6.96"),
    )
    named = with_displays(bare, content)
    assert named.event_codes[0].display_text == "Legeme masse;Pt"  # the document's own displayName
    assert named.event_codes[1].display_text is None  # nothing names it: never invented
    assert named.healthcare_facility_type_code is not None
    assert named.healthcare_facility_type_code.display_text == "hjemmesygeplejeenhed"
    assert named.practice_setting_code is not None and named.practice_setting_code.display_text is None
    kept = with_displays(b.document_entry(), None)
    assert kept.practice_setting_code == b.PRACTICE  # an existing display is kept
