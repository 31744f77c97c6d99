"""Compiled shapes: what the core StructureDefinitions say about element order, arrays and kinds."""

from __future__ import annotations

import pytest

import profiles.fhir_xml as fhir_xml
from hub.core.errors import NotSupportedError
from profiles.fhir_xml import StructureDefinitionTable
from profiles.fhir_xml.shapes import FieldKind, ShapeTable, ValueKind

pytestmark = pytest.mark.needs_testdata


def test_primitive_value_kinds_follow_the_base_chain(core_types: StructureDefinitionTable) -> None:
    shapes = ShapeTable(core_types)
    # positiveInt.value is typed System.String in the R4 core; following baseDefinition fixes that
    assert shapes.value_kind("positiveInt") is ValueKind.INTEGER
    assert shapes.value_kind("unsignedInt") is ValueKind.INTEGER
    assert shapes.value_kind("decimal") is ValueKind.DECIMAL
    assert shapes.value_kind("boolean") is ValueKind.BOOLEAN
    assert shapes.value_kind("code") is ValueKind.STRING
    assert shapes.value_kind("Quantity") is None
    assert shapes.value_kind("NoSuchType") is None


def test_observation_shape(core_types: StructureDefinitionTable) -> None:
    shape = ShapeTable(core_types).shape("Observation")
    assert shape.elements["id"].kind is FieldKind.PRIMITIVE
    assert shape.elements["contained"].kind is FieldKind.RESOURCE and shape.elements["contained"].repeating
    assert shape.elements["valueQuantity"].choice_group == "value"
    assert shape.elements["valueQuantity"].order == shape.elements["valueString"].order
    assert shape.elements["component"].shape_key == "Observation.component"
    assert not shape.attributes
    names = [f.name for f in shape.ordered]
    assert names.index("status") < names.index("code") < names.index("subject")


def test_attributes_xhtml_and_content_references(core_types: StructureDefinitionTable) -> None:
    shapes = ShapeTable(core_types)
    assert set(shapes.shape("Extension").attributes) == {"id", "url"}
    assert shapes.shape("Narrative").elements["div"].kind is FieldKind.XHTML
    item = shapes.shape("Questionnaire.item")
    assert item.elements["item"].shape_key == "Questionnaire.item"
    assert shapes.shape("Bundle.entry").elements["resource"].kind is FieldKind.RESOURCE
    assert shapes.is_resource_type("Patient") and not shapes.is_resource_type("Resource")
    assert not shapes.is_resource_type("HumanName")


def test_unknown_types_are_not_supported(core_types: StructureDefinitionTable) -> None:
    with pytest.raises(NotSupportedError):
        ShapeTable(core_types).shape("NoSuchType")
    no_snapshot = StructureDefinitionTable(
        [
            {
                "resourceType": "StructureDefinition",
                "url": "http://hl7.org/fhir/StructureDefinition/Thing",
                "kind": "resource",
            }
        ]
    )
    with pytest.raises(NotSupportedError):
        ShapeTable(no_snapshot).shape("Thing")


def test_table_ignores_other_resources_and_resolves_urls(core_types: StructureDefinitionTable) -> None:
    table = StructureDefinitionTable([{"resourceType": "ValueSet", "url": "http://x"}])
    assert len(table) == 0
    assert (
        core_types.structure_definition_for_type("http://hl7.org/fhir/StructureDefinition/Patient")
        is not None
    )
    assert len(core_types) > 600


def test_public_api_is_exactly_all() -> None:
    exported = fhir_xml.__all__  # ordering is ruff's RUF022 (isort-style), checked by `ruff check`
    assert len(set(exported)) == len(exported)
    assert all(hasattr(fhir_xml, name) for name in exported)
    public = {
        n
        for n in vars(fhir_xml)
        if not n.startswith("_") and not isinstance(getattr(fhir_xml, n), type(fhir_xml))
    }
    assert public == set(exported)
