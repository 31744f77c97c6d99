"""``PhmrProcessor``: the document processor (xds.services.processing) for MedCom CDA documents.

It serves ITI-41 Provide and Register (IHE ITI TF-2b 3.41.4.1.3) and ``$submit-document`` alike, in the
three phases of :class:`xds.services.DocumentProcessor`:

``accepts``
    A CDA ``ClinicalDocument`` (HL7 v3 namespace) whose header names a PHMR-DK / HL7 PHMR / QRD / QFDD /
    APD templateId or document code (profiles.cda document-type detection; a byte-level peek, no parse).
    PHMR yields Observations; QRD, QFDD and APD are validated and give metadata only.

``process`` (CPU, before the transaction)
    1. :class:`profiles.cda.CdaValidator` (safe parse, XSD pack, DK PHMR rules, schematron packs): every
       error-severity issue rejects the submission, and a rejected document costs nothing more;
    2. derive the DocumentEntry from the header (DK XDS metadata profile v2.0.0 §2.3, via
       :func:`xds.cda_metadata.derive_document_entry`; facility type and practice setting from the
       submitted metadata, else this processor's configured codes);
    3. cross-check submitted metadata (:func:`xds.cda_metadata.cross_check`): a mismatch of patientId,
       uniqueId, creationTime, typeCode or formatCode rejects, reporting both values;
    4. PHMR only: extract the measurements as Observations and Devices
       (:func:`xds.phmr_observations.extract_observations`) and run ``hub.fhir`` ``prepare`` on each, so the
       FHIR checks and the search-index extraction happen here.  An Observation that fails the FHIR checks
       rejects the document; a Device that fails them is left out with a warning (real devices carry
       ``NI`` codes and "SerialNr: N/A"; no value is invented) and its Observations lose ``device``.

``persist_txn`` / ``lifecycle_txn`` (inside the submission transaction)
    :mod:`xds.phmr.measurement_writes` and :mod:`xds.phmr.lineage` (the lineage rule is written there).

The parsed tree is reused from the validator's report: each document is parsed once.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import HubError
from hub.core.issues import Issue, IssueSeverity, IssueType
from hub.core.settings import Settings
from hub.fhir import FhirService, PreparedWrite, prepare
from profiles.cda import CdaHeader, CdaReport, CdaValidator, DocumentFamily, read_header
from xds.cda_metadata import cross_check, derive_document_entry
from xds.identifiers import is_uuid_urn
from xds.model import Code, DocumentEntry
from xds.phmr.code_displays import with_displays
from xds.phmr.document_reference import patient_reference, resource_id
from xds.phmr.findings import content_findings, metadata_findings, split
from xds.phmr.lineage import retire_txn
from xds.phmr.measurement_writes import persist_measurements_txn
from xds.phmr.outcome import PhmrPayload, ProcessingRecord
from xds.phmr_observations import extract_observations
from xds.services import ProcessedDocument, SubmissionContext, SubmittedDocument

XML_MIME_TYPES = frozenset(
    {
        "text/xml",
        "application/xml",
        "application/hl7-v3+xml",
        "application/cda+xml",
        "application/octet-stream",
    }
)
_PEEK_BYTES = 64 * 1024
_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?ClinicalDocument[\s>]")
_HL7_NAMESPACE = b"urn:hl7-org:v3"
# Header markers of the document types telehub processes (profiles.cda.document_type, DANISH-STANDARDS §1.1,
# §1.6): Danish and HL7 templateIds, then the LOINC document codes.
_TEMPLATES = (
    "1.2.208.184.11.1",  # PHMR-DK
    "2.16.840.1.113883.10.20.9",  # HL7 PHMR
    "2.16.840.1.113883.3.4208.11.1",  # withdrawn pre-2016 Danish PHMR root
    "1.2.208.184.13.1",  # QRD-DK
    "2.16.840.1.113883.10.20.33",  # HL7 QRD
    "1.2.208.184.12.1",  # QFDD-DK
    "2.16.840.1.113883.10.20.32",  # HL7 QFDD
    "1.2.208.184.14.1",  # APD-DK
)
_CODES = ("53576-5", "74465-6", "74468-0", "39289-4", "39290-2", "56446-8")
_MARKER = re.compile(
    rb"""(?:root\s*=\s*["'](?:"""
    + b"|".join(re.escape(t.encode()) for t in _TEMPLATES)
    + rb""")["'])|(?:code\s*=\s*["'](?:"""
    + b"|".join(re.escape(c.encode()) for c in _CODES)
    + rb""")["'])"""
)
_BODY = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:structuredBody|nonXMLBody)[\s>]")


