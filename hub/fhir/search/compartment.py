"""The Patient compartment key of a resource: which patient's rows it belongs to.

Rule (after https://hl7.org/fhir/R4/compartmentdefinition-patient.html, limited
to the types telehub serves):

* a Patient's key is its own logical ``id``;
* any other type's key is the logical id of the first Patient reference found,
  trying the compartment's parameters in the order below (e.g. an Observation's
  ``subject`` before its ``performer``);
* only literal references that name a local Patient (``Patient/123``, also with
  ``/_history/n``, or ``<local base>/Patient/123``) count.  A reference only by
  ``identifier`` (a CPR number without a literal reference), to another server,
  or to a Group gives no key: the caller may resolve the identifier first;
* types outside the Patient compartment (Practitioner, Organization, the
  conformance resources, Bundle) have no key.

The key becomes the ``patient_key`` column of every index row, the future
distribution column (ARCHITECTURE.md, "Storage").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from hub.fhir.search.references import parse_reference

#: Resource type -> element paths (dotted, from the resource root) that link it to a Patient.
PATIENT_COMPARTMENT: Final[dict[str, tuple[str, ...]]] = {
    "Observation": ("subject", "performer"),
    "Consent": ("patient",),
    "Device": ("patient",),
    "DocumentReference": ("subject", "author"),
    "AuditEvent": ("agent.who", "entity.what"),
    "Provenance": ("target",),
}


def _items(value: object) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _references(resource: Mapping[str, Any], path: str) -> list[Any]:
    nodes: list[Any] = [resource]
    for key in path.split("."):
        nodes = [item for node in nodes if isinstance(node, dict) for item in _items(node.get(key))]
    return nodes


def patient_compartment_key(resource: Mapping[str, Any], local_base: str | None = None) -> str | None:
    """The Patient id that puts ``resource`` in a Patient compartment, or ``None`` (see module rule)."""
    resource_type = resource.get("resourceType")
    if resource_type == "Patient":
        rid = resource.get("id")
        return rid if isinstance(rid, str) and rid else None
    for path in PATIENT_COMPARTMENT.get(str(resource_type), ()):
        for reference in _references(resource, path):
            literal = reference.get("reference") if isinstance(reference, dict) else None
            parsed = parse_reference(literal, local_base) if isinstance(literal, str) else None
            if parsed is not None and parsed.target_type == "Patient" and parsed.target_id:
                return parsed.target_id
    return None
