"""The native dk-tm-observation invariants agree with their FHIRPath (as fhirpathpy evaluates it)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from profiles import BUILTIN_PACKAGE_DIR, FhirPathEngine
from profiles.danish.invariants import DANISH_NATIVES, dk_tm_obs_2, dk_tm_obs_5

NPU = "urn:oid:1.2.208.176.2.1"
MSG = "urn:oid:1.2.208.184.100.1"


def _base() -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": NPU, "code": "NPU03804"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-05-01T08:30:00+02:00",
        "valueQuantity": {"value": 72.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
        "method": {"coding": [{"system": MSG, "code": "POT"}, {"system": MSG, "code": "AUT"}]},
    }


def _variant(**changes: Any) -> dict[str, Any]:
    resource = copy.deepcopy(_base())
    for key, value in changes.items():
        if value is None:
            resource.pop(key, None)
        else:
            resource[key] = value
    return resource


VARIANTS = [
    _base(),
    _variant(code={"coding": [{"system": "http://loinc.org", "code": "29463-7"}]}),
    _variant(code={"coding": [{"code": "x"}, {"system": "urn:iso:std:iso:11073:10101", "code": "150020"}]}),
    _variant(code={"text": "no codings"}),
    _variant(code=None),
    _variant(effectiveDateTime="2024-05-01"),
    _variant(effectiveDateTime="2024-05-01T08:30:00Z"),
    _variant(effectiveDateTime="2024-05-01T08:30:00.123+01:00"),
    _variant(effectiveDateTime="2024-05-01T08:30"),
    _variant(effectiveDateTime=None, effectiveInstant="2024-05-01T08:30:00.5Z"),
    _variant(effectiveDateTime=None),
    _variant(subject={"identifier": {"system": "urn:oid:1.2.208.176.1.2", "value": "0101010101"}}),
    _variant(subject={"identifier": {"system": "urn:other", "value": "1"}}),
    _variant(subject={"display": "nobody"}),
    _variant(subject=None),
    _variant(method={"coding": [{"system": MSG, "code": "POT"}, {"system": MSG, "code": "PNT"}]}),
    _variant(method={"coding": [{"system": MSG, "code": "AUT"}, {"system": MSG, "code": "TPD"}]}),
    _variant(method={"coding": [{"system": "urn:other", "code": "POT"}, {"system": MSG, "code": "POT"}]}),
    _variant(method=None),
    _variant(valueQuantity={"value": 1, "unit": "kg", "code": "kg"}),
    _variant(valueQuantity={"value": 1, "system": "urn:other", "code": "kg"}),
    _variant(valueQuantity={"unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}),
    _variant(valueQuantity={"value": 1, "system": "http://unitsofmeasure.org"}),
    _variant(valueQuantity=None, valueString="high"),
    _variant(valueQuantity=None, valueCodeableConcept={"text": "x"}),
    _variant(valueQuantity=None),
]


def _expressions() -> dict[str, str]:
    sd = json.loads((BUILTIN_PACKAGE_DIR / "StructureDefinition-dk-tm-observation.json").read_text())
    return {
        c["key"]: c["expression"]
        for e in sd["differential"]["element"]
        for c in e.get("constraint") or ()
        if c["key"].startswith("dk-tm-obs-")
    }


def test_every_profile_invariant_has_its_native_form() -> None:
    assert set(_expressions().items()) == set(DANISH_NATIVES)


@pytest.mark.parametrize("resource", VARIANTS, ids=range(len(VARIANTS)))
def test_native_forms_agree_with_fhirpath(resource: dict[str, Any]) -> None:
    engine = FhirPathEngine()
    for (key, expression), native in DANISH_NATIVES.items():
        answer = native(resource, resource, resource)
        expected = engine.is_true(engine.compile(expression), resource, base_type="Observation", slow=True)
        assert answer is None or answer == expected, key


def test_unusual_shapes_are_left_to_fhirpath() -> None:
    extended = _variant(effectiveDateTime=None, _effectiveDateTime={"extension": []})
    assert dk_tm_obs_2(extended, extended, extended) is None
    period = _variant(effectiveDateTime=None, effectivePeriod={"start": "2024-01-01"})
    assert dk_tm_obs_2(period, period, period) is None
    two = _variant(valueString="x")
    assert dk_tm_obs_5(two, two, two) is None
    for native in DANISH_NATIVES.values():
        assert native("not an object", {}, {}) is None