def looks_like_processable_cda(data: bytes) -> bool:
    """A cheap peek: a ClinicalDocument whose header names one of the processed document types."""
    head = data[:_PEEK_BYTES]
    root = _ROOT.search(head)
    if root is None or _HL7_NAMESPACE not in head:
        return False
    body = _BODY.search(head, root.end())
    return _MARKER.search(head, root.end(), body.start() if body else len(head)) is not None


class PhmrProcessor:
    """Validates MedCom CDA documents, derives their metadata and keeps PHMR measurements as FHIR data.

    One instance serves every request; :meth:`for_request` makes a copy with per-request codes and a
    :class:`ProcessingRecord` (the copy shares the compiled validator).
    """

    name = "phmr"

    def __init__(
        self,
        fhir: FhirService,
        validator: CdaValidator,
        *,
        facility_type: Code | str,
        practice_setting: Code | str,
        repository_unique_id: str | None = None,
        record: ProcessingRecord | None = None,
    ) -> None:
        self.fhir = fhir
        self.validator = validator
        self.facility_type = facility_type
        self.practice_setting = practice_setting
        self.repository_unique_id = repository_unique_id
        self.record = record

    @classmethod
    def from_settings(cls, settings: Settings, fhir: FhirService) -> PhmrProcessor:
        """The processor of a running hub: packs under ``settings.packs_dir``, XDS defaults for codes."""
        xds = settings.xds
        validator = CdaValidator(settings.packs_dir, max_bytes=xds.max_document_bytes)
        return cls(
            fhir,
            validator,
            facility_type=xds.default_healthcare_facility_type,
            practice_setting=xds.default_practice_setting,
            repository_unique_id=xds.repository_unique_id,
        )

    def for_request(
        self, *, facility_type: Code | None = None, practice_setting: Code | None = None
    ) -> PhmrProcessor:
        """A copy for one request: its own codes (when given) and a fresh :class:`ProcessingRecord`."""
        return PhmrProcessor(
            self.fhir,
            self.validator,
            facility_type=facility_type or self.facility_type,
            practice_setting=practice_setting or self.practice_setting,
            repository_unique_id=self.repository_unique_id,
            record=ProcessingRecord(),
        )

    # ------------------------------------------------------------------ phase 1: accepts / process

    def accepts(self, document: SubmittedDocument) -> bool:
        mime = document.mime_type.split(";", 1)[0].strip().lower()
        return mime in XML_MIME_TYPES and looks_like_processable_cda(document.data)

    def process(self, document: SubmittedDocument) -> ProcessedDocument:
        doc_id = document.document_id
        try:
            report = self.validator.validate(document.data)
        except HubError as exc:  # malformed, hostile (DTD, entities, depth, size) or not a CDA document
            issues = [
                i if i.is_error else dataclasses.replace(i, severity=IssueSeverity.ERROR) for i in exc.issues
            ]
            return self._rejected(doc_id, issues)
        issues = list(report.issues)
        if not report.is_valid:
            return self._rejected(doc_id, issues)  # no derivation or extraction for a rejected document
        header = read_header(report.root)
        submitted = document.entry
        derived = derive_document_entry(
            report.root,
            document.data,
            facility_type=(submitted and submitted.healthcare_facility_type_code) or self.facility_type,
            practice_setting=(submitted and submitted.practice_setting_code) or self.practice_setting,
            repository_unique_id=self.repository_unique_id,
            detected=report.detected,
            header=header,
        )
        derived = with_displays(derived, report.phmr)
        checks = cross_check(derived, submitted) if submitted is not None else []
        findings = [*content_findings(doc_id, issues), *metadata_findings(doc_id, checks)]
        issues.extend(checks)
        payload: PhmrPayload | None = None
        if report.document_type.family is DocumentFamily.PHMR and not any(c.is_error for c in checks):
            payload, more = self._measurements(report, header, derived, submitted)
            issues.extend(more)
            findings.extend(content_findings(doc_id, more))
        self._note(issues, derived)
        errors, warnings = split(findings)
        return ProcessedDocument(errors, warnings, derived, payload if not errors else None)

    def _rejected(self, doc_id: str, issues: list[Issue]) -> ProcessedDocument:
        self._note(issues, None)
        errors, warnings = split(content_findings(doc_id, issues))
        return ProcessedDocument(errors, warnings, None)

    def _note(self, issues: list[Issue], entry: DocumentEntry | None) -> None:
        if self.record is not None:
            self.record.issues.extend(issues)
            self.record.entry = entry

    def _measurements(
        self, report: CdaReport, header: CdaHeader, derived: DocumentEntry, submitted: DocumentEntry | None
    ) -> tuple[PhmrPayload, list[Issue]]:
        """Observations and Devices of the document, extracted and prepared (FHIR checks + index)."""
        unique_id = derived.unique_id or ""
        # derivedFrom must name the final DocumentReference: known now when the submitter gave a UUID
        # entryUUID (kept by the registry), provisional otherwise (retargeted in the transaction)
        known = submitted is not None and is_uuid_urn(submitted.entry_uuid)
        reference_id = resource_id(submitted.entry_uuid if known and submitted else derived.entry_uuid)
        patient = derived.patient_id
        subject = patient_reference(patient) if patient is not None else {"type": "Patient"}
        extraction = extract_observations(
            report.root,
            document_reference_id=reference_id,
            uniqueid=unique_id,
            patient_reference=subject,
            content=report.phmr,
            header=header,
        )
        issues = list(extraction.issues)
        devices, dropped = self._prepare_all(extraction.devices, "Device", issues, IssueSeverity.WARNING)
        observations = [
            _without_device(o) if o.get("device", {}).get("reference") in dropped else o
            for o in extraction.observations
        ]
        prepared, _ = self._prepare_all(observations, "Observation", issues, IssueSeverity.ERROR)
        payload = PhmrPayload(unique_id, patient, reference_id, tuple(prepared), tuple(devices))
        return payload, issues

    def _prepare_all(
        self,
        resources: Sequence[dict[str, Any]],
        resource_type: str,
        issues: list[Issue],
        severity: IssueSeverity,
    ) -> tuple[list[PreparedWrite], set[str]]:
        """``prepare`` each resource; failures become issues of ``severity`` (returns the failed refs)."""
        prepared: list[PreparedWrite] = []
        failed: set[str] = set()
        seen: set[str] = set()
        for resource in resources:
            rid = str(resource["id"])
            if rid in seen:  # two entries with one id: the first is kept, the ids must stay unique
                issues.append(
                    Issue(
                        IssueSeverity.WARNING,
                        IssueType.DUPLICATE,
                        f"{resource_type}/{rid}: a second measurement with the same entry id was left out",
                        message_id="TH-PHMR-DUPLICATE-ENTRY",
                    )
                )
                continue
            seen.add(rid)
            try:
                ready = prepare(
                    self.fhir, resource, resource_id=rid, expected_type=resource_type, derived=True
                )
            except HubError as exc:
                failed.add(f"{resource_type}/{rid}")
                issues.extend(_demoted(exc.issues, f"{resource_type}/{rid} was not kept", severity))
                continue
            prepared.append(ready)
            issues.extend(ready.warnings)
        return prepared, failed

    # ------------------------------------------------------------------ phases 2 and 3: transactions

    async def persist_txn(
        self,
        conn: AsyncConnection,
        processed: ProcessedDocument,
        entry: DocumentEntry,
        ctx: SubmissionContext,
    ) -> None:
        payload = processed.payload
        if not isinstance(payload, PhmrPayload):
            return  # QRD / QFDD / APD: metadata only
        results = await persist_measurements_txn(conn, self.fhir, payload, entry, ctx)
        if self.record is not None:
            self.record.entry = entry
            self.record.results.extend(results)

    async def lifecycle_txn(
        self,
        conn: AsyncConnection,
        deprecated: Sequence[DocumentEntry],
        replaced_by: Mapping[str, DocumentEntry],
    ) -> None:
        await retire_txn(conn, self.fhir, deprecated, replaced_by)


def _without_device(observation: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in observation.items() if k != "device"}


def _demoted(issues: Sequence[Issue], prefix: str, severity: IssueSeverity) -> list[Issue]:
    """Issues of a failed ``prepare`` re-labelled: errors become ``severity``, text says what was lost."""
    out = []
    for issue in issues:
        level = severity if issue.is_error else issue.severity
        code = issue.code if issue.code is not IssueType.INVALID else IssueType.PROCESSING
        out.append(
            dataclasses.replace(
                issue, severity=level, code=code, diagnostics=f"{prefix}: {issue.diagnostics}"
            )
        )
    return out


__all__ = ["XML_MIME_TYPES", "PhmrProcessor", "looks_like_processable_cda"]
