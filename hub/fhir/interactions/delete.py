"""delete (https://hl7.org/fhir/R4/http.html#delete).

A delete appends a version without content; reads then answer 410 and the
resource leaves every search.  Deleting an already deleted resource is a no-op
success; deleting one that never existed is 404.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import NotFoundError
from hub.fhir.context import RequestContext
from hub.fhir.pipeline import AccessDecision, Action, AuditEntry
from hub.fhir.resource_types import ensure_supported
from hub.fhir.service import FhirService
from hub.fhir.stored_definitions import definition_stored
from hub.storage import lock_current_txn, write_version_txn


async def delete(svc: FhirService, ctx: RequestContext, resource_type: str, resource_id: str) -> int | None:
    """Delete; returns the version number of the delete marker (None if it was already deleted)."""
    ensure_supported(resource_type, svc.supported_types)
    decision = svc.policy.check(ctx, Action.DELETE, resource_type)
    version = await svc.db.run_write(
        "fhir_delete", delete_txn, svc, ctx, resource_type, resource_id, decision
    )
    if version is not None:
        definition_stored(svc, resource_type, resource_id, None)  # a deleted definition leaves the validator
    return version


async def delete_txn(
    conn: AsyncConnection,
    svc: FhirService,
    ctx: RequestContext,
    resource_type: str,
    resource_id: str,
    decision: AccessDecision,
) -> int | None:
    current = await lock_current_txn(conn, resource_type, resource_id)
    if current is None:
        raise NotFoundError(f"{resource_type}/{resource_id} is not known", message_id="TH-REST-NOT-FOUND")
    if current.deleted:
        return None
    version = current.version + 1
    await write_version_txn(
        conn,
        rid=current.rid,
        res_type=resource_type,
        version=version,
        last_updated=svc.clock(),
        patient_key=current.patient_key,
        data=None,
        method="DELETE",
        index=(),
    )
    await svc.run_hooks_txn(conn, resource_type, current.rid, None)
    await svc.audit.record_txn(
        conn,
        ctx,
        AuditEntry(
            Action.DELETE,
            "0",
            resource_type,
            (resource_id,),
            (current.patient_key,) if current.patient_key else (),
        ),
        decision,
    )
    return version
