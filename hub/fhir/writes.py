"""Preparing a resource for storage: checks, server-assigned meta, the JSON bytes served from then on, and
its index rows.  CPU work happens here, before the write transaction opens, so the writer lane stays short.

https://hl7.org/fhir/R4/http.html#create and #update: the server sets ``id``,
``meta.versionId`` and ``meta.lastUpdated``; everything else is stored as sent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from hub.core.errors import InvalidInputError, ValidationFailedError
from hub.core.instants import fhir_instant
from hub.core.issues import Issue, has_errors
from hub.core.search import IndexEntry
from hub.fhir.patient_keys import own_key
from hub.fhir.resource_types import ensure_supported
from hub.fhir.service import FhirService
from hub.fhir.structure import check_resource


@dataclass(frozen=True, slots=True)
class PreparedWrite:
    """A checked resource ready to persist; ``finalise`` fills in version and time inside the transaction."""

    resource_type: str
    resource_id: str
    body: dict[str, Any]
    index: tuple[IndexEntry, ...]
    patient_key: str | None  # final key (hub.fhir.patient_keys); None until resolved when patient_ref is set
    warnings: tuple[Issue, ...]
    patient_ref: str | None = None  # a Patient id whose key must be looked up inside the transaction


def new_id() -> str:
    return str(uuid.uuid4())


def check_for_write(
    svc: FhirService, resource: dict[str, Any], *, expected_type: str | None, derived: bool = False
) -> list[Issue]:
    """Structural + configured profile validation; raises 400/422 with every issue, returns warnings.

    ``derived``: the hub built the resource itself (a PHMR's Observations and Devices); when the validator
    walks the type's whole base definition anyway, the hub's own structure check is skipped, as it would
    only repeat that walk (for submitted resources it still runs first: its messages are the 400s clients
    see for malformed JSON).
    """
    rtype = resource.get("resourceType")
    if expected_type is not None and rtype != expected_type:
        raise InvalidInputError(
            f"resourceType {rtype!r} does not match the URL type {expected_type!r}",
            expression="resourceType",
            message_id="TH-REST-TYPE-MISMATCH",
        )
    ensure_supported(str(rtype), svc.supported_types)
    if not (derived and svc.validator.checks_structure(str(rtype))):
        issues = check_resource(resource)
        if has_errors(issues):
            raise InvalidInputError("the resource is not valid FHIR R4 JSON", issues=issues)
    issues = svc.validator.validate_for_write(resource)
    if has_errors(issues):
        raise ValidationFailedError("the resource does not conform to the required profiles", issues=issues)
    svc.run_checks(str(rtype), resource)
    return issues


def prepare(
    svc: FhirService,
    resource: dict[str, Any],
    *,
    resource_id: str,
    expected_type: str | None,
    derived: bool = False,
) -> PreparedWrite:
    warnings = check_for_write(svc, resource, expected_type=expected_type, derived=derived)
    body = dict(resource)
    body["id"] = resource_id
    index, compartment_id = svc.indexer.index(body)
    rtype = str(body["resourceType"])
    key = own_key(body)
    if rtype == "Patient":
        key = key or resource_id
    return PreparedWrite(
        resource_type=rtype,
        resource_id=resource_id,
        body=body,
        index=tuple(index),
        patient_key=key,
        warnings=tuple(warnings),
        patient_ref=compartment_id if key is None else None,
    )


def finalise(prepared: PreparedWrite, *, version: int, last_updated: int) -> bytes:
    """The stored bytes: ``resourceType``, ``id`` and ``meta`` first, then the rest as sent."""
    body = prepared.body
    meta = dict(body.get("meta") or {})
    meta["versionId"] = str(version)
    meta["lastUpdated"] = fhir_instant(last_updated)
    ordered: dict[str, Any] = {"resourceType": body["resourceType"], "id": prepared.resource_id, "meta": meta}
    for key, value in body.items():
        if key not in ordered:
            ordered[key] = value
    return orjson.dumps(ordered)
