"""Compiled search expressions: union splitting, the fast path and its agreement with fhirpathpy."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from hub.core.errors import ConfigurationError, ValidationFailedError
from hub.fhir.search.expressions import CompiledExpression, ExpressionPlan, split_union
from hub.fhir.search.fast_path import branch_root, is_type
from hub.fhir.search.fhirpath_fallback import check_syntax

Loader = Callable[[str], dict[str, Any]]


def test_split_union_respects_parentheses_and_quotes() -> None:
    assert split_union("A.b | (A.c as Quantity) | A.d.where(e='x|y')") == [
        "A.b",
        "(A.c as Quantity)",
        "A.d.where(e='x|y')",
    ]
    assert split_union("  A.b  ") == ["A.b"]
    assert branch_root("(Observation.value as Quantity)") == "Observation"
    assert branch_root("%resource.id") is None


def test_type_hierarchy() -> None:
    assert is_type("Age", "Quantity")
    assert is_type("Quantity", "Quantity")
    assert not is_type("CodeableConcept", "Quantity")
    assert not is_type(None, "Quantity")


@pytest.mark.parametrize(
    "expression",
    [
        "Observation.code",
        "Observation.subject.where(resolve() is Patient)",
        "(Observation.value as Quantity) | (Observation.value as SampledData)",
        "(Observation.component.value as Quantity)",
        "(Observation.value as string) | (Observation.value as CodeableConcept).text",
        "Patient.telecom.where(system='phone')",
        "Patient.deceased.exists() and Patient.deceased != false",
        "Observation.effective.ofType(dateTime)",
        "Observation.extension('http://hl7.org/fhir/StructureDefinition/observation-geneticsGene')",
    ],
)
def test_fast_shapes_are_recognised(expression: str) -> None:
    assert CompiledExpression(expression).fast
    assert not CompiledExpression(expression, fast=False).fast


@pytest.mark.parametrize(
    ("name", "expression"),
    [
        ("Observation-blood-pressure.json", "(Observation.component.value as Quantity)"),
        ("Observation-blood-pressure.json", "Observation.subject.where(resolve() is Patient)"),
        ("Observation-blood-pressure.json", "Observation.subject.where(resolve() is Group)"),
        ("Patient-example.json", "Patient.telecom.where(system='phone')"),
        ("Patient-example.json", "Patient.name.given | Patient.name.family"),
        ("Patient-example.json", "Patient.birthDate"),  # has a _birthDate extension twin
        ("Patient-example.json", "Patient.deceased.exists() and Patient.deceased != false"),
        ("Patient-example.json", "Patient.contact.name.family"),
        ("Bundle-bundle-example.json", "Bundle.entry.resource.id"),
        ("Observation-example.json", "Observation.value.code"),
    ],
)
def test_fast_path_equals_fhirpathpy(example: Loader, name: str, expression: str) -> None:
    resource = example(name)
    fast = CompiledExpression(expression).evaluate(resource)
    slow = CompiledExpression(expression, fast=False).evaluate(resource)
    assert sorted(map(repr, fast)) == sorted(map(repr, slow))
    assert fast or expression.endswith("Group)")


GENE = "http://hl7.org/fhir/StructureDefinition/observation-geneticsGene"
MAIDEN = "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName"
WITH_EXTENSIONS = {
    "resourceType": "Patient",
    "id": "x",
    "extension": [
        {"url": MAIDEN, "valueString": "Hansen"},
        {
            "url": GENE,
            "valueCodeableConcept": {"coding": [{"system": "http://www.genenames.org", "code": "3236"}]},
        },
        {"url": MAIDEN, "valueString": "Olsen"},
        {"url": "http://example.org/nested", "extension": [{"url": MAIDEN, "valueString": "inner"}]},
    ],
    "name": [{"family": "Berggren", "extension": [{"url": MAIDEN, "valueString": "on the name"}]}],
}


@pytest.mark.parametrize(
    "expression",
    [
        f"Patient.extension('{MAIDEN}')",
        f"Patient.extension('{GENE}')",
        f"Patient.extension('{MAIDEN}').value",
        f"Patient.name.extension('{MAIDEN}')",
        "Patient.extension('http://example.org/absent')",
        f"Patient.extension('{MAIDEN}') | Patient.name.family",
    ],
)
def test_extension_shorthand_equals_fhirpathpy(expression: str) -> None:
    """``extension('url')`` is ``extension.where(url = 'url')`` (FHIRPath §5.2 of the R4 FHIRPath page): the
    fast path yields what fhirpathpy yields for that form.  fhirpathpy's own ``extension()`` keeps only the
    first matching extension of each element, against the spec, so it is not the reference here."""
    compiled = CompiledExpression(expression)
    assert compiled.fast
    fast = compiled.evaluate(WITH_EXTENSIONS)
    spelled_out = re.sub(r"\.extension\('([^']*)'\)", r".extension.where(url = '\1')", expression)
    slow = CompiledExpression(spelled_out, fast=False).evaluate(WITH_EXTENSIONS)
    assert sorted(map(repr, fast)) == sorted(map(repr, slow))
    assert fast or "absent" in expression
    if expression == f"Patient.extension('{MAIDEN}').value":
        assert [value for _, value in fast] == ["Hansen", "Olsen"]  # both, not only the first


def test_typed_nodes(example: Loader) -> None:
    obs = example("Observation-example.json")
    assert CompiledExpression("Observation.effective").evaluate(obs) == [("dateTime", "2016-03-28")]
    assert CompiledExpression("Observation.id").evaluate(obs) == [("System.String", "example")]
    quantity = CompiledExpression("(Observation.value as Quantity)").evaluate(obs)
    assert quantity == [("Quantity", obs["valueQuantity"])]
    assert CompiledExpression("(Observation.value as CodeableConcept)").evaluate(obs) == []
    assert CompiledExpression("Patient.name").evaluate(obs) == []  # another type's branch selects nothing


def test_plan_shares_prefixes_and_keeps_positions(example: Loader) -> None:
    bp = example("Observation-blood-pressure.json")
    expressions = [
        CompiledExpression("Observation.component.code"),
        CompiledExpression("(Observation.component.value as Quantity)"),
        CompiledExpression("Observation.focus"),
        CompiledExpression("Bundle.entry[0].resource"),  # fhirpathpy branch
        CompiledExpression("Observation.component.code"),
    ]
    results = ExpressionPlan(expressions).evaluate(bp)
    assert len(results) == 5
    assert [len(r) for r in results] == [2, 2, 0, 0, 2]
    assert results[0] == results[4]


def test_syntax_errors_are_configuration_errors() -> None:
    for bad in ("Patient.name.where(", "Patient..name", "Patient.name )", "%%%"):
        with pytest.raises(ConfigurationError, match="FHIRPath syntax error"):
            CompiledExpression(bad)
    check_syntax("Bundle.entry[0].resource")


def test_fhirpathpy_failures_name_the_parameter() -> None:
    plan = ExpressionPlan([CompiledExpression("Patient.name.frobnicate()")], labels=["Patient.odd"])
    with pytest.raises(ValidationFailedError, match=r"Patient\.odd could not be evaluated"):
        plan.evaluate({"resourceType": "Patient"})
