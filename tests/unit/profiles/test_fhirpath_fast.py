"""The fast FHIRPath subset gives exactly fhirpathpy's results (core invariants over the R4 examples)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from profiles import CanonicalRegistry
from profiles.fhirpath import FhirPathEngine, FhirPathEvaluationError
from profiles.fhirpath_values import Frame, Unsupported
from tests.conftest import testdata_path

pytestmark = pytest.mark.needs_testdata


def _root_invariants(registry: CanonicalRegistry) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for sd in registry.all("StructureDefinition"):
        if sd.get("kind") != "resource" or sd.get("derivation") != "specialization":
            continue
        root = sd["snapshot"]["element"][0]
        found[sd["type"]] = [c["expression"] for c in root.get("constraint") or () if c.get("expression")]
    return found


def test_fast_and_full_engines_agree(core_registry: CanonicalRegistry) -> None:
    engine = FhirPathEngine()
    invariants = _root_invariants(core_registry)
    compared = fast_count = 0
    for path in sorted(testdata_path("fhir", "examples").glob("*.json"))[:400]:
        resource: Any = json.loads(path.read_bytes())
        for expression in invariants.get(resource.get("resourceType"), []):
            compiled = engine.compile(expression)
            if compiled.fast is None:
                continue
            fast_count += 1
            try:
                slow = engine.evaluate(compiled, resource, slow=True)
            except FhirPathEvaluationError:
                continue
            assert engine.evaluate(compiled, resource) == slow, (path.name, expression)
            compared += 1
    assert compared > 200 and fast_count >= compared


@pytest.mark.parametrize(
    "expression",
    [
        "name.given.first() = 'Peter'",
        "name.where(use = 'official').exists() and gender != 'female'",
        "telecom.system | 'x'",
        "identifier.count() <= 1 implies name.exists()",
        "(1 + 2) = 3 and 'a' & 'b' = 'ab'",
        "name.family.matches('^Ch') xor false",
        "birthDate.toString().length() = 10",
        "extension('http://x').exists().not()",
        "'A' in name.given",
        "name.given.subsetOf(name.given | 'Bob')",
        "(name.given | 'Bob').supersetOf(name.given) and name.given.subsetOf('Bob').not()",
        "name.given.intersect('James' | 'Mary').count() = 1",
        "telecom.where(system = 'phone').exists() and telecom.all(system.exists())",
        "name.where(use = 'official').given.count() > 1",
    ],
)
def test_subset_expressions(expression: str) -> None:
    engine = FhirPathEngine()
    patient = {
        "resourceType": "Patient",
        "birthDate": "1974-12-25",
        "gender": "male",
        "name": [{"use": "official", "family": "Chalmers", "given": ["Peter", "James"]}],
        "telecom": [{"system": "phone"}],
    }
    compiled = engine.compile(expression)
    assert compiled.fast is not None
    assert engine.evaluate(compiled, patient) == engine.evaluate(compiled, patient, slow=True)


def test_dates_fall_back_to_the_full_engine() -> None:
    engine = FhirPathEngine()
    compiled = engine.compile("start <= end")
    period = {"start": "2020-01-01", "end": "2019-12-31"}
    assert compiled.fast is not None
    assert engine.evaluate(compiled, period, base_type="Period") == [False]


def test_of_type_on_choice_elements() -> None:
    engine = FhirPathEngine()
    observation = {
        "resourceType": "Observation",
        "valueQuantity": {"value": 5, "unit": "kg"},
        "extension": [{"url": "http://t/x", "valueReference": {"reference": "Patient/1"}}],
    }
    unit = engine.compile("value.ofType(Quantity).unit")
    assert unit.fast is not None and engine.evaluate(unit, observation, base_type="Observation") == ["kg"]
    assert engine.evaluate(engine.compile("value.ofType(string)"), observation, base_type="Observation") == []
    reference = engine.compile("extension('http://t/x').value.ofType(Reference).reference")
    assert engine.evaluate(reference, observation, base_type="Observation") == ["Patient/1"]
    # "name" is a choice somewhere in FHIR, but not in Patient: the full engine filters it by type
    patient = {"resourceType": "Patient", "name": [{"use": "official"}]}
    names = engine.compile("Patient.name.ofType(HumanName).use")
    assert names.fast is not None
    with pytest.raises(Unsupported):
        names.fast([patient], Frame([patient], {}, None))
    assert engine.evaluate(names, patient) == engine.evaluate(names, patient, slow=True)
