"""Danish XDS metadata value sets ("XDS Metadata for Document Sharing – Danish profile", MedCom,
v1.0.1 / v2.0.0; DANISH-STANDARDS.md §2.2-2.3), written from the facts of that profile.

Where the Danish profile fixes the members (classCode, typeCode, formatCode, confidentiality, language,
mimeType) a :class:`DanishValueSet` lists them.  Healthcare facility type and practice setting are SNOMED CT
value sets of about 66 and many more codes that the facts only exemplify; for those the check is "SNOMED CT
code system and a valid SCTID" (:func:`is_sctid`, with the Verhoeff check digit), and the example codes are
kept for displays and tests.

Known gaps (documented, not guessed): the Noah audiology formatCodes (their exact URNs are not in the facts),
MCS eventCode system OID.  The classCodes 002-006 carry conflicting meanings in MedCom XDSMETA 2.0 and the
FUT/SDS copy; both readings are accepted because only the code is checked.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class DanishOid(enum.Enum):
    """OIDs of the Danish profile (v2.0.0 Table 2)."""

    CPR = "1.2.208.176.1.2"
    SOR = "1.2.208.176.1.1"
    AUTHORISATION_REGISTER = "1.2.208.176.1.3"
    YDER_REGISTER = "1.2.208.176.1.4"
    CLASS_CODES = "1.2.208.184.100.9"
    FORMAT_CODES = "1.2.208.184.100.10"
    MEDCOM_MESSAGE_CODES = "1.2.208.184.100.1"
    NPU = "1.2.208.176.2.1"
    SKS = "1.2.208.176.2.4"
    PRO_QUESTIONNAIRES = "1.2.208.176.7.3.1"
    SNOMED_CT = "2.16.840.1.113883.6.96"
    LOINC = "2.16.840.1.113883.6.1"
    CONFIDENTIALITY = "2.16.840.1.113883.5.25"


@dataclass(frozen=True, slots=True)
class DanishValueSet:
    """A closed value set: ``(codingScheme, code) -> display``."""

    name: str
    members: dict[tuple[str, str], str]

    def contains(self, scheme: str | None, code: str) -> bool:
        return scheme is not None and (scheme, code) in self.members

    def display(self, scheme: str, code: str) -> str | None:
        return self.members.get((scheme, code))


def _set(name: str, scheme: DanishOid, codes: dict[str, str]) -> dict[tuple[str, str], str]:
    return {(scheme.value, code): display for code, display in codes.items()}


CLASS_CODES = DanishValueSet(
    "DK classCode",
    _set(
        "classCode",
        DanishOid.CLASS_CODES,
        {
            "001": "Klinisk rapport",
            "002": "Summary / Personal information about",
            "003": "Images / Planning",
            "004": "Treatment Plan / Questionnaires",
            "005": "Patient Preferences",
            "006": "Workflow",
        },
    ),
)

TYPE_CODES = DanishValueSet(
    "DK typeCode",
    _set(
        "typeCode",
        DanishOid.LOINC,
        {
            "53576-5": "Personal health monitoring report Document",
            "74465-6": "Questionnaire response Document",
            "74468-0": "Questionnaire form definition Document",
            "56446-8": "Appointment summary Document",
            "39289-4": "Follow-up (referred to) provider /specialist appointment",
            "39290-2": "Follow-up (referred to) provider /specialist appointment",
            "103140-0": "PHAD",
            "11450-4": "Problem list",
            "81215-6": "Care plan",
            "11502-2": "Laboratory report",
            "57059-8": "Pregnancy visit summary",
            "28615-3": "Audiology study",
        },
    )
    | _set(
        "typeCode",
        DanishOid.MEDCOM_MESSAGE_CODES,
        {
            "CMR": "CMR",
            "PDC": "PDC",
            "MADC": "MADC",
            "PRF": "PRF",
            "PSCR": "PSCR",
            "PMR": "PMR",
            "HCOM": "HomeCareObservation message",
        },
    ),
)

_FORMATS = [
    "phmr-v1.3:full",
    "phmr-v2.1:full",
    "phmr:full",
    "qrd:full",
    "qrd-v1.1:full",
    "qrd-v1.2:full",
    "qrd-v1.3:full",
    "qfdd:full",
    "qfdd-v1.1:full",
    "qfdd-v1.2:full",
    "apd-v2.0:full",
    "apd-v2.0.1:full",
    "appointmentsummary:full",
    "cmr-v1.0:full",
    "cpd-v1.0.1:full",
    "cpd-v2.0:full",
    "pdc-v2.0:full",
    "pdc-v3.0:full",
    "prvs-v1.0:full",
    "phad-v1.0:full",
    "plr-v1.0:full",
    "prf-v1.0:full",
    "pscr-v1.0:full",
    "pmr-v1.0:full",
    "labreports:svareksponeringsservice",
    "msg:hco-v1.1:full",
    "msg:hco-v1.2:full",
]

FORMAT_CODES = DanishValueSet(
    "DK formatCode",
    _set("formatCode", DanishOid.FORMAT_CODES, {f"urn:ad:dk:medcom:{f}": f for f in _FORMATS}),
)

CONFIDENTIALITY_CODES = DanishValueSet(
    "DK confidentialityCode", _set("confidentialityCode", DanishOid.CONFIDENTIALITY, {"N": "Normal"})
)

LANGUAGE_CODES = frozenset({"da-DK", "da"})
MIME_TYPES = frozenset({"text/xml", "application/fhir+json", "application/fhir+xml"})

# Examples from the profile (displays for tests and defaults); membership is checked by is_sctid().
FACILITY_TYPE_EXAMPLES: dict[str, str] = {
    "22232009": "hospital",
    "394761003": "almen lægepraksis",
    "550621000005101": "hjemmesygeplejeenhed",
    "547211000005108": "kommune",
    "264361005": "sundhedscenter",
    "42665001": "plejehjem",
}
PRACTICE_SETTING_EXAMPLES: dict[str, str] = {
    "408443003": "almen medicin",
    "394579002": "kardiologi",
    "418112009": "lungesygdomme",
    "658161000005107": "hjemmesygepleje",
    "658171000005102": "hjemmepleje",
}

# Verhoeff tables (SNOMED CT Technical Implementation Guide §6.8 "Check-digit computation").
_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]


_NAMED: dict[tuple[str, str], str] = {
    **CLASS_CODES.members,
    **TYPE_CODES.members,
    **FORMAT_CODES.members,
    **CONFIDENTIALITY_CODES.members,
    **{(DanishOid.SNOMED_CT.value, c): d for c, d in FACILITY_TYPE_EXAMPLES.items()},
    **{(DanishOid.SNOMED_CT.value, c): d for c, d in PRACTICE_SETTING_EXAMPLES.items()},
}


def known_display(scheme: str, code: str) -> str | None:
    """The display the Danish XDS metadata profile gives ``code`` of ``scheme`` (its value sets and its
    facility-type / practice-setting examples), or None."""
    return _NAMED.get((scheme, code))


def is_sctid(code: str) -> bool:
    """A syntactically valid SNOMED CT concept id: 6-18 digits, no leading zero, partition 00/10, Verhoeff."""
    if not (6 <= len(code) <= 18) or not code.isascii() or not code.isdigit() or code[0] == "0":
        return False
    if code[-3:-1] not in ("00", "10"):  # concept partitions (short and extension namespace)
        return False
    check = 0
    for index, digit in enumerate(reversed(code)):
        check = _D[check][_P[index % 8][int(digit)]]
    return check == 0


def is_cpr(value: str) -> bool:
    """10 digits whose first six are a valid DDMMYY date (no modulus-11: DK Core invariant ``cpr``)."""
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        return False
    day, month = int(value[0:2]), int(value[2:4])
    return 1 <= day <= 31 and 1 <= month <= 12
