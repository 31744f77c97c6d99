"""Writing the FHIR JSON object model as FHIR R4 XML (``application/fhir+xml``).

Implements https://hl7.org/fhir/R4/xml.html: elements in snapshot order, repeated elements for JSON
arrays, primitives as ``value`` attributes merged with their ``_name`` (``id``, ``extension``) partner
(https://hl7.org/fhir/R4/json.html#primitive), ``xmlAttr`` fields as attributes, ``Narrative.div``
re-parsed as XHTML through :func:`hub.core.xml_safety.parse_xml`, and resource-typed elements wrapping
the resource element.  Every problem is collected (unknown property, wrong JSON type, a value that
cannot be written as XML) before the caller raises once.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from typing import Any

from lxml import etree

from hub.core.errors import HubError
from hub.core.issues import Issue, IssueSeverity, IssueType
from hub.core.xml_safety import parse_xml
from profiles.fhir_xml.decimals import decimal_text
from profiles.fhir_xml.shapes import FHIR_NS, XHTML_NS, Field, FieldKind, Shape, ShapeTable, ValueKind

_FHIR_PREFIX = "{" + FHIR_NS + "}"
_XHTML_DIV = "{" + XHTML_NS + "}div"
# lxml's stubs type nsmap keys as str, but None is how lxml spells the default namespace.
_NSMAP: Any = {None: FHIR_NS}


class ResourceWriter:
    """Builds an lxml tree for a JSON-model resource; problems land in :attr:`issues`."""

    def __init__(self, shapes: ShapeTable) -> None:
        self._shapes = shapes
        self.issues: list[Issue] = []

    def write(self, resource: Mapping[str, Any]) -> etree._Element | None:
        """The resource element, in the FHIR default namespace (None when the resource type is unknown)."""
        return self._resource(None, resource, "")

    def _issue(self, path: str, message: str, message_id: str, code: IssueType = IssueType.STRUCTURE) -> None:
        self.issues.append(
            Issue(
                severity=IssueSeverity.ERROR,
                code=code,
                diagnostics=message,
                expression=(path,) if path else (),
                message_id=message_id,
            )
        )

    # -- resources and complex values ------------------------------------------------------------
    def _resource(self, parent: etree._Element | None, resource: Any, path: str) -> etree._Element | None:
        if not isinstance(resource, Mapping):
            self._issue(path, f"{path or 'The resource'} must be a JSON object", "FHIR_XML_NOT_OBJECT")
            return None
        name = resource.get("resourceType")
        if not isinstance(name, str) or not self._shapes.is_resource_type(name):
            self._issue(path, f"'{name}' is not a known FHIR resource type", "FHIR_XML_UNKNOWN_RESOURCE")
            return None
        tag = _FHIR_PREFIX + name
        node = etree.Element(tag, nsmap=_NSMAP) if parent is None else etree.SubElement(parent, tag)
        self._members(node, resource, self._shapes.shape(name), path or name, is_resource=True)
        return node

    def _members(
        self,
        node: etree._Element,
        obj: Mapping[str, Any],
        shape: Shape,
        path: str,
        *,
        is_resource: bool = False,
    ) -> None:
        present: list[tuple[int, Field]] = []
        for key, value in obj.items():
            if is_resource and key == "resourceType":
                continue
            attribute = shape.attributes.get(key)
            if attribute is not None:
                self._attribute(node, attribute, value, f"{path}.{key}")
                continue
            field = shape.elements.get(key[1:] if key.startswith("_") else key)
            if field is None or (key.startswith("_") and field.kind is not FieldKind.PRIMITIVE):
                self._issue(
                    f"{path}.{key}", f"Unknown property '{key}' at {path}", "FHIR_XML_UNKNOWN_PROPERTY"
                )
                continue
            if key.startswith("_") and field.name in obj:
                continue  # written together with the value
            present.append((field.order, field))
        present.sort(key=lambda item: item[0])
        for _, field in present:
            self._field(node, field, obj, f"{path}.{field.name}")

    def _attribute(self, node: etree._Element, field: Field, value: Any, path: str) -> None:
        if not isinstance(value, str):
            self._issue(path, f"{path} must be a string", "FHIR_XML_BAD_TYPE", IssueType.VALUE)
            return
        self._set(node, field.name, value, path)

    def _set(self, node: etree._Element, name: str, value: str, path: str) -> None:
        try:
            node.set(name, value)
        except ValueError as exc:
            # lxml refuses control characters and NUL: they cannot be represented in XML 1.0 at all
            self._issue(
                path,
                f"{path} contains characters that XML cannot carry: {exc}",
                "FHIR_XML_BAD_CHARS",
                IssueType.VALUE,
            )

    def _field(self, node: etree._Element, field: Field, obj: Mapping[str, Any], path: str) -> None:
        value = obj.get(field.name)
        if field.kind is FieldKind.PRIMITIVE:
            self._primitive_field(node, field, value, obj.get("_" + field.name), path)
            return
        items = self._items(field, value, path)
        for index, item in enumerate(items):
            item_path = f"{path}[{index}]" if field.repeating else path
            if field.kind is FieldKind.XHTML:
                self._xhtml(node, item, item_path)
            elif field.kind is FieldKind.RESOURCE:
                wrapper = etree.SubElement(node, _FHIR_PREFIX + field.name)
                self._resource(wrapper, item, item_path)
            elif not isinstance(item, Mapping):
                self._issue(item_path, f"{item_path} must be a JSON object", "FHIR_XML_NOT_OBJECT")
            else:
                assert field.shape_key is not None
                child = etree.SubElement(node, _FHIR_PREFIX + field.name)
                self._members(child, item, self._shapes.shape(field.shape_key), item_path)

    def _items(self, field: Field, value: Any, path: str) -> list[Any]:
        if field.repeating:
            if isinstance(value, list):
                return value
            self._issue(path, f"{path} must be a JSON array", "FHIR_XML_NOT_ARRAY")
            return []
        if isinstance(value, list):
            self._issue(path, f"{path} must not be a JSON array", "FHIR_XML_ARRAY")
            return []
        return [value]

    # -- primitives ------------------------------------------------------------------------------
    def _primitive_field(self, node: etree._Element, field: Field, value: Any, extra: Any, path: str) -> None:
        if field.repeating:
            values = value if value is not None else []
            extras = extra if extra is not None else []
            if not isinstance(values, list) or not isinstance(extras, list):
                self._issue(path, f"{path} and _{field.name} must be JSON arrays", "FHIR_XML_NOT_ARRAY")
                return
            if values and extras and len(values) != len(extras):
                self._issue(path, f"{path} and _{field.name} must have the same length", "FHIR_XML_ALIGN")
                return
            for index in range(max(len(values), len(extras))):
                self._primitive(
                    node,
                    field,
                    values[index] if values else None,
                    extras[index] if extras else None,
                    f"{path}[{index}]",
                )
            return
        if isinstance(value, list) or isinstance(extra, list):
            self._issue(path, f"{path} must not be a JSON array", "FHIR_XML_ARRAY")
            return
        self._primitive(node, field, value, extra, path)

    def _primitive(self, node: etree._Element, field: Field, value: Any, extra: Any, path: str) -> None:
        if value is None and extra is None:
            self._issue(
                path, f"{path} has neither a value nor extensions", "FHIR_XML_EMPTY", IssueType.REQUIRED
            )
            return
        child = etree.SubElement(node, _FHIR_PREFIX + field.name)
        if value is not None:
            text = self._lexical(field, value, path)
            if text is not None:
                self._set(child, "value", text, path)
        if extra is None:
            return
        if not isinstance(extra, Mapping):
            self._issue(path, f"_{field.name} must be a JSON object", "FHIR_XML_NOT_OBJECT")
            return
        for key in extra:
            if key not in ("id", "extension"):
                self._issue(
                    f"{path}._{key}",
                    f"Unknown property '{key}' in _{field.name}",
                    "FHIR_XML_UNKNOWN_PROPERTY",
                )
        if "id" in extra:
            ident = extra["id"]
            if isinstance(ident, str):
                self._set(child, "id", ident, path + ".id")
            else:
                self._issue(path + ".id", "Element id must be a string", "FHIR_XML_BAD_TYPE", IssueType.VALUE)
        if "extension" in extra:
            extensions = extra["extension"]
            if not isinstance(extensions, list):
                self._issue(path + ".extension", "extension must be a JSON array", "FHIR_XML_NOT_ARRAY")
                return
            shape = self._shapes.shape("Extension")
            for index, ext in enumerate(extensions):
                ext_path = f"{path}.extension[{index}]"
                if isinstance(ext, Mapping):
                    self._members(etree.SubElement(child, _FHIR_PREFIX + "extension"), ext, shape, ext_path)
                else:
                    self._issue(ext_path, f"{ext_path} must be a JSON object", "FHIR_XML_NOT_OBJECT")

    def _lexical(self, field: Field, value: Any, path: str) -> str | None:
        kind = field.value_kind
        if kind is ValueKind.BOOLEAN and isinstance(value, bool):
            return "true" if value else "false"
        if kind is ValueKind.INTEGER and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if (
            kind is ValueKind.DECIMAL
            and isinstance(value, int | float | decimal.Decimal)
            and not isinstance(value, bool)
        ):
            try:
                return decimal_text(value)
            except ValueError as exc:
                self._issue(path, f"{path}: {exc}", "FHIR_XML_BAD_VALUE", IssueType.VALUE)
                return None
        if kind is ValueKind.STRING and isinstance(value, str):
            return value
        expected = {
            ValueKind.BOOLEAN: "a JSON boolean",
            ValueKind.INTEGER: "a JSON integer",
            ValueKind.DECIMAL: "a JSON number",
        }.get(kind or ValueKind.STRING, "a JSON string")
        self._issue(
            path,
            f"{path} ({field.type_name}) must be {expected}, not {type(value).__name__}",
            "FHIR_XML_BAD_TYPE",
            IssueType.VALUE,
        )
        return None

    # -- narrative -------------------------------------------------------------------------------
    def _xhtml(self, node: etree._Element, value: Any, path: str) -> None:
        if not isinstance(value, str):
            self._issue(path, f"{path} must be an XHTML string", "FHIR_XML_BAD_TYPE", IssueType.VALUE)
            return
        try:
            div = parse_xml(value.encode("utf-8"))
        except HubError as exc:
            self._issue(
                path, f"{path} is not well-formed XHTML: {exc.message}", "FHIR_XML_BAD_XHTML", IssueType.VALUE
            )
            return
        except UnicodeEncodeError as exc:
            self._issue(path, f"{path} is not valid Unicode: {exc}", "FHIR_XML_BAD_CHARS", IssueType.VALUE)
            return
        if div.tag != _XHTML_DIV:
            self._issue(
                path,
                f"{path} must be a <div> in the XHTML namespace {XHTML_NS}",
                "FHIR_XML_BAD_XHTML",
                IssueType.VALUE,
            )
            return
        node.append(div)
