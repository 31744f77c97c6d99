"""Reading FHIR R4 XML (``application/fhir+xml``) into the FHIR JSON object model.

Implements https://hl7.org/fhir/R4/xml.html and its mapping to https://hl7.org/fhir/R4/json.html:

* primitives: the ``value`` attribute becomes the JSON value (``true``/numbers typed per
  :class:`~profiles.fhir_xml.shapes.ValueKind`, decimals as :class:`LexicalDecimal`), and ``id`` /
  ``extension`` go to the ``_name`` property; repeating primitives become two aligned arrays with
  ``null`` holes (https://hl7.org/fhir/R4/json.html#primitive);
* ``xmlAttr`` elements (``Element.id``, ``Extension.url``) are attributes;
* ``Narrative.div`` is kept as an XHTML string;
* ``contained``, ``Bundle.entry.resource`` and other resource-typed elements wrap one resource element.

The reader never stops at the first problem: unknown elements, repeated single elements, wrong order,
stray text and bad primitive values are all collected as :class:`~hub.core.issues.Issue`.
The XML itself is parsed by the caller through :func:`hub.core.xml_safety.parse_xml`.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from lxml import etree

from hub.core.issues import Issue, IssueSeverity, IssueType
from profiles.fhir_xml.decimals import DECIMAL_PATTERN, LexicalDecimal
from profiles.fhir_xml.shapes import FHIR_NS, Field, FieldKind, Shape, ShapeTable, ValueKind

_XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_FHIR_PREFIX = "{" + FHIR_NS + "}"
_INTEGER = re.compile(r"-?(0|[1-9][0-9]{0,18})")
# Attributes a FHIR element may carry besides the value/id/url ones defined by the shapes.
_IGNORED_ATTRIBUTE_NAMESPACES = frozenset({_XSI_NS, "http://www.w3.org/XML/1998/namespace"})


class ResourceReader:
    """Turns a parsed FHIR XML tree into a JSON-model ``dict``; issues land in :attr:`issues`."""

    def __init__(self, shapes: ShapeTable) -> None:
        self._shapes = shapes
        self.issues: list[Issue] = []

    def read(self, root: etree._Element) -> dict[str, Any] | None:
        """The resource rooted at ``root`` (None when the root is not a FHIR resource)."""
        return self._resource(root, "")

    # -- issues ----------------------------------------------------------------------------------
    def _issue(
        self,
        node: etree._Element,
        path: str,
        message: str,
        message_id: str,
        code: IssueType = IssueType.STRUCTURE,
        severity: IssueSeverity = IssueSeverity.ERROR,
    ) -> None:
        line = node.sourceline if isinstance(node.sourceline, int) else None
        self.issues.append(
            Issue(
                severity=severity,
                code=code,
                diagnostics=message,
                expression=(path,) if path else (),
                message_id=message_id,
                line=line,
            )
        )

    # -- resources and complex elements ----------------------------------------------------------
    def _resource(self, node: etree._Element, path: str) -> dict[str, Any] | None:
        qname = etree.QName(node)
        where = path or qname.localname
        if qname.namespace != FHIR_NS:
            self._issue(
                node,
                where,
                f"Element <{qname.localname}> is not in the FHIR namespace {FHIR_NS} "
                f"(found {qname.namespace or 'no namespace'})",
                "FHIR_XML_NAMESPACE",
            )
            return None
        name = qname.localname
        if not self._shapes.is_resource_type(name):
            self._issue(
                node, where, f"'{name}' is not a known FHIR resource type", "FHIR_XML_UNKNOWN_RESOURCE"
            )
            return None
        out: dict[str, Any] = {"resourceType": name}
        self._attributes(node, self._shapes.shape(name), out, path or name)
        self._children(node, self._shapes.shape(name), out, path or name)
        return out

    def _complex(self, node: etree._Element, shape: Shape, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self._attributes(node, shape, out, path)
        self._children(node, shape, out, path)
        return out

    def _attributes(self, node: etree._Element, shape: Shape, out: dict[str, Any], path: str) -> None:
        for qname, raw_value in node.attrib.items():
            name, value = str(qname), str(raw_value)
            if name.startswith("{"):
                if name[1:].split("}", 1)[0] in _IGNORED_ATTRIBUTE_NAMESPACES:
                    continue
            else:
                field = shape.attributes.get(name)
                if field is not None:
                    out[name] = value
                    continue
            self._issue(node, path, f"Unknown attribute '{name}' on {path}", "FHIR_XML_UNKNOWN_ATTRIBUTE")

    def _children(self, node: etree._Element, shape: Shape, out: dict[str, Any], path: str) -> None:
        self._check_text(node, node.text, path)
        collected: dict[str, list[Any]] = {}
        last_order = -1
        last_name = ""
        choice_seen: dict[str, str] = {}
        by_tag = shape.by_tag
        for child in node:
            tail = child.tail
            if tail and not tail.isspace():
                self._check_text(node, tail, path)
            field = by_tag.get(child.tag)  # comments and PIs have a function as tag: no field
            if field is None:
                if isinstance(child.tag, str):  # comments and processing instructions carry no FHIR content
                    self._unknown_element(child, path)
                continue
            if field.order < last_order:
                self._issue(
                    child,
                    path,
                    f"Element '{field.name}' is out of order (it must come before '{last_name}')",
                    "FHIR_XML_ORDER",
                )
            elif field.order > last_order:
                last_order, last_name = field.order, field.name
            if field.choice_group is not None:
                other = choice_seen.setdefault(field.choice_group, field.name)
                if other != field.name:
                    self._issue(
                        child, path, f"Only one of '{other}' and '{field.name}' is allowed", "FHIR_XML_CHOICE"
                    )
                    continue
            values = collected.get(field.name)
            if values is None:
                values = collected[field.name] = []
            elif not field.repeating:
                self._issue(
                    child,
                    f"{path}.{field.name}",
                    f"Element '{field.name}' may appear only once",
                    "FHIR_XML_REPEATED",
                )
                continue
            child_path = f"{path}.{field.name}[{len(values)}]" if field.repeating else f"{path}.{field.name}"
            values.append(self._value(child, field, child_path))
        elements = shape.elements
        for name, values in collected.items():
            self._store(out, elements[name], values)

    def _unknown_element(self, child: etree._Element, path: str) -> None:
        qname = etree.QName(child)
        self._issue(
            child,
            path,
            f"Unknown element '{qname.localname}'"
            + (f" in namespace {qname.namespace}" if qname.namespace != FHIR_NS else "")
            + f" at {path}",
            "FHIR_XML_UNKNOWN_ELEMENT",
        )

    def _check_text(self, node: etree._Element, text: str | None, path: str) -> None:
        if text and not text.isspace():
            self._issue(
                node,
                path,
                f"Text content is not allowed in FHIR element {path}: {text.strip()[:40]!r}",
                "FHIR_XML_TEXT",
            )

    # -- one element -----------------------------------------------------------------------------
    def _value(self, child: etree._Element, field: Field, path: str) -> Any:
        if field.kind is FieldKind.PRIMITIVE:
            return self._primitive(child, field, path)
        if field.kind is FieldKind.XHTML:
            return _xhtml_text(child)
        if field.kind is FieldKind.RESOURCE:
            return self._wrapped_resource(child, path)
        assert field.shape_key is not None
        return self._complex(child, self._shapes.shape(field.shape_key), path)

    def _wrapped_resource(self, child: etree._Element, path: str) -> dict[str, Any] | None:
        self._check_text(child, child.text, path)
        inner = [c for c in child if isinstance(c.tag, str)]
        for c in child:
            self._check_text(child, c.tail, path)
        if child.attrib:
            self._issue(child, path, f"Attributes are not allowed on {path}", "FHIR_XML_UNKNOWN_ATTRIBUTE")
        if len(inner) != 1:
            self._issue(
                child,
                path,
                f"{path} must contain exactly one resource (found {len(inner)})",
                "FHIR_XML_RESOURCE_COUNT",
            )
            return None
        return self._resource(inner[0], path)

    def _primitive(self, child: etree._Element, field: Field, path: str) -> tuple[Any, dict[str, Any] | None]:
        extra: dict[str, Any] = {}
        value: Any = None
        attrib = child.attrib
        if len(attrib) == 1 and "value" in attrib:  # the common case, without the loop below
            value = self._convert(child, field, str(attrib["value"]), path)
        else:
            for qname, raw_value in attrib.items():
                name, raw = str(qname), str(raw_value)
                if name == "value":
                    value = self._convert(child, field, raw, path)
                elif name == "id":
                    extra["id"] = raw
                elif not (
                    name.startswith("{") and name[1:].split("}", 1)[0] in _IGNORED_ATTRIBUTE_NAMESPACES
                ):
                    self._issue(
                        child, path, f"Unknown attribute '{name}' on {path}", "FHIR_XML_UNKNOWN_ATTRIBUTE"
                    )
        text = child.text
        if text and not text.isspace():
            self._check_text(child, text, path)
        if len(child):
            extensions = self._primitive_extensions(child, path)
            if extensions:
                extra["extension"] = extensions
        if value is None and not extra:
            self._issue(
                child,
                path,
                f"Primitive element {path} has neither a value nor extensions",
                "FHIR_XML_EMPTY",
                code=IssueType.REQUIRED,
            )
        return value, (extra or None)

    def _primitive_extensions(self, child: etree._Element, path: str) -> list[Any]:
        extensions: list[Any] = []
        extension_shape = self._shapes.shape("Extension")
        for sub in child:
            self._check_text(child, sub.tail, path)
            if not isinstance(sub.tag, str):
                continue
            if sub.tag == _FHIR_PREFIX + "extension":
                extensions.append(self._complex(sub, extension_shape, f"{path}.extension[{len(extensions)}]"))
            else:
                self._issue(
                    sub,
                    path,
                    f"Unknown element '{etree.QName(sub).localname}' in primitive {path}",
                    "FHIR_XML_UNKNOWN_ELEMENT",
                )
        return extensions

    def _convert(self, node: etree._Element, field: Field, raw: str, path: str) -> Any:
        kind = field.value_kind
        if raw == "":
            self._issue(
                node,
                path,
                f"Empty value attribute on {path} (FHIR values are never empty)",
                "FHIR_XML_EMPTY_VALUE",
                code=IssueType.VALUE,
            )
            return raw
        if kind is ValueKind.BOOLEAN:
            if raw in ("true", "false"):
                return raw == "true"
        elif kind is ValueKind.INTEGER:
            if _INTEGER.fullmatch(raw):
                return int(raw)
        elif kind is ValueKind.DECIMAL:
            if DECIMAL_PATTERN.fullmatch(raw):
                return LexicalDecimal(raw)
        else:
            return raw
        self._issue(
            node,
            path,
            f"'{raw[:40]}' is not a valid {field.type_name}",
            "FHIR_XML_BAD_VALUE",
            code=IssueType.VALUE,
        )
        return raw

    @staticmethod
    def _store(out: dict[str, Any], field: Field, values: list[Any]) -> None:
        if field.kind is not FieldKind.PRIMITIVE:
            out[field.name] = values if field.repeating else values[0]
            return
        plain = [v for v, _ in values]
        extras = [e for _, e in values]
        if field.repeating:
            # As the official R4 JSON examples do, an array of only nulls is left out (``_name`` alone).
            if any(v is not None for v in plain):
                out[field.name] = plain
            if any(e is not None for e in extras):
                out["_" + field.name] = extras
            return
        if plain[0] is not None:
            out[field.name] = plain[0]
        if extras[0] is not None:
            out["_" + field.name] = extras[0]


def _xhtml_text(node: etree._Element) -> str:
    """The narrative ``div`` as a string, with only the namespace declarations it uses."""
    detached = copy.deepcopy(node)
    detached.tail = None
    etree.cleanup_namespaces(detached)
    return etree.tostring(detached, encoding="unicode", with_tail=False)
