"""OIDs, templateIds and code sets of HL7 CDA R2 and the MedCom Danish profiles (PHMR-DK, QRD, QFDD, APD).

Facts from MedCom "PHMR DK Release 1.3" (templateIds, CONF-PHMR-DK rules), the FUT implementation guide
(code systems ``1.2.208.184.100.1`` and ``1.2.208.184.100.10``) and the DK XDS metadata profile v2.0.0
(OID table); see ``docs/DANISH-STANDARDS.md`` §1 and §2.  Every code set is an :class:`enum.Enum`.
"""

from __future__ import annotations

import enum

HL7_NS = "urn:hl7-org:v3"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SDTC_NS = "urn:hl7-org:sdtc"
NAMESPACES = {"h": HL7_NS, "xsi": XSI_NS, "sdtc": SDTC_NS}
"""Prefix map used by every compiled XPath of ``profiles.cda`` (``h:`` = the HL7 v3 namespace)."""


def hl7_tag(local_name: str) -> str:
    """Clark name ``{urn:hl7-org:v3}local_name`` for ``find``/``iterchildren`` (faster than XPath)."""
    return f"{{{HL7_NS}}}{local_name}"


class Oid(enum.Enum):
    """Identifier and code-system OIDs (DK XDS metadata profile v2.0.0, Table 2; PHMR-DK 1.3)."""

    CPR = "1.2.208.176.1.2"
    SOR = "1.2.208.176.1.1"
    SOR_LEGACY_TRUNCATED = "1.2.208.176.1"
    NPU = "1.2.208.176.2.1"
    NPU_OBSOLETE = "2.16.840.1.113883.3.4208.100.1"
    MEDCOM_MESSAGE_CODES = "1.2.208.184.100.1"
    MEDCOM_MESSAGE_CODES_OBSOLETE = "2.16.840.1.113883.3.4208.100.6"
    MEDCOM_INSTRUMENT_CODES = "1.2.208.184.100.3"
    MEDCOM_ANALYSIS_CODES = "1.2.208.184.100.8"  # MCS codes
    DK_CLASS_CODES = "1.2.208.184.100.9"
    DK_FORMAT_CODES = "1.2.208.184.100.10"
    MEDCOM_DOCUMENT_ID = "1.2.208.184"
    MDC = "2.16.840.1.113883.6.24"
    LOINC = "2.16.840.1.113883.6.1"
    SNOMED_CT = "2.16.840.1.113883.6.96"
    CONFIDENTIALITY = "2.16.840.1.113883.5.25"
    ADMINISTRATIVE_GENDER = "2.16.840.1.113883.5.1"
    ROLE_CODE = "2.16.840.1.113883.5.111"
    CDA_TYPE_ID = "2.16.840.1.113883.1.3"


class TemplateId(enum.Enum):
    """Document, section and entry templateIds (PHMR-DK 1.3 §§ header, sections, entries; HL7 PHMR R1.1)."""

    PHMR_DK = "1.2.208.184.11.1"
    PHMR_HL7 = "2.16.840.1.113883.10.20.9"
    PHMR_DK_PRE_2016 = "2.16.840.1.113883.3.4208.11.1"
    QRD_DK = "1.2.208.184.13.1"
    QFDD_DK = "1.2.208.184.12.1"
    APD_DK = "1.2.208.184.14.1"
    PROFILE_VERSION_MARKER = "1.2.208.184.200.1.10"
    VITAL_SIGNS_CCD = "2.16.840.1.113883.10.20.1.16"
    VITAL_SIGNS_PHMR = "2.16.840.1.113883.10.20.9.2"
    RESULTS_CCD = "2.16.840.1.113883.10.20.1.14"
    RESULTS_PHMR = "2.16.840.1.113883.10.20.9.14"
    MEDICAL_EQUIPMENT_CCD = "2.16.840.1.113883.10.20.1.7"
    MEDICAL_EQUIPMENT_PHMR = "2.16.840.1.113883.10.20.9.1"
    RESULT_ORGANIZER = "2.16.840.1.113883.10.20.1.35"
    RESULT_OBSERVATION = "2.16.840.1.113883.10.20.1.31"
    NUMERIC_OBSERVATION = "2.16.840.1.113883.10.20.9.8"
    DEVICE_DEFINITION_ORGANIZER = "2.16.840.1.113883.10.20.9.4"
    PRODUCT_INSTANCE_CCD = "2.16.840.1.113883.10.20.1.52"
    PRODUCT_INSTANCE_PHMR = "2.16.840.1.113883.10.20.9.9"
    THRESHOLD_RANGE = "1.2.208.184.11.1.2"


class DocumentCode(enum.Enum):
    """LOINC document type codes (ClinicalDocument/code, XDS typeCode)."""

    PHMR = "53576-5"
    QRD = "74465-6"
    QFDD = "74468-0"
    APPOINTMENT = "39289-4"
    APPOINTMENT_ALT = "39290-2"
    APPOINTMENT_SUMMARY = "56446-8"


