"""CDA validation: document-type detection, CDA R2 XSD packs, the DK PHMR rules and ISO schematron packs.

Entry point is :class:`CdaValidator` (``validate(bytes) -> CdaReport``).  The PHMR content reader, the
HL7 TS helpers and the OID/code vocabulary are public because ``xds`` derives XDS metadata and FHIR
Observations from the same parsed document.  Packs are installed by the operator at run time with
:func:`install_pack` (``telehub packs install``) under ``Settings.packs_dir``.
"""

from __future__ import annotations

from pathlib import Path

from hub.core.errors import InvalidInputError
from profiles.cda.cda_header import CdaHeader, InstanceId, Organization, Participant, PersonName, read_header
from profiles.cda.document_type import CdaDocumentType, DetectedDocument, DocumentFamily, detect_document_type
from profiles.cda.locations import element_path
from profiles.cda.packs import InstalledPack, PackKind, list_packs
from profiles.cda.phmr_content import (
    Bound,
    CodedValue,
    DeviceInfo,
    Measurement,
    PhmrContent,
    ThresholdRange,
    read_phmr,
)
from profiles.cda.phmr_rules import PHMR_RULES, PhmrRule, run_phmr_rules
from profiles.cda.schema_pack import NO_PACK_MESSAGE, install_cda_pack
from profiles.cda.schematron_pack import install_schematron_pack
from profiles.cda.timestamps import Hl7Timestamp, parse_ts
from profiles.cda.ucum import UcumProblem, check_ucum
from profiles.cda.validator import CdaReport, CdaValidator
from profiles.cda.vocabulary import (
    CONTEXT_DISPLAYS,
    HL7_NS,
    NAMESPACES,
    MeasurementCodeSystem,
    MeasurementStatus,
    Oid,
    PerformerContext,
    PhmrSection,
    ProvisionContext,
    TemplateId,
    ThresholdCode,
    hl7_tag,
)


def install_pack(
    kind: PackKind | str,
    path: Path,
    packs_dir: Path,
    name: str | None = None,
    *,
    applies_to: tuple[DocumentFamily, ...] = (),
) -> InstalledPack:
    """Install a ``cda-r2`` pack (folder or zip; no name) or a named ``schematron`` pack."""
    try:
        pack_kind = PackKind(kind)
    except ValueError as exc:
        kinds = ", ".join(k.value for k in PackKind)
        raise InvalidInputError(f"unknown pack kind {kind!r}; expected one of {kinds}") from exc
    if pack_kind is PackKind.CDA_R2:
        if name is not None:
            raise InvalidInputError("a cda-r2 pack has no name: use 'packs install cda-r2 PATH'")
        if applies_to:
            raise InvalidInputError("--applies-to is for schematron packs only")
        return install_cda_pack(path, packs_dir)
    if not name:
        raise InvalidInputError("a schematron pack needs a name: 'packs install schematron NAME PATH'")
    return install_schematron_pack(name, path, packs_dir, applies_to=applies_to)


__all__ = [
    "CONTEXT_DISPLAYS",
    "HL7_NS",
    "NAMESPACES",
    "NO_PACK_MESSAGE",
    "PHMR_RULES",
    "Bound",
    "CdaDocumentType",
    "CdaHeader",
    "CdaReport",
    "CdaValidator",
    "CodedValue",
    "DetectedDocument",
    "DeviceInfo",
    "DocumentFamily",
    "Hl7Timestamp",
    "InstalledPack",
    "InstanceId",
    "Measurement",
    "MeasurementCodeSystem",
    "MeasurementStatus",
    "Oid",
    "Organization",
    "PackKind",
    "Participant",
    "PerformerContext",
    "PersonName",
    "PhmrContent",
    "PhmrRule",
    "PhmrSection",
    "ProvisionContext",
    "TemplateId",
    "ThresholdCode",
    "ThresholdRange",
    "UcumProblem",
    "check_ucum",
    "detect_document_type",
    "element_path",
    "hl7_tag",
    "install_pack",
    "list_packs",
    "parse_ts",
    "read_header",
    "read_phmr",
    "run_phmr_rules",
]
