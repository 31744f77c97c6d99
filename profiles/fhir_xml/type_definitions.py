"""Where the FHIR XML codec gets its type information: the StructureDefinitions of the base types.

The codec needs, for every resource and data type, the snapshot of its core StructureDefinition
(https://hl7.org/fhir/R4/structuredefinition.html): element order, cardinality, types, choice
elements and the ``representation`` flags (``xmlAttr``, ``xhtml``) that the XML format is driven by
(https://hl7.org/fhir/R4/xml.html).  :class:`profiles.canonical.CanonicalRegistry` satisfies the
:class:`TypeDefinitions` protocol; :class:`StructureDefinitionTable` is a minimal in-memory
implementation for callers that hold a plain list of definitions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

CORE_SD_PREFIX = "http://hl7.org/fhir/StructureDefinition/"


class TypeDefinitions(Protocol):
    """Resolves a type name (``Patient``, ``string``) or a core SD URL to its StructureDefinition."""

    def structure_definition_for_type(self, type_name: str) -> Mapping[str, Any] | None: ...


class StructureDefinitionTable:
    """A :class:`TypeDefinitions` over a fixed set of base StructureDefinitions (keyed by url and type)."""

    def __init__(self, definitions: Iterable[Mapping[str, Any]]) -> None:
        self._by_url: dict[str, Mapping[str, Any]] = {}
        for sd in definitions:
            if sd.get("resourceType") != "StructureDefinition":
                continue
            url = sd.get("url")
            if isinstance(url, str):
                self._by_url[url] = sd

    def structure_definition_for_type(self, type_name: str) -> Mapping[str, Any] | None:
        if type_name.startswith(("http://", "https://")):
            return self._by_url.get(type_name)
        return self._by_url.get(CORE_SD_PREFIX + type_name)

    def __len__(self) -> int:
        return len(self._by_url)
