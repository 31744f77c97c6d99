"""The resource types telehub serves over FHIR REST (https://hl7.org/fhir/R4/resourcelist.html)."""

from __future__ import annotations

from hub.core.errors import NotFoundError

SUPPORTED_TYPES: frozenset[str] = frozenset(
    {
        "Patient",
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Device",
        "Observation",
        "Consent",
        "AuditEvent",
        "Provenance",
        "Bundle",
        "CodeSystem",
        "ValueSet",
        "StructureDefinition",
        "SearchParameter",
    }
)

# Types whose instances feed the validator's canonical registry when written through the API.
CONFORMANCE_TYPES: frozenset[str] = frozenset(
    {"StructureDefinition", "ValueSet", "CodeSystem", "SearchParameter"}
)


def ensure_supported(resource_type: str, supported: frozenset[str] = SUPPORTED_TYPES) -> str:
    """``resource_type`` if served here, otherwise a 404 naming what is."""
    if resource_type not in supported:
        raise NotFoundError(
            f"resource type {resource_type!r} is not supported by this server; supported types: "
            + ", ".join(sorted(supported)),
            message_id="TH-REST-UNSUPPORTED-TYPE",
        )
    return resource_type
