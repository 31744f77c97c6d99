"""create, with conditional create via ``If-None-Exist`` (https://hl7.org/fhir/R4/http.html#create,
#ccreate).

No match: create.  One match: return it (200, nothing written).  Several
matches: 412 Precondition Failed.  The match and the insert share one write
transaction, and identical criteria are serialised (see ``conditional``), so
two identical conditional creates at once cannot both insert.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import PreconditionFailedError
from hub.fhir.context import RequestContext
from hub.fhir.interactions.conditional import find_matches_txn
from hub.fhir.outcomes import WriteOutcome
from hub.fhir.patient_keys import resolve_keys_txn
from hub.fhir.pipeline import AccessDecision, Action, AuditEntry
from hub.fhir.service import FhirService
from hub.fhir.writes import PreparedWrite, finalise, new_id, prepare
from hub.storage import StoredResource, insert_new_txn


async def create(
    svc: FhirService,
    ctx: RequestContext,
    resource_type: str,
    resource: dict[str, Any],
    *,
    if_none_exist: str | None = None,
) -> WriteOutcome:
    decision = svc.policy.check(ctx, Action.CREATE, resource_type, resource)
    prepared = prepare(svc, resource, resource_id=new_id(), expected_type=resource_type)
    outcome = await svc.db.run_write("fhir_create", create_txn, svc, ctx, prepared, decision, if_none_exist)
    if outcome.created:
        svc.validator.conformance_resource_changed(prepared.body, deleted=False)
    return outcome


async def create_txn(
    conn: AsyncConnection,
    svc: FhirService,
    ctx: RequestContext,
    prepared: PreparedWrite,
    decision: AccessDecision,
    if_none_exist: str | None,
) -> WriteOutcome:
    if if_none_exist:
        matches = await find_matches_txn(conn, svc, prepared.resource_type, if_none_exist, decision, limit=2)
        if len(matches) > 1:
            raise PreconditionFailedError(
                f"If-None-Exist {if_none_exist!r} matches more than one {prepared.resource_type}",
                message_id="TH-REST-CONDITIONAL-MULTIPLE",
            )
        if matches:
            return WriteOutcome(stored=matches[0], created=False, matched=True)
    return await insert_prepared_txn(conn, svc, ctx, prepared, decision, method="POST")


async def insert_prepared_txn(
    conn: AsyncConnection,
    svc: FhirService,
    ctx: RequestContext,
    prepared: PreparedWrite,
    decision: AccessDecision,
    *,
    method: str,
) -> WriteOutcome:
    (prepared,) = await resolve_keys_txn(conn, [prepared])
    now = svc.clock()
    data = finalise(prepared, version=1, last_updated=now)
    rid = await insert_new_txn(
        conn,
        res_type=prepared.resource_type,
        res_id=prepared.resource_id,
        last_updated=now,
        patient_key=prepared.patient_key,
        data=data,
        method=method,
        index=prepared.index,
    )
    await svc.run_hooks_txn(conn, prepared.resource_type, rid, prepared.body)
    await svc.audit.record_txn(
        conn,
        ctx,
        AuditEntry(
            Action.CREATE,
            "0",
            prepared.resource_type,
            (prepared.resource_id,),
            (prepared.patient_key,) if prepared.patient_key else (),
        ),
        decision,
    )
    stored = StoredResource(
        rid=rid,
        res_type=prepared.resource_type,
        res_id=prepared.resource_id,
        version=1,
        last_updated=now,
        deleted=False,
        data=data,
        method=method,
        patient_key=prepared.patient_key,
    )
    return WriteOutcome(stored=stored, created=True, warnings=prepared.warnings)
