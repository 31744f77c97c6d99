"""The CapabilityStatement, generated from what this server really supports
(https://hl7.org/fhir/R4/capabilitystatement.html, http.html#capabilities)."""

from __future__ import annotations

from typing import Any

from hub.core.instants import fhir_instant, now_us
from hub.fhir.context import RequestContext
from hub.fhir.service import FhirService

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


def capability_statement(svc: FhirService, ctx: RequestContext) -> dict[str, Any]:
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
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": fhir_instant(now_us())[:10],
        "publisher": "telehub",
        "kind": "instance",
        "software": {"name": "telehub", "version": SOFTWARE_VERSION},
        "implementation": {"description": "telehub: Danish telemedicine data hub", "url": ctx.base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "patchFormat": ["application/json-patch+json"],
        "rest": [
            {
                "mode": "server",
                "resource": resources,
                "interaction": [{"code": "transaction"}, {"code": "batch"}, {"code": "history-system"}],
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
