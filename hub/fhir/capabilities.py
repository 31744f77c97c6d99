"""The CapabilityStatement, generated from what this server really supports
(https://hl7.org/fhir/R4/capabilitystatement.html, http.html#capabilities).

With the validation service it also states what is really loaded: ``$validate``
(https://hl7.org/fhir/R4/resource-operation-validate.html) at system and type level, the formats
(``xml`` only while the base definitions that FHIR XML needs are installed), each type's base
``profile`` and the ``supportedProfile`` list of the profiles the canonical registry holds for it.
"""

from __future__ import annotations

from typing import Any

from hub.core.instants import fhir_instant, now_us
from hub.fhir.context import RequestContext
from hub.fhir.service import FhirService
from hub.fhir.validation import ValidationService

SOFTWARE_VERSION = "0.1.0"

_TYPE_INTERACTIONS = [
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
]
_READ_ONLY = {"AuditEvent": ["read", "vread", "history-instance", "history-type", "search-type"]}
VALIDATE_OPERATION = {
    "name": "validate",
    "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate",
}
JSON_FORMATS = ["application/fhir+json", "json"]
XML_FORMATS = ["application/fhir+xml", "xml"]


def capability_statement(
    svc: FhirService, ctx: RequestContext, validation: ValidationService | None = None
) -> dict[str, Any]:
    resources = []
    for rtype in sorted(svc.supported_types):
        params = [
            {"name": p.code, "type": p.type.value, **({"definition": p.url} if p.url else {})}
            for p in svc.indexer.registry.for_type(rtype)
        ]
        interactions = _READ_ONLY.get(rtype, _TYPE_INTERACTIONS)
        entry: dict[str, Any] = {
            "type": rtype,
            "interaction": [{"code": code} for code in interactions],
            "versioning": "versioned-update",
            "readHistory": True,
            "updateCreate": rtype not in _READ_ONLY,
            "conditionalCreate": rtype not in _READ_ONLY,
            "conditionalUpdate": False,
            "conditionalDelete": "not-supported",
            "searchParam": params,
        }
        entry["searchInclude"] = [f"{rtype}:{p['name']}" for p in params if p["type"] == "reference"]
        if validation is not None:
            _profiles(entry, rtype, validation)
        resources.append(entry)
    xml = validation is not None and validation.xml_codec() is not None
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": fhir_instant(now_us())[:10],
        "publisher": "telehub",
        "kind": "instance",
        "software": {"name": "telehub", "version": SOFTWARE_VERSION},
        "implementation": {"description": "telehub: Danish telemedicine data hub", "url": ctx.base_url},
        "fhirVersion": "4.0.1",
        "format": JSON_FORMATS + (XML_FORMATS if xml else []),
        "patchFormat": ["application/json-patch+json"],
        "rest": [
            {
                "mode": "server",
                "resource": resources,
                "interaction": [{"code": "transaction"}, {"code": "batch"}, {"code": "history-system"}],
                **({"operation": [VALIDATE_OPERATION]} if validation is not None else {}),
                "searchParam": [
                    {"name": "_id", "type": "token"},
                    {"name": "_lastUpdated", "type": "date"},
                    {"name": "_count", "type": "number"},
                    {"name": "_sort", "type": "string"},
                    {"name": "_include", "type": "string"},
                    {"name": "_revinclude", "type": "string"},
                    {"name": "_summary", "type": "token"},
                    {"name": "_total", "type": "token"},
                    {"name": "_elements", "type": "string"},
                ],
            }
        ],
    }


def _profiles(entry: dict[str, Any], resource_type: str, validation: ValidationService) -> None:
    """Base profile, supported profiles (required ones first) and ``$validate`` of one type."""
    base = f"http://hl7.org/fhir/StructureDefinition/{resource_type}"
    if validation.registry.resolve(base) is not None:
        entry["profile"] = base
    required = list(validation.required_profiles(resource_type))
    supported = [*required, *(p for p in validation.supported_profiles(resource_type) if p not in required)]
    if supported:
        entry["supportedProfile"] = supported
    entry["operation"] = [VALIDATE_OPERATION]