class PhmrSection(enum.Enum):
    """The three PHMR body sections; value = LOINC section code (PHMR-DK 1.3, DANISH-STANDARDS §1.3)."""

    VITAL_SIGNS = "8716-3"
    RESULTS = "30954-2"
    MEDICAL_EQUIPMENT = "46264-8"

    @property
    def template_ids(self) -> tuple[str, str, str]:
        """CCD template, HL7 PHMR template and the Danish template, in that order."""
        return _SECTION_TEMPLATES[self]

    @property
    def title(self) -> str:
        return _SECTION_TITLES[self]


_SECTION_TEMPLATES = {
    PhmrSection.VITAL_SIGNS: (
        TemplateId.VITAL_SIGNS_CCD.value,
        TemplateId.VITAL_SIGNS_PHMR.value,
        TemplateId.PHMR_DK.value,
    ),
    PhmrSection.RESULTS: (
        TemplateId.RESULTS_CCD.value,
        TemplateId.RESULTS_PHMR.value,
        TemplateId.PHMR_DK.value,
    ),
    PhmrSection.MEDICAL_EQUIPMENT: (
        TemplateId.MEDICAL_EQUIPMENT_CCD.value,
        TemplateId.MEDICAL_EQUIPMENT_PHMR.value,
        TemplateId.PHMR_DK.value,
    ),
}
_SECTION_TITLES = {
    PhmrSection.VITAL_SIGNS: "Vital Signs",
    PhmrSection.RESULTS: "Results",
    PhmrSection.MEDICAL_EQUIPMENT: "Medical Equipment",
}


class MeasurementCodeSystem(enum.Enum):
    """Code systems a PHMR-DK measurement may be coded in, with their FHIR system URI."""

    NPU = Oid.NPU.value
    MCS = Oid.MEDCOM_ANALYSIS_CODES.value
    MDC = Oid.MDC.value

    @property
    def fhir_system(self) -> str:
        return _FHIR_SYSTEMS[self]


_FHIR_SYSTEMS = {
    MeasurementCodeSystem.NPU: "urn:oid:1.2.208.176.2.1",
    MeasurementCodeSystem.MCS: "urn:oid:1.2.208.184.100.8",
    MeasurementCodeSystem.MDC: "urn:iso:std:iso:11073:10101",
}


class PerformerContext(enum.Enum):
    """Who performed the measurement: first methodCode (MedCom Message Codes ``1.2.208.184.100.1``).

    POT is verified in the MedCom and FUT examples; PNT (professional) is KIH's producer code.
    PCG (caregiver) is the likely code of the s4 library's CareGiver and is accepted with a warning.
    """

    POT = "POT"
    PNT = "PNT"
    PCG = "PCG"

    @property
    def verified(self) -> bool:
        return self is not PerformerContext.PCG


class ProvisionContext(enum.Enum):
    """How the value reached the system: second methodCode (``1.2.208.184.100.1``).

    AUT and TPD are verified; TPR/TPH/TPC (typed by relative / professional / caregiver) follow the s4
    library's ProvisionMethod names and are accepted with a warning.
    """

    AUT = "AUT"
    TPD = "TPD"
    TPR = "TPR"
    TPH = "TPH"
    TPC = "TPC"

    @property
    def verified(self) -> bool:
        return self in (ProvisionContext.AUT, ProvisionContext.TPD)


CONTEXT_DISPLAYS = {
    "POT": "Målt af borger",
    "PNT": "Målt af sundhedsprofessionel",
    "AUT": "Måling overført automatisk",
    "TPD": "Indtastet af borger",
}
"""Danish displays of the verified context codes (FUT CodeSystem urn:oid:1.2.208.184.100.1)."""


class ThresholdCode(enum.Enum):
    """Red / yellow alarm thresholds of CONF-PHMR-DK-36 (code system ``1.2.208.184.100.1``)."""

    RED = "RAL"
    YELLOW = "GAL"

    @property
    def display(self) -> str:
        return (
            "Terapeutiske grænseværdier for RØD alarm"
            if self is ThresholdCode.RED
            else "Terapeutiske grænseværdier for GUL alarm"
        )


class MeasurementStatus(enum.Enum):
    """organizer/statusCode of a measurement (FUT: completed, or nullified for a retracted value)."""

    COMPLETED = "completed"
    NULLIFIED = "nullified"


__all__ = [
    "CONTEXT_DISPLAYS",
    "HL7_NS",
    "NAMESPACES",
    "SDTC_NS",
    "XSI_NS",
    "DocumentCode",
    "MeasurementCodeSystem",
    "MeasurementStatus",
    "Oid",
    "PerformerContext",
    "PhmrSection",
    "ProvisionContext",
    "TemplateId",
    "ThresholdCode",
    "hl7_tag",
]
