"""The Danish identifier and code systems the telemedicine profiles name, as FHIR system URIs.

OIDs from the Danish XDS metadata profile v2.0.0 Table 2 and HL7 Denmark DK Core's identifier
profiles (DANISH-STANDARDS.md §2.2, §4.1): CPR ``1.2.208.176.1.2``, SOR ``1.2.208.176.1.1``,
the authorisation register's FHIR system ``https://autregweb.sst.dk``, NPU ``1.2.208.176.2.1``,
MedCom codes (``1.2.208.184.100.*``) and IEEE 11073 MDC.
"""

from __future__ import annotations

import enum


class DanishIdentifierSystem(enum.Enum):
    """``Identifier.system`` values for Danish persons and organisations."""

    CPR = "urn:oid:1.2.208.176.1.2"
    SOR = "urn:oid:1.2.208.176.1.1"
    AUTHORISATION_ID = "https://autregweb.sst.dk"
    YDERNUMMER = "urn:oid:1.2.208.176.1.4"


class DanishCodeSystem(enum.Enum):
    """``Coding.system`` values used by Danish home measurements and XDS metadata."""

    NPU = "urn:oid:1.2.208.176.2.1"
    MEDCOM_ANALYSIS_CODES = "urn:oid:1.2.208.184.100.8"
    MEDCOM_MESSAGE_CODES = "urn:oid:1.2.208.184.100.1"
    MEDCOM_INSTRUMENT_CODES = "urn:oid:1.2.208.184.100.3"
    DK_XDS_CLASS_CODES = "urn:oid:1.2.208.184.100.9"
    DK_IHE_FORMAT_CODES = "urn:oid:1.2.208.184.100.10"
    SKS = "urn:oid:1.2.208.176.2.4"
    MDC = "urn:iso:std:iso:11073:10101"
    UCUM = "http://unitsofmeasure.org"
