"""``CdaValidator``: the one CDA validation service (issue 4, "Safe parsing and CDA schema").

Order: safe parse (``hub.core.xml_safety``) -> document type detection -> XSD against the installed
``cda-r2`` pack (or a warning that it was not performed) -> the DK PHMR rules for PHMR documents -> every
installed schematron pack that applies to the document family.  All findings are collected; nothing
stops at the first error.  Malformed or unsafe XML is not a report but an ``InvalidInputError`` /
``UnsafeXmlError`` carrying the line, because there is no document to report on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from hub.core.errors import InvalidInputError
from hub.core.issues import Issue, IssueSeverity, has_errors
from hub.core.xml_safety import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, parse_xml
from profiles.cda.document_type import (
    CLINICAL_DOCUMENT,
    CdaDocumentType,
    DetectedDocument,
    DocumentFamily,
    detect_document_type,
)
from profiles.cda.packs import InstalledPack, schematron_packs
from profiles.cda.phmr_content import PhmrContent, read_phmr
from profiles.cda.phmr_rules import run_phmr_rules
from profiles.cda.schema_pack import CdaSchema
from profiles.cda.schematron_pack import run_schematron

_SEVERITY_ORDER = {
    IssueSeverity.FATAL: 0,
    IssueSeverity.ERROR: 1,
    IssueSeverity.WARNING: 2,
    IssueSeverity.INFORMATION: 3,
}


@dataclass(frozen=True, slots=True, eq=False)
class CdaReport:
    """Outcome of :meth:`CdaValidator.validate`; ``root`` is the parsed tree, for metadata and extraction."""

    document_type: CdaDocumentType
    detected: DetectedDocument
    issues: tuple[Issue, ...]
    root: etree._Element
    raw: bytes
    schema_validated: bool
    schematrons: tuple[str, ...] = ()
    phmr: PhmrContent | None = field(default=None)

    @property
    def is_valid(self) -> bool:
        """No error or fatal issue (warnings do not make a document invalid)."""
        return not has_errors(self.issues)

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(issue for issue in self.issues if issue.is_error)


class CdaValidator:
    """Validates CDA documents against the packs installed under ``packs_dir``.

    The installed packs are looked up once, at construction; build a new validator after installing packs.
    Compiled XSDs and schematrons are cached per process, so constructing validators is cheap.
    """

    def __init__(
        self,
        packs_dir: Path,
        *,
        run_schematrons: bool = True,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        self._schema = CdaSchema(packs_dir)
        self._schematrons: tuple[InstalledPack, ...] = (
            tuple(schematron_packs(packs_dir)) if run_schematrons else ()
        )
        self._max_bytes = max_bytes
        self._max_depth = max_depth

    @property
    def schema_installed(self) -> bool:
        return self._schema.installed

    @property
    def schematron_names(self) -> tuple[str, ...]:
        return tuple(pack.name for pack in self._schematrons)

    def validate(self, data: bytes) -> CdaReport:
        """Parse and validate one CDA document; raises only when the bytes are not a safe CDA XML document."""
        root = parse_xml(data, max_bytes=self._max_bytes, max_depth=self._max_depth)
        if root.tag != CLINICAL_DOCUMENT:
            raise InvalidInputError(
                f"not an HL7 CDA document: the root element is {root.tag!r}, expected {CLINICAL_DOCUMENT!r}",
                message_id="CDA-NOT-CLINICAL-DOCUMENT",
            )
        return self.validate_tree(root, data)

    def validate_tree(self, root: etree._Element, raw: bytes) -> CdaReport:
        """Validate an already safely parsed ``ClinicalDocument`` (``raw`` are the bytes it came from)."""
        detected = detect_document_type(root)
        issues = list(self._schema.validate(root))
        content: PhmrContent | None = None
        if detected.document_type.family is DocumentFamily.PHMR:
            content = read_phmr(root)
            issues.extend(run_phmr_rules(root, raw, detected=detected, content=content))
        applied: list[str] = []
        for pack in self._schematrons:
            if pack.applies(detected.document_type.family):
                issues.extend(run_schematron(pack, root))
                applied.append(pack.name)
        # most severe first, then in document order, so the first lines of a report are the ones to fix
        issues.sort(key=lambda issue: (_SEVERITY_ORDER[issue.severity], issue.line or 0))
        return CdaReport(
            document_type=detected.document_type,
            detected=detected,
            issues=tuple(issues),
            root=root,
            raw=raw,
            schema_validated=self._schema.installed,
            schematrons=tuple(applied),
            phmr=content,
        )


__all__ = ["CdaReport", "CdaValidator"]
