"""batch Bundles and the entry point for POST [base] (https://hl7.org/fhir/R4/http.html#transaction).

In a batch each entry succeeds or fails on its own, in its own transaction; a
failure becomes that entry's ``response.outcome``.  Transactions are handed to
``hub.fhir.interactions.transaction``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from hub.core.errors import ErrorCategory, HubError, InvalidInputError
from hub.core.instants import fhir_instant
from hub.core.issues import operation_outcome
from hub.fhir.bundle_entries import BundleEntry, EntryMethod, parse_entry
from hub.fhir.bundles import full_url, new_bundle, resource_fragment, written_entry
from hub.fhir.context import RequestContext
from hub.fhir.interactions import create as create_mod
from hub.fhir.interactions import delete as delete_mod
from hub.fhir.interactions import read as read_mod
from hub.fhir.interactions import search as search_mod
from hub.fhir.interactions import update as update_mod
from hub.fhir.interactions.transaction import transaction
from hub.fhir.outcomes import BundleOutcome
from hub.fhir.pipeline import Action
from hub.fhir.service import FhirService

# Status lines for entry responses; HTTP statuses are chosen by the API for whole responses, but inside a
# batch-response they are data (Bundle.entry.response.status), so the FHIR layer states them here.
_ENTRY_STATUS = {
    ErrorCategory.INVALID: "400 Bad Request",
    ErrorCategory.PROCESSABLE: "422 Unprocessable Entity",
    ErrorCategory.NOT_FOUND: "404 Not Found",
    ErrorCategory.GONE: "410 Gone",
    ErrorCategory.CONFLICT: "409 Conflict",
    ErrorCategory.PRECONDITION_FAILED: "412 Precondition Failed",
    ErrorCategory.TOO_LARGE: "413 Payload Too Large",
    ErrorCategory.UNSUPPORTED_MEDIA_TYPE: "415 Unsupported Media Type",
    ErrorCategory.NOT_ACCEPTABLE: "406 Not Acceptable",
    ErrorCategory.METHOD_NOT_ALLOWED: "405 Method Not Allowed",
    ErrorCategory.NOT_SUPPORTED: "501 Not Implemented",
    ErrorCategory.UNAUTHENTICATED: "401 Unauthorized",
    ErrorCategory.FORBIDDEN: "403 Forbidden",
    ErrorCategory.CONFIGURATION: "500 Internal Server Error",
    ErrorCategory.STORAGE: "503 Service Unavailable",
}


async def process_bundle(svc: FhirService, ctx: RequestContext, bundle: dict[str, Any]) -> BundleOutcome:
    if bundle.get("resourceType") != "Bundle":
        raise InvalidInputError(
            "POST to the base URL takes a batch or transaction Bundle",
            expression="resourceType",
            message_id="TH-BUNDLE-TYPE",
        )
    kind = bundle.get("type")
    raw = bundle.get("entry") or []
    if not isinstance(raw, list):
        raise InvalidInputError("Bundle.entry must be an array", expression="Bundle.entry")
    if kind == "transaction":
        entries = [parse_entry(i, e) for i, e in enumerate(raw)]
        decision = svc.policy.check(ctx, Action.TRANSACTION, None)
        return await transaction(svc, ctx, entries, decision)
    if kind == "batch":
        return await _batch(svc, ctx, raw)
    raise InvalidInputError(
        f"Bundle.type {kind!r} cannot be processed at the base URL; use batch or transaction "
        "(store other Bundles with POST /fhir/Bundle)",
        expression="Bundle.type",
        message_id="TH-BUNDLE-TYPE",
    )


async def _batch(svc: FhirService, ctx: RequestContext, raw: list[Any]) -> BundleOutcome:
    svc.policy.check(ctx, Action.BATCH, None)
    out: list[dict[str, Any]] = []
    for i, item in enumerate(raw):
        try:
            entry = parse_entry(i, item)
            out.append(await _batch_entry(svc, ctx, entry))
        except HubError as error:
            out.append(
                {
                    "response": {
                        "status": _ENTRY_STATUS[error.category],
                        "outcome": operation_outcome(error.issues),
                    }
                }
            )
    bundle = new_bundle("batch-response")
    bundle["entry"] = out
    return BundleOutcome(body=bundle)


async def _batch_entry(svc: FhirService, ctx: RequestContext, entry: BundleEntry) -> dict[str, Any]:
    if entry.method is EntryMethod.POST:
        assert entry.resource is not None
        return written_entry(
            ctx.base_url,
            await create_mod.create(
                svc, ctx, entry.resource_type, entry.resource, if_none_exist=entry.if_none_exist
            ),
        )
    if entry.method is EntryMethod.PUT:
        assert entry.resource is not None
        if entry.resource_id is None:
            raise InvalidInputError(
                "conditional update is not supported; PUT Type/id", message_id="TH-BUNDLE-CUPDATE"
            )
        return written_entry(
            ctx.base_url,
            await update_mod.update(
                svc, ctx, entry.resource_type, entry.resource_id, entry.resource, if_match=entry.if_match
            ),
        )
    if entry.method is EntryMethod.DELETE:
        if entry.resource_id is None:
            raise InvalidInputError(
                "conditional delete is not supported; DELETE Type/id", message_id="TH-BUNDLE-CDELETE"
            )
        version = await delete_mod.delete(svc, ctx, entry.resource_type, entry.resource_id)
        response: dict[str, Any] = {"status": "204 No Content"}
        if version is not None:
            response["etag"] = f'W/"{version}"'
        return {"response": response}
    if entry.method in (EntryMethod.GET, EntryMethod.HEAD):
        if entry.resource_id is None:
            result = await search_mod.search(svc, ctx, entry.resource_type, parse_qsl(entry.query))
            return {"resource": result.body, "response": {"status": "200 OK"}}
        if entry.version is not None:
            stored = await read_mod.vread(svc, ctx, entry.resource_type, entry.resource_id, entry.version)
        else:
            stored = await read_mod.read(svc, ctx, entry.resource_type, entry.resource_id)
        return {
            "fullUrl": full_url(ctx.base_url, stored),
            "resource": resource_fragment(stored),
            "response": {
                "status": "200 OK",
                "etag": f'W/"{stored.version}"',
                "lastModified": fhir_instant(stored.last_updated),
            },
        }
    raise InvalidInputError(
        "a PATCH entry in a batch must go through a transaction or PATCH /fhir/Type/id",
        message_id="TH-BUNDLE-PATCH",
    )
