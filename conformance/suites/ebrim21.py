"""ebXML RegRep 2.1 -> 3.0 for the NIST testkit's metadata files.

The NIST XDS testkit keeps most submissions in ebRIM 2.1 (the XDS.a form) and its toolkit converts them to
ebRIM 3.0 when a step says ``<XDSb/>`` (IHE ITI TF-3 4.2 describes both).  The differences that matter:

- namespaces: ``rim:xsd:2.1`` -> ``rim:3.0``; ``registry:xsd:2.1`` (``rs:SubmitObjectsRequest``,
  ``rs:RemoveObjectsRequest``) -> ``lcm:3.0``;
- ``rim:LeafRegistryObjectList`` -> ``rim:RegistryObjectList``;
- association types are short names (``HasMember``, ``RPLC`` …) -> their 3.0 URNs;
- a RegistryObject's children in 3.0 order (Slot, Name, Description, VersionInfo, Classification,
  ExternalIdentifier), ExternalIdentifiers gain ``registryObject`` and nested Classifications
  ``classifiedObject``.

Documents already in 3.0 pass through unchanged.
"""

from __future__ import annotations

from lxml import etree

RIM21 = "urn:oasis:names:tc:ebxml-regrep:rim:xsd:2.1"
RS21 = "urn:oasis:names:tc:ebxml-regrep:registry:xsd:2.1"
RIM30 = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
LCM30 = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"

ASSOCIATION_TYPES = {
    "HasMember": "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember",
    "RPLC": "urn:ihe:iti:2007:AssociationType:RPLC",
    "APND": "urn:ihe:iti:2007:AssociationType:APND",
    "XFRM": "urn:ihe:iti:2007:AssociationType:XFRM",
    "XFRM_RPLC": "urn:ihe:iti:2007:AssociationType:XFRM_RPLC",
    "signs": "urn:ihe:iti:2007:AssociationType:signs",
}
_ORDER = ("Slot", "Name", "Description", "VersionInfo", "Classification", "ExternalIdentifier")
_OBJECTS = ("ExtrinsicObject", "RegistryPackage", "Association", "Classification", "ExternalIdentifier")


def is_v21(root: etree._Element) -> bool:
    return any(isinstance(e.tag, str) and etree.QName(e).namespace in (RIM21, RS21) for e in root.iter())


def _new_tag(element: etree._Element) -> str:
    name = etree.QName(element)
    local = "RegistryObjectList" if name.localname == "LeafRegistryObjectList" else name.localname
    if name.namespace == RIM21:
        return f"{{{RIM30}}}{local}"
    if name.namespace == RS21:
        return f"{{{LCM30}}}{local}"
    return str(element.tag)


def _copy(element: etree._Element) -> etree._Element:
    out = etree.Element(_new_tag(element), nsmap={"rim": RIM30, "lcm": LCM30})
    for key, value in element.attrib.items():
        out.set(key, value)
    out.text = element.text
    children = [c for c in element if isinstance(c.tag, str)]
    local = etree.QName(element).localname
    if local in _OBJECTS:
        rank = {name: i for i, name in enumerate(_ORDER)}
        children.sort(key=lambda c: rank.get(etree.QName(c).localname, len(_ORDER)))
    parent_id = element.get("id")
    for child in children:
        copied = _copy(child)
        child_local = etree.QName(child).localname
        if parent_id and child_local == "ExternalIdentifier" and copied.get("registryObject") is None:
            copied.set("registryObject", parent_id)
        if parent_id and child_local == "Classification" and copied.get("classifiedObject") is None:
            copied.set("classifiedObject", parent_id)
        out.append(copied)
    if local == "Association":
        kind = out.get("associationType", "")
        out.set("associationType", ASSOCIATION_TYPES.get(kind, kind))
    return out


def to_v30(root: etree._Element) -> etree._Element:
    """``root`` in ebRIM/ebRS 3.0 (a copy; unchanged when it is 3.0 already).  Associations without an id
    (optional in 2.1, required in 3.0) get symbolic ids ``ID_Association_<n>``."""
    if not is_v21(root):
        return root
    converted = _copy(root)
    for n, association in enumerate(converted.iter(f"{{{RIM30}}}Association"), start=1):
        if not association.get("id"):
            association.set("id", f"ID_Association_{n}")
    return converted
