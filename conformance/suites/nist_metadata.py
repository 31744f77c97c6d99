"""What the NIST toolkit does to a metadata file before sending it (and remembers for later steps).

- symbols (``$ssuid$``, ``$patientid$`` …) from ``UseId`` / ``UseReport`` are substituted in the file text;
- ebRIM 2.1 becomes 3.0 (:mod:`conformance.suites.ebrim21`);
- every patientId ExternalIdentifier gets the test's patient id (unless ``NoPatientId``), remembered as
  ``AssignedPatientId`` by object id;
- every uniqueId ExternalIdentifier gets a fresh OID (unless ``NoAssignUids`` names it), ``AssignedUids``;
- with ``AssignUuids``, every symbolic object id becomes a fresh ``urn:uuid`` (references rewritten),
  ``AssignedUuids``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from lxml import etree

from conformance.suites.ebrim21 import RIM30, to_v30

PATIENT_SCHEMES = frozenset(
    {
        "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427",
        "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446",
        "urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a",
    }
)
SOURCE_ID_SCHEME = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
# telehub checks OIDs strictly (ITU-T X.660: first arc 0-2); the testkit's sourceId 129.6.58.92.1.1 is not
# one, so the runner sends this OID (the toolkit's own source arc) instead, and says so in its report.
RUNNER_SOURCE_ID = "1.3.6.1.4.1.21367.4"
_STRICT_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")
UNIQUE_ID_SCHEMES = frozenset(
    {
        "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab",
        "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8",
        "urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a",
    }
)
_OBJECTS = ("ExtrinsicObject", "RegistryPackage", "Association")
_REFERENCES = ("id", "sourceObject", "targetObject", "classifiedObject", "registryObject", "lid")


@dataclass(slots=True)
class Prepared:
    element: etree._Element
    uids: dict[str, str] = field(default_factory=dict)
    uuids: dict[str, str] = field(default_factory=dict)
    patients: dict[str, str] = field(default_factory=dict)
    replaced_source_ids: list[str] = field(default_factory=list)


def substitute(text: str, values: Mapping[str, str], *, xml: bool = False) -> str:
    """``text`` with every symbol replaced (longest first); ``xml`` escapes the values for XML text."""
    for symbol, value in sorted(values.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(symbol, escape(value, {'"': "&quot;"}) if xml else value)
    return text


def new_oid() -> str:
    return f"2.25.{uuid.uuid4().int}"


def _owner_id(element: etree._Element) -> str:
    parent = element.getparent()
    owner = element.get("registryObject") or (parent.get("id") if parent is not None else None)
    return owner or ""


def prepare_submission(
    root: etree._Element,
    *,
    patient: str | None,
    assign_uuids: bool,
    no_assign_uids: frozenset[str] | None,
) -> Prepared:
    element = to_v30(root)
    prepared = Prepared(element)
    for identifier in element.iter(f"{{{RIM30}}}ExternalIdentifier"):
        scheme = identifier.get("identificationScheme", "")
        owner = _owner_id(identifier)
        if scheme in PATIENT_SCHEMES:
            if patient is not None:
                identifier.set("value", patient)
            prepared.patients[owner] = identifier.get("value", "")
        elif scheme == SOURCE_ID_SCHEME and not _STRICT_OID.match(identifier.get("value", "")):
            prepared.replaced_source_ids.append(identifier.get("value", ""))
            identifier.set("value", RUNNER_SOURCE_ID)
        elif scheme in UNIQUE_ID_SCHEMES:
            keep = no_assign_uids is not None and ("*" in no_assign_uids or owner in no_assign_uids)
            if not keep:
                identifier.set("value", new_oid())
            prepared.uids[owner] = identifier.get("value", "")
    if assign_uuids:
        for local in _OBJECTS:
            for obj in element.iter(f"{{{RIM30}}}{local}"):
                ident = obj.get("id")
                if ident and not ident.startswith("urn:uuid:"):
                    prepared.uuids[ident] = f"urn:uuid:{uuid.uuid4()}"
        mapping = prepared.uuids
        for node in element.iter():
            if not isinstance(node.tag, str):
                continue
            for attribute in _REFERENCES:
                value = node.get(attribute)
                if value is not None and value in mapping:
                    node.set(attribute, mapping[value])
    return prepared


def xpath_value(element: etree._Element | None, expression: str) -> str | None:
    """The first value an XPath expression selects (attribute or element text), or None."""
    if element is None:
        return None
    try:
        found = element.xpath(expression.strip())
    except etree.XPathError:
        return None
    if isinstance(found, list):
        for item in found:
            if isinstance(item, str):
                return str(item).strip()
            if isinstance(item, etree._Element):
                return (item.text or "").strip()
        return None
    if isinstance(found, str | float | bool):
        return str(found)
    return None
