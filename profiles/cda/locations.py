"""Readable locations of CDA elements for issue reports (XPath with local names, 1-based sibling indexes).

``/ClinicalDocument/component/structuredBody/component[2]/section/entry[3]/organizer`` reads better than
lxml's ``getpath`` output for namespaced documents (``/*/*[11]/*/*[2]/...``) and still points at exactly
one element; the issue's ``line`` carries the source line next to it.
"""

from __future__ import annotations

from lxml import etree


def element_path(element: etree._Element) -> str:
    """The location of ``element`` as ``/a/b[2]/c``; an index appears only where siblings share the name."""
    parts: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        name = etree.QName(node).localname
        parent = node.getparent()
        if parent is not None:
            same = list(parent.iterchildren(node.tag))
            if len(same) > 1:
                name = f"{name}[{same.index(node) + 1}]"
        parts.append(name)
        node = parent
    return "/" + "/".join(reversed(parts))


__all__ = ["element_path"]
