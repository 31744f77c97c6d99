"""The ``application/fhir+xml`` codec: FHIR R4 XML bytes <-> the FHIR JSON object model.

https://hl7.org/fhir/R4/xml.html and https://hl7.org/fhir/R4/formats.html.  One
:class:`FhirXmlCodec` per set of definitions; it compiles each type's shape once
(:mod:`profiles.fhir_xml.shapes`) and is safe to share between threads (the per-call reader/writer
holds the mutable state; a concurrent first compile of a shape merely does the same work twice).
Untrusted bytes go through :func:`hub.core.xml_safety.parse_xml` (no DTDs, entities or network;
size and depth limits).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from hub.core.errors import InvalidInputError
from hub.core.issues import Issue, has_errors
from hub.core.xml_safety import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, parse_xml
from profiles.fhir_xml.shapes import ShapeTable
from profiles.fhir_xml.type_definitions import TypeDefinitions
from profiles.fhir_xml.xml_reader import ResourceReader
from profiles.fhir_xml.xml_writer import ResourceWriter

MEDIA_TYPE = "application/fhir+xml"


@dataclass(frozen=True, slots=True)
class XmlReadResult:
    """A resource read from XML (None when nothing usable was found) and every issue met on the way."""

    resource: dict[str, Any] | None
    issues: tuple[Issue, ...]

    @property
    def ok(self) -> bool:
        return self.resource is not None and not has_errors(self.issues)


class FhirXmlCodec:
    """Reads and writes FHIR R4 XML, driven by the base StructureDefinitions in ``types``."""

    def __init__(
        self,
        types: TypeDefinitions,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        self._shapes = ShapeTable(types)
        self._max_bytes = max_bytes
        self._max_depth = max_depth

    def read(self, data: bytes) -> XmlReadResult:
        """Parse XML bytes, collecting structural issues instead of stopping at the first.

        Hostile or malformed XML still raises (``UnsafeXmlError`` / ``InvalidInputError``): there is
        no tree to collect issues from.  Missing base definitions raise ``NotSupportedError``.
        """
        root = parse_xml(data, max_bytes=self._max_bytes, max_depth=self._max_depth)
        return self.read_element(root)

    def read_element(self, root: etree._Element) -> XmlReadResult:
        """Like :meth:`read`, for an element the caller already parsed safely (e.g. from a SOAP body)."""
        self._shapes.refresh()
        self._shapes.require_core()
        reader = ResourceReader(self._shapes)
        resource = reader.read(root)
        return XmlReadResult(resource=resource, issues=tuple(reader.issues))

    def parse(self, data: bytes) -> dict[str, Any]:
        """The resource in ``data``; raises ``InvalidInputError`` carrying every issue if any is an error."""
        result = self.read(data)
        if result.resource is None or has_errors(result.issues):
            raise InvalidInputError(
                f"FHIR XML could not be read: {len(result.issues)} issue(s)",
                issues=result.issues,
                message_id="FHIR_XML_INVALID",
            )
        return result.resource

    def to_element(self, resource: Mapping[str, Any]) -> etree._Element:
        """The resource as an lxml element; raises ``InvalidInputError`` with every problem found."""
        self._shapes.refresh()
        self._shapes.require_core()
        writer = ResourceWriter(self._shapes)
        element = writer.write(resource)
        if element is None or writer.issues:
            raise InvalidInputError(
                f"Resource cannot be written as FHIR XML: {len(writer.issues)} issue(s)",
                issues=writer.issues,
                message_id="FHIR_XML_UNWRITABLE",
            )
        return element

    def serialise(self, resource: Mapping[str, Any], *, pretty: bool = False) -> bytes:
        """UTF-8 FHIR XML bytes with an XML declaration."""
        return etree.tostring(
            self.to_element(resource), xml_declaration=True, encoding="UTF-8", pretty_print=pretty
        )
