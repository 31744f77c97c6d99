"""Compiled per-type "shapes": what the FHIR XML and JSON formats need to know about each type.

A shape is compiled once per resource type, data type or backbone element from the snapshot of the
base StructureDefinition (https://hl7.org/fhir/R4/elementdefinition.html) and cached:

* element order (XML requires the snapshot order, https://hl7.org/fhir/R4/xml.html#1.17.1);
* cardinality (JSON arrays versus single values, https://hl7.org/fhir/R4/json.html#1.18.2);
* choice elements ``value[x]`` expanded to one field per type (``valueQuantity``);
* ``representation``: ``xmlAttr`` (``Element.id``, ``Extension.url``) and ``xhtml`` (``Narrative.div``);
* ``contentReference`` (``Questionnaire.item.item``) reusing the referenced backbone shape;
* how primitive values are written in JSON: the JSON spec makes ``boolean``, ``integer`` and
  ``decimal`` (and the types derived from them, such as ``positiveInt``) JSON booleans/numbers and
  everything else a string.  The root primitive is found by following ``baseDefinition``, because
  the R4 core wrongly types ``positiveInt.value`` as ``System.String``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.core.errors import NotSupportedError
from profiles.fhir_xml.type_definitions import TypeDefinitions

FHIR_NS = "http://hl7.org/fhir"
XHTML_NS = "http://www.w3.org/1999/xhtml"
_FHIRPATH_SYSTEM = "http://hl7.org/fhirpath/System."
_FHIR_TYPE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
_INLINE_TYPES = frozenset({"BackboneElement", "Element"})


class ValueKind(enum.Enum):
    """How a primitive value is carried in JSON (https://hl7.org/fhir/R4/json.html#primitive)."""

    BOOLEAN = "boolean"
    INTEGER = "integer"
    DECIMAL = "decimal"
    STRING = "string"


_ROOT_VALUE_KINDS = {"boolean": ValueKind.BOOLEAN, "integer": ValueKind.INTEGER, "decimal": ValueKind.DECIMAL}


class FieldKind(enum.Enum):
    """How an element is written in XML."""

    PRIMITIVE = "primitive"  # <x value=".." id=".."><extension/></x>; JSON "x" plus "_x"
    COMPLEX = "complex"  # <x>children</x>; JSON object
    RESOURCE = "resource"  # <x><Patient>..</Patient></x>; JSON object with resourceType
    XHTML = "xhtml"  # <div xmlns="http://www.w3.org/1999/xhtml">; JSON string
    ATTRIBUTE = "attribute"  # xmlAttr: <x id=".." url="..">; JSON string


@dataclass(frozen=True, slots=True)
class Field:
    """One JSON property / XML element name of a shape (a choice element yields one field per type)."""

    name: str
    kind: FieldKind
    type_name: str
    repeating: bool
    order: int
    value_kind: ValueKind | None = None
    shape_key: str | None = None
    choice_group: str | None = None


@dataclass(frozen=True, slots=True)
class Shape:
    """The fields of one type or backbone element, keyed by name; ``ordered`` is snapshot order.

    ``by_tag`` keys the element fields by their XML tag in Clark notation (``{http://hl7.org/fhir}code``,
    ``{http://www.w3.org/1999/xhtml}div``) so the reader finds a child's field with one lookup.
    """

    key: str
    elements: Mapping[str, Field]
    attributes: Mapping[str, Field]
    ordered: tuple[Field, ...]
    by_tag: Mapping[str, Field]


class ShapeTable:
    """Compiles and caches shapes from a :class:`TypeDefinitions` source.

    When the source has a ``generation`` counter (as :class:`profiles.canonical.CanonicalRegistry`
    does) the cache is dropped whenever it changes, so definitions added at run time are seen.
    """

    def __init__(self, types: TypeDefinitions) -> None:
        self._types = types
        self._generation: object = getattr(types, "generation", None)
        self._shapes: dict[str, Shape] = {}
        self._primitives: dict[str, ValueKind | None] = {}
        self._kinds: dict[str, str | None] = {}

    def refresh(self) -> None:
        """Drop cached shapes when the definitions changed (cheap; called once per document)."""
        generation = getattr(self._types, "generation", None)
        if generation != self._generation:
            self._generation = generation
            self._shapes.clear()
            self._primitives.clear()
            self._kinds.clear()

    def require_core(self) -> None:
        """Fail clearly when no base definitions are loaded at all (no ``hl7.fhir.r4.core``)."""
        if self._sd("Resource") is None:
            raise NotSupportedError(
                "FHIR XML needs the base FHIR R4 definitions (package hl7.fhir.r4.core#4.0.1); "
                "install it with `telehub packages install`",
                message_id="FHIR_XML_NO_CORE",
            )

    def structure_kind(self, type_name: str) -> str | None:
        """``resource``, ``complex-type``, ``primitive-type`` or ``logical``; None when unknown."""
        if type_name not in self._kinds:
            sd = self._sd(type_name)
            kind = sd.get("kind") if sd is not None else None
            self._kinds[type_name] = kind if isinstance(kind, str) else None
        return self._kinds[type_name]

    def is_resource_type(self, name: str) -> bool:
        """A concrete resource type (not ``Resource``/``DomainResource``)."""
        if self.structure_kind(name) != "resource":
            return False
        sd = self._sd(name)
        return sd is not None and not sd.get("abstract", False)

    def value_kind(self, type_name: str) -> ValueKind | None:
        """The JSON kind of a primitive type; None when ``type_name`` is not a primitive type."""
        if type_name not in self._primitives:
            self._primitives[type_name] = self._root_value_kind(type_name)
        return self._primitives[type_name]

    def shape(self, key: str) -> Shape:
        """The shape of a type (``Quantity``) or backbone element (``Bundle.entry``)."""
        found = self._shapes.get(key)
        if found is None:
            found = self._compile(key)
            self._shapes[key] = found
        return found

    # -- compilation -----------------------------------------------------------------------------
    def _sd(self, type_name: str) -> Mapping[str, Any] | None:
        return self._types.structure_definition_for_type(type_name)

    def _root_value_kind(self, type_name: str) -> ValueKind | None:
        seen: set[str] = set()
        name = type_name
        while name not in seen:
            seen.add(name)
            sd = self._sd(name)
            if sd is None or sd.get("kind") != "primitive-type":
                return None
            base = str(sd.get("baseDefinition", ""))
            parent = base.rsplit("/", 1)[-1]
            if parent == "Element" or not parent:
                return _ROOT_VALUE_KINDS.get(name, ValueKind.STRING)
            name = parent
        return ValueKind.STRING

    def _compile(self, key: str) -> Shape:
        type_name = key.split(".", 1)[0]
        sd = self._sd(type_name)
        if sd is None:
            raise NotSupportedError(
                f"No StructureDefinition for FHIR type '{type_name}'", message_id="FHIR_XML_TYPE"
            )
        snapshot = sd.get("snapshot")
        raw_elements = snapshot.get("element") if isinstance(snapshot, Mapping) else None
        if not isinstance(raw_elements, list):
            raise NotSupportedError(
                f"StructureDefinition '{type_name}' has no snapshot", message_id="FHIR_XML_NO_SNAPSHOT"
            )
        elements = [e for e in raw_elements if isinstance(e, Mapping) and ":" not in str(e.get("id", ""))]
        prefix = key + "."
        parents = {str(e.get("path", "")).rsplit(".", 1)[0] for e in elements}
        fields: list[Field] = []
        for element in elements:
            path = str(element.get("path", ""))
            if not path.startswith(prefix) or "." in path[len(prefix) :] or element.get("max") == "0":
                continue
            fields.extend(self._fields_of(element, path, len(fields), path in parents))
        ordered = tuple(f for f in fields if f.kind is not FieldKind.ATTRIBUTE)
        return Shape(
            key=key,
            elements={f.name: f for f in ordered},
            attributes={f.name: f for f in fields if f.kind is FieldKind.ATTRIBUTE},
            ordered=ordered,
            by_tag={_tag(f): f for f in ordered},
        )

    def _fields_of(
        self, element: Mapping[str, Any], path: str, order: int, has_children: bool
    ) -> list[Field]:
        name = path.rsplit(".", 1)[-1]
        repeating = element.get("max", "1") not in ("0", "1")
        representation = element.get("representation") or ()
        reference = element.get("contentReference")
        if isinstance(reference, str):
            return [
                Field(name, FieldKind.COMPLEX, "BackboneElement", repeating, order, shape_key=reference[1:])
            ]
        codes = [self._type_code(t) for t in element.get("type") or () if isinstance(t, Mapping)]
        if not codes:
            return []
        if "xmlAttr" in representation:
            kind = self.value_kind(codes[0]) or ValueKind.STRING
            return [Field(name, FieldKind.ATTRIBUTE, codes[0], repeating, order, value_kind=kind)]
        if has_children and codes[0] in _INLINE_TYPES:
            return [Field(name, FieldKind.COMPLEX, codes[0], repeating, order, shape_key=path)]
        if name.endswith("[x]"):
            base = name[:-3]
            return [
                self._typed_field(base + code[0].upper() + code[1:], code, repeating, order, base)
                for code in codes
            ]
        return [self._typed_field(name, codes[0], repeating, order, None)]

    def _typed_field(self, name: str, code: str, repeating: bool, order: int, group: str | None) -> Field:
        if code == "xhtml":
            return Field(name, FieldKind.XHTML, code, repeating, order, choice_group=group)
        value_kind = self.value_kind(code)
        if value_kind is not None:
            return Field(
                name, FieldKind.PRIMITIVE, code, repeating, order, value_kind=value_kind, choice_group=group
            )
        if self.structure_kind(code) == "resource":
            return Field(name, FieldKind.RESOURCE, code, repeating, order, choice_group=group)
        return Field(name, FieldKind.COMPLEX, code, repeating, order, shape_key=code, choice_group=group)

    @staticmethod
    def _type_code(type_ref: Mapping[str, Any]) -> str:
        """The FHIR type of a type reference; ``System.String`` ids carry it in an extension."""
        code = str(type_ref.get("code", ""))
        if code.startswith(_FHIRPATH_SYSTEM):
            for ext in type_ref.get("extension") or ():
                if isinstance(ext, Mapping) and ext.get("url") == _FHIR_TYPE_EXTENSION:
                    return str(ext.get("valueUrl") or ext.get("valueUri") or "string")
            return "string"
        return code


def _tag(field: Field) -> str:
    namespace = XHTML_NS if field.kind is FieldKind.XHTML else FHIR_NS
    return "{" + namespace + "}" + field.name
