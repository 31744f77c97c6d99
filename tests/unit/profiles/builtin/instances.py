"""Hand-written instances that conform to the built-in Danish profiles (tests mutate copies of them)."""

from __future__ import annotations

import copy
from typing import Any

CPR = "urn:oid:1.2.208.176.1.2"
SOR = "urn:oid:1.2.208.176.1.1"
AUTH = "https://autregweb.sst.dk"
MSG = "urn:oid:1.2.208.184.100.1"
NARRATIVE = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">telehub test</div>'}

_GOOD: dict[str, dict[str, Any]] = {
    "dk-tm-patient": {
        "resourceType": "Patient",
        "id": "p1",
        "text": NARRATIVE,
        "identifier": [{"system": CPR, "value": "0707614285"}],
        "name": [{"family": "Hansen", "given": ["Ane"]}],
    },
    "dk-tm-practitioner": {
        "resourceType": "Practitioner",
        "id": "pr1",
        "text": NARRATIVE,
        "identifier": [{"system": AUTH, "value": "0C4XQ"}],
    },
    "dk-tm-organization": {
        "resourceType": "Organization",
        "id": "o1",
        "text": NARRATIVE,
        "identifier": [{"system": SOR, "value": "8071000016009"}],
        "name": "Hjemmeplejen",
    },
    "dk-tm-device": {
        "resourceType": "Device",
        "id": "d1",
        "text": NARRATIVE,
        "serialNumber": "SN-42",
        "manufacturer": "ACME",
        "modelNumber": "BP-1",
        "type": {"coding": [{"system": "urn:iso:std:iso:11073:10101", "code": "528391"}]},
    },
    "dk-tm-observation": {
        "resourceType": "Observation",
        "id": "obs1",
        "text": NARRATIVE,
        "status": "final",
        "code": {"coding": [{"system": "urn:oid:1.2.208.176.2.1", "code": "NPU03804"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-05-01T08:30:00+02:00",
        "valueQuantity": {"value": 72.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
        "method": {"coding": [{"system": MSG, "code": "POT"}, {"system": MSG, "code": "AUT"}]},
        "device": {"reference": "Device/d1"},
        "referenceRange": [
            {
                "low": {"value": 60, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
                "type": {"coding": [{"system": MSG, "code": "RAL"}]},
            }
        ],
    },
    "dk-tm-documentreference": {
        "resourceType": "DocumentReference",
        "id": "dr1",
        "text": NARRATIVE,
        "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": "urn:oid:1.2.208.184.1.42"},
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "53576-5"}]},
        "category": [{"coding": [{"system": "urn:oid:1.2.208.184.100.9", "code": "001"}]}],
        "subject": {"reference": "Patient/p1"},
        "author": [{"identifier": {"system": SOR, "value": "8071000016009"}}],
        "securityLabel": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "N"}]}
        ],
        "content": [
            {
                "attachment": {
                    "contentType": "text/xml",
                    "language": "da-DK",
                    "title": "Hjemmemonitorering",
                    "creation": "2024-05-01T08:30:00+02:00",
                },
                "format": {"system": "urn:oid:1.2.208.184.100.10", "code": "urn:ad:dk:medcom:phmr-v1.3:full"},
            }
        ],
        "context": {
            "facilityType": {"coding": [{"system": "http://snomed.info/sct", "code": "550621000005101"}]},
            "practiceSetting": {"coding": [{"system": "http://snomed.info/sct", "code": "658161000005107"}]},
            "sourcePatientInfo": {"identifier": {"system": CPR, "value": "0707614285"}},
        },
    },
    "dk-tm-consent": {
        "resourceType": "Consent",
        "id": "c1",
        "text": NARRATIVE,
        "status": "active",
        "scope": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": "http://telehub.dk/fhir/CodeSystem/dk-consent-category",
                        "code": "negative-consent",
                    }
                ]
            }
        ],
        "patient": {"identifier": {"system": CPR, "value": "0707614285"}},
        "policyRule": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT"}]
        },
        "provision": {
            "type": "deny",
            "actor": [
                {
                    "role": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                "code": "IRCP",
                            }
                        ]
                    },
                    "reference": {"identifier": {"system": AUTH, "value": "0C4XQ"}},
                },
                {
                    "role": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                "code": "IRCP",
                            }
                        ]
                    },
                    "reference": {"identifier": {"system": SOR, "value": "8071000016009"}},
                },
            ],
        },
    },
}


def good(profile_id: str) -> dict[str, Any]:
    """A fresh copy of the conforming instance for ``profile_id``."""
    return copy.deepcopy(_GOOD[profile_id])


PROFILE_IDS = tuple(sorted(_GOOD))
