"""The core vital signs profiles that an Observation must meet because of its code.

See https://hl7.org/fhir/R4/observation-vitalsigns.html: "If implementations use this
Resource when expressing the profile-specific concepts as structured data, they SHALL conform to
the following profiles".  An Observation whose ``code`` carries one of the LOINC codes of the
table there (or a SNOMED CT concept for the same measurement, as the HL7 reference validator
also accepts) is validated against the matching core profile (``bodytemp``, ``bp``, ...), with
an information issue saying so.  Nothing happens when the core profiles are not loaded.
"""

from __future__ import annotations

import enum
from typing import Any

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"


class VitalSign(enum.Enum):
    """Core vital signs profiles (https://hl7.org/fhir/R4/observation-vitalsigns.html)."""

    PANEL = ("vitalspanel", "Vital Signs Panel")
    RESPIRATORY_RATE = ("resprate", "Respiratory Rate")
    HEART_RATE = ("heartrate", "Heart rate")
    OXYGEN_SATURATION = ("oxygensat", "Oxygen saturation")
    BODY_TEMPERATURE = ("bodytemp", "Body temperature")
    BODY_HEIGHT = ("bodyheight", "Body height")
    HEAD_CIRCUMFERENCE = ("headcircum", "Head circumference")
    BODY_WEIGHT = ("bodyweight", "Body weight")
    BMI = ("bmi", "Body mass index")
    BLOOD_PRESSURE = ("bp", "Blood pressure systolic and diastolic")

    @property
    def url(self) -> str:
        return "http://hl7.org/fhir/StructureDefinition/" + self.value[0]

    @property
    def title(self) -> str:
        return self.value[1]


# LOINC codes: the codes of the R4 profiles, and the LOINC codes for the same measurements taken at
# a stated site or in a stated way (8331-1 oral temperature is a body temperature).
_LOINC: dict[str, VitalSign] = {
    "85353-1": VitalSign.PANEL,
    "9279-1": VitalSign.RESPIRATORY_RATE,
    **dict.fromkeys(("8867-4", "40443-4", "8893-0", "8889-8"), VitalSign.HEART_RATE),
    **dict.fromkeys(("2708-6", "59408-5", "20564-1", "2710-2"), VitalSign.OXYGEN_SATURATION),
    **dict.fromkeys(("8310-5", "8328-7", "8331-1", "8332-9", "8333-7"), VitalSign.BODY_TEMPERATURE),
    **dict.fromkeys(("8302-2", "8306-3", "8308-9", "3137-7", "3138-5"), VitalSign.BODY_HEIGHT),
    **dict.fromkeys(("9843-4", "8287-5"), VitalSign.HEAD_CIRCUMFERENCE),
    **dict.fromkeys(("29463-7", "3141-9", "3142-7", "8350-1", "8351-9"), VitalSign.BODY_WEIGHT),
    "39156-5": VitalSign.BMI,
    **dict.fromkeys(("85354-9", "55284-4", "35094-2"), VitalSign.BLOOD_PRESSURE),
}
# SNOMED CT observable entities for the same measurements
_SNOMED: dict[str, VitalSign] = {
    "46680005": VitalSign.PANEL,
    "86290005": VitalSign.RESPIRATORY_RATE,
    **dict.fromkeys(("364075005", "78564009"), VitalSign.HEART_RATE),
    **dict.fromkeys(("103228002", "431314004"), VitalSign.OXYGEN_SATURATION),
    **dict.fromkeys(
        ("386725007", "276885007", "415882003", "415974002", "415945006"), VitalSign.BODY_TEMPERATURE
    ),
    **dict.fromkeys(("50373000", "1153637007", "248333004"), VitalSign.BODY_HEIGHT),
    "363812007": VitalSign.HEAD_CIRCUMFERENCE,
    **dict.fromkeys(("27113001", "363808001", "425024002", "424927000"), VitalSign.BODY_WEIGHT),
    "60621009": VitalSign.BMI,
    **dict.fromkeys(
        ("75367002", "251076008", "163033001", "163035008", "386534000"), VitalSign.BLOOD_PRESSURE
    ),
}
_TABLES = ((LOINC, "LOINC", _LOINC), (SNOMED, "SNOMED CT", _SNOMED))


def required_profile(observation: dict[str, Any]) -> tuple[VitalSign, str, str] | None:
    """(vital sign, code system name, code) when ``observation.code`` names a vital sign; LOINC first."""
    code = observation.get("code")
    codings = code.get("coding") if isinstance(code, dict) else None
    if not isinstance(codings, list):
        return None
    for system, name, table in _TABLES:
        for coding in codings:
            if isinstance(coding, dict) and coding.get("system") == system:
                found = table.get(str(coding.get("code")))
                if found is not None:
                    return found, name, str(coding.get("code"))
    return None
