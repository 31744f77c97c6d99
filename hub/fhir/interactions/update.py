"""update, including update-as-create and version-aware updates (https://hl7.org/fhir/R4/http.html#update).

``If-Match: W/"n"`` that does not name the current version is 412; a body whose
``meta.versionId`` is not the current version is 409 (someone else updated it).
The head row is locked for the transaction, so concurrent updates serialise; concurrent updates that
create the same new id also wait for each other (the first creates it, the others update it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import ConflictError, InvalidInputError, PreconditionFailedError
from hub.fhir.context import RequestContext
from hub.fhir.interactions.create import insert_prepared_txn
from hub.fhir.outcomes import WriteOutcome
from hub.fhir.patient_keys import resolve_keys_txn
from hub.fhir.pipeline import AccessDecision, Action, AuditEntry
from hub.fhir.service import FhirService
from hub.fhir.writes import PreparedWrite, finalise, prepare
from hub.storage import StoredResource, lock_current_txn, lock_keys_txn, write_version_txn


def parse_if_match(value: str | None) -> int | None:
    """``W/"3"`` or ``"3"`` → 3."""
    if value is None:
        return None
    text = value.strip()
    text = text.removeprefix("W/").strip('"')
    if not text.isdigit():
        raise InvalidInputError(
            f'If-Match {value!r} is not a version ETag such as W/"3"', message_id="TH-REST-IF-MATCH"
        )
    return int(text)


async def update(
    svc: FhirService,
    ctx: RequestContext,
    resource_type: str,
    resource_id: str,
    resource: dict[str, Any],
    *,
    if_match: str | None = None,
) -> WriteOutcome:
    body_id = resource.get("id")
    if body_id is None:
        raise InvalidInputError(
            "an update must carry the resource id in the body",
            expression="id",
            message_id="TH-REST-UPDATE-NO-ID",
        )
    if body_id != resource_id:
        raise InvalidInputError(
            f"the body id {body_id!r} does not match the URL id {resource_id!r}",
            expression="id",
            message_id="TH-REST-UPDATE-ID-MISMATCH",
        )
    decision = svc.policy.check(ctx, Action.UPDATE, resource_type, resource)
    prepared = prepare(svc, resource, resource_id=resource_id, expected_type=resource_type)
    expected = parse_if_match(if_match)
    outcome = await svc.db.run_write("fhir_update", update_txn, svc, ctx, prepared, decision, expected, "PUT")
    svc.validator.conformance_resource_changed(prepared.body, deleted=False)
    return outcome


async def lock_creates_txn(conn: AsyncConnection, items: Iterable[tuple[str, str]]) -> None:
    """Serialise creates of these (type, id) by PUT with concurrent ones, taking all keys at once, in one
    order (a transaction Bundle does so for its PUTs up front: no deadlock with one naming them reversed)."""
    await lock_keys_txn(
        conn, {f"create:{resource_type}/{resource_id}" for resource_type, resource_id in items}
    )


async def update_txn(
    conn: AsyncConnection,
    svc: FhirService,
    ctx: RequestContext,
    prepared: PreparedWrite,
    decision: AccessDecision,
    expected_version: int | None,
    method: str,
) -> WriteOutcome:
    (prepared,) = await resolve_keys_txn(conn, [prepared])
    current = await lock_current_txn(conn, prepared.resource_type, prepared.resource_id)
    if current is None:
        # update as create: a concurrent PUT of this new id may be inserting it; wait for it, then look again
        await lock_creates_txn(conn, [(prepared.resource_type, prepared.resource_id)])
        current = await lock_current_txn(conn, prepared.resource_type, prepared.resource_id)
    if current is None:
        if expected_version is not None:
            raise PreconditionFailedError(
                f"If-Match names version {expected_version} but {prepared.resource_type}/"
                f"{prepared.resource_id} does not exist",
                message_id="TH-REST-IF-MATCH-MISSING",
            )
        return await insert_prepared_txn(conn, svc, ctx, prepared, decision, method=method)
    if expected_version is not None and expected_version != current.version:
        raise PreconditionFailedError(
            f"If-Match names version {expected_version} but the current version is {current.version}",
            message_id="TH-REST-IF-MATCH-STALE",
        )
    claimed = (prepared.body.get("meta") or {}).get("versionId")
    if (
        expected_version is None
        and claimed is not None
        and str(claimed) != str(current.version)
        and not current.deleted
    ):
        raise ConflictError(
            f"the resource was updated meanwhile: meta.versionId {claimed} is not the current version "
            f"{current.version}",
            message_id="TH-REST-VERSION-CONFLICT",
        )
    version = current.version + 1
    now = svc.clock()
    data = finalise(prepared, version=version, last_updated=now)
    await write_version_txn(
        conn,
        rid=current.rid,
        res_type=prepared.resource_type,
        version=version,
        last_updated=now,
        patient_key=prepared.patient_key,
        data=data,
        method=method,
        index=prepared.index,
    )
    await svc.run_hooks_txn(conn, prepared.resource_type, current.rid, prepared.body)
    patients = tuple(k for k in {prepared.patient_key, current.patient_key} if k)
    await svc.audit.record_txn(
        conn,
        ctx,
        AuditEntry(
            Action.UPDATE if method == "PUT" else Action.PATCH,
            "0",
            prepared.resource_type,
            (prepared.resource_id,),
            patients,
        ),
        decision,
    )
    stored = StoredResource(
        rid=current.rid,
        res_type=prepared.resource_type,
        res_id=prepared.resource_id,
        version=version,
        last_updated=now,
        deleted=False,
        data=data,
        method=method,
        patient_key=prepared.patient_key,
    )
    return WriteOutcome(stored=stored, created=current.deleted, warnings=prepared.warnings)
