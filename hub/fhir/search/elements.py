"""``_elements``: a resource cut down to the requested top-level elements.

https://hl7.org/fhir/R4/search.html#elements.  Besides the requested elements
telehub always keeps ``resourceType``, ``id``, ``meta``, the type's mandatory
elements (min ≥ 1) and its modifier elements (``status``, ``active`` …: leaving
them out could turn "entered-in-error" into an apparently valid record).  A
choice element is requested by its base name (``value`` keeps ``valueQuantity``);
a primitive's ``_element`` extension twin travels with it.  The result carries the
``SUBSETTED`` tag (http://terminology.hl7.org/CodeSystem/v3-ObservationValue)
so nobody mistakes it for the whole resource.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any, Final

SUBSETTED_TAG: Final = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
}

_ALWAYS: Final = ("resourceType", "id", "meta", "implicitRules", "modifierExtension")

#: Top-level elements kept whatever ``_elements`` says: mandatory (min ≥ 1) and modifier elements (R4).
KEPT_ELEMENTS: Final[dict[str, tuple[str, ...]]] = {
    "AuditEvent": ("type", "recorded", "agent", "source"),
    "Bundle": ("type",),
    "CodeSystem": ("status", "content"),
    "Consent": ("status", "scope", "category"),
    "Device": ("status",),
    "DocumentReference": ("status", "content"),
    "List": ("status", "mode"),
    "Observation": ("status", "code"),
    "Organization": ("active",),
    "Patient": ("active", "deceased", "link"),
    "Provenance": ("target", "recorded", "agent"),
    "SearchParameter": ("url", "name", "status", "description", "code", "base", "type"),
    "StructureDefinition": ("url", "name", "status", "kind", "abstract", "type"),
    "ValueSet": ("status",),
}


def _base_name(key: str) -> str:
    """``valueQuantity`` -> ``value``; ``_birthDate`` -> ``birthDate``; others unchanged."""
    key = key.removeprefix("_")
    for index, char in enumerate(key):
        if char.isupper() and index:
            return key[:index]
    return key


def apply_elements(resource: Mapping[str, Any], elements: Iterable[str]) -> dict[str, Any]:
    """A copy of ``resource`` with only the requested (and always-kept) elements, tagged SUBSETTED."""
    wanted = set(elements) | set(_ALWAYS) | set(KEPT_ELEMENTS.get(str(resource.get("resourceType")), ()))
    out: dict[str, Any] = {}
    for key, value in resource.items():
        name = key.removeprefix("_")
        if name in wanted or _base_name(key) in wanted:
            out[key] = copy.deepcopy(value)
    meta = out.get("meta")
    meta = dict(meta) if isinstance(meta, dict) else {}
    tags = [t for t in meta.get("tag", []) if isinstance(t, dict)]
    if not any(t.get("system") == SUBSETTED_TAG["system"] and t.get("code") == "SUBSETTED" for t in tags):
        tags.append(dict(SUBSETTED_TAG))
    meta["tag"] = tags
    out["meta"] = meta
    return out
