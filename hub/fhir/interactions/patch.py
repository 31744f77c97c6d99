"""patch with JSON Patch, RFC 6902 (https://hl7.org/fhir/R4/http.html#patch).

The patch applies to the current version inside the write transaction (the head
row is locked), then the result goes through the same checks as an update.
``If-Match`` makes the patch version-aware.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import jsonpatch
import jsonpointer
import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import (
    GoneError,
    InvalidInputError,
    NotFoundError,
    NotSupportedError,
    PreconditionFailedError,
    ValidationFailedError,
)
from hub.fhir.context import RequestContext
from hub.fhir.interactions.update import parse_if_match, update_txn
from hub.fhir.outcomes import WriteOutcome
from hub.fhir.pipeline import AccessDecision, Action
from hub.fhir.resource_types import ensure_supported
from hub.fhir.service import FhirService
from hub.fhir.stored_definitions import definition_stored
from hub.fhir.writes import prepare
from hub.storage import read_current_txn


def parse_patch(document: Any) -> jsonpatch.JsonPatch:
    if not isinstance(document, list):
        raise InvalidInputError(
            "a JSON Patch document must be a JSON array of operations", message_id="TH-PATCH-NOT-ARRAY"
        )
    try:
        return jsonpatch.JsonPatch(document)
    except (jsonpatch.InvalidJsonPatch, jsonpointer.JsonPointerException, TypeError) as exc:
        raise InvalidInputError(f"invalid JSON Patch: {exc}", message_id="TH-PATCH-INVALID") from exc


def apply_patch(resource: dict[str, Any], patch: jsonpatch.JsonPatch) -> dict[str, Any]:
    try:
        result = patch.apply(resource, in_place=False)
    except jsonpatch.JsonPatchTestFailed as exc:
        raise PreconditionFailedError(
            f"JSON Patch test operation failed: {exc}", message_id="TH-PATCH-TEST-FAILED"
        ) from exc
    except (
        jsonpatch.JsonPatchException,
        jsonpointer.JsonPointerException,
        TypeError,
        KeyError,
        IndexError,
    ) as exc:
        raise ValidationFailedError(
            f"JSON Patch cannot be applied: {exc}", message_id="TH-PATCH-APPLY"
        ) from exc
    if not isinstance(result, dict):
        raise ValidationFailedError(
            "JSON Patch replaced the whole resource with a non-object", message_id="TH-PATCH-APPLY"
        )
    return result


async def patch(
    svc: FhirService,
    ctx: RequestContext,
    resource_type: str,
    resource_id: str,
    document: Any,
    *,
    if_match: str | None = None,
) -> WriteOutcome:
    ensure_supported(resource_type, svc.supported_types)
    operations = parse_patch(document)
    decision = svc.policy.check(ctx, Action.PATCH, resource_type)
    expected = parse_if_match(if_match)
    outcome = await svc.db.run_write(
        "fhir_patch", patch_txn, svc, ctx, resource_type, resource_id, operations, decision, expected
    )
    definition_stored(svc, resource_type, resource_id, outcome.stored.data)
    return outcome


async def patch_txn(
    conn: AsyncConnection,
    svc: FhirService,
    ctx: RequestContext,
    resource_type: str,
    resource_id: str,
    operations: jsonpatch.JsonPatch,
    decision: AccessDecision,
    expected_version: int | None,
) -> WriteOutcome:
    current = await read_current_txn(conn, resource_type, resource_id, decision.consent, decision.patient_key)
    if current is None:
        raise NotFoundError(f"{resource_type}/{resource_id} is not known", message_id="TH-REST-NOT-FOUND")
    if current.deleted or current.data is None:
        raise GoneError(f"{resource_type}/{resource_id} was deleted", message_id="TH-REST-GONE")
    patched = apply_patch(orjson.loads(current.data), operations)
    if patched.get("id") != resource_id or patched.get("resourceType") != resource_type:
        raise ValidationFailedError(
            "a patch may not change the resource id or type", message_id="TH-PATCH-IDENTITY"
        )
    meta = dict(patched.get("meta") or {})
    meta.pop("versionId", None)
    patched["meta"] = meta
    prepared = prepare(svc, patched, resource_id=resource_id, expected_type=resource_type)
    return await update_txn(conn, svc, ctx, prepared, decision, expected_version or current.version, "PATCH")


async def apply_patch_entry_txn(
    conn: AsyncConnection,
    svc: FhirService,
    ctx: RequestContext,
    resource_type: str,
    resource_id: str,
    carrier: dict[str, Any],
    decision: AccessDecision,
    expected_version: int | None,
) -> WriteOutcome:
    """A PATCH entry of a Bundle: the JSON Patch travels base64-encoded in a Binary (R4 http.html#patch)."""
    if carrier.get("resourceType") != "Binary" or carrier.get("contentType") != "application/json-patch+json":
        raise NotSupportedError(
            "a PATCH entry must carry a Binary with contentType application/json-patch+json "
            "(FHIRPath Patch is not supported)",
            message_id="TH-PATCH-CARRIER",
        )
    try:
        document = orjson.loads(base64.b64decode(str(carrier.get("data", "")), validate=True))
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
        raise InvalidInputError(
            "the Binary of a PATCH entry does not hold base64 JSON", message_id="TH-PATCH-CARRIER"
        ) from exc
    return await patch_txn(
        conn, svc, ctx, resource_type, resource_id, parse_patch(document), decision, expected_version
    )
