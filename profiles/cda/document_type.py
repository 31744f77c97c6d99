"""Which CDA profile a ClinicalDocument claims: PHMR-DK 1.3 / 2.x, QRD, QFDD, APD or another CDA document.

Detection works on the header only (HL7 CDA R2 §4.2.1 ``templateId``/``code``), in this order:

1. Danish document templateIds: PHMR-DK ``1.2.208.184.11.1``, QRD ``1.2.208.184.13.1``, QFDD
   ``1.2.208.184.12.1``, APD ``1.2.208.184.14.1`` (MedCom profiles; DANISH-STANDARDS §1.1, §1.6).
2. Otherwise the international templates / LOINC document codes: HL7 PHMR ``2.16.840.1.113883.10.20.9``,
   the pre-2016 Danish root ``2.16.840.1.113883.3.4208.11.1`` or code 53576-5 -> :attr:`PHMR_OTHER`
   (a PHMR that is not PHMR-DK; the DK rules still run and report the missing Danish templateId);
   HL7 QRD ``2.16.840.1.113883.10.20.33`` / 74465-6, QFDD ``2.16.840.1.113883.10.20.32`` / 74468-0,
   appointment codes 39289-4 / 39290-2 / 56446-8.
3. Anything else is :attr:`UNKNOWN_CDA`.

PHMR-DK version rule (the PHMR-DK 2.1 specification itself was not available, so the rule is explicit):

a. the profile-version marker ``documentationOf/serviceEvent[templateId/@root='1.2.208.184.200.1.10']``
   with ``id[@root='1.2.208.184.100.3']/@extension`` such as ``phmr-v1.3`` decides when present;
b. else a title of exactly "Hjemmemålinger" (required by PHMR-DK 2.1 per a third-party 2.1 schematron)
   means 2.1;
c. else 1.3, the release every known sender uses.

The marker's extension (``phmr-v1.3``, ``qrd-v1.3`` ...) is kept as :attr:`DetectedDocument.profile_id`;
``urn:ad:dk:medcom:<profile_id>:full`` is the formatCode (DK code system ``1.2.208.184.100.10``).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from lxml import etree

from profiles.cda.vocabulary import HL7_NS, NAMESPACES, DocumentCode, Oid, TemplateId


class DocumentFamily(enum.Enum):
    """Profile family, used to choose rule sets and schematron packs."""

    PHMR = "phmr"
    QRD = "qrd"
    QFDD = "qfdd"
    APD = "apd"
    OTHER = "cda"


class CdaDocumentType(enum.Enum):
    """The document profile detected from the CDA header."""

    PHMR_DK_V1_3 = "phmr-dk-1.3"
    PHMR_DK_V2_1 = "phmr-dk-2.1"
    PHMR_OTHER = "phmr"
    QRD = "qrd"
    QFDD = "qfdd"
    APD = "apd"
    UNKNOWN_CDA = "cda"

    @property
    def family(self) -> DocumentFamily:
        return _FAMILY[self]


_FAMILY = {
    CdaDocumentType.PHMR_DK_V1_3: DocumentFamily.PHMR,
    CdaDocumentType.PHMR_DK_V2_1: DocumentFamily.PHMR,
    CdaDocumentType.PHMR_OTHER: DocumentFamily.PHMR,
    CdaDocumentType.QRD: DocumentFamily.QRD,
    CdaDocumentType.QFDD: DocumentFamily.QFDD,
    CdaDocumentType.APD: DocumentFamily.APD,
    CdaDocumentType.UNKNOWN_CDA: DocumentFamily.OTHER,
}

_DEFAULT_PROFILE_ID = {
    CdaDocumentType.PHMR_DK_V1_3: "phmr-v1.3",
    CdaDocumentType.PHMR_DK_V2_1: "phmr-v2.1",
    CdaDocumentType.PHMR_OTHER: "phmr",
    CdaDocumentType.QRD: "qrd-v1.3",
    CdaDocumentType.QFDD: "qfdd-v1.2",
    CdaDocumentType.APD: "apd-v2.0.1",
}

_DK_TEMPLATES = {
    TemplateId.PHMR_DK.value: CdaDocumentType.PHMR_DK_V1_3,
    TemplateId.QRD_DK.value: CdaDocumentType.QRD,
    TemplateId.QFDD_DK.value: CdaDocumentType.QFDD,
    TemplateId.APD_DK.value: CdaDocumentType.APD,
}
_OTHER_TEMPLATES = {
    TemplateId.PHMR_HL7.value: CdaDocumentType.PHMR_OTHER,
    TemplateId.PHMR_DK_PRE_2016.value: CdaDocumentType.PHMR_OTHER,
    "2.16.840.1.113883.10.20.33": CdaDocumentType.QRD,
    "2.16.840.1.113883.10.20.32": CdaDocumentType.QFDD,
}
_CODES = {
    DocumentCode.PHMR.value: CdaDocumentType.PHMR_OTHER,
    DocumentCode.QRD.value: CdaDocumentType.QRD,
    DocumentCode.QFDD.value: CdaDocumentType.QFDD,
    DocumentCode.APPOINTMENT.value: CdaDocumentType.APD,
    DocumentCode.APPOINTMENT_ALT.value: CdaDocumentType.APD,
    DocumentCode.APPOINTMENT_SUMMARY.value: CdaDocumentType.APD,
}

_TEMPLATE_ROOTS = etree.XPath("h:templateId/@root", namespaces=NAMESPACES)
_DOC_CODE = etree.XPath("string(h:code/@code)", namespaces=NAMESPACES)
_TITLE = etree.XPath("normalize-space(h:title)", namespaces=NAMESPACES)
_MARKER = etree.XPath(
    "string(h:documentationOf/h:serviceEvent[h:templateId/@root=$marker]/h:id[@root=$instrument]/@extension)",
    namespaces=NAMESPACES,
)
_MARKER_FORMAT = re.compile(r"^(?P<profile>[a-z]+)-v(?P<version>\d+(?:\.\d+)*)$")
PHMR_V2_TITLE = "Hjemmemålinger"
CLINICAL_DOCUMENT = f"{{{HL7_NS}}}ClinicalDocument"


@dataclass(frozen=True, slots=True)
class DetectedDocument:
    """Result of :func:`detect_document_type`."""

    document_type: CdaDocumentType
    profile_id: str | None  # e.g. "phmr-v1.3"; None for an unknown CDA document
    danish_template: bool  # the document carries its Danish document templateId
    version_source: str  # "marker", "title", "default" or "template"

    @property
    def format_code(self) -> str | None:
        """The DK XDS formatCode ``urn:ad:dk:medcom:<profile_id>:full``."""
        return f"urn:ad:dk:medcom:{self.profile_id}:full" if self.profile_id else None


def detect_document_type(root: etree._Element) -> DetectedDocument:
    """Classify a parsed ``ClinicalDocument`` (the caller checked the root element name)."""
    templates = [str(t) for t in _TEMPLATE_ROOTS(root)]  # type: ignore[union-attr]
    detected = next((_DK_TEMPLATES[t] for t in templates if t in _DK_TEMPLATES), None)
    danish = detected is not None
    if detected is None:
        detected = next((_OTHER_TEMPLATES[t] for t in templates if t in _OTHER_TEMPLATES), None)
    if detected is None:
        detected = _CODES.get(str(_DOC_CODE(root)), CdaDocumentType.UNKNOWN_CDA)
    if detected is CdaDocumentType.UNKNOWN_CDA:
        return DetectedDocument(detected, None, danish_template=False, version_source="template")

    marker = str(
        _MARKER(
            root, marker=TemplateId.PROFILE_VERSION_MARKER.value, instrument=Oid.MEDCOM_INSTRUMENT_CODES.value
        )
    )
    match = _MARKER_FORMAT.match(marker.strip())
    if danish and detected is CdaDocumentType.PHMR_DK_V1_3:
        if match and match["profile"] == "phmr":
            version_type = (
                CdaDocumentType.PHMR_DK_V2_1
                if match["version"].startswith("2")
                else CdaDocumentType.PHMR_DK_V1_3
            )
            return DetectedDocument(
                version_type, marker.strip(), danish_template=True, version_source="marker"
            )
        if str(_TITLE(root)) == PHMR_V2_TITLE:
            return DetectedDocument(
                CdaDocumentType.PHMR_DK_V2_1, "phmr-v2.1", danish_template=True, version_source="title"
            )
        return DetectedDocument(detected, "phmr-v1.3", danish_template=True, version_source="default")
    if match:
        return DetectedDocument(detected, marker.strip(), danish_template=danish, version_source="marker")
    return DetectedDocument(
        detected, _DEFAULT_PROFILE_ID[detected], danish_template=danish, version_source="default"
    )


__all__ = [
    "CLINICAL_DOCUMENT",
    "PHMR_V2_TITLE",
    "CdaDocumentType",
    "DetectedDocument",
    "DocumentFamily",
    "detect_document_type",
]
