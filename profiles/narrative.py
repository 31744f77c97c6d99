"""Checks of XHTML narrative (``Narrative.div``): the txt-1 / txt-2 rules of FHIR R4.

See https://hl7.org/fhir/R4/narrative.html#Narrative: the ``div`` SHALL contain only the basic
HTML formatting elements and attributes of HTML 4.0 chapters 7-11 (except §9.4) and 12.3,
``<a>`` elements, images and internal ``style`` attributes, and SHALL have some non-whitespace
content.  This is an approximation used by FHIRPath ``htmlChecks()``: the element white-list is
enforced, active content (``on*`` attributes, ``javascript:`` URLs) is refused, and attributes are
otherwise not checked.  The fragment is parsed without DTDs, entities or network access.
"""

from __future__ import annotations

from lxml import etree

XHTML_NS = "http://www.w3.org/1999/xhtml"
MAX_NARRATIVE_BYTES = 4 * 1024 * 1024
ALLOWED_ELEMENTS = frozenset(
    [
        "p",
        "br",
        "div",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "a",
        "span",
        "b",
        "em",
        "i",
        "strong",
        "small",
        "big",
        "tt",
        "dfn",
        "q",
        "var",
        "abbr",
        "acronym",
        "cite",
        "blockquote",
        "hr",
        "address",
        "bdo",
        "kbd",
        "sub",
        "sup",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "pre",
        "table",
        "caption",
        "colgroup",
        "col",
        "thead",
        "tr",
        "tfoot",
        "tbody",
        "th",
        "td",
        "code",
        "samp",
        "img",
        "map",
        "area",
    ]
)
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
)


def narrative_problems(div: str) -> list[str]:
    """Why ``div`` breaks txt-1/txt-2 (empty list when it passes)."""
    if len(div) > MAX_NARRATIVE_BYTES:
        return [f"narrative larger than {MAX_NARRATIVE_BYTES} characters"]
    if "<!DOCTYPE" in div or "<!ENTITY" in div:
        return ["narrative must not contain a DOCTYPE or entity declarations"]
    try:
        root = etree.fromstring(div.encode("utf-8"), _PARSER)
    except etree.XMLSyntaxError as exc:
        return [f"narrative is not well-formed XHTML: {exc}"]
    problems: list[str] = []
    if root.tag != f"{{{XHTML_NS}}}div":
        problems.append("narrative root must be an XHTML <div> in the namespace " + XHTML_NS)
    has_content = False
    for element in root.iter():
        if not isinstance(element.tag, str):  # comments and processing instructions
            continue
        namespace, _, local = element.tag.rpartition("}")
        if namespace.lstrip("{") != XHTML_NS:
            problems.append(f"element '{local}' is not in the XHTML namespace")
        elif local not in ALLOWED_ELEMENTS:
            problems.append(f"illegal element name in the XHTML ('{local}')")
        for raw_name, raw_value in element.attrib.items():
            attr, value = str(raw_name).rpartition("}")[2].lower(), str(raw_value)
            if attr.startswith("on"):
                problems.append(f"illegal attribute name in the XHTML ('{attr}' on '{local}')")
            elif attr in ("href", "src") and value.strip().lower().startswith("javascript:"):
                problems.append(f"active content in the XHTML ('{attr}' on '{local}')")
        if (
            local == "img"
            or (element.text and element.text.strip())
            or (element.tail and element.tail.strip())
        ):
            has_content = True
    if not has_content and root.tail is None:
        problems.append("narrative has no non-whitespace content (txt-2)")
    return problems


# classes that say where a part of the narrative comes from (FHIR extensions pack, "Narrative source")
SOURCE_CLASSES = frozenset({"boilerplate", "generated", "extension", "extensions", "additional", "original"})
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _parse(div: str) -> etree._Element | None:
    if len(div) > MAX_NARRATIVE_BYTES or "<!DOCTYPE" in div or "<!ENTITY" in div:
        return None
    try:
        return etree.fromstring(div.encode("utf-8"), _PARSER)
    except etree.XMLSyntaxError:
        return None  # reported by txt-1 already


def language_sections(div: str) -> list[str] | None:
    """Languages of the language sections (root children that are ``div``s with a ``lang``).

    None when the narrative cannot be parsed.
    """
    root = _parse(div)
    if root is None:
        return None
    languages = []
    for child in root:
        if isinstance(child.tag, str) and child.tag == f"{{{XHTML_NS}}}div":
            lang = child.get("lang") or child.get(_XML_LANG)
            if lang:
                languages.append(lang)
    return languages


def unsourced_parts(div: str) -> list[str]:
    """The text of root-level narrative parts without a source class (``boilerplate``, ``generated`` ...)."""
    root = _parse(div)
    if root is None:
        return []
    parts: list[str] = []
    if root.text and root.text.strip():
        parts.append(root.text.strip())
    for child in root:
        if isinstance(child.tag, str):
            classes = set((child.get("class") or "").split())
            if not classes & SOURCE_CLASSES:
                text = " ".join("".join(str(t) for t in child.itertext()).split())
                parts.append(text or f"<{child.tag.rpartition('}')[2]}>")
        if child.tail and child.tail.strip():
            parts.append(child.tail.strip())
    return parts
