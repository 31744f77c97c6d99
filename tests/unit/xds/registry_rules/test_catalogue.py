"""The rule catalogue: unique ids, every rule cites its spec, findings carry the rule id."""

from __future__ import annotations

from xds.errors import RegistryErrorSeverity, XdsErrorCode
from xds.registry_rules import RULES
from xds.registry_rules.catalogue import SAME_PATIENT


def test_rule_ids_are_unique_and_documented() -> None:
    assert len(RULES) >= 30
    assert len({r.id for r in RULES}) == len(RULES)
    assert all(r.summary and r.spec for r in RULES)


def test_catalogue_covers_the_issue_error_codes() -> None:
    codes = {r.error_code for r in RULES}
    for code in (
        XdsErrorCode.XDS_REGISTRY_METADATA_ERROR,
        XdsErrorCode.XDS_PATIENT_ID_DOES_NOT_MATCH,
        XdsErrorCode.XDS_REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE,
        XdsErrorCode.XDS_DUPLICATE_UNIQUE_ID_IN_REGISTRY,
        XdsErrorCode.XDS_NON_IDENTICAL_HASH,
        XdsErrorCode.XDS_NON_IDENTICAL_SIZE,
        XdsErrorCode.XDS_REPOSITORY_METADATA_ERROR,
        XdsErrorCode.XDS_MISSING_DOCUMENT,
        XdsErrorCode.XDS_MISSING_DOCUMENT_METADATA,
        XdsErrorCode.XDS_UNKNOWN_PATIENT_ID,
        XdsErrorCode.XDS_REPLACE_FAILED,
        XdsErrorCode.XDS_METADATA_VERSION_ERROR,
    ):
        assert code in codes, code


def test_finding_shape() -> None:
    finding = SAME_PATIENT.finding("differs", "Doc1", RegistryErrorSeverity.WARNING)
    assert finding.code_context == "[XDS-PAT-01] differs"
    assert finding.location == "Doc1" and finding.rule_id == "XDS-PAT-01"
    assert not finding.is_error
    issue = finding.to_issue()
    assert issue.message_id == "XDS-PAT-01" and issue.location == ("Doc1",)
    assert SAME_PATIENT.finding("x", "").location is None
