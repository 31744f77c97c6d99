"""``_elements`` subsetting (hub.fhir.search.elements)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from hub.fhir.search import SUBSETTED_TAG, SUPPORTED_RESOURCE_TYPES, apply_elements
from hub.fhir.search.elements import KEPT_ELEMENTS

Loader = Callable[[str], dict[str, Any]]


def test_observation_subset(example: Loader) -> None:
    obs = example("Observation-example.json")
    before = copy.deepcopy(obs)
    subset = apply_elements(obs, ["value"])
    assert obs == before  # the input is not modified
    assert set(subset) == {"resourceType", "id", "meta", "status", "code", "valueQuantity"}
    assert subset["valueQuantity"] == obs["valueQuantity"]
    assert subset["meta"]["tag"] == [SUBSETTED_TAG]


def test_patient_keeps_modifiers_and_primitive_extensions(example: Loader) -> None:
    patient = example("Patient-example.json")
    subset = apply_elements(patient, ["birthDate", "name"])
    assert set(subset) == {
        "resourceType",
        "id",
        "meta",
        "active",
        "deceasedBoolean",
        "birthDate",
        "_birthDate",
        "name",
    }


def test_existing_tags_are_kept_and_subsetted_added_once() -> None:
    resource: dict[str, Any] = {
        "resourceType": "Device",
        "id": "d",
        "meta": {"versionId": "2", "tag": [{"code": "x"}]},
        "url": "u",
    }
    once = apply_elements(resource, ["url"])
    twice = apply_elements(once, ["url"])
    assert twice["meta"] == {"versionId": "2", "tag": [{"code": "x"}, SUBSETTED_TAG]}
    assert resource["meta"]["tag"] == [{"code": "x"}]
    assert set(twice) == {"resourceType", "id", "meta", "url"}


def test_mandatory_and_modifier_elements_match_the_core_definitions(
    core_structure_definitions: dict[str, dict[str, Any]],
) -> None:
    for resource_type in SUPPORTED_RESOURCE_TYPES:
        definition = core_structure_definitions[resource_type]
        expected = set()
        for element in definition["snapshot"]["element"]:
            path = element["path"]
            if path.count(".") != 1 or path.endswith((".implicitRules", ".modifierExtension")):
                continue
            if element.get("min", 0) >= 1 or element.get("isModifier"):
                expected.add(path.split(".", 1)[1].removesuffix("[x]"))
        assert set(KEPT_ELEMENTS.get(resource_type, ())) == expected, resource_type
