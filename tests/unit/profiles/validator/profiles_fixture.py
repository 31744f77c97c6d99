"""Small hand-written profiles for the validator tests."""

from __future__ import annotations

from typing import Any

BASE = "http://hl7.org/fhir/StructureDefinition/"


def profile(url: str, type_: str, diff: list[dict[str, Any]], base: str | None = None) -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition",
        "url": url,
        "name": url.rsplit("/", 1)[-1].replace("-", ""),
        "status": "draft",
        "kind": "resource"
        if type_[0].isupper() and type_ not in ("Extension", "Quantity")
        else "complex-type",
        "abstract": False,
        "type": type_,
        "baseDefinition": base or BASE + type_,
        "derivation": "constraint",
        "differential": {"element": diff},
    }


def extension(url: str, value_type: str, *, context: str = "Element") -> dict[str, Any]:
    sd = profile(
        url,
        "Extension",
        [
            {"path": "Extension.extension", "max": "0"},
            {"path": "Extension.url", "fixedUri": url},
            {"path": "Extension.value[x]", "min": 1, "type": [{"code": value_type}]},
        ],
    )
    sd["kind"] = "complex-type"
    sd["context"] = [{"type": "element", "expression": context}]
    return sd


OBS_PROFILE = profile(
    "http://t/StructureDefinition/home-obs",
    "Observation",
    [
        {"path": "Observation.status", "fixedCode": "final"},
        {
            "path": "Observation.category",
            "min": 1,
            "patternCodeableConcept": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                    }
                ]
            },
        },
        {
            "path": "Observation.subject",
            "min": 1,
            "type": [{"code": "Reference", "targetProfile": [BASE + "Patient"]}],
        },
        {"path": "Observation.valueQuantity", "min": 1},
        {"path": "Observation.valueQuantity.value", "minValueDecimal": 0, "maxValueDecimal": 300},
        {"path": "Observation.valueQuantity.unit", "maxLength": 5},
        {"path": "Observation.valueQuantity.system", "min": 1, "fixedUri": "http://unitsofmeasure.org"},
        {
            "path": "Observation.effective[x]",
            "min": 1,
            "type": [{"code": "dateTime"}],
            "constraint": [
                {
                    "key": "tz-1",
                    "severity": "error",
                    "human": "with a time zone",
                    "expression": "$this.toString().length() < 11 or "
                    "$this.toString().matches('(Z|[+-][0-9][0-9]:[0-9][0-9])$')",
                }
            ],
        },
    ],
)


def home_obs(**changes: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "meta": {"profile": ["http://t/StructureDefinition/home-obs"]},
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "urn:oid:1.2.208.176.2.1", "code": "NPU03011"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02T10:00:00+01:00",
        "valueQuantity": {"value": 72, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
    }
    resource.update(changes)
    return {k: v for k, v in resource.items() if v is not None}
