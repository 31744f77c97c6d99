"""What the PHMR pipeline found, as XDS RegistryErrors (ITI TF-3 4.2.4.1, Table 4.2.4.1-2).

The XDS error-code table has no code for "the document content breaks its profile", so CDA findings (XSD,
DK PHMR rules with their rule ids, schematrons) and FHIR checks of the derived Observations use the generic
``XDSRepositoryError``; a header that disagrees with submitted metadata is ``XDSRegistryMetadataError``, or
``XDSPatientIdDoesNotMatch`` for the patient (ITI TF-2b 3.41.4.1.3: the repository/registry "shall reject"
inconsistent metadata).  The source line of a CDA finding is kept in ``codeContext`` so an ITI-41 sender
sees it too; the FHIR door shows the original :class:`hub.core.issues.Issue` values with their lines.
"""

from __future__ import annotations

from collections.abc import Iterable

from hub.core.issues import Issue, IssueSeverity
from xds.errors import RegistryError, RegistryErrorSeverity, XdsErrorCode

_PATIENT_CHECK = "XDS-CDA-patientId"


def _severity(issue: Issue) -> RegistryErrorSeverity:
    return RegistryErrorSeverity.ERROR if issue.is_error else RegistryErrorSeverity.WARNING


def _context(document_id: str, issue: Issue) -> str:
    where = f" line {issue.line}" if issue.line is not None else ""
    return f"document {document_id}{where}: {issue.diagnostics}"


def content_findings(document_id: str, issues: Iterable[Issue]) -> list[RegistryError]:
    """CDA validation / extraction / FHIR-check issues (information issues are left out)."""
    return [
        RegistryError(
            XdsErrorCode.XDS_REPOSITORY_ERROR,
            _context(document_id, issue),
            document_id,
            _severity(issue),
            issue.message_id,
        )
        for issue in issues
        if issue.severity is not IssueSeverity.INFORMATION
    ]


def metadata_findings(document_id: str, issues: Iterable[Issue]) -> list[RegistryError]:
    """Cross-check issues of :func:`xds.cda_metadata.cross_check` (both values are in the text)."""
    return [
        RegistryError(
            XdsErrorCode.XDS_PATIENT_ID_DOES_NOT_MATCH
            if issue.message_id == _PATIENT_CHECK and issue.is_error
            else XdsErrorCode.XDS_REGISTRY_METADATA_ERROR,
            f"document {document_id}: {issue.diagnostics}",
            document_id,
            _severity(issue),
            issue.message_id,
        )
        for issue in issues
    ]


def split(findings: Iterable[RegistryError]) -> tuple[tuple[RegistryError, ...], tuple[RegistryError, ...]]:
    """(errors, warnings), each without repeated texts (20 Observations often share one warning)."""
    seen: set[tuple[str, str]] = set()
    errors: list[RegistryError] = []
    warnings: list[RegistryError] = []
    for finding in findings:
        key = (finding.error_code.value, finding.code_context)
        if key in seen:
            continue
        seen.add(key)
        (errors if finding.is_error else warnings).append(finding)
    return tuple(errors), tuple(warnings)


__all__ = ["content_findings", "metadata_findings", "split"]
